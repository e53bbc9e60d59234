// SPDX-License-Identifier: GPL-2.0-only
/*
 * The chart kinds of svg.h: latency histogram, CDF, p95/p99 timeline, horizontal bars and
 * before/after pairs. Each is one public entry point drawn with the primitives of svg.c
 * (svg_draw.h); its own file so that a new kind of chart touches neither scales nor primitives.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/html.h"
#include "analyze/svg.h"
#include "analyze/svg_draw.h"
#include "lib/units.h"

static const char *const palette[] = { "#2f6fb0", "#e07b00", "#2e8b57", "#8e44ad" };

#define LABEL_CHAR_W 7.0 /* a label's box per character: wide enough for digits at 11px */
#define HALO	     "stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\""

/*
 * The box of a label drawn beside x (right of it, or left near the right edge), its top at y:
 * where svg__place_labels moves it and draw_label writes it.
 */
static struct svg_box label_box(const struct frame *fr, double x, double y, const char *label)
{
	double w = (double)svg__chars(label) * LABEL_CHAR_W + 2;
	bool left = x + 6 + w > fr->x1;

	return (struct svg_box){ left ? x - 6 - w : x + 6, y, w, LABEL_ROW };
}

static void draw_label(FILE *f, const struct svg_box *b, const char *color, const char *label)
{
	char attr[160];

	if (!label || !*label)
		return;
	snprintf(attr, sizeof(attr), "fill=\"%s\" " HALO, color);
	/* The baseline 11 px down: the glyphs' 10.2 px ascent and 2.6 px descent fit the box. */
	svg__text(f, b->x + 1, b->y + 11, NULL, attr, label);
}

static double bucket_lo_ms(const struct svg_bucket *b)
{
	/* Bucket 0 is [0, 0]: give it a width so a log axis can show it. */
	return (b->lo_ns ? (double)b->lo_ns : 0.5) / 1e6;
}

static double bucket_end_ms(const struct svg_bucket *b)
{
	return ((double)b->hi_ns + 1) / 1e6;
}

static bool bucket_ok(const struct svg_bucket *b)
{
	return b->count && b->hi_ns >= b->lo_ns;
}

/* Widens [*lo, *hi] by the finite, positive latencies of marks. */
static void marks_extent(const struct svg_mark *m, size_t n, double *lo, double *hi)
{
	for (size_t i = 0; m && i < n; i++) {
		if (!isfinite(m[i].ms) || !(m[i].ms > 0))
			continue;
		*lo = fmin(*lo, m[i].ms);
		*hi = fmax(*hi, m[i].ms);
	}
}

/* Vertical lines at the marks of a log latency axis, labels from the top, kept apart. */
static void vmarks(FILE *f, const struct frame *fr, const struct svg_scale *xs,
		   const struct svg_mark *m, size_t n)
{
	struct svg_box box[16];
	size_t nb = 0;

	for (size_t i = 0; m && i < n; i++) {
		bool slo = m[i].kind == SVG_MARK_SLO;
		double x;

		if (!isfinite(m[i].ms) || !(m[i].ms > 0))
			continue;
		x = svg__map(xs, m[i].ms);
		svg__line(f, slo ? "slo" : "pmark", x, fr->y0, x, fr->y1, slo ? C_SLO : C_PCT,
			  slo ? 1.5 : 1, slo ? "6 4" : "2 3");
		if (!m[i].label || !*m[i].label || nb == 16)
			continue;
		box[nb] = label_box(fr, x, fr->y0 + 2, m[i].label);
		svg__place_labels(box, nb + 1, fr->y0, fr->y1);
		draw_label(f, &box[nb++], slo ? C_SLO : C_PCT, m[i].label);
	}
}

static int cmp_bucket(const void *pa, const void *pb)
{
	const struct svg_bucket *a = pa, *b = pb;

	return a->lo_ns < b->lo_ns ? -1 : a->lo_ns > b->lo_ns;
}

