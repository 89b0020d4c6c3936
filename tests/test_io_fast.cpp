// Tests of the direct chunk path of HDF5 frame reading (libpdf/io/chunk_codec.hpp, Hdf5FrameSource in
// libpdf/io/frames.cpp). Reference: HDF5's own filter pipeline (H5Dread, the path with direct reads switched
// off) on the same file; every frame must be identical byte for byte. Data: pseudo-random pixels with
// structure (a smooth pattern + noise + saturated spots), so that shuffle, deflate and LZ4 all do real work.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/chunk_codec.hpp"
#include "libpdf/io/hdf5.hpp"

namespace fs = std::filesystem;
namespace h5 = libpdf::detail::h5;
namespace chunk = libpdf::detail::chunk;

namespace {

std::string tmp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir =
      fs::path(LIBPDF_TEST_TMP) / "io_fast" / (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Restores direct reads at the end of a test whatever happens.
struct DirectReads {
  ~DirectReads() { chunk::set_direct_reads(true); }
};

hid_t file_type_of(libpdf::PixelType t) {
  switch (t) {
    case libpdf::PixelType::u16: return H5T_STD_U16LE;
    case libpdf::PixelType::i16: return H5T_STD_I16LE;
    case libpdf::PixelType::u32: return H5T_STD_U32LE;
    case libpdf::PixelType::i32: return H5T_STD_I32LE;
    case libpdf::PixelType::f32: return H5T_IEEE_F32LE;
    case libpdf::PixelType::f64: return H5T_IEEE_F64LE;
  }
  return H5T_STD_U16LE;
}

// Frame k: a smooth ring pattern, a per-pixel hash as noise, a few saturated pixels; signed types go negative.
libpdf::Image make_frame(libpdf::PixelType t, std::size_t rows, std::size_t cols, std::size_t k) {
  libpdf::Image img(t, rows, cols);
  std::vector<double> v(rows * cols);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      std::uint64_t h = (i * 2654435761u) ^ (j * 40503u) ^ (k * 97u);
      h ^= h >> 13;
      h *= 0x5bd1e995u;
      h ^= h >> 15;
      const double r = std::hypot(static_cast<double>(i) - 20.3, static_cast<double>(j) - 31.7);
      double x = 900.0 + 600.0 * std::cos(0.4 * r) + static_cast<double>(h % 97);
      if (h % 1009 == 0) x = 60000.0;
      if (t == libpdf::PixelType::i16 || t == libpdf::PixelType::i32) x -= 1200.0;
      if (t == libpdf::PixelType::f32 || t == libpdf::PixelType::f64) x += 0.001 * static_cast<double>(h % 1000);
      if (t == libpdf::PixelType::i16) x = std::min(x, 30000.0);
      v[i * cols + j] = x;
    }
  }
  for (std::size_t p = 0; p < v.size(); ++p) {
    auto* d = img.data();
    switch (t) {
      case libpdf::PixelType::u16: static_cast<std::uint16_t*>(d)[p] = static_cast<std::uint16_t>(v[p]); break;
      case libpdf::PixelType::i16: static_cast<std::int16_t*>(d)[p] = static_cast<std::int16_t>(v[p]); break;
      case libpdf::PixelType::u32: static_cast<std::uint32_t*>(d)[p] = static_cast<std::uint32_t>(v[p] * 70.0); break;
      case libpdf::PixelType::i32: static_cast<std::int32_t*>(d)[p] = static_cast<std::int32_t>(v[p] * 70.0); break;
      case libpdf::PixelType::f32: static_cast<float*>(d)[p] = static_cast<float>(v[p]); break;
      case libpdf::PixelType::f64: static_cast<double*>(d)[p] = v[p]; break;
    }
  }
  return img;
}

struct Variant {
  const char* name;
  bool shuffle;
  int gzip;
  bool bitshuffle;
};

