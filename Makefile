# podwire — encrypted pod networking. Read top to bottom: settings, sources, binaries,
# tests, the two commands (demo, check), install.
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
CNIBINDIR ?= /opt/cni/bin
BUILD ?= build

PKGS := libsodium libnl-3.0 libnl-genl-3.0 libnl-route-3.0 libcjson libcurl libmicrohttpd libqrencode libsystemd yaml-0.1
CC ?= cc
CFLAGS ?= -O2 -g
# "override": the project's flags stay when CFLAGS/LDFLAGS come from the command line
# (make asan, make fuzz, or a packager's CFLAGS=...); those only add to them.
# The libraries' flags are asked of pkg-config when first used, not when make reads this file:
# `make demo` and `make check` install the libraries (hack/deps.sh) before anything is built.
pkg_cflags = $(eval pkg_cflags := $$(shell pkg-config --cflags $(PKGS) 2>/dev/null))$(pkg_cflags)
# libcurl is loaded when an etcd store is opened (mesh/libcurl.h): its headers only here.
pkg_libs = $(eval pkg_libs := $$(shell pkg-config --libs $(filter-out libcurl,$(PKGS)) 2>/dev/null))$(pkg_libs)
override CFLAGS += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
	-fstack-protector-strong -fPIE -pthread -I. $(pkg_cflags)
ifeq ($(findstring -O0,$(CFLAGS)),)
override CFLAGS += -D_FORTIFY_SOURCE=2
endif
override LDFLAGS += -pie -Wl,-z,relro,-z,now -Wl,--as-needed -pthread
override LDLIBS += $(pkg_libs)

# The CNI plugins run from the host's /opt/cni/bin on any Linux node (kind's node image,
# Ubuntu, Flatcar, Talos), where none of these libraries are: they are linked statically
# (static-pie) against Debian's libsodium.a and libnl-*.a, and a libcjson.a compiled here from
# Debian's cjson source package (Debian ships no libcjson.a; hack/deps.sh fetches that source
# with apt into CJSON_SRC, the same version as libcjson-dev). STATIC_PLUGINS=no links them
# like the other binaries: make asan does, as ASan has no static runtime.
# The plugins never ask the name service (getaddrinfo, getpwnam: lib/endpoint_resolve.c is
# not linked). The linker still warns about getaddrinfo and getprotobyname in libnl-3.a's
# addr.o and utils.o: they come with nl_addr_info() and nl_ip_proto2str(), which nothing in
# the plugins calls (ld --trace-symbol shows no reference to either).
STATIC_PLUGINS ?= yes
STATIC_BINS := podwire podwire-ipam
CJSON_SRC ?= /var/cache/podwire/cjson
CJSON_A := $(BUILD)/cjson/libcjson.a
STATIC_LDLIBS := -lnl-route-3 -lnl-3 -lsodium
is_static = $(and $(filter yes,$(STATIC_PLUGINS)),$(filter $(1),$(STATIC_BINS)))

# Each directory is a module. lib/ is shared by every binary; a binary's main.c lives in
# its own directory and everything else there is linkable by tests and other binaries.
# The modules, each after every module it uses (the link order): a module may use only
# modules listed before it, and as there is no --start-group a new cycle fails the link.
#   lib                   shared by all          datapath            the device API (lib)
#   datapath/userspace    podwire-wg (lib)       ipam                podwire-ipam (lib)
#   mesh                  store, records (lib)   plugin              podwire (lib)
#   daemon                podwired (mesh, datapath, lib)
#   cli                   podwirectl (mesh, datapath, lib)
MODULES := lib datapath datapath/userspace ipam mesh plugin daemon cli
mod_srcs = $(filter-out $(1)/main.c,$(wildcard $(1)/*.c))
mod_objs = $(patsubst %.c,$(BUILD)/%.o,$(call mod_srcs,$(1)))
mod_lib = $(BUILD)/lib$(subst /,-,$(1)).a
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))

BINS := podwirectl podwire-wg podwire podwire-ipam podwired
bin_dir_podwirectl := cli
bin_dir_podwire-wg := datapath/userspace
bin_dir_podwire := plugin
bin_dir_podwire-ipam := ipam
bin_dir_podwired := daemon
# Which modules each binary links, its own first, then each module after those that use it.
bin_mods_podwirectl := cli mesh datapath lib
bin_mods_podwire-wg := datapath/userspace lib
bin_mods_podwire := plugin lib
bin_mods_podwire-ipam := ipam lib
bin_mods_podwired := daemon mesh datapath lib

all: $(addprefix $(BUILD)/,$(BINS))

# Before the first object: are the libraries there? One message naming what is missing.
pkgcheck:
	@command -v pkg-config >/dev/null || { echo "podwire: pkg-config is not installed: run 'make deps' as root (or hack/deps.sh)" >&2; exit 1; }
	@missing=$$(for p in $(PKGS); do pkg-config --exists $$p || echo $$p; done); \
	[ -z "$$missing" ] || { echo "podwire: missing libraries:" $$missing "- run 'make deps' as root (or hack/deps.sh)" >&2; exit 1; }
	@[ "$(STATIC_PLUGINS)" != yes ] || [ -f $(CJSON_SRC)/cJSON.c ] || { echo "podwire: $(CJSON_SRC)/cJSON.c is missing" \
		"(the static CNI plugins link cJSON from Debian's source package): run 'make deps' as root (or hack/deps.sh)" >&2; exit 1; }

$(BUILD)/%.o: %.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

define module_rule
$(call mod_lib,$(1)): $(call mod_objs,$(1))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $(AR) rcs $$@ $$^
endef
$(foreach m,$(MODULES),$(eval $(call module_rule,$(m))))

define bin_rule
$(BUILD)/$(1): $(BUILD)/$(bin_dir_$(1))/main.o $(foreach m,$(bin_mods_$(1)),$(call mod_lib,$(m))) $(if $(call is_static,$(1)),$(CJSON_A))
	$$(CC) $$(LDFLAGS) $(if $(call is_static,$(1)),-static-pie) -o $$@ $$< $$(filter %.a,$$^) $(if $(call is_static,$(1)),$$(STATIC_LDLIBS),$$(LDLIBS))
endef
$(foreach b,$(BINS),$(eval $(call bin_rule,$(b))))

$(CJSON_A): $(CJSON_SRC)/cJSON.c | pkgcheck
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $(BUILD)/cjson/cJSON.o $<
	rm -f $@ && $(AR) rcs $@ $(BUILD)/cjson/cJSON.o

# Unit tests (cmocka): tests/unit/test_NAME.c links against every module, users first. Fixtures
# shared by several tests are header-only (tests/unit/world.h); -MMD rebuilds a test when they change.
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
ALL_MODLIBS := $(foreach m,$(call reverse,$(MODULES)),$(call mod_lib,$(m)))
$(BUILD)/tests/%: tests/unit/%.c $(ALL_MODLIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d -MT $@ $(LDFLAGS) -o $@ $< $(ALL_MODLIBS) $(LDLIBS) -lcmocka
unit: $(UNIT_BINS)

# ASan+UBSan build of everything; the test suite runs against it.
asan: deps
	$(MAKE) BUILD=build-asan STATIC_PLUGINS=no CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" all unit

# libFuzzer targets (clang): tests/fuzz/fuzz_NAME.c, each run for FUZZ_SECONDS. Seeds come from
# tests/fuzz/corpus/NAME/ when it exists and from FUZZ_SEEDS_NAME (the config parser starts from
# the test configs); what the fuzzer learns goes to build-fuzz/corpus-NAME/. `make fuzz-build`
# only builds them; FUZZ_NAMES=uapi (for example) picks targets.
FUZZ_SECONDS ?= 300
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRCS))
FUZZ_SEEDS_config := tests/configs/seed tests/configs/valid tests/configs/invalid
FUZZ_LIBS := $(ALL_MODLIBS:$(BUILD)/%=build-fuzz/%)
fuzz_build = clang -std=c11 -D_GNU_SOURCE -I. -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -o build-fuzz/fuzz_$(1) tests/fuzz/fuzz_$(1).c \
		$(FUZZ_LIBS) $(LDLIBS) &&
fuzz_run = mkdir -p build-fuzz/corpus-$(1) && \
	build-fuzz/fuzz_$(1) -max_total_time=$(FUZZ_SECONDS) build-fuzz/corpus-$(1) \
		$(wildcard tests/fuzz/corpus/$(1)) $(FUZZ_SEEDS_$(1)) &&
fuzz-build: deps
	$(MAKE) BUILD=build-fuzz CC=clang CFLAGS="-O1 -g -fsanitize=fuzzer-no-link,address,undefined \
		-fno-sanitize-recover=undefined" LDFLAGS="-fsanitize=address,undefined" $(FUZZ_LIBS)
	$(foreach n,$(FUZZ_NAMES),$(call fuzz_build,$(n))) true
fuzz: fuzz-build
	$(foreach n,$(FUZZ_NAMES),$(call fuzz_run,$(n))) true

# The committed corpora keep protecting the code without clang: each target is also built with
# the normal compiler and tests/fuzz/replay_main.c into $(BUILD)/tests/test_fuzz_NAME, a unit
# test (tests/run) that feeds it every file of tests/fuzz/corpus/NAME/ and fails if one aborts.
FUZZ_REPLAY_BINS := $(patsubst %,$(BUILD)/tests/test_fuzz_%,$(FUZZ_NAMES))
$(BUILD)/tests/test_fuzz_%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay_main.o $(ALL_MODLIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(ALL_MODLIBS) $(LDLIBS)
unit: $(FUZZ_REPLAY_BINS)

deps:
	@hack/deps.sh

check:
	@hack/deps.sh --check
	$(MAKE) all
	$(MAKE) asan
	tests/run

# deps first, then a new make: what it installed is seen by the build.
demo: deps
	$(MAKE) all
	hack/demo.sh $(if $(STORE),--store $(STORE))

# The container image podwire:VERSION (and :latest) in podman's storage, built offline from this
# host's Debian files; rebuilt only when what goes into it changed (hack/image.sh).
image: deps
	$(MAKE) all
	hack/image.sh $(BUILD)

# The soak (30 minutes by default) is not part of "make bench": "make soak" runs it.
bench: deps
	$(MAKE) all
	@for b in $(filter-out bench/soak.sh,$(wildcard bench/*.sh)); do echo "== $$b"; $$b || exit 1; done

soak: deps
	$(MAKE) all
	bench/soak.sh

# Around the binaries: man pages (scdoc sources in man/), bash completion and systemd units
# (contrib/), installed by "make install" under the same PREFIX/DESTDIR.
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
MAN_SRCS := $(wildcard man/*.scd)
MAN_PAGES := $(patsubst man/%.scd,$(BUILD)/man/%,$(MAN_SRCS))
UNIT_INS := $(wildcard contrib/systemd/*.in)
UNITS := $(patsubst contrib/systemd/%.in,$(BUILD)/systemd/%,$(UNIT_INS)) \
	$(patsubst contrib/systemd/%,$(BUILD)/systemd/%,$(filter-out %.in,$(wildcard contrib/systemd/*)))

$(BUILD)/man/%: man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@
man: $(MAN_PAGES)

# Units name the binaries where "make install" puts them.
$(BUILD)/systemd/%: contrib/systemd/%.in FORCE
	@mkdir -p $(dir $@)
	sed 's|@BINDIR@|$(BINDIR)|g' $< > $@
$(BUILD)/systemd/%: contrib/systemd/%
	@mkdir -p $(dir $@)
	cp $< $@
# BINDIR may differ between installs: always substitute again.
FORCE:

install-man: $(MAN_PAGES)
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(filter %.5,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 $(filter %.8,$(MAN_PAGES)) $(DESTDIR)$(MANDIR)/man8/
	ln -sf podwire.8 $(DESTDIR)$(MANDIR)/man8/podwire-ipam.8

install-completion:
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 contrib/completion/podwirectl.bash $(DESTDIR)$(BASHCOMPDIR)/podwirectl

install-systemd: $(UNITS)
	install -d $(DESTDIR)$(SYSTEMDUNITDIR)
	install -m 0644 $(UNITS) $(DESTDIR)$(SYSTEMDUNITDIR)/

# A Debian package built by Debian's tooling (debian/) from a copy of the tracked tree in
# $(BUILD)/deb/ (dpkg-buildpackage writes its results next to the source directory), then
# checked by lintian: $(BUILD)/deb/podwire_VERSION_ARCH.deb. hack/deps.sh --deb installs the tools.
DEB_DIR := $(BUILD)/deb
deb:
	@hack/deps.sh --deb
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/podwire
	git ls-files -z --cached --others --exclude-standard | xargs -0 tar -cf - | tar -xf - -C $(DEB_DIR)/podwire
	cd $(DEB_DIR)/podwire && dpkg-buildpackage -us -uc -b
	lintian --fail-on error --info $(DEB_DIR)/podwire_*.changes
	@ls $(DEB_DIR)/*.deb

.PHONY: fuzz-build man install-man install-completion install-systemd deb FORCE

install: all install-man install-completion install-systemd
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(CNIBINDIR)
	install -m 0755 $(BUILD)/podwirectl $(BUILD)/podwire-wg $(BUILD)/podwired $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/podwire $(BUILD)/podwire-ipam $(DESTDIR)$(CNIBINDIR)/

clean:
	rm -rf build build-asan build-fuzz

.PHONY: all pkgcheck unit asan fuzz deps check demo image bench soak install clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
