# Robustness checks (docs/robustness.md, issue 7):
#   badinput-check  the bad-input table, one arctool run per row
#   valgrind-check  the unit and suite tests, and canon_diff (the
#                   canonicalization kernels but AVX-512, which valgrind
#                   lacks), under valgrind: no error, no definite or
#                   indirect leak
# Both run in make check.

VALGRIND ?= valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect

CHECKS	+= badinput-check valgrind-check

.PHONY: badinput-check valgrind-check

badinput-check: $(BUILD)/arctool
	sh tests/badinput.sh $(BUILD)/arctool docs/robustness.md

valgrind-check: $(BUILD)/test_core $(BUILD)/test_suite $(BUILD)/canon_diff
	@set -e; for t in $(BUILD)/test_core $(BUILD)/test_suite; do \
	    log=$(BUILD)/valgrind-$$(basename $$t).log; \
	    echo "== valgrind $$t (log in $$log)"; \
	    $(VALGRIND) $$t >$$log 2>&1 || { tail -60 $$log; exit 1; }; \
	    grep -E '^ +(tests|asserts) ' $$log; \
	done
	@# the canonicalization kernels valgrind can run (it has no AVX-512)
	@log=$(BUILD)/valgrind-canon_diff.log; \
	    echo "== valgrind $(BUILD)/canon_diff 3000 (log in $$log)"; \
	    $(VALGRIND) $(BUILD)/canon_diff 3000 >$$log 2>&1 || { \
	    tail -60 $$log; exit 1; }; cat $$log
