// SPDX-License-Identifier: GPL-2.0-only
/*
 * The RESP parser (resp.c) and key patterns (resp_key.c). The byte sequences below are real:
 * recorded by a loopback proxy between each client named and redis-server 7.0.15 (Debian
 * bookworm), cut where a comment says so. Every input is also parsed split at every offset
 * and a byte at a time, and must give the same values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "proto/resp.h"

/* redis-cli 7.0 (redis-cli -p PORT < file): COMMAND DOCS first, then the file's commands. */
static const char cli_cmds[] =
	"*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n*1\r\n$4\r\nPING\r\n*5\r\n"
	"$3\r\nSET\r\n$12\r\nuser:42:plan\r\n$3\r\npro\r\n$2\r\nEX\r\n"
	"$2\r\n60\r\n*2\r\n$3\r\nGET\r\n$12\r\nuser:42:plan\r\n*2\r\n$3\r\n"
	"GET\r\n$12\r\nuser:43:plan\r\n*3\r\n$4\r\nMGET\r\n$12\r\nuser:42:plan\r\n"
	"$12\r\nuser:43:plan\r\n*6\r\n$4\r\nHSET\r\n$3\r\nh:1\r\n$4\r\n"
	"name\r\n$5\r\nalice\r\n$3\r\nage\r\n$2\r\n30\r\n*2\r\n$7\r\nHGETALL\r\n"
	"$3\r\nh:1\r\n*4\r\n$5\r\nHMGET\r\n$3\r\nh:1\r\n$4\r\nname\r\n"
	"$4\r\nnope\r\n*5\r\n$5\r\nLPUSH\r\n$3\r\nl:1\r\n$1\r\na\r\n$1\r\n"
	"b\r\n$1\r\nc\r\n*4\r\n$6\r\nLRANGE\r\n$3\r\nl:1\r\n$1\r\n0\r\n"
	"$2\r\n-1\r\n*2\r\n$3\r\nGET\r\n$3\r\nl:1\r\n*2\r\n$3\r\nFOO\r\n"
	"$3\r\nbar\r\n*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$8\r\nworker-1\r\n"
	"*2\r\n$4\r\nINCR\r\n$5\r\ncnt:7\r\n*3\r\n$6\r\nEXISTS\r\n$12\r\n"
	"user:42:plan\r\n$12\r\nuser:43:plan\r\n*2\r\n$8\r\nSMEMBERS\r\n"
	"$6\r\nnosuch\r\n*3\r\n$3\r\nDEL\r\n$3\r\nh:1\r\n$3\r\nl:1\r\n";

/* Its replies, from PING on (COMMAND DOCS' reply, 172 kB, left out). */
static const char cli_replies[] =
	"+PONG\r\n+OK\r\n$3\r\npro\r\n$-1\r\n*2\r\n$3\r\npro\r\n$-1\r\n"
	":2\r\n*4\r\n$4\r\nname\r\n$5\r\nalice\r\n$3\r\nage\r\n$2\r\n30\r\n"
	"*2\r\n$5\r\nalice\r\n$-1\r\n:3\r\n*3\r\n$1\r\nc\r\n$1\r\nb\r\n"
	"$1\r\na\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
	"-ERR unknown command 'FOO', with args beginning with: 'bar' \r\n"
	"+OK\r\n:1\r\n:1\r\n*0\r\n:2\r\n+OK\r\n";

/* redis-py 4.3: commands, an error, a transaction pipeline (MULTI ... EXEC in one write). */
static const char py_cmds[] =
	"*5\r\n$3\r\nSET\r\n$12\r\nuser:42:plan\r\n$3\r\npro\r\n$2\r\n"
	"EX\r\n$2\r\n60\r\n*2\r\n$3\r\nGET\r\n$12\r\nuser:42:plan\r\n*2\r\n"
	"$3\r\nGET\r\n$12\r\nuser:43:plan\r\n*4\r\n$4\r\nMGET\r\n$12\r\n"
	"user:42:plan\r\n$12\r\nuser:43:plan\r\n$12\r\nuser:44:plan\r\n"
	"*6\r\n$4\r\nHSET\r\n$3\r\nh:7\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\n"
	"b\r\n$1\r\n2\r\n*4\r\n$5\r\nHMGET\r\n$3\r\nh:7\r\n$1\r\na\r\n"
	"$1\r\nx\r\n*2\r\n$7\r\nHGETALL\r\n$3\r\nh:7\r\n*3\r\n$6\r\nEXISTS\r\n"
	"$12\r\nuser:42:plan\r\n$4\r\nnope\r\n*4\r\n$5\r\nSETEX\r\n$17\r\n"
	"sess:9f8e7d6c5b4a\r\n$2\r\n30\r\n$1\r\nx\r\n*3\r\n$3\r\nSET\r\n"
	"$7\r\nplain:1\r\n$1\r\nv\r\n*3\r\n$6\r\nINCRBY\r\n$5\r\ncnt:1\r\n"
	"$1\r\n1\r\n*3\r\n$5\r\nLPUSH\r\n$12\r\nuser:42:plan\r\n$1\r\n"
	"x\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\ntx:1\r\n$1\r\n"
	"1\r\n*3\r\n$6\r\nINCRBY\r\n$4\r\ntx:1\r\n$1\r\n1\r\n*2\r\n$3\r\n"
	"GET\r\n$4\r\ntx:1\r\n*1\r\n$4\r\nEXEC\r\n";

static const char py_replies[] =
	"+OK\r\n$3\r\npro\r\n$-1\r\n*3\r\n$3\r\npro\r\n$-1\r\n$-1\r\n:2\r\n"
	"*2\r\n$1\r\n1\r\n$-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n"
	"$1\r\n2\r\n:1\r\n+OK\r\n+OK\r\n:1\r\n-WRONGTYPE Operation against a key holding t"
	"he wrong kind of value\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n"
	"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n";

/* ioredis 5: lower-case verbs, CLIENT SETINFO and INFO on connect (INFO's reply left out). */
static const char io_cmds[] =
	"*4\r\n$6\r\nclient\r\n$7\r\nSETINFO\r\n$8\r\nLIB-NAME\r\n$7\r\n"
	"ioredis\r\n*4\r\n$6\r\nclient\r\n$7\r\nSETINFO\r\n$7\r\nLIB-VER\r\n"
	"$6\r\n5.11.1\r\n*1\r\n$4\r\ninfo\r\n*5\r\n$3\r\nset\r\n$12\r\n"
	"user:42:plan\r\n$3\r\npro\r\n$2\r\nEX\r\n$2\r\n60\r\n*2\r\n$3\r\n"
	"get\r\n$12\r\nuser:42:plan\r\n*2\r\n$3\r\nget\r\n$12\r\nuser:43:plan\r\n"
	"*3\r\n$4\r\nmget\r\n$12\r\nuser:42:plan\r\n$4\r\nnope\r\n*6\r\n"
	"$4\r\nhset\r\n$3\r\nh:9\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n"
	"2\r\n*2\r\n$7\r\nhgetall\r\n$3\r\nh:9\r\n*1\r\n$5\r\nmulti\r\n"
	"*3\r\n$3\r\nset\r\n$4\r\ntx:2\r\n$1\r\na\r\n*2\r\n$3\r\nget\r\n"
	"$4\r\ntx:2\r\n*1\r\n$4\r\nexec\r\n";

static const char io_replies_head[] =
	"-ERR unknown subcommand 'SETINFO'. Try CLIENT HELP.\r\n-ERR unknown subcommand 'S"
	"ETINFO'. Try CLIENT HELP.\r\n";

static const char io_replies[] = "+OK\r\n$3\r\npro\r\n$-1\r\n*2\r\n$3\r\npro\r\n$-1\r\n:2\r\n*4\r\n"
				 "$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n+OK\r\n+QUEUED\r\n"
				 "+QUEUED\r\n*2\r\n+OK\r\n$1\r\na\r\n";

/* RESP3 (HELLO 3) from a client that sends what redis-py does: every type, DEBUG PROTOCOL. */
static const char r3_cmds[] =
	"*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n"
	"$6\r\nstring\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$7\r\n"
	"integer\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\ndouble\r\n"
	"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nbignum\r\n*3\r\n"
	"$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\nnull\r\n*3\r\n$5\r\nDEBUG\r\n"
	"$8\r\nPROTOCOL\r\n$5\r\narray\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n"
	"$3\r\nset\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$3\r\nmap\r\n"
	"*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$6\r\nattrib\r\n*3\r\n"
	"$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n$4\r\npush\r\n*3\r\n$5\r\nDEBUG\r\n"
	"$8\r\nPROTOCOL\r\n$8\r\nverbatim\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\n"
	"PROTOCOL\r\n$4\r\ntrue\r\n*3\r\n$5\r\nDEBUG\r\n$8\r\nPROTOCOL\r\n"
	"$5\r\nfalse\r\n*6\r\n$4\r\nHSET\r\n$3\r\nm:1\r\n$1\r\na\r\n$1\r\n"
	"1\r\n$1\r\nb\r\n$1\r\n2\r\n*2\r\n$7\r\nHGETALL\r\n$3\r\nm:1\r\n"
	"*2\r\n$7\r\nHGETALL\r\n$6\r\nm:none\r\n*4\r\n$4\r\nSADD\r\n$3\r\n"
	"s:1\r\n$1\r\nx\r\n$1\r\ny\r\n*2\r\n$8\r\nSMEMBERS\r\n$3\r\ns:1\r\n"
	"*4\r\n$5\r\nHMGET\r\n$3\r\nm:1\r\n$1\r\na\r\n$2\r\nzz\r\n*1\r\n"
	"$5\r\nMULTI\r\n*2\r\n$7\r\nHGETALL\r\n$3\r\nm:1\r\n*2\r\n$8\r\n"
	"SMEMBERS\r\n$3\r\ns:1\r\n*2\r\n$3\r\nGET\r\n$3\r\nm:1\r\n*2\r\n"
	"$3\r\nGET\r\n$4\r\nnone\r\n*1\r\n$4\r\nEXEC\r\n*3\r\n$6\r\nCLIENT\r\n"
	"$8\r\nTRACKING\r\n$2\r\non\r\n*2\r\n$3\r\nGET\r\n$4\r\ntr:1\r\n"
	"*1\r\n$4\r\nPING\r\n*2\r\n$9\r\nSUBSCRIBE\r\n$4\r\nch:1\r\n*1\r\n"
	"$4\r\nPING\r\n*2\r\n$11\r\nUNSUBSCRIBE\r\n$4\r\nch:1\r\n*6\r\n"
	"$4\r\nZADD\r\n$3\r\nz:1\r\n$1\r\n1\r\n$1\r\na\r\n$3\r\n2.5\r\n"
	"$1\r\nb\r\n*5\r\n$6\r\nZRANGE\r\n$3\r\nz:1\r\n$1\r\n0\r\n$2\r\n"
	"-1\r\n$10\r\nWITHSCORES\r\n*3\r\n$6\r\nZSCORE\r\n$3\r\nz:1\r\n"
	"$1\r\nb\r\n*5\r\n$4\r\nXADD\r\n$3\r\nx:1\r\n$1\r\n*\r\n$1\r\n"
	"f\r\n$1\r\nv\r\n*6\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$1\r\n1\r\n"
	"$7\r\nSTREAMS\r\n$3\r\nx:1\r\n$1\r\n0\r\n*2\r\n$3\r\nGET\r\n$3\r\n"
	"m:1\r\n*4\r\n$4\r\nEVAL\r\n$33\r\nreturn redis.call('get', KEYS[1])\r\n"
	"$1\r\n1\r\n$4\r\nnone\r\n*2\r\n$4\r\nBLAH\r\n$1\r\nx\r\n";

