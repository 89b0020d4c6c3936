// Tests of libpdf's io module: TIFF and HDF5/NeXus frames, DESY Lambda series, masks, module assembly,
// and the private HDF5 layer. Every expected value is either built by the test itself (files written
// here with libtiff or the HDF5 C API, then read back and compared bit for bit) or was measured on the
// real data in ../shared/data/real with an independent reader (fabio, h5py; the commands are quoted
// next to the numbers).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <tiffio.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <thread>
#include <vector>

#include "libpdf/error.hpp"
#include "test_util.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/image.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"

namespace fs = std::filesystem;
using libpdf::Image;
using libpdf::PixelType;
namespace h5 = libpdf::detail::h5;

namespace {

const std::string kData = LIBPDF_DATA_DIR;
const std::string kCeO2 = kData + "/calibrant_CeO2_Pilatus1M/CeO2_Pilatus1M.tif";
const std::string kLambdaDir = kData + "/desy_lambda_series";
const std::string kLambdaPrefix = kLambdaDir + "/testasapo1_1009_00002";
const std::string kLambdaMask = kLambdaDir + "/l2_l1_synrh9_150m_200ms_850c_oscillation_00001_m2.mask";

const std::array<PixelType, 6> kAllTypes = {PixelType::u16, PixelType::i16, PixelType::u32,
                                            PixelType::i32, PixelType::f32, PixelType::f64};

// A fresh, writable path for this test (one folder per test, so tests may run in parallel).
std::string tmp_path(const std::string& name) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(LIBPDF_TEST_TMP) / "io" / (std::string(info->test_suite_name()) + "." + info->name());
  fs::create_directories(dir);
  return (dir / name).string();
}

std::string lambda_file(int module, int part) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "_m%d_part%05d.nxs", module, part);
  return kLambdaPrefix + buf;
}

using libpdf::test::error_of;

// Checks that the message holds every piece (file, dataset, problem).
void expect_mentions(const std::string& msg, std::initializer_list<std::string> pieces) {
  for (const std::string& p : pieces) {
    EXPECT_NE(msg.find(p), std::string::npos) << "message lacks \"" << p << "\":\n" << msg;
  }
}

// A deterministic test pattern that uses each type's range: large values for 32-bit types, negative
// values for signed ones, fractions for floats, and differs between frames.
template <class T>
T pattern(std::size_t frame, std::size_t r, std::size_t c) {
  const std::uint64_t h = (frame + 1) * 2654435761u + r * 40503u + c * 9973u + r * c;
  if constexpr (std::is_same_v<T, float>) {
    return static_cast<float>(static_cast<double>(h % 100000) * 0.37 - 12345.5);
  } else if constexpr (std::is_same_v<T, double>) {
    return static_cast<double>(h % 1000003) * 1.0e-3 - 333.25 + 1e-9 * static_cast<double>(c);
  } else if constexpr (std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(h * 2246822519u));
  } else {
    return static_cast<T>(h * 2246822519u);
  }
}

template <class T>
void fill_pattern(Image& img, std::size_t frame) {
  T* p = img.as<T>();
  for (std::size_t r = 0; r < img.rows(); ++r)
    for (std::size_t c = 0; c < img.cols(); ++c) p[r * img.cols() + c] = pattern<T>(frame, r, c);
}

Image make_image(PixelType t, std::size_t rows, std::size_t cols, std::size_t frame) {
  Image img(t, rows, cols);
  switch (t) {
    case PixelType::u16: fill_pattern<std::uint16_t>(img, frame); break;
    case PixelType::i16: fill_pattern<std::int16_t>(img, frame); break;
    case PixelType::u32: fill_pattern<std::uint32_t>(img, frame); break;
    case PixelType::i32: fill_pattern<std::int32_t>(img, frame); break;
    case PixelType::f32: fill_pattern<float>(img, frame); break;
    case PixelType::f64: fill_pattern<double>(img, frame); break;
  }
  return img;
}

// Bit-for-bit equality (floats included: nothing may be converted on the way).
::testing::AssertionResult same_image(const Image& a, const Image& b) {
  if (a.type() != b.type() || a.rows() != b.rows() || a.cols() != b.cols()) {
    return ::testing::AssertionFailure() << "got " << pixel_type_name(a.type()) << " " << a.rows() << " x "
                                         << a.cols() << ", expected " << pixel_type_name(b.type()) << " " << b.rows()
                                         << " x " << b.cols();
  }
  const std::size_t n = a.size() * libpdf::pixel_size(a.type());
  if (std::memcmp(a.data(), b.data(), n) != 0) {
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a.at(i / a.cols(), i % a.cols()) != b.at(i / a.cols(), i % a.cols())) {
        return ::testing::AssertionFailure() << "pixel (" << i / a.cols() << ", " << i % a.cols() << ") is "
                                             << a.at(i / a.cols(), i % a.cols()) << ", expected "
                                             << b.at(i / a.cols(), i % a.cols());
      }
    }
    return ::testing::AssertionFailure() << "bytes differ";
  }
  return ::testing::AssertionSuccess();
}

std::uint16_t tiff_sample_format(PixelType t) {
  switch (t) {
    case PixelType::i16:
    case PixelType::i32: return SAMPLEFORMAT_INT;
    case PixelType::f32:
    case PixelType::f64: return SAMPLEFORMAT_IEEEFP;
    default: return SAMPLEFORMAT_UINT;
  }
}

struct TiffLayout {
  bool tiled = false;
  std::uint32_t rows_per_strip = 8;  // several strips, the last one short
  std::uint32_t tile = 16;           // tiles at the right and bottom edges are partly outside
  std::uint16_t compression = COMPRESSION_NONE;
};

