// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probes/sockio.h"
#include "proto/resp.h"
#include "record/respconn.h"
#include "record/sink.h"

/* A command written and not answered yet. */
struct pend {
	uint64_t ts_start;
	uint64_t key_hash;
	uint64_t req_bytes, value_bytes;
	uint32_t tid;
	uint32_t flags; /* enum cache_op_flag known when it was written */
	unsigned read_keys;
	bool queued; /* written inside MULTI: answered +QUEUED, run by EXEC */
	bool exec;   /* EXEC: its reply answers the queued commands */
	bool discard;
	char verb[CACHE_VERB_MAX];
	char pattern[CACHE_PATTERN_MAX];
};

/* A growable ring of pending commands, oldest at head. */
struct pendq {
	struct pend *v;
	size_t head, n, cap;
};

struct respconn {
	struct sink *sink;
	uint32_t tgid;
	uint64_t id;
	char client[64], server[64];
	struct resp_stream cmd, reply;
	struct pendq q;	  /* written, waiting for their replies */
	struct pendq tx;  /* queued in MULTI, waiting for EXEC */
	uint32_t wtid;	  /* thread of the current write */
	uint64_t ts_read; /* the current read's end: a reply completed now ends then */
	bool in_multi;
	bool ended;	/* respconn__end done */
	bool unmatched; /* pub/sub, MONITOR, CLIENT REPLY OFF: no more replies to match */
	bool resp3;	/* RESP3 replies seen (HELLO 3): SUBSCRIBE's answers are pushes */
	uint64_t seg_len, seg_next; /* a write carried in segments: its length, next offset */
	uint64_t seg_cap;	    /* bytes per segment (the first one's) */
	bool seg_out;		    /* ... of a write (else a read) */
	bool approx;		    /* the reply framing was lost under the oldest command */
	uint64_t approx_end;	    /* ... whose reply went on until this read */
	bool reading;		    /* inside a read: answered commands wait in done[] */
	struct cache_op *done;	    /* answered by the current read, in order */
	size_t ndone, capdone;
	uint64_t last_end; /* when the previous read that answered commands ended */
	struct respconn_stats st;
};

bool respconn__sniff(const struct sockio_data_ev *e, size_t head_len)
{
	return e->dir == SOCKIO_OUT && e->len > 0 && head_len >= 4 && e->head[0] == '*';
}

static struct pend *pendq_push(struct pendq *q)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		struct pend *v = malloc(cap * sizeof(*v));

		if (!v)
			return NULL;
		for (size_t i = 0; i < q->n; i++)
			v[i] = q->v[(q->head + i) % q->cap];
		free(q->v);
		q->v = v;
		q->head = 0;
		q->cap = cap;
	}
	return &q->v[(q->head + q->n++) % q->cap];
}

static struct pend *pendq_front(struct pendq *q)
{
	return q->n ? &q->v[q->head] : NULL;
}

static void pendq_pop(struct pendq *q)
{
	q->head = (q->head + 1) % q->cap;
	q->n--;
}

static uint64_t key_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

/* Keeps an answered command for done_flush; false when out of memory (sent at once). */
static bool done_push(struct respconn *c, const struct cache_op *op)
{
	if (c->ndone == c->capdone) {
		size_t cap = c->capdone ? 2 * c->capdone : 16;
		struct cache_op *v = realloc(c->done, cap * sizeof(*v));

		if (!v)
			return false;
		c->done = v;
		c->capdone = cap;
	}
	c->done[c->ndone++] = *op;
	return true;
}

