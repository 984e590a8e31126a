// SPDX-License-Identifier: GPL-2.0
/* clean-dns-watch: the drops (and would-be drops, in observe mode) of the
 * clean-dns programs, one line each, as they happen or after the fact.
 *
 *   clean-dns-watch [-d PIN_DIR] [-n COUNT] [-t SECONDS]   follow cdns_events
 *   clean-dns-watch --log [-d PIN_DIR]                     the last drops (cdns_log)
 *
 * A line: time (UTC), verdict, rule, resolver, client port, transaction ID,
 * question name (its first bytes) and type, the answer's address.  The
 * records are struct clean_dns_event (xdp/clean_dns_common.h), written by
 * report_drop in xdp/clean_dns.bpf.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clean_dns_common.h"

static const char *const counter_names[] = {
#define NAME(n) #n,
	CLEAN_DNS_COUNTERS(NAME)
#undef NAME
};

static volatile sig_atomic_t stop_requested;
static long events_left = -1;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *qtype_name(unsigned int qtype, char *buf, size_t len)
{
	static const struct {
		unsigned int type;
		const char *name;
	} names[] = { { 1, "A" },    { 2, "NS" },    { 5, "CNAME" },  { 6, "SOA" },
		      { 12, "PTR" }, { 15, "MX" },   { 16, "TXT" },   { 28, "AAAA" },
		      { 33, "SRV" }, { 64, "SVCB" }, { 65, "HTTPS" }, { 255, "ANY" } };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].type == qtype)
			return names[i].name;
	snprintf(buf, len, "TYPE%u", qtype);
	return buf;
}

/* The wire-format name's first bytes as text; "..." when cut short. */
static void qname_text(const __u8 *wire, char *out, size_t out_len)
{
	size_t pos = 0, o = 0;

	out[0] = '\0';
	while (pos < EVENT_QNAME_LEN) {
		unsigned int len = wire[pos++], i;

		if (len == 0) {
			if (o == 0 && o + 2 < out_len)
				out[o++] = '.';
			out[o] = '\0';
			return;
		}
		if (len > 63)
			break;
		for (i = 0; i < len; i++) {
			unsigned char c;

			if (pos >= EVENT_QNAME_LEN || o + 5 >= out_len)
				goto cut;
			c = wire[pos++];
			if (c > 0x20 && c < 0x7f && c != '.' && c != '\\')
				out[o++] = (char)c;
			else
				o += (size_t)snprintf(out + o, out_len - o, "\\%03u", c);
		}
		if (o + 2 >= out_len)
			break;
		out[o++] = '.';
	}
cut:
	if (o + 4 < out_len)
		memcpy(out + o, "...", 4);
	else
		out[o] = '\0';
}

static void address_text(const __u8 addr[16], char *out, size_t len)
{
	static const __u8 mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	static const __u8 zero[16];

	if (!memcmp(addr, zero, 16))
		snprintf(out, len, "-");
	else if (!memcmp(addr, mapped, 12))
		inet_ntop(AF_INET, addr + 12, out, (socklen_t)len);
	else
		inet_ntop(AF_INET6, addr, out, (socklen_t)len);
}

/* CLOCK_MONOTONIC nanoseconds (bpf_ktime_get_ns) as UTC wall-clock text. */
static void time_text(__u64 mono_ns, char *out, size_t len)
{
	struct timespec mono, real;
	long long real_ns;
	time_t secs;
	struct tm tm;

	clock_gettime(CLOCK_MONOTONIC, &mono);
	clock_gettime(CLOCK_REALTIME, &real);
	real_ns = (long long)real.tv_sec * 1000000000LL + real.tv_nsec -
		  ((long long)mono.tv_sec * 1000000000LL + mono.tv_nsec - (long long)mono_ns);
	secs = (time_t)(real_ns / 1000000000LL);
	gmtime_r(&secs, &tm);
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (real_ns % 1000000000LL) / 1000);
}

