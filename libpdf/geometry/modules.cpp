// Assembly of multi-module detectors (e.g. a DESY Lambda with three modules) into one image.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"

namespace libpdf {
namespace {

std::string rect(const ModulePlacement& p) {
  return "rows " + std::to_string(p.row_offset) + ".." + std::to_string(p.row_offset + p.rows) + ", cols " +
         std::to_string(p.col_offset) + ".." + std::to_string(p.col_offset + p.cols) + " (end exclusive)";
}

// Rejects placements whose ends overflow, and pairs of modules that share a pixel: an overlap would
// silently drop one module's pixels. O(n²) pairs; detectors have a handful of modules.
void check_placements(const std::vector<ModulePlacement>& placements, const char* caller) {
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  for (std::size_t i = 0; i < placements.size(); ++i) {
    const ModulePlacement& p = placements[i];
    if (p.row_offset > kMax - p.rows || p.col_offset > kMax - p.cols) {
      throw InvalidArgument(std::string(caller) + ": module " + std::to_string(i) + " placement (row_offset " +
                            std::to_string(p.row_offset) + ", col_offset " + std::to_string(p.col_offset) +
                            ") overflows");
    }
  }
  for (std::size_t i = 0; i < placements.size(); ++i) {
    const ModulePlacement& a = placements[i];
    if (a.rows == 0 || a.cols == 0) continue;
    for (std::size_t j = i + 1; j < placements.size(); ++j) {
      const ModulePlacement& b = placements[j];
      if (b.rows == 0 || b.cols == 0) continue;
      const bool rows_overlap = a.row_offset < b.row_offset + b.rows && b.row_offset < a.row_offset + a.rows;
      const bool cols_overlap = a.col_offset < b.col_offset + b.cols && b.col_offset < a.col_offset + a.cols;
      if (rows_overlap && cols_overlap) {
        throw InvalidArgument(std::string(caller) + ": module " + std::to_string(i) + " (" + rect(a) +
                              ") overlaps module " + std::to_string(j) + " (" + rect(b) +
                              "); expected modules that do not share pixels");
      }
    }
  }
}

template <class T>
bool representable(double v) {
  if constexpr (std::numeric_limits<T>::is_integer) {
    return std::isfinite(v) && v == std::floor(v) && v >= static_cast<double>(std::numeric_limits<T>::min()) &&
           v <= static_cast<double>(std::numeric_limits<T>::max());
  } else {
    return true;  // NaN and ±inf are fine gap markers in float images
  }
}

template <class T>
void fill(Image& img, double value) {
  const T v = static_cast<T>(value);
  T* p = img.as<T>();
  for (std::size_t i = 0; i < img.size(); ++i) p[i] = v;
}

// Fills @p img with @p value in its own type; InvalidArgument when the type cannot hold it exactly.
void fill_gap(Image& img, double value) {
  bool ok = true;
  switch (img.type()) {
    case PixelType::u16: ok = representable<std::uint16_t>(value); if (ok) fill<std::uint16_t>(img, value); break;
    case PixelType::i16: ok = representable<std::int16_t>(value); if (ok) fill<std::int16_t>(img, value); break;
    case PixelType::u32: ok = representable<std::uint32_t>(value); if (ok) fill<std::uint32_t>(img, value); break;
    case PixelType::i32: ok = representable<std::int32_t>(value); if (ok) fill<std::int32_t>(img, value); break;
    case PixelType::f32: fill<float>(img, value); break;
    case PixelType::f64: fill<double>(img, value); break;
  }
  if (!ok) {
    throw InvalidArgument("assemble_modules: gap_value " + std::to_string(value) + " cannot be stored in " +
                          pixel_type_name(img.type()) + " pixels; expected an integer within the type's range");
  }
}

}  // namespace

Image assemble_modules(const std::vector<ImageView>& modules, const std::vector<ModulePlacement>& placements,
                       double gap_value) {
  if (modules.empty()) throw InvalidArgument("assemble_modules: no modules given; expected at least one");
  if (modules.size() != placements.size()) {
    throw InvalidArgument("assemble_modules: " + std::to_string(modules.size()) + " modules but " +
                          std::to_string(placements.size()) + " placements; expected one placement per module");
  }
  const PixelType type = modules.front().type;
  std::size_t rows = 0, cols = 0;
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const ImageView& m = modules[i];
    const ModulePlacement& p = placements[i];
    if (m.type != type) {
      throw InvalidArgument("assemble_modules: module " + std::to_string(i) + " holds " + pixel_type_name(m.type) +
                            " pixels but module 0 holds " + pixel_type_name(type) + "; expected one type");
    }
    if (m.rows != p.rows || m.cols != p.cols) {
      throw InvalidArgument("assemble_modules: module " + std::to_string(i) + " is " + std::to_string(m.rows) +
                            " x " + std::to_string(m.cols) + " but its placement says " + std::to_string(p.rows) +
                            " x " + std::to_string(p.cols));
    }
    if (m.size() > 0 && m.data == nullptr) {
      throw InvalidArgument("assemble_modules: module " + std::to_string(i) + " has no pixel data");
    }
  }
  check_placements(placements, "assemble_modules");
  for (const ModulePlacement& p : placements) {
    rows = std::max(rows, p.row_offset + p.rows);
    cols = std::max(cols, p.col_offset + p.cols);
  }
  Image out(type, rows, cols);
  fill_gap(out, gap_value);
  const std::size_t elem = pixel_size(type);
  auto* dst = static_cast<unsigned char*>(out.data());
  for (std::size_t i = 0; i < modules.size(); ++i) {
    const ModulePlacement& p = placements[i];
    const auto* src = static_cast<const unsigned char*>(modules[i].data);
    const std::size_t row_bytes = p.cols * elem;
    for (std::size_t r = 0; r < p.rows; ++r) {
      std::memcpy(dst + ((p.row_offset + r) * cols + p.col_offset) * elem, src + r * row_bytes, row_bytes);
    }
  }
  return out;
}

std::vector<std::uint8_t> module_gap_mask(const std::vector<ModulePlacement>& placements, std::size_t rows,
                                          std::size_t cols) {
  check_placements(placements, "module_gap_mask");
  for (std::size_t i = 0; i < placements.size(); ++i) {
    const ModulePlacement& p = placements[i];
    if (p.row_offset + p.rows > rows || p.col_offset + p.cols > cols) {
      throw InvalidArgument("module_gap_mask: module " + std::to_string(i) + " (" + rect(p) +
                            ") does not fit in the " + std::to_string(rows) + " x " + std::to_string(cols) +
                            " assembly");
    }
  }
  std::vector<std::uint8_t> mask(rows * cols, 1);
  for (const ModulePlacement& p : placements) {
    for (std::size_t r = 0; r < p.rows; ++r) {
      std::fill_n(mask.begin() + static_cast<std::ptrdiff_t>((p.row_offset + r) * cols + p.col_offset), p.cols,
                  std::uint8_t{0});
    }
  }
  return mask;
}

}  // namespace libpdf
