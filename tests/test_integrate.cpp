// The integration engine against independent references: first principles (flat fields, conservation), a
// brute-force per-pixel evaluation of the stored plan, and a 16x16-supersampled reference for full splitting.
// pyFAI agreement is tested in tests/python (Debian's pyFAI as the oracle).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <random>
#include <thread>
#include <vector>

#include "libpdf/error.hpp"
#include "test_util.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"

using namespace libpdf;
using libpdf::test::error_of;
using ::testing::HasSubstr;

namespace {

// A small tilted flat panel with the beam centre inside it (so χ wraps and every splitting case occurs).
Poni test_poni() {
  Poni p;
  p.version = 2;
  p.detector = {"Test", 180, 200, 200e-6, 200e-6, 3};
  p.distance_m = 0.12;
  p.poni1_m = 0.0171;
  p.poni2_m = 0.0213;
  p.rot1 = 0.012;
  p.rot2 = -0.021;
  p.rot3 = 0.3;
  p.wavelength_m = 0.2e-10;
  return p;
}

const Geometry& geom() {
  static const Geometry g(test_poni(), 180, 200);
  return g;
}

// A smooth ring pattern in q with a gentle χ modulation, in counts.
std::vector<double> ring_frame(const Geometry& g, double scale = 1000.0) {
  std::vector<double> f(g.rows() * g.cols());
  for (std::size_t i = 0; i < g.rows(); ++i)
    for (std::size_t j = 0; j < g.cols(); ++j) {
      const double q = g.q_A(i + 0.5, j + 0.5);
      const double chi = g.chi(i + 0.5, j + 0.5);
      f[i * g.cols() + j] = scale * (1.0 + 0.5 * std::exp(-std::pow((q - 3.0) / 0.3, 2)) +
                                     0.3 * std::exp(-std::pow((q - 5.2) / 0.4, 2))) *
                            (1.0 + 0.05 * std::cos(chi));
    }
  return f;
}

double rw(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    num += (a[k] - b[k]) * (a[k] - b[k]);
    den += b[k] * b[k];
  }
  return std::sqrt(num / den);
}

// Per-bin sums recomputed from the plan's own per-pixel weights and normalisations, pixel by pixel.
struct Brute {
  std::vector<double> sig, var, nrm, cnt;
};
Brute brute(const Integrator& it, const std::vector<double>& frame, const std::vector<float>& dark = {}) {
  const std::size_t nb = it.radial().size();
  Brute b{std::vector<double>(nb), std::vector<double>(nb), std::vector<double>(nb), std::vector<double>(nb)};
  for (std::size_t i = 0; i < it.rows(); ++i)
    for (std::size_t j = 0; j < it.cols(); ++j) {
      const double raw = frame[i * it.cols() + j];
      if (!std::isfinite(raw)) continue;
      const double s = raw - (dark.empty() ? 0.0 : dark[i * it.cols() + j]);
      const double n = it.pixel_normalization(i, j);
      for (const auto& [bin, c] : it.pixel_weights(i, j)) {
        b.sig[bin] += c * s;
        b.var[bin] += c * c * std::max(raw, 1.0);
        b.nrm[bin] += c * n;
        b.cnt[bin] += c;
      }
    }
  return b;
}


}  // namespace

class AllSplittings : public ::testing::TestWithParam<Splitting> {};

TEST_P(AllSplittings, FrameEqualToSolidAnglePolarisationIntegratesFlat) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 150;
  o.splitting = GetParam();
  o.polarization_factor = 0.97;
  o.sensor = Sensor{0.3e-3, 0.5e-3};
  o.normalization_factor = 2.5;
  const Integrator it(g, o);
  std::vector<double> f(g.rows() * g.cols());
  for (std::size_t i = 0; i < g.rows(); ++i)
    for (std::size_t j = 0; j < g.cols(); ++j)
      f[i * g.cols() + j] = 7.0 * g.solid_angle(i, j) * g.polarization(i, j, 0.97) *
                            g.sensor_efficiency(i, j, *o.sensor) * 2.5;
  const Result1D r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] == 0) continue;
    // Every pixel holds exactly 7·n; the only error is n being stored as float32.
    EXPECT_NEAR(r.intensity[b], 7.0, 7.0 * 2e-7) << "bin " << b;
  }
}

