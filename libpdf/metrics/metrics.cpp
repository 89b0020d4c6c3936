// Structure metrics of one frame (metrics.hpp; definitions and reasons in docs/metrics.md).
#include "libpdf/metrics.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/metrics/fit.hpp"

namespace libpdf {

namespace {

using metrics_detail::crossing;
using metrics_detail::fit_polynomial;
using metrics_detail::interpolate;
using metrics_detail::lower_index;
using metrics_detail::noise_from_second_differences;
using metrics_detail::num;
using metrics_detail::parabola_vertex;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kPi = 3.14159265358979323846;

// The top fit: a least-squares cubic through the points whose height above the baseline is at least this
// fraction of the highest point's. A cubic, not a parabola: the first S(q) peak of a metallic glass is markedly
// asymmetric (a shoulder on its high-q side), and a parabola over the top 15 % of the simulated La65Co25Al10 peak
// puts the vertex 0.023 1/Å off the true maximum; the cubic's odd term absorbs the asymmetry (measured on the
// exact model S(q) at 310–600 K, Δq = 0.01 and 0.02: |bias| ≤ 0.0015 1/Å for q1, ≤ 0.0006 Å for r1). 90 % keeps
// the window where a cubic describes the top while using ≈ 15 points on a 0.01 grid.
constexpr double kTopFraction = 0.90;
// Secondary S(q) maxima: the top 15 % of their prominence (the higher flanking minimum as baseline). The second
// maximum of the simulated glass is lopsided too: over the top 30 % the cubic still missed it by 0.013 1/Å.
constexpr double kSecondaryTopFraction = 0.85;
// Fewest points in a search window (and in a quadratic fit: two degrees of freedom left for the reduced χ²).
constexpr std::size_t kMinTopPoints = 5;
// Fewest points of the cubic top fit (two degrees of freedom).
constexpr std::size_t kMinCubicPoints = 6;

// ---------------------------------------------------------------------------------------------------
// Input checks

void check_curve(const char* xname, const std::vector<double>& x, const char* yname, const std::vector<double>& y,
                 const char* sname, const std::vector<double>& s, const std::string& who) {
  if (x.size() != y.size()) {
    throw InvalidArgument(who + ": " + yname + " has " + std::to_string(y.size()) + " values but " + xname + " has " +
                          std::to_string(x.size()));
  }
  if (!s.empty() && s.size() != x.size()) {
    throw InvalidArgument(who + ": " + sname + " has " + std::to_string(s.size()) + " values but " + xname + " has " +
                          std::to_string(x.size()) + " (expected the same or none)");
  }
  if (x.size() < 2 * kMinTopPoints) {
    throw InvalidArgument(who + ": " + xname + " has " + std::to_string(x.size()) + " points; at least " +
                          std::to_string(2 * kMinTopPoints) + " are needed");
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]))
      throw InvalidArgument(who + ": " + xname + "[" + std::to_string(i) + "] is " + num(x[i]) + " (expected finite)");
    if (!std::isfinite(y[i]))
      throw InvalidArgument(who + ": " + yname + "[" + std::to_string(i) + "] is " + num(y[i]) + " (expected finite)");
    if (i > 0 && !(x[i] > x[i - 1])) {
      throw InvalidArgument(who + ": " + xname + " must be strictly increasing; " + xname + "[" + std::to_string(i) +
                            "] = " + num(x[i]) + " follows " + num(x[i - 1]));
    }
    if (!s.empty() && !(std::isfinite(s[i]) && s[i] >= 0)) {
      throw InvalidArgument(who + ": " + sname + "[" + std::to_string(i) + "] is " + num(s[i]) +
                            " (expected finite and >= 0)");
    }
  }
}

// σ usable as weights: all > 0. A σ array with zeros (e.g. extrapolated points) is treated as unknown.
bool usable_sigma(const std::vector<double>& s, std::size_t i0, std::size_t i1) {
  if (s.empty()) return false;
  for (std::size_t i = i0; i <= i1; ++i)
    if (!(s[i] > 0)) return false;
  return true;
}

// Index range [i0, i1] of x inside [lo, hi]; throws when fewer than kMinTopPoints.
void window_indices(const std::vector<double>& x, double lo, double hi, const std::string& what, const char* unit,
                    std::size_t& i0, std::size_t& i1) {
  i0 = lower_index(x, lo);
  std::size_t end = lower_index(x, std::nextafter(hi, std::numeric_limits<double>::infinity()));
  if (end <= i0 || end - i0 < kMinTopPoints) {
    throw InvalidArgument("compute_metrics: the " + what + " window [" + num(lo) + ", " + num(hi) + "] " + unit +
                          " is outside the grid [" + num(x.front()) + ", " + num(x.back()) + "] " + unit +
                          " (fewer than " + std::to_string(kMinTopPoints) + " points inside)");
  }
  i1 = end - 1;
}

// ---------------------------------------------------------------------------------------------------
// Peak tops

struct Top {
  bool ok = false;
  double x = kNaN, x_sigma = kNaN, y = kNaN, y_sigma = kNaN;
};

// The extremum of a cubic fit c₀ + c₁u + c₂u² + c₃u³ (u = x − center) nearest the centre: a maximum (negative
// curvature) or a minimum. σ's by implicit differentiation: ∂u*/∂c_k = −k·u*^{k−1} / (2c₂ + 6c₃u*); the value's
// gradient is (1, u*, u*², u*³) (the curve's derivative vanishes at u*).
Top cubic_extremum(const metrics_detail::PolyFit& fit, double center, double half, bool maximum) {
  Top out;
  if (!fit.ok) return out;
  const double c1 = fit.c(1), c2 = fit.c(2), c3 = fit.c(3);
  double u = std::numeric_limits<double>::quiet_NaN();
  if (std::fabs(3 * c3 * half) < 1e-9 * std::fabs(c2)) {
    u = -c1 / (2 * c2);  // a parabola
  } else {
    const double disc = 4 * c2 * c2 - 12 * c3 * c1;
    if (disc < 0) return out;
    // Numerically stable pair of roots of 3c₃u² + 2c₂u + c₁.
    const double qq = -0.5 * (2 * c2 + std::copysign(std::sqrt(disc), c2));
    const double ra = qq / (3 * c3), rb = c1 / qq;
    u = std::fabs(ra) < std::fabs(rb) ? ra : rb;
  }
  const double curvature = 2 * c2 + 6 * c3 * u;
  if (!std::isfinite(u) || !(maximum ? curvature < 0 : curvature > 0)) return out;
  Eigen::Vector4d gu(0.0, -1.0 / curvature, -2 * u / curvature, -3 * u * u / curvature);
  Eigen::Vector4d gy(1.0, u, u * u, u * u * u);
  out.ok = true;
  out.x = center + u;
  out.x_sigma = std::sqrt(std::max(0.0, gu.dot(fit.cov * gu)));
  out.y = fit.c(0) + u * (c1 + u * (c2 + u * c3));
  out.y_sigma = std::sqrt(std::max(0.0, gy.dot(fit.cov * gy)));
  return out;
}

