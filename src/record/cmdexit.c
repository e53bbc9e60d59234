// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/cmdexit.h"

static const struct {
	const char *name;
	int code;
} whats[] = {
	{ "ok", CMDEXIT_OK },
	{ "breach", CMDEXIT_BREACH },
	{ "load-failed", CMDEXIT_LOAD_FAILED },
};

const char *cmdexit__name(int code)
{
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++)
		if (whats[i].code == code)
			return whats[i].name;
	return "?";
}

static int what_code(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(whats) / sizeof(whats[0]); i++) {
		char num[4];

		snprintf(num, sizeof(num), "%d", whats[i].code);
		if ((strlen(whats[i].name) == n && !strncmp(s, whats[i].name, n)) ||
		    (strlen(num) == n && !strncmp(s, num, n)))
			return whats[i].code;
	}
	return -1;
}

static int add(struct cmdexit_map *m, int status, int code, char *err, size_t errsz)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->v[i].status == status) {
			m->v[i].code = code;
			return 0;
		}
	if (m->n == CMDEXIT_MAX) {
		snprintf(err, errsz, "more than %d statuses", CMDEXIT_MAX);
		return -EINVAL;
	}
	m->v[m->n].status = status;
	m->v[m->n++].code = code;
	return 0;
}

int cmdexit__parse(struct cmdexit_map *m, const char *s, char *err, size_t errsz)
{
	const char *p = s;

	for (;;) {
		const char *end = p + strcspn(p, ","), *eq = memchr(p, '=', (size_t)(end - p));
		char *num_end;
		long status;
		int code;

		if (!eq) {
			snprintf(err, errsz, "'%.*s' is not STATUS=WHAT", (int)(end - p), p);
			return -EINVAL;
		}
		errno = 0;
		status = strtol(p, &num_end, 10);
		if (num_end != eq || p == eq || *p == '+' || *p == '-' || errno || status < 1 ||
		    status > 255) {
			snprintf(err, errsz, "status '%.*s' is not 1 to 255", (int)(eq - p), p);
			return -EINVAL;
		}
		code = what_code(eq + 1, (size_t)(end - eq - 1));
		if (code < 0) {
			snprintf(err, errsz, "'%.*s' is not ok, breach or load-failed",
				 (int)(end - eq - 1), eq + 1);
			return -EINVAL;
		}
		if (add(m, (int)status, code, err, errsz))
			return -EINVAL;
		if (!*end)
			return 0;
		p = end + 1;
	}
}

int cmdexit__lookup(const struct cmdexit_map *m, int status)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->v[i].status == status)
			return m->v[i].code;
	return -1;
}