std::string write_series(const std::string& dir, const std::string& name, libpdf::PixelType t, std::size_t rows,
                         std::size_t cols, std::vector<std::size_t> chunks, const Variant& v, std::size_t frames) {
  const std::string path = dir + "/" + name + ".h5";
  h5::DatasetOptions o;
  o.chunks = std::move(chunks);
  o.shuffle = v.shuffle;
  o.gzip_level = v.gzip;
  o.bitshuffle_lz4 = v.bitshuffle;
  auto f = h5::File::create(path);
  auto d = f.create_dataset("/entry/data/data", file_type_of(t), {frames, rows, cols}, o);
  for (std::size_t k = 0; k < frames; ++k) d.write_frame(k, make_frame(t, rows, cols, k).view());
  return path;
}

// Every frame of @p path read both ways; the direct path must be the one taken (describe() says so).
void expect_identical(const std::string& path, bool expect_direct) {
  DirectReads restore;
  const auto src = libpdf::open_frames(path);
  EXPECT_EQ(src->describe().find("direct chunk reads") != std::string::npos, expect_direct) << src->describe();
  for (std::size_t k = 0; k < src->size(); ++k) {
    chunk::set_direct_reads(true);
    const libpdf::Image fast = src->read(k);
    chunk::set_direct_reads(false);
    const libpdf::Image ref = src->read(k);
    ASSERT_EQ(fast.size(), ref.size());
    ASSERT_EQ(fast.type(), ref.type());
    EXPECT_EQ(std::memcmp(fast.data(), ref.data(), ref.size() * libpdf::pixel_size(ref.type())), 0)
        << path << " frame " << k;
  }
}

const Variant kVariants[] = {{"deflate", false, 4, false},
                             {"shuffle_deflate", true, 1, false},
                             {"shuffle_only", true, -1, false},
                             {"bitshuffle_lz4", false, -1, true},
                             {"uncompressed_chunked", false, -1, false}};

// Whether the direct path serves a variant (unfiltered chunks go through H5Dread: nothing to decompress;
// bitshuffle only where chunk_codec has its vector transposition, else the plugin's SIMD code is faster, see
// frames.cpp).
bool direct_for(const Variant& v, libpdf::PixelType t = libpdf::PixelType::u16) {
  if (v.bitshuffle) return chunk::fast_bitshuffle(libpdf::pixel_size(t));
  return v.shuffle || v.gzip >= 0;
}

// The decoder itself on every raw chunk of every frame (the frame source leaves bitshuffle to the plugin):
// chunk::decode of H5Dread_chunk's bytes must equal H5Dread's frame.
void expect_decoder_identical(const std::string& path) {
  const auto f = h5::File::open(path);
  const auto d = f.open_dataset("/entry/data/data");
  const auto shape = d.shape();
  const auto cs = d.chunk_shape();
  std::vector<chunk::Filter> filters;
  for (const auto& fi : d.filters()) filters.push_back({static_cast<int>(fi.id), fi.cd_values});
  const std::size_t elem = libpdf::pixel_size(d.pixel_type());
  ASSERT_TRUE(chunk::supported(filters, elem)) << path;
  for (std::size_t k = 0; k < shape[0]; ++k) {
    const libpdf::Image ref = d.read_frame(k);
    const auto* want = static_cast<const std::uint8_t*>(ref.data());
    for (std::size_t r0 = 0; r0 < shape[1]; r0 += cs[1]) {
      for (std::size_t c0 = 0; c0 < shape[2]; c0 += cs[2]) {
        std::vector<std::uint8_t> raw, out(cs[1] * cs[2] * elem);
        unsigned mask = 0;
        ASSERT_TRUE(d.read_raw_chunk({k, r0, c0}, raw, mask));
        chunk::decode(filters, mask, elem, raw, out.data(), out.size());
        for (std::size_t r = 0; r < cs[1] && r0 + r < shape[1]; ++r) {
          const std::size_t nc = std::min(cs[2], shape[2] - c0);
          EXPECT_EQ(std::memcmp(out.data() + r * cs[2] * elem, want + ((r0 + r) * shape[2] + c0) * elem, nc * elem), 0)
              << path << " frame " << k << " chunk " << r0 << "," << c0 << " row " << r;
        }
      }
    }
  }
}

}  // namespace

