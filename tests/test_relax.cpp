// The relaxation module against known truths:
//  - the models' analytic derivatives against central finite differences;
//  - tan δ(T) curves built here from a known background (exponential or Arrhenius α wing) and a known β peak
//    (Gaussian or Debye) with Gaussian noise: T_β within 2 K and the height within 5 % (the tolerances),
//    noise-free curves recovered to 1e-6; the reported σ against the scatter of a Monte-Carlo ensemble;
//  - an excess wing (a hidden component, no maximum) reported as such, with no peak invented;
//  - DSC heating scans built from an erf step (onset = T_i − σ√(2π)/2 and midpoint = T_i exactly for parallel
//    glass and liquid lines), a Gaussian exotherm of known enthalpy (onset T_p − 2σ, end T_p + 2σ for the tangent
//    construction), and a sub-T_g relaxation exotherm of known area;
//  - readers on the layouts instruments write, and every bad input the issue lists, by type and message;
//  - the annealing series, straight-line fits and sample tables.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/relax.hpp"
#include "libpdf/relax/models.hpp"
#include "test_util.hpp"

using namespace libpdf;
using libpdf::test::error_of;
using ::testing::HasSubstr;

namespace {

constexpr double pi = 3.14159265358979323846;

// ---------------------------------------------------------------------------------------------------------
// Synthetic DMA curves.

struct DmaTruth {
  BackgroundModel background = BackgroundModel::exponential;
  PeakModel peak = PeakModel::gaussian;
  double c = 0.004, a = 0.2, third_bg = 15.0, T_ref = 420.0;  // B(T)
  double h = 0.035, T0 = 331.0, third_peak = 22.0;            // P(T)
  double total(double T) const {
    const double pb[3] = {c, a, third_bg};
    const double pp[3] = {h, T0, third_peak};
    return relax_models::background(background, pb, T_ref, T) + relax_models::peak(peak, pp, T);
  }
};

DmaCurve make_dma(const DmaTruth& t, double noise, unsigned seed, double lo = 290, double hi = 440, double step = 1.0) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, noise);
  DmaCurve c;
  c.source = "synthetic";
  for (double T = lo; T <= hi + 1e-9; T += step) {
    c.temperature_K.push_back(T);
    c.tan_delta.push_back(t.total(T) + (noise > 0 ? g(rng) : 0.0));
  }
  c.frequency_Hz = 1.0;
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic DSC curves (endo up, W/g, 20 K/min).

constexpr double kRate = 20.0;  // K/min

struct DscTruth {
  double g0 = 0.30, g1 = 2e-4;              // glass line g0 + g1 (T − 400)
  double step = 0.08, Ti = 440, sigma = 4;  // erf step
  double exo_H = 5.0, exo_T = 480, exo_sigma = 4;  // exotherm enthalpy (J/g), centre, σ; 0 = none
  double rel_H = 0.0, rel_T = 400, rel_sigma = 15; // sub-T_g relaxation exotherm; 0 = none
  double base(double T) const { return g0 + g1 * (T - 400); }
  double value(double T) const {
    const double beta = kRate / 60.0;
    double v = base(T) + step * 0.5 * std::erfc(-(T - Ti) / (sigma * std::sqrt(2.0)));
    auto gauss = [beta](double H, double T0, double s, double x) {
      return H * beta / (s * std::sqrt(2 * pi)) * std::exp(-0.5 * (x - T0) * (x - T0) / (s * s));
    };
    if (exo_H > 0) v -= gauss(exo_H, exo_T, exo_sigma, T);
    if (rel_H > 0) v -= gauss(rel_H, rel_T, rel_sigma, T);
    return v;
  }
  double onset() const { return Ti - sigma * std::sqrt(2 * pi) / 2; }
  double end() const { return Ti + sigma * std::sqrt(2 * pi) / 2; }
};

DscCurve make_dsc(const DscTruth& t, double noise, unsigned seed, double lo = 350, double hi = 560, double step = 0.25) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> g(0.0, noise);
  DscCurve c;
  c.source = "synthetic";
  for (double T = lo; T <= hi + 1e-9; T += step) {
    c.temperature_K.push_back(T);
    c.heat_flow.push_back(t.value(T) + (noise > 0 ? g(rng) : 0.0));
  }
  c.heating_rate_K_per_min = kRate;
  return c;
}

