/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Merge reports of several hosts or runs into one (`sloprobe merge`), adding histograms bucket
 * by bucket so that percentiles are recomputed, never averaged. The rules for every field are
 * in docs/analyze.md.
 */
#ifndef SLOPROBE_MERGE_H
#define SLOPROBE_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "run/runfile.h"

/* What could not be carried over, so that the caller can say so. */
struct merge_notes {
	bool timeline;	      /* an input had a timeline (endpoints' or tcp's): not merged */
	bool slo;	      /* an input had SLO verdicts: not merged */
	bool cache;	      /* an input had a cache section: not merged */
	unsigned ttfb;	      /* endpoints whose TTFB percentiles were dropped */
	unsigned first_byte;  /* queries whose first-byte percentiles were dropped */
	unsigned paths;	      /* secondary query paths whose percentiles were dropped */
	unsigned mixed_paths; /* queries measured on different main paths by the inputs */
};

/*
 * Merge n loaded runs into out (initialised here; run__free it). 0, -ENOMEM, or -EINVAL with a
 * message in err.
 */
int merge__runs(struct run *out, const struct run *const *in, unsigned n, struct merge_notes *notes,
		char *err, size_t errsz);

/* Length of the union of the windows [start, start + duration] of the runs, seconds. */
double merge__covered_s(const struct run *const *in, unsigned n);

#endif
