// Fuzz target: PONI text (pyFAI calibration files) -> parse_poni, and for what parses, the geometry built
// from it on a tiny detector. Invariants: only libpdf::Error escapes; whatever parses and validates formats
// to a text that parses again to the same numbers (write_poni must never produce a file we cannot read).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"

namespace {

// Same value, or both NaN (a PONI may carry NaN only if validate() lets it through; then it must survive).
bool same(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  libpdf::Poni poni;
  try {
    poni = libpdf::parse_poni(text, "fuzz");
  } catch (const libpdf::Error&) {
    return 0;
  }
  try {
    poni.validate();
  } catch (const libpdf::Error&) {
    return 0;
  }
  // Round trip: format_poni writes 17 significant digits, so every field must come back bit for bit.
  const libpdf::Poni again = libpdf::parse_poni(libpdf::format_poni(poni), "fuzz round trip");
  if (!same(again.distance_m, poni.distance_m) || !same(again.poni1_m, poni.poni1_m) ||
      !same(again.poni2_m, poni.poni2_m) || !same(again.rot1, poni.rot1) || !same(again.rot2, poni.rot2) ||
      !same(again.rot3, poni.rot3) || !same(again.wavelength_m, poni.wavelength_m) ||
      !same(again.detector.pixel1_m, poni.detector.pixel1_m) ||
      !same(again.detector.pixel2_m, poni.detector.pixel2_m) ||
      again.detector.orientation != poni.detector.orientation) {
    std::abort();  // a PONI we wrote reads back different: a real bug, make libFuzzer keep the input
  }
  // The per-pixel geometry on a 3 x 4 detector (whatever max_shape says: a fuzzed shape may be huge).
  try {
    const libpdf::Geometry g(poni, 3, 4);
    for (double v : g.q_array()) (void)v;
    for (double v : g.chi_array()) (void)v;
    (void)g.solid_angle(1, 2);
    (void)g.polarization(2, 3, 0.99);
    (void)g.corners_tth_chi(0, 0);
  } catch (const libpdf::Error&) {
  }
  return 0;
}
