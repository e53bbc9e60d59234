// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SVG toolbox the charts of svg_chart.c are drawn with: scales, nice ticks, number
 * formats and breach spans (svg.h), and the drawing primitives (svg_draw.h): the C locale,
 * text, the <svg> element, frames, lines, axes and legends. Its own file because none of it
 * knows a chart kind.
 */
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <string.h>

#include "analyze/html.h"
#include "analyze/svg.h"
#include "analyze/svg_draw.h"
#include "lib/units.h"

/*
 * printf follows LC_NUMERIC, and "12,5" is no SVG coordinate: every public entry point switches
 * this thread to the C locale and back. The locale object is made once and kept.
 */
locale_t svg__enter(void)
{
	static locale_t c_locale;

	if (!c_locale)
		c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	return c_locale ? uselocale(c_locale) : (locale_t)0;
}

int svg__leave(FILE *f, locale_t old)
{
	if (old)
		uselocale(old);
	return f && ferror(f) ? -EIO : 0;
}

static const double m125[] = { 1, 2, 5 };

static void order_of(double *lo, double *hi)
{
	double t = *lo;

	if (*hi < t) {
		*lo = *hi;
		*hi = t;
	}
}

/* m * 10^e, rounded once, so that 3 and -1 give the double nearest 0.3. */
static double decimals_for(double m, int e)
{
	return e >= 0 ? m * pow(10, e) : m / pow(10, -e);
}

double svg__map(const struct svg_scale *s, double v)
{
	double a = s->d0, b = s->d1;

	if (s->log) {
		if (!(a > 0) || !(b > 0))
			return s->r0;
		if (!(v > 0))
			v = a;
		a = log10(a);
		b = log10(b);
		v = log10(v);
	}
	if (b == a)
		return (s->r0 + s->r1) / 2;
	return s->r0 + (v - a) / (b - a) * (s->r1 - s->r0);
}

size_t svg__ticks_linear(double lo, double hi, size_t max_ticks, double *out, size_t cap)
{
	long long i, i0 = 0, i1 = 0;
	double raw, m = 1;
	size_t n = 0;
	int e, k, ee = 0;

	if (!isfinite(lo) || !isfinite(hi))
		return 0;
	order_of(&lo, &hi);
	if (max_ticks < 3)
		max_ticks = 3; /* a span across 0 needs -s, 0, s */
	if (hi == lo)
		hi = lo + (lo ? fabs(lo) : 1);
	raw = (hi - lo) / (double)(max_ticks - 1);
	e = (int)floor(log10(raw));
	/* Steps 1, 2, 5 x 10^e upward: the first that is >= raw and fits max_ticks wins. */
	for (k = 0; k < 64; k++) {
		double step;

		m = m125[k % 3];
		ee = e + k / 3;
		step = decimals_for(m, ee);
		if (step < raw * (1 - 1e-9))
			continue;
		if (fmax(fabs(lo), fabs(hi)) / step > 1e15) {
			/* A sliver far from 0: tick indices would not fit; show the ends. */
			n = 0;
			if (n < cap)
				out[n++] = lo;
			if (n < cap)
				out[n++] = hi;
			return n;
		}
		i0 = (long long)floor(lo / step + 1e-9);
		i1 = (long long)ceil(hi / step - 1e-9);
		if (i1 - i0 + 1 <= (long long)max_ticks)
			break;
	}
	for (i = i0; i <= i1 && n < cap; i++)
		out[n++] = decimals_for((double)i * m, ee) + 0.0;
	return n;
}