std::string write_tmp(const std::string& name, const std::string& text) {
  const std::string path = std::string(LIBPDF_TEST_TMP) + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

// =============================================================================================================
// Models

TEST(RelaxModels, DerivativesMatchFiniteDifferences) {
  for (auto bm : {BackgroundModel::exponential, BackgroundModel::arrhenius}) {
    const double p[3] = {0.004, 0.2, bm == BackgroundModel::exponential ? 15.0 : 15000.0};
    for (double T : {300.0, 350.0, 419.0}) {
      double d[3];
      relax_models::background(bm, p, 420.0, T, d);
      for (int k = 0; k < 3; ++k) {
        double pp[3] = {p[0], p[1], p[2]}, pm[3] = {p[0], p[1], p[2]};
        const double e = 1e-6 * std::max(std::abs(p[k]), 1e-3);
        pp[k] += e;
        pm[k] -= e;
        const double fd = (relax_models::background(bm, pp, 420.0, T) - relax_models::background(bm, pm, 420.0, T)) / (2 * e);
        EXPECT_NEAR(d[k], fd, 1e-6 * std::max(1.0, std::abs(fd))) << background_model_name(bm) << " k=" << k;
      }
    }
  }
  for (auto pm_ : {PeakModel::gaussian, PeakModel::debye}) {
    const double p[3] = {0.03, 340.0, pm_ == PeakModel::gaussian ? 22.0 : 6000.0};
    for (double T : {300.0, 335.0, 380.0}) {
      double d[3];
      relax_models::peak(pm_, p, T, d);
      for (int k = 0; k < 3; ++k) {
        double pp[3] = {p[0], p[1], p[2]}, pm[3] = {p[0], p[1], p[2]};
        const double e = 1e-6 * std::abs(p[k]);
        pp[k] += e;
        pm[k] -= e;
        const double fd = (relax_models::peak(pm_, pp, T) - relax_models::peak(pm_, pm, T)) / (2 * e);
        EXPECT_NEAR(d[k], fd, 1e-7 * std::max(1.0, std::abs(fd))) << peak_model_name(pm_) << " k=" << k;
      }
    }
    // The FWHM: half maximum at both ends, by direct evaluation.
    double dfw[3];
    const double fw = relax_models::peak_fwhm(pm_, p, dfw);
    double lo = p[1], hi = p[1];
    while (relax_models::peak(pm_, p, lo) > 0.5 * p[0]) lo -= 1e-4;
    while (relax_models::peak(pm_, p, hi) > 0.5 * p[0]) hi += 1e-4;
    EXPECT_NEAR(fw, hi - lo, 1e-3) << peak_model_name(pm_);
  }
}

// =============================================================================================================
// β relaxation

TEST(BetaRelaxation, NoiseFreeCurveIsRecoveredExactly) {
  const DmaTruth t;
  const auto r = fit_beta_relaxation(make_dma(t, 0.0, 1));
  ASSERT_TRUE(r.peak) << r.verdict;
  EXPECT_EQ(r.verdict, "peak");
  EXPECT_NEAR(r.peak->T_beta_K.value, t.T0, 1e-6);
  EXPECT_NEAR(r.peak->height.value, t.h, 1e-8);
  EXPECT_NEAR(r.peak->fwhm_K.value, 2.3548200450309493 * t.third_peak, 1e-5);
  EXPECT_NEAR(r.peak->background_at_T_beta, t.total(t.T0) - t.h, 1e-8);
  // The local quadratic reads the measured curve at T_β: its curvature bias over ±3 K is below 1e-5 here.
  EXPECT_NEAR(r.peak->tan_delta_at_T_beta.value, t.total(t.T0), 1e-5);
  // The rising background moves the maximum of the sum above T_β: where P' = −B'.
  const double pp[3] = {t.h, t.T0, t.third_peak};
  const double pb[3] = {t.c, t.a, t.third_bg};
  double lo = t.T0, hi = t.T0 + 20;  // bisection on the total's slope
  for (int k = 0; k < 60; ++k) {
    const double m = 0.5 * (lo + hi);
    double dp[3];
    relax_models::peak(t.peak, pp, m, dp);
    const double dPdT = -dp[1];  // a Gaussian depends on T − T_β only
    const double dBdT = (relax_models::background(t.background, pb, t.T_ref, m + 1e-5) -
                         relax_models::background(t.background, pb, t.T_ref, m - 1e-5)) / 2e-5;
    (dPdT + dBdT > 0 ? lo : hi) = m;
  }
  EXPECT_GT(r.peak->T_max_K, t.T0);
  EXPECT_NEAR(r.peak->T_max_K, lo, 0.011);  // the 0.01 K grid
  // Default range: up to where tan δ exceeds 0.2.
  EXPECT_LT(r.range.hi_K, 420.0);
  EXPECT_GT(t.total(r.range.hi_K + 1), 0.2);
}

struct BetaCase {
  const char* name;
  DmaTruth truth;
  BetaFitOptions options;
};

TEST(BetaRelaxation, KnownPeakAndBackgroundWithNoise) {
  std::vector<BetaCase> cases;
  {
    BetaCase c{"exponential + gaussian, the as-cast La65Co25Al10 shape", {}, {}};
    cases.push_back(c);
  }
  {
    BetaCase c{"exponential + gaussian, small peak at 383 K", {}, {}};
    c.truth.T_ref = 470;
    c.truth.T0 = 383;
    c.truth.h = 0.0095;
    c.truth.third_peak = 20;
    cases.push_back(c);
  }
  {
    BetaCase c{"arrhenius + debye", {}, {}};
    c.truth.background = BackgroundModel::arrhenius;
    c.truth.third_bg = 15000;  // E_α/k (K)
    c.truth.peak = PeakModel::debye;
    c.truth.T0 = 340;
    c.truth.h = 0.03;
    c.truth.third_peak = 6000;  // E_β/k (K): FWHM about 50 K
    c.options.background = BackgroundModel::arrhenius;
    c.options.peak = PeakModel::debye;
    cases.push_back(c);
  }
  for (const auto& c : cases) {
    for (unsigned seed : {11u, 12u, 13u}) {
      const double noise = 0.01 * c.truth.h;  // 1 % of the peak height, about what DMA gives at 1 Hz
      const auto r = fit_beta_relaxation(make_dma(c.truth, noise, seed, 290, 480), c.options);
      ASSERT_TRUE(r.peak) << c.name << ": " << r.verdict;
      EXPECT_NEAR(r.peak->T_beta_K.value, c.truth.T0, 2.0) << c.name;
      EXPECT_NEAR(r.peak->height.value, c.truth.h, 0.05 * c.truth.h) << c.name;
      EXPECT_GT(r.peak->T_beta_K.sigma, 0) << c.name;
      EXPECT_NEAR(r.noise_sigma, noise, 0.3 * noise) << c.name;
      // The measured tan δ at T_β: the truth within its σ (4σ to keep the test stable).
      EXPECT_NEAR(r.peak->tan_delta_at_T_beta.value, c.truth.total(r.peak->T_beta_K.value),
                  4 * r.peak->tan_delta_at_T_beta.sigma + 1e-6)
          << c.name;
      if (c.options.peak == PeakModel::debye) {
        ASSERT_TRUE(r.peak->activation_energy_eV);
        EXPECT_NEAR(r.peak->activation_energy_eV->value, 6000 * relax_models::k_B_eV, 0.1 * 6000 * relax_models::k_B_eV);
      }
    }
  }
}

TEST(BetaRelaxation, ReportedSigmaMatchesMonteCarloScatter) {
  const DmaTruth t;
  const double noise = 5e-4;
  const int runs = 60;
  std::vector<double> Tb, h;
  double sigma_T = 0, sigma_h = 0;
  for (int k = 0; k < runs; ++k) {
    const auto r = fit_beta_relaxation(make_dma(t, noise, 100u + static_cast<unsigned>(k)));
    ASSERT_TRUE(r.peak);
    Tb.push_back(r.peak->T_beta_K.value);
    h.push_back(r.peak->height.value);
    sigma_T += r.peak->T_beta_K.sigma / runs;
    sigma_h += r.peak->height.sigma / runs;
  }
  auto sd = [](const std::vector<double>& v) {
    double m = 0, s = 0;
    for (double x : v) m += x / v.size();
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / (v.size() - 1));
  };
  // 60 runs give the scatter to about ±18 % (1/√(2·59)·2): the reported σ must agree within 40 %.
  EXPECT_NEAR(sigma_T / sd(Tb), 1.0, 0.4) << "reported " << sigma_T << " scatter " << sd(Tb);
  EXPECT_NEAR(sigma_h / sd(h), 1.0, 0.4) << "reported " << sigma_h << " scatter " << sd(h);
}

