# Burrow: one non-recursive Makefile.
#   make [all]        build libburrow and the four programs under build/
#   make test         unit tests, then end-to-end tests; ends with "N passed, N failed"
#   make test-unit    unit tests only (CI runs these again with SANITIZE=1)
#   make test-netns   (root) burrow-sim in network namespaces: partition scenario
#   make bench        benchmarks, each printing "name: value" lines
#   make fuzz         libFuzzer harnesses (clang), run for FUZZ_SECONDS each
#   make demo         build, then run the README's main job (a drop through a local network)
#   make check-includes, install (PREFIX, DESTDIR), clean, deps
# Options: SANITIZE=1 (ASan+UBSan), WERROR=1, V=1 (show commands).

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
CC         ?= cc
PKGS       := libsodium libevent libevent_pthreads sqlite3 jansson
DEBS       := libsodium-dev libevent-dev libsqlite3-dev libjansson-dev pkg-config

CFLAGS     ?= -O2 -g
CFLAGS     += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wstrict-prototypes \
              -Wmissing-prototypes -Wno-unused-parameter -fno-strict-aliasing -pthread -I.
LDLIBS     += -pthread -lm

ifeq ($(SANITIZE),1)
B          := build-san
CFLAGS     += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS    += -fsanitize=address,undefined
else
B          := build
endif
ifeq ($(WERROR),1)
CFLAGS     += -Werror
endif
ifneq ($(V),1)
Q          := @
say         = @printf '  %-6s %s\n' $(1) $(2);
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS     += $(PKG_CFLAGS)
LDLIBS     := $(PKG_LIBS) $(LDLIBS)

# Each role folder: every .c except its *_main.c goes into lib<role>.a, so
# tests, benchmarks and sim/ link the same code the daemons run.
ROLES      := directory relay client sim
PROG_directory := burrow-dir
PROG_relay     := burrow-relay
PROG_client    := burrow
PROG_sim       := burrow-sim

COMMON_SRC := $(wildcard common/*.c)
COMMON_OBJ := $(COMMON_SRC:%.c=$(B)/%.o)
LIBCOMMON  := $(B)/libburrow.a
role_src    = $(filter-out %_main.c,$(wildcard $(1)/*.c))
role_main   = $(wildcard $(1)/*_main.c)
ROLE_LIBS  := $(foreach r,$(ROLES),$(B)/lib$(r).a)
PROGS      := $(foreach r,$(ROLES),$(if $(call role_main,$(r)),$(B)/$(PROG_$(r))))
TEST_SRC   := $(wildcard tests/test_*.c)
TESTS      := $(TEST_SRC:tests/%.c=$(B)/tests/%)
BENCH_SRC  := $(wildcard tests/bench/bench_*.c)
BENCHES    := $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS    := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
ALL_SRC    := $(COMMON_SRC) $(foreach r,$(ROLES),$(wildcard $(r)/*.c)) $(TEST_SRC) $(BENCH_SRC) \
              $(wildcard tests/*_util.c)
TEST_UTIL  := $(patsubst %.c,$(B)/%.o,$(wildcard tests/*_util.c))
FUZZ_SECONDS ?= 30

.SECONDARY:
.PHONY: all deps test test-unit test-netns bench fuzz demo check-includes install clean
all: deps $(PROGS) $(TESTS) $(BENCHES)

deps:
	@sh .ci/deps.sh $(DEBS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	$(call say,AR,$@)$(AR) rcs $@ $^

define role_rules
$(B)/lib$(1).a: $(patsubst %.c,$(B)/%.o,$(call role_src,$(1)))
	$$(call say,AR,$$@)rm -f $$@; $(AR) rcs $$@ $$^ $(B)/.empty.o
$(B)/$(PROG_$(1)): $(patsubst %.c,$(B)/%.o,$(call role_main,$(1))) $(B)/lib$(1).a $(LIBCOMMON)
	$$(call say,LD,$$@)$(CC) $(LDFLAGS) -o $$@ $$^ $(LDLIBS)
endef
$(foreach r,$(ROLES),$(eval $(call role_rules,$(r))))
$(ROLE_LIBS): $(B)/.empty.o
$(B)/.empty.o:
	@mkdir -p $(B)
	$(Q)echo 'typedef int burrow_empty_unit;' | $(CC) -x c -c -o $@ -

# Tests and benchmarks link every role library, so a test of relay/mix.c
# includes "relay/mix.h" and links the daemon's own code.
LINK_ALL = $(ROLE_LIBS) $(LIBCOMMON)
$(B)/tests/%: $(B)/tests/%.o $(TEST_UTIL) $(LINK_ALL)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(TEST_UTIL) $(LINK_ALL) $(LDLIBS)
$(B)/bench/%: $(B)/tests/bench/%.o $(TEST_UTIL) $(LINK_ALL)
	@mkdir -p $(dir $@)
	$(call say,LD,$@)$(CC) $(LDFLAGS) -o $@ $< $(TEST_UTIL) $(LINK_ALL) $(LDLIBS)

test-unit: all
	@BUILD=$(B) sh tests/run unit
test: all
	@BUILD=$(B) sh tests/run all
# Network-namespace tests (root): not part of `make test`, since they need
# a kernel and privileges that not every machine has.
test-netns: all
	@for t in tests/netns/*.sh; do [ "$$(basename $$t)" = lib.sh ] && continue; \
	  BUILD=$(B) timeout 600 sh $$t || exit 1; done
bench: all
	@BUILD=$(B) sh tests/bench/run

# Fuzzers: clang + libFuzzer + ASan + UBSan over the same sources; the
# library is built once (fuzzer-no-link) and each harness links it.
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -I. -pthread $(PKG_CFLAGS) \
               -fsanitize=address,undefined -DBURROW_FUZZ
FUZZ_LIBSRC := $(COMMON_SRC) $(foreach r,$(ROLES),$(call role_src,$(r)))
FUZZ_OBJ    := $(FUZZ_LIBSRC:%.c=build-fuzz/obj/%.o)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$@)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
build-fuzz/libburrow-fuzz.a: $(FUZZ_OBJ)
	$(call say,AR,$@)rm -f $@; $(AR) rcs $@ $^
build-fuzz/%: tests/fuzz/%.c build-fuzz/libburrow-fuzz.a
	$(call say,FUZZ,$@)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		build-fuzz/libburrow-fuzz.a $(LDLIBS)
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p build-fuzz/corpus-$$n; \
	  seeds=; [ -d tests/fuzz/seeds/$$n ] && seeds=tests/fuzz/seeds/$$n; \
	  echo "fuzz $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build-fuzz/corpus-$$n $$seeds 2>&1 \
	    | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' || exit 1; done

demo: all
	@$(B)/burrow-sim demo

check-includes:
	@sh .ci/check-includes.sh

DOCDIR     ?= $(PREFIX)/share/doc/burrow
UNITDIR    ?= $(PREFIX)/lib/systemd/system
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(UNITDIR)
	install -m 0755 $(PROGS) $(DESTDIR)$(BINDIR)/
	sed 's|/usr/local/bin|$(BINDIR)|g' relay/burrow-relay.service \
		> $(DESTDIR)$(UNITDIR)/burrow-relay.service
	install -m 0644 relay/burrow-relay.conf.sample directory/burrow-dir.conf.sample \
		README.md docs/*.md $(DESTDIR)$(DOCDIR)/

clean:
	rm -rf build build-san build-fuzz

-include $(ALL_SRC:%.c=$(B)/%.d)
