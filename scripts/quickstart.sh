#!/bin/sh
# Quick start: install the Debian packages, build libpdf (Release) in build/, simulate the bundled example (a
# PETRA III P02.1-style in-situ heating series of the metallic glass La65Co25Al10, 310 -> 600 K, with its
# dark, flat, mask, calibration and the model's truth) and integrate every frame into one NeXus result file.
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

# 1024 x 1024 pixels of 400 um (a 2048^2 PerkinElmer binned 2 x 2) keeps the example small and quick;
# `pdfreduce simulate --size 2048` writes the full-size frames.
build/apps/pdfreduce simulate --out build/example --size 1024

build/apps/pdfreduce integrate build/example/series.h5 \
    --poni build/example/series.poni \
    --dark build/example/dark.h5 \
    --flat build/example/flat.h5 \
    --mask build/example/mask.tif \
    --polarization 0.99 --npt 3000 --unit q_A^-1 \
    -o build/example/result.h5

build/apps/pdfreduce inspect build/example/result.h5

echo
echo "Done."
echo "  example input : build/example/series.h5 (+ series.poni, dark.h5, flat.h5, mask.tif; truth in /entry/simulation)"
echo "  I(q) per frame: build/example/result.h5 (NeXus NXazint1d; open with silx view or h5py)"
echo "  the tool      : build/apps/pdfreduce --help"
