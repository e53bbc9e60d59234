// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "proto/resp_priv.h"

/*
 * Longest bulk string and largest aggregate taken as RESP. Redis caps a bulk string at
 * proto-max-bulk-len (512 MB by default) and a command at INT_MAX arguments; a larger
 * length after a resync is far more likely garbage than data, and would swallow the stream.
 */
#define LEN_MAX (1ull << 32)
/*
 * Values a subtree beyond RESP_DEPTH_MAX may announce before it is taken as garbage (a real
 * one that large would be tens of GB); it keeps the count from overflowing.
 */
#define DEEP_MAX (4 * LEN_MAX)

enum state {
	S_TYPE = 0, /* a type byte: a value or an element starts */
	S_LINE,	    /* a simple line: + - : , # ( _ */
	S_LEN,	    /* the length or count after $ = ! * % ~ > | */
	S_LF,	    /* the \n that ends a line */
	S_BULK,	    /* a bulk string's payload */
	S_BULK_CR,
	S_BULK_LF,
	S_INLINE, /* an inline command's line */
};

enum inl {
	INL_GAP = 0, /* between arguments */
	INL_ARG,
	INL_DQ, /* in "double quotes" */
	INL_DQ_ESC,
	INL_SQ, /* in 'single quotes' */
	INL_SQ_ESC,
};

