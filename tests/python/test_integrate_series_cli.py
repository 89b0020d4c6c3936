#!/usr/bin/python3
"""`pdfreduce integrate` on series that are still being written (--follow) and on TIFF series with a separate
dark (--dark-subtracted, --summed-frames, --dark-summed-frames).

Each follow test starts a writer process (Python, h5py or fabio) that adds frames while pdfreduce follows the
file, then compares every pattern with a plain integration of the finished file: following must change when a
frame is read, never what is integrated. A small synthetic detector (48 x 64 pixels) keeps each run short.
"""
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

ROWS, COLS = 48, 64
PONI = "\n".join([
    "poni_version: 2",
    "Detector: Detector",
    "Detector_config: " + json.dumps({"pixel1": 200e-6, "pixel2": 200e-6, "max_shape": [ROWS, COLS]}),
    "Distance: 0.1", "Poni1: 0.0048", "Poni2: 0.0064", "Rot1: 0.01", "Rot2: -0.02", "Rot3: 0",
    "Wavelength: 2e-11", ""])

# The writer: adds frames to an HDF5 stack (opened, extended, written and closed for each frame, as acquisition
# software that lets readers in does) or writes numbered TIFF files, one every DELAY seconds.
WRITER = textwrap.dedent("""
    import sys, time, numpy
    kind, path, frames_file, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    frames = numpy.load(frames_file)
    if kind == "h5":
        import h5py
        for k, frame in enumerate(frames):
            time.sleep(delay)
            with h5py.File(path, "a") as f:
                if "entry" not in f:
                    f.attrs["default"] = "entry"
                    e = f.create_group("entry")
                    e.attrs["NX_class"] = "NXentry"
                    d = e.create_group("instrument/detector")
                    d.attrs["NX_class"] = "NXdetector"
                    d.create_dataset("data", shape=(0,) + frame.shape, maxshape=(None,) + frame.shape,
                                     chunks=(1,) + frame.shape, dtype=frames.dtype)
                ds = f["entry/instrument/detector/data"]
                ds.resize(k + 1, axis=0)
                ds[k] = frame
    else:
        from fabio.tifimage import TifImage
        import os
        for k, frame in enumerate(frames):
            time.sleep(delay)
            tmp = path % k + ".part"
            TifImage(data=numpy.ascontiguousarray(frame)).write(tmp)
            os.rename(tmp, path % k)
""")


