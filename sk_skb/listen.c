// SPDX-License-Identifier: GPL-2.0
/* The listening sockets: opened at start, paused while descriptors run
 * out, closed on SIGTERM, and replaced on SIGHUP by those of the
 * configuration file read again.  A reload keeps the socket of every
 * address still listed (nothing queued on it is lost), opens the new ones
 * and closes the ones no longer listed; running flows keep the listener
 * they came from, which is freed once the last of them has ended.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fwd.h"

#define MAX_LISTENERS 256

static struct fwd_listener *retired; /* removed by a reload, flows still running */
static bool paused;

static int resolve_listener(struct fwd_listener *l)
{
	int err = resolve_hostport(&l->listen, true);

	/* Through a proxy, the proxy resolves the target name. */
	if (!err && !l->proxy.present && !l->transparent && !l->socks5_server)
		err = resolve_hostport(&l->target, false);
	if (!err && l->proxy.present)
		err = resolve_hostport(&l->proxy.server, false);
	return err;
}

static int open_listener(struct fwd_listener *l)
{
	struct fwd_hostport *addr = &l->listen;
	const char *hint = "";
	int fd, err, one = 1, zero = 0;

	fd = socket(addr->addr.ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Every process with --reuseport on ADDR:PORT gets its own accept queue;
	 * the kernel picks one per SYN by a hash of the 4-tuple.
	 */
	if (cfg.reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) {
		err = -errno;
		close(fd);
		goto out;
	}
	/* "[::]:P" and ":P" take both families; "0.0.0.0:P" can sit beside. */
	if (addr->addr.ss.ss_family == AF_INET6 && addr->host[0] == '\0')
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (l->transparent)
		transparent_listener(fd, addr->addr.ss.ss_family, l->listen_text);
	if (bind(fd, (struct sockaddr *)&addr->addr.ss, addr->addr.len) < 0 ||
	    listen(fd, 4096) < 0) {
		err = -errno;
		close(fd);
		goto out;
	}
	l->fd = fd;
	return 0;
out:
	if (err == -EADDRINUSE)
		hint = cfg.reuseport ?
			       " (held by a socket without SO_REUSEPORT, or another user's)" :
			       " (processes sharing an address all need --reuseport)";
	fprintf(stderr, "sockfwd: cannot listen on %s: %s%s\n", l->listen_text, strerror(-err),
		hint);
	return err;
}

void listeners_pause(bool pause)
{
	struct fwd_listener *l;

	paused = pause;
	for (l = cfg.listeners; l; l = l->next) {
		struct epoll_event ev = { .events = paused ? 0 : EPOLLIN, .data.ptr = l };

		if (l->fd >= 0)
			epoll_ctl(epfd, EPOLL_CTL_MOD, l->fd, &ev);
	}
}

void listeners_close(void)
{
	struct fwd_listener *l;

	for (l = cfg.listeners; l; l = l->next) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}

static void watch(struct fwd_listener *l, int op)
{
	struct epoll_event ev = { .events = paused ? 0 : EPOLLIN, .data.ptr = l };

	epoll_ctl(epfd, op, l->fd, &ev);
}

static bool loopback(const struct sockaddr_storage *ss)
{
	const struct in6_addr *a6 = &((const struct sockaddr_in6 *)ss)->sin6_addr;

	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return ss->ss_family == AF_INET6 &&
	       (IN6_IS_ADDR_LOOPBACK(a6) || (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127));
}

/* Whoever reaches such a listener uses the proxy's account, or (a SOCKS5
 * server without logins) sockfwd as an open proxy.
 */
static void warn_open_proxies(const struct fwd_listener *l)
{
	for (; l && !cfg.allow; l = l->next) {
		if (l->socks5_server && !cfg.socks5_users && !loopback(&l->listen.addr.ss))
			logmsg("warning: %s is a SOCKS5 server on a non-loopback address "
			       "without --socks5-users: every client that reaches it may "
			       "connect anywhere (--allow CIDR limits who may connect)",
			       l->listen_text);
		if (l->proxy.has_auth && !loopback(&l->listen.addr.ss))
			logmsg("warning: %s is not a loopback address and its proxy has "
			       "credentials: every client that reaches it uses them "
			       "(--allow CIDR limits who may connect)",
			       l->listen_text);
	}
}

/* Resolves and opens every listener of cfg.listeners, or none. */
int listeners_open(void)
{
	struct fwd_listener *l;
	int err = 0;

	for (l = cfg.listeners; l && !err; l = l->next)
		err = resolve_listener(l);
	for (l = cfg.listeners; l && !err; l = l->next) {
		err = open_listener(l);
		if (!err)
			watch(l, EPOLL_CTL_ADD);
	}
	if (err)
		listeners_close();
	else
		warn_open_proxies(cfg.listeners);
	return err;
}

static bool same_address(const struct fwd_listener *a, const struct fwd_listener *b)
{
	return a->listen.addr.len == b->listen.addr.len &&
	       memcmp(&a->listen.addr.ss, &b->listen.addr.ss, a->listen.addr.len) == 0;
}

/* The running listener fresh takes over, or NULL: one on its address, not
 * from the command line (those stay as they are), not taken already.
 */
static struct fwd_listener *running_on(const struct fwd_listener *fresh,
				       struct fwd_listener **taken, int ntaken)
{
	struct fwd_listener *l;
	int i;

	for (l = cfg.listeners; l; l = l->next) {
		if (l->from_cmdline || l->fd < 0 || !same_address(l, fresh))
			continue;
		for (i = 0; i < ntaken && taken[i] != l; i++)
			;
		if (i == ntaken)
			return l;
	}
	return NULL;
}

/* Every listener of fresh gets a socket: a running one's (in from[]) or a
 * new one.  On a failure the new sockets are closed and nothing else has
 * changed.
 */
static int prepare(struct fwd_listener *fresh, struct fwd_listener **from)
{
	struct fwd_listener *l;
	int i = 0, err = 0;

	for (l = fresh; l && !err; l = l->next, i++) {
		err = resolve_listener(l);
		from[i] = err ? NULL : running_on(l, from, i);
		if (!err && !from[i])
			err = open_listener(l);
	}
	if (!err)
		return 0;
	for (l = fresh; l; l = l->next)
		if (l->fd >= 0)
			close(l->fd);
	return err;
}

/* Moves the old list's listeners: those of the command line back into the
 * list, the others to retired (their socket closed unless taken over).
 */
static void retire_old(struct fwd_listener *old, struct fwd_listener **list, int *removed)
{
	struct fwd_listener *next;

	for (; old; old = next) {
		next = old->next;
		if (old->from_cmdline) {
			old->next = *list;
			*list = old;
			continue;
		}
		if (old->fd >= 0) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, old->fd, NULL);
			close(old->fd);
			old->fd = -1;
			logmsg("reload: no longer listening on %s", old->listen_text);
			(*removed)++;
		}
		old->next = retired;
		retired = old;
	}
}

