// Fuzz target: composition formulas ("La65Co25Al10", "(TiZr)0.5O") -> Composition, then what a reduction
// asks of it. Invariants: only libpdf::Error escapes; a parsed composition is non-empty with finite
// fractions in [0, 1] (an amount may be 0) summing to 1, a finite mean mass, and its normalized formula parses to the same
// elements; scattering factors at a few q are finite.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/scattering.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string formula(reinterpret_cast<const char*>(data), size);
  libpdf::Composition c;
  try {
    c = libpdf::Composition(formula);
  } catch (const libpdf::Error&) {
    return 0;
  }
  if (c.empty()) std::abort();  // the constructor promises an error for an empty formula
  double sum = 0;
  for (const auto& comp : c.components()) {
    if (!(comp.fraction >= 0 && comp.fraction <= 1) || !std::isfinite(comp.amount)) std::abort();
    sum += comp.fraction;
  }
  // Fractions are amount/Σamount: their sum is 1 up to one rounding per element.
  if (std::fabs(sum - 1) > 1e-12 * static_cast<double>(c.components().size() + 1)) std::abort();
  if (!std::isfinite(c.mean_mass()) || c.mean_mass() <= 0) std::abort();
  // The normalized formula (6 significant digits) is itself a formula: same elements, same order. A fraction
  // too small for 6 digits prints as e.g. 1e-300 and must still parse.
  const libpdf::Composition again(c.normalized_formula());
  if (again.components().size() != c.components().size()) std::abort();
  for (std::size_t k = 0; k < c.components().size(); ++k) {
    if (again.components()[k].Z != c.components()[k].Z) std::abort();
  }
  const libpdf::ScatteringFactors f = libpdf::scattering_factors(c, {0.0, 1.0, 25.0});
  for (std::size_t k = 0; k < f.q.size(); ++k) {
    if (!std::isfinite(f.f2_mean[k]) || !std::isfinite(f.f_mean_sq[k]) || !std::isfinite(f.compton[k])) {
      std::abort();
    }
  }
  (void)libpdf::number_density_from_mass_density(2.5, c);
  return 0;
}
