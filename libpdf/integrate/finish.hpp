#pragma once
#include "libpdf/integrate.hpp"

namespace libpdf::detail {
/// Fills intensity and sigma of @p r from its sums (empty bins get r.empty and σ 0).
void finish_result(Result1D& r);
}  // namespace libpdf::detail
