#!/usr/bin/python3
"""The pdfreduce command line: help, version, exit codes and messages, output naming and atomic output.

Exit codes: 0 success, 1 runtime/input error (stderr starts with "pdfreduce: error: "), 2 usage error.
Uses a small synthetic detector (64 x 80 pixels) so every run takes milliseconds.
"""
import json
import os
import re
import sys

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

ROWS, COLS = 64, 80

PONI_FIELDS = [
    ("poni_version", "2"),
    ("Detector", "Detector"),
    ("Detector_config", json.dumps({"pixel1": 200e-6, "pixel2": 200e-6, "max_shape": [ROWS, COLS]})),
    ("Distance", "0.1"),
    ("Poni1", "0.0064"),
    ("Poni2", "0.008"),
    ("Rot1", "0.01"),
    ("Rot2", "-0.02"),
    ("Rot3", "0.1"),
    ("Wavelength", "2e-11"),
]

# Every option of `pdfreduce integrate`, as the help must list it.
INTEGRATE_OPTIONS = [
    "INPUT", "--poni", "--dataset", "--frames", "--mask", "--mask-dataset", "--dark", "--dark-dataset",
    "--dark-variance", "--flat", "--flat-dataset", "--flip-vertical", "--no-flip-mask", "--output", "--npt",
    "--unit", "--radial-range", "--azimuth-range", "--split", "--polarization", "--no-solid-angle",
    "--sensor-thickness", "--sensor-attenuation-length", "--normalization", "--dummy", "--delta-dummy",
    "--keep-detector-markers", "--bit-depth", "--error-model", "--empty", "--sigma-clip", "--clip-iterations",
    "--sum", "--average", "--threads",
]


def poni_text(**changes):
    """PONI text with fields replaced (value) or removed (None)."""
    lines = ["# test geometry"]
    for key, value in PONI_FIELDS:
        value = changes.get(key, value)
        if value is not None:
            lines.append("%s: %s" % (key, value))
    return "\n".join(lines) + "\n"


