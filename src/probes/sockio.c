// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/bpfobj.h"
#include "probes/kfeat.h"
#include "probes/sockio.h"
#include "sockio.skel.h"

struct sockio {
	struct bpfobj bo;
	struct sockio_bpf *skel;
	int cgroup_fd;
	sockio_event_fn fn;
	void *ctx;
};

/*
 * Whether path exists, asked with our effective credentials: access() would ask as the real
 * user and without capabilities, so a non-root user with CAP_DAC_READ_SEARCH would not see
 * into tracefs (0700 root).
 */
static bool exists(const char *path)
{
	return !faccessat(AT_FDCWD, path, F_OK, AT_EACCESS);
}

/* libbpf attaches tracepoints through tracefs, which some hosts do not mount. */
static int tracefs_ensure(char *err, size_t errsz)
{
	if (exists("/sys/kernel/tracing/events/syscalls") ||
	    exists("/sys/kernel/debug/tracing/events/syscalls"))
		return 0;
	if (exists("/sys/kernel/tracing/events")) {
		snprintf(err, errsz, "kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)");
		return -ENOTSUP;
	}
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		snprintf(err, errsz, "tracefs is not mounted and mounting it failed: %s",
			 strerror(errno));
		return -errno;
	}
	if (!exists("/sys/kernel/tracing/events/syscalls")) {
		snprintf(err, errsz, "kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)");
		return -ENOTSUP;
	}
	return 0;
}

/*
 * A program array lets go of its programs when the map is freed, later, in a work queue: the
 * forward_* programs outlived record by that much. Emptied first, they go with their fds.
 */
static void skel_destroy(void *skel)
{
	struct sockio_bpf *s = skel;
	int fd = s->maps.forward_progs ? bpf_map__fd(s->maps.forward_progs) : -1;

	for (__u32 i = 0; fd >= 0 && i < bpf_map__max_entries(s->maps.forward_progs); i++)
		bpf_map_delete_elem(fd, &i);
	sockio_bpf__destroy(skel);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct sockio *s = ctx;

	return s->fn(s->ctx, data, size);
}

