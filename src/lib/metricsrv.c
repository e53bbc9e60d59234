// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/metricsrv.h"

struct metricsrv {
	int lfd;
	int cfd; /* the connection being served, or -1 */
	uint64_t since;
	char req[METRICSRV_REQ_MAX];
	size_t nreq;
	char *out; /* the answer, sent from off */
	size_t nout, off;
	metricsrv_render_fn fn;
	void *ctx;
	uint16_t port;
	struct metricsrv_stats st;
};

static bool loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
	}
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int metricsrv__parse_addr(const char *spec, bool any, struct sockaddr_storage *ss, socklen_t *len,
			  char *err, size_t errsz)
{
	const char *orig = spec, *port = spec, *colon = strrchr(spec, ':');
	char host[64] = "127.0.0.1";
	char *end;
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (colon) {
		size_t n = colon - spec;

		if (n && spec[0] == '[') {
			if (n < 3 || spec[n - 1] != ']')
				goto bad;
			spec++;
			n -= 2;
		}
		if (n >= sizeof(host))
			goto bad;
		if (n) {
			memcpy(host, spec, n);
			host[n] = '\0';
		}
		port = colon + 1;
	}
	errno = 0;
	p = strtoul(port, &end, 10);
	if (!*port || *end || errno || p > 65535 || port[0] == '-' || port[0] == '+')
		goto bad;
	if (strchr(host, ':')) {
		struct sockaddr_in6 *a = (void *)ss;

		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(p);
		*len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (void *)ss;

		if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
		a->sin_family = AF_INET;
		a->sin_port = htons(p);
		*len = sizeof(*a);
	}
	if (!any && !loopback(ss)) {
		snprintf(err, errsz,
			 "--listen %s: not a loopback address (add --listen-any to serve the "
			 "metrics beyond this host)",
			 orig);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errsz, "--listen %s: not ADDR:PORT (an IP address and a port 0-65535)", orig);
	return -EINVAL;
}

int metricsrv__open(struct metricsrv **out, const char *spec, bool any, metricsrv_render_fn fn,
		    void *ctx, char *err, size_t errsz)
{
	struct sockaddr_storage ss, got;
	socklen_t len, glen = sizeof(got);
	struct metricsrv *m;
	int one = 1, ret;

	*out = NULL;
	ret = metricsrv__parse_addr(spec, any, &ss, &len, err, errsz);
	if (ret)
		return ret;
	m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, errsz, "--listen %s: out of memory", spec);
		return -ENOMEM;
	}
	m->cfd = -1;
	m->fn = fn;
	m->ctx = ctx;
	m->lfd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (m->lfd < 0)
		goto fail;
	setsockopt(m->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(m->lfd, (struct sockaddr *)&ss, len) || listen(m->lfd, 8) ||
	    getsockname(m->lfd, (struct sockaddr *)&got, &glen))
		goto fail;
	m->port = ntohs(got.ss_family == AF_INET ? ((struct sockaddr_in *)&got)->sin_port
						 : ((struct sockaddr_in6 *)&got)->sin6_port);
	*out = m;
	return 0;
fail:
	ret = -errno;
	snprintf(err, errsz, "--listen %s: %s", spec, strerror(errno));
	if (m->lfd >= 0)
		close(m->lfd);
	free(m);
	return ret;
}

int metricsrv__route(const char *req, size_t len, bool *head)
{
	const char *sp, *path, *end = req + len;
	size_t mlen, plen;

	*head = false;
	sp = memchr(req, ' ', len);
	if (!sp || sp == req)
		return 400;
	mlen = sp - req;
	path = sp + 1;
	sp = memchr(path, ' ', end - path);
	if (!sp || end - sp < 9 || memcmp(sp + 1, "HTTP/1.", 7))
		return 400;
	plen = sp - path;
	for (size_t i = 0; i < plen; i++)
		if (path[i] == '?') {
			plen = i;
			break;
		}
	if (mlen == 4 && !memcmp(req, "HEAD", 4))
		*head = true;
	else if (mlen != 3 || memcmp(req, "GET", 3))
		return 405;
	if (plen != strlen(METRICSRV_PATH) || memcmp(path, METRICSRV_PATH, plen))
		return 404;
	return 200;
}

/*
 * Content negotiation. Each format keeps the most specific media range that covered it and that
 * range's weight: rank 1 for any type, 2 for any subtype of its type, 3 for its type without a
 * version, 4 with its version (RFC 9110 12.5.1: the most specific range decides). Weights are in
 * thousandths, as a q-value has at most three decimals.
 */
struct pref {
	int rank[2];
	int q[2];
};

