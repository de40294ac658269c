/*
 * arc_canon_kernel.h - the body of a fast canonicalization kernel (the
 * contract is in arc_canon_fast.h), written once and compiled once per
 * instruction set.  Not a header to include anywhere else: the file that
 * includes it first defines
 *
 *   KERNEL			the function's name
 *   ISA			the target attribute of its functions (an
 *				attribute, not a pragma, which clang ignores)
 *   masks64(p, m)		the masks of 64 bytes at p, one bit per
 *				byte: m[0] spaces, m[1] tabs, m[2] CRs,
 *				m[3] LFs
 * or, to keep the bytes in registers and compact them itself,
 *   OWN_COMPACT		and
 *   struct block		holding at least uint64_t sp, tab, cr, lf
 *   classify(p, len, relaxed, b)
 *				the masks of p[0 .. len) (len <= 64, none
 *				past len) into b, and its bytes, tabs read
 *				as spaces if relaxed
 *   compact(o, b, keep)	write the bytes whose bit is set in keep to
 *				o, in order; may write up to 64 bytes past
 *				them; returns the new end of o
 *
 * Everything between is plain 64-bit mask arithmetic, one bit per byte,
 * so the reading of the body (the same as the byte-wise code's) is in
 * one place for every instruction set.
 */

static inline ISA int
popcount64(uint64_t x)
{
	return __builtin_popcountll(x);
}

#ifndef OWN_COMPACT
/* Masks, and where compact() copies kept bytes from. */
struct block {
	uint64_t		 sp, tab, cr, lf;
	const unsigned char	*src;
	unsigned char		 bytes[128];
};

static inline ISA void
classify(const unsigned char *p, size_t len, int relaxed, struct block *b)
{
	unsigned char	 tail[64];
	uint64_t	 m[4];

	(void)relaxed;		/* set_source() turns tabs into spaces */
	if (len < 64) {		/* no reading past the end */
		memset(tail, 0, sizeof(tail));
		memcpy(tail, p, len);
		p = tail;
	}
	masks64(p, m);
	b->sp = m[0];
	b->tab = m[1];
	b->cr = m[2];
	b->lf = m[3];
}

/* Where compact() copies from: the input itself, which must then have 64
 * bytes past any start (avail >= 128), unless a tab is to become a space
 * (relaxed); else a copy. */
static inline ISA void
set_source(struct block *b, const unsigned char *p, size_t len,
    size_t avail, int relaxed)
{
	uint64_t	 tab = relaxed ? b->tab : 0;

	if (tab == 0 && avail >= 128) {
		b->src = p;
		return;
	}
	memcpy(b->bytes, p, len);
	for (; tab != 0; tab &= tab - 1)
		b->bytes[__builtin_ctzll(tab)] = ' ';
	b->src = b->bytes;
}

/* Each run of kept bytes with one 64-byte copy: out has the room, and
 * src the 64 past any start. */
static inline ISA unsigned char *
compact(unsigned char *o, const struct block *b, uint64_t keep)
{
	while (keep != 0) {
		int		 start = __builtin_ctzll(keep);
		uint64_t	 rest = ~(keep >> start);
		int		 run = rest == 0 ? 64 : __builtin_ctzll(rest);

		memcpy(o, b->src + start, 64);
		o += run;
		keep = start + run >= 64 ? 0 : keep & (~0ULL << (start + run));
	}
	return o;
}
#endif

/* A block's bytes, with the CRs of bare LFs put in. */
static inline ISA unsigned char *
emit_block(unsigned char *o, const struct block *b, uint64_t keep,
    uint64_t bare)
{
	while (bare != 0) {
		uint64_t before = (bare & -bare) - 1;

		o = compact(o, b, keep & before);
		*o++ = '\r';
		keep &= ~before;
		bare &= bare - 1;
	}
	return compact(o, b, keep);
}

/* What the fast path needs to know of a byte it looks ahead to. */
#define AHEAD_LF	1	/* LF */
#define AHEAD_GAP	2	/* WSP or LF: a WSP before it is no content */
static const unsigned char ahead[256] = {
	['\t'] = AHEAD_GAP, [' '] = AHEAD_GAP, ['\n'] = AHEAD_LF | AHEAD_GAP
};

