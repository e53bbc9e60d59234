// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdio.h>

#include "analyze/html.h"
#include "analyze/svg.h"
#include "analyze/svg_waterfall.h"
#include "lib/units.h"
#include "lib/xmlesc.h"

#define W	680
#define LABEL_W 300 /* WF_LABEL characters of 9 px monospace: 0.6 em each, with room */
#define X0	(LABEL_W + 10)
#define X1	(W - 34) /* room for a "20x" beside the last bar */
#define ROW	13
#define BAR	10
#define TOP	6
#define AXIS	22

static const char *const fill[WF_KIND_NR] = { "#4e79a7", "#e15759", "#59a14f" };
static const char *const cls[WF_KIND_NR] = { "span-query", "span-cache", "span-http" };
static const double opacity[] = { 1.0, 0.7, 0.4 };

static double x_of(double ms, double total)
{
	return X0 + (total > 0 ? ms / total : 0) * (X1 - X0);
}

static void label(FILE *f, double y, const char *s)
{
	char cut[WF_LABEL * 4 + 8];

	html__ellipsize(s ? s : "", WF_LABEL, cut, sizeof(cut));
	fprintf(f, "<text x=\"0\" y=\"%.1f\" font-size=\"9\" font-family=\"monospace\">", y);
	xmlesc__write_text(f, cut);
	fputs("</text>\n", f);
}

/* A bar from start to start + dur (1 px at least: a 20 us query is still seen). */
static void bar(FILE *f, const char *klass, const char *colour, double op, double y, double start,
		double dur, double total, const char *detail)
{
	double x = x_of(start, total), w = x_of(start + dur, total) - x;

	if (x > X1)
		x = X1;
	if (w < 1)
		w = 1;
	if (x + w > X1 + 0.01)
		w = X1 - x > 1 ? X1 - x : 1;
	fprintf(f,
		"<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" "
		"fill-opacity=\"%.2f\"><title>",
		klass, x, y, w, BAR, colour, op);
	xmlesc__write_text(f, detail);
	fputs("</title></rect>\n", f);
}

void svg__waterfall(FILE *f, const char *title, const char *top, double total_ms,
		    const struct wf_bar *bars, unsigned n)
{
	double h = TOP + (n + 1) * ROW + AXIS, y;
	char tick[32];
	double ticks[16];
	size_t nt;

	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"waterfall\" viewBox=\"0 0 %d "
		"%.0f\" width=\"100%%\" style=\"max-width:%dpx\" role=\"img\"><title>",
		W, h, W);
	xmlesc__write_text(f, title);
	fputs("</title>\n", f);
	y = TOP;
	label(f, y + BAR - 1, top);
	bar(f, "span-request", "#9c9c9c", 1.0, y, 0, total_ms, total_ms, title);
	for (unsigned i = 0; i < n; i++) {
		const struct wf_bar *b = &bars[i];
		int k = b->kind >= 0 && b->kind < WF_KIND_NR ? b->kind : WF_QUERY;
		int s = b->shade >= 0 && b->shade <= WF_SHARED ? b->shade : WF_SOLID;

		y = TOP + (i + 1) * ROW;
		label(f, y + BAR - 1, b->label);
		bar(f, cls[k], fill[k], opacity[s], y, b->start_ms, b->dur_ms, total_ms, b->detail);
		if (b->group > 1)
			fprintf(f,
				"<text x=\"%d\" y=\"%.1f\" font-size=\"9\" "
				"font-family=\"monospace\" "
				"font-weight=\"bold\">%dx</text>\n",
				X1 + 3, y + BAR - 1, b->group);
	}
	/* The axis: round ticks (1-2-5) inside the request's time; its end is the top bar's. */
	y = TOP + (n + 1) * ROW + 2;
	fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#666\"/>\n", X0, y,
		X1, y);
	nt = svg__ticks_linear(0, total_ms, 5, ticks, sizeof(ticks) / sizeof(ticks[0]));
	for (size_t t = 0; t < nt; t++) {
		if (ticks[t] < 0 || ticks[t] > total_ms)
			continue;
		fprintf(f,
			"<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" font-family=\"sans-serif\" "
			"text-anchor=\"%s\">%s</text>\n",
			x_of(ticks[t], total_ms), y + 12, t == 0 ? "start" : "middle",
			units__ms_label(ticks[t], tick, sizeof(tick)));
	}
	fputs("</svg>\n", f);
}