// Writes pages with libtiff directly (independent of libpdf's reader).
void write_tiff(const std::string& path, const std::vector<Image>& pages, TiffLayout layout = {}) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr) << path;
  for (const Image& img : pages) {
    const auto elem = static_cast<std::uint16_t>(libpdf::pixel_size(img.type()));
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(img.cols()));
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(img.rows()));
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{1});
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, static_cast<std::uint16_t>(8 * elem));
    TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, tiff_sample_format(img.type()));
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_COMPRESSION, layout.compression);
    const auto* src = static_cast<const unsigned char*>(img.data());
    const std::size_t row_bytes = img.cols() * elem;
    if (layout.tiled) {
      TIFFSetField(t, TIFFTAG_TILEWIDTH, layout.tile);
      TIFFSetField(t, TIFFTAG_TILELENGTH, layout.tile);
      std::vector<unsigned char> tile(std::size_t(layout.tile) * layout.tile * elem);
      for (std::size_t y = 0; y < img.rows(); y += layout.tile) {
        for (std::size_t x = 0; x < img.cols(); x += layout.tile) {
          std::fill(tile.begin(), tile.end(), 0);
          const std::size_t nr = std::min<std::size_t>(layout.tile, img.rows() - y);
          const std::size_t nc = std::min<std::size_t>(layout.tile, img.cols() - x);
          for (std::size_t r = 0; r < nr; ++r) {
            std::memcpy(tile.data() + r * layout.tile * elem, src + (y + r) * row_bytes + x * elem, nc * elem);
          }
          ASSERT_GE(TIFFWriteTile(t, tile.data(), static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y), 0, 0), 0);
        }
      }
    } else {
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, layout.rows_per_strip);
      std::uint32_t strip = 0;
      for (std::size_t r = 0; r < img.rows(); r += layout.rows_per_strip, ++strip) {
        const std::size_t nr = std::min<std::size_t>(layout.rows_per_strip, img.rows() - r);
        ASSERT_GE(TIFFWriteEncodedStrip(t, strip, const_cast<unsigned char*>(src + r * row_bytes),
                                        static_cast<tmsize_t>(nr * row_bytes)),
                  0);
      }
    }
    ASSERT_EQ(TIFFWriteDirectory(t), 1);
  }
  TIFFClose(t);
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Concatenated frames (C order) for writing a stack.
std::vector<unsigned char> stack_bytes(const std::vector<Image>& frames) {
  std::vector<unsigned char> out;
  for (const Image& f : frames) {
    const auto* p = static_cast<const unsigned char*>(f.data());
    out.insert(out.end(), p, p + f.size() * libpdf::pixel_size(f.type()));
  }
  return out;
}

// Reads frame `index` of a 3-D int16 dataset with the bare HDF5 C API, independently of libpdf.
std::vector<std::int16_t> read_int16_frame_c_api(const std::string& path, const char* dataset, hsize_t index,
                                                 hsize_t rows, hsize_t cols) {
  std::vector<std::int16_t> out(rows * cols);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0) << path;
  const hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
  const hid_t fs_id = H5Dget_space(d);
  const hsize_t start[3] = {index, 0, 0};
  const hsize_t count[3] = {1, rows, cols};
  H5Sselect_hyperslab(fs_id, H5S_SELECT_SET, start, nullptr, count, nullptr);
  const hid_t ms = H5Screate_simple(3, count, nullptr);
  EXPECT_GE(H5Dread(d, H5T_NATIVE_INT16, ms, fs_id, H5P_DEFAULT, out.data()), 0);
  H5Sclose(ms);
  H5Sclose(fs_id);
  H5Dclose(d);
  H5Fclose(f);
  return out;
}

std::size_t count_equal(const Image& img, double v) {
  std::size_t n = 0;
  for (double x : img.to_double()) n += x == v;
  return n;
}

std::size_t count_set(const std::vector<std::uint8_t>& mask) {
  return static_cast<std::size_t>(std::count(mask.begin(), mask.end(), std::uint8_t{1}));
}

}  // namespace

// =====================================================================================================
// TIFF
// =====================================================================================================

TEST(Tiff, RoundTripEveryTypeInStrips) {
  for (PixelType t : kAllTypes) {
    SCOPED_TRACE(pixel_type_name(t));
    const std::string path = tmp_path(std::string("strips_") + pixel_type_name(t) + ".tif");
    const Image img = make_image(t, 37, 53, 0);
    write_tiff(path, {img});
    EXPECT_TRUE(same_image(libpdf::read_tiff(path), img));
  }
}

TEST(Tiff, RoundTripEveryTypeTiledAndCompressed) {
  for (PixelType t : kAllTypes) {
    for (std::uint16_t compression : {std::uint16_t(COMPRESSION_ADOBE_DEFLATE), std::uint16_t(COMPRESSION_LZW)}) {
      SCOPED_TRACE(std::string(pixel_type_name(t)) + " compression " + std::to_string(compression));
      const std::string path =
          tmp_path(std::string("tiled_") + pixel_type_name(t) + "_" + std::to_string(compression) + ".tif");
      const Image img = make_image(t, 37, 53, 1);
      write_tiff(path, {img}, TiffLayout{true, 8, 16, compression});
      EXPECT_TRUE(same_image(libpdf::read_tiff(path), img));
      // Compressed strips too.
      write_tiff(path, {img}, TiffLayout{false, 5, 16, compression});
      EXPECT_TRUE(same_image(libpdf::read_tiff(path), img));
    }
  }
}

TEST(Tiff, MultiPageIsAFrameSeries) {
  const std::string path = tmp_path("pages.tif");
  std::vector<Image> pages;
  for (std::size_t i = 0; i < 4; ++i) pages.push_back(make_image(PixelType::i32, 20, 30, i));
  write_tiff(path, pages);

  auto src = libpdf::open_frames(path);
  ASSERT_EQ(src->size(), 4u);
  EXPECT_EQ(src->rows(), 20u);
  EXPECT_EQ(src->cols(), 30u);
  EXPECT_EQ(src->type(), PixelType::i32);
  expect_mentions(src->describe(), {path, "4 pages", "20 x 30 int32"});
  // Out of order on purpose: the reader must seek between directories.
  for (std::size_t i : {3u, 0u, 2u, 1u, 3u}) EXPECT_TRUE(same_image(src->read(i), pages[i])) << "frame " << i;
  EXPECT_TRUE(same_image(libpdf::read_tiff(path, 2), pages[2]));

  const std::string m1 = error_of<libpdf::InvalidArgument>([&] { src->read(4); });
  expect_mentions(m1, {path, "frame 4", "4 page(s)"});
  const std::string m2 = error_of<libpdf::InvalidArgument>([&] { libpdf::read_tiff(path, 4); });
  expect_mentions(m2, {path, "page 4", "4 page(s)"});
  // A TIFF has no datasets.
  EXPECT_THROW(libpdf::open_frames(path, "/entry/data"), libpdf::InvalidArgument);
}

TEST(Tiff, PagesOfDifferentShapeAreRejected) {
  const std::string path = tmp_path("mixed.tif");
  write_tiff(path, {make_image(PixelType::u16, 20, 30, 0), make_image(PixelType::u16, 10, 30, 1)});
  const std::string msg = error_of<libpdf::IoError>([&] { libpdf::open_frames(path); });
  expect_mentions(msg, {path, "page 1", "10 x 30", "20 x 30", "same shape"});
}

