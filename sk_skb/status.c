// SPDX-License-Identifier: GPL-2.0
/* Per-flow statistics while flows run: the helper answers on a unix socket
 * (--status-socket PATH, mode 0600: the helper's user and root) with one
 * line per flow; `sockfwd --status[=PATH]` prints the answer.
 *
 * One reader at a time, served without blocking the event loop: what the
 * socket does not take at once waits for EPOLLOUT.  A second reader drops
 * the first, so a reader that never reads holds nothing for long.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "fwd.h"

#define DEFAULT_STATUS_PATH "/run/sockfwd/status.sock"

static struct {
	enum fwd_kind kind; /* first: epoll data points here */
	int fd;
} server = { KIND_STATUS, -1 };

static struct {
	enum fwd_kind kind;
	int fd;
	char *text;
	size_t len, off;
} reader = { KIND_STATUS, -1, NULL, 0, 0 };

static int unix_address(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		fprintf(stderr, "sockfwd: status socket path too long: %s\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

int status_open(const char *path)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &server };
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_mask;
	int err = unix_address(path, &sun);

	if (err)
		return err;
	/* A socket left by an earlier run; any other file stays. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	server.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (server.fd < 0)
		goto fail;
	old_mask = umask(0177);
	err = bind(server.fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old_mask);
	if (err < 0 || listen(server.fd, 8) < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, server.fd, &ev) < 0)
		goto fail;
	return 0;
fail:
	err = -errno;
	fprintf(stderr, "sockfwd: status socket %s: %s\n", path, strerror(-err));
	if (server.fd >= 0)
		close(server.fd);
	server.fd = -1;
	return err;
}

static void reader_done(void)
{
	if (reader.fd >= 0)
		close(reader.fd);
	free(reader.text);
	reader.fd = -1;
	reader.text = NULL;
	reader.len = reader.off = 0;
}

static void reader_send(void)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = &reader };
	ssize_t n;

	while (reader.off < reader.len) {
		n = send(reader.fd, reader.text + reader.off, reader.len - reader.off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (epoll_ctl(epfd, EPOLL_CTL_ADD, reader.fd, &ev) < 0 && errno != EEXIST)
				reader_done();
			return;
		}
		if (n <= 0) {
			reader_done();
			return;
		}
		reader.off += (size_t)n;
	}
	reader_done();
}

static void reader_new(void)
{
	int fd = accept4(server.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	char counts[1024];
	FILE *out;

	if (fd < 0)
		return;
	reader_done();
	reader.fd = fd;
	out = open_memstream(&reader.text, &reader.len);
	if (!out) {
		reader_done();
		return;
	}
	counters_format(counts, sizeof(counts), true);
	fprintf(out, "sockfwd pid=%d flows=%d%s\n", (int)getpid(), flow_count(), counts);
	flow_status(out, now_ms());
	if (fclose(out) != 0) {
		reader_done();
		return;
	}
	reader_send();
}

void status_event(void *ptr, uint32_t events)
{
	(void)events;
	if (ptr == &server)
		reader_new();
	else if (reader.fd >= 0)
		reader_send();
}

/* sockfwd --status: what the helper on path says, on stdout. */
int status_client(const char *path)
{
	struct sockaddr_un sun;
	char buf[65536];
	ssize_t n;
	int fd;

	if (!path)
		path = DEFAULT_STATUS_PATH;
	if (unix_address(path, &sun))
		return 1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr,
			"sockfwd: cannot reach %s: %s (is sockfwd running with "
			"--status-socket %s?)\n",
			path, strerror(errno), path);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 1;
	close(fd);
	return n < 0;
}
