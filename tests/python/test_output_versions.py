#!/usr/bin/python3
"""Every file libpdf and pdfreduce write names the libpdf version that wrote it (issue 6, versioning), and the
readers of those files still read them.

- the relaxation sample table (libpdf::write_sample_table, written by the example program relaxation_study):
  a first line "# libpdf <version>", then the CSV the csv module reads once '#' lines are skipped;
- pdfreduce integrate: the .xy header and the NeXus file (@creator, /entry/reduction/version);
- pdfreduce pdf: the .iq .sq .fq .gr headers;
- pdfreduce run: the recipe echoed in the result, the onset file, the recipe template (--write-recipe);
- the --json output of metrics and onset.
The version is the one `pdfreduce --version` prints.

    test_output_versions.py --pdfreduce EXE --data DATA --tmp DIR --relaxation-study EXE
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import unittest

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

STUDY = None  # the relaxation_study example program


class OutputVersions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.version = lib.run_pdfreduce("--version").stdout.split()[-1]
        cls.tag = "libpdf " + cls.version
        cls.dir = lib.tmp_path("versions")
        os.makedirs(cls.dir, exist_ok=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def test_sample_table(self):
        out = self.path("study")
        proc = subprocess.run([STUDY, out], capture_output=True, text=True, timeout=300)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        table = os.path.join(out, "relaxation_with_structure.csv")
        with open(table) as f:
            lines = f.read().splitlines()
        self.assertEqual(lines[0], "# " + self.tag)
        # Readers skip the comment: the header row and one row per sample, every row as long as the header.
        rows = list(csv.reader(line for line in lines if not line.startswith("#")))
        self.assertEqual(rows[0][0], "sample")
        self.assertIn("T_beta_K", rows[0])
        self.assertGreater(len(rows), 2)
        for row in rows[1:]:
            self.assertEqual(len(row), len(rows[0]), row)
        # numpy takes the names of names=True from the first line even when it is a comment: skip the version line.
        data = numpy.genfromtxt(table, delimiter=",", skip_header=1, names=True, dtype=None, encoding="utf-8")
        self.assertEqual(len(data), len(rows) - 1)
        self.assertIn("T_beta_K", data.dtype.names)

    def test_pdfreduce_outputs(self):
        import h5py
        rng = numpy.random.default_rng(2)
        poni = self.path("det.poni")
        with open(poni, "w") as f:
            f.write("poni_version: 2\nDetector: Detector\n"
                    'Detector_config: {"pixel1": 0.0002, "pixel2": 0.0002, "max_shape": [48, 64]}\n'
                    "Distance: 0.1\nPoni1: 0.0048\nPoni2: 0.0064\nRot1: 0\nRot2: 0\nRot3: 0\nWavelength: 2e-11\n")
        tif = self.path("frame.tif")
        lib.write_tiff(tif, rng.poisson(300.0, size=(48, 64)).astype(numpy.int32))
        xy = self.path("frame.xy")
        lib.run_pdfreduce("integrate", tif, "--poni", poni, "--npt", "50", "-o", xy)
        with open(xy) as f:
            self.assertIn(self.tag, f.readline())
        nx = self.path("frame.h5")
        lib.run_pdfreduce("integrate", tif, "--poni", poni, "--npt", "50", "-o", nx)
        with h5py.File(nx, "r") as f:
            creator = f.attrs["creator"]
            creator = creator.decode() if isinstance(creator, bytes) else creator
            self.assertIn(self.tag, creator)
            self.assertIn(self.tag, f["/entry/reduction/version"][()].decode())

        glass = lib.data_path("glass_Mg2SiO4", "Mg2SiO4_ambient.xy")
        if os.path.exists(glass):
            prefix = self.path("glass")
            lib.run_pdfreduce("pdf", glass, "--composition", "Mg2SiO4", "--density", "2.9", "-o", prefix)
            for ext in (".iq", ".sq", ".fq", ".gr"):
                with open(prefix + ext) as f:
                    self.assertIn(self.tag, f.read(4000), ext)
            metrics = json.loads(lib.run_pdfreduce("metrics", prefix + ".gr", "--json").stdout)
            self.assertEqual(metrics["libpdf_version"], self.version)

        template = self.path("template.toml")
        lib.run_pdfreduce("run", "--write-recipe", template)
        with open(template) as f:
            self.assertTrue(f.readline().startswith("# " + self.tag + " "))

        table = self.path("series.csv")
        with open(table, "w") as f:
            f.write("frame,temperature_K,m\n")
            for k in range(12):
                t = 300.0 + 10 * k
                f.write("%d,%g,%g\n" % (k, t, 1.0 + (0.0 if t < 350 else 0.02 * (t - 350))))
        onset = json.loads(lib.run_pdfreduce("onset", table, "--metric", "m", "--json").stdout)
        self.assertEqual(onset["libpdf_version"], self.version)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--relaxation-study", required=True)
    known, rest = parser.parse_known_args()
    STUDY = known.relaxation_study
    sys.argv = [sys.argv[0]] + rest
    lib.main(__doc__)
