# mk/headers.mk - what we write into header fields (issues 12 and 14):
# tests/test_headers_out.c checks the ARC set and the
# Authentication-Results we write for hostile and real-world input
# (no signed field, every byte value in a copied A-R, comments, arc.chain,
# lengths and line ends).  Part of "make unit" and, through ASAN_RUN, of
# the ASan+UBSan run of make check.

TESTS	+= $(BUILD)/test_headers_out
ASAN_RUN += $(BUILD)/test_headers_out

$(BUILD)/test_headers_out: $(BUILD)/obj/tests/test_headers_out.o \
	    $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS)
