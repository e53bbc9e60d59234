/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Part of bpf/sockio.bpf.c: the server side of a connection. The client's first bytes decide
 * the protocol (HTTP/1, HTTP/2, TLS or other); on HTTP/1 the boundary machine forwards request
 * starts, response starts and the length and tail of bodies for the parser in userspace
 * (src/proto/http.c). One file per protocol, as in userspace, so that another protocol is a
 * file beside this one.
 */
#ifndef SLOPROBE_SOCKIO_HTTP_BPF_H
#define SLOPROBE_SOCKIO_HTTP_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "abi/sockio.h"
#include "sockio/capture.bpf.h"

#define WORD4(a, b, c, d) ((__u32)(a) | (__u32)(b) << 8 | (__u32)(c) << 16 | (__u32)(d) << 24)

static __always_inline __u32 peek_word(const __u8 *p)
{
	__u32 w;

	__builtin_memcpy(&w, p, sizeof(w));
	return w;
}

/*
 * Does a read start an HTTP/1 request? The first four bytes of every method name decide it.
 * Fewer than four bytes (a client that writes byte by byte) count if they are capitals: the
 * userspace parser checks the method once the rest arrives.
 */
static __always_inline bool sniff_http_request(const __u8 *p, __u32 n)
{
	if (n < 4) {
		for (int i = 0; i < 3; i++) {
			if (i >= n)
				break;
			if (p[i] < 'A' || p[i] > 'Z')
				return false;
		}
		return n > 0;
	}
	switch (peek_word(p)) {
	case WORD4('G', 'E', 'T', ' '):
	case WORD4('P', 'O', 'S', 'T'):
	case WORD4('P', 'U', 'T', ' '):
	case WORD4('H', 'E', 'A', 'D'):
	case WORD4('D', 'E', 'L', 'E'):
	case WORD4('P', 'A', 'T', 'C'):
	case WORD4('O', 'P', 'T', 'I'):
	case WORD4('C', 'O', 'N', 'N'):
	case WORD4('T', 'R', 'A', 'C'):
		return true;
	}
	return false;
}

static __always_inline bool sniff_http_response(const __u8 *p, __u32 n)
{
	return n >= 5 && peek_word(p) == WORD4('H', 'T', 'T', 'P') && p[4] == '/';
}

static __always_inline bool sniff_tls(const __u8 *p, __u32 n)
{
	/* Handshake record, TLS major version 3. */
	if (n >= 2 && p[0] == 0x16 && p[1] == 0x03)
		return true;
	/*
	 * With TLS tracing, any record (change cipher spec, alert, application data): the first
	 * bytes seen of a connection older than the trace are in the middle of its stream.
	 */
	return targ_tls && n >= 3 && p[0] >= 0x14 && p[0] <= 0x17 && p[1] == 0x03 && p[2] <= 0x04;
}

static __always_inline bool sniff_h2_preface(const __u8 *p, __u32 n)
{
	return n >= 4 && peek_word(p) == WORD4('P', 'R', 'I', ' ');
}

/*
 * A server read: the start of a request, or the rest of one (a head split over reads, a
 * body: userspace follows its length, so every read is forwarded). Also decides the protocol
 * of a connection on its first read (the client speaks first in every protocol we decode on
 * the server side).
 */
static __always_inline int http__server_read(struct sockio_conn *c, struct scratch *s)
{
	if (c->state != SOCKIO_ST_REQ) {
		if (c->proto == SOCKIO_PROTO_UNKNOWN) {
			if (sniff_h2_preface(s->ev.head, s->ev.head_len))
				c->proto = SOCKIO_PROTO_HTTP2;
			else if (sniff_http_request(s->ev.head, s->ev.head_len))
				c->proto = SOCKIO_PROTO_HTTP;
			else if (sniff_tls(s->ev.head, s->ev.head_len))
				c->proto = SOCKIO_PROTO_TLS;
			else
				c->proto = SOCKIO_PROTO_OTHER;
			s->ev.proto = c->proto;
			if (c->proto != SOCKIO_PROTO_HTTP) {
				/* Userspace learns the protocol from this event, without payload.
				 */
				s->ev.head_len = 0;
				data__send(s);
				return 0;
			}
		} else if (!sniff_http_request(s->ev.head, s->ev.head_len)) {
			return 0; /* e.g. the body of a request answered early */
		}
		c->state = SOCKIO_ST_REQ;
		c->cont = 0;
		s->ev.flags |= SOCKIO_F_REQ_START;
	}
	data__send(s);
	return 0;
}

/*
 * A server write: the start of a response (status line), the rest of one (time, length and
 * tail only), or a status line split over writes while the request is still current. On a
 * connection whose protocol is not known yet (no read seen), a response is that of a request
 * read before tracing started (userspace counts it without a request); anything else the
 * server says first is ignored, and the client's first words decide the protocol.
 */
static __always_inline int http__server_write(struct sockio_conn *c, struct scratch *s, __u8 sys)
{
	if (sys == SOCKIO_SYS_SENDFILE) {
		if (c->state == SOCKIO_ST_RESP) {
			s->ev.flags |= SOCKIO_F_NOPAYLOAD;
			data__send(s);
		}
		return 0;
	}
	if (sniff_http_response(s->ev.head, s->ev.head_len)) {
		c->state = SOCKIO_ST_RESP;
		s->ev.flags |= SOCKIO_F_RESP_START;
	} else if (c->state == SOCKIO_ST_RESP) {
		/* Body: its length and tail tell userspace where the response ends. */
		if (s->ev.head_len > 8) {
			if (!s->ev.tail_len) {
				/* The head held the whole write: its tail is the head's end. */
				__u64 n =
					s->ev.head_len < SOCKIO_TAIL ? s->ev.head_len : SOCKIO_TAIL;
				__u64 off = s->ev.head_len - n;

				bound(off, SOCKIO_CAP_MAX - 1);
				bound(n, 2 * SOCKIO_TAIL - 1);
				if (!bpf_probe_read_kernel(s->ev.tail, n, s->ev.head + off))
					s->ev.tail_len = n;
			}
			s->ev.head_len = 8;
		}
	} else if (c->state == SOCKIO_ST_REQ && s->ev.head_len && c->cont < SOCKIO_SPLIT_MAX) {
		/* A status line split over writes: userspace joins the pieces. */
		c->cont++;
	} else {
		return 0;
	}
	data__send(s);
	return 0;
}

#endif
