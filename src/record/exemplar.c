// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "record/exemplar.h"

static const char *const pick_names[] = { "slowest", "p50", "p95" };

void exemplars__init(struct exemplars *x)
{
	memset(x, 0, sizeof(*x));
}

void exemplars__free(struct exemplars *x)
{
	for (unsigned i = 0; i < x->nlabels; i++)
		free(x->labels[i]);
	free(x->labels);
	u64map__free(&x->lmap);
	memset(x, 0, sizeof(*x));
}

void exemplar_spans__free(struct exemplar_spans **sp)
{
	free(*sp);
	*sp = NULL;
}

void exemplars__span(struct exemplars *x, struct exemplar_spans **sp, const struct exemplar_span *s)
{
	struct exemplar_spans *p = *sp;

	if (p && p->n == EXEMPLAR_SPANS) {
		p->cut++;
		x->st.spans_cut++;
		return;
	}
	/* Most requests do a few things: start small, double up to the bound. */
	if (!p || p->n == p->cap) {
		unsigned cap = p ? p->cap * 2 : 4;

		if (cap > EXEMPLAR_SPANS)
			cap = EXEMPLAR_SPANS;
		p = realloc(p, sizeof(*p) + cap * sizeof(p->s[0]));
		if (!p) {
			x->st.nomem++;
			if (*sp)
				(*sp)->cut++;
			return;
		}
		if (!*sp) {
			p->n = 0;
			p->cut = 0;
		}
		p->cap = cap;
		*sp = p;
	}
	p->s[p->n++] = *s;
}

unsigned exemplar__octave(uint64_t lat)
{
	int o = lat ? 63 - __builtin_clzll(lat) : 0;

	if (o < EXEMPLAR_OCT_MIN)
		return 0;
	if (o >= EXEMPLAR_OCT_MIN + EXEMPLAR_OCTAVES)
		return EXEMPLAR_OCTAVES - 1;
	return (unsigned)(o - EXEMPLAR_OCT_MIN);
}

static unsigned nspans(const struct exemplar *e)
{
	return e->sp ? e->sp->n : 0;
}

static void slot_clear(struct exemplars *x, struct exemplar *slot)
{
	x->held -= nspans(slot);
	exemplar_spans__free(&slot->sp);
	slot->seq = 0;
}

/* Puts e into slot (emptied first), spans and all while the budget lasts. */
static void slot_put(struct exemplars *x, struct exemplar *slot, struct exemplar *e)
{
	slot_clear(x, slot);
	*slot = *e;
	slot->cut = e->cut + (e->sp ? e->sp->cut : 0);
	if (e->sp && x->held + e->sp->n > EXEMPLAR_HELD_MAX) {
		x->st.spans_budget += e->sp->n;
		slot->cut += e->sp->n;
		exemplar_spans__free(&e->sp);
	}
	slot->sp = e->sp;
	x->held += nspans(slot);
	e->sp = NULL;
}

/* A copy of e's spans for a second slot; NULL when there are none or no memory. */
static struct exemplar_spans *spans_dup(struct exemplars *x, const struct exemplar_spans *sp)
{
	size_t sz;
	struct exemplar_spans *p;

	if (!sp)
		return NULL;
	sz = sizeof(*sp) + sp->n * sizeof(sp->s[0]);
	p = malloc(sz);
	if (!p) {
		x->st.nomem++;
		return NULL;
	}
	memcpy(p, sp, sz);
	p->cap = sp->n;
	return p;
}

void exemplars__offer(struct exemplars *x, struct exemplar_ep **pep, struct exemplar *e)
{
	struct exemplar_ep *ep = *pep;
	struct exemplar *slow = NULL, *oct;

	x->st.offered++;
	if (!ep) {
		ep = *pep = calloc(1, sizeof(*ep));
		if (!ep) {
			x->st.nomem++;
			exemplar_spans__free(&e->sp);
			return;
		}
	}
	if (ep->nslow < EXEMPLAR_SLOWEST) {
		slow = &ep->slow[ep->nslow++];
	} else {
		for (unsigned i = 0; i < EXEMPLAR_SLOWEST; i++)
			if (!slow || ep->slow[i].lat < slow->lat)
				slow = &ep->slow[i];
		/* Ties keep the first seen: the earliest of equal requests. */
		if (e->lat <= slow->lat)
			slow = NULL;
	}
	oct = &ep->oct[exemplar__octave(e->lat)];
	if (slow) {
		struct exemplar copy = *e;

		copy.sp = spans_dup(x, e->sp);
		if (!copy.sp && e->sp)
			copy.cut += e->sp->n;
		slot_put(x, slow, e);
		slot_put(x, oct, &copy);
		return;
	}
	slot_put(x, oct, e);
}

