// Numerical pieces of the relaxation module: local quadratic smoothing, robust noise, line fits, and the
// Levenberg–Marquardt solver (written here on Eigen rather than taken from Eigen's unsupported module, whose API
// is not stable and which gives no covariance).
#include <Eigen/Cholesky>
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "libpdf/error.hpp"
#include "libpdf/relax/relax_detail.hpp"

namespace libpdf::relax_detail {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

void check_curve(const std::vector<double>& T, const std::vector<double>& y, const std::string& what,
                 const std::string& y_name, std::size_t min_points) {
  if (T.size() != y.size()) {
    throw InvalidArgument(what + ": " + std::to_string(T.size()) + " temperatures but " + std::to_string(y.size()) +
                          " values of " + y_name + " (expected as many)");
  }
  if (T.size() < min_points) {
    throw InvalidArgument(what + ": " + std::to_string(T.size()) + " point" + (T.size() == 1 ? "" : "s") +
                          " (expected at least " + std::to_string(min_points) + " for this analysis)");
  }
  for (std::size_t i = 0; i < T.size(); ++i) {
    if (!std::isfinite(T[i]) || !std::isfinite(y[i])) {
      throw InvalidArgument(what + ": point " + std::to_string(i) + " is not finite (T = " + num(T[i]) + " K, " +
                            y_name + " = " + num(y[i]) + "; expected finite numbers)");
    }
    if (i > 0 && !(T[i] > T[i - 1])) {
      throw InvalidArgument(what + ": the temperature does not increase at point " + std::to_string(i) + " (" +
                            num(T[i]) + " K after " + num(T[i - 1]) +
                            " K); expected one heating scan, strictly increasing in temperature");
    }
  }
}

namespace {

// Solves the normal equations of y ≈ c0 + c1 u + c2 u² over points [a, b) with u = (x − x0)/scale.
// Returns false when fewer than 3 points or a singular system (then only c0 = mean is meaningful).
bool quadratic_fit(const std::vector<double>& x, const std::vector<double>& y, std::size_t a, std::size_t b,
                   double x0, double scale, Eigen::Vector3d& c, Eigen::Matrix3d* inverse, double* rss) {
  Eigen::Matrix3d A = Eigen::Matrix3d::Zero();
  Eigen::Vector3d rhs = Eigen::Vector3d::Zero();
  for (std::size_t j = a; j < b; ++j) {
    const double u = (x[j] - x0) / scale;
    const Eigen::Vector3d phi(1.0, u, u * u);
    A += phi * phi.transpose();
    rhs += phi * y[j];
  }
  if (b - a < 3) return false;
  Eigen::FullPivLU<Eigen::Matrix3d> lu(A);
  if (!lu.isInvertible()) return false;
  c = lu.solve(rhs);
  if (inverse != nullptr) *inverse = lu.inverse();
  if (rss != nullptr) {
    double s = 0;
    for (std::size_t j = a; j < b; ++j) {
      const double u = (x[j] - x0) / scale;
      const double e = y[j] - (c[0] + c[1] * u + c[2] * u * u);
      s += e * e;
    }
    *rss = s;
  }
  return true;
}

}  // namespace

LocalFit local_quadratic(const std::vector<double>& x, const std::vector<double>& y, double half_width_K,
                         std::size_t min_half_points) {
  const std::size_t n = x.size();
  LocalFit out;
  out.value.resize(n);
  out.slope.resize(n);
  std::size_t lo = 0, hi = 0;  // window [lo, hi)
  for (std::size_t i = 0; i < n; ++i) {
    while (lo < i && x[i] - x[lo] > half_width_K) ++lo;
    if (hi < i + 1) hi = i + 1;
    while (hi < n && x[hi] - x[i] <= half_width_K) ++hi;
    // At least min_half_points on each side where the data allow (the window stays centred in index).
    std::size_t a = std::min(lo, i >= min_half_points ? i - min_half_points : 0);
    std::size_t b = std::max(hi, std::min(n, i + min_half_points + 1));
    const double scale = std::max(x[b - 1] - x[i], x[i] - x[a]);
    Eigen::Vector3d c;
    if (scale > 0 && quadratic_fit(x, y, a, b, x[i], scale, c, nullptr, nullptr)) {
      out.value[i] = c[0];
      out.slope[i] = c[1] / scale;
    } else {
      out.value[i] = y[i];
      const std::size_t l = i > 0 ? i - 1 : i, r = i + 1 < n ? i + 1 : i;
      out.slope[i] = r > l ? (y[r] - y[l]) / (x[r] - x[l]) : 0.0;
    }
  }
  return out;
}

LocalValue local_quadratic_at(const std::vector<double>& x, const std::vector<double>& y, double x0,
                              double half_width_K, double noise_sigma) {
  auto [a, b] = index_range(x, x0 - half_width_K, x0 + half_width_K);
  // At least 5 points: widen symmetrically around x0.
  while (b - a < 5 && (a > 0 || b < x.size())) {
    if (a > 0) --a;
    if (b - a < 5 && b < x.size()) ++b;
  }
  LocalValue out;
  const double scale = std::max({x[b - 1] - x0, x0 - x[a], 1e-12});
  Eigen::Vector3d c;
  Eigen::Matrix3d inv;
  double rss = 0;
  if (!quadratic_fit(x, y, a, b, x0, scale, c, &inv, &rss)) {
    out.value = interpolate(x, y, x0);
    return out;
  }
  out.value = c[0];
  out.slope = c[1] / scale;
  const double m = static_cast<double>(b - a);
  const double variance = noise_sigma >= 0 ? noise_sigma * noise_sigma : (m > 3 ? rss / (m - 3) : 0.0);
  out.value_sigma = std::sqrt(std::max(0.0, variance * inv(0, 0)));
  return out;
}

std::vector<Extremum> prominent_maxima(const std::vector<double>& x, const std::vector<double>& v,
                                       double min_prominence, double edge) {
  std::vector<Extremum> out;
  const std::size_t n = v.size();
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if (!(v[i] > v[i - 1] && v[i] >= v[i + 1])) continue;
    if (x[i] - x.front() < edge || x.back() - x[i] < edge) continue;
    Extremum e;
    e.index = i;
    e.left_base = e.right_base = i;
    for (std::size_t j = i; j-- > 0;) {
      if (v[j] > v[i]) break;
      if (v[j] < v[e.left_base]) e.left_base = j;
    }
    for (std::size_t j = i + 1; j < n; ++j) {
      if (v[j] > v[i]) break;
      if (v[j] < v[e.right_base]) e.right_base = j;
    }
    e.prominence = v[i] - std::max(v[e.left_base], v[e.right_base]);
    if (e.prominence >= min_prominence) out.push_back(e);
  }
  return out;
}