class Cli(lib.PatternCase):
    @classmethod
    def setUpClass(cls):
        rng = numpy.random.default_rng(5)
        cls.dir = lib.tmp_path("cli")
        os.makedirs(cls.dir, exist_ok=True)
        cls.poni = cls.path("good.poni")
        with open(cls.poni, "w") as f:
            f.write(poni_text())
        cls.frame = rng.poisson(500.0, size=(ROWS, COLS)).astype(numpy.int32)
        cls.tif = cls.path("frame.tif")
        lib.write_tiff(cls.tif, cls.frame)
        cls.frames = rng.poisson(500.0, size=(4, ROWS, COLS)).astype(numpy.uint16)
        cls.h5 = cls.path("frames.h5")
        lib.write_h5(cls.h5, cls.frames, compression=None)

    @classmethod
    def path(cls, name):
        return os.path.join(cls.dir, name)

    def integrate(self, *args, expect=0, inp=None, poni=None):
        return lib.run_pdfreduce("integrate", inp or self.tif, "--poni", poni or self.poni, *args, expect=expect)

    def assert_error(self, proc, *words):
        """A runtime error: exit code 1, one clear message naming @words (case-insensitive)."""
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertTrue(proc.stderr.startswith("pdfreduce: error: "), proc.stderr)
        for w in words:
            self.assertIn(w.lower(), proc.stderr.lower(), "the message should name '%s'" % w)
        self.assertNotIn("terminate called", proc.stderr)

    def assert_no_tmp_files(self, folder):
        leftovers = [n for n in os.listdir(folder) if ".tmp" in n]
        self.assertEqual(leftovers, [], "temporary files left behind")

    # -- help and version ---------------------------------------------------------------------------

    def test_help_lists_every_option(self):
        proc = lib.run_pdfreduce("integrate", "--help")
        for option in INTEGRATE_OPTIONS:
            self.assertIn(option, proc.stdout, "integrate --help does not list %s" % option)
        # Units are documented with the options they belong to.
        for unit_word in ("metres", "degrees", "q_A^-1", "q_nm^-1", "2th_deg", "r_mm"):
            self.assertIn(unit_word, proc.stdout)
        top = lib.run_pdfreduce("--help")
        for word in ("integrate", "--version", "--verbose", "--quiet"):
            self.assertIn(word, top.stdout)

    def test_version(self):
        proc = lib.run_pdfreduce("--version")
        self.assertRegex(proc.stdout.strip(), r"\d+\.\d+\.\d+")

    def test_no_arguments_is_a_usage_error(self):
        proc = lib.run_pdfreduce(expect=2)
        self.assertIn("integrate", proc.stderr)

    # -- success paths --------------------------------------------------------------------------------

    def test_header_and_columns(self):
        out = self.path("header.xy")
        self.integrate("-o", out, "--npt", "50", "--unit", "2th_deg", "--polarization", "0.95")
        header, data = lib.read_xy(out)
        self.assertEqual(data.shape, (50, 3))
        version = lib.run_pdfreduce("--version").stdout.strip().split()[-1]
        self.assertIn(version, header[0])
        expected = {"input": self.tif, "frame": "0", "unit": "2th_deg", "npt": "50", "distance_m": "0.1",
                    "polarization_factor": "0.95", "splitting": "bbox", "error_model": "poisson",
                    "flip_vertical": "no"}
        for key, value in expected.items():
            self.assertEqual(lib.header_value(header, key), value, key)
        for key in ("poni1_m", "poni2_m", "rot1_rad", "rot2_rad", "rot3_rad", "wavelength_m", "pixel1_m", "pixel2_m",
                    "detector_shape", "radial_range", "solid_angle", "mask", "dark", "flat"):
            lib.header_value(header, key)  # present
        self.assertAlmostEqual(float(lib.header_value(header, "rot3_rad")), 0.1, places=15)
        self.assertTrue(numpy.all(numpy.diff(data[:, 0]) > 0))
        self.assertTrue(numpy.all(data[:, 2] >= 0))
        # Enough digits: the bin spacing is reproduced to 1e-8 relative.
        steps = numpy.diff(data[:, 0])
        self.assertLess(numpy.ptp(steps) / numpy.mean(steps), 1e-6)

    def test_chi_and_dat_outputs(self):
        for ext in (".chi", ".dat", ".XY"):
            out = self.path("ext" + ext)
            self.integrate("-o", out, "--npt", "20")
            self.assertEqual(lib.read_xy(out)[1].shape, (20, 3))

    def test_several_frames_one_file_each(self):
        outdir = self.path("series")
        self.integrate("-o", os.path.join(outdir, "s_{frame}.xy"), "--npt", "30", inp=self.h5)
        self.assertEqual(sorted(os.listdir(outdir)), ["s_0.xy", "s_1.xy", "s_2.xy", "s_3.xy"])
        for i in range(4):
            header, data = lib.read_xy(os.path.join(outdir, "s_%d.xy" % i))
            self.assertEqual(lib.header_value(header, "frame"), str(i))
        # The frames differ (each file holds its own frame).
        a = lib.read_xy(os.path.join(outdir, "s_0.xy"))[1]
        b = lib.read_xy(os.path.join(outdir, "s_1.xy"))[1]
        self.assertFalse(numpy.array_equal(a[:, 1], b[:, 1]))
        self.assert_no_tmp_files(outdir)

    def test_frame_slices(self):
        cases = {"1:3": [1, 2], "-1:": [3], "::2": [0, 2], "2": [2], "-4:-2": [0, 1], ":10": [0, 1, 2, 3]}
        for spec, expected in cases.items():
            with self.subTest(frames=spec):
                outdir = self.path("slice_" + re.sub(r"[^0-9a-z-]", "_", spec))
                self.integrate("--frames=" + spec, "-o", os.path.join(outdir, "f_{frame}.xy"), "--npt", "10",
                               inp=self.h5)
                self.assertEqual(sorted(os.listdir(outdir)), ["f_%d.xy" % i for i in expected])

    def test_quiet_and_verbose(self):
        quiet = self.integrate("-o", self.path("quiet.xy"), "--quiet")
        self.assertEqual(quiet.stderr, "")
        verbose = lib.run_pdfreduce("-v", "integrate", self.tif, "--poni", self.poni, "-o", self.path("verbose.xy"))
        self.assertIn("plan", verbose.stderr)

    # -- runtime errors (exit 1) ------------------------------------------------------------------------

    def write_poni(self, name, **changes):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(poni_text(**changes))
        return path

    def test_poni_errors(self):
        cases = [
            ("missing_distance.poni", {"Distance": None}, ["distance"]),
            ("text_distance.poni", {"Distance": "abc"}, ["distance"]),
            ("negative_distance.poni", {"Distance": "-0.1"}, ["distance"]),
            ("zero_wavelength.poni", {"Wavelength": "0"}, ["wavelength"]),
            ("text_rot.poni", {"Rot2": "0.0x"}, ["rot2"]),
        ]
        for name, changes, words in cases:
            with self.subTest(poni=name):
                poni = self.write_poni(name, **changes)
                self.assert_error(self.integrate("-o", self.path("never.xy"), poni=poni, expect=None), *words)
        self.assertFalse(os.path.exists(self.path("never.xy")))
        missing = self.path("no_such.poni")
        self.assert_error(self.integrate("-o", self.path("never.xy"), poni=missing, expect=None), missing)

    def test_shape_mismatches(self):
        small = self.path("small.tif")
        lib.write_tiff(small, numpy.zeros((ROWS, COLS + 1), dtype=numpy.int32))
        transposed = self.path("transposed.tif")
        lib.write_tiff(transposed, numpy.zeros((COLS, ROWS), dtype=numpy.int32))
        for option in ("--mask", "--dark", "--flat"):
            for path in (small, transposed):
                with self.subTest(option=option, file=os.path.basename(path)):
                    proc = self.integrate(option, path, "-o", self.path("never.xy"), expect=None)
                    self.assert_error(proc, option.lstrip("-"))

    def test_empty_radial_range(self):
        for rng in ("5:2", "3:3"):
            with self.subTest(range=rng):
                proc = self.integrate("--unit", "2th_deg", "--radial-range", rng, "-o", self.path("never.xy"),
                                      expect=None)
                self.assert_error(proc, "radial")

    def test_everything_masked(self):
        mask = self.path("all_masked.tif")
        lib.write_tiff(mask, numpy.ones((ROWS, COLS), dtype=numpy.int32))
        self.assert_error(self.integrate("--mask", mask, "-o", self.path("never.xy"), expect=None), "mask")
        invalid = self.path("all_invalid.tif")
        lib.write_tiff(invalid, numpy.full((ROWS, COLS), -1, dtype=numpy.int32))  # the detector's invalid marker
        self.assert_error(self.integrate("-o", self.path("never.xy"), inp=invalid, expect=None))
        self.assertFalse(os.path.exists(self.path("never.xy")))

    def test_missing_and_broken_inputs(self):
        missing = self.path("no_such_frame.tif")
        self.assert_error(self.integrate("-o", self.path("never.xy"), inp=missing, expect=None), missing)
        truncated = self.path("truncated.h5")
        with open(self.h5, "rb") as f:
            content = f.read()
        with open(truncated, "wb") as f:
            f.write(content[: len(content) // 2])
        self.assert_error(self.integrate("-o", self.path("never.xy"), inp=truncated, expect=None), "truncated.h5")
        not_an_image = self.path("not_an_image.tif")
        with open(not_an_image, "w") as f:
            f.write("this is not a TIFF file\n")
        self.assert_error(self.integrate("-o", self.path("never.xy"), inp=not_an_image, expect=None), "not_an_image")
        self.assert_error(self.integrate("--dataset", "/no/such/data", "-o", self.path("never.xy"), inp=self.h5,
                                         expect=None), "/no/such/data")

    def test_several_frames_need_a_frame_field(self):
        self.assert_error(self.integrate("-o", self.path("one_name.xy"), inp=self.h5, expect=None), "{frame}")
        self.assertFalse(os.path.exists(self.path("one_name.xy")))

    def test_frame_out_of_range(self):
        self.assert_error(self.integrate("--frames", "7", "-o", self.path("never.xy"), inp=self.h5, expect=None),
                          "--frames")
        self.assert_error(self.integrate("--frames", "5:9", "-o", self.path("n_{frame}.xy"), inp=self.h5,
                                         expect=None), "--frames")

    # -- usage errors (exit 2) --------------------------------------------------------------------------

    def test_usage_errors(self):
        out = self.path("never.xy")
        cases = [
            ["--npt", "abc"], ["--npt", "0"], ["--npt", "-5"], ["--unit", "q_furlong"], ["--split", "half"],
            ["--polarization", "2"], ["--radial-range", "1"], ["--radial-range", "a:b"], ["--azimuth-range", "1:2:3"],
            ["--frames", "a:b"], ["--frames", "0:4:0"], ["--error-model", "gauss"], ["--no-such-option"],
            ["--sum", "--average"], ["--sum", "--sigma-clip", "3"], ["--sensor-thickness", "1e-3"],
            ["--delta-dummy", "1"], ["--threads", "-1"], ["--normalization", "0"], ["--dark-variance", "maybe"],
            ["--dark-variance", "poisson"],
        ]
        for extra in cases:
            with self.subTest(args=extra):
                proc = self.integrate("-o", out, *extra, expect=None)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertIn("pdfreduce: usage error", proc.stderr)
        proc = self.integrate("-o", self.path("wrong.txt"), expect=None)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(lib.run_pdfreduce("integrate", self.tif, "-o", out, expect=None).returncode, 2)  # no --poni
        self.assertEqual(lib.run_pdfreduce("integrate", "--poni", self.poni, "-o", out, expect=None).returncode, 2)
        self.assertEqual(lib.run_pdfreduce("no-such-command", expect=None).returncode, 2)
        self.assertFalse(os.path.exists(out))

    # -- atomic output --------------------------------------------------------------------------------------

    def test_atomic_output(self):
        """A failing run leaves earlier outputs and no temporary files; a good run replaces the file whole."""
        outdir = self.path("atomic")
        os.makedirs(outdir, exist_ok=True)
        target = os.path.join(outdir, "a_{frame}.xy")
        # Frame 2 holds only invalid pixels: frames 0 and 1 are written, then the run fails.
        frames = self.frames.astype(numpy.int32)
        frames[2] = -1
        bad = self.path("bad_third_frame.h5")
        lib.write_h5(bad, frames)
        old = os.path.join(outdir, "a_2.xy")
        with open(old, "w") as f:
            f.write("# an older result\n1 2 3\n")
        proc = self.integrate("-o", target, "--npt", "20", inp=bad, expect=None)
        self.assert_error(proc)
        self.assertTrue(os.path.exists(os.path.join(outdir, "a_0.xy")))
        self.assertTrue(os.path.exists(os.path.join(outdir, "a_1.xy")))
        with open(old) as f:
            self.assertEqual(f.read(), "# an older result\n1 2 3\n")
        self.assert_no_tmp_files(outdir)
        # A good run replaces the old file completely.
        self.integrate("-o", target, "--npt", "20", "--frames", "0:2", inp=self.h5)
        self.integrate("-o", old, "--npt", "20", "--frames", "3", inp=self.h5)
        self.assertEqual(lib.read_xy(old)[1].shape, (20, 3))
        self.assert_no_tmp_files(outdir)


if __name__ == "__main__":
    lib.main(__doc__)
