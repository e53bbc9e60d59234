// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/elfcode.h"

static int func_code(Elf *elf, const char *func, long delta, uint8_t *buf, size_t n)
{
	Elf_Scn *scn = NULL;
	GElf_Addr addr = 0;
	GElf_Shdr sh;

	while (!addr && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *nm;

			if (!gelf_getsym(d, i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !sym.st_value)
				continue;
			nm = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (nm && !strcmp(nm, func)) {
				addr = sym.st_value;
				break;
			}
		}
	}
	if (!addr)
		return -ENOENT;
	addr += delta;
	scn = NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
		    !(sh.sh_flags & SHF_EXECINSTR) || addr < sh.sh_addr ||
		    addr + n > sh.sh_addr + sh.sh_size)
			continue;
		d = elf_getdata(scn, NULL);
		if (!d || !d->d_buf || addr - sh.sh_addr + n > d->d_size)
			return -EINVAL;
		memcpy(buf, (uint8_t *)d->d_buf + (addr - sh.sh_addr), n);
		return 0;
	}
	return -ENOENT;
}

struct elfcode {
	Elf *elf;
	int fd;
};

struct elfcode *elfcode__open(const char *path)
{
	struct elfcode *e;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (e->fd < 0) {
		free(e);
		return NULL;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ, NULL);
	if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
		elf_end(e->elf);
		close(e->fd);
		free(e);
		return NULL;
	}
	return e;
}

int elfcode__func(struct elfcode *e, const char *func, uint8_t *buf, size_t n)
{
	return func_code(e->elf, func, 0, buf, n);
}

int elfcode__func_at(struct elfcode *e, const char *func, long delta, uint8_t *buf, size_t n)
{
	return func_code(e->elf, func, delta, buf, n);
}

void elfcode__close(struct elfcode *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	close(e->fd);
	free(e);
}