static bool ieq(const char *a, size_t n, const char *lit)
{
	return n == strlen(lit) && !strncasecmp(a, lit, n);
}

static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

static size_t ows(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	return i;
}

static size_t token(const char *s, size_t i, size_t n)
{
	while (i < n && tchar(s[i]))
		i++;
	return i;
}

/* RFC 9110's qvalue, "0" to "1.000", in thousandths; -1 when it is not one. */
static int qvalue(const char *v, size_t n)
{
	int q, scale = 1000;

	if (!n || n > 5 || (v[0] != '0' && v[0] != '1') || (n > 1 && v[1] != '.'))
		return -1;
	q = (v[0] - '0') * 1000;
	for (size_t i = 2; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		scale /= 10;
		q += (v[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static void consider(struct pref *p, enum metricsrv_fmt f, int rank, int q)
{
	if (rank > p->rank[f] || (rank == p->rank[f] && q > p->q[f])) {
		p->rank[f] = rank;
		p->q[f] = q;
	}
}

/*
 * One media range, s[0..n): "type/subtype *( OWS ; OWS [name=value] )", the value a token or a
 * quoted string. Parameters after q are accept extensions, not looked at. Malformed: ignored.
 */
static void media_range(const char *s, size_t n, struct pref *p)
{
	const char *type, *sub, *ver = NULL;
	size_t i, tlen, slen, vlen = 0;
	enum metricsrv_fmt f;
	int q = 1000;

	i = ows(s, 0, n);
	type = s + i;
	i = token(s, i, n);
	tlen = s + i - type;
	if (!tlen || i >= n || s[i] != '/')
		return;
	sub = s + ++i;
	i = token(s, i, n);
	slen = s + i - sub;
	if (!slen)
		return;
	for (;;) {
		size_t name, nlen, v, vend;

		i = ows(s, i, n);
		if (i == n)
			break;
		if (s[i] != ';')
			return;
		i = ows(s, i + 1, n);
		if (i == n || s[i] == ';')
			continue; /* an empty parameter */
		name = i;
		i = token(s, i, n);
		nlen = i - name;
		if (!nlen || i == n || s[i] != '=')
			return;
		v = ++i;
		if (i < n && s[i] == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\')
					i++;
			if (i >= n)
				return;
			vend = i++;
			v++;
		} else {
			i = token(s, i, n);
			vend = i;
			if (vend == v)
				return;
		}
		if (ieq(s + name, nlen, "q")) {
			q = qvalue(s + v, vend - v);
			if (q < 0)
				return;
			break;
		}
		if (ieq(s + name, nlen, "version")) {
			ver = s + v;
			vlen = vend - v;
		}
	}
	if (ieq(type, tlen, "*")) {
		if (!ieq(sub, slen, "*"))
			return; /* "*" with a subtype is not a media range */
		consider(p, METRICSRV_OPENMETRICS, 1, q);
		consider(p, METRICSRV_TEXT, 1, q);
		return;
	}
	if (ieq(type, tlen, "application"))
		f = METRICSRV_OPENMETRICS;
	else if (ieq(type, tlen, "text"))
		f = METRICSRV_TEXT;
	else
		return;
	if (ieq(sub, slen, "*"))
		consider(p, f, 2, q);
	else if (!ieq(sub, slen, f == METRICSRV_TEXT ? "plain" : "openmetrics-text"))
		return;
	else if (!ver)
		consider(p, f, 3, q);
	else if (f == METRICSRV_TEXT ? ieq(ver, vlen, "0.0.4")
				     : ieq(ver, vlen, "1.0.0") || ieq(ver, vlen, "0.0.1"))
		consider(p, f, 4, q);
}

/* A header value: media ranges separated by commas (none inside a quoted string). */
static void accept_list(const char *s, size_t n, struct pref *p)
{
	size_t start = 0;
	bool quoted = false;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && quoted && s[i] == '\\') {
			i++;
			continue;
		}
		if (i < n && s[i] == '"')
			quoted = !quoted;
		if (i == n || (s[i] == ',' && !quoted)) {
			media_range(s + start, i - start, p);
			start = i + 1;
		}
	}
}

static enum metricsrv_fmt choose(const struct pref *p)
{
	return p->q[METRICSRV_OPENMETRICS] > p->q[METRICSRV_TEXT] ? METRICSRV_OPENMETRICS
								  : METRICSRV_TEXT;
}

enum metricsrv_fmt metricsrv__negotiate(const char *accept, size_t len)
{
	struct pref p = { 0 };

	accept_list(accept, len, &p);
	return choose(&p);
}

enum metricsrv_fmt metricsrv__format(const char *req, size_t len)
{
	const char *end = req + len, *line = memchr(req, '\n', len), *eol, *colon;
	struct pref p = { 0 };

	/* The header lines after the request line, up to the empty one. */
	while (line && ++line < end) {
		eol = memchr(line, '\n', end - line);
		if (!eol)
			eol = end;
		colon = memchr(line, ':', eol - line);
		if (colon && ieq(line, colon - line, "accept")) {
			const char *v = colon + 1, *ve = eol;

			if (ve > v && ve[-1] == '\r')
				ve--;
			accept_list(v, ve - v, &p);
		} else if (eol - line <= 1) {
			break;
		}
		line = eol < end ? eol : NULL;
	}
	return choose(&p);
}

const char *metricsrv__content_type(enum metricsrv_fmt fmt)
{
	return fmt == METRICSRV_OPENMETRICS
		       ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
		       : "text/plain; version=0.0.4; charset=utf-8";
}

static void drop_conn(struct metricsrv *m)
{
	if (m->cfd >= 0)
		close(m->cfd);
	m->cfd = -1;
	m->nreq = 0;
	free(m->out);
	m->out = NULL;
	m->nout = m->off = 0;
}

static const char *reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	default:
		return "Bad Request";
	}
}

