// The reduction I(q) -> S(q), F(q) -> G(r), g(r), RDF(r). Every formula is written out in docs/pdf.md; the
// comments here say why each numerical choice was made.
#include "libpdf/reduce.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"

namespace libpdf {
namespace {

constexpr double pi = 3.14159265358979323846;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// ---------------------------------------------------------------------------------------------------
// Input checks.

void check_pattern(const char* name, const IntensityPattern& p) {
  const std::string what(name);
  if (p.q.size() != p.intensity.size()) {
    throw InvalidArgument(what + ": q has " + std::to_string(p.q.size()) + " points but intensity has " +
                          std::to_string(p.intensity.size()));
  }
  if (!p.sigma.empty() && p.sigma.size() != p.q.size()) {
    throw InvalidArgument(what + ": sigma has " + std::to_string(p.sigma.size()) + " points, expected " +
                          std::to_string(p.q.size()) + " (or none)");
  }
  if (p.q.size() < 3) throw InvalidArgument(what + ": " + std::to_string(p.q.size()) + " points (expected at least 3)");
  for (std::size_t k = 0; k < p.q.size(); ++k) {
    if (!std::isfinite(p.q[k]) || p.q[k] < 0) {
      throw InvalidArgument(what + ": q at point " + std::to_string(k + 1) + " is " + num(p.q[k]) +
                            " (expected a finite value >= 0, in 1/A)");
    }
    if (!std::isfinite(p.intensity[k])) {
      throw InvalidArgument(what + ": intensity at point " + std::to_string(k + 1) + " (q = " + num(p.q[k]) + ") is " +
                            num(p.intensity[k]) + " (expected a finite number)");
    }
    if (!p.sigma.empty() && (!std::isfinite(p.sigma[k]) || p.sigma[k] < 0)) {
      throw InvalidArgument(what + ": sigma at point " + std::to_string(k + 1) + " (q = " + num(p.q[k]) + ") is " +
                            num(p.sigma[k]) + " (expected a finite value >= 0)");
    }
    if (k > 0 && !(p.q[k] > p.q[k - 1])) {
      throw InvalidArgument(what + ": q is not increasing at point " + std::to_string(k + 1) + " (q = " + num(p.q[k]) +
                            " after " + num(p.q[k - 1]) + ")");
    }
  }
}

// Mean step of a uniform grid. @throws InvalidArgument naming the first step off by more than 0.1 % (text
// files print q with 7–10 digits: their steps scatter by far less).
double uniform_step(const IntensityPattern& p) {
  const double mean = (p.q.back() - p.q.front()) / static_cast<double>(p.q.size() - 1);
  for (std::size_t k = 1; k < p.q.size(); ++k) {
    const double d = p.q[k] - p.q[k - 1];
    if (std::fabs(d - mean) > 1e-3 * mean) {
      throw InvalidArgument("sample: q is not uniform: the step before point " + std::to_string(k + 1) +
                            " (q = " + num(p.q[k]) + ") is " + num(d) + ", the mean step " + num(mean) +
                            " (0.1 % tolerance); set qstep to resample the pattern onto a uniform grid");
    }
  }
  return mean;
}

// Linear interpolation of (x, y, var) onto the points g[j0..j1) (all inside [x.front(), x.back()] up to
// @p tol; beyond, the end value is used). var is interpolated as (1−t)²v_a + t²v_b, the variance of the
// interpolated value for independent points. Returns whether any point needed interpolation.
bool interpolate(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& var,
                 const std::vector<double>& g, std::size_t j0, std::size_t j1, std::vector<double>& out,
                 std::vector<double>& out_var) {
  bool moved = false;
  std::size_t k = 0;
  const double tiny = 1e-9 * (x.back() - x.front()) / static_cast<double>(x.size());
  for (std::size_t j = j0; j < j1; ++j) {
    const double qj = g[j];
    while (k + 2 < x.size() && x[k + 1] <= qj) ++k;
    const double span = x[k + 1] - x[k];
    double t = (qj - x[k]) / span;
    t = std::clamp(t, 0.0, 1.0);
    if (std::fabs(qj - x[k]) <= tiny) {
      t = 0.0;
    } else if (std::fabs(qj - x[k + 1]) <= tiny) {
      t = 1.0;
    } else {
      moved = true;
    }
    out[j] = (1 - t) * y[k] + t * y[k + 1];
    if (!var.empty()) out_var[j] = (1 - t) * (1 - t) * var[k] + t * t * var[k + 1];
  }
  return moved;
}

// ---------------------------------------------------------------------------------------------------
// The prepared problem: grid, resampled data, scattering factors and transform plans, fixed for every
// trial of the optimiser.

struct Problem {
  const ReductionOptions& opt;
  double qmin = 0, qmax = 0, qmaxinst = 0, dq = 0;
  double data_qmin = 0, data_qmax = 0;
  std::size_t na = 0;  // analysis grid 0..na−1, up to max(qmax, qmaxinst)
  std::size_t nq = 0;  // transform grid 0..nq−1, up to qmax
  std::size_t j0 = 0;  // first measured point
  std::vector<double> q;
  std::vector<double> Is, vIs;               // on the analysis grid, 0 below j0
  std::vector<std::vector<double>> Ib, vIb;  // background terms on the analysis grid (vIb[k] empty: no σ)
  std::vector<double> bscale;                // their scales (bscale[0] is replaced by the trial's b)
  bool has_sigma = false, resampled = false;
  std::vector<double> f2, f1sq, inc;    // ⟨f²⟩, ⟨f⟩², I_inc
  const SineTransform* plan = nullptr;  // final transform (user's r grid and window), owned by the cache
  const SineTransform* lowr = nullptr;  // 0..r_c, no window, for the refinement and its residual (or none)
  int degree = 0;                       // ad hoc polynomial degree