TEST(Tiff, UnsupportedLayoutsGiveClearErrors) {
  // Three samples per pixel (RGB).
  const std::string rgb = tmp_path("rgb.tif");
  {
    TIFF* t = TIFFOpen(rgb.c_str(), "w");
    ASSERT_NE(t, nullptr);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, std::uint32_t{4});
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, std::uint32_t{2});
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{3});
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, std::uint16_t{8});
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
    TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, std::uint32_t{2});
    std::vector<unsigned char> px(4 * 2 * 3, 7);
    ASSERT_GE(TIFFWriteEncodedStrip(t, 0, px.data(), static_cast<tmsize_t>(px.size())), 0);
    TIFFClose(t);
  }
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_tiff(rgb); }), {rgb, "3 samples per pixel", "expected 1"});

  // 8-bit samples: fine for a mask, not a frame type.
  const std::string u8 = tmp_path("u8.tif");
  {
    TIFF* t = TIFFOpen(u8.c_str(), "w");
    ASSERT_NE(t, nullptr);
    TIFFSetField(t, TIFFTAG_IMAGEWIDTH, std::uint32_t{3});
    TIFFSetField(t, TIFFTAG_IMAGELENGTH, std::uint32_t{2});
    TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{1});
    TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, std::uint16_t{8});
    TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
    TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, std::uint32_t{2});
    unsigned char px[6] = {0, 1, 0, 255, 0, 2};
    ASSERT_GE(TIFFWriteEncodedStrip(t, 0, px, 6), 0);
    TIFFClose(t);
  }
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_tiff(u8); }),
                  {u8, "8-bit unsigned integer", "uint16, int16, uint32, int32, float32 or float64"});
  const libpdf::MaskImage m = libpdf::read_mask_image(u8);
  EXPECT_EQ(m.rows, 2u);
  EXPECT_EQ(m.cols, 3u);
  EXPECT_EQ(m.values, (std::vector<std::uint8_t>{0, 1, 0, 1, 0, 1}));
}

TEST(Tiff, RealPilatusFrameMatchesFabio) {
  // Reference values from fabio 0.14 (Debian), read independently of libtiff:
  //   d = fabio.open("CeO2_Pilatus1M.tif").data  -> int32, shape (1043, 981)
  //   d.sum(dtype=float64) = 126770499, d.min() = -2, d.max() = 621698,
  //   (d == -1).sum() = 73533 (module gaps), (d == -2).sum() = 27 (excluded pixels),
  //   d[0,0] = 34, d[500,400] = 181, d[1042,980] = 39, d[100,200] = 53
  // Pilatus TIFFs carry private tags libtiff warns about; those warnings must not reach stderr.
  ::testing::internal::CaptureStderr();
  const Image img = libpdf::read_tiff(kCeO2);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err, "");
  ASSERT_EQ(img.type(), PixelType::i32);
  ASSERT_EQ(img.rows(), 1043u);
  ASSERT_EQ(img.cols(), 981u);
  const std::vector<double> v = img.to_double();
  double sum = 0;
  for (double x : v) sum += x;
  EXPECT_EQ(sum, 126770499.0);  // exact: integers far below 2^53
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 621698.0);
  EXPECT_EQ(count_equal(img, -1), 73533u);
  EXPECT_EQ(count_equal(img, -2), 27u);
  EXPECT_EQ(img.at(0, 0), 34);
  EXPECT_EQ(img.at(500, 400), 181);
  EXPECT_EQ(img.at(1042, 980), 39);
  EXPECT_EQ(img.at(100, 200), 53);

  auto src = libpdf::open_frames(kCeO2);
  EXPECT_EQ(src->size(), 1u);
  EXPECT_TRUE(same_image(src->read(0), img));
}

// =====================================================================================================
// HDF5 frames
// =====================================================================================================

TEST(Hdf5Frames, StackOfEveryTypeReadsFrameByFrame) {
  for (PixelType t : kAllTypes) {
    SCOPED_TRACE(pixel_type_name(t));
    const std::string path = tmp_path(std::string("stack_") + pixel_type_name(t) + ".h5");
    std::vector<Image> frames;
    for (std::size_t i = 0; i < 5; ++i) frames.push_back(make_image(t, 20, 30, i));
    {
      auto f = h5::File::create(path);
      h5::DatasetOptions opt;
      opt.gzip_level = 4;
      opt.shuffle = true;
      const auto bytes = stack_bytes(frames);
      f.write_dataset("/entry/data/data", t, {5, 20, 30}, bytes.data(), opt);
    }
    auto src = libpdf::open_frames(path, "/entry/data/data");
    ASSERT_EQ(src->size(), 5u);
    EXPECT_EQ(src->rows(), 20u);
    EXPECT_EQ(src->cols(), 30u);
    EXPECT_EQ(src->type(), t);
    for (std::size_t i : {4u, 0u, 3u}) EXPECT_TRUE(same_image(src->read(i), frames[i])) << "frame " << i;
    expect_mentions(error_of<libpdf::InvalidArgument>([&] { src->read(5); }), {path, "/entry/data/data", "frame 5"});
  }
}

TEST(Hdf5Frames, TwoDimensionalDatasetIsOneFrame) {
  const std::string path = tmp_path("single.h5");
  const Image img = make_image(PixelType::f32, 11, 7, 3);
  h5::File::create(path).write_dataset("/img", img.type(), {11, 7}, img.data());
  auto src = libpdf::open_frames(path, "img");  // relative path works too
  ASSERT_EQ(src->size(), 1u);
  EXPECT_TRUE(same_image(src->read(0), img));
  expect_mentions(src->describe(), {path, "/img", "1 frame", "11 x 7 float32"});
}

TEST(Hdf5Frames, BigEndianDataIsConvertedToNative) {
  const std::string path = tmp_path("bigendian.h5");
  const Image img = make_image(PixelType::i32, 6, 9, 0);
  {
    auto f = h5::File::create(path);
    auto ds = f.create_dataset("/be", H5T_STD_I32BE, {1, 6, 9});
    ds.write(H5T_NATIVE_INT32, img.data());
  }
  auto src = libpdf::open_frames(path, "/be");
  EXPECT_EQ(src->type(), PixelType::i32);
  EXPECT_TRUE(same_image(src->read(0), img));
}

namespace {
// A file with decoys in sorted-first places, so that each discovery rule must win over the next one.
void write_discovery_file(const std::string& path, bool nexus_default, bool detector) {
  auto f = h5::File::create(path);
  const Image decoy = make_image(PixelType::u16, 4, 5, 9);
  f.write_dataset("/aaa/first", decoy.type(), {4, 5}, decoy.data());  // depth-first first 2-D dataset
  if (detector) {
    const Image det = make_image(PixelType::i16, 4, 5, 1);
    f.create_group("/entry/instrument/detector", "NXdetector");
    f.write_dataset("/entry/instrument/detector/data", det.type(), {1, 4, 5}, det.data());
  }
  if (nexus_default) {
    const Image sig = make_image(PixelType::f64, 4, 5, 2);
    auto entry = f.create_group("/entry", "NXentry");
    entry.write_attribute("default", "plot");
    f.write_attribute("default", "entry");
    auto plot = f.create_group("/entry/plot", "NXdata");
    plot.write_attribute("signal", "frames");
    f.write_dataset("/entry/plot/frames", sig.type(), {1, 4, 5}, sig.data());
    f.write_dataset("/entry/plot/axis", std::vector<double>{1, 2, 3, 4, 5});
  }
}
}  // namespace

