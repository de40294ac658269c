# mk/exim.mk - the Exim dlfunc module (adapters/exim), its unit tests
# (tests/test_exim_arc.c, also under ASan), its symbol check and its
# end-to-end test.
#
# "make all" builds build/exim_arc.so when Exim's dlfunc header is there
# (Debian: exim4-dev); "make exim-e2e" (part of make check) installs Exim
# first, builds the module, checks its symbols (scripts/check-syms.sh)
# and runs tests/e2e/exim.sh.  The core and the adapter layer are linked
# in statically; libcrypto, libunbound and libpcre2 stay shared (the
# dynamic linker finds them); exim_arc.map hides all but the entry
# points, and -z now makes a missing symbol fail the load at once instead
# of killing an SMTP process later.

EXIM_SO	 = $(BUILD)/exim_arc.so
EXIM_OBJ = $(BUILD)/obj/adapters/exim/exim_arc.o
EXIM_HDR = /usr/include/exim4/local_scan.h
ifneq ($(wildcard $(EXIM_HDR)),)
PROGS	+= $(EXIM_SO)
TESTS	+= $(BUILD)/test_exim_arc
ASAN_RUN += $(BUILD)/test_exim_arc
install: install-exim
endif
CHECKS	+= exim-e2e

.PHONY: exim-e2e exim-syms install-exim

$(EXIM_SO): $(EXIM_OBJ) $(ADAPTER_OBJ) $(LIB) adapters/exim/exim_arc.map
	$(CC) $(ALL_LDFLAGS) -shared \
	    -Wl,--version-script=adapters/exim/exim_arc.map -Wl,-z,now \
	    -o $@ $(EXIM_OBJ) $(ADAPTER_OBJ) $(LIB) $(PKG_LIBS)

# the module's unit tests, with Exim's symbols provided by the test
$(BUILD)/test_exim_arc: $(BUILD)/obj/tests/test_exim_arc.o $(EXIM_OBJ) \
	    $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

exim-syms: $(EXIM_SO)
	sh scripts/check-syms.sh $(EXIM_SO)

exim-e2e: $(BUILD)/arctool
	sh scripts/install-mtas.sh
	$(MAKE) exim-syms
	bash tests/e2e/exim.sh $(abspath $(BUILD))

# PREFIX=/usr: /usr/lib/exim4/exim_arc.so, where Debian keeps Exim's
# own modules.
install-exim: $(EXIM_SO)
	install -d $(DESTDIR)$(PREFIX)/lib/exim4 \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install $(INSTALL_STRIP) -m 644 $(EXIM_SO) $(DESTDIR)$(PREFIX)/lib/exim4/exim_arc.so
	install -m 644 docs/exim_arc.8 $(DESTDIR)$(PREFIX)/share/man/man8/
