# mk/bench.mk - benchmarks (issue 6, docs/performance.md).
#
#   make bench [BENCH_SECONDS=2] [BENCH_ARGS=...]
#	build/arcbench through bench/run.sh: rates against OpenSSL's own
#	limits and dkimpy, peak memory of arctool and filter-arc.  Never
#	part of make check: speed is machine-dependent and never judged.
#   make bench-smoke
#	part of make check: arcbench with a tiny duration, a 2 MB "large"
#	message and no peer, to prove it still builds and every operation
#	it times still gives the right answer.  Judges no figure.
#   make canon-diff
#	bench/canon_diff checks the core's body canonicalization (and its
#	16-byte fast path) against a plain reference on random bodies cut
#	in random chunks.  It is one of the unit tests (TESTS, ASAN_RUN),
#	so make unit and the ASan run of make check run it too.

BENCH_SECONDS	?= 2
BENCH_ARGS	?=

CHECKS	+= bench-smoke
TESTS	+= $(BUILD)/canon_diff
ASAN_RUN += $(BUILD)/canon_diff

.PHONY: bench bench-smoke canon-diff

$(BUILD)/arcbench: $(BUILD)/obj/bench/arcbench.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

bench: $(BUILD)/arcbench $(BUILD)/arctool $(BUILD)/filter-arc
	sh bench/run.sh $(BUILD) -t $(BENCH_SECONDS) $(BENCH_ARGS)

bench-smoke: $(BUILD)/arcbench $(BUILD)/arctool $(BUILD)/filter-arc
	$(BUILD)/arcbench -q -t 0.02 -k same -M 2 >/dev/null
	@echo "bench-smoke: ok"

$(BUILD)/canon_diff: $(BUILD)/obj/bench/canon_diff.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

canon-diff: $(BUILD)/canon_diff
	$(BUILD)/canon_diff 200000
