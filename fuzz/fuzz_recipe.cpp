// Fuzz target: recipe files (TOML describing a reduction) -> parse_recipe. Invariant: only libpdf::Error
// escapes; whatever the text, the parser either returns a recipe or names what is wrong.
#include <cstddef>
#include <cstdint>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/recipe.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)libpdf::parse_recipe(text, "fuzz.toml");
  } catch (const libpdf::Error&) {
  }
  return 0;
}