static void print_event(const struct clean_dns_event *ev)
{
	char when[96], resolver[INET6_ADDRSTRLEN], answer[INET6_ADDRSTRLEN], name[256], type[16];
	const char *verdict = "drop", *rule = "?";

	if (ev->reason >= COUNT_FIRST_WOULD_DROP && ev->reason < COUNT_FIRST_EVENT) {
		verdict = "would-drop";
		rule = counter_names[ev->reason] + strlen("would_drop_");
	} else if (ev->reason >= COUNT_FIRST_DROP && ev->reason < COUNT_FIRST_WOULD_DROP) {
		rule = counter_names[ev->reason] + strlen("drop_");
	}
	time_text(ev->time_ns, when, sizeof(when));
	address_text(ev->resolver, resolver, sizeof(resolver));
	address_text(ev->answer, answer, sizeof(answer));
	qname_text(ev->qname, name, sizeof(name));
	printf("%s %s %s from %s to port %u id 0x%04x %s %s answer %s\n", when, verdict, rule,
	       resolver, ntohs(ev->client_port), ntohs(ev->txid), name,
	       ev->qtype ? qtype_name(ev->qtype, type, sizeof(type)) : "-", answer);
	fflush(stdout);
}

static int on_event(void *ctx, void *data, size_t len)
{
	(void)ctx;
	if (len < sizeof(struct clean_dns_event))
		return 0;
	print_event(data);
	if (events_left > 0 && --events_left == 0)
		stop_requested = 1;
	return 0;
}

static int open_pinned(const char *dir, const char *name)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fd = -errno;
		fprintf(stderr, "clean-dns-watch: %s: %s (is clean-dns attached?)\n", path,
			strerror(errno));
	}
	return fd;
}

static int follow(const char *dir, double seconds)
{
	struct ring_buffer *rb = NULL;
	struct timespec start, now;
	int fd, err = 0;

	fd = open_pinned(dir, "cdns_events");
	if (fd < 0)
		return fd;
	rb = ring_buffer__new(fd, on_event, NULL, NULL);
	if (!rb) {
		err = -errno;
		fprintf(stderr, "clean-dns-watch: ring buffer: %s\n", strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!stop_requested) {
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0) {
			fprintf(stderr, "clean-dns-watch: poll: %s\n", strerror(-err));
			goto out;
		}
		err = 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (seconds > 0 &&
		    (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 >=
			    seconds)
			break;
	}
out:
	ring_buffer__free(rb);
	close(fd);
	return err;
}

static int by_time(const void *a, const void *b)
{
	const struct clean_dns_event *x = a, *y = b;

	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

/* Every CPU's ring of its last LOG_EVENTS_PER_CPU, merged by time. */
static int show_log(const char *dir)
{
	struct clean_dns_event *events = NULL;
	struct clean_dns_log *per_cpu = NULL;
	int ncpus = libbpf_num_possible_cpus(), fd, cpu, err = 0;
	size_t n = 0, i;
	__u32 zero = 0;

	if (ncpus <= 0)
		return -EINVAL;
	fd = open_pinned(dir, "cdns_log");
	if (fd < 0)
		return fd;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	events = calloc((size_t)ncpus * LOG_EVENTS_PER_CPU, sizeof(*events));
	if (!per_cpu || !events) {
		err = -ENOMEM;
		goto out;
	}
	if (bpf_map_lookup_elem(fd, &zero, per_cpu)) {
		err = -errno;
		fprintf(stderr, "clean-dns-watch: read %s/cdns_log: %s\n", dir, strerror(errno));
		goto out;
	}
	for (cpu = 0; cpu < ncpus; cpu++) {
		__u64 written = per_cpu[cpu].next;

		for (i = 0; i < LOG_EVENTS_PER_CPU && i < written; i++)
			events[n++] = per_cpu[cpu].events[i];
	}
	qsort(events, n, sizeof(*events), by_time);
	for (i = 0; i < n; i++)
		print_event(&events[i]);
out:
	free(per_cpu);
	free(events);
	close(fd);
	return err;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: clean-dns-watch [-d PIN_DIR] [-n COUNT] [-t SECONDS]\n"
		     "       clean-dns-watch --log [-d PIN_DIR]\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "pin-dir", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "log", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = "/sys/fs/bpf/tc/globals";
	double seconds = 0;
	bool log = false;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "d:n:t:lh", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			events_left = strtol(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'l':
			log = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	signal(SIGINT, on_stop_signal);
	signal(SIGTERM, on_stop_signal);
	libbpf_set_print(NULL);
	err = log ? show_log(dir) : follow(dir, seconds);
	return err ? 1 : 0;
}
