// Tests of the series readers: Dectris Eiger master + data files (bitshuffle/LZ4 written by the test through
// the HDF5 filter plugin), metadata with units, TIFF series patterns and darks, frame ranges, growing files,
// the real DESY Lambda series, storage inspection, and the bad-input errors. Expected values are the
// arrays the tests wrote, or (Lambda) values measured with h5py and quoted beside them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/file.h>
#include <tiffio.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/chunk_codec.hpp"
#include "libpdf/io/hdf5.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
namespace h5 = libpdf::detail::h5;
using libpdf::Image;
using libpdf::PixelType;
using libpdf::test::error_of;

namespace {

const std::string kData = LIBPDF_DATA_DIR;
const std::string kLambda = kData + "/desy_lambda_series/testasapo1_1009_00002_m2_part00003.nxs";

std::string tmp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(LIBPDF_TEST_TMP) / "series" / (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

void expect_mentions(const std::string& msg, std::initializer_list<std::string> pieces) {
  for (const std::string& p : pieces) EXPECT_NE(msg.find(p), std::string::npos) << "lacks \"" << p << "\":\n" << msg;
}

template <class T>
Image pattern_image(std::size_t rows, std::size_t cols, std::size_t frame) {
  Image img(libpdf::pixel_type_of<T>::value, rows, cols);
  T* p = img.as<T>();
  for (std::size_t i = 0; i < img.size(); ++i) p[i] = static_cast<T>((i * 7919u + frame * 104729u) % 60000u);
  return img;
}

bool same(const Image& a, const Image& b) {
  return a.type() == b.type() && a.rows() == b.rows() && a.cols() == b.cols() &&
         std::memcmp(a.data(), b.data(), a.size() * libpdf::pixel_size(a.type())) == 0;
}

// Writes a data file <prefix>_data_00000k.h5 as an Eiger does: /entry/data/data (n, rows, cols) uint32 (or
// uint16, the counters' 16-bit mode), bitshuffle + LZ4 (cd_values {0, 2}), one chunk per frame.
template <class T = std::uint32_t>
void write_eiger_data(const std::string& path, const std::vector<Image>& frames) {
  const std::size_t rows = frames.front().rows(), cols = frames.front().cols();
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  const hsize_t dims[3] = {frames.size(), rows, cols};
  const hsize_t chunk[3] = {1, rows, cols};
  const hid_t space = H5Screate_simple(3, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 3, chunk);
  const unsigned cd[2] = {0, 2};
  ASSERT_GE(H5Pset_filter(dcpl, 32008, H5Z_FLAG_MANDATORY, 2, cd), 0);
  constexpr bool u16 = sizeof(T) == 2;
  const hid_t d = H5Dcreate2(f, "/entry/data/data", u16 ? H5T_STD_U16LE : H5T_STD_U32LE, space, lcpl, dcpl, H5P_DEFAULT);
  ASSERT_GE(d, 0);
  std::vector<T> all;
  for (const Image& im : frames) all.insert(all.end(), im.as<T>(), im.as<T>() + im.size());
  ASSERT_GE(H5Dwrite(d, u16 ? H5T_NATIVE_UINT16 : H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()), 0);
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Pclose(lcpl);
  H5Sclose(space);
  H5Fclose(f);
}

struct EigerFixture {
  std::string master;
  std::vector<Image> frames;  // all frames, as stored
  std::vector<std::uint32_t> pixel_mask;
};

// A master with two data files (3 + 2 frames of 20 x 30), a pixel_mask, bit depth 16 and metadata in the
// units a Dectris file writer uses.
EigerFixture make_eiger(const std::string& dir, bool second_file = true) {
  EigerFixture fx;
  fx.master = dir + "/scan_master.h5";
  const std::size_t rows = 20, cols = 30;
  for (std::size_t k = 0; k < 5; ++k) {
    Image im = pattern_image<std::uint32_t>(rows, cols, k);
    im.as<std::uint32_t>()[5 + k] = 65535;  // the 16-bit counter's invalid marker
    fx.frames.push_back(im);
  }
  write_eiger_data(dir + "/scan_data_000001.h5", {fx.frames[0], fx.frames[1], fx.frames[2]});
  if (second_file) write_eiger_data(dir + "/scan_data_000002.h5", {fx.frames[3], fx.frames[4]});
  fx.pixel_mask.assign(rows * cols, 0);
  fx.pixel_mask[0] = 1;            // gap
  fx.pixel_mask[31] = 8;           // hot
  fx.pixel_mask[100] = 0x10000u;   // a high bit only: not a bad pixel ((v & 0xFFFF) == 0)
  auto f = h5::File::create(fx.master);
  auto data = f.create_group("/entry/data", "NXdata");
  data.create_external_link("data_000001", "scan_data_000001.h5", "/entry/data/data");
  data.create_external_link("data_000002", "scan_data_000002.h5", "/entry/data/data");
  auto det = f.create_group("/entry/instrument/detector", "NXdetector");
  det.write_string_dataset("description", "Dectris EIGER2 X 4M (test fixture)");
  det.write_dataset("x_pixel_size", std::vector<double>{75e-6}, {}).write_attribute("units", "m");
  det.write_dataset("y_pixel_size", std::vector<double>{75e-6}, {}).write_attribute("units", "m");
  det.write_dataset("detector_distance", std::vector<double>{0.1234}, {}).write_attribute("units", "m");
  det.write_dataset("beam_center_x", std::vector<double>{15.5}, {}).write_attribute("units", "pixel");
  det.write_dataset("beam_center_y", std::vector<double>{9.25}, {}).write_attribute("units", "pixel");
  det.write_dataset("count_time", std::vector<double>{0.0999}, {}).write_attribute("units", "s");
  det.write_dataset("frame_time", std::vector<double>{100}, {}).write_attribute("units", "ms");
  det.write_dataset("sensor_thickness", std::vector<double>{450}, {}).write_attribute("units", "um");
  det.write_string_dataset("sensor_material", "Si");
  det.write_dataset("bit_depth_image", std::vector<double>{16}, {});
  auto spec = f.create_group("/entry/instrument/detector/detectorSpecific", "NXcollection");
  spec.write_dataset("photon_energy", std::vector<double>{17999.9}, {}).write_attribute("units", "eV");
  spec.write_dataset("pixel_mask", PixelType::u32, {rows, cols}, fx.pixel_mask.data());
  spec.write_dataset("flatfield", PixelType::f32, {rows, cols}, std::vector<float>(rows * cols, 1.0f).data());
  auto beam = f.create_group("/entry/instrument/beam", "NXbeam");
  beam.write_dataset("incident_wavelength", std::vector<double>{0.68880}, {}).write_attribute("units", "angstrom");
  return fx;
}

void write_tiff(const std::string& path, const Image& img, std::uint16_t bits_override = 0) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  const auto elem = static_cast<std::uint16_t>(libpdf::pixel_size(img.type()));
  const std::uint16_t bits = bits_override ? bits_override : static_cast<std::uint16_t>(8 * elem);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(img.cols()));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(img.rows()));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{1});
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bits);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, std::uint16_t{SAMPLEFORMAT_UINT});
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<std::uint32_t>(img.rows()));
  const std::size_t bytes = img.rows() * img.cols() * bits / 8;
  ASSERT_GE(TIFFWriteEncodedStrip(t, 0, const_cast<void*>(img.data()), static_cast<tmsize_t>(bytes)), 0);
  TIFFWriteDirectory(t);
  TIFFClose(t);
}

}  // namespace

