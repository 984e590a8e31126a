// SPDX-License-Identifier: GPL-2.0
/* Sends one frame over and over on an interface through AF_PACKET, for a
 * bounded time, so a receiver's per-packet cost can be compared between
 * filters.  Usage: frame-blast IFACE FRAME_FILE SECONDS
 * Prints "sent N frames in S s".
 */
#include <errno.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define MAX_SECONDS 60

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	unsigned char frame[2048];
	struct sockaddr_ll addr = { .sll_family = AF_PACKET };
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	unsigned long long sent = 0;
	double seconds, start, elapsed;
	size_t frame_len;
	FILE *in;
	int fd, one = 1, i;

	if (argc != 4) {
		fprintf(stderr, "usage: %s IFACE FRAME_FILE SECONDS\n", argv[0]);
		return 2;
	}
	seconds = atof(argv[3]);
	if (seconds <= 0 || seconds > MAX_SECONDS) {
		fprintf(stderr, "frame-blast: SECONDS must be in (0, %d]\n", MAX_SECONDS);
		return 2;
	}
	in = fopen(argv[2], "rb");
	if (!in) {
		fprintf(stderr, "frame-blast: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	frame_len = fread(frame, 1, sizeof(frame), in);
	fclose(in);
	if (frame_len < ETH_HLEN) {
		fprintf(stderr, "frame-blast: %s: shorter than an Ethernet header\n", argv[2]);
		return 1;
	}

	addr.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!addr.sll_ifindex) {
		fprintf(stderr, "frame-blast: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		fprintf(stderr, "frame-blast: socket: %s\n", strerror(errno));
		return 1;
	}
	/* Skip the sender's qdisc: the receiver is what is measured. */
	if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr, "frame-blast: PACKET_QDISC_BYPASS: %s (continuing)\n",
			strerror(errno));

	iov.iov_base = frame;
	iov.iov_len = frame_len;
	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_name = &addr;
		msgs[i].msg_hdr.msg_namelen = sizeof(addr);
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	start = now_seconds();
	for (elapsed = 0; elapsed < seconds; elapsed = now_seconds() - start) {
		int n = sendmmsg(fd, msgs, BATCH, 0);

		if (n < 0) {
			if (errno == ENOBUFS || errno == EAGAIN)
				continue;
			fprintf(stderr, "frame-blast: sendmmsg: %s\n", strerror(errno));
			close(fd);
			return 1;
		}
		sent += (unsigned long long)n;
	}
	close(fd);
	printf("sent %llu frames in %.3f s\n", sent, elapsed);
	return 0;
}