// Fits a cubic to the top of the peak whose highest grid point is @p i_max: the contiguous points whose
// y − baseline ≥ fraction·(y[i_max] − baseline), made symmetric about the maximum of the fit and refitted (three
// passes: the last moves the window by far less than a grid step). At least kMinCubicPoints points. The maximum
// is the root u* of c₁ + 2c₂u + 3c₃u² = 0 nearest the centre with negative curvature; σ's by implicit
// differentiation: ∂u*/∂c_k = −u*^{k−1}·k / (2c₂ + 6c₃u*), and the height's gradient is (1, u*, u*², u*³) (the
// derivative of the curve vanishes at u*).
Top fit_top(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& s, std::size_t i_max,
            double baseline, double fraction) {
  Top out;
  const double level = baseline + fraction * (y[i_max] - baseline);
  std::size_t a = i_max, b = i_max;
  while (a > 0 && y[a - 1] >= level) --a;
  while (b + 1 < x.size() && y[b + 1] >= level) ++b;
  const double half = std::max(x[i_max] - x[a], x[b] - x[i_max]);
  double center = x[i_max];
  for (int pass = 0; pass < 3; ++pass) {
    std::size_t i0 = lower_index(x, center - half * (1 + 1e-9));
    std::size_t i1 = lower_index(x, std::nextafter(center + half * (1 + 1e-9), 1e300));
    if (i1 > 0) --i1;
    // Widen symmetrically until there are enough points (coarse grids).
    while (i1 < i0 || i1 + 1 < i0 + kMinCubicPoints) {
      const bool can_left = i0 > 0, can_right = i1 + 1 < x.size();
      if (!can_left && !can_right) return out;
      if (can_left) --i0;
      if (can_right) ++i1;
    }
    const auto fit = fit_polynomial(x, y, usable_sigma(s, i0, i1) ? s : std::vector<double>{}, i0, i1, center, 3);
    const Top t = cubic_extremum(fit, center, half, true);
    // The maximum must lie inside the points fitted: otherwise the data there are no peak top.
    if (!t.ok || !(t.x > x[i0] && t.x < x[i1])) return out;
    out = t;
    const double xv = t.x;
    center = xv;
  }
  return out;
}

// σ of y at a crossing between indices i and j = i ± 1 (interpolated σ, or the noise estimate).
double sigma_at(const std::vector<double>& s, double noise, std::size_t i, std::size_t j, double u) {
  if (s.empty()) return noise;
  return std::sqrt((1 - u) * (1 - u) * s[i] * s[i] + u * u * s[j] * s[j]);
}

// Local slope dy/dx at x_c from a straight line through the 7 points around index i (5 at the edges).
double local_slope(const std::vector<double>& x, const std::vector<double>& y, std::size_t i) {
  const std::size_t i0 = i >= 3 ? i - 3 : 0;
  const std::size_t i1 = std::min(x.size() - 1, i + 3);
  const auto fit = fit_polynomial(x, y, {}, i0, i1, x[i], 1);
  return fit.ok ? fit.c(1) : kNaN;
}

struct Width {
  double value = kNaN, sigma = kNaN;
};

// Full width between the crossings of @p level on both sides of the peak at index @p i_max, searching
// between indices lo and hi. σ from the noise at each crossing over the local slope, plus the level's own
// σ (level_sigma) moving both crossings: δx = (δlevel − δy)/slope.
Width width_at(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& s, double noise,
               std::size_t i_max, std::size_t lo, std::size_t hi, double level, double level_sigma) {
  Width w;
  std::size_t il = 0, ir = 0;
  const double xl = crossing(x, y, i_max, -1, lo, level, il);
  const double xr = crossing(x, y, i_max, +1, hi, level, ir);
  if (!std::isfinite(xl) || !std::isfinite(xr)) return w;
  w.value = xr - xl;
  const double ul = (x[il] - xl) / (x[il] - x[il - 1]);
  const double ur = (xr - x[ir]) / (x[ir + 1] - x[ir]);
  const double sl = local_slope(x, y, il), sr = local_slope(x, y, ir);
  const double syl = sigma_at(s, noise, il, il - 1, ul), syr = sigma_at(s, noise, ir, ir + 1, ur);
  if (std::isfinite(sl) && std::isfinite(sr) && sl > 0 && sr < 0) {
    const double dl = 1.0 / sr - 1.0 / sl;
    const double var = level_sigma * level_sigma * dl * dl + syl * syl / (sl * sl) + syr * syr / (sr * sr);
    w.sigma = std::sqrt(var);
  }
  return w;
}

// Indices of the local maxima of y in [i0, i1]: y[i] ≥ every y within ±h in x (over the whole grid) and
// not within h of the grid's ends.
std::vector<std::size_t> local_maxima(const std::vector<double>& x, const std::vector<double>& y, std::size_t i0,
                                      std::size_t i1, double h, bool minima = false) {
  std::vector<std::size_t> out;
  const double sign = minima ? -1.0 : 1.0;
  for (std::size_t i = i0; i <= i1; ++i) {
    if (x[i] - h < x.front() || x[i] + h > x.back()) continue;
    bool is_max = true;
    for (std::size_t j = i; j-- > 0 && x[j] >= x[i] - h;) {
      if (sign * y[j] > sign * y[i]) {
        is_max = false;
        break;
      }
    }
    for (std::size_t j = i + 1; is_max && j < x.size() && x[j] <= x[i] + h; ++j) {
      if (sign * y[j] > sign * y[i]) is_max = false;
    }
    if (is_max) {
      // A plateau of equal values: keep its first point only.
      if (!out.empty() && out.back() + 1 == i && y[out.back()] == y[i]) continue;
      out.push_back(i);
    }
  }
  return out;
}

std::size_t argmax(const std::vector<double>& y, std::size_t i0, std::size_t i1) {
  std::size_t k = i0;
  for (std::size_t i = i0; i <= i1; ++i)
    if (y[i] > y[k]) k = i;
  return k;
}
std::size_t argmin(const std::vector<double>& y, std::size_t i0, std::size_t i1) {
  std::size_t k = i0;
  for (std::size_t i = i0; i <= i1; ++i)
    if (y[i] < y[k]) k = i;
  return k;
}

// ---------------------------------------------------------------------------------------------------
// S(q) metrics

