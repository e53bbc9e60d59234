/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inline SVG charts for the HTML report: latency histogram, CDF, p95/p99 timeline, horizontal
 * bars and before/after bar pairs.
 *
 * Data in, text out: each chart is one <svg> element written to a FILE (open_memstream for a
 * buffer), standalone (xmlns, fixed viewBox, presentation attributes, no script, no CSS
 * needed) and well-formed XML. Every text is escaped as in html__escape; numbers never depend
 * on the locale. Latencies are milliseconds except histogram buckets, which are nanoseconds
 * as in the report's sparse histograms. Non-finite values are skipped; a chart with nothing to
 * draw becomes a small "no data" SVG.
 *
 * Elements carry classes so tests and stylesheets can find them: bar, cdf, slo, pmark, tl-p95,
 * tl-p99, tl-rate, breach, hbar, pair-before, pair-after, nodata.
 *
 * All charts return 0, -EINVAL if f is NULL, -ENOMEM (histogram, CDF, stacked), or -EIO if a
 * write failed.
 *
 * From a report: a histogram's "buckets" [[lo, hi, count], ...] map one to one onto struct
 * svg_bucket; latency_ms percentiles and SLO thresholds become struct svg_mark. In a page, wrap
 * each chart in html__figure_begin/end so it scales to the page width.
 */
#ifndef SLOPROBE_SVG_H
#define SLOPROBE_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Default geometry of the histogram, CDF, timeline and pair charts (viewBox units). */
#define SVG_WIDTH	  900
#define SVG_HEIGHT	  320
#define SVG_MARGIN_LEFT	  70
#define SVG_MARGIN_RIGHT  20
#define SVG_MARGIN_TOP	  40
#define SVG_MARGIN_BOTTOM 50
/* Histogram bars per power of two of latency, whatever the report's layout. */
#define SVG_PER_OCTAVE 8

/* One histogram bucket: inclusive bounds in ns, as in the report's "buckets" arrays. */
struct svg_bucket {
	uint64_t lo_ns;
	uint64_t hi_ns;
	uint64_t count;
};

/* A latency distribution for the CDF chart; name goes to the legend (NULL: no legend). */
struct svg_dist {
	const char *name;
	const struct svg_bucket *buckets;
	size_t n;
};

enum svg_mark_kind {
	SVG_MARK_SLO,	     /* red dashed threshold across the plot */
	SVG_MARK_PERCENTILE, /* observed percentile: a short marker */
};

/*
 * A latency of interest. Histogram: a vertical line at ms. CDF: SLO marks with a pct draw
 * guides at ms and at pct and a target point; percentile marks a dot at (ms, pct). Timeline:
 * an SLO mark is a horizontal line at ms. label is drawn next to it ("p95 SLO 300 ms").
 */
struct svg_mark {
	enum svg_mark_kind kind;
	double ms;
	double pct; /* 0..100, or NaN/0 when there is none */
	const char *label;
};

/* One timeline interval; t_s is the end of the interval, in seconds since the run started. */
struct svg_tpoint {
	double t_s;
	double p95_ms;
	double p99_ms;
	double rate; /* requests per second */
};

struct svg_series {
	const char *name; /* legend prefix, e.g. "before"; NULL for a single unnamed series */
	const struct svg_tpoint *points;
	size_t n;
	bool no_p99; /* p95 only: no p99 line and no p99 in the legend */
};

/* A time span [t0_s, t1_s] shaded as an SLO breach. */
struct svg_span {
	double t0_s;
	double t1_s;
};

/* A horizontal bar: label (truncated on the chart, in full in the tooltip) and its value. */
struct svg_bar {
	const char *label;
	double value;
};

#define SVG_PAIR_METRICS 3 /* p50, p95, p99 */

/* Before and after values, in ms, of p50, p95 and p99 for one endpoint. */
struct svg_pair {
	const char *label;
	double before[SVG_PAIR_METRICS];
	double after[SVG_PAIR_METRICS];
};

/* Maps domain [d0, d1] to range [r0, r1]; log scales need d0 > 0 and clamp v <= 0 to d0. */
struct svg_scale {
	double d0, d1;
	double r0, r1;
	bool log;
};

double svg__map(const struct svg_scale *s, double v);

