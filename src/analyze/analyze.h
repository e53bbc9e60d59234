/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The analyzer subcommands, which read JSON reports and need no privileges:
 *
 *   sloprobe report RUN.json [--slo FILE] [--format text|markdown|html|json|junit] [-o OUT]
 *   sloprobe diff BASELINE.json AFTER.json [--format ...] [--noise PCT] [-o OUT]
 *   sloprobe merge A.json B.json ... -o ALL.json
 *
 * Each takes argv with argv[0] the subcommand name and returns the exit status: 0 ok,
 * 1 runtime error, 2 usage error or an unreadable report, 3 an objective breached (report
 * --slo) or an objective that passed in the baseline breaches after (diff).
 */
#ifndef SLOPROBE_ANALYZE_H
#define SLOPROBE_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analyze/diff.h"
#include "run/runfile.h"
#include "analyze/runslo.h"
#include "lib/table.h"

enum analyze_exit {
	ANALYZE_OK = 0,
	ANALYZE_RUNTIME = 1,
	ANALYZE_USAGE = 2,
	ANALYZE_BREACH = 3,
	ANALYZE_INCOMPLETE = 4, /* --slo, and the run lost too much to judge it */
	ANALYZE_REGRESSED = 6,	/* diff --fail-on regression: a row regressed beyond the noise */
};

int analyze__report(int argc, char **argv);
int analyze__diff(int argc, char **argv);
int analyze__merge(int argc, char **argv);

struct runreport_opts {
	enum table_fmt fmt;
	unsigned top;			      /* DB hotspots shown (10) */
	const char *slo_source;		      /* where the verdicts came from, for the heading */
	const struct runslo_notes *slo_notes; /* with --slo */
};

/* The report of one run, as text or markdown. 0 or a negative errno. */
int runreport__write(FILE *f, const struct run *r, const struct runreport_opts *o);
/* The recommendations as plain text, one string each; free each and the array. 0 or -ENOMEM. */
int runreport__advice(const struct run *r, char ***items, unsigned *n);

/*
 * The comparison of two runs. *slo_regressed: an objective that passed in a breaches in b.
 * 0 or a negative errno.
 */
int rundiff__write(FILE *f, const struct run *a, const struct run *b, const struct diff_rule *rule,
		   enum table_fmt fmt, bool *slo_regressed);

/* path as given, made relative to the current directory when it lies under it (titles). */
const char *analyze__relpath(const char *path, char *buf, size_t sz);
/* The name of run side (0: the baseline, 1: the one after) in the diff's headings. */
const char *analyze__run_label(const struct diff_rule *rule, int side);

/* The same as one self-contained HTML page with inline SVG charts. 0 or a negative errno. */
int runhtml__report(FILE *f, const struct run *r, const struct runreport_opts *o);
int runhtml__diff(FILE *f, const struct run *a, const struct run *b, const struct diff_rule *rule,
		  bool *slo_regressed);

/*
 * Where the text, markdown and HTML renderers of a section write; err is sticky. HTML
 * (TABLE_HTML) is the fragment of a section that runhtml_diff.c puts in its page: headings,
 * paragraphs and tables escaped there, values as text shows them (analyze__val, analyze__text).
 */
struct analyze_out {
	FILE *f;
	enum table_fmt fmt;
	const struct diff_rule *rule; /* diff only */
	int err;
};

/* "\nTitle\n" (text), "\n## Title\n\n" (markdown) or "<h2>Title</h2>" (HTML). */
void analyze__heading(struct analyze_out *o, const char *title);
/* Prints the table indented by 2 (text), records a failure in o->err, frees it. */
void analyze__table(struct analyze_out *o, struct table *t);
/* true when o writes markdown. */
bool analyze__md(const struct analyze_out *o);
/* true when o writes HTML. */
bool analyze__html(const struct analyze_out *o);
/* true when headers and headings are for a page (markdown, HTML), not the terminal's capitals. */
bool analyze__page(const struct analyze_out *o);
/* A paragraph (markdown, HTML) or an indented line (text). */
void analyze__para(struct analyze_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * One line of prose as each format has it: text indents it by 2, markdown puts md_prefix
 * before it ("- " for a list item, "\n" to end a table above it), HTML makes it a paragraph
 * of class cls (NULL: none).
 */
void analyze__line(struct analyze_out *o, const char *md_prefix, const char *cls, const char *fmt,
		   ...) __attribute__((format(printf, 4, 5)));

/* Number formats shared by the renderers; NaN prints as "-" (milliseconds: units__ms). */
const char *analyze__rate(double per_s, char *buf, size_t sz);
const char *analyze__pct(double ratio, char *buf, size_t sz);
/* An SLO row's observed value or margin in its unit: "51.12 ms", "1.20 %", "42". */
const char *analyze__slo_value(const struct run_slo *s, double v, char *buf, size_t sz);
/* Error budget consumed: "50.00 %", or "exceeded (none allowed)" when infinite. */
const char *analyze__budget(double consumed, char *buf, size_t sz);
/* "pass", "breach" ("BREACH" with upper), "insufficient data". */
const char *analyze__verdict(const char *verdict, bool upper);
/* s (NULL: "") copied into buf, cut to max code points with "…" marking the cut. */
const char *analyze__cut(const char *s, size_t max, char *buf, size_t sz);

/* Room for one analyze__val or analyze__text: more is cut, never its markup. */
#define ANALYZE_VAL_MAX 1024
/*
 * A value from traffic or from a file (a route, a service, a query, evidence) as o shows it:
 * escaped (textesc.h), cut to max code points when max > 0, and in markdown an inline code
 * span, where nothing renders as HTML, a link or a mention.
 */
const char *analyze__val(const struct analyze_out *o, const char *s, size_t max, char *buf,
			 size_t sz);
/* A plain value (a host name, a time, a file name): escaped; in markdown as text. */
const char *analyze__text(const struct analyze_out *o, const char *s, char *buf, size_t sz);

#endif
