/* SPDX-License-Identifier: GPL-2.0 */
/* sockfwd helper: types shared by its source files. */
#ifndef FWD_H
#define FWD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "counters.h"
#include "log.h"
#include "loop.h"

#define FWD_MAX_HOST 256
#define FWD_MAX_CRED 256
/* As nginx's stream proxy_timeout: long enough for an interactive session
 * left alone for a while, short enough that idle clients give their slots
 * back within minutes.
 */
#define DEFAULT_IDLE_TIMEOUT_S 600

enum fwd_mode { MODE_AUTO, MODE_SOCKMAP, MODE_SPLICE, MODE_COPY, MODE_COUNT };
/* --mode's words, as the log and --status print them too (config.c). */
extern const char *const mode_names[MODE_COUNT];

/* A resolved socket address. */
struct fwd_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* HOST:PORT as the user wrote it, plus its resolution when we need one. */
struct fwd_hostport {
	char host[FWD_MAX_HOST];
	uint16_t port;
	struct fwd_addr addr; /* resolved once at start-up */
};

struct fwd_proxy {
	bool present;
	struct fwd_hostport server;
	bool has_auth;
	bool pass_in_url; /* USER:PASS@ written in the URL, not USER@ */
	char user[FWD_MAX_CRED];
	char pass[FWD_MAX_CRED];
};

/* What epoll's data pointer refers to, in its first member: a listener,
 * the signalfd, the program's event ring, the status socket, one side of
 * a flow (struct endpoint, flow.h) or the resolver's eventfd (resolve.c).
 */
enum fwd_kind { KIND_LISTENER, KIND_SIGNAL, KIND_EVENTS, KIND_STATUS, KIND_FLOW, KIND_RESOLVER };

struct fwd_listener {
	enum fwd_kind kind; /* first: epoll data points here */
	int fd;
	char listen_text[FWD_MAX_HOST + 8];
	struct fwd_hostport listen;
	struct fwd_hostport target;
	struct fwd_proxy proxy;
	bool from_cmdline; /* -l, not -c: a reload keeps it as it is */
	/* --transparent: each flow's target is its original destination
	 * (transparent.c); target above is unused.
	 */
	bool transparent;
	/* --socks5-server: each flow's target is what its client asks for
	 * (socks5_server.c); target above is unused.
	 */
	bool socks5_server;
	/* Flows that point here.  A listener a reload removed is freed only
	 * once the last of them has closed: their log lines name it.
	 */
	int flows;
	struct fwd_listener *next;
};

/* --allow: IPv4 as IPv4-mapped IPv6, bits counted in the 128. */
struct fwd_cidr {
	uint8_t addr[16];
	int bits;
};

struct fwd_config {
	struct fwd_listener *listeners;
	enum fwd_mode mode;
	const char *maps_dir;
	const char *user;
	const char *config_path; /* -c, read again on SIGHUP */
	const char *password_file; /* --proxy-password-file */
	const char *status_path; /* --status-socket */
	const char *socks5_users; /* --socks5-users: user:password lines */
	int max_conns;
	int max_per_ip; /* 0: no limit */
	int idle_timeout_s; /* 0: none */
	struct fwd_cidr *allow; /* NULL: everyone */
	int nallow;
	int connect_timeout_ms;
	int drain_timeout_ms;
	uint64_t queue_limit;
	int sndbuf;
	int rcvbuf;
	bool reuseport;
	bool verbose;
	bool has_mark; /* --mark: SO_MARK of every upstream socket */
	uint32_t mark;
};

/* The configuration, from the command line and -c (config.c). */
extern struct fwd_config cfg;

/* addr.c */
int parse_hostport(const char *text, struct fwd_hostport *hp, bool allow_empty_host);
int parse_proxy_url(const char *text, struct fwd_proxy *proxy);
void redact_url(const char *url, char *out, size_t size);
int resolve_hostport(struct fwd_hostport *hp, bool passive);
void format_sockaddr(const struct sockaddr *sa, char *out, size_t size);
void format_fd_peer(int fd, char *out, size_t size);

/* socks5.c: the CONNECT exchange of RFC 1928 / RFC 1929 as byte strings. */
size_t socks5_greeting(const struct fwd_proxy *proxy, uint8_t *out);
size_t socks5_auth_request(const struct fwd_proxy *proxy, uint8_t *out);
size_t socks5_connect_request(const struct fwd_hostport *target, uint8_t *out);
const char *socks5_reply_text(int code);
/* How many reply bytes to read in all, knowing its first five bytes. */
int socks5_reply_length(const uint8_t *head);

