#!/usr/bin/python3
"""Frames per second of libpdf's integration against pyFAI 0.21.3, measured in the same run.

The case (docs/performance-notes.md): a 2048 x 2048 frame (PerkinElmer XRD1621, 200 um, uint16),
3000 q bins, bbox splitting, dark, flat, mask, polarisation 0.99, solid angle, Poisson sigma.

  pyFAI : integrate1d(method=("bbox", "csr", "cython")) with OMP_NUM_THREADS = --threads; the CSR matrix
          is built by the first call (timed apart), then --repeat calls are timed.
  libpdf: the Google Benchmark binary (default build/benchmarks/bench_integrate), run with
          --benchmark_format=json; items_per_second (frames/s) of the benchmark whose name contains
          the --size, "2048" or "2880" (preferring an Integrate... benchmark with "bbox" and "corrections" in its
          name, run with --threads threads: e.g. BM_Integrate2048_bbox_corrections/2/real_time). Without that binary, --pdfreduce times
          the command-line tool over a stack of frames instead (this includes reading the HDF5 file and
          writing the text files, so it understates the engine).

Run with Debian's interpreter: /usr/bin/python3 scripts/bench_vs_pyfai.py [--bench PATH] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bench", default=os.path.join(REPO, "build", "benchmarks", "bench_integrate"),
                   help="libpdf's Google Benchmark binary (default: %(default)s)")
    p.add_argument("--bench-filter", default=None,
                   help="--benchmark_filter for the binary; the result used is the benchmark whose name "
                        "contains the --size (default: the --size, e.g. 2048; 2880 has BM_Integrate2880_...)")
    p.add_argument("--pdfreduce", default=os.path.join(REPO, "build", "apps", "pdfreduce"),
                   help="pdfreduce, used when the benchmark binary is missing (default: %(default)s)")
    p.add_argument("--threads", type=int, default=2, help="threads for both programs (default: %(default)s)")
    p.add_argument("--repeat", type=int, default=20, help="timed pyFAI calls (default: %(default)s)")
    p.add_argument("--size", type=int, default=2048, help="detector rows = columns (default: %(default)s)")
    p.add_argument("--npt", type=int, default=3000, help="q bins (default: %(default)s)")
    p.add_argument("--skip-pyfai", action="store_true", help="measure libpdf only")
    return p.parse_args()


def make_case(size, npt):
    """Geometry, frame, dark, flat and mask of the benchmark case (seeded, reproducible)."""
    import numpy
    from pyFAI.azimuthalIntegrator import AzimuthalIntegrator
    from pyFAI.detectors import Detector
    rng = numpy.random.default_rng(2048)
    pixel = 200e-6
    det = Detector(pixel1=pixel, pixel2=pixel, max_shape=(size, size))
    # PDF geometry at 65 keV: beam near the centre, 0.3 m, small tilts.
    ai = AzimuthalIntegrator(dist=0.3, poni1=size * pixel * 0.51, poni2=size * pixel * 0.49,
                             rot1=0.01, rot2=-0.007, rot3=0.0, detector=det, wavelength=0.1907e-10)
    shape = (size, size)
    q = ai.qArray(shape) / 10.0
    signal = 2000.0 * (1.0 + numpy.exp(-0.5 * ((q - 2.5) / 0.3) ** 2)) + 200.0
    frame = (rng.poisson(signal) + 100).astype(numpy.uint16)
    dark = numpy.full(shape, 100.0, dtype=numpy.float32)
    flat = (1.0 + 0.02 * rng.standard_normal(shape)).astype(numpy.float32)
    mask = (rng.random(shape) < 0.01).astype(numpy.uint8)
    qmax = float(numpy.max(q)) * 1.01
    return ai, frame, dark, flat, mask, (0.0, qmax)


def bench_pyfai(case, npt, repeat):
    ai, frame, dark, flat, mask, qrange = case
    kwargs = dict(unit="q_A^-1", method=("bbox", "csr", "cython"), radial_range=qrange, dark=dark, flat=flat,
                  mask=mask, polarization_factor=0.99, correctSolidAngle=True, error_model="poisson")
    t0 = time.perf_counter()
    ai.integrate1d(frame, npt, **kwargs)  # builds the CSR matrix and caches solid angle / polarisation
    plan = time.perf_counter() - t0
    ai.integrate1d(frame, npt, **kwargs)  # warm-up
    t0 = time.perf_counter()
    for _ in range(repeat):
        ai.integrate1d(frame, npt, **kwargs)
    per_frame = (time.perf_counter() - t0) / repeat
    return plan, 1.0 / per_frame


def bench_binary(path, filt, threads, size=2048):
    """Runs the Google Benchmark binary; returns (name, frames/s, all results with str(size) in their name)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([path, "--benchmark_format=json", "--benchmark_filter=" + filt],
                          capture_output=True, text=True, env=env, check=True)
    report = json.loads(proc.stdout)
    found = [b for b in report.get("benchmarks", []) if str(size) in b.get("name", "")
             and "items_per_second" in b and b.get("run_type", "iteration") == "iteration"]
    if not found:
        raise RuntimeError("no benchmark with '%d' in its name and items_per_second in %s's output" % (size, path))
    def score(b):
        # The per-frame integration (not plan building) of the bbox case with every correction, at the
        # requested thread count (Google Benchmark names carry arguments as /N).
        name = b["name"]
        args = name.split("/")[1:]
        return (8 * ("Integrate" in name and "BuildPlan" not in name) + 4 * ("corrections" in name)
                + 2 * ("bbox" in name) + (str(threads) in args))
    best = max(found, key=score)  # the first of equal scores
    return best["name"], float(best["items_per_second"]), found