void sq_metrics(const MetricsInput& in, const MetricsOptions& o, const MetricsInput* ref, StructureMetrics& m) {
  const auto& q = in.q;
  const auto& s = in.sq;
  const auto& ss = in.sq_sigma;
  std::size_t w0 = 0, w1 = 0;
  window_indices(q, o.q1_min, o.q1_max, "first S(q) peak (q1_min, q1_max)", "1/A", w0, w1);
  const std::size_t im = argmax(s, w0, w1);
  if (im == w0 || im == w1) {
    throw NumericalError("compute_metrics: no S(q) peak in the q1 window [" + num(q[w0]) + ", " + num(q[w1]) +
                         "] 1/A: the highest S (" + num(s[im]) + ") is at its edge, q = " + num(q[im]) +
                         " (widen q1_min/q1_max)");
  }
  const Top top = fit_top(q, s, ss, im, 1.0, kTopFraction);
  if (!top.ok) {
    throw NumericalError("compute_metrics: the top fit of the first S(q) peak near q = " + num(q[im]) +
                         " 1/A failed (no maximum of the cubic through the points above 90 % of S - 1)");
  }
  m.q1 = {top.x, top.x_sigma};
  m.q1_height = {top.y, top.y_sigma};
  // Noise for crossings when σ is unknown: second differences over the q1 window.
  const double noise = ss.empty() ? noise_from_second_differences(s, w0, w1) : 0.0;
  // FWHM of S − 1: the level 1 + (h − 1)/2 moves with the fitted height by σ_h/2.
  const Width fw = width_at(q, s, ss, noise, im, 0, q.size() - 1, 1.0 + 0.5 * (top.y - 1.0), 0.5 * top.y_sigma);
  m.q1_fwhm = {fw.value, fw.sigma};
  if (fw.value > 0) m.q1_coherence_L = {2 * kPi / fw.value, 2 * kPi * fw.sigma / (fw.value * fw.value)};

  // Maxima 2–4: local maxima after q1 (each the highest point within ±0.1·q1, so that the split second
  // peak's halves, ≈ 0.3·q1 apart, stay separate) whose prominence exceeds 3 σ of the noise.
  const double h = 0.1 * top.x;
  const std::size_t a0 = lower_index(q, top.x + h);
  std::size_t a1 = lower_index(q, std::nextafter(o.sq_maxima_qmax, 1e300));
  if (a1 > 0) --a1;
  if (a0 < q.size() && a1 > a0) {
    const auto maxima = local_maxima(q, s, a0, a1, h);
    const double global_noise = noise_from_second_differences(s, a0, std::min(a1 + 1, q.size() - 1));
    Metric* slots[3][3] = {
        {&m.q2, &m.q2_height, &m.q2_fwhm}, {&m.q3, &m.q3_height, &m.q3_fwhm}, {&m.q4, &m.q4_height, &m.q4_fwhm}};
    std::size_t k = 0;
    std::size_t prev = im;
    for (std::size_t n = 0; n < maxima.size() && k < 3; ++n) {
      const std::size_t i = maxima[n];
      const std::size_t next = n + 1 < maxima.size() ? maxima[n + 1] : std::min(a1 + 1, q.size() - 1);
      const std::size_t lmin = argmin(s, prev, i), rmin = argmin(s, i, next);
      const double base = std::max(s[lmin], s[rmin]);
      const double prominence = s[i] - base;
      double noise_here = global_noise;
      if (!ss.empty()) noise_here = ss[i];
      if (!(prominence > 3.0 * std::sqrt(2.0) * noise_here)) continue;
      prev = i;
      const Top t = fit_top(q, s, ss, i, base, kSecondaryTopFraction);
      if (!t.ok) continue;
      *slots[k][0] = {t.x, t.x_sigma};
      *slots[k][1] = {t.y, t.y_sigma};
      const Width w = width_at(q, s, ss, noise_here, i, lmin, rmin, base + 0.5 * (t.y - base), 0.5 * t.y_sigma);
      *slots[k][2] = {w.value, w.sigma};
      ++k;
    }
  }

  // Watched positions: top-hat excess of D = S − S_ref (or S) over the window against its flanks.
  const double hw = o.watch_halfwidth;
  for (std::size_t k = 0; k < o.watch_q.size(); ++k) {
    WatchPeak& wp = m.watch[k];
    const double qw = o.watch_q[k];
    const double lo = qw - 2 * hw, hi = qw + 2 * hw;
    if (lo < q.front() || hi > q.back()) {
      throw InvalidArgument("compute_metrics: watch window " + std::to_string(k + 1) + " [" + num(lo) + ", " + num(hi) +
                            "] 1/A (watch_q " + num(qw) + " +- 2 x watch_halfwidth) is outside the S(q) grid [" +
                            num(q.front()) + ", " + num(q.back()) + "] 1/A");
    }
    if (ref && (lo < ref->q.front() || hi > ref->q.back())) {
      throw InvalidArgument("compute_metrics: watch window " + std::to_string(k + 1) + " [" + num(lo) + ", " + num(hi) +
                            "] 1/A is outside the reference S(q) grid [" + num(ref->q.front()) + ", " +
                            num(ref->q.back()) + "] 1/A");
    }
    const std::size_t j0 = lower_index(q, lo);
    std::size_t j1 = lower_index(q, std::nextafter(hi, 1e300));
    if (j1 > 0) --j1;
    std::vector<double> d(q.size(), 0.0), dsig;
    const bool have_sigma = usable_sigma(ss, j0, j1) && (!ref || usable_sigma(ref->sq_sigma, 0, ref->q.size() - 1));
    if (have_sigma) dsig.assign(q.size(), 0.0);
    for (std::size_t j = j0; j <= j1; ++j) {
      d[j] = s[j] - (ref ? interpolate(ref->q, ref->sq, q[j]) : 0.0);
      if (have_sigma) {
        const double sr = ref ? interpolate(ref->q, ref->sq_sigma, q[j]) : 0.0;
        dsig[j] = std::sqrt(ss[j] * ss[j] + sr * sr);
      }
    }
    const double dnoise = have_sigma ? 0.0 : noise_from_second_differences(d, j0, j1);
    double sw = 0, sf = 0, vw = 0, vf = 0;
    std::size_t nw = 0, nf = 0;
    for (std::size_t j = j0; j <= j1; ++j) {
      const double var = have_sigma ? dsig[j] * dsig[j] : dnoise * dnoise;
      if (std::fabs(q[j] - qw) <= hw) {
        sw += d[j];
        vw += var;
        ++nw;
      } else {
        sf += d[j];
        vf += var;
        ++nf;
      }
    }
    wp.watch_q = qw;
    if (nw >= 3 && nf >= 2) {
      const double excess = sw / static_cast<double>(nw) - sf / static_cast<double>(nf);
      const double sigma = std::sqrt(vw / static_cast<double>(nw * nw) + vf / static_cast<double>(nf * nf));
      wp.excess = {excess, sigma};
      if (sigma > 0) wp.significance = {excess / sigma, kNaN};
    }
    // S at watch_q and a local maximum there: a parabola over the window |q − q_w| ≤ h.
    const std::size_t c0 = lower_index(q, qw - hw);
    std::size_t c1 = lower_index(q, std::nextafter(qw + hw, 1e300));
    if (c1 > 0) --c1;
    const auto fit = fit_polynomial(q, s, usable_sigma(ss, c0, c1) ? ss : std::vector<double>{}, c0, c1, qw, 2);
    if (fit.ok) {
      wp.height = {fit.c(0), std::sqrt(std::max(0.0, fit.cov(0, 0)))};
      if (fit.c(2) < 0) {
        const auto v = parabola_vertex(fit, qw);
        if (std::fabs(v.x - qw) < hw) wp.q = {v.x, v.x_sigma};
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// G(r) metrics

// The dominant frequency of G over indices m0..m1: the Q of the grid q_lo, q_lo + 0.005, … ≤ q_hi that
// maximises |∫ G(r) e^{iQr} dr| (trapezoid rule). The trapezoid sum is Σ a_k e^{iQ r_k} with a_k = w_k G_k
// (w_k the trapezoid weights); the phasors e^{iQ r_k} advance from one Q to the next by a fixed rotation
// e^{iΔQ·r_k}, one complex multiply per point and Q instead of a sincos (rounding drift ≈ 1e−14 over the scan).
// Not every Q is evaluated, yet the maximum is the one of the whole grid: |F(Q)| = |Σ a_k e^{iQ(r_k − r_c)}|
// changes by at most L₁|ΔQ| with L₁ = Σ |a_k||r_k − r_c|, so between two evaluated grid points Q_a, Q_b (kStride
// steps apart) no point exceeds (|F_a| + |F_b| + L₁·(Q_b − Q_a))/2. Every kStride-th point is evaluated first; the
// points between two of them are evaluated only when that bound reaches the best value found (near the top).
double dominant_frequency(const std::vector<double>& r, const std::vector<double>& g, std::size_t m0, std::size_t m1,
                          double q_lo, double q_hi) {
  constexpr double dq = 0.005;
  constexpr std::size_t kStride = 10;
  std::size_t nQ = 0;
  for (double Q = q_lo; Q <= q_hi; Q += dq) ++nQ;  // the grid, built as the scan steps through it
  if (nQ == 0) return 0.5 * (q_lo + q_hi);
  const std::size_t n = m1 - m0 + 1;
  const double rc = 0.5 * (r[m0] + r[m1]);
  std::vector<double> a(n), zr(n), zi(n), fr(n), fi(n), cr(n), ci(n), wr(n), wi(n);
  double L1 = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = m0 + k;
    const double w = 0.5 * ((i > m0 ? r[i] - r[i - 1] : 0.0) + (i < m1 ? r[i + 1] - r[i] : 0.0));
    a[k] = w * g[i];
    L1 += std::fabs(a[k]) * std::fabs(r[i] - rc);
    zr[k] = std::cos(q_lo * r[i]);
    zi[k] = std::sin(q_lo * r[i]);
    fr[k] = std::cos(dq * r[i]);
    fi[k] = std::sin(dq * r[i]);
    cr[k] = std::cos(static_cast<double>(kStride) * dq * r[i]);
    ci[k] = std::sin(static_cast<double>(kStride) * dq * r[i]);
  }
  auto modulus = [&](const std::vector<double>& xr, const std::vector<double>& xi) {
    // Four partial sums: independent chains the compiler can keep in vector registers.
    double sr[4] = {0, 0, 0, 0}, si[4] = {0, 0, 0, 0};
    std::size_t k = 0;
    for (; k + 4 <= n; k += 4) {
      for (std::size_t j = 0; j < 4; ++j) {
        sr[j] += a[k + j] * xr[k + j];
        si[j] += a[k + j] * xi[k + j];
      }
    }
    for (; k < n; ++k) {
      sr[0] += a[k] * xr[k];
      si[0] += a[k] * xi[k];
    }
    return std::hypot((sr[0] + sr[1]) + (sr[2] + sr[3]), (si[0] + si[1]) + (si[2] + si[3]));
  };
  auto rotate = [n](std::vector<double>& xr, std::vector<double>& xi, const std::vector<double>& rr,
                    const std::vector<double>& ri) {
    for (std::size_t j = 0; j < n; ++j) {
      const double x = xr[j] * rr[j] - xi[j] * ri[j];
      xi[j] = xr[j] * ri[j] + xi[j] * rr[j];
      xr[j] = x;
    }
  };
  // Pass 1: every kStride-th grid point.
  const std::vector<double> zr0 = zr, zi0 = zi;
  std::vector<double> value(nQ, -1.0);
  double coarse_best = -1;
  for (std::size_t j = 0; j < nQ; j += kStride) {
    value[j] = modulus(zr, zi);
    coarse_best = std::max(coarse_best, value[j]);
    if (j + kStride < nQ) rotate(zr, zi, cr, ci);
  }
  // Pass 2: the points between, where the bound allows a value at least the best (with a margin for rounding);
  // the tail after the last coarse point is always evaluated.
  zr = zr0;
  zi = zi0;
  for (std::size_t j = 0; j < nQ; j += kStride) {
    const bool tail = j + kStride >= nQ;
    const double bound =
        tail ? 0.0 : 0.5 * (value[j] + value[j + kStride] + L1 * static_cast<double>(kStride) * dq * (1 + 1e-9));
    if (tail || bound >= coarse_best * (1 - 1e-12)) {
      wr = zr;
      wi = zi;
      for (std::size_t s = j + 1; s < nQ && s < j + kStride; ++s) {
        rotate(wr, wi, fr, fi);
        value[s] = modulus(wr, wi);
      }
    }
    if (!tail) rotate(zr, zi, cr, ci);
  }
  // The first grid point of the largest value (as a scan in increasing Q with a strict comparison would pick).
  std::size_t best = 0;
  for (std::size_t j = 1; j < nQ; ++j)
    if (value[j] > value[best]) best = j;
  double q0 = q_lo;
  for (std::size_t j = 0; j < best; ++j) q0 += dq;
  return q0;
}

// The envelope model f(u) = A0 e^{−κu} sin(Qu + ψ), u = r − r_c, over indices m0..m1, with its Jacobian
// (∂/∂A0, ∂/∂κ, ∂/∂Q, ∂/∂ψ) = (e·sin, −u·f, A0·e·cos·u, A0·e·cos). On a uniform grid e^{−κu} and the phasor
// of Qu + ψ advance by constant factors from point to point; they are evaluated exactly at every kBlock-th point
// and advanced by the factors in between (relative error ≈ kBlock ulps, far below the fit's tolerance) — one
// exp and one sincos per block instead of per point. A non-uniform grid is evaluated point by point.
class EnvelopeModel {
 public:
  EnvelopeModel(const std::vector<double>& r, std::size_t m0, std::size_t m1, double rc) : u_(m1 - m0 + 1) {
    for (std::size_t k = 0; k < u_.size(); ++k) u_[k] = r[m0 + k] - rc;
    const double step = (r[m1] - r[m0]) / static_cast<double>(m1 - m0);
    uniform_ = step > 0;
    for (std::size_t i = m0; uniform_ && i < m1; ++i) uniform_ = std::fabs(r[i + 1] - r[i] - step) <= 1e-9 * step;
    step_ = step;
  }
  void operator()(const Eigen::VectorXd& p, Eigen::VectorXd& f, Eigen::MatrixXd& J) const {
    const auto n = static_cast<Eigen::Index>(u_.size());
    f.resize(n);
    J.resize(n, 4);
    const double A0 = p(0), kappa = p(1), Q = p(2), psi = p(3);
    const double ed = std::exp(-kappa * step_), cd = std::cos(Q * step_), sd = std::sin(Q * step_);
    double e = 0, sn = 0, cs = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double u = u_[static_cast<std::size_t>(i)];
      if (!uniform_ || i % kBlock == 0) {
        e = std::exp(-kappa * u);
        sn = std::sin(Q * u + psi);
        cs = std::cos(Q * u + psi);
      }
      const double es = e * sn, aec = A0 * e * cs;
      f(i) = A0 * es;
      J(i, 0) = es;
      J(i, 1) = -u * f(i);
      J(i, 2) = aec * u;
      J(i, 3) = aec;
      const double s_next = sn * cd + cs * sd;
      cs = cs * cd - sn * sd;
      sn = s_next;
      e *= ed;
    }
  }

 private:
  static constexpr Eigen::Index kBlock = 32;
  std::vector<double> u_;
  double step_ = 0;
  bool uniform_ = false;
};

void gr_metrics(const MetricsInput& in, const MetricsOptions& o, StructureMetrics& m) {
  const auto& r = in.r;
  const auto& g = in.gr;
  const auto& gs = in.gr_sigma;
  std::size_t w0 = 0, w1 = 0;
  window_indices(r, o.r1_min, o.r1_max, "first G(r) peak (r1_min, r1_max)", "A", w0, w1);
  const std::size_t im = argmax(g, w0, w1);
  if (im == w0 || im == w1 || !(g[im] > 0)) {
    throw NumericalError("compute_metrics: no G(r) peak in the r1 window [" + num(r[w0]) + ", " + num(r[w1]) +
                         "] A: the highest G (" + num(g[im]) + ") is at r = " + num(r[im]) +
                         (g[im] > 0 ? ", the window's edge (widen r1_min/r1_max)" : " and not positive"));
  }
  const Top top = fit_top(r, g, gs, im, 0.0, kTopFraction);
  if (!top.ok) {
    throw NumericalError("compute_metrics: the top fit of the first G(r) peak near r = " + num(r[im]) +
                         " A failed (no maximum of the cubic through the points above 90 % of G)");
  }
  m.r1 = {top.x, top.x_sigma};
  m.r1_height = {top.y, top.y_sigma};
  const double noise = gs.empty() ? noise_from_second_differences(g, w0, w1) : 0.0;
  const Width fw = width_at(r, g, gs, noise, im, 0, r.size() - 1, 0.5 * top.y, 0.5 * top.y_sigma);
  m.r1_width = {fw.value, fw.sigma};

  // Coordination number.
  std::vector<double> rdf;
  if (!in.rdf.empty()) {
    rdf = in.rdf;
  } else if (in.number_density && std::isfinite(*in.number_density) && *in.number_density > 0) {
    const double rho = *in.number_density;
    rdf.resize(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) rdf[i] = r[i] * g[i] + 4 * kPi * rho * r[i] * r[i];
  }
  if (!rdf.empty()) {
    // Lower limit: the grid start (normally r = 0), as model_metrics() does. Not "the last zero of the RDF below
    // r1": where the RDF below the shell is small but positive, noise decides whether and where it touches zero,
    // and the lower limit then jumps (by 0.4 atoms on the simulated glass, whose RDF holds a low tail below
    // 2.5 Å). Below the shell of a real glass the RDF is zero plus termination ripples, which average out.
    std::size_t i_r1 = lower_index(r, top.x);
    if (i_r1 >= r.size()) i_r1 = r.size() - 1;
    const double r_lo = std::max(r.front(), 0.0);
    double r_hi = kNaN, r_hi_sigma = 0.0;
    if (o.cn_method == CoordinationMethod::symmetric) {
      r_hi = top.x;
    } else {
      // The first minimum of the RDF after r1: the lowest point within ±0.3 Å (a half-width that ignores
      // noise wiggles yet is below the ≈ 1 Å gap between the first minimum and the second shell), refined
      // by a cubic through the points within ±0.15 Å.
      const double hmin = 0.3;
      const auto minima = local_maxima(r, rdf, i_r1, r.size() - 1, hmin, true);
      if (!minima.empty()) {
        const std::size_t k = minima.front();
        r_hi = r[k];
        const std::size_t p0 = lower_index(r, r[k] - 0.15);
        std::size_t p1 = lower_index(r, r[k] + 0.15);
        if (p1 > 0) --p1;
        if (p1 >= p0 + kMinCubicPoints - 1) {
          // σ_RDF = r·σ_G when σ is known (the minimum's position then has a σ that enters cn1's).
          std::vector<double> rdf_sigma;
          if (usable_sigma(gs, p0, p1)) {
            rdf_sigma.assign(r.size(), 0.0);
            for (std::size_t i = p0; i <= p1; ++i) rdf_sigma[i] = r[i] * gs[i];
          }
          // A cubic, as for the peak tops: the bottom between the first and second shells is lopsided (steep
          // towards the shell), and a parabola puts the minimum ≈ 0.03 Å too far out on a test model.
          const auto fit = fit_polynomial(r, rdf, rdf_sigma, p0, p1, r[k], 3);
          const Top v = cubic_extremum(fit, r[k], 0.15, false);
          if (v.ok && std::fabs(v.x - r[k]) < 0.15) {
            r_hi = v.x;
            r_hi_sigma = v.x_sigma;
          }
        }
      }
    }
    if (std::isfinite(r_hi) && r_hi > r_lo) {
      // Trapezoid over the grid points strictly inside, with linearly interpolated end values.
      double integral = 0, var = 0;
      double x_prev = r_lo, y_prev = interpolate(r, rdf, r_lo);
      const std::size_t i_start = lower_index(r, std::nextafter(r_lo, 1e300));
      std::vector<std::pair<std::size_t, double>> weights;  // trapezoid weight of each grid point
      for (std::size_t i = i_start; i < r.size() && r[i] < r_hi; ++i) {
        integral += 0.5 * (r[i] - x_prev) * (rdf[i] + y_prev);
        weights.emplace_back(i, 0.5 * (r[i] - x_prev));
        if (weights.size() > 1) weights[weights.size() - 2].second += 0.5 * (r[i] - x_prev);
        x_prev = r[i];
        y_prev = rdf[i];
      }
      integral += 0.5 * (r_hi - x_prev) * (interpolate(r, rdf, r_hi) + y_prev);
      if (!weights.empty()) weights.back().second += 0.5 * (r_hi - x_prev);
      const double factor = o.cn_method == CoordinationMethod::symmetric ? 2.0 : 1.0;
      double sigma = kNaN;
      if (!gs.empty()) {
        // σ_RDF = r·σ_G; points taken as independent (a lower bound, see the header).
        for (const auto& [i, w] : weights) var += (w * r[i] * gs[i]) * (w * r[i] * gs[i]);
        // The upper limit's own uncertainty: δcn = RDF(r_max)·δr_max (the RDF is far from 0 at its minimum).
        const double at_hi = interpolate(r, rdf, r_hi) * r_hi_sigma;
        var += at_hi * at_hi;
        sigma = factor * std::sqrt(var);
      }
      m.cn1 = {factor * integral, sigma};
      m.cn1_rmax = {r_hi, kNaN};
    }
  }

  // Medium-range order.
  if (o.mro_rmin < r.front() - 1e-9 || o.mro_rmax > r.back() + 1e-9) {
    throw InvalidArgument("compute_metrics: the MRO window [" + num(o.mro_rmin) + ", " + num(o.mro_rmax) +
                          "] A (mro_rmin, mro_rmax) is outside the G(r) grid [" + num(r.front()) + ", " +
                          num(r.back()) + "] A");
  }
  std::size_t m0 = 0, m1 = 0;
  window_indices(r, o.mro_rmin, o.mro_rmax, "MRO (mro_rmin, mro_rmax)", "A", m0, m1);
  const double L = r[m1] - r[m0];
  {
    // RMS = √(∫G² dr / L) by the trapezoid rule; σ by propagation: ∂rms/∂G_i = w_i G_i / (L·rms).
    double s2 = 0;
    std::vector<double> w(m1 - m0 + 1, 0.0);
    for (std::size_t i = m0; i < m1; ++i) {
      const double dr = r[i + 1] - r[i];
      s2 += 0.5 * dr * (g[i] * g[i] + g[i + 1] * g[i + 1]);
      w[i - m0] += 0.5 * dr;
      w[i + 1 - m0] += 0.5 * dr;
    }
    const double rms = std::sqrt(s2 / L);
    double sigma = kNaN;
    if (!gs.empty() && rms > 0) {
      double var = 0;
      for (std::size_t i = m0; i <= m1; ++i) {
        const double d = w[i - m0] * g[i] / (L * rms);
        var += d * d * gs[i] * gs[i];
      }
      sigma = std::sqrt(var);
    }
    m.mro_amplitude_rms = {rms, sigma};
  }

  // Dominant frequency of G in the window: the maximum of |∫ G(r) e^{iQr} dr| for Q in the q1 window (the
  // MRO oscillation of a glass has the period of the first S(q) peak), on a 0.005 1/Å grid (the fit refines it).
  const double q0 = dominant_frequency(r, g, m0, m1, o.q1_min, o.q1_max);
  // Extrema: the highest/lowest point within ±P/4 (P = 2π/Q0): a sinusoid's extremum is one over ±P/2, so
  // P/4 is safe against envelope and mixed frequencies while ignoring noise wiggles.
  const double hx = 0.25 * 2 * kPi / q0;
  auto maxima = local_maxima(r, g, m0, m1, hx);
  auto minima = local_maxima(r, g, m0, m1, hx, true);
  std::vector<std::pair<std::size_t, int>> ext;
  for (auto i : maxima) ext.emplace_back(i, +1);
  for (auto i : minima) ext.emplace_back(i, -1);
  std::sort(ext.begin(), ext.end());
  // Enforce alternation: of two neighbours of one kind keep the more extreme.
  std::vector<std::pair<std::size_t, int>> alt;
  for (const auto& e : ext) {
    if (!alt.empty() && alt.back().second == e.second) {
      if (e.second * g[e.first] > e.second * g[alt.back().first]) alt.back() = e;
    } else {
      alt.push_back(e);
    }
  }
  const double gnoise = gs.empty() ? noise_from_second_differences(g, m0, m1) : 0.0;
  // Each extremum's value and position from a parabola through the points within ±P/16: the highest of many
  // noisy points is biased away from the curve (by ≈ 2σ over 50 points), which would flatten the ln|G| line and
  // inflate the peak-to-peak amplitude where the oscillation is small; the fit averages the noise instead. ±P/16
  // (±π/8 of phase) keeps the parabola's own error on a sinusoid's top below 1e−4 of the amplitude (±P/8: 1.3e−3).
  std::vector<double> ext_r, ext_v, ext_s;
  for (const auto& e : alt) {
    const std::size_t k = e.first;
    double rv = r[k], v = g[k], sv = gs.empty() ? gnoise : gs[k];
    const std::size_t p0 = lower_index(r, r[k] - 0.25 * hx);
    std::size_t p1 = lower_index(r, std::nextafter(r[k] + 0.25 * hx, 1e300));
    if (p1 > 0) --p1;
    if (p1 >= p0 + kMinTopPoints - 1) {
      const auto fit = fit_polynomial(r, g, usable_sigma(gs, p0, p1) ? gs : std::vector<double>{}, p0, p1, r[k], 2);
      if (fit.ok && e.second * fit.c(2) < 0) {
        const auto vx = parabola_vertex(fit, r[k]);
        if (vx.x > r[p0] && vx.x < r[p1]) {
          rv = vx.x;
          v = vx.y;
          sv = vx.y_sigma;
        }
      }
    }
    ext_r.push_back(rv);
    ext_v.push_back(v);
    ext_s.push_back(sv);
  }
  if (alt.size() >= 2) {
    const double np = static_cast<double>(alt.size() - 1);
    double sum = 0, var = 0;
    for (std::size_t k = 0; k + 1 < alt.size(); ++k) sum += std::fabs(ext_v[k] - ext_v[k + 1]);
    // Interior extrema enter two differences with the same sign of derivative: coefficient 2/np.
    for (std::size_t k = 0; k < alt.size(); ++k) {
      const double c = (k == 0 || k + 1 == alt.size() ? 1.0 : 2.0) / np;
      var += c * c * ext_s[k] * ext_s[k];
    }
    m.mro_amplitude_p2p = {sum / np, std::sqrt(var)};
  }

  // Envelope fit G ≈ A0 e^{−κ(r − r_c)} sin(Q(r − r_c) + ψ) with r_c the window centre (decorrelates A0
  // from κ and ψ from Q), reported as A = A0 e^{κ r_c}, ξ = 1/κ, φ = ψ − Q r_c.
  const double rc = 0.5 * (r[m0] + r[m1]);
  double kappa0 = 1.0 / 5.0;  // ξ = 5 Å: typical of metallic glasses when the extrema give no estimate
  {
    // Start: log-linear fit of |G| at the extrema.
    if (alt.size() >= 3) {
      // Weighted by σ(ln|G_e|) = σ_e/|G_e|: the small extrema far out carry large relative errors (unweighted,
      // their noise biases ξ upwards by ≈ 12 % in the synthetic test).
      std::vector<double> xe, ye, se;
      bool weights = true;
      for (std::size_t k = 0; k < alt.size(); ++k)
        if (alt[k].second * ext_v[k] > 0) {
          xe.push_back(ext_r[k]);
          ye.push_back(std::log(std::fabs(ext_v[k])));
          se.push_back(ext_s[k] / std::fabs(ext_v[k]));
          weights = weights && se.back() > 0 && std::isfinite(se.back());
        }
      if (xe.size() >= 3) {
        const auto lf = fit_polynomial(xe, ye, weights ? se : std::vector<double>{}, 0, xe.size() - 1, rc, 1);
        if (lf.ok && -lf.c(1) > 0.01) kappa0 = -lf.c(1);
        // The same line is the extrema estimate of ξ: robust where G(r) is not a single damped wave (its σ from
        // the extrema's σ's, or from their scatter about the line when those are zero).
        if (lf.ok && -lf.c(1) > 0 && xe.size() >= 4) {
          const double k = -lf.c(1);
          m.mro_xi_extrema = {1.0 / k, std::sqrt(std::max(0.0, lf.cov(1, 1))) / (k * k)};
        }
      }
    }
  }
  const auto n = static_cast<Eigen::Index>(m1 - m0 + 1);
  Eigen::VectorXd y(n), wt(n);
  const bool sig = usable_sigma(gs, m0, m1);
  for (Eigen::Index i = 0; i < n; ++i) {
    const std::size_t k = m0 + static_cast<std::size_t>(i);
    y(i) = g[k];
    wt(i) = sig ? 1.0 / (gs[k] * gs[k]) : 1.0;
  }
  // The model and its Jacobian on the window (u = r − r_c), evaluated by EnvelopeModel (recurrences on a
  // uniform grid).
  const EnvelopeModel envelope(r, m0, m1, rc);
  Eigen::VectorXd f0(n);
  Eigen::MatrixXd J0(n, 4);
  // Linear start for A0, ψ at (Q0, κ0): G ≈ e^{−κ(r−r_c)} [B sin Q(r−r_c) + C cos Q(r−r_c)]. The model at
  // (1, κ0, Q0, 0) gives both columns: f = e·sin, ∂f/∂ψ = e·cos.
  Eigen::MatrixXd X(n, 2);
  {
    Eigen::VectorXd unit(4);
    unit << 1.0, kappa0, q0, 0.0;
    envelope(unit, f0, J0);
    X.col(0) = f0;
    X.col(1) = J0.col(3);
  }
  const Eigen::Vector2d bc = X.colPivHouseholderQr().solve(y);
  Eigen::VectorXd p0(4);
  p0 << std::hypot(bc(0), bc(1)), kappa0, q0, std::atan2(bc(1), bc(0));
  auto model = [&envelope](const Eigen::VectorXd& p, Eigen::VectorXd& f, Eigen::MatrixXd& J) { envelope(p, f, J); };
  if (p0(0) > 0 && n > 8) {
    const auto fit = metrics_detail::levenberg_marquardt(model, y, wt, p0, sig);
    if (fit.ok && fit.converged) {
      Eigen::VectorXd p = fit.p;
      if (p(0) < 0) {  // the same curve with A > 0
        p(0) = -p(0);
        p(3) += kPi;
      }
      const Eigen::MatrixXd& C = fit.cov;
      const double kappa = p(1);
      if (kappa > 0) m.mro_xi = {1.0 / kappa, std::sqrt(C(1, 1)) / (kappa * kappa)};
      m.mro_qm = {p(2), std::sqrt(C(2, 2))};
      const double A = p(0) * std::exp(kappa * rc);
      // ∂A/∂A0 = e^{κ r_c}, ∂A/∂κ = A r_c.
      const double dA0 = std::exp(kappa * rc), dk = A * rc;
      m.mro_A = {A, std::sqrt(std::max(0.0, dA0 * dA0 * C(0, 0) + 2 * dA0 * dk * C(0, 1) + dk * dk * C(1, 1)))};
      double phi = p(3) - p(2) * rc;
      phi = std::remainder(phi, 2 * kPi);
      if (phi <= -kPi) phi += 2 * kPi;
      m.mro_phi = {phi, std::sqrt(std::max(0.0, C(3, 3) - 2 * rc * C(2, 3) + rc * rc * C(2, 2)))};
      m.mro_chi2_reduced = fit.chi2 / static_cast<double>(n - 4);
    }
  }
}

}  // namespace

const char* coordination_method_name(CoordinationMethod m) {
  return m == CoordinationMethod::symmetric ? "symmetric" : "first-minimum";
}

CoordinationMethod parse_coordination_method(const std::string& name) {
  if (name == "first-minimum" || name == "first_minimum" || name == "minimum") return CoordinationMethod::first_minimum;
  if (name == "symmetric") return CoordinationMethod::symmetric;
  throw InvalidArgument("unknown coordination method '" + name + "' (expected first-minimum or symmetric)");
}

void MetricsOptions::validate() const {
  std::string bad;
  auto add = [&bad](const std::string& s) { bad += (bad.empty() ? "" : "; ") + s; };
  auto window = [&](const char* lo_name, double lo, const char* hi_name, double hi) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(hi > lo)) {
      add(std::string(lo_name) + " = " + num(lo) + ", " + hi_name + " = " + num(hi) + " (expected finite, " + lo_name +
          " < " + hi_name + ")");
    }
  };
  window("q1_min", q1_min, "q1_max", q1_max);
  if (q1_min < 0) add("q1_min = " + num(q1_min) + " (expected >= 0)");
  window("r1_min", r1_min, "r1_max", r1_max);
  if (!(r1_min > 0)) add("r1_min = " + num(r1_min) + " (expected > 0)");
  window("mro_rmin", mro_rmin, "mro_rmax", mro_rmax);
  if (!(mro_rmin >= 0)) add("mro_rmin = " + num(mro_rmin) + " (expected >= 0)");
  if (!(std::isfinite(sq_maxima_qmax) && sq_maxima_qmax > q1_min))
    add("sq_maxima_qmax = " + num(sq_maxima_qmax) + " (expected finite and > q1_min = " + num(q1_min) + ")");
  if (!(std::isfinite(watch_halfwidth) && watch_halfwidth > 0))
    add("watch_halfwidth = " + num(watch_halfwidth) + " (expected finite and > 0)");
  for (std::size_t k = 0; k < watch_q.size(); ++k) {
    if (!(std::isfinite(watch_q[k]) && watch_q[k] > 2 * watch_halfwidth))
      add("watch_q[" + std::to_string(k) + "] = " + num(watch_q[k]) + " (expected finite and > 2 x watch_halfwidth)");
  }
  if (!bad.empty()) throw InvalidArgument("MetricsOptions: " + bad);
}

