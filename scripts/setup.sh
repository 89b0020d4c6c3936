#!/bin/sh
# Install every Debian package libpdf needs to build, test, benchmark and run its examples.
# Idempotent: when everything is already installed it does nothing (no apt-get at all).
set -eu

PACKAGES="build-essential cmake ninja-build pkg-config git
libfftw3-dev libhdf5-dev libeigen3-dev libspdlog-dev libfmt-dev
libgtest-dev libgmock-dev libbenchmark-dev libtiff-dev libtiff-tools
libxrl-dev bitshuffle libcli11-dev libtomlplusplus-dev
python3 python3-numpy python3-h5py python3-pyfai python3-fabio python3-scipy
gnuplot-nox
pybind11-dev python3-dev python3-pytest python3-matplotlib doxygen
clang libclang-rt-14-dev libomp-dev libdeflate-dev zlib1g-dev liblz4-dev"

missing=""
for p in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "setup: all required Debian packages are installed"
    exit 0
fi

echo "setup: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
