// DESY Lambda multi-module series. The detector writes one NeXus file per module and part:
// <prefix>_m<k>_part<nnnnn>.nxs, each with /entry/instrument/detector/data (frames, rows, cols) and the
// module's position /entry/instrument/detector/translation/distance = (x, y, z) in pixels. Frames of a
// module are the concatenation of its parts in part order; one assembled frame takes the same frame
// index from every module and places the modules at their (row = y, column = x) offsets.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <regex>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace {

namespace fs = std::filesystem;
namespace h5 = detail::h5;

const char* const kDataPath = "/entry/instrument/detector/data";
const char* const kTranslationPath = "/entry/instrument/detector/translation/distance";

struct Part {
  std::string path;
  std::size_t first_frame = 0;  // index of its first frame within the module
  std::size_t frames = 0;
};

struct Module {
  int number = 0;  // k of _m<k>
  std::vector<Part> parts;
  std::size_t frames = 0;
  std::size_t rows = 0, cols = 0;
  double x_px = 0, y_px = 0;  // translation (column, row) in pixels, before shifting to 0
};

std::string module_name(int k) {
  // Appending (not "m" + to_string(k)) sidesteps a GCC 12 -Wrestrict false positive at -O3.
  std::string name = "m";
  name += std::to_string(k);
  return name;
}

// The invalid-pixel value for gaps: −1 where the type can hold it (the Lambda convention); for
// unsigned frames the type's maximum, the marker counting detectors use for bad pixels (2^bits − 1).
double gap_value_for(PixelType t) {
  switch (t) {
    case PixelType::u16: return std::numeric_limits<std::uint16_t>::max();
    case PixelType::u32: return std::numeric_limits<std::uint32_t>::max();
    default: return -1.0;
  }
}

class LambdaSeries final : public FrameSource {
 public:
  LambdaSeries(const std::string& stem, std::vector<Module> modules, PixelType type)
      : modules_(std::move(modules)), type_(type), cache_(modules_.size()) {
    // Place the modules: x is the column offset, y the row offset; shift so the smallest is 0.
    double min_x = modules_.front().x_px, min_y = modules_.front().y_px;
    for (const Module& m : modules_) {
      min_x = std::min(min_x, m.x_px);
      min_y = std::min(min_y, m.y_px);
    }
    for (const Module& m : modules_) {
      ModulePlacement p;
      p.row_offset = static_cast<std::size_t>(std::llround(m.y_px - min_y));
      p.col_offset = static_cast<std::size_t>(std::llround(m.x_px - min_x));
      p.rows = m.rows;
      p.cols = m.cols;
      rows_ = std::max(rows_, p.row_offset + p.rows);
      cols_ = std::max(cols_, p.col_offset + p.cols);
      placements_.push_back(p);
    }
    frames_ = modules_.front().frames;
    try {
      // Checks overlap once here, so that reads cannot fail on it later.
      (void)module_gap_mask(placements_, rows_, cols_);
    } catch (const InvalidArgument& e) {
      throw IoError("Lambda series '" + stem + "': the module translations do not give a valid layout: " + e.what());
    }
    description_ = "DESY Lambda series '" + stem + "' (" + std::to_string(modules_.size()) +
                   " modules, " + std::to_string(modules_.front().parts.size()) + " parts, " +
                   std::to_string(frames_) + " frames, " + std::to_string(rows_) + " x " + std::to_string(cols_) +
                   " " + pixel_type_name(type_) + ")";
  }

  std::size_t size() const override { return frames_; }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }
  PixelType type() const override { return type_; }
  std::string describe() const override { return description_; }

  Image read(std::size_t index) const override {
    if (index >= frames_) {
      throw InvalidArgument("frame " + std::to_string(index) + " of " + description_ + " is out of range: it has " +
                            std::to_string(frames_) + " frames");
    }
    std::vector<Image> frames;
    frames.reserve(modules_.size());
    {
      // The cache of open part files is shared; reading under the lock also serialises HDF5 use.
      std::lock_guard<std::mutex> lock(mutex_);
      for (std::size_t m = 0; m < modules_.size(); ++m) {
        const Module& mod = modules_[m];
        // Parts are in frame order: the last part whose first frame is <= index holds it.
        const auto it = std::upper_bound(mod.parts.begin(), mod.parts.end(), index,
                                         [](std::size_t i, const Part& p) { return i < p.first_frame; });
        const std::size_t part = static_cast<std::size_t>(it - mod.parts.begin()) - 1;
        Cached& c = cache_[m];
        if (!c.dataset || c.part != part) {
          // Keep one open part per module: a long series must not hold hundreds of files open.
          c.dataset.reset();
          c.dataset = std::make_unique<h5::Dataset>(h5::File::open(mod.parts[part].path).open_dataset(kDataPath));
          c.part = part;
        }
        Image img = c.dataset->read_frame(index - mod.parts[part].first_frame);
        if (img.type() != type_) {
          throw IoError(c.dataset->where() + " holds " + pixel_type_name(img.type()) + " frames, but module " +
                        module_name(modules_.front().number) + " holds " + pixel_type_name(type_));
        }
        frames.push_back(std::move(img));
      }
    }
    std::vector<ImageView> views;
    views.reserve(frames.size());
    for (const Image& img : frames) views.push_back(img.view());
    return assemble_modules(views, placements_, gap_value_for(type_));
  }

 private:
  struct Cached {
    std::size_t part = 0;
    std::unique_ptr<h5::Dataset> dataset;
  };
  std::vector<Module> modules_;
  PixelType type_;
  std::vector<ModulePlacement> placements_;
  std::string description_;
  std::size_t frames_ = 0, rows_ = 0, cols_ = 0;
  mutable std::mutex mutex_;
  mutable std::vector<Cached> cache_;
};