static const char r3_replies[] =
	"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$6\r\n7.0.15\r\n"
	"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:7\r\n$4\r\nmode\r\n$10\r\nstandalone\r\n"
	"$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n$11\r\nHello World\r\n"
	":12345\r\n,3.141\r\n(1234567999999999999999999999999999999\r\n"
	"_\r\n*3\r\n:0\r\n:1\r\n:2\r\n~3\r\n:0\r\n:1\r\n:2\r\n%3\r\n:0\r\n"
	"#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n|1\r\n$14\r\nkey-popularity\r\n"
	"*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"
	">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n$40\r\nSome real reply following the push"
	" reply\r\n=29\r\ntxt:This is a verbatim\nstring\r\n#t\r\n#f\r\n"
	":0\r\n%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n%0\r\n"
	":0\r\n~3\r\n$1\r\ny\r\n$1\r\nz\r\n$1\r\nx\r\n*2\r\n$1\r\n1\r\n"
	"_\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*4\r\n"
	"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n~3\r\n$1\r\n"
	"y\r\n$1\r\nz\r\n$1\r\nx\r\n-WRONGTYPE Operation against a key holding the wrong k"
	"ind of value\r\n_\r\n+OK\r\n_\r\n>2\r\n$10\r\ninvalidate\r\n*1\r\n"
	"$4\r\ntr:1\r\n+PONG\r\n>3\r\n$9\r\nsubscribe\r\n$4\r\nch:1\r\n"
	":1\r\n>3\r\n$7\r\nmessage\r\n$4\r\nch:1\r\n$5\r\nhello\r\n+PONG\r\n"
	">3\r\n$11\r\nunsubscribe\r\n$4\r\nch:1\r\n:0\r\n:2\r\n*2\r\n*2\r\n"
	"$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n,2.5\r\n$15\r\n1796586134417-0\r\n"
	"%1\r\n$3\r\nx:1\r\n*1\r\n*2\r\n$15\r\n1796586134417-0\r\n*2\r\n"
	"$1\r\nf\r\n$1\r\nv\r\n-WRONGTYPE Operation against a key holding the wrong kind o"
	"f value\r\n_\r\n-ERR unknown command 'BLAH', with args beginning with: 'x' \r\n";

/* redis-cli: MULTI, SET, GET, INCR (fails: not an integer), EXEC. */
static const char tx_cmds[] = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\ntx:1\r\n$1\r\na\r\n"
			      "*2\r\n$3\r\nGET\r\n$4\r\ntx:1\r\n*2\r\n$4\r\nINCR\r\n$4\r\ntx:1\r\n"
			      "*1\r\n$4\r\nEXEC\r\n";

static const char tx_replies[] = "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n$1\r\na\r\n"
				 "-ERR value is not an integer or out of range\r\n";

/* Inline commands as typed over a raw connection, Redis 7.0's replies. */
static const char inl_cmds[] =
	"PING\r\nSET user:42:plan pro EX 60\r\nGET user:42:plan\r\nget \"user:43:plan\"\r\n"
	"\r\nMGET 'a b' \"c\\\"d\" e\r\nEXISTS user:42:plan\nQUIT\r\n";

static const char inl_replies[] = "+PONG\r\n+OK\r\n$3\r\npro\r\n$-1\r\n*3\r\n$-1\r\n$-1\r\n$-1\r\n"
				  ":1\r\n+OK\r\n";

/* redis-benchmark -P 16 -t set: one write of 16 SETs; -t mset: one MSET of 10 keys. */
static const char bench_set[] = "*3\r\n$3\r\nSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n";

static const char bench_mset[] =
	"*21\r\n$4\r\nMSET\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n"
	"$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n"
	"$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n"
	"$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n"
	"$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n"
	"$3\r\nVXK\r\n$16\r\nkey:__rand_int__\r\n$3\r\nVXK\r\n";

#define LIT(s) (const uint8_t *)(s), sizeof(s) - 1

struct got {
	struct resp_value v;
	uint8_t key[RESP_KEY_MAX];
};

struct col {
	struct got *g;
	size_t n, cap;
	const struct resp_stream *s;
	bool not_idle;	    /* a callback found the stream not idle */
	const char *secret; /* must not be in the stream or the value in a callback */
	bool secret_seen;
};

static bool has(const void *p, size_t n, const char *s)
{
	return s && memmem(p, n, s, strlen(s));
}

static void on_value(const struct resp_value *v, void *ctx)
{
	struct col *c = ctx;
	struct got *g;

	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->g = realloc(c->g, c->cap * sizeof(*c->g));
		assert_non_null(c->g);
		for (size_t i = 0; i < c->n; i++) /* the keys moved with their values */
			if (c->g[i].v.key)
				c->g[i].v.key = c->g[i].key;
	}
	g = &c->g[c->n++];
	g->v = *v;
	g->v.key = NULL;
	if (v->key) {
		memcpy(g->key, v->key, v->key_len);
		g->v.key = g->key;
	}
	if (!resp_stream__idle(c->s))
		c->not_idle = true;
	if (has(v, sizeof(*v), c->secret) || has(c->s, sizeof(*c->s), c->secret) ||
	    (v->key && has(v->key, v->key_len, c->secret)))
		c->secret_seen = true;
}

static void col_free(struct col *c)
{
	free(c->g);
	memset(c, 0, sizeof(*c));
}

/* Feeds [p, p + n) from a heap copy exactly that long, so that a sanitizer sees a read past. */
static bool feed(struct resp_stream *s, struct col *c, const uint8_t *p, size_t n, uint64_t ts)
{
	uint8_t *b = malloc(n ? n : 1);
	bool ok;

	memcpy(b, p, n);
	ok = resp_stream__feed(s, b, n, ts, on_value, c);
	free(b);
	if (c->secret && has(s, sizeof(*s), c->secret))
		c->secret_seen = true;
	return ok;
}

static struct resp_stream S;
static struct col C;

/* One feed of the whole input into a fresh stream S; values in C. */
static void parse(enum resp_dir dir, const uint8_t *p, size_t n)
{
	col_free(&C);
	resp_stream__init(&S, dir);
	C.s = &S;
	assert_true(feed(&S, &C, p, n, 1));
	assert_false(C.not_idle);
	assert_int_equal(S.stats.values, C.n);
}

static void same_value(const struct got *a, const struct got *b)
{
	const struct resp_value *x = &a->v, *y = &b->v;

	assert_int_equal(x->type, y->type);
	assert_int_equal(x->bytes, y->bytes);
	assert_int_equal(x->n, y->n);
	assert_int_equal(x->nil_elems, y->nil_elems);
	assert_int_equal(x->err_elems, y->err_elems);
	assert_int_equal(x->max_bulk, y->max_bulk);
	assert_string_equal(x->err, y->err);
	assert_string_equal(x->verb, y->verb);
	assert_int_equal(x->nargs, y->nargs);
	assert_int_equal(!x->key, !y->key);
	assert_int_equal(x->key_len, y->key_len);
	if (x->key)
		assert_memory_equal(x->key, y->key, x->key_len);
	assert_int_equal(x->key_cut, y->key_cut);
	assert_int_equal(x->inline_cmd, y->inline_cmd);
	assert_memory_equal(&x->info, &y->info, sizeof(x->info));
}

/*
 * The input split at every stride-th offset into two feeds, and a byte at a time, gives the
 * same values as one feed, each with the ts of the feed that held its first byte.
 */
static void check_splits(enum resp_dir dir, const uint8_t *p, size_t n, size_t stride)
{
	struct resp_stream whole, s;
	struct col cw = { .s = &whole }, c = { .s = &s };
	uint64_t *start;

	resp_stream__init(&whole, dir);
	assert_true(feed(&whole, &cw, p, n, 1));
	start = calloc(cw.n + 1, sizeof(*start));

	/* A byte at a time, byte i with ts i: ts_first is where each value starts. */
	resp_stream__init(&s, dir);
	for (size_t i = 0; i < n; i++)
		assert_true(feed(&s, &c, p + i, 1, i));
	assert_int_equal(c.n, cw.n);
	assert_false(c.not_idle);
	for (size_t k = 0; k < cw.n; k++) {
		same_value(&cw.g[k], &c.g[k]);
		start[k] = c.g[k].v.ts_first;
		assert_true(!k || start[k] > start[k - 1]);
	}
	assert_memory_equal(&s.stats, &whole.stats, sizeof(s.stats));
	assert_int_equal(resp_stream__idle(&s), resp_stream__idle(&whole));
	col_free(&c);

	for (size_t cut = 1; cut < n; cut += stride) {
		c.s = &s;
		resp_stream__init(&s, dir);
		assert_true(feed(&s, &c, p, cut, 1));
		assert_true(feed(&s, &c, p + cut, n - cut, 2));
		assert_int_equal(c.n, cw.n);
		for (size_t k = 0; k < cw.n; k++) {
			same_value(&cw.g[k], &c.g[k]);
			assert_int_equal(c.g[k].v.ts_first, start[k] < cut ? 1 : 2);
		}
		assert_memory_equal(&s.stats, &whole.stats, sizeof(s.stats));
		col_free(&c);
	}
	free(start);
	col_free(&cw);
}

#define CHECK_SPLITS(dir, s) check_splits(dir, LIT(s), 1)

/* A command's description, as a row of a table. */
struct want_cmd {
	const char *verb;
	const char *key; /* NULL: none */
	unsigned nargs;
	uint32_t flags;
	unsigned read_keys;
};

static void check_cmds(const struct want_cmd *w, size_t n)
{
	assert_int_equal(C.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct resp_value *v = &C.g[i].v;

		assert_int_equal(v->type, RESP_T_ARRAY);
		assert_string_equal(v->verb, w[i].verb);
		assert_int_equal(v->nargs, w[i].nargs);
		assert_int_equal(v->info.flags, w[i].flags);
		assert_int_equal(v->info.read_keys, w[i].read_keys);
		if (!w[i].key) {
			assert_null(v->key);
		} else {
			assert_non_null(v->key);
			assert_int_equal(v->key_len, strlen(w[i].key));
			assert_memory_equal(v->key, w[i].key, v->key_len);
			assert_false(v->key_cut);
		}
	}
}

/* A reply's description, as a row of a table. */
struct want_reply {
	uint8_t type;
	int64_t n;
	unsigned nil_elems, err_elems;
	uint64_t max_bulk;
	const char *err;
	uint64_t bytes;
};

static void check_replies(const struct want_reply *w, size_t n)
{
	assert_int_equal(C.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct resp_value *v = &C.g[i].v;

		if (v->type != w[i].type || v->n != w[i].n || v->nil_elems != w[i].nil_elems ||
		    v->err_elems != w[i].err_elems || v->max_bulk != w[i].max_bulk ||
		    strcmp(v->err, w[i].err ? w[i].err : "") ||
		    (w[i].bytes && v->bytes != w[i].bytes))
			fail_msg("reply %zu: type %d n %lld nil %u err %u max_bulk %llu err %s "
				 "bytes %llu",
				 i, v->type, (long long)v->n, v->nil_elems, v->err_elems,
				 (unsigned long long)v->max_bulk, v->err,
				 (unsigned long long)v->bytes);
		assert_string_equal(v->verb, "");
		assert_null(v->key);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define R    CACHE_OP_READ
#define W    CACHE_OP_WRITE
#define NT   CACHE_OP_NO_TTL
#define SA   CACHE_OP_SCAN_ALL

static void test_redis_cli(void **state)
{
	static const struct want_cmd cmds[] = {
		{ "COMMAND DOCS", NULL, 0, 0, 0 },
		{ "PING", NULL, 0, 0, 0 },
		{ "SET", "user:42:plan", 4, W, 0 },
		{ "GET", "user:42:plan", 1, R, 1 },
		{ "GET", "user:43:plan", 1, R, 1 },
		{ "MGET", "user:42:plan", 2, R, 2 },
		{ "HSET", "h:1", 5, W, 0 },
		{ "HGETALL", "h:1", 1, R | SA, 1 },
		{ "HMGET", "h:1", 3, R, 2 },
		{ "LPUSH", "l:1", 4, W, 0 },
		{ "LRANGE", "l:1", 3, R | SA, 1 },
		{ "GET", "l:1", 1, R, 1 },
		{ "FOO", NULL, 1, 0, 0 },
		{ "CLIENT SETNAME", NULL, 1, 0, 0 },
		{ "INCR", "cnt:7", 1, W, 0 },
		{ "EXISTS", "user:42:plan", 2, R, 2 },
		{ "SMEMBERS", "nosuch", 1, R | SA, 1 },
		{ "DEL", "h:1", 2, 0, 0 },
	};
	static const struct want_reply replies[] = {
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 7 },	       /* PONG */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },	       /* OK */
		{ RESP_T_BULK, 3, 0, 0, 3, NULL, 9 },	       /* pro */
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 5 },	       /* a miss */
		{ RESP_T_ARRAY, 2, 1, 0, 3, NULL, 18 },	       /* MGET: one miss */
		{ RESP_T_INT, 2, 0, 0, 0, NULL, 4 },	       /* HSET */
		{ RESP_T_ARRAY, 4, 0, 0, 5, NULL, 42 },	       /* HGETALL, RESP2 */
		{ RESP_T_ARRAY, 2, 1, 0, 5, NULL, 20 },	       /* HMGET: one miss */
		{ RESP_T_INT, 3, 0, 0, 0, NULL, 4 },	       /* LPUSH */
		{ RESP_T_ARRAY, 3, 0, 0, 1, NULL, 25 },	       /* LRANGE */
		{ RESP_T_ERROR, 0, 0, 0, 0, "WRONGTYPE", 68 }, /* GET of a list */
		{ RESP_T_ERROR, 0, 0, 0, 0, "ERR", 62 },       /* FOO */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },	       /* CLIENT SETNAME */
		{ RESP_T_INT, 1, 0, 0, 0, NULL, 4 },	       /* INCR */
		{ RESP_T_INT, 1, 0, 0, 0, NULL, 4 },	       /* EXISTS: one of two */
		{ RESP_T_ARRAY, 0, 0, 0, 0, NULL, 4 },	       /* SMEMBERS of nothing */
		{ RESP_T_INT, 2, 0, 0, 0, NULL, 4 },	       /* DEL */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },	       /* SET big (next capture) */
	};

	parse(RESP_CMD, LIT(cli_cmds));
	check_cmds(cmds, N(cmds));
	assert_int_equal(C.g[0].v.bytes, 27);
	assert_int_equal(C.g[0].v.n, 2);
	assert_int_equal(C.g[2].v.n, 5);
	assert_int_equal(C.g[2].v.max_bulk, 12);
	assert_int_equal(C.g[2].v.bytes, 57);
	assert_false(C.g[2].v.inline_cmd);
	CHECK_SPLITS(RESP_CMD, cli_cmds);
	parse(RESP_REPLY, LIT(cli_replies));
	check_replies(replies, N(replies));
	CHECK_SPLITS(RESP_REPLY, cli_replies);
}