static void emit(struct respconn *c, const struct pend *p, const struct resp_value *r,
		 uint64_t ts_end, uint32_t flags)
{
	struct cache_op op = {
		.flags = p->flags | flags,
		.tgid = c->tgid,
		.tid = p->tid,
		.conn_id = c->id,
		.ts_start = p->ts_start,
		.ts_end = ts_end,
		.key_hash = p->key_hash,
		.keys = p->read_keys,
		.req_bytes = p->req_bytes,
		.value_bytes = p->value_bytes,
		.elements = -1,
	};

	memcpy(op.verb, p->verb, sizeof(op.verb));
	memcpy(op.pattern, p->pattern, sizeof(op.pattern));
	if (r) {
		op.reply_bytes = r->bytes;
		if (r->max_bulk > op.value_bytes)
			op.value_bytes = r->max_bulk;
		if (r->type == RESP_T_ARRAY || r->type == RESP_T_MAP)
			op.elements = r->n;
		if (r->type == RESP_T_ERROR) {
			op.flags |= CACHE_OP_ERROR;
			memcpy(op.err, r->err, sizeof(op.err));
		}
	}
	/* A read's answer says, key by key, whether the cache had it. */
	if ((op.flags & CACHE_OP_READ) && r && !(op.flags & CACHE_OP_ERROR) && op.keys) {
		unsigned hits = 0;

		switch (r->type) {
		case RESP_T_NIL:
			break;
		case RESP_T_INT: /* EXISTS k1 k2: how many exist; SISMEMBER: 1 or 0 */
			hits = r->n < 0 ? 0 : r->n > op.keys ? op.keys : (unsigned)r->n;
			break;
		case RESP_T_ARRAY:
		case RESP_T_MAP:
			if (op.keys > 1) /* MGET, HMGET: one element per key */
				hits = r->n > r->nil_elems ? (unsigned)(r->n - r->nil_elems) : 0;
			else /* HGETALL, SMEMBERS, LRANGE of a missing key: empty */
				hits = r->n > 0;
			break;
		default:
			hits = op.keys;
		}
		if (hits > op.keys)
			hits = op.keys;
		op.hits = hits;
		op.misses = op.keys - hits;
	} else {
		op.keys = 0;
	}
	if (!(flags & CACHE_OP_ABORTED))
		c->st.commands++;
	if (c->reading && done_push(c, &op))
		return;
	sink__cache(c->sink, &op, c->client, c->server);
}

/*
 * The commands one read answered share its time: the server runs a connection's commands one
 * after another, so a command sent while the one before it waited starts when that one ended,
 * and the replies of one read (a pipeline) split the time from the first one's start to the
 * read's end in equal consecutive slices. The latencies of a connection's commands thus add
 * up to the time it was busy, never more, as with PostgreSQL batches.
 */
static void done_flush(struct respconn *c)
{
	uint64_t end = c->ts_read, base, prev;
	size_t k = c->ndone;

	if (!k)
		return;
	base = c->done[0].ts_start > c->last_end ? c->done[0].ts_start : c->last_end;
	if (base > end)
		base = end;
	prev = base;
	for (size_t i = 0; i < k; i++) {
		struct cache_op *op = &c->done[i];
		uint64_t e = base + (end - base) * (i + 1) / k;

		op->ts_start = op->ts_start > prev ? op->ts_start : prev;
		if (op->ts_start > e)
			op->ts_start = e;
		op->ts_end = e;
		prev = e;
		sink__cache(c->sink, op, c->client, c->server);
	}
	c->ndone = 0;
	c->last_end = end;
}

/* The reply framing was lost: only a lone command can still be given its (late) end. */
static void reply_lost(struct respconn *c)
{
	c->st.lost_sync++;
	if (c->q.n == 1 && !pendq_front(&c->q)->queued && !pendq_front(&c->q)->exec && !c->approx) {
		c->approx = true;
		c->approx_end = c->ts_read;
		return;
	}
	if (c->approx) {
		c->approx_end = c->ts_read;
		return;
	}
	c->st.unmatched += c->q.n + c->tx.n;
	c->q.n = c->tx.n = 0;
	c->in_multi = false;
}

