#!/usr/bin/python3
"""`pdfreduce relax` and `pdfreduce dsc` through the command line: keys, numbers against the curves' known truth,
the excess-wing case, help, exit codes and messages.

The inputs are written here the way instruments export them: a TA-style CSV in degrees Celsius with moduli, a
NETZSCH-style file (';' separators, decimal commas), DSC heat flow in mW with the sample mass in the header.
Truths: a Gaussian beta peak (T_beta, height h) on an exponential alpha wing; an erf glass-transition step whose
tangent-construction onset is T_i - s*sqrt(2 pi)/2; a Gaussian exotherm of known enthalpy.
Exit codes: 0 success (an excess wing is a result), 1 input/runtime error ("pdfreduce: error: ..."), 2 usage error.
"""
import json
import math
import os
import sys
import unittest

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

RELAX_OPTIONS = ["FILE", "--json", "--background", "--peak", "--range", "--max-tan-delta", "--frequency",
                 "--smoothing", "--min-prominence", "--min-significance", "--temperature-unit",
                 "--temperature-column", "--tan-delta-column", "--sort"]
DSC_OPTIONS = ["FILE", "--json", "--heating-rate", "--mass", "--sign", "--tg-range", "--glass-baseline",
               "--liquid-baseline", "--peak-range", "--relaxation-range", "--reference", "--smoothing",
               "--min-step-sigma", "--min-peak-sigma", "--temperature-unit", "--temperature-column",
               "--heat-flow-column", "--sort"]

# The beta peak and alpha wing of the DMA truth (kelvin).
T_BETA, HEIGHT, WIDTH = 331.0, 0.035, 22.0
RATE = 20.0            # K/min
TI, STEP_SIGMA = 440.0, 4.0
EXO_T, EXO_SIGMA, EXO_H = 480.0, 4.0, 5.0   # J/g


def wing(T):
    return 0.004 + 0.2 * numpy.exp((T - 420.0) / 15.0)


def tan_delta(T, height=HEIGHT, centre=T_BETA):
    return wing(T) + height * numpy.exp(-0.5 * ((T - centre) / WIDTH) ** 2)


def heat_flow(T, exo=True, relaxation=0.0):
    """W/g, endo up."""
    beta = RATE / 60.0
    step = numpy.array([0.5 * math.erfc(-(t - TI) / (STEP_SIGMA * math.sqrt(2))) for t in T])
    q = 0.30 + 2e-4 * (T - 400) + 0.08 * step
    if exo:
        q = q - EXO_H * beta * numpy.exp(-0.5 * ((T - EXO_T) / EXO_SIGMA) ** 2) / (EXO_SIGMA * math.sqrt(2 * math.pi))
    if relaxation:
        q = q - relaxation * beta * numpy.exp(-0.5 * ((T - 390) / 10) ** 2) / (10 * math.sqrt(2 * math.pi))
    return q