static void test_redis_py(void **state)
{
	static const struct want_cmd cmds[] = {
		{ "SET", "user:42:plan", 4, W, 0 },
		{ "GET", "user:42:plan", 1, R, 1 },
		{ "GET", "user:43:plan", 1, R, 1 },
		{ "MGET", "user:42:plan", 3, R, 3 },
		{ "HSET", "h:7", 5, W, 0 },
		{ "HMGET", "h:7", 3, R, 2 },
		{ "HGETALL", "h:7", 1, R | SA, 1 },
		{ "EXISTS", "user:42:plan", 2, R, 2 },
		{ "SETEX", "sess:9f8e7d6c5b4a", 3, W, 0 },
		{ "SET", "plain:1", 2, W | NT, 0 },
		{ "INCRBY", "cnt:1", 2, W, 0 },
		{ "LPUSH", "user:42:plan", 2, W, 0 },
		{ "MULTI", NULL, 0, 0, 0 },
		{ "SET", "tx:1", 2, W | NT, 0 },
		{ "INCRBY", "tx:1", 2, W, 0 },
		{ "GET", "tx:1", 1, R, 1 },
		{ "EXEC", NULL, 0, 0, 0 },
	};
	static const struct want_reply replies[] = {
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },
		{ RESP_T_BULK, 3, 0, 0, 3, NULL, 9 },
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 5 },
		{ RESP_T_ARRAY, 3, 2, 0, 3, NULL, 23 }, /* MGET: 1 hit, 2 misses */
		{ RESP_T_INT, 2, 0, 0, 0, NULL, 4 },
		{ RESP_T_ARRAY, 2, 1, 0, 1, NULL, 16 },
		{ RESP_T_ARRAY, 4, 0, 0, 1, NULL, 32 },
		{ RESP_T_INT, 1, 0, 0, 0, NULL, 4 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },
		{ RESP_T_INT, 1, 0, 0, 0, NULL, 4 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "WRONGTYPE", 68 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_ARRAY, 3, 0, 0, 1, NULL, 20 }, /* EXEC */
	};

	parse(RESP_CMD, LIT(py_cmds));
	check_cmds(cmds, N(cmds));
	assert_true(C.g[12].v.info.multi);
	assert_true(C.g[16].v.info.exec);
	assert_false(C.g[15].v.info.multi || C.g[15].v.info.exec);
	CHECK_SPLITS(RESP_CMD, py_cmds);
	parse(RESP_REPLY, LIT(py_replies));
	check_replies(replies, N(replies));
	CHECK_SPLITS(RESP_REPLY, py_replies);
}

static void test_ioredis(void **state)
{
	static const struct want_cmd cmds[] = {
		{ "CLIENT SETINFO", NULL, 2, 0, 0 }, { "CLIENT SETINFO", NULL, 2, 0, 0 },
		{ "INFO", NULL, 0, 0, 0 },	     { "SET", "user:42:plan", 4, W, 0 },
		{ "GET", "user:42:plan", 1, R, 1 },  { "GET", "user:43:plan", 1, R, 1 },
		{ "MGET", "user:42:plan", 2, R, 2 }, { "HSET", "h:9", 5, W, 0 },
		{ "HGETALL", "h:9", 1, R | SA, 1 },  { "MULTI", NULL, 0, 0, 0 },
		{ "SET", "tx:2", 2, W | NT, 0 },     { "GET", "tx:2", 1, R, 1 },
		{ "EXEC", NULL, 0, 0, 0 },
	};
	static const struct want_reply head[] = {
		{ RESP_T_ERROR, 0, 0, 0, 0, "ERR", 53 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "ERR", 53 },
	};
	static const struct want_reply replies[] = {
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 }, { RESP_T_BULK, 3, 0, 0, 3, NULL, 9 },
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 5 },	{ RESP_T_ARRAY, 2, 1, 0, 3, NULL, 18 },
		{ RESP_T_INT, 2, 0, 0, 0, NULL, 4 },	{ RESP_T_ARRAY, 4, 0, 0, 1, NULL, 32 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 }, { RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 }, { RESP_T_ARRAY, 2, 0, 0, 1, NULL, 16 },
	};

	/* Lower-case verbs, upper-cased. */
	parse(RESP_CMD, LIT(io_cmds));
	check_cmds(cmds, N(cmds));
	CHECK_SPLITS(RESP_CMD, io_cmds);
	parse(RESP_REPLY, LIT(io_replies_head));
	check_replies(head, N(head));
	parse(RESP_REPLY, LIT(io_replies));
	check_replies(replies, N(replies));
	CHECK_SPLITS(RESP_REPLY, io_replies);
}

static void test_resp3(void **state)
{
	static const struct want_reply replies[] = {
		{ RESP_T_MAP, 7, 0, 0, 10, NULL, 145 },	 /* HELLO 3 */
		{ RESP_T_BULK, 11, 0, 0, 11, NULL, 18 }, /* string */
		{ RESP_T_INT, 12345, 0, 0, 0, NULL, 8 },
		{ RESP_T_OTHER, 0, 0, 0, 0, NULL, 8 },	 /* double */
		{ RESP_T_OTHER, 0, 0, 0, 0, NULL, 40 },	 /* big number */
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 3 },	 /* null */
		{ RESP_T_ARRAY, 3, 0, 0, 0, NULL, 16 },	 /* array */
		{ RESP_T_ARRAY, 3, 0, 0, 0, NULL, 16 },	 /* set */
		{ RESP_T_MAP, 3, 0, 0, 0, NULL, 28 },	 /* map */
		{ RESP_T_BULK, 39, 0, 0, 39, NULL, 93 }, /* an attribute, then the reply */
		{ RESP_T_PUSH, 2, 0, 0, 16, NULL, 32 },	 /* a push ... */
		{ RESP_T_BULK, 40, 0, 0, 40, NULL, 47 }, /* ... then the reply */
		{ RESP_T_BULK, 29, 0, 0, 29, NULL, 36 }, /* verbatim */
		{ RESP_T_OTHER, 1, 0, 0, 0, NULL, 4 },	 /* true */
		{ RESP_T_OTHER, 0, 0, 0, 0, NULL, 4 },	 /* false */
		{ RESP_T_INT, 0, 0, 0, 0, NULL, 4 },	 /* HSET */
		{ RESP_T_MAP, 2, 0, 0, 1, NULL, 32 },	 /* HGETALL */
		{ RESP_T_MAP, 0, 0, 0, 0, NULL, 4 },	 /* HGETALL of nothing */
		{ RESP_T_INT, 0, 0, 0, 0, NULL, 4 },	 /* SADD */
		{ RESP_T_ARRAY, 3, 0, 0, 1, NULL, 25 },	 /* SMEMBERS: a set */
		{ RESP_T_ARRAY, 2, 1, 0, 1, NULL, 14 },	 /* HMGET, a RESP3 null */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },	 /* MULTI */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_ARRAY, 4, 1, 1, 1, NULL, 132 }, /* EXEC: map, set, error, null */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 },	 /* CLIENT TRACKING */
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 3 },	 /* GET */
		{ RESP_T_PUSH, 2, 0, 0, 10, NULL, 35 },	 /* invalidate */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 7 },	 /* PONG */
		{ RESP_T_PUSH, 3, 0, 0, 9, NULL, 33 },	 /* subscribe */
		{ RESP_T_PUSH, 3, 0, 0, 7, NULL, 38 },	 /* message */
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 7 },	 /* PONG */
		{ RESP_T_PUSH, 3, 0, 0, 11, NULL, 36 },	 /* unsubscribe */
		{ RESP_T_INT, 2, 0, 0, 0, NULL, 4 },	 /* ZADD */
		{ RESP_T_ARRAY, 2, 0, 0, 1, NULL, 36 },	 /* ZRANGE WITHSCORES: pairs */
		{ RESP_T_OTHER, 0, 0, 0, 0, NULL, 6 },	 /* ZSCORE: a double */
		{ RESP_T_BULK, 15, 0, 0, 15, NULL, 22 }, /* XADD */
		{ RESP_T_MAP, 1, 0, 0, 15, NULL, 61 },	 /* XREAD */
		{ RESP_T_ERROR, 0, 0, 0, 0, "WRONGTYPE", 68 },
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 3 }, /* EVAL */
		{ RESP_T_ERROR, 0, 0, 0, 0, "ERR", 61 },
	};

	parse(RESP_CMD, LIT(r3_cmds));
	assert_int_equal(C.n, 40);
	assert_string_equal(C.g[0].v.verb, "HELLO");
	assert_null(C.g[0].v.key);
	assert_string_equal(C.g[1].v.verb, "DEBUG");
	assert_string_equal(C.g[26].v.verb, "CLIENT TRACKING");
	assert_true(C.g[29].v.info.subscribe);
	assert_false(C.g[31].v.info.subscribe); /* UNSUBSCRIBE */
	assert_string_equal(C.g[33].v.verb, "ZRANGE");
	assert_int_equal(C.g[33].v.info.flags, R | SA); /* 0 -1 WITHSCORES */
	assert_string_equal(C.g[36].v.verb, "XREAD");
	assert_memory_equal(C.g[36].v.key, "x:1", 3); /* after STREAMS */
	assert_int_equal(C.g[36].v.key_len, 3);
	assert_string_equal(C.g[38].v.verb, "EVAL");
	assert_memory_equal(C.g[38].v.key, "none", 4); /* the key after numkeys */
	assert_int_equal(C.g[38].v.max_bulk, 33);
	CHECK_SPLITS(RESP_CMD, r3_cmds);
	parse(RESP_REPLY, LIT(r3_replies));
	check_replies(replies, N(replies));
	assert_int_equal(S.stats.deep, 0);
	CHECK_SPLITS(RESP_REPLY, r3_replies);
}

static void test_exec_nested(void **state)
{
	static const struct want_reply replies[] = {
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 5 }, { RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 }, { RESP_T_SIMPLE, 0, 0, 0, 0, NULL, 9 },
		{ RESP_T_ARRAY, 3, 0, 1, 1, NULL, 62 }, /* OK, "a", an error */
	};
	/* Arrays of arrays, maps of maps: only top-level elements are counted as nil. */
	static const char nested[] = "*4\r\n*2\r\n$1\r\na\r\n$-1\r\n_\r\n"
				     "%1\r\n+k\r\n%2\r\n+k2\r\n*1\r\n$5\r\nhello\r\n+k3\r\n_\r\n"
				     "-ERR inner\r\n";

	parse(RESP_CMD, LIT(tx_cmds));
	assert_int_equal(C.n, 5);
	assert_true(C.g[0].v.info.multi);
	assert_true(C.g[4].v.info.exec);
	parse(RESP_REPLY, LIT(tx_replies));
	check_replies(replies, N(replies));
	assert_string_equal(C.g[4].v.err, "");
	CHECK_SPLITS(RESP_REPLY, tx_replies);

	parse(RESP_REPLY, LIT(nested));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.type, RESP_T_ARRAY);
	assert_int_equal(C.g[0].v.n, 4);
	assert_int_equal(C.g[0].v.nil_elems, 1);
	assert_int_equal(C.g[0].v.err_elems, 1);
	assert_int_equal(C.g[0].v.max_bulk, 5);
	assert_int_equal(C.g[0].v.bytes, sizeof(nested) - 1);
	assert_string_equal(C.g[0].v.err, "");
	CHECK_SPLITS(RESP_REPLY, nested);
}

