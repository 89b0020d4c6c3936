#!/usr/bin/python3
"""Faults injected into a whole `pdfreduce integrate` run that writes one NeXus result file (issue 7). The tool
appends frames one by one and flushes after each; these tests hold it to what that promises, checking the file
with h5py (an independent reader):

1. killed mid-series (SIGKILL right after it reported a frame): the file opens, holds every reported frame
   (complete, equal to an uninterrupted run), and a re-run completes the rest, each frame exactly once, the
   whole file then equal to the uninterrupted run;
2. an input frame that fails to decompress (its chunk overwritten): the run stops with an error naming the
   file and the frame, the result holds every frame before it, and a re-run on the repaired input completes;
3. the disk fills up (a small tmpfs, when this process may mount one: root in CI; skipped otherwise): the error
   names the output file, the file stays valid with the frames that fitted, and a re-run after making room
   completes the rest.
"""
import os
import shutil
import signal
import subprocess
import sys
import unittest

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

# 256 x 256 frames, 310..490 K every 5 K: 37 frames, enough that the run is still going when it is killed.
T_START, T_STOP, T_STEP = 310, 490, 5
FRAMES = (T_STOP - T_START) // T_STEP + 1
KILL_AFTER = 5  # frames reported written before the SIGKILL


def env():
    # Reading a file another process has open for writing: HDF5's file locking would refuse it.
    return dict(os.environ, OMP_NUM_THREADS="2", HDF5_USE_FILE_LOCKING="FALSE")


class Faults(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.out = lib.tmp_path("series")
        if not os.path.exists(os.path.join(cls.out, "series.h5")):
            lib.run_pdfreduce("simulate", "--out", cls.out, "--size", "256", "--t-start", T_START, "--t-stop",
                              T_STOP, "--t-step", T_STEP, "--dark-frames", "1", "--no-reference")
        cls.series = os.path.join(cls.out, "series.h5")
        cls.reference = lib.tmp_path("reference.h5")
        if os.path.exists(cls.reference):
            os.remove(cls.reference)
        lib.run_pdfreduce(*cls.args(cls.series, cls.reference))
        cls.ref_index, cls.ref_I, cls.ref_sigma = cls.read(cls.reference)
        assert list(cls.ref_index) == list(range(FRAMES)), cls.ref_index

    @classmethod
    def args(cls, series, result):
        return ["integrate", series, "--poni", os.path.join(cls.out, "series.poni"), "--dark",
                os.path.join(cls.out, "dark.h5"), "--mask", os.path.join(cls.out, "mask.tif"), "--polarization",
                "0.99", "--npt", "500", "--radial-range", "1:18", "-o", result]

    @staticmethod
    def read(path):
        import h5py
        with h5py.File(path, "r") as f:
            index = f["/entry/integrated/frame_index"][()]
            n = len(index)
            # Rows beyond frame_index (a frame interrupted half-way) are not part of the file's content.
            return index, f["/entry/integrated/I"][:n], f["/entry/integrated/I_errors"][:n]

    def assert_complete(self, path):
        index, I, sigma = self.read(path)
        self.assertEqual(list(index), list(range(FRAMES)), "every frame exactly once, in order")
        numpy.testing.assert_array_equal(I, self.ref_I)
        numpy.testing.assert_array_equal(sigma, self.ref_sigma)

    def assert_prefix(self, path, at_least):
        """The file holds frames 0..k-1 (k >= at_least), each equal to the uninterrupted run's. Returns k."""
        index, I, sigma = self.read(path)
        k = len(index)
        self.assertGreaterEqual(k, at_least)
        self.assertEqual(list(index), list(range(k)))
        numpy.testing.assert_array_equal(I, self.ref_I[:k])
        numpy.testing.assert_array_equal(sigma, self.ref_sigma[:k])
        return k

    def test_killed_mid_series_then_resumed(self):
        result = lib.tmp_path("killed.h5")
        if os.path.exists(result):
            os.remove(result)
        cmd = [lib.ARGS.pdfreduce] + [str(a) for a in self.args(self.series, result)] + ["-v"]
        proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env())
        reported = 0
        for line in proc.stderr:  # stderr is unbuffered: "frame k -> result" after frame k is flushed
            if line.startswith("pdfreduce: frame "):
                reported += 1
                if reported == KILL_AFTER:
                    proc.send_signal(signal.SIGKILL)
                    break
        proc.wait()
        self.assertEqual(proc.returncode, -signal.SIGKILL, "the run finished before it could be killed")
        k = self.assert_prefix(result, KILL_AFTER)
        self.assertLess(k, FRAMES)
        rerun = lib.run_pdfreduce(*self.args(self.series, result))
        self.assertIn("resuming, %d frame(s) already in the file, %d to do" % (k, FRAMES - k), rerun.stderr)
        self.assert_complete(result)
        # A third run finds nothing to do and changes nothing.
        again = lib.run_pdfreduce(*self.args(self.series, result))
        self.assertIn("every selected frame is already in", again.stderr)
        self.assert_complete(result)

    def test_frame_that_fails_to_decompress(self):
        import h5py
        bad_frame = 11
        broken = lib.tmp_path("broken", "series.h5")
        os.makedirs(os.path.dirname(broken), exist_ok=True)
        shutil.copyfile(self.series, broken)
        with h5py.File(broken, "r") as f:
            d = f["/entry/instrument/detector/data"]
            self.assertEqual(d.chunks[0], 1, "one frame per chunk")
            info = d.id.get_chunk_info_by_coord((bad_frame, 0, 0))
        with open(broken, "r+b") as f:  # garbage where the deflate stream of frame 11 was
            f.seek(info.byte_offset)
            f.write(b"\x5a" * info.size)
        result = lib.tmp_path("broken.h5")
        if os.path.exists(result):
            os.remove(result)
        proc = lib.run_pdfreduce(*self.args(broken, result), expect=1)
        self.assertIn(broken, proc.stderr)
        self.assertIn("frame %d" % bad_frame, proc.stderr)
        self.assertEqual(self.assert_prefix(result, bad_frame), bad_frame)
        # Repair the input (same path, so the run's parameters are the same) and run again.
        shutil.copyfile(self.series, broken)
        rerun = lib.run_pdfreduce(*self.args(broken, result))
        self.assertIn("resuming, %d frame(s)" % bad_frame, rerun.stderr)
        self.assert_complete(result)

    def test_disk_full(self):
        mnt = lib.tmp_path("tmpfs")
        os.makedirs(mnt, exist_ok=True)
        # Room for the empty layout (~60 KB) and about a dozen compressed frames.
        size_kb = 120
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dk" % size_kb, "libpdf-test", mnt],
                          capture_output=True).returncode != 0:
            self.skipTest("cannot mount a tmpfs here (needs root); the C++ test DiskFull covers this with "
                          "RLIMIT_FSIZE")
        try:
            result = os.path.join(mnt, "result.h5")
            proc = lib.run_pdfreduce(*self.args(self.series, result), expect=1)
            self.assertIn(result, proc.stderr)
            k = self.assert_prefix(result, 1)
            self.assertLess(k, FRAMES)
            subprocess.run(["mount", "-o", "remount,size=%dk" % (size_kb * 40), mnt], check=True)
            rerun = lib.run_pdfreduce(*self.args(self.series, result))
            self.assertIn("resuming, %d frame(s)" % k, rerun.stderr)
            self.assert_complete(result)
        finally:
            subprocess.run(["umount", mnt], capture_output=True)


if __name__ == "__main__":
    lib.main(__doc__.splitlines()[0])
