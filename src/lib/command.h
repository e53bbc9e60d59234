/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The COMMAND of `record -- COMMAND`: started as another user or without our capabilities,
 * stopped when the recording ends first.
 */
#ifndef SLOPROBE_COMMAND_H
#define SLOPROBE_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "lib/runas.h"

/*
 * Starts argv as user as (NULL: as we are), with no capabilities if drop_caps; with
 * stdout_to_stderr its standard output goes to our standard error. The pid, or -1 with how
 * its start failed ("ARGV0: why", "ARGV0 as uid N: STEP: why") in err.
 */
pid_t command__start(char **argv, bool stdout_to_stderr, const struct runas *as, bool drop_caps,
		     char *err, size_t errsz);
/* Stops a command still running: TERM, then KILL after 2 s. Its wait status. */
int command__stop(pid_t pid);
/* A wait status as the report and the shell give it: the exit code, or 128 + the signal. */
int command__exit_code(int status);

#endif