class Relax(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lib.tmp_path("relax_cli")
        os.makedirs(cls.dir, exist_ok=True)
        rng = numpy.random.default_rng(8)
        T = numpy.arange(290.0, 441.0, 1.0)
        cls.T = T
        cls.noise = 1e-4
        tand = tan_delta(T) + rng.normal(0, cls.noise, T.size)
        # TA-style CSV in degrees Celsius, with moduli in MPa.
        E1 = 34000.0 * numpy.ones_like(T)
        cls.ta = cls.path("ta_dma.csv")
        with open(cls.ta, "w", encoding="utf-8") as f:
            f.write("Sample: La65Co25Al10 as-cast\nFrequency: 1 Hz\n")
            f.write("Temperature (\u00b0C),Storage Modulus (MPa),Loss Modulus (MPa),Tan Delta\n")
            for t, d, e in zip(T, tand, E1):
                f.write("%.2f,%.1f,%.5f,%.7f\n" % (t - 273.15, e, d * e, d))
        # NETZSCH style: ';' and decimal commas, tan δ in Greek.
        cls.netzsch = cls.path("netzsch_dma.txt")
        with open(cls.netzsch, "w", encoding="utf-8") as f:
            f.write("#SAMPLE:;x\n##Temp./\u00b0C;tan \u03b4\n")
            for t, d in zip(T, tand):
                f.write(("%.2f;%.7f\n" % (t - 273.15, d)).replace(".", ","))
        # An excess wing: a component too weak to make a maximum.
        cls.wing = cls.path("wing_dma.csv")
        with open(cls.wing, "w") as f:
            f.write("T (K),tan delta\n")
            wing_curve = tan_delta(T, height=0.01, centre=370.0) + rng.normal(0, cls.noise, T.size)
            for t, d in zip(T, wing_curve):
                f.write("%.1f,%.7f\n" % (t, d))
        # DSC in mW on a 12.5 mg sample, exo up as TA writes it, with its relaxed rescan.
        Td = numpy.arange(350.0, 560.0, 0.25)
        cls.Td = Td
        for name, relaxation in (("dsc.csv", 0.0), ("dsc_relax.csv", 2.0), ("dsc_rescan.csv", 0.0)):
            q = heat_flow(Td, exo=True, relaxation=relaxation) + rng.normal(0, 1e-3, Td.size)
            with open(cls.path(name), "w") as f:
                f.write("Heating rate: %g K/min\nSample mass: 12.5 mg\n" % RATE)
                f.write("Temperature (K),Heat Flow Exo Up (mW)\n")
                for t, v in zip(Td, q):
                    f.write("%.2f,%.7f\n" % (t, -v * 12.5))

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def write(self, name, text):
        p = self.path(name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        return p

    def relax_json(self, *args):
        proc = lib.run_pdfreduce("relax", *args, "--json")
        return json.loads(proc.stdout)

    def assert_error(self, proc, *words):
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertTrue(proc.stderr.startswith("pdfreduce: error: "), proc.stderr)
        for w in words:
            self.assertIn(w.lower(), proc.stderr.lower(), "the message should name '%s'" % w)
        self.assertNotIn("terminate called", proc.stderr)

    def assert_usage(self, proc):
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("usage error", proc.stderr)

    # -- help -------------------------------------------------------------------------------------------

    def test_help_lists_every_option(self):
        for command, options in (("relax", RELAX_OPTIONS), ("dsc", DSC_OPTIONS)):
            proc = lib.run_pdfreduce(command, "--help")
            for option in options:
                self.assertIn(option, proc.stdout, "%s --help does not list %s" % (command, option))
        relax_help = lib.run_pdfreduce("relax", "--help").stdout
        for word in ("T_beta", "tan_delta_beta", "tan_delta_at_T_beta", "excess", "exponential", "gaussian"):
            self.assertIn(word, relax_help)
        dsc_help = lib.run_pdfreduce("dsc", "--help").stdout
        for word in ("Tg_onset", "Tg_mid", "peak_enthalpy", "W/g", "K/min"):
            self.assertIn(word, dsc_help)

    # -- relax ------------------------------------------------------------------------------------------

    def test_relax_keys_and_numbers(self):
        for path in (self.ta, self.netzsch):
            r = self.relax_json(path)
            for key in ("T_beta", "T_beta_sigma", "tan_delta_beta", "tan_delta_beta_sigma", "tan_delta_at_T_beta",
                        "tan_delta_at_T_beta_sigma", "fwhm", "shape", "verdict", "parameters", "fit_range"):
                self.assertIn(key, r)
            self.assertEqual(r["shape"], "peak")
            self.assertAlmostEqual(r["T_beta"], T_BETA, delta=2.0)
            self.assertAlmostEqual(r["tan_delta_beta"], HEIGHT, delta=0.05 * HEIGHT)
            self.assertAlmostEqual(r["tan_delta_at_T_beta"], float(tan_delta(numpy.array(r["T_beta"]))),
                                   delta=4 * r["tan_delta_at_T_beta_sigma"] + 1e-6)
            self.assertGreater(r["T_beta_sigma"], 0)
            self.assertAlmostEqual(r["fwhm"], 2.3548 * WIDTH, delta=0.05 * 2.3548 * WIDTH)
        # The two layouts hold the same numbers.
        a, b = self.relax_json(self.ta), self.relax_json(self.netzsch)
        self.assertAlmostEqual(a["T_beta"], b["T_beta"], places=6)
        # Text output names the same keys.
        text = lib.run_pdfreduce("relax", self.ta).stdout
        for key in ("T_beta", "tan_delta_beta", "tan_delta_at_T_beta"):
            self.assertIn(key, text)

    def test_relax_models_and_range(self):
        r = self.relax_json(self.ta, "--peak", "debye", "--background", "arrhenius", "--range", "290:415")
        self.assertEqual(r["peak_model"], "debye")
        self.assertEqual(r["fit_range"], [290, 415])
        self.assertIsNotNone(r["activation_energy_eV"])
        # A Gaussian truth fitted with the Debye shape still finds the peak near its centre.
        self.assertAlmostEqual(r["T_beta"], T_BETA, delta=5.0)

    def test_excess_wing_is_a_result(self):
        r = self.relax_json(self.wing)
        self.assertEqual(r["shape"], "excess_wing")
        self.assertIsNone(r["T_beta"])
        self.assertIsNone(r["tan_delta_beta"])
        self.assertIn("excess wing", r["verdict"])
        self.assertIn("excess_wing", lib.run_pdfreduce("relax", self.wing).stdout)

    def test_relax_bad_input(self):
        no_tand = self.write("no_tand.csv", "Temperature (K),Storage Modulus (MPa)\n300,3e4\n301,3e4\n")
        self.assert_error(lib.run_pdfreduce("relax", no_tand, expect=None), no_tand, "no tan delta column",
                          "Storage Modulus (MPa)")
        jump = self.write("jump.csv", "T (K),tan delta\n300,0.01\n301,0.011\n300.5,0.012\n302,0.013\n")
        self.assert_error(lib.run_pdfreduce("relax", jump, expect=None), jump, "does not increase", "line 4")
        # --sort accepts it (then: too few points for the fit, an input error naming the range).
        self.assert_error(lib.run_pdfreduce("relax", jump, "--sort", expect=None), "4 points", "at least 12")
        single = self.write("single.csv", "T (K),tan delta\n300,0.01\n")
        self.assert_error(lib.run_pdfreduce("relax", single, expect=None), single, "1 usable data row")
        self.assert_error(lib.run_pdfreduce("relax", self.path("missing.csv"), expect=None), "missing.csv")
        self.assert_error(lib.run_pdfreduce("relax", self.ta, "--range", "500:600", expect=None),
                          "[500, 600] K", "does not meet the data")

    def test_relax_usage_errors(self):
        self.assert_usage(lib.run_pdfreduce("relax", expect=None))
        self.assert_usage(lib.run_pdfreduce("relax", self.ta, "--peak", "lorentz", expect=None))
        self.assert_usage(lib.run_pdfreduce("relax", self.ta, "--range", "a:b", expect=None))
        self.assert_usage(lib.run_pdfreduce("relax", self.ta, "--max-tan-delta", "-1", expect=None))
        self.assert_usage(lib.run_pdfreduce("relax", self.ta, "--no-such-option", expect=None))

    # -- dsc --------------------------------------------------------------------------------------------

    def test_dsc_keys_and_numbers(self):
        proc = lib.run_pdfreduce("dsc", self.path("dsc.csv"), "--json")
        r = json.loads(proc.stdout)
        for key in ("Tg_onset", "Tg_onset_sigma", "Tg_mid", "Tg_end", "delta_cp", "peak_found", "peak_onset",
                    "peak_T", "peak_end", "peak_enthalpy", "peak_enthalpy_sigma", "exotherms"):
            self.assertIn(key, r)
        onset = TI - STEP_SIGMA * math.sqrt(2 * math.pi) / 2
        self.assertAlmostEqual(r["Tg_onset"], onset, delta=2.0)
        self.assertAlmostEqual(r["Tg_mid"], TI, delta=2.0)
        self.assertEqual(r["heat_flow_unit"], "W/g")   # mW / 12.5 mg
        self.assertTrue(r["peak_found"])
        self.assertAlmostEqual(r["peak_T"], EXO_T, delta=0.5)
        self.assertAlmostEqual(r["peak_onset"], EXO_T - 2 * EXO_SIGMA, delta=1.0)
        self.assertAlmostEqual(r["peak_end"], EXO_T + 2 * EXO_SIGMA, delta=1.0)
        self.assertAlmostEqual(r["peak_enthalpy"], EXO_H, delta=0.03 * EXO_H)
        self.assertEqual(len(r["exotherms"]), 1)
        text = lib.run_pdfreduce("dsc", self.path("dsc.csv")).stdout
        for key in ("Tg_onset", "Tg_mid", "peak_onset", "peak_T", "peak_end", "peak_enthalpy"):
            self.assertIn(key, text)

    def test_dsc_relaxation_enthalpy(self):
        r = json.loads(lib.run_pdfreduce("dsc", self.path("dsc_relax.csv"), "--reference", self.path("dsc_rescan.csv"),
                                         "--relaxation-range", "352:428", "--json").stdout)
        self.assertAlmostEqual(r["relaxation_enthalpy"], 2.0, delta=0.1)
        # Without the heating rate: no enthalpy (null), still T_g.
        with open(self.path("dsc.csv")) as f:
            no_rate = self.write("no_rate.csv", f.read().replace("Heating rate: 20 K/min\n", ""))
        r = json.loads(lib.run_pdfreduce("dsc", no_rate, "--json").stdout)
        self.assertIsNone(r["peak_enthalpy"])
        self.assertIsNotNone(r["Tg_onset"])
        r = json.loads(lib.run_pdfreduce("dsc", no_rate, "--heating-rate", "20", "--json").stdout)
        self.assertAlmostEqual(r["peak_enthalpy"], EXO_H, delta=0.03 * EXO_H)

    def test_dsc_bad_input(self):
        no_unit = self.write("no_unit.csv", "Temperature (K),Heat Flow\n400,1\n401,2\n")
        self.assert_error(lib.run_pdfreduce("dsc", no_unit, expect=None), no_unit, "Heat Flow", "no unit")
        no_hf = self.write("no_hf.csv", "Temperature (K),Weight (mg)\n400,1\n401,2\n")
        self.assert_error(lib.run_pdfreduce("dsc", no_hf, expect=None), "no heat-flow column")
        flat = self.write("flat.csv", "T (K),HF (W/g)\n" + "".join("%d,0.1\n" % t for t in range(350, 450)))
        self.assert_error(lib.run_pdfreduce("dsc", flat, expect=None), "no glass-transition step")
        self.assert_usage(lib.run_pdfreduce("dsc", self.path("dsc.csv"), "--reference", self.path("dsc_rescan.csv"),
                                            expect=None))
        self.assert_usage(lib.run_pdfreduce("dsc", self.path("dsc.csv"), "--sign", "up", expect=None))
        self.assert_usage(lib.run_pdfreduce("dsc", self.path("dsc.csv"), "--heating-rate", "0", expect=None))


if __name__ == "__main__":
    lib.main(__doc__)
