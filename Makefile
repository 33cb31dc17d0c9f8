# corewire: build, run, test, benchmark.
#   make          release libcorewire.a + the host binary build/corewire
#   make run      build and start the host (ARGS="--threads 2 --port 6380")
#   make test     cargo tests + C++ engine tests + ASan/TSan stress tests
#   make e2e      redis-cli / redis-benchmark suite against the host binary
#   make fuzz     cargo-fuzz targets (tests/fuzz), FUZZ_SECONDS=60 each
#   make bench    corewire vs redis-server, side by side
#   make install  binary, library, headers, example config, systemd unit
#                 (PREFIX=/usr/local, DESTDIR= for staging)

CXX      ?= g++
CXXFLAGS ?= -O2 -g
CXXFLAGS += -std=c++17 -Wall -Wextra -pthread -Iinclude -Icpp
BUILD    := build
RUST_LIB := target/release/libcorewire.a
# What libcorewire.a needs from the system (rustc --print native-static-libs).
RUST_SYS_LIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc

ENGINE_SRCS := $(filter-out %_test.cc,$(wildcard cpp/engine/*.cc))
ENGINE_HDRS := $(wildcard cpp/engine/*.h) $(wildcard include/*.h)
ENGINE_TESTS := $(patsubst cpp/engine/%.cc,$(BUILD)/%,$(wildcard cpp/engine/*_test.cc))
RUST_SRCS := $(shell find src -name '*.rs' -o -name '*.c') Cargo.toml build.rs

.PHONY: all run test cargo-test cpp-test sanitize e2e fuzz bench seed-host install clean
all: $(BUILD)/corewire

$(RUST_LIB): $(RUST_SRCS) $(ENGINE_SRCS) $(ENGINE_HDRS)
	cargo build --release --lib

# The host owns the engine objects; libcorewire.a holds only Rust code.
$(BUILD)/libcwengine.a: $(ENGINE_SRCS) $(ENGINE_HDRS)
	@mkdir -p $(BUILD)/obj
	set -e; for f in $(ENGINE_SRCS); do \
	  $(CXX) $(CXXFLAGS) -c $$f -o $(BUILD)/obj/$$(basename $$f .cc).o; done
	rm -f $@ && ar rcs $@ $(patsubst cpp/engine/%.cc,$(BUILD)/obj/%.o,$(ENGINE_SRCS))

$(BUILD)/corewire: cpp/host/main.cc $(BUILD)/libcwengine.a $(RUST_LIB)
	$(CXX) $(CXXFLAGS) cpp/host/main.cc $(BUILD)/libcwengine.a $(RUST_LIB) $(RUST_SYS_LIBS) -o $@

# A host written against the seed README only: four functions, GET/SET.
seed-host: $(BUILD)/seed_host
$(BUILD)/seed_host: cpp/examples/seed_host.cc $(RUST_LIB)
	@mkdir -p $(BUILD)
	$(CXX) $(CXXFLAGS) $< $(RUST_LIB) $(RUST_SYS_LIBS) -o $@

run: all
	./$(BUILD)/corewire $(ARGS)

test: cargo-test cpp-test sanitize

cargo-test:
	cargo test

$(BUILD)/%_test: cpp/engine/%_test.cc $(BUILD)/libcwengine.a
	$(CXX) $(CXXFLAGS) $< $(BUILD)/libcwengine.a -o $@

cpp-test: $(ENGINE_TESTS)
	set -e; for t in $(ENGINE_TESTS); do echo "== $$t"; $$t; done

# Engine tests and stress tests under AddressSanitizer and ThreadSanitizer.
sanitize:
	set -e; for san in address thread; do \
	  mkdir -p $(BUILD)/$$san; \
	  for t in $(wildcard cpp/engine/*_test.cc); do \
	    out=$(BUILD)/$$san/$$(basename $$t .cc); \
	    $(CXX) $(CXXFLAGS) -O1 -fno-omit-frame-pointer -fsanitize=$$san $$t $(ENGINE_SRCS) -o $$out; \
	    echo "== $$san: $$out"; \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 TSAN_OPTIONS=halt_on_error=1 $$out; \
	  done; \
	done

e2e: all seed-host
	bash tests/e2e/run.sh

# Builds the fuzz targets (libFuzzer, ASan; the stable toolchain with
# RUSTC_BOOTSTRAP=1) and runs each for FUZZ_SECONDS from its seeds in
# tests/fuzz/corpus/; working corpora and crashes go to build/fuzz/.
# Fails if any target crashes. FUZZ_TARGETS="resp_request" picks some.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?=
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_WORK=$(BUILD)/fuzz bash tests/fuzz/run.sh $(FUZZ_TARGETS)

bench: all
	bash benches/bench.sh

PREFIX     ?= /usr/local
BINDIR     := $(PREFIX)/bin
SYSCONFDIR ?= $(PREFIX)/etc
UNITDIR    ?= $(PREFIX)/lib/systemd/system

# The unit's paths follow PREFIX; the example config becomes the config
# only where none exists yet, so a reinstall keeps the operator's edits.
install: all
	install -D -m 755 $(BUILD)/corewire $(DESTDIR)$(BINDIR)/corewire
	install -D -m 644 $(RUST_LIB) $(DESTDIR)$(PREFIX)/lib/libcorewire.a
	install -D -m 644 $(BUILD)/libcwengine.a $(DESTDIR)$(PREFIX)/lib/libcwengine.a
	install -d $(DESTDIR)$(PREFIX)/include/corewire
	install -m 644 include/*.h $(DESTDIR)$(PREFIX)/include/corewire/
	install -D -m 644 corewire.example.toml $(DESTDIR)$(SYSCONFDIR)/corewire/corewire.example.toml
	test -e $(DESTDIR)$(SYSCONFDIR)/corewire/corewire.toml || \
	  install -m 644 corewire.example.toml $(DESTDIR)$(SYSCONFDIR)/corewire/corewire.toml
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	  cpp/host/corewire.service > $(DESTDIR)$(UNITDIR)/corewire.service

clean:
	cargo clean
	rm -rf $(BUILD) tests/fuzz/target
