// Glass transition by the tangent construction, exothermic peaks over a linear baseline, and relaxation
// enthalpies, from a DSC heating scan held endo up (docs/relaxation.md §3).
//
// Features are found on the derivative of the smoothed heat flow: the glass-transition step is a positive lobe
// of dq/dT, an exotherm a negative lobe (leading edge) followed by a positive one (trailing edge). Lobes count
// when they stand a multiple of the derivative's noise away from the baseline slope (the median of dq/dT).
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/relax.hpp"
#include "libpdf/relax/relax_detail.hpp"

namespace libpdf {

using relax_detail::num;

void DscOptions::validate() const {
  std::vector<std::string> bad;
  auto range = [&bad](const char* name, const std::optional<TemperatureRange>& r) {
    if (r && (!std::isfinite(r->lo_K) || !std::isfinite(r->hi_K) || !(r->lo_K < r->hi_K))) {
      bad.push_back(std::string(name) + " = [" + num(r->lo_K) + ", " + num(r->hi_K) + "] K (expected finite lo < hi)");
    }
  };
  range("tg_search", tg_search);
  range("glass_baseline", glass_baseline);
  range("liquid_baseline", liquid_baseline);
  range("peak_search", peak_search);
  range("relaxation_range", relaxation_range);
  auto positive = [&bad](const char* name, double v) {
    if (!(v > 0) || !std::isfinite(v)) bad.push_back(std::string(name) + " = " + num(v) + " (expected a finite value > 0)");
  };
  positive("smoothing_K", smoothing_K);
  positive("min_step_sigma", min_step_sigma);
  positive("min_peak_sigma", min_peak_sigma);
  if (bad.empty()) return;
  std::string msg = "invalid DSC options: ";
  for (std::size_t k = 0; k < bad.size(); ++k) msg += (k ? "; " : "") + bad[k];
  throw InvalidArgument(msg);
}

namespace {

// 2√(2 ln 2)/2: half width at half maximum of a Gaussian over its σ (the derivative of an erf-like step).
constexpr double hwhm_per_sigma = 1.1774100225154747;

double line_sigma(const FittedLine& l, double T) {
  return std::hypot(l.value_sigma, (T - l.T0_K) * l.slope_sigma);
}

// The extremum's position refined by a parabola through its neighbours.
double refine(const std::vector<double>& x, const std::vector<double>& v, std::size_t i) {
  if (i == 0 || i + 1 >= v.size()) return x[i];
  const double a = v[i - 1], b = v[i], c = v[i + 1];
  const double den = a - 2 * b + c;
  if (!(std::abs(den) > 0)) return x[i];
  const double t = std::clamp(0.5 * (a - c) / den, -1.0, 1.0);  // offset in steps
  return t >= 0 ? x[i] + t * (x[i + 1] - x[i]) : x[i] + t * (x[i] - x[i - 1]);
}

// Half width of a lobe of @p d (maximum at i) at half its height above @p base, towards lower (dir < 0) or
// higher (dir > 0) temperature; 0 when the half level is not reached.
double half_width(const std::vector<double>& T, const std::vector<double>& d, std::size_t i, double base, int dir) {
  const double level = base + 0.5 * (d[i] - base);
  if (dir < 0) {
    for (std::size_t j = i; j-- > 0;) {
      if (d[j] < level) {
        const double t = (level - d[j]) / (d[j + 1] - d[j]);
        return T[i] - (T[j] + t * (T[j + 1] - T[j]));
      }
    }
  } else {
    for (std::size_t j = i + 1; j < T.size(); ++j) {
      if (d[j] < level) {
        const double t = (d[j - 1] - level) / (d[j - 1] - d[j]);
        return T[j - 1] + t * (T[j] - T[j - 1]) - T[i];
      }
    }
  }
  return 0.0;
}

// Straight line through the points within ±half of @p centre (at least 3 points).
FittedLine tangent_at(const std::vector<double>& T, const std::vector<double>& H, double centre, double half,
                      double step, const std::string& what) {
  const double h = std::max(half, 1.01 * step);
  return relax_detail::fit_line_window(T, H, centre - h, centre + h, 3, what);
}

// Lobes of the smoothed slope dq/dT.
struct Features {
  relax_detail::LocalFit smooth;              // smoothed heat flow and slope
  std::vector<relax_detail::Extremum> rises;  // maxima of the slope standing out of its noise
  std::vector<relax_detail::Extremum> falls;  // minima, likewise (as maxima of −slope)
  double d_base = 0;                          // baseline slope: the median of dq/dT
  double amplitude(const relax_detail::Extremum& e) const { return std::abs(smooth.slope[e.index] - d_base); }
};

Features find_features(const std::vector<double>& T, const std::vector<double>& H, double half, double noise,
                       double min_sigma) {
  const std::size_t n = T.size();
  Features f;
  f.smooth = relax_detail::local_quadratic(T, H, half, 2);
  const auto& d = f.smooth.slope;
  // Noise σ of the smoothed slope: σ/√Σ(x − x_i)² over a window (the slope of a local quadratic at its centre).
  double sxx = 0;
  const std::size_t mid = n / 2;
  const auto [a, b] = relax_detail::index_range(T, T[mid] - half, T[mid] + half);
  for (std::size_t j = a; j < b; ++j) sxx += (T[j] - T[mid]) * (T[j] - T[mid]);
  if (!(sxx > 0)) sxx = 2 * relax_detail::median_step(T) * relax_detail::median_step(T);
  const double sigma_d = noise / std::sqrt(sxx);
  double dmin = d.front(), dmax = d.front();
  for (double v : d) {
    dmin = std::min(dmin, v);
    dmax = std::max(dmax, v);
  }
  // Most of a scan is glass, liquid or crystal baseline: the median slope is the baseline's.
  std::vector<double> sorted_d = d;
  std::nth_element(sorted_d.begin(), sorted_d.begin() + static_cast<std::ptrdiff_t>(n / 2), sorted_d.end());
  f.d_base = sorted_d[n / 2];
  // A lobe must stand min_sigma × the slope's noise away from the baseline slope (1 % of the slope's span is the
  // floor for noise-free curves); its prominence must be half that, so noise wiggles on a lobe's top do not split
  // it. (Prominence alone is not used: the peak-to-valley of noise near the ends of a scan reaches 10σ.)
  const double threshold = std::max(min_sigma * sigma_d, 0.01 * (dmax - dmin));
  std::vector<double> neg_d(n);
  for (std::size_t i = 0; i < n; ++i) neg_d[i] = -d[i];
  auto lobes = [&](const std::vector<double>& v, double base) {
    std::vector<relax_detail::Extremum> found;
    for (const auto& e : relax_detail::prominent_maxima(T, v, 0.5 * threshold, half)) {
      if (v[e.index] - base >= threshold) found.push_back(e);
    }
    return found;
  };
  f.rises = lobes(d, f.d_base);
  f.falls = lobes(neg_d, -f.d_base);
  return f;
}

// Least-squares step q = a + b(T − T_c) + Δ·Φ((T − T_i)/σ) over [T_i − 8σ, hi] from the estimates (T_i, σ).
// Returns the fitted (T_i, σ), or nullopt when the fit fails or leaves the window.
std::optional<std::pair<double, double>> fit_step(const std::vector<double>& T, const std::vector<double>& H, double Ti,
                                                  double sigma, double hi) {
  const double lo = Ti - 8 * sigma;
  const auto [a, b] = relax_detail::index_range(T, lo, hi);
  if (b - a < 12) return std::nullopt;
  const std::vector<double> x(T.begin() + static_cast<std::ptrdiff_t>(a), T.begin() + static_cast<std::ptrdiff_t>(b));
  const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(H.data() + a, static_cast<Eigen::Index>(b - a));
  const double Tc = Ti;
  relax_detail::ModelFunction model = [&x, Tc](const Eigen::VectorXd& p, Eigen::VectorXd& out, Eigen::MatrixXd* J) {
    if (!(p[4] > 0) || !(p[2] > 0)) return false;
    out.resize(static_cast<Eigen::Index>(x.size()));
    for (std::size_t i = 0; i < x.size(); ++i) {
      const auto k = static_cast<Eigen::Index>(i);
      const double u = (x[i] - p[3]) / p[4];
      const double Phi = 0.5 * std::erfc(-u / std::sqrt(2.0));
      const double phi = std::exp(-0.5 * u * u) / std::sqrt(2 * 3.14159265358979323846);
      out[k] = p[0] + p[1] * (x[i] - Tc) + p[2] * Phi;
      if (J != nullptr) {
        (*J)(k, 0) = 1;
        (*J)(k, 1) = x[i] - Tc;
        (*J)(k, 2) = Phi;
        (*J)(k, 3) = -p[2] * phi / p[4];
        (*J)(k, 4) = -p[2] * phi * u / p[4];
      }
    }
    return true;
  };
  // Start: the line through the first points, the step from the last.
  const std::size_t m = std::max<std::size_t>(3, x.size() / 10);
  double y0 = 0, y1 = 0;
  for (std::size_t i = 0; i < m; ++i) {
    y0 += y[static_cast<Eigen::Index>(i)] / static_cast<double>(m);
    y1 += y[static_cast<Eigen::Index>(x.size() - 1 - i)] / static_cast<double>(m);
  }
  Eigen::VectorXd p0(5);
  p0 << y0, 0.0, std::max(y1 - y0, 1e-12), Ti, sigma;
  try {
    const auto r = relax_detail::levenberg_marquardt(model, y, p0, relax_detail::LmOptions{});
    const double Ti_fit = r.parameters[3], s_fit = r.parameters[4];
    if (!r.converged || !(Ti_fit > lo && Ti_fit < hi) || !(s_fit < 4 * sigma) || !(s_fit > 0.25 * sigma)) {
      return std::nullopt;
    }
    return std::make_pair(Ti_fit, s_fit);
  } catch (const NumericalError&) {
    return std::nullopt;
  }
}

bool inside(const std::optional<TemperatureRange>& r, double T) { return !r || (T >= r->lo_K && T <= r->hi_K); }

}  // namespace

DscAnalysis analyze_dsc(const DscCurve& curve, const DscOptions& options) {
  options.validate();
  const std::string what = "DSC curve '" + curve.source + "'";
  constexpr std::size_t min_points = 20;  // enough for a glass line, a step and a liquid line
  relax_detail::check_curve(curve.temperature_K, curve.heat_flow, what, "heat flow", min_points);
  const auto& T = curve.temperature_K;
  const auto& H = curve.heat_flow;
  const std::size_t n = T.size();

  DscAnalysis out;
  out.source = curve.source;
  out.heat_flow_unit = curve.heat_flow_unit;
  out.enthalpy_unit = curve.heat_flow_unit == "W/g" ? "J/g" : "J";
  out.heating_rate_K_per_min = curve.heating_rate_K_per_min;
  if (!out.heating_rate_K_per_min) out.notes.push_back("heating rate unknown: no enthalpies and no delta c_p");
  // Heating rate in K/s; 0 when unknown (a plain double: GCC 12 misreports optionals as maybe-uninitialised).
  const double rate_K_per_s = curve.heating_rate_K_per_min ? *curve.heating_rate_K_per_min / 60.0 : 0.0;

  out.noise_sigma = relax_detail::noise_sigma(H);
  const double step = relax_detail::median_step(T);

  // --- Lobes of the smoothed slope, and the glass-transition step: the first rise that is not the trailing
  // edge of an exotherm. Noisy scans are smoothed more (2×, 4×, 8× the window) until a step stands out.
  Features f;
  const relax_detail::Extremum* step_lobe = nullptr;
  double smoothing = options.smoothing_K;
  const double max_smoothing = std::max(options.smoothing_K, (T.back() - T.front()) / 15);
  for (;;) {
    f = find_features(T, H, 0.5 * smoothing, out.noise_sigma, options.min_step_sigma);
    step_lobe = nullptr;
    for (const auto& r : f.rises) {
      if (!inside(options.tg_search, T[r.index])) continue;
      // The last significant fall before this rise, with no other rise between them.
      const relax_detail::Extremum* fall = nullptr;
      for (const auto& e : f.falls) {
        if (e.index < r.index) fall = &e;
      }
      bool trailing_edge = false;
      if (fall != nullptr) {
        bool rise_between = false;
        for (const auto& r2 : f.rises) rise_between = rise_between || (r2.index > fall->index && r2.index < r.index);
        trailing_edge = !rise_between && f.amplitude(*fall) >= 0.5 * f.amplitude(r);
      }
      if (!options.tg_search && trailing_edge) continue;
      step_lobe = &r;
      break;
    }
    if (step_lobe != nullptr || 2 * smoothing > max_smoothing) break;
    smoothing *= 2;
  }
  if (step_lobe == nullptr) {
    throw NumericalError(what + ": no glass-transition step found" +
                         (options.tg_search ? " in [" + num(options.tg_search->lo_K) + ", " +
                                                  num(options.tg_search->hi_K) + "] K"
                                            : std::string()) +
                         " (no rise of the heat flow whose slope stands " + num(options.min_step_sigma) +
                         " x its noise above the baseline slope, with smoothing up to " + num(smoothing) +
                         " K; check the sign convention, or give tg_search)");
  }
  if (smoothing > options.smoothing_K) {
    out.notes.push_back("noisy scan: the step was found with " + num(smoothing) + " K smoothing");
  }
  const std::vector<double>& s = f.smooth.value;
  const std::vector<double>& d = f.smooth.slope;
  const double half = 0.5 * smoothing;
  const std::size_t ii = step_lobe->index;
  GlassTransition& tg = out.glass_transition;
  // First estimates from the lobe: its top and its half width on the glass side.
  double Ti = refine(T, d, ii);
  double sl = half_width(T, d, ii, f.d_base, -1) / hwhm_per_sigma;
  double sr = half_width(T, d, ii, f.d_base, +1) / hwhm_per_sigma;
  if (!(sl > 0)) sl = sr > 0 ? sr : 5 * step;
  // The right side is widened by an enthalpy-recovery overshoot; it is not allowed to exceed twice the left.
  if (!(sr > 0) || sr > 2 * sl) sr = std::min(sr > 0 ? sr : sl, 2 * sl);
  // Refined by a least-squares erf step on a sloped line over the step (stopping before the next fall: an
  // overshoot or an exotherm), twice: the windows below scale with the step's width, which noise on the slope's
  // half width would otherwise set.
  {
    double next_fall = T.back();
    for (const auto& e : f.falls) {
      if (e.index > ii) {
        next_fall = T[e.index];
        break;
      }
    }
    for (int pass = 0; pass < 2; ++pass) {
      const auto fit = fit_step(T, H, Ti, sl, std::min(Ti + 5 * sl, next_fall));
      if (!fit) break;
      Ti = fit->first;
      sl = sr = fit->second;
    }
  }
  tg.inflection_K = Ti;

  // --- Exotherms above the step: the last fall before each later rise, paired with it.
  const double peak_lo = options.peak_search ? options.peak_search->lo_K : Ti + 2 * sr;
  const double peak_hi = options.peak_search ? options.peak_search->hi_K : T.back();
  struct Pair {
    std::size_t lead, trail;
  };
  std::vector<Pair> pairs;
  {
    std::size_t last_trail = 0;
    for (const auto& r : f.rises) {
      if (T[r.index] <= peak_lo || T[r.index] > peak_hi) continue;
      const relax_detail::Extremum* fall = nullptr;
      for (const auto& e : f.falls) {
        if (e.index < r.index && e.index > last_trail && T[e.index] >= peak_lo) fall = &e;
      }
      if (fall == nullptr) continue;
      pairs.push_back({fall->index, r.index});
      last_trail = r.index;
    }
  }

  // --- Construction lines of the glass transition.
  const TemperatureRange gwin = options.glass_baseline
                                    ? *options.glass_baseline
                                    : TemperatureRange{std::max(T.front(), Ti - 8 * sl), Ti - 3 * sl};
  const auto gcount = relax_detail::index_range(T, gwin.lo_K, gwin.hi_K);
  TemperatureRange gw = gwin;
  if (!options.glass_baseline && gcount.second - gcount.first < 5) gw.lo_K = T.front();
  tg.glass_line = relax_detail::fit_line_window(T, H, gw.lo_K, gw.hi_K, 3, what + ": glass baseline");
  TemperatureRange lwin = options.liquid_baseline ? *options.liquid_baseline
                                                  : TemperatureRange{Ti + 3 * sr, std::min(T.back(), Ti + 6 * sr)};
  if (!options.liquid_baseline && !pairs.empty()) {
    // Stop before the first exotherm starts (3.5 half-widths before its minimum, as its own baseline does).
    const std::size_t lead = pairs.front().lead;
    const double start = T[lead] - 2.5 * std::max(T[pairs.front().trail] - T[lead], 0.0) / 2;
    if (start < lwin.hi_K) lwin.hi_K = std::max(start, Ti + 3 * sr + 2 * step);
    // A short plateau: start the line closer to the step (Φ(2) = 97.7 % of it is reached there).
    const auto [a, b] = relax_detail::index_range(T, lwin.lo_K, lwin.hi_K);
    if (b - a < 8) lwin.lo_K = Ti + 2 * sr;
  }
  tg.liquid_line = relax_detail::fit_line_window(T, H, lwin.lo_K, lwin.hi_K, 3, what + ": supercooled-liquid baseline");
  tg.tangent = tangent_at(T, H, Ti, 0.5 * sl, step, what + ": inflectional tangent");
  tg.onset_K = relax_detail::intersect(tg.glass_line, tg.tangent);
  tg.end_K = relax_detail::intersect(tg.tangent, tg.liquid_line);
  out.notes.push_back("glass line fitted over [" + num(tg.glass_line.range.lo_K) + ", " + num(tg.glass_line.range.hi_K) +
                      "] K, liquid line over [" + num(tg.liquid_line.range.lo_K) + ", " +
                      num(tg.liquid_line.range.hi_K) + "] K, tangent at " + num(Ti) + " K");

  // Midpoint: where the smoothed curve crosses halfway between the two lines.
  {
    auto excess = [&](std::size_t i) { return s[i] - 0.5 * (tg.glass_line.at(T[i]) + tg.liquid_line.at(T[i])); };
    const auto [a, b] = relax_detail::index_range(T, tg.onset_K.value - 2 * sl, tg.end_K.value + 2 * sr);
    double Tm = Ti;
    bool found = false;
    for (std::size_t i = std::max<std::size_t>(a, 1); i < b && i < n; ++i) {
      if (excess(i - 1) < 0 && excess(i) >= 0) {
        const double t = -excess(i - 1) / (excess(i) - excess(i - 1));
        Tm = T[i - 1] + t * (T[i] - T[i - 1]);
        found = true;
        break;
      }
    }
    if (!found) out.notes.push_back("the curve does not cross the half-step line: midpoint set to the inflection");
    const double k = relax_detail::interpolate(T, d, Tm) - 0.5 * (tg.glass_line.slope + tg.liquid_line.slope);
    const auto [wa, wb] = relax_detail::index_range(T, Tm - half, Tm + half);
    const double s_sigma = out.noise_sigma / std::sqrt(static_cast<double>(std::max<std::size_t>(wb - wa, 1)));
    const double l_sigma = 0.5 * std::hypot(line_sigma(tg.glass_line, Tm), line_sigma(tg.liquid_line, Tm));
    tg.midpoint_K = {Tm, std::abs(k) > 0 ? std::hypot(s_sigma, l_sigma) / std::abs(k) : 0.0};
    tg.step_height = tg.liquid_line.at(Tm) - tg.glass_line.at(Tm);
    if (rate_K_per_s > 0) tg.delta_cp = tg.step_height / rate_K_per_s;
  }

  // --- Exothermic peaks.
  double previous_stop = tg.liquid_line.range.lo_K;
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const std::size_t il = pairs[k].lead, it = pairs[k].trail;
    std::size_t ip = il;
    for (std::size_t i = il; i <= it; ++i) {
      if (s[i] < s[ip]) ip = i;
    }
    ExothermicPeak pk;
    pk.peak_K = refine(T, s, ip);
    const double Tl = refine(T, d, il), Tt = refine(T, d, it);
    const double wl = std::max(pk.peak_K - Tl, step), wr = std::max(Tt - pk.peak_K, step);
    // ±3.5 inflection half-widths hold 99.95 % of a Gaussian peak.
    pk.start_K = std::max(T.front(), pk.peak_K - 3.5 * wl);
    pk.stop_K = std::min(T.back(), pk.peak_K + 3.5 * wr);
    const double next_lead = k + 1 < pairs.size() ? T[pairs[k + 1].lead] - 2 * wr : T.back();
    // Baselines either side, with fallbacks when the data leave no room.
    const double pre_lo = std::max(previous_stop, pk.peak_K - 6 * wl);
    const auto pre_n = relax_detail::index_range(T, pre_lo, pk.start_K);
    if (pre_n.second - pre_n.first >= 4) {
      pk.pre_baseline = relax_detail::fit_line_window(T, H, pre_lo, pk.start_K, 4, what + ": pre-peak baseline");
    } else {
      pk.pre_baseline = tg.liquid_line;
      out.notes.push_back("exotherm at " + num(pk.peak_K) + " K: too few points before it, the liquid line is its "
                          "pre-peak baseline");
    }
    const double post_hi = std::min({T.back(), pk.peak_K + 6 * wr, next_lead});
    const auto post_n = relax_detail::index_range(T, pk.stop_K, post_hi);
    if (post_n.second - post_n.first >= 4) {
      pk.post_baseline = relax_detail::fit_line_window(T, H, pk.stop_K, post_hi, 4, what + ": post-peak baseline");
    } else {
      pk.post_baseline = pk.pre_baseline;
      out.notes.push_back("exotherm at " + num(pk.peak_K) + " K: too few points after it, the pre-peak baseline "
                          "is extended under it");
    }
    const double b0 = pk.pre_baseline.at(pk.start_K), b1 = pk.post_baseline.at(pk.stop_K);
    auto baseline = [&](double t) { return b0 + (b1 - b0) * (t - pk.start_K) / (pk.stop_K - pk.start_K); };
    pk.height = baseline(pk.peak_K) - relax_detail::interpolate(T, s, pk.peak_K);
    if (!(pk.height >= options.min_peak_sigma * out.noise_sigma) || !(pk.height > 0)) {
      out.notes.push_back("a dip at " + num(pk.peak_K) + " K of depth " + num(pk.height) + " is below " +
                          num(options.min_peak_sigma) + " x the noise sigma: not reported");
      continue;
    }
    const FittedLine lead = tangent_at(T, H, Tl, 0.35 * wl, step, what + ": leading-edge tangent");
    const FittedLine trail = tangent_at(T, H, Tt, 0.35 * wr, step, what + ": trailing-edge tangent");
    pk.onset_K = relax_detail::intersect(pk.pre_baseline, lead);
    pk.end_K = relax_detail::intersect(trail, pk.post_baseline);
    if (rate_K_per_s > 0) {
      std::vector<double> diff(n);
      for (std::size_t i = 0; i < n; ++i) diff[i] = baseline(T[i]) - H[i];
      const double area = relax_detail::integrate(T, diff, pk.start_K, pk.stop_K);
      // σ: white noise summed by the trapezoid rule, and the chord's two ends.
      const auto [a, b] = relax_detail::index_range(T, pk.start_K, pk.stop_K);
      const double noise_term = out.noise_sigma * step * std::sqrt(static_cast<double>(b - a));
      const double base_term = 0.5 * (pk.stop_K - pk.start_K) *
                               std::hypot(line_sigma(pk.pre_baseline, pk.start_K), line_sigma(pk.post_baseline, pk.stop_K));
      pk.enthalpy = ValueSigma{area / rate_K_per_s, std::hypot(noise_term, base_term) / rate_K_per_s};
    }
    previous_stop = pk.stop_K;
    out.exotherms.push_back(pk);
  }

