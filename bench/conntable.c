// SPDX-License-Identifier: GPL-2.0-only
/*
 * Micro benchmark of the recorder's connection table: synthetic socket events through
 * tracker__event, with LIVE connections open. It times the lookup every socket event pays
 * (data on a live connection), opening and closing, and a steady churn (close one, open one).
 * Client connections of a protocol nobody decodes, so that the table is most of the work.
 *
 *   make -s build/libsloprobe.a
 *   cc -O2 -D_GNU_SOURCE -Iinclude -Isrc -Ibuild bench/conntable.c build/libsloprobe.a \
 *      $(pkg-config --libs libbpf libelf zlib yaml-0.1 json-c) -lm -o build/conntable
 *   build/conntable [LIVE [ROUNDS]]
 *
 * Prints one line per operation: "name ns/op" (the best of 5 runs: the machine is shared).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <linux/types.h>

#include "abi/sockio.h"
#include "record/agg.h"
#include "record/sink.h"
#include "record/tracker.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void open_ev(struct tracker *t, uint64_t id)
{
	struct sockio_open_ev e = {
		.type = SOCKIO_EV_OPEN,
		.tgid = 4242,
		.conn_id = id,
		.ts = id,
		.fd = (uint32_t)id,
		.family = 2,
		.rport = 5432,
		.role = SOCKIO_ROLE_CLIENT,
		.comm = "app",
	};

	tracker__event(t, &e, sizeof(e));
}

static void data_ev(struct tracker *t, uint64_t id)
{
	struct sockio_data_ev e = {
		.type = SOCKIO_EV_DATA,
		.tgid = 4242,
		.conn_id = id,
		.len = 10,
		.dir = SOCKIO_OUT,
		.proto = SOCKIO_PROTO_OTHER,
	};

	tracker__event(t, &e, sizeof(e));
}

static void close_ev(struct tracker *t, uint64_t id)
{
	struct sockio_close_ev e = { .type = SOCKIO_EV_CLOSE, .tgid = 4242, .conn_id = id };

	tracker__event(t, &e, sizeof(e));
}

/* xorshift: the order data events visit the live connections in, the same every run */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

struct times {
	double open, data, churn, close;
};

static int run(unsigned live, unsigned rounds, struct times *tm)
{
	const struct sink_opts so = { .procroot = "/nonexistent" };
	const struct tracker_opts to = { .max_conns = 2 * live };
	uint64_t *ids = malloc(live * sizeof(*ids)), *order, seed = 88172645463325252ull, next = 1;
	unsigned nops = rounds * live;
	struct tracker *t;
	struct agg a;
	struct sink s;
	uint64_t t0;

	order = malloc(nops * sizeof(*order));
	if (!ids || !order || agg__init(&a, 16) || sink__init(&s, &so, &a, NULL, NULL) ||
	    tracker__new(&t, &to, &s))
		return -1;
	/* Sequential ids, as the kernel hands them out. */
	t0 = now_ns();
	for (unsigned i = 0; i < live; i++)
		open_ev(t, ids[i] = next++);
	tm->open = (double)(now_ns() - t0) / live;

	for (unsigned i = 0; i < nops; i++)
		order[i] = ids[rnd(&seed) % live];
	t0 = now_ns();
	for (unsigned i = 0; i < nops; i++)
		data_ev(t, order[i]);
	tm->data = (double)(now_ns() - t0) / nops;

	/* One closes, a new one opens: the live count stays, the ids move on. */
	for (unsigned i = 0; i < nops; i++)
		order[i] = rnd(&seed) % live;
	t0 = now_ns();
	for (unsigned i = 0; i < nops; i++) {
		close_ev(t, ids[order[i]]);
		open_ev(t, ids[order[i]] = next++);
	}
	tm->churn = (double)(now_ns() - t0) / nops;

	t0 = now_ns();
	for (unsigned i = 0; i < live; i++)
		close_ev(t, ids[i]);
	tm->close = (double)(now_ns() - t0) / live;

	tracker__free(t);
	sink__free(&s);
	agg__free(&a);
	free(order);
	free(ids);
	return 0;
}

#define MIN(a, b) ((a) < (b) ? (a) : (b))

int main(int argc, char **argv)
{
	unsigned live = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
	unsigned rounds = argc > 2 ? (unsigned)atoi(argv[2]) : 100;
	struct times best = { 1e9, 1e9, 1e9, 1e9 }, tm;

	if (!live || !rounds)
		return 2;
	for (int r = 0; r < 5; r++) {
		if (run(live, rounds, &tm)) {
			fprintf(stderr, "conntable: out of memory\n");
			return 1;
		}
		best.open = MIN(best.open, tm.open);
		best.data = MIN(best.data, tm.data);
		best.churn = MIN(best.churn, tm.churn);
		best.close = MIN(best.close, tm.close);
	}
	printf("live %u, %u events per live connection\n", live, rounds);
	printf("open         %7.1f ns/op\n", best.open);
	printf("data (find)  %7.1f ns/op\n", best.data);
	printf("close + open %7.1f ns/op\n", best.churn);
	printf("close        %7.1f ns/op\n", best.close);
	return 0;
}
