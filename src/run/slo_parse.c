// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SLO file (docs/slo.md), read with libyaml's document API. Every problem is fatal and
 * reported once as "file:line:column: message" at the node at fault; unknown and duplicate
 * keys included, since a misspelt key silently ignored would be an objective never checked.
 *
 * This file reads the YAML: parser events into one document under the limits of
 * run/slo_parse.h, anchors looked up by hash, errors at a position; slo_build.c makes the
 * SLOs of the document's nodes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/file.h"
#include "run/slo.h"
#include "run/slo_parse.h"

struct anchor {
	char *name; /* NULL: free slot */
	int id;
	size_t line;
};

static int err_mark(struct ctx *x, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int slo_parse__verr(struct ctx *x, yaml_mark_t m, const char *fmt, va_list ap)
{
	int n;

	if (!x->errsz)
		return -EINVAL;
	n = snprintf(x->err, x->errsz, "%s:%zu:%zu: ", x->file, m.line + 1, m.column + 1);
	if (n >= 0 && (size_t)n < x->errsz)
		vsnprintf(x->err + n, x->errsz - n, fmt, ap);
	/* Keys and values are quoted as written: keep the message on one line. */
	for (char *p = x->err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return -EINVAL;
}

static int err_mark(struct ctx *x, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	slo_parse__verr(x, m, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

yaml_node_t *slo_parse__node(struct ctx *x, int id)
{
	return yaml_document_get_node(&x->doc, id);
}

static int yaml_error(struct ctx *x, yaml_parser_t *p)
{
	if (p->error == YAML_MEMORY_ERROR)
		return err_mark(x, p->problem_mark, "out of memory");
	if (p->context)
		return err_mark(x, p->problem_mark, "YAML syntax: %s %s",
				p->problem ? p->problem : "error", p->context);
	return err_mark(x, p->problem_mark, "YAML syntax: %s", p->problem ? p->problem : "error");
}

static uint64_t anchor_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct anchor *anchor_slot(struct anchor *v, size_t cap, const char *name)
{
	size_t i = anchor_hash(name) & (cap - 1);

	while (v[i].name && strcmp(v[i].name, name))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

/* Anchors are looked up by hash: a list searched per alias made aliases quadratic. */
static int anchor_add(struct ctx *x, const yaml_event_t *ev, const char *name, int id)
{
	struct anchor *a;

	if (x->nanchors + 1 > x->cap / 2) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct anchor *v = calloc(cap, sizeof(*v));

		if (!v)
			return err_mark(x, ev->start_mark, "out of memory");
		for (size_t i = 0; i < x->cap; i++)
			if (x->anchors[i].name)
				*anchor_slot(v, cap, x->anchors[i].name) = x->anchors[i];
		free(x->anchors);
		x->anchors = v;
		x->cap = cap;
	}
	a = anchor_slot(x->anchors, x->cap, name);
	if (a->name)
		return err_mark(x, ev->start_mark, "duplicate anchor &%.64s (first at line %zu)",
				name, a->line);
	a->name = strdup(name);
	if (!a->name)
		return err_mark(x, ev->start_mark, "out of memory");
	a->id = id;
	a->line = ev->start_mark.line + 1;
	x->nanchors++;
	return 0;
}

static void anchors_free(struct ctx *x)
{
	for (size_t i = 0; i < x->cap; i++)
		free(x->anchors[i].name);
	free(x->anchors);
}

struct frame {
	int id;
	int key; /* of a mapping: the key read, waiting for its value; 0: none */
};

/* Hang node id under the innermost open collection; with none, it is the root. */
static int attach(struct ctx *x, struct frame *f, const yaml_event_t *ev, int id)
{
	yaml_node_t *parent = slo_parse__node(x, f->id);
	int ok;

	if (parent->type == YAML_SEQUENCE_NODE) {
		ok = yaml_document_append_sequence_item(&x->doc, f->id, id);
	} else if (!f->key) {
		f->key = id;
		return 0;
	} else {
		ok = yaml_document_append_mapping_pair(&x->doc, f->id, f->key, id);
		f->key = 0;
	}
	return ok ? 0 : err_mark(x, ev->start_mark, "out of memory");
}

/*
 * The events of one document, from its DOCUMENT-START (read by the caller) to its
 * DOCUMENT-END, into x->doc; every limit is checked on the event that would exceed it.
 */
static int load_document(struct ctx *x, yaml_parser_t *p)
{
	struct frame stack[MAX_DEPTH + 1];
	int depth = 0, err = 0;
	yaml_event_t ev;

	if (!yaml_document_initialize(&x->doc, NULL, NULL, NULL, 1, 1))
		return err_mark(x, p->mark, "out of memory");
	while (!err) {
		yaml_node_t *n;
		const char *anchor = NULL;
		int id = 0;

		if (!yaml_parser_parse(p, &ev))
			return yaml_error(x, p);
		if (ev.type == YAML_DOCUMENT_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if ((ev.type == YAML_SCALAR_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
		     ev.type == YAML_MAPPING_START_EVENT) &&
		    x->doc.nodes.top - x->doc.nodes.start >= MAX_NODES) {
			err = err_mark(x, ev.start_mark, "more than %d YAML nodes", MAX_NODES);
			break;
		}
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			/* Tags are not used: every key and value is read as a string. */
			id = yaml_document_add_scalar(&x->doc, NULL, ev.data.scalar.value,
						      (int)ev.data.scalar.length,
						      ev.data.scalar.style);
			anchor = (const char *)ev.data.scalar.anchor;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (depth == MAX_DEPTH) {
				err = err_mark(x, ev.start_mark, "nested more than %d levels deep",
					       MAX_DEPTH);
				continue;
			}
			if (ev.type == YAML_SEQUENCE_START_EVENT) {
				id = yaml_document_add_sequence(&x->doc, NULL,
								ev.data.sequence_start.style);
				anchor = (const char *)ev.data.sequence_start.anchor;
			} else {
				id = yaml_document_add_mapping(&x->doc, NULL,
							       ev.data.mapping_start.style);
				anchor = (const char *)ev.data.mapping_start.anchor;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			slo_parse__node(x, stack[--depth].id)->end_mark = ev.end_mark;
			yaml_event_delete(&ev);
			continue;
		case YAML_ALIAS_EVENT: {
			const char *name = (const char *)ev.data.alias.anchor;
			struct anchor *a = x->cap ? anchor_slot(x->anchors, x->cap, name) : NULL;

			if (!a || !a->name) {
				err = err_mark(x, ev.start_mark,
					       "YAML syntax: found undefined alias");
				continue;
			}
			/* An anchor is known from its node's start: refuse a cycle. */
			for (int i = 0; i < depth && !err; i++)
				if (stack[i].id == a->id)
					err = err_mark(x, ev.start_mark,
						       "alias *%.64s inside its own anchor", name);
			if (!err && depth)
				err = attach(x, &stack[depth - 1], &ev, a->id);
			yaml_event_delete(&ev);
			continue;
		}
		default:
			yaml_event_delete(&ev);
			continue;
		}
		if (!id) {
			err = err_mark(x, ev.start_mark, "out of memory");
			break;
		}
		n = slo_parse__node(x, id);
		n->start_mark = ev.start_mark;
		n->end_mark = ev.end_mark;
		if (anchor)
			err = anchor_add(x, &ev, anchor, id);
		if (!err && depth)
			err = attach(x, &stack[depth - 1], &ev, id);
		if (!err && n->type != YAML_SCALAR_NODE)
			stack[depth++] = (struct frame){ .id = id };
		yaml_event_delete(&ev);
	}
	yaml_event_delete(&ev);
	return err;
}

/*
 * libyaml checks every %TAG directive against all earlier ones before the first event is
 * returned; directives only start a line, so count those lines first.
 */
static int directives(struct ctx *x, const char *buf, size_t len)
{
	yaml_mark_t m = { 0 };
	unsigned n = 0;

	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '%' && (!i || buf[i - 1] == '\n') && ++n > MAX_DIRECTIVES)
			return err_mark(x, m, "more than %d YAML directives", MAX_DIRECTIVES);
		if (buf[i] == '\n')
			m.line++;
	}
	return 0;
}

/* Next event of the stream; a syntax error is reported. */
static int next_event(struct ctx *x, yaml_parser_t *p, yaml_event_t *ev)
{
	return yaml_parser_parse(p, ev) ? 0 : yaml_error(x, p);
}

struct slo_set *slo__parse_string(const char *buf, size_t len, const char *name, char *err,
				  size_t errsz)
{
	struct ctx x = { .file = name, .err = err, .errsz = errsz };
	yaml_mark_t start = { 0 };
	yaml_parser_t parser;
	yaml_event_t ev;
	yaml_node_t *root;
	int ret = -EINVAL;

	if (errsz)
		err[0] = '\0';
	x.set = calloc(1, sizeof(*x.set));
	if (!x.set || !(x.set->file = strdup(name))) {
		err_mark(&x, start, "out of memory");
		free(x.set);
		return NULL;
	}
	if (directives(&x, buf, len)) {
		slo__free(x.set);
		return NULL;
	}
	if (!yaml_parser_initialize(&parser)) {
		err_mark(&x, start, "out of memory");
		slo__free(x.set);
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	/* STREAM-START, then DOCUMENT-START or, for an empty file, STREAM-END. */
	if (next_event(&x, &parser, &ev))
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&x, &parser, &ev))
		goto out;
	if (ev.type != YAML_DOCUMENT_START_EVENT) {
		yaml_event_delete(&ev);
		err_mark(&x, start, "empty SLO file");
		goto out;
	}
	yaml_event_delete(&ev);
	if (load_document(&x, &parser))
		goto out;
	root = yaml_document_get_root_node(&x.doc);
	if (!root) {
		err_mark(&x, start, "empty SLO file");
	} else if (!slo_parse__build(&x, root) && !next_event(&x, &parser, &ev)) {
		/* A second document would be ignored by the reader: refuse it. */
		if (ev.type == YAML_STREAM_END_EVENT) {
			ret = 0;
		} else {
			yaml_event_t first;

			if (!next_event(&x, &parser, &first)) {
				err_mark(&x, first.start_mark, "only one YAML document is allowed");
				yaml_event_delete(&first);
			}
		}
		yaml_event_delete(&ev);
	}
out:
	yaml_document_delete(&x.doc);
	yaml_parser_delete(&parser);
	anchors_free(&x);
	if (ret) {
		slo__free(x.set);
		return NULL;
	}
	return x.set;
}

struct slo_set *slo__parse_file(const char *path, char *err, size_t errsz)
{
	struct slo_set *s;
	size_t len;
	char *buf;
	int r = file__read(path, SLO_FILE_MAX, &buf, &len);

	if (r) {
		snprintf(err, errsz, "%s: %s", path,
			 r == -EFBIG ? "file too large (over 4 MiB)" : strerror(-r));
		return NULL;
	}
	s = slo__parse_string(buf, len, path, err, errsz);
	free(buf);
	return s;
}