/* The bytes redis-py sends for a pipeline of SETs, then of GETs (checked against a capture). */
static size_t py_pipeline(char *b, size_t cap, const char *verb, unsigned n, unsigned mul)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		char key[32], val[32];
		int kl = snprintf(key, sizeof(key), "item:%u", i * mul);
		int vl = snprintf(val, sizeof(val), "v%u", i * mul);

		if (!strcmp(verb, "SET"))
			len += snprintf(b + len, cap - len,
					"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", kl, key,
					vl, val);
		else
			len += snprintf(b + len, cap - len, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", kl,
					key);
	}
	return len;
}

static void test_pipeline_1000(void **state)
{
	size_t cap = 1 << 17, n, m = 0;
	char *b = malloc(cap), *r = malloc(cap);

	/* 1000 SETs, then 1000 GETs of item:0, item:2, ... item:1998, in one write each. */
	n = py_pipeline(b, cap, "SET", 1000, 1);
	n += py_pipeline(b + n, cap - n, "GET", 1000, 2);
	parse(RESP_CMD, (const uint8_t *)b, n);
	assert_int_equal(C.n, 2000);
	for (unsigned i = 0; i < 2000; i++) {
		char key[32];
		int kl = snprintf(key, sizeof(key), "item:%u", i < 1000 ? i : (i - 1000) * 2);

		assert_string_equal(C.g[i].v.verb, i < 1000 ? "SET" : "GET");
		assert_int_equal(C.g[i].v.info.flags, i < 1000 ? W | NT : R);
		assert_int_equal(C.g[i].v.key_len, kl);
		assert_memory_equal(C.g[i].v.key, key, kl);
	}
	check_splits(RESP_CMD, (const uint8_t *)b, n, 997);

	/* Their replies: 1000 OK, then 500 hits and 500 misses. */
	for (unsigned i = 0; i < 1000; i++)
		m += snprintf(r + m, cap - m, "+OK\r\n");
	for (unsigned i = 0; i < 1000; i++)
		m += i < 500 ? snprintf(r + m, cap - m, "$%d\r\nv%u\r\n",
					snprintf(NULL, 0, "v%u", 2 * i), 2 * i)
			     : snprintf(r + m, cap - m, "$-1\r\n");
	parse(RESP_REPLY, (const uint8_t *)r, m);
	assert_int_equal(C.n, 2000);
	for (unsigned i = 0; i < 2000; i++)
		assert_int_equal(C.g[i].v.type, i < 1000   ? RESP_T_SIMPLE
						: i < 1500 ? RESP_T_BULK
							   : RESP_T_NIL);
	check_splits(RESP_REPLY, (const uint8_t *)r, m, 499);
	free(b);
	free(r);
}

static void test_redis_benchmark(void **state)
{
	uint8_t b[16 * (sizeof(bench_set) - 1)];

	/* -P 16: sixteen SETs in one write. */
	for (int i = 0; i < 16; i++)
		memcpy(b + i * (sizeof(bench_set) - 1), bench_set, sizeof(bench_set) - 1);
	parse(RESP_CMD, b, sizeof(b));
	assert_int_equal(C.n, 16);
	for (int i = 0; i < 16; i++) {
		assert_string_equal(C.g[i].v.verb, "SET");
		assert_int_equal(C.g[i].v.info.flags, W | NT);
		assert_int_equal(C.g[i].v.bytes, sizeof(bench_set) - 1);
	}
	parse(RESP_CMD, LIT(bench_mset));
	assert_int_equal(C.n, 1);
	assert_string_equal(C.g[0].v.verb, "MSET");
	assert_int_equal(C.g[0].v.nargs, 20);
	assert_int_equal(C.g[0].v.n, 21);
	assert_int_equal(C.g[0].v.max_bulk, 16);
	assert_int_equal(C.g[0].v.info.flags, W | NT);
	assert_memory_equal(C.g[0].v.key, "key:__rand_int__", 16);
	CHECK_SPLITS(RESP_CMD, bench_mset);
}

static void test_inline(void **state)
{
	static const struct want_cmd cmds[] = {
		{ "PING", NULL, 0, 0, 0 },	    { "SET", "user:42:plan", 4, W, 0 },
		{ "GET", "user:42:plan", 1, R, 1 }, { "GET", "user:43:plan", 1, R, 1 },
		{ "MGET", "a b", 3, R, 3 },	    { "EXISTS", "user:42:plan", 1, R, 1 },
		{ "QUIT", NULL, 0, 0, 0 },
	};

	/* The empty line gets no answer from Redis: no value either. */
	parse(RESP_CMD, LIT(inl_cmds));
	check_cmds(cmds, N(cmds));
	for (size_t i = 0; i < C.n; i++)
		assert_true(C.g[i].v.inline_cmd);
	assert_int_equal(C.g[1].v.n, 5);
	assert_int_equal(C.g[1].v.max_bulk, 12);
	assert_int_equal(C.g[0].v.bytes, 6);
	assert_int_equal(C.g[4].v.max_bulk, 4); /* MGET */
	assert_int_equal(C.g[5].v.bytes, 20);	/* a bare \n ends a line too */
	CHECK_SPLITS(RESP_CMD, inl_cmds);
	parse(RESP_REPLY, LIT(inl_replies));
	assert_int_equal(C.n, 7);
	CHECK_SPLITS(RESP_REPLY, inl_replies);

	/* Tabs, \r and runs of spaces separate; a quote inside an unquoted argument is in it. */
	parse(RESP_CMD, LIT("  set\tk:1  'a\\'b'  \"x y\"\r\r\nget a\"b\r\n\n\r\nDEL\r\n"));
	assert_int_equal(C.n, 3);
	assert_string_equal(C.g[0].v.verb, "SET");
	assert_int_equal(C.g[0].v.nargs, 3);
	assert_memory_equal(C.g[0].v.key, "k:1", 3);
	assert_int_equal(C.g[0].v.max_bulk, 3);
	assert_memory_equal(C.g[1].v.key, "a\"b", 3);
	assert_string_equal(C.g[2].v.verb, "DEL");
	assert_null(C.g[2].v.key);
	assert_int_equal(C.g[2].v.bytes, 5);
	CHECK_SPLITS(RESP_CMD, "  set\tk:1  'a\\'b'  \"x y\"\r\r\nget a\"b\r\n\n\r\nDEL\r\n");

	/* A quoted argument's length is its content's. */
	parse(RESP_CMD, LIT("SET k \"a long value\"\r\n"));
	assert_int_equal(C.g[0].v.max_bulk, 12);
}

/* "SET k v" as a RESP array of bulk strings, arguments split at spaces. */
static size_t resp_cmd(uint8_t *b, size_t cap, const char *line)
{
	const char *args[64];
	size_t lens[64], n = 0, len;

	for (const char *p = line;;) {
		const char *e = strchr(p, ' ');

		e = e ? e : p + strlen(p);
		args[n] = p;
		lens[n++] = e - p;
		if (!*e)
			break;
		p = e + 1;
	}
	len = snprintf((char *)b, cap, "*%zu\r\n", n);
	for (size_t i = 0; i < n; i++) {
		len += snprintf((char *)b + len, cap - len, "$%zu\r\n", lens[i]);
		memcpy(b + len, args[i], lens[i]);
		len += lens[i];
		memcpy(b + len, "\r\n", 2);
		len += 2;
	}
	return len;
}

struct want_info {
	const char *line;
	const char *verb;
	const char *key;
	unsigned nargs;
	uint32_t flags;
	unsigned read_keys;
	const char *bools; /* of multi, exec, discard, subscribe, no_reply: the letters set */
};

