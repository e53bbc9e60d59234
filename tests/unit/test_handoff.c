// SPDX-License-Identifier: GPL-2.0-only
/*
 * Worker runs matched to requests, driven with event sequences seen on uvicorn/FastAPI
 * (event-loop thread L reads, anyio workers W1..W3 send the queries).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* include/abi/handoff_ev.h is the kernel ABI; this module is src/record/handoff.h. */
#include "record/handoff.h"

#define US   1000ull
#define MS   1000000ull
#define TGID 15885
#define L    15885
#define W1   15913
#define W2   15914
#define W3   15915

static int setup(void **state)
{
	struct handoff *h = calloc(1, sizeof(*h));

	if (!h)
		return -1;
	handoff__init(h);
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	handoff__free(*state);
	free(*state);
	return 0;
}

/* The verdict on a query, and its request in *seq. */
static int q(struct handoff *h, uint32_t tid, uint64_t ts, uint64_t now, uint64_t *seq)
{
	return handoff__query(h, TGID, tid, ts, now, seq);
}

/* Sequential /users/2/orders: read, wake 0.6 ms later, 23 queries, self-pipe byte, answer. */
static void test_sequential(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 909000000 * US + HANDOFF_FIFO_NS;
	uint64_t seq = 99;

	handoff__req_start(h, TGID, 1, L, 908937742 * US);
	handoff__wake(h, TGID, L, W1, 908938335 * US, false);
	assert_int_equal(q(h, W1, 908938790 * US, 908939000 * US, &seq), HANDOFF_WAIT);
	handoff__back(h, TGID, W1, 908963413 * US);
	handoff__req_answer(h, TGID, 1, 908963600 * US);
	/* Not settled yet: a request answered just after could still be on its way. */
	handoff__decide(h, 908963413 * US + HANDOFF_SETTLE_NS - 1);
	assert_int_equal(q(h, W1, 908938790 * US, 908970000 * US, &seq), HANDOFF_WAIT);
	handoff__decide(h, 908963413 * US + HANDOFF_SETTLE_NS);
	assert_int_equal(q(h, W1, 908938790 * US, 909000000 * US, &seq), HANDOFF_YES);
	assert_int_equal(seq, 1);
	assert_int_equal(h->st.forced, 1);
	assert_int_equal(h->st.fifo, 0);
	/* After the hand-back the worker is idle: a later query is not this request's. */
	assert_int_equal(q(h, W1, 908963500 * US, 908963600 * US, &seq), HANDOFF_WAIT);
	/* The loop's own queries are never a worker's. */
	assert_int_equal(q(h, L, 908938790 * US, late, &seq), HANDOFF_NONE);
}

