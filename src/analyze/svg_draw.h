/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The drawing primitives of svg.c shared with the chart kinds of svg_chart.c; private to the
 * two (everything else draws through svg.h). Coordinates are viewBox units.
 */
#ifndef SLOPROBE_SVG_DRAW_H
#define SLOPROBE_SVG_DRAW_H

#include <locale.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "analyze/svg.h"

#define FONT_SANS "system-ui,DejaVu Sans,Arial,sans-serif"
#define FONT_MONO "DejaVu Sans Mono,Menlo,Consolas,monospace"
#define C_TEXT	  "#1d2330"
#define C_AXIS	  "#5d6675"
#define C_GRID	  "#e3e7ed"
#define C_SLO	  "#c62828"
#define C_PCT	  "#333a45"
#define C_BREACH  "#fbdada"
#define C_RATE	  "#8a94a3"
#define C_BAR	  "#4a7fbf"
#define C_BEFORE  "#a7b1bd"
#define C_AFTER	  "#2f6fb0"
/* Rough advance of one 11px character, to place legends and size truncated labels. */
#define CHAR_W	  6.2
#define MONO_W	  6.7
#define TITLE_W	  8.2  /* the same for the 14px bold title */
/* Vertical spacing of stacked mark labels: 11 px text spans 12.8 px as Chromium lays it out. */
#define LABEL_ROW 14.0
#define MAX_TICKS 64

/* The plot area inside a chart: x0 left, x1 right, y0 top, y1 bottom. */
struct frame {
	double x0, x1, y0, y1;
};

struct legend_item {
	const char *text;
	const char *color;
	const char *dash; /* NULL: solid line; "box": a filled square; "hollow": an empty one */
};

/* Every public entry point draws between these: the C locale, then the caller's back. */
locale_t svg__enter(void);
/* Restores old; -EIO if writing f failed (f may be NULL), else 0. */
int svg__leave(FILE *f, locale_t old);

/* Numbers as the axes show them: a value ("50.6"); a latency is units__ms_label(). */
void svg__value(double v, char *buf, size_t n);
/* Characters (UTF-8 sequences) in s, for width estimates. */
size_t svg__chars(const char *s);

/* A <text> at (x, y); anchor and attrs may be NULL; s is escaped. */
void svg__text(FILE *f, double x, double y, const char *anchor, const char *attrs, const char *s);
/* The <svg> element of a w x h chart with its title; svg__close() ends it. */
void svg__open(FILE *f, double w, double h, const char *title);
void svg__close(FILE *f);
/* The small chart drawn when there is nothing to draw. */
void svg__nodata(FILE *f, const char *title);
/* The plot area of a w x h chart, right its margin on the right. */
struct frame svg__frame(double w, double h, double right);
void svg__line(FILE *f, const char *cls, double x1, double y1, double x2, double y2,
	       const char *stroke, double width, const char *dash);
void svg__axis_x(FILE *f, const struct frame *fr, const struct svg_scale *xs, const double *t,
		 size_t n, const char *title);
void svg__axis_y(FILE *f, const struct frame *fr, const struct svg_scale *ys, const double *t,
		 size_t n, bool right, const char *suffix, const char *title);
void svg__legend(FILE *f, const char *title, double right, const struct legend_item *it, size_t n);

#endif
