// SPDX-License-Identifier: GPL-2.0
/* clean-dns-tables: what scripts/clean-dns knows of the BPF programs, from
 * the headers they are compiled from, and the address conversions it needs.
 *
 *   clean-dns-tables shell         the tables as shell assignments, for eval
 *   clean-dns-tables key PREFIX    "TEXT BYTES": PREFIX written canonically and
 *                                  as the 20 hex bytes of its struct addr_key
 *                                  (host bits cleared), as bpftool takes keys
 *   clean-dns-tables text          a filter: each line's first word, the 20
 *                                  comma-separated hex bytes of a struct
 *                                  addr_key or the 16 of an address, becomes
 *                                  text; the rest of the line is kept
 *
 * IPv4 is stored IPv4-mapped with the prefix length + 96 (struct addr_key),
 * and written back as a.b.c.d/len.  A bad input is named in the message.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>
#include "clean_dns_common.h"
#include "default_resolvers.h"

#define KEY_BYTES ((int)sizeof(struct addr_key))

static const struct {
	const char *name;
	__u32 bit;
} rules[] = {
#define RULE_ROW(id, bit, name) { name, RULE_##id },
	CLEAN_DNS_RULES(RULE_ROW)
#undef RULE_ROW
};

/* struct clean_dns_settings: each field's name for `clean-dns set`, its
 * set_mask bit and its byte offset.
 */
