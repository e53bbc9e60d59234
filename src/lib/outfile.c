// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/outfile.h"

#define TMP_RAND  6
#define TMP_TRIES 100

static int fail(int e, char *err, size_t errsz, const char *path, const char *why)
{
	snprintf(err, errsz, "%s: %s", path, why ? why : strerror(-e));
	return e;
}

static const char *kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	if (S_ISSOCK(m))
		return "a socket";
	return "not a regular file";
}

/*
 * Whether owner may create files in dirfd, asked as owner in a child process: the kernel's
 * answer covers groups and ACLs, and our own credentials never change.
 */
static bool writable_by(int dirfd, const struct outfile_owner *ow)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return false;
	if (!pid) {
		if (setgroups(ow->ngroups, ow->groups) || setgid(ow->gid) || setuid(ow->uid))
			_exit(1);
		_exit(faccessat(dirfd, ".", W_OK | X_OK, 0) ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void random_chars(char *buf, size_t n)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	static uint64_t counter;
	unsigned char r[TMP_RAND];

	/* The name need not be secret, only new: O_EXCL guards the rest. */
	if (n > sizeof(r) || getrandom(r, n, GRND_NONBLOCK) != (ssize_t)n) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20) ^ ++counter * 7919;

		for (size_t i = 0; i < n && i < sizeof(r); i++, x = x * 6364136223846793005ull + 1)
			r[i] = x >> 56;
	}
	for (size_t i = 0; i < n && i < sizeof(r); i++)
		buf[i] = set[r[i] % (sizeof(set) - 1)];
}

static int create_tmp(struct outfile *o)
{
	/* ".NAME.sloprobe-XXXXXX" must fit NAME_MAX: a long NAME is cut. */
	const int room = NAME_MAX - 1 - (int)strlen(OUTFILE_TMP_TAG) - TMP_RAND;
	size_t sz = strlen(o->name) + 1 + strlen(OUTFILE_TMP_TAG) + TMP_RAND + 1;
	char *t = malloc(sz);

	if (!t)
		return -ENOMEM;
	for (int i = 0; i < TMP_TRIES; i++) {
		int n = snprintf(t, sz, ".%.*s%s", room, o->name, OUTFILE_TMP_TAG);
		int fd;

		random_chars(t + n, TMP_RAND);
		t[n + TMP_RAND] = '\0';
		fd = openat(o->dirfd, t, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0) {
			o->tmp = t;
			return fd;
		}
		if (errno != EEXIST) {
			int e = -errno;

			free(t);
			return e;
		}
	}
	free(t);
	return -EEXIST;
}

/* Keeps the errno of a failed write, which stdio would reduce to its error flag. */
static ssize_t cookie_write(void *cookie, const char *buf, size_t n)
{
	struct outfile *o = cookie;
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(o->fd, buf + done, n - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (!o->werr)
				o->werr = w < 0 ? errno : ENOSPC;
			return done ? (ssize_t)done : -1;
		}
		done += w;
	}
	return done;
}

static void release(struct outfile *o)
{
	if (o->f && !o->is_stdout)
		fclose(o->f);
	if (o->fd >= 0)
		close(o->fd);
	if (o->tmp)
		unlinkat(o->dirfd, o->tmp, 0);
	if (o->name)
		close(o->dirfd);
	free(o->tmp);
	free(o->name);
	free(o->path);
	memset(o, 0, sizeof(*o));
	o->dirfd = -1;
	o->fd = -1;
}

