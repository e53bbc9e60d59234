// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for src/host/ctrinfo.c: what a container engine answers (an HTTP
 * response, Docker's inspect JSON, podman's list), any bytes. Nothing is read past them; the
 * body found lies inside the input; names come out NUL-terminated, without control characters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "host/ctrinfo.h"

static void check_str(const char *s, size_t sz)
{
	size_t n = strnlen(s, sz);

	CHECK(n < sz);
	for (size_t i = 0; i < n; i++)
		CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_info(const struct ctrinfo *ci)
{
	check_str(ci->name, sizeof(ci->name));
	check_str(ci->image, sizeof(ci->image));
	check_str(ci->compose_project, sizeof(ci->compose_project));
	check_str(ci->compose_service, sizeof(ci->compose_service));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1); /* exact size: ASan sees a read past the end */
	struct ctrinfo ci;
	const char *body;
	size_t blen;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	r = ctrinfo__http_body(buf, size, &body, &blen);
	CHECK(r == -EINVAL || (r >= 100 && r <= 599));
	if (r > 0) {
		CHECK(body >= buf && body + blen == buf + size);
		if (!ctrinfo__parse_docker(body, blen, &ci))
			check_info(&ci);
	}
	r = ctrinfo__parse_docker(buf, size, &ci);
	CHECK(r == 0 || r == -EINVAL);
	if (!r)
		check_info(&ci);
	r = ctrinfo__parse_podman(buf, size, "2f9cdc62323e", &ci);
	CHECK(r == 0 || r == -EINVAL || r == -ENOENT);
	if (!r)
		check_info(&ci);
	free(buf);
	return 0;
}
