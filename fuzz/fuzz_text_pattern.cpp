// Fuzz target: text patterns (.xy, .chi, .dat, .gr: numeric columns after a header) -> parse_text_pattern.
// Invariants: only libpdf::Error escapes; what parses has x and y of the same non-zero length, σ empty or of
// that length and non-negative, every number finite (the reader promises an error for NaN/Inf and σ < 0).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "libpdf/error.hpp"
#include "libpdf/pattern_io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  libpdf::TextPattern p;
  try {
    p = libpdf::parse_text_pattern(text, "fuzz");
  } catch (const libpdf::Error&) {
    return 0;
  }
  if (p.x.empty() || p.x.size() != p.y.size()) std::abort();
  if (!p.sigma.empty() && p.sigma.size() != p.x.size()) std::abort();
  if (p.columns < 2 || p.columns > 4) std::abort();
  for (std::size_t i = 0; i < p.x.size(); ++i) {
    if (!std::isfinite(p.x[i]) || !std::isfinite(p.y[i])) std::abort();
    if (!p.sigma.empty() && !(p.sigma[i] >= 0 && std::isfinite(p.sigma[i]))) std::abort();
  }
  // The x column converted as the pdf command does: any values, never a crash.
  try {
    (void)libpdf::to_q_A(p.x, libpdf::PatternXUnit::tth_deg, 0.2);
  } catch (const libpdf::Error&) {
  }
  return 0;
}
