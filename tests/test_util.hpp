#pragma once
// Small helpers shared by the GoogleTest suites.
#include <string>

#include "libpdf/error.hpp"

namespace libpdf::test {

/// The message of the libpdf::Error that @p f throws, or "(no exception)".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no exception)";
}

}  // namespace libpdf::test
