// SPDX-License-Identifier: GPL-2.0
/* The configuration (cfg, its defaults), the listeners as the command line
 * (-l -t -x) and the configuration file (-c) give them, the proxy
 * passwords they need, and the words of --mode.
 *
 * The attacker here is another local user: argv is readable by all in
 * /proc/PID/cmdline, so a password is never taken from there; it comes from
 * the configuration file, --proxy-password-file or $SOCKFWD_PROXY_PASSWORD,
 * and a file that holds one is refused when group or others may open it.
 * Messages quote a proxy only through redact_url().
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwd.h"

#define MAX_LISTENERS 256
#define PASSWORD_ENV "SOCKFWD_PROXY_PASSWORD"

struct fwd_config cfg = {
	.mode = MODE_AUTO,
	.max_conns = 16384,
	.idle_timeout_s = DEFAULT_IDLE_TIMEOUT_S,
	.connect_timeout_ms = 10000,
	.drain_timeout_ms = 10000,
	.queue_limit = UINT64_MAX, /* unset: main.c's scale_buffers() */
	.sndbuf = -1, /* unset: main.c's scale_buffers() */
	.rcvbuf = 2 << 20,
};

const char *const mode_names[MODE_COUNT] = {
	[MODE_AUTO] = "auto",
	[MODE_SOCKMAP] = "sockmap",
	[MODE_SPLICE] = "splice",
	[MODE_COPY] = "copy",
};

int config_mode(const char *text)
{
	int i;

	for (i = 0; i < MODE_COUNT; i++)
		if (strcmp(text, mode_names[i]) == 0)
			return i;
	return -1;
}

static struct fwd_listener *listener_parse(const char *listen, const char *target,
					   const char *proxy)
{
	struct fwd_listener *l = calloc(1, sizeof(*l));
	char shown[1024];

	if (!l) {
		fprintf(stderr, "sockfwd: out of memory\n");
		return NULL;
	}
	l->kind = KIND_LISTENER;
	l->fd = -1;
	snprintf(l->listen_text, sizeof(l->listen_text), "%s", listen);
	if (parse_hostport(listen, &l->listen, true) < 0) {
		fprintf(stderr, "sockfwd: bad listen address '%s': want [ADDR]:PORT\n", listen);
		goto fail;
	}
	l->transparent = target == NULL;
	l->socks5_server = target && strcmp(target, CONFIG_SOCKS5_SERVER) == 0;
	if (target && !l->socks5_server && parse_hostport(target, &l->target, false) < 0) {
		fprintf(stderr, "sockfwd: bad target '%s': want HOST:PORT\n", target);
		goto fail;
	}
	if (proxy && parse_proxy_url(proxy, &l->proxy) < 0) {
		redact_url(proxy, shown, sizeof(shown));
		fprintf(stderr, "sockfwd: bad proxy '%s': want socks5://[USER[:PASS]@]HOST:PORT\n",
			shown);
		goto fail;
	}
	return l;
fail:
	free(l);
	return NULL;
}

static int list_length(const struct fwd_listener *l)
{
	int n = 0;

	for (; l; l = l->next)
		n++;
	return n;
}

/* Appends one listener to *list.  from_cmdline: -x may not carry a password. */
int config_add(struct fwd_listener **list, const char *listen, const char *target,
	       const char *proxy, bool from_cmdline)
{
	struct fwd_listener *l, **tail = list;
	char shown[1024];

	if (list_length(*list) >= MAX_LISTENERS) {
		fprintf(stderr, "sockfwd: too many listeners (at most %d)\n", MAX_LISTENERS);
		return -E2BIG;
	}
	l = listener_parse(listen, target, proxy);
	if (!l)
		return -EINVAL;
	if (from_cmdline && l->proxy.pass_in_url) {
		redact_url(proxy, shown, sizeof(shown));
		fprintf(stderr,
			"sockfwd: -x %s: a password on the command line is readable by every local "
			"user (/proc/PID/cmdline); write socks5://USER@HOST:PORT and give the "
			"password with --proxy-password-file FILE, $%s or a configuration file (-c)\n",
			shown, PASSWORD_ENV);
		free(l);
		return -EINVAL;
	}
	l->from_cmdline = from_cmdline;
	while (*tail)
		tail = &(*tail)->next;
	*tail = l;
	return 0;
}

void config_free(struct fwd_listener *list)
{
	struct fwd_listener *next;

	for (; list; list = next) {
		next = list->next;
		explicit_bzero(list->proxy.pass, sizeof(list->proxy.pass));
		free(list);
	}
}

