// SPDX-License-Identifier: GPL-2.0-only
/*
 * The container-id grammar: which container, of which runtime, one cgroup path names. Its own
 * file because it is a pure parser that grows with every runtime and knows nothing of procfs.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host/container.h"
#include "host/scan.h"

#define ID_HEX_LEN   64
#define LXC_NAME_MAX 64

/* Runtimes print ids in lowercase; an uppercase run is something else. */
static bool is_lhex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static bool is_id64(const char *p, size_t n)
{
	if (n != ID_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lhex(p[i]))
			return false;
	return true;
}

static bool is_lxc_name(const char *p, size_t n)
{
	if (!n || n > LXC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
	/* conmon scopes (crio-conmon-, libpod-conmon-) fail the id check, as they should */
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

/* Runtime named by one path segment, or NULL; prev is the parent segment (NULL at the top). */
static const char *match_segment(const char *prev, size_t prevlen, const char *s, size_t n,
				 bool under_kubepods, const char **id, size_t *idlen)
{
	static const char cri_sep[] = ":cri-containerd:";
	const size_t cri_sep_len = sizeof(cri_sep) - 1;

	if (has_suffix(s, n, ".scope")) {
		size_t m = n - strlen(".scope");

		for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
			size_t pl = strlen(scope_prefixes[i].prefix);

			if (m == pl + ID_HEX_LEN && has_prefix(s, n, scope_prefixes[i].prefix) &&
			    is_id64(s + pl, ID_HEX_LEN)) {
				*id = s + pl;
				*idlen = ID_HEX_LEN;
				return scope_prefixes[i].runtime;
			}
		}
	}
	/* podman with the cgroupfs manager: /libpod_parent/libpod-<id> */
	if (has_prefix(s, n, "libpod-") && is_id64(s + 7, n - 7)) {
		*id = s + 7;
		*idlen = ID_HEX_LEN;
		return "podman";
	}
	/*
	 * containerd's systemd cgroupsPath "<slice>:cri-containerd:<id>" shows up verbatim in the
	 * v1 hierarchies systemd does not manage.
	 */
	if (n > cri_sep_len + ID_HEX_LEN &&
	    !memcmp(s + n - ID_HEX_LEN - cri_sep_len, cri_sep, cri_sep_len) &&
	    is_id64(s + n - ID_HEX_LEN, ID_HEX_LEN)) {
		*id = s + n - ID_HEX_LEN;
		*idlen = ID_HEX_LEN;
		return "containerd";
	}
	if (prev && (mem_eq(prev, prevlen, "lxc") || mem_eq(prev, prevlen, "lxc.payload")) &&
	    is_lxc_name(s, n)) {
		*id = s;
		*idlen = n;
		return "lxc";
	}
	if (has_prefix(s, n, "lxc.payload.") && is_lxc_name(s + 12, n - 12)) {
		*id = s + 12;
		*idlen = n - 12;
		return "lxc";
	}
	if (is_id64(s, n)) {
		*id = s;
		*idlen = n;
		if (prev && mem_eq(prev, prevlen, "docker"))
			return "docker";
		return under_kubepods ? "kubepods" : "cgroup";
	}
	return NULL;
}

int procinfo__container_of(const char *path, size_t len, char id[PROCINFO_ID_MAX], char runtime[16])
{
	const char *p, *end, *prev = NULL, *found = NULL, *rt = NULL;
	size_t prevlen = 0, foundlen = 0;
	bool kube = false;

	if (!path || !id || !runtime)
		return -EINVAL;
	id[0] = '\0';
	runtime[0] = '\0';
	for (p = path, end = path + len; p < end;) {
		const char *seg = p, *slash = memchr(p, '/', end - p), *sid, *srt;
		size_t n = (slash ? slash : end) - seg, sidlen;

		p = slash ? slash + 1 : end;
		if (!n)
			continue;
		/* Keep going: the innermost (last) match names the container the task runs in. */
		srt = match_segment(prev, prevlen, seg, n, kube, &sid, &sidlen);
		if (srt) {
			rt = srt;
			found = sid;
			foundlen = sidlen;
		}
		if (mem_eq(seg, n, "kubepods") || has_prefix(seg, n, "kubepods.") ||
		    has_prefix(seg, n, "kubepods-"))
			kube = true;
		prev = seg;
		prevlen = n;
	}
	if (!rt)
		return 0;
	memcpy(id, found, foundlen);
	id[foundlen] = '\0';
	snprintf(runtime, 16, "%s", rt);
	return 1;
}
