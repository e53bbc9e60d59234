// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/file.h"

int file__read(const char *path, size_t max, char **out, size_t *len)
{
	size_t n = 0, cap = 1 << 16;
	char *buf = NULL;
	struct stat st;
	int fd, err;

	*out = NULL;
	*len = 0;
	fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : dup(0);
	if (fd < 0)
		return -errno;
	if (!fstat(fd, &st) && S_ISDIR(st.st_mode)) {
		err = -EISDIR;
		goto fail;
	}
	for (;;) {
		ssize_t r;

		/* One byte past max tells a file of exactly max bytes from a larger one. */
		if (!buf || n + 1 >= cap) {
			char *nb;

			if (buf && cap > max + 1) {
				err = -EFBIG;
				goto fail;
			}
			if (buf)
				cap *= 2;
			nb = realloc(buf, cap);
			if (!nb) {
				err = -ENOMEM;
				goto fail;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto fail;
		}
		if (!r)
			break;
		n += r;
	}
	close(fd);
	if (n > max) {
		free(buf);
		return -EFBIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;

fail:
	free(buf);
	close(fd);
	return err;
}
