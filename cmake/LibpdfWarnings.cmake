# Warning flags for libpdf's own targets (never forced onto consumers).
function(libpdf_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wconversion -Wshadow
                                           -Wno-sign-conversion)
  if(LIBPDF_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
