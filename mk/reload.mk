# The live configuration and its reloads (adapters/arc_reload.c).
TESTS	+= $(BUILD)/test_reload
ASAN_RUN += $(BUILD)/test_reload

$(BUILD)/test_reload: $(BUILD)/obj/tests/test_reload.o $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)
