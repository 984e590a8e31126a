// SPDX-License-Identifier: GPL-2.0
/* The maps sockfwd-load pinned: the SOCKHASH of peers and the per-socket
 * control and state hashes the verdict program reads and writes.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fwd.h"
#include "sockfwd.h"

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

static int peers_fd = -1, ctl_fd = -1, state_fd = -1, events_fd = -1;
static const struct {
	const char *name;
	int *fd;
} pinned[] = {
	{ SOCKFWD_PEERS_MAP, &peers_fd },
	{ SOCKFWD_CTL_MAP, &ctl_fd },
	{ SOCKFWD_STATE_MAP, &state_fd },
	{ SOCKFWD_EVENTS_MAP, &events_fd },
};
static struct ring_buffer *events;
static void (*paused_cb)(uint64_t cookie);

static int open_pinned(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		fprintf(stderr, "sockfwd: cannot open %s: %s\n", path, strerror(-fd));
	}
	return fd;
}

/* Maps pinned by another build of sockfwd.o (another control block) would
 * be misread: say which, and how to get the right ones.
 */
static int check_value_size(const char *dir, const char *name, int fd, size_t want)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return -errno;
	if (info.value_size == want)
		return 0;
	fprintf(stderr,
		"sockfwd: %s/%s holds %u-byte entries, this sockfwd expects %zu: "
		"the maps come from another sockfwd.o; run sockfwd-load unload, then sockfwd-load\n",
		dir, name, info.value_size, want);
	return -EPROTO;
}

static int check_ctl_size(const char *dir)
{
	int err = check_value_size(dir, SOCKFWD_CTL_MAP, ctl_fd, sizeof(struct sockfwd_ctl));

	return err ? err :
		     check_value_size(dir, SOCKFWD_STATE_MAP, state_fd,
				      sizeof(struct sockfwd_state));
}

int kmaps_open(const char *dir)
{
	int err = 0;
	size_t i;

	for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		*pinned[i].fd = open_pinned(dir, pinned[i].name);
		if (*pinned[i].fd < 0 && !err)
			err = *pinned[i].fd;
	}
	if (!err)
		err = check_ctl_size(dir);
	if (err)
		kmaps_close();
	return err;
}

void kmaps_close(void)
{
	size_t i;

	ring_buffer__free(events);
	events = NULL;
	for (i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		if (*pinned[i].fd >= 0)
			close(*pinned[i].fd);
		*pinned[i].fd = -1;
	}
}

static int on_event(void *ctx, void *data, size_t size)
{
	uint64_t cookie;

	(void)ctx;
	if (size < sizeof(cookie))
		return 0;
	memcpy(&cookie, data, sizeof(cookie));
	paused_cb(cookie);
	return 0;
}

/* A descriptor for epoll that turns readable when the program has paused a
 * socket at its redirect limit; kmaps_events_read() then calls cb with
 * each such socket's cookie.
 */
int kmaps_events_fd(void (*cb)(uint64_t cookie))
{
	paused_cb = cb;
	events = ring_buffer__new(events_fd, on_event, NULL, NULL);
	if (!events)
		return -errno;
	return ring_buffer__epoll_fd(events);
}

void kmaps_events_read(void)
{
	ring_buffer__consume(events);
}

bool kmaps_available(void)
{
	return peers_fd >= 0;
}

/* False only when the kernel says no verdict program is attached to the
 * SOCKHASH (sockfwd-load unloaded, or a detach): a socket inserted then gets
 * a psock without a program, for good, and its bytes wait in its receive
 * queue while the helper watches only for FIN (the soak test's detach found
 * such flows stalled).  Where the kernel cannot tell (no sockmap query,
 * or no CAP_NET_ADMIN for BPF_PROG_QUERY), true.
 */
bool kmaps_verdict_attached(void)
{
	__u32 count = 0, flags = 0;

	if (bpf_prog_query(peers_fd, BPF_SK_SKB_STREAM_VERDICT, 0, &flags, NULL, &count) < 0)
		return true;
	return count > 0;
}

int kmaps_cookie(int fd, uint64_t *cookie)
{
	socklen_t len = sizeof(*cookie);

	if (getsockopt(fd, SOL_SOCKET, SO_COOKIE, cookie, &len) < 0)
		return -errno;
	return 0;
}

