/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Routes from the application's own OpenAPI document (record --routes-from FILE): its path
 * templates ("/items/{item_id}") name the routes, so nothing has to be guessed from traffic.
 */
#ifndef SLOPROBE_OPENAPI_H
#define SLOPROBE_OPENAPI_H

#include <stddef.h>

#include "proto/route.h"

#define OPENAPI_FILE_MAX (64u << 20)

/*
 * Adds every path of an OpenAPI 3 / Swagger 2 JSON document to rs. name stands for the
 * document in messages. Returns the number of routes added, or -EINVAL with one line in err
 * (not JSON, not OpenAPI, no paths); templates route.h cannot express are skipped, with a
 * warning on stderr for each of the first five and one line counting the rest.
 */
int openapi__routes_buf(const char *buf, size_t len, const char *name, struct route_set *rs,
			char *err, size_t errsz);
/* The same, reading the file at path (-errno when it cannot be read). */
int openapi__routes(const char *path, struct route_set *rs, char *err, size_t errsz);

#endif
