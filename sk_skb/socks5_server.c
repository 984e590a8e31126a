// SPDX-License-Identifier: GPL-2.0
/* A SOCKS5 server listener (--socks5-server): the client's handshake, read
 * from the accepted socket before any upstream exists.
 *
 *   SRV_GREETING --(method 0)--> SRV_REQUEST --> SRV_OWED --> SRV_REPLIED
 *        \--(method 2)--> SRV_AUTH --(ok)--/       |  connect (flow.c),
 *                                                   |  or resolve first
 *   a bad message, no acceptable method, bad credentials: reply where
 *   RFC 1928/1929 has one, then a clean close (flow_fail).
 *
 * Each read asks for no more bytes than the current message still needs
 * (its length is known from its first bytes), so whatever a client sends
 * behind its request in the same segment stays in the socket, where the
 * relay finds it as early bytes.  A message cut into single bytes is read
 * a byte at a time.  The whole handshake runs under --timeout (flow_tick).
 *
 * The attacker is a client: it may send anything, slowly, or guess
 * passwords.  Buffers are fixed (the longest message is 513 bytes), the
 * password comparison takes the same time whatever matches, and no
 * message or log line carries a password or user name.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "flow.h"
#include "resolve.h"

#define USERS_MAX 4096

enum { METHOD_NONE = 0x00, METHOD_PASSWORD = 0x02, METHOD_UNACCEPTABLE = 0xff };
enum {
	REPLY_OK = 0,
	REPLY_FAILURE = 1,
	REPLY_NOT_ALLOWED = 2,
	REPLY_NET_UNREACHABLE = 3,
	REPLY_HOST_UNREACHABLE = 4,
	REPLY_REFUSED = 5,
	REPLY_TTL_EXPIRED = 6,
	REPLY_COMMAND = 7,
	REPLY_ADDRESS_TYPE = 8,
};

struct user {
	uint8_t name[255], pass[255];
	uint8_t name_len, pass_len;
};

static struct user *users; /* NULL: no authentication */
static int nusers;

/* user:password, at most 255 bytes each (RFC 1929's one-byte lengths). */
static int users_line(const char *path, int lineno, char *line, struct user *u)
{
	char *colon = strchr(line, ':');
	size_t name_len = colon ? (size_t)(colon - line) : 0, pass_len;

	pass_len = colon ? strlen(colon + 1) : 0;
	if (!colon || name_len == 0 || name_len > 255 || pass_len == 0 || pass_len > 255) {
		fprintf(stderr, "sockfwd: %s:%d: want user:password (1 to 255 bytes each)\n", path,
			lineno);
		return -EINVAL;
	}
	memcpy(u->name, line, name_len);
	u->name_len = (uint8_t)name_len;
	memcpy(u->pass, colon + 1, pass_len);
	u->pass_len = (uint8_t)pass_len;
	return 0;
}

static int users_read(FILE *file, const char *path)
{
	char line[600];
	int lineno = 0, err = 0;
	size_t len;

	while (!err && fgets(line, sizeof(line), file)) {
		lineno++;
		len = strcspn(line, "\r\n");
		if (line[len] == '\0' && !feof(file)) {
			fprintf(stderr, "sockfwd: %s:%d: line too long\n", path, lineno);
			err = -EINVAL;
			break;
		}
		line[len] = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (nusers >= USERS_MAX) {
			fprintf(stderr, "sockfwd: %s: more than %d users\n", path, USERS_MAX);
			err = -E2BIG;
			break;
		}
		err = users_line(path, lineno, line, &users[nusers]);
		if (!err)
			nusers++;
	}
	explicit_bzero(line, sizeof(line));
	return err;
}

int socks5_server_users_load(const char *path)
{
	FILE *file;
	int err;

	if (!path)
		return 0;
	file = fopen(path, "re");
	if (!file) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	users = calloc(USERS_MAX, sizeof(*users));
	err = users ? check_private(fileno(file), path) : -ENOMEM;
	if (!err)
		err = users_read(file, path);
	if (!err && nusers == 0) {
		fprintf(stderr, "sockfwd: %s: no user:password line\n", path);
		err = -EINVAL;
	}
	fclose(file);
	if (err) {
		free(users);
		users = NULL;
		nusers = 0;
	}
	return err;
}

/* Equal bytes and lengths, in a time that depends on neither. */
static unsigned int same_secret(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
	unsigned int diff = (unsigned int)(a_len ^ b_len);
	size_t i;

	for (i = 0; i < 255; i++)
		diff |= (unsigned int)((i < a_len ? a[i] : 0) ^ (i < b_len ? b[i] : 0));
	return diff == 0;
}

