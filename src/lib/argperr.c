// SPDX-License-Identifier: GPL-2.0-only
#include <argp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "lib/argperr.h"

/*
 * argp writes an error as "sloprobe CMD: message\n" and then its wrapped "Try `sloprobe CMD
 * --help' ..." hint before it exits; getopt writes unknown options the same way, straight to
 * stderr. While the arguments are parsed both streams go through this filter, which keeps the
 * message as one line and drops the hint. Lines already in sloprobe's form pass unchanged.
 */
static struct {
	char line[1024];
	size_t n;
	bool hint;
	FILE *stream, *saved;
} filt;

static void emit(void)
{
	char *line = filt.line, *sep;

	line[filt.n] = '\0';
	filt.n = 0;
	if (!strncmp(line, "Try `", 5) || !strncmp(line, "Usage:", 6))
		filt.hint = true;
	if (filt.hint)
		return;
	sep = strstr(line, ": ");
	if (strncmp(line, "sloprobe ", 9) || !sep || memchr(line + 9, ' ', sep - line - 9)) {
		fprintf(filt.saved, "%s\n", line);
		return;
	}
	*sep = '\0';
	fprintf(filt.saved, "sloprobe: %s (see '%s --help')\n", sep + 2, line);
}

static ssize_t filt_write(void *cookie, const char *buf, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n')
			emit();
		else if (filt.n < sizeof(filt.line) - 1)
			filt.line[filt.n++] = buf[i];
	}
	return size;
}

static void one_line_errors(struct argp_state *state)
{
	static const cookie_io_functions_t io = { .write = filt_write };

	if (!filt.stream) {
		filt.stream = fopencookie(NULL, "w", io);
		if (!filt.stream)
			return; /* argp's own format: still an error, in three lines */
		setvbuf(filt.stream, NULL, _IONBF, 0);
		filt.saved = stderr;
	}
	filt.hint = false;
	state->err_stream = filt.stream;
	stderr = filt.stream;
}

/* Runs beside the command's own parser: the first to start, the last to finish. */
static error_t parse(int key, char *arg, struct argp_state *state)
{
	if (key == ARGP_KEY_INIT)
		one_line_errors(state);
	else if (key == ARGP_KEY_FINI && filt.stream)
		stderr = filt.saved;
	else
		return ARGP_ERR_UNKNOWN;
	return 0;
}

static const struct argp errors_argp = { .parser = parse };

const struct argp_child cli__children[] = {
	{ .argp = &errors_argp },
	{ 0 },
};
