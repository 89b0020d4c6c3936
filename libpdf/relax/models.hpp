#pragma once
// The β-relaxation models (docs/relaxation.md §2): background of the α wing and the β peak, with their
// analytic derivatives. Header-only so the tests can check the derivatives against finite differences.
#include <cmath>

#include "libpdf/relax.hpp"

namespace libpdf::relax_models {

/// Boltzmann constant in eV/K (CODATA 2018, exact).
constexpr double k_B_eV = 8.617333262e-5;
/// FWHM of a Gaussian in units of its standard deviation: 2√(2 ln 2).
constexpr double gaussian_fwhm_per_sigma = 2.3548200450309493;
/// acosh(2) = ln(2 + √3): sech x = 1/2 at x = ±acosh(2).
constexpr double acosh2 = 1.3169578969248166;

/// Number of parameters of each part.
constexpr int background_parameters = 3;
constexpr int peak_parameters = 3;

/// Whether background parameters (c, a, third) are inside the model's domain: a ≥ 0, a width or energy > 0.
inline bool background_valid(const double* p) { return p[1] >= 0 && p[2] > 0 && std::isfinite(p[0]); }
/// Peak parameters (h, T_β, third): h ≥ 0, T_β > 0, width or energy > 0.
inline bool peak_valid(const double* p) { return p[0] >= 0 && p[1] > 0 && p[2] > 0; }

/// B(T) and, when d is not null, ∂B/∂(c, a, third).
inline double background(BackgroundModel m, const double* p, double T_ref, double T, double* d = nullptr) {
  const double c = p[0], a = p[1], q = p[2];
  if (m == BackgroundModel::exponential) {
    // B = c + a·exp((T − T_ref)/w)
    const double u = (T - T_ref) / q;
    const double e = std::exp(u);
    if (d != nullptr) {
      d[0] = 1.0;
      d[1] = e;
      d[2] = -a * e * u / q;
    }
    return c + a * e;
  }
  // B = c + a·exp(−(E/k)(1/T − 1/T_ref))
  const double v = 1.0 / T - 1.0 / T_ref;
  const double e = std::exp(-q * v);
  if (d != nullptr) {
    d[0] = 1.0;
    d[1] = e;
    d[2] = -a * e * v;
  }
  return c + a * e;
}

/// P(T) and, when d is not null, ∂P/∂(h, T_β, third).
inline double peak(PeakModel m, const double* p, double T, double* d = nullptr) {
  const double h = p[0], T0 = p[1], q = p[2];
  if (m == PeakModel::gaussian) {
    // P = h·exp(−(T − T_β)²/(2s²))
    const double u = (T - T0) / q;
    const double g = std::exp(-0.5 * u * u);
    if (d != nullptr) {
      d[0] = g;
      d[1] = h * g * u / q;
      d[2] = h * g * u * u / q;
    }
    return h * g;
  }
  // P = h / cosh(x), x = (E/k)(1/T − 1/T_β)
  const double x = q * (1.0 / T - 1.0 / T0);
  const double sech = 1.0 / std::cosh(x);
  if (d != nullptr) {
    const double dPdx = -h * sech * std::tanh(x);
    d[0] = sech;
    d[1] = dPdx * q / (T0 * T0);
    d[2] = dPdx * (1.0 / T - 1.0 / T0);
  }
  return h * sech;
}

/// Full width at half maximum of the peak component (K) and its derivatives ∂/∂(h, T_β, third).
inline double peak_fwhm(PeakModel m, const double* p, double* d) {
  const double T0 = p[1], q = p[2];
  if (m == PeakModel::gaussian) {
    if (d != nullptr) {
      d[0] = 0;
      d[1] = 0;
      d[2] = gaussian_fwhm_per_sigma;
    }
    return gaussian_fwhm_per_sigma * q;
  }
  // Half maximum at 1/T = 1/T_β ± acosh(2)·k/E.
  const double b = acosh2 / q;
  const double inv = 1.0 / T0;
  if (!(inv > b)) {  // the high-temperature half point does not exist: an unbounded peak
    if (d != nullptr) d[0] = d[1] = d[2] = 0;
    return INFINITY;
  }
  const double lo = 1.0 / (inv + b), hi = 1.0 / (inv - b);
  if (d != nullptr) {
    // d(1/(inv ± b)) = −(1/(inv ± b))²·d(inv ± b); d inv/dT0 = −1/T0², d b/dq = −acosh2/q².
    const double dinv = -1.0 / (T0 * T0);
    const double db = -acosh2 / (q * q);
    d[0] = 0;
    d[1] = -hi * hi * dinv + lo * lo * dinv;
    d[2] = -hi * hi * (-db) + lo * lo * db;
  }
  return hi - lo;
}

}  // namespace libpdf::relax_models
