/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the files of merge: merge.c (the run's head, the shared combining and grouping),
 * merge_endpoints.c (endpoints), merge_db.c (queries, flags), merge_outbound.c (outbound
 * calls), merge_tcp.c (the kernel's TCP counts) and merge_exemplars.c (requests kept whole).
 * Everything allocated here lives in the merged run's arena unless said otherwise.
 */
#ifndef SLOPROBE_MERGE_PRIV_H
#define SLOPROBE_MERGE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyze/merge.h"

/* merge.c: values of several inputs combined. */
const char *merge__join_distinct(struct run *out, const char *const *v, unsigned n);
int merge__counts(struct run *out, struct run_counts *dst, const struct run_counts **src,
		  unsigned n, const char *max_key);
int merge__union_u64(struct run *out, uint64_t **dst, unsigned *dn, const uint64_t *const *src,
		     const unsigned *sn, unsigned n);
struct hist_sparse *merge__hist(struct run *out, const struct hist_sparse *const *h, unsigned n);
bool merge__same_str(const char *a, const char *b);

/* merge.c: items of every input grouped by a key of three strings (malloc'd arrays). */
int merge__group_by_key(const void *const *items, unsigned n,
			void (*key)(const void *item, const char *k[3]), unsigned *group,
			unsigned *first, unsigned *ngroups, unsigned *off, const void **members);
const void **merge__flatten(const void *const *base, const unsigned *count, unsigned n, size_t sz,
			    unsigned *total);

/* merge_endpoints.c: out->eps; 0 or -ENOMEM. */
int merge__endpoints(struct run *out, const struct run *const *in, unsigned n,
		     struct merge_notes *notes);

/* merge_db.c: the DB section (queries, hotspots, flags, db_stats); 0 or -ENOMEM. */
int merge__db(struct run *out, const struct run *const *in, unsigned n, struct merge_notes *notes);
/* merge_outbound.c: the outbound sections (calls, destinations, counters); 0 or -ENOMEM. */
int merge__outbound(struct run *out, const struct run *const *in, unsigned n);
/* merge_tcp.c: the tcp section (listeners, peers, host counts; not its timeline); -ENOMEM. */
int merge__tcp(struct run *out, const struct run *const *in, unsigned n);
/* merge_exemplars.c: the slowest and typical requests per merged endpoint; 0 or -ENOMEM. */
int merge__exemplars(struct run *out, const struct run *const *in, unsigned n);
/* Each flag's t_s from its time of first sight, once out->start_ms is known. */
void merge__flag_times(struct run *out);

#endif
