// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>

#include "proto/resp.h"

/*
 * Longest bulk string and largest aggregate taken as RESP. Redis caps a bulk string at
 * proto-max-bulk-len (512 MB by default) and a command at INT_MAX arguments; a larger
 * length after a resync is far more likely garbage than data, and would swallow the stream.
 */
#define LEN_MAX (1ull << 32)
/* Bound on the values a subtree beyond RESP_DEPTH_MAX may announce: keeps the count exact. */
#define DEEP_MAX (1ull << 62)

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

/* Where the bytes of a bulk string or an argument go. */
enum cap {
	CAP_NONE = 0,
	CAP_TOK, /* st->tok: the verb, a subcommand, an option the verb needs to see */
	CAP_KEY, /* st->key */
	CAP_ERR, /* v.err: a blob error's first word */
};

enum inl {
	INL_GAP = 0, /* between arguments */
	INL_ARG,
	INL_DQ, /* in "double quotes" */
	INL_DQ_ESC,
	INL_SQ, /* in 'single quotes' */
	INL_SQ_ESC,
};

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
	OPTS_CLIENT, /* CLIENT REPLY OFF | SKIP */
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
	OPT_NOREPLY = 1 << 6, /* CLIENT REPLY OFF | SKIP */
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
 * captured of its arguments (AUTH, HELLO, PING, INFO, SELECT, SCAN, PUBLISH, ...), except a
 * module command (a '.' in its name: JSON.*, BF.*, TS.*, FT.*), whose first argument is its
 * key (or index). Sorted by strcmp: a verb out of order is not found.
 */