int sockio__open(struct sockio **out, const struct sockio_opts *o, sockio_event_fn fn, void *ctx,
		 char *err, size_t errsz)
{
	struct sockio *s = calloc(1, sizeof(*s));
	struct sockio_bpf *skel = NULL;
	enum kfeat_arrival arrival;
	unsigned rb_bytes;
	int err_ = 0;
	__u8 one = 1;

	*out = NULL;
	if (!s) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	s->cgroup_fd = -1;
	err_ = tracefs_ensure(err, errsz);
	if (err_)
		goto cleanup;

	skel = sockio_bpf__open();
	if (!skel) {
		err_ = -errno;
		snprintf(err, errsz, "opening BPF object: %s", strerror(errno));
		goto cleanup;
	}
	s->skel = skel;
	bpfobj__init(&s->bo, skel, skel->obj, skel_destroy);
	skel->rodata->targ_self_tgid = getpid();
	skel->rodata->targ_head_bytes = o->head_bytes ? o->head_bytes : SOCKIO_HEAD_DEFAULT;
	skel->rodata->targ_clients = o->clients;
	skel->rodata->targ_tls = o->tls;
	skel->rodata->targ_outbound = o->outbound;
	skel->rodata->targ_outbound_all = o->outbound_all;
	if (!o->outbound)
		bpf_program__set_autoload(skel->progs.tcp_receive_reset, false);
	rb_bytes = bpfobj__ring_size(skel->maps.events, o->ringbuf_bytes, SOCKIO_RINGBUF_DEFAULT);
	/* Wake the reader when a quarter of the ring is waiting; it also polls on a timer. */
	skel->rodata->targ_wakeup_bytes = rb_bytes / 4;
	skel->rodata->filter_pid_on = o->procs.npids > 0;
	skel->rodata->filter_port_on = o->nports > 0;
	if (o->procs.comm) {
		skel->rodata->filter_comm_on = true;
		strncpy((char *)skel->rodata->filter_comm, o->procs.comm,
			sizeof(skel->rodata->filter_comm) - 1);
	}
	if (o->procs.cgroup) {
		s->cgroup_fd = open(o->procs.cgroup, O_RDONLY | O_DIRECTORY);
		if (s->cgroup_fd < 0) {
			err_ = -errno;
			snprintf(err, errsz, "cgroup %s: %s", o->procs.cgroup, strerror(errno));
			goto cleanup;
		}
		skel->rodata->filter_cgroup_on = true;
	}
	/* Each tcp event read in the layout this kernel has (bpf/sockio/tcpsat.bpf.h). */
	if (!o->kfeat || o->kfeat->has[KFEAT_RESET_NOSOCK])
		bpf_program__set_autoload(skel->progs.tcp_send_reset_old, false);
	else
		bpf_program__set_autoload(skel->progs.tcp_send_reset, false);
	if (!o->kfeat || o->kfeat->retransmit_own)
		bpf_program__set_autoload(skel->progs.tcp_retransmit_skb_old, false);
	else
		bpf_program__set_autoload(skel->progs.tcp_retransmit_skb, false);
	/* One pair of programs follows arrival, the newer where the kernel has it (kernels.md). */
	arrival = o->kfeat ? kfeat__arrival(o->kfeat) : KFEAT_ARRIVAL_SOCK;
	if (o->no_arrival)
		arrival = KFEAT_ARRIVAL_NONE;
	if (arrival == KFEAT_ARRIVAL_TCP) {
		bpf_program__set_autoload(skel->progs.sk_data_ready, false);
		bpf_program__set_autoload(skel->progs.sock_recv_length, false);
	} else {
		bpf_program__set_autoload(skel->progs.arrival_probe, false);
		bpf_program__set_autoload(skel->progs.arrival_read, false);
	}
	if (arrival == KFEAT_ARRIVAL_NONE) {
		/* Two program runs per request saved: nothing would read what they keep. */
		skel->rodata->targ_arrival = false;
		if (!o->outbound)
			bpf_program__set_autoload(skel->progs.sock_state, false);
		bpf_program__set_autoload(skel->progs.sk_data_ready, false);
		bpf_program__set_autoload(skel->progs.sock_recv_length, false);
	}
	if (!o->tls) {
		bpf_program__set_autoload(skel->progs.ssl_enter, false);
		bpf_program__set_autoload(skel->progs.ssl_return, false);
		bpf_map__set_max_entries(skel->maps.ssl_socks, 1);
	}
	err_ = libbpf_num_possible_cpus();
	if (err_ < 0) {
		snprintf(err, errsz, "counting CPUs: %s", strerror(-err_));
		goto cleanup;
	}
	bpf_map__set_max_entries(skel->maps.scratch, err_);
	err_ = 0;
	if (o->pg_write_bytes)
		skel->rodata->targ_pg_write_bytes = o->pg_write_bytes;
	if (o->pg_read_bytes)
		skel->rodata->targ_pg_read_bytes = o->pg_read_bytes;
	if (o->max_conns)
		bpf_map__set_max_entries(skel->maps.conns, o->max_conns);
	if (o->max_procs)
		bpf_map__set_max_entries(skel->maps.procs, o->max_procs);
	/* Kernels without sched_process_exit's group_dead still load: CO-RE picks the fallback. */

	err_ = sockio_bpf__load(skel);
	if (err_) {
		bpfobj__why(err, errsz, "loading BPF programs", err_);
		goto cleanup;
	}
	for (size_t i = 0; i < o->procs.npids; i++) {
		if (bpf_map__update_elem(skel->maps.filter_pids, &o->procs.pids[i],
					 sizeof(o->procs.pids[i]), &one, sizeof(one), BPF_ANY)) {
			err_ = -errno;
			snprintf(err, errsz, "pid filter: %s", strerror(errno));
			goto cleanup;
		}
	}
	for (int i = 0; i < o->nports; i++) {
		if (bpf_map__update_elem(skel->maps.filter_ports, &o->ports[i], sizeof(o->ports[i]),
					 &one, sizeof(one), BPF_ANY)) {
			err_ = -errno;
			snprintf(err, errsz, "port filter: %s", strerror(errno));
			goto cleanup;
		}
	}
	if (s->cgroup_fd >= 0) {
		__u32 zero = 0;

		if (bpf_map__update_elem(skel->maps.filter_cgroup, &zero, sizeof(zero),
					 &s->cgroup_fd, sizeof(s->cgroup_fd), BPF_ANY)) {
			err_ = -errno;
			snprintf(err, errsz, "cgroup filter %s: %s (cgroup v2 directory needed)",
				 o->procs.cgroup, strerror(errno));
			goto cleanup;
		}
	}

	s->fn = fn;
	s->ctx = ctx;
	err_ = bpfobj__ring_open(&s->bo, skel->maps.events, ring_cb, s);
	if (err_) {
		snprintf(err, errsz, "ring buffer: %s", strerror(-err_));
		goto cleanup;
	}
	err_ = sockio_bpf__attach(skel);
	if (err_) {
		bpfobj__why(err, errsz, "attaching BPF programs", err_);
		goto cleanup;
	}
	*out = s;
	return 0;

cleanup:
	sockio__close(s);
	return err_ ? err_ : -EINVAL;
}

