#pragma once
/// @file log.hpp
/// libpdf logs through its own private logger (named "libpdf"); it never touches the host program's
/// default logger. The host chooses the level and may route messages to its own sink.
#include <functional>
#include <string_view>

#include "libpdf/export.hpp"

namespace libpdf {

/// Severity of a log message, from most to least verbose.
enum class LogLevel { trace, debug, info, warn, error, off };

/// Receives each message at or above the current level.
using LogHandler = std::function<void(LogLevel level, std::string_view message)>;

/// Sets the minimum level libpdf logs at (default: warn).
LIBPDF_API void set_log_level(LogLevel level);
/// The current minimum level.
LIBPDF_API LogLevel log_level();
/// Routes libpdf's messages to @p handler instead of stderr; an empty handler restores stderr.
LIBPDF_API void set_log_handler(LogHandler handler);

}  // namespace libpdf