int outfile__open(struct outfile *o, const char *path, const struct outfile_owner *owner, char *err,
		  size_t errsz)
{
	const char *slash, *base;
	struct stat st, dst;
	bool exists, keep;
	uid_t uid = geteuid();
	char *dir;
	int fd, e;

	memset(o, 0, sizeof(*o));
	o->dirfd = -1;
	o->fd = -1;
	if (!path || !strcmp(path, "-")) {
		o->f = stdout;
		o->is_stdout = true;
		return 0;
	}
	if (!*path)
		return fail(-ENOENT, err, errsz, "''", NULL);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return fail(-EISDIR, err, errsz, path, "a directory, not a regular file: refused");
	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, slash - path);
	o->name = strdup(base);
	o->path = strdup(path);
	if (!dir || !o->name || !o->path) {
		free(dir);
		e = -ENOMEM;
		goto fail;
	}
	/* Read access only to fsync the directory at the end; searching it is enough. */
	o->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (o->dirfd < 0 && errno == EACCES)
		o->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (o->dirfd < 0) {
		e = -errno;
		free(o->name);
		o->name = NULL; /* no dirfd to close */
		goto fail;
	}
	if (fstat(o->dirfd, &dst)) {
		e = -errno;
		goto fail;
	}
	/* Look at the name, never through it: opening a FIFO would block, a link lead anywhere. */
	exists = !fstatat(o->dirfd, o->name, &st, AT_SYMLINK_NOFOLLOW);
	if (!exists && errno != ENOENT) {
		e = -errno;
		goto fail;
	}
	if (exists && S_ISLNK(st.st_mode)) {
		fail(-ELOOP, err, errsz, path,
		     "a symbolic link: refused (name the file it points to)");
		release(o);
		return -ELOOP;
	}
	if (exists && S_ISDIR(st.st_mode)) {
		fail(-EISDIR, err, errsz, path, "a directory, not a regular file: refused");
		release(o);
		return -EISDIR;
	}
	if (exists && !S_ISREG(st.st_mode)) {
		char why[64];

		snprintf(why, sizeof(why), "%s, not a regular file: refused", kind(st.st_mode));
		fail(-EINVAL, err, errsz, path, why);
		release(o);
		return -EINVAL;
	}
	/* The rename at the end would fail: say so now, not after the work. */
	if (exists && uid && (dst.st_mode & S_ISVTX) && st.st_uid != uid && dst.st_uid != uid) {
		fail(-EPERM, err, errsz, path,
		     "owned by another user in a sticky directory: cannot be replaced");
		release(o);
		return -EPERM;
	}
	if (owner && owner->uid != uid && writable_by(o->dirfd, owner)) {
		o->given = true;
		uid = owner->uid;
	}
	/*
	 * The file replaced keeps its mode and group if it belongs to whoever gets the new one;
	 * not through a hard link, whose other name may belong to anyone.
	 */
	keep = exists && st.st_uid == uid && st.st_nlink == 1;
	fd = create_tmp(o);
	if (fd < 0) {
		e = fd;
		goto fail;
	}
	o->fd = fd;
	if (o->given && fchown(fd, owner->uid, keep ? st.st_gid : owner->gid))
		o->given = false;
	if (keep) {
		mode_t mode = st.st_mode & 0777;

		if (!o->given && fchown(fd, (uid_t)-1, st.st_gid))
			mode &= ~(mode_t)070;
		if (fchmod(fd, mode)) {
			e = -errno;
			goto fail;
		}
	}
	o->f = fopencookie(o, "w", (cookie_io_functions_t){ .write = cookie_write });
	if (!o->f) {
		e = -errno;
		goto fail;
	}
	setvbuf(o->f, NULL, _IOFBF, 1 << 16);
	return 0;

fail:
	fail(e, err, errsz, path, NULL);
	release(o);
	return e;
}

/* The cause to report: the writer's own, unless it only saw a stream error. */
static int cause(int werr, int io_errno, int flush_err, bool stream_err)
{
	if (werr && werr != -EIO)
		return werr;
	if (io_errno)
		return -io_errno;
	if (flush_err)
		return flush_err;
	if (werr || stream_err)
		return -EIO;
	return 0;
}

int outfile__commit(struct outfile *o, int werr, char *err, size_t errsz)
{
	const char *path = o->is_stdout ? "standard output" : o->path;
	int e, fe = 0;

	if (!o->f)
		return fail(-EBADF, err, errsz, "output", NULL);
	if (fflush(o->f))
		fe = errno ? -errno : -EIO;
	e = cause(werr, o->werr, fe, ferror(o->f));
	/* On disk before it has the name: a crash leaves the old report or the new one. */
	if (!e && !o->is_stdout && fsync(o->fd))
		e = -errno;
	if (!e && !o->is_stdout) {
		fclose(o->f);
		o->f = NULL;
		if (renameat(o->dirfd, o->tmp, o->dirfd, o->name))
			e = -errno;
	}
	if (e) {
		fail(e, err, errsz, path, NULL);
		release(o);
		return e;
	}
	if (!o->is_stdout) {
		free(o->tmp);
		o->tmp = NULL;
		fsync(o->dirfd); /* the rename itself: EBADF on an O_PATH fd, nothing to do then */
	}
	release(o);
	return 0;
}

void outfile__abort(struct outfile *o)
{
	if (o->f || o->name)
		release(o);
}
