# Sanitizers and fuzzing instrumentation for every target of this build (the library, tests, tools, fuzzers).
#
# LIBPDF_SANITIZE takes the value of -fsanitize=: "address,undefined" (the CI memory/UB build) or "thread"
# (ThreadSanitizer; cannot be combined with address). Recovery is off so the first report fails the test.
#
# LIBPDF_BUILD_FUZZERS (clang only) adds -fsanitize=fuzzer-no-link to everything so libFuzzer sees the
# library's coverage; the fuzz targets themselves link with -fsanitize=fuzzer (fuzz/CMakeLists.txt).
if(LIBPDF_SANITIZE)
  if(LIBPDF_SANITIZE MATCHES "thread" AND LIBPDF_SANITIZE MATCHES "address")
    message(FATAL_ERROR "LIBPDF_SANITIZE='${LIBPDF_SANITIZE}': ThreadSanitizer cannot be combined with "
                        "AddressSanitizer; use 'address,undefined' or 'thread'")
  endif()
  add_compile_options(-fsanitize=${LIBPDF_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${LIBPDF_SANITIZE})
endif()

if(LIBPDF_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LIBPDF_BUILD_FUZZERS needs clang (libFuzzer), e.g. -DCMAKE_CXX_COMPILER=clang++ "
                        "-DCMAKE_C_COMPILER=clang; this build uses ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link -g)
endif()
