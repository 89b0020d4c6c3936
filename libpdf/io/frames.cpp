// open_frames: the one entry point for detector frames. Chooses TIFF or HDF5 by the file's signature
// (not its extension: beamlines name NeXus files .nxs, .h5, .hdf, .cxi), finds the frames dataset in
// NeXus files, and hands DESY Lambda module files to open_lambda_series.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <set>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/chunk_codec.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace detail {
namespace {

// Deep enough for any NeXus tree. A backstop only: walk() enters each group once, so cycles end there.
constexpr int kMaxDepth = 16;

bool frames_rank(std::size_t rank) { return rank == 2 || rank == 3; }

// Whether a dataset can serve for the role: frames need one of the six PixelTypes; masks any number.
bool usable(const h5::Dataset& ds, DatasetRole role) {
  if (!frames_rank(ds.rank())) return false;
  const std::string t = ds.type_name();
  if (role == DatasetRole::frames) {
    return t == "uint16" || t == "int16" || t == "uint32" || t == "int32" || t == "float32" || t == "float64";
  }
  return t.rfind("int", 0) == 0 || t.rfind("uint", 0) == 0 || t.rfind("float", 0) == 0 || t == "enum";
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// NeXus: /@default names the NXentry, its @default the NXdata, whose @signal names the dataset. Older
// files mark the signal with a dataset attribute signal=1 instead.
std::optional<std::string> via_nexus_default(const h5::File& file) {
  const auto entry_name = file.string_attribute_or_none("default");
  if (!entry_name || file.object_type(*entry_name) != h5::ObjectType::group) return std::nullopt;
  const h5::Group entry = file.open_group(*entry_name);
  const auto data_name = entry.string_attribute_or_none("default");
  if (!data_name || entry.object_type(*data_name) != h5::ObjectType::group) return std::nullopt;
  const h5::Group data = entry.open_group(*data_name);
  if (const auto signal = data.string_attribute_or_none("signal")) {
    if (data.object_type(*signal) == h5::ObjectType::dataset) return data.child_path(*signal);
    return std::nullopt;
  }
  for (const std::string& name : data.member_names()) {
    if (data.object_type(name) != h5::ObjectType::dataset) continue;
    const h5::Dataset ds = data.open_dataset(name);
    if (!ds.has_attribute("signal")) continue;
    try {
      const auto v = ds.numeric_attribute("signal");
      if (v.size() == 1 && v[0] == 1.0) return ds.path();
    } catch (const IoError&) {
      // a string-valued @signal on a dataset is not the old convention; ignore it
    }
  }
  return std::nullopt;
}

using Visit = std::function<void(const h5::Group&, const std::string&, h5::ObjectType)>;

// Depth-first over the tree in sorted-name order; visit(group, member name, type) for every member. Each
// group is entered once, by the first path that reaches it (its identity is its object address, whatever the
// hard or soft links leading to it): a link back to an ancestor or to the group itself would otherwise make
// the walk follow every path through the cycle up to the depth limit, exponentially many (the fuzz inputs
// in fuzz/regressions/fuzz_hdf5/ took 11 s to minutes). Groups entered again by another path hold nothing
// the first visit did not see, so what discovery finds first is unchanged.
void walk(const h5::Group& group, int depth, std::set<std::string>& entered, const Visit& visit) {
  if (depth > kMaxDepth) return;
  for (const std::string& name : group.member_names()) {
    // object_type is none for dangling soft/external links (e.g. an Eiger data file not copied).
    const h5::ObjectType t = group.object_type(name);
    visit(group, name, t);
    if (t != h5::ObjectType::group) continue;
    h5::Group child = group.open_group(name);
    if (entered.insert(child.identity()).second) walk(child, depth + 1, entered, visit);
  }
}

void walk(const h5::Group& root, const Visit& visit) {
  std::set<std::string> entered{root.identity()};
  walk(root, 0, entered, visit);
}

}  // namespace

std::string shape_string(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

std::optional<std::string> find_dataset(const h5::File& file, DatasetRole role) {
  if (role == DatasetRole::frames) {
    if (auto p = via_nexus_default(file)) {
      if (usable(file.open_dataset(*p), role)) return p;
      logger().debug("'{}': the NeXus @default signal {} is not a 2-D/3-D frames dataset; searching on",
                     file.file_path(), *p);
    }
  }
  // One walk collects the first NXdetector dataset and the first usable dataset of rank 2 or 3.
  const std::string detector_member = role == DatasetRole::frames ? "data" : "pixel_mask";
  std::optional<std::string> in_detector, first;
  walk(file, [&](const h5::Group& g, const std::string& name, h5::ObjectType t) {
    if (t != h5::ObjectType::dataset || (in_detector && first)) return;
    const h5::Dataset ds = g.open_dataset(name);
    if (!usable(ds, role)) return;
    if (!first) first = ds.path();
    if (!in_detector && name == detector_member && g.string_attribute_or_none("NX_class") == "NXdetector") {
      in_detector = ds.path();
    }
  });
  return in_detector ? in_detector : first;
}

bool is_lambda_module_name(const std::string& path) {
  static const std::regex pattern(R"(^.+_m[0-9]+_part[0-9]+\.nxs$)");
  return std::regex_match(base_name(path), pattern);
}

namespace {

// Frames of one 2-D or 3-D HDF5 dataset. When the chunks hold whole frames or parts of one frame, the
// pixels are stored in the machine's byte order and every filter is one chunk_codec.hpp decodes (deflate,
// shuffle, bitshuffle ± LZ4), a frame is read as raw chunks (H5Dread_chunk) under the HDF5 mutex and
// decompressed outside it: frames read on several threads decompress in parallel, and the chunks of one
// frame are decoded on OpenMP threads. Anything else (other filters or layouts, unallocated chunks whose
// fill value HDF5 supplies) goes through H5Dread, one hyperslab per frame.
class Hdf5FrameSource final : public FrameSource {
 public:
  explicit Hdf5FrameSource(h5::Dataset ds) : ds_(std::move(ds)) {
    const std::vector<std::size_t> shape = ds_.shape();
    if (!frames_rank(shape.size())) {
      throw IoError(ds_.where() + " has shape " + shape_string(shape) +
                    "; expected a 2-D frame (rows, cols) or a 3-D stack (frames, rows, cols)");
    }
    type_ = ds_.pixel_type();
    // Fail now, with install instructions, rather than at the first read.
    ds_.check_filters_available();
    frames_ = shape.size() == 3 ? shape[0] : 1;
    rows_ = shape[shape.size() - 2];
    cols_ = shape[shape.size() - 1];
    plan_direct();
  }

  std::size_t size() const override { return frames_; }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }
  PixelType type() const override { return type_; }
  Image read(std::size_t index) const override {
    Image img;
    read_into(index, img);
    return img;
  }
  void read_into(std::size_t index, Image& out) const override {
    if (index >= frames_) {
      throw InvalidArgument("frame " + std::to_string(index) + " of " + ds_.where() + " is out of range: it holds " +
                            std::to_string(frames_) + " frame(s)");
    }
    if (direct_ && chunk::direct_reads() && read_direct(index, out)) return;
    ds_.read_frame_into(index, out);
  }
  std::string describe() const override {
    return "HDF5 '" + ds_.file_path() + "' dataset '" + ds_.path() + "' (" + std::to_string(frames_) +
           (frames_ == 1 ? " frame, " : " frames, ") + std::to_string(rows_) + " x " + std::to_string(cols_) + " " +
           pixel_type_name(type_) + (direct_ ? ", direct chunk reads" : "") + ")";
  }

 private:
  void plan_direct() {
    const std::vector<std::size_t> chunk = ds_.chunk_shape();
    const std::size_t rank = frames_rank(chunk.size()) ? chunk.size() : 0;
    if (rank == 0 || (rank == 3 && chunk[0] != 1)) return;  // contiguous, or chunks spanning several frames
    if (rank != ds_.rank() || !ds_.stored_as_native_pixels()) return;
    for (const auto& f : ds_.filters()) filters_.push_back({static_cast<int>(f.id), f.cd_values});
    elem_ = pixel_size(type_);
    // Unfiltered chunks gain nothing (H5Dread copies them straight into the frame, one copy fewer). Bitshuffle
    // is decoded here where chunk_codec has a vector bit transposition for the element size (AVX2, 16- and 32-bit
    // frames); otherwise it stays with HDF5's plugin, whose SIMD code beats the portable transposition
    // (~9 against ~19 ms of CPU per 2048² uint16 frame, benchmarks/bench_io.cpp, 2026-11-25).
    if (filters_.empty() || !chunk::supported(filters_, elem_)) return;
    for (const auto& f : filters_) {
      if (f.id == chunk::kBitshuffle && !chunk::fast_bitshuffle(elem_)) return;
    }
    chunk_rows_ = chunk[rank - 2];
    chunk_cols_ = chunk[rank - 1];
    direct_ = chunk_rows_ > 0 && chunk_cols_ > 0;
  }

  // The frame from its raw chunks into img (reused when its type and shape match); false when a chunk is not
  // allocated (H5Dread supplies the fill value).
  bool read_direct(std::size_t index, Image& img) const {
    const std::size_t nr = (rows_ + chunk_rows_ - 1) / chunk_rows_, nc = (cols_ + chunk_cols_ - 1) / chunk_cols_;
    struct Raw {
      std::vector<std::uint8_t> bytes;
      unsigned mask = 0;
    };
    std::vector<Raw> raws(nr * nc);
    {
      h5::ApiGuard guard;  // one lock for all the chunks of the frame
      for (std::size_t i = 0; i < nr; ++i) {
        for (std::size_t j = 0; j < nc; ++j) {
          std::vector<std::size_t> offset{i * chunk_rows_, j * chunk_cols_};
          if (ds_.rank() == 3) offset.insert(offset.begin(), index);
          Raw& r = raws[i * nc + j];
          if (!ds_.read_raw_chunk(offset, r.bytes, r.mask)) return false;
        }
      }
    }
    if (img.type() != type_ || img.rows() != rows_ || img.cols() != cols_) img = Image(type_, rows_, cols_);
    auto* dst = static_cast<std::uint8_t*>(img.data());
    const std::size_t chunk_bytes = chunk_rows_ * chunk_cols_ * elem_;
    const bool whole = nr * nc == 1 && chunk_rows_ == rows_ && chunk_cols_ == cols_;
    std::vector<std::string> errors(raws.size());
    const auto n = static_cast<std::ptrdiff_t>(raws.size());
#pragma omp parallel for schedule(dynamic) if (n > 1)
    for (std::ptrdiff_t k = 0; k < n; ++k) {
      const auto uk = static_cast<std::size_t>(k);
      try {
        if (whole) {
          chunk::decode(filters_, raws[uk].mask, elem_, raws[uk].bytes, dst, chunk_bytes);
          continue;
        }
        // Edge chunks are stored at full size; copy the part inside the frame.
        std::vector<std::uint8_t> buf(chunk_bytes);
        chunk::decode(filters_, raws[uk].mask, elem_, raws[uk].bytes, buf.data(), chunk_bytes);
        const std::size_t r0 = (uk / nc) * chunk_rows_, c0 = (uk % nc) * chunk_cols_;
        const std::size_t nrows = std::min(chunk_rows_, rows_ - r0), ncols = std::min(chunk_cols_, cols_ - c0);
        for (std::size_t r = 0; r < nrows; ++r) {
          std::memcpy(dst + ((r0 + r) * cols_ + c0) * elem_, buf.data() + r * chunk_cols_ * elem_, ncols * elem_);
        }
      } catch (const std::exception& e) {
        errors[uk] = e.what();
      }
    }
    for (std::size_t k = 0; k < errors.size(); ++k) {
      if (errors[k].empty()) continue;
      throw IoError(ds_.where() + ": frame " + std::to_string(index) + ", chunk at row " +
                    std::to_string((k / nc) * chunk_rows_) + ", column " + std::to_string((k % nc) * chunk_cols_) +
                    " does not decode (" + errors[k] + "); expected " + std::to_string(chunk_bytes) +
                    " bytes after the filters " + filter_names());
    }
    return true;
  }

  std::string filter_names() const {
    std::string s = "[";
    for (const auto& f : filters_) {
      s += (s.size() > 1 ? ", " : "") + std::string(f.id == chunk::kDeflate     ? "deflate"
                                                    : f.id == chunk::kShuffle  ? "shuffle"
                                                    : f.id == chunk::kBitshuffle ? "bitshuffle"
                                                                               : "filter " + std::to_string(f.id));
    }
    return s + "]";
  }

  h5::Dataset ds_;
  std::size_t frames_ = 0, rows_ = 0, cols_ = 0;
  PixelType type_ = PixelType::u16;
  bool direct_ = false;
  std::vector<chunk::Filter> filters_;
  std::size_t elem_ = 0, chunk_rows_ = 0, chunk_cols_ = 0;
};

}  // namespace
}  // namespace detail

