#pragma once
// Small helpers shared by the GoogleTest suites.
#include <gtest/gtest.h>

#include <exception>
#include <string>

#include "libpdf/error.hpp"

namespace libpdf::test {

/// Runs @p f, which must throw a libpdf exception of type E, and returns its message. Throwing another type
/// or nothing is a test failure (and returns "").
template <class E = libpdf::Error, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "did not throw";
  return "";
}

}  // namespace libpdf::test