/* SIGHUP: the configuration file again.  A bad one is refused whole, with
 * the message of config_read (naming the line), and nothing changes.
 */
void listeners_reload(void)
{
	struct fwd_listener *fresh = NULL, *from[MAX_LISTENERS], *l;
	int i, err, kept = 0, added = 0, removed = 0;

	if (!cfg.config_path) {
		logmsg("SIGHUP: no configuration file (-c) to read again");
		return;
	}
	err = config_read(cfg.config_path, &fresh);
	if (!err)
		err = config_passwords(fresh);
	if (!err)
		err = prepare(fresh, from);
	if (err) {
		config_free(fresh);
		logmsg("reload of %s refused: %s; the running configuration stays", cfg.config_path,
		       strerror(-err));
		return;
	}
	for (l = fresh, i = 0; l; l = l->next, i++) {
		if (from[i]) {
			l->fd = from[i]->fd;
			from[i]->fd = -1;
			watch(l, EPOLL_CTL_MOD);
			kept++;
		} else {
			watch(l, EPOLL_CTL_ADD);
			logmsg("reload: listening on %s", l->listen_text);
			added++;
		}
	}
	l = cfg.listeners;
	cfg.listeners = fresh;
	retire_old(l, &cfg.listeners, &removed);
	listeners_reap();
	warn_open_proxies(cfg.listeners);
	logmsg("reloaded %s: %d listeners kept, %d added, %d removed", cfg.config_path, kept, added,
	       removed);
}

static bool any_address(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr == htonl(INADDR_ANY);
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port :
						((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* An IPv4 address as the IPv4-mapped IPv6 a dual-stack listener sees. */
static void as_v6(const struct sockaddr_storage *ss, struct in6_addr *out)
{
	if (ss->ss_family == AF_INET6) {
		*out = ((const struct sockaddr_in6 *)ss)->sin6_addr;
		return;
	}
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &((const struct sockaddr_in *)ss)->sin_addr, 4);
}

/* A connection to addr would reach one of our listeners again: same port,
 * and the listener's address, or any local one for a wildcard listener.
 * The attacker is a client (or a DNAT rule) that points a transparent
 * flow at sockfwd itself: each such flow would open another.
 */
bool listeners_own(const struct fwd_addr *addr)
{
	const struct fwd_listener *l;
	struct in6_addr want, have;

	as_v6(&addr->ss, &want);
	for (l = cfg.listeners; l; l = l->next) {
		if (l->fd < 0 || port_of(&l->listen.addr.ss) != port_of(&addr->ss))
			continue;
		if (any_address(&l->listen.addr.ss)) {
			if (transparent_is_local(addr))
				return true;
			continue;
		}
		as_v6(&l->listen.addr.ss, &have);
		if (memcmp(&want, &have, sizeof(want)) == 0)
			return true;
	}
	return false;
}

/* Frees the retired listeners no flow points to any more. */
void listeners_reap(void)
{
	struct fwd_listener **p = &retired, *l;

	while ((l = *p)) {
		if (l->flows > 0) {
			p = &l->next;
			continue;
		}
		*p = l->next;
		l->next = NULL;
		config_free(l);
	}
}
