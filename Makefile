# sipcfg: build, test, run.  `make run` and `make test` install what is missing.
#
# Two builds share the sources:
#   build/      -O2 -g, what `make run` starts and `make bench` measures
#   build/asan/ -O1 with AddressSanitizer + UndefinedBehaviorSanitizer, what `make test` runs
# Every directory is globbed, so a new module is a new .c/.h pair, not a Makefile edit.

CC       ?= cc
# Debian's python3 sees python3-yaml from scripts/deps.sh; a pyenv one on PATH may not.
PYTHON   ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
PKGS     := libmicrohttpd jansson libcares nettle zlib
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
TEST_LIBS  = $(shell pkg-config --libs cmocka 2>/dev/null)
# libcurl: only the CLI links it (sipcfg provision talks to phones' REST APIs).
CLI_LIBS   = $(shell pkg-config --libs libcurl 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wvla -Wstrict-prototypes \
            -Wmissing-prototypes -Wno-unused-parameter
COMMON_CFLAGS = -std=c11 -D_GNU_SOURCE -DSIPCFG_DEFAULT_FLASH='"$(CURDIR)/var/flash.img"' $(WARN) \
            $(PKG_CFLAGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIC
# The layers: lib/ sees only itself and include/, so an include of server/ or
# api/ from lib/ fails the build (docs/ARCHITECTURE.md).
LIB_CFLAGS  = -Iinclude -Ilib $(COMMON_CFLAGS)
BASE_CFLAGS = -Iinclude -Ilib -Iserver -Iapi -Ibuild/gen $(COMMON_CFLAGS)
# server/ does not see api/ either; only server/main.c, which wires the layers.
SERVER_CFLAGS = -Iinclude -Ilib -Iserver -Ibuild/gen $(COMMON_CFLAGS)
OPT_CFLAGS  := -O2 -g
SAN_CFLAGS  := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined

LIB_SRC    := $(sort $(wildcard lib/*.c))
DAEMON_SRC := $(sort $(wildcard server/*.c api/*.c))
CLI_SRC    := $(sort $(filter-out tools/embed.c,$(wildcard tools/*.c)))
UNIT_SRC   := $(sort $(wildcard tests/unit/test_*.c))
ITEST_SRC  := $(sort $(wildcard tests/integration/test_*.c))
# Programs on the public API only (include/sipcfg.h), as a SIP core uses it.
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
WWW_FILES  := $(sort $(wildcard www/*))

# ---- generic rules for one build flavour: $(1)=dir, $(2)=cflags, $(3)=ldflags
define flavour
$(1)/obj/%.o: %.c $(wildcard lib/*.h include/*.h server/*.h api/*.h tools/*.h tests/unit/*.h tests/integration/*.h) | build/gen/www_assets.c
	@mkdir -p $$(dir $$@)
	$(CC) $(BASE_CFLAGS) $(2) -c $$< -o $$@

$(1)/obj/server/%.o: server/%.c $(wildcard lib/*.h include/*.h server/*.h) | build/gen/www_assets.c
	@mkdir -p $$(dir $$@)
	$(CC) $(SERVER_CFLAGS) $(2) -c $$< -o $$@

$(1)/obj/server/main.o: server/main.c $(wildcard lib/*.h include/*.h server/*.h api/*.h) | build/gen/www_assets.c
	@mkdir -p $$(dir $$@)
	$(CC) $(BASE_CFLAGS) $(2) -c $$< -o $$@

# Library objects do not wait for the page's assets: tools/gen/fields links the
# library, and its output is one of those assets (a cycle otherwise).
$(1)/obj/lib/%.o: lib/%.c $(wildcard lib/*.h include/*.h)
	@mkdir -p $$(dir $$@)
	$(CC) $(LIB_CFLAGS) $(2) -c $$< -o $$@

$(1)/libsipcfg.a: $(LIB_SRC:%.c=$(1)/obj/%.o)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(1)/sipcfgd: $(DAEMON_SRC:%.c=$(1)/obj/%.o) $(1)/obj/build/gen/www_assets.o $(1)/obj/build/gen/openapi_json.o $(1)/libsipcfg.a
	$(CC) $(2) -o $$@ $$^ $(PKG_LIBS) -lpthread $(3)

$(1)/sipcfg: $(CLI_SRC:%.c=$(1)/obj/%.o) $(1)/libsipcfg.a
	$(CC) $(2) -o $$@ $$^ $(PKG_LIBS) $(CLI_LIBS) -lpthread $(3)

# tests/unit/tmpdir.c: the file tests' temporary directory, linked into each.
$(1)/tests/%: $(1)/obj/tests/unit/%.o $(1)/obj/tests/unit/tmpdir.o $(1)/libsipcfg.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ $(PKG_LIBS) $(TEST_LIBS) -lpthread $(3)

# An example is a SIP core: libsipcfg and zlib, nothing else.
$(1)/examples/%: $(1)/obj/examples/%.o $(1)/libsipcfg.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ -lz $(3)

$(1)/itests/%: $(1)/obj/tests/integration/%.o $(1)/libsipcfg.a
	@mkdir -p $$(dir $$@)
	$(CC) $(2) -o $$@ $$^ $(PKG_LIBS) $(TEST_LIBS) -lpthread $(3)
endef

$(eval $(call flavour,build,$(OPT_CFLAGS),))
$(eval $(call flavour,build/asan,$(SAN_CFLAGS),))

# The page's files, built into the daemon (no file is opened on a request path).
build/embed: tools/embed.c
	@mkdir -p build
	$(CC) -std=c11 -O2 $(WARN) -o $@ $<

# Embedded without indentation and whole-line comments (scripts/www-min.sh): the
# page's weight is what a phone sends, not what a reader of www/ needs. The ES
# modules are served as one script, app.js (scripts/www-bundle.sh): every
# request costs the page's load time. What every module imports, util.js,
# comes first, the entry, app.js, last (their top-level code runs in this order).
WWW_MODULES := www/util.js $(filter-out www/app.js www/util.js,$(filter %.js,$(WWW_FILES))) www/app.js
WWW_SERVED := $(patsubst www/%,build/gen/www/%,$(filter-out %.js,$(WWW_FILES))) build/gen/www/app.js
build/gen/www/%: www/% scripts/www-min.sh
	@mkdir -p build/gen/www
	scripts/www-min.sh $< $@
build/gen/www/index.html: www/index.html scripts/www-min.sh scripts/www-bundle.sh
	@mkdir -p build/gen/www build/gen/bundle
	scripts/www-bundle.sh html build/gen/bundle/index.html www/index.html
	scripts/www-min.sh build/gen/bundle/index.html $@
build/gen/www/app.js: $(WWW_MODULES) scripts/www-min.sh scripts/www-bundle.sh
	@mkdir -p build/gen/www build/gen/bundle
	scripts/www-bundle.sh js build/gen/bundle/app.js $(WWW_MODULES)
	scripts/www-min.sh build/gen/bundle/app.js $@

# --www DIR serves www/'s own names (the modules unbundled) from DIR.
build/gen/www_assets.c: build/embed $(WWW_SERVED) build/gen/fields.json $(WWW_FILES)
	@mkdir -p build/gen
	build/embed $@ $(WWW_SERVED) build/gen/fields.json -- $(WWW_FILES)

# lib/line.c's field table as JSON for the page, served as /fields.json.
build/gen/fields: tools/gen/fields.c build/libsipcfg.a
	@mkdir -p build/gen
	$(CC) $(BASE_CFLAGS) $(OPT_CFLAGS) -o $@ $< build/libsipcfg.a $(PKG_LIBS) -lpthread

build/gen/fields.json: build/gen/fields
	build/gen/fields $@

# The contract served as GET /openapi.json: api/openapi.yaml with its Line and
# LineInput field properties written from the field table (as /fields.json),
# as JSON in a C array. `make openapi` writes that part into api/openapi.yaml
# itself; tests/integration/openapi_fields.sh fails while the two differ.
build/gen/openapi.yaml: api/openapi.yaml build/gen/fields.json scripts/openapi_lines.py
	@mkdir -p build/gen
	$(PYTHON) scripts/openapi_lines.py build/gen/fields.json api/openapi.yaml $@

build/gen/openapi_json.c: build/gen/openapi.yaml scripts/openapi2c.py
	@mkdir -p build/gen
	$(PYTHON) scripts/openapi2c.py build/gen/openapi.yaml $@

openapi: build/gen/fields.json
	$(PYTHON) scripts/openapi_lines.py build/gen/fields.json api/openapi.yaml api/openapi.yaml

UNIT_BINS  := $(UNIT_SRC:tests/unit/%.c=build/asan/tests/%)
ITEST_BINS := $(ITEST_SRC:tests/integration/%.c=build/asan/itests/%)
EXAMPLES   := $(EXAMPLE_SRC:examples/%.c=build/examples/%)

.PHONY: all deps test unit integration run clean valgrind bench tidy asan fuzz fuzz-run openapi
all: deps build/sipcfgd build/sipcfg $(EXAMPLES)

asan: build/asan/sipcfgd build/asan/sipcfg $(UNIT_BINS) $(ITEST_BINS) $(EXAMPLES:build/%=build/asan/%)

deps:
	@scripts/deps.sh

# The whole suite: unit tests and integration tests (with the browser and the
# end-to-end SIP tests), all under ASan/UBSan.
test: deps
	@scripts/deps.sh browser e2e
	$(MAKE) --no-print-directory asan
	scripts/run-tests.sh build/asan

unit: deps
	$(MAKE) --no-print-directory $(UNIT_BINS)
	scripts/run-tests.sh build/asan unit

integration: deps
	@scripts/deps.sh browser e2e
	$(MAKE) --no-print-directory asan
	scripts/run-tests.sh build/asan integration

valgrind: deps
	$(MAKE) --no-print-directory $(UNIT_SRC:tests/unit/%.c=build/tests/%)
	VALGRIND=1 scripts/run-tests.sh build unit

run: all
	scripts/run.sh

bench: deps
	scripts/deps.sh bench
	$(MAKE) --no-print-directory build/sipcfgd build/sipcfg
	scripts/bench.sh

# libFuzzer harnesses (clang), each run for FUZZ_SECONDS on its own corpus dir.
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60
build/fuzz/%: tests/fuzz/%.c $(LIB_SRC) $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Ilib \
	  $(PKG_CFLAGS) -o $@ $< $(LIB_SRC) $(PKG_LIBS) -lpthread

fuzz: deps
	scripts/deps.sh fuzz
	$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
	@for f in $(FUZZ_SRC:tests/fuzz/%.c=%); do \
	  mkdir -p build/fuzz/corpus-$$f; \
	  echo "=== $$f ($(FUZZ_SECONDS) s)"; \
	  build/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) build/fuzz/corpus-$$f || exit 1; \
	done

tidy:
	clang-tidy --quiet -checks='-*,bugprone-*,cert-*,-bugprone-easily-swappable-parameters,-cert-err33-c' \
	  $(LIB_SRC) $(DAEMON_SRC) $(CLI_SRC) -- $(BASE_CFLAGS)

clean:
	rm -rf build
