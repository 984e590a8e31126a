/* SPDX-License-Identifier: GPL-2.0 */
/* A repeatable byte stream for end-to-end checks: both ends of a transfer
 * generate the same bytes from a seed, so the receiver checks every byte
 * without the data being stored anywhere.  splitmix64; every 8 bytes of the
 * stream are one output.
 */
#ifndef BYTE_STREAM_H
#define BYTE_STREAM_H

#include <stddef.h>
#include <stdint.h>

struct stream {
	uint64_t state, pos, word;
};

static inline uint64_t splitmix(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void stream_fill(struct stream *s, uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++, s->pos++) {
		if (s->pos % 8 == 0)
			s->word = splitmix(&s->state);
		buf[i] = (uint8_t)(s->word >> (8 * (s->pos % 8)));
	}
}

#endif
