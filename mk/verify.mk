# mk/verify.mk - chain validation against hostile chains (issue 12 defect
# 4, staged key lookups, DNS outage, one-pass seal hashing, issue 16):
# tests/test_verify_hostile.c, in make unit and under ASan+UBSan.
TESTS	+= $(BUILD)/test_verify_hostile
ASAN_RUN += $(BUILD)/test_verify_hostile

$(BUILD)/test_verify_hostile: $(BUILD)/obj/tests/test_verify_hostile.o \
	    $(ADAPTER_A_OBJ) $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)
