// Exceptions are header-only; this unit anchors their vtables in the library.
#include "libpdf/error.hpp"
