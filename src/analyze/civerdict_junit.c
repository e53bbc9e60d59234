// SPDX-License-Identifier: GPL-2.0-only
/*
 * Verdicts for CI as JUnit XML (civerdict.h). The format as GitLab, Jenkins and the GitHub test
 * reporters read it: <testsuites> of <testsuite name tests failures errors skipped time>, each
 * of <testcase classname name time> holding nothing (passed), a <failure message type> with
 * the evidence as its text, or a <skipped message>. Counts are written up front, so each suite
 * is counted before it is written.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/civerdict.h"
#include "lib/xmlesc.h"

enum tc_state { TC_PASS, TC_FAIL, TC_SKIP };

/* A test case: <testcase classname name>, and a failure or skip with message and text. */
/*
 * Seconds for a time attribute: the time a case was judged over, a suite's run. Unknown (a
 * report without a window) or negative: 0.
 */
static double secs(double s)
{
	return isnan(s) || s < 0 ? 0 : s;
}

/*
 * The time objective s of r was judged over: a recorded verdict, the run after the SLO file's
 * warm-up (slotrack counts nothing before it); one judged offline, the whole run (a report's
 * histograms cannot cut the warm-up out).
 */
static double judged_s(const struct run *r, const struct run_slo *s)
{
	double warmup = !s->offline && r->has_slo_summary ? secs(r->slo_summary.warmup_s) : 0;

	return secs(secs(r->duration_s) - warmup);
}

static void testcase(FILE *f, const char *cls, const char *name, double t, enum tc_state st,
		     const char *type, const char *msg, const char *text)
{
	fputs("    <testcase classname=\"", f);
	xmlesc__write(f, cls);
	fputs("\" name=\"", f);
	xmlesc__write(f, name);
	fprintf(f, "\" time=\"%.3f\"", secs(t));
	if (st == TC_PASS) {
		fputs("/>\n", f);
		return;
	}
	fputs(">\n      <", f);
	fputs(st == TC_FAIL ? "failure" : "skipped", f);
	if (type) {
		fputs(" type=\"", f);
		xmlesc__write(f, type);
		fputc('"', f);
	}
	fputs(" message=\"", f);
	xmlesc__write(f, msg);
	if (!text) {
		fputs("\"/>\n    </testcase>\n", f);
		return;
	}
	fputs("\">", f);
	xmlesc__write_text(f, text);
	fprintf(f, "</%s>\n    </testcase>\n", st == TC_FAIL ? "failure" : "skipped");
}

/* t: the run's duration (for a diff, AFTER's). */
static void suite_open(FILE *f, const char *name, unsigned tests, unsigned failures,
		       unsigned skipped, double t)
{
	fputs("  <testsuite name=\"", f);
	xmlesc__write(f, name);
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n",
		tests, failures, skipped, secs(t));
}

static void suite_close(FILE *f)
{
	fputs("  </testsuite>\n", f);
}

/*
 * The "run" suite of r (label: "" or "baseline "/"after "): the load-test command's exit
 * status and the events lost. Returns its failures; *tests: its cases.
 */
