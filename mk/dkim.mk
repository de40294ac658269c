# mk/dkim.mk - DKIM verification in the core (issue 17: core/arc_dkim.c,
# ARC_MSG_DKIM, arc.conf "authenticate dkim"): tests/test_dkim.c against
# fixtures signed at test time by dkimpy and Mail::DKIM (tests/dkim/),
# in make unit and under ASan+UBSan, and the arctool cross-check with
# both peers (tests/dkim_interop.sh).
TESTS	+= $(BUILD)/test_dkim
ASAN_RUN += $(BUILD)/test_dkim

$(BUILD)/test_dkim: $(BUILD)/obj/tests/test_dkim.o $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

CHECKS	+= dkim-interop-check
.PHONY: dkim-interop-check
dkim-interop-check: $(BUILD)/arctool
	sh tests/dkim_interop.sh $(abspath $(BUILD)/arctool)

# The bounds of DKIM verification and the AAR it feeds (work counted,
# key queries, body hashers, forged A-R kept out: core and adapter
# session): tests/test_dkim_limits.c.
TESTS	+= $(BUILD)/test_dkim_limits
ASAN_RUN += $(BUILD)/test_dkim_limits

$(BUILD)/test_dkim_limits: $(BUILD)/obj/tests/test_dkim_limits.o \
	    $(ADAPTER_A_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# filter-arc: a forged A-R of our authserv-id stays out of the AAR
# (aar-from-message defaults to no there), the filter of this tree
# driven as smtpd drives it.
TESTS	+= $(BUILD)/test_dkim_filter
ASAN_RUN += $(BUILD)/test_dkim_filter

$(BUILD)/obj/tests/test_dkim_filter.o: CFLAGS += \
	-DFILTER_ARC_PATH='"$(abspath $(BUILD))/filter-arc"'

$(BUILD)/test_dkim_filter: $(BUILD)/obj/tests/test_dkim_filter.o \
	    $(ADAPTER_OBJ) $(LIB) | $(BUILD)/filter-arc
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread
