// Least-squares pieces of the metrics module (see fit.hpp).
#include "libpdf/metrics/fit.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace libpdf::metrics_detail {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

PolyFit fit_polynomial(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& sigma,
                       std::size_t i0, std::size_t i1, double center, int degree) {
  PolyFit out;
  if (i1 < i0 || i1 >= x.size()) return out;
  const std::size_t n = i1 - i0 + 1;
  const auto p = static_cast<std::size_t>(degree + 1);
  out.n = n;
  if (n <= p) return out;
  bool weighted = !sigma.empty();
  for (std::size_t i = i0; weighted && i <= i1; ++i) weighted = sigma[i] > 0 && std::isfinite(sigma[i]);
  const auto ni = static_cast<Eigen::Index>(n), pi = static_cast<Eigen::Index>(p);
  Eigen::MatrixXd A(ni, pi);
  Eigen::VectorXd b(ni);
  for (std::size_t i = i0; i <= i1; ++i) {
    const auto row = static_cast<Eigen::Index>(i - i0);
    const double w = weighted ? 1.0 / sigma[i] : 1.0;
    const double u = x[i] - center;
    double pw = 1.0;
    for (Eigen::Index k = 0; k < pi; ++k, pw *= u) A(row, k) = w * pw;
    b(row) = w * y[i];
  }
  // Column scaling keeps the normal matrix well conditioned whatever the units of u.
  Eigen::VectorXd scale = A.colwise().norm().transpose();
  for (Eigen::Index k = 0; k < pi; ++k) {
    if (!(scale(k) > 0)) return out;
    A.col(k) /= scale(k);
  }
  const Eigen::MatrixXd N = A.transpose() * A;
  Eigen::FullPivLU<Eigen::MatrixXd> lu(N);
  // 1e-12 relative: below it the columns are numerically dependent (e.g. all points at one x).
  lu.setThreshold(1e-12);
  if (!lu.isInvertible()) return out;
  const Eigen::MatrixXd Ninv = lu.inverse();
  const Eigen::VectorXd cs = Ninv * (A.transpose() * b);
  out.chi2 = (A * cs - b).squaredNorm();
  out.c = cs.cwiseQuotient(scale);
  out.cov = Ninv;
  for (Eigen::Index i = 0; i < pi; ++i)
    for (Eigen::Index j = 0; j < pi; ++j) out.cov(i, j) /= scale(i) * scale(j);
  if (!weighted) out.cov *= out.chi2 / static_cast<double>(n - p);
  out.ok = true;
  return out;
}

Vertex parabola_vertex(const PolyFit& fit, double center) {
  Vertex v;
  const double c0 = fit.c(0), c1 = fit.c(1), c2 = fit.c(2);
  const double u = -c1 / (2 * c2);
  v.x = center + u;
  v.y = c0 - c1 * c1 / (4 * c2);
  // Gradients of the vertex position and value with respect to (c0, c1, c2).
  Eigen::Vector3d gx(0.0, -1.0 / (2 * c2), c1 / (2 * c2 * c2));
  Eigen::Vector3d gy(1.0, -c1 / (2 * c2), c1 * c1 / (4 * c2 * c2));
  const Eigen::Matrix3d cov = fit.cov.topLeftCorner(3, 3);
  v.x_sigma = std::sqrt(std::max(0.0, gx.dot(cov * gx)));
  v.y_sigma = std::sqrt(std::max(0.0, gy.dot(cov * gy)));
  return v;
}