static void test_commands(void **state)
{
	static const struct want_info t[] = {
		{ "SET k v", "SET", "k", 2, W | NT, 0, "" },
		{ "SET k v EX 10", "SET", "k", 4, W, 0, "" },
		{ "set k v px 10", "SET", "k", 4, W, 0, "" },
		{ "SET k v KEEPTTL", "SET", "k", 3, W, 0, "" },
		{ "SET k v exat 1", "SET", "k", 4, W, 0, "" },
		{ "SET k v NX PXAT 1", "SET", "k", 5, W, 0, "" },
		{ "SET k v NX", "SET", "k", 3, W | NT, 0, "" },
		{ "SET k v GET", "SET", "k", 3, W | NT, 0, "" },
		{ "SET k EX", "SET", "k", 2, W | NT, 0, "" }, /* EX is the value */
		{ "SETEX k 10 v", "SETEX", "k", 3, W, 0, "" },
		{ "PSETEX k 10 v", "PSETEX", "k", 3, W, 0, "" },
		{ "SETNX k v", "SETNX", "k", 2, W | NT, 0, "" },
		{ "MSET a 1 b 2", "MSET", "a", 4, W | NT, 0, "" },
		{ "MSETNX a 1 b 2", "MSETNX", "a", 4, W | NT, 0, "" },
		{ "GETSET k v", "GETSET", "k", 2, W | NT, 0, "" },
		{ "GETEX k EX 10", "GETEX", "k", 3, R, 1, "" },
		{ "GETDEL k", "GETDEL", "k", 1, R, 1, "" },
		{ "HSET h f v", "HSET", "h", 3, W, 0, "" },
		{ "HMSET h f v", "HMSET", "h", 3, W, 0, "" },
		{ "RPUSH l a b", "RPUSH", "l", 3, W, 0, "" },
		{ "SADD s a", "SADD", "s", 2, W, 0, "" },
		{ "ZADD z 1 a", "ZADD", "z", 3, W, 0, "" },
		{ "APPEND k v", "APPEND", "k", 2, W, 0, "" },
		{ "MGET a b c", "MGET", "a", 3, R, 3, "" },
		{ "HMGET h f1 f2", "HMGET", "h", 3, R, 2, "" },
		{ "HGET h f", "HGET", "h", 2, R, 1, "" },
		{ "HEXISTS h f", "HEXISTS", "h", 2, R, 1, "" },
		{ "EXISTS a b", "EXISTS", "a", 2, R, 2, "" },
		{ "SISMEMBER s m", "SISMEMBER", "s", 2, R, 1, "" },
		{ "SMISMEMBER s a b c", "SMISMEMBER", "s", 4, R, 3, "" },
		{ "ZSCORE z a", "ZSCORE", "z", 2, R, 1, "" },
		{ "ZMSCORE z a b", "ZMSCORE", "z", 3, R, 2, "" },
		{ "LINDEX l 0", "LINDEX", "l", 2, R, 1, "" },
		{ "JSON.GET doc:1 $", "JSON.GET", "doc:1", 2, R, 1, "" },
		{ "JSON.MGET a b $", "JSON.MGET", "a", 3, R, 2, "" },
		{ "JSON.SET doc:1 $ {}", "JSON.SET", "doc:1", 3, W, 0, "" },
		{ "BF.ADD bf:1 x", "BF.ADD", "bf:1", 2, 0, 0, "" },
		{ "KEYS user:*", "KEYS", NULL, 1, SA, 0, "" },
		{ "SCAN 0 MATCH user:*", "SCAN", NULL, 3, 0, 0, "" },
		{ "SMEMBERS s", "SMEMBERS", "s", 1, R | SA, 1, "" },
		{ "HGETALL h", "HGETALL", "h", 1, R | SA, 1, "" },
		{ "HKEYS h", "HKEYS", "h", 1, R | SA, 1, "" },
		{ "HVALS h", "HVALS", "h", 1, R | SA, 1, "" },
		{ "SUNION a b", "SUNION", "a", 2, SA, 0, "" },
		{ "SINTER a b", "SINTER", "a", 2, SA, 0, "" },
		{ "SDIFF a b", "SDIFF", "a", 2, SA, 0, "" },
		{ "LRANGE l 0 -1", "LRANGE", "l", 3, R | SA, 1, "" },
		{ "LRANGE l 0 10", "LRANGE", "l", 3, R, 1, "" },
		{ "LRANGE l 1 -1", "LRANGE", "l", 3, R, 1, "" },
		{ "ZRANGE z 0 -1", "ZRANGE", "z", 3, R | SA, 1, "" },
		{ "ZRANGE z 0 -1 WITHSCORES", "ZRANGE", "z", 4, R | SA, 1, "" },
		{ "ZRANGE z 0 -1 BYSCORE", "ZRANGE", "z", 4, R, 1, "" },
		{ "zrange z 0 -1 bylex", "ZRANGE", "z", 4, R, 1, "" },
		{ "zrange z 0 -1 rev", "ZRANGE", "z", 4, R | SA, 1, "" },
		{ "ZREVRANGE z 0 -1", "ZREVRANGE", "z", 3, R | SA, 1, "" },
		{ "ZRANGEBYSCORE z -inf +inf", "ZRANGEBYSCORE", "z", 3, R, 1, "" },
		{ "EVAL s 2 k1 k2 a", "EVAL", "k1", 5, 0, 0, "" },
		{ "EVALSHA sha 0 a", "EVALSHA", NULL, 3, 0, 0, "" },
		{ "EVAL_RO s 1 k", "EVAL_RO", "k", 3, 0, 0, "" },
		{ "EVALSHA_RO s 1 k", "EVALSHA_RO", "k", 3, 0, 0, "" },
		{ "FCALL f 1 k a", "FCALL", "k", 4, 0, 0, "" },
		{ "FCALL_RO f 0", "FCALL_RO", NULL, 2, 0, 0, "" },
		{ "EVAL s x k", "EVAL", NULL, 3, 0, 0, "" }, /* numkeys not a number */
		{ "EVAL s 10 k1 k2", "EVAL", "k1", 4, 0, 0, "" },
		{ "EVAL s 01 k", "EVAL", "k", 3, 0, 0, "" },
		{ "EVAL s 00 k", "EVAL", NULL, 3, 0, 0, "" },
		{ "LMPOP 2 a b LEFT", "LMPOP", "a", 4, 0, 0, "" },
		{ "BLMPOP 0 2 a b LEFT", "BLMPOP", "a", 5, 0, 0, "" },
		{ "ZUNION 2 a b", "ZUNION", "a", 3, 0, 0, "" },
		{ "SINTERCARD 2 a b", "SINTERCARD", "a", 3, 0, 0, "" },
		{ "ZMPOP 1 z MIN", "ZMPOP", "z", 3, 0, 0, "" },
		{ "BZMPOP 0 1 z MIN", "BZMPOP", "z", 4, 0, 0, "" },
		{ "ZUNIONSTORE d 2 a b", "ZUNIONSTORE", "d", 4, 0, 0, "" },
		{ "XREAD COUNT 1 STREAMS x:1 0", "XREAD", "x:1", 5, 0, 0, "" },
		{ "XREADGROUP GROUP g c streams x:2 >", "XREADGROUP", "x:2", 6, 0, 0, "" },
		{ "XREAD STREAMS s1 s2 0 0", "XREAD", "s1", 5, 0, 0, "" },
		{ "XADD x:1 * f v", "XADD", "x:1", 4, W, 0, "" },
		{ "OBJECT ENCODING k", "OBJECT ENCODING", "k", 1, 0, 0, "" },
		{ "object help", "OBJECT HELP", NULL, 0, 0, 0, "" },
		{ "MEMORY USAGE k", "MEMORY USAGE", "k", 1, 0, 0, "" },
		{ "MEMORY STATS", "MEMORY STATS", NULL, 0, 0, 0, "" },
		{ "XINFO STREAM x:1", "XINFO STREAM", "x:1", 1, 0, 0, "" },
		{ "XGROUP CREATE x:1 g $", "XGROUP CREATE", "x:1", 3, 0, 0, "" },
		{ "CLIENT SETNAME app-1", "CLIENT SETNAME", NULL, 1, 0, 0, "" },
		{ "CLIENT REPLY OFF", "CLIENT REPLY", NULL, 1, 0, 0, "r" },
		{ "client reply skip", "CLIENT REPLY", NULL, 1, 0, 0, "r" },
		{ "CLIENT REPLY ON", "CLIENT REPLY", NULL, 1, 0, 0, "" },
		{ "CLIENT KILL ID 7 SKIPME OFF", "CLIENT KILL", NULL, 4, 0, 0, "" },
		{ "CLIENT", "CLIENT", NULL, 0, 0, 0, "" },
		{ "CONFIG GET maxmemory", "CONFIG GET", NULL, 1, 0, 0, "" },
		{ "CLUSTER COUNTKEYSINSLOT 7", "CLUSTER COUNTKEYSINSLOT", NULL, 1, 0, 0, "" },
		{ "CLUSTER GETKEYSINSLOTXYZ 7", "CLUSTER GETKEYSINSLOTXY", NULL, 1, 0, 0, "" },
		{ "COMMAND DOCS GET", "COMMAND DOCS", NULL, 1, 0, 0, "" },
		{ "SCRIPT LOAD x", "SCRIPT LOAD", NULL, 1, 0, 0, "" },
		{ "FUNCTION LIST", "FUNCTION LIST", NULL, 0, 0, 0, "" },
		{ "ACL WHOAMI", "ACL WHOAMI", NULL, 0, 0, 0, "" },
		{ "MULTI", "MULTI", NULL, 0, 0, 0, "m" },
		{ "EXEC", "EXEC", NULL, 0, 0, 0, "e" },
		{ "DISCARD", "DISCARD", NULL, 0, 0, 0, "d" },
		{ "SUBSCRIBE ch", "SUBSCRIBE", NULL, 1, 0, 0, "s" },
		{ "PSUBSCRIBE p*", "PSUBSCRIBE", NULL, 1, 0, 0, "s" },
		{ "SSUBSCRIBE ch", "SSUBSCRIBE", NULL, 1, 0, 0, "s" },
		{ "MONITOR", "MONITOR", NULL, 0, 0, 0, "s" },
		{ "UNSUBSCRIBE", "UNSUBSCRIBE", NULL, 0, 0, 0, "" },
		{ "PUBLISH ch m", "PUBLISH", NULL, 2, 0, 0, "" },
		{ "PING", "PING", NULL, 0, 0, 0, "" },
		{ "INFO memory", "INFO", NULL, 1, 0, 0, "" },
		{ "SELECT 1", "SELECT", NULL, 1, 0, 0, "" },
		{ "AUTH pw", "AUTH", NULL, 1, 0, 0, "" },
		{ "HELLO 3", "HELLO", NULL, 1, 0, 0, "" },
		{ "BITOP AND dest a b", "BITOP", "dest", 4, 0, 0, "" },
		{ "WATCH k", "WATCH", "k", 1, 0, 0, "" },
		{ "DEL a b", "DEL", "a", 2, 0, 0, "" },
		{ "EXPIRE k 10", "EXPIRE", "k", 2, 0, 0, "" },
		{ "GET", "GET", NULL, 0, R, 0, "" },
		{ "MGET", "MGET", NULL, 0, R, 0, "" },
		{ "HMGET h", "HMGET", "h", 1, R, 0, "" },
		{ "get k", "GET", "k", 1, R, 1, "" },
		{ "ThisVerbIsLongerThanTheVerbField k", "THISVERBISLONGERTHANTHE", NULL, 1, 0, 0,
		  "" },
		{ "GET\x01 k", "GET?", NULL, 1, 0, 0, "" },
		{ "GET ", "GET", "", 1, R, 1, "" }, /* an empty key is a key */
	};

	for (size_t i = 0; i < N(t); i++) {
		uint8_t b[512];
		size_t n = resp_cmd(b, sizeof(b), t[i].line);
		const struct resp_value *v;

		parse(RESP_CMD, b, n);
		assert_int_equal(C.n, 1);
		v = &C.g[0].v;
		if (strcmp(v->verb, t[i].verb) || v->nargs != t[i].nargs ||
		    v->info.flags != t[i].flags || v->info.read_keys != t[i].read_keys ||
		    !t[i].key != !v->key ||
		    (v->key &&
		     (v->key_len != strlen(t[i].key) || memcmp(v->key, t[i].key, v->key_len))) ||
		    v->info.multi != !!strchr(t[i].bools, 'm') ||
		    v->info.exec != !!strchr(t[i].bools, 'e') ||
		    v->info.discard != !!strchr(t[i].bools, 'd') ||
		    v->info.subscribe != !!strchr(t[i].bools, 's') ||
		    v->info.no_reply != !!strchr(t[i].bools, 'r'))
			fail_msg("%s: verb %s nargs %u flags %#x read_keys %u key %.*s bools "
				 "%d%d%d%d%d",
				 t[i].line, v->verb, v->nargs, v->info.flags, v->info.read_keys,
				 v->key ? (int)v->key_len : 4,
				 v->key ? (const char *)v->key : "NULL", v->info.multi,
				 v->info.exec, v->info.discard, v->info.subscribe,
				 v->info.no_reply);
		assert_int_equal(v->n, v->nargs + 1 + (strchr(v->verb, ' ') != NULL));
		assert_int_equal(v->bytes, n);
		check_splits(RESP_CMD, b, n, 1);
	}
}

/*
 * Every verb of resp_cmd.c's table, by what it is. Where the key is was checked against Redis
 * 7.0's own key specs (COMMAND INFO), but for SSUBSCRIBE, whose shard channel is no cached key.
 */
/* KEY_NONE */
static const char *const key_none[] = {
	"DISCARD", "EXEC", "KEYS", "MONITOR", "MULTI", "PSUBSCRIBE", "SSUBSCRIBE", "SUBSCRIBE",
};

/* KEY_ARG1 */
static const char *const key_arg1[] = {
	"APPEND",
	"BITCOUNT",
	"BITFIELD",
	"BITFIELD_RO",
	"BITPOS",
	"BLMOVE",
	"BLPOP",
	"BRPOP",
	"BRPOPLPUSH",
	"BZPOPMAX",
	"BZPOPMIN",
	"COPY",
	"DECR",
	"DECRBY",
	"DEL",
	"DUMP",
	"EXISTS",
	"EXPIRE",
	"EXPIREAT",
	"EXPIRETIME",
	"GEOADD",
	"GEODIST",
	"GEOHASH",
	"GEOPOS",
	"GEORADIUS",
	"GEORADIUSBYMEMBER",
	"GEORADIUSBYMEMBER_RO",
	"GEORADIUS_RO",
	"GEOSEARCH",
	"GEOSEARCHSTORE",
	"GET",
	"GETBIT",
	"GETDEL",
	"GETEX",
	"GETRANGE",
	"GETSET",
	"HDEL",
	"HEXISTS",
	"HGET",
	"HGETALL",
	"HINCRBY",
	"HINCRBYFLOAT",
	"HKEYS",
	"HLEN",
	"HMGET",
	"HMSET",
	"HRANDFIELD",
	"HSCAN",
	"HSET",
	"HSETNX",
	"HSTRLEN",
	"HVALS",
	"INCR",
	"INCRBY",
	"INCRBYFLOAT",
	"JSON.GET",
	"JSON.MGET",
	"JSON.SET",
	"LCS",
	"LINDEX",
	"LINSERT",
	"LLEN",
	"LMOVE",
	"LPOP",
	"LPOS",
	"LPUSH",
	"LPUSHX",
	"LRANGE",
	"LREM",
	"LSET",
	"LTRIM",
	"MGET",
	"MOVE",
	"MSET",
	"MSETNX",
	"PERSIST",
	"PEXPIRE",
	"PEXPIREAT",
	"PEXPIRETIME",
	"PFADD",
	"PFCOUNT",
	"PFMERGE",
	"PSETEX",
	"PTTL",
	"RENAME",
	"RENAMENX",
	"RESTORE",
	"RPOP",
	"RPOPLPUSH",
	"RPUSH",
	"RPUSHX",
	"SADD",
	"SCARD",
	"SDIFF",
	"SDIFFSTORE",
	"SET",
	"SETBIT",
	"SETEX",
	"SETNX",
	"SETRANGE",
	"SINTER",
	"SINTERSTORE",
	"SISMEMBER",
	"SMEMBERS",
	"SMISMEMBER",
	"SMOVE",
	"SORT",
	"SORT_RO",
	"SPOP",
	"SRANDMEMBER",
	"SREM",
	"SSCAN",
	"STRLEN",
	"SUBSTR",
	"SUNION",
	"SUNIONSTORE",
	"TOUCH",
	"TTL",
	"TYPE",
	"UNLINK",
	"WATCH",
	"XACK",
	"XADD",
	"XAUTOCLAIM",
	"XCLAIM",
	"XDEL",
	"XLEN",
	"XPENDING",
	"XRANGE",
	"XREVRANGE",
	"XSETID",
	"XTRIM",
	"ZADD",
	"ZCARD",
	"ZCOUNT",
	"ZDIFFSTORE",
	"ZINCRBY",
	"ZINTERSTORE",
	"ZLEXCOUNT",
	"ZMSCORE",
	"ZPOPMAX",
	"ZPOPMIN",
	"ZRANDMEMBER",
	"ZRANGE",
	"ZRANGEBYLEX",
	"ZRANGEBYSCORE",
	"ZRANGESTORE",
	"ZRANK",
	"ZREM",
	"ZREMRANGEBYLEX",
	"ZREMRANGEBYRANK",
	"ZREMRANGEBYSCORE",
	"ZREVRANGE",
	"ZREVRANGEBYLEX",
	"ZREVRANGEBYSCORE",
	"ZREVRANK",
	"ZSCAN",
	"ZSCORE",
	"ZUNIONSTORE",
};

/* KEY_ARG2 */
static const char *const key_arg2[] = {
	"BITOP",
};

/* KEY_NUMKEYS1 */
static const char *const key_numkeys1[] = {
	"LMPOP", "SINTERCARD", "ZDIFF", "ZINTER", "ZINTERCARD", "ZMPOP", "ZUNION",
};

