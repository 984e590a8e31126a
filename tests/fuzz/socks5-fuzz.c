// SPDX-License-Identifier: GPL-2.0
/* libFuzzer harness for sockfwd's SOCKS5 client (sk_skb/socks5.c) and its
 * address parsers (sk_skb/addr.c), built with ASan and UBSan.
 *
 * The first input byte picks what is fuzzed:
 *   bits 0-1  0: a whole handshake from the greeting reply on,
 *             1: from the RFC 1929 authentication reply, 2: from the
 *             CONNECT reply, 3: the rest is a proxy URL and a HOST:PORT
 *   bit 2     the proxy has a username and password
 *   bits 3-7  how the reply is cut into reads (1 byte at a time, all at once...)
 * The rest is what the proxy sends, read the way flow.c reads it: exactly
 * the bytes the parser asked for, into a buffer the size of flow.c's.
 * Each step is checked against an oracle written from RFC 1928 / 1929, not
 * from socks5.c; any difference aborts.
 *
 * SOCKS5_FUZZ_SEEDS=DIR: write the seeds (every reply code, every ATYP,
 * every truncation of a good reply, wrong versions, oversized names) to DIR
 * and exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../sk_skb/flow.h"

#define REPLY_BUF sizeof(((struct flow *)0)->reply)
#define OUT_BUF sizeof(((struct flow *)0)->out)

static unsigned long long inputs, connected, failed, truncated, urls_ok;
static bool code_seen[256], atyp_seen[256];

static void report_stats(void)
{
	int codes = 0, atyps = 0, i;

	for (i = 0; i < 256; i++) {
		codes += code_seen[i];
		atyps += atyp_seen[i];
	}
	fprintf(stderr,
		"socks5-fuzz: %llu inputs, %llu handshakes connected, %llu refused, "
		"%llu truncated, %llu proxy URLs parsed, %d reply codes, %d address types\n",
		inputs, connected, failed, truncated, urls_ok, codes, atyps);
}

#define CHECK(cond)                                                                         \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "socks5-fuzz: %s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                                           \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* The oracle: what RFC 1928 / 1929 (and sockfwd's documented leniency,
 * an authentication reply with version 5) make of a complete reply.
 */
static enum socks5_next expected(enum socks5_stage stage, bool has_auth, const uint8_t *r,
				 size_t len, size_t *total)
{
	switch (stage) {
	case SOCKS5_STAGE_GREETING:
		if (r[0] != 5)
			return SOCKS5_FAIL;
		if (r[1] == 0x02 && has_auth)
			return SOCKS5_SEND_AUTH;
		return r[1] == 0x00 ? SOCKS5_SEND_CONNECT : SOCKS5_FAIL;
	case SOCKS5_STAGE_AUTH:
		return (r[0] == 1 || r[0] == 5) && r[1] == 0 ? SOCKS5_SEND_CONNECT : SOCKS5_FAIL;
	case SOCKS5_STAGE_REQUEST:
		if (r[0] != 5 || r[1] != 0)
			return SOCKS5_FAIL;
		if (r[3] == 1)
			*total = 10;
		else if (r[3] == 4)
			*total = 22;
		else if (r[3] == 3)
			*total = 7 + (size_t)r[4];
		else
			return SOCKS5_FAIL;
		return *total > len ? SOCKS5_READ_MORE : SOCKS5_CONNECTED;
	}
	return SOCKS5_FAIL;
}

