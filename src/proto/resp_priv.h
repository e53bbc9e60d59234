/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the RESP files: resp.c frames the bytes and hands each command argument to
 * resp_cmd.c, which knows what the verb is and which of its arguments to keep.
 */
#ifndef SLOPROBE_RESP_PRIV_H
#define SLOPROBE_RESP_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "proto/resp.h"

/* Where the bytes of a bulk string or an argument go (st->cap). */
enum resp_cap {
	RESP_CAP_NONE = 0,
	RESP_CAP_TOK, /* st->tok: the verb, a subcommand, an option the verb needs to see */
	RESP_CAP_KEY, /* st->key */
	RESP_CAP_ERR, /* v.err: a top-level error's first word (resp.c) */
};

/* A command starts: no verb yet. */
void resp_cmd__begin(struct resp_parser *st);
/* Argument st->argi starts: sets st->cap, where its bytes go. */
void resp_cmd__arg_start(struct resp_parser *st);
/* Bytes of it (any number of calls). */
void resp_cmd__arg_bytes(struct resp_parser *st, const uint8_t *p, size_t k);
/* It is complete (st->arg_len: its length). */
void resp_cmd__arg_done(struct resp_parser *st);
/* The last argument is read: the command's verb, key and info into st->v. */
void resp_cmd__describe(struct resp_parser *st);

#endif
