// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/pgwire.h"

#define CODE_PROTO3 196608u
#define CODE_SSL    80877103u
#define CODE_GSSENC 80877104u
#define CODE_CANCEL 80877102u
#define MSG_LEN_MAX (1u << 30)

struct exec {
	char *text;
	size_t len;
	char name[64];
	unsigned flags;
	int64_t rows;
	char sqlstate[6];
	bool skipped; /* after an error, the server skips to Sync */
};

struct group {
	bool simple;
	bool approx;
	bool bound; /* a Bind was seen: ts_start is its write */
	uint64_t ts_start, ts_first;
	struct exec *ex; /* grows: a pipeline may hold thousands of Executes before its Sync */
	unsigned nex, cap, cur;
};

struct stmt {
	char name[64];
	char *text;
	size_t len;
	bool cut;
	uint64_t age;
};

/* One direction of the byte stream. */
struct dir {
	uint64_t need; /* body bytes of the current message still to come */
	uint8_t hdr[5];
	unsigned hdr_have;
	bool lost;
	uint64_t msg_ts; /* entry of the transfer where the current message began */
	bool z_pending;	 /* a ReadyForQuery whose status byte is still to come */
};

struct pgwire_conn {
	bool started;  /* the untyped first message is behind us */
	bool ssl_wait; /* an SSL/GSS request waits for its one-byte answer */
	bool encrypted;
	struct dir w, r;
	struct group *q; /* ring of qcap groups sent and not answered yet, oldest at qhead */
	unsigned qcap, qhead, qlen;
	uint64_t last_end; /* when the last answered group ended */
	struct group open; /* extended messages before their Sync */
	bool has_open;
	bool open_answered; /* the server sent something since the open group began */
	char bound[64];
	bool bound_set;
	struct stmt names[PGWIRE_NAMES_MAX];
	unsigned nnames;
	uint64_t age;
	struct pgwire_stats st;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int pgwire__sniff(const uint8_t *p, size_t n, uint64_t len)
{
	uint64_t off = 0;
	uint32_t mlen, code;
	int msgs = 0;

	if (n >= 8) {
		mlen = be32(p);
		code = be32(p + 4);
		if (mlen == len && mlen >= 8 && mlen <= 10000 &&
		    (code == CODE_PROTO3 || code == CODE_SSL || code == CODE_GSSENC ||
		     code == CODE_CANCEL))
			return PGWIRE_SNIFF_STARTUP;
	}
	/* Typed messages must walk exactly to the end of the write, within what we have. */
	while (off < len) {
		if (off + 5 > n)
			return msgs && off + 5 > n && n < len ? PGWIRE_SNIFF_MSG : PGWIRE_SNIFF_NO;
		if (!strchr("QPBDESHCXFdcfp", p[off]) || !p[off])
			return PGWIRE_SNIFF_NO;
		mlen = be32(p + off + 1);
		if (mlen < 4 || mlen > MSG_LEN_MAX)
			return PGWIRE_SNIFF_NO;
		if (p[off] == 'S' || p[off] == 'H') {
			if (mlen != 4)
				return PGWIRE_SNIFF_NO;
		}
		off += 1 + (uint64_t)mlen;
		msgs++;
	}
	return off == len && msgs ? PGWIRE_SNIFF_MSG : PGWIRE_SNIFF_NO;
}

struct pgwire_conn *pgwire_conn__new(void)
{
	return calloc(1, sizeof(struct pgwire_conn));
}

static void group_clear(struct group *g)
{
	for (unsigned i = 0; i < g->nex; i++)
		free(g->ex[i].text);
	free(g->ex);
	memset(g, 0, sizeof(*g));
}

/* A new execution at the end of g; NULL (counted) when memory or the bound runs out. */
static struct exec *group_push(struct pgwire_conn *c, struct group *g)
{
	struct exec *ex;

	if (g->nex == g->cap) {
		unsigned cap = g->cap ? g->cap * 2 : 4;

		if (g->cap >= PGWIRE_EXECS_MAX || !(ex = realloc(g->ex, cap * sizeof(*ex)))) {
			c->st.execs_overflow++;
			return NULL;
		}
		g->ex = ex;
		g->cap = cap;
	}
	ex = &g->ex[g->nex++];
	memset(ex, 0, sizeof(*ex));
	ex->rows = -1;
	return ex;
}

static struct group *q_at(struct pgwire_conn *c, unsigned i)
{
	return &c->q[(c->qhead + i) % c->qcap];
}

void pgwire_conn__free(struct pgwire_conn *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->qlen; i++)
		group_clear(q_at(c, i));
	free(c->q);
	group_clear(&c->open);
	for (unsigned i = 0; i < c->nnames; i++)
		free(c->names[i].text);
	free(c);
}

