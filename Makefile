# clean-dns and sockfwd: BPF objects, the sockfwd helper, tests and install.
#   make            build everything under build/
#   make test       install test dependencies, build, lint, run the suite
#   make demo       show both features working in throwaway namespaces
#   make install    PREFIX=/usr/local DESTDIR=
#   V=1             show full commands

PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  ?= $(PREFIX)/sbin
BPFDIR   ?= $(PREFIX)/lib/bpf
SYSCONFDIR ?= /etc
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
MANDIR   ?= $(PREFIX)/share/man
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
# clean-dns's helper (not run by users): the script finds it at ../lib/clean-dns.
CLEAN_DNS_LIBDIR ?= $(PREFIX)/lib/clean-dns

BUILD    := build
CC       ?= cc
CLANG    ?= clang
LLVM_OBJCOPY ?= llvm-objcopy

ifeq ($(V),1)
Q :=
msg =
else
Q := @
msg = @printf '  %-8s %s\n' '$(1)' '$(2)';
endif

# clang -target bpf does not search the multiarch directory that holds
# asm/types.h on Debian; ask the host compiler where it is.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BPF_SYS_INCLUDES := $(if $(MULTIARCH),-I/usr/include/$(MULTIARCH))

BPF_CFLAGS := -O2 -g -std=gnu11 -Wall -Wextra -Werror \
	-Wno-unused-parameter -Iinclude $(BPF_SYS_INCLUDES)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Iinclude
LDLIBS_BPF := -lbpf -lelf -lz

# Every object is built twice: little-endian for x86/arm hosts, big-endian
# (build/bpfeb/) for MIPS routers.
BPF_OBJS := clean-dns.o clean-dns-tc.o sockfwd.o
BPF_TARGETS := $(addprefix $(BUILD)/,$(BPF_OBJS)) \
	$(addprefix $(BUILD)/bpfeb/,$(BPF_OBJS))