double noise_sigma(const std::vector<double>& y) {
  if (y.size() < 3) return 0.0;
  std::vector<double> d(y.size() - 2);
  for (std::size_t i = 1; i + 1 < y.size(); ++i) d[i - 1] = y[i + 1] - 2 * y[i] + y[i - 1];
  auto median = [](std::vector<double> v) {
    const std::size_t k = v.size() / 2;
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    double m = v[k];
    if (v.size() % 2 == 0) {
      m = 0.5 * (m + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k)));
    }
    return m;
  };
  const double med = median(d);
  for (auto& v : d) v = std::abs(v - med);
  // 1.4826 makes the MAD an unbiased σ for Gaussian noise.
  return 1.4826 * median(d) / std::sqrt(6.0);
}

double median_step(const std::vector<double>& x) {
  if (x.size() < 2) return 0.0;
  std::vector<double> d(x.size() - 1);
  for (std::size_t i = 1; i < x.size(); ++i) d[i - 1] = x[i] - x[i - 1];
  const std::size_t k = d.size() / 2;
  std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k), d.end());
  return d[k];
}

std::pair<std::size_t, std::size_t> index_range(const std::vector<double>& x, double lo, double hi) {
  const auto a = std::lower_bound(x.begin(), x.end(), lo);
  const auto b = std::upper_bound(x.begin(), x.end(), hi);
  const auto ia = static_cast<std::size_t>(a - x.begin());
  const auto ib = static_cast<std::size_t>(b - x.begin());
  return {ia, std::max(ia, ib)};
}

