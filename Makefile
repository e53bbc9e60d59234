# SPDX-License-Identifier: GPL-2.0-only
#
# sloprobe build. `make` builds ./sloprobe; `sudo make test` and `sudo make demo` also install
# what is missing (Debian packages) first. `V=1` shows the commands.

OUTPUT    ?= build
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
ARCH      := x86
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
VERSION   := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
PYTHON    := /usr/bin/python3

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS      := libbpf libelf zlib yaml-0.1 json-c
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS    ?= -g -O2
CFLAGS    += -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wshadow -Wformat=2 \
	     -fno-strict-aliasing -D_GNU_SOURCE -DSLOPROBE_VERSION='"$(VERSION)"' \
	     -Iinclude -Isrc -I$(OUTPUT) $(PKG_CFLAGS)
DEPFLAGS   = -MMD -MP
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Wno-unused-function \
	      -Ivmlinux/$(ARCH) -Iinclude -Ibpf -I/usr/include/$(MULTIARCH)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUTPUT)/%.skel.h,$(BPF_SRCS))
# src/<layer>/*.c: the layers and what each may include are in docs/hacking.md (make check-layout).
SRCS      := $(wildcard src/*/*.c)
OBJS      := $(patsubst src/%.c,$(OUTPUT)/%.o,$(SRCS))
# Everything but main() goes into an archive so unit tests link only what they use.
LIB       := $(OUTPUT)/libsloprobe.a
LIB_OBJS  := $(filter-out $(OUTPUT)/cli/main.o,$(OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
# tests/fuzz/fuzz_<x>.c drives the pure parser in src/<layer>/<x>.c.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	       -D_GNU_SOURCE -Isrc

.DELETE_ON_ERROR:
# Skeletons are intermediate files: keep them so a second `make` has nothing to do.
.SECONDARY: $(BPF_OBJS) $(SKELS)
.PHONY: all deps test unit fuzz integration demo bench clean format vmlinux install check-layout mutate

all: sloprobe

sloprobe: $(OUTPUT)/cli/main.o $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $^ $(PKG_LIBS) -lm -o $@

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c vmlinux/$(ARCH)/vmlinux.h | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Userspace objects may include any skeleton; build them all first.
$(OUTPUT)/%.o: src/%.c | $(OUTPUT) $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC-TEST,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) $< $(LIB) $(PKG_LIBS) -lcmocka -lm -o $@

unit: $(UNIT_BINS)

.SECONDEXPANSION:
$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/check.h $$(wildcard src/*/$$*.c src/*/$$*.h) \
		       | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

# The SLO scalars format thresholds with src/lib/units.c.
$(OUTPUT)/fuzz/fuzz_slo: tests/fuzz/fuzz_slo.c tests/fuzz/check.h src/run/slo.c src/run/slo.h \
			 src/lib/units.c src/lib/units.h | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

# The maps reader of src/host/proc_maps.c reads through src/host/procfs.c.
$(OUTPUT)/fuzz/fuzz_proc_maps: tests/fuzz/fuzz_proc_maps.c tests/fuzz/check.h \
			       src/host/proc_maps.c src/host/proc_maps.h src/host/procfs.c \
			       src/host/procfs.h | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

# The SLO file parser (slo_parse.c reads, slo_build.c builds) also needs src/run/slo.c,
# src/lib/units.c, src/lib/file.c and libyaml.
$(OUTPUT)/fuzz/fuzz_slo_parse: tests/fuzz/fuzz_slo_parse.c tests/fuzz/check.h src/run/slo_parse.c \
			       src/run/slo_build.c src/run/slo_parse.h src/run/slo.c src/run/slo.h \
			       src/lib/units.c src/lib/units.h src/lib/file.c src/lib/file.h \
			       | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) $(shell pkg-config --libs yaml-0.1) -o $@

# Routes are three files: the normalizer, the --route patterns and the limiter.
$(OUTPUT)/fuzz/fuzz_route: tests/fuzz/fuzz_route.c tests/fuzz/check.h src/proto/route.c \
			   src/proto/route_pattern.c src/proto/route_limit.c src/proto/route.h \
			   src/proto/route_priv.h | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

# RESP is three files: the framing, what a command is, and key patterns.
$(OUTPUT)/fuzz/fuzz_resp: tests/fuzz/fuzz_resp.c tests/fuzz/check.h src/proto/resp.c \
			  src/proto/resp_cmd.c src/proto/resp_key.c src/proto/resp.h \
			  src/proto/resp_priv.h src/proto/cache.h | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

# The JSON scanner is checked against json-c.
$(OUTPUT)/fuzz/fuzz_jscan: tests/fuzz/fuzz_jscan.c tests/fuzz/check.h src/lib/jscan.c src/lib/jscan.h \
			   | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) $(shell pkg-config --libs json-c) -o $@

# Container engines' answers are parsed with json-c.
$(OUTPUT)/fuzz/fuzz_ctrinfo: tests/fuzz/fuzz_ctrinfo.c tests/fuzz/check.h src/host/ctrinfo.c \
			     src/host/ctrinfo.h | $(OUTPUT)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) $(shell pkg-config --libs json-c) -o $@

# libFuzzer binaries; tests/run runs each for FUZZ_SECONDS (default 3) from its seeds.
fuzz: $(FUZZ_BINS)

deps:
	$(Q)tools/deps.sh

test: deps all unit fuzz
	$(Q)tests/run

integration: deps all unit
	$(Q)tests/run --integration-only

# Mutation testing of the core files (docs/hacking.md); not part of `make test`: it takes a
# while. MUTATE_FILES=src/lib/hist.c runs one file.
mutate: export MUTATE_CC = $(CC)
mutate: export MUTATE_CFLAGS = $(CFLAGS)
mutate: export MUTATE_LIBS = $(PKG_LIBS)
mutate: unit
	$(Q)$(PYTHON) tools/mutate --output $(OUTPUT) $(MUTATE_FILES)

demo: deps all
	$(Q)tools/demo/run.sh

bench: deps all
	$(Q)bench/http-overhead

vmlinux:
	$(Q)tools/gen-vmlinux.sh $(ARCH)

format:
	$(Q)clang-format -i $(wildcard src/*/*.c src/*/*.h include/abi/*.h bpf/*.c bpf/*.h bpf/*/*.h tests/unit/*.c)

check-layout:
	$(Q)$(PYTHON) tools/check-layout

install: sloprobe
	$(Q)install -D -m 0755 sloprobe $(DESTDIR)/usr/local/sbin/sloprobe

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf $(OUTPUT) sloprobe

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/*/*.d $(OUTPUT)/tests/*.d $(OUTPUT)/fuzz/*.d)