TEST(Hdf5Frames, DiscoveryFollowsNexusDefaultAndSignal) {
  const std::string path = tmp_path("nexus_default.h5");
  write_discovery_file(path, true, true);
  auto src = libpdf::open_frames(path);
  EXPECT_EQ(src->type(), PixelType::f64);
  EXPECT_TRUE(same_image(src->read(0), make_image(PixelType::f64, 4, 5, 2)));
  expect_mentions(src->describe(), {"/entry/plot/frames"});
}

TEST(Hdf5Frames, DiscoveryAcceptsOldStyleSignalAttribute) {
  const std::string path = tmp_path("nexus_old_signal.h5");
  {
    auto f = h5::File::create(path);
    const Image decoy = make_image(PixelType::u16, 4, 5, 9);
    f.write_dataset("/aaa/first", decoy.type(), {4, 5}, decoy.data());
    f.write_attribute("default", "entry");
    f.create_group("/entry", "NXentry").write_attribute("default", "data");
    f.create_group("/entry/data", "NXdata");
    const Image sig = make_image(PixelType::u32, 4, 5, 5);
    f.write_dataset("/entry/data/a_decoy", decoy.type(), {4, 5}, decoy.data());
    f.write_dataset("/entry/data/counts", sig.type(), {4, 5}, sig.data()).write_attribute("signal", 1.0);
  }
  auto src = libpdf::open_frames(path);
  EXPECT_TRUE(same_image(src->read(0), make_image(PixelType::u32, 4, 5, 5)));
}

TEST(Hdf5Frames, DiscoveryFindsNxDetectorData) {
  const std::string path = tmp_path("nxdetector.h5");
  write_discovery_file(path, false, true);
  auto src = libpdf::open_frames(path);
  EXPECT_EQ(src->type(), PixelType::i16);
  expect_mentions(src->describe(), {"/entry/instrument/detector/data"});
}

TEST(Hdf5Frames, DiscoveryFallsBackToFirstFramesDataset) {
  const std::string path = tmp_path("first2d.h5");
  {
    auto f = h5::File::create(path);
    f.write_dataset("/a/one_d", std::vector<double>{1, 2, 3});
    // Sorted before /c: an int8 image is not a frame type and must be skipped by the search.
    f.create_dataset("/b/int8_image", H5T_STD_I8LE, {4, 5});
    const Image img = make_image(PixelType::u16, 4, 5, 0);
    f.write_dataset("/c/frames", img.type(), {4, 5}, img.data());
    const Image later = make_image(PixelType::u16, 4, 5, 1);
    f.write_dataset("/d/later", later.type(), {4, 5}, later.data());
  }
  auto src = libpdf::open_frames(path);
  expect_mentions(src->describe(), {"/c/frames"});
}

TEST(Hdf5Frames, ExternalLinksLikeEigerMasterFiles) {
  // An Eiger master file links /entry/data/data_000001 to <prefix>_data_000001.h5 (a relative name,
  // resolved beside the master). A dangling link (data file not copied) must not break the search.
  const std::string data = tmp_path("scan_data_000001.h5");
  const std::string master = tmp_path("scan_master.h5");
  const Image img = make_image(PixelType::u32, 6, 8, 4);
  h5::File::create(data).write_dataset("/entry/data/data", img.type(), {1, 6, 8}, img.data());
  {
    auto f = h5::File::create(master);
    auto g = f.create_group("/entry/data", "NXdata");
    ASSERT_GE(H5Lcreate_external("scan_data_000000.h5", "/entry/data/data", g.id(), "data_000000", H5P_DEFAULT,
                                 H5P_DEFAULT),
              0);
    ASSERT_GE(H5Lcreate_external("scan_data_000001.h5", "/entry/data/data", g.id(), "data_000001", H5P_DEFAULT,
                                 H5P_DEFAULT),
              0);
  }
  auto src = libpdf::open_frames(master);
  expect_mentions(src->describe(), {"/entry/data/data_000001"});
  EXPECT_TRUE(same_image(src->read(0), img));
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(master, "/entry/data/data_000000"); }),
                  {master, "/entry/data/data_000000", "does not exist"});
}

TEST(Hdf5Frames, DiscoveryWithoutCandidatesNamesTheFile) {
  const std::string path = tmp_path("nothing.h5");
  h5::File::create(path).write_dataset("/x", std::vector<double>{1, 2, 3});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path); }),
                  {path, "no frames dataset found", "pass the dataset path explicitly"});
}

// Link cycles (found by fuzz_hdf5: fuzz/regressions/fuzz_hdf5/*_cycle_timeout): groups holding a hard link back
// to the root and a soft link to their own path. Discovery walked every path through them up to its depth
// limit, a number of paths exponential in that limit (a hang here: 5 groups, each linking back, give 5^16);
// it must visit each group once and find the frames sorted after all the cycles.
TEST(Hdf5Frames, DiscoveryVisitsEachGroupOnceThroughLinkCycles) {
  const std::string path = tmp_path("cycles.h5");
  {
    auto f = h5::File::create(path);
    for (const char* name : {"a", "b", "c", "d", "e"}) {
      auto g = f.create_group(std::string("/") + name);
      g.create_hard_link("up", "/");
      g.create_soft_link("self", std::string("/") + name);
      g.create_group("inner").create_hard_link("back", std::string("/") + name);
    }
    const Image img = make_image(PixelType::u16, 4, 5, 3);
    f.write_dataset("/z/frames", img.type(), {1, 4, 5}, img.data());
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto src = libpdf::open_frames(path);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 5.0) << "discovery walked the link cycles";
  expect_mentions(src->describe(), {"/z/frames"});
  EXPECT_TRUE(same_image(src->read(0), make_image(PixelType::u16, 4, 5, 3)));
  // Without any frames dataset, the same tree ends in the usual error, as quickly.
  const std::string empty = tmp_path("cycles_empty.h5");
  {
    auto f = h5::File::create(empty);
    auto g = f.create_group("/a");
    g.create_hard_link("up", "/");
    g.create_soft_link("self", "/a");
  }
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(empty); }), {empty, "no frames dataset found"});
}

// =====================================================================================================
// Errors
// =====================================================================================================

TEST(IoErrors, MissingFile) {
  const std::string path = tmp_path("does_not_exist.h5");
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path); }), {path, "does not exist"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_tiff(path); }), {path, "does not exist"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_mask(path); }), {path, "does not exist"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_lambda_series(tmp_path("x_m1_part00000.nxs")); }),
                  {"x_m1_part00000.nxs", "does not exist"});
  EXPECT_FALSE(libpdf::is_hdf5_file(path));
}

