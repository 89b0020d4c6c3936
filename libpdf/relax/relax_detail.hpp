#pragma once
// Numerical pieces shared by the relaxation module: local polynomial smoothing, noise estimates, straight-line
// fits over a temperature window, interpolation, and the Levenberg–Marquardt solver.
#include <Eigen/Core>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "libpdf/relax.hpp"

namespace libpdf::relax_detail {

/// "%.6g" of a value, for messages.
std::string num(double v);

/// Checks sizes, finiteness and strictly increasing temperature; @p what names the curve in messages
/// ("curve 'x.csv'"). @throws InvalidArgument.
void check_curve(const std::vector<double>& T, const std::vector<double>& y, const std::string& what,
                 const std::string& y_name, std::size_t min_points);

/// Local quadratic least-squares fits (Savitzky–Golay, valid for uneven spacing) over the points within
/// ±half_width_K of each point, at least @p min_half_points on each side where the data allow.
struct LocalFit {
  std::vector<double> value;  ///< Fitted value at each point.
  std::vector<double> slope;  ///< Fitted first derivative at each point.
};
LocalFit local_quadratic(const std::vector<double>& x, const std::vector<double>& y, double half_width_K,
                         std::size_t min_half_points);

/// Value and slope of a local quadratic fit at an arbitrary @p x0 (points within ±half_width_K, at least 5),
/// with the σ of the value: from @p noise_sigma when it is ≥ 0 (a whole-curve estimate, steadier than the few
/// residuals of a short window), else from the fit's residuals.
struct LocalValue {
  double value = 0, slope = 0, value_sigma = 0;
};
LocalValue local_quadratic_at(const std::vector<double>& x, const std::vector<double>& y, double x0,
                              double half_width_K, double noise_sigma = -1);

/// An interior local maximum of a sampled curve and its topographic prominence: its height above the higher of
/// the lowest points between it and the nearest higher point on either side (or the end).
struct Extremum {
  std::size_t index = 0;
  double prominence = 0;
  std::size_t left_base = 0, right_base = 0;  ///< Lowest point on each side (the "valleys").
};
/// Every interior local maximum of @p v with prominence ≥ @p min_prominence, at least @p edge away from the
/// ends of @p x, in order of x. Local minima: pass −v.
std::vector<Extremum> prominent_maxima(const std::vector<double>& x, const std::vector<double>& v,
                                       double min_prominence, double edge);

/// Robust noise σ of a sampled curve: 1.4826·MAD of the second differences / √6 (white noise of σ gives second
/// differences of variance 6σ²; a smooth curve sampled densely contributes little).
double noise_sigma(const std::vector<double>& y);

/// Median spacing of an increasing x.
double median_step(const std::vector<double>& x);

/// Index range [first, last) of the points with lo ≤ x ≤ hi.
std::pair<std::size_t, std::size_t> index_range(const std::vector<double>& x, double lo, double hi);

/// Least-squares straight line through the points in [lo, hi]; σ from the residual variance (n ≥ 3) or 0.
/// @throws NumericalError naming @p what when fewer than @p min_points lie in the window.
FittedLine fit_line_window(const std::vector<double>& x, const std::vector<double>& y, double lo, double hi,
                           std::size_t min_points, const std::string& what);

/// Where two fitted lines cross, with σ propagated from both lines' parameters (independent fits).
ValueSigma intersect(const FittedLine& a, const FittedLine& b);

/// Linear interpolation (x increasing, xq inside [x.front(), x.back()]; clamped outside).
double interpolate(const std::vector<double>& x, const std::vector<double>& y, double xq);

/// ∫ f dx by the trapezoid rule over [lo, hi] ⊂ [x.front(), x.back()], with f interpolated at the ends.
double integrate(const std::vector<double>& x, const std::vector<double>& f, double lo, double hi);

// ---------------------------------------------------------------------------------------------------------
// Levenberg–Marquardt

/// Computes the model at parameters @p p: fills @p f (n values) and, when @p jac is not null, the n × p
/// Jacobian ∂f/∂p. Returns false when @p p is outside the model's domain (the step is then rejected).
using ModelFunction = std::function<bool(const Eigen::VectorXd& p, Eigen::VectorXd& f, Eigen::MatrixXd* jac)>;

struct LmOptions {
  int max_iterations = 200;
  double lambda0 = 1e-3;        ///< Initial damping, relative to diag(JᵀJ) (Marquardt's scaling).
  double rel_tolerance = 1e-12; ///< Stop when an accepted step lowers χ² by less than this fraction.
};

struct LmResult {
  Eigen::VectorXd parameters;
  Eigen::MatrixXd covariance;   ///< (JᵀJ)⁻¹·χ²/(n − p) (χ² of unit weights).
  double chi2 = 0;
  int iterations = 0;
  bool converged = false;
  bool singular = false;        ///< JᵀJ is rank deficient at the solution: the covariance is not meaningful.
};

/// Minimises Σ (y_i − f_i(p))² from @p p0. Marquardt's damping (JᵀJ + λ·diag JᵀJ) δ = Jᵀr, λ divided by 3 after
/// an accepted step and multiplied by 4 after a rejected one. @p p0 must be inside the model's domain.
LmResult levenberg_marquardt(const ModelFunction& model, const Eigen::VectorXd& y, const Eigen::VectorXd& p0,
                             const LmOptions& options);

}  // namespace libpdf::relax_detail
