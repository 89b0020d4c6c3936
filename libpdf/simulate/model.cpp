// The exactly known pair-distribution models of the simulator (formulas in include/libpdf/simulate.hpp).
#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>

#include "libpdf/error.hpp"
#include "libpdf/simulate.hpp"

namespace libpdf {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kSqrtHalfPi = 1.2533141373155002512;  // √(π/2)

double shell_value(const Shell& s, double r) {
  const double d = (r - s.center_A) / s.width_A;
  return s.amplitude_A * std::exp(-0.5 * d * d) * std::cos(s.frequency * r + s.phase);
}

// ∫_{-∞}^{∞} s(r) sin(qr) dr (= the half-line integral of the odd extension).
double shell_transform(const Shell& s, double q) {
  const double sp = (q + s.frequency) * s.width_A, sm = (q - s.frequency) * s.width_A;
  return s.amplitude_A * s.width_A * kSqrtHalfPi *
         (std::exp(-0.5 * sp * sp) * std::sin((q + s.frequency) * s.center_A + s.phase) +
          std::exp(-0.5 * sm * sm) * std::sin((q - s.frequency) * s.center_A - s.phase));
}

// ∫₀^∞ r H(r) sin(qr) dr for the smooth step H = ½ erfc((r − r₀)/(√2 w)): the mean over step positions
// R ~ N(r₀, w²) of (sin qR − qR cos qR)/q².
double hole_transform(double r0, double w, double q) {
  const double qw2 = q * q * w * w;
  return std::exp(-0.5 * qw2) * ((1.0 + qw2) * std::sin(q * r0) - q * r0 * std::cos(q * r0)) / (q * q);
}

double smoothstep(double x) {
  x = std::clamp(x, 0.0, 1.0);
  return x * x * (3.0 - 2.0 * x);
}

}  // namespace

double PairModel::g(double r) const {
  r = std::max(std::fabs(r), 1e-9);
  double v = -r * 0.5 * std::erfc((r - hole_radius_A) / (std::sqrt(2.0) * hole_width_A));
  for (const Shell& s : shells) v += shell_value(s, r) - shell_value(s, -r);
  return 1.0 + v / r;
}

double PairModel::G(double r) const { return 4.0 * kPi * number_density * r * (g(r) - 1.0); }

double PairModel::S(double q) const {
  q = std::max(q, 1e-6);
  double t = -hole_transform(hole_radius_A, hole_width_A, q);
  for (const Shell& s : shells) t += shell_transform(s, q);
  return 1.0 + 4.0 * kPi * number_density / q * t;
}

double PairModel::S_numerical(double q, double dr, double r_max) const {
  std::size_t n = static_cast<std::size_t>(std::ceil(r_max / dr));
  if (n % 2) ++n;  // Simpson needs an even number of intervals
  const double h = r_max / static_cast<double>(n);
  double sum = 0;  // f(0) = 0 (r[g − 1] vanishes at 0)
  for (std::size_t i = 1; i <= n; ++i) {
    const double r = h * static_cast<double>(i);
    const double f = r * (g(r) - 1.0) * std::sin(q * r);
    sum += (i == n ? 1.0 : (i % 2 ? 4.0 : 2.0)) * f;
  }
  return 1.0 + 4.0 * kPi * number_density / q * sum * h / 3.0;
}

double PairModel::shell_amplitude(double coordination, double center_A, double width_A, double rho) {
  return coordination / (4.0 * kPi * rho * center_A * width_A * std::sqrt(2.0 * kPi));
}

void PairModel::validate() const {
  std::string bad;
  auto add = [&bad](const std::string& s) { bad += (bad.empty() ? "" : "; ") + s; };
  if (!(number_density > 0) || !std::isfinite(number_density)) add("number_density must be > 0");
  if (!(hole_radius_A > 0) || !std::isfinite(hole_radius_A)) add("hole_radius_A must be > 0");
  if (!(hole_width_A > 0) || !std::isfinite(hole_width_A)) add("hole_width_A must be > 0");
  // The step's r < 0 tail ½erfc(r₀/(√2 w)) enters S(q) unaccounted; r₀/w ≥ 13 keeps it below 1e−38.
  if (hole_width_A > 0 && hole_radius_A / hole_width_A < 13) {
    add("hole_radius_A / hole_width_A = " + std::to_string(hole_radius_A / hole_width_A) +
        " must be >= 13 for S(q) to be exact");
  }
  for (std::size_t k = 0; k < shells.size(); ++k) {
    const Shell& s = shells[k];
    if (!(s.width_A > 0) || !std::isfinite(s.width_A) || !std::isfinite(s.center_A) || !std::isfinite(s.amplitude_A) ||
        !std::isfinite(s.frequency) || !std::isfinite(s.phase)) {
      add("shell " + std::to_string(k) + ": width must be > 0 and every field finite");
    }
  }
  if (!bad.empty()) throw InvalidArgument("PairModel: " + bad);
}