void exemplar_ep__free(struct exemplar_ep *ep)
{
	if (!ep)
		return;
	for (unsigned i = 0; i < EXEMPLAR_SLOWEST; i++)
		free(ep->slow[i].sp);
	for (unsigned i = 0; i < EXEMPLAR_OCTAVES; i++)
		free(ep->oct[i].sp);
	free(ep);
}

/* The kept request nearest octave o (the lower one on a tie), NULL: none. */
static const struct exemplar *typical(const struct exemplar_ep *ep, unsigned o)
{
	for (unsigned d = 0; d < EXEMPLAR_OCTAVES; d++) {
		if (o >= d && ep->oct[o - d].seq)
			return &ep->oct[o - d];
		if (o + d < EXEMPLAR_OCTAVES && ep->oct[o + d].seq)
			return &ep->oct[o + d];
	}
	return NULL;
}

static bool listed(const struct exemplar **out, unsigned n, uint64_t seq)
{
	for (unsigned i = 0; i < n; i++)
		if (out[i]->seq == seq)
			return true;
	return false;
}

unsigned exemplar_ep__pick(const struct exemplar_ep *ep, uint64_t p50, uint64_t p95,
			   const struct exemplar **out, int *why)
{
	const uint64_t q[2] = { p50, p95 };
	unsigned n = 0;

	if (!ep)
		return 0;
	for (unsigned i = 0; i < ep->nslow; i++) {
		unsigned j = n++;

		/* Slowest first; equal latencies in the order they were seen (seq). */
		while (j > 0 &&
		       (out[j - 1]->lat < ep->slow[i].lat || (out[j - 1]->lat == ep->slow[i].lat &&
							      out[j - 1]->seq > ep->slow[i].seq))) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = &ep->slow[i];
	}
	for (unsigned i = 0; i < n; i++)
		why[i] = EXEMPLAR_PICK_SLOWEST;
	for (int k = 0; k < 2; k++) {
		const struct exemplar *t = typical(ep, exemplar__octave(q[k]));

		if (t && !listed(out, n, t->seq)) {
			why[n] = k ? EXEMPLAR_PICK_P95 : EXEMPLAR_PICK_P50;
			out[n++] = t;
		}
	}
	return n;
}

const char *exemplar__pick_name(int why)
{
	return why >= 0 && why <= EXEMPLAR_PICK_P95 ? pick_names[why] : "?";
}

static uint64_t label_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

uint32_t exemplars__label(struct exemplars *x, const char *s)
{
	uint64_t h = label_hash(s), *v;
	char *copy;

	/* Collisions of 64-bit FNV among a few thousand labels: not worth a compare. */
	v = u64map__get(&x->lmap, h);
	if (v)
		return (uint32_t)*v;
	if (!x->labels) {
		x->labels = calloc(EXEMPLAR_LABELS, sizeof(*x->labels));
		if (!x->labels) {
			x->st.nomem++;
			return 0;
		}
		x->nlabels = 1; /* 0 is "?" */
	}
	if (x->nlabels == EXEMPLAR_LABELS) {
		x->st.labels_cut++;
		return 0;
	}
	copy = strdup(s);
	if (!copy || u64map__put(&x->lmap, h, x->nlabels)) {
		free(copy);
		x->st.nomem++;
		return 0;
	}
	x->labels[x->nlabels] = copy;
	return x->nlabels++;
}

const char *exemplars__label_str(const struct exemplars *x, uint32_t id)
{
	return id && id < x->nlabels ? x->labels[id] : "?";
}
