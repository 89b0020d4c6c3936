#pragma once
// Shared per-pixel geometry for building integration plans: radial value and χ of a lab vector, the folded
// normalisation, the static validity of a pixel, and the area of a polygon cut by a vertical line.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"

namespace libpdf::detail {

/// Radial value of a lab vector t in the unit of the bins. 2θ-free formulas where possible (no atan2): the
/// plan for a 2880² detector must build in well under half a second.
struct RadialCalc {
  RadialUnit unit = RadialUnit::q_A;
  double four_pi_over_lambda = 0;  // 4π/λ in 1/Å

  RadialCalc(RadialUnit u, const Poni& poni) : unit(u) {
    if (u == RadialUnit::q_A || u == RadialUnit::q_nm) {
      if (!(poni.wavelength_m > 0)) {
        throw InvalidArgument(std::string("integration in ") + radial_unit_name(u) +
                              " needs a wavelength, and the PONI gives none");
      }
      four_pi_over_lambda = 4.0 * M_PI / poni.wavelength_A();
    }
  }

  double operator()(const std::array<double, 3>& t) const {
    const double rho2 = t[0] * t[0] + t[1] * t[1];
    switch (unit) {
      case RadialUnit::q_A:
      case RadialUnit::q_nm: {
        const double len = std::sqrt(rho2 + t[2] * t[2]);
        // 1 − cos2θ without cancellation: ρ²/(|t|(|t| + t3)) when t3 > 0.
        const double one_minus_cos = t[2] > 0 ? rho2 / (len * (len + t[2])) : (len - t[2]) / len;
        const double q = four_pi_over_lambda * std::sqrt(0.5 * one_minus_cos);
        return unit == RadialUnit::q_A ? q : 10.0 * q;
      }
      case RadialUnit::tth_deg: return std::atan2(std::sqrt(rho2), t[2]) * (180.0 / M_PI);
      case RadialUnit::r_mm: return std::sqrt(rho2) * 1000.0;
    }
    return 0.0;
  }
};

/// The lab vector is affine in the fractional pixel coordinates (a flat detector: t = t₀ + row·Δr + col·Δc,
/// flips included), so a plan builder evaluates it with three multiply-adds instead of a rotation per point.
struct LabAffine {
  std::array<double, 3> t0{}, dr{}, dc{};
  explicit LabAffine(const Geometry& g) {
    t0 = g.lab_vector(0.0, 0.0);
    // Differences over the whole detector: the rounding of one step is divided by the detector size.
    const auto tr = g.lab_vector(static_cast<double>(g.rows()), 0.0);
    const auto tc = g.lab_vector(0.0, static_cast<double>(g.cols()));
    for (int k = 0; k < 3; ++k) {
      dr[k] = (tr[k] - t0[k]) / static_cast<double>(g.rows());
      dc[k] = (tc[k] - t0[k]) / static_cast<double>(g.cols());
    }
  }
  std::array<double, 3> at(double row, double col) const {
    return {t0[0] + row * dr[0] + col * dc[0], t0[1] + row * dr[1] + col * dc[1], t0[2] + row * dr[2] + col * dc[2]};
  }
};

inline double chi_of(const std::array<double, 3>& t) { return std::atan2(t[0], t[1]); }

/// χ of a corner moved to within π of the pixel centre's χ (pixels on the χ = ±π cut).
inline double unwrap_near(double chi, double centre) {
  if (chi - centre > M_PI) return chi - 2 * M_PI;
  if (chi - centre < -M_PI) return chi + 2 * M_PI;
  return chi;
}

/// flat·Ω·P·ε·k at lab vector t (pixel centre), see docs/conventions.md §1.
struct NormCalc {
  const IntegrationOptions* opt;
  double distance_m;
  double mud = 0, norm_eps = 1;

