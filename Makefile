# profile_ext: PGXS build.  `make && make install && make installcheck`;
# `make unit` builds and runs the core's C unit tests (no server needed).

EXTENSION = profile_ext
MODULE_big = profile_ext
DATA = $(wildcard sql/profile_ext--*.sql)
PGFILEDESC = "profile_ext - continuous profiling store"

CORE_SRCS = $(filter-out src/core/profile.pb-c.c,$(wildcard src/core/*.c)) \
	src/core/profile.pb-c.c
PG_SRCS = $(wildcard src/pg/*.c)
OBJS = $(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o)

# pg_regress inputs in sql/ (beside the extension scripts, kept apart by name), outputs in
# expected/: the PGXS defaults.
REGRESS = $(filter-out $(EXTENSION)--%,$(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql))))
REGRESS_OPTS = --load-extension=$(EXTENSION)

# The version the library reports (PostgreSQL 18's magic block): the control file's.
PE_VERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" $(EXTENSION).control)
PG_CPPFLAGS = -Isrc/core -DPE_VERSION='"$(PE_VERSION)"'
PG_CFLAGS = -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK = -lprotobuf-c -lzstd -ldeflate -lz

EXTRA_CLEAN = src/core/profile.pb-c.c src/core/profile.pb-c.h build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
include $(PGXS)

src/core/profile.pb-c.c src/core/profile.pb-c.h: src/core/profile.proto
	protoc-c --c_out=src/core --proto_path=src/core $<

# Every object depends on every header: structs are shared, and a stale
# object with an old layout would crash the server.
$(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o): src/core/profile.pb-c.h $(wildcard src/core/*.h src/pg/*.h)

# --- profile-gateway (src/gateway): the Pyroscope-compatible receiver, a program built
# next to the extension and installed into `pg_config --bindir`.  Its own objects under
# build/gw (the core compiled without PGXS' flags), Connect protos compiled by protoc-c.
GW_BIN = src/gateway/profile-gateway
GW_SRCS = $(wildcard src/gateway/*.c)
GW_GEN = build/gw/gen
GW_GEN_SRCS = $(GW_GEN)/types/v1/types.pb-c.c $(GW_GEN)/push/v1/push.pb-c.c
GW_OBJS = $(patsubst src/gateway/%.c,build/gw/%.o,$(GW_SRCS)) \
	$(patsubst src/core/%.c,build/gw/core/%.o,$(CORE_SRCS)) $(GW_GEN_SRCS:.c=.o)
GW_CFLAGS = -std=gnu11 -O2 -g -pthread -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers -Isrc/core -Isrc/gateway -I$(GW_GEN) \
	-I$(shell $(PG_CONFIG) --includedir)
GW_LIBS = -L$(shell $(PG_CONFIG) --libdir) -lpq -lmicrohttpd -lcurl -lyaml -lprotobuf-c -lzstd -ldeflate -lz -pthread

$(GW_GEN)/types/v1/types.pb-c.c $(GW_GEN)/types/v1/types.pb-c.h \
$(GW_GEN)/push/v1/push.pb-c.c $(GW_GEN)/push/v1/push.pb-c.h: \
		src/gateway/proto/types/v1/types.proto src/gateway/proto/push/v1/push.proto
	@mkdir -p $(GW_GEN)
	protoc-c --c_out=$(GW_GEN) --proto_path=src/gateway/proto types/v1/types.proto push/v1/push.proto

build/gw/%.o: src/gateway/%.c $(wildcard src/gateway/*.h src/core/*.h) $(GW_GEN)/push/v1/push.pb-c.h
	@mkdir -p build/gw
	$(CC) $(GW_CFLAGS) -c -o $@ $<

build/gw/core/%.o: src/core/%.c src/core/profile.pb-c.h $(wildcard src/core/*.h)
	@mkdir -p build/gw/core
	$(CC) $(GW_CFLAGS) -c -o $@ $<

$(GW_GEN)/%.pb-c.o: $(GW_GEN)/%.pb-c.c
	$(CC) $(GW_CFLAGS) -c -o $@ $<

$(GW_BIN): $(GW_OBJS)
	$(CC) $(GW_CFLAGS) -o $@ $(GW_OBJS) $(GW_LIBS)

EXTRA_CLEAN += $(GW_BIN)

all: $(GW_BIN)

.PHONY: install-gateway uninstall-gateway
install: install-gateway
install-gateway: $(GW_BIN)
	$(MKDIR_P) '$(DESTDIR)$(bindir)'
	$(INSTALL_PROGRAM) $(GW_BIN) '$(DESTDIR)$(bindir)/profile-gateway'
uninstall: uninstall-gateway
uninstall-gateway:
	rm -f '$(DESTDIR)$(bindir)/profile-gateway'


# --- core unit tests: plain C, malloc allocator, no server -------------
UNIT_CC ?= cc
UNIT_CFLAGS ?= -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers -Isrc/core -Itest/common
UNIT_LIBS = -lprotobuf-c -lzstd -ldeflate -lz
# linked into every unit test: the check macros and the shared pprof builder
UNIT_COMMON = test/unit/unit.c test/common/pb_builder.c
UNIT_TESTS = $(patsubst test/unit/%.c,build/unit/%,$(filter-out test/unit/unit.c,$(wildcard test/unit/test_*.c)))

build/unit/%: test/unit/%.c $(UNIT_COMMON) $(CORE_SRCS) src/core/profile.pb-c.h
	@mkdir -p build/unit
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ $< $(UNIT_COMMON) $(CORE_SRCS) $(UNIT_LIBS)

# the gateway's parsers and label rules (no libpq, no HTTP server)
GW_UNIT_SRCS = $(addprefix src/gateway/,gw_common.c gw_labels.c gw_json.c gw_multipart.c \
	gw_push.c gw_profile.c gw_delta.c)
GW_UNIT_TESTS = $(patsubst test/gateway/unit/%.c,build/unit/%,$(wildcard test/gateway/unit/test_*.c))

build/unit/test_gw_%: test/gateway/unit/test_gw_%.c $(UNIT_COMMON) $(GW_UNIT_SRCS) \
		$(CORE_SRCS) $(GW_GEN)/push/v1/push.pb-c.h $(wildcard src/gateway/*.h)
	@mkdir -p build/unit
	$(UNIT_CC) $(UNIT_CFLAGS) -Isrc/gateway -Itest/unit -I$(GW_GEN) -o $@ $< $(UNIT_COMMON) \
		$(GW_UNIT_SRCS) $(GW_GEN_SRCS) $(CORE_SRCS) $(UNIT_LIBS)

# the scraper's YAML configuration parser (libyaml only)
build/unit/test_gw_config: test/unit/test_gw_config.c $(UNIT_COMMON) src/gateway/gw_config.c \
		src/gateway/gw_config.h $(CORE_SRCS) src/core/profile.pb-c.h
	@mkdir -p build/unit
	$(UNIT_CC) $(UNIT_CFLAGS) -Isrc/gateway -o $@ $< $(UNIT_COMMON) src/gateway/gw_config.c \
		$(CORE_SRCS) $(UNIT_LIBS) -lyaml

.PHONY: unit
unit: $(UNIT_TESTS) $(GW_UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS) $(GW_UNIT_TESTS); do $$t; done

# the TAP tests (test/t/*.pl, PostgreSQL::Test::Cluster) against the installed extension
.PHONY: tap
tap:
	bash test/t/run.sh

# --- the single test command: deps (apt, as root), build, install, unit tests, a temporary
# cluster, installcheck, test/scripts/*.sh; last line "N passed, N failed" -------------
.PHONY: test
test:
	bash test/run_all.sh

# --- the demo (`make demo`: tools/demo.sh) and its data generator tools/gen/pe_gen -------
GEN_SRCS = $(wildcard tools/gen/*.c)
tools/gen/pe_gen: $(GEN_SRCS) $(wildcard tools/gen/*.h) src/core/profile.pb-c.c src/core/profile.pb-c.h
	$(UNIT_CC) -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
		-Wno-missing-field-initializers -Isrc/core -Itools/gen -o $@ $(GEN_SRCS) \
		src/core/profile.pb-c.c -lprotobuf-c -lz -lm
EXTRA_CLEAN += tools/gen/pe_gen

# the stage drivers over src/core (merge_driver.c and ingest_driver.c explain): times and,
# under callgrind, instruction counts per stage; built with the server's code generation
# flags.  `make bench` builds them (test/bench/run.sh's floor rows).
BENCH_DRIVERS = build/bench/merge_driver build/bench/ingest_driver
build/bench/%_driver: test/bench/%_driver.c $(wildcard test/bench/*.h) test/unit/unit.c src/core/profile.pb-c.h \
		$(CORE_SRCS) $(wildcard src/core/*.h)
	@mkdir -p build/bench
	$(UNIT_CC) -std=gnu11 -O2 -fno-strict-aliasing -fwrapv -g -Wall -Wextra -Wno-unused-parameter \
		-Wno-sign-compare -Wno-missing-field-initializers -Isrc/core -Itest/unit -o $@ $< \
		test/unit/unit.c $(CORE_SRCS) $(UNIT_LIBS)

.PHONY: bench-drivers
bench-drivers: $(BENCH_DRIVERS)

.PHONY: demo demo-gateway
demo:
	bash tools/demo.sh

# the same story fed through profile-gateway: SDK-style pushes instead of one COPY
demo-gateway:
	PROFILE_EXT_DEMO_VIA=gateway bash tools/demo.sh

# `make demo-scrape`: a real Go service scraped by profile-gateway --config (tools/demo_scrape.sh)
.PHONY: demo-scrape
demo-scrape:
	bash tools/demo_scrape.sh

# --- fuzzing (test/fuzz/README.md): libFuzzer + ASan/UBSan, clang (Debian: clang,
# libclang-rt-14-dev).  `make fuzz FUZZ_SECONDS=60` builds every target into build/fuzz/,
# makes the seeds and runs each target for FUZZ_SECONDS; `make fuzz-build` only builds.
FUZZ_CC ?= $(shell command -v clang-14 || command -v clang || echo clang)
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = fuzz_pprof fuzz_stored fuzz_folded fuzz_merge_diff fuzz_gateway
FUZZ_CFLAGS = -std=gnu11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -Isrc/core -Itest/fuzz
FUZZ_OBJS = $(patsubst src/core/%.c,build/fuzz/obj/%.o,$(CORE_SRCS))

build/fuzz/obj/%.o: src/core/%.c src/core/profile.pb-c.h $(wildcard src/core/*.h)
	@mkdir -p build/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/fuzz_common.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
		-lprotobuf-c -lzstd -ldeflate -lz

# fuzz_gateway: the gateway's request parsers (no HTTP server, no libpq) on the core.
FUZZ_GW_CFLAGS = $(FUZZ_CFLAGS) -Isrc/gateway -I$(GW_GEN)
FUZZ_GW_OBJS = $(patsubst %,build/fuzz/gw/%.o,gw_common gw_json gw_labels gw_multipart gw_push \
	gw_profile gw_delta) build/fuzz/gw/types.pb-c.o build/fuzz/gw/push.pb-c.o

build/fuzz/gw/%.o: src/gateway/%.c $(wildcard src/gateway/*.h src/core/*.h) $(GW_GEN)/push/v1/push.pb-c.h
	@mkdir -p build/fuzz/gw
	$(FUZZ_CC) $(FUZZ_GW_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

build/fuzz/gw/%.pb-c.o: $(GW_GEN)/types/v1/types.pb-c.c $(GW_GEN)/push/v1/push.pb-c.c
	@mkdir -p build/fuzz/gw
	$(FUZZ_CC) $(FUZZ_GW_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ \
		$(filter %/$*.pb-c.c,$(GW_GEN)/types/v1/types.pb-c.c $(GW_GEN)/push/v1/push.pb-c.c)

build/fuzz/fuzz_gateway: test/fuzz/fuzz_gateway.c test/fuzz/fuzz_common.h $(FUZZ_OBJS) $(FUZZ_GW_OBJS)
	$(FUZZ_CC) $(FUZZ_GW_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) $(FUZZ_GW_OBJS) \
		-lprotobuf-c -lzstd -ldeflate -lz

.PHONY: fuzz fuzz-build
fuzz-build: $(addprefix build/fuzz/,$(FUZZ_TARGETS))

fuzz: fuzz-build
	bash test/fuzz/make_seeds.sh
	@set -e; for t in $(FUZZ_TARGETS); do \
		bash test/fuzz/run_fuzz.sh $$t $(FUZZ_SECONDS); done

# --- benchmarks (`make bench`: test/bench/run.sh, then test/bench/sharding.sh for the
# pushed-down sharded merge): tables of measurements against
# their baselines; sizes via PE_BENCH_* (see the script's header) -------------------------
.PHONY: bench
bench:
	bash test/bench/run.sh
	bash test/bench/sharding.sh
