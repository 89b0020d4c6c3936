// Atomic form factors (Waasmaier–Kirfel), Compton scattering (xraylib) and composition averages.
#include <xraylib.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/scattering/tables.hpp"

namespace libpdf {
namespace {

constexpr double four_pi = 4.0 * 3.14159265358979323846;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

void check_Z(int Z) { (void)element(Z); }

void check_q(double q) {
  // A hair of tolerance above 4π·6 so that a grid ending exactly at the limit is accepted.
  if (!(q >= 0) || !(q <= waasmaier_kirfel_qmax * (1 + 1e-12))) {
    throw InvalidArgument("q = " + num(q) + " 1/A is outside the range of the Waasmaier-Kirfel form factors [0, " +
                          num(waasmaier_kirfel_qmax) + "] 1/A (s = q/4pi <= 6 1/A)");
  }
}

double wk_value(const std::array<double, 11>& c, double s2) {
  double f = c[5];
  for (int i = 0; i < 5; ++i)
    f += c[static_cast<std::size_t>(i)] * std::exp(-c[static_cast<std::size_t>(i + 5 + 1)] * s2);
  return f;
}

// xraylib's Compton tables start at x = 0.001 1/A (q = 0.0126 1/A) and it refuses to extrapolate below.
// There S_inc is below 0.002 electrons for every element and grows as x^2 (the small-x limit of the
// incoherent scattering function), which is how libpdf continues it to S_inc(0) = 0.
constexpr double xraylib_compton_xmin = 1e-3;

double xraylib_call(int Z, double x) {
  xrl_error* error = nullptr;
  const double value = SF_Compt(Z, x, &error);
  if (error != nullptr) {
    const std::string message = error->message != nullptr ? error->message : "unknown error";
    xrl_error_free(error);
    throw NumericalError("xraylib SF_Compt(Z = " + std::to_string(Z) + ", x = " + num(x) + ") failed: " + message);
  }
  return value;
}

// xraylib reports errors through an xrl_error** it allocates; xraylib_call frees it and throws.
double xraylib_compton(int Z, double q) {
  const double x = q / four_pi;
  if (x >= xraylib_compton_xmin) return xraylib_call(Z, x);
  if (x == 0) return 0.0;
  const double t = x / xraylib_compton_xmin;
  return xraylib_call(Z, xraylib_compton_xmin) * t * t;
}

}  // namespace

double form_factor(int Z, double q) {
  check_Z(Z);
  check_q(q);
  const double s = q / four_pi;
  return wk_value(detail::waasmaier_kirfel_table()[static_cast<std::size_t>(Z - 1)], s * s);
}

std::vector<double> waasmaier_kirfel_coefficients(int Z) {
  check_Z(Z);
  const auto& row = detail::waasmaier_kirfel_table()[static_cast<std::size_t>(Z - 1)];
  return {row.begin(), row.end()};
}

double compton(int Z, double q) {
  check_Z(Z);
  if (!(q >= 0) || !std::isfinite(q)) {
    throw InvalidArgument("q = " + num(q) + " 1/A for the Compton scattering function (expected a finite q >= 0)");
  }
  return xraylib_compton(Z, q);
}

ScatteringFactors scattering_factors(const Composition& composition, const std::vector<double>& q) {
  if (composition.empty()) throw InvalidArgument("composition is empty (expected at least one element)");
  for (double x : q) check_q(x);
  ScatteringFactors out;
  out.q = q;
  out.f2_mean.assign(q.size(), 0.0);
  out.f_mean_sq.assign(q.size(), 0.0);
  out.compton.assign(q.size(), 0.0);
  std::vector<double> f_mean(q.size(), 0.0);
  for (const auto& c : composition.components()) {
    const auto& row = detail::waasmaier_kirfel_table()[static_cast<std::size_t>(c.Z - 1)];
    for (std::size_t k = 0; k < q.size(); ++k) {
      const double s = q[k] / four_pi;
      const double f = wk_value(row, s * s);
      out.f2_mean[k] += c.fraction * f * f;
      f_mean[k] += c.fraction * f;
      out.compton[k] += c.fraction * xraylib_compton(c.Z, q[k]);
    }
  }
  for (std::size_t k = 0; k < q.size(); ++k) out.f_mean_sq[k] = f_mean[k] * f_mean[k];
  return out;
}

}  // namespace libpdf