/* The proxy's bytes, read as flow.c's handshake_event reads them. */
static void fuzz_handshake(uint8_t mode, const uint8_t *data, size_t size)
{
	enum socks5_stage stage = (enum socks5_stage)(mode & 3);
	bool has_auth = mode & 4;
	uint32_t cut = mode >> 3;
	uint8_t reply[REPLY_BUF];
	size_t want = stage == SOCKS5_STAGE_REQUEST ? 5 : 2, have = 0, pos = 0, total = 0;
	int steps;

	for (steps = 0; steps < 8; steps++) {
		enum socks5_next got, want_next;
		char reason[160];

		/* One read: at most what is asked for, cut by the mode bits. */
		while (have < want) {
			size_t n = want - have;

			if (cut && n > cut)
				n = cut;
			if (n > size - pos)
				n = size - pos;
			if (n == 0) {
				truncated++; /* flow.c: "proxy closed the connection" */
				return;
			}
			memcpy(reply + have, data + pos, n);
			have += n;
			pos += n;
		}
		if (stage == SOCKS5_STAGE_REQUEST) {
			code_seen[reply[1]] = true;
			atyp_seen[reply[3]] = true;
		}
		want_next = expected(stage, has_auth, reply, have, &total);
		memset(reason, 0x55, sizeof(reason));
		got = socks5_parse_reply(stage, has_auth, reply, have, &want, reason,
					 sizeof(reason));
		CHECK(got == want_next);
		switch (got) {
		case SOCKS5_FAIL:
			CHECK(memchr(reason, '\0', sizeof(reason)) != NULL);
			CHECK(strncmp(reason, "socks5: ", 8) == 0);
			if (stage == SOCKS5_STAGE_REQUEST && reply[1] != 0)
				CHECK(strstr(reason, "reply ") != NULL);
			failed++;
			return;
		case SOCKS5_READ_MORE:
			CHECK(want == total);
			CHECK(want > have && want <= REPLY_BUF);
			continue;
		case SOCKS5_SEND_AUTH:
			stage = SOCKS5_STAGE_AUTH;
			want = 2;
			break;
		case SOCKS5_SEND_CONNECT:
			stage = SOCKS5_STAGE_REQUEST;
			want = 5;
			break;
		case SOCKS5_CONNECTED:
			/* Exactly the reply was read: what follows is the target's. */
			CHECK(have == total);
			connected++;
			return;
		}
		have = 0;
	}
	/* greeting, auth, request and one READ_MORE: four steps at most */
	CHECK(!"handshake did not end");
}

/* A proxy URL and a target as the command line gives them, then every
 * message built from them into a buffer the size of flow.c's.
 */
static void fuzz_addresses(const uint8_t *data, size_t size)
{
	struct fwd_proxy proxy;
	struct fwd_hostport target;
	char text[1024], *sep;
	uint8_t out[OUT_BUF];
	size_t n;

	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data, size);
	text[size] = '\0';
	/* "URL TARGET": a blank splits them, as in the configuration file. */
	sep = strchr(text, ' ');
	if (sep)
		*sep++ = '\0';
	if (parse_proxy_url(text, &proxy) == 0) {
		urls_ok++;
		CHECK(proxy.present && proxy.server.host[0] && proxy.server.port);
		CHECK(strlen(proxy.user) <= 255 && strlen(proxy.pass) <= 255);
		CHECK(proxy.has_auth == (proxy.user[0] != '\0'));
		n = socks5_greeting(&proxy, out);
		CHECK(n == (proxy.has_auth ? 4u : 3u) && out[0] == 5 && out[1] == n - 2);
		if (proxy.has_auth) {
			n = socks5_auth_request(&proxy, out);
			CHECK(n <= OUT_BUF && out[0] == 1 && n == 3u + out[1] + out[2 + out[1]]);
		}
	}
	if (sep && parse_hostport(sep, &target, false) == 0) {
		CHECK(target.port != 0 && strlen(target.host) < FWD_MAX_HOST);
		n = socks5_connect_request(&target, out);
		CHECK(n <= OUT_BUF && out[0] == 5 && out[1] == 1 && out[2] == 0);
		CHECK(out[3] == 1 || out[3] == 3 || out[3] == 4);
		CHECK(n == (out[3] == 1 ? 10u : out[3] == 4 ? 22u : 7u + out[4]));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	inputs++;
	if ((data[0] & 3) == 3)
		fuzz_addresses(data + 1, size - 1);
	else
		fuzz_handshake(data[0], data + 1, size - 1);
	return 0;
}

