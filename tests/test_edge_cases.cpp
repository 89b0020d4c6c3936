// Numerical edge cases (issue 7): frames that are all zero, saturated, one bright pixel, NaN/Inf pixels, sums
// that overflow; empty q bins; a composition of one element; qmax at the detector's and the data's edge; NaN
// and Inf in the patterns a reduction is given. Each has a defined, documented result (docs/hardening.md) or a
// clear error naming what is wrong: NaN must never pass silently into S(q), F(q) or G(r).
// Inputs that once crashed a fuzz target are replayed here too (FuzzRegression), so the normal suite keeps them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/simulate.hpp"
#include "libpdf/transform.hpp"
#include "test_util.hpp"

using namespace libpdf;
using libpdf::test::error_of;
using ::testing::HasSubstr;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// A 64 x 80 panel, beam off-centre, slightly tilted.
Poni panel() {
  Poni p;
  p.version = 2;
  p.detector = {"Edge", 64, 80, 400e-6, 400e-6, 3};
  p.distance_m = 0.08;
  p.poni1_m = 0.011;
  p.poni2_m = 0.013;
  p.rot1 = 0.01;
  p.rot2 = 0.005;
  p.wavelength_m = 0.2e-10;
  return p;
}

const Geometry& geom() {
  static const Geometry g(panel(), 64, 80);
  return g;
}

IntegrationOptions opts(Splitting s = Splitting::bbox) {
  IntegrationOptions o;
  o.npt = 100;
  o.splitting = s;
  return o;
}

bool all_finite(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Frames

// All zeros: I = 0 in every reached bin; the Poisson σ uses var = max(raw, 1), so σ > 0 (not 0, not NaN).
TEST(EdgeFrames, AllZeroFrameGivesZeroIntensityAndFiniteSigma) {
  const Integrator it(geom(), opts());
  const std::vector<std::uint16_t> zero(geom().rows() * geom().cols(), 0);
  const Result1D r = it.integrate(ImageView(zero.data(), geom().rows(), geom().cols()));
  std::size_t reached = 0;
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] == 0) continue;
    ++reached;
    EXPECT_EQ(r.intensity[b], 0.0);
    EXPECT_GT(r.sigma[b], 0.0);
    EXPECT_TRUE(std::isfinite(r.sigma[b]));
  }
  EXPECT_GT(reached, 90u);
}

// A uint16 frame at 65535 everywhere: 2^16 − 1 is the counting detectors' "invalid" marker, so every pixel is
// invalid and the integrator says so (NumericalError), rather than returning a pattern of zeros.
TEST(EdgeFrames, SaturatedUnsignedFrameIsAllInvalidAndSaysSo) {
  const Integrator it(geom(), opts());
  const std::vector<std::uint16_t> sat(geom().rows() * geom().cols(), 65535);
  const std::string msg =
      error_of<NumericalError>([&] { (void)it.integrate(ImageView(sat.data(), geom().rows(), geom().cols())); });
  EXPECT_THAT(msg, HasSubstr("every pixel of the frame is invalid"));
  // With the marker test off, the same frame is a uniform 65535: I is that value over Ω·P (here Ω only).
  IntegrationOptions o = opts();
  o.mask_detector_markers = false;
  o.solid_angle = false;
  const Integrator raw(geom(), o);
  const Result1D r = raw.integrate(ImageView(sat.data(), geom().rows(), geom().cols()));
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] > 0) {
      EXPECT_NEAR(r.intensity[b], 65535.0, 65535.0 * 1e-12);
    }
  }
}

// Saturated float frames: the largest float32 everywhere sums without overflow (sums are double), so I equals
// that value. A float64 frame whose sums overflow is refused with NumericalError instead of returning Inf/NaN.
TEST(EdgeFrames, SaturatedFloatFramesAreExactOrRefused) {
  IntegrationOptions o = opts();
  o.solid_angle = false;
  const Integrator it(geom(), o);
  const float fmax = std::numeric_limits<float>::max();
  const std::vector<float> f32(geom().rows() * geom().cols(), fmax);
  const Result1D r = it.integrate(ImageView(f32.data(), geom().rows(), geom().cols()));
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] > 0) {
      EXPECT_NEAR(r.intensity[b], fmax, fmax * 1e-12);
    }
    EXPECT_TRUE(std::isfinite(r.sigma[b]));
  }
  const std::vector<double> f64(geom().rows() * geom().cols(), std::numeric_limits<double>::max() / 4);
  const std::string msg =
      error_of<NumericalError>([&] { (void)it.integrate(ImageView(f64.data(), geom().rows(), geom().cols())); });
  EXPECT_THAT(msg, HasSubstr("not finite"));
}

