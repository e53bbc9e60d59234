/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A file written whole or not at all, safely in directories other users can write to (/tmp):
 *
 *   outfile__open()   checks the target without opening it and creates a temporary file next
 *                     to it (".NAME.sloprobe-XXXXXX", O_EXCL|O_NOFOLLOW, mode 0600);
 *   o->f              where to write;
 *   outfile__commit() flushes, fsyncs and renames the temporary file over the target;
 *   outfile__abort()  removes the temporary file: the target is left as it was.
 *
 * A target that exists must be a regular file: a symbolic link, a FIFO, a device, a socket
 * or a directory is refused before anything is opened. An existing file is replaced, never
 * written into: whoever held it (or a hard link to it) keeps the old contents. "-" (or NULL)
 * is standard output, flushed by commit and never closed.
 */
#ifndef SLOPROBE_OUTFILE_H
#define SLOPROBE_OUTFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define OUTFILE_TMP_TAG ".sloprobe-" /* in the temporary file's name, before 6 random chars */

/*
 * To whom the file goes, when the writer is root on behalf of another user (sudo): the file
 * is given to uid:gid if that user could have created it there (may write to the directory),
 * so the user reads their report and never gains a file in a directory closed to them.
 */
struct outfile_owner {
	uid_t uid;
	gid_t gid;
	const gid_t *groups; /* supplementary groups, for the directory check */
	size_t ngroups;
};

struct outfile {
	FILE *f;
	bool is_stdout;
	bool given; /* chowned to owner */
	int fd;	    /* the temporary file */
	int werr;   /* errno of the first failed write */
	int dirfd;  /* the target's directory */
	char *name; /* the target's name in dirfd */
	char *tmp;  /* the temporary file's name in dirfd; NULL once gone */
	char *path; /* as given, for messages */
};

/*
 * Opens path for writing ("-" or NULL: standard output); o must stay where it is until
 * commit or abort. owner may be NULL. 0, or a negative errno with "PATH: why" in err:
 * -ELOOP a symbolic link, -EISDIR a directory, -EINVAL another kind of file (FIFO, device,
 * socket), -EPERM a file in a sticky directory we could not replace, else the error of a
 * system call.
 */
int outfile__open(struct outfile *o, const char *path, const struct outfile_owner *owner, char *err,
		  size_t errsz);
/*
 * Ends writing. werr is the writer's verdict (0 or a negative errno). If it or any write,
 * flush or fsync failed, the temporary file goes and the target stays as it was; else the
 * temporary file becomes the target. 0, or a negative errno with "PATH: why" in err: the
 * first write error's own errno (ENOSPC, EIO...) rather than a writer's generic -EIO. Frees o
 * either way.
 */
int outfile__commit(struct outfile *o, int werr, char *err, size_t errsz);
/* Gives up: removes the temporary file, frees o. Does nothing to an outfile zeroed or freed. */
void outfile__abort(struct outfile *o);

#endif