TEST(BetaRelaxation, ExcessWingIsReportedWithoutAPeak) {
  // A component at 370 K too weak to make a maximum on the steep wing: tan δ rises monotonically.
  DmaTruth t;
  t.T0 = 370;
  t.h = 0.01;
  t.third_peak = 25;
  const auto curve = make_dma(t, 1e-4, 5);
  const auto r = fit_beta_relaxation(curve);
  EXPECT_TRUE(r.excess_wing);
  EXPECT_FALSE(r.peak);
  EXPECT_THAT(r.verdict, HasSubstr("excess wing"));
  EXPECT_THAT(r.verdict, HasSubstr("criterion a"));

  // Only the α wing: an excess wing too, and the background fit describes it.
  DmaTruth bare;
  bare.h = 0;
  const auto wing = fit_beta_relaxation(make_dma(bare, 1e-4, 6));
  EXPECT_TRUE(wing.excess_wing);
  EXPECT_FALSE(wing.peak);
  EXPECT_FALSE(wing.fit.has_peak);
  EXPECT_NEAR(wing.fit.parameters[2], bare.third_bg, 0.5);  // the wing's e-folding width w
}

TEST(BetaRelaxation, NoiseBelowThresholdIsNotAPeak) {
  // A flat curve with noise: local maxima exist but none stands 3σ above the noise.
  DmaCurve c;
  c.source = "flat";
  std::mt19937 rng(3);
  std::normal_distribution<double> g(0, 1e-4);
  for (int i = 0; i < 100; ++i) {
    c.temperature_K.push_back(300 + i);
    c.tan_delta.push_back(0.01 + 1e-5 * i + g(rng));
  }
  const auto r = fit_beta_relaxation(c);
  EXPECT_TRUE(r.excess_wing);
  EXPECT_FALSE(r.peak);
}

