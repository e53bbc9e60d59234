// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

static bool is_method_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || ch == '-' || ch == '_';
}

static bool is_target_char(unsigned char ch)
{
	return ch > 0x20 && ch != 0x7f;
}

static char lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? ch + 32 : ch;
}

static bool name_is(const char *p, size_t n, const char *name)
{
	size_t l = strlen(name);

	if (n != l)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != name[i])
			return false;
	return true;
}

/* Does [p, p+n) contain `word` as a comma-separated token, case-insensitively? */
static bool has_token(const char *p, size_t n, const char *word)
{
	size_t l = strlen(word);

	for (size_t i = 0; i + l <= n; i++) {
		bool left = i == 0 || p[i - 1] == ' ' || p[i - 1] == ',' || p[i - 1] == '\t';
		bool right = i + l == n || p[i + l] == ' ' || p[i + l] == ',' || p[i + l] == '\t' ||
			     p[i + l] == ';';

		if (left && right && name_is(p + i, l, word))
			return true;
	}
	return false;
}

struct head_fields {
	size_t head_len;
	int64_t content_length;
	bool chunked;
	bool close;
	const char *host;
	size_t host_len;
};

/*
 * Header lines from `p` (just after the start line) up to the blank line. Leaves head_len 0
 * when the blank line is not within len. A malformed Content-Length is treated as absent.
 */
static void parse_fields(const char *buf, size_t start, size_t len, struct head_fields *f)
{
	size_t i = start;

	f->head_len = 0;
	f->content_length = -1;
	f->chunked = false;
	f->close = false;
	f->host = NULL;
	f->host_len = 0;
	while (i < len) {
		size_t eol = i, name_end, v, ve;

		while (eol < len && buf[eol] != '\n')
			eol++;
		if (eol == len)
			return; /* line not complete */
		ve = eol;
		if (ve > i && buf[ve - 1] == '\r')
			ve--;
		if (ve == i) {
			f->head_len = eol + 1;
			return;
		}
		name_end = i;
		while (name_end < ve && buf[name_end] != ':')
			name_end++;
		v = name_end + 1;
		while (v < ve && (buf[v] == ' ' || buf[v] == '\t'))
			v++;
		if (name_end < ve) {
			const char *name = buf + i, *val = buf + v;
			size_t nl = name_end - i, vl = ve > v ? ve - v : 0;

			if (name_is(name, nl, "content-length")) {
				int64_t cl = 0;
				size_t k = 0;

				while (k < vl && val[k] >= '0' && val[k] <= '9' &&
				       cl < (INT64_MAX / 10 - 9))
					cl = cl * 10 + (val[k++] - '0');
				while (k < vl && (val[k] == ' ' || val[k] == '\t'))
					k++;
				if (k == vl && vl)
					f->content_length = cl;
			} else if (name_is(name, nl, "transfer-encoding")) {
				f->chunked = has_token(val, vl, "chunked");
			} else if (name_is(name, nl, "connection")) {
				f->close = has_token(val, vl, "close");
			} else if (name_is(name, nl, "host") && !f->host) {
				/* The first one: a second Host makes the request invalid anyway. */
				while (vl && (val[vl - 1] == ' ' || val[vl - 1] == '\t'))
					vl--;
				f->host = val;
				f->host_len = vl;
			}
		}
		i = eol + 1;
	}
}

int http__parse_request(const char *buf, size_t len, struct http_req_head *h)
{
	struct head_fields f;
	size_t i = 0, t;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	h->method = buf;
	while (i < len && is_method_char(buf[i]))
		i++;
	if (i == len)
		return i < HTTP_METHOD_MAX ? 0 : -1;
	if (i == 0 || i >= HTTP_METHOD_MAX || buf[i] != ' ')
		return -1;
	h->method_len = i++;
	t = i;
	while (i < len && is_target_char((unsigned char)buf[i]))
		i++;
	h->target = buf + t;
	h->target_len = i - t;
	if (i == len)
		return 0;
	if (i == t || buf[i] != ' ')
		return -1;
	i++;
	/* "HTTP/1.x" then end of line; a prefix of it needs more bytes. */
	for (const char *v = "HTTP/1."; *v; v++, i++) {
		if (i == len)
			return 0;
		if (buf[i] != *v)
			return -1;
	}
	if (i == len)
		return 0;
	if (buf[i] < '0' || buf[i] > '9')
		return -1;
	h->version_minor = buf[i++] - '0';
	if (i < len && buf[i] == '\r')
		i++;
	if (i == len)
		return 0;
	if (buf[i] != '\n')
		return -1;
	parse_fields(buf, i + 1, len, &f);
	h->head_len = f.head_len;
	h->content_length = f.content_length;
	h->chunked = f.chunked;
	h->host = f.host;
	h->host_len = f.host_len;
	return 1;
}