TEST_P(AllSplittings, CountsAreConservedAndWeightsSumToOne) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 120;
  o.splitting = GetParam();
  o.solid_angle = false;
  const Integrator it(g, o);
  const auto f = ring_frame(g);
  const Result1D r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  double total = 0, binned = 0, count = 0;
  for (double v : f) total += v;
  for (double v : r.sum_signal) binned += v;
  for (double v : r.count) count += v;
  EXPECT_NEAR(binned, total, 1e-11 * total);  // fixed-point weights sum to exactly one per pixel
  EXPECT_NEAR(count, static_cast<double>(g.rows() * g.cols()), 1e-9);
  for (std::size_t i = 0; i < g.rows(); i += 7)
    for (std::size_t j = 0; j < g.cols(); j += 5) {
      double s = 0;
      for (const auto& bw : it.pixel_weights(i, j)) s += bw.second;
      EXPECT_NEAR(s, 1.0, 1e-12) << i << "," << j;
    }
}

TEST_P(AllSplittings, KernelEqualsBruteForceOverThePlan) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 97;
  o.splitting = GetParam();
  o.polarization_factor = 0.9;
  o.radial_range = Range{1.0, 6.0};  // bins beyond the detector edge and pixels cut by the range
  Corrections c;
  c.dark.assign(g.rows() * g.cols(), 3.5f);
  c.mask.assign(g.rows() * g.cols(), 0);
  for (std::size_t k = 0; k < c.mask.size(); k += 13) c.mask[k] = 1;
  const Integrator it(g, o, c);
  auto f = ring_frame(g);
  f[500] = std::numeric_limits<double>::quiet_NaN();  // removed dynamically
  f[4321] = std::numeric_limits<double>::infinity();
  const Result1D r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  const Brute b = brute(it, f, c.dark);
  for (std::size_t k = 0; k < r.intensity.size(); ++k) {
    EXPECT_NEAR(r.sum_signal[k], b.sig[k], 1e-9 * (1 + std::fabs(b.sig[k])));
    EXPECT_NEAR(r.sum_variance[k], b.var[k], 1e-9 * (1 + b.var[k]));
    EXPECT_NEAR(r.sum_normalization[k], b.nrm[k], 1e-9 * (1 + b.nrm[k]));
    EXPECT_NEAR(r.count[k], b.cnt[k], 1e-9);
    if (b.cnt[k] > 0) {
      EXPECT_NEAR(r.intensity[k], b.sig[k] / b.nrm[k], 1e-9 * std::fabs(r.intensity[k]));
      EXPECT_NEAR(r.sigma[k], std::sqrt(b.var[k]) / b.nrm[k], 1e-9 * r.sigma[k]);
    } else {
      EXPECT_EQ(r.intensity[k], 0.0);
      EXPECT_EQ(r.sigma[k], 0.0);
    }
  }
}

TEST_P(AllSplittings, ResultsDoNotDependOnThreadsAndPlanIsThreadSafe) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 200;
  o.splitting = GetParam();
  o.threads = 1;
  const Integrator one(g, o);
  o.threads = 2;
  const Integrator two(g, o);
  const auto f = ring_frame(g);
  const ImageView v(f.data(), g.rows(), g.cols());
  const Result1D a = one.integrate(v);
  const Result1D b = two.integrate(v);
  EXPECT_EQ(a.sum_signal, b.sum_signal);  // bit for bit
  EXPECT_EQ(a.intensity, b.intensity);
  std::vector<Result1D> got(4);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) pool.emplace_back([&, t] { got[t] = two.integrate(v); });
  for (auto& th : pool) th.join();
  for (const auto& x : got) {
    EXPECT_EQ(x.intensity, a.intensity);
    EXPECT_EQ(x.sigma, a.sigma);
  }
}

