/*
 * fuzz_tags.c - libFuzzer harness: the DKIM tag-list tokenizer
 * (arc_tags_parse, arc_tags_get, arc_tags_value_nows).
 *
 * Oracles: every tag points inside the input; names follow the grammar
 * (a letter, then letters, digits, '_') and are unique; values hold no
 * ';' and no control character other than folding whitespace, and do
 * not begin or end with whitespace; arc_tags_get finds each tag; a list
 * accepted with room for 64 tags is accepted the same with exactly as
 * much room as it needs, and refused with one less.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc_tags.h"

#define MAXT	64

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
check_list(const arc_taglist *tl, const char *p, size_t n)
{
	unsigned	 i, j;
	size_t		 k;

	for (i = 0; i < tl->n; i++) {
		const arc_tag	*t = &tl->tags[i];
		char		*v;

		if (t->name < p || t->name + t->name_len > p + n ||
		    t->value < p || t->value + t->value_len > p + n ||
		    t->name_len == 0)
			abort();
		if (!((t->name[0] >= 'a' && t->name[0] <= 'z') ||
		    (t->name[0] >= 'A' && t->name[0] <= 'Z')))
			abort();
		for (k = 0; k < t->name_len; k++) {
			unsigned char c = (unsigned char)t->name[k];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' &&
			    c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
				abort();
		}
		for (k = 0; k < t->value_len; k++) {
			unsigned char c = (unsigned char)t->value[k];

			if (c == ';' || c == 0x7f ||
			    (c < 0x20 && !is_ws((char)c)))
				abort();
		}
		if (t->value_len > 0 && (is_ws(t->value[0]) ||
		    is_ws(t->value[t->value_len - 1])))
			abort();
		for (j = 0; j < i; j++)
			if (tl->tags[j].name_len == t->name_len &&
			    memcmp(tl->tags[j].name, t->name, t->name_len) ==
			    0)
				abort();
		if ((v = arc_tags_value_nows(t)) == NULL)
			abort();
		for (k = 0; v[k]; k++)
			if (is_ws(v[k]))
				abort();
		free(v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arc_tag		 tags[MAXT];
	arc_taglist	 tl = { tags, 0, MAXT }, t2;
	const char	*p = (const char *)data, *why;
	unsigned	 i, n;
	char		*name;

	why = arc_tags_parse(&tl, p, size);
	if (why != NULL)
		return 0;
	check_list(&tl, p, size);
	for (i = 0; i < tl.n; i++) {
		/* arc_tags_get wants a C string name */
		if ((name = strndup(tl.tags[i].name, tl.tags[i].name_len)) ==
		    NULL)
			abort();
		if (arc_tags_get(&tl, name) != &tl.tags[i])
			abort();
		free(name);
	}
	n = tl.n;
	t2.tags = tags;
	t2.max = n;
	if (arc_tags_parse(&t2, p, size) != NULL || t2.n != n)
		abort();
	if (n > 0) {
		t2.max = n - 1;
		if (arc_tags_parse(&t2, p, size) == NULL)
			abort();
	}
	return 0;
}
