// Merging 1D results through their per-bin sums.
#include <cmath>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/integrate/finish.hpp"

namespace libpdf {

namespace detail {
void finish_result(Result1D& r) {
  const std::size_t n = r.sum_signal.size();
  r.intensity.assign(n, r.empty);
  r.sigma.assign(n, 0.0);
  const double scale = r.summed ? static_cast<double>(r.frames) : 1.0;
  for (std::size_t b = 0; b < n; ++b) {
    // A bin is empty when no valid pixel weight reached it (count exactly 0, see Integrator).
    if (r.count[b] > 0 && r.sum_normalization[b] > 0) {
      // Sums are doubles, so only float64 frames with values near 1e300 (or their squares, in the variance) can
      // overflow. Inf or NaN here would spread into every later step: refuse it by name instead.
      if (!std::isfinite(r.sum_signal[b]) || !std::isfinite(r.sum_variance[b])) {
        const double x = b < r.radial.size() ? r.radial[b] : 0.0;
        throw NumericalError("integrate: the sums of bin " + std::to_string(b) + " (radial " + std::to_string(x) +
                             " " + radial_unit_name(r.unit) + ") are not finite (signal " +
                             std::to_string(r.sum_signal[b]) + ", variance " + std::to_string(r.sum_variance[b]) +
                             "): pixel values too large for double-precision sums; scale the frame down");
      }
      r.intensity[b] = scale * r.sum_signal[b] / r.sum_normalization[b];
      r.sigma[b] = scale * std::sqrt(std::max(r.sum_variance[b], 0.0)) / r.sum_normalization[b];
    }
  }
}
}  // namespace detail

Result1D merge(const Result1D& a, const Result1D& b) {
  if (a.unit != b.unit || a.radial_edges.size() != b.radial_edges.size()) {
    throw InvalidArgument("merge: the results have different bins (" + std::to_string(a.radial.size()) + " bins in " +
                          radial_unit_name(a.unit) + " vs " + std::to_string(b.radial.size()) + " bins in " +
                          radial_unit_name(b.unit) + ")");
  }
  for (std::size_t i = 0; i < a.radial_edges.size(); ++i) {
    const double tol = 1e-12 * std::max(1.0, std::fabs(a.radial_edges[i]));
    if (std::fabs(a.radial_edges[i] - b.radial_edges[i]) > tol) {
      throw InvalidArgument("merge: bin edge " + std::to_string(i) + " differs (" + std::to_string(a.radial_edges[i]) +
                            " vs " + std::to_string(b.radial_edges[i]) + ")");
    }
  }
  if (a.error_model != b.error_model) {
    throw InvalidArgument(std::string("merge: the results use different error models (") +
                          error_model_name(a.error_model) + " vs " + error_model_name(b.error_model) + ")");
  }
  if (a.summed != b.summed) throw InvalidArgument("merge: one result is a sum of frames, the other an average");
  Result1D r = a;
  r.frames = a.frames + b.frames;
  r.rejected_pixels = a.rejected_pixels + b.rejected_pixels;
  for (std::size_t i = 0; i < r.sum_signal.size(); ++i) {
    r.sum_signal[i] += b.sum_signal[i];
    r.sum_normalization[i] += b.sum_normalization[i];
    r.count[i] += b.count[i];
    // Poisson: variances of independent pixels add exactly. Azimuthal: the sum holds each part's spread about
    // its own mean (the spread between the parts' means is not included; documented in integrate.hpp).
    r.sum_variance[i] += b.sum_variance[i];
  }
  detail::finish_result(r);
  return r;
}

}  // namespace libpdf
