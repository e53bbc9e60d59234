// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the JSON scanner (src/lib/jscan.c), against json-c:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	tests/fuzz/fuzz_jscan.c src/lib/jscan.c -ljson-c -o build/fuzz/fuzz_jscan
 *
 * What the scanner accepts, json-c accepts too in strict mode with UTF-8 checks: the analyzer
 * hands json-c only what the scanner accepted. (json-c 0.16 takes more than RFC 8259: raw
 * control characters in strings, NaN, Infinity, "-01", "1."; the scanner does not.) Reading
 * from memory and from a file gives the same verdict and message; messages are one line.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <json-c/json.h>

#include "check.h"
#include "lib/jscan.h"

static int scan(struct jscan *s)
{
	int err = jscan__skip(s);

	return err ? err : jscan__end(s);
}

static void one_line(const char *m)
{
	CHECK(memchr(m, '\0', JSCAN_MSG_MAX));
	for (; *m; m++)
		CHECK((unsigned char)*m >= 0x20 && *m != 0x7f);
}

/* json-c's verdict on the whole input, as the analyzer configures it. */
static bool jsonc_ok(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(JSCAN_DEPTH);
	enum json_tokener_error e;
	json_object *o;
	size_t end;
	bool ok;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	e = json_tokener_get_error(tok);
	if (e == json_tokener_continue) {
		json_object_put(o);
		o = json_tokener_parse_ex(tok, " ", 1);
		e = json_tokener_get_error(tok);
	}
	end = json_tokener_get_parse_end(tok);
	ok = e == json_tokener_success;
	json_object_put(o);
	json_tokener_free(tok);
	return ok && end <= size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jscan m, f;
	int em, ef, fd;

	if (size > (1 << 16))
		return 0;
	jscan__init_mem(&m, (const char *)data, size);
	em = scan(&m);
	CHECK(em == 0 || em == -EINVAL);
	one_line(m.msg);
	one_line(m.range);

	fd = memfd_create("fuzz", 0);
	CHECK(fd >= 0);
	CHECK(write(fd, data, size) == (ssize_t)size);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	CHECK(!jscan__init_fd(&f, fd, 1 << 20));
	ef = scan(&f);
	CHECK(ef == em);
	CHECK(!strcmp(f.msg, m.msg));
	CHECK(!strcmp(f.range, m.range));
	jscan__free(&f);
	close(fd);

	/* json-c stops at the first NUL byte and does not look past a complete value. */
	if (!em && size && !memchr(data, 0, size))
		CHECK(jsonc_ok(data, size));
	return 0;
}