/* The bytes of a lost reply ended before this write: its command ends with them. */
static void approx_settle(struct respconn *c)
{
	if (!c->approx)
		return;
	c->approx = false;
	if (c->q.n) {
		c->st.approx++;
		emit(c, pendq_front(&c->q), NULL, c->approx_end, CACHE_OP_APPROX);
		pendq_pop(&c->q);
		c->last_end = c->approx_end;
	}
	resp_stream__resync(&c->reply);
}

static void on_exec(struct respconn *c, const struct pend *exec, const struct resp_value *r)
{
	uint32_t f = CACHE_OP_IN_TX;
	struct resp_value e = { .type = RESP_T_ERROR };

	/* EXEC answers nil when a WATCHed key changed, an error when a command was refused. */
	if (r->type == RESP_T_NIL || r->type == RESP_T_ERROR) {
		snprintf(e.err, sizeof(e.err), "%s", r->type == RESP_T_NIL ? "WATCH" : r->err);
		f |= CACHE_OP_ERROR;
	}
	while (c->tx.n) {
		/* Each queued command ran inside EXEC: its time is EXEC's. */
		struct pend p = *pendq_front(&c->tx);

		pendq_pop(&c->tx);
		p.flags &= ~CACHE_OP_READ; /* its answer is inside EXEC's: hit or miss unknown */
		emit(c, &p, f & CACHE_OP_ERROR ? &e : NULL, c->ts_read, f);
	}
	emit(c, exec, r, c->ts_read, 0);
}

static void on_reply(const struct resp_value *r, void *ctx)
{
	struct respconn *c = ctx;
	struct pend p;

	if (r->type == RESP_T_PUSH || c->unmatched)
		return; /* out of band (RESP3 pushes), or pub/sub messages */
	if (r->type == RESP_T_MAP)
		c->resp3 = true;
	if (!c->q.n) {
		c->st.orphan_replies++;
		return;
	}
	p = *pendq_front(&c->q);
	pendq_pop(&c->q);
	if (p.queued) {
		/* +QUEUED: it runs at EXEC; an error: refused now, and EXEC will fail. */
		if (r->type == RESP_T_ERROR) {
			emit(c, &p, r, c->ts_read, CACHE_OP_IN_TX);
		} else {
			struct pend *t = pendq_push(&c->tx);

			if (t)
				*t = p;
			else
				c->st.unmatched++;
		}
		return;
	}
	if (p.exec) {
		on_exec(c, &p, r);
		return;
	}
	if (p.discard)
		c->tx.n = 0; /* the queued commands never ran */
	emit(c, &p, r, c->ts_read, 0);
}

static void on_command(const struct resp_value *v, void *ctx)
{
	struct respconn *c = ctx;
	const struct resp_cmd_info *in = &v->info;
	struct pend *p;

	if (c->unmatched)
		return;
	if (in->subscribe) {
		if (c->resp3)
			return; /* its confirmations are pushes */
		c->unmatched = true;
		c->st.pubsub++;
		return;
	}
	if (in->no_reply) {
		/* CLIENT REPLY OFF or SKIP: which replies come is no longer known. */
		c->unmatched = true;
		c->st.pubsub++;
		return;
	}
	p = pendq_push(&c->q);
	if (!p) {
		c->st.unmatched++;
		return;
	}
	memset(p, 0, sizeof(*p));
	p->ts_start = v->ts_first;
	p->tid = c->wtid;
	p->flags =
		in->flags & (CACHE_OP_READ | CACHE_OP_WRITE | CACHE_OP_NO_TTL | CACHE_OP_SCAN_ALL);
	if (c->q.n > 1)
		p->flags |= CACHE_OP_PIPELINED;
	p->read_keys = in->read_keys;
	p->req_bytes = v->bytes;
	p->value_bytes = (in->flags & CACHE_OP_WRITE) ? v->max_bulk : 0;
	memcpy(p->verb, v->verb, sizeof(p->verb));
	p->verb[sizeof(p->verb) - 1] = '\0';
	if (v->key) {
		resp__key_pattern(v->key, v->key_len, p->pattern, sizeof(p->pattern));
		p->key_hash = key_hash(v->key, v->key_len);
	}
	if (in->exec || in->discard) {
		p->exec = in->exec;
		p->discard = in->discard;
		c->in_multi = false;
	} else if (c->in_multi) {
		p->queued = true;
	}
	if (in->multi)
		c->in_multi = true;
}

