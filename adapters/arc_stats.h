/*
 * arc_stats.h - per-process ARC statistics (RFC 8617 §11.3) and their
 * Prometheus text exposition.
 *
 * Contract:
 *  - The counters are process-wide and live outside every arc_adapter,
 *    so they survive reloads: arc_adapter_create() points its library's
 *    key and DNS counters at them (arc_stats_attach()), and every session
 *    reports its message once, when its actions are made
 *    (arc_stats_message()).  Recording is a few relaxed atomic
 *    increments, plus a mutex held only while the sealer-domain sketch
 *    counts the message's sealers: safe from any thread, cheap enough to
 *    stay on, and it never fails or allocates.
 *  - What is counted never names a sender or a recipient: verdicts,
 *    reasons by kind, chain shapes, latencies, key and DNS events, and
 *    the sealers' d= domains, which appear only in the top-100 gauge of
 *    a bounded sketch (arc_sketch.h); a domain that is not a plain
 *    LDH name is counted as "invalid".
 *  - A snapshot (arc_stats_snap) is a plain copy: histograms are stored
 *    cumulatively, as the exposition writes them, so snapshots add and
 *    subtract bucket by bucket.  arc_stats_render() writes the
 *    exposition (format 0.0.4) ending in the line "# EOF";
 *    arc_stats_parse() reads one back and is strict: every line must be
 *    well formed and one of ours, and a file without its "# EOF" line is
 *    refused as incomplete (never half-read).
 *  - Output (arc_stats_configure(), from arc.conf metrics-file and
 *    metrics-interval): ARC_STATS_REPLACE writes this process's totals
 *    (long-lived arc-milter and filter-arc); ARC_STATS_MERGE adds what
 *    this process counted since its last write to the file's totals
 *    under an flock(2) on FILE.lock (short-lived Exim processes sharing
 *    one file; a fork()ed child starts from zero, so nothing is counted
 *    twice).  Either way the file is replaced atomically: a temporary
 *    file in the same directory, then rename(2).  arc_stats_tick(now)
 *    writes when the interval has passed; the last counts are written at
 *    exit.
 */
#ifndef ARC_STATS_H
#define ARC_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "arc_adapter.h"
#include "arc_sketch.h"

/* Message-level counters; the library's (ARC_STAT_*, arc.h) follow. */
enum {
	ARC_ST_CV_NONE = 0, ARC_ST_CV_PASS, ARC_ST_CV_FAIL,
	ARC_ST_SEALED, ARC_ST_REJECTED, ARC_ST_TEMPFAILED,
	ARC_ST_INTERNAL_ERRORS, ARC_ST_PASSTHROUGH,
	/* fail reasons by kind, in arc_stats_fail_kind()'s order */
	ARC_ST_FAIL_STRUCTURE, ARC_ST_FAIL_BODY_HASH, ARC_ST_FAIL_SIGNATURE,
	ARC_ST_FAIL_KEY_MISSING, ARC_ST_FAIL_KEY_INVALID,
	ARC_ST_FAIL_DNS_TIMEOUT, ARC_ST_FAIL_DNS_ERROR, ARC_ST_FAIL_LIMIT,
	/* §11.3.1: an ARC-Seal failed although the newest AMS passed */
	ARC_ST_SEAL_ONLY_FAILURES,
	/* §11.3.2: sets whose AS and AMS name the same d= and s= */
	ARC_ST_SETS_SAME, ARC_ST_SETS_SELECTOR_DIFFERS,
	ARC_ST_SETS_DOMAIN_DIFFERS,
	ARC_ST_SEALER_OBSERVATIONS,
	ARC_ST_NMSG
};
#define ARC_ST_NCOUNTERS	(ARC_ST_NMSG + ARC_STAT_COUNT)

enum { ARC_FAIL_STRUCTURE = 0, ARC_FAIL_BODY_HASH, ARC_FAIL_SIGNATURE,
    ARC_FAIL_KEY_MISSING, ARC_FAIL_KEY_INVALID, ARC_FAIL_DNS_TIMEOUT,
    ARC_FAIL_DNS_ERROR, ARC_FAIL_LIMIT, ARC_FAIL_NKINDS };

#define ARC_ST_MAXSETS	50	/* chain length and oldest-pass: 0..50 */
#define ARC_ST_NLAT	16	/* latency buckets before +Inf */
enum { ARC_LAT_VERIFY = 0, ARC_LAT_VERIFY_CPU, ARC_LAT_SEAL, ARC_LAT_SEAL_CPU,
    ARC_LAT_N };
#define ARC_ST_TOPN	100	/* sealer domains exposed */
#define ARC_ST_SKETCH_K	1000	/* sealer domains monitored */