// =====================================================================================================
// Eiger
// =====================================================================================================

TEST(Eiger, MasterWithBitshuffleLz4DataReadsAsOneSeries) {
  ASSERT_TRUE(h5::File::filter_available(32008))
      << "the bitshuffle HDF5 plugin is missing: apt-get install bitshuffle";
  const auto fx = make_eiger(tmp_dir());
  EXPECT_TRUE(libpdf::is_eiger_master(fx.master));
  // Frames exactly as stored.
  libpdf::OpenOptions raw;
  raw.apply_detector_mask = false;
  const auto src = libpdf::open_frames(fx.master, raw);
  ASSERT_EQ(src->size(), 5u);
  EXPECT_EQ(src->rows(), 20u);
  EXPECT_EQ(src->cols(), 30u);
  EXPECT_EQ(src->type(), PixelType::u32);
  for (std::size_t k = 0; k < 5; ++k) EXPECT_TRUE(same(src->read(k), fx.frames[k])) << "frame " << k;
  expect_mentions(src->describe(), {"Eiger", fx.master, "data_000001", "data_000002", "5 frames"});
  // With the detector mask: pixel_mask bits (low 16) and the 2^16 − 1 marker read as the type's maximum.
  const auto masked = libpdf::open_frames(fx.master);
  for (std::size_t k = 0; k < 5; ++k) {
    const Image img = masked->read(k);
    const auto* p = img.as<std::uint32_t>();
    const auto* q = fx.frames[k].as<std::uint32_t>();
    for (std::size_t i = 0; i < img.size(); ++i) {
      const bool invalid = (fx.pixel_mask[i] & 0xFFFFu) != 0 || q[i] == 65535u;
      ASSERT_EQ(p[i], invalid ? 0xFFFFFFFFu : q[i]) << "frame " << k << " pixel " << i;
    }
    EXPECT_EQ(p[100], q[100]);  // only a high bit set: valid
  }
  expect_mentions(masked->describe(), {"pixel_mask 2 pixels", "marker 65535"});
  // The storage as inspect reports it.
  const auto storage = libpdf::frames_storage(fx.master);
  ASSERT_EQ(storage.size(), 2u);
  ASSERT_EQ(storage[0].filters.size(), 1u);
  EXPECT_EQ(storage[0].filters[0], "bitshuffle+LZ4 (32008)");
  EXPECT_EQ(storage[0].chunks, (std::vector<std::size_t>{1, 20, 30}));
  EXPECT_TRUE(storage[0].filters_available);
}

