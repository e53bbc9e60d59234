// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for proc_maps__parse_line (src/host/proc_maps.c): one /proc/PID/maps line,
 * any bytes. Nothing is read past them; a mapping parsed has its path inside the line, starting
 * with '/', its device numbers of 32 bits each.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host/proc_maps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proc_map m;
	char *line = malloc(size ? size : 1); /* exact size: ASan sees a read past the end */
	int r;

	if (!line)
		return 0;
	memcpy(line, data, size);
	r = proc_maps__parse_line(line, size, &m);
	CHECK(r == 0 || r == -2 /* ENOENT */ || r == -22 /* EINVAL */);
	if (!r) {
		CHECK(m.path >= line && m.path + m.path_len <= line + size);
		CHECK(m.path_len > 0 && m.path[0] == '/');
		CHECK(m.dev >> 32 <= 0xffffffffu && (m.dev & 0xffffffffu) <= 0xffffffffu);
		CHECK(m.ino > 0);
	}
	free(line);
	return 0;
}