// One bright pixel on a zero frame: the signal lands only in the bins its weights name, and their Σc·s is the
// pixel value times its weights (conservation), whatever the splitting.
TEST(EdgeFrames, SingleBrightPixelLandsOnlyInItsBins) {
  for (Splitting s : {Splitting::none, Splitting::bbox, Splitting::full}) {
    SCOPED_TRACE(splitting_name(s));
    const Integrator it(geom(), opts(s));
    std::vector<float> f(geom().rows() * geom().cols(), 0.0f);
    const std::size_t row = 40, col = 23;
    f[row * geom().cols() + col] = 1e6f;
    const Result1D r = it.integrate(ImageView(f.data(), geom().rows(), geom().cols()));
    const auto w = it.pixel_weights(row, col);
    ASSERT_FALSE(w.empty());
    std::vector<double> expected(r.sum_signal.size(), 0.0);
    for (const auto& [bin, weight] : w) expected[bin] += 1e6 * weight;
    for (std::size_t b = 0; b < expected.size(); ++b) {
      // The same stored weights times the same value: equal up to the order of two roundings (1e-12 relative).
      EXPECT_NEAR(r.sum_signal[b], expected[b], 1e6 * 1e-12) << "bin " << b;
    }
    // Fixed-point weights of an in-range pixel sum to exactly one (docs/integration.md): the value is conserved.
    EXPECT_NEAR(std::accumulate(r.sum_signal.begin(), r.sum_signal.end(), 0.0), 1e6, 1e6 * 1e-12);
  }
}

// NaN and ±Inf pixels are invalid pixels: the result equals that of the same frame with those pixels masked,
// and no NaN appears anywhere in it.
TEST(EdgeFrames, NanAndInfPixelsAreMaskedNotPropagated) {
  const Geometry& g = geom();
  std::vector<double> f(g.rows() * g.cols());
  for (std::size_t k = 0; k < f.size(); ++k) f[k] = 100.0 + static_cast<double>(k % 17);
  Corrections c;
  c.mask.assign(f.size(), 0);
  for (std::size_t k = 5; k < f.size(); k += 37) {
    f[k] = (k % 3 == 0) ? kNaN : (k % 3 == 1 ? kInf : -kInf);
    c.mask[k] = 1;
  }
  const Result1D bad = Integrator(g, opts()).integrate(ImageView(f.data(), g.rows(), g.cols()));
  const Result1D masked = Integrator(g, opts(), c).integrate(ImageView(f.data(), g.rows(), g.cols()));
  EXPECT_TRUE(all_finite(bad.intensity));
  EXPECT_TRUE(all_finite(bad.sigma));
  for (std::size_t b = 0; b < bad.intensity.size(); ++b) {
    EXPECT_NEAR(bad.intensity[b], masked.intensity[b], 1e-12 * std::fabs(masked.intensity[b])) << "bin " << b;
  }
  // A frame of NaN only: a clear error, not a pattern of NaN.
  const std::vector<float> nan(f.size(), std::numeric_limits<float>::quiet_NaN());
  EXPECT_THAT(error_of<NumericalError>([&] { (void)Integrator(g, opts()).integrate(ImageView(nan.data(), g.rows(), g.cols())); }),
              HasSubstr("NaN/Inf"));
}

// ---------------------------------------------------------------------------------------------------
// Bins

