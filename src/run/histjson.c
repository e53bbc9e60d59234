// SPDX-License-Identifier: GPL-2.0-only
#include "run/histjson.h"

void histjson__latency(struct json *j, const char *key, const struct hist *h)
{
	static const struct {
		const char *name;
		double q;
	} pcts[] = { { "p50", 50 }, { "p90", 90 }, { "p95", 95 }, { "p99", 99 }, { "p999", 99.9 } };

	json__key(j, key);
	json__begin_object(j);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++)
		json__kv_fixed(j, pcts[i].name, hist__percentile(h, pcts[i].q) / 1e6, 3);
	json__kv_fixed(j, "max", h->max / 1e6, 3);
	json__kv_fixed(j, "min", h->count ? h->min / 1e6 : 0, 3);
	json__kv_fixed(j, "mean", hist__mean(h) / 1e6, 3);
	json__end_object(j);
}

void histjson__histogram(struct json *j, const char *key, const struct hist *h)
{
	json__key(j, key);
	json__begin_object(j);
	json__kv_string(j, "layout", HIST_LAYOUT);
	json__kv_string(j, "unit", "ns");
	json__kv_u64(j, "count", h->count);
	json__kv_u64(j, "sum", h->sum);
	json__kv_u64(j, "min", h->count ? h->min : 0);
	json__kv_u64(j, "max", h->max);
	json__key(j, "buckets");
	json__begin_array(j);
	for (int i = 0; i < (int)HIST_NBUCKETS; i++) {
		if (!h->buckets[i])
			continue;
		json__begin_array(j);
		json__u64(j, hist__bucket_lo(i));
		json__u64(j, hist__bucket_hi(i));
		json__u64(j, h->buckets[i]);
		json__end_array(j);
	}
	json__end_array(j);
	json__end_object(j);
}
