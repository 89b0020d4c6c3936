#!/usr/bin/env python3
"""A quick look at a measurement with libpdf from Python, notebook style: integrate a detector frame to I(q),
reduce a glass pattern to S(q) and G(r), transform F(q) again with a Lorch window, and plot all of it to a PNG.

    python3 quick_look.py --data ../shared/data/real --out quick_look.png

(run from a build tree: PYTHONPATH=<build>/python). Uses the CeO2 calibrant (Pilatus 1M) and the Mg2SiO4 glass
of the real-data folder.
"""
import argparse
import pathlib
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display needed
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import libpdf  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", type=pathlib.Path, required=True, help="folder of the real data")
parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("quick_look.png"), help="PNG to write")
args = parser.parse_args()
print(f"libpdf {libpdf.__version__}")

# %% 1. A detector frame to I(q). The CeO2 calibration was made in Dioptas, whose image is flipped top to bottom;
# np.flipud gives a view with negative strides, so ascontiguousarray makes the one copy the integrator then reads.
ceo2 = args.data / "calibrant_CeO2_Pilatus1M"
frames = libpdf.open_frames(str(ceo2 / "CeO2_Pilatus1M.tif"))
frame = np.ascontiguousarray(np.flipud(frames[0]))
geometry = libpdf.Geometry(libpdf.read_poni(str(ceo2 / "CeO2_Pilatus1M.poni")), frames.rows, frames.cols)
plan = libpdf.Integrator(geometry, libpdf.IntegrationOptions(npt=2000, polarization_factor=0.99))
pattern = plan.integrate(frame)
print(f"CeO2: {frames.rows} x {frames.cols} {frame.dtype} frame -> {len(pattern)} bins, "
      f"q {pattern.radial[0]:.3f}..{pattern.radial[-1]:.3f} 1/A")

# %% 2. A glass pattern to S(q), F(q), G(r): Mg2SiO4 at 2.9 g/cm^3 with its background.
glass = args.data / "glass_Mg2SiO4"
sample = libpdf.read_text_pattern(str(glass / "Mg2SiO4_ambient.xy"))
background = libpdf.read_text_pattern(str(glass / "Mg2SiO4_ambient_bkg.xy"))
options = libpdf.ReductionOptions(composition="Mg2SiO4", mass_density=2.9, qmax=20.0, rmax=10.0)
result = libpdf.reduce((sample.x, sample.y), options, background=(background.x, background.y))
print(f"Mg2SiO4: alpha = {result.alpha:.5g}, rho0 = {result.number_density:.5f} atoms/A^3, "
      f"q step {result.qstep:.5f} 1/A")

# %% 3. The same F(q) with a Lorch window, through a transform plan on the reduction's own grid.
transform = libpdf.SineTransform(qmax=result.qmax, qstep=result.qstep, rmax=10.0, window="lorch")
gr_lorch = transform.forward(result.fq)
first = np.argmax(np.where(result.r > 1.0, result.gr, -np.inf))
print(f"first G(r) peak at r = {result.r[first]:.3f} A")

# %% 4. Plot.
fig, ax = plt.subplots(1, 3, figsize=(15, 4.2))
ax[0].plot(pattern.radial, pattern.intensity, lw=0.8)
ax[0].set(xlabel="q (1/Å)", ylabel="I (a.u.)", title="CeO2, Pilatus 1M")
ax[1].plot(result.q, result.sq, lw=0.8)
ax[1].axvline(result.qmin, color="0.6", lw=0.6, ls="--")
ax[1].set(xlabel="q (1/Å)", ylabel="S(q)", title="Mg2SiO4 glass")
ax[2].plot(result.r, result.gr, lw=0.8, label="no window")
ax[2].plot(transform.r, gr_lorch, lw=0.8, label="Lorch")
ax[2].set(xlabel="r (Å)", ylabel="G(r) (1/Å²)", title=f"libpdf {libpdf.__version__}")
ax[2].legend()
fig.tight_layout()
args.out.parent.mkdir(parents=True, exist_ok=True)
fig.savefig(args.out, dpi=100)

with open(args.out, "rb") as f:
    if f.read(8) != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{args.out} is not a PNG file")
print(f"wrote {args.out}")