// Bins no pixel reaches (a radial range beyond the detector's corner) hold `empty` (default 0) with σ = 0 and
// count = 0; empty = NaN marks them NaN, and reduce() then refuses the pattern naming the q (it never
// transforms a NaN).
TEST(EdgeBins, EmptyBinsHoldTheEmptyValueAndReduceRefusesNaN) {
  const Geometry& g = geom();
  const auto q = g.q_array();
  const double qmax_det = *std::max_element(q.begin(), q.end());
  IntegrationOptions o = opts();
  o.radial_range = Range{0.5, 2.0 * qmax_det};  // the upper half of the bins is beyond every pixel
  const std::vector<float> f(g.rows() * g.cols(), 50.0f);
  const Result1D r0 = Integrator(g, o).integrate(ImageView(f.data(), g.rows(), g.cols()));
  std::size_t empty_bins = 0;
  for (std::size_t b = 0; b < r0.count.size(); ++b) {
    if (r0.count[b] > 0) continue;
    ++empty_bins;
    EXPECT_EQ(r0.intensity[b], 0.0);
    EXPECT_EQ(r0.sigma[b], 0.0);
  }
  EXPECT_GT(empty_bins, 40u);
  o.empty = kNaN;
  const Result1D rn = Integrator(g, o).integrate(ImageView(f.data(), g.rows(), g.cols()));
  std::size_t nan_bins = 0;
  for (std::size_t b = 0; b < rn.count.size(); ++b) nan_bins += std::isnan(rn.intensity[b]) ? 1 : 0;
  EXPECT_EQ(nan_bins, empty_bins);

  IntensityPattern p{rn.radial, rn.intensity, rn.sigma};
  ReductionOptions ro;
  ro.composition = Composition("Ni");
  ro.qstep = 0.05;
  const std::string msg = error_of<InvalidArgument>([&] { (void)reduce(p, ro); });
  EXPECT_THAT(msg, HasSubstr("intensity at point"));
  EXPECT_THAT(msg, HasSubstr("nan"));
}

// A radial range wholly outside the detector: no plan (InvalidArgument), not a plan of empty bins.
TEST(EdgeBins, RadialRangeOutsideTheDetectorIsRefused) {
  IntegrationOptions o = opts();
  o.radial_range = Range{500.0, 600.0};
  EXPECT_THAT(error_of<InvalidArgument>([&] { (void)Integrator(geom(), o); }),
              HasSubstr("no pixel reaches the radial range [500.000000, 600.000000]"));
}

// qmax at the detector edge: a range from the smallest to the largest pixel-centre q of Geometry::q_array()
// holds every pixel (closed interval; the plan's own positions may differ from q_array() in the last bits, and
// the ends allow for that), the first and last bins are reached, and every bin is finite.
TEST(EdgeBins, RadialRangeEndingAtTheDetectorEdge) {
  const Geometry& g = geom();
  const auto q = g.q_array();
  IntegrationOptions o = opts(Splitting::none);
  o.radial_range = Range{*std::min_element(q.begin(), q.end()), *std::max_element(q.begin(), q.end())};
  o.npt = 20;
  const std::vector<float> f(g.rows() * g.cols(), 3.0f);
  const Result1D r = Integrator(g, o).integrate(ImageView(f.data(), g.rows(), g.cols()));
  EXPECT_GT(r.count.back(), 0.0);
  EXPECT_GT(r.count.front(), 0.0);
  EXPECT_DOUBLE_EQ(std::accumulate(r.count.begin(), r.count.end(), 0.0), static_cast<double>(f.size()));
  EXPECT_TRUE(all_finite(r.intensity));
}

// ---------------------------------------------------------------------------------------------------
// Reductions

namespace {

// I per atom = ⟨f⟩²(S − 1) + ⟨f²⟩ + I_inc of a glass model on q = q0..q1 (step 0.01), any composition.
IntensityPattern pattern_of(const std::string& formula, double q0 = 0.5, double q1 = 24.0) {
  const PairModel model = metallic_glass_model(300.0);
  IntensityPattern p;
  for (int k = 0;; ++k) {
    const double q = q0 + 0.01 * k;
    if (q > q1 + 1e-9) break;
    p.q.push_back(q);
  }
  const ScatteringFactors sf = scattering_factors(Composition(formula), p.q);
  for (std::size_t j = 0; j < p.q.size(); ++j) {
    p.intensity.push_back(sf.f_mean_sq[j] * (model.S(p.q[j]) - 1) + sf.f2_mean[j] + sf.compton[j]);
  }
  return p;
}

ReductionOptions ropts(const std::string& formula) {
  ReductionOptions o;
  o.composition = Composition(formula);
  o.number_density = 0.06;
  o.rmax = 12.0;
  return o;
}

}  // namespace

