# ARC for the MTA you already run.  Plain make, pkg-config, Debian 12.
#
#   make            build everything into build/
#   make check      install what is missing, build, run every test
#                   (unit, ValiMail suite, interop, MTA end-to-end),
#                   then the unit and suite tests again under ASan+UBSan
#   make demo       install what is missing, build, seal and verify a sample
#   make install    PREFIX=/usr/local DESTDIR= (LIBDIR, INCLUDEDIR,
#                   INSTALL_STRIP=-s); make uninstall removes it again
#   make deb-check  the Debian packages built, installed, tested (mk/deb.mk)
#   make deps       apt-get install what is missing (idempotent)
#   make bench      benchmarks (see docs/performance.md)
#   make fuzz       libFuzzer runs (see docs/robustness.md)

PREFIX	?= /usr/local
DESTDIR	?=
LIBDIR	?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
# make install strips what it installs; debian/rules sets INSTALL_STRIP=
# so that dh_strip keeps the debug symbols for the -dbgsym packages.
INSTALL_STRIP ?= -s
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
	     -Icore -Iadapters $(PKG_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(SANFLAGS) $(LDFLAGS)

CORE_SRC = core/arc_buf.c core/arc_tags.c core/arc_canon.c core/arc_canon_fast.c \
	   core/arc_canon_x86_sse2.c core/arc_canon_x86_avx2.c \
	   core/arc_canon_x86_avx512.c core/arc_crypto.c \
	   core/arc_keys.c core/arc_authres.c core/arc_lib.c core/arc_msg.c \
	   core/arc_verify.c core/arc_seal.c core/arc_dns.c core/arc_fold.c \
	   core/arc_field.c core/arc_sigcheck.c \
	   core/arc_dkim.c
CORE_OBJ = $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
LIB_A	 = $(BUILD)/libarc.a

# The adapter layer: adapters/arc_adapter.c and every adapters/arc_*.c
# beside it (arc_reload.c ...: they join both libraries by themselves).
ADAPTER_SRC = adapters/arc_adapter.c \
	   $(filter-out adapters/arc_adapter.c,$(sort $(wildcard adapters/arc_*.c)))
ADAPTER_A_OBJ = $(ADAPTER_SRC:%.c=$(BUILD)/obj/%.o)

# libarc.so.1: the core and the adapter layer as a shared library that
# exports exactly the functions the public headers declare (a version
# script generated from them by scripts/libarc-map.sh; make lib-check
# compares the exports with the headers).  Public headers are core/arc.h
# and every adapters/arc_*.h but those named in PRIVATE_HDR (headers the
# adapter layer keeps to itself).  They are installed in include/arc/.
ARC_VERSION = 0.1.0
SOVER	 = 1
SOREAL	 = libarc.so.$(SOVER).0.0
PRIVATE_HDR = adapters/arc_strmap.h adapters/arc_select.h adapters/arc_adapter_int.h \
	   adapters/arc_mailaddr.h
PUBLIC_HDR = core/arc.h adapters/arc_adapter.h \
	   $(filter-out adapters/arc_adapter.h $(PRIVATE_HDR),$(sort \
	   $(wildcard adapters/arc_*.h)))
SOLIB	 = $(BUILD)/libarc.so.$(SOVER)
SOLIB_DEV = $(BUILD)/libarc.so
SOLIB_MAP = $(BUILD)/libarc.map

# Programs link $(ADAPTER_OBJ) $(LIB): the static library by default (the
# build tree's tests and e2e runs need no LD_LIBRARY_PATH); ARC_SHARED=1
# (debian/rules) links them against libarc.so.1 instead.
ARC_SHARED ?= 0
ifeq ($(ARC_SHARED),1)
LIB	 = $(SOLIB_DEV)
ADAPTER_OBJ =
else
LIB	 = $(LIB_A)
ADAPTER_OBJ = $(ADAPTER_A_OBJ)
endif

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
	interop-check install-lib uninstall lib-check
all: $(PROGS) $(SOLIB_DEV)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(LIB_A): $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

$(SOLIB_MAP): scripts/libarc-map.sh $(PUBLIC_HDR)
	@mkdir -p $(dir $@)
	sh scripts/libarc-map.sh map $(PUBLIC_HDR) >$@.tmp && mv $@.tmp $@

$(SOLIB): $(CORE_OBJ) $(ADAPTER_A_OBJ) $(SOLIB_MAP)
	$(CC) $(ALL_LDFLAGS) -shared -Wl,-soname,libarc.so.$(SOVER) \
	    -Wl,--version-script=$(SOLIB_MAP) -Wl,--no-undefined -Wl,-z,now \
	    -o $@ $(CORE_OBJ) $(ADAPTER_A_OBJ) $(PKG_LIBS) -lm

$(SOLIB_DEV): $(SOLIB)
	ln -sf libarc.so.$(SOVER) $@

$(BUILD)/arc.pc: Makefile
	@mkdir -p $(dir $@)
	printf '%s\n' 'prefix=$(PREFIX)' 'includedir=$(INCLUDEDIR)' \
	    'libdir=$(LIBDIR)' '' 'Name: arc' \
	    'Description: ARC (RFC 8617) library and MTA adapter layer' \
	    'Version: $(ARC_VERSION)' \
	    'Cflags: -I$${includedir}/arc' 'Libs: -L$${libdir} -larc' >$@

# The shared library exports what the public headers declare, no more,
# no less; its programs need nothing else from it.
lib-check: $(SOLIB)
	sh scripts/libarc-map.sh check $(SOLIB) $(PUBLIC_HDR)
	sh scripts/libarc-map.sh headers $(PUBLIC_HDR)

# arctool: adapters/cli/arctool.c and its subcommands' files beside it
# (adapters/cli/arctool_*.c)
ARCTOOL_OBJ = $(patsubst %.c,$(BUILD)/obj/%.o,$(sort \
	   $(wildcard adapters/cli/arctool*.c)))
$(BUILD)/arctool: $(ARCTOOL_OBJ) $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/test_core: $(BUILD)/obj/tests/test_core.o $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/test_suite: $(BUILD)/obj/tests/test_suite.o $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/test_adapter: $(BUILD)/obj/tests/test_adapter.o $(ADAPTER_A_OBJ) \
	    $(LIB_A)
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

# make install: the programs (fragments add theirs), the shared library
# with its headers and arc.pc, the manual pages.  make uninstall removes
# exactly what install puts there (ldconfig: /usr/local/lib is in the
# loader's path on Debian).
install: all install-lib
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5
	install $(INSTALL_STRIP) -m 755 $(BUILD)/arctool \
	    $(DESTDIR)$(PREFIX)/bin/arctool
	install -m 644 docs/arctool.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 docs/arc.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/

install-lib: $(SOLIB) $(BUILD)/arc.pc
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/arc
	install $(INSTALL_STRIP) -m 644 $(SOLIB) \
	    $(DESTDIR)$(LIBDIR)/$(SOREAL)
	ln -sf $(SOREAL) $(DESTDIR)$(LIBDIR)/libarc.so.$(SOVER)
	ln -sf libarc.so.$(SOVER) $(DESTDIR)$(LIBDIR)/libarc.so
	install -m 644 $(PUBLIC_HDR) $(DESTDIR)$(INCLUDEDIR)/arc/
	install -m 644 $(BUILD)/arc.pc $(DESTDIR)$(LIBDIR)/pkgconfig/arc.pc
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then \
	    ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/arctool \
	    $(DESTDIR)$(PREFIX)/sbin/arc-milter \
	    $(DESTDIR)$(PREFIX)/libexec/opensmtpd/filter-arc \
	    $(DESTDIR)$(PREFIX)/lib/exim4/exim_arc.so \
	    $(DESTDIR)$(LIBDIR)/$(SOREAL) \
	    $(DESTDIR)$(LIBDIR)/libarc.so.$(SOVER) \
	    $(DESTDIR)$(LIBDIR)/libarc.so \
	    $(DESTDIR)$(LIBDIR)/pkgconfig/arc.pc \
	    $(addprefix $(DESTDIR)$(INCLUDEDIR)/arc/,$(notdir $(PUBLIC_HDR))) \
	    $(DESTDIR)$(PREFIX)/share/man/man1/arctool.1 \
	    $(DESTDIR)$(PREFIX)/share/man/man5/arc.conf.5 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/arc-milter.8 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/filter-arc.8 \
	    $(DESTDIR)$(PREFIX)/share/man/man8/exim_arc.8
	-rmdir $(DESTDIR)$(INCLUDEDIR)/arc $(DESTDIR)$(PREFIX)/lib/exim4 \
	    $(DESTDIR)$(PREFIX)/libexec/opensmtpd 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then \
	    ldconfig; fi

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
