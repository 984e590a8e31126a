// SPDX-License-Identifier: GPL-2.0
/* sockfwd: forward TCP connections to a fixed target, directly or through
 * a SOCKS5 proxy, letting the kernel move the bytes (sk_skb + SOCKHASH)
 * when sockfwd-load has pinned the maps, else splice() or copy.
 * The command line, then the start (listeners, maps, the kernel's probe,
 * privileges), then the event loop (loop.c) until it stops.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "fwd.h"
#include "socks5_server.h"

#define DEFAULT_MAPS_DIR "/sys/fs/bpf/sockfwd"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sockfwd -l [ADDR]:PORT -t HOST:PORT [-x socks5://[USER@]HOST:PORT]\n"
		"               [-l [ADDR]:PORT --transparent [-x ...]]\n"
		"               [-l [ADDR]:PORT --socks5-server [-x ...]] [--socks5-users FILE]\n"
		"               [-l ... -t ... [-x ...]]... | -c FILE\n"
		"               [--proxy-password-file FILE] [--allow CIDR]...\n"
		"               [--max-conns N] [--max-conns-per-ip N] [--idle-timeout SECONDS]\n"
		"               [--mode auto|sockmap|splice|copy] [--maps DIR] [--user USER]\n"
		"               [--timeout MS] [--drain-timeout MS] [--status-socket PATH]\n"
		"               [--queue-limit BYTES] [--sndbuf BYTES] [--rcvbuf BYTES]\n"
		"               [--reuseport] [--mark N] [-v]\n"
		"       sockfwd --status[=PATH]\n"
		"  -c FILE   one \"listen target [proxy]\" per line, # starts a comment;\n"
		"            read again on SIGHUP.  A proxy may be written\n"
		"            socks5://USER:PASS@HOST:PORT there, if the file is mode 0600\n"
		"  -x        no password on the command line (every user can read it):\n"
		"            USER@ and the password from --proxy-password-file FILE (mode\n"
		"            0600, one line) or $SOCKFWD_PROXY_PASSWORD\n"
		"  --transparent  instead of -t: the target is each connection's original\n"
		"            destination (nft/iptables REDIRECT, DNAT, TPROXY); one that is\n"
		"            sockfwd's own listener is reset (a loop).  In -c: \"transparent\"\n"
		"  --socks5-server  instead of -t: a SOCKS5 server (CONNECT); the target\n"
		"            is what each client asks for (IPv4, IPv6, a name resolved\n"
		"            here, or by the -x proxy).  In -c: \"socks5-server\"\n"
		"  --socks5-users FILE  SOCKS5 clients must log in (RFC 1929) as one of\n"
		"            FILE's user:password lines (mode 0600); default no login\n"
		"  --mark N  SO_MARK of every upstream connection, for firewall rules to\n"
		"            skip (needs CAP_NET_ADMIN); see scripts/sockfwd-transparent.nft\n"
		"  --allow CIDR  only clients in CIDR (repeatable; default everyone)\n"
		"  --max-conns N (16384), --max-conns-per-ip N (0: no limit): past them a\n"
		"            client is accepted and reset at once\n"
		"  --idle-timeout SECONDS  reset both sides of a flow after so long\n"
		"            without a byte either way (%d; 0: never)\n"
		"  --status-socket PATH  answer --status on this unix socket (0600)\n"
		"  --status  one line per flow: addresses, mode, bytes, age, idle time\n"
		"  --maps    pinned maps of sockfwd-load (default $SOCKFWD_PIN_DIR or %s)\n"
		"  --reuseport  SO_REUSEPORT on the listeners: sockfwd processes started\n"
		"            with it share a listen address; the kernel hands each new\n"
		"            connection to one of them by a hash of its addresses and ports\n"
		"SIGUSR1 logs counters, SIGHUP reads -c FILE again (running flows go on),\n"
		"SIGTERM stops accepting and finishes flows.\n",
		DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAPS_DIR);
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

enum {
	OPT_MODE = 256,
	OPT_MAPS,
	OPT_USER,
	OPT_MAX,
	OPT_MAX_PER_IP,
	OPT_IDLE,
	OPT_ALLOW,
	OPT_PASSWORD_FILE,
	OPT_STATUS_SOCKET,
	OPT_STATUS,
	OPT_TIMEOUT,
	OPT_DRAIN,
	OPT_QLIMIT,
	OPT_SNDBUF,
	OPT_RCVBUF,
	OPT_REUSEPORT,
	OPT_TRANSPARENT,
	OPT_MARK,
	OPT_SOCKS5_SERVER,
	OPT_SOCKS5_USERS
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
	{ "max-conns-per-ip", required_argument, NULL, OPT_MAX_PER_IP },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "proxy-password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "status-socket", required_argument, NULL, OPT_STATUS_SOCKET },
	{ "status", optional_argument, NULL, OPT_STATUS },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
	{ "queue-limit", required_argument, NULL, OPT_QLIMIT },
	{ "sndbuf", required_argument, NULL, OPT_SNDBUF },
	{ "rcvbuf", required_argument, NULL, OPT_RCVBUF },
	{ "reuseport", no_argument, NULL, OPT_REUSEPORT },
	{ "transparent", no_argument, NULL, OPT_TRANSPARENT },
	{ "mark", required_argument, NULL, OPT_MARK },
	{ "socks5-server", no_argument, NULL, OPT_SOCKS5_SERVER },
	{ "socks5-users", required_argument, NULL, OPT_SOCKS5_USERS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* The options that take a number: where it goes and its bounds. */
