/* SPDX-License-Identifier: GPL-2.0 */
/* The client side of a SOCKS5 server listener (--socks5-server): RFC 1928
 * CONNECT, RFC 1929 username/password (socks5_server.c).
 */
#ifndef SOCKS5_SERVER_H
#define SOCKS5_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct flow;
struct resolve_request;
struct resolve_answer;

/* RFC 1929's request is the longest client message: 1 + 1 + 255 + 1 + 255. */
#define SOCKS5_SERVER_MSG_MAX 513

enum socks5_server_stage {
	SRV_GREETING, /* reading the method list */
	SRV_AUTH, /* reading the username/password request */
	SRV_REQUEST, /* reading the CONNECT request */
	SRV_OWED, /* request read: a reply is owed, success or failure */
	SRV_REPLIED,
};

struct socks5_server_hs {
	enum socks5_server_stage stage;
	uint8_t msg[SOCKS5_SERVER_MSG_MAX];
	size_t have; /* bytes of the current message read so far */
	uint8_t fail_code; /* the reply sent if the flow fails while SRV_OWED */
	struct resolve_request *lookup; /* while the name is resolved */
	struct resolve_answer *addrs; /* its answer, the addresses left to try */
	int next_addr;
};

/* --socks5-users FILE: user:password lines.  0, or -errno after a message. */
int socks5_server_users_load(const char *path);

/* A client of a --socks5-server listener was accepted: read its greeting. */
void socks5_server_begin(struct flow *f);
/* The client socket is readable during the handshake. */
void socks5_server_event(struct flow *f);
/* The upstream is ready: send the success reply.  0, or -errno. */
int socks5_server_succeeded(struct flow *f);
/* The flow fails: send the owed failure reply, if one is owed. */
void socks5_server_failed(struct flow *f);
/* The upstream connect timed out (ETIMEDOUT), or failed with err: the
 * reply it owes.
 */
void socks5_server_error(struct flow *f, int err);
/* The connect to a resolved name's address failed with err: true if the
 * flow goes on with its next address, else the reply is set as by
 * socks5_server_error.
 */
bool socks5_server_connect_failed(struct flow *f, int err);
/* The proxy (-x) refused the request with this RFC 1928 reply code. */
void socks5_server_proxy_refused(struct flow *f, uint8_t code);
/* The flow ends: a lookup still running is cancelled. */
void socks5_server_release(struct flow *f);

#endif