/* Zeroed counters and "resume once nothing is left to read" (gen 1,
 * consumed 0): until the socket's own entry is in the SOCKHASH, its bytes
 * are passed and counted; after, they are redirected, up to limit bytes.
 */
int kmaps_prepare(uint64_t cookie, uint64_t limit)
{
	struct sockfwd_state state = { 0 };

	if (bpf_map_update_elem(state_fd, &cookie, &state, BPF_ANY) < 0)
		return -errno;
	return kmaps_set_ctl(cookie, SOCKFWD_RESUME, 1, 0, limit);
}

/* Bytes arriving on the socket whose cookie is key_cookie go to peer_fd.
 * The kernel takes only ESTABLISHED sockets (EOPNOTSUPP otherwise).
 */
int kmaps_insert(uint64_t key_cookie, int peer_fd)
{
	uint64_t value = (uint64_t)peer_fd;

	if (bpf_map_update_elem(peers_fd, &key_cookie, &value, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int kmaps_set_ctl(uint64_t cookie, uint32_t mode, uint32_t gen, uint64_t consumed, uint64_t limit)
{
	struct sockfwd_ctl ctl = {
		.mode = mode, .gen = gen, .consumed = consumed, .redirect_limit = limit
	};

	if (bpf_map_update_elem(ctl_fd, &cookie, &ctl, BPF_ANY) < 0)
		return -errno;
	return 0;
}

int kmaps_state(uint64_t cookie, struct sockfwd_state *state)
{
	if (bpf_map_lookup_elem(state_fd, &cookie, state) < 0)
		return -errno;
	return 0;
}

/* Closing a socket removes its SOCKHASH entries; the hashes are ours. */
void kmaps_forget(uint64_t cookie)
{
	bpf_map_delete_elem(peers_fd, &cookie);
	bpf_map_delete_elem(ctl_fd, &cookie);
	bpf_map_delete_elem(state_fd, &cookie);
}

/* Entries in a map keyed by cookie, walked from user space. */
static int count_keys(int fd)
{
	uint64_t key, next;
	int n = 0, err;

	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err) {
		n++;
		key = next;
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	return n;
}

int kmaps_peers_count(void)
{
	return count_keys(peers_fd);
}

/* Keys of the hash at fd that are not keys of the SOCKHASH, at most max. */
static int orphans(int fd, uint64_t *out, int max)
{
	uint64_t key, next, peer;
	int n = 0, err;

	err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err && n < max) {
		key = next;
		if (bpf_map_lookup_elem(peers_fd, &key, &peer) < 0 && errno == ENOENT)
			out[n++] = key;
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	return n;
}

/* Control and state entries left by a helper that died (SIGKILL, a crash):
 * its sockets closed and left the SOCKHASH by themselves, but the two
 * hashes are ours to clean.  An entry is stale when its cookie is not in
 * the SOCKHASH, and still not 100 ms later: a live helper (sharing the
 * pins, --reuseport) inserts a flow within microseconds of writing its
 * entries.  A flow that fell back to copy after a half insert keeps a
 * control entry for its client socket without a SOCKHASH one; deleting it
 * makes the verdict pass, which is what that entry said.  Returns how many
 * entries went.
 */
int kmaps_sweep(void)
{
	static uint64_t first[2][SOCKFWD_MAX_SOCKS];
	const struct timespec pause = { .tv_nsec = 100 * 1000 * 1000 };
	int fds[2] = { ctl_fd, state_fd }, n[2], i, j, removed = 0;
	uint64_t peer;

	for (i = 0; i < 2; i++)
		n[i] = orphans(fds[i], first[i], SOCKFWD_MAX_SOCKS);
	if (n[0] + n[1] == 0)
		return 0;
	nanosleep(&pause, NULL);
	for (i = 0; i < 2; i++)
		for (j = 0; j < n[i]; j++)
			if (bpf_map_lookup_elem(peers_fd, &first[i][j], &peer) < 0 &&
			    errno == ENOENT && bpf_map_delete_elem(fds[i], &first[i][j]) == 0)
				removed++;
	return removed;
}
