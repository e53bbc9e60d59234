/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Private to the route files: route.c (route__normalize) and route_pattern.c (route_set__*)
 * share the character classes and the split of a request target, so that a pattern sees
 * exactly the path the normalized route was made from. route_limit.c needs none of it.
 */
#ifndef SLOPROBE_ROUTE_PRIV_H
#define SLOPROBE_ROUTE_PRIV_H

#include <stdbool.h>
#include <stddef.h>

enum target_form {
	FORM_PATH, /* origin form, or absolute form reduced to its path */
	FORM_ASTERISK,
	FORM_AUTHORITY,
};

bool route__is_digit(unsigned char c);
bool route__is_alpha(unsigned char c);
/* 8-4-4-4-12 hex digits, any case. */
bool route__is_uuid(const char *p, size_t n);
/* Returns a target_form or -EINVAL; *path is set for FORM_PATH only; flags: ROUTE_HAD_*. */
int route__split_target(const char *t, size_t len, const char **path, size_t *plen, int *flags);

#endif
