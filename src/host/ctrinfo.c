// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parsers of what container engines say about a container. Pure: the engine's answers are
 * input from another process (or a file root may have edited), so everything is bounded and
 * checked; json-c does the JSON, as in the report loader.
 */
#include <errno.h>
#include <string.h>
#include <json-c/json.h>

#include "host/ctrinfo.h"

/* Engines never send megabytes about one container; a larger answer is not one of theirs. */
#define CTRINFO_JSON_MAX (16u << 20)

static struct json_object *parse(const char *json, size_t len)
{
	struct json_tokener *tok;
	struct json_object *o;

	if (!json || !len || len > CTRINFO_JSON_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (o && json_tokener_get_error(tok) == json_tokener_success) {
		/* One value and white space: "{} x" is not an answer. */
		for (size_t i = json_tokener_get_parse_end(tok); i < len; i++) {
			if (json[i] != ' ' && json[i] != '\t' && json[i] != '\r' &&
			    json[i] != '\n') {
				json_object_put(o);
				o = NULL;
				break;
			}
		}
	} else if (o) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* A string member copied into dst (cut to fit, controls made '?': names end up in tables). */
static void copy_str(char *dst, size_t dstsz, struct json_object *v, size_t skip)
{
	const char *s;
	size_t n;

	dst[0] = '\0';
	if (!v || !json_object_is_type(v, json_type_string))
		return;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (skip > n)
		return;
	s += skip;
	n -= skip;
	if (n >= dstsz)
		n = dstsz - 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = s[i];

		dst[i] = c < 0x20 || c == 0x7f || !c ? '?' : (char)c;
	}
	dst[n] = '\0';
}

static struct json_object *member(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int ctrinfo__parse_docker(const char *json, size_t len, struct ctrinfo *out)
{
	struct json_object *o, *cfg, *labels, *name;
	size_t skip = 0;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	o = parse(json, len);
	if (!o)
		return -EINVAL;
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	name = member(o, "Name");
	/* Docker keeps names as "/api" (a path in its old link tree). */
	if (name && json_object_is_type(name, json_type_string) &&
	    json_object_get_string(name)[0] == '/')
		skip = 1;
	copy_str(out->name, sizeof(out->name), name, skip);
	cfg = member(o, "Config");
	copy_str(out->image, sizeof(out->image), member(cfg, "Image"), 0);
	labels = member(cfg, "Labels");
	copy_str(out->compose_project, sizeof(out->compose_project),
		 member(labels, "com.docker.compose.project"), 0);
	copy_str(out->compose_service, sizeof(out->compose_service),
		 member(labels, "com.docker.compose.service"), 0);
	json_object_put(o);
	return 0;
}

int ctrinfo__parse_podman(const char *json, size_t len, const char *id, struct ctrinfo *out)
{
	struct json_object *o;
	size_t idlen = id ? strlen(id) : 0, n;
	int ret = -ENOENT;

	if (!out || idlen < 12)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	o = parse(json, len);
	if (!o)
		return -EINVAL;
	if (!json_object_is_type(o, json_type_array)) {
		json_object_put(o);
		return -EINVAL;
	}
	n = json_object_array_length(o);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(o, i), *cid = member(c, "id");
		struct json_object *names = member(c, "names");

		/* podman ids are 64 hex digits: id is a prefix of exactly one of them */
		if (!cid || !json_object_is_type(cid, json_type_string) ||
		    json_object_get_string_len(cid) != 64 ||
		    strncmp(json_object_get_string(cid), id, idlen))
			continue;
		if (names && json_object_is_type(names, json_type_array) &&
		    json_object_array_length(names) > 0)
			copy_str(out->name, sizeof(out->name), json_object_array_get_idx(names, 0),
				 0);
		copy_str(out->image, sizeof(out->image), member(c, "image"), 0);
		ret = 0;
		break;
	}
	json_object_put(o);
	return ret;
}

int ctrinfo__http_body(const char *buf, size_t len, const char **body, size_t *bodylen)
{
	int code = 0;

	if (!buf || !body || !bodylen || len < 12 || memcmp(buf, "HTTP/1.", 7) ||
	    (buf[7] != '0' && buf[7] != '1') || buf[8] != ' ')
		return -EINVAL;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -EINVAL;
		code = code * 10 + (buf[i] - '0');
	}
	if (code < 100 || code > 599 || (len > 12 && buf[12] != ' ' && buf[12] != '\r'))
		return -EINVAL;
	for (size_t i = 12; i + 4 <= len; i++) {
		if (!memcmp(buf + i, "\r\n\r\n", 4)) {
			*body = buf + i + 4;
			*bodylen = len - i - 4;
			return code;
		}
	}
	return -EINVAL;
}

int ctrinfo__matches(const struct ctrinfo *ci, const char *id, const char *want)
{
	size_t n = want ? strlen(want) : 0;

	if (!n)
		return 0;
	if (ci && ci->name[0] && !strcmp(ci->name, want))
		return CTRINFO_BY_NAME;
	if (ci && ci->compose_service[0] && !strcmp(ci->compose_service, want))
		return CTRINFO_BY_SERVICE;
	return id && strlen(id) >= n && !strncmp(id, want, n) ? CTRINFO_BY_ID : 0;
}