/* Every entry is compared, whichever matches. */
static bool credentials_ok(const uint8_t *name, size_t name_len, const uint8_t *pass,
			   size_t pass_len)
{
	unsigned int ok = 0;
	int i;

	for (i = 0; i < nusers; i++)
		ok |= same_secret(users[i].name, users[i].name_len, name, name_len) &
		      same_secret(users[i].pass, users[i].pass_len, pass, pass_len);
	return ok != 0;
}

/* The whole length of the message being read, as far as its first have
 * bytes tell (more than have: read on); 0 for an unknown address type.
 * A wrong version byte ends the message at once: what follows it has no
 * known length, and the client may be waiting for an answer.
 */
static size_t message_length(enum socks5_server_stage stage, const uint8_t *msg, size_t have)
{
	if (have >= 1 && msg[0] != (stage == SRV_AUTH ? 1 : 5))
		return have;
	switch (stage) {
	case SRV_GREETING:
		return have < 2 ? 2 : 2 + (size_t)msg[1];
	case SRV_AUTH:
		if (have < 2)
			return 2;
		if (have < 3 + (size_t)msg[1])
			return 3 + (size_t)msg[1];
		return 3 + (size_t)msg[1] + msg[2 + msg[1]];
	default:
		if (have < 5)
			return 5;
		switch (msg[3]) {
		case 1:
			return 4 + 4 + 2;
		case 4:
			return 4 + 16 + 2;
		case 3:
			return 4 + 1 + (size_t)msg[4] + 2;
		default:
			return 0;
		}
	}
}

/* Small replies to a fresh socket fit its send buffer whole. */
static int send_client(struct flow *f, const uint8_t *bytes, size_t len)
{
	ssize_t n = send(f->fd[0], bytes, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n > 0)
		f->written[0] += (uint64_t)n;
	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EAGAIN;
}

static bool greeting(struct flow *f, const uint8_t *msg)
{
	uint8_t want = users ? METHOD_PASSWORD : METHOD_NONE;
	uint8_t reply[2] = { 5, METHOD_UNACCEPTABLE };
	int i;

	if (msg[0] != 5) {
		counters.socks5_malformed++;
		flow_fail(f, "socks5-server: not a SOCKS5 greeting (version %u)", msg[0]);
		return false;
	}
	for (i = 0; i < msg[1]; i++)
		if (msg[2 + i] == want)
			reply[1] = want;
	if (send_client(f, reply, sizeof(reply)) == 0 && reply[1] != METHOD_UNACCEPTABLE) {
		f->srv.stage = users ? SRV_AUTH : SRV_REQUEST;
		return true;
	}
	counters.socks5_no_method++;
	flow_fail(f, "socks5-server: no acceptable method offered (%s)",
		  users ? "username/password required" : "no-authentication required");
	return false;
}

static bool authenticate(struct flow *f, uint8_t *msg, size_t len)
{
	uint8_t reply[2] = { 1, 1 };
	bool ok = false;

	/* A wrong version ends the message after its first byte. */
	if (msg[0] == 1)
		ok = credentials_ok(msg + 2, msg[1], msg + 3 + msg[1], msg[2 + msg[1]]);
	explicit_bzero(msg, len);
	if (ok)
		reply[1] = 0;
	if (send_client(f, reply, sizeof(reply)) == 0 && ok) {
		f->srv.stage = SRV_REQUEST;
		return true;
	}
	counters.socks5_auth_failed++;
	flow_fail(f, "socks5-server: authentication failed");
	return false;
}

static void refuse_request(struct flow *f, uint8_t code, const char *why)
{
	f->srv.fail_code = code;
	flow_fail(f, "socks5-server: %s (reply %u)", why, code);
}

static bool printable(const uint8_t *bytes, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (bytes[i] <= ' ' || bytes[i] >= 0x7f)
			return false;
	return true;
}

/* The request's address and port into f->target; false for a name that
 * is empty or not printable ASCII.
 */
static bool request_target(struct flow *f, const uint8_t *msg, size_t len)
{
	struct fwd_hostport *t = &f->target;
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr.ss;

	memset(t, 0, sizeof(*t));
	t->port = (uint16_t)(msg[len - 2] << 8 | msg[len - 1]);
	if (msg[3] == 1) {
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, msg + 4, 4);
		sin->sin_port = htons(t->port);
		t->addr.len = sizeof(*sin);
		inet_ntop(AF_INET, &sin->sin_addr, t->host, sizeof(t->host));
	} else if (msg[3] == 4) {
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, msg + 4, 16);
		sin6->sin6_port = htons(t->port);
		t->addr.len = sizeof(*sin6);
		inet_ntop(AF_INET6, &sin6->sin6_addr, t->host, sizeof(t->host));
	} else {
		/* A name goes into log lines and --status as it is: a newline
		 * in it would forge a line.  Host names are printable ASCII
		 * (IDNs travel as punycode).
		 */
		if (msg[4] == 0 || !printable(msg + 5, msg[4]))
			return false;
		memcpy(t->host, msg + 5, msg[4]);
	}
	return true;
}

