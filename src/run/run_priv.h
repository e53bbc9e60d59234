/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the files of the report model (run.c, run_load*.c, run_write.c): what they share
 * beyond runfile.h. The arena's layout, because the loader grows its rows in blocks of the same
 * kind and hands them to the run's arena when done; and W_MAX, which also bounds the db_stats
 * group names ("libpq.queries") the writer splits back.
 */
#ifndef SLOPROBE_RUN_PRIV_H
#define SLOPROBE_RUN_PRIV_H

#include <stddef.h>

#define W_MAX 192 /* longest field path in messages */

struct run_arena {
	struct run_arena *next;
	size_t used, size;
	_Alignas(16) unsigned char data[];
};

#endif
