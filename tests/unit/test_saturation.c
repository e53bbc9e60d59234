// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "analyze/saturation.h"

#define N 24

/* Rate and p95 per 1 s interval; count follows the rate. */
static unsigned fill(struct sat_point *p, const double *rate, const double *p95, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		p[i].t = i;
		p[i].rate = rate[i];
		p[i].p95 = p95[i];
		p[i].count = (uint64_t)rate[i];
		p[i].wait = NAN;
	}
	return n;
}

static bool find(const double *rate, const double *p95, unsigned n, struct sat_result *res)
{
	struct sat_point p[N];
	struct sat_opts o;

	saturation__default_opts(&o);
	return saturation__find(p, fill(p, rate, p95, n), &o, res);
}

/* A linear ramp that saturates at 100/s from t=9: the queue grows, p95 climbs. */
static void test_ramp_saturates(void **state)
{
	double rate[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 101, 99, 100, 100 };
	double p95[] = { 50, 50, 51, 50, 52, 51, 52, 53, 55, 60, 75, 110, 160, 220 };
	struct sat_result r;

	assert_true(find(rate, p95, 14, &r));
	assert_int_equal(r.index, 9);
	assert_true(r.t == 9 && r.rate == 100 && r.p95 == 60);
	assert_true(r.t_end == 12 && r.p95_end == 160);
}

/* Throughput that collapses under overload is saturation too. */
static void test_ramp_collapses(void **state)
{
	double rate[] = { 20, 40, 60, 80, 80, 70, 50, 40 };
	double p95[] = { 30, 30, 31, 35, 60, 120, 300, 600 };
	struct sat_result r;

	assert_true(find(rate, p95, 8, &r));
	assert_int_equal(r.index, 3);
}

/* Load rises and latency stays flat: no saturation point. */
static void test_ramp_keeps_up(void **state)
{
	double rate[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };
	double p95[] = { 50, 50, 51, 50, 52, 51, 52, 53, 52, 51 };
	struct sat_result r;

	assert_false(find(rate, p95, 10, &r));
}

/* Constant load with rising latency (a leak, a cold cache) is not a ramp. */
static void test_no_ramp(void **state)
{
	double rate[] = { 100, 100, 101, 99, 100, 100, 100, 100 };
	double p95[] = { 50, 60, 70, 80, 90, 100, 110, 120 };
	struct sat_result r;

	assert_false(find(rate, p95, 8, &r));
}

/* A staircase ramp holds each step: flat throughput with flat p95 is no saturation. */
static void test_staircase(void **state)
{
	double rate[] = { 20, 20, 20, 20, 40, 40, 40, 40, 60, 60, 60, 60, 61, 60, 60, 60 };
	double p95[] = { 10, 10, 10, 10, 10, 11, 10, 10, 12, 15, 19, 25, 40, 70, 90, 120 };
	struct sat_result r;

	assert_true(find(rate, p95, 16, &r));
	/* The first interval of the top step from which p95 then rises by 20 % in 3 intervals. */
	assert_int_equal(r.index, 8);
	assert_true(r.t_end == 11 && r.p95_end == 25);
}

/* p95 that rises then falls back within the window is noise, not saturation. */
static void test_transient_spike(void **state)
{
	double rate[] = { 10, 30, 50, 70, 70, 70, 70, 70 };
	double p95[] = { 20, 20, 20, 20, 40, 19, 21, 20 };
	struct sat_result r;

	assert_false(find(rate, p95, 8, &r));
}

/* Idle intervals (too few requests, no percentile) are skipped, not read as a collapse. */
static void test_idle_intervals_skipped(void **state)
{
	struct sat_point p[] = {
		{ 0, 10, 50, 10, NAN }, { 1, 0, NAN, 0, NAN },	{ 2, 30, 50, 30, NAN },
		{ 3, 2, 400, 2, NAN },	{ 4, 60, 52, 60, NAN }, { 5, 60, 70, 60, NAN },
		{ 6, 0, NAN, 0, NAN },	{ 7, 61, 90, 61, NAN }, { 8, 59, 130, 59, NAN },
	};
	struct sat_opts o;
	struct sat_result r;

	saturation__default_opts(&o);
	assert_true(saturation__find(p, 9, &o, &r));
	assert_int_equal(r.index, 4);
	assert_true(r.t_end == 8);
	/* The same without enough confirming intervals after it: nothing. */
	assert_false(saturation__find(p, 7, &o, &r));
	assert_false(saturation__find(p, 0, &o, &r));
}