/* KEY_NUMKEYS2 */
static const char *const key_numkeys2[] = {
	"BLMPOP", "BZMPOP", "EVAL", "EVALSHA", "EVALSHA_RO", "EVAL_RO", "FCALL", "FCALL_RO",
};

/* KEY_STREAMS */
static const char *const key_streams[] = {
	"XREAD",
	"XREADGROUP",
};

/* READ */
static const char *const reads[] = {
	"EXISTS",	  "GET",
	"GETDEL",	  "GETEX",
	"HEXISTS",	  "HGET",
	"HGETALL",	  "HKEYS",
	"HMGET",	  "HVALS",
	"JSON.GET",	  "JSON.MGET",
	"LINDEX",	  "LRANGE",
	"MGET",		  "SISMEMBER",
	"SMEMBERS",	  "SMISMEMBER",
	"ZMSCORE",	  "ZRANGE",
	"ZRANGEBYLEX",	  "ZRANGEBYSCORE",
	"ZRANK",	  "ZREVRANGE",
	"ZREVRANGEBYLEX", "ZREVRANGEBYSCORE",
	"ZREVRANK",	  "ZSCORE",
};

/* WRITE */
static const char *const writes[] = {
	"APPEND",  "DECR",    "DECRBY",	  "GEOADD", "GETSET", "HINCRBY",     "HINCRBYFLOAT",
	"HMSET",   "HSET",    "HSETNX",	  "INCR",   "INCRBY", "INCRBYFLOAT", "JSON.SET",
	"LINSERT", "LPUSH",   "LPUSHX",	  "LSET",   "MSET",   "MSETNX",	     "PFADD",
	"PSETEX",  "RESTORE", "RPUSH",	  "RPUSHX", "SADD",   "SET",	     "SETBIT",
	"SETEX",   "SETNX",   "SETRANGE", "XADD",   "ZADD",   "ZINCRBY",
};

/* NO_TTL whatever the arguments */
static const char *const no_ttl[] = {
	"GETSET",
	"MSET",
	"MSETNX",
	"SETNX",
};

/* SCAN_ALL whatever the arguments */
static const char *const scan_all[] = {
	"HGETALL", "HKEYS", "HVALS", "KEYS", "SDIFF", "SINTER", "SMEMBERS", "SUNION",
};

/* every argument a key read */
static const char *const reads_all[] = {
	"EXISTS",
	"MGET",
};

/* every argument but the first read */
static const char *const reads_but1[] = {
	"HMGET",
	"JSON.MGET",
	"SMISMEMBER",
	"ZMSCORE",
};

/* a subcommand first */
static const char *const containers[] = {
	"ACL",	  "CLIENT", "CLUSTER", "COMMAND", "CONFIG",  "FUNCTION", "LATENCY", "MEMORY",
	"MODULE", "OBJECT", "PUBSUB",  "SCRIPT",  "SLOWLOG", "XGROUP",	 "XINFO",
};

/* Replies stop following commands */
static const char *const subscribers[] = { "MONITOR", "PSUBSCRIBE", "SSUBSCRIBE", "SUBSCRIBE" };

static bool in(const char *const *list, size_t n, const char *verb)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], verb))
			return true;
	return false;
}

#define IN(list, verb) in(list, N(list), verb)

static void check_verb(const char *line, const char *verb, const char *key, unsigned nargs)
{
	uint8_t b[256];
	size_t n = resp_cmd(b, sizeof(b), line);
	char base[64];
	const struct resp_value *v;
	uint32_t flags = 0;
	unsigned reads_n = 0;

	snprintf(base, sizeof(base), "%.*s", (int)strcspn(verb, " "), verb);
	if (IN(reads, base)) {
		flags |= R;
		reads_n = IN(reads_all, base) ? nargs : IN(reads_but1, base) ? nargs - 1 : 1;
	}
	if (IN(writes, base))
		flags |= W;
	if (IN(no_ttl, base) || !strcmp(base, "SET"))
		flags |= NT;
	if (IN(scan_all, base))
		flags |= SA;
	parse(RESP_CMD, b, n);
	assert_int_equal(C.n, 1);
	v = &C.g[0].v;
	if (strcmp(v->verb, verb) || v->nargs != nargs || v->info.flags != flags ||
	    v->info.read_keys != reads_n || !key != !v->key ||
	    (key && (v->key_len != strlen(key) || memcmp(v->key, key, v->key_len))) ||
	    v->info.multi != !strcmp(base, "MULTI") || v->info.exec != !strcmp(base, "EXEC") ||
	    v->info.discard != !strcmp(base, "DISCARD") ||
	    v->info.subscribe != IN(subscribers, base) || v->info.no_reply || v->info.client_reply)
		fail_msg("%s: verb %s nargs %u flags %#x read_keys %u key %.*s bools %d%d%d%d%d%d",
			 line, v->verb, v->nargs, v->info.flags, v->info.read_keys,
			 v->key ? (int)v->key_len : 4, v->key ? (const char *)v->key : "NULL",
			 v->info.multi, v->info.exec, v->info.discard, v->info.subscribe,
			 v->info.no_reply, v->info.client_reply);
}

static void test_verb_table(void **state)
{
	static const struct {
		const char *const *verbs;
		size_t n;
		const char *args; /* three arguments, the key k:1 where it must be */
		bool key;
	} kinds[] = {
		{ key_none, N(key_none), "k:1 x y", false },
		{ key_arg1, N(key_arg1), "k:1 x y", true },
		{ key_arg2, N(key_arg2), "x k:1 y", true },
		{ key_numkeys1, N(key_numkeys1), "1 k:1 x", true },
		{ key_numkeys2, N(key_numkeys2), "x 1 k:1", true },
		{ key_streams, N(key_streams), "x STREAMS k:1", true },
	};
	char line[128], verb[64];

	for (size_t k = 0; k < N(kinds); k++) {
		for (size_t i = 0; i < kinds[k].n; i++) {
			snprintf(line, sizeof(line), "%s %s", kinds[k].verbs[i], kinds[k].args);
			check_verb(line, kinds[k].verbs[i], kinds[k].key ? "k:1" : NULL, 3);
			/* Lower case is the same verb. */
			for (char *c = line; *c; c++)
				*c = *c >= 'A' && *c <= 'Z' ? *c + 32 : *c;
			check_verb(line, kinds[k].verbs[i], kinds[k].key ? "k:1" : NULL, 3);
		}
	}
	/* A container's key follows the subcommands that have one. */
	for (size_t i = 0; i < N(containers); i++) {
		bool keyed = !strcmp(containers[i], "OBJECT") || !strcmp(containers[i], "XINFO") ||
			     !strcmp(containers[i], "XGROUP");

		snprintf(line, sizeof(line), "%s SUB k:1 y", containers[i]);
		snprintf(verb, sizeof(verb), "%s SUB", containers[i]);
		check_verb(line, verb, keyed ? "k:1" : NULL, 2);
		snprintf(line, sizeof(line), "%s help k:1 y", containers[i]);
		snprintf(verb, sizeof(verb), "%s HELP", containers[i]);
		check_verb(line, verb, NULL, 2);
	}
	check_verb("MEMORY usage k:1", "MEMORY USAGE", "k:1", 1);
	/* Not in the table: no key, but a module command's first argument. */
	check_verb("NOSUCHVERB k:1 x", "NOSUCHVERB", NULL, 2);
	check_verb("TS.ADD k:1 x", "TS.ADD", "k:1", 2);
	check_verb("ts.add k:1 x", "TS.ADD", "k:1", 2);
}

static void test_client_reply(void **state)
{
	static const struct {
		const char *line;
		uint8_t mode;
		bool no_reply;
	} t[] = {
		{ "CLIENT REPLY ON", RESP_CLIENT_REPLY_ON, false },
		{ "CLIENT REPLY OFF", RESP_CLIENT_REPLY_OFF, true },
		{ "client reply skip", RESP_CLIENT_REPLY_SKIP, true },
		{ "CLIENT REPLY", 0, false },
		{ "CLIENT REPLY MAYBE", 0, false },
		{ "CLIENT SETNAME OFF", 0, false },
		{ "CLIENT KILL SKIPME OFF", 0, false },
	};

	for (size_t i = 0; i < N(t); i++) {
		uint8_t b[128];
		size_t n = resp_cmd(b, sizeof(b), t[i].line);

		parse(RESP_CMD, b, n);
		assert_int_equal(C.n, 1);
		assert_int_equal(C.g[0].v.info.client_reply, t[i].mode);
		assert_int_equal(C.g[0].v.info.no_reply, t[i].no_reply);
	}
}

/* A key longer than RESP_KEY_MAX is cut, and says so. */
static void test_key_cut(void **state)
{
	char line[700] = "GET ";
	uint8_t b[800];
	size_t n;

	memset(line + 4, 'k', 600);
	line[604] = 0;
	n = resp_cmd(b, sizeof(b), line);
	parse(RESP_CMD, b, n);
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.key_len, RESP_KEY_MAX);
	assert_true(C.g[0].v.key_cut);
	assert_int_equal(C.g[0].v.max_bulk, 600);
	check_splits(RESP_CMD, b, n, 7);

	/* Inline, the same. */
	memcpy(line + 604, "\r\n", 3);
	parse(RESP_CMD, (const uint8_t *)line, 606);
	assert_int_equal(C.g[0].v.key_len, RESP_KEY_MAX);
	assert_true(C.g[0].v.key_cut);
	assert_true(C.g[0].v.inline_cmd);

	/* Exactly RESP_KEY_MAX: whole. */
	line[4 + RESP_KEY_MAX] = 0;
	n = resp_cmd(b, sizeof(b), line);
	parse(RESP_CMD, b, n);
	assert_int_equal(C.g[0].v.key_len, RESP_KEY_MAX);
	assert_false(C.g[0].v.key_cut);
}

/* AUTH and HELLO ... AUTH passwords are never copied anywhere, however the bytes come. */
static void test_secrets_not_kept(void **state)
{
	static const char *const lines[] = {
		"AUTH hunter2xy",
		"AUTH default hunter2xy",
		"auth hunter2xy",
		"HELLO 3 AUTH default hunter2xy SETNAME app",
		"CONFIG SET requirepass hunter2xy",
		"ACL SETUSER bob on >hunter2xy",
		"MIGRATE 127.0.0.1 6380 k 0 5000 AUTH hunter2xy",
		"CLIENT SETNAME hunter2xy",
		"AUTH hunter2xy hunter2xy hunter2xy hunter2xy",
	};

	for (size_t i = 0; i < N(lines); i++) {
		uint8_t b[256], inl[256];
		size_t n = resp_cmd(b, sizeof(b), lines[i]);
		size_t m = snprintf((char *)inl, sizeof(inl), "%s\r\n", lines[i]);
		struct {
			const uint8_t *p;
			size_t n;
		} in[] = { { b, n }, { inl, m } };

		for (size_t k = 0; k < 2; k++) {
			col_free(&C);
			resp_stream__init(&S, RESP_CMD);
			C.s = &S;
			C.secret = "hunter2";
			for (size_t j = 0; j < in[k].n; j++)
				assert_true(feed(&S, &C, in[k].p + j, 1, j));
			assert_int_equal(C.n, 1);
			if (C.secret_seen)
				fail_msg("%s (%s): the secret was kept", lines[i],
					 k ? "inline" : "array");
			assert_false(C.not_idle);
			if (C.g[0].v.key)
				assert_false(has(C.g[0].v.key, C.g[0].v.key_len, "hunter2"));
			C.secret = NULL;
		}
	}
}