TEST(DirectChunkRead, EveryFilterAndTypeMatchesH5Dread) {
  const std::string dir = tmp_dir();
  const bool have_bitshuffle = h5::File::filter_available(h5::kBitshuffleFilter);
  for (const Variant& v : kVariants) {
    if (v.bitshuffle && !have_bitshuffle) {
      ADD_FAILURE() << "bitshuffle plugin missing: apt-get install bitshuffle";
      continue;
    }
    for (libpdf::PixelType t : {libpdf::PixelType::u16, libpdf::PixelType::i16, libpdf::PixelType::u32,
                                libpdf::PixelType::i32, libpdf::PixelType::f32, libpdf::PixelType::f64}) {
      // 67 x 93: not a multiple of 8 elements per row or frame (bitshuffle's raw tail), odd sizes.
      const std::string name = std::string(v.name) + "_" + libpdf::pixel_type_name(t);
      const std::string whole = write_series(dir, name + "_frame", t, 67, 93, {1, 67, 93}, v, 3);
      expect_identical(whole, direct_for(v, t));
      // Sub-frame chunks with partial edge chunks (67 = 2·30 + 7 rows, 93 = 2·40 + 13 columns).
      const std::string sub = write_series(dir, name + "_sub", t, 67, 93, {1, 30, 40}, v, 2);
      expect_identical(sub, direct_for(v, t));
      if (v.shuffle || v.gzip >= 0 || v.bitshuffle) {
        expect_decoder_identical(whole);
        expect_decoder_identical(sub);
      }
    }
  }
}

// read_into gives read()'s frame and, once the buffer has the frame's type and shape, fills it in place (no
// allocation per frame): through direct chunk reads, through H5Dread, and through a frame selection.
TEST(DirectChunkRead, ReadIntoReusesTheBuffer) {
  const std::string dir = tmp_dir();
  DirectReads restore;
  for (const Variant& v : {kVariants[1], kVariants[4]}) {
    const std::string path =
        write_series(dir, std::string("into_") + v.name, libpdf::PixelType::u16, 67, 93, {1, 67, 93}, v, 3);
    const std::shared_ptr<const libpdf::FrameSource> src = libpdf::open_frames(path);
    const auto every_other = libpdf::select_frames(src, libpdf::FrameRange{0, 3, 2});
    for (const bool direct : {true, false}) {
      chunk::set_direct_reads(direct);
      libpdf::Image buf;
      src->read_into(0, buf);
      const void* memory = buf.data();
      for (std::size_t k = 0; k < src->size(); ++k) {
        src->read_into(k, buf);
        const libpdf::Image ref = src->read(k);
        EXPECT_EQ(buf.data(), memory) << v.name << " frame " << k;
        ASSERT_EQ(buf.size(), ref.size());
        EXPECT_EQ(std::memcmp(buf.data(), ref.data(), ref.size() * 2), 0) << v.name << " frame " << k;
      }
      every_other->read_into(1, buf);  // source frame 2
      EXPECT_EQ(buf.data(), memory);
      const libpdf::Image two = src->read(2);
      EXPECT_EQ(std::memcmp(buf.data(), two.data(), two.size() * 2), 0);
      // A buffer of another shape or type is replaced, not overrun.
      libpdf::Image other(libpdf::PixelType::f64, 3, 3);
      src->read_into(1, other);
      EXPECT_EQ(other.type(), libpdf::PixelType::u16);
      EXPECT_EQ(other.rows(), 67u);
      EXPECT_EQ(other.cols(), 93u);
    }
  }
}

// The encoders the result writer compresses its own rows with undo exactly as the decoders (and HDF5) read.
TEST(ChunkCodec, ShuffleAndDeflateRoundTrip) {
  std::vector<std::uint8_t> raw(8 * 1001 + 3);
  for (std::size_t k = 0; k < raw.size(); ++k) raw[k] = static_cast<std::uint8_t>((k * 2654435761u) >> 13);
  std::vector<std::uint8_t> sh(raw.size()), back(raw.size()), packed, out(raw.size());
  chunk::shuffle(raw.data(), sh.data(), raw.size(), 8);
  EXPECT_EQ(sh[1], raw[8]);  // byte 0 of element 1 follows byte 0 of element 0
  chunk::unshuffle(sh.data(), back.data(), raw.size(), 8);
  EXPECT_EQ(back, raw);
  for (const int level : {0, 1, 4, 9}) {
    chunk::deflate_zlib(sh.data(), sh.size(), level, packed);
    chunk::inflate_zlib(packed.data(), packed.size(), out.data(), out.size());
    EXPECT_EQ(out, sh) << "level " << level;
  }
}

