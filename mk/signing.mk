# mk/signing.mk - many sealing identities (issue 15): the key and signing
# tables (adapters/arc_signing.c), the address tokenizers
# (adapters/arc_mailaddr.c) and their unit tests, also under ASan.
#
#   make bench-signing	build/signing_bench: 10 000 key-table entries and
#			100 000 signing-table lines loaded, and selections
#			per second (docs/performance.md).  Part of make
#			bench, never of make check.

TESTS	+= $(BUILD)/test_signing $(BUILD)/test_select $(BUILD)/test_key_nodep
ASAN_RUN += $(BUILD)/test_signing $(BUILD)/test_select \
	    $(BUILD)/test_key_nodep

.PHONY: bench-signing
bench: bench-signing

$(BUILD)/test_signing: $(BUILD)/obj/tests/test_signing.o $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# the review's findings (tests/test_select.c)
$(BUILD)/test_select: $(BUILD)/obj/tests/test_select.o $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

# core/arc_crypto.c built without OpenSSL's deprecated API (as a distro
# with OPENSSL_API_COMPAT=30000 would): RSA keys then take the generic
# decoder, and still load and sign (tests/test_key_nodep.c)
NODEP_FLAGS = -DOPENSSL_API_COMPAT=30000 -DOPENSSL_NO_DEPRECATED
$(BUILD)/obj/nodep/arc_crypto.o: core/arc_crypto.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NODEP_FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/test_key_nodep: $(BUILD)/obj/tests/test_key_nodep.o \
	    $(BUILD)/obj/nodep/arc_crypto.o \
	    $(filter-out $(BUILD)/obj/core/arc_crypto.o,$(CORE_OBJ))
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

$(BUILD)/signing_bench: $(BUILD)/obj/bench/signing_bench.o $(ADAPTER_OBJ) \
	    $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench-signing: $(BUILD)/signing_bench
	$(BUILD)/signing_bench

# arctool seal --config with the tables (tests/signing/arctool-tables.sh)
CHECKS	+= signing-check
.PHONY: signing-check
signing-check: $(BUILD)/arctool
	sh tests/signing/arctool-tables.sh $(BUILD)/arctool
