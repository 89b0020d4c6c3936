"""Shared helpers of the pdfreduce tests: command-line arguments, running the tool, reading its output,
writing synthetic inputs, and comparing patterns with pyFAI (Debian's python3-pyfai 0.21.3, the
independent oracle).

Agreement is measured as Rw = ||a - b|| / ||b|| over the bins where both programs have data.
"""
import argparse
import json
import os
import subprocess
import sys
import unittest

import numpy

# Filled by parse_args(): --pdfreduce, --data, --tmp.
ARGS = None


def parse_args(description):
    """Parses our options and leaves the rest (e.g. -v, -k NAME) to unittest."""
    global ARGS
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--pdfreduce", required=True, help="path of the pdfreduce executable")
    parser.add_argument("--data", required=True, help="folder of the real data (shared/data/real)")
    parser.add_argument("--tmp", required=True, help="scratch folder for this test (created)")
    ARGS, rest = parser.parse_known_args()
    os.makedirs(ARGS.tmp, exist_ok=True)
    return [sys.argv[0]] + rest


def main(description):
    argv = parse_args(description)
    program = unittest.main(argv=argv, exit=False, verbosity=2)
    sys.exit(0 if program.result.wasSuccessful() else 1)


def tmp_path(*parts):
    return os.path.join(ARGS.tmp, *parts)


def data_path(*parts):
    return os.path.join(ARGS.data, *parts)


# ------------------------------------------------------------------------------------------------
# Running the tool