  explicit Problem(const ReductionOptions& o) : opt(o) {}
};

// What a reduction builds from its options and the q grid alone, kept between the reductions of a Reducer (a
// series) and rebuilt only when the grid asks for something else: the transform plans (FFTW planning is the
// largest fixed cost of a reduction) and the scattering factors on the grid. reduce() uses a fresh one per call.
struct ReductionCache {
  std::optional<TransformOptions> plan_options, lowr_options;
  std::unique_ptr<SineTransform> plan, lowr;
  std::vector<double> sf_q;  // the grid the factors below are on
  std::vector<double> f2, f1sq, inc;
  std::size_t plans_built = 0;
};

bool same_transform(const TransformOptions& a, const TransformOptions& b) {
  return a.qmax == b.qmax && a.qstep == b.qstep && a.rmin == b.rmin && a.rmax == b.rmax && a.rstep == b.rstep &&
         a.window == b.window && a.taper_width == b.taper_width && a.planning == b.planning && a.threads == b.threads;
}

// The plan for @p o from the cache slot (@p held, @p plan), built when the slot holds another one.
const SineTransform& cached_plan(std::optional<TransformOptions>& held, std::unique_ptr<SineTransform>& plan,
                                 const TransformOptions& o, std::size_t& built) {
  if (!plan || !held || !same_transform(*held, o)) {
    plan.reset();
    held.reset();
    plan = std::make_unique<SineTransform>(o);
    held = o;
    ++built;
  }
  return *plan;
}

// One evaluation of the reduction for a background scale and density.
struct Trial {
  double alpha = 0;
  std::vector<double> Ic, vIc;  // analysis grid
  std::vector<double> S, vS;    // transform grid, Faber–Ziman
  std::vector<double> adhoc;    // c_1..c_n
  double adhoc_slope = 0;       // s of the low-r ad hoc fit (4πρ₀)
  int iterations = 0;
};

double weight_of(HighQWeight w, double q) {
  switch (w) {
    case HighQWeight::none:
      return 1.0;
    case HighQWeight::q:
      return q;
    case HighQWeight::q2:
      return q * q;
  }
  return 1.0;
}

// α from least squares of α·I_c − (⟨f²⟩ + I_inc) over q > highq_qmin up to index @p end.
double highq_alpha(const Problem& P, const std::vector<double>& Ic, std::size_t end) {
  double sxy = 0, sxx = 0;
  std::size_t n = 0;
  for (std::size_t j = P.j0; j < end; ++j) {
    if (!(P.q[j] > P.opt.highq_qmin)) continue;
    const double w = weight_of(P.opt.highq_weight, P.q[j]);
    sxy += w * Ic[j] * (P.f2[j] + P.inc[j]);
    sxx += w * Ic[j] * Ic[j];
    ++n;
  }
  if (n < 2 || !(sxx > 0)) {
    throw NumericalError("high-q normalisation: no usable data above highq_qmin = " + num(P.opt.highq_qmin) +
                         " 1/A (up to q = " + num(P.q[end - 1]) + ")");
  }
  return sxy / sxx;
}

// α from the Krogh-Moe/Norman sum rule ∫₀^qmax q²[S − 1] dq = −2π²ρ₀, trapezoid over the whole transform
// grid including the extrapolated region: every S_j is affine in α (S_j = α a_j + b_j), so α solves one
// linear equation.
double kmn_alpha(const Problem& P, const std::vector<double>& Ic, double rho) {
  std::vector<double> a(P.nq, 0.0), b(P.nq, 0.0);
  for (std::size_t j = P.j0; j < P.nq; ++j) {
    a[j] = Ic[j] / P.f1sq[j];
    b[j] = 1.0 - (P.inc[j] + P.f2[j]) / P.f1sq[j];
  }
  const double q0 = P.q[P.j0];
  for (std::size_t j = 0; j < P.j0; ++j) {
    switch (P.opt.extrapolation) {
      case LowQExtrapolation::none:
        b[j] = 1.0;
        break;  // S = 1: contributes nothing
      case LowQExtrapolation::zero:
        break;  // S = 0
      case LowQExtrapolation::linear:
        a[j] = a[P.j0] * P.q[j] / q0;
        b[j] = b[P.j0] * P.q[j] / q0;
        break;
    }
  }
  double sa = 0, sb = 0;
  for (std::size_t j = 0; j < P.nq; ++j) {
    const double w = (j == 0 || j + 1 == P.nq) ? 0.5 : 1.0;
    const double q2 = P.q[j] * P.q[j];
    sa += w * q2 * a[j];
    sb += w * q2 * (b[j] - 1.0);
  }
  if (!(sa > 0)) throw NumericalError("Krogh-Moe/Norman normalisation: the integral of q^2 I/<f>^2 is not positive");
  return (-2 * pi * pi * rho / P.dq - sb) / sa;
}

// Fills S below the first measured point according to the extrapolation choice (σ = 0 there).
void extrapolate(const Problem& P, std::vector<double>& S, std::vector<double>& vS) {
  const double s0 = S[P.j0], q0 = P.q[P.j0];
  for (std::size_t j = 0; j < P.j0; ++j) {
    switch (P.opt.extrapolation) {
      case LowQExtrapolation::none:
        S[j] = 1.0;
        break;
      case LowQExtrapolation::zero:
        S[j] = 0.0;
        break;
      case LowQExtrapolation::linear:
        S[j] = s0 * P.q[j] / q0;
        break;
    }
    vS[j] = 0.0;
  }
}

// The ad hoc correction: subtract q·P(q) = Σ_{k=1}^{n} c_k q^k, least-squares fitted to F_m = q(S − 1) over
// [qmin, qmaxinst], from F on the measured points. Fitted in x = q/qmaxinst (conditioning) by column-pivoted QR.
std::vector<double> adhoc_correct(const Problem& P, std::vector<double>& S_analysis) {
  const int n = P.degree;
  std::vector<std::size_t> rows;
  for (std::size_t j = P.j0; j < P.na; ++j) {
    if (P.q[j] >= P.qmin - 1e-12 && P.q[j] <= P.qmaxinst + 1e-12) rows.push_back(j);
  }
  if (rows.size() < static_cast<std::size_t>(2 * n)) {
    throw NumericalError("ad hoc correction: " + std::to_string(rows.size()) +
                         " points in [qmin, qmaxinst] for a degree-" + std::to_string(n) +
                         " polynomial (expected at least " + std::to_string(2 * n) + ")");
  }
  Eigen::MatrixXd X(static_cast<Eigen::Index>(rows.size()), n);
  Eigen::VectorXd y(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double qj = P.q[rows[r]];
    const double x = qj / P.qmaxinst;
    double p = 1;
    for (int k = 0; k < n; ++k) {
      p *= x;
      X(static_cast<Eigen::Index>(r), k) = p;
    }
    y(static_cast<Eigen::Index>(r)) = qj * (S_analysis[rows[r]] - 1.0);
  }
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(X);
  if (qr.rank() < n) {
    throw NumericalError("ad hoc correction: the degree-" + std::to_string(n) + " polynomial fit is singular");
  }
  const Eigen::VectorXd beta = qr.solve(y);
  std::vector<double> c(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) c[static_cast<std::size_t>(k)] = beta(k) / std::pow(P.qmaxinst, k + 1);
  for (std::size_t j = P.j0; j < P.na; ++j) {
    const double x = P.q[j] / P.qmaxinst;
    double poly = 0, p = 1;
    for (int k = 0; k < n; ++k) {
      p *= x;
      poly += beta(k) * p;
    }
    const double F = P.q[j] * (S_analysis[j] - 1.0) - poly;
    S_analysis[j] = 1.0 + F / P.q[j];
  }
  return c;
}

// G(r) + 4πρ₀r on the low-r grid, with the trapezoid's half weight at r_c (r = 0 contributes 0 anyway).
std::vector<double> low_r_deviation(const Problem& P, const std::vector<double>& S, double rho) {
  std::vector<double> F(P.nq);
  for (std::size_t j = 0; j < P.nq; ++j) F[j] = P.q[j] * (S[j] - 1.0);
  std::vector<double> G = P.lowr->forward(F);
  const double dr = P.lowr->options().rstep;
  for (std::size_t i = 0; i < G.size(); ++i) G[i] += 4 * pi * rho * static_cast<double>(i) * dr;
  return G;
}

double low_r_residual(const Problem& P, const std::vector<double>& S, double rho) {
  const auto d = low_r_deviation(P, S, rho);
  const double dr = P.lowr->options().rstep;
  double s = 0;
  for (std::size_t i = 0; i < d.size(); ++i) s += (i + 1 == d.size() ? 0.5 : 1.0) * d[i] * d[i];
  return s * dr;
}

// The ad hoc polynomial chosen in r space instead of q space (AdhocFit::low_r): c_1..c_n of q·P(q) and a slope s
// by linear least squares so that the corrected G(r) is the straight line −s·r on (0, r_c] (no atom closer than
// r_c), i.e. minimise ∫₀^{r_c} [G_m(r) − Σ_k c_k G_k(r) + s·r]² dr, G_k the transform of the k-th basis term
// (with the low-q extrapolation it implies). s = 4πρ₀ comes out of the fit: no density is needed. Returns c
// (in q, like adhoc_correct) and sets @p slope.
// Why: the q-space fit of PDFgetX3 also absorbs the true low-q part of F (F ≈ −q below the first peak, the
// counterpart of −4πρ₀r below r_poly), which leaves S(q) of a model glass up to 13 % of its first peak wrong at
// q = 0.5 1/Å. The polynomial is the same family (same degree, no constant term); only the criterion changes,
// to the one physical fact it is meant to restore. On the test glass this recovers S(q) to 0.3 % of the peak and
// ρ₀ to 0.5 % (tests/test_reduce.cpp). The basis is transformed on the low-r plan (0..r_c), n + 1 transforms.
std::vector<double> adhoc_low_r(const Problem& P, std::vector<double>& S, double& slope) {
  const int n = P.degree;
  const std::size_t nr = P.lowr->nr();
  const double dr = P.lowr->options().rstep;
  const double q0 = P.q[P.j0];
  auto basis = [&](int k) {  // ΔF of q^k (in x = q/qmax) on the measured points, extrapolated below j0
    std::vector<double> F(P.nq, 0.0);
    for (std::size_t j = P.j0; j < P.nq; ++j) F[j] = std::pow(P.q[j] / P.qmax, k);
    if (P.opt.extrapolation == LowQExtrapolation::linear) {
      for (std::size_t j = 0; j < P.j0; ++j) F[j] = F[P.j0] * P.q[j] * P.q[j] / (q0 * q0);
    }
    return F;
  };
  std::vector<double> Fm(P.nq);
  for (std::size_t j = 0; j < P.nq; ++j) Fm[j] = P.q[j] * (S[j] - 1.0);
  const auto Gm = P.lowr->forward(Fm);
  Eigen::MatrixXd A(static_cast<Eigen::Index>(nr), n + 1);
  Eigen::VectorXd y(static_cast<Eigen::Index>(nr));
  for (int k = 0; k < n; ++k) {
    const auto Gk = P.lowr->forward(basis(k + 1));
    for (std::size_t i = 0; i < nr; ++i) A(static_cast<Eigen::Index>(i), k) = Gk[i];
  }
  for (std::size_t i = 0; i < nr; ++i) {
    const double w = std::sqrt(i + 1 == nr ? 0.5 : 1.0);  // trapezoid
    A(static_cast<Eigen::Index>(i), n) = -static_cast<double>(i) * dr;
    y(static_cast<Eigen::Index>(i)) = Gm[i];
    A.row(static_cast<Eigen::Index>(i)) *= w;
    y(static_cast<Eigen::Index>(i)) *= w;
  }
  Eigen::ColPivHouseholderQR<Eigen::MatrixXd> qr(A);
  if (qr.rank() < n + 1) {
    throw NumericalError("ad hoc correction (low-r fit): the degree-" + std::to_string(n) +
                         " polynomial and the slope are not determined by G(r) on (0, r_c = " +
                         num(*P.opt.low_r_cutoff) + " A] (" + std::to_string(nr) +
                         " points); raise low_r_cutoff or lower rpoly");
  }
  const Eigen::VectorXd beta = qr.solve(y);
  slope = beta(n);
  if (!(slope > 0)) {
    throw NumericalError("ad hoc correction (low-r fit): the fitted baseline slope 4*pi*rho0 = " + num(slope) +
                         " 1/A^3 is not positive; G(r) below r_c = " + num(*P.opt.low_r_cutoff) +
                         " A does not fall like -4 pi rho0 r (is r_c beyond the first shell?)");
  }
  std::vector<double> c(static_cast<std::size_t>(n));
  for (int k = 0; k < n; ++k) c[static_cast<std::size_t>(k)] = beta(k) / std::pow(P.qmax, k + 1);
  for (std::size_t j = P.j0; j < P.nq; ++j) {
    double poly = 0;
    for (int k = 0; k < n; ++k) poly += beta(k) * std::pow(P.q[j] / P.qmax, k + 1);
    S[j] -= poly / P.q[j];
  }
  return c;
}

// Eggert et al. (2002) / Kaplow: S ← S·[1 − (1/q)∫₀^{r_c} (G(r) + 4πρ₀r) sin(qr) dr], the integral being the
// plan's inverse sine sum over 0..r_c (trapezoid).
void low_r_refine(const Problem& P, Trial& t, double rho) {
  for (int it = 0; it < P.opt.low_r_iterations; ++it) {
    auto d = low_r_deviation(P, t.S, rho);
    d.back() *= 0.5;
    const auto dF = P.lowr->inverse(d);
    for (std::size_t j = 1; j < P.nq; ++j) {
      const double factor = 1.0 - dF[j] / P.q[j];
      t.S[j] *= factor;
      t.vS[j] *= factor * factor;
    }
    ++t.iterations;
  }
}

Trial evaluate(const Problem& P, double b, std::optional<double> rho) {
  Trial t;
  t.Ic.assign(P.na, 0.0);
  t.vIc.assign(P.na, 0.0);
  for (std::size_t j = P.j0; j < P.na; ++j) {
    double ic = P.Is[j], v = P.has_sigma ? P.vIs[j] : 0.0;
    for (std::size_t k = 0; k < P.Ib.size(); ++k) {
      const double scale = k == 0 ? b : P.bscale[k];
      ic -= scale * P.Ib[k][j];
      if (P.has_sigma && !P.vIb[k].empty()) v += scale * scale * P.vIb[k][j];
    }
    t.Ic[j] = ic;
    t.vIc[j] = v;
  }
  switch (P.opt.normalization) {
    case Normalization::high_q:
      t.alpha = highq_alpha(P, t.Ic, P.nq);
      break;
    case Normalization::ad_hoc:
      t.alpha = highq_alpha(P, t.Ic, P.na);
      break;
    case Normalization::krogh_moe_norman:
      t.alpha = kmn_alpha(P, t.Ic, *rho);
      break;
  }
  if (!(t.alpha > 0) || !std::isfinite(t.alpha)) {
    throw NumericalError("normalisation factor alpha = " + num(t.alpha) + " (" +
                         normalization_name(P.opt.normalization) +
                         "): expected > 0; the background-subtracted intensity is not positive where it matters "
                         "(check the background scale and the q range)");
  }
  std::vector<double> S(P.na, 0.0), vS(P.na, 0.0);
  for (std::size_t j = P.j0; j < P.na; ++j) {
    S[j] = 1.0 + (t.alpha * t.Ic[j] - P.inc[j] - P.f2[j]) / P.f1sq[j];
    vS[j] = t.alpha * t.alpha * t.vIc[j] / (P.f1sq[j] * P.f1sq[j]);
  }
  const bool adhoc_q = P.opt.normalization == Normalization::ad_hoc && P.opt.adhoc_fit == AdhocFit::q_space;
  if (adhoc_q) t.adhoc = adhoc_correct(P, S);
  extrapolate(P, S, vS);
  S.resize(P.nq);
  vS.resize(P.nq);
  t.S = std::move(S);
  t.vS = std::move(vS);
  if (P.opt.normalization == Normalization::ad_hoc && P.opt.adhoc_fit == AdhocFit::low_r) {
    t.adhoc = adhoc_low_r(P, t.S, t.adhoc_slope);
    extrapolate(P, t.S, t.vS);  // S(qmin) moved: the extrapolation below it follows
  }
  if (P.opt.low_r_iterations > 0) low_r_refine(P, t, *rho);
  return t;
}

// ---------------------------------------------------------------------------------------------------
// Nelder–Mead on the unit box (parameters scaled to their bounds; candidates are clamped into the box).

struct NelderMead {
  int evaluations = 0;
  std::vector<double> best;
};

template <class Objective>
NelderMead nelder_mead(Objective f, std::vector<double> x0, int budget) {
  const std::size_t d = x0.size();
  auto clamp01 = [](std::vector<double> x) {
    for (auto& v : x) v = std::clamp(v, 0.0, 1.0);
    return x;
  };
  NelderMead out;
  auto eval = [&](const std::vector<double>& x) {
    ++out.evaluations;
    return f(x);
  };
  std::vector<std::vector<double>> s(d + 1, clamp01(x0));
  std::vector<double> fs(d + 1);
  for (std::size_t i = 0; i < d; ++i) {
    // Initial steps of 0.1 of the bound range, inward when x0 sits at the upper bound.
    s[i + 1][i] += s[i + 1][i] > 0.9 ? -0.1 : 0.1;
  }
  for (std::size_t i = 0; i <= d; ++i) fs[i] = eval(s[i]);
  while (out.evaluations < budget) {
    std::vector<std::size_t> idx(d + 1);
    std::iota(idx.begin(), idx.end(), std::size_t{0});
    std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return fs[a] < fs[b]; });
    std::vector<std::vector<double>> s2;
    std::vector<double> f2;
    for (auto i : idx) {
      s2.push_back(s[i]);
      f2.push_back(fs[i]);
    }
    s = std::move(s2);
    fs = std::move(f2);
    // Converged: the simplex spans less than 1e-6 of the bounds and the values agree to 1e-10 relative.
    double size = 0;
    for (std::size_t i = 1; i <= d; ++i)
      for (std::size_t k = 0; k < d; ++k) size = std::max(size, std::fabs(s[i][k] - s[0][k]));
    if (size < 1e-6 && std::fabs(fs[d] - fs[0]) <= 1e-10 * (std::fabs(fs[0]) + 1e-300)) break;
    std::vector<double> c(d, 0.0);
    for (std::size_t i = 0; i < d; ++i)
      for (std::size_t k = 0; k < d; ++k) c[k] += s[i][k] / static_cast<double>(d);
    auto along = [&](double t) {
      std::vector<double> x(d);
      for (std::size_t k = 0; k < d; ++k) x[k] = c[k] + t * (s[d][k] - c[k]);
      return clamp01(x);
    };
    const auto xr = along(-1.0);
    const double fr = eval(xr);
    if (fr < fs[0]) {
      const auto xe = along(-2.0);
      const double fe = eval(xe);
      if (fe < fr) {
        s[d] = xe;
        fs[d] = fe;
      } else {
        s[d] = xr;
        fs[d] = fr;
      }
    } else if (fr < fs[d - 1]) {
      s[d] = xr;
      fs[d] = fr;
    } else {
      const auto xc = fr < fs[d] ? along(-0.5) : along(0.5);
      const double fc = eval(xc);
      if (fc < std::min(fr, fs[d])) {
        s[d] = xc;
        fs[d] = fc;
      } else {
        for (std::size_t i = 1; i <= d; ++i) {
          for (std::size_t k = 0; k < d; ++k) s[i][k] = s[0][k] + 0.5 * (s[i][k] - s[0][k]);
          fs[i] = eval(s[i]);
        }
      }
    }
  }
  std::size_t b = 0;
  for (std::size_t i = 1; i <= d; ++i)
    if (fs[i] < fs[b]) b = i;
  out.best = s[b];
  return out;
}

