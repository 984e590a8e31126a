// SPDX-License-Identifier: GPL-2.0
/* sockfwd: forward TCP connections to a fixed target, directly or through
 * a SOCKS5 proxy, letting the kernel move the bytes (sk_skb + SOCKHASH)
 * when sockfwd-load has pinned the maps, else splice() or copy.
 * Command line, configuration file, listeners, signals and the event loop.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "fwd.h"

#define DEFAULT_MAPS_DIR "/sys/fs/bpf/sockfwd"

struct fwd_config cfg = {
	.mode = MODE_AUTO,
	.max_conns = 16384,
	.connect_timeout_ms = 10000,
	.drain_timeout_ms = 10000,
	.queue_limit = UINT64_MAX, /* unset: scale_buffers() */
	.sndbuf = -1, /* unset: scale_buffers() */
	.rcvbuf = 2 << 20,
};
struct fwd_counters counters;
int epfd = -1;

static struct {
	enum fwd_kind kind;
	int fd;
} signal_source = { .kind = KIND_SIGNAL, .fd = -1 };

static bool stopping;
static uint64_t stop_deadline;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void logmsg(const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sockfwd: %s\n", line);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sockfwd -l [ADDR]:PORT -t HOST:PORT [-x socks5://[USER:PASS@]HOST:PORT]\n"
		"               [-l ... -t ... [-x ...]]... | -c FILE\n"
		"               [--mode auto|sockmap|splice|copy] [--maps DIR] [--user USER]\n"
		"               [--max-conns N] [--timeout MS] [--drain-timeout MS]\n"
		"               [--queue-limit BYTES] [--sndbuf BYTES] [--rcvbuf BYTES]\n"
		"               [--reuseport] [-v]\n"
		"  -c FILE   one \"listen target [proxy]\" per line, # starts a comment\n"
		"  --maps    pinned maps of sockfwd-load (default $SOCKFWD_PIN_DIR or %s)\n"
		"  --reuseport  SO_REUSEPORT on the listeners: sockfwd processes started\n"
		"            with it share a listen address; the kernel hands each new\n"
		"            connection to one of them by a hash of its addresses and ports\n"
		"SIGUSR1 logs counters, SIGTERM stops accepting and finishes flows.\n",
		DEFAULT_MAPS_DIR);
}

static struct fwd_listener *add_listener(const char *listen)
{
	struct fwd_listener *l = calloc(1, sizeof(*l)), **tail = &cfg.listeners;

	if (!l)
		return NULL;
	l->kind = KIND_LISTENER;
	l->fd = -1;
	snprintf(l->listen_text, sizeof(l->listen_text), "%s", listen);
	if (parse_hostport(listen, &l->target, true) < 0) {
		fprintf(stderr, "sockfwd: bad listen address '%s': want [ADDR]:PORT\n", listen);
		free(l);
		return NULL;
	}
	/* target holds the listen address until -t replaces it */
	while (*tail)
		tail = &(*tail)->next;
	*tail = l;
	return l;
}

static int parse_target(struct fwd_listener *l, const char *target, const char *proxy,
			struct fwd_hostport *listen_out)
{
	*listen_out = l->target;
	if (parse_hostport(target, &l->target, false) < 0) {
		fprintf(stderr, "sockfwd: bad target '%s': want HOST:PORT\n", target);
		return -EINVAL;
	}
	if (proxy && parse_proxy_url(proxy, &l->proxy) < 0) {
		fprintf(stderr, "sockfwd: bad proxy '%s': want socks5://[USER:PASS@]HOST:PORT\n",
			proxy);
		return -EINVAL;
	}
	return 0;
}

/* Listen addresses are kept aside until every listener is parsed. */
static struct fwd_hostport listen_addrs[256];
static int nlisten;

static int add_pair(const char *listen, const char *target, const char *proxy)
{
	struct fwd_listener *l;

	if (nlisten == (int)(sizeof(listen_addrs) / sizeof(listen_addrs[0]))) {
		fprintf(stderr, "sockfwd: too many listeners\n");
		return -E2BIG;
	}
	l = add_listener(listen);
	if (!l)
		return -EINVAL;
	return parse_target(l, target, proxy, &listen_addrs[nlisten++]);
}

