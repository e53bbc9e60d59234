// SPDX-License-Identifier: GPL-2.0-only
/*
 * What a command is (resp_priv.h): its verb, its first key and what its arguments say, read
 * as they stream by. Only the arguments the verb needs are copied (st->tok): the verb, a
 * container's subcommand, the options below, and the first key (st->key); a password, a value
 * or any other argument never is.
 */
#include <string.h>

#include "proto/resp_priv.h"

/* Where a verb's first key is. */
enum key_kind {
	KEY_NONE = 0,
	KEY_ARG1,     /* GET k ...: almost every command */
	KEY_ARG2,     /* BITOP op dest ... */
	KEY_NUMKEYS1, /* numkeys at 1, the keys after it: LMPOP, ZUNION, SINTERCARD ... */
	KEY_NUMKEYS2, /* numkeys at 2: EVAL script numkeys k ..., FCALL, BLMPOP, BZMPOP */
	KEY_STREAMS,  /* after the STREAMS keyword: XREAD, XREADGROUP */
	KEY_SUB,      /* the argument after the subcommand: OBJECT ENCODING k, XINFO STREAM k */
};

/* How many keys a read asks for, of its nargs. */
enum reads_kind {
	RK_NONE = 0,
	RK_ONE,	 /* GET k */
	RK_ALL,	 /* MGET k1 k2, EXISTS k1 k2 */
	RK_BUT1, /* HMGET k f1 f2 (fields), SMISMEMBER, ZMSCORE, JSON.MGET k1 k2 path */
};

/* Arguments a verb needs to see (token-captured). */
enum opts_kind {
	OPTS_NONE = 0,
	OPTS_SET,    /* EX PX EXAT PXAT KEEPTTL */
	OPTS_RANGE,  /* start 0 and stop -1 */
	OPTS_ZRANGE, /* the same, unless BYSCORE or BYLEX */
	OPTS_CLIENT, /* CLIENT REPLY ON | OFF | SKIP */
};

enum what {
	W_CONTAINER = 1 << 0, /* the first argument is a subcommand */
	W_MULTI = 1 << 1,
	W_EXEC = 1 << 2,
	W_DISCARD = 1 << 3,
	W_SUBSCRIBE = 1 << 4,
};

/* st->opt: what the arguments said so far. */
enum opt_seen {
	OPT_KEY = 1 << 0,     /* the key argument began */
	OPT_TTL = 1 << 1,     /* SET ... EX | PX | EXAT | PXAT | KEEPTTL */
	OPT_START0 = 1 << 2,  /* range start 0 */
	OPT_STOPALL = 1 << 3, /* range stop -1 */
	OPT_BY = 1 << 4,      /* ZRANGE ... BYSCORE | BYLEX */
	OPT_REPLY = 1 << 5,   /* CLIENT REPLY */
	OPT_REPLY_ON = 1 << 6,
	OPT_REPLY_OFF = 1 << 7,
	OPT_REPLY_SKIP = 1 << 8,
};

struct verb {
	const char *name;      /* upper case; the table is sorted by it (strcmp) */
	uint16_t op;	       /* CACHE_OP_READ / WRITE / NO_TTL / SCAN_ALL */
	uint8_t key;	       /* enum key_kind */
	uint8_t reads;	       /* enum reads_kind */
	uint8_t opts;	       /* enum opts_kind */
	uint8_t what;	       /* enum what */
	const char *keyed_sub; /* KEY_SUB: the only subcommand with a key; NULL: all but HELP */
};

#define R  CACHE_OP_READ
#define W  CACHE_OP_WRITE
#define NT CACHE_OP_NO_TTL
#define SA CACHE_OP_SCAN_ALL

/*
 * The verbs whose key, flags or arguments matter. A verb not here has no key and nothing is
 * captured of its arguments (AUTH, HELLO, PING, INFO, SELECT, SCAN, PUBLISH, MIGRATE, ...),
 * except a module command (a '.' in its name: JSON.*, BF.*, TS.*, FT.*), whose first argument
 * is its key (or index). The key positions are Redis 7.0's key specs (COMMAND INFO), but for
 * the shard channels of SSUBSCRIBE, SPUBLISH, SUNSUBSCRIBE, which are keys to cluster routing
 * only, and MIGRATE, whose key is optional. Sorted by strcmp: a verb out of order is not found.
 */