// Reads the module's translation (x, y) in pixels from its first part.
void read_translation(const h5::File& file, Module& m) {
  const h5::Dataset ds = file.open_dataset(kTranslationPath);
  const std::vector<double> v = ds.read_doubles();
  if (v.size() < 2) {
    throw IoError(ds.where() + " holds " + std::to_string(v.size()) + " value(s); expected (x, y, z) in pixels");
  }
  // Always read the units (conventions §4). Pixels is all a Lambda writes; anything else would need a
  // pixel size to convert and has not been seen, so refuse it rather than guess.
  if (const auto units = ds.string_attribute_or_none("units")) {
    if (*units != "pixel" && *units != "pixels" && *units != "px") {
      throw IoError(ds.where() + " has units '" + *units + "'; expected 'pixel' (module offsets in pixels)");
    }
  } else {
    detail::logger().warn("{} has no units attribute; assuming pixels", ds.where());
  }
  for (int i = 0; i < 2; ++i) {
    const double value = v[static_cast<std::size_t>(i)];
    // Modules sit on the pixel grid; a fractional offset would need resampling, which we do not do.
    if (!std::isfinite(value) || std::abs(value - std::round(value)) > 1e-3) {
      throw IoError(ds.where() + ": " + (i == 0 ? "x" : "y") + " = " + std::to_string(value) +
                    " is not a whole number of pixels; expected integer module offsets");
    }
  }
  m.x_px = std::round(v[0]);
  m.y_px = std::round(v[1]);
}

}  // namespace

std::unique_ptr<FrameSource> open_lambda_series(const std::string& any_file) {
  static const std::regex pattern(R"(^(.+)_m([0-9]+)_part([0-9]+)\.nxs$)");
  const fs::path given(any_file);
  std::smatch match;
  const std::string name = given.filename().string();
  if (!std::regex_match(name, match, pattern)) {
    throw IoError("'" + any_file + "' is not named like a DESY Lambda module file; expected "
                  "<prefix>_m<k>_part<nnnnn>.nxs");
  }
  const std::string prefix = match[1].str();
  const fs::path dir = given.has_parent_path() ? given.parent_path() : fs::path(".");
  const std::string stem = (dir / (prefix + "_m*_part*.nxs")).string();
  std::error_code ec;
  if (!fs::exists(given, ec)) throw IoError("Lambda module file '" + any_file + "' does not exist");

  // Every module and part of the same prefix in the folder: module number -> part number -> path.
  std::map<int, std::map<long, std::string>> found;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string fname = entry.path().filename().string();
    if (!std::regex_match(fname, m, pattern) || m[1].str() != prefix) continue;
    found[std::stoi(m[2].str())][std::stol(m[3].str())] = entry.path().string();
  }
  if (ec) throw IoError("cannot list the folder '" + dir.string() + "' of '" + any_file + "': " + ec.message());
  if (found.empty()) throw IoError("no Lambda module files '" + stem + "' found");

  std::vector<Module> modules;
  PixelType type = PixelType::i16;
  for (const auto& [k, parts] : found) {
    Module mod;
    mod.number = k;
    long expected_part = parts.begin()->first;
    if (expected_part != 0) {
      throw IoError("Lambda series '" + stem + "': module " + module_name(k) + " has no part00000 (its first part is " +
                    std::to_string(expected_part) + "); parts must run from 0 without gaps");
    }
    for (const auto& [p, path] : parts) {
      if (p != expected_part) {
        throw IoError("Lambda series '" + stem + "': module " + module_name(k) + " lacks part " +
                      std::to_string(expected_part) + " (next found: " + path +
                      "); parts must run from 0 without gaps, or the frames would shift");
      }
      ++expected_part;
      const auto file = detail::h5::File::open(path);
      const detail::h5::Dataset ds = file.open_dataset(kDataPath);
      const std::vector<std::size_t> shape = ds.shape();
      if (shape.size() != 3) {
        throw IoError(ds.where() + " has shape " + detail::shape_string(shape) + "; expected (frames, rows, cols)");
      }
      const PixelType t = ds.pixel_type();
      ds.check_filters_available();
      if (modules.empty() && mod.parts.empty()) type = t;
      if (t != type) {
        throw IoError(ds.where() + " holds " + pixel_type_name(t) + " frames; the series' first part holds " +
                      pixel_type_name(type));
      }
      if (mod.parts.empty()) {
        mod.rows = shape[1];
        mod.cols = shape[2];
        read_translation(file, mod);
      } else if (shape[1] != mod.rows || shape[2] != mod.cols) {
        throw IoError(ds.where() + " has frames of " + std::to_string(shape[1]) + " x " + std::to_string(shape[2]) +
                      "; part 0 of module " + module_name(k) + " has " + std::to_string(mod.rows) + " x " +
                      std::to_string(mod.cols));
      }
      mod.parts.push_back(Part{path, mod.frames, shape[0]});
      mod.frames += shape[0];
    }
    modules.push_back(std::move(mod));
  }

  for (const Module& m : modules) {
    if (m.frames != modules.front().frames) {
      std::string counts;
      for (const Module& n : modules) {
        counts += (counts.empty() ? "" : ", ") + module_name(n.number) + ": " + std::to_string(n.frames);
      }
      throw IoError("Lambda series '" + stem + "': the modules hold different numbers of frames (" + counts +
                    "); every module must hold the same number");
    }
  }
  return std::make_unique<LambdaSeries>(stem, std::move(modules), type);
}

}  // namespace libpdf