static int parse_numeric(int opt, const char *text)
{
	static const struct {
		int opt;
		const char *name;
		long long min, max;
		int *int_value;
		uint64_t *u64_value;
	} numeric[] = {
		{ OPT_MAX, "--max-conns", 1, INT_MAX, &cfg.max_conns, NULL },
		{ OPT_MAX_PER_IP, "--max-conns-per-ip", 0, INT_MAX, &cfg.max_per_ip, NULL },
		{ OPT_IDLE, "--idle-timeout", 0, INT_MAX / 1000, &cfg.idle_timeout_s, NULL },
		{ OPT_TIMEOUT, "--timeout", 1, INT_MAX, &cfg.connect_timeout_ms, NULL },
		{ OPT_DRAIN, "--drain-timeout", 0, INT_MAX, &cfg.drain_timeout_ms, NULL },
		{ OPT_QLIMIT, "--queue-limit", 0, LLONG_MAX, NULL, &cfg.queue_limit },
		{ OPT_SNDBUF, "--sndbuf", 0, INT_MAX, &cfg.sndbuf, NULL },
		/* the kernel doubles it: keep the double an int */
		{ OPT_RCVBUF, "--rcvbuf", 0, INT_MAX / 2, &cfg.rcvbuf, NULL },
	};
	long long value;
	size_t i;

	for (i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		if (numeric[i].opt != opt)
			continue;
		if (parse_number(numeric[i].name, text, numeric[i].min, numeric[i].max, &value))
			return -EINVAL;
		if (numeric[i].int_value)
			*numeric[i].int_value = (int)value;
		else
			*numeric[i].u64_value = (uint64_t)value;
		return 0;
	}
	return -EINVAL;
}

static int add_allow(const char *text)
{
	struct fwd_cidr *more = realloc(cfg.allow, (size_t)(cfg.nallow + 1) * sizeof(*more));

	if (!more)
		return -ENOMEM;
	cfg.allow = more;
	if (cidr_parse(text, &cfg.allow[cfg.nallow]) < 0) {
		fprintf(stderr, "sockfwd: bad --allow '%s': want ADDR[/BITS]\n", text);
		return -EINVAL;
	}
	cfg.nallow++;
	return 0;
}

static int parse_mark(const char *text)
{
	long long mark;

	if (parse_number("--mark", text, 1, UINT32_MAX, &mark))
		return -EINVAL;
	cfg.mark = (uint32_t)mark;
	cfg.has_mark = true;
	return 0;
}

/* Options other than -l -t -x: 0, or -EINVAL after a message. */
static int parse_option(int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		cfg.config_path = arg;
		return 0;
	case OPT_MODE:
		cfg.mode = config_mode(arg);
		if ((int)cfg.mode >= 0)
			return 0;
		fprintf(stderr, "sockfwd: bad mode '%s'\n", arg);
		return -EINVAL;
	case OPT_MAPS:
		cfg.maps_dir = arg;
		return 0;
	case OPT_USER:
		cfg.user = arg;
		return 0;
	case OPT_ALLOW:
		return add_allow(arg);
	case OPT_PASSWORD_FILE:
		cfg.password_file = arg;
		return 0;
	case OPT_STATUS_SOCKET:
		cfg.status_path = arg;
		return 0;
	case OPT_SOCKS5_USERS:
		cfg.socks5_users = arg;
		return 0;
	case OPT_REUSEPORT:
		cfg.reuseport = true;
		return 0;
	case OPT_MARK:
		return parse_mark(arg);
	case 'v':
		cfg.verbose = true;
		return 0;
	case 'h':
		usage(stdout);
		exit(0);
	case OPT_STATUS:
		exit(status_client(arg ? arg : cfg.status_path));
	default:
		if (opt >= OPT_MODE && parse_numeric(opt, arg) == 0)
			return 0;
		if (opt < OPT_MODE)
			usage(stderr);
		return -EINVAL;
	}
}

/* The listener of -l listen, with one of -t target, --transparent and
 * --socks5-server.
 */