PairModel metallic_glass_model(double T, const GlassModelOptions& o) {
  if (!std::isfinite(T) || T <= 0) throw InvalidArgument("metallic_glass_model: temperature must be > 0 K");
  if (!(o.end_K > o.transition_K)) throw InvalidArgument("metallic_glass_model: end_K must exceed transition_K");
  PairModel m;
  // Number densities from mass densities: La65Co25Al10 6.0 g/cm³ (conventions §2: ρ₀ ≈ 0.0335 1/Å³);
  // La50Ni35Al15 6.3 g/cm³ (its lighter Ni/Al content packs denser; illustrative).
  m.number_density = o.reference ? number_density_from_mass_density(6.3, Composition("La50Ni35Al15"))
                                 : number_density_from_mass_density(6.0, Composition("La65Co25Al10"));
  const double rho = m.number_density;
  // x: progress of the polyamorphous change (0 below the transition); age: slow ageing below it.
  const double x = o.reference ? 0.0 : smoothstep((T - o.transition_K) / (o.end_K - o.transition_K));
  const double age = std::clamp((std::min(T, o.transition_K) - 310.0) / (o.transition_K - 310.0), 0.0, 1.0);
  // Thermal expansion 1.2e-5 /K (metallic glasses: ~1e-5) and a Debye–Waller-like broadening of 7 % in σ
  // from 310 to 600 K: the only changes of the first shell.
  const double expansion = 1.0 + 1.2e-5 * (T - 310.0);
  const double broadening = std::sqrt(std::max(1.0 + 0.15 * (T - 310.0) / 290.0, 0.5));
  const double r1 = (o.reference ? 3.50 : 3.62) * expansion;  // La–La-dominated first shell (Å)
  m.hole_radius_A = 0.855 * r1;
  m.hole_width_A = 0.20;

  // First shell: the short TM–La / Al–La pairs at 0.82 r1 and the La–La pairs at r1, as peaks of g − 1.
  for (const auto& [f, width, height] : {std::tuple{0.82, 0.13, 1.0}, std::tuple{1.0, 0.25, 1.85}}) {
    const double c = f * r1;
    m.shells.push_back({c, width * broadening, c * height / broadening, 0, 0});
  }
  // Medium-range order: the split second peak (√3 r1 and 2 r1 motifs of face-sharing clusters), then an
  // oscillation of wavelength 2π/2.24 Å (the first S(q) peak) damped with coherence length ξ.
  const double xi = 4.3 + 0.3 * age + 2.7 * x;
  const double amp = 1.0 + 0.04 * age + 0.35 * x;
  const double sharp = 1.0 - 0.2 * x;
  const double A = 0.7;
  std::vector<std::tuple<double, double, double>> mro = {
      {1.70 * r1, 0.32, A}, {1.97 * r1, 0.32, 0.6 * A}, {2.30 * r1, 0.40, -0.9 * A}, {2.62 * r1, 0.42, 0.9 * A}};
  const double half_wave = kPi / 2.24 * expansion;
  double sign = -1;
  for (double c = 2.62 * r1 + half_wave; c < 50.0 + half_wave; c += half_wave, sign = -sign) {
    mro.emplace_back(c, 0.42, sign * 0.9 * A);
  }
  for (const auto& [c, width, a] : mro) {
    const double envelope = std::exp(-(c - 1.70 * r1) / xi);
    m.shells.push_back({c, width * sharp * broadening, a * amp * envelope, 0, 0});
  }
  // The new correlation of the high-temperature state: a wave of 4.40 1/Å in 7–15 Å whose S(q) peak,
  // added to the sloping S(q), tops out near 4.46 1/Å.
  if (x > 0) m.shells.push_back({11.0, 3.5, 0.25 * x, 4.40, -kPi / 2});

  // A made-up g(r) need not give a physical S(q) below the first peak (the compressibility region): fix
  // the amplitudes of seven broad shells between the first shell and the second peak by regularised
  // least squares so that S(q) = 0.03 + 0.45 (q/1.75)⁴ on [0.02, 1.75] 1/Å. Checked: S(q) > 0.01 and
  // g(r) > −0.01 everywhere for 250–650 K (tests/test_simulate.cpp).
  const std::vector<double> free_at = {0.95, 1.15, 1.30, 1.45, 1.60, 1.75, 1.90};
  const double free_width = 0.22 * r1;
  const int nq = 120;
  const double qa = 1.75, lambda = 0.03;
  Eigen::MatrixXd M(nq + static_cast<int>(free_at.size()), static_cast<int>(free_at.size()));
  Eigen::VectorXd b(M.rows());
  M.setZero();
  b.setZero();
  for (int i = 0; i < nq; ++i) {
    const double q = 0.02 + (qa - 0.02) * i / (nq - 1);
    b(i) = 0.03 + 0.45 * std::pow(q / qa, 4) - m.S(q);
    for (std::size_t k = 0; k < free_at.size(); ++k) {
      const Shell unit{free_at[k] * r1, free_width, 1.0, 0, 0};
      M(i, static_cast<int>(k)) = 4.0 * kPi * rho / q * shell_transform(unit, q);
    }
  }
  for (std::size_t k = 0; k < free_at.size(); ++k) M(nq + static_cast<int>(k), static_cast<int>(k)) = lambda;
  const Eigen::VectorXd coef = M.colPivHouseholderQr().solve(b);
  for (std::size_t k = 0; k < free_at.size(); ++k) {
    m.shells.push_back({free_at[k] * r1, free_width, coef(static_cast<int>(k)), 0, 0});
  }
  m.validate();
  return m;
}