static unsigned run_cases(const struct run *r, bool write, FILE *f, const char *label,
			  unsigned *tests)
{
	char name[128], msg[512], text[1024];
	unsigned fail = 0;

	*tests = 0;
	if (r->has_command) {
		/*
		 * As record's exit code has it: a status --command-exit maps to ok is no failure;
		 * one mapped to load-failed or breach fails with its own type.
		 */
		const char *as = r->exit_mapped;
		bool bad = r->exit_status != 0 && !(as && !strcmp(as, "ok"));

		(*tests)++;
		fail += bad;
		if (write) {
			snprintf(name, sizeof(name), "%sload-test command exit status", label);
			snprintf(msg, sizeof(msg), "%s exited with status %lld",
				 r->argc ? r->argv[0] : "COMMAND", (long long)r->exit_status);
			/* as record's own line says it */
			if (as)
				snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
					 " (--command-exit %lld=%s)", (long long)r->exit_status,
					 as);
			testcase(f, "sloprobe.run", name, r->duration_s, bad ? TC_FAIL : TC_PASS,
				 !as			 ? "command_failed"
				 : !strcmp(as, "breach") ? "breach"
							 : "load_failed",
				 msg, NULL);
		}
	}
	(*tests)++;
	if (run__incomplete(r)) {
		fail++;
		if (write) {
			double max = isnan(r->max_drop_pct) ? SLO_MAX_DROP_PCT : r->max_drop_pct;

			snprintf(name, sizeof(name), "%sevents lost", label);
			snprintf(msg, sizeof(msg),
				 "%.3g %% of events lost (%llu of %llu), more than --max-drop-pct "
				 "%g: verdicts judged on incomplete data",
				 slo__drop_pct(r->events_dropped, r->events_total),
				 (unsigned long long)r->events_dropped,
				 (unsigned long long)(r->events_total + r->events_dropped), max);
			snprintf(text, sizeof(text), "%s", msg);
			testcase(f, "sloprobe.run", name, r->duration_s, TC_FAIL, "incomplete_data",
				 msg, text);
		}
	} else if (write) {
		snprintf(name, sizeof(name), "%sevents lost", label);
		testcase(f, "sloprobe.run", name, r->duration_s, TC_PASS, NULL, NULL, NULL);
	}
	return fail;
}

/* Whether SLO row i is the first of its SLO name: one suite per SLO. */
static bool first_of_slo(const struct run *r, unsigned i)
{
	for (unsigned k = 0; k < i; k++)
		if (!strcmp(r->slo[k].name, r->slo[i].name))
			return false;
	return true;
}

static void slo_case(FILE *f, const struct run *r, const struct run_slo *s)
{
	char cls[ANALYZE_VAL_MAX], name[ANALYZE_VAL_MAX], msg[ANALYZE_VAL_MAX * 2];
	char text[ANALYZE_VAL_MAX * 3], ob[48], tg[48], mg[48], bu[48];
	enum tc_state st = TC_PASS;

	snprintf(cls, sizeof(cls), "sloprobe.slo.%s", s->name);
	snprintf(name, sizeof(name), "%s: %s", s->objective, s->target ? s->target : "-");
	analyze__slo_value(s, s->observed, ob, sizeof(ob));
	analyze__slo_value(s, s->target_value, tg, sizeof(tg));
	analyze__slo_value(s, s->margin, mg, sizeof(mg));
	analyze__budget(s->budget_consumed, bu, sizeof(bu));
	if (!strcmp(s->verdict, "breach")) {
		st = TC_FAIL;
		snprintf(msg, sizeof(msg), "%s breached on %s%s%s: observed %s%s, target %s",
			 s->objective, s->target ? s->target : "-", s->service ? " of " : "",
			 s->service ? s->service : "", s->approximate ? "~" : "", ob, tg);
	} else if (!strcmp(s->verdict, "insufficient_data")) {
		st = TC_SKIP;
		snprintf(msg, sizeof(msg), "insufficient data: %llu observations judged",
			 (unsigned long long)(s->has_counts ? s->total : 0));
	} else {
		msg[0] = '\0';
	}
	snprintf(text, sizeof(text),
		 "SLO: %s\nobjective: %s\ntarget: %s\nservice: %s\nverdict: %s%s\nobserved: %s%s\n"
		 "target value: %s\nmargin: %s\nerror budget used: %s\n",
		 s->name, s->objective, s->target ? s->target : "-", s->service ? s->service : "-",
		 analyze__verdict(s->verdict, false),
		 run__incomplete(r) ? " (judged on incomplete data)" : "",
		 s->approximate ? "~" : "", ob, tg, mg, bu);
	if (s->has_counts)
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "good/judged: %llu/%llu\n", (unsigned long long)s->good,
			 (unsigned long long)s->total);
	if (!isnan(s->first_breach_s))
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
			 "first breach: t=%.1f s\n", s->first_breach_s);
	testcase(f, cls, name, judged_s(r, s), st, st == TC_FAIL ? "breach" : NULL, msg,
		 st == TC_PASS ? NULL : text);
}

static void root_open(FILE *f, const char *name, unsigned tests, unsigned failures,
		      unsigned skipped, double t)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"", f);
	xmlesc__write(f, name);
	fprintf(f, "\" tests=\"%u\" failures=\"%u\" errors=\"0\" skipped=\"%u\" time=\"%.3f\">\n",
		tests, failures, skipped, secs(t));
}

