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

/*
 * What a verb is, besides its CACHE_OP_* flags (the low 16 bits, copied to the command's): how
 * many keys a read asks for, of its nargs; the arguments it needs to see; what it does to
 * the conversation.
 */
enum verb_flag {
	V_ONE = 1 << 16,       /* reads 1 key: GET k */
	V_ALL = 1 << 17,       /* reads every argument: MGET k1 k2, EXISTS k1 k2 */
	V_BUT1 = 1 << 18,      /* all but the first: HMGET k f1 f2, SMISMEMBER, JSON.MGET k1 k2 $ */
	V_SET = 1 << 19,       /* sees EX PX EXAT PXAT KEEPTTL */
	V_RANGE = 1 << 20,     /* sees start 0 and stop -1 */
	V_ZRANGE = 1 << 21,    /* the same, unless BYSCORE or BYLEX */
	V_CLIENT = 1 << 22,    /* sees CLIENT REPLY ON | OFF | SKIP */
	V_CONTAINER = 1 << 23, /* the first argument is a subcommand */
	V_MULTI = 1 << 24,
	V_EXEC = 1 << 25,
	V_DISCARD = 1 << 26,
	V_SUBSCRIBE = 1 << 27,
};

#define V_OPS 0xffffu /* the CACHE_OP_* bits */

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
	uint32_t f;	       /* CACHE_OP_* | enum verb_flag */
	uint8_t key;	       /* enum key_kind */
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
	{ "ACL", V_CONTAINER, KEY_NONE, NULL },
	{ "APPEND", W, KEY_ARG1, NULL },
	{ "BITCOUNT", 0, KEY_ARG1, NULL },
	{ "BITFIELD", 0, KEY_ARG1, NULL },
	{ "BITFIELD_RO", 0, KEY_ARG1, NULL },
	{ "BITOP", 0, KEY_ARG2, NULL },
	{ "BITPOS", 0, KEY_ARG1, NULL },
	{ "BLMOVE", 0, KEY_ARG1, NULL },
	{ "BLMPOP", 0, KEY_NUMKEYS2, NULL },
	{ "BLPOP", 0, KEY_ARG1, NULL },
	{ "BRPOP", 0, KEY_ARG1, NULL },
	{ "BRPOPLPUSH", 0, KEY_ARG1, NULL },
	{ "BZMPOP", 0, KEY_NUMKEYS2, NULL },
	{ "BZPOPMAX", 0, KEY_ARG1, NULL },
	{ "BZPOPMIN", 0, KEY_ARG1, NULL },
	{ "CLIENT", V_CLIENT | V_CONTAINER, KEY_NONE, NULL },
	{ "CLUSTER", V_CONTAINER, KEY_NONE, NULL },
	{ "COMMAND", V_CONTAINER, KEY_NONE, NULL },
	{ "CONFIG", V_CONTAINER, KEY_NONE, NULL },
	{ "COPY", 0, KEY_ARG1, NULL },
	{ "DECR", W, KEY_ARG1, NULL },
	{ "DECRBY", W, KEY_ARG1, NULL },
	{ "DEL", 0, KEY_ARG1, NULL },
	{ "DISCARD", V_DISCARD, KEY_NONE, NULL },
	{ "DUMP", 0, KEY_ARG1, NULL },
	{ "EVAL", 0, KEY_NUMKEYS2, NULL },
	{ "EVALSHA", 0, KEY_NUMKEYS2, NULL },
	{ "EVALSHA_RO", 0, KEY_NUMKEYS2, NULL },
	{ "EVAL_RO", 0, KEY_NUMKEYS2, NULL },
	{ "EXEC", V_EXEC, KEY_NONE, NULL },
	{ "EXISTS", R | V_ALL, KEY_ARG1, NULL },
	{ "EXPIRE", 0, KEY_ARG1, NULL },
	{ "EXPIREAT", 0, KEY_ARG1, NULL },
	{ "EXPIRETIME", 0, KEY_ARG1, NULL },
	{ "FCALL", 0, KEY_NUMKEYS2, NULL },
	{ "FCALL_RO", 0, KEY_NUMKEYS2, NULL },
	{ "FUNCTION", V_CONTAINER, KEY_NONE, NULL },
	{ "GEOADD", W, KEY_ARG1, NULL },
	{ "GEODIST", 0, KEY_ARG1, NULL },
	{ "GEOHASH", 0, KEY_ARG1, NULL },
	{ "GEOPOS", 0, KEY_ARG1, NULL },
	{ "GEORADIUS", 0, KEY_ARG1, NULL },
	{ "GEORADIUSBYMEMBER", 0, KEY_ARG1, NULL },
	{ "GEORADIUSBYMEMBER_RO", 0, KEY_ARG1, NULL },
	{ "GEORADIUS_RO", 0, KEY_ARG1, NULL },
	{ "GEOSEARCH", 0, KEY_ARG1, NULL },
	{ "GEOSEARCHSTORE", 0, KEY_ARG1, NULL },
	{ "GET", R | V_ONE, KEY_ARG1, NULL },
	{ "GETBIT", 0, KEY_ARG1, NULL },
	{ "GETDEL", R | V_ONE, KEY_ARG1, NULL },
	{ "GETEX", R | V_ONE, KEY_ARG1, NULL },
	{ "GETRANGE", 0, KEY_ARG1, NULL },
	{ "GETSET", W | NT, KEY_ARG1, NULL },
	{ "HDEL", 0, KEY_ARG1, NULL },
	{ "HEXISTS", R | V_ONE, KEY_ARG1, NULL },
	{ "HGET", R | V_ONE, KEY_ARG1, NULL },
	{ "HGETALL", R | SA | V_ONE, KEY_ARG1, NULL },
	{ "HINCRBY", W, KEY_ARG1, NULL },
	{ "HINCRBYFLOAT", W, KEY_ARG1, NULL },
	{ "HKEYS", R | SA | V_ONE, KEY_ARG1, NULL },
	{ "HLEN", 0, KEY_ARG1, NULL },
	{ "HMGET", R | V_BUT1, KEY_ARG1, NULL },
	{ "HMSET", W, KEY_ARG1, NULL },
	{ "HRANDFIELD", 0, KEY_ARG1, NULL },
	{ "HSCAN", 0, KEY_ARG1, NULL },
	{ "HSET", W, KEY_ARG1, NULL },
	{ "HSETNX", W, KEY_ARG1, NULL },
	{ "HSTRLEN", 0, KEY_ARG1, NULL },
	{ "HVALS", R | SA | V_ONE, KEY_ARG1, NULL },
	{ "INCR", W, KEY_ARG1, NULL },
	{ "INCRBY", W, KEY_ARG1, NULL },
	{ "INCRBYFLOAT", W, KEY_ARG1, NULL },
	{ "JSON.GET", R | V_ONE, KEY_ARG1, NULL },
	{ "JSON.MGET", R | V_BUT1, KEY_ARG1, NULL },
	{ "JSON.SET", W, KEY_ARG1, NULL },
	{ "KEYS", SA, KEY_NONE, NULL },
	{ "LATENCY", V_CONTAINER, KEY_NONE, NULL },
	{ "LCS", 0, KEY_ARG1, NULL },
	{ "LINDEX", R | V_ONE, KEY_ARG1, NULL },
	{ "LINSERT", W, KEY_ARG1, NULL },
	{ "LLEN", 0, KEY_ARG1, NULL },
	{ "LMOVE", 0, KEY_ARG1, NULL },
	{ "LMPOP", 0, KEY_NUMKEYS1, NULL },
	{ "LPOP", 0, KEY_ARG1, NULL },
	{ "LPOS", 0, KEY_ARG1, NULL },
	{ "LPUSH", W, KEY_ARG1, NULL },
	{ "LPUSHX", W, KEY_ARG1, NULL },
	{ "LRANGE", R | V_ONE | V_RANGE, KEY_ARG1, NULL },
	{ "LREM", 0, KEY_ARG1, NULL },
	{ "LSET", W, KEY_ARG1, NULL },
	{ "LTRIM", 0, KEY_ARG1, NULL },
	{ "MEMORY", V_CONTAINER, KEY_SUB, "USAGE" },
	{ "MGET", R | V_ALL, KEY_ARG1, NULL },
	{ "MODULE", V_CONTAINER, KEY_NONE, NULL },
	{ "MONITOR", V_SUBSCRIBE, KEY_NONE, NULL },
	{ "MOVE", 0, KEY_ARG1, NULL },
	{ "MSET", W | NT, KEY_ARG1, NULL },
	{ "MSETNX", W | NT, KEY_ARG1, NULL },
	{ "MULTI", V_MULTI, KEY_NONE, NULL },
	{ "OBJECT", V_CONTAINER, KEY_SUB, NULL },
	{ "PERSIST", 0, KEY_ARG1, NULL },
	{ "PEXPIRE", 0, KEY_ARG1, NULL },
	{ "PEXPIREAT", 0, KEY_ARG1, NULL },
	{ "PEXPIRETIME", 0, KEY_ARG1, NULL },
	{ "PFADD", W, KEY_ARG1, NULL },
	{ "PFCOUNT", 0, KEY_ARG1, NULL },
	{ "PFMERGE", 0, KEY_ARG1, NULL },
	{ "PSETEX", W, KEY_ARG1, NULL },
	{ "PSUBSCRIBE", V_SUBSCRIBE, KEY_NONE, NULL },
	{ "PTTL", 0, KEY_ARG1, NULL },
	{ "PUBSUB", V_CONTAINER, KEY_NONE, NULL },
	{ "RENAME", 0, KEY_ARG1, NULL },
	{ "RENAMENX", 0, KEY_ARG1, NULL },
	{ "RESTORE", W, KEY_ARG1, NULL },
	{ "RPOP", 0, KEY_ARG1, NULL },
	{ "RPOPLPUSH", 0, KEY_ARG1, NULL },
	{ "RPUSH", W, KEY_ARG1, NULL },
	{ "RPUSHX", W, KEY_ARG1, NULL },
	{ "SADD", W, KEY_ARG1, NULL },
	{ "SCARD", 0, KEY_ARG1, NULL },
	{ "SCRIPT", V_CONTAINER, KEY_NONE, NULL },
	{ "SDIFF", SA, KEY_ARG1, NULL },
	{ "SDIFFSTORE", 0, KEY_ARG1, NULL },
	{ "SET", W | V_SET, KEY_ARG1, NULL },
	{ "SETBIT", W, KEY_ARG1, NULL },
	{ "SETEX", W, KEY_ARG1, NULL },
	{ "SETNX", W | NT, KEY_ARG1, NULL },
	{ "SETRANGE", W, KEY_ARG1, NULL },
	{ "SINTER", SA, KEY_ARG1, NULL },
	{ "SINTERCARD", 0, KEY_NUMKEYS1, NULL },
	{ "SINTERSTORE", 0, KEY_ARG1, NULL },
	{ "SISMEMBER", R | V_ONE, KEY_ARG1, NULL },
	{ "SLOWLOG", V_CONTAINER, KEY_NONE, NULL },
	{ "SMEMBERS", R | SA | V_ONE, KEY_ARG1, NULL },
	{ "SMISMEMBER", R | V_BUT1, KEY_ARG1, NULL },
	{ "SMOVE", 0, KEY_ARG1, NULL },
	{ "SORT", 0, KEY_ARG1, NULL },
	{ "SORT_RO", 0, KEY_ARG1, NULL },
	{ "SPOP", 0, KEY_ARG1, NULL },
	{ "SRANDMEMBER", 0, KEY_ARG1, NULL },
	{ "SREM", 0, KEY_ARG1, NULL },
	{ "SSCAN", 0, KEY_ARG1, NULL },
	{ "SSUBSCRIBE", V_SUBSCRIBE, KEY_NONE, NULL },
	{ "STRLEN", 0, KEY_ARG1, NULL },
	{ "SUBSCRIBE", V_SUBSCRIBE, KEY_NONE, NULL },
	{ "SUBSTR", 0, KEY_ARG1, NULL },
	{ "SUNION", SA, KEY_ARG1, NULL },
	{ "SUNIONSTORE", 0, KEY_ARG1, NULL },
	{ "TOUCH", 0, KEY_ARG1, NULL },
	{ "TTL", 0, KEY_ARG1, NULL },
	{ "TYPE", 0, KEY_ARG1, NULL },
	{ "UNLINK", 0, KEY_ARG1, NULL },
	{ "WATCH", 0, KEY_ARG1, NULL },
	{ "XACK", 0, KEY_ARG1, NULL },
	{ "XADD", W, KEY_ARG1, NULL },
	{ "XAUTOCLAIM", 0, KEY_ARG1, NULL },
	{ "XCLAIM", 0, KEY_ARG1, NULL },
	{ "XDEL", 0, KEY_ARG1, NULL },
	{ "XGROUP", V_CONTAINER, KEY_SUB, NULL },
	{ "XINFO", V_CONTAINER, KEY_SUB, NULL },
	{ "XLEN", 0, KEY_ARG1, NULL },
	{ "XPENDING", 0, KEY_ARG1, NULL },
	{ "XRANGE", 0, KEY_ARG1, NULL },
	{ "XREAD", 0, KEY_STREAMS, NULL },
	{ "XREADGROUP", 0, KEY_STREAMS, NULL },
	{ "XREVRANGE", 0, KEY_ARG1, NULL },
	{ "XSETID", 0, KEY_ARG1, NULL },
	{ "XTRIM", 0, KEY_ARG1, NULL },
	{ "ZADD", W, KEY_ARG1, NULL },
	{ "ZCARD", 0, KEY_ARG1, NULL },
	{ "ZCOUNT", 0, KEY_ARG1, NULL },
	{ "ZDIFF", 0, KEY_NUMKEYS1, NULL },
	{ "ZDIFFSTORE", 0, KEY_ARG1, NULL },
	{ "ZINCRBY", W, KEY_ARG1, NULL },
	{ "ZINTER", 0, KEY_NUMKEYS1, NULL },
	{ "ZINTERCARD", 0, KEY_NUMKEYS1, NULL },
	{ "ZINTERSTORE", 0, KEY_ARG1, NULL },
	{ "ZLEXCOUNT", 0, KEY_ARG1, NULL },
	{ "ZMPOP", 0, KEY_NUMKEYS1, NULL },
	{ "ZMSCORE", R | V_BUT1, KEY_ARG1, NULL },
	{ "ZPOPMAX", 0, KEY_ARG1, NULL },
	{ "ZPOPMIN", 0, KEY_ARG1, NULL },
	{ "ZRANDMEMBER", 0, KEY_ARG1, NULL },
	{ "ZRANGE", R | V_ONE | V_ZRANGE, KEY_ARG1, NULL },
	{ "ZRANGEBYLEX", R | V_ONE, KEY_ARG1, NULL },
	{ "ZRANGEBYSCORE", R | V_ONE, KEY_ARG1, NULL },
	{ "ZRANGESTORE", 0, KEY_ARG1, NULL },
	{ "ZRANK", R | V_ONE, KEY_ARG1, NULL },
	{ "ZREM", 0, KEY_ARG1, NULL },
	{ "ZREMRANGEBYLEX", 0, KEY_ARG1, NULL },
	{ "ZREMRANGEBYRANK", 0, KEY_ARG1, NULL },
	{ "ZREMRANGEBYSCORE", 0, KEY_ARG1, NULL },
	{ "ZREVRANGE", R | V_ONE | V_RANGE, KEY_ARG1, NULL },
	{ "ZREVRANGEBYLEX", R | V_ONE, KEY_ARG1, NULL },
	{ "ZREVRANGEBYSCORE", R | V_ONE, KEY_ARG1, NULL },
	{ "ZREVRANK", R | V_ONE, KEY_ARG1, NULL },
	{ "ZSCAN", 0, KEY_ARG1, NULL },
	{ "ZSCORE", R | V_ONE, KEY_ARG1, NULL },
	{ "ZUNION", 0, KEY_NUMKEYS1, NULL },
	{ "ZUNIONSTORE", 0, KEY_ARG1, NULL },
};

