#pragma once
/// @file error.hpp
/// Exceptions thrown by libpdf. Every error derives from libpdf::Error; messages name the field or file,
/// the offending value and what was expected.
#include <stdexcept>
#include <string>

#include "libpdf/export.hpp"

namespace libpdf {

/// Base of every exception libpdf throws.
class LIBPDF_API Error : public std::runtime_error {
 public:
  /// An error with message @p what.
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

/// A parameter, option or input array is invalid (wrong shape, out of range, inconsistent).
class LIBPDF_API InvalidArgument : public Error {
 public:
  /// An error with message @p what (naming the field, its value and what was expected).
  explicit InvalidArgument(const std::string& what) : Error(what) {}
};

/// A file could not be read or written, or its content is malformed. For HDF5 errors the message
/// carries the HDF5 error stack.
class LIBPDF_API IoError : public Error {
 public:
  /// An error with message @p what (naming the file and, for HDF5, the error stack).
  explicit IoError(const std::string& what) : Error(what) {}
};

/// A computation could not produce a meaningful number (all pixels masked, singular fit, ...).
class LIBPDF_API NumericalError : public Error {
 public:
  /// An error with message @p what.
  explicit NumericalError(const std::string& what) : Error(what) {}
};

}  // namespace libpdf