typedef struct {
	uint64_t	count[ARC_ST_NCOUNTERS];
	/* cumulative histograms: [i] counts the values <= i, [51] all */
	uint64_t	chain[2][ARC_ST_MAXSETS + 2];	/* [0] pass, [1] fail */
	uint64_t	chain_sum[2];
	uint64_t	oldest[ARC_ST_MAXSETS + 2];
	uint64_t	oldest_sum;
	uint64_t	lat[ARC_LAT_N][ARC_ST_NLAT + 1];	/* [16]: +Inf */
	uint64_t	lat_sum_ns[ARC_LAT_N];
	size_t		ntop;
	arc_sketch_item	top[ARC_ST_TOPN];
} arc_stats_snap;

/* Upper bounds of the latency buckets (ARC_ST_NLAT), seconds; a
 * function, not data, so that the shared library exports only functions. */
const double *arc_stats_lat_bounds(void);

/* ---- recording --------------------------------------------------------- */

/* Points lib's key and DNS counters at the process-wide ones. */
void	arc_stats_attach(arc_lib *);

/* Time spent on one stage of a message: enter/leave around each call
 * (the CPU time of this thread in between, summed; calls nested in an
 * outer enter/leave are not read again) and the wall time from the
 * first enter to the last leave.  Reading a thread's CPU clock is a
 * system call (about 1 us; it has no vDSO path), so the CPU time is
 * read for one message in ARC_ST_CPU_SAMPLE; the wall clock always. */
#define ARC_ST_CPU_SAMPLE	8
typedef struct {
	struct timespec	 wall0, wall1, cpu0;
	long long	 cpu_ns;
	int		 used, depth, cpu;	/* cpu: sampled */
} arc_stats_span;
void	arc_stats_span_enter(arc_stats_span *);
void	arc_stats_span_leave(arc_stats_span *);

/* One message's outcome: m is the verified message (NULL after an
 * internal error), a its actions; verify and seal may be NULL. */
void	arc_stats_message(const arc_msg *m, const arc_actions *a,
	    const arc_stats_span *verify, const arc_stats_span *seal);
/* A message an adapter passed on without a session (over its bounds). */
void	arc_stats_passthrough(void);

/* The kind (ARC_FAIL_*) of a fail verdict, from its reason text. */
int	arc_stats_fail_kind(const char *reason);

/* ---- snapshots and the exposition ------------------------------------ */

void	arc_stats_take(arc_stats_snap *);	/* this process, now */
/* Just the counters (no histograms, no lock): cheap. */
typedef uint64_t arc_stats_snap_counts_t[ARC_ST_NCOUNTERS];
void	arc_stats_counts(arc_stats_snap_counts_t);
void	arc_stats_snap_add(arc_stats_snap *dst, const arc_stats_snap *src);
/* dst -= src for the counters and histograms (src taken earlier from
 * the same process); the top list is left alone. */
void	arc_stats_snap_sub(arc_stats_snap *dst, const arc_stats_snap *src);
/* The exposition as a malloc'd string (NULL: out of memory). */
char	*arc_stats_render(const arc_stats_snap *, size_t *len);
/* 0, or -1 with err "line N: why". */
int	 arc_stats_parse(const char *text, size_t len, arc_stats_snap *,
	    char *err, size_t errlen);

/* ---- output --------------------------------------------------------- */

enum { ARC_STATS_REPLACE = 0, ARC_STATS_MERGE };
/* Reads metrics-file and metrics-interval (no metrics-file: no output).
 * May be called again (reload): the latest call wins. */
int	arc_stats_configure(const arc_conf *, int mode, char *err,
	    size_t errlen);
/* Writes the file if the interval has passed since the last write.
 * Returns 0 (written or not due), -1 with err set on a failed write. */
int	arc_stats_tick(time_t now, char *err, size_t errlen);
/* For event loops that sleep while idle: timeout_ms (-1: forever)
 * shortened to when the file is due, if anything happened since the
 * last write. */
long long arc_stats_poll_ms(long long timeout_ms);
/* Writes the file now. */
int	arc_stats_flush(char *err, size_t errlen);
/* ARC_STATS_MERGE: the sketch forgets what was written (the counters
 * keep running against a baseline instead). */
void	arc_stats_sketch_clear(void);
/* Writes text to path atomically (temporary file, rename). */
int	arc_stats_write_file(const char *path, const char *text, size_t len,
	    char *err, size_t errlen);

/* ---- arctool stats --------------------------------------------------- */

/* arctool stats [--json] FILE...: merges the files, prints a summary.
 * argv[0] is "stats".  Returns the exit status. */
int	arc_stats_cli(int argc, char **argv);

#endif