  NormCalc(const IntegrationOptions& o, const Poni& p) : opt(&o), distance_m(p.distance_m) {
    if (o.sensor) {
      mud = o.sensor->thickness_m / o.sensor->attenuation_length_m;
      norm_eps = -std::expm1(-mud);
    }
  }
  double operator()(const std::array<double, 3>& t) const {
    const double rho2 = t[0] * t[0] + t[1] * t[1];
    const double len2 = rho2 + t[2] * t[2];
    const double len = std::sqrt(len2);
    double n = opt->normalization_factor;
    const double cos_a = distance_m / len;
    if (opt->solid_angle) n *= cos_a * cos_a * cos_a;
    if (opt->polarization_factor) {
      const double cos2tth_sq = t[2] * t[2] / len2;
      const double cos2chi = rho2 > 0 ? (t[1] * t[1] - t[0] * t[0]) / rho2 : 0.0;
      n *= 0.5 * (1.0 + cos2tth_sq - *opt->polarization_factor * cos2chi * (1.0 - cos2tth_sq));
    }
    if (opt->sensor) n *= -std::expm1(-mud / cos_a) / norm_eps;
    return n;
  }
};

/// Checks the sizes of the static corrections against the detector.
inline void check_corrections(const Corrections& c, std::size_t rows, std::size_t cols) {
  const std::size_t n = rows * cols;
  auto check = [&](std::size_t size, const char* name) {
    if (size != 0 && size != n) {
      throw InvalidArgument(std::string("the ") + name + " has " + std::to_string(size) +
                            " pixels but the detector has " + std::to_string(rows) + " x " + std::to_string(cols) +
                            " = " + std::to_string(n) + " (shapes must match)");
    }
  };
  check(c.mask.size(), "mask");
  check(c.dark.size(), "dark");
  check(c.dark_variance.size(), "dark variance");
  check(c.flat.size(), "flat field");
}

/// Whether pixel p is usable before any frame is seen: not masked, finite dark, flat > 0.
inline bool statically_valid(const Corrections& c, std::size_t p) {
  if (!c.mask.empty() && c.mask[p] != 0) return false;
  if (!c.dark.empty() && !std::isfinite(c.dark[p])) return false;
  if (!c.dark_variance.empty() && !(c.dark_variance[p] >= 0)) return false;
  if (!c.flat.empty() && !(std::isfinite(c.flat[p]) && c.flat[p] > 0)) return false;
  return true;
}

/// Area of a polygon (shoelace, absolute value).
inline double polygon_area(const double (*p)[2], int n) {
  double a = 0;
  for (int k = 0; k < n; ++k) {
    const int m = (k + 1) % n;
    a += p[k][0] * p[m][1] - p[m][0] * p[k][1];
  }
  return 0.5 * std::fabs(a);
}

/// Clips polygon @p in (n vertices, n <= 8) to the half plane {coord[axis] <= x} (keep_below) or
/// {coord[axis] >= x}; Sutherland–Hodgman for one edge. Returns the vertex count written to @p out.
inline int clip_half_plane(const double (*in)[2], int n, int axis, double x, bool keep_below, double (*out)[2]) {
  int m = 0;
  for (int k = 0; k < n; ++k) {
    const double* cur = in[k];
    const double* nxt = in[(k + 1) % n];
    const bool cin = keep_below ? cur[axis] <= x : cur[axis] >= x;
    const bool nin = keep_below ? nxt[axis] <= x : nxt[axis] >= x;
    if (cin) {
      out[m][0] = cur[0];
      out[m][1] = cur[1];
      ++m;
    }
    if (cin != nin) {
      const double t = (x - cur[axis]) / (nxt[axis] - cur[axis]);
      out[m][axis] = x;
      out[m][1 - axis] = cur[1 - axis] + t * (nxt[1 - axis] - cur[1 - axis]);
      ++m;
    }
  }
  return m;
}

/// Area of the part of a convex-or-not quadrilateral with coord[0] <= x.
inline double area_below(const double (*quad)[2], double x) {
  double out[8][2];
  const int m = clip_half_plane(quad, 4, 0, x, true, out);
  return m < 3 ? 0.0 : polygon_area(out, m);
}

/// Area of the part of polygon (n <= 4) inside [x0, x1] × [y0, y1].
inline double area_in_rect(const double (*poly)[2], int n, double x0, double x1, double y0, double y1) {
  double a[12][2], b[12][2];
  int m = clip_half_plane(poly, n, 0, x0, false, a);
  if (m < 3) return 0;
  m = clip_half_plane(a, m, 0, x1, true, b);
  if (m < 3) return 0;
  m = clip_half_plane(b, m, 1, y0, false, a);
  if (m < 3) return 0;
  m = clip_half_plane(a, m, 1, y1, true, b);
  if (m < 3) return 0;
  return polygon_area(b, m);
}

/// Thread count of an options struct (0 = every core OpenMP offers).
inline int thread_count(int requested) { return requested > 0 ? requested : std::max(1, omp_get_max_threads()); }

/// Rows [begin, end) of chunk c when `rows` rows are cut into `chunks` nearly equal parts.
inline std::size_t chunk_row(std::size_t c, std::size_t chunks, std::size_t rows) { return c * rows / chunks; }

}  // namespace libpdf::detail