MetricsInput metrics_input(const ReductionResult& result) {
  MetricsInput in;
  const std::size_t j0 = std::min(result.first_measured, result.q.size());
  auto tail = [j0](const std::vector<double>& v) {
    return v.size() > j0 ? std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(j0), v.end())
                         : std::vector<double>{};
  };
  in.q = tail(result.q);
  in.sq = tail(result.sq);
  if (result.has_sigma) in.sq_sigma = tail(result.sq_sigma);
  in.r = result.r;
  in.gr = result.gr;
  if (result.has_sigma) in.gr_sigma = result.gr_sigma;
  in.rdf = result.rdf;
  in.number_density = result.number_density;
  return in;
}

StructureMetrics compute_metrics(const MetricsInput& frame, const MetricsOptions& options,
                                 const MetricsInput* reference) {
  options.validate();
  const std::string who = "compute_metrics";
  if (frame.q.empty() && frame.sq.empty() && frame.r.empty() && frame.gr.empty()) {
    throw InvalidArgument(who + ": the frame is empty (expected S(q) on q and/or G(r) on r)");
  }
  const bool have_sq = !frame.q.empty() || !frame.sq.empty();
  const bool have_gr = !frame.r.empty() || !frame.gr.empty();
  if (have_sq) check_curve("frame.q", frame.q, "frame.sq", frame.sq, "frame.sq_sigma", frame.sq_sigma, who);
  if (have_gr) {
    check_curve("frame.r", frame.r, "frame.gr", frame.gr, "frame.gr_sigma", frame.gr_sigma, who);
    if (!frame.rdf.empty()) {
      check_curve("frame.r", frame.r, "frame.rdf", frame.rdf, "frame.gr_sigma", {}, who);
    }
  } else if (!frame.rdf.empty()) {
    throw InvalidArgument(who + ": frame.rdf is given without frame.r and frame.gr");
  }
  if (frame.number_density && !(std::isfinite(*frame.number_density) && *frame.number_density > 0)) {
    throw InvalidArgument(who + ": frame.number_density = " + num(*frame.number_density) +
                          " (expected > 0 atoms/A^3, or unset)");
  }
  if (reference) {
    if (reference->q.empty() && reference->sq.empty())
      throw InvalidArgument(who + ": the reference frame has no S(q) (reference.q and reference.sq are empty)");
    check_curve("reference.q", reference->q, "reference.sq", reference->sq, "reference.sq_sigma", reference->sq_sigma,
                who);
  }
  StructureMetrics m;
  m.watch.resize(options.watch_q.size());
  for (std::size_t k = 0; k < options.watch_q.size(); ++k) m.watch[k].watch_q = options.watch_q[k];
  if (have_sq) sq_metrics(frame, options, reference, m);
  if (have_gr) gr_metrics(frame, options, m);
  return m;
}

