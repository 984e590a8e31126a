// SPDX-License-Identifier: GPL-2.0
/* dns-tunwire: put the client of the clean-dns tests on an L3 device.
 *
 * The test kernel has tun but no ipip, gre, wireguard or ppp.  This program
 * creates a tun device (IFF_TUN, no packet info) in the namespace it starts
 * in, then moves itself into the peer namespace (--peer-netns) and carries
 * packets between the tun device and a veth there over AF_PACKET: IP packets
 * read from the tun leave on the veth with an Ethernet header towards
 * --peer-mac, and frames addressed to the veth enter the tun without theirs.
 * The peer end gives the tun's addresses a static neighbour entry pointing
 * at the veth, so no ARP or neighbour discovery crosses the wire.  The veth
 * belongs in a namespace that does not route, or the kernel there forwards
 * each frame we read as well.
 *
 * With --inject it is also the censor at the far end of the L3 link: each
 * query to a --resolver is answered with forged packets written straight
 * into the tun (so they reach the client first) before the query goes on.
 * Forgeries are printed one per line, and "total N" at SIGTERM, as by
 * dns-inject.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dns-forge.h"

#define PACKET_MAX 65536

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct wire {
	int tun_fd;
	int packet_fd;
	int ifindex;
	uint8_t own_mac[ETH_ALEN];
	uint8_t peer_mac[ETH_ALEN];
	enum forge_style styles[STYLE_COUNT];
	int style_count;
	struct ip_address resolvers[RESOLVERS_MAX];
	int resolver_count;
	struct forge_config config;
	unsigned long forgeries_sent;
	unsigned long forgeries_by_style[STYLE_COUNT];
	unsigned long to_peer;
	unsigned long to_tun;
};

static int open_tun(const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TUN | IFF_NO_PI };
	int fd, err;

	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "dns-tunwire: /dev/net/tun: %s\n", strerror(errno));
		return err;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		fprintf(stderr, "dns-tunwire: TUNSETIFF %s: %s\n", name, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

static int enter_netns(const char *path)
{
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
		err = -errno;
		fprintf(stderr, "dns-tunwire: enter %s: %s\n", path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	return err;
}

static int open_peer_socket(const char *ifname, struct wire *wire)
{
	struct sockaddr_ll bind_address = { .sll_family = AF_PACKET };
	struct ifreq ifr = { 0 };
	int fd, err, one = 1;

	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0) {
		err = -errno;
		fprintf(stderr, "dns-tunwire: socket(AF_PACKET): %s\n", strerror(errno));
		return err;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		err = -errno;
		fprintf(stderr, "dns-tunwire: %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	memcpy(wire->own_mac, ifr.ifr_hwaddr.sa_data, ETH_ALEN);
	wire->ifindex = (int)if_nametoindex(ifname);
	bind_address.sll_protocol = htons(ETH_P_ALL);
	bind_address.sll_ifindex = wire->ifindex;
	if (bind(fd, (struct sockaddr *)&bind_address, sizeof(bind_address)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0) {
		err = -errno;
		fprintf(stderr, "dns-tunwire: bind to %s: %s\n", ifname, strerror(errno));
		goto fail;
	}
	wire->packet_fd = fd;
	return 0;
fail:
	close(fd);
	return err;
}

static bool is_watched_resolver(const struct wire *wire, const struct ip_address *address)
{
	int i;

	for (i = 0; i < wire->resolver_count; i++)
		if (ip_address_equal(&wire->resolvers[i], address))
			return true;
	return false;
}

static void inject_forgeries(struct wire *wire, const uint8_t *packet, size_t len)
{
	struct forgery planned[FORGERIES_PER_QUERY_MAX];
	uint8_t forged[FORGED_PACKET_MAX];
	struct dns_query query;
	size_t forged_len;
	int s, i, count;

	if (dns_query_parse(packet, len, &query) || !is_watched_resolver(wire, &query.resolver))
		return;
	for (s = 0; s < wire->style_count; s++) {
		count = forgeries_plan(wire->styles[s], &query, &wire->config, planned);
		for (i = 0; i < count; i++) {
			forged_len = forgery_build(&query, &planned[i], forged, sizeof(forged));
			if (!forged_len)
				continue;
			if (write(wire->tun_fd, forged, forged_len) != (ssize_t)forged_len) {
				fprintf(stderr, "dns-tunwire: write to tun: %s\n", strerror(errno));
				continue;
			}
			wire->forgeries_sent++;
			wire->forgeries_by_style[planned[i].style]++;
			forgery_print(stdout, wire->forgeries_sent, &query, &planned[i]);
		}
	}
}

static void tun_to_peer(struct wire *wire)
{
	static uint8_t frame[ETH_HLEN + PACKET_MAX];
	struct sockaddr_ll destination = {
		.sll_family = AF_PACKET,
		.sll_ifindex = wire->ifindex,
		.sll_halen = ETH_ALEN,
	};
	uint16_t ethertype;
	ssize_t len;

	len = read(wire->tun_fd, frame + ETH_HLEN, PACKET_MAX);
	if (len <= 0)
		return;
	switch (frame[ETH_HLEN] >> 4) {
	case 4:
		ethertype = ETH_P_IP;
		break;
	case 6:
		ethertype = ETH_P_IPV6;
		break;
	default:
		return;
	}
	if (wire->style_count)
		inject_forgeries(wire, frame + ETH_HLEN, (size_t)len);
	memcpy(frame, wire->peer_mac, ETH_ALEN);
	memcpy(frame + ETH_ALEN, wire->own_mac, ETH_ALEN);
	put_be16(frame + 2 * ETH_ALEN, ethertype);
	memcpy(destination.sll_addr, wire->peer_mac, ETH_ALEN);
	destination.sll_protocol = htons(ethertype);
	if (sendto(wire->packet_fd, frame, ETH_HLEN + (size_t)len, 0,
		   (struct sockaddr *)&destination, sizeof(destination)) > 0)
		wire->to_peer++;
}

/* Complete the UDP or TCP checksum of an IP packet.  Packets that crossed
 * veths from a local socket still carry CHECKSUM_PARTIAL (the field holds
 * only the pseudo-header sum, the "hardware" was to finish it), and AF_PACKET
 * hands them over that way; the client's stack behind the tun would count
 * them as UdpInCsumErrors.
 */
