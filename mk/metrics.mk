# mk/metrics.mk - per-process statistics and Prometheus metrics
# (issue 18; adapters/arc_stats*.c, arc_sketch.c, arc_metrics_http.c;
# docs/metrics.md).
#
#   build/test_stats_filter  filter-arc writes its file (loop, exit).
#   build/test_stats   CUnit: counters after real messages through the
#                      adapter layer, failure kinds, the exposition and
#                      its strict parser, atomic files, the sketch's
#                      bounded memory, Exim-style merging, HTTP.  One of
#                      the unit tests (TESTS, ASAN_RUN).
#   make metrics-check tests/metrics/run.sh, under flock /tmp/arc-e2e.lock:
#                      arc-milter through miltertest, its file, its HTTP
#                      port and node_exporter's textfile collector must
#                      count what was sent; real Exim (exim -bs, three
#                      processes) adds up in one merged file; promtool
#                      (Debian package prometheus, installed by the
#                      script) accepts both files.

TESTS	+= $(BUILD)/test_stats
ASAN_RUN += $(BUILD)/test_stats
CHECKS	+= metrics-check

.PHONY: metrics-check

$(BUILD)/test_stats: $(BUILD)/obj/tests/test_stats.o $(ADAPTER_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread

metrics-check: $(BUILD)/arc-milter $(BUILD)/arctool \
	    $(filter $(EXIM_SO),$(PROGS))
	flock /tmp/arc-e2e.lock bash tests/metrics/run.sh $(abspath $(BUILD))

# filter-arc's file, from its event loop and at exit: the filter of the
# same build tree is run by the test (as test_smtpd_proto does).
TESTS	+= $(BUILD)/test_stats_filter
ASAN_RUN += $(BUILD)/test_stats_filter

$(BUILD)/obj/tests/test_stats_filter.o: CFLAGS += \
	-DFILTER_ARC_PATH='"$(abspath $(BUILD))/filter-arc"'

$(BUILD)/test_stats_filter: $(BUILD)/obj/tests/test_stats_filter.o \
	    $(ADAPTER_OBJ) $(LIB) | $(BUILD)/filter-arc
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(TEST_LIBS) -lpthread