// One element: ⟨f⟩² = ⟨f²⟩, so Faber–Ziman and Ashcroft–Langreth S(q) coincide, and the reduction is finite.
TEST(EdgeReduce, SingleElementCompositionConventionsCoincide) {
  const IntensityPattern p = pattern_of("Ni");
  ReductionOptions o = ropts("Ni");
  const ReductionResult fz = reduce(p, o);
  o.convention = StructureFactorConvention::ashcroft_langreth;
  const ReductionResult al = reduce(p, o);
  ASSERT_EQ(fz.sq.size(), al.sq.size());
  for (std::size_t j = 0; j < fz.sq.size(); ++j) {
    EXPECT_NEAR(fz.sq[j], al.sq[j], 1e-12 * std::max(1.0, std::fabs(fz.sq[j]))) << "q = " << fz.q[j];
  }
  EXPECT_TRUE(all_finite(fz.gr));
  EXPECT_TRUE(all_finite(fz.pair_gr));
  EXPECT_EQ(fz.f2_mean, fz.f_mean_sq);  // c = 1: Σc f² and (Σc f)² are the same products
}

// qmax at the last data point, or up to half a step beyond it (printed grids are rounded: documented
// tolerance), is allowed and every array is finite (nothing is extrapolated into NaN); more than half a step
// beyond is an error naming qmax and where the data end.
TEST(EdgeReduce, QmaxAtTheDataEdge) {
  IntensityPattern p = pattern_of("La65Co25Al10");
  p.sigma.assign(p.q.size(), 0.05);
  const double step = p.q[1] - p.q[0];
  ReductionOptions o = ropts("La65Co25Al10");
  for (double beyond : {0.0, 0.4 * step}) {
    SCOPED_TRACE("qmax = last q + " + std::to_string(beyond));
    o.qmax = p.q.back() + beyond;
    const ReductionResult r = reduce(p, o);
    EXPECT_DOUBLE_EQ(r.qmax, *o.qmax);
    for (const auto* v : {&r.sq, &r.sq_sigma, &r.fq, &r.fq_sigma, &r.gr, &r.gr_sigma, &r.pair_gr}) {
      EXPECT_TRUE(all_finite(*v));
    }
  }
  o.qmax = p.q.back() + 0.6 * step;
  const std::string msg = error_of<InvalidArgument>([&] { (void)reduce(p, o); });
  EXPECT_THAT(msg, HasSubstr("qmax"));
  EXPECT_THAT(msg, HasSubstr("beyond the data"));
}

// An all-zero pattern has no normalisation: every method says so (NumericalError), none returns NaN.
TEST(EdgeReduce, AllZeroPatternIsANumericalError) {
  IntensityPattern p = pattern_of("Ni");
  std::fill(p.intensity.begin(), p.intensity.end(), 0.0);
  for (Normalization n : {Normalization::high_q, Normalization::krogh_moe_norman, Normalization::ad_hoc}) {
    SCOPED_TRACE(normalization_name(n));
    ReductionOptions o = ropts("Ni");
    o.normalization = n;
    EXPECT_FALSE(error_of<NumericalError>([&] { (void)reduce(p, o); }).empty());
  }
}

// NaN or Inf anywhere in the sample, its σ or a background: InvalidArgument naming the point, before any
// arithmetic.
TEST(EdgeReduce, NanOrInfInAnyInputIsRefusedByName) {
  const IntensityPattern good = pattern_of("Ni");
  const ReductionOptions o = ropts("Ni");
  for (double bad : {kNaN, kInf, -kInf}) {
    IntensityPattern p = good;
    p.intensity[123] = bad;
    EXPECT_THAT(error_of<InvalidArgument>([&] { (void)reduce(p, o); }), HasSubstr("point 124"));
    p = good;
    p.sigma.assign(p.q.size(), 1.0);
    p.sigma[7] = bad;
    EXPECT_THAT(error_of<InvalidArgument>([&] { (void)reduce(p, o); }), HasSubstr("sigma at point 8"));
    IntensityPattern bkg = good;
    bkg.intensity[50] = bad;
    EXPECT_THAT(error_of<InvalidArgument>([&] { (void)reduce(good, &bkg, o); }), HasSubstr("point 51"));
  }
}

