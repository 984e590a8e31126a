/* SPDX-License-Identifier: GPL-2.0 */
/* Loads the clean-dns objects for BPF_PROG_TEST_RUN the way a device has
 * them: the tc object (ingress classifiers and egress recorders) and the XDP
 * object sharing one set of maps.  The maps are left unpinned, so nothing a
 * real installation uses is touched.
 */
#ifndef CDNS_HARNESS_H
#define CDNS_HARNESS_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "clean_dns_common.h"

struct cdns_maps {
	int counters, resolvers, bogus, queries, hops, tcp_conns, settings;
};

struct cdns_objects {
	struct bpf_object *tc;
	struct bpf_object *xdp;
	struct cdns_maps maps;
};

static inline int cdns_open(struct bpf_object **obj, const char *path, enum bpf_prog_type type,
			    struct bpf_object *share_maps_with)
{
	struct bpf_program *prog;
	struct bpf_map *map, *shared;
	int err;

	*obj = bpf_object__open_file(path, NULL);
	if (!*obj) {
		err = -errno;
		fprintf(stderr, "open %s: %s\n", path, strerror(errno));
		return err;
	}
	for (prog = bpf_object__next_program(*obj, NULL); prog;
	     prog = bpf_object__next_program(*obj, prog))
		bpf_program__set_type(prog, type);
	for (map = bpf_object__next_map(*obj, NULL); map; map = bpf_object__next_map(*obj, map)) {
		bpf_map__set_pin_path(map, NULL);
		if (!share_maps_with)
			continue;
		shared = bpf_object__find_map_by_name(share_maps_with, bpf_map__name(map));
		if (shared && bpf_map__reuse_fd(map, bpf_map__fd(shared))) {
			err = -errno;
			fprintf(stderr, "%s: share map %s: %s\n", path, bpf_map__name(map),
				strerror(errno));
			return err;
		}
	}
	err = bpf_object__load(*obj);
	if (err)
		fprintf(stderr, "load %s: %s\n", path, strerror(-err));
	return err;
}

static inline int cdns_map_fd(struct bpf_object *obj, const char *name)
{
	int fd = bpf_object__find_map_fd_by_name(obj, name);

	if (fd < 0)
		fprintf(stderr, "no map %s\n", name);
	return fd;
}

/* Loads BUILD_DIR/clean-dns-tc.o, then BUILD_DIR/clean-dns.o on its maps. */
static inline int cdns_load(struct cdns_objects *o, const char *build_dir)
{
	char path[512];
	int err;

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "%s/clean-dns-tc.o", build_dir);
	err = cdns_open(&o->tc, path, BPF_PROG_TYPE_SCHED_CLS, NULL);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/clean-dns.o", build_dir);
	err = cdns_open(&o->xdp, path, BPF_PROG_TYPE_XDP, o->tc);
	if (err)
		return err;
	o->maps.counters = cdns_map_fd(o->tc, "cdns_counters");
	o->maps.resolvers = cdns_map_fd(o->tc, "cdns_resolvers");
	o->maps.bogus = cdns_map_fd(o->tc, "cdns_bogus");
	o->maps.queries = cdns_map_fd(o->tc, "cdns_queries");
	o->maps.hops = cdns_map_fd(o->tc, "cdns_hops");
	o->maps.tcp_conns = cdns_map_fd(o->tc, "cdns_tcp_conns");
	o->maps.settings = cdns_map_fd(o->tc, "cdns_settings");
	if (o->maps.counters < 0 || o->maps.resolvers < 0 || o->maps.bogus < 0 ||
	    o->maps.queries < 0 || o->maps.hops < 0 || o->maps.tcp_conns < 0 ||
	    o->maps.settings < 0)
		return -ENOENT;
	return 0;
}

static inline void cdns_unload(struct cdns_objects *o)
{
	bpf_object__close(o->xdp);
	bpf_object__close(o->tc);
	memset(o, 0, sizeof(*o));
}

