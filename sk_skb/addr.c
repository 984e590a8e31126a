// SPDX-License-Identifier: GPL-2.0
/* Parsing and printing of addresses: [ADDR]:PORT, HOST:PORT and
 * socks5://[USER[:PASS]@]HOST:PORT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

static int parse_port(const char *text, uint16_t *port)
{
	char *end;
	unsigned long value;

	errno = 0;
	value = strtoul(text, &end, 10);
	if (errno || *text == '\0' || *end != '\0' || value == 0 || value > 65535)
		return -EINVAL;
	*port = (uint16_t)value;
	return 0;
}

/* "[2001:db8::1]:80", "192.0.2.1:80", "name:80", ":80" (any address). */
int parse_hostport(const char *text, struct fwd_hostport *hp, bool allow_empty_host)
{
	const char *colon, *host = text;
	size_t host_len;

	memset(hp, 0, sizeof(*hp));
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host = text + 1;
		host_len = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return -EINVAL;
		host_len = (size_t)(colon - text);
		/* A bare IPv6 address needs brackets: its colons are ambiguous. */
		if (memchr(text, ':', host_len))
			return -EINVAL;
	}
	if (host_len >= sizeof(hp->host) || (host_len == 0 && !allow_empty_host))
		return -EINVAL;
	memcpy(hp->host, host, host_len);
	hp->host[host_len] = '\0';
	return parse_port(colon + 1, &hp->port);
}

int parse_proxy_url(const char *text, struct fwd_proxy *proxy)
{
	static const char scheme[] = "socks5://";
	const char *rest, *at, *colon;
	size_t user_len, pass_len;

	memset(proxy, 0, sizeof(*proxy));
	if (strncmp(text, scheme, strlen(scheme)) != 0)
		return -EINVAL;
	rest = text + strlen(scheme);
	at = strrchr(rest, '@');
	if (at) {
		/* "USER@": the password comes from elsewhere (config.c). */
		colon = memchr(rest, ':', (size_t)(at - rest));
		user_len = (size_t)((colon ? colon : at) - rest);
		pass_len = colon ? (size_t)(at - colon - 1) : 0;
		/* RFC 1929 carries each in a one-byte length. */
		if (user_len == 0 || user_len > 255 || (colon && pass_len == 0) || pass_len > 255)
			return -EINVAL;
		memcpy(proxy->user, rest, user_len);
		if (colon)
			memcpy(proxy->pass, colon + 1, pass_len);
		proxy->has_auth = true;
		proxy->pass_in_url = colon != NULL;
		rest = at + 1;
	}
	proxy->present = true;
	return parse_hostport(rest, &proxy->server, false);
}

int resolve_hostport(struct fwd_hostport *hp, bool passive)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
	char port[8];
	int rc;

	if (passive && hp->host[0] == '\0') {
		/* Any address, both families on one socket. */
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&hp->addr.ss;

		memset(&hp->addr, 0, sizeof(hp->addr));
		sin6->sin6_family = AF_INET6;
		sin6->sin6_addr = in6addr_any;
		sin6->sin6_port = htons(hp->port);
		hp->addr.len = sizeof(*sin6);
		return 0;
	}
	snprintf(port, sizeof(port), "%u", hp->port);
	hints.ai_flags = passive ? AI_PASSIVE : AI_ADDRCONFIG;
	rc = getaddrinfo(hp->host, port, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_NODATA || rc == EAI_ADDRFAMILY) {
		/* AI_ADDRCONFIG hides IPv6 in a namespace with only loopback v6. */
		hints.ai_flags = passive ? AI_PASSIVE : 0;
		rc = getaddrinfo(hp->host, port, &hints, &res);
	}
	if (rc) {
		fprintf(stderr, "sockfwd: cannot resolve %s: %s\n", hp->host, gai_strerror(rc));
		return -ENOENT;
	}
	memcpy(&hp->addr.ss, res->ai_addr, res->ai_addrlen);
	hp->addr.len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void format_sockaddr(const struct sockaddr *sa, char *out, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(out, size, "?");
	}
}

void format_fd_peer(int fd, char *out, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(out, size, "?");
		return;
	}
	format_sockaddr((struct sockaddr *)&ss, out, size);
}

/* URL as it may be shown: "socks5://alice:***@host:1080".  Every message
 * that quotes a proxy goes through this; the password never does.
 */
void redact_url(const char *url, char *out, size_t size)
{
	const char *rest = strstr(url, "://"), *at, *colon;

	rest = rest ? rest + 3 : url;
	at = strrchr(rest, '@');
	colon = at ? memchr(rest, ':', (size_t)(at - rest)) : NULL;
	if (!colon) {
		snprintf(out, size, "%s", url);
		return;
	}
	snprintf(out, size, "%.*s:***%s", (int)(colon - url), url, at);
}