TEST(BetaRelaxation, BadInput) {
  const DmaTruth t;
  DmaCurve c = make_dma(t, 0, 1);
  // Non-monotonic temperature.
  DmaCurve bad = c;
  std::swap(bad.temperature_K[10], bad.temperature_K[11]);
  EXPECT_THAT(error_of([&] { fit_beta_relaxation(bad); }),
              AllOf(HasSubstr("synthetic"), HasSubstr("does not increase"), HasSubstr("point 11")));
  EXPECT_THROW(fit_beta_relaxation(bad), InvalidArgument);
  // A single point.
  DmaCurve one;
  one.source = "one.csv";
  one.temperature_K = {300};
  one.tan_delta = {0.01};
  EXPECT_THAT(error_of([&] { fit_beta_relaxation(one); }), AllOf(HasSubstr("one.csv"), HasSubstr("1 point")));
  EXPECT_THROW(fit_beta_relaxation(one), InvalidArgument);
  // Too few points in the range.
  BetaFitOptions opt;
  opt.range = TemperatureRange{300, 305};
  EXPECT_THAT(error_of([&] { fit_beta_relaxation(c, opt); }),
              AllOf(HasSubstr("6 points"), HasSubstr("[300, 305] K"), HasSubstr("at least 12")));
  // Sizes and finiteness.
  DmaCurve nanc = c;
  nanc.tan_delta[5] = NAN;
  EXPECT_THAT(error_of([&] { fit_beta_relaxation(nanc); }), HasSubstr("point 5 is not finite"));
  nanc = c;
  nanc.tan_delta.pop_back();
  EXPECT_THAT(error_of([&] { fit_beta_relaxation(nanc); }), HasSubstr("151 temperatures but 150 values"));
  // Every bad option at once.
  BetaFitOptions o;
  o.max_tan_delta = -1;
  o.smoothing_K = 0;
  o.range = TemperatureRange{400, 300};
  const std::string msg = error_of([&] { o.validate(); });
  EXPECT_THAT(msg, AllOf(HasSubstr("max_tan_delta = -1"), HasSubstr("smoothing_K = 0"), HasSubstr("range = [400, 300]")));
  EXPECT_THROW(parse_peak_model("lorentz"), InvalidArgument);
  EXPECT_THROW(parse_background_model("vft"), InvalidArgument);
}

// =============================================================================================================
// DSC

TEST(Dsc, GlassTransitionOnsetOnASyntheticStep) {
  DscTruth t;
  t.exo_H = 0;
  for (unsigned seed : {1u, 2u, 3u}) {
    const auto a = analyze_dsc(make_dsc(t, 2e-3, seed));
    const auto& g = a.glass_transition;
    EXPECT_NEAR(g.onset_K.value, t.onset(), 2.0) << "seed " << seed;
    EXPECT_NEAR(g.midpoint_K.value, t.Ti, 2.0);
    EXPECT_NEAR(g.end_K.value, t.end(), 2.0);
    EXPECT_NEAR(g.inflection_K, t.Ti, 1.0);
    EXPECT_NEAR(g.step_height, t.step, 0.05 * t.step);
    ASSERT_TRUE(g.delta_cp);
    EXPECT_NEAR(*g.delta_cp, t.step / (kRate / 60), 0.05 * t.step / (kRate / 60));  // J/(g K)
    EXPECT_GT(g.onset_K.sigma, 0);
    EXPECT_LT(g.onset_K.sigma, 1.0);
    EXPECT_TRUE(a.exotherms.empty());
  }
  // Noise-free: the construction's own error (tangent fitted over ±σ/2 of an erf) is below 0.2 K.
  const auto exact = analyze_dsc(make_dsc(t, 0, 1));
  EXPECT_NEAR(exact.glass_transition.onset_K.value, t.onset(), 0.2);
  EXPECT_NEAR(exact.glass_transition.midpoint_K.value, t.Ti, 0.05);
}

TEST(Dsc, ExothermicTransitionPeak) {
  const DscTruth t;  // step at 440 K, exotherm of 5 J/g at 480 K
  for (unsigned seed : {4u, 5u}) {
    const auto a = analyze_dsc(make_dsc(t, 1e-3, seed));
    EXPECT_NEAR(a.glass_transition.onset_K.value, t.onset(), 2.0);
    ASSERT_EQ(a.exotherms.size(), 1u);
    const auto& p = a.exotherms.front();
    EXPECT_NEAR(p.peak_K, t.exo_T, 0.5);
    // Tangent construction on a Gaussian: onset at T_p − 2σ, end at T_p + 2σ.
    EXPECT_NEAR(p.onset_K.value, t.exo_T - 2 * t.exo_sigma, 1.0);
    EXPECT_NEAR(p.end_K.value, t.exo_T + 2 * t.exo_sigma, 1.0);
    ASSERT_TRUE(p.enthalpy);
    EXPECT_NEAR(p.enthalpy->value, t.exo_H, 0.03 * t.exo_H);
    EXPECT_GT(p.enthalpy->sigma, 0);
    EXPECT_EQ(a.enthalpy_unit, "J/g");
  }
  // Without a heating rate there is no enthalpy, and a note says why.
  auto c = make_dsc(t, 1e-3, 4);
  c.heating_rate_K_per_min.reset();
  const auto a = analyze_dsc(c);
  ASSERT_EQ(a.exotherms.size(), 1u);
  EXPECT_FALSE(a.exotherms.front().enthalpy);
  EXPECT_FALSE(a.glass_transition.delta_cp);
  EXPECT_THAT(a.notes.front(), HasSubstr("heating rate unknown"));
}