INSTANTIATE_TEST_SUITE_P(Integrator, AllSplittings,
                         ::testing::Values(Splitting::none, Splitting::bbox, Splitting::full),
                         [](const ::testing::TestParamInfo<Splitting>& p) { return std::string(splitting_name(p.param)); });

TEST(Integrator, FullSplittingMatchesSupersampledReference) {
  // Reference: each pixel cut into 16 x 16 sub-pixels, each sub-pixel's centre binned whole (weight 1/256).
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 80;
  o.unit = RadialUnit::tth_deg;
  o.splitting = Splitting::full;
  o.solid_angle = false;
  const Integrator it(g, o);
  const auto& e = it.radial_edges();
  const double lo = e.front(), d = (e.back() - e.front()) / 80.0;
  std::vector<double> ref(80, 0.0), mine(80, 0.0);
  const int S = 16;
  for (std::size_t i = 0; i < g.rows(); ++i)
    for (std::size_t j = 0; j < g.cols(); ++j) {
      if (i < 2 || j < 2) continue;  // keep away from range-clipped pixels: compare in-range ones only
      for (int a = 0; a < S; ++a)
        for (int b = 0; b < S; ++b) {
          const double t = g.tth(i + (a + 0.5) / S, j + (b + 0.5) / S) * 180.0 / M_PI;
          const auto bin = static_cast<std::size_t>(std::clamp((t - lo) / d, 0.0, 79.0));
          ref[bin] += 1.0 / (S * S);
        }
      for (const auto& [bin, c] : it.pixel_weights(i, j)) mine[bin] += c;
    }
  // The sub-pixel histogram misplaces at most ~1/16 of a pixel's area per bin edge it crosses; over a bin that
  // holds hundreds of pixels this is well below 1e-3.
  EXPECT_LT(rw(mine, ref), 1e-3);
  // And it must be far better than no splitting at all.
  o.splitting = Splitting::none;
  const Integrator nosplit(g, o);
  std::vector<double> whole(80, 0.0);
  for (std::size_t i = 2; i < g.rows(); ++i)
    for (std::size_t j = 2; j < g.cols(); ++j)
      for (const auto& [bin, c] : nosplit.pixel_weights(i, j)) whole[bin] += c;
  EXPECT_LT(rw(mine, ref), 0.5 * rw(whole, ref));
}

// Plans with bins much narrower than a pixel: pixels reaching more than 4 bins ("wide", the kernels' separate
// path), and above 32767 bins the plan's 32-bit pixel headers.
TEST_P(AllSplittings, WidePixelsAndLargeBinCountsEqualBruteForce) {
  const Geometry& g = geom();
  for (const std::size_t npt : {2000u, 40000u}) {
    if (npt == 40000 && GetParam() == Splitting::full) continue;  // slow to build; headers as for bbox
    IntegrationOptions o;
    o.npt = npt;
    o.splitting = GetParam();
    o.polarization_factor = 0.9;
    Corrections c;
    c.mask.assign(g.rows() * g.cols(), 0);
    for (std::size_t k = 0; k < c.mask.size(); k += 17) c.mask[k] = 1;
    const Integrator it(g, o, c);
    auto f = ring_frame(g);
    f[777] = std::numeric_limits<double>::quiet_NaN();
    const Result1D r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
    const Brute b = brute(it, f);
    if (GetParam() != Splitting::none) {
      EXPECT_GT(it.stats().entries, 5 * it.stats().valid_pixels) << npt;  // most pixels are wide
    }
    for (std::size_t k = 0; k < r.intensity.size(); ++k) {
      ASSERT_NEAR(r.sum_signal[k], b.sig[k], 1e-9 * (1 + std::fabs(b.sig[k]))) << npt << " bin " << k;
      ASSERT_NEAR(r.sum_variance[k], b.var[k], 1e-9 * (1 + b.var[k])) << npt << " bin " << k;
      ASSERT_NEAR(r.count[k], b.cnt[k], 1e-9) << npt << " bin " << k;
    }
  }
}