size_t svg__ticks_log(double lo, double hi, size_t max_ticks, double *out, size_t cap)
{
	double cand[2048];
	int e, e0, e1, every;
	size_t nc, a, b, n;

	if (!(lo > 0) || !(hi > 0) || !isfinite(lo) || !isfinite(hi))
		return 0;
	order_of(&lo, &hi);
	if (max_ticks < 2)
		max_ticks = 2;
	e0 = (int)floor(log10(lo));
	e1 = (int)ceil(log10(hi));
	/* every 0: 1-2-5 in each decade; 1: each decade; k: each k-th decade. */
	for (every = 0;; every++) {
		int step = every ? every : 1;
		int first = e0 - step, last = e1 + step;

		if (!every && 3 * (size_t)(last - first + 1) > sizeof(cand) / sizeof(cand[0]))
			continue;
		if (every && (size_t)((last - first) / step + 1) > sizeof(cand) / sizeof(cand[0]))
			continue;
		nc = 0;
		/* Round first down to a multiple of step so the ticks line up with 10^0. */
		first -= ((first % step) + step) % step;
		for (e = first; e <= last; e += step) {
			for (int j = 0; j < (every ? 1 : 3); j++)
				cand[nc++] = decimals_for(m125[j], e);
		}
		for (a = 0; a + 1 < nc && cand[a + 1] <= lo * (1 + 1e-9); a++)
			;
		for (b = nc - 1; b > 0 && cand[b - 1] >= hi * (1 - 1e-9); b--)
			;
		if (b - a + 1 <= max_ticks || b == a + 1)
			break;
	}
	if (a == b) {
		/* lo == hi on a tick: one tick either side, so the domain is not empty. */
		a -= a > 0;
		b += b + 1 < nc;
	}
	for (n = 0; a + n <= b && n < cap; n++)
		out[n] = cand[a + n];
	return n;
}

/* Replaces a trailing ".000" or the zeros after significant decimals: "50.60" -> "50.6". */
static void trim_zeros(char *buf)
{
	char *dot = strchr(buf, '.'), *end;

	if (!dot)
		return;
	end = buf + strlen(buf);
	while (end > dot + 1 && end[-1] == '0')
		end--;
	if (end == dot + 1)
		end = dot;
	*end = '\0';
}

void svg__value(double v, char *buf, size_t n)
{
	double a = fabs(v);
	int decimals;

	if (!isfinite(v)) {
		snprintf(buf, n, "n/a");
		return;
	}
	decimals = a > 0 ? 2 - (int)floor(log10(a)) : 0;
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	snprintf(buf, n, "%.*f", decimals, v);
	trim_zeros(buf);
	if (!strcmp(buf, "-0"))
		snprintf(buf, n, "0");
}

void svg__fmt_value(double v, char *buf, size_t n)
{
	locale_t old = svg__enter();

	svg__value(v, buf, n);
	svg__leave(NULL, old);
}

size_t svg__breach_spans(const struct svg_tpoint *p, size_t n, double interval_s, int pct,
			 double slo_ms, struct svg_span *out, size_t cap)
{
	struct svg_span cur = { 0, 0 };
	bool open = false;
	size_t k = 0;

	for (size_t i = 0; i <= n; i++) {
		double v = i < n ? (pct == 99 ? p[i].p99_ms : p[i].p95_ms) : NAN;
		bool breach = i < n && isfinite(p[i].t_s) && isfinite(v) && v > slo_ms;

		if (breach && open && p[i].t_s - interval_s <= cur.t1_s + 1e-9) {
			cur.t1_s = p[i].t_s;
			continue;
		}
		if (open) {
			if (k < cap)
				out[k] = cur;
			k++;
			open = false;
		}
		if (breach) {
			cur.t0_s = p[i].t_s - interval_s;
			cur.t1_s = p[i].t_s;
			open = true;
		}
	}
	return k;
}

/* Characters (UTF-8 sequences, or stray bytes) in s: for width estimates. */
size_t svg__chars(const char *s)
{
	size_t n = 0;

	for (; s && *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void svg__text(FILE *f, double x, double y, const char *anchor, const char *attrs, const char *s)
{
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\"", x, y);
	if (anchor)
		fprintf(f, " text-anchor=\"%s\"", anchor);
	if (attrs)
		fprintf(f, " %s", attrs);
	putc('>', f);
	html__escape(f, s);
	fputs("</text>\n", f);
}

void svg__open(FILE *f, double w, double h, const char *title)
{
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" "
		"width=\"%.0f\" height=\"%.0f\" font-family=\"%s\" font-size=\"11\" "
		"fill=\"%s\" role=\"img\" aria-label=\"",
		w, h, w, h, FONT_SANS, C_TEXT);
	html__escape(f, title && *title ? title : "chart");
	fputs("\">\n<title>", f);
	html__escape(f, title && *title ? title : "chart");
	fprintf(f, "</title>\n<rect width=\"%.0f\" height=\"%.0f\" fill=\"#fff\"/>\n", w, h);
	if (title && *title)
		svg__text(f, SVG_MARGIN_LEFT, 22, NULL, "font-size=\"14\" font-weight=\"600\"",
			  title);
}

