#!/usr/bin/python3
"""What `pdfreduce run` does after the frames (issue 5): the onset of the MRO metrics, printed and written to
<table>_onset.json; the figures with [output] plots (default true) into [output] plot_dir; and --set overrides
of recipe values, checked exactly like the recipe file.

A small simulated series (256 x 256, 310 -> 580 K every 30 K: 10 frames, the model's MRO growing above 450 K) is
reduced once per case; results are read with h5py, csv and json (independent readers) and the onset is compared
with `pdfreduce onset --json` on the same table.
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

RECIPE = """[input]
file = "series.h5"
[geometry]
poni = "series.poni"
[corrections]
mask = "mask.tif"
dark = "dark.h5"
flat = "flat.h5"
polarization = 0.99
[integration]
npt = 800
[sample]
composition = "La65Co25Al10"
density = 6.0
[reduction]
qmin = 1.0
qmax = 20.0
window = "lorch"
[output]
result = "out/run.h5"
[run]
threads = 2
"""
PNG = b"\x89PNG\r\n\x1a\n"


class RunOutputs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lib.tmp_path("series")
        if not os.path.exists(os.path.join(cls.dir, "series.h5")):
            lib.run_pdfreduce("simulate", "--out", cls.dir, "--size", "256", "--t-start", "310", "--t-stop", "580",
                              "--t-step", "30", "--dark-frames", "2", "--no-reference")
        cls.recipe = os.path.join(cls.dir, "run.toml")
        with open(cls.recipe, "w") as f:
            f.write(RECIPE)

    def setUp(self):
        for name in ("out", "out2", "out3", "out4", "figs", "never"):
            shutil.rmtree(os.path.join(self.dir, name), ignore_errors=True)

    def run_tool(self, *args, expect=0, env=None):
        cmd = [os.path.abspath(lib.ARGS.pdfreduce), "run", self.recipe, "--no-progress"] + list(args)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir, timeout=600,
                              env=dict(os.environ if env is None else env, OMP_NUM_THREADS="2"))
        if expect is not None and proc.returncode != expect:
            self.fail("%s: exit %d (expected %d)\n%s" % (" ".join(cmd), proc.returncode, expect, proc.stderr))
        return proc

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def test_onset_file_and_figures(self):
        proc = self.run_tool()
        onset_path = self.path("out", "run_onset.json")
        with open(onset_path) as f:
            onsets = json.load(f)
        version = lib.run_pdfreduce("--version").stdout.split()[-1]
        self.assertEqual(onsets["libpdf_version"], version)
        self.assertEqual(onsets["x"], "temperature_K")
        self.assertEqual(os.path.realpath(onsets["table"]), os.path.realpath(self.path("out", "run.csv")))
        self.assertEqual(sorted(onsets["metrics"]), ["mro_amplitude_rms", "mro_xi"])
        for metric, result in onsets["metrics"].items():
            # The same fit as `pdfreduce onset` on the same table.
            cli = json.loads(lib.run_pdfreduce("onset", self.path("out", "run.csv"), "--metric", metric,
                                               "--json").stdout)
            for key in ("onset", "onset_sigma", "slope_below", "slope_above", "p_value", "detected", "n"):
                self.assertEqual(result[key], cli[key], "%s %s" % (metric, key))
            # Printed too.
            self.assertIn("onset of %s: temperature_K = " % metric, proc.stderr)
        xi = onsets["metrics"]["mro_xi"]
        self.assertTrue(xi["detected"])
        self.assertEqual(xi["n"], 10)
        # The model's MRO starts to grow at 450 K (docs/files.md); a hinge over 310-580 K every 30 K.
        self.assertGreater(xi["onset"], 390)
        self.assertLess(xi["onset"], 500)
        self.assertGreater(xi["slope_above"], xi["slope_below"])
        # The figures: default folder plots/ beside the result, each a complete PNG.
        for name in ("iq", "sq", "gr", "sq_map", "gr_map", "q1", "r1", "cn1", "mro_amplitude_rms", "mro_xi"):
            with open(self.path("out", "plots", name + ".png"), "rb") as f:
                self.assertEqual(f.read(8), PNG, name)
        self.assertEqual([n for n in os.listdir(self.path("out", "plots")) if ".tmp" in n], [])
        # A second run has nothing to do, yet refreshes the onsets and figures of the finished series.
        os.remove(onset_path)
        again = self.run_tool()
        self.assertIn("already", again.stderr)
        self.assertTrue(os.path.exists(onset_path))

    def test_set_overrides(self):
        self.run_tool("--set", "output.result=out2/other.h5", "--set", "output.plots=false",
                      "--set", "reduction.qmax=18", "--set", "reduction.window=cosine",
                      "--set", "metrics.mro_range=[5, 15]", "--set", "input.frames=0:10:1")
        self.assertTrue(os.path.exists(self.path("out2", "other.h5")))
        self.assertTrue(os.path.exists(self.path("out2", "other_onset.json")))
        self.assertFalse(os.path.exists(self.path("out2", "plots")), "plots = false draws nothing")
        self.assertFalse(os.path.exists(self.path("out")), "the recipe's own result must not be written")
        import h5py
        with h5py.File(self.path("out2", "other.h5"), "r") as f:
            recipe = f["/entry/reduction/input/recipe"][()].decode()
            qmax = float(f["/entry/pdf/parameters/qmax"][()]) if "parameters/qmax" in f["/entry/pdf"] else None
        lines = recipe.splitlines()
        self.assertIn("qmax = 18.0", lines)
        self.assertIn('window = "cosine"', lines)
        self.assertIn("mro_range = [5.0, 15.0]", lines)
        self.assertIn("plots = false", lines)
        self.assertTrue(lines[0].startswith("# libpdf "), "the echoed recipe names the libpdf version")
        if qmax is not None:
            self.assertEqual(qmax, 18.0)
        # A later override wins over an earlier one; a path given with --set is relative to the current folder.
        self.run_tool("--set", "output.result=out3/a.h5", "--set", "output.result=out4/b.h5",
                      "--set", "output.plot_dir=figs")
        self.assertFalse(os.path.exists(self.path("out3")))
        self.assertTrue(os.path.exists(self.path("out4", "b.h5")))
        self.assertTrue(os.path.exists(self.path("figs", "mro_xi.png")))

    def test_bad_overrides(self):
        cases = [
            (["reduction.qmx=18"], ["--set reduction.qmx=18", "unknown key 'qmx'", "did you mean 'qmax'"]),
            (["sample.qmax=18"], ["--set sample.qmax=18", "belongs in section [reduction]"]),
            (["reducton.qmax=18"], ["unknown section [reducton]", "did you mean [reduction]"]),
            (["reduction.qmax=abc"], ["[reduction] qmax", "--set reduction.qmax=abc", "expected a number"]),
            (["output.gzip_level=12"], ["gzip_level", "--set output.gzip_level=12", "0..9"]),
            (["output.plots=maybe"], ["[output] plots", "expected true or false"]),
            (["reduction.window=lorchx"], ["[reduction] window", "unknown window 'lorchx'"]),
            (["reduction.rstep=-1"], ["rstep", "--set reduction.rstep=-1"]),
            (["qmax=18"], ["--set qmax=18", "expected section.key=value"]),
            (["output.result=never/x.h5", "reduction.qmx=1"], ["qmx"]),
        ]
        for sets, words in cases:
            with self.subTest(sets=sets):
                args = []
                for s in sets:
                    args += ["--set", s]
                proc = self.run_tool(*args, expect=1)
                self.assertTrue(proc.stderr.startswith("pdfreduce: error: "), proc.stderr)
                for w in words:
                    self.assertIn(w, proc.stderr)
                self.assertFalse(os.path.exists(self.path("out")))
                self.assertFalse(os.path.exists(self.path("never")))
        # --set needs a value: a usage error.
        proc = self.run_tool("--set", expect=2)
        self.assertIn("--set", proc.stderr)

    def test_no_gnuplot_is_a_warning(self):
        # The data are complete without figures: a warning naming the package and how to switch plots off.
        bindir = self.path("nognuplot")
        os.makedirs(bindir, exist_ok=True)
        env = dict(os.environ, PATH=bindir)
        proc = self.run_tool(env=env)
        self.assertIn("no figures: gnuplot was not found", proc.stderr)
        self.assertIn("gnuplot-nox", proc.stderr)
        self.assertIn("plots = false", proc.stderr)
        self.assertFalse(os.path.exists(self.path("out", "plots")))
        self.assertTrue(os.path.exists(self.path("out", "run_onset.json")))

    def test_too_few_frames_and_against_frame(self):
        # Five frames cannot give a two-segment fit: the onset file says why, the run succeeds.
        proc = self.run_tool("--set", "input.frames=0:5", "--set", "output.plots=false")
        self.assertIn("no onset of mro_xi", proc.stderr)
        with open(self.path("out", "run_onset.json")) as f:
            xi = json.load(f)["metrics"]["mro_xi"]
        self.assertIsNone(xi["onset"])
        self.assertFalse(xi["detected"])
        self.assertIn("point", xi["error"])
        with open(self.path("out", "run.csv")) as f:
            self.assertTrue(f.readline().startswith("# libpdf "))  # the version line, then the header
            self.assertEqual(len(list(csv.DictReader(f))), 5)
        # Against the frame index: the table's 'frame' column is the abscissa.
        shutil.rmtree(self.path("out"))
        self.run_tool("--set", "metrics.against=frame", "--set", "output.plots=false")
        with open(self.path("out", "run_onset.json")) as f:
            onsets = json.load(f)
        self.assertEqual(onsets["x"], "frame")
        self.assertLess(onsets["metrics"]["mro_xi"]["onset"], 9)


if __name__ == "__main__":
    lib.main(__doc__)
