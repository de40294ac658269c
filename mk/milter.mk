# arc-milter: the libmilter adapter for Postfix and Sendmail.
#   make build/arc-milter      the milter
#   make milter-check          miltertest (Lua) cases, dkimpy and arctool
#                              verification, signals and reloads, and a real
#                              Postfix when it can be run (docs/postfix.md)
#   make milter-asan-check     the miltertest cases again with arc-milter and
#                              arctool built with ASan+UBSan (build/asan);
#                              a sanitizer report fails it.  Postfix is left
#                              out there to keep the CI time modest.
# -include mk/*.mk comes before "all:" in the Makefile: keep "all" the
# default goal whatever rule a fragment defines first.

MILTER_LIBS = -lmilter -lpthread
PROGS	+= $(BUILD)/arc-milter
CHECKS	+= milter-check milter-asan-check

$(BUILD)/arc-milter: $(BUILD)/obj/adapters/milter/arc_milter.o \
    $(BUILD)/obj/adapters/milter/milter_main.o \
    $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(MILTER_LIBS)

.PHONY: milter-check milter-asan-check
milter-check: $(BUILD)/arc-milter $(BUILD)/arctool
	flock /tmp/arc-e2e.lock bash tests/milter/run.sh \
	    $(abspath $(BUILD)/arc-milter) $(abspath $(BUILD)/arctool)

MILTER_ASAN = build/asan
milter-asan-check:
	$(MAKE) BUILD=$(MILTER_ASAN) SAN=1 $(MILTER_ASAN)/arc-milter \
	    $(MILTER_ASAN)/arctool
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 MILTER_POSTFIX=no \
	    flock /tmp/arc-e2e.lock bash tests/milter/run.sh \
	    $(abspath $(MILTER_ASAN)/arc-milter) \
	    $(abspath $(MILTER_ASAN)/arctool)

# make install: the milter and its manual page.
.PHONY: install-milter
install: install-milter
install-milter: $(BUILD)/arc-milter
	install -d $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install $(INSTALL_STRIP) -m 755 $(BUILD)/arc-milter $(DESTDIR)$(PREFIX)/sbin/arc-milter
	install -m 644 docs/arc-milter.8 $(DESTDIR)$(PREFIX)/share/man/man8/
