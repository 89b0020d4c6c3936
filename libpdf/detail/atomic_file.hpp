#pragma once
// Atomic output: write to a temporary file in the destination's directory, flush, then rename over the
// destination, so a reader never sees a half-written file and a crash never destroys the old one.
#include <string>
#include <string_view>

#include "libpdf/export.hpp"

namespace libpdf::detail {

/// Writes @p content to @p path atomically. @throws IoError naming the path and the system error.
LIBPDF_API void write_file_atomic(const std::string& path, std::string_view content);

/// A temporary path beside @p path (same directory, so rename() is atomic): "<path>.tmp.<pid>.<n>".
LIBPDF_API std::string temporary_path_for(const std::string& path);

/// Renames @p from to @p to (atomic on POSIX within one file system). @throws IoError.
LIBPDF_API void commit_rename(const std::string& from, const std::string& to);

/// Reads a whole file. @throws IoError naming the path.
LIBPDF_API std::string read_file(const std::string& path);

}  // namespace libpdf::detail
