// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/file.h"
#include "proto/openapi.h"
#include "lib/textesc.h"

/* Skipped paths named one by one; past that, a count: a generated document may hold 50 000. */
#define WARN_MAX      5
#define WARN_PATH_MAX 200 /* bytes of a path shown */

int openapi__routes_buf(const char *buf, size_t len, const char *name, struct route_set *rs,
			char *err, size_t errsz)
{
	struct json_tokener *tok;
	struct json_object *doc, *paths, *ver;
	enum json_tokener_error je;
	unsigned skipped = 0;
	int added = 0;

	if (len > OPENAPI_FILE_MAX) {
		snprintf(err, errsz, "%s: larger than %u MiB", name, OPENAPI_FILE_MAX >> 20);
		return -EINVAL;
	}
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errsz, "%s: out of memory", name);
		return -ENOMEM;
	}
	doc = json_tokener_parse_ex(tok, buf, (int)len);
	je = json_tokener_get_error(tok);
	if (!doc || je != json_tokener_success ||
	    json_tokener_get_parse_end(tok) +
			    strspn(buf + json_tokener_get_parse_end(tok), " \t\r\n") !=
		    len) {
		snprintf(err, errsz, "%s: not valid JSON (at byte %zu: %s)", name,
			 json_tokener_get_parse_end(tok),
			 je == json_tokener_success    ? "trailing data"
			 : je == json_tokener_continue ? "unexpected end of data"
						       : json_tokener_error_desc(je));
		json_tokener_free(tok);
		json_object_put(doc);
		return -EINVAL;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(doc, json_type_object) ||
	    (!json_object_object_get_ex(doc, "openapi", &ver) &&
	     !json_object_object_get_ex(doc, "swagger", &ver))) {
		snprintf(err, errsz,
			 "%s: not an OpenAPI document (no \"openapi\" or \"swagger\" key)", name);
		json_object_put(doc);
		return -EINVAL;
	}
	if (!json_object_object_get_ex(doc, "paths", &paths) ||
	    !json_object_is_type(paths, json_type_object)) {
		snprintf(err, errsz, "%s: the document has no \"paths\" object", name);
		json_object_put(doc);
		return -EINVAL;
	}
	json_object_object_foreach(paths, path, item)
	{
		char why[160];

		(void)item;
		if (route_set__add(rs, path, why, sizeof(why))) {
			/* The document is the application's, not ours: its text is escaped. */
			if (++skipped <= WARN_MAX)
				textesc__line(stderr,
					      "sloprobe: warning: %s: path '%.*s%s' skipped: %s",
					      name, WARN_PATH_MAX, path,
					      strlen(path) > WARN_PATH_MAX ? "..." : "", why);
			continue;
		}
		added++;
	}
	if (skipped > WARN_MAX)
		textesc__line(stderr, "sloprobe: warning: %s: %u more paths skipped", name,
			      skipped - WARN_MAX);
	json_object_put(doc);
	if (!added) {
		snprintf(err, errsz, "%s: no usable path in \"paths\"", name);
		return -EINVAL;
	}
	return added;
}

int openapi__routes(const char *path, struct route_set *rs, char *err, size_t errsz)
{
	size_t len;
	char *buf;
	int r = file__read(path, OPENAPI_FILE_MAX, &buf, &len);

	if (r == -EFBIG) {
		snprintf(err, errsz, "%s: larger than %u MiB", path, OPENAPI_FILE_MAX >> 20);
		return r;
	}
	if (r) {
		snprintf(err, errsz, "%s: %s", path, strerror(-r));
		return r;
	}
	r = openapi__routes_buf(buf, len, path, rs, err, errsz);
	free(buf);
	return r;
}
