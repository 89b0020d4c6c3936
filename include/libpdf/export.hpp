#pragma once
// Symbol visibility: the library is built with -fvisibility=hidden; public API is marked LIBPDF_API.
#if defined(LIBPDF_BUILDING_LIBRARY)
#define LIBPDF_API __attribute__((visibility("default")))
#else
#define LIBPDF_API
#endif
