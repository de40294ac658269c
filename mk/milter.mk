# arc-milter: the libmilter adapter for Postfix and Sendmail.
#   make build/arc-milter      the milter
#   make milter-check          miltertest (Lua) cases, dkimpy and arctool
#                              verification, and a real Postfix when it can
#                              be run (see docs/postfix.md)
# -include mk/*.mk comes before "all:" in the Makefile: keep "all" the
# default goal whatever rule a fragment defines first.

MILTER_LIBS = -lmilter -lpthread
PROGS	+= $(BUILD)/arc-milter
CHECKS	+= milter-check

$(BUILD)/arc-milter: $(BUILD)/obj/adapters/milter/arc_milter.o \
    $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(MILTER_LIBS)

.PHONY: milter-check
milter-check: $(BUILD)/arc-milter $(BUILD)/arctool
	bash tests/milter/run.sh $(abspath $(BUILD)/arc-milter) \
	    $(abspath $(BUILD)/arctool)

# make install: the milter and its manual page.
.PHONY: install-milter
install: install-milter
install-milter: $(BUILD)/arc-milter
	install -d $(DESTDIR)$(PREFIX)/sbin \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/arc-milter $(DESTDIR)$(PREFIX)/sbin/arc-milter
	install -m 644 docs/arc-milter.8 $(DESTDIR)$(PREFIX)/share/man/man8/
