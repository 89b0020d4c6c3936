// The β relaxation from tan δ(T): background (α wing) + peak fitted by Levenberg–Marquardt, the excess-wing
// criterion, and the quantities the study reads off (T_β, height above background, width, tan δ at T_β).
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/relax.hpp"
#include "libpdf/relax/models.hpp"
#include "libpdf/relax/relax_detail.hpp"

namespace libpdf {

using relax_detail::num;
namespace rm = relax_models;

const char* background_model_name(BackgroundModel m) {
  return m == BackgroundModel::arrhenius ? "arrhenius" : "exponential";
}

BackgroundModel parse_background_model(const std::string& name) {
  if (name == "exponential") return BackgroundModel::exponential;
  if (name == "arrhenius") return BackgroundModel::arrhenius;
  throw InvalidArgument("background model '" + name + "' (expected exponential or arrhenius)");
}

const char* peak_model_name(PeakModel m) { return m == PeakModel::debye ? "debye" : "gaussian"; }

PeakModel parse_peak_model(const std::string& name) {
  if (name == "gaussian") return PeakModel::gaussian;
  if (name == "debye") return PeakModel::debye;
  throw InvalidArgument("peak model '" + name + "' (expected gaussian or debye)");
}

void BetaFitOptions::validate() const {
  std::vector<std::string> bad;
  auto positive = [&bad](const char* name, double v) {
    if (!(v > 0) || !std::isfinite(v)) bad.push_back(std::string(name) + " = " + num(v) + " (expected a finite value > 0)");
  };
  if (range && (!std::isfinite(range->lo_K) || !std::isfinite(range->hi_K) || !(range->lo_K < range->hi_K))) {
    bad.push_back("range = [" + num(range->lo_K) + ", " + num(range->hi_K) + "] K (expected finite lo < hi)");
  }
  positive("max_tan_delta", max_tan_delta);
  positive("smoothing_K", smoothing_K);
  positive("min_prominence", min_prominence);
  positive("min_significance", min_significance);
  if (max_iterations <= 0) bad.push_back("max_iterations = " + std::to_string(max_iterations) + " (expected > 0)");
  if (bad.empty()) return;
  std::string msg = "invalid beta-relaxation options: ";
  for (std::size_t k = 0; k < bad.size(); ++k) msg += (k ? "; " : "") + bad[k];
  throw InvalidArgument(msg);
}

double BetaModelFit::background_at(double T_K) const {
  if (parameters.size() < rm::background_parameters) return 0.0;
  return rm::background(background, parameters.data(), reference_K, T_K, nullptr);
}

double BetaModelFit::peak_at(double T_K) const {
  if (!has_peak || parameters.size() < rm::background_parameters + rm::peak_parameters) return 0.0;
  return rm::peak(peak, parameters.data() + rm::background_parameters, T_K, nullptr);
}

double BetaModelFit::total_at(double T_K) const { return background_at(T_K) + peak_at(T_K); }

namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

// The model over temperatures T for relax_detail::levenberg_marquardt.
relax_detail::ModelFunction make_model(const std::vector<double>& T, BackgroundModel bm, PeakModel pm, bool with_peak,
                                       double T_ref) {
  return [&T, bm, pm, with_peak, T_ref](const Eigen::VectorXd& p, Eigen::VectorXd& f, Eigen::MatrixXd* J) {
    if (!rm::background_valid(p.data())) return false;
    if (with_peak && !rm::peak_valid(p.data() + rm::background_parameters)) return false;
    f.resize(static_cast<Eigen::Index>(T.size()));
    double d[6];
    for (std::size_t i = 0; i < T.size(); ++i) {
      const auto ii = static_cast<Eigen::Index>(i);
      double v = rm::background(bm, p.data(), T_ref, T[i], J != nullptr ? d : nullptr);
      if (with_peak) v += rm::peak(pm, p.data() + rm::background_parameters, T[i], J != nullptr ? d + 3 : nullptr);
      f[ii] = v;
      if (J != nullptr) {
        for (Eigen::Index k = 0; k < p.size(); ++k) (*J)(ii, k) = d[k];
      }
    }
    return f.allFinite();
  };
}

std::vector<std::string> parameter_names(BackgroundModel bm, PeakModel pm, bool with_peak) {
  std::vector<std::string> names = {"c", "a", bm == BackgroundModel::exponential ? "w_K" : "E_alpha_over_k_K"};
  if (with_peak) {
    names.insert(names.end(), {"h", "T_beta_K", pm == PeakModel::gaussian ? "s_K" : "E_beta_over_k_K"});
  }
  return names;
}

// Starting background from a straight-line fit of ln(y − c) against T (exponential) or 1/T (Arrhenius) over
// points [a, b).
bool background_start(const std::vector<double>& T, const std::vector<double>& y, std::size_t a, std::size_t b,
                      BackgroundModel bm, double T_ref, double c, double* p) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (std::size_t i = a; i < b; ++i) {
    if (!(y[i] - c > 0)) continue;
    const double x = bm == BackgroundModel::exponential ? T[i] - T_ref : 1.0 / T[i] - 1.0 / T_ref;
    const double l = std::log(y[i] - c);
    sx += x;
    sy += l;
    sxx += x * x;
    sxy += x * l;
    n += 1;
  }
  if (n < 3) return false;
  const double den = n * sxx - sx * sx;
  if (!(den > 0)) return false;
  const double slope = (n * sxy - sx * sy) / den;
  const double icpt = (sy - slope * sx) / n;
  p[0] = c;
  p[1] = std::exp(icpt);
  if (bm == BackgroundModel::exponential) {
    if (!(slope > 0)) return false;
    p[2] = 1.0 / slope;
  } else {
    if (!(-slope > 0)) return false;
    p[2] = -slope;
  }
  return std::isfinite(p[1]) && std::isfinite(p[2]);
}