/* c=2: /health handed to W2 while W1 runs an N+1: the short run cannot take the long request. */
static void test_health_beside_long_run(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 21100 * US + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 1, L, 0); /* /users/1/orders */
	handoff__wake(h, TGID, L, W1, 600 * US, false);
	handoff__req_start(h, TGID, 2, L, 1 * MS); /* /health */
	handoff__wake(h, TGID, L, W2, 1600 * US, false);
	handoff__back(h, TGID, W2, 2 * MS);
	handoff__req_answer(h, TGID, 2, 2100 * US);
	handoff__back(h, TGID, W1, 21 * MS);
	handoff__req_answer(h, TGID, 1, 21100 * US);
	handoff__decide(h, late);
	assert_int_equal(q(h, W1, 5 * MS, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 1);
	assert_int_equal(q(h, W1, 20 * MS, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 1);
	assert_int_equal(h->st.forced, 2);
	assert_int_equal(h->st.unknown, 0);
}

/*
 * c=4, the silent hand-off (/tmp/ho/s4.txt): W1 and W2 just handed back; L reads /366, then
 * /345, wakes W1 once (for /345), and anyio gives /366 to W2 without a wake: W2's first query
 * starts its run. FIFO by wake would give /366 to W1; the answers force the right pairs.
 */
static void test_silent_handoff_c4(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 1214521100 * US + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	/* The previous jobs of both workers, to make them idle. */
	handoff__req_start(h, TGID, 10, L, 1214480000 * US);
	handoff__wake(h, TGID, L, W1, 1214480500 * US, false);
	handoff__req_start(h, TGID, 11, L, 1214481000 * US);
	handoff__wake(h, TGID, L, W2, 1214481500 * US, false);
	handoff__back(h, TGID, W1, 1214499898 * US);
	handoff__back(h, TGID, W2, 1214499981 * US);
	handoff__req_answer(h, TGID, 10, 1214500300 * US);
	handoff__req_answer(h, TGID, 11, 1214500400 * US);

	handoff__req_start(h, TGID, 366, L, 1214501654 * US);
	handoff__req_start(h, TGID, 345, L, 1214501913 * US);
	handoff__wake(h, TGID, L, W1, 1214502291 * US, false);
	/* W2's query arrives, no run covers it: once settled, it starts a silent run. */
	assert_int_equal(q(h, W2, 1214503026 * US, 1214503100 * US, &seq), HANDOFF_WAIT);
	assert_int_equal(h->st.silent, 0);
	assert_int_equal(q(h, W2, 1214503026 * US, 1214503026 * US + HANDOFF_SETTLE_NS, &seq),
			 HANDOFF_WAIT);
	assert_int_equal(h->st.silent, 1);
	/* Each worker's last query ends just before its hand-back. */
	handoff__activity(h, TGID, W2, 1214503026 * US, 1214519900 * US);
	handoff__activity(h, TGID, W1, 1214502500 * US, 1214520900 * US);
	handoff__back(h, TGID, W2, 1214520000 * US);
	handoff__req_answer(h, TGID, 366, 1214520100 * US);
	handoff__back(h, TGID, W1, 1214521000 * US);
	handoff__req_answer(h, TGID, 345, 1214521100 * US);
	handoff__decide(h, late);
	assert_int_equal(q(h, W2, 1214503026 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 366);
	assert_int_equal(q(h, W1, 1214502500 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 345);
	/* And the earlier jobs: W1 the first read, W2 the second. */
	assert_int_equal(q(h, W1, 1214490000 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 10);
	assert_int_equal(q(h, W2, 1214490000 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 11);
	assert_int_equal(h->st.fifo, 0);
}

/* Both runs could serve both requests: FIFO by hand-off order takes the oldest first. */
static void test_fifo(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 13 * MS + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 1, L, 0);
	handoff__req_start(h, TGID, 2, L, 1 * MS);
	handoff__wake(h, TGID, L, W1, 2 * MS, false);
	handoff__wake(h, TGID, L, W2, 3 * MS, false);
	handoff__back(h, TGID, W1, 10 * MS);
	handoff__back(h, TGID, W2, 11 * MS);
	handoff__req_answer(h, TGID, 1, 12 * MS);
	handoff__req_answer(h, TGID, 2, 13 * MS);
	/* Settled but before the FIFO delay: nothing can be forced, nothing decided. */
	handoff__decide(h, 11 * MS + HANDOFF_SETTLE_NS);
	assert_int_equal(q(h, W1, 5 * MS, 11 * MS + HANDOFF_SETTLE_NS, &seq), HANDOFF_WAIT);
	handoff__decide(h, 11 * MS + HANDOFF_FIFO_NS);
	assert_int_equal(q(h, W1, 5 * MS, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 1);
	assert_int_equal(q(h, W2, 5 * MS, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 2);
	assert_int_equal(h->st.fifo, 2);
	assert_int_equal(h->st.forced, 0);
}

/*
 * The demo at c=4: W2 takes /orders (a long run) and W1, handed /items just after, is done
 * first; both could serve both. W2's run is still going when W1's is judged: it holds the
 * older request, and W1 gets the other.
 */
static void test_fifo_waits_for_open_run(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 505516 * US + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 51, L, 342091 * US);
	handoff__wake(h, TGID, L, W2, 342592 * US, false);
	handoff__req_start(h, TGID, 52, L, 350856 * US);
	handoff__wake(h, TGID, L, W1, 351618 * US, false);
	handoff__back(h, TGID, W1, 353639 * US);
	handoff__req_answer(h, TGID, 52, 354243 * US);
	handoff__decide(h, 353639 * US + HANDOFF_FIFO_NS);
	assert_int_equal(q(h, W1, 352000 * US, 353639 * US + HANDOFF_FIFO_NS, &seq), HANDOFF_YES);
	assert_int_equal(seq, 52);
	handoff__back(h, TGID, W2, 504708 * US);
	handoff__req_answer(h, TGID, 51, 505516 * US);
	handoff__decide(h, late);
	assert_int_equal(q(h, W2, 400000 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 51);
	assert_int_equal(h->st.fifo, 1);
	assert_int_equal(h->st.forced, 1);
	assert_int_equal(h->st.unknown, 0);
}

/*
 * The worker queued its result and lost the GIL before writing the byte: the loop answered
 * the /health it ran (98) 3 ms before the hand-back. The run still serves it, and the
 * long run before, handed back just before that answer, keeps its own request (96).
 */
static void test_answer_before_hand_back(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 302359 * US + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 96, L, 247181 * US);
	handoff__wake(h, TGID, L, W1, 247821 * US, false);
	handoff__activity(h, TGID, W1, 250000 * US, 295000 * US);
	handoff__req_start(h, TGID, 98, L, 294783 * US);
	handoff__wake(h, TGID, L, W3, 295146 * US, false);
	handoff__back(h, TGID, W1, 295669 * US);
	handoff__req_answer(h, TGID, 98, 296172 * US);
	handoff__req_answer(h, TGID, 96, 296422 * US);
	handoff__back(h, TGID, W3, 299220 * US);
	handoff__decide(h, late);
	assert_int_equal(q(h, W1, 250000 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 96);
	assert_int_equal(h->st.unknown, 0);
	assert_int_equal(h->st.forced + h->st.fifo, 2);
	/* W3's run could serve 96 or 98; with W1 on 96, it is 98. */
	handoff__activity(h, TGID, W3, 295500 * US, 295600 * US);
	assert_int_equal(q(h, W3, 295500 * US, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 98);
}

/*
 * No idle worker: L starts W3 (wakeup_new), W3 wakes L ("started"), L futex-wakes W3 once
 * more. One run, from the new thread's first wake-up.
 */
static void test_new_thread(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 9100 * US + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 7, L, 0);
	handoff__wake(h, TGID, L, W3, 1 * MS, true);
	handoff__wake(h, TGID, W3, L, 1100 * US, false);
	handoff__wake(h, TGID, L, W3, 1200 * US, false);
	handoff__back(h, TGID, W3, 9 * MS);
	handoff__req_answer(h, TGID, 7, 9100 * US);
	handoff__decide(h, late);
	assert_int_equal(h->st.runs, 1);
	assert_int_equal(h->st.wakes_ignored, 2);
	assert_int_equal(q(h, W3, 2 * MS, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 7);
}

/* The first query is read before the wake that started its run: the wake dates the run. */
static void test_late_wake(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 21 * MS + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 1, L, 0);
	handoff__wake(h, TGID, L, W1, 1 * MS, false);
	handoff__back(h, TGID, W1, 5 * MS);
	handoff__req_answer(h, TGID, 1, 6 * MS);
	handoff__req_start(h, TGID, 2, L, 10 * MS);
	assert_int_equal(q(h, W1, 12 * MS, 12 * MS + HANDOFF_SETTLE_NS, &seq), HANDOFF_WAIT);
	assert_int_equal(h->st.silent, 1);
	handoff__wake(h, TGID, L, W1, 11 * MS, false);
	assert_int_equal(h->st.silent, 0);
	assert_int_equal(h->st.runs, 2);
	handoff__back(h, TGID, W1, 20 * MS);
	handoff__req_answer(h, TGID, 2, 21 * MS);
	handoff__decide(h, late);
	assert_int_equal(q(h, W1, 12 * MS, late, &seq), HANDOFF_YES);
	assert_int_equal(seq, 2);
}

/* A run no request fits (answered before its last query, or none read): its queries are shared. */
static void test_unknown_run(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 5 * MS + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 1, L, 0);
	handoff__wake(h, TGID, L, W1, 1 * MS, false);
	handoff__req_answer(h, TGID, 1, 2 * MS);
	handoff__activity(h, TGID, W1, 3 * MS, 4 * MS);
	handoff__back(h, TGID, W1, 5 * MS);
	handoff__decide(h, late);
	assert_int_equal(q(h, W1, 3 * MS, late, &seq), HANDOFF_NONE);
	assert_int_equal(h->st.unknown, 1);
	/* Wakes from a thread that reads no request, a process never seen: not hand-offs. */
	handoff__wake(h, TGID, W2, W1, 30 * MS, false);
	assert_int_equal(h->st.wakes_ignored, 1);
	assert_int_equal(handoff__query(h, 4242, 1, 3 * MS, late, &seq), HANDOFF_NONE);
}

/* A process whose requests are never handed off (thread per request, asyncio): not decided here. */
static void test_no_handoffs(void **state)
{
	struct handoff *h = *state;
	const uint64_t late = 1 * MS + HANDOFF_FIFO_NS;
	uint64_t seq = 0;

	handoff__req_start(h, TGID, 1, L, 0);
	handoff__req_start(h, TGID, 2, L, 1 * MS);
	assert_int_equal(q(h, W1, 3 * MS, late, &seq), HANDOFF_NONE);
	assert_int_equal(h->st.runs, 0);
}

static uint32_t announced;

static void on_proc(void *ctx, uint32_t tgid)
{
	(*(unsigned *)ctx)++;
	announced = tgid;
}

/* A process is announced once, when its first request is read. */
static void test_on_proc(void **state)
{
	struct handoff *h = *state;
	unsigned n = 0;

	h->on_proc = on_proc;
	h->ctx = &n;
	handoff__req_start(h, TGID, 1, L, 0);
	handoff__req_start(h, TGID, 2, L, 1);
	handoff__req_start(h, TGID + 1, 3, L + 1, 2);
	assert_int_equal(n, 2);
	assert_int_equal(announced, TGID + 1);
}

/* The hand-off the kernel ring still holds: delivered when the module pulls. */
struct pending {
	struct handoff *h;
	unsigned pulls;
	bool delivered;
};

static void pull(void *ctx)
{
	struct pending *pd = ctx;

	pd->pulls++;
	if (pd->delivered)
		return;
	pd->delivered = true;
	handoff__wake(pd->h, TGID, L, W1, 1 * MS, false);
}

/*
 * The first request of a pool ends, or its worker's query completes, before the wake-up that
 * preceded them was read from the other ring (seen on uvicorn: the first 4 runs of a test
 * were left unmatched, their queries shared): the module reads that ring before it judges.
 */
static void test_pull_before_judging(void **state)
{
	struct handoff *h = *state;
	struct pending pd = { .h = h };
	uint64_t seq = 0;

	h->pull = pull;
	h->ctx = &pd;
	handoff__req_start(h, TGID, 1, L, 0);
	handoff__req_start(h, TGID, 2, L, 500 * US);
	assert_int_equal(q(h, W1, 2 * MS, 3 * MS, &seq), HANDOFF_WAIT);
	assert_true(pd.delivered);
	assert_true(handoff__pool(h, TGID));
	/* A pool known as one is not asked again; a process with no hand-off is, every time. */
	assert_int_equal(pd.pulls, 1);
	assert_false(handoff__pool(h, TGID + 1));
	assert_false(handoff__pool(h, TGID + 1));
	assert_int_equal(pd.pulls, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sequential, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_beside_long_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_handoff_c4, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_waits_for_open_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_before_hand_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_wake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_handoffs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_on_proc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_before_judging, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
