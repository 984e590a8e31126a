/* SPDX-License-Identifier: GPL-2.0 */
/* Big-endian loads byte by byte: packet fields need not be aligned, and the
 * same code runs on little- and big-endian hosts and BPF targets.
 */
#ifndef CLEAN_DNS_BYTES_H
#define CLEAN_DNS_BYTES_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

static __always_inline __u16 load_be16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

static __always_inline __u32 load_be32(const __u8 *p)
{
	return (__u32)p[0] << 24 | (__u32)p[1] << 16 | (__u32)p[2] << 8 | p[3];
}

#endif