// The vector kernel (where the CPU has AVX2) and the portable one (LIBPDF_NO_SIMD, read when a plan is built)
// give the same sums to rounding and the same counts exactly, for every splitting, both error models they
// share, invalid and rejected pixels, wide pixels and both header widths.
TEST_P(AllSplittings, VectorAndPortableKernelsAgree) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) GTEST_SKIP() << "no AVX2: one kernel only";
#else
  GTEST_SKIP() << "not x86-64: one kernel only";
#endif
  const Geometry& g = geom();
  const std::size_t n = g.rows() * g.cols();
  auto f = ring_frame(g, 300.0);
  std::vector<std::uint16_t> u16(n);
  for (std::size_t k = 0; k < n; ++k) u16[k] = static_cast<std::uint16_t>(std::lround(f[k]));
  for (std::size_t k = 5; k < n; k += 101) {
    f[k] = std::numeric_limits<double>::quiet_NaN();
    u16[k] = 65535;  // the detector marker
  }
  u16[4000] = 60000;  // a hot pixel for the sigma clip
  Corrections c;
  c.mask.assign(n, 0);
  for (std::size_t k = 0; k < n; k += 23) c.mask[k] = 1;
  c.dark.assign(n, 2.5f);
  for (const std::size_t npt : {97u, 2000u, 40000u}) {
    // Full splitting computes polygon areas for each of ~100 bins a pixel reaches at 40000: slow to build, and the
    // 32-bit headers do not depend on the splitting.
    if (npt == 40000 && GetParam() == Splitting::full) continue;
    for (const ErrorModel em : {ErrorModel::none, ErrorModel::poisson}) {
      IntegrationOptions o;
      o.npt = npt;
      o.splitting = GetParam();
      o.error_model = em;
      const Integrator fast(g, o, c);
      ::setenv("LIBPDF_NO_SIMD", "1", 1);
      const Integrator portable(g, o, c);
      ::unsetenv("LIBPDF_NO_SIMD");
      const auto same = [&](const Result1D& a, const Result1D& b, const char* what) {
        ASSERT_EQ(a.count, b.count) << what << " npt " << npt;
        for (std::size_t k = 0; k < a.sum_signal.size(); ++k) {
          ASSERT_NEAR(a.sum_signal[k], b.sum_signal[k], 1e-12 * (1 + std::fabs(b.sum_signal[k]))) << what << " " << k;
          ASSERT_NEAR(a.sum_variance[k], b.sum_variance[k], 1e-12 * (1 + b.sum_variance[k])) << what << " " << k;
        }
      };
      same(fast.integrate(ImageView(f.data(), g.rows(), g.cols())),
           portable.integrate(ImageView(f.data(), g.rows(), g.cols())), "double frame");
      same(fast.integrate(ImageView(u16.data(), g.rows(), g.cols())),
           portable.integrate(ImageView(u16.data(), g.rows(), g.cols())), "uint16 frame");
      const Result1D a = fast.sigma_clip(ImageView(u16.data(), g.rows(), g.cols()), SigmaClipOptions{});
      const Result1D b = portable.sigma_clip(ImageView(u16.data(), g.rows(), g.cols()), SigmaClipOptions{});
      EXPECT_EQ(a.rejected_pixels, b.rejected_pixels);
      if (npt == 97) {
        EXPECT_GT(a.rejected_pixels, 0u);  // narrower bins hold too few pixels to judge one
      }
      same(a, b, "sigma clip");
    }
  }
}

