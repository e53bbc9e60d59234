// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>

#include "record/timeline.h"

int timeline__add(struct timeline *tl, struct timeline_budget *b, double t_s, double interval_s,
		  const struct hist *win, const struct hist *wait, uint64_t errors, uint64_t err4xx)
{
	struct tl_point *pt;

	if (!b->left) {
		b->dropped++;
		return -ENOSPC;
	}
	if (tl->n == tl->cap) {
		unsigned cap = tl->cap ? tl->cap * 2 : 64;
		struct tl_point *p = realloc(tl->p, cap * sizeof(*p));

		if (!p) {
			b->dropped++;
			return -ENOMEM;
		}
		tl->p = p;
		tl->cap = cap;
	}
	b->left--;
	pt = &tl->p[tl->n++];
	pt->t_s = t_s;
	pt->interval_s = interval_s;
	pt->count = win->count;
	pt->errors = errors;
	pt->err4xx = err4xx;
	pt->p50_ns = hist__percentile(win, 50);
	pt->p95_ns = hist__percentile(win, 95);
	pt->p99_ns = hist__percentile(win, 99);
	pt->wait_n = wait ? wait->count : 0;
	pt->wait_p95_ns = wait ? hist__percentile(wait, 95) : 0;
	return 0;
}

void timeline__free(struct timeline *tl)
{
	free(tl->p);
	tl->p = NULL;
	tl->n = tl->cap = 0;
}