/*
 * Already at capacity when the load starts (a single-threaded server, 1 -> 16 connections):
 * throughput is flat from the first interval, so there is no ramp; the wait before the server
 * reads the requests shows where they began to queue.
 */
static void test_at_capacity_found_by_wait(void **state)
{
	double rate[] = { 204, 223, 201, 233, 220, 222, 225, 198 };
	double p95[] = { 4.9, 5.3, 7.4, 9.2, 12.6, 12.5, 25.8, 32.4 };
	double wait[] = { 0.23, 0.13, 1.07, 4.82, 8.45, 7.50, 21.6, 27.7 };
	struct sat_point p[8];
	struct sat_opts o;
	struct sat_result r;

	saturation__default_opts(&o);
	fill(p, rate, p95, 8);
	assert_false(saturation__find(p, 8, &o, &r)); /* no wait known: no ramp, nothing */
	for (int i = 0; i < 8; i++)
		p[i].wait = wait[i];
	assert_true(saturation__find(p, 8, &o, &r));
	assert_true(r.by_wait);
	/* t=2 waited 1.07 ms, under a quarter of its 7.4 ms p95: t=3 is the first that queued. */
	assert_int_equal(r.index, 3);
	assert_int_equal(r.end, 6);
	/* A queue that drains within the window is no saturation point. */
	p[5].wait = 0.5;
	assert_false(saturation__find(p, 8, &o, &r));
}

/* The first signs in time order; a tie keeps the enum's order, NaN is never seen. */
static void test_first_signs_order(void **state)
{
	enum sat_signal o[SAT_NR];
	double f[SAT_NR];

	(void)state;
	f[SAT_DROPS] = 3, f[SAT_RETRANS] = 2, f[SAT_KNEE] = 5;
	assert_int_equal(saturation__order(f, o), 3);
	assert_int_equal(o[0], SAT_RETRANS);
	assert_int_equal(o[1], SAT_DROPS);
	assert_int_equal(o[2], SAT_KNEE);
	f[SAT_DROPS] = 4, f[SAT_RETRANS] = NAN, f[SAT_KNEE] = 4;
	assert_int_equal(saturation__order(f, o), 2);
	assert_int_equal(o[0], SAT_DROPS);
	assert_int_equal(o[1], SAT_KNEE);
	f[SAT_DROPS] = 6, f[SAT_RETRANS] = NAN, f[SAT_KNEE] = 1;
	assert_int_equal(saturation__order(f, o), 2);
	assert_int_equal(o[0], SAT_KNEE);
	assert_int_equal(o[1], SAT_DROPS);
	f[SAT_DROPS] = NAN, f[SAT_RETRANS] = NAN, f[SAT_KNEE] = NAN;
	assert_int_equal(saturation__order(f, o), 0);
}

static void test_first_t(void **state)
{
	const double t[] = { 1, 2, 3, 4 };
	const uint64_t c[] = { 0, 0, 5, 1 }, z[] = { 0, 0, 0, 0 };

	(void)state;
	assert_true(saturation__first_t(t, c, 4) == 3);
	assert_true(saturation__first_t(t, c, 3) == 3);
	assert_true(isnan(saturation__first_t(t, c, 2)));
	assert_true(isnan(saturation__first_t(t, z, 4)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ramp_saturates),
		cmocka_unit_test(test_ramp_collapses),
		cmocka_unit_test(test_ramp_keeps_up),
		cmocka_unit_test(test_no_ramp),
		cmocka_unit_test(test_staircase),
		cmocka_unit_test(test_transient_spike),
		cmocka_unit_test(test_idle_intervals_skipped),
		cmocka_unit_test(test_at_capacity_found_by_wait),
		cmocka_unit_test(test_first_signs_order),
		cmocka_unit_test(test_first_t),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