TEST(Integrator, EveryPixelTypeIsReadInPlaceWithTheSameResult) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 100;
  o.mask_detector_markers = false;
  const Integrator it(g, o);
  const auto fd = ring_frame(g, 100.0);
  const std::size_t n = fd.size();
  std::vector<std::uint16_t> u16(n);
  std::vector<std::int16_t> i16(n);
  std::vector<std::uint32_t> u32(n);
  std::vector<std::int32_t> i32(n);
  std::vector<float> f32(n);
  std::vector<double> f64(n);
  for (std::size_t k = 0; k < n; ++k) {
    const auto v = static_cast<std::int16_t>(std::lround(fd[k]));
    u16[k] = static_cast<std::uint16_t>(v);
    i16[k] = v;
    u32[k] = static_cast<std::uint32_t>(v);
    i32[k] = v;
    f32[k] = v;
    f64[k] = v;
  }
  const auto ref = it.integrate(ImageView(f64.data(), g.rows(), g.cols()));
  for (const ImageView& v : {ImageView(u16.data(), g.rows(), g.cols()), ImageView(i16.data(), g.rows(), g.cols()),
                             ImageView(u32.data(), g.rows(), g.cols()), ImageView(i32.data(), g.rows(), g.cols()),
                             ImageView(f32.data(), g.rows(), g.cols())}) {
    const auto r = it.integrate(v);
    EXPECT_EQ(r.intensity, ref.intensity) << pixel_type_name(v.type);
  }
}

TEST(Integrator, DetectorMarkersDummyAndNaNAreInvalid) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 60;
  o.splitting = Splitting::none;
  const Integrator it(g, o);
  const std::size_t n = g.rows() * g.cols();
  std::vector<std::int16_t> lam(n, 10);
  std::vector<std::uint16_t> eig(n, 10);
  std::vector<float> nan(n, 10.0f);
  for (std::size_t k = 0; k < n; k += 3) {
    lam[k] = -1;      // Lambda invalid marker
    eig[k] = 65535;   // 2^16 − 1
    nan[k] = std::numeric_limits<float>::quiet_NaN();
  }
  for (const ImageView& v : {ImageView(lam.data(), g.rows(), g.cols()), ImageView(eig.data(), g.rows(), g.cols()),
                             ImageView(nan.data(), g.rows(), g.cols())}) {
    const auto r = it.integrate(v);
    double total = 0;
    for (std::size_t b = 0; b < r.count.size(); ++b) {
      total += r.count[b];
      if (r.count[b] > 0) {
        EXPECT_NEAR(r.sum_signal[b] / r.count[b], 10.0, 1e-12);
      }
    }
    EXPECT_EQ(total, static_cast<double>(n - (n + 2) / 3));
  }
  // A 12-bit detector marks 4095; the dummy value removes its own pixels.
  o.bit_depth = 12;
  o.dummy = 10.0;
  o.delta_dummy = 0.5;
  const Integrator it12(g, o);
  std::vector<std::uint16_t> d12(n, 100);
  d12[7] = 4095;
  d12[8] = 10;
  d12[9] = 11;  // outside delta_dummy: valid
  double c = 0;
  for (double v : it12.integrate(ImageView(d12.data(), g.rows(), g.cols())).count) c += v;
  EXPECT_EQ(c, static_cast<double>(n - 2));
}

