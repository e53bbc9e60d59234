// SPDX-License-Identifier: GPL-2.0-only
/*
 * Routes: the bounded-cardinality path key of the latency table (service x method x route).
 *
 * A request is given a route in one of two ways, in this order:
 *   1. route_set__match(): the first user pattern (--route) that matches the raw target; the
 *      pattern text itself is the route. Patterns are bounded by construction, so their routes
 *      need not go through the limiter.
 *   2. route__normalize() then route_limiter__apply(): ids become {id}, and a segment position
 *      that still takes too many distinct values collapses to {*}.
 *
 * Query strings and fragments are never copied anywhere: they may carry secrets.
 *
 * Every '{' in a normalized route starts a placeholder ({id}, {*}, {authority}) because
 * route__normalize() percent-encodes raw braces; the limiter relies on this.
 */
#ifndef SLOPROBE_ROUTE_H
#define SLOPROBE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

/* Size of the route buffer the table uses, NUL included. */
#define ROUTE_MAX_LEN 128

/* Flags returned by route__normalize(); any combination. */
#define ROUTE_TRUNCATED	   (1 << 0) /* cut to fit outsz */
#define ROUTE_HAD_QUERY	   (1 << 1) /* a query string (even an empty "?") was dropped */
#define ROUTE_HAD_FRAGMENT (1 << 2) /* a fragment was dropped */
#define ROUTE_ESCAPED	   (1 << 3) /* bytes of the output were percent-encoded */

/*
 * Turn the request target of a request line into a route in out (always NUL-terminated when
 * outsz > 0). target need not be NUL-terminated and may be truncated or garbage; out must not
 * overlap it.
 *
 *   origin form    /a/b?q#f              -> /a/b
 *   absolute form  http://h:1/a/b?q      -> /a/b   (no path: /)
 *   asterisk form  *                     -> *
 *   authority form host:443 (CONNECT)    -> {authority}
 *
 * Path segments are kept byte for byte (no percent-decoding, no case folding, empty segments,
 * a trailing '/' and dot segments kept) except:
 *   - a segment that is an id becomes {id}: all digits; a UUID (8-4-4-4-12 hex, any case); hex
 *     of 16 or more characters; a token of 20 or more [A-Za-z0-9_-] with at least one digit and
 *     one letter (base62, base64url);
 *   - bytes below 0x21, from 0x7f up, and " \ { } become %XX (upper case hex), so the route is
 *     printable, JSON-safe and its braces are always placeholders. '%' itself is kept, so a raw
 *     space and "%20" give the same route (a server treats them alike).
 * When the route does not fit in outsz - 1 bytes it is cut after the last whole segment that
 * fits; only a first segment too long on its own is cut inside (never inside a %XX).
 *
 * Returns 0 or a set of ROUTE_* flags (> 0); -EINVAL (and out = "") when the input is empty,
 * is nothing but a query or fragment, or is none of the four forms, or when outsz is 0.
 */
int route__normalize(const char *target, size_t len, char *out, size_t outsz);

/*
 * User route patterns (--route), FastAPI/OpenAPI style:
 *   - a pattern starts with '/' and is split into segments at '/';
 *   - a literal segment matches itself exactly (bytes, case-sensitive, no percent-decoding);
 *     '*' in a literal matches any run of bytes, none included, within that segment
 *     ("*.js" matches "app.js" and ".js");
 *   - {name} matches one non-empty segment; {name:str} is the same; {name:int} one segment of
 *     digits; {name:float} digits[.digits]; {name:uuid} a UUID of any case;
 *   - {name:path}, only as the last segment, matches the non-empty rest of the path, slashes
 *     included.
 * Limits: ROUTE_PATTERN_MAX bytes, ROUTE_PATTERN_MAX_SEGS segments.
 *
 * Precedence when several patterns match a path:
 *   1. more literal segments (globs count as literal segments);
 *   2. then fewer {x:path} captures;
 *   3. then fewer glob segments, so a literal "app.js" beats the glob "*.js";
 *   4. then declaration order (first added wins).
 *
 * route_set__match() never allocates or writes; concurrent matches on a set that is no longer
 * being added to are safe.
 */
#define ROUTE_PATTERN_MAX      256
#define ROUTE_PATTERN_MAX_SEGS 64

struct route_set;

struct route_set *route_set__new(void);
void route_set__free(struct route_set *s);
/*
 * Returns 0, -EINVAL with a one-line reason in err (it does not repeat the pattern and has no
 * newline), or -ENOMEM. err may be NULL.
 */
int route_set__add(struct route_set *s, const char *pattern, char *err, size_t errsz);
/*
 * path: the raw request target (pointer + length), query and fragment are stripped and the
 * absolute form reduced to its path exactly as route__normalize() does. Returns the matching
 * pattern as the user wrote it (valid until route_set__free()), or NULL.
 */
const char *route_set__match(const struct route_set *s, const char *path, size_t len);

/*
 * Cardinality limiter for normalized routes.
 *
 * For each (scope, parent prefix) it remembers the distinct literal values seen at the next
 * segment; placeholders ({id}, {*}, any segment "{...}") are not counted. When a new value would
 * make the count exceed max_distinct, the position is collapsed for the rest of the run: every
 * value there, old ones included, becomes {*}. Segments are processed from the left and each
 * parent prefix is the already rewritten one, so /files/<name>/x collapses to /files/{*}/x and
 * keeps tracking x under /files/{*}.
 *
 * Memory is one table allocated by route_limiter__new() for max_tracked entries (a scope, or a
 * value at a position, one entry each; 24 to 48 bytes per entry, 4 MiB for the default);
 * nothing is allocated afterwards. Once it is full, a new literal value at a tracked position,
 * and every literal below a position that could not be tracked, becomes {*}: wrong on the safe
 * side. Keys are 64-bit hashes (SipHash-2-4 with a random key), not strings: with 100000 values
 * the chance that two of them count as one is about 3e-10. Not thread-safe.
 */
#define ROUTE_LIMIT_DISTINCT 100
#define ROUTE_LIMIT_TRACKED  100000

struct route_limiter;

/* 0 for either argument means the default above. NULL when out of memory. */
struct route_limiter *route_limiter__new(unsigned max_distinct, unsigned max_tracked);
void route_limiter__free(struct route_limiter *l);
/*
 * scope: NUL-terminated, e.g. "service\tMETHOD" (NULL is ""). route: NUL-terminated within sz;
 * rewritten in place. Routes not starting with '/' (*, {authority}) are left alone.
 * When a collapse makes the route longer than sz - 1, whole segments are dropped from its end
 * (if even the {*} does not fit, the route ends just before it).
 * Returns 1 if the route was changed, 0 if not, -EINVAL for a NULL route or no NUL within sz.
 */
int route_limiter__apply(struct route_limiter *l, const char *scope, char *route, size_t sz);
/* Positions that collapsed: for the report. */
uint64_t route_limiter__collapsed(const struct route_limiter *l);
/* Values turned into {*} only because the table was full: for the report. */
uint64_t route_limiter__untracked(const struct route_limiter *l);

/*
 * The limiter's key function, exposed so that tests can hold it to the published SipHash-2-4
 * vectors (a weakened hash would only show as rare collisions): SipHash-2-4 under the key
 * k[0], k[1] (the key's bytes 0-7 and 8-15, little-endian) of the message le64(first) ||
 * p[0..n). A hash of 0, the table's empty slot, is returned as 1.
 */
uint64_t route__siphash(const uint64_t k[2], uint64_t first, const char *p, size_t n);

#endif