/* A literal written as a name ("192.0.2.1"): no lookup needed. */
static bool name_is_literal(struct fwd_hostport *t)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&t->addr.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&t->addr.ss;

	if (inet_pton(AF_INET, t->host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(t->port);
		t->addr.len = sizeof(*sin);
		return true;
	}
	if (inet_pton(AF_INET6, t->host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(t->port);
		t->addr.len = sizeof(*sin6);
		return true;
	}
	return false;
}

/* The target's address is known: refuse a loop, else connect. */
static void connect_target(struct flow *f)
{
	char why[FWD_MAX_HOST + 64];

	if (f->target.addr.len && listeners_own(&f->target.addr)) {
		counters.refused_loop++;
		snprintf(why, sizeof(why), "target %s:%u is sockfwd's own listener (a loop)",
			 f->target.host, f->target.port);
		refuse_request(f, REPLY_NOT_ALLOWED, why);
		return;
	}
	flow_open_upstream(f);
}

/* The answer's next address, in getaddrinfo()'s order (RFC 6724,
 * /etc/gai.conf): false when none is left.
 */
static bool try_next_address(struct flow *f)
{
	struct fwd_addr *addr = &f->target.addr;

	if (!f->srv.addrs || f->srv.next_addr >= f->srv.addrs->naddr)
		return false;
	*addr = f->srv.addrs->addr[f->srv.next_addr++];
	if (addr->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&addr->ss)->sin_port = htons(f->target.port);
	else
		((struct sockaddr_in6 *)&addr->ss)->sin6_port = htons(f->target.port);
	f->phase = PH_CONNECT;
	connect_target(f);
	return true;
}

static void resolved(void *owner, const struct resolve_request *r)
{
	const struct resolve_answer *a = resolve_answer(r);
	struct flow *f = owner;

	f->srv.lookup = NULL;
	if (a->gai_err) {
		refuse_request(f,
			       a->gai_err == EAI_MEMORY || a->gai_err == EAI_SYSTEM ?
				       REPLY_FAILURE :
				       REPLY_HOST_UNREACHABLE,
			       gai_strerror(a->gai_err));
		return;
	}
	f->srv.addrs = malloc(sizeof(*a));
	if (!f->srv.addrs) {
		refuse_request(f, REPLY_FAILURE, "out of memory");
		return;
	}
	*f->srv.addrs = *a;
	f->srv.next_addr = 0;
	try_next_address(f);
}

static void request(struct flow *f, const uint8_t *msg, size_t len)
{
	f->srv.stage = SRV_OWED;
	f->srv.fail_code = REPLY_FAILURE;
	if (msg[0] != 5) {
		counters.socks5_malformed++;
		f->srv.stage = SRV_REPLIED; /* not SOCKS5: no reply it would read */
		flow_fail(f, "socks5-server: not a SOCKS5 request (version %u)", msg[0]);
		return;
	}
	if (!request_target(f, msg, len)) {
		counters.socks5_malformed++;
		refuse_request(f, REPLY_HOST_UNREACHABLE,
			       "a name empty or with a byte that is not printable ASCII");
		return;
	}
	if (msg[1] != 1) {
		counters.socks5_unsupported++;
		refuse_request(f, REPLY_COMMAND,
			       msg[1] == 2 ? "BIND not supported" :
			       msg[1] == 3 ? "UDP ASSOCIATE not supported" :
					     "unknown command");
		return;
	}
	if (f->listener->proxy.present) {
		/* The proxy resolves a name itself: its view of DNS. */
		if (msg[3] == 3)
			f->target.addr.len = 0;
		flow_open_upstream(f);
	} else if (f->target.addr.len || name_is_literal(&f->target)) {
		connect_target(f);
	} else {
		f->phase = PH_RESOLVE;
		f->srv.lookup = resolve_start(f->target.host, resolved, f);
		if (!f->srv.lookup) {
			refuse_request(f, REPLY_FAILURE, "resolver busy");
			return;
		}
		/* Bytes pipelined behind the request would wake us, level
		 * triggered, for as long as the lookup takes.
		 */
		flow_update_events(f);
	}
}

/* One whole message is in f->srv.msg: act.  false if the flow ended or
 * the handshake is over.
 */
static bool message(struct flow *f, size_t len)
{
	f->srv.have = 0;
	switch (f->srv.stage) {
	case SRV_GREETING:
		return greeting(f, f->srv.msg);
	case SRV_AUTH:
		return authenticate(f, f->srv.msg, len);
	default:
		request(f, f->srv.msg, len);
		return false;
	}
}

void socks5_server_event(struct flow *f)
{
	struct socks5_server_hs *s = &f->srv;
	size_t want;
	ssize_t n;

	for (;;) {
		want = message_length(s->stage, s->msg, s->have);
		if (want == 0) {
			counters.socks5_unsupported++;
			s->stage = SRV_OWED;
			refuse_request(f, REPLY_ADDRESS_TYPE, "address type not supported");
			return;
		}
		if (s->have == want) {
			if (!message(f, want))
				return;
			continue;
		}
		/* Never past the message: the rest is the client's stream. */
		n = recv(f->fd[0], s->msg + s->have, want - s->have, MSG_DONTWAIT);
		if (n == 0) {
			flow_fail(f, "socks5-server: client closed during the handshake");
			return;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				flow_fail(f, "socks5-server: %s", strerror(errno));
			return;
		}
		s->have += (size_t)n;
	}
}

void socks5_server_begin(struct flow *f)
{
	f->phase = PH_SOCKS_SERVER;
	f->srv.stage = SRV_GREETING;
	tick_at(f->deadline_ms);
	flow_update_events(f);
	/* A client that sent its greeting with the SYN's ACK: read it now. */
	socks5_server_event(f);
}

static size_t reply_with_address(uint8_t *out, uint8_t code, const struct sockaddr_storage *ss)
{
	size_t n = 4;

	out[0] = 5;
	out[1] = code;
	out[2] = 0;
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		out[3] = 4;
		memcpy(out + n, &sin6->sin6_addr, 16);
		memcpy(out + n + 16, &sin6->sin6_port, 2);
		return n + 18;
	}
	out[3] = 1;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		memcpy(out + n, &sin->sin_addr, 4);
		memcpy(out + n + 4, &sin->sin_port, 2);
	} else {
		memset(out + n, 0, 6);
	}
	return n + 6;
}

