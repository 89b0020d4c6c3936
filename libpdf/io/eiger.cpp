// Dectris Eiger master + data files. The detector's file writer produces <prefix>_master.h5 holding the
// metadata and /entry/data/data_000001, data_000002, ... as external links to <prefix>_data_000001.h5:
// /entry/data/data, each a (frames, rows, cols) stack of uint16 or uint32 counts compressed with
// bitshuffle + LZ4 (HDF5 filter 32008), one chunk per frame. The series is the concatenation of the data
// files in number order. Bad pixels are flagged twice: in detectorSpecific/pixel_mask (a bit field;
// conventions §1: bad when (value & 0xFFFF) != 0) and in the data by the counter's largest value
// 2^bit_depth_image − 1 (dead, hot or gap pixels, and overflow).
#include <algorithm>
#include <filesystem>
#include <cmath>
#include <limits>
#include <mutex>
#include <regex>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace {

namespace h5 = detail::h5;
namespace fs = std::filesystem;

const char* const kDataGroup = "/entry/data";

struct DataPart {
  std::string link;  // /entry/data/data_NNNNNN
  std::size_t first = 0, frames = 0;
};

// Names data_NNNNNN of the master's /entry/data, in number order.
std::vector<std::string> data_links(const h5::File& master) {
  static const std::regex pattern(R"(^data_([0-9]{6})$)");
  std::vector<std::pair<long, std::string>> found;
  if (master.object_type(kDataGroup) != h5::ObjectType::group) return {};
  for (const std::string& name : master.open_group(kDataGroup).member_names()) {
    std::smatch m;
    if (std::regex_match(name, m, pattern)) found.emplace_back(std::stol(m[1].str()), name);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> out;
  for (auto& [n, name] : found) out.push_back(std::string(kDataGroup) + "/" + name);
  return out;
}

// The value invalid pixels are given: what Integrator's marker test (mask_detector_markers) rejects by
// default for the type: the maximum of unsigned types, −1 of signed ones, NaN of floats.
template <class T>
T invalid_value() {
  if constexpr (std::is_floating_point_v<T>) {
    return std::numeric_limits<T>::quiet_NaN();
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<T>(-1);
  } else {
    return std::numeric_limits<T>::max();
  }
}

template <class T>
void apply_invalid(Image& img, const std::vector<std::uint8_t>& mask, std::optional<std::uint64_t> marker) {
  T* p = img.as<T>();
  const T bad = invalid_value<T>();
  const std::size_t n = img.size();
  for (std::size_t i = 0; i < n; ++i) {
    bool invalid = !mask.empty() && mask[i];
    if constexpr (std::is_integral_v<T>) {
      if (marker && static_cast<std::uint64_t>(static_cast<std::make_unsigned_t<T>>(p[i])) == *marker) invalid = true;
    }
    if (invalid) p[i] = bad;
  }
}

class EigerSeries final : public FrameSource {
 public:
  EigerSeries(const std::string& master_path, bool apply_mask) : master_path_(master_path), apply_(apply_mask) {
    master_ = std::make_unique<h5::File>(h5::File::open(master_path));
    const std::vector<std::string> links = data_links(*master_);
    if (links.empty()) {
      throw IoError("Eiger master file '" + master_path + "': no /entry/data/data_NNNNNN links found; expected " +
                    "external links to <prefix>_data_NNNNNN.h5 files");
    }
    for (const std::string& link : links) {
      // A dangling external link is a data file not written (or not copied) yet: the series ends there.
      if (master_->object_type(link) == h5::ObjectType::none && parts_.empty()) {
        // A leading link whose file was not copied (or a writer that starts at data_000000 by mistake).
        detail::logger().warn("Eiger master '{}': {} does not resolve (data file missing); skipped", master_path, link);
        continue;
      }
      if (master_->object_type(link) == h5::ObjectType::none) {
        detail::logger().info("Eiger master '{}': {} does not resolve (data file missing); the series ends at {} "
                              "frames",
                              master_path, link, frames_);
        missing_link_ = link;
        break;
      }
      const h5::Dataset ds = master_->open_dataset(link);
      // Name the data file in messages: that is the file a user has to look at.
      std::string where = ds.where();
      if (const auto target = master_->external_link(link)) {
        const fs::path dir = fs::path(master_path).parent_path();
        where = "Eiger data file '" + (dir / target->first).string() + "', dataset '" + target->second +
                "' (" + link + " of master '" + master_path + "')";
      }
      const std::vector<std::size_t> shape = ds.shape();
      if (shape.size() != 3) {
        throw IoError(where + " has shape " + detail::shape_string(shape) + "; expected a 3-D stack (frames, rows, cols)");
      }
      PixelType t = PixelType::u32;
      try {
        t = ds.pixel_type();
        ds.check_filters_available();
      } catch (const IoError& e) {
        throw IoError(where + ": " + e.what());
      }
      if (parts_.empty()) {
        type_ = t;
        rows_ = shape[1];
        cols_ = shape[2];
      } else if (t != type_ || shape[1] != rows_ || shape[2] != cols_) {
        throw IoError(where + " holds " + std::to_string(shape[1]) + " x " + std::to_string(shape[2]) + " " +
                      pixel_type_name(t) + " frames but " + parts_.front().link + " holds " + std::to_string(rows_) +
                      " x " + std::to_string(cols_) + " " + pixel_type_name(type_) +
                      "; every data file of an Eiger series must match");
      }
      parts_.push_back({link, frames_, shape[0]});
      frames_ += shape[0];
    }
    if (parts_.empty()) {
      throw IoError("Eiger master file '" + master_path + "': its first data file (" + links.front() +
                    ") does not exist; expected <prefix>_data_000001.h5 beside the master file");
    }
    if (apply_) read_mask();
  }

  std::size_t size() const override { return frames_; }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }
  PixelType type() const override { return type_; }

  std::string describe() const override {
    std::string s = "Dectris Eiger master '" + master_path_ + "' (" + parts_.front().link +
                    (parts_.size() > 1 ? " ... " + parts_.back().link : std::string()) + ", " + std::to_string(frames_) + " frames, " +
                    std::to_string(rows_) + " x " + std::to_string(cols_) + " " + pixel_type_name(type_);
    if (apply_) {
      s += ", pixel_mask " + std::string(mask_.empty() ? "absent" : std::to_string(masked_) + " pixels");
      if (marker_) s += ", marker " + std::to_string(*marker_);
    }
    return s + ")";
  }

  Image read(std::size_t index) const override {
    Image img;
    read_into(index, img);
    return img;
  }

  void read_into(std::size_t index, Image& img) const override {
    if (index >= frames_) {
      throw InvalidArgument("frame " + std::to_string(index) + " of " + describe() + " is out of range: it has " +
                            std::to_string(frames_) + " frames");
    }
    const auto it = std::upper_bound(parts_.begin(), parts_.end(), index,
                                     [](std::size_t i, const DataPart& p) { return i < p.first; });
    const std::size_t part = static_cast<std::size_t>(it - parts_.begin()) - 1;
    std::shared_ptr<const FrameSource> source;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!cached_ || cached_part_ != part) {
        // One data file open at a time: a long series must not hold hundreds of files open (a reader still
        // using the previous one keeps it until it is done).
        cached_.reset();
        cached_ = detail::hdf5_dataset_frames(master_->open_dataset(parts_[part].link));
        cached_part_ = part;
      }
      source = cached_;
    }
    // Outside the lock: frames compressed with bitshuffle-LZ4 or deflate are decompressed by direct chunk reads
    // on as many threads as read (the data file's own frame source).
    source->read_into(index - parts_[part].first, img);
    if (apply_) {
      switch (img.type()) {
        case PixelType::u16: apply_invalid<std::uint16_t>(img, mask_, marker_); break;
        case PixelType::i16: apply_invalid<std::int16_t>(img, mask_, marker_); break;
        case PixelType::u32: apply_invalid<std::uint32_t>(img, mask_, marker_); break;
        case PixelType::i32: apply_invalid<std::int32_t>(img, mask_, marker_); break;
        case PixelType::f32: apply_invalid<float>(img, mask_, marker_); break;
        case PixelType::f64: apply_invalid<double>(img, mask_, marker_); break;
      }
    }
  }

 private:
  void read_mask() {
    for (const char* path : {"/entry/instrument/detector/detectorSpecific/pixel_mask",
                             "/entry/instrument/detector/pixel_mask"}) {
      if (master_->object_type(path) != h5::ObjectType::dataset) continue;
      const MaskImage m = read_mask_image(master_path_, path);
      if (m.rows != rows_ || m.cols != cols_) {
        throw IoError("Eiger master file '" + master_path_ + "', dataset '" + path + "' is a " +
                      std::to_string(m.rows) + " x " + std::to_string(m.cols) + " mask but the frames are " +
                      std::to_string(rows_) + " x " + std::to_string(cols_) + "; expected the same shape");
      }
      mask_ = m.values;
      masked_ = static_cast<std::size_t>(std::count(mask_.begin(), mask_.end(), std::uint8_t{1}));
      break;
    }
    // The invalid marker 2^bit_depth − 1 (only for integer data narrower than 64 bits).
    std::optional<int> bits;
    for (const char* path : {"/entry/instrument/detector/bit_depth_image",
                             "/entry/instrument/detector/detectorSpecific/bit_depth_image"}) {
      if (master_->object_type(path) != h5::ObjectType::dataset) continue;
      const auto v = master_->open_dataset(path).read_doubles();
      if (v.size() == 1 && v[0] >= 1 && v[0] <= 32 && v[0] == std::floor(v[0])) bits = static_cast<int>(v[0]);
      break;
    }
    if (type_ == PixelType::f32 || type_ == PixelType::f64) return;
    const int type_bits = static_cast<int>(8 * pixel_size(type_));
    const int b = std::min(bits.value_or(type_bits), type_bits);
    marker_ = (std::uint64_t{1} << b) - 1;
    if (type_ == PixelType::i16 || type_ == PixelType::i32) {
      // Signed Eiger data would be a conversion of someone else's; the −1 marker is the one to use.
      marker_ = std::nullopt;
    }
  }

  std::string master_path_;
  bool apply_ = true;
  std::unique_ptr<h5::File> master_;
  std::vector<DataPart> parts_;
  std::string missing_link_;
  std::size_t frames_ = 0, rows_ = 0, cols_ = 0;
  PixelType type_ = PixelType::u32;
  std::vector<std::uint8_t> mask_;
  std::size_t masked_ = 0;
  std::optional<std::uint64_t> marker_;
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const FrameSource> cached_;
  mutable std::size_t cached_part_ = 0;
};

}  // namespace

bool is_eiger_master(const std::string& path) {
  if (!is_hdf5_file(path)) return false;
  try {
    const auto f = h5::File::open(path);
    // Links are listed even when they dangle: an Eiger master is recognised before its data exist.
    return !data_links(f).empty();
  } catch (const IoError&) {
    return false;
  }
}

std::unique_ptr<FrameSource> open_eiger(const std::string& master, bool apply_detector_mask) {
  return std::make_unique<EigerSeries>(master, apply_detector_mask);
}

}  // namespace libpdf