int civerdict__report_junit(FILE *f, const struct run *r, const char *slo_file)
{
	unsigned rtests, rfail = run_cases(r, false, f, "", &rtests);
	struct civ_counts c;
	char title[ANALYZE_VAL_MAX];

	civ__counts(r, &c);
	snprintf(title, sizeof(title), "sloprobe report %s%s%s", r->path, slo_file ? " --slo " : "",
		 slo_file ? slo_file : "");
	root_open(f, title, r->nslo + rtests, c.breach + rfail, c.insufficient, r->duration_s);
	suite_open(f, "run", rtests, rfail, 0, r->duration_s);
	run_cases(r, true, f, "", &rtests);
	suite_close(f);
	for (unsigned i = 0; i < r->nslo; i++) {
		struct civ_counts sc = { 0 };
		unsigned n = 0;

		if (!first_of_slo(r, i))
			continue;
		for (unsigned k = i; k < r->nslo; k++) {
			const char *v = r->slo[k].verdict;

			if (strcmp(r->slo[k].name, r->slo[i].name))
				continue;
			n++;
			sc.breach += !strcmp(v, "breach");
			sc.insufficient += !strcmp(v, "insufficient_data");
		}
		snprintf(title, sizeof(title), "SLO %s", r->slo[i].name);
		suite_open(f, title, n, sc.breach, sc.insufficient, r->duration_s);
		for (unsigned k = i; k < r->nslo; k++)
			if (!strcmp(r->slo[k].name, r->slo[i].name))
				slo_case(f, r, &r->slo[k]);
		suite_close(f);
	}
	fputs("</testsuites>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* --- diff --- */

/* "v1.4" with a --label, else "the baseline" / "after" as the messages had them before labels. */
static const char *side_name(const struct diff_rule *rule, int side)
{
	if (rule->label[side] && *rule->label[side])
		return rule->label[side];
	return side ? "after" : "the baseline";
}

struct slo_cases {
	FILE *f;
	const struct run *a, *b;
	const struct diff_rule *rule;
	bool write;
	unsigned n, fail, skip;
};

/* One objective's case; its time: AFTER's verdict's (or BASELINE's, only in the baseline). */
static void slo_diff_case(void *ctx, const struct run_slo *s, const struct run_slo *before,
			  const struct run_slo *after, enum civ_slo_change c)
{
	struct slo_cases *sc = ctx;
	char name[ANALYZE_VAL_MAX], msg[ANALYZE_VAL_MAX * 2], x[48], y[48];
	double t = after ? judged_s(sc->b, after) : judged_s(sc->a, before);
	FILE *f = sc->f;

	sc->n++;
	sc->fail += c == CIV_SLO_REGRESSED;
	sc->skip += c == CIV_SLO_ONLY_BASELINE || c == CIV_SLO_ONLY_AFTER;
	if (!sc->write)
		return;
	snprintf(name, sizeof(name), "%s %s: %s", s->name, s->objective,
		 s->target ? s->target : "-");
	if (c == CIV_SLO_REGRESSED) {
		snprintf(msg, sizeof(msg), "regressed: passed in %s (%s), breaches %s%s (%s)",
			 side_name(sc->rule, 0),
			 analyze__slo_value(before, before->observed, x, sizeof(x)),
			 sc->rule->label[1] ? "in " : "", side_name(sc->rule, 1),
			 analyze__slo_value(after, after->observed, y, sizeof(y)));
		testcase(f, "sloprobe.diff.slo", name, t, TC_FAIL, "slo_regressed", msg, msg);
	} else if (c == CIV_SLO_ONLY_BASELINE || c == CIV_SLO_ONLY_AFTER) {
		snprintf(msg, sizeof(msg), "only in %s",
			 analyze__run_label(sc->rule, c == CIV_SLO_ONLY_AFTER));
		testcase(f, "sloprobe.diff.slo", name, t, TC_SKIP, NULL, msg, NULL);
	} else {
		testcase(f, "sloprobe.diff.slo", name, t, TC_PASS, NULL, NULL, NULL);
	}
}

/* SLO cases: regressions, skips (one side only) and the count. */
static void slo_diff(FILE *f, const struct run *a, const struct run *b,
		     const struct diff_rule *rule, bool write, unsigned *n, unsigned *fail,
		     unsigned *skip)
{
	struct slo_cases sc = { .f = f, .a = a, .b = b, .rule = rule, .write = write };

	civ__slo_pairs(a, b, slo_diff_case, &sc);
	*n = sc.n;
	*fail = sc.fail;
	*skip = sc.skip;
}

#define LABEL_MAX 256 /* of a --label in a message, cut beyond */

/* "v1.4 " before a side's value with a --label, else nothing. */
static const char *label_sp(const struct diff_rule *rule, int side, char *buf, size_t sz)
{
	snprintf(buf, sz, "%s%s", rule->label[side] ? rule->label[side] : "",
		 rule->label[side] ? " " : "");
	return buf;
}

/*
 * The values that regressed, one line each: "p95 ms: 20.10 ms -> 52.30 ms (+160.2 %)", with
 * --label "p95 ms: v1.4 20.10 ms -> v1.5 52.30 ms (+160.2 %)".
 */
static void regressions(const struct diff_rule *rule, const struct diff_value *m, unsigned n,
			char *buf, size_t sz)
{
	char x[48], y[48], la[LABEL_MAX], lb[LABEL_MAX];
	size_t len = 0;

	buf[0] = '\0';
	label_sp(rule, 0, la, sizeof(la));
	label_sp(rule, 1, lb, sizeof(lb));
	for (unsigned k = 0; k < n && len < sz; k++) {
		if (!m[k].judged || m[k].cls != DIFF_REGRESSED)
			continue;
		len += snprintf(buf + len, sz - len, "%s%s: %s%s -> %s%s", len ? "; " : "",
				m[k].name, la, civ__value(&m[k], m[k].before, x, sizeof(x)), lb,
				civ__value(&m[k], m[k].after, y, sizeof(y)));
		if (len < sz && m[k].before && !isnan(m[k].before))
			len += snprintf(buf + len, sz - len, " (%+.1f %%)",
					(m[k].after - m[k].before) / m[k].before * 100);
	}
}

/* One suite per section: a case per compared row. Counts first (write false), then cases. */
static int section_suite(FILE *f, const struct run *a, const struct run *b,
			 const struct diff_rule *rule, enum civ_section s, bool write, unsigned *n,
			 unsigned *fail, unsigned *skip)
{
	struct diff_value m[DIFF_VALUES_MAX];
	char cls[64], name[ANALYZE_VAL_MAX], msg[ANALYZE_VAL_MAX * 2], ev[ANALYZE_VAL_MAX];
	char x[LABEL_MAX], y[LABEL_MAX];
	struct civ_pairs p;
	int err = civ__pairs(&p, s, a, b);
	double t = b->duration_s; /* a row is judged over both runs: AFTER's is the one tested */

	*n = *fail = *skip = 0;
	if (err) {
		civ__pairs_free(&p);
		return err;
	}
	snprintf(cls, sizeof(cls), "sloprobe.diff.%s", civ__section_key(s));
	for (unsigned i = 0; i < p.na; i++) {
		enum diff_class c;
		unsigned nv;

		(*n)++;
		civ__row_name(s, a, i, name, sizeof(name));
		if (p.b_of_a[i] < 0) {
			(*skip)++;
			snprintf(msg, sizeof(msg), "only in %s", analyze__run_label(rule, 0));
			if (write)
				testcase(f, cls, name, t, TC_SKIP, NULL, msg, NULL);
			continue;
		}
		nv = civ__values(&p, rule, i, m);
		c = diff__values_overall(m, nv);
		*fail += c == DIFF_REGRESSED;
		*skip += c == DIFF_FEW_SAMPLES;
		if (!write)
			continue;
		if (c == DIFF_REGRESSED) {
			regressions(rule, m, nv, ev, sizeof(ev));
			snprintf(msg, sizeof(msg), "regressed: %s", ev);
			testcase(f, cls, name, t, TC_FAIL, "regressed", msg, msg);
		} else if (c == DIFF_FEW_SAMPLES) {
			snprintf(msg, sizeof(msg),
				 "few samples: %s%llu -> %s%llu, fewer than %llu on a side",
				 label_sp(rule, 0, x, sizeof(x)), civ__row_count(s, a, i),
				 label_sp(rule, 1, y, sizeof(y)),
				 civ__row_count(s, b, (unsigned)p.b_of_a[i]),
				 (unsigned long long)rule->min_samples);
			testcase(f, cls, name, t, TC_SKIP, NULL, msg, NULL);
		} else {
			testcase(f, cls, name, t, TC_PASS, NULL, NULL, NULL);
		}
	}
	for (unsigned k = 0; k < p.nb; k++) {
		if (p.b_paired[k])
			continue;
		(*n)++;
		(*skip)++;
		snprintf(msg, sizeof(msg), "only in %s", analyze__run_label(rule, 1));
		if (write)
			testcase(f, cls, civ__row_name(s, b, k, name, sizeof(name)), t, TC_SKIP,
				 NULL, msg, NULL);
	}
	civ__pairs_free(&p);
	return 0;
}

static void property(FILE *f, const char *name, const char *value)
{
	if (!value)
		return;
	fputs("      <property name=\"", f);
	xmlesc__write(f, name);
	fputs("\" value=\"", f);
	xmlesc__write(f, value);
	fputs("\"/>\n", f);
}

/*
 * The runs compared, as <properties> of the "run" suite (where JUnit readers show a suite's
 * facts): each run's file and, when given, its --label, as the JSON diff's "baseline" and
 * "after" have them.
 */
static void runs_properties(FILE *f, const struct run *a, const struct run *b,
			    const struct diff_rule *rule)
{
	fputs("    <properties>\n", f);
	property(f, "baseline", a->path);
	property(f, "baseline.label", rule->label[0]);
	property(f, "after", b->path);
	property(f, "after.label", rule->label[1]);
	fputs("    </properties>\n", f);
}

int civerdict__diff_junit(FILE *f, const struct run *a, const struct run *b,
			  const struct diff_rule *rule, bool *slo_regressed)
{
	unsigned n[CIV_NSECTIONS], fl[CIV_NSECTIONS], sk[CIV_NSECTIONS];
	unsigned sn, sf, ss, rtests, rfail, tests, fails, skips;
	char title[ANALYZE_VAL_MAX];
	size_t len;
	int err;

	slo_diff(f, a, b, rule, false, &sn, &sf, &ss);
	*slo_regressed = sf > 0;
	rfail = run_cases(b, false, f, "after: ", &rtests);
	tests = sn + rtests;
	fails = sf + rfail;
	skips = ss;
	for (int s = 0; s < CIV_NSECTIONS; s++) {
		err = section_suite(f, a, b, rule, (enum civ_section)s, false, &n[s], &fl[s],
				    &sk[s]);
		if (err)
			return err;
		tests += n[s];
		fails += fl[s];
		skips += sk[s];
	}
	/* As the command line had it, with the labels that name the runs in the messages. */
	len = snprintf(title, sizeof(title), "sloprobe diff %s %s", a->path, b->path);
	for (int side = 0; side < 2 && len < sizeof(title); side++)
		if (rule->label[side])
			len += snprintf(title + len, sizeof(title) - len, " --label %s=%s",
					side ? "after" : "baseline", rule->label[side]);
	root_open(f, title, tests, fails, skips, b->duration_s);
	suite_open(f, "run", rtests, rfail, 0, b->duration_s);
	runs_properties(f, a, b, rule);
	run_cases(b, true, f, "after: ", &rtests);
	suite_close(f);
	suite_open(f, "SLO verdicts", sn, sf, ss, b->duration_s);
	slo_diff(f, a, b, rule, true, &sn, &sf, &ss);
	suite_close(f);
	for (int s = 0; s < CIV_NSECTIONS; s++) {
		if (!n[s])
			continue;
		suite_open(f, civ__section_title((enum civ_section)s), n[s], fl[s], sk[s],
			   b->duration_s);
		err = section_suite(f, a, b, rule, (enum civ_section)s, true, &n[s], &fl[s],
				    &sk[s]);
		suite_close(f);
		if (err)
			return err;
	}
	fputs("</testsuites>\n", f);
	return ferror(f) ? -EIO : 0;
}
