#!/bin/sh
# Build libpdf (Release, warnings as errors) in build/ and run the whole test suite: GoogleTest, the example,
# and the Python tests of pdfreduce against pyFAI.
set -eu
cd "$(dirname "$0")/.."

sh scripts/setup.sh

if [ -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLIBPDF_WERROR=ON
else
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLIBPDF_WERROR=ON
fi
cmake --build build --parallel
ctest --test-dir build --output-on-failure -j2
