// Tests of the forward simulator (include/libpdf/simulate.hpp). References:
//  - the closed-form S(q) of the Gaussian-shell model against direct numerical sine integration of g(r);
//  - the simulated frames, integrated by libpdf::Integrator, against the simulator's own expected pattern
//    (noise-free: to the bin-averaging error; noisy: χ² per bin ≈ 1 with the Poisson σ);
//  - determinism (same seed, any thread count: identical bytes), and the example files' layout.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/simulate.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using libpdf::test::error_of;

namespace {

std::string tmp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir =
      fs::path(LIBPDF_TEST_TMP) / "simulate" / (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// A small flat panel: 160 x 160 pixels of 2 mm at 0.25 m, 60 keV: q from ~0.3 to ~22 1/Å.
libpdf::SimulationSetup small_setup() {
  libpdf::SimulationSetup s;
  s.poni.detector.rows = s.poni.detector.cols = 160;
  s.poni.detector.pixel1_m = s.poni.detector.pixel2_m = 2e-3;
  s.poni.distance_m = 0.25;
  s.poni.poni1_m = 0.161;
  s.poni.poni2_m = 0.158;
  s.poni.rot1 = 0.01;
  s.poni.rot2 = -0.005;
  s.poni.wavelength_m = 0.2072e-10;
  s.sensor = libpdf::Sensor{0.28e-3, 0.6e-3};
  s.photons_per_electron = 20.0;
  s.threads = 2;
  return s;
}

libpdf::Corrections corrections_of(const libpdf::Simulator& sim, bool with_dark) {
  libpdf::Corrections c;
  c.flat = sim.flat();
  c.mask.resize(sim.defect_mask().size());
  for (std::size_t p = 0; p < c.mask.size(); ++p) c.mask[p] = sim.defect_mask()[p] || sim.beamstop_mask()[p];
  if (with_dark) c.dark = sim.dark();
  return c;
}

libpdf::IntegrationOptions integration_options(const libpdf::SimulationSetup& s) {
  libpdf::IntegrationOptions o;
  o.npt = 400;
  o.radial_range = libpdf::Range{1.0, 18.0};
  o.polarization_factor = s.polarization_factor;
  o.sensor = s.sensor;
  o.splitting = libpdf::Splitting::bbox;
  o.threads = 2;
  return o;
}

}  // namespace

TEST(PairModel, ClosedFormEqualsDirectSineIntegration) {
  for (bool reference : {false, true}) {
    for (double T : {310.0, 600.0}) {
      const auto m = libpdf::metallic_glass_model(T, libpdf::GlassModelOptions{450, 600, reference});
      for (double q : {0.3, 2.2, 4.46, 12.0, 25.0}) {
        // Simpson with dr = 0.002 A on [0, 80 A]: error ~ dr^4 max|f(4)| 80/180, below 1e-8 here.
        EXPECT_NEAR(m.S(q), m.S_numerical(q, 0.002), 1e-7) << "T " << T << " q " << q << " reference " << reference;
      }
    }
  }
}

TEST(PairModel, ModelsArePhysical) {
  // S(q) > 0 and g(r) ≳ 0 everywhere: the intensities the simulator derives from them must be positive.
  for (bool reference : {false, true}) {
    for (double T = 250; T <= 650; T += 25) {
      const auto m = libpdf::metallic_glass_model(T, libpdf::GlassModelOptions{450, 600, reference});
      double smin = 1e9, gmin = 1e9;
      for (double q = 0.05; q < 30; q += 0.005) smin = std::min(smin, m.S(q));
      for (double r = 0.01; r < 30; r += 0.005) gmin = std::min(gmin, m.g(r));
      EXPECT_GT(smin, 0.005) << "T " << T;
      EXPECT_GT(gmin, -0.02) << "T " << T;
      EXPECT_NEAR(m.g(40.0), 1.0, 1e-3);
      EXPECT_NEAR(m.S(29.0), 1.0, 5e-3);
    }
  }
}

// The excluded volume must be empty: g(r) ≈ 0 below the first shell (the step H(r) has r0 = 0.855 r1 ≈ 3.1 Å,
// w = 0.2 Å). Acceptance: ∫₀^2.5 4πρ₀r²g dr < 0.02 atoms and |g| < 0.02 for r < 2.3 Å. Measured on the model:
// 0.003–0.008 atoms, |g| < 0.005 (the broad low-q shells' leak, cancelled by the core shells of the fit; the
// model before had 0.40 atoms and |g| up to 1.5 there); at 1000 K 0.011 / 0.016 atoms.
TEST(PairModel, CoreBelowTheFirstShellIsEmpty) {
  constexpr double kPi = 3.14159265358979323846;
  for (bool reference : {false, true}) {
    // The scan, and the highest temperature the model accepts (kGlassModelMaxTemperatureK), where S(q) is checked
    // too (ModelsArePhysical covers 250–650 K).
    for (double T : {310.0, 450.0, 600.0, libpdf::kGlassModelMaxTemperatureK}) {
      const auto m = libpdf::metallic_glass_model(T, libpdf::GlassModelOptions{450, 600, reference});
      double atoms = 0, gmax = 0;
      const double h = 1e-4;
      for (double r = 0.5 * h; r < 2.5; r += h) atoms += 4 * kPi * m.number_density * r * r * m.g(r) * h;
      for (double r = 0.001; r < 2.3; r += 0.001) gmax = std::max(gmax, std::fabs(m.g(r)));
      EXPECT_LT(std::fabs(atoms), 0.02) << "T " << T << " reference " << reference;
      EXPECT_LT(gmax, 0.02) << "T " << T << " reference " << reference;
      if (T == libpdf::kGlassModelMaxTemperatureK) {
        double smin = 1e9;
        for (double q = 0.05; q < 30; q += 0.005) smin = std::min(smin, m.S(q));
        EXPECT_GT(smin, 0.005) << "reference " << reference;
      }
    }
  }
}

namespace {

libpdf::ModelMetrics metrics_at(double T, bool reference) {
  return libpdf::model_metrics(libpdf::metallic_glass_model(T, libpdf::GlassModelOptions{450, 600, reference}));
}

// Local maxima of the exact S(q) in [lo, hi] on a 0.001 1/Å grid: an independent scan (not model_metrics).
std::vector<double> maxima_in(const libpdf::PairModel& m, double lo, double hi) {
  std::vector<double> out;
  double a = m.S(lo - 0.001), b = m.S(lo);
  for (double q = lo; q <= hi; q += 0.001) {
    const double c = m.S(q + 0.001);
    if (b > a && b >= c) out.push_back(q);
    a = b;
    b = c;
  }
  return out;
}

}  // namespace

TEST(PairModel, ProgressIsAHingeAtTheTransition) {
  // A hinge fit needs the change to start at T_c with a finite slope: 0 up to 450 K, then growing at once.
  const libpdf::GlassModelOptions o{450, 600, false};
  EXPECT_EQ(libpdf::metallic_glass_progress(300, o), 0.0);
  EXPECT_EQ(libpdf::metallic_glass_progress(450, o), 0.0);
  // Linear from T_c to end_K: slope 1/150 per K from the first kelvin on, no curvature.
  EXPECT_NEAR(libpdf::metallic_glass_progress(451, o), 1.0 / 150, 1e-15);
  EXPECT_NEAR(libpdf::metallic_glass_progress(525, o), 0.5, 1e-15);
  EXPECT_NEAR(libpdf::metallic_glass_progress(600, o), 1.0, 1e-12);
  EXPECT_EQ(libpdf::metallic_glass_progress(650, o), 1.0);
  EXPECT_EQ(libpdf::metallic_glass_progress(600, libpdf::GlassModelOptions{450, 600, true}), 0.0);
}

TEST(PairModel, NewPeakAt446AppearsAboveTheTransitionOnly) {
  // Below and at T_c: a shoulder, no maximum between 4.2 and 4.7 1/Å. Above: a maximum at 4.46 ± 0.03 1/Å from
  // 520 K on (where it is resolved; just above T_c it is still a shoulder), growing with T.
  for (double T : {310.0, 350.0, 400.0, 450.0}) {
    const auto m = libpdf::metallic_glass_model(T);
    EXPECT_TRUE(maxima_in(m, 4.2, 4.7).empty()) << "T " << T;
    EXPECT_EQ(libpdf::model_metrics(m).q_new, 0.0) << "T " << T;
  }
  double previous = 0;
  for (double T : {520.0, 550.0, 580.0, 600.0}) {
    const auto m = libpdf::metallic_glass_model(T);
    const auto peaks = maxima_in(m, 4.2, 4.7);
    ASSERT_EQ(peaks.size(), 1u) << "T " << T;
    EXPECT_NEAR(peaks[0], 4.46, 0.03) << "T " << T;
    const auto k = libpdf::model_metrics(m);
    EXPECT_NEAR(k.q_new, peaks[0], 0.002) << "T " << T;
    EXPECT_GT(k.prominence_new, previous) << "T " << T;
    previous = k.prominence_new;
  }
  // The bump over a straight baseline grows from T_c on (S(4.46) excess, defined without a maximum).
  EXPECT_GT(metrics_at(600, false).s_446_excess, metrics_at(450, false).s_446_excess + 0.05);
  EXPECT_NEAR(metrics_at(450, false).s_446_excess, metrics_at(310, false).s_446_excess, 0.01);
}

TEST(PairModel, MaximaTwoToFourSharpenAboveTheTransition) {
  const auto m310 = metrics_at(310, false), m450 = metrics_at(450, false), m600 = metrics_at(600, false);
  const double q[3][3] = {{m310.q2, m450.q2, m600.q2}, {m310.q3, m450.q3, m600.q3}, {m310.q4, m450.q4, m600.q4}};
  const double s[3][3] = {{m310.s_q2, m450.s_q2, m600.s_q2}, {m310.s_q3, m450.s_q3, m600.s_q3},
                          {m310.s_q4, m450.s_q4, m600.s_q4}};
  const double w[3][3] = {{m310.fwhm_q2, m450.fwhm_q2, m600.fwhm_q2}, {m310.fwhm_q3, m450.fwhm_q3, m600.fwhm_q3},
                          {m310.fwhm_q4, m450.fwhm_q4, m600.fwhm_q4}};
  for (int k = 0; k < 3; ++k) {
    // They stay where they are (within 0.03 1/Å) ...
    EXPECT_NEAR(q[k][2], q[k][1], 0.03) << "maximum " << k + 2;
    // ... grow narrower by at least 15 % and higher above T_c ...
    EXPECT_LT(w[k][2], 0.85 * w[k][1]) << "maximum " << k + 2;
    EXPECT_GT(s[k][2], s[k][1] + 0.015) << "maximum " << k + 2;
    // ... and below T_c change by thermal broadening only (within 3 % in width, 0.015 in height).
    EXPECT_NEAR(w[k][1] / w[k][0], 1.0, 0.03) << "maximum " << k + 2;
    EXPECT_NEAR(s[k][1], s[k][0], 0.015) << "maximum " << k + 2;
  }
  // Where the model puts them, ≈ 1.8, 2.47 and 3.25 q1 (metallic glasses: q2/q1 ≈ 1.7–1.8, q3/q1 ≈ 2.5).
  EXPECT_NEAR(m310.q2, 3.97, 0.05);
  EXPECT_NEAR(m310.q3, 5.47, 0.05);
  EXPECT_NEAR(m310.q4, 7.20, 0.05);
}

TEST(PairModel, MediumRangeOrderGrowsAboveTheTransitionOnly) {
  const auto m310 = metrics_at(310, false), m450 = metrics_at(450, false), m600 = metrics_at(600, false);
  // The envelope of G(r) over 5–17 Å: ξ ≈ 4.3 Å at 310 K, ≈ 7 Å at 600 K (the study), +30 % at least above T_c,
  // under 10 % of ageing below it; Q_m at the first S(q) peak.
  EXPECT_NEAR(m310.xi, 4.0, 0.3);
  EXPECT_NEAR(m450.xi, 4.3, 0.3);
  EXPECT_NEAR(m600.xi, 7.0, 0.5);
  EXPECT_GT(m600.xi, 1.3 * m450.xi);
  EXPECT_LT(m450.xi / m310.xi, 1.10);
  EXPECT_NEAR(m600.q_mro, m600.q1, 0.15);
  // G(r) oscillations in 5–17 Å grow (RMS), the first S(q) maximum sharpens.
  EXPECT_LT(m450.mro_rms / m310.mro_rms, 1.1);
  EXPECT_GT(m600.mro_rms / m450.mro_rms, 1.25);
  EXPECT_GT(m600.s_q1, m450.s_q1 + 0.1);
  // ... and extend beyond 20 Å: the RMS of G over 20–25 Å at least doubles.
  const auto tail = [](double T) {
    const auto m = libpdf::metallic_glass_model(T);
    double ss = 0;
    int n = 0;
    for (double r = 20; r <= 25; r += 0.01, ++n) ss += m.G(r) * m.G(r);
    return std::sqrt(ss / n);
  };
  EXPECT_GT(tail(600), 2.0 * tail(450));
}

TEST(PairModel, ShortRangeOrderStaysPut) {
  // The study: r1 and every feature below 5 Å stay put; only thermal broadening. r1 (parabola-refined) within
  // 0.01 Å and q1 within 0.005 1/Å over 310–600 K; coordination within 3 %.
  const auto m310 = metrics_at(310, false);
  for (double T = 320; T <= 600; T += 10) {
    const auto m = metrics_at(T, false);
    EXPECT_NEAR(m.r1, m310.r1, 0.01) << "T " << T;
    EXPECT_NEAR(m.q1, m310.q1, 0.005) << "T " << T;
    EXPECT_NEAR(m.coordination / m310.coordination, 1.0, 0.03) << "T " << T;
  }
  // G(r) below 5 Å: the difference 600 K − 450 K is at most that of thermal broadening (450 K − 310 K is
  // broadening only; 600 K − 450 K has half as much again), with 20 % allowance for the MRO's tails.
  const auto m310m = libpdf::metallic_glass_model(310), m450m = libpdf::metallic_glass_model(450),
             m600m = libpdf::metallic_glass_model(600);
  double d_below = 0, d_above = 0;
  for (double r = 1.0; r <= 5.0; r += 0.005) {
    d_below = std::max(d_below, std::fabs(m450m.G(r) - m310m.G(r)));
    d_above = std::max(d_above, std::fabs(m600m.G(r) - m450m.G(r)));
  }
  EXPECT_LT(d_above, 1.2 * (150.0 / 140.0) * d_below);
  // Plausible La-based glass: q1 ≈ 2.21 1/Å, r1 ≈ 3.6 Å, 11–15 neighbours.
  EXPECT_NEAR(m310.q1, 2.21, 0.05);
  EXPECT_NEAR(m310.r1, 3.6, 0.05);
  EXPECT_GT(m310.coordination, 10.0);
  EXPECT_LT(m310.coordination, 16.0);
}

TEST(PairModel, ReferenceGlassShowsNoTransition) {
  const auto r310 = metrics_at(310, true), r450 = metrics_at(450, true), r600 = metrics_at(600, true);
  for (double T : {310.0, 450.0, 600.0}) {
    const auto m = libpdf::metallic_glass_model(T, libpdf::GlassModelOptions{450, 600, true});
    // One first peak: a single maximum of S(q) between 1.5 and 3.2 1/Å (no split, no shoulder maximum).
    EXPECT_EQ(maxima_in(m, 1.5, 3.2).size(), 1u) << "T " << T;
    // No new peak.
    EXPECT_TRUE(maxima_in(m, 4.3, 4.65).empty()) << "T " << T;
  }
  // A La-based glass: q1 ≈ 2.29 1/Å (its first shell, 3.50 Å, is shorter), S(q1) > 2.
  EXPECT_NEAR(r310.q1, 2.29, 0.05);
  EXPECT_GT(r310.s_q1, 2.0);
  // Above 450 K nothing changes but thermal broadening and the same slow ageing as below (no kink, so no onset):
  // ξ changes from 450 to 600 K as from 310 to 450 K scaled by 150/140 (within 25 % of that small change), and by
  // under 4 % overall; RMS within 5 %, maxima widths within 3 %.
  const double ageing_below = r450.xi - r310.xi, ageing_above = r600.xi - r450.xi;
  EXPECT_GT(ageing_below, 0.0);
  EXPECT_NEAR(ageing_above, ageing_below * 150.0 / 140.0, 0.25 * ageing_below);
  EXPECT_NEAR(r600.xi / r450.xi, 1.0, 0.04);
  EXPECT_NEAR(r600.mro_rms / r450.mro_rms, 1.0, 0.05);
  EXPECT_NEAR(r600.mro_rms / r310.mro_rms, 1.0, 0.05);
  EXPECT_NEAR(r600.fwhm_q2 / r450.fwhm_q2, 1.0, 0.03);
  EXPECT_NEAR(r600.fwhm_q3 / r450.fwhm_q3, 1.0, 0.03);
  EXPECT_NEAR(r600.r1, r310.r1, 0.01);
  EXPECT_NEAR(r600.q1, r310.q1, 0.005);
}

TEST(Simulator, FramesAreDeterministicForASeed) {
  auto s = small_setup();
  const auto model = libpdf::metallic_glass_model(400);
  const libpdf::Simulator a(s);
  s.threads = 1;
  const libpdf::Simulator b(s);
  const auto fa = a.frame(model, 3), fb = b.frame(model, 3);
  ASSERT_EQ(fa.size(), fb.size());
  EXPECT_EQ(std::memcmp(fa.data(), fb.data(), fa.size() * 2), 0);
  const auto fc = a.frame(model, 4);
  EXPECT_NE(std::memcmp(fa.data(), fc.data(), fa.size() * 2), 0);
  s.seed = 2;
  const libpdf::Simulator c(s);
  EXPECT_NE(std::memcmp(fa.data(), c.frame(model, 3).data(), fa.size() * 2), 0);
}

TEST(Simulator, IntegratedFramesGiveBackTheModel) {
  // No dark offset and no read noise: raw values are Poisson counts, so the Integrator's Poisson σ is the
  // true σ and χ² per bin must be 1 (800 bins: the mean has a spread of √(2/800) = 0.05).
  // 512 x 512 pixels of 0.625 mm and no pixel splitting with bins of 0.021 1/Å: a bin averages the model
  // over pixel centres within its width, |ΔI/I| ≤ Δq²/24·|I''/I| ≈ 5e−4 at the first peak.
  auto s = small_setup();
  s.poni.detector.rows = s.poni.detector.cols = 512;
  s.poni.detector.pixel1_m = s.poni.detector.pixel2_m = 0.625e-3;
  s.dark_offset_adu = 0;
  s.dark_pattern_rms_adu = 0;
  s.dark_column_amplitude_adu = 0;
  s.dark_current_adu_per_s = 0;
  s.read_noise_adu = 0;
  s.type = libpdf::PixelType::u32;
  s.gap_rows = {80};
  s.gap_cols = {40, 41};
  const libpdf::Simulator sim(s);
  const auto model = libpdf::metallic_glass_model(550);
  const libpdf::Geometry geometry(s.poni);
  auto opt = integration_options(s);
  opt.npt = 800;
  opt.splitting = libpdf::Splitting::none;
  const libpdf::Integrator plan(geometry, opt, corrections_of(sim, false));

  // Noise-free: the integrated expectation equals the expected pattern up to bin averaging.
  const auto photons = sim.expected_photons(model);
  const auto clean = plan.integrate(libpdf::ImageView(photons.data(), sim.rows(), sim.cols()));
  // Each bin is compared at the mean q of its pixels (weights as in the bin: the pixel's normalisation),
  // which removes the first-order error of pixel centres spread unevenly over a bin: integrating the image
  // q_i·n_i gives Σ q_i n_i / Σ n_i.
  const auto q = geometry.q_array();
  std::vector<double> qn(q.size());
  for (std::size_t i = 0; i < sim.rows(); ++i) {
    for (std::size_t j = 0; j < sim.cols(); ++j) qn[i * sim.cols() + j] = q[i * sim.cols() + j] * plan.pixel_normalization(i, j);
  }
  const auto mean_q = plan.integrate(libpdf::ImageView(qn.data(), sim.rows(), sim.cols())).intensity;
  const auto expected = sim.expected_pattern(model, mean_q);
  double worst = 0;
  for (std::size_t b = 0; b < clean.radial.size(); ++b) {
    if (clean.count[b] <= 0) continue;
    worst = std::max(worst, std::fabs(clean.intensity[b] / expected[b] - 1.0));
  }
  EXPECT_LT(worst, 3e-3);

  // Noisy frame: χ² against the integrated expectation.
  const auto noisy = plan.integrate(sim.frame(model, 7).view());
  double chi2 = 0, bias = 0;
  std::size_t n = 0;
  for (std::size_t b = 0; b < noisy.radial.size(); ++b) {
    if (noisy.count[b] <= 0 || noisy.sigma[b] <= 0) continue;
    const double z = (noisy.intensity[b] - clean.intensity[b]) / noisy.sigma[b];
    chi2 += z * z;
    bias += z;
    ++n;
  }
  ASSERT_GT(n, 750u);
  EXPECT_NEAR(chi2 / static_cast<double>(n), 1.0, 0.25);
  EXPECT_LT(std::fabs(bias / static_cast<double>(n)), 0.2);
}

TEST(Simulator, DarkAndFlatAreWhatTheFramesHold) {
  // With the full detector model (offset, fixed pattern, dark current, read noise, uint16), subtracting the
  // simulator's dark and dividing by its flat leaves no bias: the mean normalised residual is ~0.
  const auto s = small_setup();
  const libpdf::Simulator sim(s);
  const auto model = libpdf::metallic_glass_model(310);
  const libpdf::Integrator plan(libpdf::Geometry(s.poni), integration_options(s), corrections_of(sim, true));
  // The expectation of a frame: photons + dark (the plan subtracts the dark from both).
  auto photons = sim.expected_photons(model);
  for (std::size_t p = 0; p < photons.size(); ++p) photons[p] += sim.dark()[p];
  const auto clean = plan.integrate(libpdf::ImageView(photons.data(), sim.rows(), sim.cols()));
  double bias = 0, rel = 0;
  std::size_t n = 0;
  for (std::uint64_t k = 0; k < 4; ++k) {
    const auto r = plan.integrate(sim.frame(model, k).view());
    for (std::size_t b = 0; b < r.radial.size(); ++b) {
      if (r.count[b] <= 0) continue;
      bias += r.intensity[b] - clean.intensity[b];
      rel += r.intensity[b] / clean.intensity[b] - 1.0;
      ++n;
    }
  }
  // 4 frames x 400 bins of ~1e4 counts over ~50 pixels: the mean relative residual scatters by ~1e−4.
  EXPECT_LT(std::fabs(rel / static_cast<double>(n)), 1e-3);
  (void)bias;
  // Dark frames average to the dark.
  const auto d = sim.dark_frame(1).to_double();
  double diff = 0;
  for (std::size_t p = 0; p < d.size(); ++p) diff += d[p] - sim.dark()[p];
  EXPECT_LT(std::fabs(diff / static_cast<double>(d.size())), 0.1);
}

TEST(Simulator, BadSetupNamesTheField) {
  auto s = small_setup();
  s.photons_per_electron = -1;
  s.gap_rows = {500};
  const std::string msg = error_of([&] { libpdf::Simulator sim(s); });
  EXPECT_NE(msg.find("photons_per_electron"), std::string::npos) << msg;
  EXPECT_NE(msg.find("gap row 500"), std::string::npos) << msg;
  libpdf::ExampleOptions o;
  o.size = 300;
  EXPECT_NE(error_of([&] { libpdf::write_example_series(o); }).find("size = 300"), std::string::npos);
  // Temperatures beyond the glass models' range: refused before any file is written.
  libpdf::ExampleOptions hot;
  hot.out_dir = tmp_dir() + "/hot";
  hot.t_stop_K = 1200;
  const std::string hot_msg = error_of([&] { libpdf::write_example_series(hot); });
  EXPECT_NE(hot_msg.find("t_stop_K = 1200"), std::string::npos) << hot_msg;
  EXPECT_FALSE(std::filesystem::exists(hot.out_dir + "/series.h5"));
}

TEST(PairModel, TemperatureOutsideTheGlassRangeIsRefused) {
  for (double T : {0.0, -5.0, 1000.5, 3000.0, std::nan("")}) {
    const std::string msg = error_of([&] { libpdf::metallic_glass_model(T); });
    EXPECT_NE(msg.find("expected 0 < T <= 1000"), std::string::npos) << T << ": " << msg;
  }
  EXPECT_NO_THROW(libpdf::metallic_glass_model(libpdf::kGlassModelMaxTemperatureK));
}

TEST(Example, SmallSeriesFilesAndTruth) {
  const std::string dir = tmp_dir();
  libpdf::ExampleOptions o;
  o.out_dir = dir;
  o.size = 256;
  o.t_start_K = 440;
  o.t_stop_K = 470;
  o.t_step_K = 10;
  o.dark_frames = 2;
  o.threads = 2;
  const auto files = libpdf::write_example_series(o);
  EXPECT_EQ(files.temperatures_K, (std::vector<double>{440, 450, 460, 470}));
  for (const auto& f : {files.series, files.reference, files.dark, files.flat, files.mask, files.poni}) {
    EXPECT_TRUE(fs::exists(f)) << f;
  }
  for (const auto& e : fs::directory_iterator(dir)) {
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
  const auto src = libpdf::open_frames(files.series);
  EXPECT_EQ(src->size(), 4u);
  EXPECT_EQ(src->rows(), 256u);
  EXPECT_EQ(src->type(), libpdf::PixelType::u16);
  const auto meta = libpdf::read_metadata(files.series);
  EXPECT_DOUBLE_EQ(meta.require_wavelength_A(), 0.2072);
  EXPECT_NEAR(*meta.distance_m, 0.25, 1e-12);
  EXPECT_NEAR(*meta.pixel1_m, 1.6e-3, 1e-12);
  EXPECT_EQ(meta.temperature_K, files.temperatures_K);
  EXPECT_EQ(libpdf::open_frames(files.dark)->size(), 2u);
  EXPECT_EQ(libpdf::read_mask_image(files.mask).rows, 256u);
  const auto poni = libpdf::read_poni(files.poni);
  EXPECT_NEAR(poni.wavelength_A(), 0.2072, 1e-12);
  // The truth: S of frame 1 equals the model's.
  namespace h5 = libpdf::detail::h5;
  const auto f = h5::File::open(files.series);
  const auto q = f.open_dataset("/entry/simulation/q").read_doubles();
  const auto S = f.open_dataset("/entry/simulation/S").read_doubles({1, 0}, {1, q.size()});
  const auto m = libpdf::metallic_glass_model(450);
  EXPECT_DOUBLE_EQ(S[440], m.S(q[440]));
  EXPECT_EQ(f.open_dataset("/entry/simulation/metrics/q1").read_doubles().size(), 4u);
  // The frame is the simulator's frame, bit for bit (the generator is deterministic).
  const auto frame = src->read(2);
  EXPECT_GT(frame.at(128, 200), 500.0);
}