struct respconn *respconn__new(struct sink *s, uint32_t tgid, uint64_t conn_id, const char *client,
			       const char *server, uint64_t ts)
{
	struct respconn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sink = s;
	c->tgid = tgid;
	c->id = conn_id;
	snprintf(c->client, sizeof(c->client), "%s", client);
	snprintf(c->server, sizeof(c->server), "%s", server);
	resp_stream__init(&c->cmd, RESP_CMD);
	resp_stream__init(&c->reply, RESP_REPLY);
	sink__cache_open(s, c->client, c->server, ts);
	return c;
}

/* Bytes of one direction: fed in order, a gap skipped where the capture left one. */
static void feed(struct respconn *c, struct resp_stream *rs, const uint8_t *p, size_t n,
		 uint64_t ts, resp_value_fn fn)
{
	if (!rs->synced) {
		if (rs == &c->reply && c->approx)
			c->approx_end = ts;
		return;
	}
	if (!resp_stream__feed(rs, p, n, ts, fn, c) && rs == &c->reply)
		reply_lost(c);
}

static void gap(struct respconn *c, struct resp_stream *rs, uint64_t n)
{
	if (!n || !rs->synced)
		return;
	if (!resp_stream__skip(rs, n) && rs == &c->reply)
		reply_lost(c);
}

static void cmd_lost(struct respconn *c)
{
	/* Commands went by unread: replies can no longer be matched until both restart. */
	c->st.lost_sync++;
	c->st.unmatched += c->q.n + c->tx.n;
	c->q.n = c->tx.n = 0;
	c->in_multi = false;
	c->approx = false;
}

/* The rest of a write carried in segments went by unseen. */
static void seg_end(struct respconn *c)
{
	struct resp_stream *rs = c->seg_out ? &c->cmd : &c->reply;

	if (c->seg_next < c->seg_len)
		gap(c, rs, c->seg_len - c->seg_next);
	c->seg_len = 0;
	if (c->reading) {
		/* The replies of the whole read share its time. */
		c->reading = false;
		done_flush(c);
	}
}

/* One segment of a long transfer: in order, a lost one is a gap. */
static void seg_data(struct respconn *c, const struct sockio_data_ev *e, size_t head_len,
		     uint64_t len, uint64_t ts)
{
	bool out = e->dir == SOCKIO_OUT;

	if (!e->seg_off) {
		c->seg_len = len;
		c->seg_next = 0;
		c->seg_cap = head_len;
		c->seg_out = out;
		c->reading = !out;
	}
	if (!c->seg_len || e->seg_off < c->seg_next || c->seg_out != out)
		return; /* a segment of a transfer whose start was lost */
	gap(c, out ? &c->cmd : &c->reply, e->seg_off - c->seg_next);
	if (head_len > len - e->seg_off)
		head_len = len - e->seg_off;
	feed(c, out ? &c->cmd : &c->reply, e->head, head_len, ts, out ? on_command : on_reply);
	c->seg_next = e->seg_off + head_len;
	/* The kernel sends SOCKIO_SEGS_MAX segments at most: past them, nothing comes. */
	if (c->seg_next >= len || !c->seg_cap || e->seg_off / c->seg_cap + 1 >= SOCKIO_SEGS_MAX)
		seg_end(c);
}

static void transfer(struct respconn *c, struct resp_stream *rs, const struct sockio_data_ev *e,
		     size_t head_len, uint64_t len, uint64_t ts, resp_value_fn fn);

