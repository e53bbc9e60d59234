/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The files (libraries, executables) a loader attached its uprobes or USDT probes to: each
 * once per inode, for every process that maps it, whatever path a process sees it by.
 */
#ifndef SLOPROBE_PROBED_H
#define SLOPROBE_PROBED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROBED_LINKS_MAX 24 /* probes in one file */

struct bpf_link;

struct probed_file {
	uint64_t dev, ino;
	bool failed; /* could not be probed: not tried again */
	int nlinks;
	struct bpf_link *links[PROBED_LINKS_MAX];
};

/* Attaches to path, adding the links to f; 0 or a negative errno. shown: path for messages. */
typedef int (*probed_attach_fn)(void *loader, struct probed_file *f, const char *path,
				const char *shown);

struct probed_files {
	struct probed_file *v;
	size_t n, cap;
	uint64_t probed, failed; /* files */
};

/*
 * The file (dev, ino), unless seen before: attached through path, else through fallback (NULL:
 * none), the links of a failed attempt destroyed. Messages show fallback when there is one.
 * Returns 1 if newly probed, 0 if seen before or not probeable (counted in failed), -ENOMEM.
 */
int probed_files__add(struct probed_files *s, uint64_t dev, uint64_t ino, const char *path,
		      const char *fallback, probed_attach_fn attach, void *loader);
void probed_files__free(struct probed_files *s);

#endif