// 16-bit Eiger data: decoded by libpdf's direct chunk reads (AVX2 bit transposition where available, liblz4),
// the same frames as HDF5's plugin gives, also with two threads reading at once.
TEST(Eiger, SixteenBitDataDecodesAsThePluginDoes) {
  ASSERT_TRUE(h5::File::filter_available(32008)) << "the bitshuffle HDF5 plugin is missing: apt-get install bitshuffle";
  const std::string dir = tmp_dir();
  std::vector<Image> frames;
  for (std::size_t k = 0; k < 6; ++k) frames.push_back(pattern_image<std::uint16_t>(64, 97, k));  // 6208 px: 1.5 blocks
  write_eiger_data<std::uint16_t>(dir + "/e16_data_000001.h5", {frames[0], frames[1], frames[2]});
  write_eiger_data<std::uint16_t>(dir + "/e16_data_000002.h5", {frames[3], frames[4], frames[5]});
  {
    auto f = h5::File::create(dir + "/e16_master.h5");
    auto data = f.create_group("/entry/data", "NXdata");
    data.create_external_link("data_000001", "e16_data_000001.h5", "/entry/data/data");
    data.create_external_link("data_000002", "e16_data_000002.h5", "/entry/data/data");
  }
  libpdf::OpenOptions raw;
  raw.apply_detector_mask = false;
  const auto src = libpdf::open_frames(dir + "/e16_master.h5", raw);
  ASSERT_EQ(src->size(), 6u);
  EXPECT_EQ(src->type(), PixelType::u16);
  namespace chunk = libpdf::detail::chunk;
  const bool before = chunk::direct_reads();
  for (const bool direct : {true, false}) {
    chunk::set_direct_reads(direct);
    for (std::size_t k = 0; k < 6; ++k) EXPECT_TRUE(same(src->read(k), frames[k])) << "frame " << k << " direct " << direct;
  }
  chunk::set_direct_reads(true);
  std::vector<Image> got(6);
  std::thread other([&] {
    for (std::size_t k = 0; k < 6; k += 2) got[k] = src->read(k);
  });
  for (std::size_t k = 1; k < 6; k += 2) got[k] = src->read(k);
  other.join();
  chunk::set_direct_reads(before);
  for (std::size_t k = 0; k < 6; ++k) EXPECT_TRUE(same(got[k], frames[k])) << "frame " << k << " (two readers)";
}

