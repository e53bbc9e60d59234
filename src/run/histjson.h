/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A histogram in a JSON report: its percentiles in ms ("latency_ms") and its sparse buckets
 * ("histogram", layout HIST_LAYOUT), as docs/report.schema.json defines them. One writer for
 * everything that writes reports, so that readers see one format.
 */
#ifndef SLOPROBE_HISTJSON_H
#define SLOPROBE_HISTJSON_H

#include "lib/hist.h"
#include "lib/json.h"

/* key: {p50, p90, p95, p99, p999, max, min, mean} in ms, 3 decimals. */
void histjson__latency(struct json *j, const char *key, const struct hist *h);
/* key: {layout, unit, count, sum, min, max, buckets: [[lo_ns, hi_ns, count], ...]} */
void histjson__histogram(struct json *j, const char *key, const struct hist *h);

#endif
