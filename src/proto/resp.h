/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Redis serialization protocol (RESP2 and RESP3), client side: a pure, streaming parser over
 * the bytes of one direction of a connection. Commands (client -> server: arrays of bulk
 * strings, or inline lines) and replies (server -> client: every RESP2/RESP3 type) are framed
 * exactly however the bytes are split over reads and writes; bytes the capture did not carry
 * (the middle of a large transfer) are skipped where the framing says what they are (inside a
 * bulk string) and lose the framing otherwise, which is counted and recovered at the next
 * transfer. No allocation per value; no literal leaves the parser except through the
 * callback, valid during the call only.
 */
#ifndef SLOPROBE_RESP_H
#define SLOPROBE_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/cache.h"

#define RESP_DEPTH_MAX 8     /* nesting followed; deeper aggregates are framed, not described */
#define RESP_KEY_MAX   512   /* key bytes kept for the pattern and hash; longer keys are cut */
#define RESP_LINE_MAX  65536 /* an inline command or a simple line longer than this: malformed */

enum resp_dir {
	RESP_CMD = 0,	/* client -> server */
	RESP_REPLY = 1, /* server -> client */
};

enum resp_type {
	RESP_T_SIMPLE = 1, /* +OK */
	RESP_T_ERROR,	   /* -ERR ..., and RESP3 blob error ! */
	RESP_T_INT,	   /* : */
	RESP_T_BULK,	   /* $n, and RESP3 verbatim = */
	RESP_T_NIL,	   /* $-1, *-1, RESP3 _ */
	RESP_T_ARRAY,	   /* *n, RESP3 set ~ */
	RESP_T_MAP,	   /* RESP3 %n (n pairs) and attribute | (skipped: not a reply) */
	RESP_T_PUSH,	   /* RESP3 >n: out of band, not the reply to a command */
	RESP_T_OTHER,	   /* RESP3 double , boolean # big number ( */
};

/* What a command does, by its verb and arguments. */
struct resp_cmd_info {
	/*
	 * READ: GET, GETEX, GETDEL, HGET, HMGET, MGET, HGETALL, EXISTS, SMEMBERS, SISMEMBER,
	 * LRANGE, ZRANGE*, ZSCORE, JSON.GET ...: a nil, empty or 0 answer is a miss.
	 * WRITE: SET*, HSET, MSET, LPUSH ...; NO_TTL: SET / MSET / HSET without EX, PX, EXAT, PXAT
	 * or KEEPTTL (SETEX, PSETEX and SET ... EX carry one).
	 */
	uint32_t flags;	     /* CACHE_OP_READ / WRITE / NO_TTL / SCAN_ALL */
	unsigned read_keys;  /* keys whose reply says hit or miss (MGET k1 k2 k3: 3) */
	bool multi, exec, discard; /* MULTI / EXEC / DISCARD */
	bool subscribe;	     /* (P|S)SUBSCRIBE, MONITOR: replies stop following commands */
	bool no_reply;	     /* CLIENT REPLY OFF/SKIP: the server will not answer */
};

/* A complete top-level value. */
struct resp_value {
	uint8_t type;	   /* enum resp_type */
	uint64_t ts_first; /* ts given with the bytes that held its first byte */
	uint64_t bytes;	   /* on the wire */
	/* Replies */
	int64_t n;		 /* INT: value; BULK: length; ARRAY/MAP/PUSH: elements (pairs) */
	unsigned nil_elems;	 /* ARRAY: top-level elements that are nil (MGET / HMGET misses) */
	uint64_t max_bulk;	 /* largest bulk string inside, its length */
	char err[CACHE_ERR_MAX]; /* ERROR: the first word ("ERR", "MOVED", "WRONGTYPE") */
	/* Commands */
	char verb[CACHE_VERB_MAX]; /* upper case; a container command with its subcommand */
	unsigned nargs;		   /* arguments after the verb (and subcommand) */
	const uint8_t *key;	   /* first key argument (cut at RESP_KEY_MAX), NULL: none */
	size_t key_len;
	bool key_cut;
	bool inline_cmd;	     /* an inline (telnet-style) command line */
	struct resp_cmd_info info; /* from the verb and the arguments, as they streamed by */
};


struct resp_stats {
	uint64_t values;    /* complete top-level values */
	uint64_t malformed; /* bytes that are not RESP where a value must start or go on */
	uint64_t lost_sync; /* framing lost at a gap in the capture */
	uint64_t skipped;   /* gap bytes skipped inside a bulk string (framing kept) */
	uint64_t deep;	    /* aggregates nested beyond RESP_DEPTH_MAX (framed, not described) */
};

typedef void (*resp_value_fn)(const struct resp_value *v, void *ctx);

struct resp_stream {
	uint8_t dir; /* enum resp_dir */
	bool synced; /* false after a lost framing, until resp_stream__resync */
	/* Parser state: private. */
	uint8_t st[2048];
	struct resp_stats stats;
};

void resp_stream__init(struct resp_stream *s, enum resp_dir dir);
/*
 * Bytes of the direction, in order; ts: when they were transferred (the syscall's time).
 * Calls fn for each value completed by them. Returns false when the framing is lost (the
 * stream is then unsynced and ignores bytes until resp_stream__resync).
 */
bool resp_stream__feed(struct resp_stream *s, const uint8_t *p, size_t n, uint64_t ts,
		       resp_value_fn fn, void *ctx);
/* n bytes went by unseen (the middle of a large transfer). false: framing lost. */
bool resp_stream__skip(struct resp_stream *s, uint64_t n);
/* Whether the stream is between values (nothing partial pending). */
bool resp_stream__idle(const struct resp_stream *s);
/* The next byte fed starts a value: after a lost framing, at a transfer boundary. */
void resp_stream__resync(struct resp_stream *s);

/*
 * The pattern of a key: parts that identify one object become {id} (decimal numbers, UUIDs,
 * hex strings, and digits inside a part: "user:42:plan" -> "user:{id}:plan",
 * "sess:9f8e7d6c5b4a" -> "sess:{id}", "order-1234" -> "order-{id}"); bytes that are not
 * printable are escaped. Returns the length written (out always NUL-terminated; a pattern cut
 * to outsz ends with "...").
 */
size_t resp__key_pattern(const uint8_t *key, size_t len, char *out, size_t outsz);

#endif
