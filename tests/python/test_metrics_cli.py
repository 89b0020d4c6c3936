#!/usr/bin/python3
"""`pdfreduce metrics`, `pdfreduce onset` and `pdfreduce plot` through the command line: numbers against a known
model, the keys of --json, a result file with several frames, onset on a table with a known hinge, PNG figures,
exit codes and messages.

The model is computed here, independently of libpdf, from the pair-distribution formulas of simulate.hpp
(written out in numpy): r[g(r) - 1] = sum_k [s_k(r) - s_k(-r)] - r H(r), shells s_k(r) = a_k exp(-(r - c_k)^2 /
(2 s_k^2)) cos(w_k r + p_k), step H(r) = erfc((r - r0)/(sqrt2 w))/2, G(r) = 4 pi rho r [g(r) - 1], and S(q) by its
closed form. A first shell of 12 atoms at 3.6 A and a comb of modulated shells whose amplitudes fall as
exp(-c/xi) (xi = 6 A): G(r) in 5-17 A is then a damped wave of known coherence length.
Exit codes: 0 success, 1 input/runtime error ("pdfreduce: error: ..."), 2 usage error.
"""
import json
import math
import os
import struct
import sys
import unittest

import h5py
import numpy
from scipy.special import erfc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

RHO = 0.0335
R0, W = 3.0, 0.2
XI, OMEGA, PHASE = 6.0, 2.3, 0.4


def shells():
    out = []
    # First shell: 12 atoms at 3.6 A, sigma 0.15 A (a = N / (4 pi rho c s sqrt(2 pi))).
    c, s = 3.6, 0.15
    out.append((c, s, 12.0 / (4 * math.pi * RHO * c * s * math.sqrt(2 * math.pi)), 0.0, 0.0))
    # The comb: Gaussians of 0.3 A every 0.1 A, amplitudes ~ exp(-c/xi), modulated by cos(omega r + phase). From
    # 4 A: 3.3 widths below the MRO window (the sum is the exact convolution there) and 3.3 widths above the
    # excluded volume (g = 0 below 3 A, as in a real glass, so the RDF has no oscillating tail below the shell).
    for c in numpy.arange(4.0, 45.0, 0.1):
        out.append((c, 0.3, 0.5 * math.exp(-c / XI) * 0.1 / (0.3 * math.sqrt(2 * math.pi)), OMEGA, PHASE))
    return out


def model_G(r):
    r = numpy.asarray(r, dtype=float)
    acc = numpy.zeros_like(r)
    for c, s, a, w, p in shells():
        acc += a * numpy.exp(-(r - c) ** 2 / (2 * s * s)) * numpy.cos(w * r + p)
        acc -= a * numpy.exp(-(-r - c) ** 2 / (2 * s * s)) * numpy.cos(-w * r + p)
    acc -= r * 0.5 * erfc((r - R0) / (math.sqrt(2) * W))
    return 4 * math.pi * RHO * acc


def model_S(q):
    q = numpy.asarray(q, dtype=float)
    acc = numpy.zeros_like(q)
    for c, s, a, w, p in shells():
        acc += a * s * math.sqrt(math.pi / 2) * (numpy.exp(-(q + w) ** 2 * s * s / 2) * numpy.sin((q + w) * c + p)
                                                 + numpy.exp(-(q - w) ** 2 * s * s / 2) * numpy.sin((q - w) * c - p))
    acc -= numpy.exp(-q * q * W * W / 2) * ((1 + q * q * W * W) * numpy.sin(q * R0) - q * R0 * numpy.cos(q * R0)) / q ** 2
    return 1 + 4 * math.pi * RHO / q * acc


def dense_argmax(f, lo, hi):
    x = numpy.arange(lo, hi, 1e-4)
    return x[numpy.argmax(f(x))]


def png_ok(path):
    with open(path, "rb") as f:
        head = f.read(24)
    return head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24])[0] > 0 and os.path.getsize(path) > 0


class Metrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lib.tmp_path("metrics_cli")
        os.makedirs(cls.dir, exist_ok=True)
        rng = numpy.random.default_rng(5)
        cls.r = numpy.round(numpy.arange(0, 3001) * 0.01, 10)
        cls.q = numpy.round(0.5 + numpy.arange(0, 1951) * 0.01, 10)
        cls.sigma_g, cls.sigma_s = 0.01, 0.005
        cls.G = model_G(cls.r) + rng.normal(0, cls.sigma_g, cls.r.size)
        cls.S = model_S(cls.q) + rng.normal(0, cls.sigma_s, cls.q.size)
        cls.gr = cls.path("model.gr")
        with open(cls.gr, "w") as f:
            f.write("[DEFAULT]\nnumber_density = %.6g atoms/A^3\n#### start data\n#S 1\n#L r G dG\n" % RHO)
            for x, y in zip(cls.r, cls.G):
                f.write("%.4f %.8f %.6f\n" % (x, y, cls.sigma_g))
        cls.sq = cls.path("model.sq")
        with open(cls.sq, "w") as f:
            f.write("#### start data\n#S 1\n#L q S dS\n")
            for x, y in zip(cls.q, cls.S):
                f.write("%.4f %.8f %.6f\n" % (x, y, cls.sigma_s))
        # Independent references from the exact model.
        cls.r1 = dense_argmax(model_G, 2.0, 5.0)
        cls.q1 = dense_argmax(model_S, 1.0, 4.0)
        rr = numpy.arange(1e-4, 8, 1e-4)
        rdf = rr * model_G(rr) + 4 * math.pi * RHO * rr * rr
        # First minimum of the RDF after r1: up to the RDF's own maximum (the r^2 factor puts it beyond G's), then
        # down to the minimum.
        i = int(numpy.searchsorted(rr, cls.r1))
        while rdf[i + 1] >= rdf[i]:
            i += 1
        while rdf[i + 1] <= rdf[i]:
            i += 1
        cls.cn1_rmax = rr[i]
        cls.cn1 = numpy.trapz(rdf[:i + 1], rr[:i + 1])

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def assert_error(self, proc, *parts):
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("pdfreduce: error:", proc.stderr)
        for p in parts:
            self.assertIn(p, proc.stderr)

    def test_gr_and_sq_plain(self):
        out = lib.run_pdfreduce("metrics", self.gr, "--sq", self.sq).stdout
        values = {}
        for line in out.splitlines():
            k, v, s = line.split()
            values[k] = (float(v), float(s))
        # Tolerances of the issue: r1 within 0.01 A, q1 within 0.005 1/A; cn1 within 1 % of the integral of the exact
        # RDF to its first minimum (the noise moves the minimum's position slightly); xi within 10 %.
        self.assertAlmostEqual(values["r1"][0], self.r1, delta=0.01)
        self.assertAlmostEqual(values["q1"][0], self.q1, delta=0.005)
        self.assertAlmostEqual(values["cn1"][0], self.cn1, delta=0.01 * self.cn1)
        self.assertAlmostEqual(values["mro_xi"][0], XI, delta=0.1 * XI)
        self.assertAlmostEqual(values["mro_qm"][0], OMEGA, delta=0.01)
        # The sigma column is consistent with the error (4 sigma, plus the top fit's method error of 1e-3).
        self.assertLess(abs(values["q1"][0] - self.q1), 4 * values["q1"][1] + 1e-3)
        self.assertLess(abs(values["r1"][0] - self.r1), 4 * values["r1"][1] + 2e-3)
        # first-minimum (the default): the upper limit of cn1 lies beyond r1.
        self.assertGreater(values["cn1_rmax"][0], self.r1)
        self.assertAlmostEqual(values["cn1_rmax"][0], self.cn1_rmax, delta=0.05)

    def test_json_keys(self):
        r = json.loads(lib.run_pdfreduce("metrics", self.gr, "--sq", self.sq, "--json").stdout)
        for k in ["q1", "q1_fwhm", "r1", "r1_height", "cn1", "mro_amplitude_rms", "mro_amplitude_p2p", "mro_xi",
                  "q1_height", "q1_coherence_L", "r1_width", "mro_qm", "q2", "q2_height", "q2_fwhm", "q3", "q4",
                  "watch1_q", "watch1_height", "watch1_excess", "watch1_significance"]:
            self.assertIn(k, r)
            self.assertIn(k + "_sigma", r)
        self.assertAlmostEqual(r["r1"], self.r1, delta=0.01)
        # A .gr alone: no S(q) metrics (null), G(r) metrics present; without a density no cn1.
        r = json.loads(lib.run_pdfreduce("metrics", self.gr, "--json").stdout)
        self.assertIsNone(r["q1"])
        self.assertIsNotNone(r["cn1"])
        with open(self.gr) as f:
            nodens = self.write("nodens.gr", f.read().replace("number_density", "something_else"))
        r = json.loads(lib.run_pdfreduce("metrics", nodens, "--json").stdout)
        self.assertIsNone(r["cn1"])
        r = json.loads(lib.run_pdfreduce("metrics", nodens, "--number-density", str(RHO), "--json").stdout)
        self.assertAlmostEqual(r["cn1"], self.cn1, delta=0.01 * self.cn1)
        # Symmetric cn and windows are passed through.
        r = json.loads(lib.run_pdfreduce("metrics", self.gr, "--cn-method", "symmetric", "--mro-window", "6:16",
                                         "--json").stdout)
        self.assertEqual(r["cn_method"], "symmetric")
        self.assertAlmostEqual(r["cn1_rmax"], r["r1"], delta=1e-9)

    def result_file(self, name, frames, temperatures):
        """A minimal NXazint1d result file (the datasets read_nexus_result reads) with a pdf part."""
        p = self.path(name)
        n = len(frames)
        with h5py.File(p, "w") as f:
            e = f.create_group("entry")
            e["definition"] = "NXazint1d"
            e["instrument/monochromator/wavelength"] = numpy.array([0.2])
            qi = self.q
            e["integrated/radial_axis"] = qi
            e["integrated/radial_axis"].attrs["units"] = "1/angstrom"
            e["integrated/radial_axis_edges"] = numpy.append(qi - 0.005, qi[-1] + 0.005)
            e["integrated/frame_index"] = numpy.arange(n, dtype=numpy.int64)
            e["integrated/I"] = numpy.array([s for s, g in frames])
            e["integrated/I_errors"] = numpy.full((n, qi.size), 0.01)
            # The frames add noise of the same size to the already noisy model curves: sigma * sqrt(2) in all.
            e["sample/temperature"] = numpy.array(temperatures, dtype=float)
            e.create_group("pdf/parameters")
            e["pdf/sq/q"] = self.q
            e["pdf/sq/S"] = numpy.array([s for s, g in frames])
            e["pdf/sq/S_errors"] = numpy.full((n, self.q.size), self.sigma_s * math.sqrt(2))
            e["pdf/fq/F"] = numpy.array([self.q * (s - 1) for s, g in frames])
            e["pdf/fq/F_errors"] = numpy.full((n, self.q.size), numpy.nan)
            e["pdf/gr/r"] = self.r
            e["pdf/gr/G"] = numpy.array([g for s, g in frames])
            e["pdf/gr/G_errors"] = numpy.full((n, self.r.size), self.sigma_g * math.sqrt(2))
            e["pdf/alpha"] = numpy.ones(n)
            e["pdf/number_density"] = numpy.full(n, RHO)
            e["pdf/background_scale"] = numpy.zeros(n)
        return p

    def test_result_file_frames(self):
        rng = numpy.random.default_rng(11)
        frames = []
        for k in range(3):
            frames.append((self.S + rng.normal(0, self.sigma_s, self.q.size),
                           self.G + rng.normal(0, self.sigma_g, self.r.size)))
        h5 = self.result_file("series.h5", frames, [300.0, 400.0, 500.0])
        out = lib.run_pdfreduce("metrics", h5).stdout
        lines = [l for l in out.splitlines() if not l.startswith("#")]
        header = lines[0].split(",")
        self.assertEqual(header[:3], ["frame", "temperature_K", "q1"])
        self.assertEqual(len(lines), 4)
        rows = [dict(zip(header, l.split(","))) for l in lines[1:]]
        self.assertEqual([float(r["temperature_K"]) for r in rows], [300.0, 400.0, 500.0])
        for r in rows:
            self.assertAlmostEqual(float(r["r1"]), self.r1, delta=0.01)
            # cn1 within 4 sigma (its sigma includes the position of the RDF minimum) plus 0.5 % for the method
            # (trapezoid rule).
            self.assertLess(abs(float(r["cn1"]) - self.cn1), 4 * float(r["cn1_sigma"]) + 0.005 * self.cn1)
        one = json.loads(lib.run_pdfreduce("metrics", h5, "--frame", "1", "--reference-frame", "0", "--json").stdout)
        self.assertEqual(one["frame"], 1)
        self.assertEqual(one["temperature_K"], 400.0)
        # Against a reference with the same structure the watched excess is noise: |z| small.
        self.assertLess(abs(one["watch1_significance"]), 5)
        arr = json.loads(lib.run_pdfreduce("metrics", h5, "--json").stdout)
        self.assertEqual(len(arr), 3)
        self.assert_error(lib.run_pdfreduce("metrics", h5, "--frame", "7", expect=None), "--frame 7 is out of range")
        # Plots of the result file.
        outdir = self.path("plots_h5")
        lib.run_pdfreduce("plot", h5, "--out", outdir, "--frame", "2")
        for name in ["iq.png", "sq.png", "gr.png", "sq_map.png", "gr_map.png"]:
            self.assertTrue(png_ok(os.path.join(outdir, name)), name)
        # No temporary names left behind.
        self.assertEqual(sorted(os.listdir(outdir)), ["gr.png", "gr_map.png", "iq.png", "sq.png", "sq_map.png"])

    def hinge_table(self):
        rng = numpy.random.default_rng(3)
        T = numpy.arange(310.0, 601.0, 10.0)
        x0, sig = 455.0, 0.01
        y = 2.0 + numpy.where(T < x0, 1e-4, 2e-3) * (T - x0) + rng.normal(0, sig, T.size)
        lines = ["# series table written by the test", "frame,temperature_K,mro_amplitude_rms,mro_amplitude_rms_sigma,q1"]
        for k, (t, v) in enumerate(zip(T, y)):
            lines.append("%d,%.1f,%.8f,%.4f,2.2" % (k, t, v, sig))
        lines.append("%d,nan,1.0,0.01,2.2" % T.size)  # a frame without temperature: skipped
        return self.write("series.csv", "\n".join(lines) + "\n"), x0

    def test_onset(self):
        table, x0 = self.hinge_table()
        r = json.loads(lib.run_pdfreduce("onset", table, "--metric", "mro_amplitude_rms", "--json").stdout)
        self.assertTrue(r["detected"])
        # Within 4 sigma of the known breakpoint (the profile sigma is a few K here).
        self.assertLess(abs(r["onset"] - x0), 4 * r["onset_sigma"])
        self.assertLess(r["onset_sigma"], 15)
        self.assertAlmostEqual(r["slope_above"], 2e-3, delta=4 * r["slope_above_sigma"])
        self.assertAlmostEqual(r["slope_below"], 1e-4, delta=4 * r["slope_below_sigma"])
        self.assertTrue(r["sigma_known"])
        self.assertEqual(r["skipped_rows"], 1)
        plain = lib.run_pdfreduce("onset", table, "--metric", "mro_amplitude_rms", "--range", "350:600").stdout
        keys = [l.split()[0] for l in plain.splitlines()]
        for k in ["onset", "onset_sigma", "slope_below", "slope_below_sigma", "slope_above", "slope_above_sigma",
                  "p_value", "detected"]:
            self.assertIn(k, keys)
        # A constant column: no onset.
        r = json.loads(lib.run_pdfreduce("onset", table, "--metric", "q1", "--json").stdout)
        self.assertFalse(r["detected"])
        # Plot of the metric with its onset.
        outdir = self.path("plots_csv")
        lib.run_pdfreduce("plot", table, "--metric", "mro_amplitude_rms,q1", "--out", outdir)
        self.assertTrue(png_ok(os.path.join(outdir, "mro_amplitude_rms.png")))
        self.assertTrue(png_ok(os.path.join(outdir, "q1.png")))
        lib.run_pdfreduce("plot", self.gr, "--out", outdir)
        self.assertTrue(png_ok(os.path.join(outdir, "gr.png")))

    def test_errors(self):
        table, _ = self.hinge_table()
        self.assert_error(lib.run_pdfreduce("onset", table, "--metric", "nope", expect=None), "no column 'nope'")
        no_t = self.write("no_t.csv", "frame,q1\n0,2.2\n1,2.3\n")
        self.assert_error(lib.run_pdfreduce("onset", no_t, "--metric", "q1", expect=None),
                          "no column 'temperature_K'")
        nan_t = self.write("nan_t.csv", "frame,temperature_K,q1\n" + "".join("%d,,2.%d\n" % (k, k) for k in range(10)))
        self.assert_error(lib.run_pdfreduce("onset", nan_t, "--metric", "q1", expect=None),
                          "column 'temperature_K'", "no finite value")
        self.assertEqual(lib.run_pdfreduce("onset", table, expect=None).returncode, 2)  # --metric missing
        self.assertEqual(lib.run_pdfreduce("metrics", self.gr, "--cn-method", "nope", expect=None).returncode, 2)
        self.assertEqual(lib.run_pdfreduce("metrics", self.gr, "--mro-window", "5", expect=None).returncode, 2)
        self.assert_error(lib.run_pdfreduce("metrics", self.gr, "--mro-window", "5:40", expect=None), "MRO window")
        self.assert_error(lib.run_pdfreduce("metrics", self.gr, "--r1-window", "4.3:4.8", expect=None),
                          "no G(r) peak")
        self.assert_error(lib.run_pdfreduce("metrics", self.path("missing.gr"), expect=None), "missing.gr")
        weird = self.write("data.xyz", "1 2\n")
        self.assert_error(lib.run_pdfreduce("metrics", weird, expect=None), "extension")
        self.assert_error(lib.run_pdfreduce("plot", table, "--out", self.path("p"), expect=None), "--metric")
        self.assert_error(lib.run_pdfreduce("plot", self.gr, "--out", self.path("p"), "--gnuplot", "no-such-gnuplot",
                                            expect=None), "gnuplot-nox")


if __name__ == "__main__":
    lib.main(__doc__)
