// The sine-transform plan against independent references: a direct sine sum in long double on the same
// grid, an analytic transform pair (a Gaussian shell), the exact DST-I inverse (round trip), and the
// direct σ_G formula. Tolerances are stated at each check.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/transform.hpp"

using namespace libpdf;
using ::testing::HasSubstr;

namespace {

constexpr double pi = 3.14159265358979323846;

// G(r) = (2/π) Δq Σ_{j≥1} F_j M_j sin(q_j r), summed in long double: the definition, evaluated directly.
std::vector<double> direct_forward(const std::vector<double>& q, const std::vector<double>& F,
                                   const std::vector<double>& M, const std::vector<double>& r) {
  const long double dq = q[1] - q[0];
  std::vector<double> G(r.size());
  for (std::size_t i = 0; i < r.size(); ++i) {
    long double s = 0;
    for (std::size_t j = 1; j < q.size(); ++j) {
      s += static_cast<long double>(F[j]) * M[j] * std::sin(static_cast<long double>(q[j]) * r[i]);
    }
    G[i] = static_cast<double>(2.0L / static_cast<long double>(pi) * dq * s);
  }
  return G;
}

// A structure-function-like test signal: damped oscillations at several pair distances plus a slow part.
std::vector<double> test_F(const std::vector<double>& q) {
  std::vector<double> F(q.size());
  for (std::size_t j = 0; j < q.size(); ++j) {
    const double x = q[j];
    F[j] = 2.0 * std::exp(-0.004 * x * x) * std::sin(2.5 * x) +
           0.7 * std::exp(-0.01 * x * x) * std::sin(4.1 * x + 0.3) - 0.3 * x * std::exp(-x) + 0.05 * std::sin(11.3 * x);
  }
  return F;
}

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::fabs(x));
  return m;
}

double max_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0;
  for (std::size_t k = 0; k < a.size(); ++k) m = std::max(m, std::fabs(a[k] - b[k]));
  return m;
}

TransformOptions base_options() {
  TransformOptions o;
  o.qmax = 25.0;
  o.qstep = 0.02;
  o.rmin = 0.0;
  o.rmax = 20.0;
  o.rstep = 0.01;
  return o;
}

}  // namespace

TEST(SineTransform, GridIsExactAndQStepNoCoarserThanAsked) {
  TransformOptions o = base_options();
  o.rmin = 0.5;
  const SineTransform plan(o);
  // Δq ≤ requested, and π/(Δq·rstep) an integer: every rstep is a whole number of native steps.
  EXPECT_LE(plan.q_step(), o.qstep);
  EXPECT_GT(plan.q_step(), o.qstep / 1.15);  // the FFT-friendly length is at most 15 % longer
  EXPECT_EQ(plan.fft_length() % 2, 1u);      // N + 1 even: the fast case of FFTW's RODFT00
  const double lr = pi / (plan.q_step() * o.rstep);
  EXPECT_NEAR(lr, std::round(lr), 1e-6);
  EXPECT_NEAR(std::fmod(o.rstep / plan.native_rstep() + 0.5, 1.0), 0.5, 1e-9);
  const auto r = plan.r();
  ASSERT_EQ(r.size(), 1951u);  // 0.5, 0.51, ..., 20.0
  for (std::size_t i = 0; i < r.size(); ++i) EXPECT_DOUBLE_EQ(r[i], (50.0 + static_cast<double>(i)) * 0.01);
  const auto q = plan.q();
  EXPECT_DOUBLE_EQ(q[0], 0.0);
  EXPECT_LE(q.back(), o.qmax + 1e-12);
  EXPECT_GT(q.back() + plan.q_step(), o.qmax);
  // A plan made with the step of an earlier plan keeps it exactly.
  TransformOptions o2 = o;
  o2.qstep = plan.q_step();
  const SineTransform plan2(o2);
  EXPECT_EQ(plan2.q_step(), plan.q_step());
}

