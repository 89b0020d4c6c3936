#!/usr/bin/python3
"""The whole series run, HDF5 frames to result file, by libpdf (`pdfreduce run`) and by a Python pipeline doing
the same with Debian's pyFAI + numpy, on the same files, in the same run; prints frames/s of both and the ratio,
and libpdf's peak memory for two series lengths.

The Python pipeline per frame: h5py read → pyFAI integrate1d (bbox/csr, the same mask, dark, flat, polarisation,
Poisson σ, q bins) → numpy Faber–Ziman S(q) with a high-q α fit → F(q) → G(r) by a precomputed sine matrix
(numpy matmul, the Lorch window) → first-peak positions of S(q) and G(r) → one h5py row appended (flushed) and one
CSV row. Form factors: the S(q) arithmetic needs ⟨f²⟩, ⟨f⟩² and Compton on the q grid; they are computed once
per run (the same in every frame) and their cost does not enter either timing. libpdf's result file does not store
them, so the Python side uses smooth stand-in curves of the same shape: the arithmetic per frame, which is what is
timed, is the same, but its S(q) and G(r) values are not comparable with libpdf's. The Python side also does less
per frame than libpdf (argmax peak positions instead of the metric fits), which favours it.

    scripts/bench_pipeline_vs_python.py --pdfreduce build/apps/pdfreduce --dir /tmp/benchpipe \
        [--size 2048] [--frames 40] [--threads 2]
"""
import argparse
import os
import resource
import subprocess
import sys
import time

import numpy


