// SPDX-License-Identifier: GPL-2.0
/* Transparent listeners (--transparent): the target of each connection is
 * where its client meant to go.  After nft/iptables REDIRECT or DNAT the
 * kernel rewrote the destination and conntrack keeps the original:
 * SO_ORIGINAL_DST (IPv4, also on a dual-stack socket's IPv4-mapped client)
 * or IP6T_SO_ORIGINAL_DST (IPv6).  Under TPROXY nothing was rewritten: the
 * listener has IP_TRANSPARENT and the accepted socket's own address is the
 * original destination, as it is when conntrack has no NAT entry at all.
 *
 * The attacker here is a client that points a flow back at sockfwd (its
 * listener's address and port, directly or through DNAT): each such flow
 * would open another, until descriptors run out.  flow.c refuses them with
 * listeners_own() (listen.c).  sockfwd's own upstream connections carry
 * --mark so that the firewall rules never send them back (the example
 * rules in scripts/sockfwd-transparent.nft skip the mark).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fwd.h"

/* <linux/netfilter_ipv4.h> and <linux/netfilter_ipv6/ip6_tables.h> clash
 * with <netinet/in.h>; the values are ABI.
 */
#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80
#endif
#define IP6T_SO_ORIGINAL_DST 80

/* IPv4-mapped IPv6 (a dual-stack socket's IPv4 side) as plain IPv4, so the
 * upstream socket, the log and the SOCKS5 request see an IPv4 address.
 */
static void unmap(struct fwd_addr *a)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a->ss;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	if (a->ss.ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
		return;
	sin.sin_port = sin6->sin6_port;
	memcpy(&sin.sin_addr, &sin6->sin6_addr.s6_addr[12], 4);
	memset(&a->ss, 0, sizeof(a->ss));
	memcpy(&a->ss, &sin, sizeof(sin));
	a->len = sizeof(sin);
}

/* Where the client of cfd meant to go.  0, or -errno. */
int transparent_target(int cfd, struct fwd_hostport *target)
{
	struct fwd_addr *a = &target->addr;
	const void *ip;

	memset(target, 0, sizeof(*target));
	a->len = sizeof(struct sockaddr_in);
	if (getsockopt(cfd, SOL_IP, SO_ORIGINAL_DST, &a->ss, &a->len) < 0) {
		a->len = sizeof(struct sockaddr_in6);
		if (getsockopt(cfd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &a->ss, &a->len) < 0) {
			/* No NAT entry: TPROXY, or no redirect at all. */
			a->len = sizeof(a->ss);
			if (getsockname(cfd, (struct sockaddr *)&a->ss, &a->len) < 0)
				return -errno;
		}
	}
	unmap(a);
	if (a->ss.ss_family == AF_INET) {
		ip = &((struct sockaddr_in *)&a->ss)->sin_addr;
		target->port = ntohs(((struct sockaddr_in *)&a->ss)->sin_port);
	} else if (a->ss.ss_family == AF_INET6) {
		ip = &((struct sockaddr_in6 *)&a->ss)->sin6_addr;
		target->port = ntohs(((struct sockaddr_in6 *)&a->ss)->sin6_port);
	} else {
		return -EAFNOSUPPORT;
	}
	/* A numeric host: socks5_connect_request() sends it as ATYP 1 or 4. */
	inet_ntop(a->ss.ss_family, ip, target->host, sizeof(target->host));
	return 0;
}

/* Whether addr (port ignored) is one of this namespace's own addresses:
 * only those can be bound.  Asked only when the port is a listener's.
 */
bool transparent_is_local(const struct fwd_addr *addr)
{
	struct fwd_addr probe = *addr;
	int fd, err;

	if (probe.ss.ss_family == AF_INET)
		((struct sockaddr_in *)&probe.ss)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&probe.ss)->sin6_port = 0;
	fd = socket(probe.ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return true; /* cannot tell: refuse rather than loop */
	err = bind(fd, (struct sockaddr *)&probe.ss, probe.len);
	close(fd);
	return err == 0;
}

/* IP_TRANSPARENT on a transparent listener, so that TPROXY may hand it
 * connections to any address.  Needs CAP_NET_ADMIN; REDIRECT and DNAT work
 * without it, so a refusal is only said, once per listener.
 */
void transparent_listener(int fd, int family, const char *text)
{
	int one = 1, err;

	if (family == AF_INET6)
		err = setsockopt(fd, SOL_IPV6, IPV6_TRANSPARENT, &one, sizeof(one));
	else
		err = setsockopt(fd, SOL_IP, IP_TRANSPARENT, &one, sizeof(one));
	if (err < 0)
		logmsg("transparent listener %s: no IP_TRANSPARENT (%s): REDIRECT and DNAT "
		       "work, TPROXY does not",
		       text, strerror(errno));
}

/* --mark: sockfwd's upstream sockets carry it so that the firewall's
 * rules skip them.  0, or -errno (SO_MARK needs CAP_NET_ADMIN).
 */
int transparent_mark(int fd, uint32_t mark)
{
	return setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) < 0 ? -errno : 0;
}