int sockio__add_listen_port(struct sockio *s, uint16_t port)
{
	__u32 one = 1;

	/* NOEXIST: a listener the kernel already counted keeps its count. */
	if (bpf_map__update_elem(s->skel->maps.listen_ports, &port, sizeof(port), &one, sizeof(one),
				 BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	return 0;
}

bool sockio__listening(struct sockio *s, uint16_t port)
{
	__u32 n;

	return !bpf_map__lookup_elem(s->skel->maps.listen_ports, &port, sizeof(port), &n, sizeof(n),
				     0);
}

int sockio__tcp_peers(struct sockio *s, sockio_tcp_fn fn, void *ctx)
{
	struct sockio_tcp_key key, next, *prev = NULL;
	const struct bpf_map *m = s->skel->maps.tcp_peers;
	__u64 n;

	while (!bpf_map__get_next_key(m, prev, &next, sizeof(next))) {
		key = next;
		prev = &key;
		if (!bpf_map__lookup_elem(m, &key, sizeof(key), &n, sizeof(n), 0))
			fn(ctx, &key, n);
	}
	return errno == ENOENT ? 0 : -errno;
}

int sockio__add_proc(struct sockio *s, uint32_t tgid)
{
	struct sockio_proc p = { .state = SOCKIO_PROC_PENDING };

	if (bpf_map__update_elem(s->skel->maps.procs, &tgid, sizeof(tgid), &p, sizeof(p),
				 BPF_NOEXIST) &&
	    errno != EEXIST)
		return -errno;
	return 0;
}

int sockio__poll(struct sockio *s, int timeout_ms)
{
	return bpfobj__poll(&s->bo, timeout_ms);
}

void sockio__stats(struct sockio *s, uint64_t out[SOCKIO_STAT_NR])
{
	bpfobj__sum_percpu(s->skel->maps.stats, SOCKIO_STAT_NR, out);
}

void sockio__forget(struct sockio *s, uint32_t tgid, uint32_t fd)
{
	struct sockio_conn_key key = { .tgid = tgid, .fd = fd };

	bpf_map__delete_elem(s->skel->maps.conns, &key, sizeof(key), 0);
}

void sockio__set_proto(struct sockio *s, uint32_t tgid, uint32_t fd, uint64_t conn_id,
		       uint8_t proto)
{
	struct sockio_conn_key key = { .tgid = tgid, .fd = fd };
	struct sockio_conn c;

	/* Read-modify-write races a close(); the id check keeps a reused fd untouched. */
	if (bpf_map__lookup_elem(s->skel->maps.conns, &key, sizeof(key), &c, sizeof(c), 0) ||
	    c.id != conn_id)
		return;
	c.proto = proto;
	bpf_map__update_elem(s->skel->maps.conns, &key, sizeof(key), &c, sizeof(c), BPF_EXIST);
}

int sockio__tls_progs(struct sockio *s, struct bpf_program **enter, struct bpf_program **ret)
{
	if (!s->skel->rodata->targ_tls)
		return -ENOENT;
	*enter = s->skel->progs.ssl_enter;
	*ret = s->skel->progs.ssl_return;
	return 0;
}

int sockio__prog_ids(struct sockio *s, uint32_t *ids, int max)
{
	return bpfobj__prog_ids(&s->bo, ids, max);
}

void sockio__run_stats(struct sockio *s, uint64_t *run_ns, uint64_t *run_cnt)
{
	bpfobj__run_stats(&s->bo, run_ns, run_cnt);
}

void sockio__close(struct sockio *s)
{
	if (!s)
		return;
	bpfobj__free(&s->bo);
	if (s->cgroup_fd >= 0)
		close(s->cgroup_fd);
	free(s);
}

void sockio__head_tail(const uint8_t *head, size_t head_len, uint64_t len, const uint8_t **tail,
		       size_t *tail_len)
{
	if (*tail_len || head_len != len)
		return;
	*tail_len = len < SOCKIO_TAIL ? len : SOCKIO_TAIL;
	*tail = head + len - *tail_len;
}