static bool printable(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

/* Bytes of a top-level error: its first word goes to v.err (st->tok_len: its length). */
static void err_bytes(struct resp_parser *st, const uint8_t *p, size_t k)
{
	for (size_t i = 0; i < k && !st->word_done; i++) {
		if (p[i] == ' ' || st->tok_len == CACHE_ERR_MAX - 1) {
			st->word_done = true;
			break;
		}
		st->v.err[st->tok_len++] = printable(p[i]) ? p[i] : '?';
	}
}

/* One feed: where its values go. */
struct run {
	struct resp_stream *s;
	resp_value_fn fn;
	void *ctx;
};

/* The value is complete with the byte before end. */
static void emit(struct run *r, const uint8_t *end)
{
	struct resp_parser *st = &r->s->st;

	st->v.bytes += end - st->seg;
	r->s->stats.values++;
	st->in_value = false;
	st->state = S_TYPE;
	if (r->fn)
		r->fn(&st->v, r->ctx);
}

static void cmd_done(struct run *r, const uint8_t *end)
{
	resp_cmd__describe(&r->s->st);
	emit(r, end);
}

/* A reply value (or element) at the current level is complete: climb what it completes. */
static void elem_done(struct run *r, const uint8_t *end, uint8_t type)
{
	struct resp_parser *st = &r->s->st;

	st->state = S_TYPE;
	for (;;) {
		struct resp_frame *f;

		if (st->deep_left) {
			if (--st->deep_left)
				return;
			type = RESP_T_ARRAY; /* the subtree beyond the followed depth */
		}
		if (!st->depth) {
			emit(r, end);
			return;
		}
		f = &st->stack[st->depth - 1];
		if (st->depth == 1 && !st->attrs) {
			if (type == RESP_T_NIL)
				st->v.nil_elems++;
			else if (type == RESP_T_ERROR)
				st->v.err_elems++;
		}
		if (--f->left)
			return;
		st->depth--;
		if (f->attr) {
			st->attrs--; /* the value it was about follows */
			return;
		}
		type = f->type;
	}
}

static void scalar(struct run *r, const uint8_t *end, uint8_t type, int64_t n)
{
	struct resp_parser *st = &r->s->st;

	if (!st->depth && !st->deep_left) {
		st->v.type = type;
		st->v.n = n;
	}
	elem_done(r, end, type);
}

/* An aggregate header with its count n. false: more than can be counted exactly. */
static bool agg_open(struct run *r, const uint8_t *end, uint8_t t, uint64_t n)
{
	struct resp_parser *st = &r->s->st;
	bool attr = t == '|';
	uint8_t type = t == '%' || attr ? RESP_T_MAP : t == '>' ? RESP_T_PUSH : RESP_T_ARRAY;
	uint64_t vals = type == RESP_T_MAP ? 2 * n : n;

	st->state = S_TYPE;
	if (st->deep_left || st->depth == RESP_DEPTH_MAX) {
		r->s->stats.deep++;
		if (st->deep_left > DEEP_MAX)
			return false;
		if (!st->deep_left) {
			/* An attribute is no value: the one it precedes ends the subtree. */
			if (vals)
				st->deep_left = attr ? vals + 1 : vals;
			else if (!attr)
				elem_done(r, end, type);
		} else if (attr) {
			st->deep_left += vals;
		} else if (vals) {
			st->deep_left += vals - 1;
		} else {
			elem_done(r, end, type);
		}
		return true;
	}
	if (!vals) {
		if (!attr)
			scalar(r, end, type, 0);
		return true;
	}
	if (!st->depth && !attr) {
		st->v.type = type;
		st->v.n = n;
	}
	st->stack[st->depth++] = (struct resp_frame){ .left = vals, .type = type, .attr = attr };
	st->attrs += attr;
	return true;
}

/* A bulk string header (reply): its length, or nil. */
static void bulk_open(struct run *r, uint64_t len)
{
	struct resp_parser *st = &r->s->st;
	bool top = !st->depth && !st->deep_left;

	if (top) {
		st->v.type = st->type == '!' ? RESP_T_ERROR : RESP_T_BULK;
		st->v.n = st->type == '!' ? 0 : (int64_t)len;
	}
	if (st->type != '!' && !st->attrs && !st->deep_left && len > st->v.max_bulk)
		st->v.max_bulk = len;
	/* The first word goes to v.err from st->tok_len, 0 since the header's line_start. */
	st->cap = top && st->type == '!' ? RESP_CAP_ERR : RESP_CAP_NONE;
	st->word_done = false;
	st->bulk_left = len;
	st->state = len ? S_BULK : S_BULK_CR;
}

/* A line ended (its \n just read). false: it is not RESP. */
static bool line_end(struct run *r, const uint8_t *end)
{
	struct resp_parser *st = &r->s->st;
	bool cmd = r->s->dir == RESP_CMD;
	uint64_t num = st->num;

	switch (st->type) {
	case '+':
		scalar(r, end, RESP_T_SIMPLE, 0);
		return true;
	case '-':
		scalar(r, end, RESP_T_ERROR, 0);
		return true;
	case ',':
	case '(':
		scalar(r, end, RESP_T_OTHER, 0);
		return true;
	case '#':
		scalar(r, end, RESP_T_OTHER, num);
		return true;
	case '_':
		scalar(r, end, RESP_T_NIL, -1);
		return true;
	case ':':
		if (!st->digits || num > (uint64_t)INT64_MAX + st->neg)
			return false;
		scalar(r, end, RESP_T_INT, st->neg ? (int64_t)(0 - num) : (int64_t)num);
		return true;
	}
	/* A length or a count. */
	if (!st->digits || num > LEN_MAX || (st->neg && num != 1))
		return false;
	if (cmd && st->type == '*') {
		if (num > INT32_MAX) /* Redis's limit, and argi's */
			return false;
		if (st->neg || !num) {
			/* Redis ignores an empty command and does not answer it. */
			st->in_value = false;
			st->state = S_TYPE;
		} else {
			st->args_left = num;
			st->state = S_TYPE;
		}
		return true;
	}
	if (cmd) { /* '$': an argument */
		if (st->neg)
			return false;
		resp_cmd__arg_start(st);
		st->arg_len = num;
		st->bulk_left = num;
		st->state = num ? S_BULK : S_BULK_CR;
		return true;
	}
	switch (st->type) {
	case '$':
	case '=':
	case '!':
		if (st->neg)
			scalar(r, end, RESP_T_NIL, -1);
		else
			bulk_open(r, num);
		return true;
	case '|':
		if (st->neg)
			return false;
		return agg_open(r, end, st->type, num);
	default: /* * % ~ > */
		if (st->neg) {
			scalar(r, end, RESP_T_NIL, -1);
			return true;
		}
		return agg_open(r, end, st->type, num);
	}
}

/* A bulk string's closing \r\n just read. */
static void bulk_end(struct run *r, const uint8_t *end)
{
	struct resp_parser *st = &r->s->st;

	if (r->s->dir == RESP_CMD) {
		resp_cmd__arg_done(st);
		if (--st->args_left)
			st->state = S_TYPE;
		else
			cmd_done(r, end);
		return;
	}
	elem_done(r, end, st->type == '!' ? RESP_T_ERROR : RESP_T_BULK);
}

static void line_start(struct resp_parser *st, uint8_t type, enum state state)
{
	st->type = type;
	st->state = state;
	st->line_len = 0;
	st->num = 0;
	st->neg = false;
	st->digits = false;
	st->tok_len = 0;
	/* Only a top-level error's first word is kept. */
	st->word_done = type != '-' || st->depth || st->deep_left;
}

/* A byte of an unquoted argument: not white space, not a control byte. */
static bool inline_plain(uint8_t c)
{
	return c > ' ' && c != 0x7f;
}

static bool inline_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/*
 * Bytes of an inline command line, up to and with its \n when it is there. Redis splits the
 * line at white space and honours quotes; quotes are taken simply here ("a\"b" is a"b; \n and
 * \xNN stay as they are). Control bytes other than tab and \r are not a command line: after a
 * resync in the middle of binary data they tell it is not one. Returns the bytes used, or 0
 * (nothing used: malformed).
 */
static size_t inline_bytes(struct run *r, const uint8_t *p, const uint8_t *end)
{
	struct resp_parser *st = &r->s->st;
	const uint8_t *q = p;

	while (q < end) {
		const uint8_t *b = q, *run;
		uint8_t c = *q;

		if (c == '\n') {
			q++;
			if (st->inl != INL_GAP)
				resp_cmd__arg_done(st);
			if (st->argi) {
				st->v.inline_cmd = true;
				cmd_done(r, q);
			} else {
				/* Redis skips an empty line without an answer. */
				st->in_value = false;
				st->state = S_TYPE;
			}
			return q - p;
		}
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return 0;
		switch (st->inl) {
		case INL_GAP:
			q++;
			if (inline_space(c))
				break;
			resp_cmd__arg_start(st);
			st->arg_len = 0;
			if (c == '"') {
				st->inl = INL_DQ;
			} else if (c == '\'') {
				st->inl = INL_SQ;
			} else {
				st->inl = INL_ARG;
				st->arg_len = 1;
				resp_cmd__arg_bytes(st, &c, 1);
			}
			break;
		case INL_ARG:
			if (inline_space(c)) {
				q++;
				resp_cmd__arg_done(st);
				st->inl = INL_GAP;
				break;
			}
			run = q;
			while (q < end && inline_plain(*q))
				q++;
			st->arg_len += q - run;
			resp_cmd__arg_bytes(st, run, q - run);
			break;
		case INL_DQ:
		case INL_SQ:
			q++;
			if (c == '\\') {
				st->inl = st->inl == INL_DQ ? INL_DQ_ESC : INL_SQ_ESC;
			} else if (c == (st->inl == INL_DQ ? '"' : '\'')) {
				resp_cmd__arg_done(st);
				st->inl = INL_GAP;
			} else {
				st->arg_len++;
				resp_cmd__arg_bytes(st, &c, 1);
			}
			break;
		default: /* the byte after a backslash in quotes: itself */
			q++;
			st->arg_len++;
			resp_cmd__arg_bytes(st, &c, 1);
			st->inl = st->inl == INL_DQ_ESC ? INL_DQ : INL_SQ;
			break;
		}
		st->line_len += q - b;
		if (st->line_len > RESP_LINE_MAX)
			return 0;
	}
	return q - p;
}

void resp_stream__init(struct resp_stream *s, enum resp_dir dir)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->synced = true;
}