static void complete_l4_checksum(uint8_t *packet, size_t len)
{
	size_t header_len, l4_len, checksum_at;
	uint8_t protocol;
	uint32_t sum;
	uint16_t checksum;

	if (packet[0] >> 4 == 4 && len >= IPV4_HEADER_LEN) {
		header_len = (packet[0] & 0x0f) * 4;
		protocol = packet[9];
		sum = checksum_add(0, packet + 12, 8);
	} else if (packet[0] >> 4 == 6 && len >= IPV6_HEADER_LEN) {
		header_len = IPV6_HEADER_LEN;
		protocol = packet[6];
		sum = checksum_add(0, packet + 8, 32);
	} else {
		return;
	}
	if (protocol == IPPROTO_UDP)
		checksum_at = 6;
	else if (protocol == IPPROTO_TCP)
		checksum_at = 16;
	else
		return;
	if (header_len + checksum_at + 2 > len)
		return;
	l4_len = len - header_len;
	put_be16(packet + header_len + checksum_at, 0);
	sum += protocol + (uint32_t)l4_len;
	checksum = checksum_fold(checksum_add(sum, packet + header_len, l4_len));
	if (protocol == IPPROTO_UDP && !checksum)
		checksum = 0xffff;
	put_be16(packet + header_len + checksum_at, checksum);
}

static void peer_to_tun(struct wire *wire)
{
	static uint8_t frame[ETH_HLEN + PACKET_MAX];
	union {
		struct cmsghdr header;
		uint8_t space[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} control;
	struct iovec iov = { .iov_base = frame, .iov_len = sizeof(frame) };
	struct sockaddr_ll from;
	struct msghdr msg = {
		.msg_name = &from,
		.msg_namelen = sizeof(from),
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = &control,
		.msg_controllen = sizeof(control),
	};
	const struct tpacket_auxdata *aux;
	struct cmsghdr *cmsg;
	bool checksum_not_ready = false;
	uint16_t ethertype;
	ssize_t len;

	len = recvmsg(wire->packet_fd, &msg, MSG_DONTWAIT);
	if (len < ETH_HLEN || from.sll_pkttype != PACKET_HOST)
		return;
	ethertype = get_be16(frame + 2 * ETH_ALEN);
	if (ethertype != ETH_P_IP && ethertype != ETH_P_IPV6)
		return;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_PACKET || cmsg->cmsg_type != PACKET_AUXDATA)
			continue;
		aux = (const struct tpacket_auxdata *)CMSG_DATA(cmsg);
		checksum_not_ready = aux->tp_status & TP_STATUS_CSUMNOTREADY;
	}
	if (checksum_not_ready)
		complete_l4_checksum(frame + ETH_HLEN, (size_t)len - ETH_HLEN);
	if (write(wire->tun_fd, frame + ETH_HLEN, (size_t)len - ETH_HLEN) > 0)
		wire->to_tun++;
}

static int run(struct wire *wire)
{
	struct pollfd fds[2] = {
		{ .fd = wire->tun_fd, .events = POLLIN },
		{ .fd = wire->packet_fd, .events = POLLIN },
	};
	int ready;

	while (!stop_requested) {
		ready = poll(fds, 2, 200);
		if (ready < 0 && errno != EINTR) {
			fprintf(stderr, "dns-tunwire: poll: %s\n", strerror(errno));
			return -errno;
		}
		if (ready <= 0)
			continue;
		if (fds[0].revents & POLLIN)
			tun_to_peer(wire);
		if (fds[1].revents & POLLIN)
			peer_to_tun(wire);
	}
	return 0;
}