TEST(Integrator, DarkFlatAndPoissonSigma) {
  const Geometry& g = geom();
  const std::size_t n = g.rows() * g.cols();
  Corrections c;
  c.dark.assign(n, 0.0f);
  c.flat.assign(n, 1.0f);
  c.dark_variance.assign(n, 4.0f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.8f, 1.2f);
  for (std::size_t k = 0; k < n; ++k) {
    c.dark[k] = 50.0f * u(rng);
    c.flat[k] = u(rng);
  }
  c.flat[100] = 0.0f;  // flat <= 0: masked
  IntegrationOptions o;
  o.npt = 70;
  o.solid_angle = false;
  const Integrator it(g, o, c);
  std::vector<double> f(n);
  for (std::size_t k = 0; k < n; ++k) f[k] = c.dark[k] + 200.0 * c.flat[k];
  const auto r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] == 0) continue;
    EXPECT_NEAR(r.intensity[b], 200.0, 200.0 * 3e-7);
  }
  EXPECT_TRUE(it.pixel_weights(0, 100).empty());
  EXPECT_EQ(it.pixel_normalization(0, 100), 0.0);
  // σ² = Σc²(max(raw,1) + 4) / (Σc n)², brute-forced over the plan.
  double v = 0, nn = 0;
  const std::size_t bin = 35;
  for (std::size_t i = 0; i < g.rows(); ++i)
    for (std::size_t j = 0; j < g.cols(); ++j)
      for (const auto& [b, cw] : it.pixel_weights(i, j))
        if (b == bin) {
          v += cw * cw * (f[i * g.cols() + j] + 4.0);
          nn += cw * it.pixel_normalization(i, j);
        }
  EXPECT_NEAR(r.sigma[bin], std::sqrt(v) / nn, 1e-10 * r.sigma[bin]);
}

TEST(Integrator, AzimuthalErrorModelMeasuresTheSpread) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 50;
  o.error_model = ErrorModel::azimuthal;
  o.splitting = Splitting::none;
  o.solid_angle = false;
  const Integrator it(g, o);
  const std::size_t n = g.rows() * g.cols();
  std::vector<double> flat(n, 42.0);
  const auto r0 = it.integrate(ImageView(flat.data(), g.rows(), g.cols()));
  for (std::size_t b = 0; b < r0.sigma.size(); ++b) EXPECT_NEAR(r0.sigma[b], 0.0, 1e-6);
  // Alternating ±d about the mean: with no splitting σ = √(Σ(s − Ī)²)/N, computed directly here.
  std::vector<double> f(n);
  for (std::size_t k = 0; k < n; ++k) f[k] = 100.0 + ((k % 2) ? 5.0 : -5.0);
  const auto r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  std::vector<double> s(50), s2(50), cnt(50);
  for (std::size_t i = 0; i < g.rows(); ++i)
    for (std::size_t j = 0; j < g.cols(); ++j)
      for (const auto& [b, cw] : it.pixel_weights(i, j)) {
        s[b] += f[i * g.cols() + j];
        cnt[b] += 1;
      }
  for (std::size_t i = 0; i < g.rows(); ++i)
    for (std::size_t j = 0; j < g.cols(); ++j)
      for (const auto& [b, cw] : it.pixel_weights(i, j)) {
        const double d = f[i * g.cols() + j] - s[b] / cnt[b];
        s2[b] += d * d;
      }
  for (std::size_t b = 0; b < 50; ++b)
    if (cnt[b] > 0) {
      EXPECT_NEAR(r.sigma[b], std::sqrt(s2[b]) / cnt[b], 1e-9);
    }
}

TEST(Integrator, SeveralFramesSumAverageAndMerge) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 90;
  const Integrator it(g, o);
  const auto a = ring_frame(g, 100.0);
  const auto b = ring_frame(g, 300.0);
  std::vector<double> ab(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) ab[k] = a[k] + b[k];
  const ImageView va(a.data(), g.rows(), g.cols()), vb(b.data(), g.rows(), g.cols());
  const auto sum = it.integrate({va, vb}, FrameCombine::sum);
  const auto avg = it.integrate({va, vb}, FrameCombine::average);
  const auto one = it.integrate(ImageView(ab.data(), g.rows(), g.cols()));
  const auto merged = merge(it.integrate(va), it.integrate(vb));
  for (std::size_t k = 0; k < 90; ++k) {
    if (one.count[k] == 0) continue;
    EXPECT_NEAR(sum.intensity[k], one.intensity[k], 1e-12 * one.intensity[k]);
    EXPECT_NEAR(avg.intensity[k], 0.5 * one.intensity[k], 1e-12 * one.intensity[k]);
    EXPECT_NEAR(merged.intensity[k], avg.intensity[k], 1e-12 * avg.intensity[k]);
    EXPECT_NEAR(merged.sigma[k], avg.sigma[k], 1e-12 * avg.sigma[k]);
  }
  EXPECT_EQ(sum.frames, 2u);
  IntegrationOptions other = o;
  other.npt = 91;
  const Integrator it2(g, other);
  EXPECT_THAT(error_of([&] { merge(it.integrate(va), it2.integrate(va)); }), HasSubstr("different bins"));
}