bool is_hdf5_file(const std::string& path) {
  // The 8-byte signature sits at offset 0, or after a user block at 512, 1024, 2048, ... bytes.
  static const unsigned char kSignature[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::uint64_t>(std::max<std::streamoff>(in.tellg(), 0));
  for (std::uint64_t offset = 0; offset + 8 <= size; offset = offset == 0 ? 512 : offset * 2) {
    unsigned char buf[8];
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(buf), 8)) return false;
    if (std::equal(buf, buf + 8, kSignature)) return true;
  }
  return false;
}

std::unique_ptr<FrameSource> open_frames(const std::string& path, const std::string& dataset) {
  OpenOptions options;
  options.dataset = dataset;
  return open_frames(path, options);
}

namespace {
// open_frames for one file, as it was before series patterns and Eiger master files.
std::unique_ptr<FrameSource> open_single(const std::string& path, const std::string& dataset) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError("frames file '" + path + "' does not exist");
  if (std::filesystem::is_directory(path, ec)) {
    throw IoError("frames path '" + path + "' is a directory; expected a TIFF or HDF5/NeXus file");
  }
  if (detail::is_tiff_file(path)) {
    if (!dataset.empty()) {
      throw InvalidArgument("'" + path + "' is a TIFF file; the dataset path '" + dataset +
                            "' applies only to HDF5/NeXus files");
    }
    return detail::open_tiff_frames(path);
  }
  if (!is_hdf5_file(path)) {
    throw IoError("frames file '" + path + "' is neither a TIFF nor an HDF5/NeXus file: " +
                  detail::describe_signature(path));
  }
  const auto file = detail::h5::File::open(path);
  std::string ds_path = dataset;
  if (ds_path.empty()) {
    if (detail::is_lambda_module_name(path) && file.exists("/entry/instrument/detector/translation/distance")) {
      return open_lambda_series(path);
    }
    auto found = detail::find_dataset(file, detail::DatasetRole::frames);
    if (!found) {
      throw IoError("HDF5 file '" + path +
                    "': no frames dataset found (looked for a NeXus @default -> @signal chain, an NXdetector's "
                    "'data', and any dataset of rank 2 or 3 holding uint16, int16, uint32, int32, float32 or "
                    "float64); pass the dataset path explicitly");
    }
    ds_path = *found;
    detail::logger().debug("'{}': frames from dataset {}", path, ds_path);
  }
  return std::make_unique<detail::Hdf5FrameSource>(file.open_dataset(ds_path));
}