ModelMetrics model_metrics(const PairModel& model) {
  ModelMetrics out;
  // S(q) on 0.5..15 1/Å, Δq = 0.002 (maxima refined by the parabola below).
  const double dq = 0.002, q0 = 0.5;
  const std::size_t nq = 7251;
  std::vector<double> s(nq);
  for (std::size_t i = 0; i < nq; ++i) s[i] = model.S(q0 + dq * static_cast<double>(i));
  std::vector<std::pair<double, double>> maxima;
  for (std::size_t i = 1; i + 1 < nq && maxima.size() < 4; ++i) {
    const double q = q0 + dq * static_cast<double>(i);
    if (q < 1.5 || !(s[i] > s[i - 1] && s[i] >= s[i + 1])) continue;
    // Parabola through the three points.
    const double den = s[i - 1] - 2 * s[i] + s[i + 1];
    const double shift = den != 0 ? 0.5 * (s[i - 1] - s[i + 1]) / den : 0.0;
    maxima.emplace_back(q + shift * dq, s[i] - 0.25 * (s[i - 1] - s[i + 1]) * shift);
  }
  auto at = [&](std::size_t k) { return k < maxima.size() ? maxima[k] : std::pair<double, double>{0, 0}; };
  std::tie(out.q1, out.s_q1) = at(0);
  std::tie(out.q2, out.s_q2) = at(1);
  std::tie(out.q3, out.s_q3) = at(2);
  std::tie(out.q4, out.s_q4) = at(3);
  if (!maxima.empty()) {
    // Full width at half of (S − 1) above 1 around q1, by linear interpolation of the crossings.
    const double half = 1.0 + 0.5 * (out.s_q1 - 1.0);
    const auto i1 = static_cast<std::size_t>(std::lround((out.q1 - q0) / dq));
    std::size_t lo = i1, hi = i1;
    while (lo > 0 && s[lo] > half) --lo;
    while (hi + 1 < nq && s[hi] > half) ++hi;
    const double qlo = q0 + dq * (static_cast<double>(lo) + (half - s[lo]) / (s[lo + 1] - s[lo]));
    const double qhi = q0 + dq * (static_cast<double>(hi) - (half - s[hi]) / (s[hi - 1] - s[hi]));
    out.fwhm_q1 = qhi - qlo;
  }
  out.s_446 = model.S(4.46);
  // G(r) and RDF on 0.002..30 Å (trapezoid coordination: error ~ dr²/12·RDF'' ≈ 1e−4 of N).
  const double dr = 0.002;
  const std::size_t nr = 15000;
  std::vector<double> G(nr), rdf(nr);
  for (std::size_t i = 0; i < nr; ++i) {
    const double r = dr * static_cast<double>(i + 1);
    G[i] = model.G(r);
    rdf[i] = 4.0 * kPi * model.number_density * r * r * model.g(r);
  }
  // The principal first-shell peak: the highest G(r) in 2–5 Å (a shoulder of short pairs precedes it).
  std::size_t i1 = 1000;
  for (std::size_t i = 1000; i < 2500; ++i) {
    if (G[i] > G[i1]) i1 = i;
  }
  out.r1 = dr * static_cast<double>(i1 + 1);
  out.g_r1 = G[i1];
  // The first minimum of 4πρ₀r²g after r1 (past the top of the RDF's own first peak, r1 + 0.3 Å).
  std::size_t imin = i1;
  for (; imin + 1 < nr; ++imin) {
    if (rdf[imin + 1] > rdf[imin] && dr * static_cast<double>(imin) > out.r1 + 0.3) break;
  }
  double cn = 0;
  for (std::size_t i = 0; i < imin; ++i) cn += 0.5 * (rdf[i] + rdf[i + 1]) * dr;
  out.coordination = cn;
  double ss = 0;
  std::size_t n = 0;
  for (double r = 5.0; r <= 17.0 + 1e-9; r += 0.01, ++n) ss += model.G(r) * model.G(r);
  out.mro_rms = std::sqrt(ss / static_cast<double>(n));
  return out;
}

}  // namespace libpdf
