// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the kernel knew about saturation (the report's tcp section): listeners that dropped
 * connections, peers with retransmits or resets, and which first sign of saturation came
 * first, the kernel's or the latency knee.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyze/analyze.h"
#include "analyze/runreport.h"
#include "analyze/saturation.h"
#include "lib/table.h"
#include "run/runfile.h"

/* The first interval's t of each kernel signal into first[]; -ENOMEM. */
static int tcp_first(const struct run_tcp *tcp, double first[SAT_NR])
{
	double *t = calloc(tcp->npoints + 1, sizeof(*t));
	uint64_t *drops = calloc(tcp->npoints + 1, sizeof(*drops));
	uint64_t *rtx = calloc(tcp->npoints + 1, sizeof(*rtx));

	if (!t || !drops || !rtx) {
		free(t), free(drops), free(rtx);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < tcp->npoints; i++) {
		const struct run_tcp_point *p = &tcp->points[i];

		t[i] = p->t;
		drops[i] = p->drops;
		rtx[i] = p->n[RUN_TCP_RETRANS] + p->n[RUN_TCP_SYN_RETRANS];
	}
	first[SAT_DROPS] = saturation__first_t(t, drops, tcp->npoints);
	first[SAT_RETRANS] = saturation__first_t(t, rtx, tcp->npoints);
	free(t), free(drops), free(rtx);
	return 0;
}

void runreport__first_signs(struct analyze_out *o, const struct run *r, double knee)
{
	double first[SAT_NR] = { NAN, NAN, knee };
	enum sat_signal order[SAT_NR];
	unsigned n;
	int err;

	if (!r->has_tcp)
		return;
	if ((err = tcp_first(&r->tcp, first))) {
		o->err = err;
		return;
	}
	n = saturation__order(first, order);
	if (!n) {
		analyze__para(o, "the kernel saw no listen-queue drop and no retransmit");
		return;
	}
	fprintf(o->f, "%sfirst signs: ", analyze__md(o) ? "- " : "  ");
	for (unsigned i = 0; i < n; i++)
		fprintf(o->f, "%s%s at t=%.0f s", i ? ", then " : "", sat_signal_names[order[i]],
			first[order[i]]);
	fprintf(o->f, "; %s came first%s\n", sat_signal_names[order[0]],
		n > 1 && first[order[1]] == first[order[0]] ? " (with the next, same interval)"
							    : "");
}

void runreport__tcp_cells(const struct analyze_out *o, const struct run *r, struct table t[2])
{
	static const char *const lhead[] = { "PORT", "SOCKETS", "DROPS", "ACCEPT Q MAX",
					     "BACKLOG" };
	static const char *const mlhead[] = { "Port", "Sockets", "Handshake packets dropped",
					      "Accept queue max", "Backlog" };
	static const char *const phead[] = { "ROLE",	    "PORT",	"PEER",	       "RETRANS",
					     "SYN RETRANS", "RST SENT", "RST RECEIVED" };
	static const char *const mphead[] = {
		"Role",	       "Port",		 "Peer", "Retransmits", "SYN retransmits",
		"Resets sent", "Resets received"
	};
	const struct run_tcp *tcp = &r->tcp;
	char b[ANALYZE_VAL_MAX];

	table__init(&t[0], "rrrrr", analyze__md(o) ? mlhead : lhead);
	for (unsigned i = 0; i < tcp->nlisteners; i++) {
		const struct run_tcp_listener *l = &tcp->listeners[i];

		table__cell(&t[0], "%u", l->port);
		table__cell(&t[0], "%llu", (unsigned long long)l->sockets);
		table__cell(&t[0], "%llu", (unsigned long long)l->drops);
		table__cell(&t[0], "%llu", (unsigned long long)l->accept_queue_max);
		table__cell(&t[0], "%llu", (unsigned long long)l->backlog);
	}
	table__init(&t[1], "lrlrrrr", analyze__md(o) ? mphead : phead);
	for (unsigned i = 0; i < tcp->npeers; i++) {
		const struct run_tcp_peer *p = &tcp->peers[i];

		table__cell(&t[1], "%s", p->server ? "server" : "client");
		table__cell(&t[1], "%u", p->port);
		table__cell(&t[1], "%s", analyze__val(o, p->peer, 0, b, sizeof(b)));
		for (int k = 0; k < RUN_TCP_KIND_NR; k++)
			table__cell(&t[1], "%llu", (unsigned long long)p->n[k]);
	}
}

void runreport__tcp(struct analyze_out *o, const struct run *r)
{
	const struct run_tcp *tcp = &r->tcp;
	struct table t[2];

	if (!r->has_tcp || (!tcp->nlisteners && !tcp->npeers))
		return;
	analyze__heading(o, "TCP (what the kernel saw)");
	runreport__tcp_cells(o, r, t);
	for (int k = 0; k < 2; k++) {
		if (!t[k].nrows) {
			table__free(&t[k]);
			continue;
		}
		analyze__table(o, &t[k]);
		if (analyze__md(o))
			fputc('\n', o->f); /* else the next table or line joins this one */
	}
	if (tcp->has_host)
		analyze__para(
			o,
			"host-wide (/proc/net/netstat): %llu listen overflows, %llu listen drops",
			(unsigned long long)tcp->host_overflows,
			(unsigned long long)tcp->host_drops);
	if (tcp->peers_lost || tcp->listeners_lost || tcp->reads_failed)
		analyze__para(o, "not counted: %llu peer counts, %llu listeners, %llu reads",
			      (unsigned long long)tcp->peers_lost,
			      (unsigned long long)tcp->listeners_lost,
			      (unsigned long long)tcp->reads_failed);
}
