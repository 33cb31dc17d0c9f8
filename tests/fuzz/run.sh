#!/usr/bin/env bash
# Builds the cargo-fuzz targets of tests/fuzz and runs each for
# FUZZ_SECONDS from its seed corpus; exits nonzero if any target finds a
# crash (or a timeout, or runs out of memory). `make fuzz` calls this.
#
#   FUZZ_SECONDS=60       time per target
#   FUZZ_WORK=build/fuzz  working corpora (seeds + what the run adds), logs
#                         and crash artifacts; the committed seeds in
#                         tests/fuzz/corpus/ are only read
#   FUZZ_ARGS=...         extra libFuzzer flags (e.g. -jobs=2 -workers=2)
#   bash tests/fuzz/run.sh [target...]    (default: every target)
#
# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP=1 lets the stable
# toolchain use them. The Rust code is built with AddressSanitizer, debug
# assertions and overflow checks. With clang, the C++ engine is built with
# libFuzzer coverage and ASan too (without it, g++ builds the engine
# uninstrumented and wal_reader is guided by the Rust side only).
set -euo pipefail

cd "$(dirname "$0")/../.."
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_WORK=${FUZZ_WORK:-build/fuzz}
ALL_TARGETS=(resp_request pg_frontend sql_classify wal_reader)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

export RUSTC_BOOTSTRAP=1
if command -v clang >/dev/null && command -v clang++ >/dev/null; then
  export CC=clang CXX=clang++
  export CW_ENGINE_CXXFLAGS="-fsanitize=fuzzer-no-link,address -fno-omit-frame-pointer"
else
  echo "fuzz: clang not found; the C++ engine is built without coverage" >&2
  unset CW_ENGINE_CXXFLAGS
fi

# One name builds that target; none builds them all.
build_target=()
[ ${#targets[@]} -eq 1 ] && build_target=("${targets[0]}")
set +e
cargo fuzz build --fuzz-dir tests/fuzz --debug-assertions "${build_target[@]}" 2>&1 \
  | grep -v '^ *Compiling '
build_status=${PIPESTATUS[0]}
set -e
[ "$build_status" -eq 0 ] || { echo "fuzz: build failed" >&2; exit 1; }
triple=$(rustc -vV | sed -n 's/^host: //p')
bin_dir=tests/fuzz/target/$triple/release

failed=()
for target in "${targets[@]}"; do
  work=$FUZZ_WORK/$target
  mkdir -p "$work/corpus" "$work/artifacts"
  seeds=tests/fuzz/corpus/$target
  dict=()
  [ -f "tests/fuzz/dict/$target.dict" ] && dict=(-dict="tests/fuzz/dict/$target.dict")
  echo "== fuzz $target: ${FUZZ_SECONDS}s, seeds $seeds, work $work"
  # The first corpus dir is written to (the working copy), the seeds only
  # read. -timeout: one input running this long is a bug (a hang).
  set +e
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_odr_violation=0} \
    "$bin_dir/$target" "$work/corpus" "$seeds" \
    -max_total_time="$FUZZ_SECONDS" -timeout=60 -rss_limit_mb=4096 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/" "${dict[@]}" \
    ${FUZZ_ARGS:-} >"$work/log" 2>&1
  status=$?
  set -e
  # libFuzzer's closing lines: executions, speed, corpus size.
  grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb|stat::new_units_added)' \
    "$work/log" || true
  if [ $status -ne 0 ]; then
    echo "fuzz $target: FAILED (exit $status); log $work/log, artifacts:" >&2
    ls -l "$work/artifacts" >&2 || true
    grep -E -m1 -A12 'panicked at|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)' "$work/log" >&2 || true
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} target(s) ran ${FUZZ_SECONDS}s each, no crash"