TEST(Integrator, SigmaClipRemovesZingersAndHotPixels) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 60;
  o.splitting = Splitting::bbox;
  const Integrator it(g, o);
  auto f = ring_frame(g, 1000.0);
  const auto clean = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  std::mt19937 rng(11);
  std::uniform_int_distribution<std::size_t> pick(0, f.size() - 1);
  for (int k = 0; k < 40; ++k) f[pick(rng)] *= 200.0;  // zingers
  const auto dirty = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  const auto clipped = it.sigma_clip(ImageView(f.data(), g.rows(), g.cols()), SigmaClipOptions{4.0, 5});
  EXPECT_GT(rw(dirty.intensity, clean.intensity), 0.1);
  // The clean pattern varies by 5 % around each ring (the χ modulation), so a few honest pixels may also go.
  EXPECT_LT(rw(clipped.intensity, clean.intensity), 2e-3);
  EXPECT_GE(clipped.rejected_pixels, 40u);
  EXPECT_LT(clipped.rejected_pixels, 200u);
  EXPECT_THROW(it.sigma_clip(ImageView(f.data(), g.rows(), g.cols()), SigmaClipOptions{0.0, 3}), InvalidArgument);
}

TEST(Integrator, AzimuthRangeKeepsOnlyThatSector) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 40;
  o.splitting = Splitting::none;
  o.azimuth_range_deg = Range{0.0, 90.0};
  const Integrator it(g, o);
  for (std::size_t i = 0; i < g.rows(); i += 3)
    for (std::size_t j = 0; j < g.cols(); j += 3) {
      const double chi = g.chi(i + 0.5, j + 0.5) * 180.0 / M_PI;
      EXPECT_EQ(!it.pixel_weights(i, j).empty(), chi >= 0.0 && chi <= 90.0) << chi;
    }
}

TEST(Integrator, UnitsAreConsistent) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 100;
  o.splitting = Splitting::none;
  o.unit = RadialUnit::q_A;
  const Integrator qa(g, o);
  o.unit = RadialUnit::q_nm;
  const Integrator qn(g, o);
  for (std::size_t b = 0; b < 100; ++b) EXPECT_NEAR(qn.radial()[b], 10.0 * qa.radial()[b], 1e-9);
  // Unknown names are rejected with the accepted list.
  EXPECT_THAT(error_of([] { parse_radial_unit("q_pm"); }), HasSubstr("expected q_A^-1, q_nm^-1, 2th_deg or r_mm"));
  EXPECT_EQ(parse_radial_unit("r_mm"), RadialUnit::r_mm);
  EXPECT_EQ(parse_splitting("full"), Splitting::full);
  EXPECT_EQ(parse_error_model("azimuthal"), ErrorModel::azimuthal);
}

TEST(Integrator, EmptyBinsGetTheEmptyValue) {
  const Geometry& g = geom();
  IntegrationOptions o;
  o.npt = 100;
  o.radial_range = Range{0.0, 40.0};  // far beyond the detector
  o.empty = -1.0;
  const Integrator it(g, o);
  const auto f = ring_frame(g);
  const auto r = it.integrate(ImageView(f.data(), g.rows(), g.cols()));
  EXPECT_EQ(r.count.back(), 0.0);
  EXPECT_EQ(r.intensity.back(), -1.0);
  EXPECT_EQ(r.sigma.back(), 0.0);
}