SOCKFWD_SRCS := $(filter-out %.bpf.c,$(wildcard sk_skb/*.c))
TOOL_SRCS := $(wildcard tests/tools/*.c)
TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/%,$(TOOL_SRCS))

.DELETE_ON_ERROR:
.PHONY: all tools test check demo bench fuzz fuzz-socks5 soak install uninstall clean deps

all: $(BPF_TARGETS) $(BUILD)/sockfwd $(BUILD)/clean-dns-watch $(BUILD)/clean-dns-tables

tools: $(TOOLS) $(BUILD)/tests/xdp-pass.o $(BUILD)/tests/tc-pass.o $(BUILD)/tests/frame-blast \
	$(BUILD)/fuzz/clean-dns-fuzz $(BUILD)/fuzz/socks5-fuzz

$(BUILD) $(BUILD)/bpfeb $(BUILD)/tests:
	$(Q)mkdir -p $@

# $(1): target triple, $(2): extra defines
define bpf_compile
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -target $(1) $(BPF_CFLAGS) $(2) -MMD -MP -MF $@.d -MT $@ -c $< -o $@.tmp
	$(Q)$(LLVM_OBJCOPY) --strip-debug $@.tmp $@
	$(Q)rm -f $@.tmp
endef

$(BUILD)/clean-dns.o: xdp/clean_dns.bpf.c | $(BUILD)
	$(call bpf_compile,bpfel,)
$(BUILD)/clean-dns-tc.o: xdp/clean_dns.bpf.c | $(BUILD)
	$(call bpf_compile,bpfel,-DCLEAN_DNS_TC)
$(BUILD)/sockfwd.o: sk_skb/sockfwd.bpf.c | $(BUILD)
	$(call bpf_compile,bpfel,)
$(BUILD)/bpfeb/clean-dns.o: xdp/clean_dns.bpf.c | $(BUILD)/bpfeb
	$(call bpf_compile,bpfeb,)
$(BUILD)/bpfeb/clean-dns-tc.o: xdp/clean_dns.bpf.c | $(BUILD)/bpfeb
	$(call bpf_compile,bpfeb,-DCLEAN_DNS_TC)
$(BUILD)/bpfeb/sockfwd.o: sk_skb/sockfwd.bpf.c | $(BUILD)/bpfeb
	$(call bpf_compile,bpfeb,)

$(BUILD)/tests/frame-blast: bench/frame-blast.c | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $< -o $@ $(LDFLAGS)

$(BUILD)/tests/xdp-pass.o: bench/xdp_pass.bpf.c | $(BUILD)/tests
	$(call bpf_compile,bpfel,)
$(BUILD)/tests/tc-pass.o: bench/tc_pass.bpf.c | $(BUILD)/tests
	$(call bpf_compile,bpfel,)

# clean-dns's drop log reader (clean-dns watch, clean-dns log).
$(BUILD)/clean-dns-watch: xdp/clean-dns-watch.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Ixdp -MMD -MP $< -o $@ $(LDFLAGS) $(LDLIBS_BPF)

# What scripts/clean-dns knows of the programs, from their headers, and its
# address conversions (clean-dns-tables.c).
$(BUILD)/clean-dns-tables: xdp/clean-dns-tables.c | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Ixdp -MMD -MP $< -o $@ $(LDFLAGS)

# gcc -MMD with several sources writes one .d for the last only: list headers.
$(BUILD)/sockfwd: $(SOCKFWD_SRCS) $(wildcard sk_skb/*.h) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -MMD -MP $(SOCKFWD_SRCS) -o $@ $(LDFLAGS) $(LDLIBS_BPF) -pthread

$(BUILD)/tests/%: tests/tools/%.c | $(BUILD)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Ixdp -MMD -MP $< -o $@ $(LDFLAGS) $(LDLIBS_BPF)

# The differential fuzzer: classify.h on the host next to the BPF objects.
FUZZ_CFLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror \
	-fsanitize=fuzzer,address,undefined -Iinclude -Ixdp
$(BUILD)/fuzz:
	$(Q)mkdir -p $@
$(BUILD)/fuzz/clean-dns-fuzz: tests/fuzz/clean-dns-fuzz.c | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP $< -o $@ $(LDLIBS_BPF)

# sockfwd's SOCKS5 reply parsers and address parsers (no BPF, no root).
$(BUILD)/fuzz/socks5-fuzz: tests/fuzz/socks5-fuzz.c sk_skb/socks5.c sk_skb/addr.c \
		$(wildcard sk_skb/*.h) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(filter %.c,$^) -o $@

FUZZ_SECONDS ?= 300
fuzz: all tools $(BUILD)/fuzz/clean-dns-fuzz
	$(Q)./tests/fuzz/run $(FUZZ_SECONDS)
fuzz-socks5: $(BUILD)/fuzz/socks5-fuzz
	$(Q)./tests/fuzz/run-socks5 $(FUZZ_SECONDS)

# sockfwd under load and faults (docs/sockfwd.md, Hardening): DURATION seconds.
DURATION ?= 600
soak: all tools
	$(Q)DURATION=$(DURATION) ./tests/soak/run

-include $(wildcard $(BUILD)/*.d $(BUILD)/bpfeb/*.d $(BUILD)/tests/*.d $(BUILD)/fuzz/*.d)

deps:
	$(Q)./scripts/install-deps

# Lint: formatting of our C, static analysis, shell scripts.
C_SRCS := $(wildcard xdp/*.c xdp/*.h sk_skb/*.c sk_skb/*.h include/*.h tests/tools/*.c tests/tools/*.h \
	tests/fuzz/*.c tests/fuzz/*.h bench/*.c)
SH_SRCS := scripts/clean-dns scripts/sockfwd-load scripts/sockfwd-transparent-iptables scripts/install-deps \
	tests/run tests/lib.sh tests/mutate \
	$(wildcard tests/*.sh bench/*.sh scripts/ifupdown/*/* scripts/openwrt/*)
SH_SRCS += $(addprefix tests/kernels/,run fetch-kernel build-initramfs run-guest guest-init)
SH_SRCS += tests/fuzz/run-socks5 tests/soak/run tests/soak/soak.sh
MAN_PAGES := $(wildcard man/*.8)
check:
	$(call msg,FORMAT,C sources)
	$(Q)clang-format --dry-run -Werror $(C_SRCS)
	$(call msg,CPPCHECK,C sources)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
		--inline-suppr -Iinclude -Ixdp -D__BPF__ '-DSEC(name)=' '-D__uint(name,val)=int name' \
		'-D__type(name,type)=type name' $(filter %.c,$(C_SRCS))
	$(call msg,SHELLCHECK,scripts)
	$(Q)shellcheck -S warning -x $(wildcard $(SH_SRCS))
	$(call msg,MANDOC,$(MAN_PAGES))
	$(Q)mandoc -Tlint -Wwarning $(MAN_PAGES)

test:
	$(Q)./scripts/install-deps
	$(Q)$(MAKE) --no-print-directory all tools check
	$(Q)./tests/run

# Mutation check (docs/testing.md): each mutant of tests/mutants/list must fail
# the tests it names; builds its own scratch copy under /tmp.  As root.
.PHONY: mutate
mutate:
	$(Q)./scripts/install-deps
	$(Q)./tests/mutate

# Kernel matrix: Debian's kernels under qemu (tests/kernels/README.md);
# KERNELS=6.1 runs one.  Results in build/kernels/results.md.
KERNELS ?= 5.10 6.1 6.12 host
.PHONY: test-kernels
test-kernels:
	$(Q)./scripts/install-deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)KERNELS="$(KERNELS)" ./tests/kernels/run

# Benchmarks write Markdown tables to bench/results.md (QUICK=1: short run).
bench:
	$(Q)./scripts/install-deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)./bench/run

demo:
	$(Q)./scripts/install-deps
	$(Q)$(MAKE) --no-print-directory all tools
	$(Q)./scripts/demo

# Boot integration: systemd units (their paths filled in from templates),
# ifupdown hooks, example configuration; with OPENWRT=1 also the procd init
# script, UCI config and hotplug hook.  An existing configuration file is
# never overwritten, and uninstall leaves configuration in place.
OPENWRT  ?=
SYSTEMD_UNITS := clean-dns@.service clean-dns-learn.service clean-dns-learn.timer sockfwd.service
DATADIR ?= $(PREFIX)/share/clean-dns
IFUPDOWN_DIR := $(SYSCONFDIR)/network
SUBST_PATHS = sed -e 's|@SBINDIR@|$(SBINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g'
# $(1): mode, $(2): source, $(3): destination; keeps an existing destination
install_config = if [ -e $(3) ]; then echo "keeping existing $(3)"; \
	else install -m $(1) $(2) $(3); fi

install: all install-boot
	install -d $(DESTDIR)$(BPFDIR) $(DESTDIR)$(BPFDIR)/bpfeb $(DESTDIR)$(SBINDIR)
	install -m 0644 $(addprefix $(BUILD)/,$(BPF_OBJS)) $(DESTDIR)$(BPFDIR)/
	install -m 0644 $(addprefix $(BUILD)/bpfeb/,$(BPF_OBJS)) $(DESTDIR)$(BPFDIR)/bpfeb/
	install -m 0755 $(BUILD)/sockfwd $(DESTDIR)$(SBINDIR)/sockfwd
	install -m 0755 scripts/clean-dns $(DESTDIR)$(SBINDIR)/clean-dns
	install -m 0755 $(BUILD)/clean-dns-watch $(DESTDIR)$(SBINDIR)/clean-dns-watch
	install -d $(DESTDIR)$(CLEAN_DNS_LIBDIR)
	install -m 0755 $(BUILD)/clean-dns-tables $(DESTDIR)$(CLEAN_DNS_LIBDIR)/clean-dns-tables
	install -m 0755 scripts/sockfwd-load $(DESTDIR)$(SBINDIR)/sockfwd-load
	install -d $(DESTDIR)$(DATADIR)
	install -m 0644 xdp/forged-addresses.list $(DESTDIR)$(DATADIR)/forged-addresses.list
	install -d $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(MAN_PAGES) $(DESTDIR)$(MANDIR)/man8/
	@# On the live system (no DESTDIR) the unprivileged user sockfwd.service runs as.
	if [ -z "$(DESTDIR)" ]; then \
		systemd-sysusers $(SYSUSERSDIR)/sockfwd.conf 2>/dev/null || \
		{ getent group sockfwd >/dev/null || groupadd --system sockfwd; \
		  getent passwd sockfwd >/dev/null || useradd --system --gid sockfwd \
			--home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin sockfwd; }; \
	fi

# The boot integration alone: nothing to build (part of install).
.PHONY: install-boot
install-boot:
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(SYSCONFDIR)/default \
		$(DESTDIR)$(IFUPDOWN_DIR)/if-up.d $(DESTDIR)$(IFUPDOWN_DIR)/if-down.d
	for unit in $(SYSTEMD_UNITS); do \
		$(SUBST_PATHS) scripts/systemd/$$unit.in >$(DESTDIR)$(SYSTEMDDIR)/$$unit && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$unit || exit 1; \
	done
	install -m 0755 scripts/ifupdown/if-up.d/clean-dns $(DESTDIR)$(IFUPDOWN_DIR)/if-up.d/clean-dns
	install -m 0755 scripts/ifupdown/if-down.d/clean-dns $(DESTDIR)$(IFUPDOWN_DIR)/if-down.d/clean-dns
	$(call install_config,0644,scripts/systemd/clean-dns.default,$(DESTDIR)$(SYSCONFDIR)/default/clean-dns)
	install -m 0644 scripts/systemd/sockfwd.conf.example $(DESTDIR)$(SYSCONFDIR)/sockfwd.conf.example
	install -d $(DESTDIR)$(SYSUSERSDIR)
	install -m 0644 scripts/systemd/sockfwd.sysusers $(DESTDIR)$(SYSUSERSDIR)/sockfwd.conf
ifeq ($(OPENWRT),1)
	install -d $(DESTDIR)$(SYSCONFDIR)/init.d $(DESTDIR)$(SYSCONFDIR)/config \
		$(DESTDIR)$(SYSCONFDIR)/hotplug.d/iface
	sed 's|^\(CLEAN_DNS=.*:-\)/usr/sbin/|\1$(SBINDIR)/|' scripts/openwrt/clean-dns.init \
		>$(DESTDIR)$(SYSCONFDIR)/init.d/clean-dns
	chmod 0755 $(DESTDIR)$(SYSCONFDIR)/init.d/clean-dns
	install -m 0644 scripts/openwrt/clean-dns.hotplug $(DESTDIR)$(SYSCONFDIR)/hotplug.d/iface/30-clean-dns
	$(call install_config,0644,scripts/openwrt/clean-dns.config,$(DESTDIR)$(SYSCONFDIR)/config/clean-dns)
endif

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BPFDIR)/,$(BPF_OBJS)) \
		$(addprefix $(DESTDIR)$(BPFDIR)/bpfeb/,$(BPF_OBJS))
	rmdir $(DESTDIR)$(BPFDIR)/bpfeb $(DESTDIR)$(BPFDIR) 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,sockfwd clean-dns clean-dns-watch sockfwd-load)
	rm -f $(DESTDIR)$(CLEAN_DNS_LIBDIR)/clean-dns-tables
	rmdir $(DESTDIR)$(CLEAN_DNS_LIBDIR) 2>/dev/null || true
	rm -f $(DESTDIR)$(DATADIR)/forged-addresses.list
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(notdir $(MAN_PAGES)))
	rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(SYSTEMD_UNITS))
	rm -f $(DESTDIR)$(IFUPDOWN_DIR)/if-up.d/clean-dns $(DESTDIR)$(IFUPDOWN_DIR)/if-down.d/clean-dns
	rm -f $(DESTDIR)$(SYSCONFDIR)/sockfwd.conf.example
	rm -f $(DESTDIR)$(SYSUSERSDIR)/sockfwd.conf
	rm -f $(DESTDIR)$(SYSCONFDIR)/init.d/clean-dns $(DESTDIR)$(SYSCONFDIR)/hotplug.d/iface/30-clean-dns
	@echo "kept configuration: $(SYSCONFDIR)/default/clean-dns, $(SYSCONFDIR)/config/clean-dns (if any)"

clean:
	rm -rf $(BUILD)