int svg__histogram(FILE *f, const char *title, const struct svg_bucket *b, size_t n,
		   const struct svg_mark *marks, size_t nmarks)
{
	double xt[MAX_TICKS], yt[MAX_TICKS], lo = INFINITY, hi = 0;
	struct frame fr = svg__frame(SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN_RIGHT);
	struct svg_scale xs, ys;
	size_t nxt, nyt, bars = 0;
	uint64_t maxc = 0;
	char a[32], z[32];
	locale_t old;

	struct svg_bucket *rb;

	if (!f)
		return -EINVAL;
	/* 64 sub-buckets an octave would draw a comb of hairlines: 8 an octave are read. */
	rb = malloc((n ? n : 1) * sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	for (size_t i = 0; b && i < n; i++)
		if (bucket_ok(&b[i]))
			rb[bars++] = b[i];
	qsort(rb, bars, sizeof(*rb), cmp_bucket);
	n = svg__rebin(rb, bars, SVG_PER_OCTAVE, rb);
	b = rb;
	bars = 0;
	old = svg__enter();
	for (size_t i = 0; b && i < n; i++) {
		if (!bucket_ok(&b[i]))
			continue;
		lo = fmin(lo, bucket_lo_ms(&b[i]));
		hi = fmax(hi, bucket_end_ms(&b[i]));
		if (b[i].count > maxc)
			maxc = b[i].count;
		bars++;
	}
	if (!bars) {
		free(rb);
		svg__nodata(f, title);
		return svg__leave(f, old);
	}
	marks_extent(marks, nmarks, &lo, &hi);
	nxt = svg__ticks_log(lo, hi, 12, xt, MAX_TICKS);
	/* Counts are whole: at least 0..5, so that no tick reads 0.2 requests. */
	nyt = svg__ticks_linear(0, fmax((double)maxc, 5), 6, yt, MAX_TICKS);
	xs = (struct svg_scale){ xt[0], xt[nxt - 1], fr.x0, fr.x1, true };
	ys = (struct svg_scale){ yt[0], yt[nyt - 1], fr.y1, fr.y0, false };

	svg__open(f, SVG_WIDTH, SVG_HEIGHT, title);
	svg__axis_y(f, &fr, &ys, yt, nyt, false, NULL, "requests");
	svg__axis_x(f, &fr, &xs, xt, nxt, "latency");
	fprintf(f, "<g fill=\"%s\">\n", C_BAR);
	for (size_t i = 0; i < n; i++) {
		double x, w, y;

		if (!bucket_ok(&b[i]))
			continue;
		x = svg__map(&xs, bucket_lo_ms(&b[i]));
		w = fmax(svg__map(&xs, bucket_end_ms(&b[i])) - x, 1.5);
		y = svg__map(&ys, (double)b[i].count);
		units__ms_label(bucket_lo_ms(&b[i]), a, sizeof(a));
		units__ms_label(bucket_end_ms(&b[i]), z, sizeof(z));
		fprintf(f,
			"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
			"<title>%s to %s: %llu</title></rect>\n",
			x, y, w, fr.y1 - y, a, z, (unsigned long long)b[i].count);
	}
	fputs("</g>\n", f);
	vmarks(f, &fr, &xs, marks, nmarks);
	svg__close(f);
	free(rb);
	return svg__leave(f, old);
}

/* One CDF line: a point where the curve starts, then one at the end of each bucket. */
static void cdf_line(FILE *f, const struct svg_dist *d, const struct svg_scale *xs,
		     const struct svg_scale *ys, const char *color, struct svg_bucket *tmp)
{
	uint64_t total = 0, cum = 0;
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++) {
		if (bucket_ok(&d->buckets[i])) {
			tmp[n++] = d->buckets[i];
			total += d->buckets[i].count;
		}
	}
	qsort(tmp, n, sizeof(*tmp), cmp_bucket);
	fprintf(f,
		"<polyline class=\"cdf\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" "
		"stroke-linejoin=\"round\" points=\"%.1f,%.1f",
		color, svg__map(xs, bucket_lo_ms(&tmp[0])), svg__map(ys, 0));
	for (size_t i = 0; i < n; i++) {
		cum += tmp[i].count;
		fprintf(f, " %.1f,%.1f", svg__map(xs, bucket_end_ms(&tmp[i])),
			svg__map(ys, 100.0 * (double)cum / (double)total));
	}
	fputs("\"/>\n", f);
}