TEST(DirectChunkRead, LargeFramesMatchH5Dread) {
  // A 512 x 512 uint16 frame: several bitshuffle blocks (4096 elements each) and a long deflate stream.
  const std::string dir = tmp_dir();
  expect_identical(write_series(dir, "sd", libpdf::PixelType::u16, 512, 512, {1, 512, 512}, kVariants[1], 2), true);
  if (h5::File::filter_available(h5::kBitshuffleFilter)) {
    const std::string bs = write_series(dir, "bs", libpdf::PixelType::u16, 512, 512, {1, 512, 512}, kVariants[3], 2);
    expect_identical(bs, chunk::fast_bitshuffle(2));
    expect_decoder_identical(bs);  // 64 blocks of 4096 elements: the parallel block loop
  } else {
    ADD_FAILURE() << "bitshuffle plugin missing: apt-get install bitshuffle";
  }
}

TEST(DirectChunkRead, OtherLayoutsFallBackToH5Dread) {
  const std::string dir = tmp_dir();
  // Contiguous (no chunks) and chunks spanning two frames: H5Dread.
  expect_identical(write_series(dir, "contiguous", libpdf::PixelType::u16, 40, 50, {}, {"none", false, -1, false}, 3),
                   false);
  expect_identical(write_series(dir, "two_frames", libpdf::PixelType::u16, 40, 50, {2, 40, 50}, kVariants[1], 4),
                   false);
  // Big-endian storage: H5Dread converts.
  {
    const std::string path = dir + "/be.h5";
    h5::DatasetOptions o;
    o.chunks = {1, 40, 50};
    o.gzip_level = 1;
    auto f = h5::File::create(path);
    auto d = f.create_dataset("/entry/data/data", H5T_STD_U16BE, {2, 40, 50}, o);
    for (std::size_t k = 0; k < 2; ++k) d.write_frame(k, make_frame(libpdf::PixelType::u16, 40, 50, k).view());
    f.close();
    expect_identical(path, false);
  }
  // A frame never written (unallocated chunk): the fill value, through H5Dread.
  {
    const std::string path = dir + "/unwritten.h5";
    h5::DatasetOptions o;
    o.chunks = {1, 40, 50};
    o.gzip_level = 1;
    auto f = h5::File::create(path);
    auto d = f.create_dataset("/entry/data/data", H5T_STD_U16LE, {3, 40, 50}, o);
    d.write_frame(0, make_frame(libpdf::PixelType::u16, 40, 50, 0).view());
    f.close();
    const auto src = libpdf::open_frames(path);
    const libpdf::Image img = src->read(2);
    EXPECT_EQ(img.at(10, 10), 0.0);
    expect_identical(path, true);
  }
}

TEST(DirectChunkRead, CorruptChunkNamesFileDatasetAndFrame) {
  const std::string dir = tmp_dir();
  const std::string path = write_series(dir, "corrupt", libpdf::PixelType::u16, 40, 50, {1, 40, 50}, kVariants[1], 3);
  {
    // Replace frame 1's chunk by bytes that are not a zlib stream (same filter mask: all filters applied).
    auto f = h5::File::open(path, h5::File::Mode::read_write);
    const auto d = f.open_dataset("/entry/data/data");
    std::vector<std::uint8_t> junk(300);
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<std::uint8_t>(i * 37 + 11);
    const hsize_t offset[3] = {1, 0, 0};
    ASSERT_GE(H5Dwrite_chunk(d.id(), H5P_DEFAULT, 0, offset, junk.size(), junk.data()), 0);
  }
  DirectReads restore;
  const auto src = libpdf::open_frames(path);
  EXPECT_NO_THROW(src->read(0));
  try {
    src->read(1);
    ADD_FAILURE() << "a corrupt chunk was read without an error";
  } catch (const libpdf::IoError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("corrupt.h5"), std::string::npos) << msg;
    EXPECT_NE(msg.find("/entry/data/data"), std::string::npos) << msg;
    EXPECT_NE(msg.find("frame 1"), std::string::npos) << msg;
    EXPECT_NE(msg.find("deflate"), std::string::npos) << msg;
  }
}

