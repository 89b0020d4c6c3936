"""The reduction and the sine transform from Python: bit-for-bit equality with the C++ API (the reference program),
the analytic transform pair, results as numpy arrays, and errors as Python exceptions."""
import numpy as np
import pytest

import libpdf
from conftest import assert_bitwise_equal


def load(path):
    t = libpdf.read_text_pattern(str(path))
    return libpdf.IntensityPattern(t.x, t.y, t.sigma if len(t.sigma) else None)


def test_reduction_equals_cpp(mg2sio4, reference, tmp_path):
    sample_path, background_path = mg2sio4
    options = libpdf.ReductionOptions(composition="Mg2SiO4", mass_density=2.9, qmax=20.0, rmax=10.0, window="lorch")
    result = libpdf.reduce(load(sample_path), options, background=load(background_path))
    reference("reduce", sample_path, background_path, "Mg2SiO4", 2.9, 20, 10, "lorch", tmp_path)
    for name in ("q", "sq", "sq_sigma", "fq", "gr", "r"):
        assert_bitwise_equal(getattr(result, name), np.fromfile(tmp_path / f"{name}.f64"))
    assert float.fromhex((tmp_path / "alpha.txt").read_text().strip()) == result.alpha
    # The same through a (q, I) tuple and the backgrounds list.
    t, b = libpdf.read_text_pattern(str(sample_path)), libpdf.read_text_pattern(str(background_path))
    again = libpdf.reduce((t.x, t.y), options, backgrounds=[((b.x, b.y), 1.0)])
    assert_bitwise_equal(again.gr, result.gr)


def test_reduction_result_fields(mg2sio4):
    sample_path, background_path = mg2sio4
    options = libpdf.ReductionOptions(composition=libpdf.Composition("Mg2SiO4"), mass_density=2.9, qmax=20.0,
                                      rmax=10.0)
    r = libpdf.reduce(load(sample_path), options, background=load(background_path))
    assert r.q.shape == r.sq.shape == r.fq.shape and r.r.shape == r.gr.shape == (1001,)
    assert all(a.flags.owndata for a in (r.q, r.sq, r.fq, r.gr, r.r))
    # F = q (S - 1) by definition; 1e-12 relative covers one rounding of the product.
    np.testing.assert_allclose(r.fq, r.q * (r.sq - 1.0), rtol=1e-12, atol=1e-12)
    expected_rho0 = libpdf.number_density_from_mass_density(2.9, "Mg2SiO4")
    assert r.number_density == pytest.approx(expected_rho0, rel=1e-15)
    assert r.alpha > 0 and r.qmax <= 20.0 and not r.has_sigma and r.sq_sigma.size == 0
    assert r.pair_gr.shape == r.gr.shape  # a density gives g(r) and the RDF
    # G is the plan's forward transform of F on the reduction's own grid (same grid, same arithmetic: same bits).
    plan = libpdf.SineTransform(qmax=r.qmax, qstep=r.qstep, rmax=10.0)
    assert plan.nq == r.q.size
    assert_bitwise_equal(plan.forward(r.fq), r.gr)
    header = dict(libpdf.reduction_header(r, [("inputfile", "Mg2SiO4_ambient.xy")]))
    assert header["version"] == "libpdf " + libpdf.__version__
    assert header["inputfile"] == "Mg2SiO4_ambient.xy"


def test_write_reduction_carries_the_version(mg2sio4, tmp_path):
    sample_path, _ = mg2sio4
    r = libpdf.reduce(load(sample_path), libpdf.ReductionOptions(composition="Mg2SiO4", qmax=20.0, rmax=5.0))
    paths = libpdf.write_reduction(str(tmp_path / "out"), r, [("inputfile", str(sample_path))])
    assert [p[-3:] for p in paths] == [".iq", ".sq", ".fq", ".gr"]
    gr = libpdf.read_text_pattern(paths[-1])
    assert ("version", "libpdf " + libpdf.__version__) in gr.metadata
    np.testing.assert_allclose(gr.y, r.gr, rtol=1e-9, atol=1e-12)  # text keeps 10 significant digits