int svg__cdf(FILE *f, const char *title, const struct svg_dist *d, size_t nd,
	     const struct svg_mark *marks, size_t nmarks)
{
	double xt[MAX_TICKS], yt[MAX_TICKS], lo = INFINITY, hi = 0;
	struct frame fr = svg__frame(SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN_RIGHT);
	struct legend_item leg[4];
	struct svg_bucket *tmp;
	struct svg_scale xs, ys;
	size_t nxt, nyt, nleg = 0, maxn = 0, lines = 0, nbox = 0, boxmark[16];
	struct svg_box box[16];
	locale_t old;

	if (!f)
		return -EINVAL;
	old = svg__enter();
	for (size_t s = 0; d && s < nd; s++) {
		size_t ok = 0;

		for (size_t i = 0; d[s].buckets && i < d[s].n; i++) {
			if (!bucket_ok(&d[s].buckets[i]))
				continue;
			lo = fmin(lo, bucket_lo_ms(&d[s].buckets[i]));
			hi = fmax(hi, bucket_end_ms(&d[s].buckets[i]));
			ok++;
		}
		maxn = ok > maxn ? ok : maxn;
		lines += ok > 0;
	}
	if (!lines) {
		svg__nodata(f, title);
		return svg__leave(f, old);
	}
	tmp = malloc(maxn * sizeof(*tmp));
	if (!tmp) {
		svg__leave(f, old);
		return -ENOMEM;
	}
	marks_extent(marks, nmarks, &lo, &hi);
	nxt = svg__ticks_log(lo, hi, 12, xt, MAX_TICKS);
	nyt = svg__ticks_linear(0, 100, 6, yt, MAX_TICKS);
	xs = (struct svg_scale){ xt[0], xt[nxt - 1], fr.x0, fr.x1, true };
	ys = (struct svg_scale){ 0, 100, fr.y1, fr.y0, false };

	svg__open(f, SVG_WIDTH, SVG_HEIGHT, title);
	svg__axis_y(f, &fr, &ys, yt, nyt, false, "%", "requests at or below");
	svg__axis_x(f, &fr, &xs, xt, nxt, "latency");
	for (size_t i = 0; marks && i < nmarks; i++) {
		const struct svg_mark *m = &marks[i];
		bool slo = m->kind == SVG_MARK_SLO, has_pct = isfinite(m->pct) && m->pct > 0;
		const char *color = slo ? C_SLO : C_PCT;
		double x, y;

		if (!isfinite(m->ms) || !(m->ms > 0))
			continue;
		x = svg__map(&xs, m->ms);
		if (slo || !has_pct)
			svg__line(f, slo ? "slo" : "pmark", x, fr.y0, x, fr.y1, color,
				  slo ? 1.5 : 1, slo ? "6 4" : "2 3");
		if (!has_pct)
			continue;
		y = svg__map(&ys, fmin(m->pct, 100));
		if (slo) {
			svg__line(f, "slo", fr.x0, y, fr.x1, y, C_SLO, 1, "6 4");
			fprintf(f,
				"<circle class=\"slo-target\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
				"fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
				x, y, C_SLO);
		}
	}
	for (size_t s = 0, k = 0; d && s < nd; s++) {
		const char *color = palette[k % 4];
		size_t ok = 0;

		for (size_t i = 0; d[s].buckets && i < d[s].n; i++)
			ok += bucket_ok(&d[s].buckets[i]);
		if (!ok)
			continue;
		cdf_line(f, &d[s], &xs, &ys, color, tmp);
		if (d[s].name && nleg < 4)
			leg[nleg++] = (struct legend_item){ d[s].name, color, NULL };
		k++;
	}
	/*
	 * Dots, then every label on top of the lines: right of its point and below the guide
	 * (marks without a share: from the top), moved apart so that none covers another.
	 */
	for (size_t i = 0; marks && i < nmarks; i++) {
		const struct svg_mark *m = &marks[i];
		bool has_pct = isfinite(m->pct) && m->pct > 0;
		double x, y;

		if (!isfinite(m->ms) || !(m->ms > 0))
			continue;
		x = svg__map(&xs, m->ms);
		y = has_pct ? svg__map(&ys, fmin(m->pct, 100)) : fr.y0;
		if (has_pct && m->kind != SVG_MARK_SLO)
			fprintf(f,
				"<circle class=\"pmark\" cx=\"%.1f\" cy=\"%.1f\" r=\"3\" "
				"fill=\"%s\"/>\n",
				x, y, C_PCT);
		if (!m->label || !*m->label || nbox == 16)
			continue;
		box[nbox] = label_box(&fr, x, y + 3, m->label);
		boxmark[nbox++] = i;
	}
	svg__place_labels(box, nbox, fr.y0, fr.y1);
	for (size_t k = 0; k < nbox; k++) {
		const struct svg_mark *m = &marks[boxmark[k]];

		draw_label(f, &box[k], m->kind == SVG_MARK_SLO ? C_SLO : C_PCT, m->label);
	}
	if (nleg)
		svg__legend(f, title, fr.x1, leg, nleg);
	svg__close(f);
	free(tmp);
	return svg__leave(f, old);
}