// A renumbered subset of another source.
class SelectedFrames final : public FrameSource {
 public:
  SelectedFrames(std::shared_ptr<const FrameSource> source, std::vector<std::size_t> indices, std::string range)
      : source_(std::move(source)), indices_(std::move(indices)), range_(std::move(range)) {}
  std::size_t size() const override { return indices_.size(); }
  std::size_t rows() const override { return source_->rows(); }
  std::size_t cols() const override { return source_->cols(); }
  PixelType type() const override { return source_->type(); }
  Image read(std::size_t index) const override { return source_->read(source_index(index)); }
  void read_into(std::size_t index, Image& out) const override { source_->read_into(source_index(index), out); }
  std::string describe() const override { return source_->describe() + ", frames " + range_; }

 private:
  std::size_t source_index(std::size_t index) const {
    if (index >= indices_.size()) {
      throw InvalidArgument("frame " + std::to_string(index) + " of " + describe() + " is out of range: it has " +
                            std::to_string(indices_.size()) + " frames");
    }
    return indices_[index];
  }
  std::shared_ptr<const FrameSource> source_;
  std::vector<std::size_t> indices_;
  std::string range_;
};

}  // namespace

std::unique_ptr<FrameSource> detail::hdf5_dataset_frames(h5::Dataset ds) {
  return std::make_unique<detail::Hdf5FrameSource>(std::move(ds));
}

