// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small libpq client with known workloads, for the libpq uprobe tests.
 *
 *   pqclient PORT exec N        N x PQexec("select pg_sleep(0.05)")
 *   pqclient PORT params N      N x PQexecParams("select pg_sleep($1)", "0.05")
 *   (exec, params and async print each query's time by the client's clock: "SLEEP <s>")
 *   pqclient PORT prepared N    PQprepare("plus1") then N x PQexecPrepared
 *   pqclient PORT async N       N x PQsendQueryParams + PQgetResult until NULL
 *   pqclient PORT error         PQexec("select 1/0") then PQexec("select 1")
 * PQCLIENT_DELAY_MS=N waits that long after connecting, before the workload;
 * PQCLIENT_SSLMODE=require asks for TLS (default: disable).
 *
 *   pqclient PORT late N FILE   PQprepare("late1"), print "prepared", wait until FILE
 *                               exists, then N x PQexecPrepared (prepared before tracing),
 *                               then create FILE.done
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static void die(PGconn *c, const char *what)
{
	fprintf(stderr, "pqclient: %s: %s", what, PQerrorMessage(c));
	exit(1);
}

static void expect(PGconn *c, PGresult *r, ExecStatusType want, const char *what)
{
	if (PQresultStatus(r) != want)
		die(c, what);
	PQclear(r);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One pg_sleep(0.05) the way mode calls libpq, timed around the whole call. */
static void sleep_once(PGconn *c, const char *mode)
{
	const char *param[1] = { "0.05" };
	double t = now_s();
	PGresult *r;

	if (!strcmp(mode, "exec")) {
		expect(c, PQexec(c, "select pg_sleep(0.05)"), PGRES_TUPLES_OK, "exec");
	} else if (!strcmp(mode, "params")) {
		expect(c, PQexecParams(c, "select pg_sleep($1)", 1, NULL, param, NULL, NULL, 0),
		       PGRES_TUPLES_OK, "params");
	} else {
		if (!PQsendQueryParams(c, "select pg_sleep($1)", 1, NULL, param, NULL, NULL, 0))
			die(c, "send");
		while ((r = PQgetResult(c)))
			PQclear(r);
	}
	printf("SLEEP %.6f\n", now_s() - t);
}

int main(int argc, char **argv)
{
	const char *one[1] = { "41" };
	char conninfo[128];
	const char *mode;
	PGresult *r;
	PGconn *c;
	int n;

	if (argc < 3) {
		fprintf(stderr, "usage: pqclient PORT MODE [N]\n");
		return 2;
	}
	mode = argv[2];
	n = argc > 3 ? atoi(argv[3]) : 1;
	snprintf(conninfo, sizeof(conninfo),
		 "host=127.0.0.1 port=%s user=postgres dbname=postgres sslmode=%s", argv[1],
		 getenv("PQCLIENT_SSLMODE") ? getenv("PQCLIENT_SSLMODE") : "disable");
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK)
		die(c, "connect");
	if (getenv("PQCLIENT_DELAY_MS"))
		usleep(1000 * atoi(getenv("PQCLIENT_DELAY_MS")));

	if (!strcmp(mode, "exec") || !strcmp(mode, "params") || !strcmp(mode, "async")) {
		for (int i = 0; i < n; i++)
			sleep_once(c, mode);
	} else if (!strcmp(mode, "prepared") || !strcmp(mode, "late")) {
		const char *name = mode[0] == 'p' ? "plus1" : "late1";

		expect(c, PQprepare(c, name, "select $1::int + 1", 1, NULL), PGRES_COMMAND_OK,
		       "prepare");
		if (mode[0] == 'l') {
			printf("prepared\n");
			fflush(stdout);
			/* Bounded: 20 s at most. */
			for (int w = 0; argc > 4 && access(argv[4], F_OK) && w < 2000; w++)
				usleep(10000);
		}
		for (int i = 0; i < n; i++)
			expect(c, PQexecPrepared(c, name, 1, one, NULL, NULL, 0), PGRES_TUPLES_OK,
			       "execprepared");
		if (mode[0] == 'l' && argc > 4) {
			char done[4096];
			FILE *f;

			snprintf(done, sizeof(done), "%s.done", argv[4]);
			f = fopen(done, "w");
			if (!f || fclose(f))
				die(c, "creating the .done file");
		}
	} else if (!strcmp(mode, "error")) {
		r = PQexec(c, "select 1/0");
		if (PQresultStatus(r) != PGRES_FATAL_ERROR)
			die(c, "error expected");
		PQclear(r);
		expect(c, PQexec(c, "select 1"), PGRES_TUPLES_OK, "select 1");
	} else {
		fprintf(stderr, "pqclient: unknown mode %s\n", mode);
		return 2;
	}
	PQfinish(c);
	return 0;
}