class IntegrateSeries(lib.PatternCase):
    @classmethod
    def setUpClass(cls):
        rng = numpy.random.default_rng(11)
        cls.dir = lib.tmp_path("series")
        os.makedirs(cls.dir, exist_ok=True)
        cls.poni = cls.path("det.poni")
        with open(cls.poni, "w") as f:
            f.write(PONI)
        cls.frames = rng.poisson(400.0, size=(5, ROWS, COLS)).astype(numpy.uint16)
        cls.frames_npy = cls.path("frames.npy")
        numpy.save(cls.frames_npy, cls.frames)
        writer = cls.path("writer.py")
        with open(writer, "w") as f:
            f.write(WRITER)
        cls.writer = writer

    @classmethod
    def path(cls, *names):
        return os.path.join(cls.dir, *names)

    def fresh(self, name):
        d = self.path(name)
        if os.path.isdir(d):
            for n in os.listdir(d):
                os.remove(os.path.join(d, n))
        os.makedirs(d, exist_ok=True)
        return d

    def start_writer(self, kind, target, delay):
        return subprocess.Popen([sys.executable, self.writer, kind, target, self.frames_npy, str(delay)])

    def integrate(self, inp, *args, expect=0):
        return lib.run_pdfreduce("integrate", inp, "--poni", self.poni, "--npt", "80", *args, expect=expect)

    def assert_same_pattern(self, a, b):
        _, x = lib.read_xy(a)
        _, y = lib.read_xy(b)
        numpy.testing.assert_array_equal(x, y, "%s differs from %s" % (a, b))

    # -- --follow --------------------------------------------------------------------------------------

    def test_follow_growing_hdf5(self):
        d = self.fresh("follow_h5")
        h5 = os.path.join(d, "growing.h5")
        writer = self.start_writer("h5", h5, 0.4)
        try:
            # The file does not exist yet when pdfreduce starts: it waits for frame 0, then for each next one,
            # and stops 1.5 s after the last (frame 5 never comes).
            t0 = time.time()
            proc = self.integrate(h5, "--follow", "--timeout", "1.5", "--poll-interval", "0.05",
                                  "-o", os.path.join(d, "f_{frame}.xy"))
            elapsed = time.time() - t0
        finally:
            writer.wait(timeout=60)
        self.assertEqual(writer.returncode, 0)
        self.assertIn("integrated 5 frame(s)", proc.stderr)
        self.assertIn("frame 5 of", proc.stderr)  # where it stopped, and why
        self.assertGreater(elapsed, 5 * 0.4, "pdfreduce cannot have finished before the writer")
        for k in range(5):
            out = os.path.join(d, "f_%d.xy" % k)
            header, _ = lib.read_xy(out)
            self.assertIn("yes", lib.header_value(header, "follow"))
            # The same frame from the finished file, without --follow: the same numbers.
            ref = os.path.join(d, "ref_%d.xy" % k)
            self.integrate(h5, "--frames", str(k), "-o", ref)
            self.assert_same_pattern(out, ref)
        self.assertFalse(os.path.exists(os.path.join(d, "f_5.xy")))

    def test_follow_tiff_series_with_a_stop(self):
        d = self.fresh("follow_tif")
        pattern = os.path.join(d, "scan_%05d.tif")
        writer = self.start_writer("tif", pattern, 0.3)
        try:
            # --frames 1:4 ends after frame 3 without waiting for a timeout; every 2nd frame of 0:5:2.
            t0 = time.time()
            self.integrate(os.path.join(d, "scan_#####.tif"), "--follow", "--timeout", "30", "--frames", "1:4",
                           "-o", os.path.join(d, "t_{frame}.xy"))
            self.assertLess(time.time() - t0, 25, "an A:B selection must not wait for the timeout")
        finally:
            writer.wait(timeout=60)
        for k in (1, 2, 3):
            ref = os.path.join(d, "r_%d.xy" % k)
            self.integrate(pattern % k, "-o", ref)
            self.assert_same_pattern(os.path.join(d, "t_%d.xy" % k), ref)
        for k in (0, 4):
            self.assertFalse(os.path.exists(os.path.join(d, "t_%d.xy" % k)))

    def test_follow_resumes_a_nexus_output(self):
        d = self.fresh("follow_nx")
        h5 = os.path.join(d, "done.h5")
        lib.write_h5(h5, self.frames, compression=None)
        out = os.path.join(d, "result.h5")
        self.integrate(h5, "--frames", "0:2", "-o", out)
        proc = self.integrate(h5, "--follow", "--timeout", "0.5", "-o", out)
        self.assertIn("resuming, 2 frame(s) already in the file", proc.stderr)
        self.assertIn("integrated 3 frame(s)", proc.stderr)
        import h5py
        with h5py.File(out, "r") as f:
            self.assertEqual(list(f["/entry/integrated/frame_index"][()]), [0, 1, 2, 3, 4])
            follow_I = f["/entry/integrated/I"][()]
        plain = os.path.join(d, "plain.h5")
        self.integrate(h5, "-o", plain)
        with h5py.File(plain, "r") as f:
            numpy.testing.assert_array_equal(follow_I, f["/entry/integrated/I"][()])

    def test_follow_nothing_arrives(self):
        d = self.fresh("follow_none")
        missing = os.path.join(d, "never.h5")
        t0 = time.time()
        proc = self.integrate(missing, "--follow", "--timeout", "0.5", "-o", os.path.join(d, "n_{frame}.xy"),
                              expect=1)
        self.assertGreaterEqual(time.time() - t0, 0.5)
        self.assertTrue(proc.stderr.startswith("pdfreduce: error: "), proc.stderr)
        self.assertIn("never.h5", proc.stderr)
        self.assertIn("--timeout", proc.stderr)
        self.assertEqual(os.listdir(d), [])

    def test_follow_usage(self):
        h5 = self.path("usage.h5")
        lib.write_h5(h5, self.frames[:2], compression=None)
        out = self.path("usage.xy")
        for args, word in ((["--timeout", "2"], "--follow"), (["--poll-interval", "0.1"], "--follow"),
                           (["--follow", "--sum"], "--sum"), (["--follow", "--timeout", "-1"], "--timeout")):
            with self.subTest(args=args):
                proc = self.integrate(h5, *args, "-o", out, expect=2)
                self.assertIn(word, proc.stderr)
        # Counting from the end needs the length, which a growing file does not have yet.
        proc = self.integrate(h5, "--follow", "--frames", "-2:", "-o", self.path("u_{frame}.xy"), expect=1)
        self.assertIn("from the end", proc.stderr)
        # Several frames into one text file.
        proc = self.integrate(h5, "--follow", "-o", out, expect=1)
        self.assertIn("{frame}", proc.stderr)
        self.assertFalse(os.path.exists(out))

    # -- TIFF series with a separate dark --------------------------------------------------------------

    def test_summed_frames_scale_the_dark(self):
        # PerkinElmer "sum" mode: each data frame is the sum of 4 sub-frames, each dark frame the sum of 2, so the
        # dark is scaled by 4/2 before it is subtracted. The same frames with the dark already subtracted by the
        # "acquisition software" give the same pattern with --dark-subtracted.
        rng = numpy.random.default_rng(3)
        d = self.fresh("summed")
        dark_sub = 100.0 + 5.0 * rng.standard_normal((ROWS, COLS))  # one sub-frame's dark
        signal = self.frames[:3].astype(numpy.float64)
        darks = numpy.stack([2 * dark_sub for _ in range(3)]).astype(numpy.float32)  # 3 dark frames of 2 sub-frames
        raw = (signal + 4 * dark_sub).astype(numpy.float32)
        for k in range(3):
            lib.write_tiff(os.path.join(d, "scan_%03d.tif" % k), raw[k])
            lib.write_tiff(os.path.join(d, "dark_%03d.tif" % k), darks[k])
            lib.write_tiff(os.path.join(d, "sub_%03d.tif" % k), (raw[k] - 4 * dark_sub.astype(numpy.float32)))
        series = os.path.join(d, "scan_###.tif")
        self.integrate(series, "--dark", os.path.join(d, "dark_###.tif"), "--summed-frames", "4",
                       "--dark-summed-frames", "2", "--error-model", "none", "-o", os.path.join(d, "a_{frame}.xy"))
        self.integrate(os.path.join(d, "sub_###.tif"), "--dark-subtracted", "--error-model", "none",
                       "-o", os.path.join(d, "b_{frame}.xy"))
        # Without the scale the dark is half of what it should be: a visibly different pattern.
        self.integrate(series, "--dark", os.path.join(d, "dark_###.tif"), "--error-model", "none",
                       "-o", os.path.join(d, "c_{frame}.xy"))
        for k in range(3):
            ha, a = lib.read_xy(os.path.join(d, "a_%d.xy" % k))
            hb, b = lib.read_xy(os.path.join(d, "b_%d.xy" % k))
            _, c = lib.read_xy(os.path.join(d, "c_%d.xy" % k))
            filled = a[:, 1] != 0
            self.assertGreater(filled.sum(), 40)
            numpy.testing.assert_allclose(a[filled, 1], b[filled, 1], rtol=2e-6)
            self.assertGreater(numpy.min(numpy.abs(c[filled, 1] - a[filled, 1])), 150)
            dark = lib.header_value(ha, "dark")
            self.assertIn("mean of 3 frames", dark)
            self.assertIn("scaled by 4/2", dark)
            self.assertIn("4 sub-frame(s) per frame, 2 per dark frame", lib.header_value(ha, "summed_frames"))
            self.assertIn("already subtracted", lib.header_value(hb, "dark"))

    def test_dark_options_usage(self):
        tif = self.path("one.tif")
        lib.write_tiff(tif, self.frames[0])
        out = self.path("never.xy")
        for args, words in ((["--dark-subtracted", "--dark", tif], ["--dark-subtracted", "second time"]),
                            (["--summed-frames", "4"], ["--summed-frames", "--dark"]),
                            (["--dark-summed-frames", "2"], ["--dark"]),
                            (["--dark", tif, "--summed-frames", "0"], ["--summed-frames"])):
            with self.subTest(args=args):
                proc = self.integrate(tif, *args, "-o", out, expect=2)
                self.assertTrue(proc.stderr.startswith("pdfreduce: usage error: "), proc.stderr)
                for w in words:
                    self.assertIn(w, proc.stderr)
        self.assertFalse(os.path.exists(out))
        # The help documents them.
        helptext = lib.run_pdfreduce("integrate", "--help").stdout
        for option in ("--follow", "--timeout", "--poll-interval", "--dark-subtracted", "--summed-frames",
                       "--dark-summed-frames"):
            self.assertIn(option, helptext)


if __name__ == "__main__":
    lib.main(__doc__)