TEST(Eiger, MetadataWithUnitsConverted) {
  const auto fx = make_eiger(tmp_dir());
  const auto m = libpdf::read_metadata(fx.master);
  EXPECT_DOUBLE_EQ(*m.wavelength_A, 0.68880);  // incident_wavelength wins over the energy
  EXPECT_NEAR(*m.energy_keV, 17.9999, 1e-12);
  EXPECT_DOUBLE_EQ(*m.distance_m, 0.1234);
  EXPECT_DOUBLE_EQ(*m.pixel1_m, 75e-6);
  EXPECT_DOUBLE_EQ(*m.pixel2_m, 75e-6);
  EXPECT_DOUBLE_EQ(*m.beam_center_col_px, 15.5);
  EXPECT_DOUBLE_EQ(*m.beam_center_row_px, 9.25);
  EXPECT_DOUBLE_EQ(*m.count_time_s, 0.0999);
  EXPECT_DOUBLE_EQ(*m.frame_time_s, 0.1);
  EXPECT_NEAR(*m.sensor_thickness_m, 450e-6, 1e-18);
  EXPECT_EQ(m.sensor_material, "Si");
  EXPECT_EQ(*m.bit_depth, 16);
  EXPECT_EQ(m.detector, "Dectris EIGER2 X 4M (test fixture)");
  EXPECT_TRUE(m.temperature_K.empty());
  bool listed = false;
  for (const auto& item : m.items) listed |= item.name == "frame_time" && item.stored == "100 ms";
  EXPECT_TRUE(listed);
}

TEST(Eiger, MissingDataFileEndsTheSeries) {
  const auto fx = make_eiger(tmp_dir(), false);
  const auto src = libpdf::open_frames(fx.master);
  EXPECT_EQ(src->size(), 3u);  // data_000002 not (yet) written
}

TEST(Eiger, AbsentFilterPluginSaysWhatToInstall) {
  const auto fx = make_eiger(tmp_dir());
  unsigned state = 0;
  ASSERT_GE(H5PLget_loading_state(&state), 0);
  ASSERT_GE(H5Zunregister(32008), 0);
  ASSERT_GE(H5PLset_loading_state(0), 0);
  const std::string msg = error_of([&] { libpdf::open_frames(fx.master); });
  H5PLset_loading_state(state);
  expect_mentions(msg, {"scan_data_000001.h5", "/entry/data/data", "bitshuffle", "32008", "Debian package `bitshuffle`"});
  EXPECT_NO_THROW(libpdf::open_frames(fx.master)->read(0));
}

// =====================================================================================================
// Metadata and units
// =====================================================================================================

TEST(Metadata, UnitsConvert) {
  EXPECT_DOUBLE_EQ(libpdf::convert_units(172, "um", "m"), 172e-6);
  EXPECT_DOUBLE_EQ(libpdf::convert_units(172, "micrometer", "mm"), 0.172);
  EXPECT_DOUBLE_EQ(libpdf::convert_units(60, "keV", "eV"), 60000);
  EXPECT_DOUBLE_EQ(libpdf::convert_units(25, "degC", "K"), 298.15);
  EXPECT_DOUBLE_EQ(libpdf::convert_units(100, "ms", "s"), 0.1);
  EXPECT_DOUBLE_EQ(libpdf::convert_units(2.072e-11, "m", "angstrom"), 0.2072);
  expect_mentions(error_of([] { libpdf::convert_units(1, "furlong", "m"); }), {"furlong", "length", "mm", "um"});
  expect_mentions(error_of([] { libpdf::convert_units(1, "keV", "m"); }), {"keV", "energy", "not a length"});
}

TEST(Metadata, UnknownUnitsAndMissingWavelengthNameTheFile) {
  const std::string dir = tmp_dir();
  const std::string path = dir + "/odd.h5";
  {
    auto f = h5::File::create(path);
    auto det = f.create_group("/entry/instrument/detector", "NXdetector");
    det.write_dataset("x_pixel_size", std::vector<double>{172}, {}).write_attribute("units", "furlongs");
  }
  expect_mentions(error_of([&] { libpdf::read_metadata(path); }),
                  {path, "/entry/instrument/detector/x_pixel_size", "furlongs", "expected a length unit", "um"});
  const std::string bare = dir + "/bare.h5";
  {
    auto f = h5::File::create(bare);
    auto s = f.create_group("/entry/sample", "NXsample");
    s.write_dataset("temperature", std::vector<double>{25, 50.5}).write_attribute("units", "degC");
  }
  const auto m = libpdf::read_metadata(bare);
  EXPECT_EQ(m.temperature_K, (std::vector<double>{298.15, 323.65}));
  expect_mentions(error_of([&] { (void)m.require_wavelength_A(); }), {bare, "no wavelength", "incident_energy"});
  // The real Lambda file: 12000 eV -> 1.0332 Å; 55 micrometer pixels.
  const auto lambda = libpdf::read_metadata(kLambda);
  EXPECT_NEAR(lambda.require_wavelength_A(), 12.398419843320026 / 12.0, 1e-12);
  EXPECT_DOUBLE_EQ(*lambda.pixel2_m, 55e-6);
}

