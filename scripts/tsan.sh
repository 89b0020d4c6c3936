#!/bin/sh
# ThreadSanitizer run of the multi-threaded paths: builds only the library and the threaded tests (clang, so
# that OpenMP is LLVM's libomp, whose synchronisation TSan understands through the Archer tool) in build-tsan/
# and runs them. GCC's libgomp is not instrumented: under TSan it reports false races at every OpenMP barrier.
# ignore_noninstrumented_modules=1 (as Archer asks) keeps libomp's own internals out of the reports.
#
# usage: scripts/tsan.sh            env: LIBPDF_TSAN_BUILD (default build-tsan), LIBPDF_TSAN_JOBS (default 2)
set -eu
cd "$(dirname "$0")/.."

build=${LIBPDF_TSAN_BUILD:-build-tsan}
jobs=${LIBPDF_TSAN_JOBS:-2}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DLIBPDF_SANITIZE=thread \
  -DLIBPDF_BUILD_APPS=OFF -DLIBPDF_BUILD_EXAMPLES=OFF -DLIBPDF_BUILD_BENCHMARKS=OFF \
  -DLIBPDF_BUILD_PYTHON=OFF -DLIBPDF_BUILD_DOCS=OFF >/dev/null

# The threaded tests: one plan from many threads, thread-count independence, concurrent reductions, and the
# series pipeline's tests once they exist.
targets="test_threads"
[ -f tests/test_pipeline.cpp ] && targets="$targets test_pipeline"
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets

archer=$(ls /usr/lib/llvm-*/lib/libarcher.so 2>/dev/null | tail -1 || true)
if [ -z "$archer" ]; then
  echo "tsan.sh: libarcher.so (package libomp-dev) not found: OpenMP regions would give false reports" >&2
  exit 1
fi
status=0
for t in $targets; do
  echo "== $t under ThreadSanitizer"
  OMP_TOOL_LIBRARIES="$archer" OMP_NUM_THREADS=2 \
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 history_size=4 ignore_noninstrumented_modules=1" \
    "$build/tests/$t" || status=1
done
exit $status
