/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --command-exit: what a failed COMMAND's exit status makes `sloprobe record` exit with.
 *
 * A load generator that exits non-zero either broke (a crash, a bad script: sloprobe's figures
 * are doubtful, exit 1) or ran fine and judged its own thresholds failed (k6 exits 99). The
 * map tells the second kind apart so CI can too: "99=load-failed" makes status 99 exit 5,
 * "99=breach" exit 3 (as an SLO breach), "99=ok" judge the run on sloprobe's own verdicts.
 * docs/exit-codes.md is the table of the codes.
 */
#ifndef SLOPROBE_CMDEXIT_H
#define SLOPROBE_CMDEXIT_H

#include <stddef.h>

#define CMDEXIT_MAX 32 /* statuses mapped */

/* What a status maps to: record's exit codes (enum record_exit in session.h, which checks). */
#define CMDEXIT_OK	    0
#define CMDEXIT_BREACH	    3
#define CMDEXIT_LOAD_FAILED 5

struct cmdexit_map {
	struct {
		int status; /* 1..255, as the shell gives it (128 + N: killed by signal N) */
		int code;   /* the exit status of record: 0, 3 or 5 */
	} v[CMDEXIT_MAX];
	unsigned n;
};

/*
 * Adds "STATUS=WHAT[,STATUS=WHAT...]" to m, WHAT one of ok, breach, load-failed (or their
 * codes 0, 3, 5); a status mapped again takes the last value. 0, or -EINVAL with a reason in
 * err.
 */
int cmdexit__parse(struct cmdexit_map *m, const char *s, char *err, size_t errsz);
/* The code status maps to, or -1 when it is not mapped. */
int cmdexit__lookup(const struct cmdexit_map *m, int status);
/* "ok", "breach", "load-failed" for a code of the map. */
const char *cmdexit__name(int code);

#endif