TEST(SineTransform, MatchesDirectSineSumForEveryWindow) {
  // Tolerance 1e-10 of max|G|: FFTW's DST-I has a relative error of order 1e-15·log N; 1e-10 leaves room
  // for the long-double reference and is the requirement.
  for (Window w : {Window::none, Window::lorch, Window::cosine}) {
    TransformOptions o = base_options();
    o.window = w;
    o.taper_width = 3.0;
    const SineTransform plan(o);
    const auto q = plan.q();
    const auto F = test_F(q);
    const auto G = plan.forward(F);
    const auto ref = direct_forward(q, F, plan.window(), plan.r());
    EXPECT_LT(max_diff(G, ref), 1e-10 * max_abs(ref)) << window_name(w);
  }
}

TEST(SineTransform, WindowsAreTheirFormulas) {
  const double qmax = 20, w = 4;
  EXPECT_DOUBLE_EQ(window_value(Window::none, 7.3, qmax, w), 1.0);
  EXPECT_NEAR(window_value(Window::lorch, 5.0, qmax, w), std::sin(pi / 4) / (pi / 4), 1e-15);
  EXPECT_DOUBLE_EQ(window_value(Window::lorch, 0.0, qmax, w), 1.0);
  EXPECT_NEAR(window_value(Window::lorch, qmax, qmax, w), 0.0, 1e-15);
  EXPECT_DOUBLE_EQ(window_value(Window::cosine, 16.0, qmax, w), 1.0);
  EXPECT_NEAR(window_value(Window::cosine, 18.0, qmax, w), 0.5, 1e-15);
  EXPECT_NEAR(window_value(Window::cosine, 20.0, qmax, w), 0.0, 1e-15);
  EXPECT_NEAR(window_value(Window::cosine, 19.0, qmax, 0.0), 0.5, 1e-15);  // default w = qmax/10
  EXPECT_DOUBLE_EQ(window_value(Window::none, 20.5, qmax, w), 0.0);
  EXPECT_EQ(parse_window("lorch"), Window::lorch);
  EXPECT_THAT(window_formula(Window::lorch, 20, 0), HasSubstr("sin(pi q/qmax)/(pi q/qmax)"));
  try {
    parse_window("hann");
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("unknown window 'hann'"));
  }
}

TEST(SineTransform, AnalyticGaussianShellPair) {
  // G(r) = A[exp(−(r−r0)²/2s²) − exp(−(r+r0)²/2s²)] and F(q) = ∫₀^∞ G sin(qr) dr = √(2π)·A·s·e^{−q²s²/2}·sin(q r0)
  // form an exact pair. With s = 0.15 Å and qmax = 40 1/Å the truncated part of F is below e^{−18}·√(2π)As ≈ 6e−9·A,
  // and the rectangle rule of this smooth, decaying integrand is exact to rounding (aliases sit at 2π/Δq ≈ 300 Å).
  // Tolerance 1e−7 of the peak height.
  const double A = 1.7, s = 0.15, r0 = 2.45;
  TransformOptions o;
  o.qmax = 40;
  o.qstep = 0.02;
  o.rmin = 0;
  o.rmax = 12;
  o.rstep = 0.005;
  const SineTransform plan(o);
  const auto q = plan.q();
  std::vector<double> F(q.size());
  for (std::size_t j = 0; j < q.size(); ++j) {
    F[j] = std::sqrt(2 * pi) * A * s * std::exp(-0.5 * q[j] * q[j] * s * s) * std::sin(q[j] * r0);
  }
  const auto G = plan.forward(F);
  const auto r = plan.r();
  double err = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    const double exact =
        A * (std::exp(-0.5 * std::pow((r[i] - r0) / s, 2)) - std::exp(-0.5 * std::pow((r[i] + r0) / s, 2)));
    err = std::max(err, std::fabs(G[i] - exact));
  }
  EXPECT_LT(err, 1e-7 * A);
}