/* The partial value is dropped when the stream is resynced. */
static void lose(struct resp_stream *s, uint64_t *counter)
{
	(*counter)++;
	s->synced = false;
}

/* The first byte of a value, at p. */
static void value_begin(struct resp_stream *s, const uint8_t *p, uint64_t ts)
{
	struct resp_parser *st = &s->st;

	memset(&st->v, 0, sizeof(st->v));
	st->v.ts_first = ts;
	st->seg = p;
	st->in_value = true;
	/* The frames are empty: a value ends only when the last one closes. */
	resp_cmd__begin(st);
	st->inl = INL_GAP;
}

bool resp_stream__feed(struct resp_stream *s, const uint8_t *p, size_t n, uint64_t ts,
		       resp_value_fn fn, void *ctx)
{
	struct resp_parser *st = &s->st;
	struct run r = { .s = s, .fn = fn, .ctx = ctx };
	const uint8_t *end;

	if (!s->synced)
		return false;
	if (!n)
		return true;
	end = p + n;
	st->seg = p;
	while (p < end) {
		const uint8_t *q;
		uint8_t c;
		size_t k;

		if (!st->in_value)
			value_begin(s, p, ts);
		switch (st->state) {
		case S_TYPE:
			c = *p;
			if (s->dir == RESP_CMD) {
				if (st->args_left) {
					if (c != '$')
						goto bad;
					line_start(st, c, S_LEN);
				} else if (c == '*') {
					line_start(st, c, S_LEN);
				} else {
					/* Anything else starts an inline command, as in Redis. */
					line_start(st, c, S_INLINE);
					break;
				}
				p++;
				break;
			}
			switch (c) {
			case '+':
			case '-':
			case ':':
			case ',':
			case '#':
			case '(':
			case '_':
				line_start(st, c, S_LINE);
				break;
			case '$':
			case '=':
			case '!':
			case '*':
			case '%':
			case '~':
			case '>':
			case '|':
				line_start(st, c, S_LEN);
				break;
			default:
				goto bad;
			}
			p++;
			break;
		case S_LINE:
			q = memchr(p, '\r', end - p);
			k = (q ? q : end) - p;
			if (k > RESP_LINE_MAX - st->line_len)
				goto bad;
			if (st->type == ':') {
				for (size_t i = 0; i < k; i++) {
					c = p[i];
					if ((c == '-' || c == '+') && !st->line_len && !i) {
						st->neg = c == '-';
					} else if (c >= '0' && c <= '9' &&
						   st->num < (1ull << 63) / 5) {
						st->num = st->num * 10 + (c - '0');
						st->digits = true;
					} else {
						goto bad;
					}
				}
			} else if (st->type == '#') {
				/* p < end: p[0] is '\r' in an empty line, false. */
				if (!st->line_len)
					st->num = p[0] == 't';
			} else if (!st->word_done) {
				err_bytes(st, p, k);
			}
			st->line_len += k;
			p += k;
			if (q) {
				p++;
				st->state = S_LF;
			}
			break;
		case S_LEN:
			if (*p == '-' && !st->line_len) {
				st->neg = true;
				st->line_len++;
				p++;
			}
			while (p < end && *p >= '0' && *p <= '9' && st->num <= LEN_MAX) {
				st->num = st->num * 10 + (*p++ - '0');
				st->digits = true;
				st->line_len++;
			}
			if (p == end)
				break;
			if (*p++ != '\r')
				goto bad;
			/* The \n is most often here: end the line without a turn of the loop. */
			if (p == end) {
				st->state = S_LF;
				break;
			}
			if (*p++ != '\n' || !line_end(&r, p))
				goto bad;
			break;
		case S_LF:
			if (*p++ != '\n' || !line_end(&r, p))
				goto bad;
			break;
		case S_BULK:
			k = end - p;
			if (k > st->bulk_left)
				k = st->bulk_left;
			if (st->cap == RESP_CAP_ERR)
				err_bytes(st, p, k);
			else if (st->cap)
				resp_cmd__arg_bytes(st, p, k);
			p += k;
			st->bulk_left -= k;
			if (!st->bulk_left)
				st->state = S_BULK_CR;
			break;
		case S_BULK_CR:
			if (*p++ != '\r')
				goto bad;
			st->state = S_BULK_LF;
			break;
		case S_BULK_LF:
			if (*p++ != '\n')
				goto bad;
			bulk_end(&r, p);
			break;
		case S_INLINE:
			k = inline_bytes(&r, p, end);
			if (!k)
				goto bad;
			p += k;
			break;
		}
	}
	if (st->in_value)
		st->v.bytes += end - st->seg;
	return true;
bad:
	lose(s, &s->stats.malformed);
	return false;
}

bool resp_stream__skip(struct resp_stream *s, uint64_t n)
{
	struct resp_parser *st = &s->st;

	if (!s->synced)
		return false;
	if (!n)
		return true;
	if (st->state != S_BULK || st->bulk_left < n) {
		lose(s, &s->stats.lost_sync);
		return false;
	}
	/* What was being captured has a hole: keep what came before it, marked. */
	if (st->cap == RESP_CAP_KEY)
		st->v.key_cut = true;
	else if (st->cap == RESP_CAP_TOK)
		st->tok_cut = true;
	else if (st->cap == RESP_CAP_ERR)
		st->word_done = true;
	st->cap = RESP_CAP_NONE;
	st->bulk_left -= n;
	st->v.bytes += n;
	s->stats.skipped += n;
	if (!st->bulk_left)
		st->state = S_BULK_CR;
	return true;
}

bool resp_stream__idle(const struct resp_stream *s)
{
	return s->synced && !s->st.in_value;
}

void resp_stream__resync(struct resp_stream *s)
{
	memset(&s->st, 0, sizeof(s->st));
	s->synced = true;
}