static int add_pair(const char *listen, const char *target, bool transparent, bool socks5_server,
		    const char *proxy)
{
	int kinds = (target != NULL) + transparent + socks5_server;

	if (kinds == 0) {
		fprintf(stderr, "sockfwd: -l %s has no -t (or --transparent, --socks5-server)\n",
			listen);
		return -EINVAL;
	}
	if (kinds > 1) {
		fprintf(stderr, "sockfwd: -l %s has %s\n", listen,
			target && transparent && !socks5_server ?
				"both -t and --transparent" :
				"more than one of -t, --transparent and --socks5-server");
		return -EINVAL;
	}
	return config_add(&cfg.listeners, listen, socks5_server ? CONFIG_SOCKS5_SERVER : target,
			  proxy, true);
}

/* -l starts a listener; the -t (or --transparent) and -x after it belong
 * to it.
 */
static int parse_pairs(int argc, char **argv)
{
	const char *listen = NULL, *target = NULL, *proxy = NULL;
	bool transparent = false, socks5_server = false;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "l:t:x:c:vh", options, NULL)) != -1) {
		if (opt == 'l' && listen) {
			err = add_pair(listen, target, transparent, socks5_server, proxy);
			if (err)
				return err;
		}
		if (opt == 'l') {
			listen = optarg;
			target = proxy = NULL;
			transparent = socks5_server = false;
		} else if (opt == 't') {
			target = optarg;
		} else if (opt == OPT_TRANSPARENT) {
			transparent = true;
		} else if (opt == OPT_SOCKS5_SERVER) {
			socks5_server = true;
		} else if (opt == 'x') {
			proxy = optarg;
		} else if (parse_option(opt, optarg)) {
			return -EINVAL;
		}
	}
	if (listen)
		return add_pair(listen, target, transparent, socks5_server, proxy);
	if (target || proxy || transparent || socks5_server) {
		fprintf(stderr, "sockfwd: -t, --transparent, --socks5-server and -x follow the -l "
				"they belong to\n");
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv)
{
	int err = parse_pairs(argc, argv);

	if (err)
		return err;
	/* After every option: --proxy-password-file may follow -c. */
	if (cfg.config_path) {
		err = config_read(cfg.config_path, &cfg.listeners);
		if (err)
			return err;
	}
	err = config_passwords(cfg.listeners);
	if (!err)
		err = socks5_server_users_load(cfg.socks5_users);
	if (err)
		return err;
	if (!cfg.listeners || optind != argc || cfg.max_conns <= 0 || cfg.connect_timeout_ms <= 0) {
		usage(stderr);
		return -EINVAL;
	}
	if (!cfg.maps_dir)
		cfg.maps_dir = getenv("SOCKFWD_PIN_DIR") ? getenv("SOCKFWD_PIN_DIR") :
							   DEFAULT_MAPS_DIR;
	return 0;
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
 * finds the kernel doing what relay_sockmap.c relies on; --mode sockmap warns and
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
	if (!err) {
		int stale = kmaps_sweep();

		if (stale)
			logmsg("removed %d stale control and state entries (a helper died "
			       "without closing its flows)",
			       stale);
	}
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

/* --mark must hold on every upstream socket, or the firewall would send
 * them back to us: find out at start, as the user flows run as.
 */
static int check_mark(void)
{
	int fd, err;

	if (!cfg.has_mark)
		return 0;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	err = fd < 0 ? -errno : transparent_mark(fd, cfg.mark);
	if (fd >= 0)
		close(fd);
	if (err)
		fprintf(stderr, "sockfwd: --mark %u: %s (SO_MARK needs CAP_NET_ADMIN)\n", cfg.mark,
			strerror(-err));
	return err;
}

static int setup(void)
{
	struct rlimit nofile;
	int err;

	/* Two sockets and two pipes per flow. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	signal(SIGPIPE, SIG_IGN);
	err = loop_init();
	if (err)
		return err;
	flow_init();
	relay_init(&cfg);
	err = listeners_open();
	if (!err && cfg.status_path)
		err = status_open(cfg.status_path);
	if (err)
		return err;
	choose_sockmap();
	err = loop_watch_signals();
	if (err)
		return err;
	/* Listeners are bound and maps open: nothing below needs privileges. */
	if (cfg.user) {
		err = drop_privileges(cfg.user);
		if (err)
			return err;
	}
	return check_mark();
}

int main(int argc, char **argv)
{
	setvbuf(stderr, NULL, _IOLBF, 0);
	if (parse_args(argc, argv))
		return 1;
	scale_buffers();
	if (setup())
		return 1;
	logmsg("ready: %s mode, maps %s, queue limit %llu, send buffers %d, kernel %s: "
	       "early_bytes=%s backlog_retry=%s fin=%s (%s)",
	       mode_names[cfg.mode], kmaps_available() ? cfg.maps_dir : "not used",
	       (unsigned long long)cfg.queue_limit, cfg.sndbuf, kfacts.release, kfacts.early_bytes,
	       kfacts.backlog_retry, kfacts.fin, kfacts.why);
	if (loop_run(cfg.drain_timeout_ms))
		return 1;
	counters_log();
	if (cfg.status_path)
		unlink(cfg.status_path);
	return 0;
}
