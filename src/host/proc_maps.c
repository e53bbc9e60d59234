// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/proc_maps.h"
#include "host/procfs.h"
#include "host/scan.h"

/* The next token of [*p, end) up to a space, and *p past the spaces after it. */
static bool token(const char **p, const char *end, const char **tok, size_t *n)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	*tok = s;
	while (s < end && *s != ' ')
		s++;
	*n = s - *tok;
	while (s < end && *s == ' ')
		s++;
	*p = s;
	return *n > 0;
}

/* "a-b" of hex numbers. */
static bool parse_range(const char *p, size_t n, uint64_t *a, uint64_t *b)
{
	const char *dash = memchr(p, '-', n);

	return dash && parse_hex(p, dash - p, a) && parse_hex(dash + 1, p + n - dash - 1, b);
}

int proc_maps__parse_line(const char *p, size_t n, struct proc_map *m)
{
	const char *end = p + n, *tok, *colon;
	uint64_t start, end_addr, off, maj, min, ino;
	size_t len;
	bool exec;

	while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	if (!token(&p, end, &tok, &len) || !parse_range(tok, len, &start, &end_addr))
		return -EINVAL;
	if (!token(&p, end, &tok, &len) || len != 4)
		return -EINVAL;
	exec = tok[2] == 'x';
	if (!token(&p, end, &tok, &len) || !parse_hex(tok, len, &off))
		return -EINVAL;
	if (!token(&p, end, &tok, &len) || !(colon = memchr(tok, ':', len)) ||
	    !parse_hex(tok, colon - tok, &maj) ||
	    !parse_hex(colon + 1, tok + len - colon - 1, &min) || maj > UINT32_MAX ||
	    min > UINT32_MAX)
		return -EINVAL;
	if (!token(&p, end, &tok, &len) || !parse_dec(tok, len, UINT64_MAX, &ino))
		return -EINVAL;
	/* The path is the rest of the line: it may hold spaces. */
	if (!ino || p >= end || *p != '/')
		return -ENOENT;
	m->start = start;
	m->end = end_addr;
	m->dev = maj << 32 | min;
	m->ino = ino;
	m->exec = exec;
	m->path = p;
	m->path_len = end - p;
	return 0;
}

int proc_maps__each(const char *procroot, uint32_t pid,
		    int (*fn)(void *ctx, const struct proc_map *m), void *ctx)
{
	char path[32], *buf = NULL, *line, *nl, *end, *grown;
	struct proc_map m;
	size_t len;
	int dirfd, r;

	dirfd = procfs__open_root(procroot);
	if (dirfd < 0)
		return dirfd;
	snprintf(path, sizeof(path), "%u/maps", pid);
	r = procfs__read_at(dirfd, path, &buf, &len);
	close(dirfd);
	if (r)
		return r == -ESRCH ? -ENOENT : r;
	/* Every line ends in a newline, which becomes the NUL after its path. */
	grown = realloc(buf, len + 1);
	if (!grown) {
		free(buf);
		return -ENOMEM;
	}
	buf = grown;
	buf[len] = '\n';
	end = buf + len;
	for (line = buf; line < end && !r; line = nl + 1) {
		nl = memchr(line, '\n', end + 1 - line);
		if (proc_maps__parse_line(line, nl - line, &m))
			continue;
		*nl = '\0';
		r = fn(ctx, &m);
	}
	free(buf);
	return r;
}

uint64_t proc_maps__stamp(const char *procroot, uint32_t pid)
{
	char path[32], *buf = NULL, *s;
	unsigned long long start = 0, vsize = 0;
	size_t len;
	int dirfd, r;

	dirfd = procfs__open_root(procroot);
	if (dirfd < 0)
		return 0;
	snprintf(path, sizeof(path), "%u/stat", pid);
	r = procfs__read_at(dirfd, path, &buf, &len);
	close(dirfd);
	if (r)
		return 0;
	/* NUL-terminated for sscanf; fields after comm: state is 3, starttime 22, vsize 23. */
	s = realloc(buf, len + 1);
	if (!s) {
		free(buf);
		return 0;
	}
	buf = s;
	buf[len] = '\0';
	s = strrchr(buf, ')');
	if (!s || sscanf(s + 1,
			 " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
			 "%*d %*d %*d %llu %llu",
			 &start, &vsize) != 2) {
		free(buf);
		return 0;
	}
	free(buf);
	/* 0 stays the answer for "gone". */
	return ((uint64_t)start * 0x9e3779b97f4a7c15ull ^ vsize) | 1;
}