/* Nesting beyond RESP_DEPTH_MAX is framed exactly, counted, and not described. */
static void test_deep(void **state)
{
	char b[1024];
	size_t n = 0;

	/* 20 arrays of one element, the innermost a map holding a nil, then +OK. */
	for (int i = 0; i < 20; i++)
		n += snprintf(b + n, sizeof(b) - n, "*1\r\n");
	n += snprintf(b + n, sizeof(b) - n, "%%2\r\n+k\r\n_\r\n$3\r\nabc\r\n*0\r\n+OK\r\n");
	parse(RESP_REPLY, (const uint8_t *)b, n);
	assert_int_equal(C.n, 2);
	assert_int_equal(C.g[0].v.type, RESP_T_ARRAY);
	assert_int_equal(C.g[0].v.n, 1);
	assert_int_equal(C.g[0].v.nil_elems, 0);
	assert_int_equal(C.g[0].v.max_bulk, 0); /* "abc" is beyond the depth followed */
	assert_int_equal(C.g[0].v.bytes, n - 5);
	assert_int_equal(C.g[1].v.type, RESP_T_SIMPLE);
	assert_int_equal(S.stats.deep, 12 + 2); /* 12 arrays, the map, the empty array */
	check_splits(RESP_REPLY, (const uint8_t *)b, n, 1);

	/* Exactly RESP_DEPTH_MAX levels: followed, nothing counted, the bulk described. */
	n = 0;
	for (int i = 0; i < RESP_DEPTH_MAX; i++)
		n += snprintf(b + n, sizeof(b) - n, "*2\r\n");
	for (int i = 0; i < RESP_DEPTH_MAX; i++)
		n += snprintf(b + n, sizeof(b) - n, "$4\r\nabcd\r\n");
	n += snprintf(b + n, sizeof(b) - n, "$-1\r\n");
	parse(RESP_REPLY, (const uint8_t *)b, n);
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.n, 2);
	assert_int_equal(C.g[0].v.nil_elems, 1); /* the last element of the top level */
	assert_int_equal(C.g[0].v.max_bulk, 4);
	assert_int_equal(S.stats.deep, 0);
	check_splits(RESP_REPLY, (const uint8_t *)b, n, 1);

	/* An attribute and a map beyond the depth: the attribute is no element. */
	n = 0;
	for (int i = 0; i < RESP_DEPTH_MAX; i++)
		n += snprintf(b + n, sizeof(b) - n, "*1\r\n");
	n += snprintf(b + n, sizeof(b) - n,
		      "|1\r\n+a\r\n*2\r\n:1\r\n:2\r\n%%1\r\n+k\r\n|0\r\n:3\r\n");
	n += snprintf(b + n, sizeof(b) - n, "+OK\r\n");
	parse(RESP_REPLY, (const uint8_t *)b, n);
	assert_int_equal(C.n, 2);
	assert_int_equal(S.stats.deep, 4);
	check_splits(RESP_REPLY, (const uint8_t *)b, n, 1);

	/* An attribute inside a subtree beyond the depth: its pair is no element either. */
	n = 0;
	for (int i = 0; i < RESP_DEPTH_MAX; i++)
		n += snprintf(b + n, sizeof(b) - n, "*1\r\n");
	n += snprintf(b + n, sizeof(b) - n, "*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n+OK\r\n");
	parse(RESP_REPLY, (const uint8_t *)b, n);
	assert_int_equal(C.n, 2);
	assert_int_equal(C.g[1].v.type, RESP_T_SIMPLE);
	assert_int_equal(S.stats.deep, 2);

	/* A subtree beyond the depth announcing more than 2^34 values is not RESP. */
	n = 0;
	for (int i = 0; i < RESP_DEPTH_MAX + 4; i++)
		n += snprintf(b + n, sizeof(b) - n, "*4294967296\r\n");
	n += snprintf(b + n, sizeof(b) - n, "*4\r\n*1\r\n"); /* 2^34 values to come */
	parse(RESP_REPLY, (const uint8_t *)b, n);
	assert_true(feed(&S, &C, LIT("*2\r\n"), 2)); /* 2^34 to come: still RESP */
	assert_false(feed(&S, &C, LIT("*1\r\n"), 3));
	assert_int_equal(S.stats.malformed, 1);
}

static void test_errors_and_nils(void **state)
{
	static const struct want_reply replies[] = {
		{ RESP_T_ERROR, 0, 0, 0, 0, "ERR", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "MOVED", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "ASK", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "WRONGTYPE", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "NOAUTH", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "VERYLONGERRORWO", 0 }, /* cut to CACHE_ERR_MAX - 1 */
		{ RESP_T_ERROR, 0, 0, 0, 0, "", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "SYNTAX", 28 }, /* RESP3 blob error: no value */
		{ RESP_T_ERROR, 0, 0, 0, 0, "?X", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "?Y", 0 },
		{ RESP_T_ERROR, 0, 0, 0, 0, "LOADING", 0 }, /* a blob error after a line error */
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 5 },
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 5 },
		{ RESP_T_NIL, -1, 0, 0, 0, NULL, 3 },
		{ RESP_T_ARRAY, 0, 0, 0, 0, NULL, 4 },
		{ RESP_T_MAP, 0, 0, 0, 0, NULL, 4 },
		{ RESP_T_BULK, 0, 0, 0, 0, NULL, 6 },
		{ RESP_T_INT, INT64_MAX, 0, 0, 0, NULL, 0 },
		{ RESP_T_INT, INT64_MIN, 0, 0, 0, NULL, 0 },
		{ RESP_T_INT, -7, 0, 0, 0, NULL, 0 },
		{ RESP_T_INT, 7, 0, 0, 0, NULL, 0 },
		{ RESP_T_ARRAY, 3, 2, 1, 0, NULL, 0 },
		{ RESP_T_PUSH, 0, 0, 0, 0, NULL, 4 },
		{ RESP_T_ARRAY, 1, 0, 0, 4294967296ull, NULL, 0 },
	};
	static const char in[] = "-ERR unknown command\r\n"
				 "-MOVED 3999 127.0.0.1:6381\r\n"
				 "-ASK 3999 127.0.0.1:6381\r\n"
				 "-WRONGTYPE Operation against a key\r\n"
				 "-NOAUTH\r\n"
				 "-VERYLONGERRORWORDINDEED x\r\n"
				 "-\r\n"
				 "!21\r\nSYNTAX invalid syntax\r\n"
				 "!2\r\n\x01X\r\n"
				 "-\x7fY\r\n!7\r\nLOADING\r\n"
				 "$-1\r\n*-1\r\n_\r\n*0\r\n%0\r\n$0\r\n\r\n"
				 ":9223372036854775807\r\n:-9223372036854775808\r\n:-7\r\n:+7\r\n"
				 "*3\r\n_\r\n-ERR in\r\n*-1\r\n"
				 ">0\r\n"
				 "*1\r\n$4294967296\r\n";

	/* The last bulk string is 4 GiB: given as a gap, it allocates nothing. */
	parse(RESP_REPLY, LIT(in));
	assert_int_equal(C.n, N(replies) - 1);
	assert_true(resp_stream__skip(&S, 4294967296ull));
	assert_true(feed(&S, &C, LIT("\r\n"), 2));
	check_replies(replies, N(replies));
	assert_int_equal(C.g[N(replies) - 1].v.bytes, 4294967296ull + 19);
	assert_int_equal(S.stats.skipped, 4294967296ull);
	assert_int_equal(S.stats.malformed, 0);
}

/* RESP3 attributes come before a value and are not one. */
static void test_attributes(void **state)
{
	static const char in[] = "|1\r\n+ttl\r\n:3600\r\n$2\r\nhi\r\n" /* top */
				 "*3\r\n|1\r\n+k\r\n$100\r\n" /* inside, big: */;
	char b[512];
	size_t n;

	/* An attribute's own bulk strings are not the reply's. */
	n = snprintf(b, sizeof(b), "%s%.100s\r\n_\r\n:1\r\n|0\r\n$-1\r\n+OK\r\n", in,
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	parse(RESP_REPLY, (const uint8_t *)b, n);
	assert_int_equal(C.n, 3);
	assert_int_equal(C.g[0].v.type, RESP_T_BULK);
	assert_int_equal(C.g[0].v.n, 2);
	assert_int_equal(C.g[0].v.bytes, 25);
	assert_int_equal(C.g[1].v.type, RESP_T_ARRAY);
	assert_int_equal(C.g[1].v.n, 3);
	assert_int_equal(C.g[1].v.nil_elems, 2); /* "_" and "$-1" after an empty attribute */
	assert_int_equal(C.g[1].v.max_bulk, 0);
	assert_int_equal(C.g[2].v.type, RESP_T_SIMPLE);
	check_splits(RESP_REPLY, (const uint8_t *)b, n, 1);

	/* Between an attribute and its value, the stream is not idle. */
	parse(RESP_REPLY, LIT("|1\r\n+a\r\n+b\r\n"));
	assert_int_equal(C.n, 0);
	assert_false(resp_stream__idle(&S));
	assert_true(feed(&S, &C, LIT(":1\r\n"), 2));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.ts_first, 1);
	assert_true(resp_stream__idle(&S));
}

/* Gaps in the capture: inside a bulk string they keep the framing, anywhere else not. */
static void test_gaps(void **state)
{
	char big[256];

	/* Inside a reply's bulk string, and exactly to its end. */
	parse(RESP_REPLY, LIT("$10\r\n01"));
	assert_true(resp_stream__skip(&S, 5));
	assert_true(feed(&S, &C, LIT("789\r\n+OK\r\n$10\r\n"), 2));
	assert_true(resp_stream__skip(&S, 10));
	assert_true(resp_stream__skip(&S, 0));
	assert_true(feed(&S, &C, LIT("\r\n"), 3));
	assert_int_equal(C.n, 3);
	assert_int_equal(C.g[0].v.type, RESP_T_BULK);
	assert_int_equal(C.g[0].v.n, 10);
	assert_int_equal(C.g[0].v.bytes, 17);
	assert_int_equal(C.g[2].v.bytes, 17);
	assert_int_equal(C.g[2].v.ts_first, 2);
	assert_int_equal(S.stats.skipped, 15);
	assert_int_equal(S.stats.lost_sync, 0);

	/* Past the bulk string's end: lost, until resynced. */
	parse(RESP_REPLY, LIT("*2\r\n$5\r\nhel"));
	assert_false(resp_stream__skip(&S, 3));
	assert_int_equal(S.stats.lost_sync, 1);
	assert_false(S.synced);
	assert_false(resp_stream__idle(&S));
	assert_false(resp_stream__skip(&S, 1));
	assert_false(feed(&S, &C, LIT("+OK\r\n"), 2));
	assert_int_equal(S.stats.lost_sync, 1);
	assert_int_equal(C.n, 0);
	resp_stream__resync(&S);
	assert_true(resp_stream__idle(&S));
	assert_true(feed(&S, &C, LIT("+OK\r\n"), 3));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.bytes, 5);

	/* Between values, in a line, in a length, at a bulk string's \r\n: lost. */
	static const char *const at[] = { "", "+O", "$1", "$1\r\na", "*1\r\n", ":12\r" };

	for (size_t i = 0; i < N(at); i++) {
		parse(RESP_REPLY, (const uint8_t *)at[i], strlen(at[i]));
		assert_false(resp_stream__skip(&S, 1));
		assert_int_equal(S.stats.lost_sync, 1);
		assert_int_equal(S.stats.malformed, 0);
	}

	/* In a SET's value (a large write): the command is whole, its key too. */
	parse(RESP_CMD, LIT("*3\r\n$3\r\nSET\r\n$7\r\nuser:42\r\n$100\r\n0123456789"));
	assert_true(resp_stream__skip(&S, 80));
	assert_true(feed(&S, &C, LIT("0123456789\r\n"), 2));
	assert_int_equal(C.n, 1);
	assert_string_equal(C.g[0].v.verb, "SET");
	assert_int_equal(C.g[0].v.info.flags, W | NT);
	assert_int_equal(C.g[0].v.key_len, 7);
	assert_false(C.g[0].v.key_cut);
	assert_int_equal(C.g[0].v.max_bulk, 100);
	assert_int_equal(C.g[0].v.bytes, 134);

	/* In the key: what came before it is kept, marked cut. */
	parse(RESP_CMD, LIT("*2\r\n$3\r\nGET\r\n$10\r\nuser:"));
	assert_true(resp_stream__skip(&S, 3));
	assert_true(feed(&S, &C, LIT("89\r\n"), 2));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.key_len, 5);
	assert_true(C.g[0].v.key_cut);

	/* In an option SET needs to see: unknown, so no TTL is assumed... */
	parse(RESP_CMD, LIT("*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n$2\r\nE"));
	assert_true(resp_stream__skip(&S, 1));
	assert_true(feed(&S, &C, LIT("\r\n$2\r\n10\r\n"), 2));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.info.flags, W | NT);

	/* ... and a blob error's first word stops at the gap. */
	parse(RESP_REPLY, LIT("!21\r\nSYN"));
	assert_true(resp_stream__skip(&S, 3));
	assert_true(feed(&S, &C, LIT(" invalid syntax\r\n"), 2));
	assert_int_equal(C.n, 1);
	assert_string_equal(C.g[0].v.err, "SYN");

	/* An inline command is no bulk string. */
	parse(RESP_CMD, LIT("GET k"));
	assert_false(resp_stream__skip(&S, 1));

	/* A 512 MB SET given as a gap: nothing allocated, the framing kept. */
	snprintf(big, sizeof(big), "*3\r\n$3\r\nSET\r\n$5\r\nbig:1\r\n$%u\r\n", 512u << 20);
	parse(RESP_CMD, (const uint8_t *)big, strlen(big));
	assert_true(resp_stream__skip(&S, 512u << 20));
	assert_true(feed(&S, &C, LIT("\r\n"), 2));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.max_bulk, 512u << 20);
	assert_int_equal(C.g[0].v.bytes, strlen(big) + (512u << 20) + 2);
	/* The parser's memory is a fixed struct. */
	assert_true(sizeof(struct resp_stream) < 2048);
}

