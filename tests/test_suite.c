/*
 * test_suite.c - the ValiMail ARC test suite as CUnit tests.
 *
 * Contract:
 *  - Reads arc-draft-validation-tests.yml and arc-draft-sign-tests.yml from
 *    $ARC_TEST_SUITE (default ../shared/arc_test_suite, relative to the
 *    working directory).  If that directory is absent it warns loudly on
 *    stderr, registers no suite tests and exits 0; an unreadable or
 *    malformed YAML file is an error (exit 1).
 *  - Every YAML document holds "tests:" (name -> case) and "txt-records:"
 *    (qname -> key record); signing documents also hold domain, sel and
 *    privatekey.  A name repeated inside one mapping replaces the earlier
 *    value, as YAML loaders do.  One CUnit test per case, named after it,
 *    in suite "validation" or "signing"; the test function finds its case
 *    through CU_get_current_test()->pName.
 *  - Validation: the chain verdict must equal cv (None/Pass/Fail; an empty
 *    cv means Fail).  Signing: no seal if AS is blank; otherwise the b= of
 *    AS and AMS must match byte for byte (whitespace removed) and AS, AMS
 *    and AAR must match after relaxed normalisation (unfolded, whitespace
 *    runs collapsed, trimmed; whitespace inside b= and bh= dropped).
 *  - Optional arguments are fnmatch(3) patterns selecting case names;
 *    $ARC_TEST_CHUNK=N feeds messages N bytes at a time.
 *  - Exit status is non-zero if any test failed.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <CUnit/Basic.h>
#include <yaml.h>

#include "arc.h"

enum kind { K_VALIDATION, K_SIGNING };

struct doc {
	yaml_document_t	 y;
	yaml_node_t	*root;
};

struct tcase {
	char		*name;		/* unique CUnit test name */
	enum kind	 kind;
	struct doc	*doc;
	yaml_node_t	*node;		/* the case's mapping */
};

static struct doc	**docs;
static size_t		  ndocs;
static struct tcase	 *cases;
static size_t		  ncases;
static size_t		  chunk;

static void
fail_case(int line, const char *fmt, ...)
{
	static char	 buf[16384];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	CU_assertImplementation(CU_FALSE, line, buf, __FILE__, "", CU_FALSE);
}

/* Value of key in a mapping node; the last of duplicate keys wins. */
static yaml_node_t *
map_get(yaml_document_t *y, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t	*p;
	yaml_node_t		*k, *found = NULL;

	if (map == NULL || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = map->data.mapping.pairs.start;
	    p < map->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(y, p->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, key) == 0)
			found = yaml_document_get_node(y, p->value);
	}
	return found;
}

static const char *
scalar(yaml_node_t *n)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static const char *
field(const struct tcase *tc, const char *key)
{
	return scalar(map_get(&tc->doc->y, tc->node, key));
}

static const char *
docfield(const struct doc *d, const char *key)
{
	return scalar(map_get((yaml_document_t *)&d->y, d->root, key));
}

static int
selected(const char *name, int argc, char **argv)
{
	int	 i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (fnmatch(argv[i], name, 0) == 0)
			return 1;
	return 0;
}

static void
add_case(enum kind kind, struct doc *d, const char *name, yaml_node_t *node)
{
	struct tcase	*tc;
	size_t		 i;
	char		 alt[512];

	for (i = 0; i < ncases; i++) {
		if (strcmp(cases[i].name, name) != 0)
			continue;
		if (cases[i].doc == d) {	/* same mapping: replace */
			cases[i].node = node;
			return;
		}
		/* same name in another document: keep both, distinctly */
		snprintf(alt, sizeof(alt), "%s@doc%zu", name, ndocs);
		add_case(kind, d, alt, node);
		return;
	}
	if ((tc = reallocarray(cases, ncases + 1, sizeof(*cases))) == NULL) {
		perror("reallocarray");
		exit(1);
	}
	cases = tc;
	tc = &cases[ncases++];
	if ((tc->name = strdup(name)) == NULL) {
		perror("strdup");
		exit(1);
	}
	tc->kind = kind;
	tc->doc = d;
	tc->node = node;
}