TEST(SineTransform, RoundTripRecoversF) {
  // Over the whole native r range the DST-I is its own inverse: F -> G -> F is exact to rounding (1e−12 of max|F|).
  TransformOptions o = base_options();
  o.qstep = 0.05;
  const SineTransform probe(o);
  const double lr = std::round(pi / (probe.q_step() * o.rstep));
  o.qstep = probe.q_step();
  o.rmax = (lr - 1) * o.rstep;
  const SineTransform full(o);
  ASSERT_EQ(full.q_step(), probe.q_step());
  const auto q = full.q();
  const auto F = test_F(q);
  const auto F2 = full.inverse(full.forward(F));
  std::vector<double> F_in(F);
  F_in[0] = 0;
  EXPECT_LT(max_diff(F2, F_in), 1e-12 * max_abs(F));

  // Inside the band, with G kept only on 0..20 Å: a Gaussian shell of width s = 0.3 Å at 2.45 Å (its G is
  // below e^{−36} beyond 5 Å, and its F below e^{−28} at qmax = 25) comes back to 1e−9 of its peak.
  const SineTransform band(base_options());
  const auto qb = band.q();
  std::vector<double> Fb(qb.size());
  for (std::size_t j = 0; j < qb.size(); ++j)
    Fb[j] = std::exp(-0.5 * std::pow(qb[j] * 0.3, 2)) * std::sin(qb[j] * 2.45);
  const auto Fb2 = band.inverse(band.forward(Fb));
  Fb[0] = 0;
  EXPECT_LT(max_diff(Fb2, Fb), 1e-9 * max_abs(Fb));
}

TEST(SineTransform, SigmaMatchesDirectFormula) {
  // σ_G(r)² = (2Δq/π)² Σ_j sin²(q_j r) M_j² σ_j², evaluated directly in long double. The FFT evaluates it as a
  // difference 2[Σu − Σu cos]: absolute error about 1e−16·Σu, hence the tolerance 1e−9 of max σ_G.
  TransformOptions o = base_options();
  o.window = Window::lorch;
  const SineTransform plan(o);
  const auto q = plan.q();
  const auto M = plan.window();
  const auto r = plan.r();
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(0.01, 0.2);
  std::vector<double> sF(q.size());
  for (auto& v : sF) v = u(rng);
  const auto sG = plan.forward_sigma(sF);
  const long double dq = plan.q_step();
  double worst = 0, largest = 0;
  for (std::size_t i = 0; i < r.size(); ++i) {
    long double s = 0;
    for (std::size_t j = 1; j < q.size(); ++j) {
      const long double t = std::sin(static_cast<long double>(q[j]) * r[i]) * M[j] * sF[j];
      s += t * t;
    }
    const double ref = static_cast<double>(2 * dq / static_cast<long double>(pi) * std::sqrt(s));
    worst = std::max(worst, std::fabs(sG[i] - ref));
    largest = std::max(largest, ref);
  }
  EXPECT_LT(worst, 1e-9 * largest);
  EXPECT_EQ(sG[0], 0.0);  // r = 0
}

TEST(SineTransform, SinglePrecisionAgreesWithDouble) {
  // fftwf: relative error of order 1e−7·log N; tolerance 1e−5 of max|G|.
  const TransformOptions o = base_options();
  const SineTransform pd(o);
  const SineTransformF pf(o);
  ASSERT_EQ(pf.nq(), pd.nq());
  const auto F = test_F(pd.q());
  const auto Gd = pd.forward(F);
  std::vector<float> Ff(F.begin(), F.end());
  const auto Gf = pf.forward(Ff);
  std::vector<double> Gfd(Gf.begin(), Gf.end());
  EXPECT_LT(max_diff(Gfd, Gd), 1e-5 * max_abs(Gd));
}

