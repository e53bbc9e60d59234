/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SLOPROBE_CLI_H
#define SLOPROBE_CLI_H

struct argp_state;

/*
 * Call from a parser's ARGP_KEY_INIT: argp's and getopt's errors ("unrecognized option", argp_error)
 * become the one line every other error is, `sloprobe: <what> (see 'sloprobe CMD --help')`,
 * instead of a prefixed message and a wrapped two-line hint.
 */
void cli__one_line_errors(struct argp_state *state);
/* From ARGP_KEY_FINI: stderr is the process's own again. */
void cli__parsed(void);

#endif