// The reduction of reduce() and Reducer::reduce(), with the plans and factors taken from (and left in) @p cache.
ReductionResult reduce_with(const IntensityPattern& sample, const std::vector<BackgroundTerm>& backgrounds,
                            const ReductionOptions& options, ReductionCache& cache) {
  options.validate();
  check_pattern("sample", sample);
  for (std::size_t k = 0; k < backgrounds.size(); ++k) {
    const std::string name = backgrounds.size() == 1 ? "background" : "background " + std::to_string(k + 1);
    check_pattern(name.c_str(), backgrounds[k].pattern);
    if (!(backgrounds[k].scale >= 0) || !std::isfinite(backgrounds[k].scale)) {
      throw InvalidArgument(name + ": scale = " + num(backgrounds[k].scale) + " (expected a finite value >= 0)");
    }
  }
  if (options.optimize_background_scale && backgrounds.empty()) {
    throw InvalidArgument("optimize_background_scale needs a background pattern");
  }

  Problem P(options);
  P.data_qmin = sample.q.front();
  P.data_qmax = sample.q.back();
  const double data_step = options.qstep ? *options.qstep : uniform_step(sample);
  // q may exceed the last data point by half a step (rounding of the printed grid).
  const double tol = 0.5 * (sample.q.back() - sample.q.front()) / static_cast<double>(sample.q.size() - 1);
  P.qmax = options.qmax.value_or(P.data_qmax);
  if (P.qmax > P.data_qmax + tol) {
    throw InvalidArgument("qmax = " + num(P.qmax) +
                          " 1/A is beyond the data (the pattern ends at q = " + num(P.data_qmax) + " 1/A)");
  }
  P.qmaxinst = options.normalization == Normalization::ad_hoc ? options.qmaxinst.value_or(P.qmax) : P.qmax;
  if (P.qmaxinst > P.data_qmax + tol) {
    throw InvalidArgument("qmaxinst = " + num(P.qmaxinst) +
                          " 1/A is beyond the data (the pattern ends at q = " + num(P.data_qmax) + " 1/A)");
  }
  P.qmin = std::max(options.qmin.value_or(P.data_qmin), P.data_qmin);
  if (!(P.qmin < P.qmax)) {
    throw InvalidArgument("qmin = " + num(P.qmin) + " 1/A is not below qmax = " + num(P.qmax) +
                          " 1/A (the data start at q = " + num(P.data_qmin) + ")");
  }
  for (std::size_t k = 0; k < backgrounds.size(); ++k) {
    const auto& bq = backgrounds[k].pattern.q;
    if (bq.front() > P.qmin + tol || bq.back() < std::min(P.qmaxinst, P.data_qmax) - tol) {
      throw InvalidArgument(
          (backgrounds.size() == 1 ? std::string("background") : "background " + std::to_string(k + 1)) +
          " covers q = " + num(bq.front()) + ".." + num(bq.back()) + " 1/A but the band used is " + num(P.qmin) + ".." +
          num(P.qmaxinst) + " 1/A");
    }
  }
  if (options.normalization != Normalization::krogh_moe_norman && options.highq_qmin >= P.qmax) {
    throw InvalidArgument("highq_qmin = " + num(options.highq_qmin) + " 1/A is not below qmax = " + num(P.qmax));
  }

  // The final transform fixes Δq (≤ the data step or the requested qstep; see transform.hpp).
  TransformOptions topt;
  topt.qmax = P.qmax;
  topt.qstep = std::min(data_step, P.qmax / 4);
  topt.rmin = options.rmin;
  topt.rmax = options.rmax;
  topt.rstep = options.rstep;
  topt.window = options.window;
  topt.taper_width = options.taper_width;
  topt.planning = options.planning;
  P.plan = &cached_plan(cache.plan_options, cache.plan, topt, cache.plans_built);
  P.dq = P.plan->q_step();
  P.nq = P.plan->nq();
  P.na = std::max(P.nq, static_cast<std::size_t>(std::floor(P.qmaxinst / P.dq + 1e-9)) + 1);
  P.q.resize(P.na);
  for (std::size_t j = 0; j < P.na; ++j) P.q[j] = static_cast<double>(j) * P.dq;
  P.j0 = std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(P.qmin / P.dq - 1e-9)));
  if (P.j0 + 4 > P.nq) {
    throw InvalidArgument("the band qmin = " + num(P.qmin) + " .. qmax = " + num(P.qmax) +
                          " 1/A holds fewer than 4 points of step " + num(P.dq));
  }

  // Resample the sample (and background) onto the grid.
  P.has_sigma = !sample.sigma.empty();
  P.Is.assign(P.na, 0.0);
  P.vIs.assign(P.has_sigma ? P.na : 0, 0.0);
  std::vector<double> var;
  if (P.has_sigma) {
    var.resize(sample.sigma.size());
    for (std::size_t k = 0; k < var.size(); ++k) var[k] = sample.sigma[k] * sample.sigma[k];
  }
  P.resampled = interpolate(sample.q, sample.intensity, var, P.q, P.j0, P.na, P.Is, P.vIs);
  for (const auto& term : backgrounds) {
    const IntensityPattern& bp = term.pattern;
    std::vector<double> values(P.na, 0.0), variances;
    std::vector<double> bvar;
    if (P.has_sigma && !bp.sigma.empty()) {
      bvar.resize(bp.sigma.size());
      for (std::size_t k = 0; k < bvar.size(); ++k) bvar[k] = bp.sigma[k] * bp.sigma[k];
      variances.assign(P.na, 0.0);
    }
    interpolate(bp.q, bp.intensity, bvar, P.q, P.j0, P.na, values, variances);
    P.Ib.push_back(std::move(values));
    P.vIb.push_back(std::move(variances));
    P.bscale.push_back(term.scale);
  }

  if (cache.sf_q != P.q) {
    auto sf = scattering_factors(options.composition, P.q);
    cache.f2 = std::move(sf.f2_mean);
    cache.f1sq = std::move(sf.f_mean_sq);
    cache.inc = std::move(sf.compton);
    cache.sf_q = P.q;
  }
  P.f2 = cache.f2;
  P.f1sq = cache.f1sq;
  P.inc = cache.inc;
  P.degree = std::max(1, static_cast<int>(std::lround(options.rpoly * P.qmaxinst / pi)));

  std::optional<double> rho = options.number_density;
  if (options.mass_density) rho = number_density_from_mass_density(*options.mass_density, options.composition);

  if (options.low_r_cutoff) {
    // The refinement's own plan: same Δq (π/(Δq·rstep_low) stays an integer), r from 0 to r_c, no window,
    // and rstep_low = rstep/k ≤ min(0.01 Å, π/qmax) so the inverse sum is alias-free and fine enough.
    const double rs = options.rstep;
    const double k = std::max({1.0, std::ceil(rs / 0.01 - 1e-9), std::ceil(rs * P.qmax / pi * (1 + 1e-9))});
    TransformOptions lo;
    lo.qmax = P.qmax;
    lo.qstep = P.dq;
    lo.rstep = rs / k;
    lo.rmin = 0;
    lo.rmax = std::max(*options.low_r_cutoff, 2 * lo.rstep);
    lo.planning = options.planning;
    P.lowr = &cached_plan(cache.lowr_options, cache.lowr, lo, cache.plans_built);
    if (P.lowr->nq() != P.nq || P.lowr->q_step() != P.dq) {
      throw NumericalError("internal: the low-r plan's q grid differs from the reduction's");
    }
  }

  double b = backgrounds.empty() ? 0.0 : backgrounds[0].scale;
  int evaluations = 0;
  if (options.optimize_background_scale || options.optimize_density) {
    const double b_lo = options.background_scale_min.value_or(0.5 * b);
    const double b_hi = options.background_scale_max.value_or(std::max(1.5 * b, b_lo + 1e-3));
    const double r_lo = options.density_min.value_or(0.5 * *rho);
    const double r_hi = options.density_max.value_or(1.5 * *rho);
    if (options.optimize_background_scale && !(b_lo < b_hi)) {
      throw InvalidArgument("background scale bounds [" + num(b_lo) + ", " + num(b_hi) + "] are empty");
    }
    if (options.optimize_density && !(r_lo < r_hi && r_lo > 0)) {
      throw InvalidArgument("density bounds [" + num(r_lo) + ", " + num(r_hi) + "] atoms/A^3 are empty or not > 0");
    }
    auto unpack = [&](const std::vector<double>& u, double& bb, double& rr) {
      std::size_t k = 0;
      bb = options.optimize_background_scale ? b_lo + u[k++] * (b_hi - b_lo) : b;
      rr = options.optimize_density ? r_lo + u[k] * (r_hi - r_lo) : *rho;
    };
    std::vector<double> u0;
    if (options.optimize_background_scale) u0.push_back((b - b_lo) / (b_hi - b_lo));
    if (options.optimize_density) u0.push_back((*rho - r_lo) / (r_hi - r_lo));
    auto objective = [&](const std::vector<double>& u) {
      double bb = 0, rr = 0;
      unpack(u, bb, rr);
      try {
        const Trial t = evaluate(P, bb, rr);
        return low_r_residual(P, t.S, rr);
      } catch (const NumericalError&) {
        return std::numeric_limits<double>::max();  // e.g. α ≤ 0 for a background scale far too large
      }
    };
    const auto nm = nelder_mead(objective, u0, options.optimize_max_evaluations);
    double rr = 0;
    unpack(nm.best, b, rr);
    rho = rr;
    evaluations = nm.evaluations;
    detail::logger().info("optimiser: background scale {} density {} atoms/A^3 after {} reductions", b, rr,
                          evaluations);
  }

  const Trial t = evaluate(P, b, rho);

  ReductionResult out;
  out.options = options;
  out.qmin = P.qmin;
  out.qmax = P.qmax;
  out.qmaxinst = P.qmaxinst;
  out.qstep = P.dq;
  out.data_qmin = P.data_qmin;
  out.data_qmax = P.data_qmax;
  out.resampled = P.resampled;
  out.alpha = t.alpha;
  out.background_scale = b;
  out.background_scales = P.bscale;
  if (!out.background_scales.empty()) out.background_scales[0] = b;
  out.number_density = rho;
  if (options.normalization == Normalization::ad_hoc) {
    out.adhoc_degree = P.degree;
    out.adhoc_coefficients = t.adhoc;
    if (options.adhoc_fit == AdhocFit::low_r) out.adhoc_density = t.adhoc_slope / (4 * pi);
  }
  out.low_r_iterations = t.iterations;
  if (P.lowr && rho) out.low_r_residual = low_r_residual(P, t.S, *rho);
  out.optimizer_evaluations = evaluations;
  out.has_sigma = P.has_sigma;
  out.first_measured = P.j0;

  const std::size_t n = P.nq;
  out.q.assign(P.q.begin(), P.q.begin() + static_cast<std::ptrdiff_t>(n));
  out.iq.assign(t.Ic.begin(), t.Ic.begin() + static_cast<std::ptrdiff_t>(n));
  out.f2_mean.assign(P.f2.begin(), P.f2.begin() + static_cast<std::ptrdiff_t>(n));
  out.f_mean_sq.assign(P.f1sq.begin(), P.f1sq.begin() + static_cast<std::ptrdiff_t>(n));
  out.compton.assign(P.inc.begin(), P.inc.begin() + static_cast<std::ptrdiff_t>(n));
  const bool al = options.convention == StructureFactorConvention::ashcroft_langreth;
  out.sq.resize(n);
  out.fq.resize(n);
  std::vector<double> F_fz(n);
  for (std::size_t j = 0; j < n; ++j) {
    const double ratio = al ? P.f1sq[j] / P.f2[j] : 1.0;  // (S_AL − 1) = (⟨f⟩²/⟨f²⟩)(S_FZ − 1)
    out.sq[j] = 1.0 + ratio * (t.S[j] - 1.0);
    out.fq[j] = P.q[j] * (out.sq[j] - 1.0);
    F_fz[j] = P.q[j] * (t.S[j] - 1.0);
  }
  if (P.has_sigma) {
    out.iq_sigma.resize(n);
    out.sq_sigma.resize(n);
    out.fq_sigma.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
      const double ratio = al ? P.f1sq[j] / P.f2[j] : 1.0;
      out.iq_sigma[j] = std::sqrt(t.vIc[j]);
      out.sq_sigma[j] = ratio * std::sqrt(t.vS[j]);
      out.fq_sigma[j] = P.q[j] * out.sq_sigma[j];
    }
  }
  out.r = P.plan->r();
  out.gr = P.plan->forward(out.fq);
  if (P.has_sigma) out.gr_sigma = P.plan->forward_sigma(out.fq_sigma);
  if (rho) {
    // g(r) and RDF(r) follow from the Faber–Ziman G(r) = 4πρ₀r[g(r) − 1] whatever the chosen convention.
    const std::vector<double> G_fz = al ? P.plan->forward(F_fz) : out.gr;
    std::vector<double> sG_fz;
    if (P.has_sigma) {
      if (al) {
        std::vector<double> sF(n);
        for (std::size_t j = 0; j < n; ++j) sF[j] = P.q[j] * std::sqrt(t.vS[j]);
        sG_fz = P.plan->forward_sigma(sF);
      } else {
        sG_fz = out.gr_sigma;
      }
    }
    const std::size_t nr = out.r.size();
    out.pair_gr.resize(nr);
    out.rdf.resize(nr);
    if (P.has_sigma) {
      out.pair_gr_sigma.resize(nr);
      out.rdf_sigma.resize(nr);
    }
    for (std::size_t i = 0; i < nr; ++i) {
      const double r = out.r[i];
      const double c = 4 * pi * *rho;
      out.pair_gr[i] = r > 0 ? 1.0 + G_fz[i] / (c * r) : 0.0;
      out.rdf[i] = r * G_fz[i] + c * r * r;
      if (P.has_sigma) {
        out.pair_gr_sigma[i] = r > 0 ? sG_fz[i] / (c * r) : 0.0;
        out.rdf_sigma[i] = r * sG_fz[i];
      }
    }
  }
  detail::logger().info("reduction: {} alpha = {:.6g}, b = {}, q {}..{} step {}, {} low-r iterations",
                        normalization_name(options.normalization), t.alpha, b, P.qmin, P.qmax, P.dq, t.iterations);
  return out;
}

}  // namespace