/* Which of the proxy's replies is being read. */
enum socks5_stage { SOCKS5_STAGE_GREETING, SOCKS5_STAGE_AUTH, SOCKS5_STAGE_REQUEST };
/* What to do next, once the len bytes asked for have been read. */
enum socks5_next {
	SOCKS5_READ_MORE, /* *want grew: read up to it and ask again */
	SOCKS5_SEND_AUTH, /* method 2 chosen: send the RFC 1929 request */
	SOCKS5_SEND_CONNECT, /* no (more) authentication: send CONNECT */
	SOCKS5_CONNECTED, /* the whole reply is read, the tunnel is up */
	SOCKS5_FAIL, /* reason says why */
};
/* Pure: no I/O, no state but the bytes.  len >= 2 (GREETING, AUTH) or
 * >= 5 (REQUEST); a reply never asks for more than 4 + 1 + 255 + 2 bytes.
 */
enum socks5_next socks5_parse_reply(enum socks5_stage stage, bool has_auth, const uint8_t *reply,
				    size_t len, size_t *want, char *reason, size_t size);

/* config.c: listeners from -l/-t/-x and -c, and their proxy passwords.
 * target NULL: a transparent listener; CONFIG_SOCKS5_SERVER: a SOCKS5
 * server listener.
 */
#define CONFIG_SOCKS5_SERVER "socks5-server"
int config_add(struct fwd_listener **list, const char *listen, const char *target,
	       const char *proxy, bool from_cmdline);
int config_read(const char *path, struct fwd_listener **list);
int config_passwords(struct fwd_listener *list);
/* A file that holds a password: 0 if only its owner may open it, else
 * -errno after a message naming it and its mode.
 */
int check_private(int fd, const char *path);
void config_free(struct fwd_listener *list);
/* The mode --mode text names, or -1. */
int config_mode(const char *text);

/* limits.c: --allow and --max-conns-per-ip. */
int cidr_parse(const char *text, struct fwd_cidr *c);
bool limits_allowed(const struct sockaddr_storage *ss);
int limits_take(const struct sockaddr_storage *ss);
void limits_put(const struct sockaddr_storage *ss);

/* transparent.c: --transparent and --mark. */
int transparent_target(int cfd, struct fwd_hostport *target);
bool transparent_is_local(const struct fwd_addr *addr);
void transparent_listener(int fd, int family, const char *text);
int transparent_mark(int fd, uint32_t mark);

/* kmaps.c: the pinned maps of sockfwd-load. */
int kmaps_open(const char *dir);
void kmaps_close(void);
bool kmaps_available(void);
bool kmaps_verdict_attached(void);
int kmaps_cookie(int fd, uint64_t *cookie);
int kmaps_prepare(uint64_t cookie, uint64_t limit);
int kmaps_insert(uint64_t key_cookie, int peer_fd);
int kmaps_set_ctl(uint64_t cookie, uint32_t mode, uint32_t gen, uint64_t consumed, uint64_t limit);
int kmaps_events_fd(void (*cb)(uint64_t cookie));
void kmaps_events_read(void);
struct sockfwd_state;
int kmaps_state(uint64_t cookie, struct sockfwd_state *state);
void kmaps_forget(uint64_t cookie);
int kmaps_peers_count(void);
int kmaps_sweep(void);

/* kcheck.c: what the kernel's sockmap does, probed once at start.  Each
 * fact is "ok", "unknown" (not probed) or what went wrong ("stall", ...).
 */
struct kfacts {
	const char *early_bytes, *backlog_retry, *fin;
	char release[65];
	char why[64]; /* "probed in N ms", or why not probed */
};
void kcheck_run(struct kfacts *k);
const char *kcheck_sockmap_unsafe(const struct kfacts *k, char *why, size_t size);

/* relay.c: the settings the relay reads (--mode, --queue-limit, the
 * buffers, -v), for every flow from here on.
 */
void relay_init(const struct fwd_config *config);

/* flow.c */
void flow_init(void);
void flow_accept(struct fwd_listener *l);
void flow_event(void *ptr, uint32_t events);
void flow_tick(uint64_t now_ms);
void flow_kick(uint64_t cookie);
void flow_abort_all(const char *reason);
void flow_reap(void);
int flow_count(void);
void flow_status(FILE *out, uint64_t now);

/* listen.c */
int listeners_open(void);
void listeners_pause(bool paused);
void listeners_close(void);
void listeners_reload(void);
void listeners_reap(void);
/* Whether addr (a transparent flow's original destination) is an address
 * and port one of the listeners accepts on.
 */
bool listeners_own(const struct fwd_addr *addr);

/* status.c: --status-socket and --status */
int status_open(const char *path);
void status_event(void *ptr, uint32_t events);
int status_client(const char *path);

#endif