void respconn__data(struct respconn *c, const struct sockio_data_ev *e, size_t head_len)
{
	bool out = e->dir == SOCKIO_OUT;
	struct resp_stream *rs = out ? &c->cmd : &c->reply;
	uint64_t len = e->len > 0 ? (uint64_t)e->len : 0;
	uint64_t ts = out ? e->ts_enter : e->ts_exit;
	resp_value_fn fn = out ? on_command : on_reply;

	if (!len || c->unmatched)
		return;
	if (out && !((e->flags & SOCKIO_F_SEGMENT) && e->seg_off)) {
		/* A write starts: the replies before it are complete. */
		c->wtid = e->tid;
		approx_settle(c);
		if (!c->cmd.synced || !c->reply.synced) {
			if (!c->cmd.synced)
				cmd_lost(c);
			/* A write starts at a command; its replies start the next read. */
			resp_stream__resync(&c->cmd);
			if (!c->q.n)
				resp_stream__resync(&c->reply);
		}
	} else if (!out) {
		c->ts_read = e->ts_exit;
	}
	if (c->seg_len && (!(e->flags & SOCKIO_F_SEGMENT) || !e->seg_off))
		seg_end(c); /* the last segments of the previous write never came */
	if (e->flags & SOCKIO_F_SEGMENT) {
		seg_data(c, e, head_len, len, ts);
		return;
	}
	c->reading = !out;
	transfer(c, rs, e, head_len, len, ts, fn);
	c->reading = false;
	done_flush(c);
}

/* The bytes of one transfer: its head, the gap the capture left, its tail. */
static void transfer(struct respconn *c, struct resp_stream *rs, const struct sockio_data_ev *e,
		     size_t head_len, uint64_t len, uint64_t ts, resp_value_fn fn)
{
	const uint8_t *tail = e->tail;
	size_t tail_len = e->tail_len < SOCKIO_TAIL ? e->tail_len : SOCKIO_TAIL;

	if (head_len >= len) {
		feed(c, rs, e->head, len, ts, fn);
		return;
	}
	feed(c, rs, e->head, head_len, ts, fn);
	if (!tail_len) {
		gap(c, rs, len - head_len);
		return;
	}
	if (head_len + tail_len > len) {
		/* The tail overlaps the head: only its last bytes are new. */
		size_t k = len - head_len;

		tail += tail_len - k;
		tail_len = k;
	}
	gap(c, rs, len - head_len - tail_len);
	feed(c, rs, tail, tail_len, ts, fn);
}

void respconn__stats_add(const struct respconn *c, struct respconn_stats *sum)
{
	const struct resp_stats *a = &c->cmd.stats, *b = &c->reply.stats;

	sum->commands += c->st.commands;
	sum->unmatched += c->st.unmatched;
	sum->approx += c->st.approx;
	sum->orphan_replies += c->st.orphan_replies;
	sum->lost_sync += a->lost_sync + b->lost_sync;
	sum->malformed += a->malformed + b->malformed;
	sum->skipped += a->skipped + b->skipped;
	sum->pubsub += c->st.pubsub;
	sum->aborted += c->st.aborted;
}

void respconn__end(struct respconn *c, uint64_t ts)
{
	if (c->ended)
		return;
	c->ended = true;
	if (c->seg_len)
		seg_end(c);
	approx_settle(c);
	/* Never answered: counted, with no latency. */
	while (c->q.n) {
		c->st.aborted++;
		emit(c, pendq_front(&c->q), NULL, ts, CACHE_OP_ABORTED);
		pendq_pop(&c->q);
	}
	c->st.aborted += c->tx.n;
	c->tx.n = 0;
	sink__cache_close(c->sink, c->client, c->server, ts);
}

void respconn__free(struct respconn *c, uint64_t ts)
{
	if (!c)
		return;
	respconn__end(c, ts);
	free(c->q.v);
	free(c->tx.v);
	free(c->done);
	free(c);
}
