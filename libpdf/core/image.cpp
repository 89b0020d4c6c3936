#include "libpdf/image.hpp"

#include <cstring>
#include <string>

#include "libpdf/error.hpp"

namespace libpdf {

std::size_t pixel_size(PixelType t) {
  switch (t) {
    case PixelType::u16:
    case PixelType::i16: return 2;
    case PixelType::u32:
    case PixelType::i32:
    case PixelType::f32: return 4;
    case PixelType::f64: return 8;
  }
  throw InvalidArgument("unknown PixelType value " + std::to_string(static_cast<int>(t)));
}

const char* pixel_type_name(PixelType t) {
  switch (t) {
    case PixelType::u16: return "uint16";
    case PixelType::i16: return "int16";
    case PixelType::u32: return "uint32";
    case PixelType::i32: return "int32";
    case PixelType::f32: return "float32";
    case PixelType::f64: return "float64";
  }
  return "unknown";
}

Image::Image(PixelType type, std::size_t rows, std::size_t cols)
    : type_(type), rows_(rows), cols_(cols), bytes_(rows * cols * pixel_size(type)) {}

namespace {
template <class T>
double load(const unsigned char* p, std::size_t index) {
  T v;
  std::memcpy(&v, p + index * sizeof(T), sizeof(T));
  return static_cast<double>(v);
}
double load_any(PixelType t, const unsigned char* p, std::size_t index) {
  switch (t) {
    case PixelType::u16: return load<std::uint16_t>(p, index);
    case PixelType::i16: return load<std::int16_t>(p, index);
    case PixelType::u32: return load<std::uint32_t>(p, index);
    case PixelType::i32: return load<std::int32_t>(p, index);
    case PixelType::f32: return load<float>(p, index);
    case PixelType::f64: return load<double>(p, index);
  }
  return 0.0;
}
}  // namespace

double Image::at(std::size_t row, std::size_t col) const {
  if (row >= rows_ || col >= cols_) {
    throw InvalidArgument("Image::at(" + std::to_string(row) + ", " + std::to_string(col) +
                          ") is outside the " + std::to_string(rows_) + " x " + std::to_string(cols_) +
                          " image");
  }
  return load_any(type_, bytes_.data(), row * cols_ + col);
}

std::vector<double> Image::to_double() const {
  std::vector<double> out(size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = load_any(type_, bytes_.data(), i);
  return out;
}

Image Image::flipped_vertical() const {
  Image out(type_, rows_, cols_);
  const std::size_t row_bytes = cols_ * pixel_size(type_);
  for (std::size_t r = 0; r < rows_; ++r) {
    std::memcpy(out.bytes_.data() + (rows_ - 1 - r) * row_bytes, bytes_.data() + r * row_bytes, row_bytes);
  }
  return out;
}

}  // namespace libpdf
