#!/bin/sh
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer, fuzzer-instrumented
# library) in build-fuzz/ and fuzzes each for a short while from the seed corpus (fuzz/make_corpus.py), then
# replays every saved regression input. Exit status non-zero when any target crashed, leaked, timed out or
# ran out of memory; the input that did it is left in build-fuzz/artifacts/<target>/ (copy it to
# fuzz/regressions/<target>/ once fixed). See fuzz/README.md.
#
# usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 60)] [TARGET ...]
# env:   LIBPDF_FUZZ_BUILD (build folder, default build-fuzz), LIBPDF_FUZZ_JOBS (build jobs, default 2)
set -eu
cd "$(dirname "$0")/.."

seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${LIBPDF_FUZZ_BUILD:-build-fuzz}
jobs=${LIBPDF_FUZZ_JOBS:-2}

# Only the library and the fuzzers: tests, tools, examples and benchmarks are not needed here.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DLIBPDF_SANITIZE=address,undefined -DLIBPDF_BUILD_FUZZERS=ON \
  -DLIBPDF_BUILD_TESTS=OFF -DLIBPDF_BUILD_APPS=OFF -DLIBPDF_BUILD_EXAMPLES=OFF -DLIBPDF_BUILD_BENCHMARKS=OFF \
  -DLIBPDF_BUILD_PYTHON=OFF -DLIBPDF_BUILD_DOCS=OFF >/dev/null

targets="$*"
if [ -z "$targets" ]; then
  targets="fuzz_poni fuzz_composition fuzz_text_pattern fuzz_tiff fuzz_hdf5"
  [ -f include/libpdf/recipe.hpp ] && targets="$targets fuzz_recipe"
fi
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets

/usr/bin/python3 fuzz/make_corpus.py "$build/seeds"

# Largest input per target: text parsers need a few KB to reach multi-line states; the TIFF reader a header,
# a few IFDs and some pixels; the HDF5 generator's byte stream describes a tree of a few dozen objects.
max_len() {
  case "$1" in
    fuzz_composition) echo 256 ;;
    fuzz_tiff) echo 16384 ;;
    *) echo 4096 ;;
  esac
}

failed=""
for t in $targets; do
  corpus="$build/corpus/$t"      # grows from run to run (kept in the build folder, not in git)
  artifacts="$build/artifacts/$t"
  mkdir -p "$corpus" "$artifacts" "$build/seeds/$t"
  echo "== $t: ${seconds}s"
  # -rss_limit_mb / -malloc_limit_mb: an input that makes the library allocate gigabytes is a finding too
  # (a 100-byte file must not reserve a 30 GB frame). -timeout: one input taking over 10 s is a hang.
  if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      "$build/fuzz/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
      -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$corpus" "$build/seeds/$t" > "$build/$t.log" 2>&1; then
    echo "   FAILED (log: $build/$t.log; input: $(ls "$artifacts" | head -1))"
    tail -40 "$build/$t.log"
    failed="$failed $t"
  else
    grep -E "stat::number_of_executed_units|cov:" "$build/$t.log" | tail -2 | sed 's/^/   /'
  fi
done

# Every input that ever crashed a target, replayed (registered by fuzz/CMakeLists.txt).
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir "$build/fuzz" -L fuzz --output-on-failure || failed="$failed regressions"

if [ -n "$failed" ]; then
  echo "fuzzing failed:$failed"
  exit 1
fi
echo "fuzzing: no crash, leak, hang or excessive allocation in $seconds s per target ($targets)"
