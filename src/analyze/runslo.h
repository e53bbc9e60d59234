/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Judge the objectives of an SLO file (src/slo.h) against a saved report, for
 * `sloprobe report --slo FILE` and `sloprobe diff --slo FILE`.
 *
 * A saved report has histograms and status counts, not the per-objective counters of a live
 * recording: latency objectives are counted from the buckets (approximate unless the threshold
 * is a bucket bound, and marked so), status-based ones are exact. When the report already holds
 * a verdict recorded for the same objective and target (its `slo` array, exact counters), that
 * verdict is kept instead. Warm-up cannot be cut out of whole-run histograms.
 */
#ifndef SLOPROBE_RUNSLO_H
#define SLOPROBE_RUNSLO_H

#include "run/runfile.h"
#include "run/slo.h"

struct runslo_notes {
	unsigned recorded;   /* verdicts kept from the report's own exact counters */
	bool warmup_ignored; /* the file has a warm-up that offline evaluation cannot apply */
};

/* Replaces r->slo with one row per objective and matching endpoint (or per SLO with per: all).
 * 0 or -ENOMEM. */
int runslo__evaluate(struct run *r, const struct slo_set *set, struct runslo_notes *notes);

#endif
