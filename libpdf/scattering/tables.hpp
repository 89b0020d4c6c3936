#pragma once
// Private data tables of the scattering module.
#include <array>

#include "libpdf/scattering.hpp"

namespace libpdf::detail {

/// Elements H..U, index Z-1 (elements.cpp).
const std::array<Element, 92>& element_table();

/// Waasmaier–Kirfel coefficients, row Z-1: a1..a5, c, b1..b5 (waasmaier_kirfel.cpp).
const std::array<std::array<double, 11>, 92>& waasmaier_kirfel_table();

}  // namespace libpdf::detail
