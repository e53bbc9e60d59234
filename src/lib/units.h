/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Durations for people. Three forms, one per kind of place they are shown, because each place
 * has its own constraints and the reports' golden files hold them byte for byte:
 *
 *   units__ns_short   the live view's cells: fixed width, unit glued on ("4.56ms")
 *   units__ms         report tables and prose: the number only, the unit is in the column head
 *                     or the sentence ("12.34"), precision by magnitude
 *   units__ms_label   chart axes and bar labels: shortest form with its unit ("500 µs", "1.5 s")
 *   units__ns_exact   SLO thresholds: every digit, so the SLO parser reads back the same ns
 *                     ("1.234567 ms")
 *
 * The first three go through printf's %f/%g, so the decimal point is the caller's LC_NUMERIC
 * (sloprobe never sets one; the SVG renderer draws in the C locale); they return buf. The exact
 * ones print integers only and return what snprintf returns. All cut to sz as snprintf cuts.
 */
#ifndef SLOPROBE_UNITS_H
#define SLOPROBE_UNITS_H

#include <stddef.h>
#include <stdint.h>

/*
 * ns in 7 characters or fewer, about 3 significant digits: "850ns", "1.23us", "12.3us",
 * "4.56ms", "45.6ms", "1.23s", "123s". Values that round up to the next unit keep their own:
 * 999999 ns is "1000.0us", 8 characters, as is "1000.0ms", and so is anything from 1000000 s.
 * Unsigned, so there is no sign, NaN or infinity.
 */
const char *units__ns_short(uint64_t ns, char *buf, size_t sz);

/*
 * Milliseconds without a unit: 1 decimal from 100 up ("123.4"), 2 from 1 ("12.34"), else 3
 * ("0.123"), judged on the magnitude so negatives read alike ("-12.34"); NaN "-", +-inf
 * "inf"/"-inf".
 */
const char *units__ms(double ms, char *buf, size_t sz);

/*
 * Milliseconds with the unit that suits them, %g: "0" (also -0), "500 µs" below 1 ms, "20 ms"
 * below 1 s, "1.5 s" (also "1000 s") above; negatives keep their sign. NaN and +-inf: "n/a".
 */
const char *units__ms_label(double ms, char *buf, size_t sz);

/*
 * ns exactly, in the largest unit it reaches, trailing zeros dropped: "300 ms", "1.5 s",
 * "250 us", "20 ns", "1.234567 ms"; 0 is "0 ms". Never minutes, though the SLO grammar reads them.
 */
int units__ns_exact(uint64_t ns, char *buf, size_t sz);

/* v / unit exactly (unit a power of ten), trailing zeros dropped: (1500000, 1000000) -> "1.5". */
int units__decimal(uint64_t v, uint64_t unit, char *buf, size_t sz);

#endif