void svg__close(FILE *f)
{
	fputs("</svg>\n", f);
}

void svg__nodata(FILE *f, const char *title)
{
	svg__open(f, SVG_WIDTH, 120, title);
	svg__text(f, SVG_WIDTH / 2.0, 75, "middle",
		  "class=\"nodata\" font-size=\"14\" fill=\"" C_AXIS "\"", "no data");
	svg__close(f);
}

struct frame svg__frame(double w, double h, double right)
{
	struct frame fr = { SVG_MARGIN_LEFT, w - right, SVG_MARGIN_TOP, h - SVG_MARGIN_BOTTOM };

	return fr;
}

void svg__line(FILE *f, const char *cls, double x1, double y1, double x2, double y2,
	       const char *stroke, double width, const char *dash)
{
	fputs("<line", f);
	if (cls)
		fprintf(f, " class=\"%s\"", cls);
	fprintf(f, " x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"", x1, y1, x2, y2,
		stroke);
	if (width != 1)
		fprintf(f, " stroke-width=\"%g\"", width);
	if (dash)
		fprintf(f, " stroke-dasharray=\"%s\"", dash);
	fputs("/>\n", f);
}

/* Tick labels and grid lines of the x axis; log axes show latencies, linear ones values. */
void svg__axis_x(FILE *f, const struct frame *fr, const struct svg_scale *xs, const double *t,
		 size_t n, const char *title)
{
	char buf[64];

	for (size_t i = 0; i < n; i++) {
		double x = svg__map(xs, t[i]);

		svg__line(f, NULL, x, fr->y0, x, fr->y1, C_GRID, 1, NULL);
		svg__line(f, NULL, x, fr->y1, x, fr->y1 + 4, C_AXIS, 1, NULL);
		if (xs->log)
			units__ms_label(t[i], buf, sizeof(buf));
		else
			svg__value(t[i], buf, sizeof(buf));
		/* 18: the top of its text stays below the y axis's lowest label (0 at y1 + 4). */
		svg__text(f, x, fr->y1 + 18, "middle", "fill=\"" C_AXIS "\"", buf);
	}
	svg__line(f, NULL, fr->x0, fr->y1, fr->x1, fr->y1, C_AXIS, 1, NULL);
	if (title)
		svg__text(f, (fr->x0 + fr->x1) / 2, fr->y1 + 36, "middle", "fill=\"" C_AXIS "\"",
			  title);
}

/* Tick labels of a y axis on the left (with grid lines) or right; suffix follows values. */
void svg__axis_y(FILE *f, const struct frame *fr, const struct svg_scale *ys, const double *t,
		 size_t n, bool right, const char *suffix, const char *title)
{
	double xa = right ? fr->x1 : fr->x0, xt;
	char buf[64], attr[96];

	for (size_t i = 0; i < n; i++) {
		double y = svg__map(ys, t[i]);

		if (!right)
			svg__line(f, NULL, fr->x0, y, fr->x1, y, C_GRID, 1, NULL);
		svg__value(t[i], buf, sizeof(buf) - 8);
		if (suffix)
			strcat(buf, suffix);
		svg__text(f, right ? xa + 6 : xa - 6, y + 4, right ? "start" : "end",
			  "fill=\"" C_AXIS "\"", buf);
	}
	svg__line(f, NULL, xa, fr->y0, xa, fr->y1, C_AXIS, 1, NULL);
	if (title) {
		xt = right ? fr->x1 + 58 : fr->x0 - 52;
		snprintf(attr, sizeof(attr), "fill=\"%s\" transform=\"rotate(-90 %.1f %.1f)\"",
			 C_AXIS, xt, (fr->y0 + fr->y1) / 2);
		svg__text(f, xt, (fr->y0 + fr->y1) / 2, "middle", attr, title);
	}
}

/*
 * Laid out leftward from `right`, keeping the order of items left to right: beside the title
 * when there is room, else on a row of its own just above the plot.
 */
