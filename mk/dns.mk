# DNS key lookups (libunbound) against a real unbound on 127.0.0.1.
TESTS	+= $(BUILD)/test_dns
CHECKS	+= dns-check
ASAN_RUN += $(BUILD)/test_dns

$(BUILD)/test_dns: $(BUILD)/obj/tests/dns/test_dns.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)

dns-check: $(BUILD)/test_dns $(BUILD)/arctool
	$(BUILD)/test_dns
	sh tests/dns/arctool-dns.sh $(BUILD)/arctool
