# mk/receiver.mk - acting on ARC at the receiver (adapters/arc_policy.c,
# docs/receiver-policy.md): the policy's unit tests (also under ASan)
# and the OpenDMARC end-to-end test (Postfix + arc-milter + opendmarc
# with a local unbound, tests/e2e/opendmarc.sh, under the e2e lock).
TESTS	+= $(BUILD)/test_policy
ASAN_RUN += $(BUILD)/test_policy
CHECKS	+= opendmarc-e2e

.PHONY: opendmarc-e2e

$(BUILD)/test_policy: $(BUILD)/obj/tests/test_policy.o $(ADAPTER_A_OBJ) \
	    $(LIB_A)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# the script takes /tmp/arc-e2e.lock itself (unless it is held already)
opendmarc-e2e: $(BUILD)/arc-milter $(BUILD)/arctool
	bash tests/e2e/opendmarc.sh $(abspath $(BUILD)/arc-milter) \
	    $(abspath $(BUILD)/arctool)

# the policy's libFuzzer harness (fuzz/fuzz_policy.c), replayed by
# fuzz-regress and run by fuzz-smoke like the others
FUZZ_HARNESSES += fuzz_policy
# fuzz.mk's prerequisite lists were expanded before this line
fuzz-build: $(FUZZ_DIR)/fuzz_policy
fuzz-regress: $(FUZZ_RDIR)/fuzz_policy