TEST(SineTransform, BatchAndConcurrentCallsEqualSingleCalls) {
  TransformOptions o = base_options();
  o.threads = 2;
  const SineTransform plan(o);
  const auto q = plan.q();
  const std::size_t frames = 37;
  std::vector<double> F(frames * plan.nq());
  for (std::size_t f = 0; f < frames; ++f) {
    const auto row = test_F(q);
    for (std::size_t j = 0; j < q.size(); ++j) F[f * q.size() + j] = row[j] * (1.0 + 0.01 * static_cast<double>(f));
  }
  const auto G = plan.forward_batch(F, frames);
  for (std::size_t f = 0; f < frames; ++f) {
    std::vector<double> row(F.begin() + static_cast<std::ptrdiff_t>(f * plan.nq()),
                            F.begin() + static_cast<std::ptrdiff_t>((f + 1) * plan.nq()));
    const auto g = plan.forward(row);
    for (std::size_t i = 0; i < plan.nr(); ++i) ASSERT_EQ(G[f * plan.nr() + i], g[i]);
  }
  // Four threads transforming at once through one plan, and four more building their own plans meanwhile.
  const auto ref = plan.forward(test_F(q));
  std::vector<int> ok(8, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      bool good = true;
      for (int k = 0; k < 50; ++k) good = good && plan.forward(test_F(q)) == ref;
      ok[static_cast<std::size_t>(t)] = good ? 1 : 0;
    });
    pool.emplace_back([&, t] {
      TransformOptions o2 = base_options();
      o2.rmax = 10.0 + t;
      const SineTransform p2(o2);
      ok[static_cast<std::size_t>(4 + t)] = p2.nr() == static_cast<std::size_t>(1001 + 100 * t) ? 1 : 0;
    });
  }
  for (auto& th : pool) th.join();
  for (int v : ok) EXPECT_EQ(v, 1);
}

TEST(SineTransform, CoarseRStepStillExactForwardButNoInverse) {
  // rstep = 0.2 Å > π/qmax = 0.126 Å: the FFT is lengthened (m native steps per rstep), G stays exact.
  TransformOptions o = base_options();
  o.rstep = 0.2;
  o.rmax = 20;
  const SineTransform plan(o);
  EXPECT_LT(plan.native_rstep(), o.rstep);
  const auto q = plan.q();
  const auto F = test_F(q);
  const auto ref = direct_forward(q, F, plan.window(), plan.r());
  EXPECT_LT(max_diff(plan.forward(F), ref), 1e-10 * max_abs(ref));
  try {
    (void)plan.inverse(std::vector<double>(plan.nr(), 0.0));
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("too coarse"));
  }
}

TEST(SineTransform, MeasurePlanningGivesTheSameResult) {
  // A short transform (FFTW_MEASURE planning of lengths near 30 000 takes many seconds).
  TransformOptions o = base_options();
  o.qstep = 0.05;
  o.rstep = 0.05;
  o.rmax = 10;
  const SineTransform est(o);
  o.planning = FftPlanning::measure;
  const SineTransform meas(o);
  const auto F = test_F(est.q());
  EXPECT_LT(max_diff(est.forward(F), meas.forward(F)), 1e-12 * max_abs(est.forward(F)));
}

TEST(SineTransform, BadOptionsAreAllReported) {
  TransformOptions o;
  o.rstep = 0;
  o.qmax = -1;
  o.rmin = 0.3;
  o.rmax = 0.1;
  o.threads = -2;
  try {
    o.validate();
    FAIL();
  } catch (const InvalidArgument& e) {
    const std::string m = e.what();
    EXPECT_THAT(m, HasSubstr("rstep = 0"));
    EXPECT_THAT(m, HasSubstr("qmax = -1"));
    EXPECT_THAT(m, HasSubstr("rmax = 0.1"));
    EXPECT_THAT(m, HasSubstr("threads = -2"));
  }
  TransformOptions m = base_options();
  m.rmin = 0.015;
  EXPECT_THROW(SineTransform{m}, InvalidArgument);  // not a multiple of rstep
  TransformOptions big = base_options();
  big.qstep = 1e-7;
  big.rstep = 1e-4;
  big.rmax = 1;
  try {
    SineTransform p(big);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("FFT of length"));
  }
  const SineTransform plan(base_options());
  EXPECT_THROW((void)plan.forward(std::vector<double>(3, 0.0)), InvalidArgument);
}
