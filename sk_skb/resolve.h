/* SPDX-License-Identifier: GPL-2.0 */
/* Name lookups off the event loop (resolve.c): getaddrinfo() in a small
 * pool of threads, the answer handed back through an eventfd.
 */
#ifndef RESOLVE_H
#define RESOLVE_H

#include "fwd.h"

/* Addresses kept from one answer, in getaddrinfo()'s order. */
#define RESOLVE_MAX_ADDRS 4

struct resolve_request;
/* Called on the event loop with the answer; r is freed after it returns.
 * gai_err: 0, or getaddrinfo()'s error (EAI_*).
 */
typedef void (*resolve_done_fn)(void *owner, const struct resolve_request *r);

struct resolve_answer {
	int gai_err;
	int naddr;
	struct fwd_addr addr[RESOLVE_MAX_ADDRS];
};

/* A lookup of host, or NULL (queue full, out of memory, no thread). */
struct resolve_request *resolve_start(const char *host, resolve_done_fn done, void *owner);
/* done will not be called; the request is freed when no thread holds it. */
void resolve_cancel(struct resolve_request *r);
const struct resolve_answer *resolve_answer(const struct resolve_request *r);
/* The eventfd said answers are waiting: call their done functions. */
void resolve_event(void);

#endif