ReductionResult reduce(const IntensityPattern& sample, const std::vector<BackgroundTerm>& backgrounds,
                       const ReductionOptions& options) {
  ReductionCache cache;
  return reduce_with(sample, backgrounds, options, cache);
}

ReductionResult reduce(const IntensityPattern& sample, const IntensityPattern* background,
                       const ReductionOptions& options) {
  std::vector<BackgroundTerm> terms;
  if (background != nullptr) terms.push_back(BackgroundTerm{*background, options.background_scale});
  return reduce(sample, terms, options);
}

ReductionResult reduce(const IntensityPattern& sample, const ReductionOptions& options) {
  return reduce(sample, std::vector<BackgroundTerm>{}, options);
}

struct Reducer::Impl {
  ReductionOptions options;
  ReductionCache cache;
};

Reducer::Reducer(ReductionOptions options) : impl_(std::make_unique<Impl>()) {
  options.validate();
  impl_->options = std::move(options);
}
Reducer::~Reducer() = default;
Reducer::Reducer(Reducer&&) noexcept = default;
Reducer& Reducer::operator=(Reducer&&) noexcept = default;

const ReductionOptions& Reducer::options() const { return impl_->options; }

ReductionResult Reducer::reduce(const IntensityPattern& sample, const std::vector<BackgroundTerm>& backgrounds) {
  return reduce_with(sample, backgrounds, impl_->options, impl_->cache);
}

ReductionResult Reducer::reduce(const IntensityPattern& sample, const IntensityPattern* background) {
  std::vector<BackgroundTerm> terms;
  if (background != nullptr) terms.push_back(BackgroundTerm{*background, impl_->options.background_scale});
  return reduce(sample, terms);
}

ReductionResult Reducer::reduce(const IntensityPattern& sample) {
  return reduce(sample, std::vector<BackgroundTerm>{});
}

std::size_t Reducer::plans_built() const { return impl_->cache.plans_built; }

}  // namespace libpdf
