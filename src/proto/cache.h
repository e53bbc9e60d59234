/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One cache command (Redis today) as the client saw it: the neutral record a cache protocol's
 * client engine hands to the sink, like struct db_exec for databases. The key is reduced to
 * its pattern before it gets here (proto/resp.h: resp__key_pattern): literals never leave the
 * engine unless the user asked for them (raw_key).
 */
#ifndef SLOPROBE_CACHE_H
#define SLOPROBE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define CACHE_VERB_MAX	  24  /* "CLIENT" "SETNAME" joined: "CLIENT SETNAME" */
#define CACHE_PATTERN_MAX 128 /* key pattern, cut (and marked) beyond */
#define CACHE_ERR_MAX	  16  /* first word of an error reply: "ERR", "MOVED", "WRONGTYPE" */

enum cache_op_flag {
	CACHE_OP_ERROR = 1 << 0,    /* the reply was an error */
	CACHE_OP_READ = 1 << 1,	    /* a read whose reply says hit or miss (GET, HGET, MGET, ...) */
	CACHE_OP_WRITE = 1 << 2,    /* stores a value (SET, HSET, ...) */
	CACHE_OP_NO_TTL = 1 << 3,   /* a SET-like write without EX/PX/EXAT/PXAT/KEEPTTL */
	CACHE_OP_ABORTED = 1 << 4,  /* connection closed or process exited before the reply */
	CACHE_OP_APPROX = 1 << 5,   /* reply end found after lost framing: time may be late */
	CACHE_OP_PIPELINED = 1 << 6, /* sent while earlier commands of its connection waited */
	CACHE_OP_IN_TX = 1 << 7,    /* queued in MULTI: its time is EXEC's */
	CACHE_OP_SCAN_ALL = 1 << 8, /* KEYS, SMEMBERS, HGETALL, LRANGE 0 -1, ...: whole structure */
};

struct cache_op {
	uint32_t flags;	  /* enum cache_op_flag */
	uint32_t tgid;	  /* client process */
	uint32_t tid;	  /* thread that wrote the command */
	uint64_t conn_id; /* sockio connection id */
	uint64_t ts_start; /* ns, CLOCK_MONOTONIC: the write that carried the command's first byte */
	uint64_t ts_end;   /* the read that carried the reply's last byte */
	char verb[CACHE_VERB_MAX];	 /* upper case */
	char pattern[CACHE_PATTERN_MAX]; /* key pattern, "" when the command has no key */
	uint64_t key_hash;		 /* hash of the literal key (same key read twice), 0: none */
	const char *raw_key;		 /* literal key, only when asked for (else NULL) */
	unsigned keys;			 /* keys a read asked for (MGET k1 k2: 2) */
	unsigned hits, misses;		 /* of those: answered / nil or empty */
	uint64_t req_bytes, reply_bytes; /* sizes on the wire */
	uint64_t value_bytes;		 /* largest value written or read */
	int64_t elements;		 /* aggregate reply: elements (SMEMBERS' set size); -1 */
	char err[CACHE_ERR_MAX];	 /* CACHE_OP_ERROR: the error's first word */
};

static inline uint64_t cache_op__latency(const struct cache_op *o)
{
	return o->ts_end > o->ts_start ? o->ts_end - o->ts_start : 0;
}

#endif
