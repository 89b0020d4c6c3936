#!/usr/bin/python3
"""`pdfreduce run RECIPE` end to end, checked with h5py and the csv module (independent readers):

1. `pdfreduce simulate` writes a small series (256 x 256, 4 temperatures); a recipe with relative paths runs it;
2. the result file has the NXazint1d layout with the pdf part, /entry/metrics (one [nFrames] dataset per
   column of the CSV table), the recipe echoed in /entry/reduction/input/recipe, temperatures of the input;
3. the CSV table starts with a `# libpdf <version>` line, then `frame,temperature_K`, has one row per frame, and its values equal /entry/metrics;
4. a second run resumes (nothing to do, exit 0, table unchanged); --overwrite redoes it;
5. bad recipes: an unknown key (named, with the near one), a missing value, a value out of range, a mask of
   another shape, frames without temperatures with metrics against temperature: exit 1, a clear message,
   no result file; a usage error exits 2.
"""
import csv
import json
import math
import os
import sys
import unittest


def read(path):
    with open(path) as f:
        return f.read()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

RECIPE = """# test recipe
[input]
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
radial_range = [0.8, 20.0]
[sample]
name = "La65Co25Al10 glass"
composition = "La65Co25Al10"
density = 6.0
[reduction]
qmin = 1.0
qmax = 18.0
rmax = 20.0
rstep = 0.02
window = "lorch"
[output]
result = "out/result.h5"
[run]
threads = 2
"""


class RunCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = lib.tmp_path("example")
        if not os.path.exists(os.path.join(cls.dir, "series.h5")):
            lib.run_pdfreduce("simulate", "--out", cls.dir, "--size", "256", "--t-start", "440", "--t-stop", "470",
                              "--t-step", "10", "--dark-frames", "2", "--no-reference")

    def write_recipe(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_run_layout_table_and_resume(self):
        import h5py
        recipe = self.write_recipe("run.toml", RECIPE)
        result = os.path.join(self.dir, "out", "result.h5")
        table = os.path.join(self.dir, "out", "result.csv")
        proc = lib.run_pdfreduce("run", recipe, "--overwrite", "--no-progress")
        self.assertIn("4 frame(s) written", proc.stderr)
        with h5py.File(result, "r") as f:
            self.assertEqual(f.attrs["default"], "entry")
            entry = f["entry"]
            self.assertEqual(entry["definition"][()].decode(), "NXazint1d")
            self.assertEqual(entry["integrated/I"].shape, (4, 800))
            self.assertEqual(list(entry["integrated/frame_index"][()]), [0, 1, 2, 3])
            self.assertEqual(list(entry["sample/temperature"][()]), [440.0, 450.0, 460.0, 470.0])
            self.assertEqual(entry["pdf"].attrs["default"], "gr")
            nr = entry["pdf/gr/r"].shape[0]
            self.assertEqual(entry["pdf/gr/G"].shape, (4, nr))
            self.assertAlmostEqual(entry["pdf/gr/r"][-1], 20.0, places=9)
            metrics = entry["metrics"]
            self.assertEqual(metrics.attrs["NX_class"], "NXcollection")
            columns = metrics.attrs["columns"].split(",")
            self.assertEqual(columns[0], "q1")
            for name in columns:
                self.assertEqual(metrics[name].shape, (4,), name)
            recipe_echo = entry["reduction/input/recipe"][()].decode()
            self.assertIn("[reduction]", recipe_echo)
            self.assertIn('window = "lorch"', recipe_echo)
            self.assertIn(os.path.join(self.dir, "series.h5"), recipe_echo)
            q1 = metrics["q1"][()]
            mro = metrics["mro_amplitude_rms"][()]
        # The model's first S(q) peak is near 2.2-2.5 1/A for La-based glasses (docs/conventions.md).
        self.assertTrue(all(2.0 < v < 2.8 for v in q1), q1)
        with open(table, newline="") as f:
            first = f.readline()
            rows = list(csv.reader(f))
        self.assertTrue(first.startswith("# libpdf "), first)  # the version line, then the header
        self.assertEqual(rows[0][:2], ["frame", "temperature_K"])
        self.assertEqual(rows[0][2:], columns)
        self.assertEqual([r[0] for r in rows[1:]], ["0", "1", "2", "3"])
        self.assertEqual([float(r[1]) for r in rows[1:]], [440.0, 450.0, 460.0, 470.0])
        k = rows[0].index("mro_amplitude_rms")
        for i, r in enumerate(rows[1:]):
            a = float(r[k])
            self.assertTrue((math.isnan(a) and math.isnan(mro[i])) or abs(a - mro[i]) <= 1e-9 * abs(mro[i]))
        # `inspect --json` of the result is valid JSON holding the parameters (the first parameters, poni and
        # all_parameters, are left out: the separator must follow what was written).
        info = json.loads(lib.run_pdfreduce("inspect", result, "--json").stdout)
        self.assertEqual(info["frames"], 4)
        self.assertNotIn("poni", info["parameters"])
        self.assertIn("npt", info["parameters"])
        # Again: resumed, nothing to do, the table unchanged.
        before = read(table)
        proc = lib.run_pdfreduce("run", recipe, "--no-progress")
        self.assertIn("already in", proc.stderr)
        self.assertEqual(read(table), before)

    def expect_error(self, text, *parts):
        recipe = self.write_recipe("bad.toml", text)
        result = os.path.join(self.dir, "out", "bad.h5")
        if os.path.exists(result):
            os.remove(result)
        proc = lib.run_pdfreduce("run", recipe, "--no-progress", expect=1)
        for p in parts:
            self.assertIn(p, proc.stderr)
        self.assertTrue(proc.stderr.startswith("pdfreduce: error: "), proc.stderr)
        self.assertFalse(os.path.exists(result))
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out", "bad.csv")))

    def test_bad_recipes(self):
        base = RECIPE.replace("out/result.h5", "out/bad.h5")
        self.expect_error(base.replace("npt = 800", "nptt = 800"), "unknown key 'nptt' in section [integration]",
                          "bad.toml:12", "did you mean 'npt'?")
        self.expect_error(base.replace('composition = "La65Co25Al10"\n', ""), "[sample] composition is required")
        self.expect_error(base.replace("rstep = 0.02", "rstep = -0.02"), "rstep = -0.02", "[reduction] rstep at")
        lib.run_pdfreduce("simulate", "--out", lib.tmp_path("small"), "--size", "128", "--t-start", "300",
                          "--t-stop", "300", "--dark-frames", "1", "--no-reference")
        self.expect_error(base.replace('"mask.tif"', '"%s"' % lib.tmp_path("small", "mask.tif")),
                          "is 128 x 128 pixels", "the frames are 256 x 256")
        self.expect_error(base.replace('file = "series.h5"', 'file = "flat.h5"'),
                          "[metrics] against = \"temperature\"", "has no sample temperatures")
        proc = lib.run_pdfreduce("run", "--no-such-option", expect=2)
        self.assertIn("usage error", proc.stderr)

    def test_write_recipe_template(self):
        path = lib.tmp_path("template.toml")
        lib.run_pdfreduce("run", "--write-recipe", path)
        text = read(path)
        for key in ("[input]", "[geometry]", "[corrections]", "[integration]", "[sample]", "[reduction]", "[metrics]",
                    "[output]", "[run]", "frames_in_flight"):
            self.assertIn(key, text)


if __name__ == "__main__":
    lib.main(__doc__)
