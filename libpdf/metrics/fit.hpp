#pragma once
// Least-squares pieces of the metrics module: weighted polynomial fits, a small Levenberg–Marquardt solver,
// noise estimates, interpolation and crossings on sampled curves. Internal (not installed).
#include <Eigen/Core>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace libpdf::metrics_detail {

/// "%.6g" of a value, for messages.
std::string num(double v);

/// A weighted polynomial fit y ≈ Σ_k c_k (x − center)^k.
struct PolyFit {
  Eigen::VectorXd c;    ///< Coefficients c_0..c_degree.
  Eigen::MatrixXd cov;  ///< Their covariance: (AᵀWA)⁻¹ with σ known, else (AᵀA)⁻¹·χ²/(n − p).
  double chi2 = 0;      ///< Σ w (y − fit)² (w = 1/σ² or 1).
  std::size_t n = 0;    ///< Points used.
  bool ok = false;      ///< False when the normal matrix is singular or there are too few points.
};

/// Fits points i0..i1 (inclusive) of @p x, @p y; @p sigma empty (unit weights, covariance scaled by the
/// reduced χ²) or of the same length (all > 0 in the range, else unit weights are used).
PolyFit fit_polynomial(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& sigma,
                       std::size_t i0, std::size_t i1, double center, int degree);

/// Vertex of a parabola fit (c_0 + c_1 u + c_2 u², u = x − center) with σ's by linear error propagation.
struct Vertex {
  double x = 0, x_sigma = 0;  ///< Position and σ.
  double y = 0, y_sigma = 0;  ///< Value at the vertex and σ.
};
Vertex parabola_vertex(const PolyFit& fit, double center);

/// A model for levenberg_marquardt(): fills f (n values) and J (n × p) at p.
using LmModel = std::function<void(const Eigen::VectorXd& p, Eigen::VectorXd& f, Eigen::MatrixXd& jac)>;

struct LmFit {
  Eigen::VectorXd p;    ///< Parameters at the minimum.
  Eigen::MatrixXd cov;  ///< (JᵀWJ)⁻¹, times χ²/(n − p) when σ is unknown.
  double chi2 = 0;      ///< Weighted χ² at the minimum.
  bool converged = false;
  bool ok = false;  ///< The covariance is meaningful (JᵀWJ invertible).
};

/// Minimises Σ w_i (y_i − f_i(p))² from @p p0 with Marquardt's damping (JᵀWJ + λ diag JᵀWJ) δ = JᵀW r.
/// @p weight holds w_i = 1/σ_i² (sigma_known) or ones.
LmFit levenberg_marquardt(const LmModel& model, const Eigen::VectorXd& y, const Eigen::VectorXd& weight,
                          const Eigen::VectorXd& p0, bool sigma_known, int max_iterations = 200);

/// Noise σ of @p y over indices i0..i1 from second differences: √(Σ (y_{i−1} − 2y_i + y_{i+1})² / (6m)).
/// For independent noise of σ each difference has variance 6σ²; a smooth curve sampled densely adds
/// only its (small) curvature. Returns 0 with fewer than three points.
double noise_from_second_differences(const std::vector<double>& y, std::size_t i0, std::size_t i1);

/// Linear interpolation of (x, y) at @p t (x increasing; clamps outside).
double interpolate(const std::vector<double>& x, const std::vector<double>& y, double t);

/// First index with x[i] ≥ t (x.size() when none).
std::size_t lower_index(const std::vector<double>& x, double t);

/// Where y first falls below @p level walking from @p start (y[start] ≥ level) by @p step (−1 or +1), not
/// beyond index @p limit; linear interpolation between the two points. Sets @p i_before to the last index
/// still ≥ level. Returns NaN when y never falls below level.
double crossing(const std::vector<double>& x, const std::vector<double>& y, std::size_t start, int step,
                std::size_t limit, double level, std::size_t& i_before);

}  // namespace libpdf::metrics_detail
