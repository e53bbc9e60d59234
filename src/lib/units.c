// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdio.h>

#include "lib/units.h"

const char *units__ns_short(uint64_t ns, char *buf, size_t sz)
{
	double v = (double)ns;

	/* Two decimals while the integer part has one digit, one while it has two or three. */
	if (ns < 1000)
		snprintf(buf, sz, "%uns", (unsigned)ns);
	else if (ns < 10000)
		snprintf(buf, sz, "%.2fus", v / 1e3);
	else if (ns < 1000000)
		snprintf(buf, sz, "%.1fus", v / 1e3);
	else if (ns < 10000000)
		snprintf(buf, sz, "%.2fms", v / 1e6);
	else if (ns < 1000000000)
		snprintf(buf, sz, "%.1fms", v / 1e6);
	else if (ns < 100000000000ull)
		snprintf(buf, sz, "%.2fs", v / 1e9);
	else
		snprintf(buf, sz, "%.0fs", v / 1e9);
	return buf;
}

const char *units__ms(double ms, char *buf, size_t sz)
{
	/* Sub-millisecond DB times still show 3 digits; a slow endpoint does not show noise. */
	if (isnan(ms))
		snprintf(buf, sz, "-");
	else if (fabs(ms) >= 100)
		snprintf(buf, sz, "%.1f", ms);
	else if (fabs(ms) >= 1)
		snprintf(buf, sz, "%.2f", ms);
	else
		snprintf(buf, sz, "%.3f", ms);
	return buf;
}

const char *units__ms_label(double ms, char *buf, size_t sz)
{
	double a = fabs(ms);

	/* Axis ticks are round numbers already: %g drops the zeros a fixed precision would add. */
	if (!isfinite(ms))
		snprintf(buf, sz, "n/a");
	else if (ms == 0)
		snprintf(buf, sz, "0");
	else if (a < 1)
		snprintf(buf, sz, "%g \xc2\xb5s", ms * 1000);
	else if (a < 1000)
		snprintf(buf, sz, "%g ms", ms);
	else
		snprintf(buf, sz, "%g s", ms / 1000);
	return buf;
}

int units__decimal(uint64_t v, uint64_t unit, char *buf, size_t sz)
{
	char frac[24];
	int digits = 0, n;

	for (uint64_t u = unit; u > 1; u /= 10)
		digits++;
	if (!(v % unit))
		return snprintf(buf, sz, "%llu", (unsigned long long)(v / unit));
	n = snprintf(frac, sizeof(frac), "%0*llu", digits, (unsigned long long)(v % unit));
	while (n > 0 && frac[n - 1] == '0')
		frac[--n] = '\0';
	return snprintf(buf, sz, "%llu.%s", (unsigned long long)(v / unit), frac);
}

int units__ns_exact(uint64_t ns, char *buf, size_t sz)
{
	static const struct {
		uint64_t ns;
		const char *name;
	} units[] = { { 1000000000, "s" }, { 1000000, "ms" }, { 1000, "us" }, { 1, "ns" } };
	char num[32];
	size_t i;

	/* "0 ns" would be as exact; thresholds are written in ms, so a zero one reads that way. */
	if (!ns)
		return snprintf(buf, sz, "0 ms");
	for (i = 0; i + 1 < sizeof(units) / sizeof(units[0]) && ns < units[i].ns; i++)
		;
	units__decimal(ns, units[i].ns, num, sizeof(num));
	return snprintf(buf, sz, "%s %s", num, units[i].name);
}
