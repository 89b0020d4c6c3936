#include "libpdf/version.hpp"

namespace libpdf {
const char* version() { return LIBPDF_VERSION_STRING; }
}  // namespace libpdf
