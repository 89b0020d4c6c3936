// open_frames: the one entry point for detector frames. Chooses TIFF or HDF5 by the file's signature
// (not its extension: beamlines name NeXus files .nxs, .h5, .hdf, .cxi), finds the frames dataset in
// NeXus files, and hands DESY Lambda module files to open_lambda_series.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace detail {
namespace {

// Deep enough for any NeXus tree; bounds the walk when soft or hard links form a cycle.
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

// Depth-first over the tree in sorted-name order; visit(group, member name, type) for every member.
void walk(const h5::Group& group, int depth,
          const std::function<void(const h5::Group&, const std::string&, h5::ObjectType)>& visit) {
  if (depth > kMaxDepth) return;
  for (const std::string& name : group.member_names()) {
    // object_type is none for dangling soft/external links (e.g. an Eiger data file not copied).
    const h5::ObjectType t = group.object_type(name);
    visit(group, name, t);
    if (t == h5::ObjectType::group) walk(group.open_group(name), depth + 1, visit);
  }
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
  walk(file, 0, [&](const h5::Group& g, const std::string& name, h5::ObjectType t) {
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

// Frames of one 2-D or 3-D HDF5 dataset, read one hyperslab at a time.
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
  }

  std::size_t size() const override { return frames_; }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }
  PixelType type() const override { return type_; }
  Image read(std::size_t index) const override {
    if (index >= frames_) {
      throw InvalidArgument("frame " + std::to_string(index) + " of " + ds_.where() + " is out of range: it holds " +
                            std::to_string(frames_) + " frame(s)");
    }
    return ds_.read_frame(index);
  }
  std::string describe() const override {
    return "HDF5 '" + ds_.file_path() + "' dataset '" + ds_.path() + "' (" + std::to_string(frames_) +
           (frames_ == 1 ? " frame, " : " frames, ") + std::to_string(rows_) + " x " + std::to_string(cols_) + " " +
           pixel_type_name(type_) + ")";
  }

 private:
  h5::Dataset ds_;
  std::size_t frames_ = 0, rows_ = 0, cols_ = 0;
  PixelType type_ = PixelType::u16;
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

}  // namespace libpdf