std::unique_ptr<FrameSource> select_frames(std::shared_ptr<const FrameSource> source, const FrameRange& range) {
  if (!source) throw InvalidArgument("select_frames: no source");
  if (range.step == 0) throw InvalidArgument("select_frames: the step of a frame range must be >= 1, not 0");
  const std::size_t n = source->size();
  const std::size_t stop = std::min(range.stop.value_or(n), n);
  std::vector<std::size_t> indices;
  for (std::size_t k = range.start; k < stop; k += range.step) indices.push_back(k);
  const std::string text = std::to_string(range.start) + ":" + (range.stop ? std::to_string(*range.stop) : "") +
                           (range.step != 1 ? ":" + std::to_string(range.step) : "");
  if (indices.empty()) {
    throw InvalidArgument("frame range " + text + " selects no frame of " + source->describe() + " (" +
                          std::to_string(n) + " frames)");
  }
  return std::make_unique<SelectedFrames>(std::move(source), std::move(indices), text);
}

std::unique_ptr<FrameSource> open_frames(const std::string& path, const OpenOptions& options) {
  std::unique_ptr<FrameSource> source;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec) && detail::is_series_pattern(path)) {
    if (!options.dataset.empty()) {
      throw InvalidArgument("'" + path + "' is a TIFF series pattern; the dataset path '" + options.dataset +
                            "' applies only to HDF5/NeXus files");
    }
    source = open_tiff_series(path);
  } else if (options.dataset.empty() && is_hdf5_file(path) && !detail::is_lambda_module_name(path) &&
             is_eiger_master(path)) {
    source = open_eiger(path, options.apply_detector_mask);
  } else {
    source = open_single(path, options.dataset);
  }
  if (!options.frames) return source;
  return select_frames(std::shared_ptr<const FrameSource>(std::move(source)), *options.frames);
}

