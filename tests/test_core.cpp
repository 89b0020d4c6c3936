// Core: images, logging, errors, atomic files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/error.hpp"
#include "libpdf/image.hpp"
#include "libpdf/log.hpp"
#include "libpdf/version.hpp"

using namespace libpdf;

TEST(Image, TypesSizesAndAccess) {
  EXPECT_EQ(pixel_size(PixelType::u16), 2u);
  EXPECT_EQ(pixel_size(PixelType::i32), 4u);
  EXPECT_EQ(pixel_size(PixelType::f64), 8u);
  EXPECT_STREQ(pixel_type_name(PixelType::f32), "float32");
  Image img(PixelType::i16, 3, 2);
  auto* d = img.as<std::int16_t>();
  for (int k = 0; k < 6; ++k) d[k] = static_cast<std::int16_t>(k - 2);
  EXPECT_EQ(img.at(0, 0), -2.0);
  EXPECT_EQ(img.at(2, 1), 3.0);
  EXPECT_THROW(img.at(3, 0), InvalidArgument);
  const Image f = img.flipped_vertical();
  EXPECT_EQ(f.at(0, 0), 2.0);  // old row 2
  EXPECT_EQ(f.at(2, 1), -1.0);
  const auto v = img.to_double();
  EXPECT_EQ(v[5], 3.0);
  const ImageView view = img.view();
  EXPECT_EQ(view.type, PixelType::i16);
  EXPECT_EQ(view.size(), 6u);
}

TEST(Log, LevelAndHandlerArePrivateToLibpdf) {
  const LogLevel before = log_level();
  set_log_level(LogLevel::debug);
  EXPECT_EQ(log_level(), LogLevel::debug);
  set_log_level(before);
  EXPECT_EQ(log_level(), before);
  std::vector<std::string> got;
  set_log_handler([&](LogLevel, std::string_view m) { got.emplace_back(m); });
  set_log_handler(nullptr);  // restores stderr without losing the level
  EXPECT_EQ(log_level(), before);
}

TEST(Version, MatchesHeader) { EXPECT_STREQ(version(), LIBPDF_VERSION_STRING); }

TEST(AtomicFile, WritesAndReplacesWithoutLeftovers) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(LIBPDF_TEST_TMP) / "atomic";
  fs::create_directories(dir);
  const std::string path = (dir / "out.txt").string();
  detail::write_file_atomic(path, "first");
  detail::write_file_atomic(path, "second");
  EXPECT_EQ(detail::read_file(path), "second");
  std::size_t files = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u);
  EXPECT_THROW(detail::write_file_atomic("/nonexistent-dir/x.txt", "x"), IoError);
  try {
    detail::read_file("/nonexistent-dir/x.txt");
    FAIL();
  } catch (const IoError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("/nonexistent-dir/x.txt"));
  }
}
