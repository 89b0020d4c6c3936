#include "libpdf/transform/fftw_lock.hpp"

namespace libpdf::detail {

std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace libpdf::detail
