"""The integrator from Python: bit-for-bit equality with C++ (the reference program) and with the pdfreduce tool
(NeXus output, float64), frames of every supported dtype read in place, the copy policy for other layouts, errors,
and the GIL released during integration."""
import subprocess
import sys
import threading
import time
import tracemalloc

import numpy as np
import pytest

import libpdf
from conftest import assert_bitwise_equal

# A small synthetic detector: 128 x 160 pixels of 200 um at 0.1 m, lambda = 0.2 A (the C API test's geometry).
PONI = """poni_version: 2
Detector: Detector
Detector_config: {"pixel1": 0.0002, "pixel2": 0.0002, "max_shape": [128, 160]}
Distance: 0.1
Poni1: 0.0128
Poni2: 0.016
Rot1: 0.01
Rot2: 0
Rot3: 0
Wavelength: 2e-11
"""


@pytest.fixture(scope="module")
def small_plan():
    geometry = libpdf.Geometry(libpdf.parse_poni(PONI))
    # No solid-angle correction: a flat field then integrates exactly flat.
    return libpdf.Integrator(geometry, libpdf.IntegrationOptions(npt=64, solid_angle=False))


def ceo2_pattern(ceo2, **options):
    tif, poni = ceo2
    frames = libpdf.open_frames(str(tif))
    frame = frames[0]
    assert frame.dtype == np.int32 and frame.shape == (1043, 981) and frame.flags.c_contiguous
    geometry = libpdf.Geometry(libpdf.read_poni(str(poni)), frames.rows, frames.cols)
    return libpdf.Integrator(geometry, libpdf.IntegrationOptions(npt=500, **options)).integrate(frame)


def test_ceo2_equals_cpp(ceo2, reference, tmp_path):
    # The C++ API directly, library defaults: the same bits.
    result = ceo2_pattern(ceo2)
    reference("integrate", *ceo2, 500, tmp_path)
    for name in ("radial", "intensity", "sigma", "count"):
        assert_bitwise_equal(getattr(result, name), np.fromfile(tmp_path / f"{name}.f64"))