TEST(ChunkCodec, Lz4BlockDecodesLiteralsAndOverlappingMatches) {
  // Hand-made block: literals "abc", then a match of offset 3 and length 9 (overlapping: "abcabcabc"), then the
  // last literals "XY". Token 1: 3 literals, match length 9 − 4 = 5 → 0x35; token 2: 2 literals → 0x20.
  const std::vector<std::uint8_t> in = {0x35, 'a', 'b', 'c', 3, 0, 0x20, 'X', 'Y'};
  std::vector<std::uint8_t> out(14);
  // (The block ends sooner after its match than lz4's own compressor would leave it, which liblz4's decoder may
  // refuse: this is the portable decoder's test; both decoders meet real chunks in the DirectChunkRead tests.)
  chunk::lz4_block_portable(in.data(), in.size(), out.data(), out.size());
  EXPECT_EQ(std::string(out.begin(), out.end()), "abcabcabcabcXY");
  // A wrong decoded size, an offset before the start and a truncated block are DecodeErrors, from both.
  std::vector<std::uint8_t> small(10);
  const std::vector<std::uint8_t> bad_offset = {0x35, 'a', 'b', 'c', 9, 0, 0x20, 'X', 'Y'};
  for (auto* decode : {&chunk::lz4_block_portable, &chunk::lz4_block}) {
    EXPECT_THROW(decode(in.data(), in.size(), small.data(), small.size()), chunk::DecodeError);
    EXPECT_THROW(decode(bad_offset.data(), bad_offset.size(), out.data(), out.size()), chunk::DecodeError);
    EXPECT_THROW(decode(in.data(), 5, out.data(), out.size()), chunk::DecodeError);
  }
  // A block as lz4's compressor ends one (the last 5 bytes literals, no match in the last 12): both decoders.
  const std::vector<std::uint8_t> std_block = {0x35, 'a', 'b', 'c', 3, 0, 0xC0, 'H', 'I', 'J', 'K', 'L', 'M',
                                               'N', 'O', 'P', 'Q', 'R', 'S'};
  std::vector<std::uint8_t> a(24), b(24);
  chunk::lz4_block_portable(std_block.data(), std_block.size(), a.data(), a.size());
  chunk::lz4_block(std_block.data(), std_block.size(), b.data(), b.size());
  EXPECT_EQ(std::string(a.begin(), a.end()), "abcabcabcabcHIJKLMNOPQRS");
  EXPECT_EQ(a, b);
}

TEST(ChunkCodec, BitUntransposeInvertsTheDefinition) {
  // Build the transposed layout from its definition (row 8b + k holds bit k of byte b of every element,
  // element i at bit i mod 8 of byte i/8) and check that bit_untranspose gives the elements back. Sizes below,
  // at and above the AVX2 path's 32 groups of 8 elements (2-byte elements), with a remainder after it.
  for (const std::size_t s : {1u, 2u, 4u}) {
    for (const std::size_t n : {24u, 256u, 264u, 4096u, 4096u + 8u * 37u}) {
      std::vector<std::uint8_t> elems(n * s), bits(n * s, 0), back(n * s);
      for (std::size_t i = 0; i < elems.size(); ++i) elems[i] = static_cast<std::uint8_t>((i * 2654435761u) >> 11);
      for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t b = 0; b < s; ++b) {
          for (std::size_t k = 0; k < 8; ++k) {
            if ((elems[i * s + b] >> k) & 1u) bits[(8 * b + k) * (n / 8) + i / 8] |= static_cast<std::uint8_t>(1u << (i % 8));
          }
        }
      }
      chunk::bit_untranspose(bits.data(), back.data(), n, s);
      EXPECT_EQ(back, elems) << n << " elements of " << s << " bytes";
    }
  }
}