TEST(IoErrors, NeitherTiffNorHdf5) {
  const std::string path = tmp_path("notes.h5");
  write_text(path, "just some text, not a detector frame\n");
  EXPECT_FALSE(libpdf::is_hdf5_file(path));
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path); }),
                  {path, "neither a TIFF nor an HDF5", "6a 75 73 74"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_tiff(path); }), {path, "cannot open as TIFF"});
  expect_mentions(error_of<libpdf::IoError>([&] { h5::File::open(path); }), {path, "not an HDF5 file"});
  const std::string empty = tmp_path("empty.tif");
  write_text(empty, "");
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(empty); }), {empty, "empty"});
}

TEST(IoErrors, MissingDatasetAndWrongKindOfObject) {
  const std::string path = tmp_path("objects.h5");
  {
    auto f = h5::File::create(path);
    f.create_group("/entry/group", "NXentry");
    f.write_dataset("/entry/one_d", std::vector<double>{1, 2, 3, 4, 5, 6, 7});
    f.write_dataset("/entry/four_d", std::vector<double>(16, 1.0), {2, 2, 2, 2});
  }
  // HDF5's own error printing must stay silent: the stack belongs in the exception.
  ::testing::internal::CaptureStderr();
  const std::string missing = error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/entry/nope/data"); });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  expect_mentions(missing, {path, "/entry/nope/data", "does not exist"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/entry/group"); }),
                  {path, "/entry/group", "is a group", "expected a dataset"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/entry/one_d"); }),
                  {path, "/entry/one_d", "shape (7,)", "expected a 2-D frame"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/entry/four_d"); }),
                  {path, "/entry/four_d", "(2, 2, 2, 2)"});
}