/* BND.ADDR and BND.PORT: what the proxy reported (its reply from the
 * address type on, already checked by socks5_parse_reply), else the
 * address of our own upstream socket.
 */
int socks5_server_succeeded(struct flow *f)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len = sizeof(ss);
	uint8_t out[sizeof(f->reply)];
	size_t n;

	f->srv.stage = SRV_REPLIED;
	if (f->listener->proxy.present) {
		memcpy(out, f->reply, f->reply_have);
		n = f->reply_have;
	} else {
		getsockname(f->fd[1], (struct sockaddr *)&ss, &len);
		n = reply_with_address(out, REPLY_OK, &ss);
	}
	return send_client(f, out, n);
}

void socks5_server_failed(struct flow *f)
{
	struct sockaddr_storage none = { 0 };
	uint8_t out[22];
	size_t n;

	if (f->srv.stage != SRV_OWED)
		return;
	f->srv.stage = SRV_REPLIED;
	n = reply_with_address(out, f->srv.fail_code, &none);
	send_client(f, out, n);
}

void socks5_server_error(struct flow *f, int err)
{
	if (f->listener->proxy.present && f->phase == PH_CONNECT) {
		f->srv.fail_code = REPLY_FAILURE; /* the proxy is down, not the target */
		return;
	}
	switch (err) {
	case ENETUNREACH:
		f->srv.fail_code = REPLY_NET_UNREACHABLE;
		break;
	case EHOSTUNREACH:
	case EHOSTDOWN:
		f->srv.fail_code = REPLY_HOST_UNREACHABLE;
		break;
	case ECONNREFUSED:
		f->srv.fail_code = REPLY_REFUSED;
		break;
	case ETIMEDOUT:
		f->srv.fail_code = f->phase == PH_RESOLVE ? REPLY_HOST_UNREACHABLE :
							    REPLY_TTL_EXPIRED;
		break;
	default:
		f->srv.fail_code = REPLY_FAILURE;
	}
}

bool socks5_server_connect_failed(struct flow *f, int err)
{
	char tried[64];

	socks5_server_error(f, err);
	if (f->listener->proxy.present || !f->srv.addrs || f->srv.next_addr >= f->srv.addrs->naddr)
		return false;
	format_sockaddr((const struct sockaddr *)&f->target.addr.ss, tried, sizeof(tried));
	logmsg("client=%s target=%s: connect %s: %s; trying the next address", f->client_text,
	       f->target.host, tried, strerror(err));
	/* Closing drops the socket from epoll: register the next anew. */
	close(f->fd[1]);
	f->fd[1] = -1;
	f->ep[1].registered = false;
	f->ep[1].events = 0;
	return try_next_address(f);
}

void socks5_server_proxy_refused(struct flow *f, uint8_t code)
{
	f->srv.fail_code = code ? code : REPLY_FAILURE;
}

void socks5_server_release(struct flow *f)
{
	if (f->srv.lookup)
		resolve_cancel(f->srv.lookup);
	f->srv.lookup = NULL;
	free(f->srv.addrs);
	f->srv.addrs = NULL;
	explicit_bzero(f->srv.msg, sizeof(f->srv.msg));
}