static double tvalue(const struct svg_tpoint *p, int which)
{
	return which == 0 ? p->p95_ms : which == 1 ? p->p99_ms : p->rate;
}

static bool tok(const struct svg_tpoint *p, size_t n, size_t i, int which)
{
	return i < n && isfinite(p[i].t_s) && isfinite(tvalue(&p[i], which));
}

/*
 * One timeline quantity as a path broken where values are missing; a point with no neighbour
 * on either side becomes a dot, since a one-point path draws nothing.
 */
static void tpath(FILE *f, const struct svg_tpoint *p, size_t n, int which,
		  const struct svg_scale *xs, const struct svg_scale *ys, const char *cls,
		  const char *color, double width, const char *dash)
{
	bool pen = false, any = false;
	size_t i;

	for (i = 0; i < n; i++) {
		bool ok = tok(p, n, i, which);

		if (!ok || (!pen && !tok(p, n, i + 1, which))) {
			pen = false;
			continue;
		}
		if (!any)
			fprintf(f,
				"<path class=\"%s\" fill=\"none\" stroke=\"%s\" "
				"stroke-width=\"%g\"%s%s%s "
				"stroke-linejoin=\"round\" d=\"",
				cls, color, width, dash ? " stroke-dasharray=\"" : "",
				dash ? dash : "", dash ? "\"" : "");
		fprintf(f, "%s%c%.1f %.1f", any ? " " : "", pen ? 'L' : 'M', svg__map(xs, p[i].t_s),
			svg__map(ys, tvalue(&p[i], which)));
		any = pen = true;
	}
	if (any)
		fputs("\"/>\n", f);
	for (i = 0; i < n; i++) {
		if (!tok(p, n, i, which) || (i && tok(p, n, i - 1, which)) ||
		    tok(p, n, i + 1, which))
			continue;
		fprintf(f,
			"<circle class=\"%s-dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" "
			"fill=\"%s\"/>\n",
			cls, svg__map(xs, p[i].t_s), svg__map(ys, tvalue(&p[i], which)), color);
	}
}