bool pgwire_conn__encrypted(const struct pgwire_conn *c)
{
	return c->encrypted;
}

const struct pgwire_stats *pgwire_conn__stats(const struct pgwire_conn *c)
{
	return &c->st;
}

/* Bytes [off, off + n) of the chunk when they were captured, else NULL. */
static const uint8_t *at(const struct pgwire_chunk *ch, uint64_t off, uint64_t n)
{
	if (off + n <= ch->head_len)
		return ch->head + off;
	if (off >= ch->len - ch->tail_len && off + n <= ch->len)
		return ch->tail + (off - (ch->len - ch->tail_len));
	return NULL;
}

/* How many bytes from off are captured contiguously (at most want). */
static uint64_t captured(const struct pgwire_chunk *ch, uint64_t off, uint64_t want,
			 const uint8_t **p)
{
	uint64_t end;

	*p = NULL;
	if (off < ch->head_len) {
		*p = ch->head + off;
		end = ch->head_len;
		/* Head and tail may touch: then the bytes run on, but not contiguously in memory.
		 */
	} else if (off >= ch->len - ch->tail_len && off < ch->len) {
		*p = ch->tail + (off - (ch->len - ch->tail_len));
		end = ch->len;
	} else {
		return 0;
	}
	return end - off < want ? end - off : want;
}

static struct stmt *stmt_find(struct pgwire_conn *c, const char *name)
{
	for (unsigned i = 0; i < c->nnames; i++)
		if (!strcmp(c->names[i].name, name))
			return &c->names[i];
	return NULL;
}

