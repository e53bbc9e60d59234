// SPDX-License-Identifier: GPL-2.0-only
/* Command lines of the analyzer subcommands: report, diff, merge (src/analyze.h). */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/civerdict.h"
#include "lib/argperr.h"
#include "analyze/merge.h"
#include "lib/outfile.h"
#include "lib/runas.h"
#include "analyze/runslo.h"
#include "run/slo.h"
#include "lib/textesc.h"

#define MERGE_MAX 1024 /* input files */

/* What --format asks for beyond the tables of enum table_fmt. */
enum out_kind {
	OUT_TABLE, /* text or markdown */
	OUT_HTML,
	OUT_JSON,  /* verdicts for CI (civerdict.h) */
	OUT_JUNIT, /* the same as JUnit XML */
};

#define FORMATS "text, markdown, html, json or junit"

static int parse_format(const char *s, enum table_fmt *fmt, enum out_kind *kind)
{
	*kind = OUT_TABLE;
	if (!strcmp(s, "text"))
		*fmt = TABLE_TEXT;
	else if (!strcmp(s, "markdown") || !strcmp(s, "md"))
		*fmt = TABLE_MARKDOWN;
	else if (!strcmp(s, "html"))
		*kind = OUT_HTML;
	else if (!strcmp(s, "json"))
		*kind = OUT_JSON;
	else if (!strcmp(s, "junit"))
		*kind = OUT_JUNIT;
	else
		return -EINVAL;
	return 0;
}

static int parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || isnan(v) || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Loads path; on failure prints "sloprobe: FILE: message" and returns the exit status. */
static int load(struct run *r, const char *path)
{
	char err[RUNFILE_ERR_MAX + 32];
	int ret = run__load(r, path, err, sizeof(err));

	if (!ret)
		return 0;
	textesc__line(stderr, "sloprobe: %s: %s", path, err);
	/* A report that cannot be read is a bad input, like a malformed one or an SLO file. */
	return ret == -ENOMEM ? ANALYZE_RUNTIME : ANALYZE_USAGE;
}

/*
 * Where the output goes: standard output, or a file replaced only once written whole. Under
 * sudo the file goes to the user who ran sudo if they may write to its directory. The FILE,
 * or NULL after a one-line message.
 */
static FILE *out_open(struct outfile *o, const char *path)
{
	char err[PATH_MAX + 128];
	struct outfile_owner ow = {};
	struct runas sudo;
	bool by_sudo = runas__sudo(&sudo) > 0;
	int e;

	if (by_sudo) {
		ow.uid = sudo.uid;
		ow.gid = sudo.gid;
		ow.groups = sudo.groups;
		ow.ngroups = sudo.ngroups;
	}
	e = outfile__open(o, path, by_sudo ? &ow : NULL, err, sizeof(err));
	runas__free(&sudo);
	if (e) {
		fprintf(stderr, "sloprobe: %s\n", err);
		return NULL;
	}
	return o->f;
}

/* Ends the output, werr the writer's verdict: see outfile__commit. 0 or ANALYZE_RUNTIME. */
static int out_close(struct outfile *o, int werr)
{
	char err[PATH_MAX + 128];

	if (!outfile__commit(o, werr, err, sizeof(err)))
		return 0;
	fprintf(stderr, "sloprobe: %s\n", err);
	return ANALYZE_RUNTIME;
}

/* Re-judge r against an SLO file; prints the error and returns the exit status. */
static int apply_slo(struct run *r, const struct slo_set *set, struct runslo_notes *notes)
{
	if (!runslo__evaluate(r, set, notes))
		return 0;
	fprintf(stderr, "sloprobe: %s: %s\n", r->path, strerror(ENOMEM));
	return ANALYZE_RUNTIME;
}

static struct slo_set *load_slo(const char *path)
{
	char err[512];
	struct slo_set *set = slo__parse_file(path, err, sizeof(err));

	if (!set)
		textesc__line(stderr, "sloprobe: %s", err);
	return set;
}