namespace {

std::string filter_text(const detail::h5::Dataset::FilterInfo& f) {
  switch (f.id) {
    case H5Z_FILTER_DEFLATE:
      return "deflate (level " + (f.cd_values.empty() ? std::string("?") : std::to_string(f.cd_values[0])) + ")";
    case H5Z_FILTER_SHUFFLE: return "shuffle";
    case H5Z_FILTER_FLETCHER32: return "fletcher32 checksum";
    case H5Z_FILTER_SZIP: return "szip";
    case H5Z_FILTER_NBIT: return "nbit";
    case H5Z_FILTER_SCALEOFFSET: return "scale-offset";
    case detail::h5::kBitshuffleFilter:
      // cd_values[4] is the compression: 0 none, 2 LZ4, 3 zstd (bitshuffle's own numbering).
      if (f.cd_values.size() > 4 && f.cd_values[4] == 2) return "bitshuffle+LZ4 (32008)";
      if (f.cd_values.size() > 4 && f.cd_values[4] == 3) return "bitshuffle+zstd (32008)";
      return "bitshuffle (32008)";
    case 32004: return "LZ4 (32004)";
    case 32001: return "blosc (32001)";
    case 32015: return "zstd (32015)";
    default: return "filter " + std::to_string(f.id) + (f.name.empty() ? "" : " ('" + f.name + "')");
  }
}

StorageInfo storage_of(const detail::h5::Dataset& ds, const std::string& file) {
  StorageInfo info;
  info.file = file;
  info.dataset = ds.path();
  info.shape = ds.shape();
  info.type = ds.type_name();
  info.chunks = ds.chunk_shape();
  for (const auto& f : ds.filters()) {
    info.filters.push_back(filter_text(f));
    if (!f.optional && !detail::h5::File::filter_available(f.id)) info.filters_available = false;
  }
  std::size_t elements = 1;
  for (std::size_t d : info.shape) elements *= d;
  const std::size_t stored = ds.storage_bytes();
  std::size_t element_bytes = 0;
  if (info.type.rfind("uint", 0) == 0) element_bytes = std::stoul(info.type.substr(4)) / 8;
  else if (info.type.rfind("int", 0) == 0) element_bytes = std::stoul(info.type.substr(3)) / 8;
  else if (info.type.rfind("float", 0) == 0) element_bytes = std::stoul(info.type.substr(5)) / 8;
  if (stored > 0 && element_bytes > 0) {
    info.compression_ratio = static_cast<double>(elements * element_bytes) / static_cast<double>(stored);
  }
  return info;
}

}  // namespace