int http__parse_response(const char *buf, size_t len, struct http_resp_head *h)
{
	struct head_fields f;
	size_t i = 0;
	unsigned status = 0;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	for (const char *v = "HTTP/1."; *v; v++, i++) {
		if (i == len)
			return 0;
		if (buf[i] != *v)
			return -1;
	}
	if (i == len)
		return 0;
	if (buf[i] < '0' || buf[i] > '9')
		return -1;
	h->version_minor = buf[i++] - '0';
	if (i == len)
		return 0;
	if (buf[i++] != ' ')
		return -1;
	for (int k = 0; k < 3; k++, i++) {
		if (i == len)
			return 0;
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		status = status * 10 + (unsigned)(buf[i] - '0');
	}
	if (status < 100)
		return -1;
	h->status = status;
	/* Reason phrase, possibly empty, to the end of the line. */
	while (i < len && buf[i] != '\n')
		i++;
	if (i == len)
		return 1;
	parse_fields(buf, i + 1, len, &f);
	h->head_len = f.head_len;
	h->content_length = f.content_length;
	h->chunked = f.chunked;
	h->close = f.close;
	return 1;
}

void http_conn__init(struct http_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->q_head = 0;
	c->q_len = 0;
	c->rq = HTTP_RQ_LINE;
	c->rq_left = 0;
	c->hdr_ts = 0;
	c->hdr_len = 0;
	c->rs = HTTP_RS_IDLE;
	c->rs_left = 0;
	c->rs_last = 0;
	c->rs_started = false;
	c->rs_tail_len = 0;
	c->upgraded = false;
}

void http_conn__free(struct http_conn *c)
{
	free(c->q);
	free(c->hdrbuf);
	http_conn__init(c);
}

/* Keep the allocations, forget the requests: the connection is being reused. */
static void conn_reset(struct http_conn *c)
{
	struct http_rec *q = c->q;
	unsigned cap = c->q_cap;

	free(c->hdrbuf);
	http_conn__init(c);
	c->q = q;
	c->q_cap = cap;
}

static struct http_rec *q_front(struct http_conn *c)
{
	return c->q_len ? &c->q[c->q_head] : NULL;
}

static struct http_rec *q_push(struct http_conn *c, struct http_stats *st)
{
	struct http_rec *r;

	if (c->q_len == c->q_cap) {
		unsigned cap = c->q_cap ? c->q_cap * 2 : 1;
		struct http_rec *nq;

		if (c->q_cap == HTTP_PENDING_MAX) {
			st->pending_overflow++;
			return NULL;
		}
		if (cap > HTTP_PENDING_MAX)
			cap = HTTP_PENDING_MAX;
		nq = malloc(cap * sizeof(*nq));
		if (!nq) {
			st->nomem++;
			return NULL;
		}
		for (unsigned i = 0; i < c->q_len; i++)
			nq[i] = c->q[(c->q_head + i) % c->q_cap];
		free(c->q);
		c->q = nq;
		c->q_cap = cap;
		c->q_head = 0;
	}
	r = &c->q[(c->q_head + c->q_len) % c->q_cap];
	memset(r, 0, sizeof(*r));
	c->q_len++;
	return r;
}

static void q_pop(struct http_conn *c)
{
	c->q_head = (c->q_head + 1) % c->q_cap;
	c->q_len--;
	c->rs_started = false;
}

static void rs_finish(struct http_conn *c, uint64_t t_end, unsigned flags, http_emit_fn emit,
		      void *ctx)
{
	struct http_rec *r = q_front(c);

	c->rs = HTTP_RS_IDLE;
	c->rs_left = 0;
	c->rs_tail_len = 0;
	if (!r)
		return;
	r->t_end = t_end;
	r->flags |= flags;
	emit(ctx, r);
	q_pop(c);
}

