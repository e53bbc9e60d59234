// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's reader (run__parse, run__load): the text taken by the scanner (lib/jscan.h), from
 * a file in blocks, the members of the top level one by one, each array of rows streamed and
 * each row loaded as it is read, so no DOM of the whole file is ever built. Its own file because
 * it knows how the text is read, not what a report holds (run_load_section.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <json-c/json.h>

#include "lib/jscan.h"
#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

#define MAX_INPUT  (1u << 30) /* a report beyond 1 GiB is not one we wrote */
#define JSON_DEPTH 64

static const struct stream {
	const char *in; /* the member of the top level it is in ("timeline"); NULL: the top level */
	const char *key;
	size_t size;
	int (*load)(struct ld *l, json_object *o, const char *w, void *row);
} streams[S_NR] = {
	[S_HTTP] = { NULL, "http", sizeof(struct run_endpoint), ld__load_endpoint_row },
	[S_DB] = { NULL, "db", sizeof(struct run_dbq), ld__load_dbq_row },
	[S_FLAGS] = { NULL, "db_flags", sizeof(struct run_flag), ld__load_flag },
	[S_SLO] = { NULL, "slo", sizeof(struct run_slo), ld__load_slo_row },
	[S_TL_HTTP] = { "timeline", "http", sizeof(struct run_series), ld__load_http_series },
	[S_TL_DB] = { "timeline", "db", sizeof(struct run_series), ld__load_db_series },
	[S_CACHE_ROWS] = { "cache", "rows", sizeof(struct run_cache_row), ld__load_cache_row },
	[S_OUT_CALLS] = { "outbound", "calls", sizeof(struct run_out_call), ld__load_out_row },
	[S_OUT_DESTS] = { "outbound", "destinations", sizeof(struct run_out_dest),
			  ld__load_out_dest_row },
	[S_EXEMPLARS] = { NULL, "exemplars", sizeof(struct run_exemplar), ld__load_exemplar_row },
};

/* Members the loader reads; the values of others are checked and skipped, never parsed. */
static const char *const top_keys[] = {
	"schema",  "tool",	  "host",     "window",	     "command",
	"filters", "definitions", "events",   "connections", "http_parser",
	"bpf",	   "db_hotspots", "db_stats", "timeline",    "slo_summary",
	"cache",   "outbound",	  "tcp",      "exemplar_stats", NULL,
};
static const char *const timeline_keys[] = { "interval_s", "points_dropped", NULL };
static const char *const cache_keys[] = { "system",   "commands",    "errors",	"hits",
					  "misses",   "hit_ratio",   "clients", "flags",
					  "timeline", "attribution", "drops",	NULL };
static const char *const outbound_keys[] = { "stats", NULL };

/* The top-level members whose rows are streamed: objects whose members are read one by one. */
static bool nested(const char *k)
{
	return !strcmp(k, "timeline") || !strcmp(k, "cache") || !strcmp(k, "outbound");
}

static bool known_key(const char *k, const char *in)
{
	const char *const *keys = !in			    ? top_keys
				  : !strcmp(in, "timeline") ? timeline_keys
				  : !strcmp(in, "outbound") ? outbound_keys
							    : cache_keys;

	for (size_t i = 0; keys[i]; i++)
		if (!strcmp(k, keys[i]))
			return true;
	return false;
}

/* A zeroed row at the end of rs. */
static void *rows_push(struct rows *rs, size_t size)
{
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct run_arena *b = realloc(rs->blk, sizeof(*b) + cap * size);

		if (!b)
			return NULL;
		rs->blk = b;
		rs->cap = cap;
	}
	return memset(rs->blk->data + rs->n++ * size, 0, size);
}

int ld__rows_of(struct ld *l, int k, void **v, unsigned *n)
{
	struct rows *rs = &l->rows[k];

	if (rs->ret) {
		snprintf(l->err, l->errsz, "%s", rs->err ? rs->err : "out of memory");
		return rs->ret;
	}
	/* An empty array still gets a (zeroed) row of storage, as consumers expect. */
	if (!rs->blk) {
		if (!rows_push(rs, streams[k].size))
			return ld__nomem(l);
		rs->n = 0;
	}
	*v = rs->blk->data;
	*n = (unsigned)rs->n;
	return 0;
}