int svg__timeline(FILE *f, const char *title, const struct svg_series *s, size_t ns,
		  const struct svg_mark *slos, size_t nslos, const struct svg_span *breaches,
		  size_t nbreaches, bool rate)
{
	double xt[MAX_TICKS], yt[MAX_TICKS], rt[MAX_TICKS];
	double tlo = INFINITY, thi = -INFINITY, ymax = 0, rmax = 0;
	struct legend_item leg[16];
	struct svg_scale xs, ys, rs;
	size_t nxt, nyt, nrt = 0, nleg = 0, points = 0;
	char names[7][2][128];
	size_t items = 0;
	double avail;
	int name_max;
	struct frame fr;
	locale_t old;

	if (!f)
		return -EINVAL;
	old = svg__enter();
	for (size_t k = 0; s && k < ns; k++) {
		for (size_t i = 0; s[k].points && i < s[k].n; i++) {
			const struct svg_tpoint *p = &s[k].points[i];

			if (!isfinite(p->t_s))
				continue;
			/* The time axis covers every point drawn, the rate line's included. */
			if (isfinite(p->p95_ms) || isfinite(p->p99_ms) ||
			    (k == 0 && rate && isfinite(p->rate))) {
				tlo = fmin(tlo, p->t_s);
				thi = fmax(thi, p->t_s);
			}
			if (isfinite(p->p95_ms) || isfinite(p->p99_ms))
				points++;
			if (isfinite(p->p95_ms))
				ymax = fmax(ymax, p->p95_ms);
			if (isfinite(p->p99_ms))
				ymax = fmax(ymax, p->p99_ms);
			if (k == 0 && isfinite(p->rate))
				rmax = fmax(rmax, p->rate);
		}
	}
	if (!points) {
		svg__nodata(f, title);
		return svg__leave(f, old);
	}
	for (size_t i = 0; slos && i < nslos; i++) {
		if (isfinite(slos[i].ms))
			ymax = fmax(ymax, slos[i].ms);
	}
	rate = rate && rmax > 0;
	fr = svg__frame(SVG_WIDTH, SVG_HEIGHT, rate ? SVG_MARGIN_LEFT : SVG_MARGIN_RIGHT);
	nxt = svg__ticks_linear(fmin(0, tlo), thi, 10, xt, MAX_TICKS);
	nyt = svg__ticks_linear(0, ymax, 6, yt, MAX_TICKS);
	xs = (struct svg_scale){ xt[0], xt[nxt - 1], fr.x0, fr.x1, false };
	ys = (struct svg_scale){ yt[0], yt[nyt - 1], fr.y1, fr.y0, false };

	svg__open(f, SVG_WIDTH, SVG_HEIGHT, title);
	/* Shading first, so that grid and lines stay visible on it. */
	for (size_t i = 0; breaches && i < nbreaches; i++) {
		double a, z;

		if (!isfinite(breaches[i].t0_s) || !isfinite(breaches[i].t1_s))
			continue;
		a = fmax(fr.x0, svg__map(&xs, fmin(breaches[i].t0_s, breaches[i].t1_s)));
		z = fmin(fr.x1, svg__map(&xs, fmax(breaches[i].t0_s, breaches[i].t1_s)));
		if (z <= a)
			continue;
		fprintf(f,
			"<rect class=\"breach\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
			"height=\"%.1f\" "
			"fill=\"%s\"/>\n",
			a, fr.y0, z - a, fr.y1 - fr.y0, C_BREACH);
	}
	svg__axis_y(f, &fr, &ys, yt, nyt, false, NULL, "latency (ms)");
	svg__axis_x(f, &fr, &xs, xt, nxt, "seconds since start");
	if (rate) {
		nrt = svg__ticks_linear(0, rmax, 6, rt, MAX_TICKS);
		rs = (struct svg_scale){ rt[0], rt[nrt - 1], fr.y1, fr.y0, false };
		svg__axis_y(f, &fr, &rs, rt, nrt, true, NULL, "requests/s");
		tpath(f, s[0].points, s[0].n, 2, &xs, &rs, "tl-rate", C_RATE, 1.2, NULL);
	}
	for (size_t i = 0, nb = 0; slos && i < nslos; i++) {
		struct svg_box box[16];
		double y;

		if (!isfinite(slos[i].ms) || slos[i].ms < 0)
			continue;
		y = svg__map(&ys, slos[i].ms);
		svg__line(f, "slo", fr.x0, y, fr.x1, y, C_SLO, 1.5, "6 4");
		if (!slos[i].label || !*slos[i].label || nb == 16)
			continue;
		/* Above its line at the right end; two thresholds close together stack. */
		box[nb] = label_box(&fr, fr.x1, y - LABEL_ROW - 1, slos[i].label);
		svg__place_labels(box, nb + 1, fr.y0, fr.y1);
		draw_label(f, &box[nb++], C_SLO, slos[i].label);
	}
	/*
	 * Names share the legend's row with the rate and breach items: cut so that it fits
	 * the chart's width (an item is 38 units and its characters; " p95" is 4 of them).
	 */
	for (size_t k = 0; k < ns && k < 7; k++)
		items += s[k].no_p99 ? 1 : 2;
	avail = fr.x1 - SVG_MARGIN_LEFT - (rate ? 38 + 4 * CHAR_W : 0) -
		(nbreaches && breaches ? 38 + 10 * CHAR_W : 0);
	name_max = items ? (int)((avail / (double)items - 38) / CHAR_W) - 4 : 24;
	name_max = name_max > 24 ? 24 : name_max < 6 ? 6 : name_max;
	for (size_t k = 0; k < ns; k++) {
		const char *color = palette[k % 4];
		char name[100];

		if (!s[k].points)
			continue;
		tpath(f, s[k].points, s[k].n, 0, &xs, &ys, "tl-p95", color, 2, NULL);
		if (!s[k].no_p99)
			tpath(f, s[k].points, s[k].n, 1, &xs, &ys, "tl-p99", color, 1.5, "5 3");
		if (k >= 7) /* legend room: 7 series, rate and breach */
			continue;
		html__ellipsize(s[k].name, (size_t)name_max, name, sizeof(name));
		snprintf(names[k][0], sizeof(names[k][0]), "%s%sp95", name, *name ? " " : "");
		snprintf(names[k][1], sizeof(names[k][1]), "%s%sp99", name, *name ? " " : "");
		leg[nleg++] = (struct legend_item){ names[k][0], color, NULL };
		if (!s[k].no_p99)
			leg[nleg++] = (struct legend_item){ names[k][1], color, "5 3" };
	}
	if (rate)
		leg[nleg++] = (struct legend_item){ "rate", C_RATE, NULL };
	if (nbreaches && breaches)
		leg[nleg++] = (struct legend_item){ "SLO breach", C_BREACH, "box" };
	svg__legend(f, title, fr.x1, leg, nleg);
	svg__close(f);
	return svg__leave(f, old);
}

