#!/usr/bin/python3
"""Writes a small PETRA III P02.1-style example: a heating series of a metallic glass on a PerkinElmer
flat panel, as a NeXus HDF5 file with its calibration, dark and mask beside it.

PLACEHOLDER GENERATOR. The frames are rings drawn from a plausible, hand-made metallic-glass-like I(q)
(broad maxima near q = 2.3, 4.2, 6.1, 8.0 1/A on a falling form-factor background plus Compton), with
solid angle, polarisation 0.99, a detector offset and Poisson noise. It is meant for trying the tools,
not for science: a physical simulator (form factors, composition, S(q) from a structure model) comes
later as a library feature. To mimic the seed study (Yang et al., J. Chem. Phys. 157, 184504 (2022)),
the maxima sharpen slightly above 450 K and a weak peak grows at q = 4.46 1/A.

Files written to --out (default build/example):
  series.h5    /entry/instrument/detector/data (n, rows, cols) uint16, gzip + shuffle, one frame per
               chunk; /entry/sample/temperature (K); /entry/instrument/beam/incident_energy (60 keV);
               NXdata /entry/data with @signal, and @default from the root (silx view opens it).
  series.poni  the calibration (pyFAI PONI version 2) of this geometry.
  dark.h5      five dark frames (the detector offset), to be averaged: pdfreduce --dark dark.h5
  mask.tif     int32 TIFF, non-zero = masked: beamstop and its arm, a dead column, bad pixels.

Default: 1024 x 1024 pixels of 400 um (an XRD1621 binned 2 x 2), 12 temperatures 310 -> 600 K, about
20 MB, written in a few seconds. --full writes the native 2048 x 2048 x 200 um frames (about 4x larger).
Needs numpy and h5py; fabio for the mask TIFF (all from scripts/setup.sh).
"""
import argparse
import json
import os
import sys
import time

import numpy

ENERGY_KEV = 60.0
# hc = 12.398419843 keV A
WAVELENGTH_A = 12.398419843320026 / ENERGY_KEV


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join("build", "example"), help="output folder (default: %(default)s)")
    p.add_argument("--frames", type=int, default=12, help="number of temperatures (default: %(default)s)")
    p.add_argument("--t-start", type=float, default=310.0, help="first temperature, K (default: %(default)s)")
    p.add_argument("--t-stop", type=float, default=600.0, help="last temperature, K (default: %(default)s)")
    p.add_argument("--full", action="store_true", help="2048 x 2048 pixels of 200 um instead of 1024 x 1024 x 400 um")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    return p.parse_args()


def geometry(full):
    """Detector and PONI (pyFAI convention, metres and radians): beam near the centre, 0.25 m, small tilts."""
    n, pixel = (2048, 200e-6) if full else (1024, 400e-6)
    side = n * pixel
    return {"rows": n, "cols": n, "pixel1": pixel, "pixel2": pixel, "dist": 0.25,
            "poni1": side / 2 + 0.0031, "poni2": side / 2 - 0.0024, "rot1": 0.004, "rot2": -0.003, "rot3": 0.0,
            "wavelength": WAVELENGTH_A * 1e-10}


def counts_per_unit(full):
    """Counts per unit of glass_intensity(): about 17000 counts at the first maximum in either format (a
    2048-pixel frame has pixels of a quarter of the area)."""
    return 1.25 if full else 5.0


def pixel_arrays(g):
    """q (1/A), chi, solid angle cos^3(alpha) and 2theta at pixel centres, with pyFAI's formulas:
    t = R3(rot3) R2(rot2) R1(rot1) (p1, p2, L)."""
    c1, c2, c3 = numpy.cos([g["rot1"], g["rot2"], g["rot3"]])
    s1, s2, s3 = numpy.sin([g["rot1"], g["rot2"], g["rot3"]])
    r1 = numpy.array([[1, 0, 0], [0, c1, s1], [0, -s1, c1]])
    r2 = numpy.array([[c2, 0, -s2], [0, 1, 0], [s2, 0, c2]])
    r3 = numpy.array([[c3, -s3, 0], [s3, c3, 0], [0, 0, 1]])
    rot = r3 @ r2 @ r1
    p1 = (numpy.arange(g["rows"]) + 0.5)[:, None] * g["pixel1"] - g["poni1"]
    p2 = (numpy.arange(g["cols"]) + 0.5)[None, :] * g["pixel2"] - g["poni2"]
    p1, p2 = numpy.broadcast_arrays(p1, p2)
    L = g["dist"]
    t1 = rot[0, 0] * p1 + rot[0, 1] * p2 + rot[0, 2] * L
    t2 = rot[1, 0] * p1 + rot[1, 1] * p2 + rot[1, 2] * L
    t3 = rot[2, 0] * p1 + rot[2, 1] * p2 + rot[2, 2] * L
    r = numpy.hypot(t1, t2)
    tth = numpy.arctan2(r, t3)
    chi = numpy.arctan2(t1, t2)
    norm = numpy.sqrt(r * r + t3 * t3)
    solid = (L / norm) ** 3
    q = 4 * numpy.pi * numpy.sin(tth / 2) / WAVELENGTH_A
    return q, chi, solid, tth


