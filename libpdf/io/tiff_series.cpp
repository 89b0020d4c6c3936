// TIFF frame series (one file per frame, as PerkinElmer and Varex acquisition software writes them at
// PETRA III P02.1: "sample_00001.tif", "sample_00002.tif", ...), series patterns, and darks.
//
// A series of thousands of files must open quickly: the first file fixes shape, type and pages per file,
// and every later file is checked when it is read (a mismatch is an IoError naming both files).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <mutex>
#include <regex>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace {

namespace fs = std::filesystem;

std::string regex_escape(const std::string& s) {
  static const std::string special = R"(\^$.|?*+()[]{})";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

// Turns the file-name part of a pattern into a regex with one capture group for the frame number (or
// none for a glob, whose number is the last run of digits). Returns false when @p name is no pattern.
bool pattern_regex(const std::string& name, std::string& re, bool& numbered) {
  static const std::regex printf_field(R"(%(0?)([0-9]*)d)");
  std::smatch m;
  const auto hash = name.find('#');
  if (hash != std::string::npos) {
    const auto end = name.find_first_not_of('#', hash);
    const std::size_t width = (end == std::string::npos ? name.size() : end) - hash;
    const std::string rest = end == std::string::npos ? "" : name.substr(end);
    if (rest.find('#') != std::string::npos) return false;  // two runs of '#': ambiguous
    re = regex_escape(name.substr(0, hash)) + "([0-9]{" + std::to_string(width) + "})" + regex_escape(rest);
    numbered = true;
    return true;
  }
  if (std::regex_search(name, m, printf_field)) {
    const std::string width = m[2].str();
    const std::string digits = width.empty() ? "([0-9]+)" : "([0-9]{" + width + ",})";
    re = regex_escape(m.prefix().str()) + digits + regex_escape(m.suffix().str());
    numbered = true;
    return true;
  }
  if (name.find_first_of("*?") != std::string::npos) {
    re.clear();
    for (char c : name) {
      if (c == '*') {
        re += ".*";
      } else if (c == '?') {
        re += '.';
      } else {
        re += regex_escape(std::string(1, c));
      }
    }
    numbered = false;
    return true;
  }
  return false;
}

// The number a glob match is ordered by: the last run of digits in the name (-1 when none).
long long last_number(const std::string& name) {
  static const std::regex digits(R"(([0-9]+)[^0-9]*$)");
  std::smatch m;
  if (!std::regex_search(name, m, digits)) return -1;
  try {
    return std::stoll(m[1].str());
  } catch (const std::out_of_range&) {
    return -1;
  }
}

class TiffSeries final : public FrameSource {
 public:
  explicit TiffSeries(std::vector<std::string> files) : files_(std::move(files)) {
    if (files_.empty()) throw InvalidArgument("a TIFF series needs at least one file");
    auto first = detail::open_tiff_frames(files_.front());
    pages_per_file_ = first->size();
    rows_ = first->rows();
    cols_ = first->cols();
    type_ = first->type();
  }

  std::size_t size() const override { return files_.size() * pages_per_file_; }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }
  PixelType type() const override { return type_; }
  std::string describe() const override {
    std::string s = "TIFF series of " + std::to_string(files_.size()) + " file" + (files_.size() == 1 ? "" : "s") +
                    " '" + files_.front() + "'";
    if (files_.size() > 1) s += " ... '" + files_.back() + "'";
    s += " (" + std::to_string(size()) + " frames, " + std::to_string(rows_) + " x " + std::to_string(cols_) + " " +
         pixel_type_name(type_) + ")";
    return s;
  }

  Image read(std::size_t index) const override {
    if (index >= size()) {
      throw InvalidArgument("frame " + std::to_string(index) + " of the " + describe() + " is out of range");
    }
    const std::string& file = files_[index / pages_per_file_];
    const std::size_t page = index % pages_per_file_;
    Image img = read_tiff(file, page);
    if (img.rows() != rows_ || img.cols() != cols_ || img.type() != type_) {
      throw IoError("TIFF file '" + file + "', page " + std::to_string(page) + " is " + std::to_string(img.rows()) +
                    " x " + std::to_string(img.cols()) + " " + pixel_type_name(img.type()) + " but the series' first file '" +
                    files_.front() + "' is " + std::to_string(rows_) + " x " + std::to_string(cols_) + " " +
                    pixel_type_name(type_) + "; every frame of a series must have the same shape and type");
    }
    return img;
  }

  const std::vector<std::string>& files() const { return files_; }

 private:
  std::vector<std::string> files_;
  std::size_t pages_per_file_ = 1, rows_ = 0, cols_ = 0;
  PixelType type_ = PixelType::u16;
};

}  // namespace