static void expect_malformed(enum resp_dir dir, const uint8_t *p, size_t n, size_t values)
{
	const char *next = dir == RESP_CMD ? "PING\r\n" : "+OK\r\n";

	col_free(&C);
	resp_stream__init(&S, dir);
	C.s = &S;
	assert_false(feed(&S, &C, p, n, 1));
	assert_int_equal(C.n, values);
	assert_int_equal(S.stats.malformed, 1);
	assert_int_equal(S.stats.lost_sync, 0);
	assert_false(S.synced);
	assert_false(resp_stream__idle(&S));
	/* Ignored until resynced. */
	assert_false(feed(&S, &C, (const uint8_t *)next, strlen(next), 2));
	assert_int_equal(C.n, values);
	assert_int_equal(S.stats.malformed, 1);
	resp_stream__resync(&S);
	assert_true(feed(&S, &C, (const uint8_t *)next, strlen(next), 3));
	assert_int_equal(C.n, values + 1);
}

static void test_malformed(void **state)
{
	static const char *const replies[] = {
		"?x\r\n",
		"\r\n",
		"$abc\r\n",
		"$-2\r\n",
		"$\r\n",
		"$-\r\n",
		"*-5\r\n",
		"|-1\r\n",
		"$?\r\n",
		"*?\r\n",
		"+OK\rX",
		"$3\r\nabcX\r\n",
		"$3\r\nabc\rX",
		":12a\r\n",
		":\r\n",
		":9223372036854775808\r\n",
		":-9223372036854775809\r\n",
		":99999999999999999999999\r\n",
		":18446744073709551616\r\n",
		"$4294967297\r\n",
		"*4294967297\r\n",
		"+OK\r\n+OK\r\nx",
		"$1\r\n\r\n",
	};
	char *line = malloc(RESP_LINE_MAX + 8);

	for (size_t i = 0; i < N(replies); i++)
		expect_malformed(RESP_REPLY, (const uint8_t *)replies[i], strlen(replies[i]),
				 strncmp(replies[i], "+OK\r\n", 5) ? 0 : 2);
	/* A line without digits after one with: the digits are the line's own. */
	expect_malformed(RESP_REPLY, LIT("*1\r\n$\r\n"), 0);
	expect_malformed(RESP_REPLY, LIT("*2\r\n:1\r\n:\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("*2\r\n:1\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("*1\r\n$-1\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("*1\r\n*1\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("GET \x01k\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("GET k\x7f\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("GET\0k\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("*1\r\n$4\r\nPINGX"), 0);
	expect_malformed(RESP_CMD, LIT("*x\r\n"), 0);
	expect_malformed(RESP_CMD, LIT("*2147483648\r\n"), 0);
	parse(RESP_CMD, LIT("*2147483647\r\n"));
	assert_false(resp_stream__idle(&S));

	/* A line of RESP_LINE_MAX is one; a byte more is not. */
	line[0] = '+';
	memset(line + 1, 'a', RESP_LINE_MAX + 1);
	memcpy(line + 1 + RESP_LINE_MAX, "\r\n", 2);
	parse(RESP_REPLY, (const uint8_t *)line, RESP_LINE_MAX + 3);
	assert_int_equal(C.n, 1);
	memcpy(line + 2 + RESP_LINE_MAX, "\r\n", 2);
	expect_malformed(RESP_REPLY, (const uint8_t *)line, RESP_LINE_MAX + 4, 0);
	/* Inline, as in Redis, the limit is on the bytes before the \n, \r included. */
	memset(line, 'a', RESP_LINE_MAX);
	memcpy(line + RESP_LINE_MAX - 1, "\r\n", 2);
	parse(RESP_CMD, (const uint8_t *)line, RESP_LINE_MAX + 1);
	assert_int_equal(C.n, 1);
	assert_true(C.g[0].v.inline_cmd);
	memset(line, 'a', RESP_LINE_MAX + 1);
	expect_malformed(RESP_CMD, (const uint8_t *)line, RESP_LINE_MAX + 1, 0);
	memcpy(line + RESP_LINE_MAX, "\r\n", 2);
	expect_malformed(RESP_CMD, (const uint8_t *)line, RESP_LINE_MAX + 2, 0);
	free(line);

	/* A length of 2^32 is still one. */
	parse(RESP_REPLY, LIT("$4294967296\r\n"));
	assert_true(S.synced);
}

static void test_idle(void **state)
{
	parse(RESP_REPLY, LIT(""));
	assert_true(resp_stream__idle(&S));
	assert_true(feed(&S, &C, LIT("+O"), 1));
	assert_false(resp_stream__idle(&S));
	assert_true(feed(&S, &C, LIT("K\r\n*2\r\n"), 2));
	assert_false(resp_stream__idle(&S));
	assert_int_equal(C.n, 1);
	assert_true(feed(&S, &C, LIT(":1\r\n:2\r\n"), 3));
	assert_true(resp_stream__idle(&S));
	assert_int_equal(C.n, 2);
	assert_int_equal(C.g[1].v.ts_first, 2);

	/* Commands Redis does not answer give no value: empty lines, empty arrays. */
	parse(RESP_CMD, LIT("\r"));
	assert_false(resp_stream__idle(&S));
	assert_true(feed(&S, &C, LIT("\n*0\r\n*-1\r\n\n"), 2));
	assert_true(resp_stream__idle(&S));
	assert_int_equal(C.n, 0);
	assert_true(feed(&S, &C, LIT("*1\r\n"), 3));
	assert_false(resp_stream__idle(&S));
	assert_true(feed(&S, &C, LIT("$4\r\nPING\r\n"), 4));
	assert_true(resp_stream__idle(&S));
	assert_int_equal(C.n, 1);
	assert_int_equal(C.g[0].v.ts_first, 3);
	assert_int_equal(C.g[0].v.bytes, 14);
}

static void test_key_pattern(void **state)
{
	static const struct {
		const char *key, *pattern;
	} t[] = {
		{ "user:42:plan", "user:{id}:plan" },
		{ "sess:9f8e7d6c5b4a", "sess:{id}" },
		{ "order-1234", "order-{id}" },
		{ "api:v1:users", "api:v1:users" },
		{ "cache:v2:user:7", "cache:v2:user:{id}" },
		{ "V12:x", "V12:x" },
		{ "v123", "v{id}" },
		{ "user:550e8400-e29b-41d4-a716-446655440000:cart", "user:{id}:cart" },
		{ "celery-task-meta-550e8400-e29b-41d4-a716-446655440000",
		  "celery-task-meta-{id}" },
		{ "550e8400-e29b-41d4-a716-446655440000x", "{id}-{id}-{id}-a{id}-{id}x" },
		{ "token:eyJhbGciOiJIUzI1NiJ9", "token:{id}" },
		{ "jwt:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc", "jwt:{id}.{id}.abc" },
		{ "mail:alice@example.com:prefs", "mail:{id}:prefs" },
		{ "alice.smith@mail.example.org", "{id}" },
		{ "plan_cache", "plan_cache" },
		{ "api:v1:rate:10.0.0.7", "api:v1:rate:{id}.{id}.{id}.{id}" }, /* docs/redis.md */
		{ "user:alice:plan", "user:alice:plan" },
		{ "", "" },
		{ "page:/products/123?x=1", "page:/products/{id}?x={id}" },
		{ "rate:10.0.0.1", "rate:{id}.{id}.{id}.{id}" },
		{ "a1b2c3", "{id}" },
		{ "x9k2", "{id}" },
		{ "item42", "item{id}" },
		{ "42items", "{id}items" },
		{ "cart:user_42:items", "cart:user_{id}:items" },
		{ "2024-01-05", "{id}-{id}-{id}" },
		{ "{user42}:cart", "{user{id}}:cart" },
		{ "deadbeef", "deadbeef" },
		{ "deadbeef1", "{id}" },
		{ "abc1234", "abc{id}" },
		{ "feed#12,13", "feed#{id},{id}" },
		{ "k=v|x=9", "k=v|x={id}" },
		{ "lock:", "lock:" },
		{ "::", "::" },
		{ "key:__rand_int__", "key:__rand_int__" },
		{ "key:000000000123", "key:{id}" },
		{ "q:users.by_email", "q:users.by_email" },
		{ "-5", "-{id}" },
		{ "bin\x01\x7f\\:\xc3\xa9t\xc3\xa9", "bin\\x01\\x7f\\x5c:\\xc3\\xa9t\\xc3\\xa9" },
		{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmn",
		  "abcdefghijklmnopqrstuvwxyzabcdefghijklmn" },
		{ "abcdefghijklmnopqrstuvwxyzabcdefghijklmno", "{id}" },
		{ "url:http/example.com/a-long-path-segment-of-a-page-about-cats-and-dogs",
		  "url:http/example.com/{id}" },
		{ "AbCdEfGhIjKlMnOpQrSt", "AbCdEfGhIjKlMnOpQrSt" }, /* no digit: a name */
		{ "AbCdEfGhIjKlMnOpQrS1", "{id}" },
		{ "AbCdEfGhIjKlMnOpQr1", "AbCdEfGhIjKlMnOpQr{id}" }, /* 19: not a token */
		{ "to:a@b.io,cc:c@d.io", "to:{id},cc:{id}" },
		{ "550e8400-e29b-41d4-a716-446655440000-v1", "{id}-v1" },
	};
	char out[CACHE_PATTERN_MAX];

	for (size_t i = 0; i < N(t); i++) {
		size_t n = resp__key_pattern((const uint8_t *)t[i].key, strlen(t[i].key), out,
					     sizeof(out));

		if (strcmp(out, t[i].pattern))
			fail_msg("%s -> %s, not %s", t[i].key, out, t[i].pattern);
		assert_int_equal(n, strlen(out));
	}
	/* Not NUL-terminated input: only len bytes are read. */
	assert_int_equal(resp__key_pattern((const uint8_t *)"user:42XYZ", 7, out, sizeof(out)), 9);
	assert_string_equal(out, "user:{id}");
}

static void test_key_pattern_cut(void **state)
{
	static const uint8_t key[] = "user:42:plan:\x01";
	static const struct {
		size_t outsz;
		const char *out;
	} t[] = {
		{ 100, "user:{id}:plan:\\x01" }, /* 19 bytes */
		{ 20, "user:{id}:plan:\\x01" },
		{ 19, "user:{id}:plan:..." }, /* the escape is not split */
		{ 18, "user:{id}:plan..." },
		{ 13, "user:{id}..." },
		{ 12, "user:..." }, /* nor {id} */
		{ 9, "user:..." },
		{ 8, "user..." },
		{ 5, "u..." },
		{ 4, "..." },
		{ 3, ".." },
		{ 2, "." },
		{ 1, "" },
	};
	char out[128];

	for (size_t i = 0; i < N(t); i++) {
		memset(out, 'Z', sizeof(out));
		assert_int_equal(resp__key_pattern(key, sizeof(key) - 1, out, t[i].outsz),
				 strlen(t[i].out));
		assert_string_equal(out, t[i].out);
		assert_int_equal(out[t[i].outsz], 'Z');
	}
	out[0] = 'Z';
	assert_int_equal(resp__key_pattern(key, sizeof(key) - 1, out, 0), 0);
	assert_int_equal(out[0], 'Z');
}

static int teardown(void **state)
{
	col_free(&C);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_redis_cli, teardown),
		cmocka_unit_test_teardown(test_redis_py, teardown),
		cmocka_unit_test_teardown(test_ioredis, teardown),
		cmocka_unit_test_teardown(test_resp3, teardown),
		cmocka_unit_test_teardown(test_exec_nested, teardown),
		cmocka_unit_test_teardown(test_pipeline_1000, teardown),
		cmocka_unit_test_teardown(test_redis_benchmark, teardown),
		cmocka_unit_test_teardown(test_inline, teardown),
		cmocka_unit_test_teardown(test_commands, teardown),
		cmocka_unit_test_teardown(test_verb_table, teardown),
		cmocka_unit_test_teardown(test_client_reply, teardown),
		cmocka_unit_test_teardown(test_key_cut, teardown),
		cmocka_unit_test_teardown(test_secrets_not_kept, teardown),
		cmocka_unit_test_teardown(test_deep, teardown),
		cmocka_unit_test_teardown(test_errors_and_nils, teardown),
		cmocka_unit_test_teardown(test_attributes, teardown),
		cmocka_unit_test_teardown(test_gaps, teardown),
		cmocka_unit_test_teardown(test_malformed, teardown),
		cmocka_unit_test_teardown(test_idle, teardown),
		cmocka_unit_test_teardown(test_key_pattern, teardown),
		cmocka_unit_test_teardown(test_key_pattern_cut, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