def glass_intensity(q, temperature):
    """Placeholder I(q) of a La-based metallic glass at @temperature (K), in arbitrary units."""
    # Mean square form factor falling with q, Compton rising towards its high-q plateau.
    f2 = 3200.0 * numpy.exp(-q * q / 90.0) + 150.0
    compton = 420.0 * (1.0 - numpy.exp(-q * q / 40.0))
    hot = numpy.clip((temperature - 450.0) / 150.0, 0.0, 1.0)  # 0 below the transition, 1 at 600 K
    expansion = 1.0 - 2.0e-5 * (temperature - 310.0)  # peaks move to lower q on heating
    s = numpy.ones_like(q)
    for q0, height, width in ((2.30, 1.6, 0.16), (4.20, 0.45, 0.30), (6.10, 0.22, 0.40), (8.00, 0.10, 0.50)):
        w = width * (1.0 - 0.12 * hot)  # the maxima sharpen above 450 K
        s += height * (1.0 + 0.1 * hot) * numpy.exp(-0.5 * ((q - q0 * expansion) / w) ** 2)
        # the minima between the maxima
        s -= 0.35 * height * numpy.exp(-0.5 * ((q - (q0 + 0.95) * expansion) / (1.2 * w)) ** 2)
    s += 0.08 * hot * numpy.exp(-0.5 * ((q - 4.46) / 0.08) ** 2)  # the new peak of the seed study
    return f2 * s + compton


def write_tiff_mask(path, mask):
    try:
        from fabio.tifimage import TifImage
    except ImportError:
        sys.exit("error: fabio is needed for the mask TIFF (Debian python3-fabio; run scripts/setup.sh)")
    TifImage(data=mask.astype(numpy.int32)).write(path)


def write_poni(path, g):
    config = {"pixel1": g["pixel1"], "pixel2": g["pixel2"], "max_shape": [g["rows"], g["cols"]]}
    text = ["# Calibration of the example series (placeholder geometry, pyFAI convention)",
            "poni_version: 2",
            "Detector: Detector",
            "Detector_config: " + json.dumps(config),
            "Distance: %r" % g["dist"], "Poni1: %r" % g["poni1"], "Poni2: %r" % g["poni2"],
            "Rot1: %r" % g["rot1"], "Rot2: %r" % g["rot2"], "Rot3: %r" % g["rot3"],
            "Wavelength: %r" % g["wavelength"]]
    with open(path, "w") as f:
        f.write("\n".join(text) + "\n")


def write_nexus(path, frames, temperatures, g, dark=False):
    import h5py
    n, rows, cols = frames.shape
    with h5py.File(path, "w") as f:
        f.attrs["default"] = "entry"
        f.attrs["creator"] = "libpdf scripts/make_example_series.py (placeholder generator)"
        entry = f.create_group("entry")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["default"] = "data"
        entry["title"] = "dark frames" if dark else "synthetic metallic glass, heating series (placeholder)"
        instrument = entry.create_group("instrument")
        instrument.attrs["NX_class"] = "NXinstrument"
        instrument["name"] = "P02.1-like total-scattering setup (synthetic)"
        beam = instrument.create_group("beam")
        beam.attrs["NX_class"] = "NXbeam"
        beam["incident_energy"] = ENERGY_KEV
        beam["incident_energy"].attrs["units"] = "keV"
        beam["incident_wavelength"] = WAVELENGTH_A
        beam["incident_wavelength"].attrs["units"] = "angstrom"
        det = instrument.create_group("detector")
        det.attrs["NX_class"] = "NXdetector"
        det["description"] = "PerkinElmer XRD1621-like flat panel%s" % ("" if rows == 2048 else ", 2 x 2 binned")
        det["x_pixel_size"] = g["pixel2"] * 1e6
        det["x_pixel_size"].attrs["units"] = "um"
        det["y_pixel_size"] = g["pixel1"] * 1e6
        det["y_pixel_size"].attrs["units"] = "um"
        det["distance"] = g["dist"] * 1e3
        det["distance"].attrs["units"] = "mm"
        # One frame per chunk (frames are read one at a time); shuffle helps gzip on 16-bit counts.
        data = det.create_dataset("data", data=frames, dtype=numpy.uint16, chunks=(1, rows, cols),
                                  compression="gzip", compression_opts=4, shuffle=True)
        data.attrs["units"] = "counts"
        nxdata = entry.create_group("data")
        nxdata.attrs["NX_class"] = "NXdata"
        nxdata.attrs["signal"] = "data"
        nxdata["data"] = data  # hard link: the same dataset under the NXdata group
        if temperatures is not None:
            sample = entry.create_group("sample")
            sample.attrs["NX_class"] = "NXsample"
            sample["name"] = "synthetic metallic glass (placeholder)"
            sample["temperature"] = numpy.asarray(temperatures, dtype=numpy.float64)
            sample["temperature"].attrs["units"] = "K"
            nxdata["temperature"] = sample["temperature"]


