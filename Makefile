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

REGRESS = $(patsubst test/sql/%.sql,%,$(sort $(wildcard test/sql/*.sql)))
REGRESS_OPTS = --inputdir=test --load-extension=$(EXTENSION)

PG_CPPFLAGS = -Isrc/core
PG_CFLAGS = -std=gnu11 -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers
SHLIB_LINK = -lprotobuf-c -lzstd -lz

EXTRA_CLEAN = src/core/profile.pb-c.c src/core/profile.pb-c.h build

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
include $(PGXS)

src/core/profile.pb-c.c src/core/profile.pb-c.h: src/core/profile.proto
	protoc-c --c_out=src/core --proto_path=src/core $<

$(CORE_SRCS:.c=.o) $(PG_SRCS:.c=.o): src/core/profile.pb-c.h

# --- core unit tests: plain C, malloc allocator, no server -------------
UNIT_CC ?= cc
UNIT_CFLAGS ?= -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter \
	-Wno-sign-compare -Wno-missing-field-initializers -Isrc/core
UNIT_LIBS = -lprotobuf-c -lzstd -lz
UNIT_TESTS = $(patsubst test/unit/%.c,build/unit/%,$(filter-out test/unit/unit.c,$(wildcard test/unit/test_*.c)))

build/unit/%: test/unit/%.c test/unit/unit.c $(CORE_SRCS) src/core/profile.pb-c.h
	@mkdir -p build/unit
	$(UNIT_CC) $(UNIT_CFLAGS) -o $@ $< test/unit/unit.c $(CORE_SRCS) $(UNIT_LIBS)

.PHONY: unit
unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do $$t; done

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

.PHONY: demo
demo:
	bash tools/demo.sh