namespace {

// The metrics in table order, with their keys.
std::vector<std::pair<std::string, const Metric*>> ordered(const StructureMetrics& m) {
  std::vector<std::pair<std::string, const Metric*>> v = {
      {"q1", &m.q1},
      {"q1_height", &m.q1_height},
      {"q1_fwhm", &m.q1_fwhm},
      {"q1_coherence_L", &m.q1_coherence_L},
      {"q2", &m.q2},
      {"q2_height", &m.q2_height},
      {"q2_fwhm", &m.q2_fwhm},
      {"q3", &m.q3},
      {"q3_height", &m.q3_height},
      {"q3_fwhm", &m.q3_fwhm},
      {"q4", &m.q4},
      {"q4_height", &m.q4_height},
      {"q4_fwhm", &m.q4_fwhm},
      {"r1", &m.r1},
      {"r1_height", &m.r1_height},
      {"r1_width", &m.r1_width},
      {"cn1", &m.cn1},
      {"cn1_rmax", &m.cn1_rmax},
      {"mro_amplitude_rms", &m.mro_amplitude_rms},
      {"mro_amplitude_p2p", &m.mro_amplitude_p2p},
      {"mro_xi", &m.mro_xi},
      {"mro_xi_extrema", &m.mro_xi_extrema},
      {"mro_qm", &m.mro_qm},
      {"mro_A", &m.mro_A},
      {"mro_phi", &m.mro_phi},
  };
  for (std::size_t k = 0; k < m.watch.size(); ++k) {
    const std::string p = "watch" + std::to_string(k + 1) + "_";
    v.emplace_back(p + "q", &m.watch[k].q);
    v.emplace_back(p + "height", &m.watch[k].height);
    v.emplace_back(p + "excess", &m.watch[k].excess);
    v.emplace_back(p + "significance", &m.watch[k].significance);
  }
  return v;
}

}  // namespace

std::vector<std::pair<std::string, double>> metrics_table(const StructureMetrics& m) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, metric] : ordered(m)) {
    out.emplace_back(key, metric->value);
    out.emplace_back(key + "_sigma", metric->sigma);
  }
  return out;
}

std::vector<std::string> metric_names(const MetricsOptions& options) {
  StructureMetrics m;
  m.watch.resize(options.watch_q.size());
  std::vector<std::string> out;
  for (const auto& [key, value] : metrics_table(m)) out.push_back(key);
  return out;
}

}  // namespace libpdf