TEST(Integrator, BadInputGetsClearErrors) {
  const Geometry& g = geom();
  const std::size_t n = g.rows() * g.cols();
  IntegrationOptions o;
  o.npt = 0;
  o.polarization_factor = 2.0;
  const std::string e = error_of([&] { Integrator it(g, o); });
  EXPECT_THAT(e, HasSubstr("npt = 0"));
  EXPECT_THAT(e, HasSubstr("polarization_factor = 2"));  // every bad field at once
  o = IntegrationOptions{};
  o.radial_range = Range{3.0, 3.0};
  EXPECT_THAT(error_of([&] { Integrator it(g, o); }), HasSubstr("expected finite lo < hi"));
  o = IntegrationOptions{};
  Corrections c;
  c.mask.assign(n - 1, 0);
  EXPECT_THAT(error_of([&] { Integrator it(g, o, c); }), HasSubstr("the mask has 35999 pixels"));
  c.mask.assign(n, 1);
  EXPECT_THAT(error_of([&] { Integrator it(g, o, c); }), HasSubstr("every pixel is masked"));
  const Integrator it(g, o);
  std::vector<float> small(10);
  EXPECT_THAT(error_of([&] { it.integrate(ImageView(small.data(), 2, 5)); }), HasSubstr("the frame is 2 x 5"));
  std::vector<float> nan(n, std::numeric_limits<float>::quiet_NaN());
  EXPECT_THROW(it.integrate(ImageView(nan.data(), g.rows(), g.cols())), NumericalError);
  Poni nowl = test_poni();
  nowl.wavelength_m = 0;
  EXPECT_THAT(error_of([&] { Integrator x(Geometry(nowl, 180, 200), o); }), HasSubstr("needs a wavelength"));
}

TEST(Integrator, PlanIsCompactForAPerkinElmerFrame) {
  // 2048² PerkinElmer, 3000 bins, bbox: the plan must hold at most 16 bytes per pixel (pyFAI's CSR: ~30).
  Poni p;
  p.detector = Detector::perkinelmer_xrd1621();
  p.distance_m = 0.4;
  p.poni1_m = 0.2048;
  p.poni2_m = 0.2048;
  p.wavelength_m = 0.2066e-10;
  const Geometry g(p);
  IntegrationOptions o;
  o.npt = 3000;
  o.polarization_factor = 0.99;
  const Integrator it(g, o);
  const auto s = it.stats();
  EXPECT_EQ(s.pixels, 2048u * 2048u);
  EXPECT_LE(static_cast<double>(s.plan_bytes) / static_cast<double>(s.pixels), 16.0);
  EXPECT_GT(s.entries, s.valid_pixels);
}

TEST(Cake, UniformFrameIsFlatAndSignalIsConserved) {
  const Geometry& g = geom();
  for (Splitting sp : {Splitting::none, Splitting::bbox, Splitting::full}) {
    CakeOptions o;
    o.npt = 60;
    o.npt_azim = 36;
    o.splitting = sp;
    o.polarization_factor = 0.95;
    const CakeIntegrator cake(g, o);
    std::vector<double> f(g.rows() * g.cols());
    for (std::size_t i = 0; i < g.rows(); ++i)
      for (std::size_t j = 0; j < g.cols(); ++j) f[i * g.cols() + j] = 9.0 * g.solid_angle(i, j) * g.polarization(i, j, 0.95);
    const auto r = cake.integrate(ImageView(f.data(), g.rows(), g.cols()));
    ASSERT_EQ(r.intensity.size(), 60u * 36u);
    double total = 0, binned = 0;
    for (double v : f) total += v;
    for (std::size_t k = 0; k < r.intensity.size(); ++k) {
      binned += r.sum_signal[k];
      if (r.count[k] > 1e-3) {
        EXPECT_NEAR(r.intensity[k], 9.0, 9.0 * 1e-6) << splitting_name(sp);
      }
    }
    EXPECT_NEAR(binned, total, 1e-5 * total) << splitting_name(sp);  // float32 weights
    EXPECT_NEAR(r.azimuthal_deg.front(), -175.0, 1e-9);
  }
}