#define HBAR_LABEL_W 330.0
#define HBAR_ROW     22.0
#define HBAR_VALUE_W 90.0

int svg__hbars(FILE *f, const char *title, const struct svg_bar *bars, size_t n, const char *unit)
{
	double xt[MAX_TICKS], vmax = 0, h, top = SVG_MARGIN_TOP;
	size_t rows = 0, nxt, r = 0;
	struct svg_scale xs;
	struct frame fr;
	char label[256], value[64];
	locale_t old;

	if (!f)
		return -EINVAL;
	old = svg__enter();
	for (size_t i = 0; bars && i < n; i++) {
		if (!isfinite(bars[i].value))
			continue;
		vmax = fmax(vmax, bars[i].value);
		rows++;
	}
	if (!rows) {
		svg__nodata(f, title);
		return svg__leave(f, old);
	}
	h = top + (double)rows * HBAR_ROW + 40;
	fr = (struct frame){ HBAR_LABEL_W, SVG_WIDTH - HBAR_VALUE_W, top,
			     top + (double)rows * HBAR_ROW };
	nxt = svg__ticks_linear(0, vmax, 6, xt, MAX_TICKS);
	xs = (struct svg_scale){ xt[0], xt[nxt - 1], fr.x0, fr.x1, false };

	svg__open(f, SVG_WIDTH, h, title);
	svg__axis_x(f, &fr, &xs, xt, nxt, unit);
	for (size_t i = 0; i < n; i++) {
		double y = top + (double)r * HBAR_ROW, w;

		if (!isfinite(bars[i].value))
			continue;
		r++;
		w = fmax(svg__map(&xs, fmax(bars[i].value, 0)) - fr.x0, 0);
		svg__value(bars[i].value, value, sizeof(value) - 32);
		if (unit && *unit) {
			strcat(value, " ");
			strncat(value, unit, 30);
		}
		fputs("<g class=\"hrow\"><title>", f);
		html__escape(f, bars[i].label);
		fputs(": ", f);
		html__escape(f, value);
		fputs("</title>\n", f);
		/* A monospace column: the label budget is exact, SQL text stays aligned. */
		html__ellipsize(bars[i].label, (size_t)((HBAR_LABEL_W - 16) / MONO_W), label,
				sizeof(label));
		svg__text(f, 8, y + 15, NULL, "font-family=\"" FONT_MONO "\"", label);
		fprintf(f,
			"<rect class=\"hbar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"14\" "
			"fill=\"%s\"/>\n",
			fr.x0, y + 4, w, C_BAR);
		svg__text(f, fr.x0 + w + 6, y + 15, NULL, NULL, value);
		fputs("</g>\n", f);
	}
	svg__close(f);
	return svg__leave(f, old);
}