static const struct verb verbs[] = {
	{ "ACL", 0, KEY_NONE, 0, 0, W_CONTAINER, NULL },
	{ "APPEND", W, KEY_ARG1, 0, 0, 0, NULL },
	{ "BITCOUNT", 0, KEY_ARG1, 0, 0, 0, NULL },
	{ "BITFIELD", 0, KEY_ARG1, 0, 0, 0, NULL },
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

/* Argument argi of the command starts: where its bytes go. */
static void arg_start(struct resp_parser *st)
{
	const struct verb *d = def_of(st);
	uint32_t i = st->argi;

	st->tok_len = 0;
	st->tok_cut = false;
	st->cap = CAP_NONE;
	if (!i) {
		st->cap = CAP_TOK;
	} else if (i == st->key_at) {
		st->cap = CAP_KEY;
		st->opt |= OPT_KEY;
		st->v.key_len = 0;
	} else if (d->what & W_CONTAINER) {
		if (i == 1 || (i == 2 && (st->opt & OPT_REPLY)))
			st->cap = CAP_TOK;
	} else if ((d->key == KEY_NUMKEYS1 && i == 1) || (d->key == KEY_NUMKEYS2 && i == 2) ||
		   (d->key == KEY_STREAMS && !st->key_at)) {
		st->cap = CAP_TOK;
	} else if ((d->opts == OPTS_SET && i >= 3) || (d->opts == OPTS_ZRANGE && i >= 2) ||
		   (d->opts == OPTS_RANGE && (i == 2 || i == 3))) {
		st->cap = CAP_TOK;
	}
}

/* Bytes of the current argument (or of a top-level blob error, CAP_ERR). */
static void capture(struct resp_parser *st, const uint8_t *p, size_t k)
{
	size_t room;

	switch (st->cap) {
	case CAP_TOK:
		room = sizeof(st->tok) - st->tok_len;
		if (k > room) {
			k = room;
			st->tok_cut = true;
		}
		memcpy(st->tok + st->tok_len, p, k);
		st->tok_len += k;
		break;
	case CAP_KEY:
		room = RESP_KEY_MAX - st->v.key_len;
		if (k > room) {
			k = room;
			st->v.key_cut = true;
		}
		memcpy(st->key + st->v.key_len, p, k);
		st->v.key_len += k;
		break;
	case CAP_ERR:
		for (size_t i = 0; i < k && !st->word_done; i++) {
			if (p[i] == ' ' || st->tok_len == CACHE_ERR_MAX - 1) {
				st->word_done = true;
				break;
			}
			st->v.err[st->tok_len++] = printable(p[i]) ? p[i] : '?';
		}
		break;
	}
}

/* The verb is read: find what it is, and so where its key is. */
static void verb_done(struct resp_parser *st)
{
	const struct verb *d = NULL;
	size_t n = st->tok_len < CACHE_VERB_MAX - 1 ? st->tok_len : CACHE_VERB_MAX - 1;

	for (size_t i = 0; i < n; i++)
		st->v.verb[i] = upper(st->tok[i]);
	st->v.verb[n] = 0;
	if (!st->tok_cut && st->tok_len < CACHE_VERB_MAX)
		d = verb_find(st->v.verb);
	if (!d)
		d = memchr(st->tok, '.', st->tok_len) ? &verb_module : &verb_other;
	st->def = d;
	st->key_at = d->key == KEY_ARG1 ? 1 : d->key == KEY_ARG2 ? 2 : 0;
}

/* "CLIENT" + " SETNAME", cut to what the verb holds. */
static void verb_add_sub(struct resp_parser *st)
{
	size_t n = strlen(st->v.verb);

	if (n + 1 >= CACHE_VERB_MAX)
		return;
	st->v.verb[n++] = ' ';
	for (size_t i = 0; i < st->tok_len && n < CACHE_VERB_MAX - 1; i++)
		st->v.verb[n++] = upper(st->tok[i]);
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
		} else if (tok_is(st, "OFF") || tok_is(st, "SKIP")) {
			st->opt |= OPT_NOREPLY;
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

static void arg_done(struct resp_parser *st)
{
	if (st->arg_len > st->v.max_bulk)
		st->v.max_bulk = st->arg_len;
	if (!st->argi)
		verb_done(st);
	else if (st->cap == CAP_TOK)
		token_done(st, st->argi);
	st->cap = CAP_NONE;
	st->argi++;
}

struct run {
	struct resp_stream *s;
	resp_value_fn fn;
	void *ctx;
	uint64_t ts;
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
	struct resp_parser *st = &r->s->st;
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
	v->info.no_reply = st->opt & OPT_NOREPLY;
	v->key = st->opt & OPT_KEY ? st->key : NULL;
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
static void bulk_open(struct run *r, const uint8_t *end, uint64_t len)
{
	struct resp_parser *st = &r->s->st;
	bool top = !st->depth && !st->deep_left;

	if (top) {
		st->v.type = st->type == '!' ? RESP_T_ERROR : RESP_T_BULK;
		st->v.n = st->type == '!' ? 0 : (int64_t)len;
	}
	if (st->type != '!' && !st->attrs && !st->deep_left && len > st->v.max_bulk)
		st->v.max_bulk = len;
	st->cap = top && st->type == '!' ? CAP_ERR : CAP_NONE;
	st->tok_len = 0;
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
		arg_start(st);
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
			bulk_open(r, end, num);
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
		arg_done(st);
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
				arg_done(st);
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
			arg_start(st);
			st->arg_len = 0;
			if (c == '"') {
				st->inl = INL_DQ;
			} else if (c == '\'') {
				st->inl = INL_SQ;
			} else {
				st->inl = INL_ARG;
				st->arg_len = 1;
				capture(st, &c, 1);
			}
			break;
		case INL_ARG:
			if (inline_space(c)) {
				q++;
				arg_done(st);
				st->inl = INL_GAP;
				break;
			}
			run = q;
			while (q < end && inline_plain(*q))
				q++;
			st->arg_len += q - run;
			capture(st, run, q - run);
			break;
		case INL_DQ:
		case INL_SQ:
			q++;
			if (c == '\\') {
				st->inl = st->inl == INL_DQ ? INL_DQ_ESC : INL_SQ_ESC;
			} else if (c == (st->inl == INL_DQ ? '"' : '\'')) {
				arg_done(st);
				st->inl = INL_GAP;
			} else {
				st->arg_len++;
				capture(st, &c, 1);
			}
			break;
		default: /* the byte after a backslash in quotes: itself */
			q++;
			st->arg_len++;
			capture(st, &c, 1);
			st->inl = st->inl == INL_DQ_ESC ? INL_DQ : INL_SQ;
			break;
		}
		st->line_len += q - b;
		if (st->line_len > RESP_LINE_MAX)
			return 0;
	}
	return q - p;
}

static void parser_reset(struct resp_parser *st)
{
	memset(st, 0, sizeof(*st));
}

void resp_stream__init(struct resp_stream *s, enum resp_dir dir)
{
	memset(s, 0, sizeof(*s));
	s->dir = dir;
	s->synced = true;
}

static void lose(struct resp_stream *s, uint64_t *counter)
{
	(*counter)++;
	s->synced = false;
	parser_reset(&s->st);
}

/* The first byte of a value, at p. */
static void value_begin(struct resp_stream *s, const uint8_t *p, uint64_t ts)
{
	struct resp_parser *st = &s->st;

	memset(&st->v, 0, sizeof(st->v));
	st->v.ts_first = ts;
	st->seg = p;
	st->in_value = true;
	st->depth = 0;
	st->attrs = 0;
	st->deep_left = 0;
	st->def = &verb_other;
	st->args_left = 0;
	st->argi = 0;
	st->key_at = 0;
	st->opt = 0;
	st->inl = INL_GAP;
	st->line_len = 0;
}

bool resp_stream__feed(struct resp_stream *s, const uint8_t *p, size_t n, uint64_t ts,
		       resp_value_fn fn, void *ctx)
{
	struct resp_parser *st = &s->st;
	struct run r = { .s = s, .fn = fn, .ctx = ctx, .ts = ts };
	const uint8_t *end = p + n;

	if (!s->synced)
		return false;
	if (!n)
		return true;
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
				if (k && !st->line_len)
					st->num = p[0] == 't';
			} else if (!st->word_done) {
				st->cap = CAP_ERR;
				capture(st, p, k);
			}
			st->line_len += k;
			p += k;
			if (q) {
				p++;
				st->state = S_LF;
			}
			break;
		case S_LEN:
			c = *p++;
			if (c == '\r') {
				st->state = S_LF;
			} else if (c == '-' && !st->line_len) {
				st->neg = true;
				st->line_len++;
			} else if (c >= '0' && c <= '9' && st->num <= LEN_MAX) {
				st->num = st->num * 10 + (c - '0');
				st->digits = true;
				st->line_len++;
			} else {
				goto bad;
			}
			break;
		case S_LF:
			if (*p++ != '\n' || !line_end(&r, p))
				goto bad;
			break;
		case S_BULK:
			k = end - p;
			if (k > st->bulk_left)
				k = st->bulk_left;
			if (st->cap)
				capture(st, p, k);
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
	if (st->cap == CAP_KEY)
		st->v.key_cut = true;
	else if (st->cap == CAP_TOK)
		st->tok_cut = true;
	else if (st->cap == CAP_ERR)
		st->word_done = true;
	st->cap = CAP_NONE;
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
	parser_reset(&s->st);
	s->synced = true;
}