def run_pdfreduce(*args, expect=0, threads=2):
    """Runs pdfreduce with @args (strings); asserts the exit code when @expect is not None."""
    cmd = [ARGS.pdfreduce] + [str(a) for a in args]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if expect is not None and proc.returncode != expect:
        raise AssertionError("%s\nexit code %d (expected %d)\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(cmd), proc.returncode, expect, proc.stdout, proc.stderr))
    return proc


def read_xy(path):
    """Returns (header lines without '#', array of shape (n, 3): radial, I, sigma)."""
    header = []
    with open(path) as f:
        for line in f:
            if line.startswith("#"):
                header.append(line[1:].strip())
            else:
                break
    data = numpy.loadtxt(path, comments="#", ndmin=2)
    return header, data


def header_value(header, key):
    prefix = key + ":"
    for line in header:
        if line.startswith(prefix):
            return line[len(prefix):].strip()
    raise KeyError(key)


def integrate_cli(inp, poni, out, *options, **kw):
    """Runs `pdfreduce integrate` and returns the (n, 3) array it wrote."""
    run_pdfreduce("integrate", inp, "--poni", poni, "-o", out, *options, **kw)
    return read_xy(out)[1]


# ------------------------------------------------------------------------------------------------
# Comparisons


def rw(a, b):
    a = numpy.asarray(a, dtype=numpy.float64)
    b = numpy.asarray(b, dtype=numpy.float64)
    return float(numpy.linalg.norm(a - b) / numpy.linalg.norm(b))


class PatternCase(unittest.TestCase):
    """TestCase with the pattern comparison against a pyFAI result."""

    def compare(self, ours, ref, tol_i, tol_sigma=None, skip_edges=0, label=""):
        """Asserts that bin centres agree to 1e-6 relative and Rw(I) <= tol_i (and Rw(sigma) <= tol_sigma).

        @ours: (n, 3) array from pdfreduce; @ref: pyFAI Integrate1dResult. Only bins where both have data
        enter Rw: pyFAI's count > 0 and our (I, sigma) != (empty, 0). @skip_edges drops that many bins at
        each end (for range-clipping conventions that differ on purpose). Returns (Rw_I, Rw_sigma).
        """
        radial = numpy.asarray(ref.radial)
        self.assertEqual(ours.shape[0], radial.size, label + ": number of bins")
        scale = numpy.max(numpy.abs(radial))
        err = numpy.max(numpy.abs(ours[:, 0] - radial)) / scale
        self.assertLessEqual(err, 1e-6, label + ": bin centres differ from pyFAI's by %.3g relative" % err)

        ref_count = numpy.asarray(ref.count) if ref.count is not None else numpy.ones(radial.size)
        has_ours = (ours[:, 1] != 0) | (ours[:, 2] != 0)
        both = (ref_count > 0) & has_ours
        if skip_edges:
            both[:skip_edges] = False
            both[-skip_edges:] = False
        # The sets of bins with data must agree too (a few boundary bins may differ by convention).
        only_one = numpy.count_nonzero((ref_count > 0) != has_ours)
        self.assertLessEqual(only_one, 2 + 2 * skip_edges, label + ": %d bins have data in one program only" % only_one)
        self.assertGreater(numpy.count_nonzero(both), radial.size // 4, label + ": too few common bins")

        r_i = rw(ours[both, 1], numpy.asarray(ref.intensity)[both])
        r_s = None
        if tol_sigma is not None:
            r_s = rw(ours[both, 2], numpy.asarray(ref.sigma)[both])
        print("    %-50s Rw(I) = %.3g%s" % (label, r_i, "" if r_s is None else ", Rw(sigma) = %.3g" % r_s))
        self.assertLessEqual(r_i, tol_i, label + ": Rw(I) = %.3g > %.3g" % (r_i, tol_i))
        if tol_sigma is not None:
            self.assertLessEqual(r_s, tol_sigma, label + ": Rw(sigma) = %.3g > %.3g" % (r_s, tol_sigma))
        return r_i, r_s


def pixel_q_A(ai, shape):
    """q (1/A) at the pixel centres of pyFAI integrator @ai, in float64 (pyFAI keeps its arrays in float32):
    t = R3 R2 R1 (p1, p2, L), p = (index + 0.5) * pixel - poni, 2theta = atan2(|t_12|, t3)."""
    rot = numpy.asarray(ai.rotation_matrix(), dtype=numpy.float64)
    p1 = (numpy.arange(shape[0]) + 0.5)[:, None] * ai.detector.pixel1 - ai.poni1
    p2 = (numpy.arange(shape[1]) + 0.5)[None, :] * ai.detector.pixel2 - ai.poni2
    p1, p2 = numpy.broadcast_arrays(p1, p2)
    t = [rot[k, 0] * p1 + rot[k, 1] * p2 + rot[k, 2] * ai.dist for k in range(3)]
    tth = numpy.arctan2(numpy.hypot(t[0], t[1]), t[2])
    return 4 * numpy.pi * numpy.sin(tth / 2) / (ai.wavelength * 1e10)


# ------------------------------------------------------------------------------------------------
# Writing inputs


def write_poni(path, ai, version=2):
    """Writes a PONI file of pyFAI AzimuthalIntegrator @ai in format version 1 or 2 by hand (so the file
    does not depend on pyFAI's writer)."""
    det = ai.detector
    lines = ["# PONI written by the pdfreduce tests"]
    if version == 1:
        lines += ["PixelSize1: %r" % det.pixel1, "PixelSize2: %r" % det.pixel2]
    else:
        config = {"pixel1": det.pixel1, "pixel2": det.pixel2,
                  "max_shape": list(det.max_shape) if det.max_shape is not None else None}
        lines += ["poni_version: 2", "Detector: Detector", "Detector_config: " + json.dumps(config)]
    lines += ["Distance: %r" % ai.dist, "Poni1: %r" % ai.poni1, "Poni2: %r" % ai.poni2,
              "Rot1: %r" % ai.rot1, "Rot2: %r" % ai.rot2, "Rot3: %r" % ai.rot3,
              "Wavelength: %r" % ai.wavelength]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_tiff(path, image):
    """One-page TIFF with the array's own sample type (fabio's writer)."""
    from fabio.tifimage import TifImage
    TifImage(data=numpy.ascontiguousarray(image)).write(path)


def write_h5(path, frames, dataset="/entry/instrument/detector/data", compression="gzip"):
    """A NeXus-like HDF5 file with a (n, rows, cols) stack at @dataset and an NXdata @default chain."""
    import h5py
    frames = numpy.asarray(frames)
    if frames.ndim == 2:
        frames = frames[numpy.newaxis]
    with h5py.File(path, "w") as f:
        f.attrs["default"] = "entry"
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["default"] = "data"
        f.create_dataset(dataset, data=frames, compression=compression,
                         chunks=(1,) + frames.shape[1:])
        f[dataset].parent.attrs["NX_class"] = "NXdetector"
        if "instrument" in entry:
            entry["instrument"].attrs["NX_class"] = "NXinstrument"
        data = entry.create_group("data")
        data.attrs["NX_class"] = "NXdata"
        data.attrs["signal"] = "data"
        data["data"] = f[dataset]  # hard link to the detector data
