#pragma once
// Private helpers shared by the io sources (TIFF pages in any numeric type, file signatures, dataset
// discovery in HDF5/NeXus files). Not part of the API.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"

namespace libpdf::detail {

/// How the samples of a TIFF page are encoded (TIFF's SampleFormat tag).
enum class SampleKind { unsigned_int, signed_int, floating };

/// One TIFF page as stored: rows*cols samples of @c bits bits each, native byte order, row-major.
struct RawTiffPage {
  std::size_t rows = 0;
  std::size_t cols = 0;
  SampleKind kind = SampleKind::unsigned_int;
  unsigned bits = 0;  ///< 8, 16, 32 or 64
  std::vector<unsigned char> bytes;
};

/// Whether the file starts with a TIFF or BigTIFF signature ("II*\0", "MM\0*", "II+\0", "MM\0+").
bool is_tiff_file(const std::string& path);
/// The first bytes of a file as hex and printable text, for "unknown format" messages.
std::string describe_signature(const std::string& path);

/// Reads page @p page of a TIFF with one sample per pixel of 8/16/32/64-bit integers or 32/64-bit floats.
/// @throws IoError naming the file and page; InvalidArgument when @p page is past the last page.
RawTiffPage read_tiff_page_raw(const std::string& path, std::size_t page);
/// Every page of a TIFF as one frame (all pages must share shape and type).
std::unique_ptr<FrameSource> open_tiff_frames(const std::string& path);

/// What a dataset search is for: frames accept uint16..float64; masks any integer/float type.
enum class DatasetRole { frames, mask };
/// The dataset holding frames (or a mask) in an HDF5/NeXus file, found as open_frames documents:
/// NeXus @default -> NXentry @default -> NXdata @signal; an NXdetector's `data` (or `pixel_mask` for
/// masks); the first dataset of rank 2 or 3 (depth-first, sorted names). nullopt when none fits.
std::optional<std::string> find_dataset(const h5::File& file, DatasetRole role);

/// Whether @p path is named like a DESY Lambda module file: <prefix>_m<k>_part<nnnnn>.nxs.
bool is_lambda_module_name(const std::string& path);

/// Whether the file name of @p path is a frame series pattern ('#' digits, a printf field "%05d", or a
/// glob with '*' or '?'); see expand_series_pattern.
bool is_series_pattern(const std::string& path);

/// "(a, b, c)" for shapes in messages.
std::string shape_string(const std::vector<std::size_t>& shape);

// The frames of one HDF5 dataset (2-D frame or 3-D stack) as a FrameSource with direct chunk reads where they
// apply (what open_frames returns for a plain HDF5 file). @throws IoError as open_frames.
std::unique_ptr<FrameSource> hdf5_dataset_frames(h5::Dataset ds);

}  // namespace libpdf::detail