static void copy_token(char *dst, size_t dstsz, const char *src, size_t n, bool *cut)
{
	if (n >= dstsz) {
		n = dstsz - 1;
		if (cut)
			*cut = true;
	}
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A request head was read (cut: its target ran past the bytes we have). */
static void rq_new(struct http_conn *c, struct http_stats *st, uint64_t ts, uint64_t arrival,
		   const struct http_req_head *h, bool cut, http_emit_fn emit, void *ctx)
{
	struct http_rec *r;

	/* The next request ends a response whose length we could not know. */
	if (c->rs_started && c->rs == HTTP_RS_UNKNOWN)
		rs_finish(c, c->rs_last, HTTP_REC_LEN_UNKNOWN, emit, ctx);
	st->requests++;
	r = q_push(c, st);
	if (!r)
		return;
	copy_token(r->method, sizeof(r->method), h->method, h->method_len, NULL);
	copy_token(r->target, sizeof(r->target), h->target, h->target_len, &cut);
	if (h->host)
		copy_token(r->host, sizeof(r->host), h->host, h->host_len, NULL);
	if (cut)
		r->flags |= HTTP_REC_TARGET_CUT;
	if (c->q_len > 1)
		r->flags |= HTTP_REC_PIPELINED;
	r->t_start = ts;
	r->t_arrival = arrival && arrival <= ts ? arrival : 0;
}

static void hdr_done(struct http_conn *c)
{
	free(c->hdrbuf);
	c->hdrbuf = NULL;
	c->hdr_len = 0;
}

/* After a complete request head: where does its body end? */
static void rq_body(struct http_conn *c, const struct http_req_head *h)
{
	if (h->chunked) {
		c->rq = HTTP_RQ_BODY_UNKNOWN;
	} else if (h->content_length > 0) {
		c->rq = HTTP_RQ_BODY;
		c->rq_left = (uint64_t)h->content_length;
	} else {
		c->rq = HTTP_RQ_LINE;
	}
}

void http_conn__read_gap(struct http_conn *c)
{
	/* The next request line at a read boundary ends the body, whatever its length said. */
	if (c->rq == HTTP_RQ_BODY) {
		c->rq = HTTP_RQ_BODY_UNKNOWN;
		c->rq_left = 0;
	}
}

void http_conn__read(struct http_conn *c, struct http_stats *st, uint64_t ts, uint64_t arrival,
		     const void *head, size_t head_len, uint64_t len, http_emit_fn emit, void *ctx)
{
	const char *p = head;
	struct http_req_head h;
	uint64_t off = 0;
	int r;

	if (head_len > len)
		head_len = len;
	if (c->upgraded) {
		st->after_upgrade++;
		return;
	}
	while (off < len) {
		switch (c->rq) {
		case HTTP_RQ_BODY: {
			uint64_t take = c->rq_left < len - off ? c->rq_left : len - off;

			c->rq_left -= take;
			off += take;
			if (!c->rq_left)
				c->rq = HTTP_RQ_LINE;
			break;
		}
		case HTTP_RQ_BODY_UNKNOWN:
			/* Only a request line at a read boundary ends a body we cannot measure. */
			if (off >= head_len || http__parse_request(p + off, head_len - off, &h) < 0)
				return;
			c->rq = HTTP_RQ_LINE;
			break;
		case HTTP_RQ_HEAD: {
			size_t have = c->hdr_len, add = off < head_len ? head_len - off : 0;
			bool uncaptured = off + add < len;

			if (add > HTTP_HDRBUF_MAX - have) {
				add = HTTP_HDRBUF_MAX - have;
				uncaptured = true;
				st->hdr_overflow++;
			}
			memcpy(c->hdrbuf + have, p + off, add);
			c->hdr_len += add;
			r = http__parse_request(c->hdrbuf, c->hdr_len, &h);
			if (r < 0) {
				st->garbage_in++;
				hdr_done(c);
				c->rq = HTTP_RQ_LINE;
				return;
			}
			if (r == 1 && h.head_len) {
				rq_new(c, st, c->hdr_ts, c->hdr_arrival, &h, false, emit, ctx);
				off += h.head_len - have;
				hdr_done(c);
				rq_body(c, &h);
				break;
			}
			if (uncaptured) {
				/*
				 * The rest of the head is out of sight: keep what we know. Its
				 * target is cut only if it runs to the end, not if " HTTP/1."
				 * followed it.
				 */
				if (h.method_len)
					rq_new(c, st, c->hdr_ts, c->hdr_arrival, &h,
					       h.target + h.target_len == c->hdrbuf + c->hdr_len,
					       emit, ctx);
				hdr_done(c);
				c->rq = HTTP_RQ_BODY_UNKNOWN;
				return;
			}
			return; /* wait for the next read */
		}
		case HTTP_RQ_LINE:
			if (off >= head_len)
				return; /* bytes past the capture: nothing to parse */
			r = http__parse_request(p + off, head_len - off, &h);
			if (r < 0) {
				st->garbage_in++;
				return;
			}
			if (r == 1 && h.head_len) {
				rq_new(c, st, ts, arrival, &h, false, emit, ctx);
				off += h.head_len;
				rq_body(c, &h);
				break;
			}
			if (head_len == len &&
			    (c->hdrbuf || (c->hdrbuf = malloc(HTTP_HDRBUF_MAX)))) {
				/* Everything of this read is here: the head continues in the next.
				 */
				c->hdr_ts = ts;
				c->hdr_arrival = arrival;
				c->hdr_len = 0;
				c->rq = HTTP_RQ_HEAD;
				break;
			}
			/* As above: the target is cut only if it runs to the end of the capture. */
			if (h.method_len)
				rq_new(c, st, ts, arrival, &h,
				       h.target + h.target_len == p + head_len, emit, ctx);
			c->rq = HTTP_RQ_BODY_UNKNOWN;
			return;
		}
	}
}

/* Chunked bodies end with the last-chunk: "0" CRLF CRLF, right after the previous CRLF. */
static bool chunked_done(struct http_conn *c, const char *tail, size_t tail_len, uint64_t len)
{
	static const char end[] = "\n0\r\n\r\n";
	const size_t n = sizeof(end) - 1;

	if (len > tail_len)
		c->rs_tail_len = 0; /* the tail is not contiguous with what we kept */
	for (size_t i = 0; i < tail_len; i++) {
		if (c->rs_tail_len == sizeof(c->rs_tail)) {
			memmove(c->rs_tail, c->rs_tail + 1, sizeof(c->rs_tail) - 1);
			c->rs_tail_len--;
		}
		c->rs_tail[c->rs_tail_len++] = tail[i];
	}
	return c->rs_tail_len >= n && !memcmp(c->rs_tail + c->rs_tail_len - n, end, n);
}

/*
 * A head still being joined when the server answers or the connection closes: the server saw
 * its end (EOF ends a head too) or gave up on it. Either way it was a request.
 */
static void rq_flush_head(struct http_conn *c, struct http_stats *st, http_emit_fn emit, void *ctx)
{
	struct http_req_head h;

	if (c->rq != HTTP_RQ_HEAD || !c->hdrbuf)
		return;
	if (http__parse_request(c->hdrbuf, c->hdr_len, &h) == 1)
		rq_new(c, st, c->hdr_ts, c->hdr_arrival, &h, false, emit, ctx);
	hdr_done(c);
	c->rq = HTTP_RQ_LINE;
}

void http_conn__write(struct http_conn *c, struct http_stats *st, uint64_t ts_enter,
		      uint64_t ts_exit, const void *head, size_t head_len, uint64_t len,
		      const void *tail, size_t tail_len, http_emit_fn emit, void *ctx)
{
	const char *p = head;
	struct http_resp_head h;
	struct http_rec *rec;
	uint64_t off = 0;
	int r;

	if (head_len > len)
		head_len = len;
	if (c->upgraded) {
		st->after_upgrade++;
		return;
	}
	rq_flush_head(c, st, emit, ctx);
	while (off < len) {
		switch (c->rs) {
		case HTTP_RS_BODY: {
			uint64_t take = c->rs_left < len - off ? c->rs_left : len - off;

			c->rs_left -= take;
			off += take;
			c->rs_last = ts_exit;
			q_front(c)->resp_bytes += take;
			if (!c->rs_left)
				rs_finish(c, ts_exit, 0, emit, ctx);
			break;
		}
		case HTTP_RS_CHUNKED:
			q_front(c)->resp_bytes += len - off;
			off = len;
			c->rs_last = ts_exit;
			if (chunked_done(c, tail, tail_len, len))
				rs_finish(c, ts_exit, 0, emit, ctx);
			break;
		case HTTP_RS_UNKNOWN:
			q_front(c)->resp_bytes += len - off;
			off = len;
			c->rs_last = ts_exit;
			break;
		case HTTP_RS_IDLE:
			if (off >= head_len) {
				if (!off)
					st->garbage_out++; /* bytes outside any response */
				return;
			}
			r = http__parse_response(p + off, head_len - off, &h);
			if (r < 0) {
				st->garbage_out++;
				return;
			}
			rec = q_front(c);
			if (!rec) {
				rec = q_push(c, st);
				if (!rec)
					return;
				rec->flags |= HTTP_REC_NO_REQUEST;
				rec->t_start = ts_enter;
				st->no_request++;
			}
			if (!c->rs_started) {
				rec->t_first = ts_enter;
				c->rs_started = true;
			}
			c->rs_last = ts_exit;
			st->responses++;
			if (r == 0 || !h.head_len) {
				/* Head not all in sight: status known at best, end by inference. */
				if (r == 1 && h.status >= 200)
					rec->status = h.status;
				rec->resp_bytes += len - off;
				c->rs = HTTP_RS_UNKNOWN;
				return;
			}
			off += h.head_len;
			rec->resp_bytes += h.head_len;
			if (h.status == 101) {
				rec->status = 101;
				rs_finish(c, ts_exit, HTTP_REC_UPGRADE, emit, ctx);
				c->upgraded = true;
				return;
			}
			if (h.status < 200)
				break; /* interim (100 Continue): the final response follows */
			rec->status = h.status;
			if (!strcmp(rec->method, "HEAD") || h.status == 204 || h.status == 304 ||
			    h.content_length == 0) {
				rs_finish(c, ts_exit, 0, emit, ctx);
			} else if (h.chunked) {
				c->rs = HTTP_RS_CHUNKED;
				c->rs_tail_len = 0;
				if (off == len && chunked_done(c, tail, tail_len, len))
					rs_finish(c, ts_exit, 0, emit, ctx);
			} else if (h.content_length > 0) {
				c->rs = HTTP_RS_BODY;
				c->rs_left = (uint64_t)h.content_length;
			} else {
				c->rs = HTTP_RS_UNKNOWN; /* delimited by close */
			}
			break;
		}
	}
}

void http_conn__idle(struct http_conn *c, uint64_t now, uint64_t quiet_ns, http_emit_fn emit,
		     void *ctx)
{
	if (!c->rs_started || (c->rs != HTTP_RS_UNKNOWN && c->rs != HTTP_RS_CHUNKED))
		return;
	if (now >= c->rs_last && now - c->rs_last >= quiet_ns)
		rs_finish(c, c->rs_last, HTTP_REC_LEN_UNKNOWN, emit, ctx);
}

void http_conn__close(struct http_conn *c, struct http_stats *st, uint64_t ts, http_emit_fn emit,
		      void *ctx)
{
	struct http_rec *r;

	/* A request whose head never finished still arrived: the client gave up on it. */
	rq_flush_head(c, st, emit, ctx);
	if (c->rs_started) {
		if (c->rs == HTTP_RS_BODY)
			rs_finish(c, c->rs_last, HTTP_REC_INCOMPLETE, emit, ctx);
		else if (c->rs == HTTP_RS_UNKNOWN || c->rs == HTTP_RS_CHUNKED)
			rs_finish(c, c->rs_last, HTTP_REC_LEN_UNKNOWN, emit, ctx);
	}
	while ((r = q_front(c))) {
		r->t_end = ts;
		r->flags |= HTTP_REC_ABORTED;
		emit(ctx, r);
		q_pop(c);
	}
	conn_reset(c);
}
