"""Version, exceptions, files (frames, masks, PONI, text patterns), compositions and metrics from Python."""
import re
import subprocess

import numpy as np
import pytest

import libpdf


def test_version():
    assert re.fullmatch(r"\d+\.\d+\.\d+", libpdf.__version__)
    assert libpdf.__version__ == libpdf.version()


def test_version_is_the_tool_version(pdfreduce):
    p = subprocess.run([str(pdfreduce), "--version"], capture_output=True, text=True)
    assert p.returncode == 0
    assert p.stdout.split()[-1] == libpdf.__version__


def test_exceptions_map_to_python_types(tmp_path):
    missing = str(tmp_path / "missing.poni")
    with pytest.raises(OSError, match="missing.poni") as e:
        libpdf.read_poni(missing)
    assert isinstance(e.value, libpdf.IoError) and isinstance(e.value, libpdf.Error)
    with pytest.raises(ValueError) as e:
        libpdf.Composition("Qq3")
    assert isinstance(e.value, libpdf.InvalidArgument) and "Qq" in str(e.value)
    assert issubclass(libpdf.NumericalError, RuntimeError) and issubclass(libpdf.Error, RuntimeError)
    with pytest.raises(OSError):
        libpdf.open_frames(str(tmp_path / "none.h5"))


def test_frames_files(ceo2):
    tif, _ = ceo2
    frames = libpdf.open_frames(str(tif))
    assert len(frames) == 1 and frames.shape == (1, 1043, 981) and frames.dtype == np.int32
    a = frames.read(0)
    assert a.flags.owndata and a.flags.c_contiguous
    np.testing.assert_array_equal(a, libpdf.read_tiff(str(tif)))
    np.testing.assert_array_equal(a, frames[-1])  # negative indices as in Python
    with pytest.raises(IndexError):
        frames[1]
    assert "CeO2_Pilatus1M.tif" in frames.describe()


def test_mask_and_poni_round_trip(data_dir, tmp_path):
    mask_path = data_dir / "desy_lambda_series" / "l2_l1_synrh9_150m_200ms_850c_oscillation_00001_m2.mask"
    if mask_path.exists():
        mask = libpdf.read_mask(str(mask_path))
        assert mask.dtype == np.uint8 and mask.ndim == 2 and set(np.unique(mask)) <= {0, 1}
    poni = libpdf.read_poni(str(data_dir / "calibrant_CeO2_Pilatus1M" / "CeO2_Pilatus1M.poni"))
    libpdf.write_poni(str(tmp_path / "copy.poni"), poni)
    again = libpdf.read_poni(str(tmp_path / "copy.poni"))
    for field in ("distance_m", "poni1_m", "poni2_m", "rot1", "rot2", "rot3", "wavelength_m"):
        assert getattr(again, field) == getattr(poni, field)  # PONI text keeps every digit
    g = libpdf.Geometry(poni, 1043, 981)
    q = g.q_array()
    assert q.shape == (1043, 981) and q.min() > 0


def test_text_patterns_round_trip(tmp_path):
    x = np.linspace(0.5, 10.0, 50)
    y = np.cos(x) + 2.0
    s = np.full(50, 0.01)
    path = str(tmp_path / "p.xy")
    libpdf.write_xy(path, x, y, s, header=["made by test_module"], column_labels="q_A^-1 I sigma")
    t = libpdf.read_text_pattern(path)
    assert t.columns == 3 and len(t) == 50 and "made by test_module" in t.header
    np.testing.assert_allclose(t.x, x, rtol=1e-9)  # 10 significant digits in text
    np.testing.assert_allclose(t.y, y, rtol=1e-9)
    np.testing.assert_allclose(t.sigma, s, rtol=1e-9)
    np.testing.assert_allclose(libpdf.to_q_A(x, "q_nm^-1"), x / 10, rtol=1e-15)
    path = str(tmp_path / "p.gr")
    libpdf.write_pdfgetx3(path, x, y, None, header=[("version", "libpdf " + libpdf.__version__)])
    assert ("version", "libpdf " + libpdf.__version__) in libpdf.read_text_pattern(path).metadata
    with pytest.raises(OSError, match="nothing.xy"):
        libpdf.read_text_pattern(str(tmp_path / "nothing.xy"))


def test_composition_and_scattering():
    c = libpdf.Composition("Mg2SiO4")
    assert [k[0] for k in c.components] == ["Mg", "Si", "O"]
    np.testing.assert_allclose([k[3] for k in c.components], [2 / 7, 1 / 7, 4 / 7], rtol=1e-15)
    # rho0 = N_A rho / <M> with <M> = (2 * 24.305 + 28.085 + 4 * 15.999) / 7 g/mol (IUPAC abridged weights, which
    # differ from the library's table by < 1e-4 relative).
    mean_mass = (2 * 24.305 + 28.085 + 4 * 15.999) / 7
    assert libpdf.number_density_from_mass_density(2.9, c) == pytest.approx(0.602214076 * 2.9 / mean_mass, rel=1e-4)
    f = libpdf.form_factor(8, np.array([0.0, 5.0]))
    assert f[0] == pytest.approx(8.0, abs=0.01)  # f0(0) = Z for the neutral atom
    sf = libpdf.scattering_factors(c, np.linspace(0, 20, 11))
    assert sf["f2_mean"].shape == (11,) and np.all(sf["f2_mean"] >= sf["f_mean_sq"])  # <f^2> >= <f>^2


def test_metrics(mg2sio4):
    # A hinge with known truth: slope 0 below x0 = 5, slope 2 above, small noise.
    rng = np.random.default_rng(3)
    x = np.linspace(0.0, 10.0, 41)
    y = np.where(x < 5.0, 1.0, 1.0 + 2.0 * (x - 5.0)) + rng.normal(0, 0.05, x.size)
    onset = libpdf.detect_onset(x, y, np.full(x.size, 0.05))
    assert onset.detected and abs(onset.onset - 5.0) < 3 * onset.onset_sigma + 0.05

    sample_path, background_path = mg2sio4
    load = lambda p: (lambda t: libpdf.IntensityPattern(t.x, t.y))(libpdf.read_text_pattern(str(p)))
    r = libpdf.reduce(load(sample_path), libpdf.ReductionOptions(composition="Mg2SiO4", mass_density=2.9, qmax=20.0,
                                                                   rmax=20.0), background=load(background_path))
    options = libpdf.MetricsOptions(q1_min=1.5, q1_max=3.5, r1_min=1.3, r1_max=2.2, mro_rmin=4.0, mro_rmax=15.0)
    m = libpdf.compute_metrics(r, options)
    table = libpdf.metrics_table(m)
    assert list(table) == libpdf.metric_names(options)
    assert table["r1"] == m.r1.value or (np.isnan(table["r1"]) and np.isnan(m.r1.value))
    assert 1.5 < m.r1.value < 1.8  # the Si-O bond of a silicate glass, 1.62-1.64 A
