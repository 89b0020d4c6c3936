# Installation: headers, libpdf.so (with SONAME), the CMake package (libpdfConfig.cmake + version file, target
# libpdf::libpdf) and a pkg-config file, in the Debian-style GNUInstallDirs layout.
include(CMakePackageConfigHelpers)

install(TARGETS libpdf
  EXPORT libpdfTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT devel
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT devel
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/libpdf
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT devel
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.h" PATTERN "*.in" EXCLUDE)
install(FILES ${PROJECT_BINARY_DIR}/include/libpdf/version.hpp
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/libpdf COMPONENT devel)

set(LIBPDF_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/libpdf)
install(EXPORT libpdfTargets NAMESPACE libpdf:: DESTINATION ${LIBPDF_CMAKE_DIR} COMPONENT devel)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/libpdfConfig.cmake.in
  ${PROJECT_BINARY_DIR}/libpdfConfig.cmake INSTALL_DESTINATION ${LIBPDF_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/libpdfConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/libpdfConfig.cmake ${PROJECT_BINARY_DIR}/libpdfConfigVersion.cmake
  DESTINATION ${LIBPDF_CMAKE_DIR} COMPONENT devel)

file(RELATIVE_PATH LIBPDF_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
configure_file(${PROJECT_SOURCE_DIR}/cmake/libpdf.pc.in ${PROJECT_BINARY_DIR}/libpdf.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/libpdf.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT devel)
