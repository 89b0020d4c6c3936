# FindFFTW3
# ---------
# Debian ships FFTW3 with pkg-config files only (no CMake config), so this module finds it through
# pkg-config and falls back to a plain library search. It defines imported targets named like those
# FFTW's own CMake build exports:
#   FFTW3::fftw3      double precision
#   FFTW3::fftw3f     single precision
#   FFTW3::fftw3_omp  OpenMP threading for double precision (when present)
# and FFTW3_FOUND, FFTW3_INCLUDE_DIRS, FFTW3_VERSION.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(PC_FFTW3 QUIET fftw3)
  pkg_check_modules(PC_FFTW3F QUIET fftw3f)
endif()

find_path(FFTW3_INCLUDE_DIR fftw3.h HINTS ${PC_FFTW3_INCLUDE_DIRS})
find_library(FFTW3_LIBRARY NAMES fftw3 HINTS ${PC_FFTW3_LIBRARY_DIRS})
find_library(FFTW3F_LIBRARY NAMES fftw3f HINTS ${PC_FFTW3F_LIBRARY_DIRS} ${PC_FFTW3_LIBRARY_DIRS})
find_library(FFTW3_OMP_LIBRARY NAMES fftw3_omp HINTS ${PC_FFTW3_LIBRARY_DIRS})
set(FFTW3_VERSION ${PC_FFTW3_VERSION})

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(FFTW3
  REQUIRED_VARS FFTW3_LIBRARY FFTW3F_LIBRARY FFTW3_INCLUDE_DIR
  VERSION_VAR FFTW3_VERSION)

if(FFTW3_FOUND)
  set(FFTW3_INCLUDE_DIRS ${FFTW3_INCLUDE_DIR})
  if(NOT TARGET FFTW3::fftw3)
    add_library(FFTW3::fftw3 UNKNOWN IMPORTED)
    set_target_properties(FFTW3::fftw3 PROPERTIES IMPORTED_LOCATION "${FFTW3_LIBRARY}"
                          INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_INCLUDE_DIR}")
  endif()
  if(NOT TARGET FFTW3::fftw3f)
    add_library(FFTW3::fftw3f UNKNOWN IMPORTED)
    set_target_properties(FFTW3::fftw3f PROPERTIES IMPORTED_LOCATION "${FFTW3F_LIBRARY}"
                          INTERFACE_INCLUDE_DIRECTORIES "${FFTW3_INCLUDE_DIR}")
  endif()
  if(FFTW3_OMP_LIBRARY AND NOT TARGET FFTW3::fftw3_omp)
    add_library(FFTW3::fftw3_omp UNKNOWN IMPORTED)
    set_target_properties(FFTW3::fftw3_omp PROPERTIES IMPORTED_LOCATION "${FFTW3_OMP_LIBRARY}"
                          INTERFACE_LINK_LIBRARIES FFTW3::fftw3)
  endif()
endif()
mark_as_advanced(FFTW3_INCLUDE_DIR FFTW3_LIBRARY FFTW3F_LIBRARY FFTW3_OMP_LIBRARY)