/* Loads every document of one suite file; returns the number of cases. */
static int
load_file(const char *path, enum kind kind)
{
	yaml_parser_t		 parser;
	yaml_node_pair_t	*p;
	yaml_node_t		*tests, *k;
	struct doc		*d, **nd;
	FILE			*fp;
	size_t			 before = ncases;

	if ((fp = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "test_suite: %s: %s\n", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, fp);
	for (;;) {
		if ((d = calloc(1, sizeof(*d))) == NULL)
			exit(1);
		if (!yaml_parser_load(&parser, &d->y)) {
			fprintf(stderr, "test_suite: %s:%zu: %s\n", path,
			    parser.problem_mark.line + 1,
			    parser.problem ? parser.problem : "parse error");
			free(d);
			yaml_parser_delete(&parser);
			fclose(fp);
			return -1;
		}
		if ((d->root = yaml_document_get_root_node(&d->y)) == NULL) {
			yaml_document_delete(&d->y);	/* end of stream */
			free(d);
			break;
		}
		if ((nd = reallocarray(docs, ndocs + 1, sizeof(*docs))) == NULL)
			exit(1);
		docs = nd;
		docs[ndocs++] = d;
		tests = map_get(&d->y, d->root, "tests");
		if (tests == NULL || tests->type != YAML_MAPPING_NODE)
			continue;
		for (p = tests->data.mapping.pairs.start;
		    p < tests->data.mapping.pairs.top; p++) {
			k = yaml_document_get_node(&d->y, p->key);
			if (scalar(k) != NULL)
				add_case(kind, d, scalar(k),
				    yaml_document_get_node(&d->y, p->value));
		}
	}
	yaml_parser_delete(&parser);
	fclose(fp);
	return (int)(ncases - before);
}

static const struct tcase *
current_case(void)
{
	CU_pTest	 t = CU_get_current_test();
	size_t		 i;

	for (i = 0; t != NULL && i < ncases; i++)
		if (strcmp(cases[i].name, t->pName) == 0)
			return &cases[i];
	return NULL;
}

/* qnames equal, case-insensitively, ignoring one trailing dot on each */
static int
qname_eq(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static char *
txt_lookup(void *arg, const char *qname)
{
	struct doc		*d = arg;
	yaml_node_t		*m, *k;
	yaml_node_pair_t	*p;
	const char		*found = NULL;

	m = map_get(&d->y, d->root, "txt-records");
	if (m == NULL || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top;
	    p++) {
		k = yaml_document_get_node(&d->y, p->key);
		if (scalar(k) != NULL && qname_eq(scalar(k), qname))
			found = scalar(yaml_document_get_node(&d->y, p->value));
	}
	return found != NULL ? strdup(found) : NULL;
}

/* Feeds the message and finishes it; 0 on success, else reports why. */
static int
run_msg(const struct tcase *tc, arc_msg *msg, const char *text)
{
	size_t		 len = strlen(text), off, n;
	arc_status	 st;

	for (off = 0; off < len; off += n) {
		n = (chunk == 0 || len - off < chunk) ? len - off : chunk;
		if ((st = arc_msg_feed(msg, text + off, n)) != ARC_OK) {
			fail_case(__LINE__, "%s: arc_msg_feed: %d (%s)",
			    tc->name, st, arc_msg_error(msg));
			return -1;
		}
	}
	if ((st = arc_msg_eom(msg)) == ARC_PENDING)
		st = arc_msg_wait(msg, 10000);
	if (st != ARC_OK) {
		fail_case(__LINE__, "%s: arc_msg_eom: %d (%s)", tc->name, st,
		    arc_msg_error(msg));
		return -1;
	}
	return 0;
}

static void
test_validation(void)
{
	const struct tcase	*tc = current_case();
	const char		*msgtext, *cvs;
	arc_lib			*lib;
	arc_msg			*msg;
	arc_cv			 want, got;
	size_t			 n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	msgtext = field(tc, "message");
	if ((cvs = field(tc, "cv")) == NULL)
		cvs = "";
	n = strlen(cvs);
	while (n > 0 && isspace((unsigned char)cvs[n - 1]))
		n--;
	if (n == 4 && strncasecmp(cvs, "pass", 4) == 0)
		want = ARC_CV_PASS;
	else if (n == 4 && strncasecmp(cvs, "none", 4) == 0)
		want = ARC_CV_NONE;
	else
		want = ARC_CV_FAIL;	/* "Fail", and empty per RFC 8617 */
	CU_ASSERT_PTR_NOT_NULL_FATAL(msgtext);

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib = arc_lib_create());
	arc_lib_set_txt_lookup(lib, txt_lookup, tc->doc);
	if ((msg = arc_msg_create(lib, ARC_MSG_VERIFY)) == NULL) {
		fail_case(__LINE__, "%s: arc_msg_create: %s", tc->name,
		    arc_lib_error(lib));
		arc_lib_free(lib);
		return;
	}
	if (run_msg(tc, msg, msgtext) == 0) {
		got = arc_msg_cv(msg);
		if (got != want)
			fail_case(__LINE__, "%s: expected cv=%s, got cv=%s "
			    "(reason: %s)", tc->name, arc_cv_name(want),
			    arc_cv_name(got), arc_msg_reason(msg));
		else
			CU_PASS("cv matches");
	}
	arc_msg_free(msg);
	arc_lib_free(lib);
}

/* "Name: value\r\n" -> "value"; anything else is returned unchanged. */
static const char *
field_value(const char *f)
{
	const char	*c;

	if (f == NULL)
		return "";
	if ((c = strchr(f, ':')) != NULL && strcspn(f, " \t\r\n") >=
	    (size_t)(c - f))
		return c + 1;
	return f;
}

/*
 * Relaxed normalisation: unfold, collapse whitespace runs to one space,
 * trim.  With sigtags, whitespace inside the b= and bh= values (base64,
 * where FWS is insignificant) is dropped as well.  Returns malloc'd text.
 */
static char *
normalise(const char *s, int sigtags)
{
	char		*out, *o;
	const char	*p, *q;
	size_t		 n;
	int		 squeeze = 0, segstart = 1;

	if ((out = malloc(strlen(s) + 1)) == NULL)
		exit(1);
	o = out;
	for (p = s; *p != '\0'; p++) {
		if (isspace((unsigned char)*p)) {
			while (isspace((unsigned char)p[1]))
				p++;
			if (!squeeze && o != out && p[1] != '\0')
				*o++ = ' ';
			continue;
		}
		if (segstart && sigtags) {	/* first byte of a tag */
			n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
			q = p + n + strspn(p + n, " \t\r\n");
			squeeze = *q == '=' && ((n == 1 && p[0] == 'b') ||
			    (n == 2 && strncmp(p, "bh", 2) == 0));
		}
		segstart = *p == ';';
		if (segstart)
			squeeze = 0;
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* The b= tag's value with all whitespace removed; malloc'd, "" if none. */
static char *
bvalue(const char *s)
{
	char	*n, *p, *save, *r = NULL;

	n = normalise(s, 1);	/* leaves "b=VALUE" with no whitespace */
	for (p = strtok_r(n, ";", &save); p != NULL && r == NULL;
	    p = strtok_r(NULL, ";", &save)) {
		p += strspn(p, " ");
		if (strncmp(p, "b=", 2) == 0)
			r = strdup(p + 2);
	}
	free(n);
	return r != NULL ? r : strdup("");
}

static void
compare_field(const struct tcase *tc, const arc_msg *msg, const char *what,
    const char *want, const char *gotfield, int sigtags)
{
	char	*a, *b, *ba, *bb;

	if (sigtags) {
		ba = bvalue(want);
		bb = bvalue(field_value(gotfield));
		if (strcmp(ba, bb) != 0)
			fail_case(__LINE__, "%s: %s b= differs\n  expected: "
			    "%s\n  got:      %s\n  (existing chain: cv=%s %s)",
			    tc->name, what, ba, bb,
			    arc_cv_name(arc_msg_cv(msg)), arc_msg_reason(msg));
		free(ba);
		free(bb);
	}
	a = normalise(want, sigtags);
	b = normalise(field_value(gotfield), sigtags);
	if (strcmp(a, b) != 0)
		fail_case(__LINE__, "%s: %s differs\n  expected: %s\n"
		    "  got:      %s\n  (existing chain: cv=%s %s)", tc->name,
		    what, a, b, arc_cv_name(arc_msg_cv(msg)),
		    arc_msg_reason(msg));
	else
		CU_PASS("field matches");
	free(a);
	free(b);
}

static void
test_signing(void)
{
	const struct tcase	*tc = current_case();
	const char		*msgtext, *dom, *sel, *pem, *hdrs, *srv, *ts;
	const char		*as;
	arc_lib			*lib;
	arc_msg			*msg = NULL;
	arc_signer		*sg;
	arc_seal_result		 res;
	arc_status		 st;
	char			 err[256], *e;
	time_t			 t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(tc);
	memset(&res, 0, sizeof(res));
	msgtext = field(tc, "message");
	dom = docfield(tc->doc, "domain");
	sel = docfield(tc->doc, "sel");
	pem = docfield(tc->doc, "privatekey");
	hdrs = field(tc, "sig-headers");
	srv = field(tc, "srv-id");
	ts = field(tc, "t");
	as = field(tc, "AS");
	CU_ASSERT_FATAL(msgtext != NULL && dom != NULL && sel != NULL &&
	    pem != NULL && hdrs != NULL && srv != NULL && ts != NULL);
	t = (time_t)strtoll(ts, &e, 10);
	CU_ASSERT_FATAL(*e == '\0' || isspace((unsigned char)*e));

	if ((sg = arc_signer_create_pem(dom, sel, pem, strlen(pem), err,
	    sizeof(err))) == NULL) {
		fail_case(__LINE__, "%s: arc_signer_create_pem: %s",
		    tc->name, err);
		return;
	}
	CU_ASSERT_EQUAL(arc_signer_set_headers(sg, hdrs, NULL), ARC_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(lib = arc_lib_create());
	arc_lib_set_txt_lookup(lib, txt_lookup, tc->doc);
	if ((msg = arc_msg_create(lib, ARC_MSG_VERIFY | ARC_MSG_SEAL)) ==
	    NULL) {
		fail_case(__LINE__, "%s: arc_msg_create: %s", tc->name,
		    arc_lib_error(lib));
		goto out;
	}
	if ((st = arc_msg_set_signer(msg, sg)) != ARC_OK) {
		fail_case(__LINE__, "%s: arc_msg_set_signer: %d (%s)",
		    tc->name, st, arc_msg_error(msg));
		goto out;
	}
	if (run_msg(tc, msg, msgtext) != 0)
		goto out;
	/* the suite's AARs keep the comments of the fields they copy */
	if ((st = arc_msg_seal(msg, sg, srv, NULL, t, ARC_SEAL_NOFOLD |
	    ARC_SEAL_AAR_COMMENTS, &res)) != ARC_OK) {
		fail_case(__LINE__, "%s: arc_msg_seal: %d (%s)", tc->name, st,
		    arc_msg_error(msg));
		goto out;
	}
	if (as == NULL || as[strspn(as, " \t\r\n")] == '\0') {
		if (res.sealed)
			fail_case(__LINE__, "%s: expected no seal, got %s",
			    tc->name, res.as ? res.as : "(null)");
		else
			CU_PASS("not sealed");
		goto out;
	}
	if (!res.sealed) {
		fail_case(__LINE__, "%s: expected a seal, got none (reason: "
		    "%s; chain cv=%s: %s)", tc->name,
		    res.reason ? res.reason : "", arc_cv_name(arc_msg_cv(msg)),
		    arc_msg_reason(msg));
		goto out;
	}
	compare_field(tc, msg, "AS", as, res.as, 1);
	compare_field(tc, msg, "AMS", field(tc, "AMS") ? field(tc, "AMS") : "",
	    res.ams, 1);
	compare_field(tc, msg, "AAR", field(tc, "AAR") ? field(tc, "AAR") : "",
	    res.aar, 0);
 out:
	arc_seal_result_clear(&res);
	if (msg != NULL)
		arc_msg_free(msg);
	arc_signer_free(sg);
	arc_lib_free(lib);
}

int
main(int argc, char **argv)
{
	CU_pSuite	 sv, ss;
	struct stat	 sb;
	const char	*dir, *c;
	char		 path[4096];
	size_t		 i;
	int		 nv = 0, ns = 0, failed;

	if ((dir = getenv("ARC_TEST_SUITE")) == NULL || *dir == '\0')
		dir = "../shared/arc_test_suite";
	if ((c = getenv("ARC_TEST_CHUNK")) != NULL)
		chunk = strtoul(c, NULL, 10);
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode)) {
		fprintf(stderr,
		    "\n**************************************************\n"
		    "*** WARNING\n"
		    "*** ARC TEST SUITE NOT FOUND at %s, 0 suite tests run\n"
		    "*** Set ARC_TEST_SUITE to the directory holding\n"
		    "*** arc-draft-validation-tests.yml and\n"
		    "*** arc-draft-sign-tests.yml.\n"
		    "**************************************************\n\n",
		    dir);
	} else {
		snprintf(path, sizeof(path), "%s/arc-draft-validation-tests.yml",
		    dir);
		nv = load_file(path, K_VALIDATION);
		snprintf(path, sizeof(path), "%s/arc-draft-sign-tests.yml", dir);
		ns = load_file(path, K_SIGNING);
		if (nv < 0 || ns < 0)
			return 1;
		fprintf(stderr, "test_suite: %d validation and %d signing "
		    "cases from %s\n", nv, ns, dir);
	}

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	sv = CU_add_suite("validation", NULL, NULL);
	ss = CU_add_suite("signing", NULL, NULL);
	if (sv == NULL || ss == NULL)
		return 1;
	for (i = 0; i < ncases; i++) {
		if (!selected(cases[i].name, argc, argv))
			continue;
		if (CU_add_test(cases[i].kind == K_VALIDATION ? sv : ss,
		    cases[i].name, cases[i].kind == K_VALIDATION ?
		    test_validation : test_signing) == NULL)
			return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() != 0 ||
	    CU_get_number_of_failures() != 0;
	CU_cleanup_registry();

	for (i = 0; i < ncases; i++)
		free(cases[i].name);
	free(cases);
	for (i = 0; i < ndocs; i++) {
		yaml_document_delete(&docs[i]->y);
		free(docs[i]);
	}
	free(docs);
	return failed ? 1 : 0;
}