// =====================================================================================================
// TIFF series, darks, frame ranges
// =====================================================================================================

TEST(TiffSeries, PatternsOrderFramesByNumber) {
  const std::string dir = tmp_dir();
  std::vector<Image> frames;
  for (std::size_t k = 0; k < 12; ++k) {
    frames.push_back(pattern_image<std::uint16_t>(6, 8, k));
    char name[64];
    std::snprintf(name, sizeof name, "/frame_%05zu.tif", k + 1);
    write_tiff(dir + name, frames.back());
    std::snprintf(name, sizeof name, "/run_%zu.tif", k + 1);  // unpadded: run_10 sorts after run_9
    write_tiff(dir + name, frames.back());
  }
  for (const std::string& pattern : {dir + "/frame_#####.tif", dir + "/frame_%05d.tif", dir + "/run_*.tif",
                                    dir + "/run_%d.tif"}) {
    const auto src = libpdf::open_frames(pattern);
    ASSERT_EQ(src->size(), 12u) << pattern;
    for (std::size_t k = 0; k < 12; ++k) EXPECT_TRUE(same(src->read(k), frames[k])) << pattern << " frame " << k;
    expect_mentions(src->describe(), {"TIFF series of 12 files"});
  }
  // Frame ranges (Python slices).
  libpdf::OpenOptions opt;
  opt.frames = libpdf::FrameRange{2, 9, 3};
  const auto sel = libpdf::open_frames(dir + "/frame_#####.tif", opt);
  ASSERT_EQ(sel->size(), 3u);
  EXPECT_TRUE(same(sel->read(2), frames[8]));
  expect_mentions(sel->describe(), {"frames 2:9:3"});
  opt.frames = libpdf::FrameRange{20, std::nullopt, 1};
  expect_mentions(error_of([&] { libpdf::open_frames(dir + "/frame_#####.tif", opt); }), {"selects no frame", "12 frames"});
  expect_mentions(error_of([&] { libpdf::open_frames(dir + "/nothing_####.tif"); }), {"nothing_####.tif", "matches no file"});
}

TEST(TiffSeries, MismatchedOrEightBitFilesAreClearErrors) {
  const std::string dir = tmp_dir();
  write_tiff(dir + "/s_001.tif", pattern_image<std::uint16_t>(6, 8, 0));
  write_tiff(dir + "/s_002.tif", pattern_image<std::uint16_t>(6, 9, 1));
  const auto src = libpdf::open_frames(dir + "/s_###.tif");
  expect_mentions(error_of([&] { src->read(1); }), {"s_002.tif", "6 x 9", "s_001.tif", "6 x 8", "same shape"});
  // An 8-bit TIFF: frames must be 16/32-bit integers or floats.
  Image eight(PixelType::u16, 6, 8);
  write_tiff(dir + "/e_001.tif", eight, 8);
  expect_mentions(error_of([&] { libpdf::open_frames(dir + "/e_###.tif"); }),
                  {"e_001.tif", "8-bit", "uint16, int16, uint32, int32, float32 or float64"});
}

TEST(TiffSeries, DarkIsAveragedAndScaledToSummedFrames) {
  const std::string dir = tmp_dir();
  for (std::size_t k = 0; k < 3; ++k) {
    Image d(PixelType::u16, 4, 5);
    for (std::size_t i = 0; i < d.size(); ++i) d.as<std::uint16_t>()[i] = static_cast<std::uint16_t>(100 + 10 * k + i);
    write_tiff(dir + "/dark_" + std::to_string(k) + ".tif", d);
  }
  libpdf::DarkOptions opt;
  opt.frame_summed_frames = 10;  // each data file is a sum of 10 sub-frames, each dark file one sub-frame
  const auto dark = libpdf::read_dark(dir + "/dark_*.tif", opt);
  EXPECT_EQ(dark.frames, 3u);
  EXPECT_DOUBLE_EQ(dark.scale, 10.0);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_FLOAT_EQ(dark.pixels[i], static_cast<float>(10 * (110 + i)));
  expect_mentions(dark.description, {"mean of 3 frames", "10/1 summed sub-frames"});
  opt.already_subtracted = true;
  expect_mentions(error_of([&] { libpdf::read_dark(dir + "/dark_*.tif", opt); }),
                  {"already_subtracted", "subtracted a second time"});
  const auto none = libpdf::read_dark("", opt);
  EXPECT_TRUE(none.pixels.empty());
  expect_mentions(none.description, {"already subtracted"});
}

