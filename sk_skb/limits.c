// SPDX-License-Identifier: GPL-2.0
/* Who may connect, and how many connections one address may hold:
 * --allow CIDR and --max-conns-per-ip N.  The attacker is a client that
 * opens connections and keeps them (idle, or reading slowly) until no slot
 * is left for anyone else; --max-conns-per-ip bounds what one address takes
 * and --idle-timeout (flow.c) what an idle one keeps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"

#define BUCKETS 4096

struct per_ip {
	uint8_t addr[16];
	int count;
	struct per_ip *next;
};

static struct per_ip *table[BUCKETS];

/* IPv4 as IPv4-mapped IPv6, so that a dual-stack listener's IPv4 clients
 * and 0.0.0.0/0 rules meet the same key.
 */
static void key_of(const struct sockaddr_storage *ss, uint8_t *key)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		memcpy(key, mapped, 12);
		memcpy(key + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		memcpy(key, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	}
}

/* "192.0.2.0/24", "2001:db8::/32", or an address alone (/32, /128). */
int cidr_parse(const char *text, struct fwd_cidr *c)
{
	char addr[INET6_ADDRSTRLEN + 1], *end;
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	struct sockaddr_storage ss = { 0 };
	long bits;
	int max;

	if (len == 0 || len >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		ss.ss_family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	bits = max;
	if (slash) {
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || bits < 0 || bits > max)
			return -EINVAL;
	}
	key_of(&ss, c->addr);
	c->bits = (int)bits + (max == 32 ? 96 : 0);
	return 0;
}

static bool cidr_match(const struct fwd_cidr *c, const uint8_t *key)
{
	int full = c->bits / 8, rest = c->bits % 8;

	if (memcmp(c->addr, key, (size_t)full) != 0)
		return false;
	return rest == 0 || ((c->addr[full] ^ key[full]) & (0xff << (8 - rest))) == 0;
}

bool limits_allowed(const struct sockaddr_storage *ss)
{
	uint8_t key[16];
	int i;

	if (!cfg.allow)
		return true;
	key_of(ss, key);
	for (i = 0; i < cfg.nallow; i++)
		if (cidr_match(&cfg.allow[i], key))
			return true;
	return false;
}

static struct per_ip **slot_of(const uint8_t *key)
{
	uint32_t h = 2166136261u;
	struct per_ip **p;
	int i;

	for (i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	for (p = &table[h % BUCKETS]; *p; p = &(*p)->next)
		if (memcmp((*p)->addr, key, 16) == 0)
			break;
	return p;
}

/* One more flow from this address: 0, or -EUSERS past --max-conns-per-ip
 * (-ENOMEM if it cannot be counted).
 */
int limits_take(const struct sockaddr_storage *ss)
{
	struct per_ip **p;
	uint8_t key[16];

	if (cfg.max_per_ip <= 0)
		return 0;
	key_of(ss, key);
	p = slot_of(key);
	if (!*p) {
		*p = calloc(1, sizeof(**p));
		if (!*p)
			return -ENOMEM;
		memcpy((*p)->addr, key, 16);
	}
	if ((*p)->count >= cfg.max_per_ip)
		return -EUSERS;
	(*p)->count++;
	return 0;
}

/* A flow limits_take() counted has ended. */
void limits_put(const struct sockaddr_storage *ss)
{
	struct per_ip **p, *gone;
	uint8_t key[16];

	if (cfg.max_per_ip <= 0)
		return;
	key_of(ss, key);
	p = slot_of(key);
	if (!*p || --(*p)->count > 0)
		return;
	gone = *p;
	*p = gone->next;
	free(gone);
}