/*
 * Nice ticks (1-2-5 times a power of ten) from the largest tick <= lo to the smallest >= hi,
 * at most max_ticks of them (>= 2), so the first and last tick are the axis domain. Values are
 * exact decimal doubles (0.3, not 0.30000000000000004). Linear: an empty span [v, v] widens to
 * [v, v + |v|] ([0, 1] for 0). Log: lo and hi must be > 0; 1-2-5 per decade, else one tick a
 * decade, else every k-th decade. Return the number of ticks written (<= cap).
 */
size_t svg__ticks_linear(double lo, double hi, size_t max_ticks, double *out, size_t cap);
size_t svg__ticks_log(double lo, double hi, size_t max_ticks, double *out, size_t cap);

/* A value label with about 3 significant digits and no exponent: "1234", "50.6", "0.125". */
void svg__fmt_value(double v, char *buf, size_t n);

/*
 * Breach spans from a timeline: the intervals (each interval_s long and ending at t_s) whose
 * p95 (pct 95) or p99 (pct 99) exceeds slo_ms, adjacent ones merged. Returns the number of
 * spans, writing at most cap.
 */
size_t svg__breach_spans(const struct svg_tpoint *p, size_t n, double interval_s, int pct,
			 double slo_ms, struct svg_span *out, size_t cap);

/*
 * The fewest requests an interval needs for its pct percentile to be drawn: at least one of
 * them above it (p50: 2, p95: 20, p99: 100), else the interval's "p99" is its maximum.
 */
uint64_t svg__min_samples(double pct);

/*
 * Display re-binning of a histogram: adjacent buckets (ascending) that fall in the same
 * 1/per_octave of a power of two of nanoseconds are merged into one, so a chart draws at most
 * per_octave bars an octave instead of the report's 64 sub-buckets. out may be in. Returns the
 * number of buckets written (<= n).
 */
size_t svg__rebin(const struct svg_bucket *in, size_t n, unsigned per_octave,
		  struct svg_bucket *out);

/* A text label's box: x left, y top, w and h. */
struct svg_box {
	double x, y, w, h;
};

/*
 * Places label boxes in order so that none overlaps one placed before it: a box keeps its x and
 * moves down (then, out of room, up) by its height until it is clear, within [ymin, ymax]; one
 * asked for outside the band starts at its nearer edge. Returns how many could not be cleared
 * (left where they were asked for, or at that edge).
 */
size_t svg__place_labels(struct svg_box *b, size_t n, double ymin, double ymax);

/* One interval of a stacked bar chart: t_s its end, span_s its length, one value per layer. */
#define SVG_STACK_MAX 4
struct svg_stack_point {
	double t_s, span_s;
	double v[SVG_STACK_MAX];
	bool partial; /* drawn hollow: the last interval, cut short by the end of the run */
};

/*
 * Layers (at most SVG_STACK_MAX, bottom first) stacked per interval against time; ytitle and
 * suffix ("%") label the value axis. Partial intervals are hollow, and the legend says so.
 */
int svg__stacked(FILE *f, const char *title, const char *ytitle, const char *suffix,
		 const char *const *names, const char *const *colors, size_t nlayers,
		 const struct svg_stack_point *p, size_t n);

/*
 * Bars on a log latency axis, the buckets re-binned to 8 an octave (svg__rebin); marks as
 * vertical lines, their labels kept apart.
 */
int svg__histogram(FILE *f, const char *title, const struct svg_bucket *b, size_t n,
		   const struct svg_mark *marks, size_t nmarks);

/* Cumulative share of requests (%) against log latency, one line per distribution. */
int svg__cdf(FILE *f, const char *title, const struct svg_dist *d, size_t nd,
	     const struct svg_mark *marks, size_t nmarks);

/*
 * p95 (solid) and p99 (dashed) over time, one colour per series; SLO marks as horizontal lines,
 * breaches shaded; with rate, the first series' request rate on a right-hand axis.
 */
int svg__timeline(FILE *f, const char *title, const struct svg_series *s, size_t ns,
		  const struct svg_mark *slos, size_t nslos, const struct svg_span *breaches,
		  size_t nbreaches, bool rate);

/* Horizontal bars in the given order, with value labels "<value> <unit>". */
int svg__hbars(FILE *f, const char *title, const struct svg_bar *bars, size_t n, const char *unit);

/* Grouped bars: per endpoint, p50/p95/p99 before and after side by side. */
int svg__pairs(FILE *f, const char *title, const char *before_name, const char *after_name,
	       const struct svg_pair *p, size_t n);

#endif
