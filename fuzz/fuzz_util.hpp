#pragma once
// Shared by the fuzz targets that need a file on disk (TIFF and HDF5 readers take paths, not buffers).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace libpdf::fuzz {

/// One scratch path per process (libFuzzer's -fork/-jobs run several processes), in $TMPDIR or /tmp.
/// RAM-backed /dev/shm is preferred when present: a fuzz run writes the file hundreds of thousands of times.
inline std::string scratch_path(const char* suffix) {
  const char* dir = std::getenv("LIBPDF_FUZZ_TMP");
  std::string base = dir ? dir : (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
  return base + "/libpdf_fuzz_" + std::to_string(static_cast<long>(getpid())) + suffix;
}

/// Writes @p size bytes to @p path (replacing it); aborts if the scratch file cannot be written, since
/// every later result would be meaningless.
inline void write_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size > 0 && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) {
    std::perror(path.c_str());
    std::abort();
  }
}

}  // namespace libpdf::fuzz