static void write_seed(const char *dir, const char *name, const uint8_t *bytes, size_t len)
{
	char path[512];
	FILE *file;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	file = fopen(path, "wb");
	if (!file || fwrite(bytes, 1, len, file) != len) {
		fprintf(stderr, "socks5-fuzz: cannot write %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fclose(file);
}

/* mode byte, greeting reply, [auth reply], CONNECT reply with ATYP atyp */
static size_t good_handshake(uint8_t *b, bool auth, uint8_t code, uint8_t atyp, uint8_t name_len)
{
	size_t n = 0, i;

	b[n++] = auth ? 4 : 0;
	b[n++] = 5;
	b[n++] = auth ? 2 : 0;
	if (auth) {
		b[n++] = 1;
		b[n++] = 0;
	}
	b[n++] = 5;
	b[n++] = code;
	b[n++] = 0;
	b[n++] = atyp;
	if (atyp == 1) {
		memcpy(b + n, "\xc6\x33\x64\x02", 4);
		n += 4;
	} else if (atyp == 4) {
		memcpy(b + n, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x02", 16);
		n += 16;
	} else if (atyp == 3) {
		b[n++] = name_len;
		for (i = 0; i < name_len; i++)
			b[n++] = 'a' + i % 26;
	} else {
		b[n++] = 0;
	}
	b[n++] = 0x04;
	b[n++] = 0x38;
	return n;
}

static void write_seeds(const char *dir)
{
	static const char *const urls[] = {
		"socks5://198.51.100.2:1080 203.0.113.2:5001",
		"socks5://user:pass@[2001:db8::2]:1080 [2001:db8::10]:443",
		"socks5://u:p@proxy.example:1 target.example:65535",
		"socks5://:p@h:1 h:0",
		"socks4://h:1 [::1",
	};
	uint8_t b[600];
	char name[64];
	size_t n, cut;
	int code, atyp, i;

	for (code = 0; code < 256; code++) {
		n = good_handshake(b, code & 1, (uint8_t)code, 1, 0);
		snprintf(name, sizeof(name), "reply-code-%d", code);
		write_seed(dir, name, b, n);
	}
	for (atyp = 0; atyp < 256; atyp++) {
		n = good_handshake(b, false, 0, (uint8_t)atyp, 9);
		snprintf(name, sizeof(name), "atyp-%d", atyp);
		write_seed(dir, name, b, n);
	}
	for (i = 0; i < 256; i += 51) {
		n = good_handshake(b, true, 0, 3, (uint8_t)i);
		snprintf(name, sizeof(name), "name-%d", i);
		write_seed(dir, name, b, n);
	}
	/* every truncation of a good handshake, read in 1-byte and whole pieces */
	n = good_handshake(b, true, 0, 4, 0);
	for (cut = 1; cut < n; cut++) {
		snprintf(name, sizeof(name), "truncated-%zu", cut);
		write_seed(dir, name, b, cut);
		b[0] |= 1 << 3;
		snprintf(name, sizeof(name), "truncated-bytewise-%zu", cut);
		write_seed(dir, name, b, cut);
		b[0] &= 7;
	}
	/* oversized: a good reply followed by what the target sends */
	n = good_handshake(b, false, 0, 1, 0);
	memset(b + n, 'X', 300);
	write_seed(dir, "reply-then-data", b, n + 300);
	/* wrong versions, methods and statuses in each reply */
	write_seed(dir, "greeting-version-4", (const uint8_t *)"\x00\x04\x00", 3);
	write_seed(dir, "greeting-no-method", (const uint8_t *)"\x04\x05\xff", 3);
	write_seed(dir, "greeting-auth-unasked", (const uint8_t *)"\x00\x05\x02", 3);
	write_seed(dir, "auth-version-5", (const uint8_t *)"\x01\x05\x00", 3);
	write_seed(dir, "auth-version-2", (const uint8_t *)"\x01\x02\x00", 3);
	write_seed(dir, "auth-status-1", (const uint8_t *)"\x01\x01\x01", 3);
	write_seed(dir, "request-version-4", (const uint8_t *)"\x02\x04\x00\x00\x01\1\2\3\4\0\1",
		   11);
	for (i = 0; i < (int)(sizeof(urls) / sizeof(urls[0])); i++) {
		b[0] = 3;
		memcpy(b + 1, urls[i], strlen(urls[i]));
		snprintf(name, sizeof(name), "url-%d", i);
		write_seed(dir, name, b, 1 + strlen(urls[i]));
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *seeds = getenv("SOCKS5_FUZZ_SEEDS");

	(void)argc;
	(void)argv;
	if (seeds) {
		write_seeds(seeds);
		exit(0);
	}
	atexit(report_stats);
	return 0;
}
