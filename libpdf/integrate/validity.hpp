#pragma once
// Per-frame validity of a raw pixel value: NaN/Inf, the user's dummy value, and the detectors' own markers
// (−1 in signed data such as the Lambda's, 2^bitdepth − 1 in unsigned data such as the Eiger's).
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "libpdf/integrate.hpp"

namespace libpdf::detail {

template <class T>
struct Validity {
  bool use_marker = false;
  T marker{};
  bool use_dummy = false;
  double dummy = 0, delta = 0;

  explicit Validity(const IntegrationOptions& o) {
    if constexpr (std::is_integral_v<T>) {
      if (o.mask_detector_markers) {
        use_marker = true;
        if constexpr (std::is_signed_v<T>) {
          marker = static_cast<T>(-1);
        } else {
          const int bits = o.bit_depth ? *o.bit_depth : static_cast<int>(8 * sizeof(T));
          const std::uint64_t m = bits >= 64 ? ~0ull : ((1ull << bits) - 1);
          marker = static_cast<T>(std::min<std::uint64_t>(m, std::numeric_limits<T>::max()));
        }
      }
    }
    if (o.dummy) {
      use_dummy = true;
      dummy = *o.dummy;
      delta = o.delta_dummy;
    }
  }

  bool operator()(T v) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(v)) return false;
    } else {
      if (use_marker && v == marker) return false;
    }
    if (use_dummy) {
      const double d = static_cast<double>(v) - dummy;
      if (delta > 0 ? std::fabs(d) <= delta : d == 0) return false;
    }
    return true;
  }
};

}  // namespace libpdf::detail
