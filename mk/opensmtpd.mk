# OpenSMTPD adapter: filter-arc(8), its protocol unit tests, and the
# end-to-end test against a real smtpd 6.8 (tests/e2e/opensmtpd.sh).
#
# adapters/opensmtpd/, one concern per file, no circles:
#   filter_arc.c  protocol handlers, sweep, signals, options
#   fa_in.c       input: lines from smtpd, held while one must wait
#   fa_check.c    -n: the configuration checked as the runtime user
#   fa_msg.c      messages: feed and replay slices, verdicts, pass-through
#   fa_ssn.c      the bounded session table      fa_spool.c  message spools
#   fa_out.c      the output queue               fa_log.c    log lines, clock
#   smtpd_proto.c the protocol's tokenizer and formatters (pure)
#
# test_smtpd_proto runs the parser's unit tests and then drives the
# filter-arc of the same build tree (ASan+UBSan in build/asan) over a
# socketpair with synthetic protocol lines; test_filter_bounds measures
# its memory and output bounds under load the same way.

OSMTPD_OBJ = $(addprefix $(BUILD)/obj/adapters/opensmtpd/, filter_arc.o \
	     fa_check.o fa_in.o fa_msg.o fa_ssn.o fa_spool.o fa_out.o \
	     fa_log.o smtpd_proto.o)

PROGS	+= $(BUILD)/filter-arc
TESTS	+= $(BUILD)/test_smtpd_proto $(BUILD)/test_filter_bounds
ASAN_RUN += $(BUILD)/test_smtpd_proto $(BUILD)/test_filter_bounds
CHECKS	+= opensmtpd-e2e opensmtpd-e2e-asan

.PHONY: opensmtpd-e2e opensmtpd-e2e-asan

$(BUILD)/filter-arc: $(OSMTPD_OBJ) $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/obj/tests/test_smtpd_proto.o \
$(BUILD)/obj/tests/test_filter_bounds.o: CFLAGS += \
	-DFILTER_ARC_PATH='"$(abspath $(BUILD))/filter-arc"'

# the filter is run by the test, not linked into it
$(BUILD)/test_smtpd_proto: $(BUILD)/obj/tests/test_smtpd_proto.o \
	    $(BUILD)/obj/adapters/opensmtpd/smtpd_proto.o \
	    $(BUILD)/obj/adapters/opensmtpd/fa_spool.o | $(BUILD)/filter-arc
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)

# memory and output bounds under load, on the filter of the same tree;
# fail_calloc.so (LD_PRELOAD, plain builds only) makes one allocation of
# the filter fail
$(BUILD)/obj/tests/test_filter_bounds.o: CFLAGS += \
	-DFAIL_CALLOC_SO='"$(abspath $(BUILD))/fail_calloc.so"'
$(BUILD)/test_filter_bounds: $(BUILD)/obj/tests/test_filter_bounds.o \
	    | $(BUILD)/filter-arc $(BUILD)/fail_calloc.so
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(TEST_LIBS)

$(BUILD)/fail_calloc.so: tests/fail_calloc.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC -o $@ $<

opensmtpd-e2e: $(BUILD)/filter-arc $(BUILD)/arctool
	sh tests/e2e/opensmtpd.sh $(abspath $(BUILD))

# The same end-to-end run with filter-arc (and arctool) built with
# ASan+UBSan, in the asan-check tree (about 40 s beside the plain run's
# 30; the log is searched for sanitizer reports).
opensmtpd-e2e-asan:
	$(MAKE) BUILD=build/asan SAN=1 build/asan/filter-arc build/asan/arctool
	sh tests/e2e/opensmtpd.sh $(abspath build/asan)

# make install also puts the filter where smtpd.conf can name it by
# absolute path (PREFIX=/usr: /usr/libexec/opensmtpd, where smtpd finds
# filters given without a path).
.PHONY: install-opensmtpd
install: install-opensmtpd
install-opensmtpd: $(BUILD)/filter-arc
	install -d $(DESTDIR)$(PREFIX)/libexec/opensmtpd \
	    $(DESTDIR)$(PREFIX)/share/man/man8
	install $(INSTALL_STRIP) -m 755 $(BUILD)/filter-arc \
	    $(DESTDIR)$(PREFIX)/libexec/opensmtpd/filter-arc
	install -m 644 docs/filter-arc.8 $(DESTDIR)$(PREFIX)/share/man/man8/
