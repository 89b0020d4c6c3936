#pragma once
/// @file io.hpp
/// Reading detector frames and masks from files: TIFF (libtiff), HDF5/NeXus datasets, and DESY Lambda
/// multi-module series. Frames are read one at a time (a series never has to fit in memory).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  /// Rows of every frame (slow axis).
  virtual std::size_t rows() const = 0;
  /// Columns of every frame (fast axis).
  virtual std::size_t cols() const = 0;
  /// Element type of the frames as stored.
  virtual PixelType type() const = 0;
  /// Reads frame @p index (0-based). @throws InvalidArgument if out of range, IoError on read failure.
  virtual Image read(std::size_t index) const = 0;
  /// Reads frame @p index into @p out, reusing its memory when it already has the frame's type and shape (a
  /// series reader recycling a few frame buffers then allocates, and page-faults, nothing per frame). The
  /// same values as read(); sources that cannot read in place assign read()'s result. Same exceptions as
  /// read(); @p out is unspecified after one.
  virtual void read_into(std::size_t index, Image& out) const { out = read(index); }
  /// Human-readable description (file, dataset), for headers and messages.
  virtual std::string describe() const = 0;
};

/// Opens a TIFF (all pages/directories are frames) or an HDF5/NeXus file. For HDF5, @p dataset is the
/// path of a 2-D or 3-D dataset; when empty it is discovered (NeXus \@default → NXentry \@default →
/// NXdata \@signal, then an NXdetector's `data`, then the first dataset of rank 2 or 3 holding one of
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
  std::size_t rows = 0;              ///< Rows of the mask.
  std::size_t cols = 0;              ///< Columns of the mask.
  std::vector<std::uint8_t> values;  ///< rows*cols values, row-major, 1 = masked.
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

// =====================================================================================================
// Frame ranges, Eiger master files, TIFF series, darks, growing files (docs/files.md)
// =====================================================================================================

/// A Python-style selection of frames: start, stop (exclusive; unset = to the end), step (>= 1).
struct FrameRange {
  std::size_t start = 0;            ///< First frame (0-based).
  std::optional<std::size_t> stop;  ///< One past the last frame; unset = to the end.
  std::size_t step = 1;             ///< Take every step-th frame (>= 1).
};

/// The frames of @p source selected by @p range, renumbered 0..n−1 (describe() names the range). A stop
/// past the end is clipped (as in Python). @throws InvalidArgument if step is 0 or nothing is selected.
LIBPDF_API std::unique_ptr<FrameSource> select_frames(std::shared_ptr<const FrameSource> source,
                                                      const FrameRange& range);

/// How open_frames reads a file.
struct OpenOptions {
  std::string dataset;               ///< HDF5 path of the frames; empty = discovered (see open_frames).
  std::optional<FrameRange> frames;  ///< Frames to keep (default all).
  /// Dectris Eiger: pixels flagged in the detector's pixel_mask ((value & 0xFFFF) != 0) and pixels holding
  /// the counter's invalid marker 2^bit_depth_image − 1 read as the frame type's maximum (2^bits − 1), the
  /// marker the Integrator masks by default. false: frames exactly as stored.
  bool apply_detector_mask = true;
};

/// open_frames with options: the format is told as documented there, plus Dectris Eiger master files
/// (open_eiger) and TIFF series patterns (open_tiff_series: a path with '#', '*', '?' or a printf field
/// such as "%05d" that names no existing file).
LIBPDF_API std::unique_ptr<FrameSource> open_frames(const std::string& path, const OpenOptions& options);

/// Whether @p path is a Dectris Eiger master file: HDF5 with /entry/data/data_NNNNNN links (usually
/// external links to `<prefix>_data_NNNNNN.h5`).
LIBPDF_API bool is_eiger_master(const std::string& path);

/// Opens a Dectris Eiger master file: the frames of every /entry/data/data_NNNNNN in number order as one
/// series (data files may be compressed with bitshuffle/LZ4, HDF5 filter 32008: the Debian package
/// `bitshuffle` provides the plugin; a missing plugin is a clear IoError saying so). With
/// @p apply_detector_mask, invalid pixels read as the type's maximum (see OpenOptions). Data files that do
/// not exist (yet) end the series there (a file still being written is opened as far as it goes).
/// @throws IoError naming the master file, the link and what was expected.
LIBPDF_API std::unique_ptr<FrameSource> open_eiger(const std::string& master, bool apply_detector_mask = true);

