# Robustness checks (docs/robustness.md, issue 7):
#   badinput-check  the bad-input table, one arctool run per row
#   valgrind-check  the unit and suite tests under valgrind: no error,
#                   no definite or indirect leak
# Both run in make check.

VALGRIND ?= valgrind -q --error-exitcode=1 --leak-check=full \
	    --errors-for-leak-kinds=definite,indirect

CHECKS	+= badinput-check valgrind-check

.PHONY: badinput-check valgrind-check

badinput-check: $(BUILD)/arctool
	sh tests/badinput.sh $(BUILD)/arctool docs/robustness.md

valgrind-check: $(BUILD)/test_core $(BUILD)/test_suite
	@set -e; for t in $^; do \
	    log=$(BUILD)/valgrind-$$(basename $$t).log; \
	    echo "== valgrind $$t (log in $$log)"; \
	    $(VALGRIND) $$t >$$log 2>&1 || { tail -60 $$log; exit 1; }; \
	    grep -E '^ +(tests|asserts) ' $$log; \
	done