TEST(Dsc, RelaxationEnthalpy) {
  DscTruth t;
  t.exo_H = 0;
  t.rel_H = 2.0;  // J/g released around 390 K, σ 10 K
  t.rel_T = 390;
  t.rel_sigma = 10;
  const auto scan = make_dsc(t, 5e-4, 7);
  DscTruth relaxed = t;
  relaxed.rel_H = 0;
  const auto reference = make_dsc(relaxed, 5e-4, 8);
  const auto two_scan = relaxation_enthalpy(scan, reference, {352, 448});
  EXPECT_NEAR(two_scan.value, 2.0, 0.04);
  EXPECT_GT(two_scan.sigma, 0);
  // One scan, chord across a range that brackets the exotherm and ends before the step.
  DscOptions o;
  o.relaxation_range = TemperatureRange{352, 430};
  o.glass_baseline = TemperatureRange{352, 360};
  const auto a = analyze_dsc(scan, o);
  ASSERT_TRUE(a.relaxation_enthalpy);
  // ±3.8σ: the chord sits on tails of 1e-3 of the depth, and the step adds 1e-4 W/g at 430 K: 2 % tolerance.
  EXPECT_NEAR(a.relaxation_enthalpy->value, 2.0, 0.04 + 0.02 * 2.0);
  // Bad input.
  EXPECT_THAT(error_of([&] { relaxation_enthalpy(scan, reference, {300, 400}); }),
              AllOf(HasSubstr("not covered"), HasSubstr("[300, 400] K")));
  auto norate = scan;
  norate.heating_rate_K_per_min.reset();
  EXPECT_THAT(error_of([&] { relaxation_enthalpy(norate, reference, {360, 400}); }), HasSubstr("heating rate"));
  auto watts = reference;
  watts.heat_flow_unit = "W";
  EXPECT_THAT(error_of([&] { relaxation_enthalpy(scan, watts, {360, 400}); }), HasSubstr("W/g"));
}

TEST(Dsc, BadInput) {
  DscTruth t;
  auto c = make_dsc(t, 1e-3, 1);
  auto bad = c;
  bad.temperature_K[100] = bad.temperature_K[99];
  EXPECT_THAT(error_of([&] { analyze_dsc(bad); }), AllOf(HasSubstr("does not increase"), HasSubstr("point 100")));
  DscCurve few;
  few.source = "few";
  few.temperature_K = {300, 301, 302};
  few.heat_flow = {0, 0, 0};
  EXPECT_THAT(error_of([&] { analyze_dsc(few); }), AllOf(HasSubstr("3 points"), HasSubstr("at least 20")));
  // A flat curve has no step.
  DscCurve flat;
  flat.source = "flat";
  for (int i = 0; i < 200; ++i) {
    flat.temperature_K.push_back(350 + i);
    flat.heat_flow.push_back(0.1);
  }
  EXPECT_THROW(analyze_dsc(flat), NumericalError);
  EXPECT_THAT(error_of([&] { analyze_dsc(flat); }), HasSubstr("no glass-transition step"));
  DscOptions o;
  o.smoothing_K = -1;
  o.peak_search = TemperatureRange{500, 400};
  EXPECT_THAT(error_of([&] { o.validate(); }), AllOf(HasSubstr("smoothing_K = -1"), HasSubstr("peak_search = [500, 400]")));
}

// =============================================================================================================
// Readers

TEST(ReadDma, TaStyleCsvInCelsiusWithModuli) {
  std::string text =
      "Sample: La65Co25Al10 as-cast\n"
      "Frequency: 1 Hz\n"
      "Heating rate: 3 K/min\n"
      "Temperature (°C),Storage Modulus (MPa),Loss Modulus (MPa),Tan Delta\n";
  for (int i = 0; i < 5; ++i) {
    char row[160];
    std::snprintf(row, sizeof row, "%d.0,%.10g,%.10g,%.10g\n", 30 + i, 30000.0 - i, 300.0 + i, (300.0 + i) / (30000.0 - i));
    text += row;
  }
  const auto c = parse_dma(text, "ta.csv");
  ASSERT_EQ(c.temperature_K.size(), 5u);
  EXPECT_DOUBLE_EQ(c.temperature_K[0], 303.15);
  EXPECT_DOUBLE_EQ(c.storage_modulus_Pa[1], 29999e6);
  EXPECT_DOUBLE_EQ(c.loss_modulus_Pa[2], 302e6);
  EXPECT_NEAR(c.tan_delta[3], 303.0 / 29997.0, 1e-11);  // written with 10 digits
  EXPECT_EQ(c.sample, "La65Co25Al10 as-cast");
  ASSERT_TRUE(c.frequency_Hz);
  EXPECT_DOUBLE_EQ(*c.frequency_Hz, 1.0);
  ASSERT_TRUE(c.heating_rate_K_per_min);
  EXPECT_DOUBLE_EQ(*c.heating_rate_K_per_min, 3.0);
}

TEST(ReadDma, NetzschStyleSemicolonsAndDecimalCommas) {
  const std::string text =
      "#SAMPLE:;La50Ni35Al15\n"
      "##Temp./°C;tan δ;Freq./Hz\n"
      "50,0;0,0100;1,0\n50,5;0,0110;2,0\n51,0;0,0120;1,0\n51,5;0,0130;2,0\n52,0;0,0140;1,0\n";
  const auto c = parse_dma(text, "netzsch.txt");
  // Two frequencies: the rows at 1 Hz are kept.
  ASSERT_EQ(c.temperature_K.size(), 3u);
  EXPECT_DOUBLE_EQ(c.temperature_K[1], 51.0 + 273.15);
  EXPECT_DOUBLE_EQ(c.tan_delta[2], 0.014);
  EXPECT_DOUBLE_EQ(*c.frequency_Hz, 1.0);
  CurveReadOptions o;
  o.frequency_Hz = 2.0;
  EXPECT_EQ(parse_dma(text, "netzsch.txt", o).temperature_K.size(), 2u);
  o.frequency_Hz = 10.0;
  EXPECT_THAT(error_of([&] { parse_dma(text, "netzsch.txt", o); }),
              AllOf(HasSubstr("netzsch.txt"), HasSubstr("no row at 10 Hz"), HasSubstr("1, 2 Hz")));
}

