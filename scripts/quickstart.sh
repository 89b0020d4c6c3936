#!/bin/sh
# Quick start: install the Debian packages, build libpdf (Release) in build/, write a small example heating
# series into build/example/ and integrate every frame of it with pdfreduce.
set -eu
cd "$(dirname "$0")/.."

sh scripts/setup.sh

# Keep the generator of an existing build tree (cmake refuses to switch); Ninja for a new one.
if [ -f build/CMakeCache.txt ]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
else
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
fi
cmake --build build --parallel

# Debian's interpreter has numpy, h5py and fabio (a python3 first on PATH may not).
/usr/bin/python3 scripts/make_example_series.py --out build/example

build/apps/pdfreduce integrate build/example/series.h5 \
    --poni build/example/series.poni \
    --dark build/example/dark.h5 \
    --mask build/example/mask.tif \
    --polarization 0.99 --npt 3000 --unit q_A^-1 \
    -o 'build/example/out/frame_{frame}.xy'

echo
echo "Done."
echo "  example input : build/example/series.h5 (+ series.poni, dark.h5, mask.tif)"
echo "  I(q) patterns : build/example/out/frame_0.xy ... frame_$(($(ls build/example/out | wc -l) - 1)).xy"
echo "  the tool      : build/apps/pdfreduce --help, build/apps/pdfreduce integrate --help"
