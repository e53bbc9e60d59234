/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sections of `sloprobe report` that runreport_findings.c and runreport_outbound.c write
 * for runreport__write() (runreport.c), in the order they appear; private to the three.
 */
#ifndef SLOPROBE_RUNREPORT_H
#define SLOPROBE_RUNREPORT_H

#include "analyze/analyze.h"

/* Queries and DB time per request of each endpoint that ran a query; nothing without one. */
void runreport__db_per_endpoint(struct analyze_out *o, const struct run *r);
/* Where each HTTP timeline series stopped keeping up with its load; o->err on -ENOMEM. */
void runreport__saturation(struct analyze_out *o, const struct run *r);
/* The top fingerprints by total time (the order of the file). */
void runreport__hotspots(struct analyze_out *o, const struct run *r, unsigned top);
void runreport__flags(struct analyze_out *o, const struct run *r);
void runreport__recommendations(struct analyze_out *o, const struct run *r);

/* runreport_outbound.c. The traced endpoints as callers on the same host timed them. */
void runreport__client_view(struct analyze_out *o, const struct run *r);
/* Outbound calls and their time per request of each endpoint that made one. */
void runreport__outbound_per_endpoint(struct analyze_out *o, const struct run *r);
/* The outbound calls by caller, destination and route (the first rows of the file). */
void runreport__outbound(struct analyze_out *o, const struct run *r);
/* Attempts, failures and retries of each destination that failed. */
void runreport__retries(struct analyze_out *o, const struct run *r);

#endif
