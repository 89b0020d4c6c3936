#!/bin/sh
# Quick start: install the Debian packages, build libpdf (Release) in build/, simulate the bundled example (a
# PETRA III P02.1-style in-situ heating series of the metallic glass La65Co25Al10, 310 -> 600 K, with its
# dark, flat, mask, calibration and the model's truth), reduce every frame to I(q), S(q), G(r) and the
# structure metrics (pdfreduce run), find the onset of the medium-range-order growth and draw the plots.
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
# The series and its reference, frames to S(q), G(r) and structure metrics, from the recipes in examples/recipes
# (paths inside a recipe are relative to its folder).
cp examples/recipes/example_series.toml examples/recipes/example_reference.toml build/example/
build/apps/pdfreduce run build/example/example_series.toml --overwrite
build/apps/pdfreduce run build/example/example_reference.toml --overwrite
# Where the medium-range order starts to grow, and the pictures.
build/apps/pdfreduce onset build/example/out/series_pdf.csv --metric mro_amplitude_rms
build/apps/pdfreduce plot build/example/out/series_pdf.h5 --out build/example/plots
build/apps/pdfreduce plot build/example/out/series_pdf.csv --metric r1,mro_amplitude_rms,mro_xi --out build/example/plots
echo
echo "Done."
echo "  example input : build/example/series.h5, reference.h5 (+ series.poni, dark.h5, flat.h5, mask.tif; truth in"
echo "                  /entry/simulation)"
echo "  results       : build/example/out/series_pdf.h5 (NeXus NXazint1d: I(q), S(q), F(q), G(r), metrics, recipe)"
echo "  metrics table : build/example/out/series_pdf.csv, reference_pdf.csv (one row per frame)"
echo "  plots         : build/example/plots/*.png"
echo "  the tool      : build/apps/pdfreduce --help"
