/*
 * arc_tags.h - DKIM tag-list tokenizer (RFC 6376 §3.2), no side effects.
 *
 * Contract: arc_tags_parse() splits "tag=value; tag=value;" into at most
 * max tags, pointing into the caller's text (nothing is copied or
 * allocated).  It rejects what the grammar rejects: bad tag names,
 * missing '=', empty tag-specs (";;"), duplicate names, control
 * characters and semicolons in values, more than max tags.  Values keep
 * inner folding whitespace; surrounding whitespace is trimmed.  Offsets
 * let a caller find a value in the original text (to blank b=).
 */
#ifndef ARC_TAGS_H
#define ARC_TAGS_H

#include <stddef.h>

#include "arc_canon.h"

typedef struct {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* points into the source text */
	size_t		 value_len;
} arc_tag;

typedef struct {
	arc_tag	*tags;
	unsigned n, max;
} arc_taglist;

/* Returns NULL on success, else a static text saying what is wrong. */
const char	*arc_tags_parse(arc_taglist *, const char *, size_t);
/* The tag named exactly (case-sensitive) name, or NULL. */
const arc_tag	*arc_tags_get(const arc_taglist *, const char *name);
/* Copies the value without folding whitespace into a malloc'd string. */
char		*arc_tags_value_nows(const arc_tag *);

/* Value helpers shared by the AMS, AS, DKIM-Signature and key record
 * parsers: the value is exactly s (case-sensitive); a colon list (h=,
 * q=, key t= s= h=) holds word, any case, FWS ignored; c= as
 * "header[/body]" (1 if known; the body defaults to simple). */
int		 arc_tag_eq(const arc_tag *, const char *s);
int		 arc_tag_list_has(const arc_tag *, const char *word);
int		 arc_tag_canon(const arc_tag *, arc_canon_mode *hc,
		    arc_canon_mode *bc);

#endif