int svg__pairs(FILE *f, const char *title, const char *before_name, const char *after_name,
	       const struct svg_pair *p, size_t n)
{
	static const char *const metric[SVG_PAIR_METRICS] = { "p50", "p95", "p99" };
	struct frame fr = svg__frame(SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN_RIGHT);
	double yt[MAX_TICKS], ymax = 0, gw, slot, bw;
	struct legend_item leg[2];
	char label[256], a[32], z[32];
	size_t groups = 0, nyt;
	struct svg_scale ys;
	locale_t old;

	if (!f)
		return -EINVAL;
	old = svg__enter();
	for (size_t g = 0; p && g < n; g++) {
		bool any = false;

		for (int k = 0; k < SVG_PAIR_METRICS; k++) {
			if (isfinite(p[g].before[k])) {
				ymax = fmax(ymax, p[g].before[k]);
				any = true;
			}
			if (isfinite(p[g].after[k])) {
				ymax = fmax(ymax, p[g].after[k]);
				any = true;
			}
		}
		groups += any;
	}
	if (!groups) {
		svg__nodata(f, title);
		return svg__leave(f, old);
	}
	nyt = svg__ticks_linear(0, ymax, 6, yt, MAX_TICKS);
	ys = (struct svg_scale){ yt[0], yt[nyt - 1], fr.y1, fr.y0, false };
	gw = (fr.x1 - fr.x0) / (double)n;
	slot = gw / SVG_PAIR_METRICS;
	bw = fmin(16, slot * 0.36);

	svg__open(f, SVG_WIDTH, SVG_HEIGHT, title);
	svg__axis_y(f, &fr, &ys, yt, nyt, false, NULL, "latency (ms)");
	svg__line(f, NULL, fr.x0, fr.y1, fr.x1, fr.y1, C_AXIS, 1, NULL);
	for (size_t g = 0; g < n; g++) {
		double gx = fr.x0 + (double)g * gw;

		if (g)
			svg__line(f, NULL, gx, fr.y0, gx, fr.y1 + 34, C_GRID, 1, NULL);
		for (int k = 0; k < SVG_PAIR_METRICS; k++) {
			double cx = gx + slot * (k + 0.5);

			for (int side = 0; side < 2; side++) {
				double v = side ? p[g].after[k] : p[g].before[k], y;

				if (!isfinite(v))
					continue;
				y = svg__map(&ys, fmax(v, 0));
				fprintf(f,
					"<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
					"height=\"%.1f\" fill=\"%s\"><title>",
					side ? "pair-after" : "pair-before",
					side ? cx + 1 : cx - 1 - bw, y, bw, fr.y1 - y,
					side ? C_AFTER : C_BEFORE);
				html__escape(f, p[g].label);
				svg__value(p[g].before[k], a, sizeof(a));
				svg__value(p[g].after[k], z, sizeof(z));
				fprintf(f, " %s: %s ms before, %s ms after</title></rect>\n",
					metric[k], a, z);
			}
			if (slot >= 22)
				svg__text(f, cx, fr.y1 + 14, "middle",
					  "font-size=\"10\" fill=\"" C_AXIS "\"", metric[k]);
		}
		html__ellipsize(p[g].label, (size_t)fmax(1, (gw - 8) / CHAR_W), label,
				sizeof(label));
		fputs("<g>", f);
		fputs("<title>", f);
		html__escape(f, p[g].label);
		fputs("</title>", f);
		svg__text(f, gx + gw / 2, fr.y1 + 30, "middle", NULL, label);
		fputs("</g>\n", f);
	}
	leg[0] = (struct legend_item){ before_name && *before_name ? before_name : "before",
				       C_BEFORE, "box" };
	leg[1] = (struct legend_item){ after_name && *after_name ? after_name : "after", C_AFTER,
				       "box" };
	svg__legend(f, title, fr.x1, leg, 2);
	svg__close(f);
	return svg__leave(f, old);
}

static const char *const stack_palette[SVG_STACK_MAX] = { C_BAR, "#e0a000", C_SLO, "#8e44ad" };