FittedLine fit_line_window(const std::vector<double>& x, const std::vector<double>& y, double lo, double hi,
                           std::size_t min_points, const std::string& what) {
  const auto [a, b] = index_range(x, lo, hi);
  const std::size_t n = b - a;
  if (n < std::max<std::size_t>(min_points, 2)) {
    throw NumericalError(what + ": " + std::to_string(n) + " point" + (n == 1 ? "" : "s") + " in [" + num(lo) +
                         ", " + num(hi) + "] K (expected at least " + std::to_string(std::max<std::size_t>(min_points, 2)) +
                         "); give the window explicitly");
  }
  FittedLine line;
  line.range = {lo, hi};
  double sx = 0, sy = 0;
  for (std::size_t j = a; j < b; ++j) {
    sx += x[j];
    sy += y[j];
  }
  const double dn = static_cast<double>(n);
  line.T0_K = sx / dn;
  line.value_at_T0 = sy / dn;
  double sxx = 0, sxy = 0;
  for (std::size_t j = a; j < b; ++j) {
    sxx += (x[j] - line.T0_K) * (x[j] - line.T0_K);
    sxy += (x[j] - line.T0_K) * (y[j] - line.value_at_T0);
  }
  line.slope = sxx > 0 ? sxy / sxx : 0.0;
  if (n >= 3) {
    double rss = 0;
    for (std::size_t j = a; j < b; ++j) {
      const double e = y[j] - line.at(x[j]);
      rss += e * e;
    }
    const double s2 = rss / (dn - 2);
    line.value_sigma = std::sqrt(s2 / dn);
    line.slope_sigma = sxx > 0 ? std::sqrt(s2 / sxx) : 0.0;
  }
  return line;
}

ValueSigma intersect(const FittedLine& a, const FittedLine& b) {
  const double D = a.slope - b.slope;
  if (!(std::abs(D) > 0)) {
    throw NumericalError("two construction lines are parallel (slope " + num(a.slope) +
                         "); the tangent construction has no intersection");
  }
  const double N = b.value_at_T0 - a.value_at_T0 + a.slope * a.T0_K - b.slope * b.T0_K;
  const double T = N / D;
  const double var = (a.value_sigma * a.value_sigma + b.value_sigma * b.value_sigma +
                      (a.T0_K - T) * (a.T0_K - T) * a.slope_sigma * a.slope_sigma +
                      (T - b.T0_K) * (T - b.T0_K) * b.slope_sigma * b.slope_sigma) /
                     (D * D);
  return {T, std::sqrt(var)};
}

double interpolate(const std::vector<double>& x, const std::vector<double>& y, double xq) {
  if (xq <= x.front()) return y.front();
  if (xq >= x.back()) return y.back();
  const auto it = std::upper_bound(x.begin(), x.end(), xq);
  const auto j = static_cast<std::size_t>(it - x.begin());
  const double t = (xq - x[j - 1]) / (x[j] - x[j - 1]);
  return y[j - 1] + t * (y[j] - y[j - 1]);
}

double integrate(const std::vector<double>& x, const std::vector<double>& f, double lo, double hi) {
  if (!(hi > lo)) return 0.0;
  double sum = 0;
  double xa = lo, fa = interpolate(x, f, lo);
  for (std::size_t j = 0; j < x.size(); ++j) {
    if (x[j] <= lo) continue;
    if (x[j] >= hi) break;
    sum += 0.5 * (fa + f[j]) * (x[j] - xa);
    xa = x[j];
    fa = f[j];
  }
  sum += 0.5 * (fa + interpolate(x, f, hi)) * (hi - xa);
  return sum;
}

