#pragma once
/// @file image.hpp
/// Detector frames: a non-owning typed view (frames are read in place, in their native type) and an
/// owning image for frames read from files.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "libpdf/export.hpp"

namespace libpdf {

/// Element type of a detector frame.
enum class PixelType { u16, i16, u32, i32, f32, f64 };

/// Size of one element of @p t in bytes.
LIBPDF_API std::size_t pixel_size(PixelType t);
/// "uint16", "int16", "uint32", "int32", "float32" or "float64".
LIBPDF_API const char* pixel_type_name(PixelType t);

/// The PixelType of C++ element type @p T (defined for the six supported types only).
template <class T> struct pixel_type_of;
/// uint16 frames.
template <> struct pixel_type_of<std::uint16_t> { static constexpr PixelType value = PixelType::u16; /**< u16 */ };
/// int16 frames.
template <> struct pixel_type_of<std::int16_t> { static constexpr PixelType value = PixelType::i16; /**< i16 */ };
/// uint32 frames.
template <> struct pixel_type_of<std::uint32_t> { static constexpr PixelType value = PixelType::u32; /**< u32 */ };
/// int32 frames.
template <> struct pixel_type_of<std::int32_t> { static constexpr PixelType value = PixelType::i32; /**< i32 */ };
/// float32 frames.
template <> struct pixel_type_of<float> { static constexpr PixelType value = PixelType::f32; /**< f32 */ };
/// float64 frames.
template <> struct pixel_type_of<double> { static constexpr PixelType value = PixelType::f64; /**< f64 */ };

/// A non-owning, row-major (C order) view of one frame. Row = slow axis (index 1 of pyFAI), column =
/// fast axis (index 2).
struct ImageView {
  const void* data = nullptr;       ///< First pixel (not owned; must outlive the view).
  PixelType type = PixelType::f32;  ///< Element type of the pixels.
  std::size_t rows = 0;             ///< Number of rows (slow axis).
  std::size_t cols = 0;             ///< Number of columns (fast axis).

  /// An empty view.
  ImageView() = default;
  /// A view of @p r x @p c pixels of type @p t at @p d.
  ImageView(const void* d, PixelType t, std::size_t r, std::size_t c) : data(d), type(t), rows(r), cols(c) {}
  /// A view of @p r x @p c pixels at @p d, the type taken from @p T.
  template <class T>
  ImageView(const T* d, std::size_t r, std::size_t c) : data(d), type(pixel_type_of<T>::value), rows(r), cols(c) {}

  /// Number of pixels, rows·cols.
  std::size_t size() const { return rows * cols; }
  /// The pixels as @p T (which must match type).
  template <class T> const T* as() const { return static_cast<const T*>(data); }
};

/// An owning frame (row-major) of any PixelType.
class LIBPDF_API Image {
 public:
  /// An empty image (0 x 0).
  Image() = default;
  /// An image of @p rows x @p cols pixels of @p type, every byte zero.
  Image(PixelType type, std::size_t rows, std::size_t cols);

  /// Element type of the pixels.
  PixelType type() const { return type_; }
  /// Number of rows (slow axis).
  std::size_t rows() const { return rows_; }
  /// Number of columns (fast axis).
  std::size_t cols() const { return cols_; }
  /// Number of pixels, rows·cols.
  std::size_t size() const { return rows_ * cols_; }
  /// Whether the image has no pixel.
  bool empty() const { return size() == 0; }
  /// The pixel bytes, row-major.
  void* data() { return bytes_.data(); }
  /// The pixel bytes, row-major.
  const void* data() const { return bytes_.data(); }
  /// The pixels as @p T (which must match type()).
  template <class T> T* as() { return reinterpret_cast<T*>(bytes_.data()); }
  /// The pixels as @p T (which must match type()).
  template <class T> const T* as() const { return reinterpret_cast<const T*>(bytes_.data()); }
  /// A view of the whole image (valid while the image lives and is not resized).
  ImageView view() const { return {bytes_.data(), type_, rows_, cols_}; }

  /// Value of pixel (row, col) converted to double.
  double at(std::size_t row, std::size_t col) const;
  /// A float64 copy of the pixels (row-major).
  std::vector<double> to_double() const;
  /// The image flipped top to bottom (row i -> rows-1-i), e.g. for Dioptas-made calibrations.
  Image flipped_vertical() const;

 private:
  PixelType type_ = PixelType::f32;
  std::size_t rows_ = 0, cols_ = 0;
  std::vector<unsigned char> bytes_;
};

}  // namespace libpdf
