/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * TLS plaintext through OpenSSL: attaches the OpenSSL programs of bpf/sockio.bpf.c
 * (bpf/sockio/tls.bpf.h, sockio__tls_progs) to SSL_read, SSL_read_ex, SSL_write and
 * SSL_write_ex, on entry and return, in every OpenSSL the traced processes run:
 *   - libssl files (libssl.so.3, 1.1, copies bundled in wheels), found in /proc/PID/maps and
 *     probed through /proc/PID/map_files (a container's own copy too, or /proc/PID/root);
 *   - executables that link OpenSSL statically and export those functions (Node);
 *   - at open, before any process maps them: the system's libssl and the `node` on PATH, so
 *     that short-lived clients (curl, a script) are seen from their first call.
 * Each file is probed once (by device and inode) for every process that maps it (pid -1); the
 * programs drop the calls of processes the filters refuse. Processes are looked at when they
 * are new or their mappings changed (a library loaded later).
 *
 * Not covered: Go's crypto/tls, BoringSSL and rustls (other functions), OpenSSL built without
 * those symbols, kTLS and SSL_sendfile (the kernel encrypts: nothing passes SSL_write).
 */
#ifndef SLOPROBE_TLSPROBE_H
#define SLOPROBE_TLSPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "probes/procfilter.h"

struct sockio;

struct tlsprobe_opts {
	struct procfilter_spec procs; /* whose files are looked for (the system's: always) */
	uint32_t self_tgid;	      /* never looked at; 0: the caller */
	bool verbose;		      /* one line on stderr per file probed or not probeable */
};

struct tlsprobe_stats {
	uint64_t files;	       /* files probed: libraries and executables */
	uint64_t files_failed; /* files that looked like OpenSSL and could not be probed */
	uint64_t exes_checked; /* executables looked into for OpenSSL's functions */
	uint64_t scans;	       /* processes whose mappings were read */
};

struct tlsprobe;

/*
 * Attaches to the system's OpenSSL and to that of the processes running now; s was opened with
 * sockio_opts.tls. 0, or a negative errno and a one-line reason in err.
 */
int tlsprobe__open(struct tlsprobe **out, struct sockio *s, const struct tlsprobe_opts *o,
		   char *err, size_t errsz);
/* Looks at new processes once a second (now: CLOCK_MONOTONIC ns): call it as often as wanted. */
void tlsprobe__poll(struct tlsprobe *t, uint64_t now);
/* Looks at the processes new, or whose mappings changed, since the last scan. The number of
 * files newly probed, or a negative errno. */
int tlsprobe__scan(struct tlsprobe *t);
void tlsprobe__stats(const struct tlsprobe *t, struct tlsprobe_stats *out);
/* Detaches and frees; t may be NULL. Before sockio__close: the links use its programs. */
void tlsprobe__close(struct tlsprobe *t);

#endif
