#!/usr/bin/python3
"""pdfreduce integrate against pyFAI on synthetic frames.

A 512 x 600 detector (rectangular pixels, 100 x 120 um, so axis swaps show), a PONI with all three
rotations non-zero, a metallic-glass-like ring pattern with Poisson noise, a dark, a flat, a mask with a
beamstop and dead pixels, polarisation 0.99. The frames are written as TIFF (fabio) and HDF5 (h5py) in
uint16, int32 and float32, integrated by pdfreduce through its command line and by pyFAI 0.21.3 (the
independent oracle) with the same options.

Tolerances, Rw = ||ours - pyFAI|| / ||pyFAI|| over bins where both have data:
  - no splitting: 1e-4. Both programs assign each pixel to the bin of its centre, so only pixels within
    float32 rounding of a bin edge (pyFAI keeps positions in float32) can land differently.
  - bbox and full splitting: 1e-3. The weights follow the same definitions; what remains is pyFAI's
    float32 geometry and its treatment of pixels cut by the chi = +-180 deg line (full splitting).
  - sigma (Poisson model): 1e-3 for every splitting (see TOL_SIGMA: sigma is more sensitive than I to a
    pixel crossing a bin edge).
  - with a radial sub-range, the edge bins are left out (pyFAI's own range-end conventions).
The exact checks are against the definition itself, computed here in float64 (no splitting: 1e-6), and
the physics check: a frame equal to solid angle x polarisation (pyFAI's own arrays) integrates to a flat
line (relative std < 1e-6). pyFAI 0.21.3's azimuthal error model is a different estimator, so that model is
checked against its definition only.

The beamstop mask covers the beam centre as in every real measurement; it also keeps out the few pixels
whose bbox extent would reach below zero, where pyFAI clamps the extent at 0 (a convention of its own).
"""
import os
import sys

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pdfreduce_testlib as lib  # noqa: E402

ROWS, COLS = 512, 600
NPT = 800
POLARIZATION = 0.99
UNITS = ("q_A^-1", "q_nm^-1", "2th_deg", "r_mm")
PYFAI_SPLIT = {"none": "no", "bbox": "bbox", "full": "full"}
TOL = {"none": 1e-4, "bbox": 1e-3, "full": 1e-3}
# sigma = sqrt(sum var) / sum n reacts to one pixel landing in a neighbouring bin by about 1/(2 N) (N = pixels
# in the bin, ~400 here) where I moves by (I_pixel - I)/N, i.e. by the noise level / N: with no splitting
# pyFAI's float32 pixel positions put a few pixels across bin edges, so sigma gets 1e-3.
TOL_SIGMA = {"none": 1e-3, "bbox": 1e-3, "full": 1e-3}


def make_integrator():
    from pyFAI.azimuthalIntegrator import AzimuthalIntegrator
    from pyFAI.detectors import Detector
    det = Detector(pixel1=100e-6, pixel2=120e-6, max_shape=(ROWS, COLS))
    # A PETRA-like setup: 0.25 A (about 50 keV), 15 cm, beam near the middle of the detector, small tilts
    # and a rotation about the beam.
    return AzimuthalIntegrator(dist=0.15, poni1=230.3 * 100e-6, poni2=280.7 * 120e-6,
                               rot1=0.012, rot2=-0.008, rot3=0.25, detector=det, wavelength=0.25e-10)


def glass_iq(q):
    """A smooth metallic-glass-like I(q) (q in 1/A): broad maxima at 2.3, 4.2 and 6.1 1/A over a
    background that falls at low q."""
    return (400.0 + 300.0 * numpy.exp(-q / 1.0)
            + 2600.0 * numpy.exp(-0.5 * ((q - 2.3) / 0.20) ** 2)
            + 900.0 * numpy.exp(-0.5 * ((q - 4.2) / 0.30) ** 2)
            + 500.0 * numpy.exp(-0.5 * ((q - 6.1) / 0.35) ** 2))


