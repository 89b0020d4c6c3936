"""Fixtures of the Python binding tests. ctest sets the environment (python/CMakeLists.txt): PYTHONPATH to the
built module, LIBPDF_DATA_DIR (real data), LIBPDF_BIND_REFERENCE (the C++ reference program), LIBPDF_PDFREDUCE
(the tool, when built) and LIBPDF_TEST_TMP."""
import os
import pathlib
import subprocess

import numpy as np
import pytest


def _env_path(name):
    value = os.environ.get(name, "")
    return pathlib.Path(value) if value else None


@pytest.fixture(scope="session")
def data_dir():
    d = _env_path("LIBPDF_DATA_DIR")
    if d is None or not d.is_dir():
        pytest.skip("real data not found (set LIBPDF_DATA_DIR)")
    return d


@pytest.fixture(scope="session")
def ceo2(data_dir):
    folder = data_dir / "calibrant_CeO2_Pilatus1M"
    if not (folder / "CeO2_Pilatus1M.tif").exists():
        pytest.skip("CeO2 data not found")
    return folder / "CeO2_Pilatus1M.tif", folder / "CeO2_Pilatus1M.poni"


@pytest.fixture(scope="session")
def mg2sio4(data_dir):
    folder = data_dir / "glass_Mg2SiO4"
    if not (folder / "Mg2SiO4_ambient.xy").exists():
        pytest.skip("Mg2SiO4 data not found")
    return folder / "Mg2SiO4_ambient.xy", folder / "Mg2SiO4_ambient_bkg.xy"


@pytest.fixture(scope="session")
def reference():
    """Runs the C++ reference program; returns a function(mode, *args)."""
    exe = _env_path("LIBPDF_BIND_REFERENCE")
    if exe is None or not exe.exists():
        pytest.skip("the C++ reference program is not built (set LIBPDF_BIND_REFERENCE)")

    def run(*args):
        p = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
    return run


@pytest.fixture(scope="session")
def pdfreduce():
    exe = _env_path("LIBPDF_PDFREDUCE")
    if exe is None or not exe.exists():
        pytest.skip("pdfreduce is not built (set LIBPDF_PDFREDUCE)")
    return exe


def assert_bitwise_equal(actual, expected):
    """Same shape, float64, and the same bits in every element (NaN payloads and signed zeros included)."""
    actual = np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.dtype == np.float64 and expected.dtype == np.float64
    assert actual.shape == expected.shape
    differ = np.flatnonzero(actual.view(np.uint64) != expected.view(np.uint64))
    assert differ.size == 0, (f"{differ.size} of {actual.size} values differ, first at {differ[0]}: "
                              f"{actual.flat[differ[0]]!r} vs {expected.flat[differ[0]]!r}")
