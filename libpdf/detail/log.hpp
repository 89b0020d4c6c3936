#pragma once
// libpdf's private logger. spdlog never appears in public headers.
#include <spdlog/logger.h>

namespace libpdf::detail {
/// The "libpdf" logger (never registered as spdlog's default logger).
spdlog::logger& logger();
}  // namespace libpdf::detail