/* The whole answer in m->out: head and body, so that one loop sends both. */
static void answer(struct metricsrv *m, int code, bool head, enum metricsrv_fmt fmt)
{
	char *body = NULL;
	size_t nbody = 0;
	FILE *f;

	if (code == 200) {
		f = open_memstream(&body, &nbody);
		if (!f || m->fn(m->ctx, fmt, f) || fflush(f))
			code = 500;
		if (f)
			fclose(f);
		if (code != 200) {
			free(body);
			body = NULL;
			nbody = 0;
		}
	}
	if (code != 200) {
		body = strdup(reason(code));
		nbody = body ? strlen(body) : 0;
		m->st.rejected++;
	} else {
		m->st.scrapes++;
	}
	f = open_memstream(&m->out, &m->nout);
	if (!f) {
		free(body);
		drop_conn(m);
		return;
	}
	/* Vary: a cache must not hand one client the format another asked for. */
	fprintf(f,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%sContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n",
		code, reason(code), code == 200 ? metricsrv__content_type(fmt) : "text/plain",
		code == 200 ? "Vary: Accept\r\n" : "", nbody);
	if (!head && nbody)
		fwrite(body, 1, nbody, f);
	fclose(f);
	free(body);
	m->off = 0;
}

static void serve(struct metricsrv *m, uint64_t now)
{
	ssize_t n;
	bool head;

	if (!m->out) {
		n = read(m->cfd, m->req + m->nreq, sizeof(m->req) - 1 - m->nreq);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			m->st.rejected++;
			drop_conn(m);
			return;
		}
		if (n > 0) {
			m->nreq += n;
			m->req[m->nreq] = '\0';
			m->since = now;
		}
		if (strstr(m->req, "\r\n\r\n")) {
			int code = metricsrv__route(m->req, m->nreq, &head);

			answer(m, code, head, metricsrv__format(m->req, m->nreq));
		} else if (m->nreq == sizeof(m->req) - 1)
			answer(m, 431, false, METRICSRV_TEXT);
		if (!m->out) {
			if (m->cfd >= 0 && now - m->since > METRICSRV_IDLE_NS) {
				m->st.rejected++;
				drop_conn(m);
			}
			return;
		}
	}
	while (m->off < m->nout) {
		n = send(m->cfd, m->out + m->off, m->nout - m->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (now - m->since > METRICSRV_IDLE_NS)
				drop_conn(m);
			return;
		}
		if (n <= 0) {
			drop_conn(m);
			return;
		}
		m->off += n;
		m->since = now;
	}
	drop_conn(m);
}

void metricsrv__poll(struct metricsrv *m, uint64_t now)
{
	if (!m)
		return;
	/* A scrape in flight is finished first: a second client waits in the backlog. */
	for (int i = 0; i < 4; i++) {
		if (m->cfd < 0) {
			m->cfd = accept4(m->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (m->cfd < 0)
				return;
			m->since = now;
		}
		serve(m, now);
		if (m->cfd >= 0)
			return; /* waits for more of the request, or for room to send */
	}
}

void metricsrv__stats(const struct metricsrv *m, struct metricsrv_stats *st)
{
	*st = m->st;
}

uint16_t metricsrv__port(const struct metricsrv *m)
{
	return m->port;
}

void metricsrv__close(struct metricsrv *m)
{
	if (!m)
		return;
	drop_conn(m);
	close(m->lfd);
	free(m);
}