LmFit levenberg_marquardt(const LmModel& model, const Eigen::VectorXd& y, const Eigen::VectorXd& weight,
                          const Eigen::VectorXd& p0, bool sigma_known, int max_iterations) {
  LmFit out;
  const Eigen::Index n = y.size(), np = p0.size();
  // Every buffer is allocated once: the model fills f and J in place, and JᵀWJ, JᵀW(y − f) are summed row by row
  // (n ≫ p: one pass over J instead of Eigen's temporary JᵀW of n·p values per iteration).
  Eigen::VectorXd p = p0, f(n), f_try(n), p_try(np), g(np), delta(np);
  Eigen::MatrixXd J(n, np), J_try(n, np), H(np, np), Hd(np, np);
  model(p, f, J);
  auto chi2_of = [&](const Eigen::VectorXd& fv) {
    double s = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      const double d = y(i) - fv(i);
      s += weight(i) * d * d;
    }
    return s;
  };
  // H = JᵀWJ (both triangles) and g = JᵀW(y − f).
  auto normal_equations = [&]() {
    H.setZero();
    g.setZero();
    for (Eigen::Index i = 0; i < n; ++i) {
      const double w = weight(i), wr = w * (y(i) - f(i));
      for (Eigen::Index a = 0; a < np; ++a) {
        const double wja = w * J(i, a);
        g(a) += J(i, a) * wr;
        for (Eigen::Index b = 0; b <= a; ++b) H(a, b) += wja * J(i, b);
      }
    }
    for (Eigen::Index a = 0; a < np; ++a)
      for (Eigen::Index b = 0; b < a; ++b) H(b, a) = H(a, b);
  };
  double chi2 = chi2_of(f);
  // Marquardt's λ scaled by diag(JᵀWJ): 1e-3 to start, ÷3 after a success, ×4 after a failure (the usual
  // asymmetric schedule that settles quickly near the minimum and backs off fast from a bad region).
  double lambda = 1e-3;
  Eigen::LDLT<Eigen::MatrixXd> ldlt(np);
  for (int it = 0; it < max_iterations; ++it) {
    normal_equations();
    bool accepted = false;
    for (int tries = 0; tries < 30 && !accepted; ++tries) {
      Hd = H;
      for (Eigen::Index k = 0; k < np; ++k) Hd(k, k) += lambda * std::max(H(k, k), 1e-300);
      ldlt.compute(Hd);
      delta = ldlt.solve(g);
      if (!delta.allFinite()) {
        lambda *= 4;
        continue;
      }
      p_try = p + delta;
      model(p_try, f_try, J_try);
      const double chi2_try = f_try.allFinite() ? chi2_of(f_try) : std::numeric_limits<double>::infinity();
      if (chi2_try <= chi2) {
        const double drop = chi2 - chi2_try;
        p.swap(p_try);
        f.swap(f_try);
        J.swap(J_try);
        lambda = std::max(lambda / 3, 1e-12);
        accepted = true;
        // Converged when χ² changes by less than 1e−10 of itself: far below any statistical meaning.
        if (drop <= 1e-10 * std::max(chi2_try, 1e-300)) {
          out.converged = true;
        }
        chi2 = chi2_try;
      } else {
        lambda *= 4;
      }
    }
    if (!accepted) {
      out.converged = true;  // no step lowers χ²: at the minimum to working precision
      break;
    }
    if (out.converged) break;
  }
  out.p = p;
  out.chi2 = chi2;
  normal_equations();
  Eigen::FullPivLU<Eigen::MatrixXd> lu(H);
  lu.setThreshold(1e-13);
  if (lu.isInvertible()) {
    out.cov = lu.inverse();
    if (!sigma_known) out.cov *= chi2 / static_cast<double>(std::max<Eigen::Index>(n - np, 1));
    out.ok = out.cov.allFinite();
  } else {
    out.cov = Eigen::MatrixXd::Constant(np, np, kNaN);
  }
  return out;
}

double noise_from_second_differences(const std::vector<double>& y, std::size_t i0, std::size_t i1) {
  if (i1 >= y.size() || i1 < i0 + 2) return 0.0;
  double s = 0;
  std::size_t m = 0;
  for (std::size_t i = i0 + 1; i < i1; ++i, ++m) {
    const double d = y[i - 1] - 2 * y[i] + y[i + 1];
    s += d * d;
  }
  return std::sqrt(s / (6.0 * static_cast<double>(m)));
}

double interpolate(const std::vector<double>& x, const std::vector<double>& y, double t) {
  if (t <= x.front()) return y.front();
  if (t >= x.back()) return y.back();
  const std::size_t j = lower_index(x, t);
  const double u = (t - x[j - 1]) / (x[j] - x[j - 1]);
  return y[j - 1] + u * (y[j] - y[j - 1]);
}

std::size_t lower_index(const std::vector<double>& x, double t) {
  return static_cast<std::size_t>(std::lower_bound(x.begin(), x.end(), t) - x.begin());
}

double crossing(const std::vector<double>& x, const std::vector<double>& y, std::size_t start, int step,
                std::size_t limit, double level, std::size_t& i_before) {
  std::size_t i = start;
  while (i != limit) {
    const std::size_t j = step > 0 ? i + 1 : i - 1;
    if (y[j] < level) {
      i_before = i;
      const double u = (y[i] - level) / (y[i] - y[j]);
      return x[i] + u * (x[j] - x[i]);
    }
    i = j;
  }
  i_before = i;
  return kNaN;
}

}  // namespace libpdf::metrics_detail