static bool any_breach(const struct run *r)
{
	for (unsigned i = 0; i < r->nslo; i++)
		if (!strcmp(r->slo[i].verdict, "breach"))
			return true;
	return false;
}

/*
 * A run that lost more than its --max-drop-pct cannot pass a gate (--slo, diff --fail-on), nor
 * fail it as a breach or a regression: with a gate that is its own exit status. judged: what
 * the gate judged ("SLO verdicts"), NULL without one. Returns the status to exit with.
 */
static int judged_whole(const struct run *r, const char *judged, int ret)
{
	if (!run__incomplete(r))
		return ret;
	fprintf(stderr, "sloprobe: %s: %.3g %% of events were lost: %s%s\n", r->path,
		slo__drop_pct(r->events_dropped, r->events_total), judged ? judged : "figures are",
		judged ? " judged on incomplete data" : " incomplete");
	return judged ? ANALYZE_INCOMPLETE : ret;
}

/*
 * diff --fail-on regression, once AFTER is known whole: 6 when a row regressed, unless an SLO
 * regressed (ret 3, the stronger statement). Prints what regressed.
 */
static int regression_gate(const struct run *a, const struct run *b, const struct diff_rule *rule,
			   int ret)
{
	unsigned n[3];
	int total = civerdict__regressions(a, b, rule, n);

	if (total < 0) {
		fprintf(stderr, "sloprobe: %s: %s\n", b->path, strerror(-total));
		return ANALYZE_RUNTIME;
	}
	if (!total)
		return ret;
	textesc__line(stderr,
		      "sloprobe: %s: %u endpoint%s, %u quer%s and %u outbound call%s regressed "
		      "beyond the noise rule (--fail-on regression)",
		      b->path, n[0], n[0] == 1 ? "" : "s", n[1], n[1] == 1 ? "y" : "ies", n[2],
		      n[2] == 1 ? "" : "s");
	return ret ? ret : ANALYZE_REGRESSED;
}

/* report */

static struct report_args {
	const char *input;
	const char *output;
	const char *slo;
	enum table_fmt fmt;
	enum out_kind kind;
	unsigned top;
} rargs;

static const struct argp_option report_opts[] = {
	{ "format", 'f', "FMT", 0,
	  "text (default), markdown, html, json (verdicts for CI) or junit (JUnit XML)", 0 },
	{ "output", 'o', "FILE", 0, "write to FILE instead of standard output", 0 },
	{ "slo", 's', "FILE", 0,
	  "judge the run against the SLO file (docs/slo.md); exit 3 on a breach", 0 },
	{ "top", 't', "N", 0, "DB hotspots shown (default 10)", 0 },
	{ 0 },
};