  // --- Relaxation enthalpy against the chord across relaxation_range.
  if (options.relaxation_range) {
    const auto r = *options.relaxation_range;
    if (r.lo_K < T.front() || r.hi_K > T.back()) {
      throw InvalidArgument(what + ": relaxation_range [" + num(r.lo_K) + ", " + num(r.hi_K) +
                            "] K is not inside the data [" + num(T.front()) + ", " + num(T.back()) + "] K");
    }
    if (!(rate_K_per_s > 0)) {
      out.notes.push_back("relaxation enthalpy not computed: the heating rate is unknown");
    } else {
      const double c0 = relax_detail::interpolate(T, s, r.lo_K), c1 = relax_detail::interpolate(T, s, r.hi_K);
      std::vector<double> diff(n);
      for (std::size_t i = 0; i < n; ++i) diff[i] = c0 + (c1 - c0) * (T[i] - r.lo_K) / (r.hi_K - r.lo_K) - H[i];
      const auto [a, b] = relax_detail::index_range(T, r.lo_K, r.hi_K);
      const double sigma = out.noise_sigma * step * std::sqrt(static_cast<double>(b - a));
      out.relaxation_enthalpy =
          ValueSigma{relax_detail::integrate(T, diff, r.lo_K, r.hi_K) / rate_K_per_s, sigma / rate_K_per_s};
    }
  }
  return out;
}

