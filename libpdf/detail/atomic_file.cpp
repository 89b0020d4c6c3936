#include "libpdf/detail/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"

namespace libpdf::detail {

std::string temporary_path_for(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter.fetch_add(1));
}

void commit_rename(const std::string& from, const std::string& to) {
  if (std::rename(from.c_str(), to.c_str()) != 0) {
    const int err = errno;
    std::remove(from.c_str());
    throw IoError("cannot rename '" + from + "' to '" + to + "': " + std::strerror(err));
  }
}

void write_file_atomic(const std::string& path, std::string_view content) {
  const std::string tmp = temporary_path_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw IoError("cannot create '" + tmp + "' (temporary file for '" + path + "'): " + std::strerror(errno));
  }
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      std::remove(tmp.c_str());
      throw IoError("cannot write '" + path + "': " + std::strerror(err) + " (nothing was replaced)");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw IoError("cannot flush '" + path + "': " + std::strerror(err) + " (nothing was replaced)");
  }
  commit_rename(tmp, path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "' for reading: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("error while reading '" + path + "'");
  return ss.str();
}

}  // namespace libpdf::detail

namespace libpdf {
void write_file_atomic(const std::string& path, std::string_view content) { detail::write_file_atomic(path, content); }
}  // namespace libpdf
