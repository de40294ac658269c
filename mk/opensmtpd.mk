# OpenSMTPD adapter: filter-arc(8), its protocol unit tests, and the
# end-to-end test against a real smtpd 6.8 (tests/e2e/opensmtpd.sh).

OSMTPD_OBJ = $(BUILD)/obj/adapters/opensmtpd/filter_arc.o \
	     $(BUILD)/obj/adapters/opensmtpd/smtpd_proto.o

PROGS	+= $(BUILD)/filter-arc
TESTS	+= $(BUILD)/test_smtpd_proto
ASAN_RUN += $(BUILD)/test_smtpd_proto
CHECKS	+= opensmtpd-e2e

.PHONY: opensmtpd-e2e

$(BUILD)/filter-arc: $(OSMTPD_OBJ) $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/test_smtpd_proto: $(BUILD)/obj/tests/test_smtpd_proto.o \
	    $(BUILD)/obj/adapters/opensmtpd/smtpd_proto.o
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)

opensmtpd-e2e: $(BUILD)/filter-arc $(BUILD)/arctool
	sh tests/e2e/opensmtpd.sh $(abspath $(BUILD))

# make install also puts the filter where smtpd.conf can name it by
# absolute path (PREFIX=/usr: /usr/libexec/opensmtpd, where smtpd finds
# filters given without a path).
.PHONY: install-opensmtpd
install: install-opensmtpd
install-opensmtpd: $(BUILD)/filter-arc
	install -d $(DESTDIR)$(PREFIX)/libexec/opensmtpd \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(BUILD)/filter-arc \
	    $(DESTDIR)$(PREFIX)/libexec/opensmtpd/filter-arc
	install -m 644 docs/filter-arc.8 $(DESTDIR)$(PREFIX)/share/man/man8/
