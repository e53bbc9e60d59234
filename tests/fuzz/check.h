/* SPDX-License-Identifier: GPL-2.0-only */
/* What every fuzzer asserts with: a failed check names itself and aborts (a crash to libFuzzer). */
#ifndef SLOPROBE_FUZZ_CHECK_H
#define SLOPROBE_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond);                 \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif
