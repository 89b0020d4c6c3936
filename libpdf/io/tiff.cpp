// TIFF frames and masks through libtiff. libtiff handles byte order, strips, tiles and compression
// (deflate, LZW, packbits, predictors); this file checks the sample layout and copies the pixels.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace detail {
namespace {

// libtiff reports problems through callbacks. Since libtiff 4.5 they can be set per open file with
// user data (TIFFOpenOptions), which leaves the host program's global handlers alone and is thread-safe;
// the last error lands in our exception, warnings (e.g. the unknown private tags of Pilatus TIFFs) go
// to libpdf's debug log instead of stderr.
struct TiffMessages {
  std::string path;
  std::string last_error;
};

std::string format_message(const char* module, const char* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  std::string msg = buf;
  if (module && *module) msg = std::string(module) + ": " + msg;
  return msg;
}

#if TIFFLIB_VERSION >= 20221213
int on_tiff_error(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  static_cast<TiffMessages*>(user)->last_error = format_message(module, fmt, ap);
  return 1;  // handled: libtiff must not also call the global (stderr) handlers
}

int on_tiff_warning(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* m = static_cast<TiffMessages*>(user);
  logger().debug("libtiff warning for '{}': {}", m->path, format_message(module, fmt, ap));
  return 1;
}
#else
// Older libtiff: only global handlers exist. Install them once; they write into the calling thread's
// current TiffMessages (every libtiff call of a thread happens while its TiffFile is alive).
thread_local TiffMessages* t_current = nullptr;
void on_tiff_error_global(const char* module, const char* fmt, va_list ap) {
  if (t_current) t_current->last_error = format_message(module, fmt, ap);
}
void on_tiff_warning_global(const char* module, const char* fmt, va_list ap) {
  logger().debug("libtiff warning: {}", format_message(module, fmt, ap));
}
void install_global_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(on_tiff_error_global);
    TIFFSetWarningHandler(on_tiff_warning_global);
  });
}
#endif

// The layout of one page, as far as we need it.
struct PageInfo {
  std::size_t rows = 0, cols = 0;
  std::uint16_t samples_per_pixel = 1;
  std::uint16_t bits = 0;
  std::uint16_t sample_format = SAMPLEFORMAT_UINT;
  bool tiled = false;
};

const char* sample_format_name(std::uint16_t f) {
  switch (f) {
    case SAMPLEFORMAT_UINT: return "unsigned integer";
    case SAMPLEFORMAT_INT: return "signed integer";
    case SAMPLEFORMAT_IEEEFP: return "IEEE float";
    case SAMPLEFORMAT_VOID: return "untyped (void)";
    case SAMPLEFORMAT_COMPLEXINT: return "complex integer";
    case SAMPLEFORMAT_COMPLEXIEEEFP: return "complex float";
    default: return "unknown";
  }
}

// An open TIFF with its message capture. Move-free: the messages' address is registered with libtiff.
class TiffFile {
 public:
  explicit TiffFile(const std::string& path) {
    msgs_.path = path;
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) throw IoError("TIFF file '" + path + "' does not exist");
#if TIFFLIB_VERSION >= 20221213
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_tiff_error, &msgs_);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_tiff_warning, &msgs_);
    tif_ = TIFFOpenExt(path.c_str(), "r", opts);
    TIFFOpenOptionsFree(opts);
#else
    install_global_handlers();
    t_current = &msgs_;
    tif_ = TIFFOpen(path.c_str(), "r");
#endif
    if (!tif_) fail("cannot open as TIFF");
  }
  ~TiffFile() {
    if (tif_) TIFFClose(tif_);
  }
  TiffFile(const TiffFile&) = delete;
  TiffFile& operator=(const TiffFile&) = delete;

  TIFF* get() const { return tif_; }
  const std::string& path() const { return msgs_.path; }

  [[noreturn]] void fail(const std::string& what) const {
    std::string msg = "TIFF file '" + msgs_.path + "': " + what;
    if (!msgs_.last_error.empty()) msg += " (libtiff: " + msgs_.last_error + ")";
    throw IoError(msg);
  }
  void clear_error() {
    msgs_.last_error.clear();
#if TIFFLIB_VERSION < 20221213
    t_current = &msgs_;
#endif
  }

  std::size_t page_count() {
    clear_error();
    const auto n = TIFFNumberOfDirectories(tif_);
    if (n == 0) fail("has no pages (image directories)");
    return static_cast<std::size_t>(n);
  }

  void select_page(std::size_t page) {
    clear_error();
    if (static_cast<std::size_t>(TIFFCurrentDirectory(tif_)) == page) return;
    if (!TIFFSetDirectory(tif_, static_cast<tdir_t>(page))) fail("cannot read page " + std::to_string(page));
  }

  PageInfo page_info(std::size_t page) {
    select_page(page);
    PageInfo info;
    std::uint32_t width = 0, height = 0;
    if (!TIFFGetField(tif_, TIFFTAG_IMAGEWIDTH, &width) || !TIFFGetField(tif_, TIFFTAG_IMAGELENGTH, &height)) {
      fail("page " + std::to_string(page) + " has no image width/length");
    }
    info.cols = width;
    info.rows = height;
    TIFFGetFieldDefaulted(tif_, TIFFTAG_SAMPLESPERPIXEL, &info.samples_per_pixel);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_BITSPERSAMPLE, &info.bits);
    TIFFGetFieldDefaulted(tif_, TIFFTAG_SAMPLEFORMAT, &info.sample_format);
    info.tiled = TIFFIsTiled(tif_) != 0;
    return info;
  }

 private:
  TiffMessages msgs_;
  TIFF* tif_ = nullptr;
};

std::string page_name(const TiffFile& f, std::size_t page) {
  return "TIFF file '" + f.path() + "', page " + std::to_string(page);
}

// Checks that the page is a grey image of a sample type we can hold.
SampleKind check_layout(const TiffFile& f, std::size_t page, const PageInfo& info) {
  if (info.samples_per_pixel != 1) {
    throw IoError(page_name(f, page) + " has " + std::to_string(info.samples_per_pixel) +
                  " samples per pixel (colour or multi-channel); expected 1 (a grey detector frame)");
  }
  SampleKind kind;
  switch (info.sample_format) {
    case SAMPLEFORMAT_UINT: kind = SampleKind::unsigned_int; break;
    case SAMPLEFORMAT_INT: kind = SampleKind::signed_int; break;
    case SAMPLEFORMAT_IEEEFP: kind = SampleKind::floating; break;
    default:
      throw IoError(page_name(f, page) + " has " + sample_format_name(info.sample_format) +
                    " samples; expected unsigned/signed integers or IEEE floats");
  }
  const bool ok_int = kind != SampleKind::floating &&
                      (info.bits == 8 || info.bits == 16 || info.bits == 32 || info.bits == 64);
  const bool ok_float = kind == SampleKind::floating && (info.bits == 32 || info.bits == 64);
  if (!ok_int && !ok_float) {
    throw IoError(page_name(f, page) + " has " + std::to_string(info.bits) + "-bit " +
                  sample_format_name(info.sample_format) +
                  " samples; expected 8/16/32/64-bit integers or 32/64-bit floats");
  }
  return kind;
}

// The header alone decides how much memory a page takes, so a damaged or hostile file of a few hundred bytes
// could claim 65535 x 65535 x 64-bit samples (32 GiB) or, multiplied out, more than size_t holds. Refuse a
// page that is empty, or whose pixels the file cannot hold: uncompressed pixels need as many bytes in the
// file; compressed ones at most kMaxCompressionRatio times the file's size. That ratio is above what LZW
// (< 3641:1), deflate (< 1033:1) and PackBits (64:1) can reach, so no real frame is refused.
constexpr double kMaxCompressionRatio = 4096;

void check_decoded_size(const TiffFile& f, std::size_t page, const PageInfo& info, std::size_t row_bytes) {
  if (info.rows == 0 || info.cols == 0) {
    throw IoError(page_name(f, page) + " is " + std::to_string(info.cols) + " x " + std::to_string(info.rows) +
                  " pixels (expected a non-empty image)");
  }
  std::uint16_t compression = COMPRESSION_NONE;
  TIFFGetFieldDefaulted(f.get(), TIFFTAG_COMPRESSION, &compression);
  std::error_code ec;
  const auto file_bytes = std::filesystem::file_size(f.path(), ec);
  if (ec) throw IoError("TIFF file '" + f.path() + "': cannot get its size (" + ec.message() + ")");
  const double need = static_cast<double>(info.rows) * static_cast<double>(row_bytes);
  const double limit =
      static_cast<double>(file_bytes) * (compression == COMPRESSION_NONE ? 1.0 : kMaxCompressionRatio);
  if (need > limit) {
    throw IoError(page_name(f, page) + " declares " + std::to_string(info.cols) + " x " + std::to_string(info.rows) +
                  " pixels of " + std::to_string(info.bits) + " bits (" + std::to_string(need / 1e6) +
                  " MB), more than the " + std::to_string(file_bytes) + "-byte file can hold" +
                  (compression == COMPRESSION_NONE ? "" : " even compressed") + ": the header is damaged");
  }
}

RawTiffPage read_page(TiffFile& f, std::size_t page) {
  const PageInfo info = f.page_info(page);
  RawTiffPage out;
  out.kind = check_layout(f, page, info);
  out.bits = info.bits;
  out.rows = info.rows;
  out.cols = info.cols;
  const std::size_t bytes_per_sample = info.bits / 8u;
  const std::size_t row_bytes = info.cols * bytes_per_sample;  // < 2^35: cols < 2^32, at most 8 bytes a sample
  check_decoded_size(f, page, info, row_bytes);
  out.bytes.resize(info.rows * row_bytes);
  TIFF* tif = f.get();
  f.clear_error();
  if (!info.tiled) {
    std::uint32_t rows_per_strip = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
    const std::size_t rps = std::min<std::size_t>(rows_per_strip == 0 ? info.rows : rows_per_strip, info.rows);
    const std::size_t nstrips = TIFFNumberOfStrips(tif);
    for (std::size_t s = 0, row = 0; s < nstrips && row < info.rows; ++s, row += rps) {
      const std::size_t nrows = std::min(rps, info.rows - row);
      const std::size_t want = nrows * row_bytes;
      const tmsize_t got = TIFFReadEncodedStrip(tif, static_cast<std::uint32_t>(s), out.bytes.data() + row * row_bytes,
                                                static_cast<tmsize_t>(want));
      if (got < 0 || static_cast<std::size_t>(got) < want) {
        f.fail("page " + std::to_string(page) + ": cannot decode strip " + std::to_string(s) + " of " +
               std::to_string(nstrips) + " (got " + std::to_string(got) + " of " + std::to_string(want) + " bytes)");
      }
    }
    return out;
  }
  std::uint32_t tile_w = 0, tile_h = 0;
  if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_h) ||
      tile_w == 0 || tile_h == 0) {
    f.fail("page " + std::to_string(page) + " is tiled but has no valid tile size");
  }
  const tmsize_t tile_size = TIFFTileSize(tif);
  const std::size_t tile_row_bytes = std::size_t(tile_w) * bytes_per_sample;
  if (tile_size <= 0 || static_cast<std::size_t>(tile_size) < tile_row_bytes * tile_h) {
    f.fail("page " + std::to_string(page) + ": unexpected tile size " + std::to_string(tile_size));
  }
  // A tile may be larger than a small image (edge tiles are padded to the tile size, itself a multiple of 16),
  // but real tiles are at most a few MB (1024 x 1024 x 8 bytes = 8 MiB); 64 MiB keeps a damaged header from
  // allocating gigabytes.
  if (tile_size > static_cast<tmsize_t>(std::max<std::size_t>(out.bytes.size(), std::size_t{64} << 20))) {
    f.fail("page " + std::to_string(page) + ": tiles of " + std::to_string(tile_w) + " x " + std::to_string(tile_h) +
           " pixels for a " + std::to_string(info.cols) + " x " + std::to_string(info.rows) +
           " image (the header is damaged)");
  }
  std::vector<unsigned char> tile(static_cast<std::size_t>(tile_size));
  for (std::size_t ty = 0; ty < info.rows; ty += tile_h) {
    for (std::size_t tx = 0; tx < info.cols; tx += tile_w) {
      const std::uint32_t index =
          TIFFComputeTile(tif, static_cast<std::uint32_t>(tx), static_cast<std::uint32_t>(ty), 0, 0);
      if (TIFFReadEncodedTile(tif, index, tile.data(), tile_size) < 0) {
        f.fail("page " + std::to_string(page) + ": cannot decode the tile at row " + std::to_string(ty) +
               ", column " + std::to_string(tx));
      }
      // Edge tiles are stored full size; copy only the part inside the image.
      const std::size_t nrows = std::min<std::size_t>(tile_h, info.rows - ty);
      const std::size_t ncol_bytes = std::min<std::size_t>(tile_w, info.cols - tx) * bytes_per_sample;
      for (std::size_t r = 0; r < nrows; ++r) {
        std::memcpy(out.bytes.data() + (ty + r) * row_bytes + tx * bytes_per_sample, tile.data() + r * tile_row_bytes,
                    ncol_bytes);
      }
    }
  }
  return out;
}

// The PixelType a raw page maps to, or an IoError explaining which types frames may have.
PixelType frame_type(const std::string& path, std::size_t page, SampleKind kind, unsigned bits) {
  if (kind == SampleKind::unsigned_int && bits == 16) return PixelType::u16;
  if (kind == SampleKind::signed_int && bits == 16) return PixelType::i16;
  if (kind == SampleKind::unsigned_int && bits == 32) return PixelType::u32;
  if (kind == SampleKind::signed_int && bits == 32) return PixelType::i32;
  if (kind == SampleKind::floating && bits == 32) return PixelType::f32;
  if (kind == SampleKind::floating && bits == 64) return PixelType::f64;
  const char* k = kind == SampleKind::unsigned_int ? "unsigned integer" : kind == SampleKind::signed_int ? "signed integer" : "float";
  throw IoError("TIFF file '" + path + "', page " + std::to_string(page) + " has " + std::to_string(bits) + "-bit " + k +
                " samples; frames must be uint16, int16, uint32, int32, float32 or float64");
}

Image to_image(const std::string& path, std::size_t page, RawTiffPage&& raw) {
  const PixelType t = frame_type(path, page, raw.kind, raw.bits);
  Image img(t, raw.rows, raw.cols);
  if (!raw.bytes.empty()) std::memcpy(img.data(), raw.bytes.data(), raw.bytes.size());
  return img;
}

// Every page of a multi-page TIFF is one frame. libtiff handles are not thread-safe, so reads take a
// mutex; the file stays open between reads so a sequential pass walks the directory chain once.
class TiffFrameSource final : public FrameSource {
 public:
  explicit TiffFrameSource(const std::string& path) : file_(path) {
    pages_ = file_.page_count();
    const PageInfo first = file_.page_info(0);
    type_ = frame_type(path, 0, check_layout(file_, 0, first), first.bits);
    rows_ = first.rows;
    cols_ = first.cols;
    for (std::size_t p = 1; p < pages_; ++p) {
      const PageInfo info = file_.page_info(p);
      const PixelType t = frame_type(path, p, check_layout(file_, p, info), info.bits);
      if (info.rows != rows_ || info.cols != cols_ || t != type_) {
        throw IoError("TIFF file '" + path + "': page " + std::to_string(p) + " is " + std::to_string(info.rows) +
                      " x " + std::to_string(info.cols) + " " + pixel_type_name(t) + " but page 0 is " +
                      std::to_string(rows_) + " x " + std::to_string(cols_) + " " + pixel_type_name(type_) +
                      "; every page of a TIFF series must have the same shape and type");
      }
    }
  }

  std::size_t size() const override { return pages_; }
  std::size_t rows() const override { return rows_; }
  std::size_t cols() const override { return cols_; }
  PixelType type() const override { return type_; }
  Image read(std::size_t index) const override {
    if (index >= pages_) {
      throw InvalidArgument("frame " + std::to_string(index) + " of TIFF file '" + file_.path() +
                            "' is out of range: it has " + std::to_string(pages_) + " page(s)");
    }
    std::lock_guard<std::mutex> lock(mutex_);
    return to_image(file_.path(), index, read_page(file_, index));
  }
  std::string describe() const override {
    return "TIFF '" + file_.path() + "' (" + std::to_string(pages_) + (pages_ == 1 ? " page, " : " pages, ") +
           std::to_string(rows_) + " x " + std::to_string(cols_) + " " + pixel_type_name(type_) + ")";
  }

 private:
  mutable std::mutex mutex_;
  mutable TiffFile file_;
  std::size_t pages_ = 0, rows_ = 0, cols_ = 0;
  PixelType type_ = PixelType::u16;
};

}  // namespace

bool is_tiff_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char sig[4] = {0, 0, 0, 0};
  if (!in.read(reinterpret_cast<char*>(sig), 4)) return false;
  const bool little = sig[0] == 'I' && sig[1] == 'I' && (sig[2] == 42 || sig[2] == 43) && sig[3] == 0;
  const bool big = sig[0] == 'M' && sig[1] == 'M' && sig[2] == 0 && (sig[3] == 42 || sig[3] == 43);
  return little || big;
}

std::string describe_signature(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[8] = {};
  in.read(buf, sizeof buf);
  const std::streamsize n = in.gcount();
  if (n <= 0) return "the file is empty";
  std::string hex, text;
  char tmp[4];
  for (std::streamsize i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(buf[i]);
    std::snprintf(tmp, sizeof tmp, "%02x", c);
    if (i) hex += ' ';
    hex += tmp;
    text += (c >= 32 && c < 127) ? static_cast<char>(c) : '.';
  }
  return "it starts with " + hex + " (\"" + text + "\")";
}

RawTiffPage read_tiff_page_raw(const std::string& path, std::size_t page) {
  TiffFile f(path);
  const std::size_t n = f.page_count();
  if (page >= n) {
    throw InvalidArgument("TIFF file '" + path + "': page " + std::to_string(page) + " does not exist; it has " +
                          std::to_string(n) + " page(s)");
  }
  return read_page(f, page);
}

std::unique_ptr<FrameSource> open_tiff_frames(const std::string& path) {
  return std::make_unique<TiffFrameSource>(path);
}

}  // namespace detail

Image read_tiff(const std::string& path, std::size_t page) {
  return detail::to_image(path, page, detail::read_tiff_page_raw(path, page));
}

}  // namespace libpdf