ValueSigma relaxation_enthalpy(const DscCurve& scan, const DscCurve& reference, TemperatureRange range) {
  const std::string what = "DSC curve '" + scan.source + "'";
  const std::string rwhat = "DSC reference curve '" + reference.source + "'";
  relax_detail::check_curve(scan.temperature_K, scan.heat_flow, what, "heat flow", 2);
  relax_detail::check_curve(reference.temperature_K, reference.heat_flow, rwhat, "heat flow", 2);
  if (!std::isfinite(range.lo_K) || !std::isfinite(range.hi_K) || !(range.lo_K < range.hi_K)) {
    throw InvalidArgument("relaxation enthalpy: range [" + num(range.lo_K) + ", " + num(range.hi_K) +
                          "] K (expected finite lo < hi)");
  }
  for (const DscCurve* c : {&scan, &reference}) {
    if (range.lo_K < c->temperature_K.front() || range.hi_K > c->temperature_K.back()) {
      throw InvalidArgument("relaxation enthalpy: the range [" + num(range.lo_K) + ", " + num(range.hi_K) +
                            "] K is not covered by '" + c->source + "' ([" + num(c->temperature_K.front()) + ", " +
                            num(c->temperature_K.back()) + "] K)");
    }
  }
  if (scan.heat_flow_unit != reference.heat_flow_unit) {
    throw InvalidArgument("relaxation enthalpy: '" + scan.source + "' is in " + scan.heat_flow_unit + " but '" +
                          reference.source + "' in " + reference.heat_flow_unit + " (expected the same unit)");
  }
  if (!scan.heating_rate_K_per_min) {
    throw InvalidArgument("relaxation enthalpy: the heating rate of '" + scan.source +
                          "' is unknown (expected it in the file header or given when reading)");
  }
  const auto& T = scan.temperature_K;
  std::vector<double> diff(T.size());
  for (std::size_t i = 0; i < T.size(); ++i) {
    diff[i] = relax_detail::interpolate(reference.temperature_K, reference.heat_flow, T[i]) - scan.heat_flow[i];
  }
  const double rate = *scan.heating_rate_K_per_min / 60.0;
  const auto [a, b] = relax_detail::index_range(T, range.lo_K, range.hi_K);
  const double sigma = std::hypot(relax_detail::noise_sigma(scan.heat_flow), relax_detail::noise_sigma(reference.heat_flow)) *
                       relax_detail::median_step(T) * std::sqrt(static_cast<double>(b - a));
  return {relax_detail::integrate(T, diff, range.lo_K, range.hi_K) / rate, sigma / rate};
}

}  // namespace libpdf