TEST(ReadDma, PlainColumnsUnitRowAndModuliOnly) {
  // No names: column 1 temperature (K by the ≥ 150 rule), column 2 tan δ.
  const auto plain = parse_dma("300 0.01\n301 0.011\n302 0.012\n", "plain.txt");
  EXPECT_DOUBLE_EQ(plain.temperature_K[2], 302);
  EXPECT_DOUBLE_EQ(plain.tan_delta[1], 0.011);
  EXPECT_THAT(plain.notes, testing::Contains(HasSubstr("assumed K")));
  // A separate row of units; E' and E'' only: tan δ = E''/E'.
  const auto units = parse_dma("T\tE'\tE''\nK\tGPa\tGPa\n300\t30\t0.3\n310\t29\t0.58\n", "units.tsv");
  EXPECT_DOUBLE_EQ(units.storage_modulus_Pa[0], 30e9);
  EXPECT_DOUBLE_EQ(units.tan_delta[1], 0.02);
  EXPECT_THAT(units.notes, testing::Contains(HasSubstr("E''/E'")));
}

TEST(ReadDma, BadFiles) {
  // No tan δ column: the message names the file and lists the columns found.
  const std::string path = write_tmp("no_tan_delta.csv", "Temperature (K),Storage Modulus (MPa),Frequency (Hz)\n300,3e4,1\n301,3e4,1\n");
  EXPECT_THROW(read_dma(path), IoError);
  EXPECT_THAT(error_of([&] { read_dma(path); }),
              AllOf(HasSubstr(path), HasSubstr("no tan delta column"), HasSubstr("'Storage Modulus (MPa)'")));
  // Non-monotonic temperature: file lines and values.
  const std::string text = "T (K),tan delta\n300,0.01\n301,0.011\n300.5,0.012\n302,0.013\n";
  EXPECT_THAT(error_of([&] { parse_dma(text, "jump.csv"); }),
              AllOf(HasSubstr("jump.csv"), HasSubstr("'T (K)'"), HasSubstr("line 4"), HasSubstr("300.5 K after 301 K")));
  CurveReadOptions sorted;
  sorted.sort_by_temperature = true;
  const auto s = parse_dma(text, "jump.csv", sorted);
  EXPECT_DOUBLE_EQ(s.temperature_K[1], 300.5);
  // A single point.
  EXPECT_THAT(error_of([&] { parse_dma("T (K),tan delta\n300,0.01\n", "single.csv"); }),
              AllOf(HasSubstr("single.csv"), HasSubstr("1 usable data row"), HasSubstr("at least 2")));
  // No data at all, a wrong unit, a missing file.
  EXPECT_THAT(error_of([&] { parse_dma("Temperature,tan delta\n", "empty.csv"); }), HasSubstr("no data row"));
  EXPECT_THAT(error_of([&] { parse_dma("Temperature (s),tan delta\n1,0.1\n2,0.2\n", "unit.csv"); }),
              HasSubstr("no temperature column"));
  EXPECT_THROW(read_dma("/nonexistent/dma.csv"), IoError);
  // Ragged rows.
  EXPECT_THAT(error_of([&] { parse_dma("T (K),tan delta\n300,0.01\n301,0.02,5\n", "ragged.csv"); }),
              AllOf(HasSubstr("line 3"), HasSubstr("3 fields")));
}

TEST(ReadDsc, UnitsSignMassAndRate) {
  // TA style: mW, exo up in the column name, mass in the header, time in minutes.
  std::string text = "Sample: x\nSample mass: 10 mg\nTime (min),Temperature (°C),Heat Flow Exo Up (mW)\n";
  for (int i = 0; i < 30; ++i) {
    char row[120];
    std::snprintf(row, sizeof row, "%.4f,%.2f,%.3f\n", i * 0.05, 100.0 + i, 1.0 + 0.01 * i);
    text += row;
  }
  const auto c = parse_dsc(text, "ta_dsc.csv");
  EXPECT_EQ(c.heat_flow_unit, "W/g");
  // 1 mW on 10 mg = 0.1 W/g, negated (exo up → endo up).
  EXPECT_NEAR(c.heat_flow[0], -0.1, 1e-12);
  EXPECT_DOUBLE_EQ(c.temperature_K[0], 373.15);
  ASSERT_TRUE(c.heating_rate_K_per_min);
  EXPECT_NEAR(*c.heating_rate_K_per_min, 20.0, 1e-9);  // 1 K per 0.05 min, from the time column
  EXPECT_NEAR(c.time_s[1], 3.0, 1e-12);
  // NETZSCH: DSC/(mW/mg), "↑ exo" in the header.
  const auto n = parse_dsc("#EXO:↑ exo\n#Temp./°C;DSC/(mW/mg)\n100,0;0,5\n101,0;0,6\n", "netzsch_dsc.txt");
  EXPECT_EQ(n.heat_flow_unit, "W/g");
  EXPECT_DOUBLE_EQ(n.heat_flow[1], -0.6);
  // Without a mass: W, and enthalpies in J.
  const auto w = parse_dsc("Temperature (K)  Heat Flow (uW)\n400 5\n401 6\n", "w.txt");
  EXPECT_EQ(w.heat_flow_unit, "W");
  EXPECT_DOUBLE_EQ(w.heat_flow[0], 5e-6);
  EXPECT_FALSE(w.heating_rate_K_per_min);
  // Flash DSC: a sample of 150 ng heated at 1000 K/s, heat flow in uW.
  const auto flash = parse_dsc("Heating rate: 1000 K/s\nSample mass: 150 ng\nT (K)\tHeat flow (uW)\n400\t15\n401\t16\n", "flash.txt");
  EXPECT_DOUBLE_EQ(*flash.heating_rate_K_per_min, 60000.0);
  EXPECT_NEAR(flash.heat_flow[0], 15e-6 / 150e-9, 1e-9);  // W/g
}

