#pragma once
/// @file io.hpp
/// Reading detector frames and masks from files: TIFF (libtiff), HDF5/NeXus datasets, and DESY Lambda
/// multi-module series. Frames are read one at a time (a series never has to fit in memory).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/image.hpp"

namespace libpdf {

/// A sequence of equally shaped frames from one or more files.
class LIBPDF_API FrameSource {
 public:
  virtual ~FrameSource() = default;
  /// Number of frames.
  virtual std::size_t size() const = 0;
  virtual std::size_t rows() const = 0;
  virtual std::size_t cols() const = 0;
  /// Element type of the frames as stored.
  virtual PixelType type() const = 0;
  /// Reads frame @p index (0-based). @throws InvalidArgument if out of range, IoError on read failure.
  virtual Image read(std::size_t index) const = 0;
  /// Human-readable description (file, dataset), for headers and messages.
  virtual std::string describe() const = 0;
};

/// Opens a TIFF (all pages/directories are frames) or an HDF5/NeXus file. For HDF5, @p dataset is the
/// path of a 2-D or 3-D dataset; when empty it is discovered (NeXus @default → NXentry @default →
/// NXdata @signal, then an NXdetector's `data`, then the first dataset of rank 2 or 3 holding one of
/// the six PixelTypes, depth-first in sorted-name order; external links are followed). The format is
/// told by the file's signature, not its name. A DESY Lambda module file is opened as
/// the assembled series of all its modules and parts (see open_lambda_series) when @p dataset is empty;
/// with an explicit @p dataset only that dataset of that one file is read.
/// @throws IoError naming the file (and dataset) on any failure; InvalidArgument if @p dataset is
/// given for a TIFF.
LIBPDF_API std::unique_ptr<FrameSource> open_frames(const std::string& path, const std::string& dataset = "");

/// Opens a DESY Lambda multi-module series given any one of its files
/// (`<prefix>_m<k>_part<nnnnn>.nxs`): finds every module and part, places the modules by
/// /entry/instrument/detector/translation/distance (x, y in pixels), and returns assembled frames.
/// Gap pixels are −1 (the Lambda "invalid" marker; for unsigned frames the type's maximum, 2^bits − 1).
/// Every module must hold the same number of frames and its parts must run from part00000 without gaps.
LIBPDF_API std::unique_ptr<FrameSource> open_lambda_series(const std::string& any_file);

/// Reads one TIFF page as an Image (uint16, int16, uint32, int32, float32 or float64 samples).
LIBPDF_API Image read_tiff(const std::string& path, std::size_t page = 0);

/// Reads a mask: a TIFF (fabio/pyFAI and Dioptas `.mask`: non-zero = masked), or an HDF5 file with
/// @p dataset (a NeXus `pixel_mask` bit field counts a pixel bad when (value & 0xFFFF) != 0).
/// Returns rows*cols bytes, 1 = masked. See read_mask_image for the shape and the rules.
LIBPDF_API std::vector<std::uint8_t> read_mask(const std::string& path, const std::string& dataset = "");

/// A mask with its shape: rows*cols bytes (row-major), 1 = masked, 0 = valid.
struct MaskImage {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::vector<std::uint8_t> values;
};

/// read_mask with the shape. TIFF: page 0, any integer (8..64-bit) or float samples, non-zero = masked.
/// HDF5: @p dataset must be 2-D, or 3-D with a first dimension of 1; a dataset named `pixel_mask` is
/// a NeXus bit field (masked when (value & 0xFFFF) != 0), any other counts non-zero (and NaN) as
/// masked. An empty @p dataset finds an NXdetector's `pixel_mask`, else the first dataset of rank 2
/// or 3 (depth-first, sorted names). @throws IoError naming the file and dataset.
LIBPDF_API MaskImage read_mask_image(const std::string& path, const std::string& dataset = "");

/// Writes @p content to @p path atomically: a temporary file in the same directory, flushed to disk, then
/// renamed over @p path, so readers never see a half-written file and a failure leaves the old one intact.
/// @throws IoError naming the path and the system error.
LIBPDF_API void write_file_atomic(const std::string& path, std::string_view content);

/// Whether @p path looks like an HDF5 file: the 8-byte HDF5 signature at offset 0 (or after a user
/// block at 512, 1024, 2048, ... bytes). False for missing or unreadable files.
LIBPDF_API bool is_hdf5_file(const std::string& path);

}  // namespace libpdf
