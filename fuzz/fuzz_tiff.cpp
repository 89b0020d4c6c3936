// Fuzz target: TIFF files (detector frames and masks) -> read_tiff, open_frames and read_mask_image on the
// bytes written to a scratch file. Invariants: only libpdf::Error escapes (libtiff's own complaints become
// IoError), and a frame that reads has the shape and type its source announced.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "fuzz_util.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = libpdf::fuzz::scratch_path(".tif");
  libpdf::fuzz::write_bytes(path, data, size);
  try {
    const libpdf::Image img = libpdf::read_tiff(path, 0);
    if (img.rows() == 0 || img.cols() == 0) std::abort();  // a frame that reads has pixels
    (void)img.at(img.rows() - 1, img.cols() - 1);
  } catch (const libpdf::Error&) {
  }
  try {
    const std::unique_ptr<libpdf::FrameSource> src = libpdf::open_frames(path);
    // A few pages only: a fuzzed file may claim thousands of directories.
    for (std::size_t k = 0; k < src->size() && k < 4; ++k) {
      const libpdf::Image img = src->read(k);
      if (img.rows() != src->rows() || img.cols() != src->cols() || img.type() != src->type()) std::abort();
    }
  } catch (const libpdf::Error&) {
  }
  try {
    const libpdf::MaskImage m = libpdf::read_mask_image(path);
    if (m.values.size() != m.rows * m.cols) std::abort();
  } catch (const libpdf::Error&) {
  }
  return 0;
}