def bench_pdfreduce(path, case, npt, threads, frames=12):
    """Times pdfreduce over an HDF5 stack; the plan cost is removed by subtracting a one-frame run."""
    import h5py
    import numpy
    import fabio.tifimage
    ai, frame, dark, flat, mask, qrange = case
    with tempfile.TemporaryDirectory(prefix="bench_pdfreduce_") as tmp:
        poni = os.path.join(tmp, "bench.poni")
        ai.write(poni)
        stack = os.path.join(tmp, "stack.h5")
        with h5py.File(stack, "w") as f:
            f.create_dataset("/entry/instrument/detector/data", data=numpy.stack([frame] * frames),
                             chunks=(1,) + frame.shape)
        files = {}
        for name, image in (("dark", dark), ("flat", flat), ("mask", mask.astype(numpy.int32))):
            files[name] = os.path.join(tmp, name + ".tif")
            fabio.tifimage.TifImage(data=image).write(files[name])
        common = [path, "integrate", stack, "--poni", poni, "--npt", str(npt), "--unit", "q_A^-1",
                  "--radial-range", "%r:%r" % qrange, "--split", "bbox", "--dark", files["dark"], "--flat",
                  files["flat"], "--mask", files["mask"], "--polarization", "0.99", "--threads", str(threads),
                  "--quiet"]

        def timed(extra):
            t0 = time.perf_counter()
            subprocess.run(common + extra, check=True)
            return time.perf_counter() - t0

        one = min(timed(["--frames", "0", "-o", os.path.join(tmp, "one.xy")]) for _ in range(2))
        many = min(timed(["-o", os.path.join(tmp, "f_{frame}.xy")]) for _ in range(2))
        return (frames - 1) / max(many - one, 1e-9)


def main():
    args = parse_args()
    # Must be set before numpy/pyFAI start their OpenMP runtime.
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    import pyFAI

    print("case: %d x %d uint16 frame, %d q bins, bbox, dark + flat + mask + polarisation 0.99 + solid angle + "
          "Poisson sigma; %d thread(s)" % (args.size, args.size, args.npt, args.threads))
    case = make_case(args.size, args.npt)

    pyfai_fps = None
    if not args.skip_pyfai:
        plan, pyfai_fps = bench_pyfai(case, args.npt, args.repeat)
        print("pyFAI %s  (bbox, csr, cython): %8.1f frames/s  (%.2f ms/frame; plan %.2f s)"
              % (pyFAI.version, pyfai_fps, 1e3 / pyfai_fps, plan))

    if args.bench_filter is None:
        args.bench_filter = str(args.size)
    if os.path.exists(args.bench):
        name, ours, found = bench_binary(args.bench, args.bench_filter, args.threads, args.size)
        for b in found:
            print("  %-60s %8.1f frames/s" % (b["name"], b["items_per_second"]))
        label = "libpdf %s" % name
    elif os.path.exists(args.pdfreduce):
        print("note: %s not found; timing %s (includes HDF5 reading and text output)" % (args.bench, args.pdfreduce))
        ours = bench_pdfreduce(args.pdfreduce, case, args.npt, args.threads)
        label = "libpdf via pdfreduce"
    else:
        sys.exit("error: neither %s nor %s exists; build first (or pass --bench / --pdfreduce)"
                 % (args.bench, args.pdfreduce))
    print("%s: %8.1f frames/s  (%.2f ms/frame)" % (label, ours, 1e3 / ours))
    if pyfai_fps:
        print("ratio libpdf / pyFAI: %.1f x" % (ours / pyfai_fps))


if __name__ == "__main__":
    main()
