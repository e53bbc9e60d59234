// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/inet_diag.h>

#include "host/sockdiag.h"

#define TCP_LISTEN 10

int sockdiag__parse(const void *buf, size_t len, sockdiag_fn fn, void *ctx)
{
	const struct nlmsghdr *h = buf;
	int n = (int)len;

	for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		const struct inet_diag_msg *m = NLMSG_DATA(h);
		struct sockdiag_listener l = {};
		const struct rtattr *a;
		int alen;

		if (h->nlmsg_type == NLMSG_DONE)
			return 0;
		if (h->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(h);

			return h->nlmsg_len >= NLMSG_LENGTH(sizeof(*e)) && e->error ? e->error
										    : -EIO;
		}
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*m)))
			return -EINVAL;
		l.inode = m->idiag_inode;
		l.family = m->idiag_family;
		l.port = ntohs(m->id.idiag_sport);
		memcpy(l.addr, m->id.idiag_src, m->idiag_family == AF_INET6 ? 16 : 4);
		l.queued = m->idiag_rqueue;
		l.backlog = m->idiag_wqueue;
		alen = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof(*m)));
		for (a = (const void *)((const char *)m + NLMSG_ALIGN(sizeof(*m))); RTA_OK(a, alen);
		     a = RTA_NEXT(a, alen))
			if (a->rta_type == INET_DIAG_SKMEMINFO &&
			    RTA_PAYLOAD(a) >= (SK_MEMINFO_DROPS + 1) * sizeof(uint32_t))
				l.drops = ((const uint32_t *)RTA_DATA(a))[SK_MEMINFO_DROPS];
		fn(ctx, &l);
	}
	return 1;
}

static int dump(int fd, uint8_t family, sockdiag_fn fn, void *ctx)
{
	struct {
		struct nlmsghdr h;
		struct inet_diag_req_v2 r;
	} req = {
		.h = { .nlmsg_len = sizeof(req),
		       .nlmsg_type = SOCK_DIAG_BY_FAMILY,
		       .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP },
		.r = { .sdiag_family = family,
		       .sdiag_protocol = IPPROTO_TCP,
		       .idiag_ext = 1 << (INET_DIAG_SKMEMINFO - 1),
		       .idiag_states = 1 << TCP_LISTEN },
	};
	static _Alignas(struct nlmsghdr) char buf[32768];
	int ret;

	if (send(fd, &req, sizeof(req), 0) < 0)
		return -errno;
	do {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		ret = sockdiag__parse(buf, (size_t)n, fn, ctx);
	} while (ret == 1);
	return ret;
}

int sockdiag__listeners(sockdiag_fn fn, void *ctx)
{
	int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	int err;

	if (fd < 0)
		return -errno;
	err = dump(fd, AF_INET, fn, ctx);
	if (!err)
		err = dump(fd, AF_INET6, fn, ctx);
	close(fd);
	return err;
}

int sockdiag__netstat(uint64_t *overflows, uint64_t *drops)
{
	char names[4096], vals[4096];
	FILE *f = fopen("/proc/net/netstat", "re");
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(names, sizeof(names), f) && fgets(vals, sizeof(vals), f)) {
		char *sn, *sv, *n, *v;

		if (strncmp(names, "TcpExt:", 7))
			continue;
		n = strtok_r(names, " \n", &sn);
		v = strtok_r(vals, " \n", &sv);
		while ((n = strtok_r(NULL, " \n", &sn)) && (v = strtok_r(NULL, " \n", &sv))) {
			if (!strcmp(n, "ListenOverflows"))
				*overflows = strtoull(v, NULL, 10);
			else if (!strcmp(n, "ListenDrops"))
				*drops = strtoull(v, NULL, 10);
		}
		err = 0;
		break;
	}
	fclose(f);
	return err;
}
