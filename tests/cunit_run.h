/*
 * cunit_run.h - the main() of a one-suite CUnit test program: the suite
 * from a table, a verbose run, and an exit status of 0 if every test and
 * the suite's set-up passed, 1 if not (or if CUnit could not start).
 * Header-only: include it once, from the program's main file.
 */
#ifndef CUNIT_RUN_H
#define CUNIT_RUN_H

#include <CUnit/Basic.h>

typedef struct {
	const char	*name;
	CU_TestFunc	 fn;
} cunit_test;

/* tests ends with { NULL, NULL }; init and clean may be NULL. */
static int
cunit_run(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
    const cunit_test *tests)
{
	CU_pSuite	 s;
	unsigned	 failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	if ((s = CU_add_suite(suite, init, clean)) == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	for (; tests->name != NULL; tests++)
		if (CU_add_test(s, tests->name, tests->fn) == NULL) {
			CU_cleanup_registry();
			return 1;
		}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() +
	    CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed != 0;
}

#endif