/* A file that holds a password may be opened by its owner only. */
int check_private(int fd, const char *path)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		int err = -errno;

		fprintf(stderr, "sockfwd: cannot stat %s: %s\n", path, strerror(-err));
		return err;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		fprintf(stderr,
			"sockfwd: %s is mode %04o: a file that holds a password must not be open "
			"to group or others (chmod 0600 %s)\n",
			path, (unsigned int)(st.st_mode & 07777), path);
		return -EACCES;
	}
	return 0;
}

/* One line of a configuration file, already split into n words. */
static int config_line(struct fwd_listener **list, FILE *file, const char *path, int lineno,
		       char **word, int n)
{
	struct fwd_listener *l;
	int err;

	if (n < 2 || n > 3) {
		fprintf(stderr, "sockfwd: %s:%d: want \"listen target [proxy]\"\n", path, lineno);
		return -EINVAL;
	}
	/* "transparent" and "socks5-server" have no port: they cannot be a
	 * HOST:PORT target.
	 */
	err = config_add(list, word[0], strcmp(word[1], "transparent") == 0 ? NULL : word[1],
			 n == 3 ? word[2] : NULL, false);
	if (err) {
		fprintf(stderr, "sockfwd: %s:%d: %s\n", path, lineno, strerror(-err));
		return err;
	}
	for (l = *list; l->next; l = l->next)
		;
	if (l->proxy.pass_in_url) {
		err = check_private(fileno(file), path);
		if (err)
			fprintf(stderr, "sockfwd: %s:%d: has a password\n", path, lineno);
	}
	return err;
}

/* Appends the listeners of the file at path to *list; on an error, the
 * message names the line and *list is as it was.
 */
int config_read(const char *path, struct fwd_listener **list)
{
	char line[1024], *word[4], *save, *p;
	struct fwd_listener *fresh = NULL, **tail = list;
	int lineno = 0, n, err = 0;
	FILE *file = fopen(path, "re");

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
		err = config_line(&fresh, file, path, lineno, word, n);
		if (err)
			goto out;
	}
	if (ferror(file)) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot read %s: %s\n", path, strerror(-err));
	}
out:
	explicit_bzero(line, sizeof(line));
	fclose(file);
	if (err) {
		config_free(fresh);
		return err;
	}
	while (*tail)
		tail = &(*tail)->next;
	*tail = fresh;
	return 0;
}

static int read_password_file(const char *path, char *pass)
{
	char buf[FWD_MAX_CRED + 2];
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), err;

	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot open %s: %s\n", path, strerror(-err));
		return err;
	}
	err = check_private(fd, path);
	n = err ? 0 : read(fd, buf, sizeof(buf) - 1);
	if (!err && n < 0) {
		err = -errno;
		fprintf(stderr, "sockfwd: cannot read %s: %s\n", path, strerror(-err));
	}
	close(fd);
	if (err || n < 0)
		return err;
	buf[n] = '\0';
	len = strcspn(buf, "\r\n");
	/* RFC 1929 carries it in a one-byte length. */
	if (len == 0 || len > 255 || (len == (size_t)n && n == (ssize_t)sizeof(buf) - 1)) {
		fprintf(stderr, "sockfwd: %s: want one line of 1 to 255 bytes, the password\n",
			path);
		err = -EINVAL;
	} else {
		memcpy(pass, buf, len);
		pass[len] = '\0';
	}
	explicit_bzero(buf, sizeof(buf));
	return err;
}

/* The password of every proxy written USER@ (no password in the URL), from
 * --proxy-password-file, else $SOCKFWD_PROXY_PASSWORD: the same for all.
 */
int config_passwords(struct fwd_listener *list)
{
	char pass[FWD_MAX_CRED] = "";
	const char *env = getenv(PASSWORD_ENV);
	struct fwd_listener *l, *needs = NULL;
	int err = 0;

	for (l = list; l && !needs; l = l->next)
		if (l->proxy.has_auth && !l->proxy.pass_in_url)
			needs = l;
	if (!needs)
		return 0;
	if (cfg.password_file) {
		err = read_password_file(cfg.password_file, pass);
	} else if (env && env[0] && strlen(env) <= 255) {
		snprintf(pass, sizeof(pass), "%s", env);
	} else {
		fprintf(stderr,
			"sockfwd: proxy socks5://%s@%s:%u has a user and no password: give "
			"--proxy-password-file FILE or $%s (1 to 255 bytes), or USER:PASS@ in a "
			"configuration file\n",
			needs->proxy.user, needs->proxy.server.host, needs->proxy.server.port,
			PASSWORD_ENV);
		err = -EINVAL;
	}
	for (l = list; !err && l; l = l->next)
		if (l->proxy.has_auth && !l->proxy.pass_in_url)
			memcpy(l->proxy.pass, pass, sizeof(pass));
	explicit_bzero(pass, sizeof(pass));
	return err;
}