// =====================================================================================================
// Growing files
// =====================================================================================================

TEST(Follow, WaitsForFramesOfAGrowingHdf5Stack) {
  const std::string path = tmp_dir() + "/growing.h5";
  const auto frame = [](std::size_t k) { return pattern_image<std::uint16_t>(8, 10, k); };
  auto append = [&](std::size_t n_written, std::size_t extent) {
    // The follower opens and closes the file while polling; a writer retries until it gets it.
    std::optional<h5::File> opened;
    for (int attempt = 0; attempt < 500 && !opened; ++attempt) {
      try {
        opened.emplace(h5::File::open(path, h5::File::Mode::read_write));
      } catch (const libpdf::IoError&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    ASSERT_TRUE(opened.has_value());
    auto& f = *opened;
    auto d = f.open_dataset("/entry/data/data");
    d.resize({extent, 8, 10});
    for (std::size_t k = 0; k < n_written; ++k) d.write_frame(k, frame(k).view());
    f.flush();
  };
  {
    auto f = h5::File::create(path);
    h5::DatasetOptions o;
    o.max_shape = {h5::kUnlimited, 8, 10};
    o.chunks = {1, 8, 10};
    o.gzip_level = 1;
    f.create_dataset("/entry/data/data", H5T_STD_U16LE, {0, 8, 10}, o);
  }
  append(2, 2);
  libpdf::FollowOptions opt;
  opt.timeout_s = 0;
  libpdf::FrameFollower follow(path, opt);
  ASSERT_TRUE(follow.read(1).has_value());
  EXPECT_TRUE(same(*follow.read(0), frame(0)));
  EXPECT_FALSE(follow.read(2).has_value());  // not there: stop at once with timeout 0
  // Extended but frame 2 not yet written (its chunk is unallocated): incomplete.
  append(2, 3);
  EXPECT_FALSE(follow.read(2).has_value());
  EXPECT_EQ(follow.available(), 2u);
  // A writer finishes it while the follower waits.
  libpdf::FollowOptions wait = opt;
  wait.timeout_s = 10;
  libpdf::FrameFollower waiting(path, wait);
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    append(3, 3);
  });
  const auto t0 = std::chrono::steady_clock::now();
  const auto got = waiting.read(2);
  writer.join();
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(same(*got, frame(2)));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

// What a writer in another process meets when it opens the file to add a frame while the follower is in
// the middle of a look: HDF5 takes an exclusive flock without waiting, so any reader's shared lock makes it
// fail. flock locks belong to an open file description, so a second open() in this process stands for the
// other process.
TEST(Follow, ReadsWithoutALockThatWouldKeepTheWriterOut) {
  if (const char* env = std::getenv("HDF5_USE_FILE_LOCKING"); env && std::string(env) == "FALSE") {
    GTEST_SKIP() << "HDF5_USE_FILE_LOCKING=FALSE: HDF5 takes no locks at all here";
  }
  const std::string path = tmp_dir() + "/locked.h5";
  {
    auto f = h5::File::create(path);
    f.create_dataset("/entry/data/data", H5T_STD_U16LE, {1, 4, 4}, {});
  }
  const auto writer_can_lock = [&] {
    const int fd = ::open(path.c_str(), O_RDWR);
    EXPECT_GE(fd, 0);
    const bool ok = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);  // closing the descriptor releases its lock
    return ok;
  };
  {
    // An ordinary read-only open locks (so the check below is meaningful where flock works)...
    const auto locked = h5::File::open(path);
    EXPECT_FALSE(writer_can_lock());
  }
  {
    // ...while under WithoutReadLocks (the follower's looks) it does not, and the guard ends with its scope.
    const h5::File::WithoutReadLocks no_locks;
    const auto unlocked = h5::File::open(path);
    EXPECT_TRUE(writer_can_lock());
  }
  const auto locked_again = h5::File::open(path);
  EXPECT_FALSE(writer_can_lock());
}

