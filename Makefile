# ARC for the MTA you already run.  Plain make, pkg-config, Debian 12.
#
#   make            build everything into build/
#   make check      install what is missing, build, run every test
#                   (unit, ValiMail suite, interop, MTA end-to-end),
#                   then the unit and suite tests again under ASan+UBSan
#   make demo       install what is missing, build, seal and verify a sample
#   make install    PREFIX=/usr/local DESTDIR=
#   make deps       apt-get install what is missing (idempotent)
#   make bench      benchmarks (see docs/performance.md)
#   make fuzz       libFuzzer runs (see docs/robustness.md)

PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
ARC_TEST_SUITE ?= ../shared/arc_test_suite
export ARC_TEST_SUITE

CC	?= cc
OPT	?= -O2 -g
WARN	 = -Wall -Wextra -Werror
SAN	?=
ifeq ($(SAN),1)
OPT	 = -O1 -g -fno-omit-frame-pointer
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all
endif
PKGS	 = openssl libunbound libpcre2-8
# libunbound's .pc asks for libevent's; its headers are in /usr/include
PKG_CFLAGS := $(shell pkg-config --cflags openssl libpcre2-8 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_CFLAGS := $(shell pkg-config --cflags cunit yaml-0.1 2>/dev/null)
TEST_LIBS   := $(shell pkg-config --libs cunit yaml-0.1 2>/dev/null)
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC $(OPT) $(WARN) $(SANFLAGS) \
	     -Icore -Iadapters $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

CORE_SRC = core/arc_buf.c core/arc_tags.c core/arc_canon.c core/arc_canon_fast.c \
	   core/arc_canon_x86_sse2.c core/arc_canon_x86_avx2.c \
	   core/arc_canon_x86_avx512.c core/arc_crypto.c \
	   core/arc_keys.c core/arc_authres.c core/arc_lib.c core/arc_msg.c \
	   core/arc_verify.c core/arc_seal.c core/arc_dns.c core/arc_fold.c
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LIB	 = $(BUILD)/libarc.a

ADAPTER_SRC = adapters/arc_adapter.c adapters/arc_reload.c
ADAPTER_OBJ = $(ADAPTER_SRC:%.c=$(BUILD)/obj/%.o)

PROGS	 = $(BUILD)/arctool
TESTS	 = $(BUILD)/test_core $(BUILD)/test_suite $(BUILD)/test_adapter
# make check runs these targets in order; mk/*.mk fragments (one per
# adapter or tool) append to PROGS, TESTS, CHECKS and ASAN_RUN.
CHECKS	 = unit interop-check
ASAN_RUN = $(BUILD)/test_core $(BUILD)/test_suite $(BUILD)/test_adapter
# the fragments define rules: "all" stays the default all the same
.DEFAULT_GOAL := all
-include mk/*.mk

.PHONY: all deps check unit demo install clean bench fuzz asan-check \
	interop-check
all: $(PROGS)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/arctool: $(BUILD)/obj/adapters/cli/arctool.o $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/test_core: $(BUILD)/obj/tests/test_core.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/test_suite: $(BUILD)/obj/tests/test_suite.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/test_adapter: $(BUILD)/obj/tests/test_adapter.o $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(TEST_CFLAGS) -MMD -MP -c $< -o $@

# Unit tests and the ValiMail suite (CUnit), and what fragments add.
unit: $(TESTS)
	@set -e; for t in $(ASAN_RUN); do echo "== $$t"; $$t; done

interop-check: $(BUILD)/arctool
	bash tests/interop.sh $(abspath $(BUILD)/arctool)

# The same unit and suite tests built with ASan+UBSan in their own tree.
asan-check:
	$(MAKE) BUILD=build/asan SAN=1 unit

check: deps
	$(MAKE) all
	@set -e; for c in $(CHECKS); do $(MAKE) $$c; done
	$(MAKE) asan-check
	@echo "make check: all test groups passed"

demo: deps
	$(MAKE) all
	sh scripts/demo.sh $(BUILD)/arctool

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install -m 755 $(BUILD)/arctool $(DESTDIR)$(PREFIX)/bin/arctool
	install -m 644 docs/arctool.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/arc.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