// ---------------------------------------------------------------------------------------------------
// Compositions and text patterns

TEST(EdgeComposition, SingleElementAndDegenerateFormulas) {
  const Composition c("Fe");
  ASSERT_EQ(c.components().size(), 1u);
  EXPECT_EQ(c.components()[0].fraction, 1.0);
  EXPECT_EQ(Composition("Fe0.5").components()[0].fraction, 1.0);  // amounts are normalised
  EXPECT_THAT(error_of<InvalidArgument>([] { Composition("Fe0"); }), HasSubstr("zero"));
  EXPECT_FALSE(error_of<InvalidArgument>([] { Composition(""); }).empty());
  EXPECT_FALSE(error_of<InvalidArgument>([] { Composition("Fe-1"); }).empty());
  EXPECT_FALSE(error_of<InvalidArgument>([] { Composition("Fe1e999"); }).empty());
}

TEST(EdgeTextPattern, NonFiniteValuesAreRefusedByLine) {
  EXPECT_THAT(error_of<IoError>([] { (void)parse_text_pattern("1 2\n2 nan\n", "p.xy"); }), HasSubstr("line 2"));
  EXPECT_THAT(error_of<IoError>([] { (void)parse_text_pattern("1 2\n2 inf\n", "p.xy"); }), HasSubstr("line 2"));
  EXPECT_THAT(error_of<IoError>([] { (void)parse_text_pattern("1 2 -1\n", "p.xy"); }), HasSubstr("line 1"));
}

// ---------------------------------------------------------------------------------------------------
// Transform

// F = 0 gives G = 0 exactly (no rounding residue from the FFT poses as signal).
TEST(EdgeTransform, ZeroInZeroOut) {
  TransformOptions o;
  o.qmax = 20;
  o.rmax = 10;
  const SineTransform t(o);
  const auto G = t.forward(std::vector<double>(t.nq(), 0.0));
  EXPECT_TRUE(std::all_of(G.begin(), G.end(), [](double x) { return x == 0.0; }));
}

// ---------------------------------------------------------------------------------------------------
// Parser hardening: inputs that broke an invariant of a fuzz target (fuzz/), kept here so the ordinary suite
// (and its ASan/UBSan build) replays them. The same inputs are in fuzz/regressions/<target>/.

// normalized_formula() writes tiny fractions with an exponent ("H1e-07O1"); the parser must read them back.
TEST(FuzzRegression, CompositionNormalizedFormulaWithExponentParses) {
  const Composition c("HO10000000");
  const std::string f = c.normalized_formula();
  EXPECT_THAT(f, HasSubstr("e-"));
  const Composition again(f);
  ASSERT_EQ(again.components().size(), 2u);
  EXPECT_NEAR(again.components()[0].fraction, c.components()[0].fraction, 1e-6 * c.components()[0].fraction);
  EXPECT_NEAR(Composition("Fe1e-3Ni").components()[0].fraction, 1e-3 / 1.001, 1e-15);
  // A lone 'e' is still an error, and upper-case E starts an element (Eu), not an exponent.
  EXPECT_FALSE(error_of<InvalidArgument>([] { Composition("Fe2e"); }).empty());
  EXPECT_EQ(Composition("Fe2Eu").components().size(), 2u);
}

// Amounts multiplied through nested groups overflow to Inf (all fractions NaN); parentheses nested without
// bound exhaust the stack. Both are errors naming the problem.
TEST(FuzzRegression, CompositionOverflowAndDeepNesting) {
  std::string nested = "H";
  for (int k = 0; k < 40; ++k) nested = "(" + nested + ")99999999";
  EXPECT_THAT(error_of<InvalidArgument>([&] { Composition c(nested); }), HasSubstr("nested deeper than 32"));
  std::string big = "H";
  for (int k = 0; k < 30; ++k) big = "(" + big + ")1" + std::string(20, '0');
  EXPECT_THAT(error_of<InvalidArgument>([&] { Composition c(big); }), HasSubstr("not a finite number"));
  EXPECT_THAT(error_of<InvalidArgument>([] { Composition c("H1" + std::string(308, '0') + "O1" + std::string(308, '0')); }),
              HasSubstr("finite sum"));
}