namespace detail {
bool is_series_pattern(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  std::string re;
  bool numbered = false;
  return pattern_regex(name, re, numbered);
}
}  // namespace detail

std::vector<std::string> expand_series_pattern(const std::string& pattern) {
  const fs::path p(pattern);
  const std::string name = p.filename().string();
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  std::string re;
  bool numbered = false;
  if (!pattern_regex(name, re, numbered)) {
    throw InvalidArgument("'" + pattern + "' is not a series pattern; expected '#' digits (scan_#####.tif), a printf "
                          "field (scan_%05d.tif) or a glob (scan_*.tif) in the file name");
  }
  const std::regex matcher(re);
  std::vector<std::pair<long long, std::string>> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw IoError("series pattern '" + pattern + "': the folder '" + dir.string() + "' does not exist");
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string fname = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(fname, m, matcher)) continue;
    if (!entry.is_regular_file(ec)) continue;
    const long long number = numbered ? std::stoll(m[1].str()) : last_number(fname);
    found.emplace_back(number, entry.path().string());
  }
  if (ec) throw IoError("series pattern '" + pattern + "': cannot list '" + dir.string() + "': " + ec.message());
  if (found.empty()) {
    throw IoError("series pattern '" + pattern + "' matches no file in '" + dir.string() + "'");
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> files;
  files.reserve(found.size());
  for (auto& f : found) files.push_back(std::move(f.second));
  return files;
}

std::unique_ptr<FrameSource> open_tiff_series(const std::string& pattern) {
  std::error_code ec;
  if (fs::is_regular_file(pattern, ec)) return open_tiff_series(std::vector<std::string>{pattern});
  return open_tiff_series(expand_series_pattern(pattern));
}

std::unique_ptr<FrameSource> open_tiff_series(const std::vector<std::string>& files) {
  return std::make_unique<TiffSeries>(files);
}

DarkImage read_dark(const std::string& path, const DarkOptions& options, const std::string& dataset) {
  std::string bad;
  if (options.frame_summed_frames < 1) bad += "frame_summed_frames must be >= 1; ";
  if (options.dark_summed_frames < 1) bad += "dark_summed_frames must be >= 1; ";
  if (options.already_subtracted && !path.empty()) {
    bad += "the frames are marked as dark-subtracted (already_subtracted), so no dark file may be given ('" + path +
           "' would be subtracted a second time); ";
  }
  if (!bad.empty()) throw InvalidArgument("read_dark: " + bad.substr(0, bad.size() - 2));
  DarkImage out;
  if (options.already_subtracted) {
    out.description = "already subtracted by the acquisition software";
    return out;
  }
  if (path.empty()) throw InvalidArgument("read_dark: no dark file given");
  OpenOptions open;
  open.dataset = dataset;
  const auto source = open_frames(path, open);
  out.rows = source->rows();
  out.cols = source->cols();
  out.frames = source->size();
  if (out.frames == 0) throw IoError("dark '" + path + "' holds no frame");
  std::vector<double> sum(out.rows * out.cols, 0.0);
  for (std::size_t k = 0; k < out.frames; ++k) {
    const std::vector<double> v = source->read(k).to_double();
    for (std::size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
  }
  out.scale = static_cast<double>(options.frame_summed_frames) / static_cast<double>(options.dark_summed_frames);
  const double n = static_cast<double>(out.frames);
  out.pixels.resize(sum.size());
  out.variance.resize(sum.size());
  for (std::size_t i = 0; i < sum.size(); ++i) {
    const double mean = sum[i] / n;
    out.pixels[i] = static_cast<float>(mean * out.scale);
    // A Poisson dark of mean m per dark frame, averaged over n frames and scaled by s: variance s²·m/n.
    out.variance[i] = static_cast<float>(std::max(mean, 0.0) * out.scale * out.scale / n);
  }
  out.description = source->describe() + ", mean of " + std::to_string(out.frames) + " frame" +
                    (out.frames == 1 ? "" : "s");
  if (out.scale != 1.0) {
    out.description += ", scaled by " + std::to_string(options.frame_summed_frames) + "/" +
                       std::to_string(options.dark_summed_frames) + " summed sub-frames";
  }
  return out;
}

}  // namespace libpdf
