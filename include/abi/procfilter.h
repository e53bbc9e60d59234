/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Userspace's verdict on a process, in the `procs` map (u32 tgid -> u8) of the BPF objects
 * that serve only some processes (pgclient, pgserver). No entry: not decided yet, traced.
 */
#ifndef SLOPROBE_PROCFILTER_H
#define SLOPROBE_PROCFILTER_H

enum procfilter_verdict {
	PROCFILTER_TRACE = 1,
	PROCFILTER_IGNORE = 2,
};

#endif
