#!/usr/bin/python3
"""The files in and out, end to end through the tool and checked with h5py (an independent reader):

1. `pdfreduce simulate` writes a small example series (256 x 256 pixels, 4 temperatures);
2. `pdfreduce inspect --json` reports its frames, compression, metadata and temperatures;
3. `pdfreduce integrate ... -o result.h5` writes the NXazint1d result; h5py checks the layout of
   docs/files.md: the @default chain root -> entry -> integrated, @signal "I", @axes [".", "radial_axis"],
   radial_axis @units "1/angstrom", I[nFrames, nq], I_errors, radial_axis_edges (nq + 1), the NXprocess
   `reduction` with the PONI text and the parameters, NXsample temperature[nFrames] equal to the input's;
4. silx (when installed) resolves the default plot to /entry/integrated/I;
5. the integrated rows agree with the simulator's expected pattern (its truth in /entry/simulation) to 1 %
   over 2-18 1/A: the frames carry Poisson noise (~0.3 % per bin) and the flat is divided out exactly;
6. a second run resumes: nothing is appended twice; frames selected later are appended.
"""
import json
import os
import sys
import unittest

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402


class FilesInAndOut(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = lib.tmp_path("example")
        lib.run_pdfreduce("simulate", "--out", cls.out, "--size", "256", "--t-start", "440", "--t-stop", "470",
                          "--t-step", "10", "--dark-frames", "2", "--no-reference")
        cls.series = os.path.join(cls.out, "series.h5")

    def test_inspect_json(self):
        proc = lib.run_pdfreduce("inspect", self.series, "--json")
        info = json.loads(proc.stdout)
        self.assertEqual(info["frames"], 4)
        self.assertEqual([info["rows"], info["cols"]], [256, 256])
        self.assertEqual(info["type"], "uint16")
        self.assertIn("deflate (level 1)", info["storage"][0]["filters"])
        self.assertAlmostEqual(info["metadata"]["wavelength_A"], 0.2072, places=12)
        self.assertEqual(info["metadata"]["temperature_K"], [440.0, 450.0, 460.0, 470.0])
        self.assertAlmostEqual(info["metadata"]["distance_m"], 0.25, places=12)
        text = lib.run_pdfreduce("inspect", self.series).stdout
        self.assertIn("4 of 256 x 256 uint16", text)
        # Errors name the file.
        proc = lib.run_pdfreduce("inspect", lib.tmp_path("nope.h5"), expect=1)
        self.assertIn("nope.h5", proc.stderr)

    def integrate(self, result, *extra):
        return lib.run_pdfreduce(
            "integrate", self.series, "--poni", os.path.join(self.out, "series.poni"), "--dark",
            os.path.join(self.out, "dark.h5"), "--flat", os.path.join(self.out, "flat.h5"), "--mask",
            os.path.join(self.out, "mask.tif"), "--polarization", "0.99", "--sensor-thickness", "0.0006",
            "--sensor-attenuation-length", "0.00028", "--npt", "800", "--radial-range", "1:20", "-o", result, *extra)

    def test_result_layout_and_values(self):
        import h5py
        result = lib.tmp_path("result.h5")
        if os.path.exists(result):
            os.remove(result)
        self.integrate(result)
        with h5py.File(result, "r") as f, h5py.File(self.series, "r") as src:
            # @default chain: root -> NXentry -> NXdata -> @signal
            self.assertEqual(f.attrs["default"], "entry")
            entry = f["entry"]
            self.assertEqual(entry.attrs["NX_class"], "NXentry")
            self.assertEqual(entry.attrs["default"], "integrated")
            self.assertEqual(entry["definition"][()].decode(), "NXazint1d")
            data = entry["integrated"]
            self.assertEqual(data.attrs["NX_class"], "NXdata")
            self.assertEqual(data.attrs["signal"], "I")
            self.assertEqual([a if isinstance(a, str) else a.decode() for a in data.attrs["axes"]], [".", "radial_axis"])
            self.assertEqual(data["radial_axis"].attrs["units"], "1/angstrom")
            self.assertEqual(data["I"].shape, (4, 800))
            self.assertEqual(data["I_errors"].shape, (4, 800))
            self.assertEqual(data["radial_axis_edges"].shape, (801,))
            self.assertIsNotNone(data["I"].chunks)
            self.assertEqual(data["I"].compression, "gzip")
            self.assertEqual(list(data["frame_index"][()]), [0, 1, 2, 3])
            for flag in ("solid_angle_applied", "polarization_applied", "normalization_applied"):
                self.assertTrue(bool(entry[flag][()]), flag)
            red = entry["reduction"]
            self.assertEqual(red.attrs["NX_class"], "NXprocess")
            self.assertIn(b"libpdf", red["version"][()])
            poni_text = open(os.path.join(self.out, "series.poni")).read()
            self.assertEqual(red["input/poni"][()].decode(), poni_text)
            self.assertEqual(red["input/polarization_factor"][()].decode(), "0.98999999999999999")
            self.assertEqual(entry["instrument/monochromator/wavelength"].attrs["units"], "angstrom")
            numpy.testing.assert_array_equal(entry["sample/temperature"][()], src["/entry/sample/temperature"][()])
            self.assertEqual(entry["sample/temperature"].attrs["units"], "K")
            # Values against the simulator's truth: the expected integrated pattern.
            q_truth = src["/entry/simulation/q"][()]
            expected = src["/entry/simulation/expected_pattern"][()]
            q = data["radial_axis"][()]
            band = (q > 2) & (q < 18)
            for k in range(4):
                model = numpy.interp(q, q_truth, expected[k])
                rows = data["I"][k]
                ok = band & (rows != 0)
                rel = numpy.abs(rows[ok] / model[ok] - 1)
                print("    frame %d: median |I/I_model - 1| = %.2g, max %.2g" % (k, numpy.median(rel), rel.max()))
                self.assertLess(numpy.median(rel), 0.01)
        try:
            import silx.io.nxdata
            import silx.io
            with silx.io.open(result) as f:
                nx = silx.io.nxdata.get_default(f)
                self.assertIsNotNone(nx)
                self.assertEqual(nx.signal.name, "/entry/integrated/I")
                self.assertEqual(nx.axes_dataset_names[-1], "radial_axis")
        except ImportError:
            print("    silx not installed: default-plot check skipped")

    def test_resume(self):
        import h5py
        result = lib.tmp_path("resume.h5")
        if os.path.exists(result):
            os.remove(result)
        self.integrate(result, "--frames", "0:2")
        proc = self.integrate(result)  # all four: 0 and 1 are in the file already
        self.assertIn("resuming", proc.stderr + proc.stdout)
        with h5py.File(result, "r") as f:
            self.assertEqual(list(f["/entry/integrated/frame_index"][()]), [0, 1, 2, 3])
            self.assertEqual(f["/entry/integrated/I"].shape, (4, 800))
        proc = self.integrate(result)
        self.assertIn("already in", proc.stderr + proc.stdout)
        # A different reduction into the same file is refused, naming the difference.
        proc = lib.run_pdfreduce("integrate", self.series, "--poni", os.path.join(self.out, "series.poni"),
                                 "--npt", "800", "--radial-range", "1:20", "-o", result, expect=1)
        self.assertIn("cannot be resumed", proc.stderr)


if __name__ == "__main__":
    lib.main(__doc__)