TEST(Follow, TruncatedTiffOfASeriesIsIncomplete) {
  const std::string dir = tmp_dir();
  const Image a = pattern_image<std::uint16_t>(16, 16, 0), b = pattern_image<std::uint16_t>(16, 16, 1);
  write_tiff(dir + "/f_0001.tif", a);
  write_tiff(dir + "/f_0002.tif", b);
  // Copy in progress: only the first half of the file.
  std::string bytes;
  {
    std::ifstream in(dir + "/f_0002.tif", std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(dir + "/f_0002.tif", std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
  libpdf::FollowOptions opt;
  opt.timeout_s = 0.2;
  libpdf::FrameFollower follow(dir + "/f_####.tif", opt);
  ASSERT_TRUE(follow.read(0).has_value());
  EXPECT_FALSE(follow.read(1).has_value());
  std::ofstream(dir + "/f_0002.tif", std::ios::binary | std::ios::trunc) << bytes;
  const auto got = follow.read(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(same(*got, b));
  // Nothing at all to follow is an error, not an empty series.
  libpdf::FrameFollower none(dir + "/missing.h5", opt);
  expect_mentions(error_of([&] { none.read(0); }), {"missing.h5", "does not exist"});
}

// =====================================================================================================
// The real DESY Lambda series
// =====================================================================================================

TEST(LambdaSeries, FiftyAssembledFramesAndTheirStorage) {
  const auto src = libpdf::open_frames(kLambda);
  EXPECT_EQ(src->size(), 50u);
  EXPECT_EQ(src->rows(), 1833u);
  EXPECT_EQ(src->cols(), 1556u);
  libpdf::OpenOptions opt;
  opt.frames = libpdf::FrameRange{45, std::nullopt, 1};
  const auto tail = libpdf::open_frames(kLambda, opt);
  EXPECT_EQ(tail->size(), 5u);
  EXPECT_TRUE(same(tail->read(0), src->read(45)));
  const auto storage = libpdf::frames_storage(kLambda);
  ASSERT_EQ(storage.size(), 15u);  // 3 modules x 5 parts
  EXPECT_EQ(storage[0].shape, (std::vector<std::size_t>{10, 516, 1554}));
  EXPECT_EQ(storage[0].type, "int16");
  ASSERT_FALSE(storage[0].filters.empty());
  EXPECT_NE(storage[0].filters.back().find("deflate"), std::string::npos);
  EXPECT_GT(storage[0].compression_ratio, 1.5);
}

// =====================================================================================================
// Bad input
// =====================================================================================================

TEST(BadInput, EachErrorNamesFilePathAndExpectation) {
  const std::string dir = tmp_dir();
  expect_mentions(error_of([&] { libpdf::read_metadata(dir + "/none.h5"); }), {dir + "/none.h5", "does not exist"});
  // Truncated HDF5.
  std::string bytes;
  {
    std::ifstream in(kLambda, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  std::ofstream(dir + "/cut_m1_part00000.nxs", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  expect_mentions(error_of([&] { libpdf::read_metadata(dir + "/cut_m1_part00000.nxs"); }),
                  {"cut_m1_part00000.nxs", "HDF5 error stack"});
  // Wrong rank.
  {
    auto f = h5::File::create(dir + "/rank.h5");
    f.write_dataset("/entry/data/data", std::vector<double>(24, 1.0), {2, 3, 2, 2});
  }
  expect_mentions(error_of([&] { libpdf::open_frames(dir + "/rank.h5", "/entry/data/data"); }),
                  {"rank.h5", "/entry/data/data", "(2, 3, 2, 2)", "expected a 2-D frame"});
  // An Eiger master whose data file has the wrong rank.
  {
    auto d = h5::File::create(dir + "/bad_data_000001.h5");
    d.write_dataset("/entry/data/data", std::vector<double>(6, 1.0), {2, 3});
    auto m = h5::File::create(dir + "/bad_master.h5");
    m.create_group("/entry/data", "NXdata").create_external_link("data_000001", "bad_data_000001.h5", "/entry/data/data");
  }
  expect_mentions(error_of([&] { libpdf::open_frames(dir + "/bad_master.h5"); }),
                  {"bad_data_000001.h5", "/entry/data/data", "expected a 3-D stack"});
}
