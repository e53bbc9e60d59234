/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef SLOPROBE_CLI_H
#define SLOPROBE_CLI_H

#include <argp.h>

/*
 * Give a command's argp this child ({ .children = cli__children }): argp's and getopt's errors
 * ("unrecognized option", argp_error) become the one line every other error is, `sloprobe:
 * <what> (see 'sloprobe CMD --help')`, instead of a prefixed message and a wrapped two-line
 * hint.
 */
extern const struct argp_child cli__children[];

#endif
