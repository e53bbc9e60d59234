// SPDX-License-Identifier: GPL-2.0-only
/*
 * The container-name resolver: asks the engine (its API, then its files) once per container id
 * and keeps the answer. I/O lives here, parsing in host/ctrinfo.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "host/ctrnames.h"
#include "host/procinfo.h"

#define CTRNAMES_SLOTS	    256	       /* containers remembered; more are looked up again */
#define CTRNAMES_RESP_MAX   (1u << 20) /* an inspect answer is a few KB */
#define CTRNAMES_FILE_MAX   (8u << 20) /* podman's containers.json lists every container */
#define CTRNAMES_TIMEOUT_MS 250
#define CTRNAMES_ID_MAX	    72

struct ctrnames_slot {
	char id[CTRNAMES_ID_MAX];
	bool known;
	struct ctrinfo ci;
};

struct ctrnames {
	char socket[108]; /* sun_path; "" none */
	char data_root[512];
	char root[256];
	int timeout_ms;
	struct ctrnames_slot slots[CTRNAMES_SLOTS];
	unsigned next; /* round robin once full */
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* The whole file, NUL-terminated, or NULL (missing, unreadable or larger than max). */
static char *read_all(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t n = 0, cap = 4096;
	char *buf = NULL;

	if (fd < 0)
		return NULL;
	for (;;) {
		ssize_t r;

		if (!buf || n + 1 >= cap) {
			char *nb;

			if (buf)
				cap *= 2;
			if (cap > max + 1)
				cap = max + 1;
			if (n + 1 >= cap)
				goto fail; /* too large */
			nb = realloc(buf, cap);
			if (!nb)
				goto fail;
			buf = nb;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			goto fail;
		if (!r)
			break;
		n += r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* "data-root" of daemon.json, else Docker's default. */
static void docker_data_root(struct ctrnames *c)
{
	char path[512];
	struct json_object *o, *v;
	size_t len;
	char *s;

	snprintf(c->data_root, sizeof(c->data_root), "/var/lib/docker");
	snprintf(path, sizeof(path), "%s/etc/docker/daemon.json", c->root);
	s = read_all(path, 1u << 20, &len);
	if (!s)
		return;
	o = json_tokener_parse(s);
	if (o && json_object_object_get_ex(o, "data-root", &v) &&
	    json_object_is_type(v, json_type_string) && json_object_get_string(v)[0] == '/')
		snprintf(c->data_root, sizeof(c->data_root), "%s", json_object_get_string(v));
	json_object_put(o);
	free(s);
}

struct ctrnames *ctrnames__new(const struct ctrnames_opts *o)
{
	struct ctrnames *c = calloc(1, sizeof(*c));
	const char *sock = o ? o->socket : NULL;

	if (!c)
		return NULL;
	if (o && o->root)
		snprintf(c->root, sizeof(c->root), "%s", o->root);
	c->timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : CTRNAMES_TIMEOUT_MS;
	if (!sock) {
		const char *h = getenv("DOCKER_HOST");

		/* tcp:// and ssh:// hosts are not this host's engine: files only. */
		if (h && *h)
			sock = !strncmp(h, "unix://", 7) ? h + 7 : "";
		else
			sock = "/var/run/docker.sock";
	}
	if (strlen(sock) < sizeof(c->socket))
		snprintf(c->socket, sizeof(c->socket), "%s", sock);
	if (o && o->data_root)
		snprintf(c->data_root, sizeof(c->data_root), "%s", o->data_root);
	else
		docker_data_root(c);
	return c;
}

void ctrnames__free(struct ctrnames *c)
{
	free(c);
}

/* Wait for fd to be ready for events before the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (!r)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* GET /containers/<id>/json on the API socket within the timeout. */
static int from_api(struct ctrnames *c, const char *id, struct ctrinfo *ci)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	long long deadline = now_ms() + c->timeout_ms;
	char req[256], *buf = NULL;
	size_t n = 0, off = 0, reqlen, bodylen;
	const char *body;
	int fd, ret = -EIO;

	if (!c->socket[0])
		return -ENOENT;
	memcpy(sa.sun_path, c->socket, strlen(c->socket));
	reqlen = snprintf(req, sizeof(req),
			  "GET /containers/%s/json HTTP/1.0\r\nHost: docker\r\n\r\n", id);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* A unix connect completes at once or fails (EAGAIN: backlog full, counted as down). */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		goto out;
	}
	while (off < reqlen) {
		ssize_t w;

		ret = wait_fd(fd, POLLOUT, deadline);
		if (ret)
			goto out;
		w = send(fd, req + off, reqlen - off, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			ret = -errno;
			goto out;
		}
		if (w > 0)
			off += w;
	}
	buf = malloc(CTRNAMES_RESP_MAX);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	/* HTTP/1.0: the daemon closes the connection after the body. */
	for (;;) {
		ssize_t r;

		ret = wait_fd(fd, POLLIN, deadline);
		if (ret)
			goto out;
		r = recv(fd, buf + n, CTRNAMES_RESP_MAX - n, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r < 0) {
			ret = -errno;
			goto out;
		}
		if (!r)
			break;
		n += r;
		if (n == CTRNAMES_RESP_MAX) {
			ret = -E2BIG;
			goto out;
		}
	}
	ret = ctrinfo__http_body(buf, n, &body, &bodylen);
	if (ret == 200)
		ret = ctrinfo__parse_docker(body, bodylen, ci);
	else
		ret = ret < 0 ? ret : -ENOENT;
out:
	free(buf);
	close(fd);
	return ret;
}

static int from_docker_files(struct ctrnames *c, const char *id, struct ctrinfo *ci)
{
	char path[1024];
	size_t len;
	char *s;
	int ret;

	snprintf(path, sizeof(path), "%s%s/containers/%s/config.v2.json", c->root, c->data_root,
		 id);
	s = read_all(path, CTRNAMES_FILE_MAX, &len);
	if (!s)
		return -ENOENT;
	ret = ctrinfo__parse_docker(s, len, ci);
	free(s);
	return ret;
}

static int from_podman_files(struct ctrnames *c, const char *id, struct ctrinfo *ci)
{
	char path[512];
	size_t len;
	char *s;
	int ret;

	snprintf(path, sizeof(path),
		 "%s/var/lib/containers/storage/overlay-containers/containers.json", c->root);
	s = read_all(path, CTRNAMES_FILE_MAX, &len);
	if (!s)
		return -ENOENT;
	ret = ctrinfo__parse_podman(s, len, id, ci);
	free(s);
	return ret;
}

static bool valid_id(const char *id)
{
	size_t n = strlen(id);

	if (n < 12 || n >= CTRNAMES_ID_MAX)
		return false;
	/* It goes into a URL path and a file path: hex (and lxc-like names) only. */
	for (size_t i = 0; i < n; i++) {
		char ch = id[i];

		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

const struct ctrinfo *ctrnames__lookup(struct ctrnames *c, const char *id)
{
	struct ctrnames_slot *sl;

	if (!c || !id || !valid_id(id))
		return NULL;
	for (unsigned i = 0; i < CTRNAMES_SLOTS; i++) {
		sl = &c->slots[i];
		if (sl->id[0] && !strcmp(sl->id, id))
			return sl->known ? &sl->ci : NULL;
	}
	sl = &c->slots[c->next++ % CTRNAMES_SLOTS];
	memset(sl, 0, sizeof(*sl));
	snprintf(sl->id, sizeof(sl->id), "%s", id);
	sl->known = !from_api(c, id, &sl->ci) || !from_docker_files(c, id, &sl->ci) ||
		    !from_podman_files(c, id, &sl->ci);
	/* An answer without a name names nothing. */
	if (sl->known && !sl->ci.name[0])
		sl->known = false;
	return sl->known ? &sl->ci : NULL;
}

void ctrnames__prefetch(struct ctrnames *c)
{
	char procdir[300];
	struct dirent *de;
	DIR *d;

	snprintf(procdir, sizeof(procdir), "%s/proc", c->root);
	d = opendir(procdir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct procinfo pi;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);

		if (!*end && pid && pid <= UINT32_MAX && !procinfo__read(procdir, pid, &pi) &&
		    pi.container[0])
			ctrnames__lookup(c, pi.container);
	}
	closedir(d);
}

/* Where cgroup2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
static int cgroup2_mount(const char *root, char *out, size_t outsz)
{
	char path[512], line[1024];
	FILE *f;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "%s/proc/mounts", root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char dev[256], dir[512], type[64];

		if (sscanf(line, "%255s %511s %63s", dev, dir, type) == 3 &&
		    !strcmp(type, "cgroup2")) {
			snprintf(out, outsz, "%s", dir);
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int ctrnames__find_cgroup(struct ctrnames *c, const char *want, char *out, size_t outsz, char *err,
			  size_t errsz)
{
	char procdir[300], mnt[512], found[PROCINFO_CGROUP_MAX] = "";
	char id[PROCINFO_ID_MAX] = "", other[PROCINFO_ID_MAX] = "";
	struct dirent *de;
	int best = 0;
	DIR *d;

	snprintf(procdir, sizeof(procdir), "%s/proc", c->root);
	d = opendir(procdir);
	if (!d) {
		snprintf(err, errsz, "%s: %s", procdir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		struct procinfo pi;
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		int how;

		if (*end || !pid || pid > UINT32_MAX || procinfo__read(procdir, pid, &pi) ||
		    !pi.container[0])
			continue;
		how = ctrinfo__matches(ctrnames__lookup(c, pi.container), pi.container, want);
		if (!how || how < best)
			continue;
		if (how > best) { /* a closer match: what was found before no longer counts */
			best = how;
			id[0] = found[0] = other[0] = '\0';
		}
		if (id[0] && strcmp(id, pi.container)) {
			snprintf(other, sizeof(other), "%s", pi.container);
			continue;
		}
		snprintf(id, sizeof(id), "%s", pi.container);
		/* A container's processes share its cgroup or sit below it: keep the top one. */
		if (!found[0] || strlen(pi.cgroup) < strlen(found))
			snprintf(found, sizeof(found), "%s", pi.cgroup);
	}
	closedir(d);
	if (!id[0]) {
		snprintf(err, errsz,
			 "--container %s: no running container of that name, id or Compose service",
			 want);
		return -ENOENT;
	}
	if (other[0]) {
		snprintf(err, errsz, "--container %s: matches several containers (%.12s, %.12s)",
			 want, id, other);
		return -EEXIST;
	}
	/* A hybrid host may leave containers in the root v2 cgroup: nothing to filter on. */
	if (!found[0] || !strcmp(found, "/")) {
		snprintf(err, errsz, "--container %s: the container has no cgroup v2 of its own",
			 want);
		return -ENOTSUP;
	}
	if (cgroup2_mount(c->root, mnt, sizeof(mnt))) {
		snprintf(err, errsz, "--container %s: no cgroup2 mount in /proc/mounts", want);
		return -ENOENT;
	}
	snprintf(out, outsz, "%s%s%s", c->root, mnt, found);
	return 0;
}