TEST(IoErrors, UnsupportedDatasetTypes) {
  const std::string path = tmp_path("types.h5");
  {
    // Written with the bare C API: int8 and int64 stacks.
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hsize_t dims[3] = {2, 3, 4};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t d8 = H5Dcreate2(f, "int8_stack", H5T_STD_I8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t d64 = H5Dcreate2(f, "int64_stack", H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(d8, 0);
    ASSERT_GE(d64, 0);
    H5Dclose(d8);
    H5Dclose(d64);
    H5Sclose(space);
    H5Fclose(f);
  }
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/int8_stack"); }),
                  {path, "/int8_stack", "int8", "expected frames of uint16, int16, uint32, int32, float32 or float64"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/int64_stack"); }),
                  {path, "/int64_stack", "int64"});
}

TEST(IoErrors, TruncatedHdf5FileCarriesTheHdf5Stack) {
  const std::string src = lambda_file(1, 0);
  const std::string path = tmp_path("truncated_m1.nxs");
  {
    std::ifstream in(src, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ASSERT_GT(bytes.size(), 1000u);
    write_text(path, bytes.substr(0, bytes.size() / 2));
  }
  EXPECT_TRUE(libpdf::is_hdf5_file(path));  // the signature survives; the rest does not
  ::testing::internal::CaptureStderr();
  const std::string msg = error_of<libpdf::IoError>([&] { libpdf::open_frames(path); });
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  expect_mentions(msg, {path, "HDF5 error stack", "H5Fopen", "truncated"});
}

// =====================================================================================================
// Private HDF5 layer: attributes, scalars, strings, filters
// =====================================================================================================

TEST(Hdf5Layer, AttributesAndScalarsRoundTrip) {
  const std::string path = tmp_path("attrs.h5");
  {
    auto f = h5::File::create(path);
    auto g = f.create_group("/entry/instrument/detector", "NXdetector");
    g.write_dataset("x_pixel_size", std::vector<double>{172.0}).write_attribute("units", "um");
    g.write_dataset("distance", std::vector<double>{0.25}, {}).write_attribute("units", "m");
    g.write_string_dataset("description", "Pilatus 1M");
    g.write_attribute("angles", std::vector<double>{0.5, 1.5});
    g.write_attribute("angles", std::vector<double>{1.0, 2.0, 3.0});  // replaces
    // A fixed-length, space-padded string attribute (as some Fortran NeXus writers store them).
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 8);
    H5Tset_strpad(t, H5T_STR_SPACEPAD);
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t a = H5Acreate2(g.id(), "energy_units", t, s, H5P_DEFAULT, H5P_DEFAULT);
    const char buf[8] = {'k', 'e', 'V', ' ', ' ', ' ', ' ', ' '};
    H5Awrite(a, t, buf);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
  }
  const auto f = h5::File::open(path);
  EXPECT_TRUE(f.exists("/entry/instrument/detector/x_pixel_size"));
  EXPECT_TRUE(f.exists("entry/instrument"));
  EXPECT_FALSE(f.exists("/entry/nothing/x_pixel_size"));  // a missing intermediate group is not an error
  EXPECT_EQ(f.object_type("/entry/instrument"), h5::ObjectType::group);
  EXPECT_EQ(f.object_type("/entry/instrument/detector/distance"), h5::ObjectType::dataset);
  EXPECT_EQ(f.object_type("/nope"), h5::ObjectType::none);
  const auto g = f.open_group("/entry/instrument/detector");
  EXPECT_EQ(g.string_attribute("NX_class"), "NXdetector");
  EXPECT_EQ(g.string_attribute("energy_units"), "keV");
  EXPECT_EQ(g.numeric_attribute("angles"), (std::vector<double>{1.0, 2.0, 3.0}));
  EXPECT_EQ(g.member_names(), (std::vector<std::string>{"description", "distance", "x_pixel_size"}));
  const auto px = g.open_dataset("x_pixel_size");
  EXPECT_EQ(px.read_doubles(), std::vector<double>{172.0});
  EXPECT_EQ(px.string_attribute("units"), "um");
  EXPECT_EQ(g.open_dataset("distance").read_doubles(), std::vector<double>{0.25});
  EXPECT_EQ(g.open_dataset("description").read_string(), "Pilatus 1M");
  EXPECT_FALSE(px.string_attribute_or_none("missing").has_value());
  expect_mentions(error_of<libpdf::IoError>([&] { (void)px.string_attribute("missing"); }),
                  {path, "/entry/instrument/detector/x_pixel_size", "attribute 'missing'", "does not exist"});
  expect_mentions(error_of<libpdf::IoError>([&] { (void)g.string_attribute("angles"); }),
                  {"attribute 'angles'", "float64", "expected a string"});
  expect_mentions(error_of<libpdf::IoError>([&] { (void)g.numeric_attribute("NX_class"); }),
                  {"attribute 'NX_class'", "string", "expected numbers"});
}

TEST(Hdf5Layer, ReadsTheRealLambdaMetadata) {
  // h5py: f["/entry/instrument/detector/x_pixel_size"][()] = [55.], its @units = "micrometer" (a
  // variable-length string), collection/beam_energy = [12000.] eV, description = [b"Lambda"] (vlen).
  const auto f = h5::File::open(lambda_file(1, 0));
  const auto px = f.open_dataset("/entry/instrument/detector/x_pixel_size");
  EXPECT_EQ(px.read_doubles(), std::vector<double>{55.0});
  EXPECT_EQ(px.string_attribute("units"), "micrometer");
  const auto e = f.open_dataset("/entry/instrument/detector/collection/beam_energy");
  EXPECT_EQ(e.read_doubles(), std::vector<double>{12000.0});
  EXPECT_EQ(e.string_attribute("units"), "eV");
  EXPECT_EQ(f.open_dataset("/entry/instrument/detector/description").read_string(), "Lambda");
  const auto t = f.open_dataset("/entry/instrument/detector/translation/distance");
  EXPECT_EQ(t.read_doubles(), (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(t.string_attribute("units"), "pixel");
  const auto data = f.open_dataset("/entry/instrument/detector/data");
  EXPECT_EQ(data.shape(), (std::vector<std::size_t>{10, 516, 1554}));
  EXPECT_EQ(data.pixel_type(), PixelType::i16);
  EXPECT_TRUE(data.has_filter(H5Z_FILTER_DEFLATE));
  // h5py: d["data"][0].sum() = 6307581, d["data"][3].max() = 4095
  const Image img = data.read_frame(0);
  double sum = 0;
  for (double v : img.to_double()) sum += v;
  EXPECT_EQ(sum, 6307581.0);
}

TEST(Hdf5Layer, WriteSlabsAndGrowableDatasets) {
  const std::string path = tmp_path("grow.h5");
  {
    auto f = h5::File::create(path);
    h5::DatasetOptions opt;
    opt.max_shape = {h5::kUnlimited, 3, 4};
    opt.gzip_level = 1;
    auto ds = f.create_dataset("/stack", H5T_IEEE_F32LE, {0, 3, 4}, opt);
    for (std::size_t i = 0; i < 3; ++i) {
      ds.resize({i + 1, 3, 4});
      ds.write_frame(i, make_image(PixelType::f32, 3, 4, i).view());
    }
    EXPECT_THROW(ds.write_frame(0, make_image(PixelType::f32, 2, 4, 0).view()), libpdf::InvalidArgument);
    f.flush();
  }
  auto src = libpdf::open_frames(path, "/stack");
  ASSERT_EQ(src->size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(same_image(src->read(i), make_image(PixelType::f32, 3, 4, i)));
}

TEST(Hdf5Layer, BitshuffleFilterMissingSaysWhatToInstall) {
  if (H5Zfilter_avail(h5::kBitshuffleFilter) <= 0) {
    GTEST_SKIP() << "the bitshuffle HDF5 plugin (Debian package bitshuffle) is not installed";
  }
  const std::string path = tmp_path("bitshuffle.h5");
  const Image img = make_image(PixelType::u32, 16, 24, 0);
  {
    // Written as an Eiger does: bitshuffle + LZ4 (cd_values[4] = 2), one chunk per frame.
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hsize_t dims[3] = {1, 16, 24};
    const hid_t space = H5Screate_simple(3, dims, nullptr);
    const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, dims);
    const unsigned cd[5] = {0, 0, 0, 0, 2};
    ASSERT_GE(H5Pset_filter(dcpl, h5::kBitshuffleFilter, H5Z_FLAG_MANDATORY, 5, cd), 0);
    const hid_t d = H5Dcreate2(f, "data", H5T_STD_U32LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    ASSERT_GE(d, 0);
    ASSERT_GE(H5Dwrite(d, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, img.data()), 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(space);
    H5Fclose(f);
  }
  {
    auto src = libpdf::open_frames(path, "/data");
    EXPECT_TRUE(same_image(src->read(0), img));
  }
  // Simulate a system without the plugin: forget the loaded filter and forbid plugin loading.
  unsigned state = 0;
  ASSERT_GE(H5PLget_loading_state(&state), 0);
  ASSERT_GE(H5Zunregister(h5::kBitshuffleFilter), 0);
  ASSERT_GE(H5PLset_loading_state(0), 0);
  const std::string msg = error_of<libpdf::IoError>([&] { libpdf::open_frames(path, "/data"); });
  H5PLset_loading_state(state);
  expect_mentions(msg, {path, "/data", "bitshuffle", "32008", "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins"});
  // With loading allowed again the plugin comes back.
  EXPECT_TRUE(same_image(libpdf::open_frames(path, "/data")->read(0), img));
}

// =====================================================================================================
// DESY Lambda series
// =====================================================================================================

TEST(Lambda, RealSeriesIsAssembledFromModulesAndParts) {
  // Any module/part file opens the whole series.
  auto src = libpdf::open_frames(lambda_file(2, 3));
  ASSERT_EQ(src->size(), 50u);
  ASSERT_EQ(src->rows(), 1833u);
  ASSERT_EQ(src->cols(), 1556u);
  EXPECT_EQ(src->type(), PixelType::i16);
  expect_mentions(src->describe(), {"Lambda", "testasapo1_1009_00002", "3 modules", "50 frames", "1833 x 1556"});

  // Placement from translation/distance: m1 (0, 0), m2 (-2, 660), m3 (-2, 1317) (x, y) -> shifted so
  // the smallest is 0: m1 at (row 0, col 2), m2 at (660, 0), m3 at (1317, 0). Frame 10 is frame 0 of
  // part00001 in every module; compare every module pixel against the bare HDF5 C API.
  const Image img = src->read(10);
  ASSERT_EQ(img.type(), PixelType::i16);
  const auto* px = img.as<std::int16_t>();
  const std::size_t offsets[3][2] = {{0, 2}, {660, 0}, {1317, 0}};
  std::vector<std::uint8_t> covered(img.size(), 0);
  for (int m = 1; m <= 3; ++m) {
    const auto mod = read_int16_frame_c_api(lambda_file(m, 1), "/entry/instrument/detector/data", 0, 516, 1554);
    const std::size_t r0 = offsets[m - 1][0], c0 = offsets[m - 1][1];
    std::size_t mismatches = 0;
    for (std::size_t r = 0; r < 516; ++r) {
      for (std::size_t c = 0; c < 1554; ++c) {
        mismatches += px[(r0 + r) * 1556 + c0 + c] != mod[r * 1554 + c];
        covered[(r0 + r) * 1556 + c0 + c] = 1;
      }
    }
    EXPECT_EQ(mismatches, 0u) << "module m" << m;
  }
  // Every pixel no module covers is a gap holding -1: rows 516..659 and 1176..1316, and columns 0..1
  // beside m1. 1833*1556 - 3*516*1554 = 446556 gap pixels.
  std::size_t gaps = 0, bad = 0;
  for (std::size_t i = 0; i < img.size(); ++i) {
    if (!covered[i]) {
      ++gaps;
      bad += px[i] != -1;
    }
  }
  EXPECT_EQ(gaps, 446556u);
  EXPECT_EQ(bad, 0u);
  for (std::size_t c = 0; c < 1556; ++c) EXPECT_EQ(px[600 * 1556 + c], -1);
  EXPECT_EQ(px[100 * 1556 + 0], -1);
  EXPECT_EQ(px[100 * 1556 + 1], -1);

  // Statistics of the assembled frames computed with h5py/numpy (canvas = full((1833,1556), -1);
  // canvas[0:516, 2:1556] = m1; canvas[660:1176, 0:1554] = m2; canvas[1317:1833, 0:1554] = m3):
  //   frame 0: sum 7217803, (canvas == -1).sum() 462036; frame 10: 1569156, 462036;
  //   frame 49: 7097988, 462036; max 4095 in all three.
  const std::pair<std::size_t, double> sums[] = {{0, 7217803.0}, {10, 1569156.0}, {49, 7097988.0}};
  for (const auto& [k, expected] : sums) {
    const Image f = k == 10 ? img : src->read(k);
    const auto* p = f.as<std::int16_t>();
    double sum = 0;
    std::size_t invalid = 0;
    for (std::size_t i = 0; i < f.size(); ++i) {
      sum += p[i];
      invalid += p[i] == -1;
    }
    EXPECT_EQ(sum, expected) << "frame " << k;
    EXPECT_EQ(invalid, 462036u) << "frame " << k;
  }
  expect_mentions(error_of<libpdf::InvalidArgument>([&] { src->read(50); }), {"frame 50", "50 frames"});
}

TEST(Lambda, EveryFrameReadsInOrderAndFromThreads) {
  auto src = libpdf::open_lambda_series(lambda_file(1, 0));
  ASSERT_EQ(src->size(), 50u);
  // Sum of an int16 frame, straight from its pixels (cheap enough for 50 frames under sanitizers).
  const auto frame_sum = [](const Image& f) {
    std::int64_t s = 0;
    const auto* p = f.as<std::int16_t>();
    for (std::size_t i = 0; i < f.size(); ++i) s += p[i];
    return s;
  };
  std::vector<std::int64_t> sums(50);
  for (std::size_t k = 0; k < 50; ++k) {
    const Image f = src->read(k);
    // Row 600 lies in the gap between m1 and m2 in every frame.
    EXPECT_EQ(f.at(600, 777), -1.0) << "frame " << k;
    sums[k] = frame_sum(f);
  }
  EXPECT_EQ(sums[0], 7217803);  // h5py, see RealSeriesIsAssembledFromModulesAndParts
  EXPECT_EQ(sums[10], 1569156);
  EXPECT_EQ(sums[49], 7097988);
  // Concurrent reads of one source give the same frames (reads are serialised internally).
  std::vector<std::int64_t> threaded(50, 0);
  std::vector<std::thread> pool;
  for (std::size_t t = 0; t < 4; ++t) {
    pool.emplace_back([&, t] {
      for (std::size_t k = t; k < 50; k += 13) threaded[k] = frame_sum(src->read(k));
    });
  }
  for (auto& th : pool) th.join();
  for (std::size_t k = 0; k < 50; ++k) {
    if (k % 13 < 4) {
      EXPECT_EQ(threaded[k], sums[k]) << "frame " << k;
    }
  }
}

TEST(Lambda, ExplicitDatasetReadsOneModuleFile) {
  auto src = libpdf::open_frames(lambda_file(3, 4), "/entry/instrument/detector/data");
  EXPECT_EQ(src->size(), 10u);
  EXPECT_EQ(src->rows(), 516u);
  EXPECT_EQ(src->cols(), 1554u);
}

namespace {
// A folder of symbolic links to chosen module/part files of the real series.
std::string link_series(const std::string& folder, std::initializer_list<std::pair<int, int>> files) {
  const fs::path dir = fs::path(tmp_path(folder));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [m, p] : files) {
    const fs::path target(lambda_file(m, p));
    fs::create_symlink(target, dir / target.filename());
  }
  return dir.string();
}
}  // namespace

TEST(Lambda, ModulesWithDifferentFrameCountsAreRejected) {
  const std::string dir = link_series("uneven", {{1, 0}, {1, 1}, {2, 0}});
  const std::string msg = error_of<libpdf::IoError>(
      [&] { libpdf::open_frames(dir + "/testasapo1_1009_00002_m1_part00000.nxs"); });
  expect_mentions(msg, {"testasapo1_1009_00002", "m1: 20", "m2: 10", "same number"});
}

TEST(Lambda, MissingPartIsRejected) {
  const std::string dir = link_series("missing_part", {{1, 0}, {1, 2}});
  const std::string msg =
      error_of<libpdf::IoError>([&] { libpdf::open_lambda_series(dir + "/testasapo1_1009_00002_m1_part00002.nxs"); });
  expect_mentions(msg, {"module m1", "lacks part 1"});
}

TEST(Lambda, SingleModuleSeriesWorks) {
  const std::string dir = link_series("single_module", {{3, 0}, {3, 1}});
  auto src = libpdf::open_lambda_series(dir + "/testasapo1_1009_00002_m3_part00001.nxs");
  EXPECT_EQ(src->size(), 20u);
  EXPECT_EQ(src->rows(), 516u);
  EXPECT_EQ(src->cols(), 1554u);
  const auto direct = read_int16_frame_c_api(lambda_file(3, 1), "/entry/instrument/detector/data", 5, 516, 1554);
  const Image f = src->read(15);
  EXPECT_EQ(std::memcmp(f.data(), direct.data(), direct.size() * sizeof(std::int16_t)), 0);
}

// =====================================================================================================
// Module assembly
// =====================================================================================================

TEST(Modules, AssemblesAndMasksGaps) {
  const std::vector<std::int32_t> a = {1, 2, 3, 4, 5, 6};  // 2 x 3
  const std::vector<std::int32_t> b = {7, 8};              // 1 x 2
  const std::vector<libpdf::ImageView> views = {{a.data(), 2, 3}, {b.data(), 1, 2}};
  const std::vector<libpdf::ModulePlacement> where = {{0, 1, 2, 3}, {3, 0, 1, 2}};
  const Image img = libpdf::assemble_modules(views, where, -7);
  ASSERT_EQ(img.rows(), 4u);
  ASSERT_EQ(img.cols(), 4u);
  const std::vector<double> expected = {-7, 1, 2, 3,   //
                                        -7, 4, 5, 6,   //
                                        -7, -7, -7, -7,  //
                                        7, 8, -7, -7};
  EXPECT_EQ(img.to_double(), expected);
  const auto mask = libpdf::module_gap_mask(where, 4, 4);
  const std::vector<std::uint8_t> expected_mask = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1};
  EXPECT_EQ(mask, expected_mask);
}

TEST(Modules, RejectsInconsistentInput) {
  const std::vector<std::uint16_t> a(6, 1);
  const std::vector<float> f(6, 1.0f);
  const libpdf::ImageView va(a.data(), 2, 3);
  const libpdf::ModulePlacement p0{0, 0, 2, 3};
  using libpdf::InvalidArgument;
  expect_mentions(error_of<InvalidArgument>([&] { libpdf::assemble_modules({va, va}, {p0, {1, 2, 2, 3}}, 0); }),
                  {"module 0", "overlaps module 1"});
  expect_mentions(error_of<InvalidArgument>([&] { libpdf::assemble_modules({va}, {{0, 0, 3, 2}}, 0); }),
                  {"module 0 is 2 x 3", "3 x 2"});
  expect_mentions(error_of<InvalidArgument>(
                      [&] { libpdf::assemble_modules({va, libpdf::ImageView(f.data(), 2, 3)}, {p0, {2, 0, 2, 3}}, 0); }),
                  {"module 1 holds float32", "uint16"});
  expect_mentions(error_of<InvalidArgument>([&] { libpdf::assemble_modules({va}, {p0, p0}, 0); }),
                  {"1 modules but 2 placements"});
  expect_mentions(error_of<InvalidArgument>([&] { libpdf::assemble_modules({va}, {p0}, -1); }),
                  {"gap_value -1", "uint16"});
  EXPECT_THROW(libpdf::assemble_modules({}, {}, 0), InvalidArgument);
  expect_mentions(error_of<InvalidArgument>([&] { libpdf::module_gap_mask({{1, 1, 2, 3}}, 2, 3); }),
                  {"module 0", "does not fit in the 2 x 3"});
}

// =====================================================================================================
// Masks
// =====================================================================================================

TEST(Masks, RealDioptasMaskMatchesFabio) {
  // fabio 0.14: m = fabio.open(mask).data -> int32 (1833, 1556), (m != 0).sum() = 25988, values {0, 1}.
  const libpdf::MaskImage m = libpdf::read_mask_image(kLambdaMask);
  EXPECT_EQ(m.rows, 1833u);
  EXPECT_EQ(m.cols, 1556u);
  ASSERT_EQ(m.values.size(), 1833u * 1556u);
  EXPECT_EQ(count_set(m.values), 25988u);
  EXPECT_EQ(libpdf::read_mask(kLambdaMask), m.values);
}

TEST(Masks, NexusPixelMaskIsABitField) {
  // h5py: pm = f["/entry/instrument/detector/pixel_mask"][()] -> uint32 (1, 516, 1554);
  // ((pm & 0xFFFF) != 0).sum() = 17071 while (pm != 0).sum() = 37045 (bit 31 alone is not "bad").
  const libpdf::MaskImage m = libpdf::read_mask_image(lambda_file(1, 0), "/entry/instrument/detector/pixel_mask");
  EXPECT_EQ(m.rows, 516u);
  EXPECT_EQ(m.cols, 1554u);
  EXPECT_EQ(count_set(m.values), 17071u);
  // Without a dataset the NXdetector's pixel_mask is found.
  EXPECT_EQ(libpdf::read_mask(lambda_file(1, 0)), m.values);
}

TEST(Masks, Hdf5MasksOfOtherTypesAndShapes) {
  const std::string path = tmp_path("masks.h5");
  const std::vector<std::uint32_t> bits = {0, 0x10000u, 1, 0x80000000u, 0x8000u, 0};
  {
    auto f = h5::File::create(path);
    f.write_dataset("/bits/pixel_mask", PixelType::u32, {2, 3}, bits.data());
    f.write_dataset("/bits/mask", PixelType::u32, {1, 2, 3}, bits.data());
    f.write_dataset("/bits/two_frames", PixelType::u32, {2, 1, 3}, bits.data());
    const std::vector<float> fl = {0.0f, 0.5f, std::nanf(""), 0.0f, -1.0f, 0.0f};
    f.write_dataset("/float_mask", PixelType::f32, {2, 3}, fl.data());
    // numpy bool as h5py stores it: an enum over int8 {FALSE = 0, TRUE = 1}.
    const hid_t e = H5Tenum_create(H5T_NATIVE_INT8);
    std::int8_t v0 = 0, v1 = 1;
    H5Tenum_insert(e, "FALSE", &v0);
    H5Tenum_insert(e, "TRUE", &v1);
    auto ds = f.create_dataset("/bool_mask", e, {2, 3});
    const std::int8_t bools[6] = {1, 0, 0, 1, 1, 0};
    ds.write(e, bools);
    H5Tclose(e);
  }
  // pixel_mask: only the low 16 bits flag a bad pixel.
  EXPECT_EQ(libpdf::read_mask(path, "/bits/pixel_mask"), (std::vector<std::uint8_t>{0, 0, 1, 0, 1, 0}));
  // Any other name: non-zero is masked (3-D with a first dimension of 1 is accepted).
  const auto m = libpdf::read_mask_image(path, "/bits/mask");
  EXPECT_EQ(m.rows, 2u);
  EXPECT_EQ(m.cols, 3u);
  EXPECT_EQ(m.values, (std::vector<std::uint8_t>{0, 1, 1, 1, 1, 0}));
  EXPECT_EQ(libpdf::read_mask(path, "/float_mask"), (std::vector<std::uint8_t>{0, 1, 1, 0, 1, 0}));
  EXPECT_EQ(libpdf::read_mask(path, "/bool_mask"), (std::vector<std::uint8_t>{1, 0, 0, 1, 1, 0}));
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_mask(path, "/bits/two_frames"); }),
                  {path, "/bits/two_frames", "(2, 1, 3)", "first dimension of 1"});
  expect_mentions(error_of<libpdf::IoError>([&] { libpdf::read_mask(path, "/nope"); }), {path, "/nope", "does not exist"});
}

TEST(Masks, TiffMaskOfFloatType) {
  const std::string path = tmp_path("float_mask.tif");
  Image img(PixelType::f64, 2, 2);
  const double v[4] = {0.0, 2.5, -0.0, 1e-300};
  std::memcpy(img.data(), v, sizeof v);
  write_tiff(path, {img});
  EXPECT_EQ(libpdf::read_mask(path), (std::vector<std::uint8_t>{0, 1, 0, 1}));
  expect_mentions(error_of<libpdf::InvalidArgument>([&] { libpdf::read_mask(path, "/mask"); }), {path, "TIFF"});
}