static error_t report_parse(int key, char *arg, struct argp_state *state)
{
	char *end;
	unsigned long v;

	switch (key) {
	case 'f':
		if (parse_format(arg, &rargs.fmt, &rargs.kind))
			argp_error(state, "invalid --format '%s' (" FORMATS ")", arg);
		break;
	case 'o':
		rargs.output = arg;
		break;
	case 's':
		rargs.slo = arg;
		break;
	case 't':
		errno = 0;
		v = strtoul(arg, &end, 10);
		if (errno || end == arg || *end || !v || v > 100000)
			argp_error(state, "invalid --top '%s'", arg);
		rargs.top = v;
		break;
	case ARGP_KEY_ARG:
		if (rargs.input)
			argp_error(state, "one report at a time (got '%s' and '%s')", rargs.input,
				   arg);
		rargs.input = arg;
		break;
	case ARGP_KEY_END:
		if (!rargs.input)
			argp_error(state, "missing RUN.json");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char report_doc[] =
	"Summary, SLO verdicts, endpoints, DB hotspots and flags, saturation and\n"
	"recommendations of one recorded run.\n"
	"\n"
	"The markdown form is a tuning report to paste into a review. No root needed.\n"
	"\n"
	"EXAMPLES:\n"
	"  sloprobe report run.json\n"
	"  sloprobe report run.json -f markdown -o tuning.md\n"
	"  sloprobe report --slo slo.yaml run.json   # CI gate: exit 3 on a breach\n"
	"  sloprobe report --slo slo.yaml -f junit -o slo-junit.xml run.json\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 usage error, 3 an "
	"SLO objective breached, 4 SLO verdicts judged on incomplete data (docs/exit-codes.md).";

static int report_write(FILE *f, const struct run *r, const struct runreport_opts *o,
			const char *slo_file)
{
	switch (rargs.kind) {
	case OUT_HTML:
		return runhtml__report(f, r, o);
	case OUT_JSON:
		return civerdict__report_json(f, r, slo_file);
	case OUT_JUNIT:
		return civerdict__report_junit(f, r, slo_file);
	default:
		return runreport__write(f, r, o);
	}
}

int analyze__report(int argc, char **argv)
{
	static const struct argp argp = {
		.options = report_opts,
		.parser = report_parse,
		.args_doc = "RUN.json",
		.doc = report_doc,
		.children = cli__children,
	};
	struct runreport_opts o = { 0 };
	struct runslo_notes notes;
	struct slo_set *set = NULL;
	char source[PATH_MAX + 32];
	struct outfile out;
	struct run r;
	FILE *f;
	int ret;

	memset(&rargs, 0, sizeof(rargs));
	rargs.top = 10;
	argp_err_exit_status = ANALYZE_USAGE;
	argv[0] = "sloprobe report";
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return ANALYZE_USAGE;
	if (rargs.slo && !(set = load_slo(rargs.slo)))
		return ANALYZE_USAGE;
	ret = load(&r, rargs.input);
	if (ret)
		goto out_slo;
	if (set) {
		ret = apply_slo(&r, set, &notes);
		if (ret)
			goto out;
		snprintf(source, sizeof(source), "judged offline against %s", rargs.slo);
		o.slo_source = source;
		o.slo_notes = &notes;
	}
	f = out_open(&out, rargs.output);
	if (!f) {
		ret = ANALYZE_RUNTIME;
		goto out;
	}
	o.fmt = rargs.fmt;
	o.top = rargs.top;
	ret = out_close(&out, report_write(f, &r, &o, rargs.slo));
	if (!ret && set && any_breach(&r))
		ret = ANALYZE_BREACH;
	if (!ret || ret == ANALYZE_BREACH)
		ret = judged_whole(&r, set ? "SLO verdicts" : NULL, ret);
out:
	run__free(&r);
out_slo:
	slo__free(set);
	return ret;
}

/* diff */

static struct diff_args {
	const char *input[2];
	const char *output;
	const char *slo;
	enum table_fmt fmt;
	enum out_kind kind;
	struct diff_rule rule;
	bool fail_on_regression;
} dargs;

enum {
	OPT_NOISE = 1000,
	OPT_FLOOR_MS,
	OPT_DB_FLOOR_MS,
	OPT_ERROR_FLOOR,
	OPT_QPR_FLOOR,
	OPT_MIN_SAMPLES,
	OPT_CONFIDENCE,
	OPT_LABEL,
	OPT_FAIL_ON,
};

static const struct argp_option diff_opts[] = {
	{ "format", 'f', "FMT", 0,
	  "text (default), markdown, html, json (verdicts for CI) or junit (JUnit XML)", 0 },
	{ "output", 'o', "FILE", 0, "write to FILE instead of standard output", 0 },
	{ "slo", 's', "FILE", 0, "judge both runs against the SLO file (docs/slo.md)", 0 },
	{ "label", OPT_LABEL, "RUN=NAME", 0,
	  "name a run in the headings: baseline=NAME or after=NAME (default: the words)", 0 },
	{ "fail-on", OPT_FAIL_ON, "regression", 0,
	  "exit 6 when an endpoint, query or outbound call regressed beyond the noise rule", 0 },
	{ 0, 0, 0, 0, "Noise threshold (a change must exceed all that apply):", 1 },
	{ "noise", OPT_NOISE, "PCT", 0, "relative change, % of the baseline (5)", 1 },
	{ "floor-ms", OPT_FLOOR_MS, "MS", 0, "HTTP latency change (1 ms)", 1 },
	{ "db-floor-ms", OPT_DB_FLOOR_MS, "MS", 0, "query latency, DB time/request (0.1)", 1 },
	{ "error-floor", OPT_ERROR_FLOOR, "PT", 0, "error rate, percentage points (0.1)", 1 },
	{ "qpr-floor", OPT_QPR_FLOOR, "N", 0, "queries per request (0.5)", 1 },
	{ "min-samples", OPT_MIN_SAMPLES, "N", 0, "requests needed in both runs (20)", 1 },
	{ "confidence", OPT_CONFIDENCE, "PCT", 0,
	  "a rate's change must be significant at this level (95; 0: no test)", 1 },
	{ 0 },
};

static error_t diff_parse(int key, char *arg, struct argp_state *state)
{
	struct diff_rule *r = &dargs.rule;
	double v;

	switch (key) {
	case 'f':
		if (parse_format(arg, &dargs.fmt, &dargs.kind))
			argp_error(state, "invalid --format '%s' (" FORMATS ")", arg);
		break;
	case 'o':
		dargs.output = arg;
		break;
	case 's':
		dargs.slo = arg;
		break;
	case OPT_NOISE:
		if (parse_double(arg, 0, 1000, &v))
			argp_error(state, "invalid --noise '%s' (percent, 0 to 1000)", arg);
		r->rel = v / 100;
		break;
	case OPT_FLOOR_MS:
		if (parse_double(arg, 0, 1e6, &r->lat_floor_ms))
			argp_error(state, "invalid --floor-ms '%s'", arg);
		break;
	case OPT_DB_FLOOR_MS:
		if (parse_double(arg, 0, 1e6, &r->db_floor_ms))
			argp_error(state, "invalid --db-floor-ms '%s'", arg);
		break;
	case OPT_ERROR_FLOOR:
		if (parse_double(arg, 0, 100, &v))
			argp_error(state, "invalid --error-floor '%s' (percentage points)", arg);
		r->err_floor = v / 100;
		break;
	case OPT_QPR_FLOOR:
		if (parse_double(arg, 0, 1e6, &r->qpr_floor))
			argp_error(state, "invalid --qpr-floor '%s'", arg);
		break;
	case OPT_LABEL: {
		const char *eq = strchr(arg, '=');
		int side = -1;

		if (eq && (size_t)(eq - arg) == strlen("baseline") && !strncmp(arg, "baseline", 8))
			side = 0;
		else if (eq && (size_t)(eq - arg) == strlen("after") && !strncmp(arg, "after", 5))
			side = 1;
		if (side < 0 || !eq[1])
			argp_error(state, "invalid --label '%s' (baseline=NAME or after=NAME)",
				   arg);
		r->label[side] = eq + 1;
		break;
	}
	case OPT_FAIL_ON:
		if (strcmp(arg, "regression"))
			argp_error(state, "invalid --fail-on '%s' (regression)", arg);
		dargs.fail_on_regression = true;
		break;
	case OPT_CONFIDENCE:
		if (parse_double(arg, 0, 99.99, &v))
			argp_error(state, "invalid --confidence '%s' (percent, 0 to 99.99)", arg);
		r->alpha = v > 0 ? 1 - v / 100 : 0;
		break;
	case OPT_MIN_SAMPLES:
		if (parse_double(arg, 0, 1e12, &v) || v != floor(v))
			argp_error(state, "invalid --min-samples '%s'", arg);
		r->min_samples = (uint64_t)v;
		break;
	case ARGP_KEY_ARG:
		if (state->arg_num >= 2)
			argp_error(state, "two reports: BASELINE.json AFTER.json");
		dargs.input[state->arg_num] = arg;
		break;
	case ARGP_KEY_END:
		if (state->arg_num < 2)
			argp_error(state, "two reports needed: BASELINE.json AFTER.json");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char diff_doc[] =
	"Compare two runs: per endpoint and per query fingerprint the before, after and\n"
	"change of p50/p95/p99, rate, error rate, queries and DB time per request, each\n"
	"judged improved, regressed or unchanged against a noise threshold; SLO\n"
	"verdicts before and after.\n"
	"\n"
	"EXAMPLES:\n"
	"  sloprobe diff baseline.json tuned.json\n"
	"  sloprobe diff --noise 10 -f markdown -o diff.md baseline.json tuned.json\n"
	"  sloprobe diff --label baseline=v1.4 --label after=v1.5 a.json b.json\n"
	"  sloprobe diff -f json -o diff-verdicts.json baseline.json tuned.json\n"
	"  sloprobe diff --fail-on regression -f junit -o diff.xml main.json pr.json\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 usage error, 3 an "
	"SLO objective breached (passed in BASELINE, breaches in AFTER), 4 SLO verdicts judged "
	"on incomplete data (AFTER; with --fail-on regression too), 6 a regression beyond the "
	"noise rule (--fail-on regression) (docs/exit-codes.md).";

static int diff_write(FILE *f, const struct run *a, const struct run *b, bool *regressed)
{
	switch (dargs.kind) {
	case OUT_HTML:
		return runhtml__diff(f, a, b, &dargs.rule, regressed);
	case OUT_JSON:
		return civerdict__diff_json(f, a, b, &dargs.rule, regressed);
	case OUT_JUNIT:
		return civerdict__diff_junit(f, a, b, &dargs.rule, regressed);
	default:
		return rundiff__write(f, a, b, &dargs.rule, dargs.fmt, regressed);
	}
}

int analyze__diff(int argc, char **argv)
{
	static const struct argp argp = {
		.options = diff_opts,
		.parser = diff_parse,
		.args_doc = "BASELINE.json AFTER.json",
		.doc = diff_doc,
		.children = cli__children,
	};
	struct slo_set *set = NULL;
	struct runslo_notes notes;
	struct run a, b;
	bool regressed = false;
	struct outfile out;
	FILE *f;
	int ret;

	memset(&dargs, 0, sizeof(dargs));
	diff__default_rule(&dargs.rule);
	argp_err_exit_status = ANALYZE_USAGE;
	argv[0] = "sloprobe diff";
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return ANALYZE_USAGE;
	if (dargs.slo && !(set = load_slo(dargs.slo)))
		return ANALYZE_USAGE;
	ret = load(&a, dargs.input[0]);
	if (ret)
		goto out_slo;
	ret = load(&b, dargs.input[1]);
	if (ret) {
		run__free(&a);
		goto out_slo;
	}
	if (set && ((ret = apply_slo(&a, set, &notes)) || (ret = apply_slo(&b, set, &notes))))
		goto out;
	f = out_open(&out, dargs.output);
	if (!f) {
		ret = ANALYZE_RUNTIME;
		goto out;
	}
	ret = out_close(&out, diff_write(f, &a, &b, &regressed));
	if (!ret && regressed)
		ret = ANALYZE_BREACH;
	if (!ret || ret == ANALYZE_BREACH)
		ret = judged_whole(&b,
				   set ? (dargs.fail_on_regression ? "SLO verdicts and regressions"
								   : "SLO verdicts")
				   : dargs.fail_on_regression ? "regressions"
							      : NULL,
				   ret);
	if (dargs.fail_on_regression && (!ret || ret == ANALYZE_BREACH))
		ret = regression_gate(&a, &b, &dargs.rule, ret);
out:
	run__free(&a);
	run__free(&b);
out_slo:
	slo__free(set);
	return ret;
}

/* merge */

static struct merge_args {
	const char **input;
	unsigned n;
	const char *output;
} margs;

static const struct argp_option merge_opts[] = {
	{ "output", 'o', "FILE", 0, "the merged report ('-': standard output); required", 0 },
	{ 0 },
};

static error_t merge_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'o':
		margs.output = arg;
		break;
	case ARGP_KEY_ARG:
		if (margs.n == MERGE_MAX)
			argp_error(state, "at most %d reports", MERGE_MAX);
		margs.input[margs.n++] = arg;
		break;
	case ARGP_KEY_END:
		if (margs.n < 1)
			argp_error(state, "missing reports to merge");
		if (!margs.output)
			argp_error(state, "missing -o FILE");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char merge_doc[] =
	"Merge reports of several hosts or runs into one: histograms are added bucket\n"
	"by bucket and percentiles recomputed, counters added; endpoints join on\n"
	"service, method and route, queries on the fingerprint.\n"
	"\n"
	"EXAMPLES:\n"
	"  sloprobe merge web1.json web2.json web3.json -o all.json\n"
	"\n"
	"Exit status: 0 success, 1 runtime error, 2 usage error (docs/exit-codes.md).";

int analyze__merge(int argc, char **argv)
{
	static const struct argp argp = {
		.options = merge_opts,
		.parser = merge_parse,
		.args_doc = "A.json B.json...",
		.doc = merge_doc,
		.children = cli__children,
	};
	const char *inputs[MERGE_MAX];
	const struct run **in;
	struct run *runs, out;
	struct merge_notes notes;
	char err[RUNFILE_ERR_MAX];
	unsigned loaded = 0;
	struct outfile o;
	int ret = 0;
	FILE *f;

	memset(&margs, 0, sizeof(margs));
	margs.input = inputs;
	argp_err_exit_status = ANALYZE_USAGE;
	argv[0] = "sloprobe merge";
	if (argp_parse(&argp, argc, argv, 0, NULL, NULL))
		return ANALYZE_USAGE;
	runs = calloc(margs.n, sizeof(*runs));
	in = calloc(margs.n, sizeof(*in));
	if (!runs || !in) {
		fprintf(stderr, "sloprobe: merge: %s\n", strerror(ENOMEM));
		ret = ANALYZE_RUNTIME;
		goto out;
	}
	for (; loaded < margs.n; loaded++) {
		ret = load(&runs[loaded], margs.input[loaded]);
		if (ret)
			goto out;
		in[loaded] = &runs[loaded];
	}
	if (merge__runs(&out, in, margs.n, &notes, err, sizeof(err))) {
		textesc__line(stderr, "sloprobe: merge: %s", err);
		ret = ANALYZE_RUNTIME;
		goto out;
	}
	f = out_open(&o, margs.output);
	ret = f ? out_close(&o, run__write(f, &out)) : ANALYZE_RUNTIME;
	run__free(&out);
	/* Say what could not be carried over: nothing is dropped silently. */
	if (!ret && notes.timeline)
		fprintf(stderr, "sloprobe: merge: timelines not merged (intervals belong to one "
				"run; per-interval percentiles cannot be added)\n");
	if (!ret && notes.cache)
		fprintf(stderr, "sloprobe: merge: cache sections not merged (report each run's "
				"Redis rows on their own)\n");
	if (!ret && notes.slo)
		fprintf(stderr, "sloprobe: merge: SLO verdicts not merged: evaluate the merged "
				"report with 'sloprobe report --slo FILE'\n");
	if (!ret && notes.ttfb)
		fprintf(stderr,
			"sloprobe: merge: %u endpoints lose ttfb_ms, server_ms and wait_ms "
			"(percentiles without a histogram cannot be added)\n",
			notes.ttfb);
	if (!ret && notes.first_byte)
		fprintf(stderr,
			"sloprobe: merge: %u queries lose first_byte_ms (percentiles without a "
			"histogram cannot be added)\n",
			notes.first_byte);
	if (!ret && notes.paths)
		fprintf(stderr,
			"sloprobe: merge: %u secondary query paths dropped (no histogram "
			"to add)\n",
			notes.paths);
	if (!ret && notes.mixed_paths)
		fprintf(stderr,
			"sloprobe: merge: %u queries were measured on different paths by "
			"the inputs; their histograms mix paths\n",
			notes.mixed_paths);
out:
	for (unsigned i = 0; runs && i < loaded; i++)
		run__free(&runs[i]);
	free(runs);
	free(in);
	return ret;
}