// max_shape holding NaN, 1e30 or 2.5 was cast to an integer (undefined behaviour); nested arrays recursed
// without bound; a version-2 PONI's orientation was dropped by format_poni.
TEST(FuzzRegression, PoniMaxShapeNestingAndOrientation) {
  const std::string head = "poni_version: 2\nDetector: Detector\nDistance: 0.1\nPoni1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\n"
                           "Rot3: 0\nDetector_config: {\"pixel1\": 1e-4, \"pixel2\": 1e-4, ";
  for (const char* shape : {"[nan, 5]", "[1e30, 5]", "[2.5, 5]", "[5, inf]"}) {
    EXPECT_THAT(error_of<InvalidArgument>([&] { (void)parse_poni(head + "\"max_shape\": " + shape + "}\n", "p.poni"); }),
                HasSubstr("whole numbers of pixels"))
        << shape;
  }
  EXPECT_THAT(error_of<InvalidArgument>(
                  [&] { (void)parse_poni(head + "\"x\": " + std::string(50, '[') + std::string(50, ']') + "}\n", "p.poni"); }),
              HasSubstr("nested deeper than 8"));
  const Poni p = parse_poni(head + "\"max_shape\": [4, 5], \"orientation\": 1}\n", "p.poni");
  ASSERT_EQ(p.detector.orientation, 1);
  EXPECT_EQ(parse_poni(format_poni(p), "again").detector.orientation, 1);
}

namespace {

// A little-endian baseline TIFF of one uncompressed uint16 strip whose header claims @p width x @p height.
std::string tiff_claiming(std::uint32_t width, std::uint32_t height) {
  std::string t("II*\0", 4);
  auto u16 = [&](std::uint16_t v) { t.push_back(static_cast<char>(v & 0xff)); t.push_back(static_cast<char>(v >> 8)); };
  auto u32 = [&](std::uint32_t v) { for (int k = 0; k < 4; ++k) t.push_back(static_cast<char>((v >> (8 * k)) & 0xff)); };
  u32(8);  // the IFD follows the header
  const std::uint16_t entries = 9;
  const std::uint32_t data_at = 8 + 2 + entries * 12 + 4;
  u16(entries);
  auto entry = [&](std::uint16_t tag, std::uint16_t type, std::uint32_t value) {
    u16(tag);
    u16(type);
    u32(1);
    if (type == 3) { u16(static_cast<std::uint16_t>(value)); u16(0); } else { u32(value); }
  };
  entry(256, 4, width);
  entry(257, 4, height);
  entry(258, 3, 16);
  entry(259, 3, 1);
  entry(262, 3, 1);
  entry(273, 4, data_at);
  entry(277, 3, 1);
  entry(278, 4, height);
  entry(279, 4, 8);
  u32(0);
  t.append(8, '\x01');  // 8 bytes of pixels, whatever the header says
  return t;
}

}  // namespace

// A 130-byte TIFF claiming 65535 x 65535 pixels made the reader allocate 8 GB before reading a strip (and
// 2^32 x 2^32 x 8 bytes overflows size_t). Now: an IoError naming the file and the claim; a header that
// matches its bytes still reads.
TEST(FuzzRegression, TiffHeaderClaimingMorePixelsThanTheFileHolds) {
  const std::filesystem::path dir = std::filesystem::path(LIBPDF_TEST_TMP) / "fuzz_regression";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "huge.tif").string();
  std::ofstream(path, std::ios::binary) << tiff_claiming(65535, 65535);
  const std::string msg = error_of<IoError>([&] { (void)read_tiff(path); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("65535 x 65535"));
  EXPECT_THAT(msg, HasSubstr("can hold"));
  const std::string ok = (dir / "small.tif").string();
  std::ofstream(ok, std::ios::binary) << tiff_claiming(2, 2);
  const Image img = read_tiff(ok);
  EXPECT_EQ(img.rows(), 2u);
  EXPECT_EQ(img.at(1, 1), 257.0);
  const std::string empty = (dir / "empty.tif").string();
  std::ofstream(empty, std::ios::binary) << tiff_claiming(0, 3);
  EXPECT_FALSE(error_of<IoError>([&] { (void)read_tiff(empty); }).empty());
}
