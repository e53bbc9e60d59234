/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Container names for container ids, from the engine, cached per id. Sources in order:
 *   1. the Docker Engine API on its unix socket (DOCKER_HOST=unix://PATH, else
 *      /var/run/docker.sock; podman's docker-compatible socket answers the same call):
 *      GET /containers/<id>/json, HTTP/1.0, the whole exchange bounded by a timeout;
 *   2. Docker's files: <data root>/containers/<id>/config.v2.json, the data root given, else
 *      "data-root" of /etc/docker/daemon.json, else /var/lib/docker;
 *   3. podman's: /var/lib/containers/storage/overlay-containers/containers.json.
 * An id none of them knows is cached as unknown too: each id costs at most one timeout.
 */
#ifndef SLOPROBE_CTRNAMES_H
#define SLOPROBE_CTRNAMES_H

#include <stdbool.h>

#include "host/ctrinfo.h"

struct ctrnames_opts {
	const char *socket;    /* NULL: from DOCKER_HOST, else /var/run/docker.sock; "" none */
	const char *data_root; /* NULL: from /etc/docker/daemon.json, else /var/lib/docker */
	const char *root;      /* prefix of every file path (tests), NULL: "" */
	int timeout_ms;	       /* per API call; 0: 250 */
};

struct ctrnames;

struct ctrnames *ctrnames__new(const struct ctrnames_opts *o);
/*
 * What the engine says of container id (full, 64 hex digits for Docker and podman). NULL when
 * no source knows it (or id is empty); the answer is valid until the next lookup. Blocks at
 * most once per id, for the API's timeout.
 */
const struct ctrinfo *ctrnames__lookup(struct ctrnames *c, const char *id);
void ctrnames__free(struct ctrnames *c);

/*
 * Looks up the containers of the processes running now, so that the event path finds them
 * cached and only containers started later cost it a lookup.
 */
void ctrnames__prefetch(struct ctrnames *c);

/*
 * --container WANT: the cgroup v2 directory (under the cgroup2 mount found in /proc/mounts) of
 * the running container whose name, Compose service or id prefix is want (in that order of
 * precedence, host/ctrinfo.h), for the cgroup filter. 0, or -errno with a one-line reason in err:
 * none running, several containers, or a container without a cgroup v2 of its own.
 */
int ctrnames__find_cgroup(struct ctrnames *c, const char *want, char *out, size_t outsz, char *err,
			  size_t errsz);

#endif