static int read_config(const char *path)
{
	char line[1024], *word[4], *save, *p;
	int lineno = 0, n, err = 0;
	FILE *file = fopen(path, "r");

	if (!file) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	while (fgets(line, sizeof(line), file)) {
		lineno++;
		/* Else the rest of the line would be read as the next one. */
		if (!strchr(line, '\n') && !feof(file)) {
			fprintf(stderr, "sockfwd: %s:%d: line longer than %zu characters\n", path,
				lineno, sizeof(line) - 2);
			err = -EINVAL;
			goto out;
		}
		p = strchr(line, '#');
		if (p)
			*p = '\0';
		n = 0;
		for (p = strtok_r(line, " \t\r\n", &save); p && n < 4;
		     p = strtok_r(NULL, " \t\r\n", &save))
			word[n++] = p;
		if (n == 0)
			continue;
		if (n < 2 || n > 3) {
			fprintf(stderr, "sockfwd: %s:%d: want \"listen target [proxy]\"\n", path,
				lineno);
			err = -EINVAL;
			goto out;
		}
		err = add_pair(word[0], word[1], n == 3 ? word[2] : NULL);
		if (err) {
			fprintf(stderr, "sockfwd: %s:%d: %s\n", path, lineno, strerror(-err));
			goto out;
		}
	}
	if (ferror(file)) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot read %s: %s\n", path, strerror(-err));
	}
out:
	fclose(file);
	return err;
}

static int open_listener(struct fwd_listener *l, struct fwd_hostport *addr)
{
	const char *hint = "";
	int fd, err, one = 1, zero = 0;

	err = resolve_hostport(addr, true);
	/* Through a proxy, the proxy resolves the target name. */
	if (!err && !l->proxy.present)
		err = resolve_hostport(&l->target, false);
	if (!err && l->proxy.present)
		err = resolve_hostport(&l->proxy.server, false);
	if (err)
		return err;
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

void listeners_pause(bool paused)
{
	struct fwd_listener *l;

	for (l = cfg.listeners; l; l = l->next) {
		struct epoll_event ev = { .events = paused ? 0 : EPOLLIN, .data.ptr = l };

		if (l->fd >= 0)
			epoll_ctl(epfd, EPOLL_CTL_MOD, l->fd, &ev);
	}
}

static void close_listeners(void)
{
	struct fwd_listener *l;

	for (l = cfg.listeners; l; l = l->next) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = -1;
	}
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	int err;

	if (!pw) {
		fprintf(stderr, "sockfwd: no user '%s'\n", user);
		return -ENOENT;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot become %s: %s\n", user, strerror(-err));
		return err;
	}
	return 0;
}

static void log_counters(void)
{
	logmsg("counters accepted=%llu active=%llu closed=%llu failed=%llu resets=%llu "
	       "bytes_up=%llu bytes_down=%llu sockmap=%llu splice=%llu copy=%llu "
	       "fallbacks=%llu pauses=%llu resumes=%llu overlap_cut=%llu map_entries=%d",
	       (unsigned long long)counters.accepted, (unsigned long long)counters.active,
	       (unsigned long long)counters.closed, (unsigned long long)counters.failed,
	       (unsigned long long)counters.resets, (unsigned long long)counters.bytes_up,
	       (unsigned long long)counters.bytes_down,
	       (unsigned long long)counters.by_mode[MODE_SOCKMAP],
	       (unsigned long long)counters.by_mode[MODE_SPLICE],
	       (unsigned long long)counters.by_mode[MODE_COPY],
	       (unsigned long long)counters.fallbacks, (unsigned long long)counters.pauses,
	       (unsigned long long)counters.resumes, (unsigned long long)counters.overlap_cut,
	       kmaps_available() ? kmaps_peers_count() : -1);
}

static void handle_signals(void)
{
	struct signalfd_siginfo si;

	while (read(signal_source.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			log_counters();
		} else if (!stopping) {
			stopping = true;
			stop_deadline = now_ms() + (uint64_t)cfg.drain_timeout_ms;
			close_listeners();
			logmsg("stopping: %d flows to finish within %d ms", flow_count(),
			       cfg.drain_timeout_ms);
		}
	}
}

static int parse_mode(const char *text)
{
	static const char *const names[] = { "auto", "sockmap", "splice", "copy" };
	int i;

	for (i = 0; i < 4; i++)
		if (strcmp(text, names[i]) == 0)
			return i;
	return -1;
}

