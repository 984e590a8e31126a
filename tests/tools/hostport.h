/* SPDX-License-Identifier: GPL-2.0 */
/* "[HOST]:PORT" or "HOST:PORT" (an empty HOST: any address) to a socket
 * address, for the sockfwd test tools.  PASSIVE: an address to listen on.
 */
#ifndef HOSTPORT_H
#define HOSTPORT_H

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static inline int parse_hostport(const char *text, int passive, struct sockaddr_storage *ss,
				 socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = passive ? AI_PASSIVE : 0 };
	struct addrinfo *res;
	char host[256];
	const char *port, *colon;
	int rc;

	if (text[0] == '[') {
		colon = strchr(text, ']');
		if (!colon || colon[1] != ':')
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text - 1), text + 1);
		port = colon + 2;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(colon - text), text);
		port = colon + 1;
	}
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc) {
		fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, text,
			gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

#endif