static const struct {
	const char *name;
	__u32 bit;
	size_t offset;
} settings[] = {
#define SETTING_ROW(name, field, bit) { name, bit, offsetof(struct clean_dns_settings, field) },
	CLEAN_DNS_SETTINGS(SETTING_ROW)
#undef SETTING_ROW
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* The rule names of MASK joined by SEP, "none" when it has none. */
static void print_rule_names(__u32 mask, const char *sep)
{
	const char *s = "";
	size_t i;

	for (i = 0; i < N_ELEMS(rules); i++) {
		if (mask & rules[i].bit) {
			printf("%s%s", s, rules[i].name);
			s = sep;
		}
	}
	if (!*s)
		printf("none");
}

/* bpftool's name of a map type: the enum's suffix in lower case. */
static void print_lower(const char *s)
{
	for (; *s; s++)
		putchar(tolower((unsigned char)*s));
}

static void print_map(const char *name, const char *type, size_t key, size_t value,
		      unsigned long entries, unsigned long flags)
{
	printf("%s:", name);
	print_lower(type);
	printf(":%zu:%zu:%lu:%lu\n", key, value, entries, flags);
}

static void print_default(int family, const unsigned char *addr, __u32 mask)
{
	char text[INET6_ADDRSTRLEN];

	inet_ntop(family, addr, text, sizeof(text));
	printf("%s/%d=", text, family == AF_INET ? 32 : 128);
	print_rule_names(mask, ",");
	putchar('\n');
}

static void print_default_ipv6(const unsigned short groups[8], __u32 mask)
{
	unsigned char addr[16];
	int i;

	for (i = 0; i < 8; i++) {
		addr[2 * i] = groups[i] >> 8;
		addr[2 * i + 1] = groups[i] & 0xff;
	}
	print_default(AF_INET6, addr, mask);
}

/* Every word is a name, a number or an address: none needs quoting
 * beyond the single quotes around each value.
 */
static void print_shell(void)
{
	size_t i;

	printf("MAPS='\n");
#define MAP_ROW(name, type, key, value, entries, flags) \
	print_map(#name, #type, sizeof(key), sizeof(value), entries, flags);
#define RINGBUF_ROW(name, bytes) print_map(#name, "RINGBUF", 0, 0, bytes, 0);
	CLEAN_DNS_MAPS(MAP_ROW, RINGBUF_ROW)
#undef MAP_ROW
#undef RINGBUF_ROW
	printf("'\nRULES='");
	for (i = 0; i < N_ELEMS(rules); i++)
		printf("%s%s:%u", i ? " " : "", rules[i].name, rules[i].bit);
	printf("'\nRULES_ALL=%u\nOBSERVE_BIT=%u\nRULES_RECURSIVE='", (unsigned)RULES_ALL,
	       (unsigned)RULE_OBSERVE);
	print_rule_names(RULES_RECURSIVE, " ");
	printf("'\nSETTINGS_SIZE=%zu\nSETTINGS='", sizeof(struct clean_dns_settings));
	for (i = 0; i < N_ELEMS(settings); i++)
		printf("%s%s:%u:%zu", i ? " " : "", settings[i].name, settings[i].bit,
		       settings[i].offset);
	printf("'\nDEFAULT_RESOLVERS='\n");
#define V4_ROW(a, b, c, d, mask)                              \
	{                                                     \
		const unsigned char addr[4] = { a, b, c, d }; \
		print_default(AF_INET, addr, mask);           \
	}
	DEFAULT_RESOLVERS_IPV4(V4_ROW)
#undef V4_ROW
#define V6_ROW(g0, g1, g2, g3, g4, g5, g6, g7, mask)                                 \
	{                                                                            \
		const unsigned short groups[8] = { g0, g1, g2, g3, g4, g5, g6, g7 }; \
		print_default_ipv6(groups, mask);                                    \
	}
	DEFAULT_RESOLVERS_IPV6(V6_ROW)
#undef V6_ROW
	printf("'\n");
}

static int fail_input(const char *what, const char *input)
{
	fprintf(stderr, "clean-dns: %s in '%s'\n", what, input);
	return 1;
}

/* PREFIX (ADDR or ADDR/LEN) as a struct addr_key with the host bits cleared. */
static int parse_prefix(const char *input, struct addr_key *key)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(input, '/');
	size_t addr_len = slash ? (size_t)(slash - input) : strlen(input);
	unsigned int len, max, base, i;
	int v6;

	if (addr_len >= sizeof(addr))
		goto not_a_prefix;
	memcpy(addr, input, addr_len);
	addr[addr_len] = '\0';
	memset(key, 0, sizeof(*key));
	v6 = strchr(addr, ':') != NULL;
	if (v6) {
		if (inet_pton(AF_INET6, addr, key->addr) != 1)
			return fail_input("bad IPv6 address", input);
		max = 128;
		base = 0;
	} else if (strchr(addr, '.')) {
		if (inet_pton(AF_INET, addr, key->addr + 12) != 1)
			return fail_input("bad IPv4 address", input);
		key->addr[10] = key->addr[11] = 0xff;
		max = 32;
		base = 96;
	} else {
		goto not_a_prefix;
	}
	len = max;
	if (slash) {
		const char *digits = slash + 1;

		if (!*digits || strlen(digits) > 3 ||
		    strspn(digits, "0123456789") != strlen(digits))
			return fail_input("bad prefix length", input);
		len = (unsigned int)atoi(digits);
		if (len > max) {
			fprintf(stderr, "clean-dns: prefix length above %u in '%s'\n", max, input);
			return 1;
		}
	}
	key->prefixlen = base + len;
	for (i = 0; i < 16; i++) {
		unsigned int keep = key->prefixlen > 8 * i ? key->prefixlen - 8 * i : 0;

		if (keep < 8)
			key->addr[i] &= (unsigned char)(0xff << (8 - keep));
	}
	return 0;
not_a_prefix:
	fprintf(stderr, "clean-dns: not an address or prefix: '%s'\n", input);
	return 1;
}

/* The address (with "/LEN" when WITH_LEN) as text: IPv4-mapped as IPv4. */
static int format_prefix(const struct addr_key *key, int with_len, char *out, size_t out_len)
{
	static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
	char text[INET6_ADDRSTRLEN];
	unsigned int len = key->prefixlen;

	if (len > 128)
		return -1;
	if (memcmp(key->addr, mapped, sizeof(mapped)) == 0 && len >= 96) {
		inet_ntop(AF_INET, key->addr + 12, text, sizeof(text));
		len -= 96;
	} else {
		inet_ntop(AF_INET6, key->addr, text, sizeof(text));
	}
	if (with_len)
		snprintf(out, out_len, "%s/%u", text, len);
	else
		snprintf(out, out_len, "%s", text);
	return 0;
}

static int cmd_key(const char *input)
{
	const unsigned char *bytes;
	struct addr_key key;
	char text[INET6_ADDRSTRLEN + 4];
	int i;

	if (parse_prefix(input, &key))
		return 1;
	format_prefix(&key, 1, text, sizeof(text));
	printf("%s", text);
	bytes = (const unsigned char *)&key;
	for (i = 0; i < KEY_BYTES; i++)
		printf(" %02x", bytes[i]);
	putchar('\n');
	return 0;
}

/* WORD's comma-separated hex bytes (each with or without 0x, as bpftool
 * prints them) into OUT; returns how many, or -1 when one is bad or there
 * are more than MAX.
 */
static int hex_bytes(char *word, unsigned char *out, int max)
{
	char *tok, *save = NULL;
	int n = 0;

	for (tok = strtok_r(word, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *end;
		unsigned long v = strtoul(tok, &end, 16);

		if (n == max || *end || end == tok || v > 0xff)
			return -1;
		out[n++] = (unsigned char)v;
	}
	return n;
}

/* WORD, the bytes of a struct addr_key (20) or of an address (16), as
 * the prefix or the address in text.
 */
static int bytes_to_text(const char *word, char *text, size_t text_len)
{
	unsigned char bytes[KEY_BYTES];
	struct addr_key key;
	char copy[128]; /* 20 bytes written "0xff," are 100 characters */
	int n;

	if (strlen(word) >= sizeof(copy))
		return -1;
	strcpy(copy, word);
	n = hex_bytes(copy, bytes, KEY_BYTES);
	if (n == KEY_BYTES) {
		memcpy(&key, bytes, sizeof(key));
		return format_prefix(&key, 1, text, text_len);
	}
	if (n != 16)
		return -1;
	key.prefixlen = 128;
	memcpy(key.addr, bytes, 16);
	return format_prefix(&key, 0, text, text_len);
}

static int cmd_text(void)
{
	char *line = NULL, text[INET6_ADDRSTRLEN + 4];
	size_t line_cap = 0;
	int status = 0;

	while (getline(&line, &line_cap, stdin) >= 0) {
		char *rest;

		line[strcspn(line, "\n")] = '\0';
		rest = strchr(line, ' ');
		if (rest)
			*rest++ = '\0';
		if (bytes_to_text(line, text, sizeof(text)) < 0) {
			fprintf(stderr, "clean-dns: not the bytes of an address or a prefix: %s\n",
				line);
			status = 1;
			continue;
		}
		printf("%s%s%s\n", text, rest ? " " : "", rest ? rest : "");
	}
	free(line);
	return status;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "shell") == 0) {
		print_shell();
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "key") == 0)
		return cmd_key(argv[2]);
	if (argc == 2 && strcmp(argv[1], "text") == 0)
		return cmd_text();
	fprintf(stderr, "usage: clean-dns-tables shell | key PREFIX | text <LINES\n");
	return 2;
}
