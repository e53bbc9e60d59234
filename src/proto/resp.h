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
 *
 * Memory is this struct: a bulk string is never buffered (512 MB declared costs nothing), and
 * of a command only what its verb needs is kept: the verb, a subcommand, the options it reads
 * (SET's EX, LRANGE's 0 -1, EVAL's numkeys) and the first key. Nothing else of the arguments
 * is copied: AUTH and HELLO passwords, values, CONFIG SET values never are.
 * Not parsed: RESP3 streamed strings and aggregates ($? *? ...), which Redis does not send
 * (malformed, like a length over 2^32).
 */
#ifndef SLOPROBE_RESP_H
#define SLOPROBE_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/cache.h"

#define RESP_DEPTH_MAX 8   /* nesting followed; deeper aggregates are framed, not described */
#define RESP_KEY_MAX   512 /* key bytes kept for the pattern and hash; longer keys are cut */
/*
 * Longer than this is malformed: a simple line's content, or an inline command's bytes before
 * its \n (Redis's own limit, PROTO_INLINE_MAX_SIZE, counts the same).
 */
#define RESP_LINE_MAX 65536

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

/*
 * CLIENT REPLY's argument. OFF: neither it nor the commands after it are answered until
 * CLIENT REPLY ON, which is (+OK). SKIP: neither it nor the next command is answered.
 */
enum resp_client_reply {
	RESP_CLIENT_REPLY_ON = 1,
	RESP_CLIENT_REPLY_OFF,
	RESP_CLIENT_REPLY_SKIP,
};

/* What a command does, by its verb and arguments. */
struct resp_cmd_info {
	/*
	 * READ: GET, GETEX, GETDEL, HGET, HMGET, MGET, HGETALL, EXISTS, SMEMBERS, SISMEMBER,
	 * LRANGE, ZRANGE*, ZSCORE, JSON.GET ...: a nil, empty or 0 answer is a miss.
	 * WRITE: SET*, HSET, MSET, LPUSH ... (commands that store a value).
	 * NO_TTL: the string stores only: SET without EX, PX, EXAT, PXAT or KEEPTTL (any case),
	 * and SETNX, MSET, MSETNX, GETSET, which cannot carry one (SETEX, PSETEX carry one). A
	 * hash, list, set or zset write never has it: those get their TTL from a separate EXPIRE,
	 * which one command cannot show, so flagging them would flag every correct use.
	 * SCAN_ALL: KEYS, SMEMBERS, HGETALL, HKEYS, HVALS, SUNION, SINTER, SDIFF, and LRANGE /
	 * ZRANGE / ZREVRANGE k 0 -1 (ZRANGE without BYSCORE / BYLEX). SCAN is a cursor: not it.
	 */
	uint32_t flags;		   /* CACHE_OP_READ / WRITE / NO_TTL / SCAN_ALL */
	unsigned read_keys;	   /* keys whose reply says hit or miss (MGET k1 k2 k3: 3) */
	bool multi, exec, discard; /* MULTI / EXEC / DISCARD */
	bool subscribe;		   /* (P|S)SUBSCRIBE, MONITOR: replies stop following commands */
	bool no_reply;		   /* CLIENT REPLY OFF/SKIP: the server will not answer */
	uint8_t client_reply;	   /* CLIENT REPLY: enum resp_client_reply; 0: not one */
};

/*
 * A complete top-level value. A reply is described at its top level (an attribute before it
 * is part of its bytes, not of its description); a command is an array (n: its arguments,
 * the verb included) or an inline line, described by its verb and arguments.
 */
struct resp_value {
	uint8_t type;	   /* enum resp_type; a command: RESP_T_ARRAY */
	uint64_t ts_first; /* ts given with the bytes that held its first byte */
	uint64_t bytes;	   /* on the wire, gaps skipped inside it included */
	/* Replies */
	int64_t n;	    /* INT: value; BULK: length; ARRAY/MAP/PUSH: elements (pairs); NIL: -1;
			     * OTHER: 1 for #t, else 0; SIMPLE, ERROR: 0 */
	unsigned nil_elems; /* aggregate: top-level elements that are nil (MGET / HMGET misses) */
	unsigned err_elems; /* aggregate: top-level elements that are errors (EXEC's failures) */
	uint64_t max_bulk;  /* largest bulk string inside, its length (a command: largest arg) */
	char err[CACHE_ERR_MAX]; /* ERROR: the first word ("ERR", "MOVED", "WRONGTYPE") */
	/* Commands */
	char verb[CACHE_VERB_MAX]; /* upper case; a container command with its subcommand */
	unsigned nargs;		   /* arguments after the verb (and subcommand) */
	/*
	 * First key argument (cut at RESP_KEY_MAX), NULL: none. Where it is comes from
	 * resp_cmd.c's verb table; a verb not in it has none, but for a module command (a '.'
	 * in its name: JSON.GET, BF.ADD, FT.SEARCH) it is the first argument.
	 */
	const uint8_t *key;
	size_t key_len;
	bool key_cut;		   /* longer than RESP_KEY_MAX, or a gap fell in it */
	bool inline_cmd;	   /* an inline (telnet-style) command line */
	struct resp_cmd_info info; /* from the verb and the arguments, as they streamed by */
};

/* Each framing lost is counted once: in malformed or in lost_sync. */
struct resp_stats {
	uint64_t values;    /* complete top-level values */
	uint64_t malformed; /* times bytes were not RESP where a value must start or go on */
	uint64_t lost_sync; /* framing lost at a gap in the capture */
	uint64_t skipped;   /* gap bytes skipped inside a bulk string (framing kept) */
	uint64_t deep;	    /* aggregates nested beyond RESP_DEPTH_MAX (framed, not described) */
};

typedef void (*resp_value_fn)(const struct resp_value *v, void *ctx);

/* Parser state: private to resp.c, declared here so that a stream can be embedded. */
struct resp_frame {
	uint64_t left; /* values still to come in this aggregate */
	uint8_t type;  /* enum resp_type of the aggregate */
	bool attr;     /* an attribute: neither a value of its parent nor described */
};

struct resp_parser {
	uint8_t state;	    /* where in a value the next byte falls */
	uint8_t type;	    /* type byte of the line or payload being read */
	uint8_t depth;	    /* frames in use */
	uint8_t attrs;	    /* attribute frames among them */
	uint8_t cap;	    /* where the bytes of the current bulk string or argument go */
	uint8_t inl;	    /* inline command: between arguments, in one, in quotes */
	bool in_value;	    /* a value has begun (idle is its opposite) */
	bool neg, digits;   /* the number being read: sign, any digit yet */
	bool word_done;	    /* the error's first word is complete */
	uint32_t line_len;  /* bytes of the line being read */
	uint64_t num;	    /* the number being read */
	uint64_t bulk_left; /* payload bytes still to come */
	uint64_t deep_left; /* values still to come in an aggregate beyond RESP_DEPTH_MAX */
	struct resp_frame stack[RESP_DEPTH_MAX];
	const uint8_t *seg;  /* during a feed: where the current value's bytes began in it */
	struct resp_value v; /* the value being read */
	/* Commands */
	const void *def;    /* the verb's entry in resp_cmd.c's table */
	uint64_t args_left; /* arguments of the array still to come */
	uint64_t arg_len;   /* bytes of the argument being read */
	uint32_t argi;	    /* its index (0: the verb) */
	uint32_t key_at;    /* index of the first key argument, 0: not known (yet) */
	uint32_t opt;	    /* what the arguments said so far (resp.c: enum opt_seen) */
	uint8_t tok_len;
	bool tok_cut;
	uint8_t tok[32];      /* the argument being read, when the verb needs to see it */
	const void *last_def; /* the last verb looked up, and its entry */
	char last_verb[CACHE_VERB_MAX];
	uint8_t key[RESP_KEY_MAX]; /* the first key */
};

struct resp_stream {
	uint8_t dir; /* enum resp_dir */
	bool synced; /* false after a lost framing, until resp_stream__resync */
	struct resp_parser st;
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
 * The pattern of a key (resp_key.c): no literal that identifies one object survives in it.
 * The key is split into parts at ':' '/' '|' '#' ',' '=' and, inside those, at '.'; every
 * separator is kept. A part becomes {id} when it contains '@' (an e-mail address: the whole
 * run between the strong separators, domain included), when it is a token (20+ bytes of
 * [A-Za-z0-9+_-] with both cases and a digit), or when its literal text, identifiers aside,
 * is over 40 bytes (a value used as a key). Inside a part, a UUID becomes {id}; so does a word
 * (letters and digits) that is 8+ hex digits with a digit, or that mixes letters and digits
 * more than once ("a1b2"); in any other word a run of digits becomes {id}. "v" with one or two
 * digits ("v1", "v12") is a version and is kept. Bytes that are not printable, and '\', are
 * written \xNN.
 *   "user:42:plan" -> "user:{id}:plan"       "sess:9f8e7d6c5b4a" -> "sess:{id}"
 *   "order-1234" -> "order-{id}"             "api:v1:users" -> "api:v1:users"
 *   "mail:bob@example.com:prefs" -> "mail:{id}:prefs"   "rate:10.0.0.1" ->
 * "rate:{id}.{id}.{id}.{id}" "celery-task-meta-<uuid>" -> "celery-task-meta-{id}"   "deadbeef" (no
 * digit) -> "deadbeef" Returns the length written (out always NUL-terminated when outsz > 0; a
 * pattern cut to outsz ends with "...", never in the middle of an {id} or an escape).
 */
size_t resp__key_pattern(const uint8_t *key, size_t len, char *out, size_t outsz);

#endif
