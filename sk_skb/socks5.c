// SPDX-License-Identifier: GPL-2.0
/* SOCKS5 client messages: RFC 1928 CONNECT and RFC 1929 username/password.
 * Only builds and measures byte strings; flow.c moves them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "fwd.h"

size_t socks5_greeting(const struct fwd_proxy *proxy, uint8_t *out)
{
	out[0] = 5;
	if (!proxy->has_auth) {
		out[1] = 1;
		out[2] = 0; /* no authentication */
		return 3;
	}
	/* Offer both: a server that needs no password may pick "none". */
	out[1] = 2;
	out[2] = 0;
	out[3] = 2; /* username/password */
	return 4;
}

size_t socks5_auth_request(const struct fwd_proxy *proxy, uint8_t *out)
{
	size_t user_len = strlen(proxy->user), pass_len = strlen(proxy->pass), n = 0;

	out[n++] = 1; /* sub-negotiation version */
	out[n++] = (uint8_t)user_len;
	memcpy(out + n, proxy->user, user_len);
	n += user_len;
	out[n++] = (uint8_t)pass_len;
	memcpy(out + n, proxy->pass, pass_len);
	return n + pass_len;
}

/* A literal address goes as such; a name goes as a name, so the proxy
 * resolves it (the point of using the proxy's view of DNS).
 */
size_t socks5_connect_request(const struct fwd_hostport *target, uint8_t *out)
{
	struct in6_addr a6;
	struct in_addr a4;
	size_t n = 0, host_len;
	uint16_t port = htons(target->port);

	out[n++] = 5;
	out[n++] = 1; /* CONNECT */
	out[n++] = 0;
	if (inet_pton(AF_INET, target->host, &a4) == 1) {
		out[n++] = 1;
		memcpy(out + n, &a4, 4);
		n += 4;
	} else if (inet_pton(AF_INET6, target->host, &a6) == 1) {
		out[n++] = 4;
		memcpy(out + n, &a6, 16);
		n += 16;
	} else {
		host_len = strlen(target->host);
		if (host_len > 255)
			host_len = 255;
		out[n++] = 3;
		out[n++] = (uint8_t)host_len;
		memcpy(out + n, target->host, host_len);
		n += host_len;
	}
	memcpy(out + n, &port, 2);
	return n + 2;
}

int socks5_reply_length(const uint8_t *head)
{
	switch (head[3]) {
	case 1:
		return 4 + 4 + 2;
	case 4:
		return 4 + 16 + 2;
	case 3:
		return 4 + 1 + head[4] + 2;
	default:
		return -1;
	}
}

const char *socks5_reply_text(int code)
{
	static const char *const text[] = {
		"succeeded",
		"general SOCKS server failure",
		"connection not allowed by ruleset",
		"network unreachable",
		"host unreachable",
		"connection refused",
		"TTL expired",
		"command not supported",
		"address type not supported",
	};

	if (code >= 0 && code < (int)(sizeof(text) / sizeof(text[0])))
		return text[code];
	return "unknown reply";
}

enum socks5_next socks5_parse_reply(enum socks5_stage stage, bool has_auth, const uint8_t *reply,
				    size_t len, size_t *want, char *reason, size_t size)
{
	int total;

	switch (stage) {
	case SOCKS5_STAGE_GREETING:
		if (reply[0] != 5) {
			snprintf(reason, size, "socks5: not a SOCKS5 server (version %u)",
				 reply[0]);
			return SOCKS5_FAIL;
		}
		if (reply[1] == 2 && has_auth)
			return SOCKS5_SEND_AUTH;
		if (reply[1] == 0)
			return SOCKS5_SEND_CONNECT;
		snprintf(reason, size, "socks5: no acceptable authentication method (0x%02x)",
			 reply[1]);
		return SOCKS5_FAIL;
	case SOCKS5_STAGE_AUTH:
		/* RFC 1929 says version 1; some servers answer 5. */
		if (reply[0] != 1 && reply[0] != 5) {
			snprintf(reason, size,
				 "socks5: not an authentication reply (version %u, status %u)",
				 reply[0], reply[1]);
			return SOCKS5_FAIL;
		}
		if (reply[1] != 0) {
			snprintf(reason, size, "socks5: authentication failed (status %u)",
				 reply[1]);
			return SOCKS5_FAIL;
		}
		return SOCKS5_SEND_CONNECT;
	case SOCKS5_STAGE_REQUEST:
		/* Else a wrong version with code 0 read "reply 0 (succeeded)". */
		if (reply[0] != 5) {
			snprintf(reason, size, "socks5: not a SOCKS5 reply (version %u, reply %u)",
				 reply[0], reply[1]);
			return SOCKS5_FAIL;
		}
		if (reply[1] != 0) {
			snprintf(reason, size, "socks5: reply %u (%s)", reply[1],
				 socks5_reply_text(reply[1]));
			return SOCKS5_FAIL;
		}
		total = socks5_reply_length(reply);
		if (total < 0) {
			snprintf(reason, size, "socks5: bad address type %u in reply", reply[3]);
			return SOCKS5_FAIL;
		}
		if ((size_t)total > len) {
			/* Read exactly the reply: what follows is the target's. */
			*want = (size_t)total;
			return SOCKS5_READ_MORE;
		}
		return SOCKS5_CONNECTED;
	}
	snprintf(reason, size, "socks5: internal error (stage %d)", (int)stage);
	return SOCKS5_FAIL;
}