TEST(ReadDsc, BadFiles) {
  EXPECT_THAT(error_of([&] { parse_dsc("Temperature (K),Heat Flow\n400,1\n401,2\n", "nounit.csv"); }),
              AllOf(HasSubstr("nounit.csv"), HasSubstr("'Heat Flow'"), HasSubstr("no unit")));
  EXPECT_THAT(error_of([&] { parse_dsc("Temperature (K),Weight (mg)\n400,1\n401,2\n", "nohf.csv"); }),
              AllOf(HasSubstr("no heat-flow column"), HasSubstr("'Weight (mg)'")));
  EXPECT_THAT(error_of([&] { parse_dsc("Heating rate: fast\nT (K),HF (W/g)\n400,1\n401,2\n", "rate.csv"); }),
              AllOf(HasSubstr("heating rate 'fast'"), HasSubstr("K/min")));
  CurveReadOptions o;
  o.sample_mass_mg = -2;
  o.frequency_Hz = 0;
  EXPECT_THAT(error_of([&] { o.validate(); }), AllOf(HasSubstr("sample_mass_mg = -2"), HasSubstr("frequency_Hz = 0")));
}

// =============================================================================================================
// Series, lines, tables

TEST(Series, DeltasAndPropagation) {
  std::vector<RelaxationSample> s(3);
  s[0].sample = "as-cast";
  s[0].T_beta_K = ValueSigma{331, 0.3};
  s[0].tan_delta = ValueSigma{0.041, 0.0004};
  s[0].Tg_K = ValueSigma{432, 0.2};
  s[1].sample = "Ta500";
  s[1].annealing_K = 500;
  s[1].T_beta_K = ValueSigma{383, 0.4};
  s[1].tan_delta = ValueSigma{0.013, 0.0002};
  s[1].Tg_K = ValueSigma{485, 0.2};
  s[2].sample = "Ta450";
  s[2].annealing_K = 450;  // an excess wing: no T_β
  const auto a = analyze_annealing_series(s);
  EXPECT_EQ(a.reference_sample, "as-cast");
  ASSERT_EQ(a.points.size(), 3u);
  EXPECT_DOUBLE_EQ(a.points[0].delta_T_beta_K->value, 0);
  EXPECT_DOUBLE_EQ(a.points[1].delta_T_beta_K->value, 52);
  EXPECT_DOUBLE_EQ(a.points[1].delta_T_beta_K->sigma, 0.5);
  EXPECT_NEAR(a.points[1].relative_tan_delta->value, 0.013 / 0.041 - 1, 1e-15);
  EXPECT_NEAR(a.points[1].relative_tan_delta->sigma,
              0.013 / 0.041 * std::hypot(0.0002 / 0.013, 0.0004 / 0.041), 1e-15);
  EXPECT_FALSE(a.points[2].delta_T_beta_K);
  ASSERT_TRUE(a.T_beta_vs_Tg);
  EXPECT_NEAR(a.T_beta_vs_Tg->slope.value, 52.0 / 53.0, 1e-9);
  // The table joins with structure metrics by name.
  const auto table = relaxation_table(s, a);
  EXPECT_EQ(*table.number(1, "delta_T_beta_K"), 52);
  EXPECT_FALSE(table.number(2, "T_beta_K"));
  // Bad series.
  auto two = s;
  two[1].annealing_K.reset();
  EXPECT_THAT(error_of([&] { analyze_annealing_series(two); }), AllOf(HasSubstr("two as-cast"), HasSubstr("Ta500")));
  auto none = s;
  none[0].annealing_K = 300;
  EXPECT_THAT(error_of([&] { analyze_annealing_series(none); }), HasSubstr("no as-cast sample"));
  auto dup = s;
  dup[2].sample = "Ta500";
  EXPECT_THAT(error_of([&] { analyze_annealing_series(dup); }), HasSubstr("'Ta500' appears twice"));
  auto wing = s;
  wing[0].T_beta_K.reset();
  EXPECT_THAT(error_of([&] { analyze_annealing_series(wing); }), HasSubstr("has no T_beta"));
}