def main():
    args = parse_args()
    t0 = time.perf_counter()
    os.makedirs(args.out, exist_ok=True)
    rng = numpy.random.default_rng(args.seed)
    g = geometry(args.full)
    q, chi, solid, tth = pixel_arrays(g)
    # Polarisation P = [1 + cos^2 2th - f cos(2 chi) sin^2 2th] / 2 with f = 0.99 (horizontal beam).
    pol = 0.5 * (1 + numpy.cos(tth) ** 2 - 0.99 * numpy.cos(2 * chi) * numpy.sin(tth) ** 2)
    shape = q.shape

    # Detector: an offset of about 1000 ADU with column structure, a 3 % pixel gain spread.
    offset = 1000.0 + 15.0 * numpy.sin(numpy.arange(shape[1]) / 7.0)[None, :] + 8.0 * rng.standard_normal(shape)
    gain = 1.0 + 0.03 * rng.standard_normal(shape)
    scale = counts_per_unit(args.full)

    temperatures = numpy.linspace(args.t_start, args.t_stop, args.frames)
    frames = numpy.empty((args.frames,) + shape, dtype=numpy.uint16)
    for k, temperature in enumerate(temperatures):
        expected = scale * glass_intensity(q, temperature) * solid * pol * gain
        counts = rng.poisson(expected) + offset + 5.0 * rng.standard_normal(shape)
        frames[k] = numpy.clip(numpy.rint(counts), 0, 65000)
    darks = numpy.clip(numpy.rint(offset + 5.0 * rng.standard_normal((5,) + shape)), 0, 65000).astype(numpy.uint16)

    # Mask: beamstop disc and arm (towards the bottom), a dead column, scattered bad pixels.
    rows, cols = shape
    yy, xx = numpy.mgrid[0:rows, 0:cols]
    cy = g["poni1"] / g["pixel1"] - 0.5
    cx = g["poni2"] / g["pixel2"] - 0.5
    radius = 0.012 / g["pixel1"]  # 12 mm beamstop
    mask = ((xx - cx) ** 2 + (yy - cy) ** 2 < radius ** 2)
    mask |= (numpy.abs(xx - cx) < 0.004 / g["pixel2"]) & (yy > cy)
    mask[:, int(cols * 0.71)] = True
    mask |= rng.random(shape) < 2e-4

    series = os.path.join(args.out, "series.h5")
    write_nexus(series, frames, temperatures, g)
    write_nexus(os.path.join(args.out, "dark.h5"), darks, None, g, dark=True)
    write_poni(os.path.join(args.out, "series.poni"), g)
    write_tiff_mask(os.path.join(args.out, "mask.tif"), mask)

    size_mb = sum(os.path.getsize(os.path.join(args.out, n)) for n in ("series.h5", "dark.h5", "mask.tif")) / 1e6
    print("wrote %s: %d frames %d x %d (%.0f um pixels), %.0f -> %.0f K, %.1f MB, in %.1f s"
          % (args.out, args.frames, rows, cols, g["pixel1"] * 1e6, temperatures[0], temperatures[-1], size_mb,
             time.perf_counter() - t0))
    print("integrate with:\n  pdfreduce integrate %s --poni %s --dark %s --mask %s --polarization 0.99 "
          "--npt 3000 -o %s" % (series, os.path.join(args.out, "series.poni"), os.path.join(args.out, "dark.h5"),
                                os.path.join(args.out, "mask.tif"), os.path.join(args.out, "out", "frame_{frame}.xy")))


if __name__ == "__main__":
    main()