/* The kernel's state between blocks, and of the last block that had
 * content (where what it has done stands). */
struct pass {
	unsigned char	*o;
	uint64_t	 carry_cr;
	size_t		 last_k;
	unsigned char	*last_o;
	uint64_t	 last_content, last_keep, last_bare;
};

/* One block of len bytes at p; always inlined, so the 64-byte blocks of
 * the main loop get constant masks.  0 if the pass is to stop: without
 * an output (s->o NULL), at a block whose canonical form differs. */
static inline ISA __attribute__((always_inline)) int
do_block(struct pass *s, int relaxed, const unsigned char *p, size_t len,
    size_t avail, size_t k)
{
	struct block	 b;
	uint64_t	 valid, top, lf_next, cr_line, line_end, wsp;
	uint64_t	 drop = 0, keep, bare, content;
	unsigned	 n1 = ahead[p[len]];
	unsigned char	*o = s->o;

	valid = len == 64 ? ~0ULL : (1ULL << len) - 1;
	top = 1ULL << (len - 1);
	classify(p, len, relaxed, &b);

	/* a CR is a line end only before an LF; a bare one is content, as
	 * in the byte-wise code */
	lf_next = (b.lf >> 1) | (n1 & AHEAD_LF ? top : 0);
	cr_line = b.cr & lf_next;
	line_end = cr_line | b.lf;
	bare = b.lf & ~((b.cr << 1) | s->carry_cr);
	s->carry_cr = b.cr >> 63;
	wsp = b.sp | b.tab;
	if (relaxed) {
		/* a WSP byte goes unless content follows it: that keeps the
		 * last of a run, and none before a line end */
		uint64_t gap = (n1 & AHEAD_GAP) |
		    (p[len] == '\r' && p[len + 1] == '\n');

		drop = wsp & (((wsp | line_end) >> 1) | (gap ? top : 0));
		content = valid & ~line_end & ~wsp;
	} else
		content = valid & ~line_end;
	keep = valid & ~drop;
	if (o == NULL) {
		/* relaxed, a tab kept becomes a space: a change too */
		if (keep != valid || bare != 0 || (relaxed && b.tab != 0))
			return 0;
	} else {
#ifndef OWN_COMPACT
		set_source(&b, p, len, avail, relaxed);
#else
		(void)avail;
#endif
		s->o = emit_block(o, &b, keep, bare);
	}
	if (content != 0) {
		s->last_k = k;
		s->last_o = o;
		s->last_content = content;
		s->last_keep = keep;
		s->last_bare = bare;
	}
	return 1;
}

ISA size_t
KERNEL(int relaxed, const unsigned char *p, size_t n, unsigned char *out,
    size_t room, size_t *outlen)
{
	struct pass	 s = { out, 0, 0, NULL, 0, 0, 0 };
	size_t		 k = 0, m, stop;
	uint64_t	 after;
	int		 hb, go = 1;

	*outlen = 0;
	if (n < 3)
		return 0;
	m = n - 2;		/* each byte looked at has two after it */
	/* a block writes at most 128 bytes (every one a bare LF), and
	 * compact() may store 64 past its end */
	if (out != NULL) {
		if (room < 192)
			return 0;
		stop = (room - 192) / 2;	/* input that surely fits */
		if (m > stop)
			m = stop;
	}
	for (; go && k + 64 <= m; k += 64)
		go = do_block(&s, relaxed, p + k, 64, n - k, k);
	if (go && k < m)
		do_block(&s, relaxed, p + k, m - k, n - k, k);
	if (s.last_content == 0)
		return 0;

	/* what is emitted stands only up to the last content byte: empty
	 * lines and WSP after it may yet be withheld */
	hb = 63 - __builtin_clzll(s.last_content);
	if (out == NULL) {
		*outlen = s.last_k + (size_t)hb + 1;
		return *outlen;
	}
	after = hb == 63 ? 0 : ~0ULL << (hb + 1);
	*outlen = (size_t)(s.last_o - out) +
	    (size_t)popcount64(s.last_keep & ~after) +
	    (size_t)popcount64(s.last_bare & ~after);
	return s.last_k + (size_t)hb + 1;
}
