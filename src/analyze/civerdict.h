/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Verdicts for CI: `sloprobe report|diff --format json|junit`.
 *
 * json: one document of the schema docs/verdicts.schema.json ("sloprobe.verdicts/v1"): for a
 * report, the run, its command and exit status, and every objective's verdict with observed,
 * target, margin, budget and the insufficient/incomplete marks; for a diff, the SLO verdict
 * changes (regressed, fixed) and every endpoint, query and outbound call compared, with its
 * class and values. junit: the same as JUnit XML for CI test reporters: one testsuite per SLO
 * (report) or per section (diff), one testcase per objective or compared row, <failure> with
 * the evidence for a breach or a regression, <skipped> for insufficient data or few samples,
 * and a "run" suite whose cases fail when the load-test command failed or too many events
 * were lost. Untrusted text goes through lib/xmlesc.h.
 */
#ifndef SLOPROBE_CIVERDICT_H
#define SLOPROBE_CIVERDICT_H

#include <stdbool.h>
#include <stdio.h>

#include "analyze/diff.h"
#include "run/runfile.h"

#define CIVERDICT_SCHEMA "sloprobe.verdicts/v1"

/*
 * slo_file: the SLO file the verdicts were judged against offline, NULL: as recorded.
 * 0 or a negative errno.
 */
int civerdict__report_json(FILE *f, const struct run *r, const char *slo_file);
int civerdict__report_junit(FILE *f, const struct run *r, const char *slo_file);
/* *slo_regressed: an objective that passed in a breaches in b, as rundiff__write. */
int civerdict__diff_json(FILE *f, const struct run *a, const struct run *b,
			 const struct diff_rule *rule, bool *slo_regressed);
int civerdict__diff_junit(FILE *f, const struct run *a, const struct run *b,
			  const struct diff_rule *rule, bool *slo_regressed);

/*
 * diff --fail-on regression: the rows of each section (enum civ_section: endpoints, queries,
 * outbound calls) whose overall class is regressed, as the JSON's counts and the JUnit
 * failures have them. Returns their total, or -ENOMEM.
 */
int civerdict__regressions(const struct run *a, const struct run *b, const struct diff_rule *rule,
			   unsigned n[3]);

/* --- shared by the two renderers (civerdict.c) --- */

struct civ_counts {
	unsigned pass, breach, insufficient;
};

/* The verdicts of r counted; the run's verdict: "breach", "pass", "insufficient_data" or
 * "none" (no objective). */
const char *civ__counts(const struct run *r, struct civ_counts *c);

/* How the verdict of an objective changed from baseline to after. */
enum civ_slo_change {
	CIV_SLO_SAME,
	CIV_SLO_REGRESSED, /* pass -> breach */
	CIV_SLO_FIXED,	   /* breach -> pass */
	CIV_SLO_ONLY_BASELINE,
	CIV_SLO_ONLY_AFTER,
};
enum civ_slo_change civ__slo_change(const struct run_slo *before, const struct run_slo *after);
const char *civ__slo_change_name(enum civ_slo_change c);
/*
 * Calls fn for each objective of a and b once: the baseline's in order, each with its match in
 * b (NULL: none), then those only b has. s is the objective named (before's, else after's).
 */
void civ__slo_pairs(const struct run *a, const struct run *b,
		    void (*fn)(void *ctx, const struct run_slo *s, const struct run_slo *before,
			       const struct run_slo *after, enum civ_slo_change c),
		    void *ctx);

/* The compared sections of a diff. */
enum civ_section { CIV_HTTP, CIV_DB, CIV_OUT, CIV_NSECTIONS };
_Static_assert(CIV_NSECTIONS == 3, "civerdict__regressions counts three sections");

struct civ_pairs {
	enum civ_section s;
	const struct run *a, *b;
	int *b_of_a;	 /* a's row i pairs with b's row b_of_a[i], or -1 */
	bool *b_paired;	 /* b's row k is paired */
	unsigned na, nb; /* rows of each run */
};

/* 0 or -ENOMEM; civ__pairs_free after either. */
int civ__pairs(struct civ_pairs *p, enum civ_section s, const struct run *a, const struct run *b);
void civ__pairs_free(struct civ_pairs *p);
/* The values compared for a's row i and its pair; the count. */
unsigned civ__values(const struct civ_pairs *p, const struct diff_rule *rule, unsigned i,
		     struct diff_value *v);
/* A row of run r (side 0: a) of the section, named for people: "GET /items/{id} (svc)". */
const char *civ__row_name(enum civ_section s, const struct run *r, unsigned i, char *buf,
			  size_t sz);
/* Observations of a row: requests, executions or calls. */
unsigned long long civ__row_count(enum civ_section s, const struct run *r, unsigned i);
/* "http", "db", "outbound"; and the title "HTTP endpoints", "DB queries", "Outbound calls". */
const char *civ__section_key(enum civ_section s);
const char *civ__section_title(enum civ_section s);
/* A compared value for people: "52.1 ms", "1.20 %", "40"; NaN: "-". */
const char *civ__value(const struct diff_value *m, double v, char *buf, size_t sz);
/* The key of a class in the JSON: "improved", "regressed", "unchanged", "few_samples". */
const char *civ__class_key(enum diff_class c);

#endif