class Synthetic(lib.PatternCase):
    @classmethod
    def setUpClass(cls):
        rng = numpy.random.default_rng(20261125)
        cls.ai = ai = make_integrator()
        shape = (ROWS, COLS)
        q_a = ai.qArray(shape) / 10.0  # pyFAI gives 1/nm
        chi = ai.chiArray(shape)
        cls.solid = ai.solidAngleArray(shape).astype(numpy.float64)
        cls.pol = ai.polarization(shape, factor=POLARIZATION).astype(numpy.float64)

        # Flat: a smooth efficiency variation and 2 % pixel-to-pixel scatter.
        yy, xx = numpy.mgrid[0:ROWS, 0:COLS]
        cls.flat = (1.0 + 0.08 * numpy.sin(xx / 90.0) * numpy.cos(yy / 70.0)
                    + 0.02 * rng.standard_normal(shape)).astype(numpy.float32)
        # Dark: an offset of about 80 counts; the file holds its (noiseless) mean.
        dark_true = 80.0 + 3.0 * rng.standard_normal(shape)
        cls.dark = dark_true.astype(numpy.float32)

        # Mask: beamstop disc and arm, 0.5 % dead pixels, one dead row.
        fit2d = ai.getFit2D()
        cx, cy = fit2d["centerX"], fit2d["centerY"]
        mask = numpy.zeros(shape, dtype=numpy.uint8)
        mask[(xx - cx) ** 2 + (yy - cy) ** 2 < 18.0 ** 2] = 1
        mask[(numpy.abs(xx - cx) < 5) & (yy > cy)] = 1
        mask[rng.random(shape) < 0.005] = 1
        mask[400, :] = 1
        cls.mask = mask

        anisotropy = 1.0 + 0.04 * numpy.cos(2 * chi + 0.3)
        cls.expected = glass_iq(q_a) * anisotropy * cls.solid * cls.pol * cls.flat
        counts = rng.poisson(cls.expected) + rng.poisson(numpy.maximum(dark_true, 0))
        assert counts.max() < 60000  # keep clear of uint16's 65535 marker
        cls.frames = {
            "uint16": counts.astype(numpy.uint16),
            "int32": counts.astype(numpy.int32),
            # A non-integer float frame, as after a gain correction.
            "float32": (counts * 1.37).astype(numpy.float32),
        }

        cls.poni = lib.tmp_path("synthetic.poni")
        lib.write_poni(cls.poni, ai, version=2)
        cls.poni_v1 = lib.tmp_path("synthetic_v1.poni")
        lib.write_poni(cls.poni_v1, ai, version=1)
        cls.mask_tif = lib.tmp_path("mask.tif")
        lib.write_tiff(cls.mask_tif, mask.astype(numpy.int32))
        cls.dark_tif = lib.tmp_path("dark.tif")
        lib.write_tiff(cls.dark_tif, cls.dark)
        cls.flat_tif = lib.tmp_path("flat.tif")
        lib.write_tiff(cls.flat_tif, cls.flat)
        cls.inputs = {}
        for name, frame in cls.frames.items():
            tif = lib.tmp_path("frame_%s.tif" % name)
            lib.write_tiff(tif, frame)
            h5 = lib.tmp_path("frame_%s.h5" % name)
            lib.write_h5(h5, frame)
            cls.inputs[name] = {"tif": tif, "h5": h5}

        # Radial ranges that hold every pixel with its bbox extent: bins start at 0.
        cls.ranges = {}
        for unit in UNITS:
            centre = ai.array_from_unit(shape, "center", unit, scale=True)
            delta = ai.array_from_unit(shape, "delta", unit, scale=True)
            cls.ranges[unit] = (0.0, float(numpy.max(centre + delta)) * 1.001)

    # -- helpers ----------------------------------------------------------------------------------

    def pyfai(self, data, unit="q_A^-1", split="none", radial_range=None, azimuth_range=None, dark=True,
              flat=True, mask=True, polarization=POLARIZATION, solid_angle=True, error_model="poisson",
              npt=NPT, **kw):
        """pyFAI's integrate1d; dark/flat/mask: True = the class's own, False = none, or an array."""
        def pick(value, own):
            if value is True:
                return own
            return None if value is False else value
        algo = "histogram" if split == "none" else "csr"
        return self.ai.integrate1d(
            data, npt, unit=unit, method=(PYFAI_SPLIT[split], algo, "cython"),
            radial_range=radial_range or self.ranges[unit], azimuth_range=azimuth_range,
            dark=pick(dark, self.dark), flat=pick(flat, self.flat), mask=pick(mask, self.mask),
            polarization_factor=polarization, correctSolidAngle=solid_angle, error_model=error_model, **kw)

    def ours(self, inp, out, unit="q_A^-1", split="none", radial_range=None, corrections=True, extra=()):
        lo, hi = radial_range or self.ranges[unit]
        args = ["--npt", NPT, "--unit", unit, "--split", split, "--radial-range", "%r:%r" % (lo, hi)]
        if corrections:
            # pyFAI 0.21.3's Cython engines take var = max(raw, 1) and add nothing for the dark, which is
            # pdfreduce's default (--dark-variance none).
            args += ["--mask", self.mask_tif, "--dark", self.dark_tif, "--flat", self.flat_tif,
                     "--polarization", POLARIZATION]
        return lib.integrate_cli(inp, self.poni, lib.tmp_path(out), *args, *extra)

    # -- tests ------------------------------------------------------------------------------------

    def test_types_and_formats(self):
        """uint16, int32, float32 frames from TIFF and HDF5, with dark, flat, mask, polarisation."""
        for name, frame in self.frames.items():
            ref = self.pyfai(frame)
            for fmt, path in self.inputs[name].items():
                with self.subTest(dtype=name, fmt=fmt):
                    ours = self.ours(path, "types_%s_%s.xy" % (name, fmt))
                    self.compare(ours, ref, TOL["none"], TOL_SIGMA["none"], label="%s %s none q_A^-1" % (name, fmt))

    def test_units_and_splitting(self):
        frame = self.frames["uint16"]
        for unit in UNITS:
            for split in ("none", "bbox", "full"):
                with self.subTest(unit=unit, split=split):
                    ref = self.pyfai(frame, unit=unit, split=split)
                    ours = self.ours(self.inputs["uint16"]["tif"], "units_%s_%s.xy" % (unit.replace("^", ""), split),
                                     unit=unit, split=split)
                    self.compare(ours, ref, TOL[split], TOL_SIGMA[split], label="uint16 %s %s" % (split, unit))

    def test_azimuth_range(self):
        frame = self.frames["int32"]
        for split in ("none", "bbox", "full"):
            for lo, hi in ((-60.0, 45.0), (100.0, 170.0)):
                with self.subTest(split=split, range=(lo, hi)):
                    ref = self.pyfai(frame, split=split, azimuth_range=(lo, hi))
                    ours = self.ours(self.inputs["int32"]["h5"], "azim_%s_%d.xy" % (split, lo), split=split,
                                     extra=["--azimuth-range", "%r:%r" % (lo, hi)])
                    self.compare(ours, ref, TOL[split], TOL_SIGMA[split], label="azimuth %g:%g %s" % (lo, hi, split))

    def test_radial_range(self):
        """A sub-range of q. pyFAI treats the ends of the range its own way (its histogram puts pixels just
        below the range into the first bin, its CSR piles the outside part of a cut pixel into the edge
        bins), so the edge bins are left out of this comparison: one with no splitting, four with splitting
        (a pixel spans up to ~3 bins of this fine grid, 0.00375 1/A). test_definition_no_splitting checks
        the edge bins against the definition."""
        frame = self.frames["float32"]
        for split in ("none", "bbox", "full"):
            with self.subTest(split=split):
                ref = self.pyfai(frame, split=split, radial_range=(2.0, 5.0))
                ours = self.ours(self.inputs["float32"]["tif"], "radial_%s.xy" % split, split=split,
                                 radial_range=(2.0, 5.0))
                self.compare(ours, ref, TOL[split], TOL_SIGMA[split], skip_edges=1 if split == "none" else 4,
                             label="radial 2:5 %s" % split)

    def test_definition_no_splitting(self):
        """With no splitting the result is a plain per-bin sum, computed here in float64 straight from the
        definition (docs/conventions.md 1): I = sum (raw - dark) / sum (flat * solid * pol),
        sigma = sqrt(sum max(raw, 1)) / sum (flat * solid * pol). Nothing but rounding may differ, edge bins
        included."""
        frame = self.frames["float32"]
        q = lib.pixel_q_A(self.ai, (ROWS, COLS))
        raw = frame.astype(numpy.float64)
        norm = self.flat.astype(numpy.float64) * self.solid * self.pol
        for lo, hi in (self.ranges["q_A^-1"], (2.0, 5.0)):
            with self.subTest(range=(lo, hi)):
                ours = self.ours(self.inputs["float32"]["tif"], "definition.xy", radial_range=(lo, hi))
                index = numpy.floor((q - lo) / ((hi - lo) / NPT)).astype(numpy.int64)
                valid = (self.mask == 0) & (index >= 0) & (index < NPT)
                b = index[valid]
                sum_s = numpy.bincount(b, (raw - self.dark)[valid], NPT)
                sum_n = numpy.bincount(b, norm[valid], NPT)
                sum_v = numpy.bincount(b, numpy.maximum(raw, 1)[valid], NPT)
                has = (sum_n > 0) & (ours[:, 1] != 0)
                self.assertGreater(numpy.count_nonzero(has), NPT * 3 // 4)
                r_i = lib.rw(ours[has, 1], sum_s[has] / sum_n[has])
                r_s = lib.rw(ours[has, 2], numpy.sqrt(sum_v[has]) / sum_n[has])
                print("    definition, no splitting, q %g:%g: Rw(I) = %.3g, Rw(sigma) = %.3g" % (lo, hi, r_i, r_s))
                # 1e-6: pixels within rounding (1e-16 relative) of a bin edge are the only possible difference.
                self.assertLess(r_i, 1e-6)
                self.assertLess(r_s, 1e-6)

    def test_flat_line(self):
        """Solid angle x polarisation, corrected by both: every bin must be 1 (a flat line)."""
        frame = self.solid * self.pol
        path = lib.tmp_path("solid_times_pol.h5")
        lib.write_h5(path, frame)
        for split, tol in (("none", 1e-6), ("bbox", 1e-6), ("full", 1e-6)):
            with self.subTest(split=split):
                ours = lib.integrate_cli(path, self.poni, lib.tmp_path("flat_line_%s.xy" % split), "--npt", NPT,
                                         "--split", split, "--polarization", POLARIZATION)
                has = ours[:, 1] != 0
                self.assertGreater(numpy.count_nonzero(has), NPT // 2)
                values = ours[has, 1]
                rel_std = float(numpy.std(values) / numpy.mean(values))
                print("    flat line %-5s relative std %.3g, mean %.9f" % (split, rel_std, numpy.mean(values)))
                self.assertLess(rel_std, tol)
                self.assertAlmostEqual(float(numpy.mean(values)), 1.0, delta=1e-5)

    def test_flip_vertical(self):
        """Frame, mask, dark and flat stored upside down and flipped back by --flip-vertical."""
        frame = self.frames["uint16"]
        paths = {}
        for name, image in (("frame", frame), ("mask", self.mask.astype(numpy.int32)), ("dark", self.dark),
                            ("flat", self.flat)):
            paths[name] = lib.tmp_path("flipped_%s.tif" % name)
            lib.write_tiff(paths[name], numpy.flipud(image))
        for split in ("none", "bbox"):
            with self.subTest(split=split):
                lo, hi = self.ranges["q_A^-1"]
                ours = lib.integrate_cli(paths["frame"], self.poni, lib.tmp_path("flipped_%s.xy" % split),
                                         "--flip-vertical", "--npt", NPT, "--split", split, "--radial-range",
                                         "%r:%r" % (lo, hi), "--mask", paths["mask"], "--dark", paths["dark"],
                                         "--flat", paths["flat"],
                                         "--polarization", POLARIZATION)
                ref = self.pyfai(frame, split=split)
                self.compare(ours, ref, TOL[split], TOL_SIGMA[split], label="flip-vertical %s" % split)

    def test_poni_versions_agree(self):
        path = self.inputs["uint16"]["tif"]
        v2 = self.ours(path, "poni_v2.xy", split="bbox")
        lo, hi = self.ranges["q_A^-1"]
        v1 = lib.integrate_cli(path, self.poni_v1, lib.tmp_path("poni_v1.xy"), "--npt", NPT, "--split", "bbox",
                               "--radial-range", "%r:%r" % (lo, hi), "--mask", self.mask_tif, "--dark",
                               self.dark_tif, "--flat", self.flat_tif,
                               "--polarization", POLARIZATION)
        numpy.testing.assert_array_equal(v1, v2)

    def test_sensor_and_normalization(self):
        """Oblique-incidence sensor efficiency (pyFAI lacks it: given to pyFAI as part of the flat, from
        cos(alpha) = solid_angle^(1/3)) and a normalisation factor."""
        thickness, att_len, k = 1.0e-3, 0.6e-3, 2.5
        cos_alpha = numpy.cbrt(self.solid)
        mu_d = thickness / att_len
        eff = (1 - numpy.exp(-mu_d / cos_alpha)) / (1 - numpy.exp(-mu_d))
        frame = self.frames["uint16"]
        ref = self.pyfai(frame, flat=(self.flat * eff).astype(numpy.float64), normalization_factor=k)
        ours = self.ours(self.inputs["uint16"]["tif"], "sensor.xy",
                         extra=["--sensor-thickness", thickness, "--sensor-attenuation-length", att_len,
                                "--normalization", k])
        self.compare(ours, ref, TOL["none"], TOL_SIGMA["none"], label="sensor + normalization none")

    def test_no_solid_angle_no_polarization(self):
        frame = self.frames["int32"]
        ref = self.pyfai(frame, split="bbox", polarization=None, solid_angle=False)
        lo, hi = self.ranges["q_A^-1"]
        ours = lib.integrate_cli(self.inputs["int32"]["tif"], self.poni, lib.tmp_path("no_solid.xy"), "--npt", NPT,
                                 "--split", "bbox", "--radial-range", "%r:%r" % (lo, hi), "--no-solid-angle",
                                 "--mask", self.mask_tif, "--dark", self.dark_tif,
                                 "--flat", self.flat_tif)
        self.compare(ours, ref, TOL["bbox"], TOL_SIGMA["bbox"], label="no solid angle, no polarisation bbox")

    def test_dummy(self):
        frame = self.frames["float32"].copy()
        rng = numpy.random.default_rng(7)
        frame[rng.random(frame.shape) < 0.01] = -5.0  # a dummy value for dead pixels
        path = lib.tmp_path("dummy.tif")
        lib.write_tiff(path, frame)
        ref = self.pyfai(frame, dummy=-5.0, delta_dummy=0.5)
        ours = self.ours(path, "dummy.xy", extra=["--dummy", "-5", "--delta-dummy", "0.5"])
        self.compare(ours, ref, TOL["none"], TOL_SIGMA["none"], label="dummy none")

    def test_error_models(self):
        frame = self.frames["uint16"]
        ours = self.ours(self.inputs["uint16"]["tif"], "err_none.xy", extra=["--error-model", "none"])
        self.assertTrue(numpy.all(ours[:, 2] == 0))

        # Azimuthal model. pyFAI 0.21.3's own azimuthal estimator is not the same formula (its sigma is a few %
        # off with no splitting and about 40 % off with bbox, where it weights by c instead of c^2), so the
        # reference is the definition itself, computed here pixel by pixel (no splitting, float64 geometry):
        #   I = sum s / sum n,  sigma^2 = sum (s - I n)^2 / (sum n)^2,  s = raw - dark, n = flat * solid * pol.
        ours = self.ours(self.inputs["uint16"]["tif"], "err_azim.xy", extra=["--error-model", "azimuthal"])
        q = lib.pixel_q_A(self.ai, (ROWS, COLS))
        lo, hi = self.ranges["q_A^-1"]
        index = numpy.floor((q - lo) / ((hi - lo) / NPT)).astype(numpy.int64)
        valid = (self.mask == 0) & (index >= 0) & (index < NPT)
        b = index[valid]
        sig = (frame.astype(numpy.float64) - self.dark)[valid]
        norm = (self.flat.astype(numpy.float64) * self.solid * self.pol)[valid]
        sum_s = numpy.bincount(b, sig, NPT)
        sum_n = numpy.bincount(b, norm, NPT)
        has = sum_n > 0
        mean = numpy.where(has, sum_s / numpy.where(has, sum_n, 1), 0)
        spread = numpy.bincount(b, (sig - mean[b] * norm) ** 2, NPT)
        sigma = numpy.sqrt(spread) / numpy.where(has, sum_n, 1)
        both = has & (ours[:, 1] != 0)
        r_i = lib.rw(ours[both, 1], mean[both])
        r_s = lib.rw(ours[both, 2], sigma[both])
        print("    azimuthal model vs its definition: Rw(I) = %.3g, Rw(sigma) = %.3g" % (r_i, r_s))
        self.assertLess(r_i, 1e-4)
        self.assertLess(r_s, 1e-4)

    def test_several_frames(self):
        """Three frames in one HDF5 file: one output per frame, --frames slices, --sum and --average."""
        rng = numpy.random.default_rng(11)
        dark_counts = numpy.maximum(self.dark.astype(numpy.float64), 0)
        frames = numpy.stack([rng.poisson(self.expected) + rng.poisson(dark_counts) for _ in range(3)])
        frames = frames.astype(numpy.uint16)
        path = lib.tmp_path("three_frames.h5")
        lib.write_h5(path, frames)

        lo, hi = self.ranges["q_A^-1"]
        common = ["--npt", NPT, "--split", "bbox", "--radial-range", "%r:%r" % (lo, hi), "--mask", self.mask_tif,
                  "--dark", self.dark_tif, "--flat", self.flat_tif,
                  "--polarization", POLARIZATION]
        lib.run_pdfreduce("integrate", path, "--poni", self.poni, "-o", lib.tmp_path("multi", "f_{frame}.xy"), *common)
        for i in range(3):
            ours = lib.read_xy(lib.tmp_path("multi", "f_%d.xy" % i))[1]
            self.compare(ours, self.pyfai(frames[i], split="bbox"), TOL["bbox"], TOL_SIGMA["bbox"],
                         label="frame %d" % i)

        lib.run_pdfreduce("integrate", path, "--poni", self.poni, "--frames", "-2:", "-o",
                          lib.tmp_path("multi_tail", "g_{frame:03d}.xy"), *common)
        self.assertEqual(sorted(os.listdir(lib.tmp_path("multi_tail"))), ["g_001.xy", "g_002.xy"])

        # Sum: signals and Poisson variances add over frames; the dark is subtracted from each frame. (The
        # variance of the dark estimate is left out here: how it enters a sum is a convention.)
        variance = numpy.maximum(frames, 1).sum(axis=0).astype(numpy.float64)
        ref = self.pyfai(frames.sum(axis=0).astype(numpy.float64), split="bbox", dark=3 * self.dark,
                         error_model=None, variance=variance)
        lib.run_pdfreduce("integrate", path, "--poni", self.poni, "-o", lib.tmp_path("sum_{frame}.xy"), "--sum",
                          *common)
        summed = lib.read_xy(lib.tmp_path("sum_0-2.xy"))[1]  # {frame} becomes first-last
        self.compare(summed, ref, TOL["bbox"], TOL["bbox"], label="--sum of 3 frames")
        averaged = lib.integrate_cli(path, self.poni, lib.tmp_path("average.xy"), "--average", *common)
        has = summed[:, 1] != 0
        self.assertLess(lib.rw(averaged[has, 1] * 3, summed[has, 1]), 1e-9)

    def test_sigma_clip(self):
        """Zingers (single saturated-looking pixels) are removed by --sigma-clip: the clipped pattern
        matches pyFAI on the same frame with the zingers masked, the unclipped one does not."""
        frame = self.frames["uint16"].copy()
        rng = numpy.random.default_rng(3)
        zingers = (rng.random(frame.shape) < 0.0015) & (self.mask == 0)
        frame[zingers] = 50000
        path = lib.tmp_path("zingers.tif")
        lib.write_tiff(path, frame)
        ref = self.pyfai(frame, split="none", mask=self.mask | zingers)
        clipped = self.ours(path, "zingers_clipped.xy", extra=["--sigma-clip", "4"])
        plain = self.ours(path, "zingers_plain.xy")
        # A single outlier among N values lies at most (N - 1)/sqrt(N) sample deviations from their mean, so
        # it cannot pass a 4-sigma test in bins of fewer than ~17 pixels (true of any sigma clipping): those
        # bins (at the beamstop edge) are left out.
        has = (numpy.asarray(ref.count) >= 50) & (clipped[:, 1] != 0)
        r_clip = lib.rw(clipped[has, 1], numpy.asarray(ref.intensity)[has])
        r_plain = lib.rw(plain[has, 1], numpy.asarray(ref.intensity)[has])
        print("    sigma clip: Rw clipped %.3g, unclipped %.3g" % (r_clip, r_plain))
        self.assertLess(r_clip, 5e-3)
        self.assertGreater(r_plain, 10 * r_clip)

    def test_mask_formats(self):
        """The same mask as uint8 TIFF and as an HDF5 dataset (--mask-dataset) gives the same result as the
        int32 TIFF."""
        ref = self.ours(self.inputs["uint16"]["tif"], "mask_int32.xy")
        u8 = lib.tmp_path("mask_u8.tif")
        lib.write_tiff(u8, self.mask)
        h5 = lib.tmp_path("mask.h5")
        import h5py
        with h5py.File(h5, "w") as f:
            f["/entry/instrument/detector/pixel_mask"] = self.mask.astype(numpy.uint32)
        lo, hi = self.ranges["q_A^-1"]
        for label, mask_args in (("uint8 tiff", ["--mask", u8]),
                                 ("hdf5", ["--mask", h5, "--mask-dataset", "/entry/instrument/detector/pixel_mask"])):
            with self.subTest(mask=label):
                ours = lib.integrate_cli(self.inputs["uint16"]["tif"], self.poni, lib.tmp_path("mask_other.xy"),
                                         "--npt", NPT, "--split", "none", "--radial-range", "%r:%r" % (lo, hi),
                                         "--dark", self.dark_tif, "--flat",
                                         self.flat_tif, "--polarization", POLARIZATION, *mask_args)
                numpy.testing.assert_array_equal(ours, ref)


if __name__ == "__main__":
    lib.main(__doc__)