LmResult levenberg_marquardt(const ModelFunction& model, const Eigen::VectorXd& y, const Eigen::VectorXd& p0,
                             const LmOptions& options) {
  const Eigen::Index n = y.size();
  const Eigen::Index np = p0.size();
  LmResult out;
  Eigen::VectorXd p = p0;
  Eigen::VectorXd f(n), f_new(n);
  Eigen::MatrixXd J(n, np);
  if (!model(p, f, &J)) throw NumericalError("Levenberg-Marquardt: the starting parameters are outside the model's domain");
  Eigen::VectorXd r = y - f;
  double chi2 = r.squaredNorm();
  double lambda = options.lambda0;
  int it = 0;
  for (; it < options.max_iterations; ++it) {
    const Eigen::MatrixXd A = J.transpose() * J;
    const Eigen::VectorXd g = J.transpose() * r;
    // Marquardt's scaling: damping proportional to the curvature of each parameter, so parameters of very
    // different magnitude (tan δ ~ 0.01, temperatures ~ 300 K) are damped alike.
    Eigen::VectorXd D = A.diagonal();
    const double dmax = D.maxCoeff();
    for (Eigen::Index k = 0; k < np; ++k) D[k] = std::max(D[k], 1e-15 * std::max(dmax, 1e-300));
    bool accepted = false;
    bool converged = false;
    while (lambda < 1e20) {
      Eigen::MatrixXd M = A;
      M.diagonal() += lambda * D;
      const Eigen::VectorXd delta = M.ldlt().solve(g);
      if (!delta.allFinite()) {
        lambda *= 4;
        continue;
      }
      const Eigen::VectorXd p_new = p + delta;
      if (!model(p_new, f_new, nullptr) || !f_new.allFinite()) {
        lambda *= 4;
        continue;
      }
      const double chi2_new = (y - f_new).squaredNorm();
      if (chi2_new < chi2) {
        const double gain = chi2 - chi2_new;
        const bool small_step = delta.norm() <= 1e-12 * (p.norm() + 1e-12);
        p = p_new;
        model(p, f, &J);
        r = y - f;
        chi2 = chi2_new;
        lambda = std::max(lambda / 3, 1e-12);
        accepted = true;
        converged = gain <= options.rel_tolerance * (chi2 + gain) || small_step;
        break;
      }
      lambda *= 4;
    }
    if (!accepted) {
      // No step lowers χ² at any damping: a minimum to working precision.
      out.converged = true;
      break;
    }
    if (converged) {
      out.converged = true;
      ++it;
      break;
    }
  }
  out.parameters = p;
  out.chi2 = chi2;
  out.iterations = it;
  // Covariance (JᵀJ)⁻¹ s², s² = χ²/(n − p), through the scaled matrix so that the rank test is scale-free.
  const Eigen::MatrixXd A = J.transpose() * J;
  Eigen::VectorXd s(np);
  for (Eigen::Index k = 0; k < np; ++k) s[k] = A(k, k) > 0 ? 1.0 / std::sqrt(A(k, k)) : 0.0;
  const Eigen::MatrixXd As = s.asDiagonal() * A * s.asDiagonal();
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(As);
  const double emax = eig.eigenvalues().maxCoeff();
  const double emin = eig.eigenvalues().minCoeff();
  // 1e-12: below it the inverse loses all digits in double precision.
  out.singular = !(emax > 0) || !(emin > 1e-12 * emax) || (s.array() == 0).any();
  const double dof = static_cast<double>(n - np);
  const double s2 = dof > 0 ? chi2 / dof : 0.0;
  if (out.singular) {
    out.covariance = Eigen::MatrixXd::Constant(np, np, std::numeric_limits<double>::infinity());
  } else {
    const Eigen::MatrixXd inv = eig.eigenvectors() * eig.eigenvalues().cwiseInverse().asDiagonal() *
                                eig.eigenvectors().transpose();
    out.covariance = s.asDiagonal() * inv * s.asDiagonal() * s2;
  }
  return out;
}

}  // namespace libpdf::relax_detail