struct Candidate {
  relax_detail::LmResult lm;
  bool ok = false;
};

BetaModelFit to_fit(const relax_detail::LmResult& lm, BackgroundModel bm, PeakModel pm, bool with_peak, double T_ref,
                    std::size_t n) {
  BetaModelFit fit;
  fit.background = bm;
  fit.peak = pm;
  fit.has_peak = with_peak;
  fit.reference_K = T_ref;
  fit.parameters = lm.parameters;
  fit.covariance = lm.covariance;
  fit.names = parameter_names(bm, pm, with_peak);
  fit.chi2 = lm.chi2;
  fit.points = n;
  const double dof = static_cast<double>(n) - static_cast<double>(lm.parameters.size());
  fit.residual_rms = dof > 0 ? std::sqrt(lm.chi2 / dof) : 0.0;
  fit.iterations = lm.iterations;
  return fit;
}

}  // namespace

BetaRelaxation fit_beta_relaxation(const DmaCurve& curve, const BetaFitOptions& options) {
  options.validate();
  const std::string what = "DMA curve '" + curve.source + "'";
  relax_detail::check_curve(curve.temperature_K, curve.tan_delta, what, "tan delta", 2);
  const auto& T = curve.temperature_K;
  const auto& y = curve.tan_delta;

  BetaRelaxation out;
  out.source = curve.source;
  out.frequency_Hz = curve.frequency_Hz;

  // Fit range.
  TemperatureRange range;
  if (options.range) {
    range = *options.range;
    if (range.hi_K < T.front() || range.lo_K > T.back()) {
      throw InvalidArgument(what + ": the fit range [" + num(range.lo_K) + ", " + num(range.hi_K) +
                            "] K does not meet the data [" + num(T.front()) + ", " + num(T.back()) + "] K");
    }
  } else {
    range.lo_K = T.front();
    range.hi_K = T.back();
    for (std::size_t i = 0; i < T.size(); ++i) {
      if (y[i] > options.max_tan_delta) {
        range.hi_K = i > 0 ? T[i - 1] : T[0];
        break;
      }
    }
  }
  const auto [a, b] = relax_detail::index_range(T, range.lo_K, range.hi_K);
  const std::size_t n = b - a;
  constexpr std::size_t min_points = 12;  // 6 parameters, and as many points again to judge the fit
  if (n < min_points) {
    throw InvalidArgument(what + ": " + std::to_string(n) + " point" + (n == 1 ? "" : "s") + " in the fit range [" +
                          num(range.lo_K) + ", " + num(range.hi_K) + "] K (expected at least " +
                          std::to_string(min_points) +
                          (options.range ? "" : "; the default range ends where tan delta first exceeds max_tan_delta = " +
                                                    num(options.max_tan_delta)) +
                          ")");
  }
  const std::vector<double> Tr(T.begin() + static_cast<std::ptrdiff_t>(a), T.begin() + static_cast<std::ptrdiff_t>(b));
  const std::vector<double> yr(y.begin() + static_cast<std::ptrdiff_t>(a), y.begin() + static_cast<std::ptrdiff_t>(b));
  out.range = {Tr.front(), Tr.back()};
  out.points = n;
  out.noise_sigma = relax_detail::noise_sigma(yr);
  const double T_ref = Tr.back();
  const double half = 0.5 * options.smoothing_K;
  const auto smooth = relax_detail::local_quadratic(Tr, yr, half, 2);

  // (a) A clear maximum of the measured curve.
  double ymin = yr.front(), ymax = yr.front();
  for (double v : yr) {
    ymin = std::min(ymin, v);
    ymax = std::max(ymax, v);
  }
  // The noise-based threshold, with a floor of 1e-6 of the data's span for noise-free (synthetic) curves.
  const double threshold = std::max(options.min_prominence * out.noise_sigma, 1e-6 * (ymax - ymin));
  std::optional<relax_detail::Extremum> maximum;
  for (const auto& e : relax_detail::prominent_maxima(Tr, smooth.value, 0.0, half)) {
    if (!maximum || e.prominence > maximum->prominence) maximum = e;
  }
  const bool clear_maximum = maximum && maximum->prominence >= threshold;

  const BackgroundModel bm = options.background;
  const PeakModel pm = options.peak;
  relax_detail::LmOptions lm_options;
  lm_options.max_iterations = options.max_iterations;
  const Eigen::VectorXd Y = Eigen::Map<const Eigen::VectorXd>(yr.data(), static_cast<Eigen::Index>(n));

  // Starting backgrounds: the wing is the part above the valley after the maximum (or the top 30 % of the range).
  std::size_t wing_first = n - std::max<std::size_t>(n * 3 / 10, 4);
  if (maximum) wing_first = std::min(std::max(maximum->right_base, maximum->index + 1), n - 4);
  std::vector<Eigen::Vector3d> backgrounds;
  for (double frac : {0.8, 0.3, 0.0}) {
    double p[3];
    if (background_start(Tr, yr, wing_first, n, bm, T_ref, frac * std::max(ymin, 0.0), p)) {
      backgrounds.emplace_back(p[0], p[1], p[2]);
    }
  }
  if (backgrounds.empty()) {
    // A flat or falling curve: a nearly constant background rising gently over the range.
    const double span = std::max(Tr.back() - Tr.front(), 1.0);
    const double w = bm == BackgroundModel::exponential ? span : 10.0 * Tr.back();
    backgrounds.emplace_back(ymin, std::max(1e-6 * std::abs(ymax), 1e-12), w);
  }

  // Background-only fit (the excess-wing description, and a start for the peak fits).
  const auto bg_model = make_model(Tr, bm, pm, false, T_ref);
  std::optional<relax_detail::LmResult> bg_best;
  for (const auto& p0 : backgrounds) {
    try {
      const auto lm = relax_detail::levenberg_marquardt(bg_model, Y, p0, lm_options);
      if (!bg_best || lm.chi2 < bg_best->chi2) bg_best = lm;
    } catch (const NumericalError&) {
    }
  }

  // Background + peak: several starts, the lowest χ² kept among valid solutions.
  const auto full_model = make_model(Tr, bm, pm, true, T_ref);
  std::optional<relax_detail::LmResult> best;
  std::vector<Eigen::Vector3d> starts_bg = backgrounds;
  if (bg_best) starts_bg.push_back(bg_best->parameters);
  for (const auto& pb : starts_bg) {
    // Residual above this background: where the peak starts.
    std::vector<double> r(n);
    for (std::size_t i = 0; i < n; ++i) r[i] = smooth.value[i] - rm::background(bm, pb.data(), T_ref, Tr[i], nullptr);
    std::vector<std::size_t> centres;
    if (maximum) centres.push_back(maximum->index);
    centres.push_back(static_cast<std::size_t>(std::max_element(r.begin(), r.end()) - r.begin()));
    for (std::size_t ic : centres) {
      const double h0 = std::max(r[ic], 0.25 * (ymax - ymin) + 1e-12);
      // Half width at half maximum of the residual on the side that stays inside the range.
      double hw = 0;
      for (std::size_t j = ic; j-- > 0;) {
        if (r[j] < 0.5 * r[ic]) {
          hw = Tr[ic] - Tr[j];
          break;
        }
      }
      if (!(hw > 0)) {
        for (std::size_t j = ic + 1; j < n; ++j) {
          if (r[j] < 0.5 * r[ic]) {
            hw = Tr[j] - Tr[ic];
            break;
          }
        }
      }
      if (!(hw > 0)) hw = 0.2 * (Tr.back() - Tr.front());
      for (double wf : {1.0, 0.6, 1.6}) {
        const double s0 = wf * hw / std::sqrt(2 * std::log(2.0));  // Gaussian σ from the HWHM
        Eigen::VectorXd p0(6);
        p0 << pb[0], pb[1], pb[2], h0, Tr[ic], 0.0;
        if (pm == PeakModel::gaussian) {
          p0[5] = s0;
        } else {
          // E/k from the half width: 1/T_β − 1/(T_β + hw) = acosh(2)·k/E.
          const double T0 = Tr[ic];
          p0[5] = rm::acosh2 / (1.0 / T0 - 1.0 / (T0 + wf * hw));
        }
        try {
          const auto lm = relax_detail::levenberg_marquardt(full_model, Y, p0, lm_options);
          const double Tb = lm.parameters[4];
          const bool inside = Tb >= Tr.front() && Tb <= Tr.back();
          if (!inside || lm.singular) continue;
          if (!best || lm.chi2 < best->chi2) best = lm;
        } catch (const NumericalError&) {
        }
      }
    }
  }

  // (b) A significant fitted peak.
  bool significant = false;
  double h = 0, h_sigma = inf;
  if (best) {
    h = best->parameters[3];
    h_sigma = std::sqrt(std::max(best->covariance(3, 3), 0.0));
    significant = h >= options.min_significance * h_sigma && h > 0;
  }

  if (clear_maximum && !best) {
    throw NumericalError(what + ": tan delta has a maximum at " + num(Tr[maximum->index]) +
                         " K but no background + peak fit converged inside the range [" + num(range.lo_K) + ", " +
                         num(range.hi_K) + "] K (try another fit range or model)");
  }
  if (clear_maximum && significant) {
    out.fit = to_fit(*best, bm, pm, true, T_ref, n);
    out.verdict = "peak";
    BetaPeak peak;
    const Eigen::VectorXd& p = best->parameters;
    const Eigen::MatrixXd& C = best->covariance;
    peak.T_beta_K = {p[4], std::sqrt(std::max(C(4, 4), 0.0))};
    peak.height = {h, h_sigma};
    double dfw[3];
    const double fw = rm::peak_fwhm(pm, p.data() + 3, dfw);
    const Eigen::Vector3d g(dfw[0], dfw[1], dfw[2]);
    const double fw_var = g.dot(C.block<3, 3>(3, 3) * g);
    peak.fwhm_K = {fw, std::sqrt(std::max(fw_var, 0.0))};
    const auto local = relax_detail::local_quadratic_at(Tr, yr, p[4], half, out.noise_sigma);
    peak.tan_delta_at_T_beta = {local.value, std::hypot(local.value_sigma, local.slope * peak.T_beta_K.sigma)};
    peak.background_at_T_beta = out.fit.background_at(p[4]);
    peak.prominence = maximum->prominence;
    // Maximum of the fitted total near T_β (a rising background moves it above T_β), on a 0.01 K grid.
    const double reach = std::min(fw, Tr.back() - Tr.front());
    const double lo = std::max(Tr.front(), p[4] - 0.5 * reach);
    const double hi = std::min(Tr.back(), p[4] + reach);
    double best_T = p[4], best_v = -inf;
    for (double t = lo; t <= hi; t += 0.01) {
      const double v = out.fit.total_at(t);
      if (v > best_v) {
        best_v = v;
        best_T = t;
      }
    }
    peak.T_max_K = best_T;
    if (pm == PeakModel::debye) {
      peak.activation_energy_eV = ValueSigma{p[5] * rm::k_B_eV, std::sqrt(std::max(C(5, 5), 0.0)) * rm::k_B_eV};
    }
    out.peak = peak;
    return out;
  }

  // An excess wing: say which criterion failed, and report no peak.
  out.excess_wing = true;
  if (!maximum) {
    out.verdict = "excess wing: tan delta has no interior maximum in [" + num(out.range.lo_K) + ", " +
                  num(out.range.hi_K) + "] K (criterion a)";
  } else if (!clear_maximum) {
    out.verdict = "excess wing: the largest maximum of tan delta, at " + num(Tr[maximum->index]) +
                  " K, has a prominence of " + num(maximum->prominence) + ", below " + num(options.min_prominence) +
                  " x the noise sigma " + num(out.noise_sigma) + " (criterion a)";
  } else {
    out.verdict = "excess wing: the fitted peak height " + num(h) + " is below " + num(options.min_significance) +
                  " x its sigma " + num(h_sigma) + " (criterion b)";
  }
  if (best && significant) {
    out.component = to_fit(*best, bm, pm, true, T_ref, n);
    out.verdict += "; a peak component fitted at " + num(best->parameters[4]) + " K is not a maximum of the data";
  }
  if (bg_best) {
    out.fit = to_fit(*bg_best, bm, pm, false, T_ref, n);
  } else if (best) {
    out.fit = to_fit(*best, bm, pm, true, T_ref, n);
  } else {
    throw NumericalError(what + ": neither a background nor a background + peak fit converged in [" +
                         num(range.lo_K) + ", " + num(range.hi_K) + "] K");
  }
  return out;
}

}  // namespace libpdf
