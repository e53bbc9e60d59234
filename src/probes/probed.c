// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/libbpf.h>

#include "probes/probed.h"

static void links_destroy(struct probed_file *f)
{
	while (f->nlinks)
		bpf_link__destroy(f->links[--f->nlinks]);
}

static bool try(struct probed_file *f, const char *path, const char *shown, probed_attach_fn attach,
		void *loader)
{
	if (!attach(loader, f, path, shown))
		return true;
	links_destroy(f);
	return false;
}

int probed_files__add(struct probed_files *s, uint64_t dev, uint64_t ino, const char *path,
		      const char *fallback, probed_attach_fn attach, void *loader)
{
	const char *shown = fallback ? fallback : path;
	struct probed_file *f;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].dev == dev && s->v[i].ino == ino)
			return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct probed_file *v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->dev = dev;
	f->ino = ino;
	if (try(f, path, shown, attach, loader) ||
	    (fallback && try(f, fallback, fallback, attach, loader))) {
		s->probed++;
		return 1;
	}
	f->failed = true;
	s->failed++;
	return 0;
}

void probed_files__free(struct probed_files *s)
{
	for (size_t i = 0; i < s->n; i++)
		links_destroy(&s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