def test_ceo2_equals_pdfreduce(ceo2, pdfreduce, tmp_path):
    # The tool's NeXus output stores float64, which h5py reads back exactly (its text output keeps 10 digits).
    h5py = pytest.importorskip("h5py")
    result = ceo2_pattern(ceo2, polarization_factor=0.99)
    tif, poni = ceo2
    out = tmp_path / "ceo2.nxs"
    p = subprocess.run([str(pdfreduce), "integrate", str(tif), "--poni", str(poni), "--npt", "500",
                        "--polarization", "0.99", "-o", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    with h5py.File(out, "r") as f:
        data = f["/entry/integrated"]
        assert data["I"].dtype == np.float64
        assert_bitwise_equal(result.radial, data["radial_axis"][()])
        assert_bitwise_equal(result.intensity, data["I"][0])
        assert_bitwise_equal(result.sigma, data["I_errors"][0])


@pytest.mark.parametrize("dtype", [np.uint16, np.int16, np.uint32, np.int32, np.float32, np.float64])
def test_every_dtype_gives_the_same_pattern(small_plan, dtype):
    # Integers 1..1000 are exact in every dtype, and every pixel is converted to double before it is summed, so the
    # patterns must agree to the bit.
    rng = np.random.default_rng(7)
    counts = rng.integers(1, 1000, size=(128, 160))
    expected = small_plan.integrate(counts.astype(np.float64))
    result = small_plan.integrate(counts.astype(dtype))
    assert_bitwise_equal(result.intensity, expected.intensity)
    assert_bitwise_equal(result.sigma, expected.sigma)


def test_frames_are_read_in_place_and_other_layouts_copied_once():
    # tracemalloc sees numpy's data allocations. A C-contiguous frame must cost no allocation of its size (it is
    # read in place); a Fortran-ordered one exactly one contiguous copy; results are a few npt-sized arrays.
    rows, cols = 1000, 1200
    poni = PONI.replace("[128, 160]", f"[{rows}, {cols}]")
    plan = libpdf.Integrator(libpdf.Geometry(libpdf.parse_poni(poni)), libpdf.IntegrationOptions(npt=100))
    frame = np.ones((rows, cols), dtype=np.float64)
    nbytes = frame.nbytes  # 9.6 MB
    fortran = np.asfortranarray(frame)

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        in_place = plan.integrate(frame)
        _, peak_in_place = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        copied = plan.integrate(fortran)
        _, peak_copied = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_in_place < nbytes / 20
    assert nbytes <= peak_copied < 1.5 * nbytes
    assert_bitwise_equal(copied.intensity, in_place.intensity)

    # A strided view (every other row of a taller frame) is copied too and integrates like its contiguous copy.
    tall = np.ones((2 * rows, cols), dtype=np.float32)
    tall[1::2] = 5.0
    view = tall[::2]
    assert not view.flags.c_contiguous
    assert_bitwise_equal(plan.integrate(view).intensity, plan.integrate(np.ascontiguousarray(view)).intensity)


def test_results_are_numpy_arrays_owning_their_memory(small_plan):
    r = small_plan.integrate(np.full((128, 160), 7.0, dtype=np.float32))
    for name in ("radial", "intensity", "sigma", "count", "sum_signal", "sum_variance", "sum_normalization"):
        a = getattr(r, name)
        assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == (64,)
        assert a.flags.owndata and a.flags.writeable
    assert r.radial_edges.shape == (65,)
    assert getattr(r, "intensity") is r.intensity  # converted once, not on every access
    valid = r.count > 0
    assert valid.any()
    np.testing.assert_allclose(r.intensity[valid], 7.0, rtol=1e-12)  # a flat field integrates flat
    assert len(r) == 64 and r.frames == 1


def test_several_frames_sum_and_average(small_plan):
    a = np.full((128, 160), 2.0)
    b = np.full((128, 160), 4.0)
    summed = small_plan.integrate_frames(np.stack([a, b]), combine="sum")
    averaged = small_plan.integrate_frames([a, b], combine=libpdf.FrameCombine.average)
    valid = summed.count > 0
    np.testing.assert_allclose(summed.intensity[valid], 6.0, rtol=1e-12)
    np.testing.assert_allclose(averaged.intensity[valid], 3.0, rtol=1e-12)
    merged = libpdf.merge(small_plan.integrate(a), small_plan.integrate(b))
    assert merged.frames == 2
    with pytest.raises(ValueError, match="expected 'sum' or 'average'"):
        small_plan.integrate_frames([a, b], combine="median")


def test_frame_errors(small_plan):
    with pytest.raises(TypeError, match="int64 is not supported"):
        small_plan.integrate(np.ones((128, 160), dtype=np.int64))
    with pytest.raises(TypeError, match="not supported"):
        small_plan.integrate(np.ones((128, 160), dtype=">f8"))  # big-endian would need a conversion
    with pytest.raises(TypeError, match="must be a numpy array"):
        small_plan.integrate([[1.0, 2.0]])
    with pytest.raises(ValueError, match="two-dimensional"):
        small_plan.integrate(np.ones((2, 128, 160)))
    with pytest.raises(ValueError, match="127 x 160") as e:
        small_plan.integrate(np.ones((127, 160)))
    assert isinstance(e.value, libpdf.InvalidArgument) and isinstance(e.value, libpdf.Error)
    with pytest.raises(RuntimeError) as e:
        small_plan.integrate(np.full((128, 160), np.nan))
    assert isinstance(e.value, libpdf.NumericalError)
    geometry = libpdf.Geometry(libpdf.parse_poni(PONI))
    with pytest.raises(ValueError, match="npt = 0"):
        libpdf.Integrator(geometry, libpdf.IntegrationOptions(npt=0))
    with pytest.raises(ValueError, match="2th_deg"):  # a bad unit name lists the accepted ones
        libpdf.IntegrationOptions(unit="degrees")
    with pytest.raises(TypeError, match="unknown option 'nbins'"):
        libpdf.IntegrationOptions(nbins=10)


def test_options_take_names_and_enums():
    o = libpdf.IntegrationOptions(npt=10, unit="2th_deg", splitting="full", radial_range=(1.0, 5.0))
    assert o.unit == libpdf.RadialUnit.tth_deg and o.splitting == libpdf.Splitting.full
    assert o.radial_range == (1.0, 5.0) and o.polarization_factor is None
    o.error_model = libpdf.ErrorModel.azimuthal
    o.radial_range = None
    assert o.error_model == libpdf.ErrorModel.azimuthal and o.radial_range is None


def test_mask_is_applied():
    geometry = libpdf.Geometry(libpdf.parse_poni(PONI))
    mask = np.zeros((128, 160), dtype=np.uint8)
    mask[:, :80] = 1
    frame = np.ones((128, 160))
    frame[:, :80] = 1000.0  # only masked pixels are bright
    r = libpdf.Integrator(geometry, libpdf.IntegrationOptions(npt=64, solid_angle=False), mask=mask).integrate(frame)
    valid = r.count > 0
    np.testing.assert_allclose(r.intensity[valid], 1.0, rtol=1e-12)


def test_gil_is_released_during_integration():
    # With a 30 s switch interval the interpreter never forces a GIL hand-over, so the main thread can only run
    # while the worker is inside the C++ call if that call released the GIL; otherwise it wakes only after the
    # worker is done. Comparing the two moments does not depend on the machine's speed or load.
    rows, cols = 2000, 2000
    poni = PONI.replace("[128, 160]", f"[{rows}, {cols}]")
    plan = libpdf.Integrator(libpdf.Geometry(libpdf.parse_poni(poni)),
                             libpdf.IntegrationOptions(npt=1000, threads=1))
    frame = np.ones((rows, cols), dtype=np.float32)
    started = threading.Event()
    moments = {}

    def work():
        started.set()  # wakes the main thread, which then needs the GIL
        plan.integrate_frames([frame] * 6)  # one long C++ call
        moments["call_end"] = time.perf_counter()

    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        moments["main_ran"] = time.perf_counter()
        worker.join()
    finally:
        sys.setswitchinterval(old)
    assert moments["main_ran"] < moments["call_end"], "the main thread could not run during integrate_frames()"