static const struct verb verb_module = { "", 0, KEY_ARG1, NULL };
static const struct verb verb_other = { "", 0, KEY_NONE, NULL };

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
	} else if (d->f & V_CONTAINER) {
		if (i == 1 || (i == 2 && (st->opt & OPT_REPLY)))
			st->cap = RESP_CAP_TOK;
	} else if ((d->key == KEY_NUMKEYS1 && i == 1) || (d->key == KEY_NUMKEYS2 && i == 2) ||
		   (d->key == KEY_STREAMS && !st->key_at)) {
		st->cap = RESP_CAP_TOK;
	} else if (((d->f & V_SET) && i >= 3) || ((d->f & V_ZRANGE) && i >= 2) ||
		   ((d->f & V_RANGE) && (i == 2 || i == 3))) {
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

	/* v.verb is zeroed at the value's start: n < CACHE_VERB_MAX leaves it terminated. */
	for (size_t i = 0; i < n; i++)
		st->v.verb[i] = upper(st->tok[i]);
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

	if (d->f & V_CONTAINER) {
		if (i == 1) {
			verb_add_sub(st);
			if (d->key == KEY_SUB && !tok_is(st, "HELP") &&
			    (!d->keyed_sub || tok_is(st, d->keyed_sub)))
				st->key_at = 2;
			if ((d->f & V_CLIENT) && tok_is(st, "REPLY"))
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
	if (d->f & V_SET) {
		if (tok_is(st, "EX") || tok_is(st, "PX") || tok_is(st, "EXAT") ||
		    tok_is(st, "PXAT") || tok_is(st, "KEEPTTL"))
			st->opt |= OPT_TTL;
	} else if (d->f & (V_RANGE | V_ZRANGE)) {
		if (i == 2 && tok_is(st, "0"))
			st->opt |= OPT_START0;
		else if (i == 3 && tok_is(st, "-1"))
			st->opt |= OPT_STOPALL;
		else if (tok_is(st, "BYSCORE") || tok_is(st, "BYLEX"))
			st->opt |= OPT_BY;
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
	uint32_t flags = d->f & V_OPS;
	bool sub = (d->f & V_CONTAINER) && st->argi >= 2;

	v->type = RESP_T_ARRAY;
	v->n = st->argi;
	v->nargs = st->argi - 1 - sub;
	if ((d->f & V_SET) && !(st->opt & OPT_TTL))
		flags |= CACHE_OP_NO_TTL;
	if ((d->f & (V_RANGE | V_ZRANGE)) &&
	    (st->opt & (OPT_START0 | OPT_STOPALL | OPT_BY)) == (OPT_START0 | OPT_STOPALL))
		flags |= CACHE_OP_SCAN_ALL;
	v->info.flags = flags;
	if (d->f & V_ONE)
		v->info.read_keys = v->nargs ? 1 : 0;
	else if (d->f & V_ALL)
		v->info.read_keys = v->nargs;
	else if (d->f & V_BUT1)
		v->info.read_keys = v->nargs ? v->nargs - 1 : 0;
	v->info.multi = d->f & V_MULTI;
	v->info.exec = d->f & V_EXEC;
	v->info.discard = d->f & V_DISCARD;
	v->info.subscribe = d->f & V_SUBSCRIBE;
	v->info.no_reply = st->opt & (OPT_REPLY_OFF | OPT_REPLY_SKIP);
	if (st->opt & OPT_REPLY_ON)
		v->info.client_reply = RESP_CLIENT_REPLY_ON;
	else if (st->opt & OPT_REPLY_OFF)
		v->info.client_reply = RESP_CLIENT_REPLY_OFF;
	else if (st->opt & OPT_REPLY_SKIP)
		v->info.client_reply = RESP_CLIENT_REPLY_SKIP;
	v->key = st->opt & OPT_KEY ? st->key : NULL;
}