/* A whole decimal (or 0x) number from min to max, or a message and -EINVAL. */
static int parse_number(const char *option, const char *text, long long min, long long max,
			long long *value)
{
	char *end;

	errno = 0;
	*value = strtoll(text, &end, 0);
	if (errno || end == text || *end != '\0' || *value < min || *value > max) {
		fprintf(stderr, "sockfwd: bad %s '%s': want a number from %lld to %lld\n", option,
			text, min, max);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv)
{
	enum {
		OPT_MODE = 256,
		OPT_MAPS,
		OPT_USER,
		OPT_MAX,
		OPT_TIMEOUT,
		OPT_DRAIN,
		OPT_QLIMIT,
		OPT_SNDBUF,
		OPT_RCVBUF,
		OPT_REUSEPORT
	};
	static const struct option options[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "target", required_argument, NULL, 't' },
		{ "proxy", required_argument, NULL, 'x' },
		{ "config", required_argument, NULL, 'c' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "maps", required_argument, NULL, OPT_MAPS },
		{ "user", required_argument, NULL, OPT_USER },
		{ "max-conns", required_argument, NULL, OPT_MAX },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
		{ "queue-limit", required_argument, NULL, OPT_QLIMIT },
		{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
		{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
		{ "reuseport", no_argument, NULL, OPT_REUSEPORT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *listen = NULL, *target = NULL, *proxy = NULL;
	long long number;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "l:t:x:c:vh", options, NULL)) != -1) {
		switch (opt) {
		case 'l':
			if (listen) {
				if (!target)
					goto pair_incomplete;
				err = add_pair(listen, target, proxy);
				if (err)
					return err;
			}
			listen = optarg;
			target = proxy = NULL;
			break;
		case 't':
			target = optarg;
			break;
		case 'x':
			proxy = optarg;
			break;
		case 'c':
			err = read_config(optarg);
			if (err)
				return err;
			break;
		case OPT_MODE:
			cfg.mode = parse_mode(optarg);
			if ((int)cfg.mode < 0) {
				fprintf(stderr, "sockfwd: bad mode '%s'\n", optarg);
				return -EINVAL;
			}
			break;
		case OPT_MAPS:
			cfg.maps_dir = optarg;
			break;
		case OPT_USER:
			cfg.user = optarg;
			break;
		case OPT_MAX:
			if (parse_number("--max-conns", optarg, 1, INT_MAX, &number))
				return -EINVAL;
			cfg.max_conns = (int)number;
			break;
		case OPT_TIMEOUT:
			if (parse_number("--timeout", optarg, 1, INT_MAX, &number))
				return -EINVAL;
			cfg.connect_timeout_ms = (int)number;
			break;
		case OPT_DRAIN:
			if (parse_number("--drain-timeout", optarg, 0, INT_MAX, &number))
				return -EINVAL;
			cfg.drain_timeout_ms = (int)number;
			break;
		case OPT_QLIMIT:
			if (parse_number("--queue-limit", optarg, 0, LLONG_MAX, &number))
				return -EINVAL;
			cfg.queue_limit = (uint64_t)number;
			break;
		case OPT_SNDBUF:
			if (parse_number("--sndbuf", optarg, 0, INT_MAX, &number))
				return -EINVAL;
			cfg.sndbuf = (int)number;
			break;
		case OPT_RCVBUF:
			/* the kernel doubles it: keep the double an int */
			if (parse_number("--rcvbuf", optarg, 0, INT_MAX / 2, &number))
				return -EINVAL;
			cfg.rcvbuf = (int)number;
			break;
		case OPT_REUSEPORT:
			cfg.reuseport = true;
			break;
		case 'v':
			cfg.verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (listen) {
		if (!target)
			goto pair_incomplete;
		err = add_pair(listen, target, proxy);
		if (err)
			return err;
	} else if (target || proxy) {
		fprintf(stderr, "sockfwd: -t and -x follow the -l they belong to\n");
		return -EINVAL;
	}
	if (!cfg.listeners || optind != argc || cfg.max_conns <= 0 || cfg.connect_timeout_ms <= 0) {
		usage(stderr);
		return -EINVAL;
	}
	if (!cfg.maps_dir)
		cfg.maps_dir = getenv("SOCKFWD_PIN_DIR") ? getenv("SOCKFWD_PIN_DIR") :
							   DEFAULT_MAPS_DIR;
	return 0;
pair_incomplete:
	fprintf(stderr, "sockfwd: -l %s has no -t\n", listen);
	return -EINVAL;
}

/* Defaults of --sndbuf and --queue-limit: 1/256 of RAM each, from 4 to 64
 * MiB.  One stream through a veth here ran at 10-11 Gbit/s with 16 MiB of
 * each and 16 with 64 MiB; a stalled receiver holds about twice the send
 * buffer plus the queue limit per direction, which a small router must not
 * pay for every flow.
 */
static void scale_buffers(void)
{
	uint64_t size = 4 << 20;
	struct sysinfo si;

	if (sysinfo(&si) == 0)
		size = (uint64_t)si.totalram * si.mem_unit / 256;
	if (size < (4 << 20))
		size = 4 << 20;
	if (size > (64 << 20))
		size = 64 << 20;
	if (cfg.queue_limit == UINT64_MAX)
		cfg.queue_limit = size;
	if (cfg.sndbuf < 0)
		cfg.sndbuf = (int)size;
}

/* The program's word that it paused a socket at its redirect limit. */
static int watch_pauses(void)
{
	static enum fwd_kind events_source = KIND_EVENTS;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &events_source };
	int fd = kmaps_events_fd(flow_kick);

	if (fd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = fd < 0 ? fd : -errno;

		kmaps_close();
		return err;
	}
	return 0;
}

static struct kfacts kfacts;

/* sockmap, in auto mode, only where the maps open and the probe (kcheck.c)
 * finds the kernel doing what relay.c relies on; --mode sockmap warns and
 * tries anyway.  Otherwise flows use splice.
 */
static void choose_sockmap(void)
{
	const char *unsafe;
	char why[200];
	int err;

	if (cfg.mode != MODE_AUTO && cfg.mode != MODE_SOCKMAP) {
		kcheck_run(&kfacts); /* maps not open: says so */
		return;
	}
	err = kmaps_open(cfg.maps_dir);
	if (!err)
		err = watch_pauses();
	kcheck_run(&kfacts);
	if (err) {
		logmsg("sockmap unavailable (%s): flows use %s", strerror(-err),
		       cfg.mode == MODE_AUTO ? "splice" : "splice (fallback)");
		return;
	}
	unsafe = kcheck_sockmap_unsafe(&kfacts, why, sizeof(why));
	if (!unsafe)
		return;
	if (cfg.mode == MODE_SOCKMAP) {
		logmsg("warning: %s; --mode sockmap tries it anyway", unsafe);
		return;
	}
	logmsg("sockmap unavailable (%s): flows use splice", unsafe);
	kmaps_close();
}

static int setup(void)
{
	struct epoll_event ev;
	struct fwd_listener *l;
	struct rlimit nofile;
	sigset_t mask;
	int err, i = 0;

	/* Two sockets and two pipes per flow. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0) {
		err = -errno;
		fprintf(stderr, "sockfwd: epoll_create1: %s\n", strerror(-err));
		return err;
	}
	for (l = cfg.listeners; l; l = l->next, i++) {
		err = open_listener(l, &listen_addrs[i]);
		if (err)
			return err;
		ev.events = EPOLLIN;
		ev.data.ptr = l;
		epoll_ctl(epfd, EPOLL_CTL_ADD, l->fd, &ev);
	}
	choose_sockmap();
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal_source.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (signal_source.fd < 0) {
		err = -errno;
		fprintf(stderr, "sockfwd: signalfd: %s\n", strerror(-err));
		return err;
	}
	ev.events = EPOLLIN;
	ev.data.ptr = &signal_source;
	epoll_ctl(epfd, EPOLL_CTL_ADD, signal_source.fd, &ev);
	/* Listeners are bound and maps open: nothing below needs privileges. */
	if (cfg.user)
		return drop_privileges(cfg.user);
	return 0;
}

int main(int argc, char **argv)
{
	struct epoll_event events[256];
	uint64_t now, next;
	int n, i, timeout;

	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse_args(argc, argv))
		return 1;
	scale_buffers();
	if (setup())
		return 1;
	logmsg("ready: %s mode, maps %s, queue limit %llu, send buffers %d, kernel %s: "
	       "early_bytes=%s backlog_retry=%s fin=%s (%s)",
	       (const char *[]){ "auto", "sockmap", "splice", "copy" }[cfg.mode],
	       kmaps_available() ? cfg.maps_dir : "not used", (unsigned long long)cfg.queue_limit,
	       cfg.sndbuf, kfacts.release, kfacts.early_bytes, kfacts.backlog_retry, kfacts.fin,
	       kfacts.why);
	for (;;) {
		now = now_ms();
		if (now >= flow_next_tick())
			flow_tick(now);
		if (stopping) {
			if (flow_count() == 0)
				break;
			if (now >= stop_deadline) {
				flow_abort_all("shutdown deadline");
				flow_reap();
				break;
			}
		}
		next = flow_next_tick();
		if (stopping && stop_deadline < next)
			next = stop_deadline;
		timeout = next <= now ? 0 : next - now > 1000 ? 1000 : (int)(next - now);
		n = epoll_wait(epfd, events, 256, timeout);
		if (n < 0 && errno != EINTR) {
			fprintf(stderr, "sockfwd: epoll_wait: %s\n", strerror(errno));
			return 1;
		}
		for (i = 0; i < n; i++) {
			enum fwd_kind *kind = events[i].data.ptr;

			if (*kind == KIND_LISTENER)
				flow_accept(events[i].data.ptr);
			else if (*kind == KIND_SIGNAL)
				handle_signals();
			else if (*kind == KIND_EVENTS)
				kmaps_events_read();
			else
				flow_event(events[i].data.ptr, events[i].events);
		}
		flow_reap();
	}
	log_counters();
	return 0;
}