/* The program NAME from either object, or -1. */
static inline int cdns_prog_fd(const struct cdns_objects *o, const char *name)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(o->xdp, name);

	if (!prog)
		prog = bpf_object__find_program_by_name(o->tc, name);
	return prog ? bpf_program__fd(prog) : -1;
}

/* "192.0.2.0" or "2001:db8::" with LEN bits as an LPM key. */
static inline int cdns_prefix_key(struct addr_key *key, const char *text, int len)
{
	memset(key, 0, sizeof(*key));
	if (strchr(text, ':')) {
		key->prefixlen = (uint32_t)len;
		return inet_pton(AF_INET6, text, key->addr) == 1 ? 0 : -EINVAL;
	}
	key->addr[10] = key->addr[11] = 0xff;
	key->prefixlen = 96 + (uint32_t)len;
	return inet_pton(AF_INET, text, key->addr + 12) == 1 ? 0 : -EINVAL;
}

static inline int cdns_add_resolver(const struct cdns_maps *m, const char *prefix, int len,
				    uint32_t rules)
{
	struct addr_key key;
	struct resolver_policy policy = { .rules = rules };

	if (cdns_prefix_key(&key, prefix, len))
		return -EINVAL;
	return bpf_map_update_elem(m->resolvers, &key, &policy, BPF_ANY) ? -errno : 0;
}

static inline int cdns_add_bogus(const struct cdns_maps *m, const char *prefix, int len)
{
	struct addr_key key;
	uint32_t unused = 0;

	if (cdns_prefix_key(&key, prefix, len))
		return -EINVAL;
	return bpf_map_update_elem(m->bogus, &key, &unused, BPF_ANY) ? -errno : 0;
}

static inline int cdns_set(const struct cdns_maps *m, const struct clean_dns_settings *settings)
{
	uint32_t zero = 0;

	return bpf_map_update_elem(m->settings, &zero, settings, BPF_ANY) ? -errno : 0;
}

/* Empties a hash or LPM map. */
static inline void cdns_clear(int map_fd, size_t key_size)
{
	uint8_t key[64];
	int guard;

	if (key_size > sizeof(key))
		return;
	for (guard = 0; guard < 100000 && bpf_map_get_next_key(map_fd, NULL, key) == 0; guard++)
		bpf_map_delete_elem(map_fd, key);
}

/* The state the stateful rules keep, back to empty. */
static inline void cdns_clear_state(const struct cdns_maps *m)
{
	struct clean_dns_settings none = { 0 };

	cdns_clear(m->bogus, sizeof(struct addr_key));
	cdns_clear(m->queries, sizeof(struct query_key));
	cdns_clear(m->hops, sizeof(struct addr_key));
	cdns_clear(m->tcp_conns, sizeof(struct tcp_conn_key));
	cdns_set(m, &none);
}

static inline int cdns_read_counters(const struct cdns_maps *m, uint64_t sums[COUNT_MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	struct clean_dns_counters *per_cpu;
	uint32_t zero = 0;
	int cpu, i, err = 0;

	if (ncpus <= 0)
		return -EINVAL;
	per_cpu = calloc((size_t)ncpus, sizeof(*per_cpu));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(m->counters, &zero, per_cpu)) {
		err = -errno;
		fprintf(stderr, "read counters: %s\n", strerror(errno));
		goto out;
	}
	memset(sums, 0, sizeof(uint64_t) * COUNT_MAX);
	for (cpu = 0; cpu < ncpus; cpu++)
		for (i = 0; i < COUNT_MAX; i++)
			sums[i] += ((uint64_t *)&per_cpu[cpu])[i];
out:
	free(per_cpu);
	return err;
}

/* Runs one frame; returns the program's return value or a negative errno. */
static inline int cdns_run(int prog_fd, const void *frame, size_t len)
{
	uint8_t out[4096];
	struct bpf_test_run_opts opts = {
		.sz = sizeof(opts),
		.data_in = frame,
		.data_size_in = (uint32_t)len,
		.data_out = out,
		.data_size_out = sizeof(out),
		.repeat = 1,
	};

	if (bpf_prog_test_run_opts(prog_fd, &opts))
		return -errno;
	return (int)opts.retval;
}

#endif