def simulate(pdfreduce, out, size, frames):
    if os.path.exists(os.path.join(out, "series.h5")):
        return
    t_stop = 300 + 5 * (frames - 1)
    subprocess.run([pdfreduce, "simulate", "--out", out, "--size", str(size), "--t-start", "300", "--t-stop",
                    str(t_stop), "--t-step", "5", "--dark-frames", "2", "--no-reference", "--gzip", "-1"],
                   check=True)


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
npt = 2000
radial_range = [0.8, 24.0]
[sample]
composition = "La65Co25Al10"
density = 6.0
[reduction]
qmin = 1.0
qmax = 22.0
window = "lorch"
rmax = 30.0
rstep = 0.01
[output]
result = "libpdf_result.h5"
[run]
threads = %d
"""


def run_libpdf(pdfreduce, folder, threads):
    path = os.path.join(folder, "bench.toml")
    with open(path, "w") as f:
        f.write(RECIPE % threads)
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M", pdfreduce, "run", path, "--overwrite",
                           "--no-progress", "-v"], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    fps = None
    for line in proc.stderr.splitlines():
        if "frames/s" in line and "written" in line:
            fps = float(line.split(" frames/s")[0].split("(")[-1])
    rss = [int(l.split("=")[1]) for l in proc.stderr.splitlines() if l.startswith("maxrss_kb=")]
    return fps, wall, (rss[0] / 1024 if rss else float("nan")), os.path.join(folder, "libpdf_result.h5")


def load_poni(path):
    """An AzimuthalIntegrator from a PONI file, with a generic detector of its pixel sizes (pyFAI 0.21 rejects
    the max_shape key that the simulator's PerkinElmer config carries)."""
    import json
    from pyFAI.azimuthalIntegrator import AzimuthalIntegrator
    from pyFAI.detectors import Detector
    values = {}
    for line in open(path):
        if ":" in line and not line.lstrip().startswith("#"):
            key, value = line.split(":", 1)
            values[key.strip().lower()] = value.strip()
    config = json.loads(values["detector_config"])
    shape = config.get("max_shape")
    det = Detector(config["pixel1"], config["pixel2"], max_shape=tuple(shape) if shape else None)
    return AzimuthalIntegrator(dist=float(values["distance"]), poni1=float(values["poni1"]),
                               poni2=float(values["poni2"]), rot1=float(values["rot1"]), rot2=float(values["rot2"]),
                               rot3=float(values["rot3"]), wavelength=float(values["wavelength"]), detector=det)


def run_python(folder, threads, libpdf_result):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import fabio
    import h5py
    import pyFAI

    ai = load_poni(os.path.join(folder, "series.poni"))
    mask = fabio.open(os.path.join(folder, "mask.tif")).data != 0
    with h5py.File(os.path.join(folder, "dark.h5"), "r") as f:
        dark = f["/entry/instrument/detector/data"][()].astype(numpy.float32).mean(axis=0)
    with h5py.File(os.path.join(folder, "flat.h5"), "r") as f:
        flat = f["/entry/instrument/detector/data"][()].astype(numpy.float32)
        flat = flat[0] if flat.ndim == 3 else flat
    with h5py.File(libpdf_result, "r") as f:
        q_grid = f["/entry/pdf/sq/q"][()]
        r = f["/entry/pdf/gr/r"][()]
    # Form factors on the transform grid: stand-in curves of the right shape (see the module docstring); the
    # arithmetic per frame is the same as with the real ones.
    f2 = 1.0 + 2000.0 * numpy.exp(-q_grid ** 2 / 40.0)
    f1sq = 0.9 * f2
    comp = 30.0 * (1.0 - numpy.exp(-q_grid ** 2 / 20.0))
    dq = q_grid[1] - q_grid[0]
    qmax = 22.0
    window = numpy.sinc(q_grid / qmax)  # Lorch: sin(pi q/qmax)/(pi q/qmax)
    sine = numpy.sin(numpy.outer(r, q_grid)) * (2.0 / numpy.pi * dq)
    src = h5py.File(os.path.join(folder, "series.h5"), "r")
    # pyFAI builds its CSR matrix on the first call: done before the clock starts, as libpdf's plan is timed apart.
    ai.integrate1d(src["/entry/instrument/detector/data"][0], 2000, unit="q_A^-1", radial_range=(0.8, 24.0),
                   method=("bbox", "csr", "cython"), mask=mask, dark=dark, flat=flat, polarization_factor=0.99,
                   error_model="poisson")
    t0 = time.perf_counter()
    data = src["/entry/instrument/detector/data"]
    n = data.shape[0]
    out = h5py.File(os.path.join(folder, "python_result.h5"), "w")
    I_ds = out.create_dataset("I", (0, 2000), maxshape=(None, 2000), chunks=(1, 2000), compression="gzip",
                              compression_opts=4, shuffle=True)
    G_ds = out.create_dataset("G", (0, r.size), maxshape=(None, r.size), chunks=(1, r.size), compression="gzip",
                              compression_opts=4, shuffle=True)
    S_ds = out.create_dataset("S", (0, q_grid.size), maxshape=(None, q_grid.size), chunks=(1, q_grid.size),
                              compression="gzip", compression_opts=4, shuffle=True)
    csv = open(os.path.join(folder, "python_result.csv"), "w")
    csv.write("frame,temperature_K,q1,r1\n")
    for k in range(n):
        frame = data[k]
        res = ai.integrate1d(frame, 2000, unit="q_A^-1", radial_range=(0.8, 24.0), method=("bbox", "csr", "cython"),
                             mask=mask, dark=dark, flat=flat, polarization_factor=0.99, error_model="poisson")
        I = numpy.interp(q_grid, res.radial, res.intensity)
        hi = q_grid > 3.0
        w = q_grid[hi]
        alpha = numpy.sum(w * I[hi] * (f2[hi] + comp[hi])) / numpy.sum(w * I[hi] * I[hi])
        S = 1.0 + (alpha * I - comp - f2) / f1sq
        F = q_grid * (S - 1.0)
        G = sine @ (F * window)
        iq1 = numpy.argmax(numpy.where((q_grid > 1) & (q_grid < 4), S, -numpy.inf))
        ir1 = numpy.argmax(numpy.where((r > 2) & (r < 5), G, -numpy.inf))
        for ds, row in ((I_ds, res.intensity), (S_ds, S), (G_ds, G)):
            ds.resize(k + 1, axis=0)
            ds[k] = row
        out.flush()
        csv.write("%d,%g,%g,%g\n" % (k, 300 + 5 * k, q_grid[iq1], r[ir1]))
        csv.flush()
    out.close()
    csv.close()
    wall = time.perf_counter() - t0
    return n / wall, wall


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--pdfreduce", required=True)
    p.add_argument("--dir", required=True)
    p.add_argument("--size", type=int, default=2048)
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--memory-frames", type=int, default=0, help="a second, longer series for peak memory")
    a = p.parse_args()
    folder = os.path.join(a.dir, "s%d_n%d" % (a.size, a.frames))
    simulate(a.pdfreduce, folder, a.size, a.frames)
    fps, wall, rss, result = run_libpdf(a.pdfreduce, folder, a.threads)
    print("libpdf  (pdfreduce run, %d threads): %.1f frames/s streaming, %.1f s wall with plan, peak RSS %.0f MB"
          % (a.threads, fps, wall, rss))
    pfps, pwall = run_python(folder, a.threads, result)
    print("python  (h5py + pyFAI %s + numpy, OMP %d threads): %.1f frames/s" % (__import__("pyFAI").version,
                                                                                a.threads, pfps))
    print("ratio libpdf / python: %.1fx" % (fps / pfps))
    if a.memory_frames:
        folder2 = os.path.join(a.dir, "s%d_n%d" % (a.size, a.memory_frames))
        simulate(a.pdfreduce, folder2, a.size, a.memory_frames)
        fps2, _, rss2, _ = run_libpdf(a.pdfreduce, folder2, a.threads)
        print("peak RSS: %d frames %.0f MB, %d frames %.0f MB (%.1f frames/s)" % (a.frames, rss, a.memory_frames, rss2,
                                                                                fps2))


if __name__ == "__main__":
    main()