TEST(Series, LineFitAgainstMonteCarlo) {
  // y = 2 + 0.5 x with σ_y = 0.3: the reported slope σ against the scatter of 400 fits.
  std::mt19937 rng(9);
  std::normal_distribution<double> g(0, 0.3);
  const std::vector<double> x = {430, 440, 450, 460, 470, 480, 490};
  std::vector<double> slopes;
  // σ_slope = σ_y/√Σ(x − x̄)², Σ(x − x̄)² = 2800.
  const double reported = 0.3 / std::sqrt(2800.0);
  for (int k = 0; k < 400; ++k) {
    std::vector<double> y, sy(x.size(), 0.3);
    for (double xi : x) y.push_back(2 + 0.5 * xi + g(rng));
    const auto f = fit_line(x, y, sy);
    slopes.push_back(f.slope.value);
    // The Birge ratio only ever widens the σ given.
    EXPECT_GE(f.slope.sigma, reported * (1 - 1e-12));
  }
  double m = 0, v = 0;
  for (double s : slopes) m += s / slopes.size();
  for (double s : slopes) v += (s - m) * (s - m) / (slopes.size() - 1);
  EXPECT_NEAR(m, 0.5, 3 * std::sqrt(v / slopes.size()));
  EXPECT_NEAR(std::sqrt(v), reported, 0.15 * reported);
  // Exact data, no σ: exact line; σ from the residuals (0 here).
  const auto exact = fit_line({1, 2, 3}, {3, 5, 7});
  EXPECT_NEAR(exact.slope.value, 2, 1e-12);
  EXPECT_NEAR(exact.intercept.value, 1, 1e-12);
  EXPECT_NEAR(exact.r, 1, 1e-12);
  // The band: σ of the line at x from the covariance; at the weighted mean of x it is σ_y/√n.
  const auto band = fit_line({1, 2, 3, 4}, {1, 2, 3, 4}, {0.5, 0.5, 0.5, 0.5});
  EXPECT_NEAR(band.sigma_at(2.5), 0.5 / 2, 1e-12);
  EXPECT_THROW(fit_line({1, 1, 1}, {1, 2, 3}), NumericalError);
  EXPECT_THAT(error_of([&] { fit_line({1}, {1}); }), HasSubstr("at least 2"));
  EXPECT_THAT(error_of([&] { fit_line({1, 2}, {1, 2, 3}); }), HasSubstr("expected as many"));
}

TEST(Tables, ParseJoinFormat) {
  const auto structure = parse_sample_table(
      "# structure metrics (issue 5 keys)\nsample,r1,r1_sigma,mro_xi\nas-cast,3.71,0.004,7.9\nTa500,3.70,0.004,10.2\nTa600,3.69,0.005,11.0\n",
      "structure.csv");
  EXPECT_EQ(structure.columns.size(), 3u);
  EXPECT_EQ(*structure.number(1, "mro_xi"), 10.2);
  SampleTable relax;
  relax.columns = {"T_beta_K", "annealing_K"};
  relax.samples = {"Ta500", "as-cast", "Ta450"};
  relax.cells = {{"383", "500"}, {"331", ""}, {"", "450"}};
  const auto joined = join_by_sample(relax, structure);
  ASSERT_EQ(joined.samples.size(), 4u);
  EXPECT_EQ(joined.samples[3], "Ta600");
  EXPECT_EQ(*joined.number(0, "r1"), 3.70);
  EXPECT_EQ(*joined.number(1, "T_beta_K"), 331);
  EXPECT_FALSE(joined.number(2, "r1"));
  EXPECT_FALSE(joined.number(3, "T_beta_K"));
  // Round trip through CSV, with a name that needs quoting.
  SampleTable q = joined;
  q.samples[2] = "Ta450, \"slow\"";
  const auto back = parse_sample_table(format_sample_table(q), "roundtrip.csv");
  EXPECT_EQ(back.samples[2], "Ta450, \"slow\"");
  EXPECT_EQ(back.columns, q.columns);
  EXPECT_EQ(back.cells, q.cells);
  // A shared column that disagrees, a missing key, a repeated sample, a non-number.
  SampleTable other;
  other.columns = {"annealing_K"};
  other.samples = {"Ta500"};
  other.cells = {{"510"}};
  EXPECT_THAT(error_of([&] { join_by_sample(relax, other); }),
              AllOf(HasSubstr("'Ta500'"), HasSubstr("'annealing_K'"), HasSubstr("'500'"), HasSubstr("'510'")));
  other.cells = {{"500.0"}};
  EXPECT_NO_THROW(join_by_sample(relax, other));
  EXPECT_THAT(error_of([&] { parse_sample_table("name,r1\na,1\n", "k.csv"); }),
              AllOf(HasSubstr("k.csv"), HasSubstr("no 'sample' column"), HasSubstr("'name'")));
  EXPECT_EQ(parse_sample_table("name,r1\na,1\n", "k.csv", "name").samples[0], "a");
  EXPECT_THAT(error_of([&] { parse_sample_table("sample,r1\na,1\na,2\n", "d.csv"); }),
              AllOf(HasSubstr("line 3"), HasSubstr("'a' appears twice")));
  EXPECT_THAT(error_of([&] { structure.number(0, "nope"); }), HasSubstr("no column 'nope'"));
  SampleTable text;
  text.columns = {"x"};
  text.samples = {"a"};
  text.cells = {{"abc"}};
  EXPECT_THAT(error_of([&] { text.number(0, "x"); }), AllOf(HasSubstr("'abc'"), HasSubstr("expected a number")));
  // Writing is atomic and reads back.
  const std::string path = std::string(LIBPDF_TEST_TMP) + "/joined.csv";
  write_sample_table(path, joined);
  EXPECT_EQ(read_sample_table(path).samples, joined.samples);
}
