/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a container engine knows of one container: its name, image and Compose labels. The
 * parsers are pure functions over (pointer, length) input that need not be NUL-terminated;
 * the resolver that feeds them (the engine's API, then its files) is host/ctrnames.h.
 */
#ifndef SLOPROBE_CTRINFO_H
#define SLOPROBE_CTRINFO_H

#include <stddef.h>

#define CTRINFO_NAME_MAX  128
#define CTRINFO_IMAGE_MAX 256

struct ctrinfo {
	char name[CTRINFO_NAME_MAX];   /* "api" (Docker's leading '/' dropped), "" unknown */
	char image[CTRINFO_IMAGE_MAX]; /* as the user gave it: "postgres:16", "" unknown */
	char compose_project[CTRINFO_NAME_MAX]; /* label com.docker.compose.project, "" */
	char compose_service[CTRINFO_NAME_MAX]; /* label com.docker.compose.service, "" */
};

/*
 * One container as Docker describes it: the body of GET /containers/<id>/json, or the
 * config.v2.json of its data root (same shape: "Name", "Config": {"Image", "Labels"}).
 * 0 with *out filled (fields absent stay ""), -EINVAL when it is not such an object. Strings
 * longer than a field are cut; control characters become '?'.
 */
int ctrinfo__parse_docker(const char *json, size_t len, struct ctrinfo *out);

/*
 * The container whose "id" starts with id (at least 12 hex digits) in podman's
 * containers.json (an array of {"id", "names": [...], "image"}; podman keeps labels elsewhere).
 * 0 found, -ENOENT not listed, -EINVAL not such an array.
 */
int ctrinfo__parse_podman(const char *json, size_t len, const char *id, struct ctrinfo *out);

/*
 * An HTTP/1.x response read whole (the server closed the connection): its status code and
 * body (a chunked body is not supported: the request is HTTP/1.0). The status code (100-599)
 * with *body and *bodylen inside buf, or -EINVAL.
 */
int ctrinfo__http_body(const char *buf, size_t len, const char **body, size_t *bodylen);

/*
 * How want names the container: CTRINFO_BY_NAME (its name), CTRINFO_BY_SERVICE (its Compose
 * service), CTRINFO_BY_ID (a prefix of its id), or 0. Higher is closer: an exact name beats
 * another container's Compose service of the same word, as docker's own commands resolve names.
 */
enum { CTRINFO_BY_ID = 1, CTRINFO_BY_SERVICE = 2, CTRINFO_BY_NAME = 3 };
int ctrinfo__matches(const struct ctrinfo *ci, const char *id, const char *want);

#endif