int svg__stacked(FILE *f, const char *title, const char *ytitle, const char *suffix,
		 const char *const *names, const char *const *colors, size_t nl,
		 const struct svg_stack_point *p, size_t n)
{
	double xt[MAX_TICKS], yt[MAX_TICKS], thi = -INFINITY, ymax = 0;
	struct frame fr = svg__frame(SVG_WIDTH, SVG_HEIGHT, SVG_MARGIN_RIGHT);
	struct legend_item leg[SVG_STACK_MAX + 1];
	char part[64], v[32];
	size_t nxt, nyt, points = 0, nleg = 0;
	struct svg_scale xs, ys;
	double partial = NAN;
	locale_t old;

	if (!f)
		return -EINVAL;
	old = svg__enter();
	nl = nl > SVG_STACK_MAX ? SVG_STACK_MAX : nl;
	for (size_t i = 0; p && i < n; i++) {
		double sum = 0;

		if (!isfinite(p[i].t_s) || !isfinite(p[i].span_s) || p[i].span_s < 0)
			continue;
		for (size_t l = 0; l < nl; l++)
			sum += isfinite(p[i].v[l]) && p[i].v[l] > 0 ? p[i].v[l] : 0;
		thi = fmax(thi, p[i].t_s);
		ymax = fmax(ymax, sum);
		points++;
		if (p[i].partial)
			partial = p[i].span_s;
	}
	if (!points) {
		svg__nodata(f, title);
		return svg__leave(f, old);
	}
	/* Time starts at 0: a first interval said to begin before it is cut there. */
	nxt = svg__ticks_linear(0, thi, 10, xt, MAX_TICKS);
	nyt = svg__ticks_linear(0, ymax > 0 ? ymax : 1, 6, yt, MAX_TICKS);
	xs = (struct svg_scale){ xt[0], xt[nxt - 1], fr.x0, fr.x1, false };
	ys = (struct svg_scale){ yt[0], yt[nyt - 1], fr.y1, fr.y0, false };

	svg__open(f, SVG_WIDTH, SVG_HEIGHT, title);
	svg__axis_y(f, &fr, &ys, yt, nyt, false, suffix, ytitle);
	svg__axis_x(f, &fr, &xs, xt, nxt, "seconds since start");
	for (size_t i = 0; p && i < n; i++) {
		double base = 0, x0, x1;

		if (!isfinite(p[i].t_s) || !isfinite(p[i].span_s) || p[i].span_s < 0)
			continue;
		x0 = svg__map(&xs, fmax(p[i].t_s - p[i].span_s, 0));
		x1 = svg__map(&xs, p[i].t_s);
		/* A pixel between bars, unless they are thinner than that. */
		if (x1 - x0 > 3)
			x1 -= 1;
		for (size_t l = 0; l < nl; l++) {
			const char *c = colors && colors[l] ? colors[l] : stack_palette[l];
			double val = p[i].v[l], ya, yb;

			if (!isfinite(val) || !(val > 0))
				continue;
			ya = svg__map(&ys, base);
			yb = svg__map(&ys, base + val);
			base += val;
			fprintf(f,
				"<rect class=\"stack%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" ",
				p[i].partial ? " partial" : "", x0, yb, fmax(x1 - x0, 0.8),
				ya - yb);
			if (p[i].partial)
				fprintf(f, "fill=\"#fff\" stroke=\"%s\" stroke-dasharray=\"3 2\">",
					c);
			else
				fprintf(f, "fill=\"%s\">", c);
			svg__value(val, v, sizeof(v));
			fputs("<title>", f);
			html__escape(f, names && names[l] ? names[l] : "");
			fprintf(f, " at t=%.1f s: %s%s</title></rect>\n", p[i].t_s, v,
				suffix ? suffix : "");
		}
	}
	for (size_t l = 0; names && l < nl; l++)
		leg[nleg++] = (struct legend_item){
			names[l], colors && colors[l] ? colors[l] : stack_palette[l], "box"
		};
	if (isfinite(partial)) {
		snprintf(part, sizeof(part), "hollow: partial last interval (%.1f s)", partial);
		leg[nleg++] = (struct legend_item){ part, C_AXIS, "hollow" };
	}
	svg__legend(f, title, fr.x1, leg, nleg);
	svg__close(f);
	return svg__leave(f, old);
}