def test_reduction_errors():
    q = np.linspace(0.5, 20.0, 400)
    sample = libpdf.IntensityPattern(q, 100.0 + np.exp(-q))
    with pytest.raises(ValueError, match="Xx"):
        libpdf.ReductionOptions(composition="SiXx2")
    with pytest.raises(ValueError, match="qmax"):
        libpdf.reduce(sample, libpdf.ReductionOptions(composition="SiO2", qmax=35.0))
    with pytest.raises(ValueError, match="mass_density"):
        libpdf.reduce(sample, libpdf.ReductionOptions(composition="SiO2", mass_density=-2.2))
    with pytest.raises(ValueError, match="not both"):
        libpdf.reduce(sample, libpdf.ReductionOptions(composition="SiO2"), background=sample, backgrounds=[])
    with pytest.raises(TypeError, match="IntensityPattern or a tuple"):
        libpdf.reduce("sample.xy", libpdf.ReductionOptions(composition="SiO2"))
    with pytest.raises(ValueError, match="highq, kmn|highq"):
        libpdf.ReductionOptions(normalization="best")
    with pytest.raises(TypeError, match="unknown option 'density'"):
        libpdf.ReductionOptions(density=2.0)


def test_transform_analytic_pair():
    # F(q) = q exp(-a q^2) <-> G(r) = (2/pi) sqrt(pi) r / (4 a^1.5) exp(-r^2/(4a)); with a = 0.05 and qmax = 25
    # the cut at qmax costs ~1e-12 and the rectangle rule of this smooth integrand is accurate far below 1e-9.
    a = 0.05
    plan = libpdf.SineTransform(libpdf.TransformOptions(qmax=25.0, rmax=10.0))
    q, r = plan.q, plan.r
    F = q * np.exp(-a * q * q)
    G = plan.forward(F)
    exact = 2 / np.pi * np.sqrt(np.pi) * r / (4 * a ** 1.5) * np.exp(-r * r / (4 * a))
    assert np.max(np.abs(G - exact)) < 1e-9 * np.max(np.abs(exact))
    np.testing.assert_allclose(plan.inverse(G), F, atol=1e-9)
    batch = plan.forward(np.stack([F, 2 * F]))
    assert batch.shape == (2, plan.nr)
    assert_bitwise_equal(batch[0], G)
    assert plan.forward_sigma(np.full(plan.nq, 0.5))[0] == 0.0
    assert np.all(plan.window == 1.0)


def test_transform_equals_cpp(reference, tmp_path):
    plan = libpdf.SineTransform(qmax=22.0, rmax=15.0, window=libpdf.Window.lorch)
    q = plan.q
    F = np.sin(2.3 * q) * np.exp(-0.02 * q * q) * q
    F.tofile(tmp_path / "F.f64")
    reference("transform", 22.0, 15.0, "lorch", tmp_path / "F.f64", tmp_path)
    G = plan.forward(F)
    assert_bitwise_equal(G, np.fromfile(tmp_path / "G.f64"))
    assert_bitwise_equal(plan.inverse(G), np.fromfile(tmp_path / "F_back.f64"))


def test_transform_errors():
    with pytest.raises(ValueError, match="qmax"):
        libpdf.SineTransform(qmax=-1.0)
    plan = libpdf.SineTransform(qmax=10.0, rmax=5.0)
    with pytest.raises(ValueError, match=f"nq = {plan.nq}"):
        plan.forward(np.zeros(plan.nq - 1))
    with pytest.raises(ValueError, match=f"nr = {plan.nr}"):
        plan.inverse(np.zeros(3))
    with pytest.raises(TypeError, match="not both"):
        libpdf.SineTransform(libpdf.TransformOptions(), qmax=3.0)
    with pytest.raises(ValueError, match="lorch"):
        libpdf.TransformOptions(window="hann")
