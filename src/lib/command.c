// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/command.h"

pid_t command__start(char **argv, bool stdout_to_stderr, const struct runas *as, bool drop_caps,
		     char *err, size_t errsz)
{
	struct {
		int err;
		char step[48]; /* "" for exec itself */
	} msg = {};
	int fds[2];
	pid_t pid;

	/* A close-on-exec pipe tells the parent whether exec worked. */
	if (pipe2(fds, O_CLOEXEC)) {
		snprintf(err, errsz, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errsz, "fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (!pid) {
		const char *step = "";
		int e = 0;

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		close(fds[0]);
		/* With -o - the report owns stdout: the command's output must not corrupt it. */
		if (stdout_to_stderr)
			dup2(STDERR_FILENO, STDOUT_FILENO);
		if (as)
			e = runas__become(as, &step);
		else if (drop_caps)
			e = runas__drop_caps(&step);
		if (!e) {
			execvp(argv[0], argv);
			e = -errno;
			step = "";
		}
		msg.err = -e;
		snprintf(msg.step, sizeof(msg.step), "%s", step);
		if (write(fds[1], &msg, sizeof(msg)) < 0)
			_exit(127);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &msg, sizeof(msg)) == sizeof(msg)) {
		if (msg.step[0])
			snprintf(err, errsz, "%s as uid %u: %s: %s", argv[0],
				 as ? as->uid : getuid(), msg.step, strerror(msg.err));
		else
			snprintf(err, errsz, "%s: %s", argv[0], strerror(msg.err));
		waitpid(pid, NULL, 0);
		close(fds[0]);
		return -1;
	}
	close(fds[0]);
	return pid;
}

int command__stop(pid_t pid)
{
	int status = 0;

	kill(pid, SIGTERM);
	for (int i = 0; i < 200; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		usleep(10000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return status;
}

int command__exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
