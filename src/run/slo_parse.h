/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The state of one SLO file being read, shared by its two halves: slo_parse.c reads the YAML
 * (libyaml events into a document, under limits, anchors, errors at a position) and
 * slo_build.c builds the SLOs and objectives from the document's nodes. Private to them:
 * everything else calls slo__parse_file() or slo__parse_string() (run/slo.h).
 */
#ifndef SLOPROBE_SLO_PARSE_H
#define SLOPROBE_SLO_PARSE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

/*
 * The document is built from parser events (slo_parse.c), not by yaml_parser_load(), so that
 * these are checked as the file is read: libyaml itself takes time quadratic in the nesting
 * depth (a file of 100 KB of "[" took 15 s), in the number of anchors (a linear search per
 * alias) and in the number of %TAG directives. A real SLO file is 6 levels deep and has a few
 * hundred nodes.
 */
#define MAX_DEPTH      64
#define MAX_NODES      200000 /* also bounds the nodes the checks visit through aliases */
#define MAX_DIRECTIVES 16

struct anchor;

struct ctx {
	yaml_document_t doc;
	const char *file;
	char *err;
	size_t errsz;
	struct slo_set *set;
	unsigned nobjs;
	bool min_samples_given; /* the file has min_samples: cache SLOs take it too */
	size_t visits;
	struct anchor *anchors; /* open addressing; nanchors < cap / 2 */
	size_t nanchors, cap;
};

/* "file:line:column: message" at m into x->err, on one line; returns -EINVAL. */
int slo_parse__verr(struct ctx *x, yaml_mark_t m, const char *fmt, va_list ap);
yaml_node_t *slo_parse__node(struct ctx *x, int id);
/* The SLO set x->set from the root node of x->doc; 0, or -EINVAL with x->err written. */
int slo_parse__build(struct ctx *x, yaml_node_t *root);

#endif