std::vector<StorageInfo> frames_storage(const std::string& path, const std::string& dataset) {
  namespace h5 = detail::h5;
  std::error_code ec;
  std::vector<StorageInfo> out;
  if (!std::filesystem::exists(path, ec) && detail::is_series_pattern(path)) {
    const auto files = expand_series_pattern(path);
    StorageInfo info;
    info.file = files.front();
    const Image first = read_tiff(files.front());
    info.shape = {files.size(), first.rows(), first.cols()};
    info.type = pixel_type_name(first.type());
    out.push_back(info);
    return out;
  }
  if (detail::is_tiff_file(path)) {
    auto src = open_frames(path);
    StorageInfo info;
    info.file = path;
    info.shape = {src->size(), src->rows(), src->cols()};
    info.type = pixel_type_name(src->type());
    out.push_back(info);
    return out;
  }
  const auto file = h5::File::open(path);
  if (dataset.empty() && detail::is_lambda_module_name(path) &&
      file.exists("/entry/instrument/detector/translation/distance")) {
    // Every module part of the series, as open_lambda_series finds them.
    static const std::regex pattern(R"(^(.+)_m([0-9]+)_part([0-9]+)\.nxs$)");
    const std::filesystem::path given(path);
    std::smatch m;
    const std::string name = given.filename().string();
    std::regex_match(name, m, pattern);
    const std::string prefix = m[1].str();
    const auto dir = given.has_parent_path() ? given.parent_path() : std::filesystem::path(".");
    std::vector<std::string> parts;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      std::smatch mm;
      const std::string fname = entry.path().filename().string();
      if (std::regex_match(fname, mm, pattern) && mm[1].str() == prefix) parts.push_back(entry.path().string());
    }
    std::sort(parts.begin(), parts.end());
    for (const std::string& p : parts) {
      out.push_back(storage_of(h5::File::open(p).open_dataset("/entry/instrument/detector/data"), p));
    }
    return out;
  }
  if (dataset.empty() && is_eiger_master(path)) {
    const h5::Group data = file.open_group("/entry/data");
    for (const std::string& name : data.member_names()) {
      if (name.rfind("data_", 0) != 0 || data.object_type(name) != h5::ObjectType::dataset) continue;
      out.push_back(storage_of(data.open_dataset(name), path));
    }
    return out;
  }
  std::string ds_path = dataset;
  if (ds_path.empty()) {
    auto found = detail::find_dataset(file, detail::DatasetRole::frames);
    if (!found) throw IoError("HDF5 file '" + path + "': no frames dataset found; pass the dataset path explicitly");
    ds_path = *found;
  }
  out.push_back(storage_of(file.open_dataset(ds_path), path));
  return out;
}

}  // namespace libpdf
