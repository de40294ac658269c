# libFuzzer harnesses (fuzz/, docs/robustness.md).
#
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_HARNESSES="fuzz_tags ..."]
#	builds every harness with clang (-fsanitize=fuzzer,address,
#	undefined), seeds fuzz/corpus-<harness>/ from the ValiMail suite
#	(fuzz/make-corpus.sh) and runs each for FUZZ_SECONDS, one at a time.
#	A crash is left as fuzz/crash-*; copy it into fuzz/regress/<harness>/.
#   make fuzz-regress
#	replays fuzz/regress/<harness>/* through each harness, built with
#	the system compiler, ASan+UBSan and fuzz/standalone.c (no clang
#	needed).  Part of make check.

FUZZ_SECONDS	?= 60
FUZZ_HARNESSES	?= fuzz_headers fuzz_tags fuzz_authres fuzz_keyrec fuzz_canon \
		   fuzz_message fuzz_smtpd fuzz_session fuzz_conf fuzz_tables \
		   $(if $(wildcard $(EXIM_HDR)),fuzz_exim) \
		   $(if $(wildcard $(MILTER_HDR)),fuzz_milter)
FUZZ_CC		?= clang
FUZZ_FLAGS	?=
FUZZ_DIR	 = $(BUILD)/fuzz
FUZZ_RDIR	 = $(BUILD)/fuzz-regress
FUZZ_SAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS	 = -std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer \
		   $(WARN) -Icore -Iadapters -Ifuzz -Itests $(PKG_CFLAGS)
# exim_arc.o and arc_milter.o are taken from the archive only by
# fuzz_exim and fuzz_milter, which define the host symbols they need
# (tests/exim_host.h; libmilter's few in fuzz_milter.c)
MILTER_HDR	 = /usr/include/libmilter/mfapi.h
FUZZ_LIBSRC	 = $(CORE_SRC) $(ADAPTER_SRC) adapters/opensmtpd/smtpd_proto.c \
		   $(if $(wildcard $(EXIM_HDR)),adapters/exim/exim_arc.c) \
		   $(if $(wildcard $(MILTER_HDR)),adapters/milter/arc_milter.c)
FUZZ_DEPS	 = $(wildcard fuzz/*.h)

# make check: the regression inputs, then every harness for a short
# while from its seeds (see fuzz-smoke below)
CHECKS	+= fuzz-regress fuzz-smoke
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SMOKE_DIR	 = $(BUILD)/fuzz-smoke

.PHONY: fuzz fuzz-build fuzz-regress fuzz-deps fuzz-smoke

# -- libFuzzer build (clang) ------------------------------------------------

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
	    -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libarcfuzz.a: $(FUZZ_LIBSRC:%.c=$(FUZZ_DIR)/obj/%.o)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/%: fuzz/%.c $(FUZZ_DEPS) $(FUZZ_DIR)/libarcfuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< \
	    $(FUZZ_DIR)/libarcfuzz.a $(PKG_LIBS)

fuzz-deps:
	@command -v $(FUZZ_CC) >/dev/null && \
	    test -n "$$(find /usr/lib/llvm-*/lib/clang -name \
	    'libclang_rt.fuzzer-x86_64.a' 2>/dev/null)" || { \
	    echo "fuzz: needs clang and libclang-rt-14-dev:" \
	        "apt-get install clang libclang-rt-14-dev" >&2; exit 1; }
	@/usr/bin/python3 -c 'import yaml' 2>/dev/null || { \
	    echo "fuzz: needs python3-yaml: apt-get install python3-yaml" >&2; \
	    exit 1; }

fuzz-build: fuzz-deps $(FUZZ_HARNESSES:%=$(FUZZ_DIR)/%)

# Each harness runs on its seeds, then on what it found before; the
# corpus directories grow across runs (they are not in git).
fuzz: fuzz-build
	sh fuzz/make-corpus.sh "$(ARC_TEST_SUITE)" fuzz
	@set -e; for h in $(FUZZ_HARNESSES); do \
	    echo "== $$h ($(FUZZ_SECONDS) s, log in $(FUZZ_DIR)/$$h.log)"; \
	    mkdir -p fuzz/corpus-$$h; \
	    $(FUZZ_DIR)/$$h -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=fuzz/crash-$$h- -print_final_stats=1 \
	        $(FUZZ_FLAGS) fuzz/corpus-$$h >$(FUZZ_DIR)/$$h.log 2>&1 || { \
	        tail -40 $(FUZZ_DIR)/$$h.log; \
	        echo "fuzz: $$h failed; the input is fuzz/crash-$$h-*" >&2; \
	        exit 1; }; \
	    grep -E 'INITED|DONE|^stat::number_of_executed_units' \
	        $(FUZZ_DIR)/$$h.log || true; \
	done

# -- regression replay (system compiler, no libFuzzer) --------------------

$(FUZZ_RDIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -MMD -MP -c $< -o $@

$(FUZZ_RDIR)/libarcfuzz.a: $(FUZZ_LIBSRC:%.c=$(FUZZ_RDIR)/obj/%.o)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_RDIR)/%: $(FUZZ_RDIR)/obj/fuzz/%.o $(FUZZ_RDIR)/obj/fuzz/standalone.o \
	    $(FUZZ_RDIR)/libarcfuzz.a
	$(CC) $(FUZZ_SAN) -o $@ $^ $(PKG_LIBS)

fuzz-regress: $(FUZZ_HARNESSES:%=$(FUZZ_RDIR)/%)
	@set -e; for h in $(FUZZ_HARNESSES); do \
	    test -d fuzz/regress/$$h || continue; \
	    $(FUZZ_RDIR)/$$h fuzz/regress/$$h; \
	done

# Each harness for FUZZ_SMOKE_SECONDS from the suite's seeds and its
# regression inputs; what it finds stays in the build tree, a crash
# fails the check and leaves its input as $(FUZZ_SMOKE_DIR)/crash-*.
fuzz-smoke: fuzz-build
	@rm -rf $(FUZZ_SMOKE_DIR); mkdir -p $(FUZZ_SMOKE_DIR)
	sh fuzz/make-corpus.sh "$(ARC_TEST_SUITE)" $(FUZZ_SMOKE_DIR) >/dev/null
	@set -e; for h in $(FUZZ_HARNESSES); do \
	    mkdir -p $(FUZZ_SMOKE_DIR)/corpus-$$h; \
	    reg=fuzz/regress/$$h; test -d $$reg || reg=; \
	    $(FUZZ_DIR)/$$h -max_total_time=$(FUZZ_SMOKE_SECONDS) \
	        -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_SMOKE_DIR)/crash-$$h- \
	        $(FUZZ_SMOKE_DIR)/corpus-$$h $$reg \
	        >$(FUZZ_SMOKE_DIR)/$$h.log 2>&1 || { \
	        tail -40 $(FUZZ_SMOKE_DIR)/$$h.log; \
	        echo "fuzz-smoke: $$h failed; input in" \
	            "$(FUZZ_SMOKE_DIR)/crash-$$h-*" >&2; exit 1; }; \
	    echo "fuzz-smoke: $$h: $$(sed -n \
	        's/^stat::number_of_executed_units: *//p' \
	        $(FUZZ_SMOKE_DIR)/$$h.log) inputs in" \
	        "$(FUZZ_SMOKE_SECONDS) s, no crash"; \
	done

-include $(shell find $(FUZZ_DIR)/obj $(FUZZ_RDIR)/obj -name '*.d' \
	2>/dev/null)