/// The files of a frame series pattern, in frame order. Patterns: "scan_#####.tif" (each '#' one digit,
/// a fixed width), "scan_%05d.tif" (printf field: any width ≥ 5 with zero padding, or "%d"), or a glob with
/// '*' and '?' ("scan_*.tif"). Numbered names are ordered by their number (the last run of digits for a
/// glob), never lexically, so frame_9 precedes frame_10. @throws IoError when nothing matches, naming the
/// folder and the pattern.
LIBPDF_API std::vector<std::string> expand_series_pattern(const std::string& pattern);

/// Opens a series of TIFF files (PerkinElmer/Varex: uint16, int32 or float32 after summing; every page of
/// a multi-page file is a frame) given by a pattern (expand_series_pattern) or an explicit list of files.
/// All frames must share shape and type; that is checked on the first file and on every read, so a series
/// of thousands of files opens without reading each one. @throws IoError naming the file and what differs.
LIBPDF_API std::unique_ptr<FrameSource> open_tiff_series(const std::string& pattern);
/// The same for an explicit list of @p files, in frame order.
LIBPDF_API std::unique_ptr<FrameSource> open_tiff_series(const std::vector<std::string>& files);

/// How a dark relates to the frames it is subtracted from.
struct DarkOptions {
  std::size_t frame_summed_frames = 1;  ///< Sub-frames summed into each data frame (PerkinElmer "sum" mode; >= 1).
  std::size_t dark_summed_frames = 1;   ///< Sub-frames summed into each dark frame (>= 1).
  bool already_subtracted = false;      ///< The acquisition software already subtracted the dark from the frames.
};

/// A dark ready to subtract: the mean of its frames, scaled to the data frames' sub-frame count.
struct DarkImage {
  /// Shape of the dark.
  ///@{
  std::size_t rows = 0, cols = 0;
  ///@}
  std::vector<float> pixels;    ///< mean dark × frame_summed/dark_summed (rows*cols); empty when already subtracted.
  std::vector<float> variance;  ///< Variance of `pixels` if the dark were Poisson counts: pixels·scale/n (for counting detectors).
  std::size_t frames = 0;       ///< Dark frames averaged.
  double scale = 1.0;           ///< frame_summed_frames / dark_summed_frames.
  std::string description;      ///< For headers: file(s), frames averaged, scale, or "already subtracted".
};

/// Reads a dark: every frame of @p path (a TIFF, a multi-page TIFF, a TIFF series pattern, an HDF5 stack
/// with @p dataset or discovered) averaged, then scaled by frame_summed/dark_summed. With
/// already_subtracted, @p path must be empty and the result holds no pixels (subtracting a dark again
/// would remove it twice). @throws InvalidArgument for contradictory options, IoError for bad files.
LIBPDF_API DarkImage read_dark(const std::string& path, const DarkOptions& options = {},
                               const std::string& dataset = "");

/// Waiting for frames of a series that is still being written.
struct FollowOptions {
  OpenOptions open;             ///< How the file is opened (dataset, Eiger mask).
  double timeout_s = 0.0;       ///< Longest wait for a frame that is not (completely) written yet; 0 = none.
  double poll_interval_s = 0.05;  ///< Time between two looks at the file.
};

/// Reads frames of a file or series that is still growing: an HDF5 stack being extended (a frame whose
/// chunk is not yet written counts as incomplete), an Eiger series whose next data file has not appeared,
/// or a TIFF series whose next file is missing or truncated. read(k) returns frame k once it is complete,
/// waiting up to timeout_s; when it does not come in time it returns nullopt, so a reduction stops
/// cleanly after the last complete frame. Not thread-safe (one follower per reading thread).
class LIBPDF_API FrameFollower {
 public:
  /// Follows the file or series @p path (any form open_frames takes); nothing is read until read() or available().
  explicit FrameFollower(std::string path, FollowOptions options = {});
  ~FrameFollower();
  /// Moves the follower (the source is left empty).
  FrameFollower(FrameFollower&&) noexcept;
  /// Moves the follower (the source is left empty).
  FrameFollower& operator=(FrameFollower&&) noexcept;
  FrameFollower(const FrameFollower&) = delete;
  FrameFollower& operator=(const FrameFollower&) = delete;

