#!/bin/sh
# Installs the libpdf build tree $1 into a fresh prefix under $2, then configures, builds and runs the consumer
# project of this folder against it twice: through find_package(libpdf) and through pkg-config.
set -eu
build="$1"
work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"
mkdir -p "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work/install.log"
libdir="$(find "$work/prefix" -name 'libpdf.so.*' -type f -exec dirname {} \; | head -n 1)"
for mode in cmake pkgconfig; do
  if [ "$mode" = pkgconfig ]; then flag=ON; else flag=OFF; fi
  PKG_CONFIG_PATH="$libdir/pkgconfig" cmake -S "$here" -B "$work/$mode" -DUSE_PKGCONFIG=$flag \
    -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release > "$work/$mode-configure.log"
  cmake --build "$work/$mode" > "$work/$mode-build.log"
  LD_LIBRARY_PATH="$libdir" "$work/$mode/consumer"
done
# The installed library carries its SONAME.
objdump -p "$libdir"/libpdf.so.*.*.* | grep -q "SONAME *libpdf.so.0"
echo "consumer: find_package and pkg-config both work"
