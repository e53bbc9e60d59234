/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the loader of reports: run_load.c reads the text (members one by one, arrays of
 * rows streamed), run_load_field.c checks one field, run_load_section.c loads the sections and
 * rows of the report, run_load_cache.c, run_load_outbound.c, run_load_tcp.c and run_load_exemplars.c those
 * of the cache, the outbound calls, the kernel's TCP counts and the exemplars.
 * This is the state they share and what each gives the others.
 */
#ifndef SLOPROBE_RUN_LOAD_H
#define SLOPROBE_RUN_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "lib/hist.h"
#include "run/runfile.h"

struct jscan;

/*
 * The arrays of rows (endpoints, queries, flags, verdicts, timeline series) are loaded one row
 * at a time as the scanner reaches them: the DOM of a row lives only while it is loaded.
 */
enum {
	S_HTTP,
	S_DB,
	S_FLAGS,
	S_SLO,
	S_TL_HTTP,
	S_TL_DB,
	S_CACHE_ROWS,
	S_OUT_CALLS,
	S_OUT_DESTS,
	S_EXEMPLARS,
	S_NR
};

struct rows {
	struct run_arena *blk; /* the rows, contiguous; joins the run's arena when done */
	size_t n, cap;
	char *err; /* the first row's error, reported in the order the loader checks things */
	int ret;
};

struct ld {
	struct run *r;
	char *err;
	size_t errsz;
	struct jscan *js;
	struct json_tokener *tok;
	struct rows rows[S_NR];
	char dup[RUNFILE_ERR_MAX]; /* first member given twice */
};

enum { REQ = 1, NULLOK = 2 };

enum vtype { T_ANY, T_STR, T_INT, T_NUM, T_BOOL, T_OBJ, T_ARR };

/*
 * Percentiles as the recorder writes them, each rounded to 3 decimals from one histogram, are
 * ordered; the mean, a division in floating point, may round one unit past min or max.
 */
#define MS_SLACK 0.001

/* run_load_field.c: one member of a json-c object, checked; -EINVAL with the message in l->err. */
int __attribute__((format(printf, 4, 5)))
ld__fail(struct ld *l, const char *w, const char *k, const char *fmt, ...);
void __attribute__((format(printf, 2, 3))) ld__wpath(char *dst, const char *fmt, ...);
int ld__nomem(struct ld *l);
int ld__get(struct ld *l, json_object *o, const char *w, const char *k, enum vtype t, unsigned fl,
	    json_object **out);
int ld__u64_of(struct ld *l, json_object *v, const char *w, const char *k, uint64_t *out);
int ld__get_u64(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		uint64_t *out);
int ld__get_i64(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		int64_t *out, bool *present);
int ld__get_num(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		double *out);
int ld__get_pos(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		double *out);
int ld__get_bool(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		 bool *out);
int ld__get_str(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		const char **out);
int ld__get_counts(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		   struct run_counts *c, bool (*key_ok)(const char *));
bool ld__query_id_ok(const char *s);
/* An array of strings that ok() accepts (what: the message when one is refused). */
int ld__get_strings(struct ld *l, json_object *o, const char *w, const char *k, struct run_ids *ids,
		    bool (*ok)(const char *), const char *what);
int ld__get_query_id(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		     const char **out);
int ld__get_u64_array(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		      uint64_t **out, unsigned *n);
int ld__get_latency(struct ld *l, json_object *o, const char *w, const char *k, unsigned fl,
		    struct run_latency *lat, bool *present);
const char *ld__u128_str(unsigned __int128 v, char *buf, size_t sz);
int ld__get_hist(struct ld *l, json_object *o, const char *w, struct hist_sparse **out);

/* run_load_section.c: the status keys of a row ("200", "other"); a counters object with its
 * groups ("parser": {"requests": 3} as "parser.requests"). */
bool ld__status_key(const char *k);
int ld__get_stats(struct ld *l, json_object *o, const char *what, struct run_counts *c);

/* run_load.c: rows of stream k, once its array passed ld__get(): the array was streamed. */
int ld__rows_of(struct ld *l, int k, void **v, unsigned *n);

/* run_load_section.c: the whole report once its members were read, and one row of each array. */
int ld__load(struct ld *l, json_object *root);
int ld__load_endpoint_row(struct ld *l, json_object *o, const char *w, void *row);
int ld__load_dbq_row(struct ld *l, json_object *o, const char *w, void *row);
int ld__load_flag(struct ld *l, json_object *x, const char *w, void *row);
int ld__load_slo_row(struct ld *l, json_object *x, const char *w, void *row);
int ld__load_http_series(struct ld *l, json_object *x, const char *w, void *row);
int ld__load_db_series(struct ld *l, json_object *x, const char *w, void *row);

/* run_load_cache.c: the cache section, a row of it, and an endpoint's "cache" and "outbound". */
int ld__load_cache(struct ld *l, json_object *root);
int ld__load_cache_row(struct ld *l, json_object *x, const char *w, void *row);
int ld__load_ep_deps(struct ld *l, json_object *o, const char *w, struct run_endpoint *e);

/* run_load_outbound.c: the outbound section and a row of its calls and destinations. */
int ld__load_outbound(struct ld *l, json_object *root);
int ld__load_out_row(struct ld *l, json_object *x, const char *w, void *row);
int ld__load_out_dest_row(struct ld *l, json_object *x, const char *w, void *row);

/* run_load_exemplars.c: the exemplars (requests kept whole) and a row of them. */
int ld__load_exemplars(struct ld *l, json_object *root);
int ld__load_exemplar_row(struct ld *l, json_object *x, const char *w, void *row);

/* run_load_tcp.c: the tcp section (listeners' drops, peers' retransmits and resets). */
int ld__load_tcp(struct ld *l, json_object *root);

#endif