/* Give the blocks of rows to the run's arena, which frees them with everything else. */
static void rows_adopt(struct ld *l)
{
	struct run_arena *head = l->r->arena;

	for (int k = 0; k < S_NR; k++) {
		struct run_arena *b = l->rows[k].blk;

		free(l->rows[k].err);
		if (!b)
			continue;
		b->used = b->size = l->rows[k].cap * streams[k].size;
		if (head) {
			b->next = head->next;
			head->next = b;
		} else {
			free(b);
		}
	}
}

/* 1-based line and column of byte off of a piece that starts at line, col. */
static void piece_pos(const char *p, size_t off, unsigned *line, unsigned *col)
{
	for (size_t i = 0; i < off; i++) {
		if (p[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* The DOM of the piece (p, n) the scanner just took and checked. */
static int dom(struct ld *l, const char *p, size_t n, json_object **out)
{
	enum json_tokener_error jerr;
	unsigned line = l->js->piece_line, col = l->js->piece_col;

	json_tokener_reset(l->tok);
	*out = json_tokener_parse_ex(l->tok, p, (int)n);
	jerr = json_tokener_get_error(l->tok);
	/* A number or a literal alone ends only where something follows it. */
	if (jerr == json_tokener_continue) {
		*out = json_tokener_parse_ex(l->tok, " ", 1);
		jerr = json_tokener_get_error(l->tok);
	}
	if (jerr == json_tokener_success)
		return 0;
	json_object_put(*out);
	*out = NULL;
	/* Not expected after the scanner's checks, but json-c has the last word on the text. */
	piece_pos(p, json_tokener_get_parse_end(l->tok), &line, &col);
	snprintf(l->err, l->errsz, "malformed JSON at line %u, column %u: %s", line, col,
		 json_tokener_error_desc(jerr));
	return -EINVAL;
}

/* The elements of array key, each loaded as it is read; the first error is kept for later. */
static int stream_rows(struct ld *l, int k, const char *key)
{
	const struct stream *st = &streams[k];
	struct rows *rs = &l->rows[k];
	struct jscan *js = l->js;
	char w[W_MAX];
	int more, err;

	if (jscan__open(js, '['))
		return js->err;
	for (size_t i = 0; (more = jscan__more(js, ']', !i)) == 1; i++) {
		const char *p;
		json_object *o;
		size_t n;
		void *row;

		jscan__push_index(js, (int64_t)i);
		if (rs->ret) {
			if (jscan__skip(js))
				return js->err;
			jscan__pop(js);
			continue;
		}
		if (jscan__take(js, &p, &n))
			return js->err;
		if ((err = dom(l, p, n, &o)))
			return err;
		row = rows_push(rs, st->size);
		ld__wpath(w, "%s%s%s[%zu]", st->in ? st->in : "", st->in ? "." : "", key, i);
		err = row ? st->load(l, o, w, row) : ld__nomem(l);
		json_object_put(o);
		if (err == -ENOMEM)
			return err;
		if (err) {
			rs->ret = err;
			rs->err = strdup(l->err);
		}
		jscan__pop(js);
	}
	return more < 0 ? more : 0;
}

/*
 * The members of an object read one by one: the top level (in NULL), and "timeline" and "cache"
 * in it. Known members get their DOM in obj; arrays of rows are streamed and leave an empty
 * array in obj.
 */
static int members(struct ld *l, json_object *obj, const char *in)
{
	struct jscan *js = l->js;
	char key[JSCAN_KEY_MAX], w[W_MAX];
	int more, err = 0;

	if (jscan__open(js, '{'))
		return js->err;
	for (bool first = true; (more = jscan__more(js, '}', first)) == 1; first = false) {
		json_object *v = NULL;
		const char *p;
		int k, c;
		size_t n;

		if (jscan__key(js, key, sizeof(key)))
			return js->err;
		c = jscan__peek(js);
		for (k = 0; k < S_NR; k++)
			if (!strcmp(streams[k].in ? streams[k].in : "", in ? in : "") &&
			    !strcmp(streams[k].key, key))
				break;
		if ((k == S_NR && !known_key(key, in)) ||
		    json_object_object_get_ex(obj, key, NULL)) {
			/* Unknown, or given twice: json-c would keep the last, silently. */
			if (k < S_NR || known_key(key, in)) {
				jscan__path(js, w, sizeof(w));
				if (!l->dup[0])
					snprintf(l->dup, sizeof(l->dup), "%s: given twice", w);
			}
			if (jscan__skip(js))
				return js->err;
		} else if (k < S_NR && c == '[') {
			v = json_object_new_array();
			if (!v || json_object_object_add(obj, key, v))
				return ld__nomem(l);
			if ((err = stream_rows(l, k, key)))
				return err;
		} else if (!in && nested(key) && c == '{') {
			v = json_object_new_object();
			if (!v || json_object_object_add(obj, key, v))
				return ld__nomem(l);
			if ((err = members(l, v, key)))
				return err;
		} else {
			if (jscan__take(js, &p, &n))
				return js->err;
			if ((err = dom(l, p, n, &v)))
				return err;
			if (json_object_object_add(obj, key, v)) {
				json_object_put(v);
				return ld__nomem(l);
			}
		}
		jscan__pop(js);
	}
	return more < 0 ? more : 0;
}

static const char *kind_of(int c)
{
	switch (c) {
	case '[':
		return "an array";
	case '"':
		return "a string";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

static int parse(struct run *r, struct jscan *js, const char *path, char *err, size_t errsz)
{
	struct ld l = { .r = r, .err = err, .errsz = errsz, .js = js };
	json_object *root = NULL;
	int ret, c;

	if (errsz)
		err[0] = '\0';
	ret = run__init(r);
	if (ret)
		return ld__nomem(&l);
	r->path = run__strdup(r, path ? path : "-");
	l.tok = json_tokener_new_ex(JSON_DEPTH);
	root = json_object_new_object();
	if (!r->path || !l.tok || !root) {
		ret = ld__nomem(&l);
		goto out;
	}
	json_tokener_set_flags(l.tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	c = jscan__peek(js);
	if (c == '{') {
		ret = members(&l, root, NULL);
	} else {
		/* Checked whole first: a malformed file is reported as such. */
		ret = jscan__skip(js);
		if (!ret && !(ret = jscan__end(js)))
			ret = ld__fail(&l, "", NULL, "not a sloprobe report: the top level is %s",
				       kind_of(c));
	}
	if (!ret)
		ret = jscan__end(js);
	if (ret == -EFBIG) {
		snprintf(err, errsz, "larger than 1 GiB: not a report");
		ret = -EINVAL;
	} else if (ret && js->err) {
		snprintf(err, errsz, "%s", js->msg);
	}
	if (!ret)
		ret = ld__load(&l, root);
out:
	rows_adopt(&l);
	json_object_put(root);
	if (l.tok)
		json_tokener_free(l.tok);
	if (ret)
		run__free(r);
	return ret;
}

int run__parse(struct run *r, const char *buf, size_t len, const char *path, char *err,
	       size_t errsz)
{
	struct jscan js;

	jscan__init_mem(&js, buf, len);
	return parse(r, &js, path, err, errsz);
}

int run__load(struct run *r, const char *path, char *err, size_t errsz)
{
	struct jscan js;
	struct stat st;
	int fd, ret;

	/* Read in blocks, never whole: a report of 100 000 endpoints is 350 MB of text. */
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0) {
		snprintf(err, errsz, "%s", strerror(errno));
		return -errno;
	}
	ret = fstat(fd, &st) ? -errno : S_ISDIR(st.st_mode) ? -EISDIR : 0;
	if (ret) {
		snprintf(err, errsz, "%s", strerror(-ret));
		close(fd);
		return ret;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > MAX_INPUT) {
		close(fd);
		snprintf(err, errsz, "larger than 1 GiB: not a report");
		return -EINVAL;
	}
	if (jscan__init_fd(&js, fd, MAX_INPUT)) {
		close(fd);
		snprintf(err, errsz, "%s", strerror(ENOMEM));
		return -ENOMEM;
	}
	ret = parse(r, &js, path, err, errsz);
	jscan__free(&js);
	close(fd);
	return ret;
}