static void stmt_set(struct pgwire_conn *c, const char *name, const uint8_t *text, size_t len,
		     bool cut)
{
	struct stmt *s = stmt_find(c, name);

	if (!s && c->nnames < PGWIRE_NAMES_MAX) {
		s = &c->names[c->nnames++];
	} else if (!s) {
		s = &c->names[0];
		for (unsigned i = 1; i < c->nnames; i++)
			if (c->names[i].age < s->age)
				s = &c->names[i];
		c->st.names_evicted++;
	}
	free(s->text);
	if (len > PGWIRE_TEXT_MAX) {
		len = PGWIRE_TEXT_MAX;
		cut = true;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->text = malloc(len + 1);
	s->len = s->text ? len : 0;
	if (s->text) {
		memcpy(s->text, text, len);
		s->text[len] = '\0';
	}
	s->cut = cut;
	s->age = ++c->age;
}

/* A NUL-terminated string at p within n bytes; its length, or -1 when cut. */
static long cstr(const uint8_t *p, uint64_t n)
{
	const uint8_t *z = memchr(p, 0, n);

	return z ? z - p : -1;
}

static struct group *open_group(struct pgwire_conn *c, const struct pgwire_chunk *ch)
{
	if (!c->has_open) {
		memset(&c->open, 0, sizeof(c->open));
		c->open.ts_start = c->w.msg_ts ? c->w.msg_ts : ch->ts_enter;
		c->has_open = true;
		c->open_answered = false;
	}
	return &c->open;
}

static void enqueue(struct pgwire_conn *c, struct group *g)
{
	if (c->qlen == c->qcap) {
		unsigned cap = c->qcap ? c->qcap * 2 : 4;
		struct group *q;

		if (c->qcap >= PGWIRE_GROUPS_MAX || !(q = malloc(cap * sizeof(*q)))) {
			c->st.queue_overflow++;
			group_clear(g);
			return;
		}
		for (unsigned i = 0; i < c->qlen; i++)
			q[i] = *q_at(c, i);
		free(c->q);
		c->q = q;
		c->qcap = cap;
		c->qhead = 0;
	}
	*q_at(c, c->qlen++) = *g;
	memset(g, 0, sizeof(*g));
}

static void exec_text(struct exec *e, const uint8_t *p, size_t n)
{
	if (n > PGWIRE_TEXT_MAX) {
		n = PGWIRE_TEXT_MAX;
		e->flags |= PGWIRE_Q_TRUNCATED;
	}
	e->text = malloc(n + 1);
	if (!e->text)
		return;
	if (n)
		memcpy(e->text, p, n);
	e->text[n] = '\0';
	e->len = n;
}

/* One frontend message; body holds the first have of its blen bytes. */
static void front_msg(struct pgwire_conn *c, const struct pgwire_chunk *ch, uint8_t type,
		      const uint8_t *body, uint64_t have, uint64_t blen)
{
	struct group g = { 0 }, *o;
	struct exec *e;
	long a, b;

	switch (type) {
	case 'Q':
		g.simple = true;
		g.ts_start = c->w.msg_ts ? c->w.msg_ts : ch->ts_enter;
		e = group_push(c, &g);
		a = body ? cstr(body, have) : -1;
		if (e && a < 0) {
			e->flags |= PGWIRE_Q_TRUNCATED;
			a = body ? (long)have : 0;
		}
		if (e)
			exec_text(e, body, a);
		enqueue(c, &g); /* even empty: its ReadyForQuery must pair with it */
		break;
	case 'P':
		open_group(c, ch);
		if (!body || (a = cstr(body, have)) < 0 || a >= 64)
			break;
		b = cstr(body + a + 1, have - a - 1);
		stmt_set(c, (const char *)body, body + a + 1, b < 0 ? have - a - 1 : (size_t)b,
			 b < 0);
		break;
	case 'B':
		o = open_group(c, ch);
		/*
		 * A statement prepared in a round trip of its own (asyncpg: Parse/Describe/Flush,
		 * answered, no Sync) must not date the execution: its clock starts at the Bind.
		 */
		if (!o->bound && c->open_answered)
			o->ts_start = c->w.msg_ts ? c->w.msg_ts : ch->ts_enter;
		o->bound = true;
		c->bound_set = false;
		if (!body || (a = cstr(body, have)) < 0)
			break;
		b = cstr(body + a + 1, have - a - 1);
		if (b < 0 || b >= 64)
			break;
		memcpy(c->bound, body + a + 1, b + 1);
		c->bound_set = true;
		break;
	case 'E': {
		struct stmt *s = c->bound_set ? stmt_find(c, c->bound) : NULL;

		o = open_group(c, ch);
		e = group_push(c, o);
		if (!e)
			break;
		e->flags = PGWIRE_Q_PREPARED;
		if (s) {
			exec_text(e, (const uint8_t *)s->text, s->len);
			if (s->cut)
				e->flags |= PGWIRE_Q_TRUNCATED;
		} else {
			e->flags |= PGWIRE_Q_UNKNOWN_STMT;
			snprintf(e->name, sizeof(e->name), "%s", c->bound_set ? c->bound : "?");
		}
		break;
	}
	case 'S':
		open_group(c, ch);
		enqueue(c, &c->open);
		c->has_open = false;
		break;
	case 'C':
		/* Close of a statement: forget its name. */
		if (body && have >= 2 && body[0] == 'S' && (a = cstr(body + 1, have - 1)) >= 0) {
			struct stmt *s = stmt_find(c, (const char *)body + 1);

			if (s) {
				struct stmt *last = &c->names[--c->nnames];

				free(s->text);
				*s = *last;
				memset(last, 0, sizeof(*last));
			}
		}
		break;
	}
	(void)blen;
}

static struct group *oldest(struct pgwire_conn *c)
{
	return c->qlen ? q_at(c, 0) : NULL;
}

static void set_error(struct group *g, const uint8_t *body, uint64_t have)
{
	struct exec *e;
	uint64_t i = 0;

	if (!g || !g->nex)
		return;
	e = &g->ex[g->simple ? 0 : (g->cur < g->nex ? g->cur : g->nex - 1)];
	e->flags |= PGWIRE_Q_ERROR;
	while (body && i < have && body[i]) {
		uint8_t f = body[i++];
		long n = cstr(body + i, have - i);

		if (n < 0)
			break;
		if (f == 'C' && n == 5)
			memcpy(e->sqlstate, body + i, 6);
		i += n + 1;
	}
	if (!g->simple) {
		for (unsigned k = g->cur + 1; k < g->nex; k++)
			g->ex[k].skipped = true;
		g->cur = g->nex;
	}
}

static void set_rows(struct group *g, const uint8_t *tag, uint64_t have)
{
	long n = tag ? cstr(tag, have) : -1;
	int64_t rows = -1;

	if (!g || !g->nex)
		return;
	if (n > 0) {
		const uint8_t *sp = tag + n;

		while (sp > tag && sp[-1] >= '0' && sp[-1] <= '9')
			sp--;
		if (sp < tag + n && sp > tag && sp[-1] == ' ')
			rows = strtoll((const char *)sp, NULL, 10);
	}
	if (g->simple) {
		g->ex[0].rows = rows;
		return;
	}
	if (g->cur < g->nex)
		g->ex[g->cur++].rows = rows;
}

/*
 * BEGIN and friends cost the server next to nothing: in a group with other statements
 * (PgJDBC sends BEGIN with the first query of a transaction) they get none of its time.
 */
static bool tx_control(const struct exec *e)
{
	static const char *const words[] = { "begin", "start transaction", "savepoint", "release" };
	size_t i = 0;

	if (!e->text)
		return false;
	while (i < e->len && (e->text[i] == ' ' || e->text[i] == '\n' || e->text[i] == '\t'))
		i++;
	for (unsigned w = 0; w < sizeof(words) / sizeof(words[0]); w++)
		if (e->len - i >= strlen(words[w]) &&
		    !strncasecmp(e->text + i, words[w], strlen(words[w])))
			return true;
	return false;
}

/*
 * The oldest group is answered at ts. The server runs a connection's statements one after
 * another, so a group sent while the one before it was still running (a pipeline) starts when
 * that one ended, and the executions of one group (a batch: many Executes, one Sync) share
 * its time in equal consecutive slices: their latencies add up to the time the connection was
 * busy, never more.
 */
static void complete(struct pgwire_conn *c, uint64_t ts, pgwire_emit_fn emit, void *ctx,
		     unsigned extra)
{
	struct group *g = oldest(c);
	uint64_t start, span;
	unsigned n = 0, k = 0;
	bool weigh_all;

	if (!g)
		return;
	start = g->ts_start > c->last_end ? g->ts_start : c->last_end;
	span = ts > start ? ts - start : 0;
	for (unsigned i = 0; i < g->nex; i++)
		n += !g->ex[i].skipped && !tx_control(&g->ex[i]);
	/* Only transaction control (BEGIN; COMMIT alone in its group): they share it all. */
	weigh_all = !n;
	for (unsigned i = 0; weigh_all && i < g->nex; i++)
		n += !g->ex[i].skipped;
	for (unsigned i = 0; i < g->nex; i++) {
		struct exec *e = &g->ex[i];
		struct pgwire_query q = {
			.text = e->text,
			.text_len = e->len,
			.stmt_name = e->flags & PGWIRE_Q_UNKNOWN_STMT ? e->name : NULL,
			.flags = e->flags | extra | (g->approx ? PGWIRE_Q_APPROX : 0),
			.ts_start = start + span * k / n,
			.ts_first = k ? 0 : g->ts_first,
			.rows = e->rows,
		};

		if (e->skipped)
			continue;
		if (weigh_all || !tx_control(e))
			k++;
		q.ts_end = start + span * k / n;
		memcpy(q.sqlstate, e->sqlstate, sizeof(q.sqlstate));
		emit(&q, ctx);
	}
	if (ts > c->last_end)
		c->last_end = ts;
	group_clear(g);
	c->qhead = (c->qhead + 1) % c->qcap;
	c->qlen--;
}

static void back_msg(struct pgwire_conn *c, const struct pgwire_chunk *ch, uint8_t type,
		     const uint8_t *body, uint64_t have, pgwire_emit_fn emit, void *ctx)
{
	struct group *g = oldest(c);

	switch (type) {
	case 'Z':
		complete(c, ch->ts_exit, emit, ctx, 0);
		break;
	case 'C':
		set_rows(g, body, have);
		break;
	case 'E':
		set_error(g, body, have);
		break;
	case 'I':
	case 's':
		if (g && !g->simple && g->cur < g->nex)
			g->cur++;
		break;
	}
}

/* A read that ends with a whole ReadyForQuery after lost framing: back in step. */
static bool resync(struct pgwire_conn *c, const struct pgwire_chunk *ch, pgwire_emit_fn emit,
		   void *ctx)
{
	const uint8_t *z = ch->len >= 6 ? at(ch, ch->len - 6, 6) : NULL;
	struct group *g;

	if (!z || z[0] != 'Z' || be32(z + 1) != 5 || !strchr("IET", z[5]) || !z[5])
		return false;
	g = oldest(c);
	/* A CommandComplete right before it gives the row count. */
	for (uint64_t k = 7; g && k <= 64 && k + 6 <= ch->len; k++) {
		uint64_t off = ch->len - 6 - k;
		const uint8_t *m = at(ch, off, k);

		if (m && m[0] == 'C' && be32(m + 1) == k - 1 && m[k - 1] == 0) {
			set_rows(g, m + 5, k - 5);
			break;
		}
	}
	if (g)
		g->approx = true;
	complete(c, ch->ts_exit, emit, ctx, 0);
	c->st.resync++;
	return true;
}

static void walk(struct pgwire_conn *c, struct dir *d, const struct pgwire_chunk *ch, bool front,
		 pgwire_emit_fn emit, void *ctx)
{
	uint64_t off = 0, take;

	if (d->need) {
		take = d->need < ch->len ? d->need : ch->len;
		off += take;
		d->need -= take;
		if (!d->need && d->z_pending) {
			d->z_pending = false;
			complete(c, ch->ts_exit, emit, ctx, 0);
		}
	}
	while (off < ch->len) {
		const uint8_t *p, *body;
		uint64_t mlen, have, blen;
		uint8_t type;

		if (!d->hdr_have)
			d->msg_ts = ch->ts_enter;
		while (d->hdr_have < 5 && off < ch->len) {
			p = at(ch, off, 1);
			if (!p)
				goto lost;
			d->hdr[d->hdr_have++] = *p;
			off++;
		}
		if (d->hdr_have < 5)
			return; /* the header continues in the next transfer */
		d->hdr_have = 0;
		type = d->hdr[0];
		mlen = be32(d->hdr + 1);
		if (mlen < 4 || mlen > MSG_LEN_MAX) {
			c->st.malformed++;
			goto lost;
		}
		blen = mlen - 4;
		have = captured(ch, off, blen, &body);
		if (front)
			front_msg(c, ch, type, have || !blen ? body : NULL, have, blen);
		else if (type == 'Z' && off + blen > ch->len)
			d->z_pending = true; /* the query ends with the read that ends its answer */
		else
			back_msg(c, ch, type, body, have, emit, ctx);
		if (off + blen > ch->len) {
			d->need = off + blen - ch->len;
			return;
		}
		off += blen;
	}
	return;
lost:
	d->hdr_have = 0;
	d->need = 0;
	if (front) {
		/* Writes start on message boundaries: the next one starts afresh. */
		c->st.write_gaps++;
		return;
	}
	c->st.lost_sync++;
	d->lost = !resync(c, ch, emit, ctx);
}

void pgwire_conn__write(struct pgwire_conn *c, const struct pgwire_chunk *ch, pgwire_emit_fn emit,
			void *ctx)
{
	const uint8_t *p = at(ch, 0, 8);
	uint32_t mlen, code;

	if (c->encrypted || !ch->len)
		return;
	if (!c->started && p) {
		mlen = be32(p);
		code = be32(p + 4);
		if (mlen >= 8 && mlen <= 10000 &&
		    (code == CODE_PROTO3 || code == CODE_SSL || code == CODE_GSSENC ||
		     code == CODE_CANCEL)) {
			/* After an encryption request, the startup message is untyped too. */
			c->ssl_wait = code == CODE_SSL || code == CODE_GSSENC;
			c->started = !c->ssl_wait;
			c->w.need = mlen > ch->len ? mlen - ch->len : 0;
			return;
		}
	}
	c->started = true;
	walk(c, &c->w, ch, true, emit, ctx);
}

void pgwire_conn__read(struct pgwire_conn *c, const struct pgwire_chunk *ch, pgwire_emit_fn emit,
		       void *ctx)
{
	struct pgwire_chunk rest;
	const uint8_t *p;

	if (c->encrypted || !ch->len)
		return;
	if (c->ssl_wait) {
		c->ssl_wait = false;
		p = at(ch, 0, 1);
		if (p && (*p == 'S' || *p == 'G')) {
			c->encrypted = true;
			return;
		}
		if (ch->len == 1)
			return;
		/* 'N': plaintext; the rest of the read (if any) is framed. */
		rest = *ch;
		rest.len = ch->len - 1;
		rest.head = ch->head_len ? ch->head + 1 : ch->head;
		rest.head_len = ch->head_len ? ch->head_len - 1 : 0;
		rest.tail_len = ch->tail_len > rest.len ? rest.len : ch->tail_len;
		rest.tail = ch->tail + (ch->tail_len - rest.tail_len);
		ch = &rest;
	}
	if (c->qlen && !oldest(c)->ts_first)
		oldest(c)->ts_first = ch->ts_exit;
	if (c->has_open)
		c->open_answered = true;
	if (c->r.lost) {
		c->r.lost = !resync(c, ch, emit, ctx);
		return;
	}
	walk(c, &c->r, ch, false, emit, ctx);
}

void pgwire_conn__close(struct pgwire_conn *c, uint64_t ts, pgwire_emit_fn emit, void *ctx)
{
	while (c->qlen)
		complete(c, ts, emit, ctx, PGWIRE_Q_ABORTED);
}