void svg__legend(FILE *f, const char *title, double right, const struct legend_item *it, size_t n)
{
	double x = right, w[16], y = 22;
	size_t i;

	if (n > 16)
		n = 16;
	for (i = 0; i < n; i++) {
		w[i] = 24 + (double)svg__chars(it[i].text) * CHAR_W;
		x -= w[i] + (i ? 14 : 0);
	}
	/*
	 * Its own row: the title's 14 px text reaches 3.4 px below its baseline (22), an 11 px
	 * legend text 10.2 px above its own (DejaVu Sans, as Chromium measures it): 37 keeps
	 * both clear of each other and of the plot at 40.
	 */
	if (x < SVG_MARGIN_LEFT + (double)svg__chars(title) * TITLE_W + 16)
		y = SVG_MARGIN_TOP - 3;
	fputs("<g class=\"legend\">\n", f);
	for (i = 0; i < n; i++) {
		if (it[i].dash && !strcmp(it[i].dash, "box"))
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" "
				"fill=\"%s\"/>\n",
				x + 3, y - 9, it[i].color);
		else if (it[i].dash && !strcmp(it[i].dash, "hollow"))
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"10\" "
				"fill=\"#fff\" stroke=\"%s\" stroke-dasharray=\"3 2\"/>\n",
				x + 3, y - 9, it[i].color);
		else
			svg__line(f, NULL, x, y - 4, x + 18, y - 4, it[i].color, 2, it[i].dash);
		svg__text(f, x + 22, y, NULL, NULL, it[i].text);
		x += w[i] + 14;
	}
	fputs("</g>\n", f);
}

uint64_t svg__min_samples(double pct)
{
	double above = 1 - pct / 100;

	if (!(pct > 0) || !(above > 0))
		return 1;
	/* 1e-9: 1 / 0.05 is 20.000000000000004 in doubles, and 20 is the answer. */
	return (uint64_t)ceil(1 / above - 1e-9);
}

/* The display bin of a bucket's lower bound: per_octave equal parts of each power of two. */
static uint64_t bin_of(uint64_t lo, unsigned per_octave)
{
	unsigned e;

	if (!lo)
		return 0;
	e = 63 - (unsigned)__builtin_clzll(lo);
	/* lo - 2^e < 2^e: the part index fits, and 128-bit keeps the product exact. */
	return 1 + (uint64_t)e * per_octave +
	       (uint64_t)(((unsigned __int128)(lo - (1ull << e)) * per_octave) >> e);
}

size_t svg__rebin(const struct svg_bucket *in, size_t n, unsigned per_octave,
		  struct svg_bucket *out)
{
	size_t k = 0;
	uint64_t cur = 0;

	if (!per_octave)
		per_octave = 1;
	for (size_t i = 0; i < n; i++) {
		struct svg_bucket b = in[i];
		uint64_t bin = bin_of(b.lo_ns, per_octave);

		if (k && bin == cur) {
			out[k - 1].hi_ns = b.hi_ns > out[k - 1].hi_ns ? b.hi_ns : out[k - 1].hi_ns;
			out[k - 1].count += b.count;
			continue;
		}
		out[k++] = b;
		cur = bin;
	}
	return k;
}

static bool boxes_overlap(const struct svg_box *a, const struct svg_box *b)
{
	return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

static bool box_clear(const struct svg_box *b, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (boxes_overlap(&b[i], &b[k]))
			return false;
	return true;
}

size_t svg__place_labels(struct svg_box *b, size_t n, double ymin, double ymax)
{
	size_t stuck = 0;

	for (size_t i = 0; i < n; i++) {
		double want = b[i].y;
		bool ok = false;

		/* A label wanted outside the band (a threshold at the top of the plot, its label
		 * above it over the legend) starts at the band's edge. */
		if (want + b[i].h > ymax)
			want = ymax - b[i].h;
		if (want < ymin)
			want = ymin;

		/* Down first, the way labels stack under a guide line, then up. */
		for (int dir = 1; dir >= -1 && !ok; dir -= 2) {
			for (b[i].y = want; b[i].y >= ymin && b[i].y + b[i].h <= ymax;
			     b[i].y += dir * b[i].h) {
				if ((ok = box_clear(b, i)))
					break;
			}
		}
		if (!ok) {
			b[i].y = want;
			stuck++;
		}
	}
	return stuck;
}