static const struct verb verbs[] = {
	{ "ACL", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "APPEND", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "BITCOUNT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BITFIELD", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BITFIELD_RO", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BITOP", 0, KEY_ARG2, 0, 0, 0, NULL },
	{ "BITPOS", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BLMOVE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BLMPOP", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "BLPOP", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BRPOP", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BRPOPLPUSH", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BZMPOP", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "BZPOPMAX", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BZPOPMIN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "CLIENT", 0, KEY_NONE, 0, OPTS_CLIENT, W_CONTAINER, NULL },
	{ "CLUSTER", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "COMMAND", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "CONFIG", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "COPY", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "DECR", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "DECRBY", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "DEL", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "DISCARD", 0, KEY_NONE, 0, 0, W_DISCARD, NULL },
	{ "DUMP", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "EVAL", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "EVALSHA", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "EVALSHA_RO", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "EVAL_RO", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "EXEC", 0, KEY_NONE, 0, 0, W_EXEC, NULL },
	{ "EXISTS", R, KEY_ARG1, RK_ALL, 0, 0, NULL },
	{ "EXPIRE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "EXPIREAT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "EXPIRETIME", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "FCALL", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "FCALL_RO", 0, KEY_NUMKEYS2, 0, 0, 0, NULL },
	{ "FUNCTION", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "GEOADD", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEODIST", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEOHASH", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEOPOS", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEORADIUS", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEORADIUSBYMEMBER", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEORADIUSBYMEMBER_RO", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEORADIUS_RO", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEOSEARCH", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GEOSEARCHSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GET", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "GETBIT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GETDEL", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "GETEX", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "GETRANGE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "GETSET", W | NT, KEY_ARG1, 0, 0, 0, NULL },
	{ "HDEL", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "HEXISTS", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "HGET", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "HGETALL", R | SA, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "HINCRBY", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "HINCRBYFLOAT", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "HKEYS", R | SA, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "HLEN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "HMGET", R, KEY_ARG1, RK_BUT1, 0, 0, NULL },
	{ "HMSET", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "HRANDFIELD", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "HSCAN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "HSET", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "HSETNX", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "HSTRLEN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "HVALS", R | SA, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "INCR", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "INCRBY", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "INCRBYFLOAT", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "JSON.GET", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "JSON.MGET", R, KEY_ARG1, RK_BUT1, 0, 0, NULL },
	{ "JSON.SET", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "KEYS", SA, KEY_NONE, 0, 0, 0, NULL },
	{ "LATENCY", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "LCS", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "LINDEX", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "LINSERT", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "LLEN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "LMOVE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "LMPOP", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "LPOP", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "LPOS", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "LPUSH", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "LPUSHX", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "LRANGE", R, KEY_ARG1, RK_ONE, OPTS_RANGE, 0, NULL },
	{ "LREM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "LSET", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "LTRIM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "MEMORY", 0, KEY_SUB, 0, 0, W_CONTAINER, "USAGE" },
	{ "MGET", R, KEY_ARG1, RK_ALL, 0, 0, NULL },
	{ "MODULE", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "MONITOR", 0, KEY_NONE, 0, 0, W_SUBSCRIBE, NULL },
	{ "MOVE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "MSET", W | NT, KEY_ARG1, 0, 0, 0, NULL },
	{ "MSETNX", W | NT, KEY_ARG1, 0, 0, 0, NULL },
	{ "MULTI", 0, KEY_NONE, 0, 0, W_MULTI, NULL },
	{ "OBJECT", 0, KEY_SUB, 0, 0, W_CONTAINER, NULL },
	{ "PERSIST", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PEXPIRE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PEXPIREAT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PEXPIRETIME", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PFADD", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "PFCOUNT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PFMERGE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PSETEX", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "PSUBSCRIBE", 0, KEY_NONE, 0, 0, W_SUBSCRIBE, NULL },
	{ "PTTL", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "PUBSUB", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "RENAME", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "RENAMENX", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "RESTORE", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "RPOP", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "RPOPLPUSH", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "RPUSH", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "RPUSHX", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "SADD", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "SCARD", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SCRIPT", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "SDIFF", SA, KEY_ARG1, 0, 0, 0, NULL },
	{ "SDIFFSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SET", W, KEY_ARG1, 0, OPTS_SET, 0, NULL },
	{ "SETBIT", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "SETEX", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "SETNX", W | NT, KEY_ARG1, 0, 0, 0, NULL },
	{ "SETRANGE", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "SINTER", SA, KEY_ARG1, 0, 0, 0, NULL },
	{ "SINTERCARD", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "SINTERSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SISMEMBER", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "SLOWLOG", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "SMEMBERS", R | SA, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "SMISMEMBER", R, KEY_ARG1, RK_BUT1, 0, 0, NULL },
	{ "SMOVE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SORT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SORT_RO", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SPOP", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SRANDMEMBER", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SREM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SSCAN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SSUBSCRIBE", 0, KEY_NONE, 0, 0, W_SUBSCRIBE, NULL },
	{ "STRLEN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SUBSCRIBE", 0, KEY_NONE, 0, 0, W_SUBSCRIBE, NULL },
	{ "SUBSTR", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "SUNION", SA, KEY_ARG1, 0, 0, 0, NULL },
	{ "SUNIONSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "TOUCH", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "TTL", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "TYPE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "UNLINK", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "WATCH", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XACK", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XADD", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "XAUTOCLAIM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XCLAIM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XDEL", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XGROUP", 0, KEY_SUB, 0, 0, W_CONTAINER, NULL },
	{ "XINFO", 0, KEY_SUB, 0, 0, W_CONTAINER, NULL },
	{ "XLEN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XPENDING", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XRANGE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XREAD", 0, KEY_STREAMS, 0, 0, 0, NULL },
	{ "XREADGROUP", 0, KEY_STREAMS, 0, 0, 0, NULL },
	{ "XREVRANGE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XSETID", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "XTRIM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZADD", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZCARD", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZCOUNT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZDIFF", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "ZDIFFSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZINCRBY", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZINTER", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "ZINTERCARD", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "ZINTERSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZLEXCOUNT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZMPOP", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "ZMSCORE", R, KEY_ARG1, RK_BUT1, 0, 0, NULL },
	{ "ZPOPMAX", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZPOPMIN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZRANDMEMBER", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZRANGE", R, KEY_ARG1, RK_ONE, OPTS_ZRANGE, 0, NULL },
	{ "ZRANGEBYLEX", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZRANGEBYSCORE", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZRANGESTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZRANK", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZREM", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZREMRANGEBYLEX", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZREMRANGEBYRANK", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZREMRANGEBYSCORE", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZREVRANGE", R, KEY_ARG1, RK_ONE, OPTS_RANGE, 0, NULL },
	{ "ZREVRANGEBYLEX", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZREVRANGEBYSCORE", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZREVRANK", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZSCAN", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "ZSCORE", R, KEY_ARG1, RK_ONE, 0, 0, NULL },
	{ "ZUNION", 0, KEY_NUMKEYS1, 0, 0, 0, NULL },
	{ "ZUNIONSTORE", 0, KEY_ARG1, 0, 0, 0, NULL },
};

static const struct verb verb_module = { "", 0, KEY_ARG1, 0, 0, 0, NULL };
static const struct verb verb_other = { "", 0, KEY_NONE, 0, 0, 0, NULL };

#undef R
#undef W
#undef NT
#undef SA

static const struct verb *verb_find(const char *name)
{
	size_t lo = 0, hi = sizeof(verbs) / sizeof(verbs[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(name, verbs[mid].name);

		if (!c)
			return &verbs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool printable(uint8_t c)
{
	return c > 0x20 && c < 0x7f;
}

static char upper(uint8_t c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	return printable(c) ? c : '?';
}

/* Does the captured argument equal word (upper case), in any case? */
static bool tok_is(const struct resp_parser *st, const char *word)
{
	size_t n = strlen(word);

	if (st->tok_cut || st->tok_len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (upper(st->tok[i]) != word[i])
			return false;
	return true;
}

/* The captured argument as a count (numkeys); 0 when it is not one. */
static uint64_t tok_count(const struct resp_parser *st)
{
	uint64_t v = 0;

	if (st->tok_cut || !st->tok_len || st->tok_len > 10)
		return 0;
	for (unsigned i = 0; i < st->tok_len; i++) {
		if (st->tok[i] < '0' || st->tok[i] > '9')
			return 0;
		v = v * 10 + (st->tok[i] - '0');
	}
	return v;
}

static const struct verb *def_of(const struct resp_parser *st)
{
	return st->def;
}

void resp_cmd__arg_start(struct resp_parser *st)
{
	const struct verb *d = def_of(st);
	uint32_t i = st->argi;

	st->tok_len = 0;
	st->tok_cut = false;
	st->cap = RESP_CAP_NONE;
	if (!i) {
		st->cap = RESP_CAP_TOK;
	} else if (i == st->key_at) {
		st->cap = RESP_CAP_KEY;
		st->opt |= OPT_KEY;
		st->v.key_len = 0;
	} else if (d->what & W_CONTAINER) {
		if (i == 1 || (i == 2 && (st->opt & OPT_REPLY)))
			st->cap = RESP_CAP_TOK;
	} else if ((d->key == KEY_NUMKEYS1 && i == 1) || (d->key == KEY_NUMKEYS2 && i == 2) ||
		   (d->key == KEY_STREAMS && !st->key_at)) {
		st->cap = RESP_CAP_TOK;
	} else if ((d->opts == OPTS_SET && i >= 3) || (d->opts == OPTS_ZRANGE && i >= 2) ||
		   (d->opts == OPTS_RANGE && (i == 2 || i == 3))) {
		st->cap = RESP_CAP_TOK;
	}
}

void resp_cmd__arg_bytes(struct resp_parser *st, const uint8_t *p, size_t k)
{
	size_t room;

	if (st->cap == RESP_CAP_TOK) {
		room = sizeof(st->tok) - st->tok_len;
		if (k > room) {
			k = room;
			st->tok_cut = true;
		}
		memcpy(st->tok + st->tok_len, p, k);
		st->tok_len += k;
	} else if (st->cap == RESP_CAP_KEY) {
		room = RESP_KEY_MAX - st->v.key_len;
		if (k > room) {
			k = room;
			st->v.key_cut = true;
		}
		memcpy(st->key + st->v.key_len, p, k);
		st->v.key_len += k;
	}
}

/* A verb not in the table: a module command's first argument is its key. */
static const struct verb *verb_unknown(const struct resp_parser *st)
{
	return memchr(st->tok, '.', st->tok_len) ? &verb_module : &verb_other;
}

/* The verb is read: find what it is, and so where its key is. */
static void verb_done(struct resp_parser *st)
{
	const struct verb *d;
	size_t n = st->tok_len < CACHE_VERB_MAX - 1 ? st->tok_len : CACHE_VERB_MAX - 1;

	for (size_t i = 0; i < n; i++)
		st->v.verb[i] = upper(st->tok[i]);
	st->v.verb[n] = 0;
	if (st->tok_cut || st->tok_len >= CACHE_VERB_MAX) {
		d = verb_unknown(st);
	} else {
		/* A pipeline repeats its verb: the last one found saves the search. */
		if (!st->last_def || strcmp(st->v.verb, st->last_verb)) {
			d = verb_find(st->v.verb);
			st->last_def = d ? d : verb_unknown(st);
			memcpy(st->last_verb, st->v.verb, sizeof(st->last_verb));
		}
		d = st->last_def;
	}
	st->def = d;
	st->key_at = d->key == KEY_ARG1 ? 1 : d->key == KEY_ARG2 ? 2 : 0;
}

/* "CLIENT" + " SETNAME", cut to what the verb holds. */
static void verb_add_sub(struct resp_parser *st)
{
	size_t n = strlen(st->v.verb);

	for (size_t i = 0; i <= st->tok_len && n < CACHE_VERB_MAX - 1; i++)
		st->v.verb[n++] = i ? upper(st->tok[i - 1]) : ' ';
	st->v.verb[n] = 0;
}

/* A token-captured argument (not the verb) is read. */
static void token_done(struct resp_parser *st, uint32_t i)
{
	const struct verb *d = def_of(st);

	if (d->what & W_CONTAINER) {
		if (i == 1) {
			verb_add_sub(st);
			if (d->key == KEY_SUB && !tok_is(st, "HELP") &&
			    (!d->keyed_sub || tok_is(st, d->keyed_sub)))
				st->key_at = 2;
			if (d->opts == OPTS_CLIENT && tok_is(st, "REPLY"))
				st->opt |= OPT_REPLY;
		} else if (tok_is(st, "ON")) {
			st->opt |= OPT_REPLY_ON;
		} else if (tok_is(st, "OFF")) {
			st->opt |= OPT_REPLY_OFF;
		} else if (tok_is(st, "SKIP")) {
			st->opt |= OPT_REPLY_SKIP;
		}
		return;
	}
	if (d->key == KEY_NUMKEYS1 || d->key == KEY_NUMKEYS2) {
		if (i == (d->key == KEY_NUMKEYS1 ? 1u : 2u)) {
			if (tok_count(st))
				st->key_at = i + 1;
			return;
		}
	}
	if (d->key == KEY_STREAMS) {
		if (!st->key_at && tok_is(st, "STREAMS"))
			st->key_at = i + 1;
		return;
	}
	switch (d->opts) {
	case OPTS_SET:
		if (tok_is(st, "EX") || tok_is(st, "PX") || tok_is(st, "EXAT") ||
		    tok_is(st, "PXAT") || tok_is(st, "KEEPTTL"))
			st->opt |= OPT_TTL;
		break;
	case OPTS_RANGE:
	case OPTS_ZRANGE:
		if (i == 2 && tok_is(st, "0"))
			st->opt |= OPT_START0;
		else if (i == 3 && tok_is(st, "-1"))
			st->opt |= OPT_STOPALL;
		else if (i >= 4 && (tok_is(st, "BYSCORE") || tok_is(st, "BYLEX")))
			st->opt |= OPT_BY;
		break;
	}
}

void resp_cmd__arg_done(struct resp_parser *st)
{
	if (st->arg_len > st->v.max_bulk)
		st->v.max_bulk = st->arg_len;
	if (!st->argi)
		verb_done(st);
	else if (st->cap == RESP_CAP_TOK)
		token_done(st, st->argi);
	st->cap = RESP_CAP_NONE;
	st->argi++;
}

void resp_cmd__begin(struct resp_parser *st)
{
	st->def = &verb_other;
	st->args_left = 0;
	st->argi = 0;
	st->key_at = 0;
	st->opt = 0;
}

void resp_cmd__describe(struct resp_parser *st)
{
	const struct verb *d = def_of(st);
	struct resp_value *v = &st->v;
	uint32_t flags = d->op;
	bool sub = (d->what & W_CONTAINER) && st->argi >= 2;

	v->type = RESP_T_ARRAY;
	v->n = st->argi;
	v->nargs = st->argi - 1 - sub;
	if (d->opts == OPTS_SET && !(st->opt & OPT_TTL))
		flags |= CACHE_OP_NO_TTL;
	if ((d->opts == OPTS_RANGE || d->opts == OPTS_ZRANGE) &&
	    (st->opt & (OPT_START0 | OPT_STOPALL | OPT_BY)) == (OPT_START0 | OPT_STOPALL))
		flags |= CACHE_OP_SCAN_ALL;
	v->info.flags = flags;
	switch (d->reads) {
	case RK_ONE:
		v->info.read_keys = v->nargs ? 1 : 0;
		break;
	case RK_ALL:
		v->info.read_keys = v->nargs;
		break;
	case RK_BUT1:
		v->info.read_keys = v->nargs ? v->nargs - 1 : 0;
		break;
	}
	v->info.multi = d->what & W_MULTI;
	v->info.exec = d->what & W_EXEC;
	v->info.discard = d->what & W_DISCARD;
	v->info.subscribe = d->what & W_SUBSCRIBE;
	v->info.no_reply = st->opt & (OPT_REPLY_OFF | OPT_REPLY_SKIP);
	if (st->opt & OPT_REPLY_ON)
		v->info.client_reply = RESP_CLIENT_REPLY_ON;
	else if (st->opt & OPT_REPLY_OFF)
		v->info.client_reply = RESP_CLIENT_REPLY_OFF;
	else if (st->opt & OPT_REPLY_SKIP)
		v->info.client_reply = RESP_CLIENT_REPLY_SKIP;
	v->key = st->opt & OPT_KEY ? st->key : NULL;
}