  /// Frame @p index once complete, or nullopt after waiting timeout_s. @throws IoError for errors that
  /// waiting cannot cure (e.g. a frame of the wrong shape, an unsupported type, a missing filter).
  std::optional<Image> read(std::size_t index);
  /// Frames complete now (looks at the file again).
  std::size_t available();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// =====================================================================================================
// Metadata with units converted (docs/files.md)
// =====================================================================================================

/// Converts @p value from @p from_units to @p to_units. Known units (case-sensitive, as NeXus writes them):
/// lengths m, cm, mm, um, µm, micrometer, micrometre, micron, nm, angstrom, Angstrom, A, Å; energies eV,
/// keV, MeV, J; times s, sec, second(s), ms, us, µs, ns; temperatures K, kelvin, C, degC, celsius, °C;
/// pixels pixel(s), px (only to pixels); angles rad, radian(s), deg, degree(s). @throws InvalidArgument
/// naming the unit and listing the accepted ones (unknown unit, or one of another kind than @p to_units).
LIBPDF_API double convert_units(double value, const std::string& from_units, const std::string& to_units);

/// One value found in a file, as stored and converted.
struct MetadataItem {
  std::string name;       ///< What it is: "wavelength", "distance", "x_pixel_size", ...
  std::string path;       ///< HDF5 path (or TIFF tag) it came from.
  std::string stored;     ///< The value as stored, with its units attribute ("60 keV", "[310, 320, ...] K").
  std::string converted;  ///< Converted to libpdf's units ("0.20664 angstrom").
};

/// Instrument and sample metadata of a frames file, converted to libpdf's units. Absent values stay unset.
/// Looked for (first found wins): wavelength in NXbeam incident_wavelength, NXmonochromator wavelength, or
/// from the energy (NXbeam incident_energy, NXmonochromator energy, Eiger detectorSpecific/photon_energy,
/// Lambda collection/beam_energy) by λ[Å] = 12.398419843320026/E[keV]; the NXdetector's distance or
/// detector_distance, x/y_pixel_size, beam_center_x/y (pixels, or lengths converted with the pixel size),
/// count_time, frame_time, bit_depth_image/bit_depth_readout, sensor_material/thickness; NXsample
/// temperature (one value per frame, or a single value). A value without a units attribute is taken in
/// the NeXus default for that field (m, keV, angstrom, s, K, pixels) with a warning in the log.
struct LIBPDF_API FileMetadata {
  std::string file;                          ///< The file the metadata were read from.
  std::string detector;                      ///< The detector's description/model, if stored.
  std::optional<double> wavelength_A;        ///< Å.
  std::optional<double> energy_keV;          ///< keV (computed from the wavelength when only that is stored).
  std::optional<double> distance_m;          ///< Sample–detector distance, m.
  std::optional<double> pixel1_m;            ///< Pixel size along rows (slow, y), m.
  std::optional<double> pixel2_m;            ///< Pixel size along columns (fast, x), m.
  std::optional<double> beam_center_row_px; ///< Beam centre, slow axis (y), pixels.
  std::optional<double> beam_center_col_px; ///< Beam centre, fast axis (x), pixels.
  std::optional<double> count_time_s;        ///< Exposure of one frame, s.
  std::optional<double> frame_time_s;        ///< Time between frames, s.
  std::optional<int> bit_depth;              ///< Counter bit depth (Eiger bit_depth_image).
  std::optional<double> sensor_thickness_m;  ///< m.
  std::string sensor_material;               ///< Sensor material (e.g. "Si", "CdTe"), if stored.
  std::vector<double> temperature_K;         ///< Sample temperature per frame (one value for all, or empty).
  std::vector<MetadataItem> items;           ///< Everything found, as stored and converted.

  /// The wavelength or an IoError naming the file and every place that was looked at.
  double require_wavelength_A() const;
};

/// Reads the metadata of an HDF5/NeXus file (an Eiger master, a Lambda module, a PETRA-style NeXus
/// stack); for a TIFF only what its tags tell (nothing of the instrument). @throws IoError naming the file,
/// the path inside it and the expected units when a value has units libpdf does not know.
LIBPDF_API FileMetadata read_metadata(const std::string& path);

// =====================================================================================================
// How frames are stored (for `pdfreduce inspect`)
// =====================================================================================================

/// Storage of one frames dataset (or TIFF file).
struct StorageInfo {
  std::string file;                  ///< File holding the frames.
  std::string dataset;               ///< HDF5 path ("" for TIFF).
  std::vector<std::size_t> shape;    ///< As stored (frames, rows, cols) or (rows, cols).
  std::string type;                  ///< Element type as stored: "uint16", "int32", "float32", ...
  std::vector<std::size_t> chunks;   ///< Chunk shape (empty: contiguous).
  std::vector<std::string> filters;  ///< Pipeline, e.g. {"shuffle", "deflate (level 4)"} or {"bitshuffle+LZ4 (32008)"}.
  bool filters_available = true;     ///< Every mandatory filter can be applied by this HDF5 library.
  double compression_ratio = 1.0;    ///< Raw bytes / stored bytes (1 when unknown or uncompressed).
};

/// Where and how the frames of @p path are stored: one entry per dataset or file (Eiger: one per data
/// file; Lambda: one per module part; TIFF series: the first file). @throws IoError as open_frames.
LIBPDF_API std::vector<StorageInfo> frames_storage(const std::string& path, const std::string& dataset = "");

}  // namespace libpdf