static int parse_mac(const char *text, uint8_t *mac)
{
	unsigned int byte[ETH_ALEN];
	int i;

	if (sscanf(text, "%x:%x:%x:%x:%x:%x", &byte[0], &byte[1], &byte[2], &byte[3], &byte[4],
		   &byte[5]) != ETH_ALEN)
		return -1;
	for (i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)byte[i];
	return 0;
}

static int parse_styles(char *list, struct wire *wire)
{
	char *saveptr = NULL, *name;
	int style;

	wire->style_count = 0;
	for (name = strtok_r(list, ",", &saveptr); name; name = strtok_r(NULL, ",", &saveptr)) {
		style = forge_style_parse(name);
		if (style < 0 || wire->style_count == STYLE_COUNT)
			return -1;
		wire->styles[wire->style_count++] = style;
	}
	return wire->style_count ? 0 : -1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: dns-tunwire --tun NAME --peer-netns PATH --peer-iface IFACE\n"
		"                   --peer-mac MAC [--inject STYLE[,STYLE...] --resolver ADDR...]\n"
		"                   [--answer4 ADDR] [--answer6 ADDR]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "tun", required_argument, NULL, 't' },
		{ "peer-netns", required_argument, NULL, 'n' },
		{ "peer-iface", required_argument, NULL, 'i' },
		{ "peer-mac", required_argument, NULL, 'm' },
		{ "inject", required_argument, NULL, 's' },
		{ "resolver", required_argument, NULL, 'r' },
		{ "answer4", required_argument, NULL, '4' },
		{ "answer6", required_argument, NULL, '6' },
		{ 0 },
	};
	struct wire wire = { .tun_fd = -1,
			     .packet_fd = -1,
			     .config = { .pool_size = 4, .ttl = 60 } };
	const char *tun_name = NULL, *peer_netns = NULL, *peer_iface = NULL;
	struct sigaction stop_action = { .sa_handler = on_stop_signal };
	bool have_peer_mac = false;
	struct ip_address address;
	int opt, style, err;

	inet_pton(AF_INET, "203.0.113.66", &wire.config.answer_v4);
	inet_pton(AF_INET6, "2001:db8:bad::66", &wire.config.answer_v6);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 't':
			tun_name = optarg;
			break;
		case 'n':
			peer_netns = optarg;
			break;
		case 'i':
			peer_iface = optarg;
			break;
		case 'm':
			if (parse_mac(optarg, wire.peer_mac))
				goto bad_usage;
			have_peer_mac = true;
			break;
		case 's':
			if (parse_styles(optarg, &wire))
				goto bad_usage;
			break;
		case 'r':
			if (wire.resolver_count == RESOLVERS_MAX ||
			    ip_address_parse(optarg, &wire.resolvers[wire.resolver_count]))
				goto bad_usage;
			wire.resolver_count++;
			break;
		case '4':
		case '6':
			if (ip_address_parse(optarg, &address) ||
			    address.family != (opt == '4' ? AF_INET : AF_INET6))
				goto bad_usage;
			if (opt == '4')
				wire.config.answer_v4 = address.v4;
			else
				wire.config.answer_v6 = address.v6;
			break;
		default:
			goto bad_usage;
		}
	}
	if (!tun_name || !peer_iface || !have_peer_mac ||
	    (wire.style_count && !wire.resolver_count))
		goto bad_usage;

	setvbuf(stdout, NULL, _IOLBF, 0);
	srandom((unsigned int)(time(NULL) ^ getpid()));
	sigaction(SIGTERM, &stop_action, NULL);
	sigaction(SIGINT, &stop_action, NULL);

	wire.tun_fd = open_tun(tun_name);
	if (wire.tun_fd < 0)
		return 1;
	err = peer_netns ? enter_netns(peer_netns) : 0;
	if (!err)
		err = open_peer_socket(peer_iface, &wire);
	if (err) {
		close(wire.tun_fd);
		return 1;
	}
	printf("wire tun=%s peer=%s forging=%d styles\n", tun_name, peer_iface, wire.style_count);

	err = run(&wire);
	close(wire.packet_fd);
	close(wire.tun_fd);
	printf("carried to_peer %lu to_tun %lu\n", wire.to_peer, wire.to_tun);
	for (style = 0; style < STYLE_COUNT; style++)
		if (wire.forgeries_by_style[style])
			printf("total style=%s %lu\n", forge_style_names[style],
			       wire.forgeries_by_style[style]);
	printf("total %lu\n", wire.forgeries_sent);
	return err ? 1 : 0;

bad_usage:
	usage(stderr);
	return 2;
}
