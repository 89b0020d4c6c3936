// Decoders of HDF5 chunk filters (formats in chunk_codec.hpp). Written for libpdf; the formats follow the
// HDF5 filters' and the bitshuffle / LZ4 documentation, checked bit for bit against H5Dread in the tests.
#include "libpdf/io/chunk_codec.hpp"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <cstring>
#include <string>

#if LIBPDF_HAVE_LIBDEFLATE
#include <libdeflate.h>
#else
#include <zlib.h>
#endif
#if LIBPDF_HAVE_LZ4
#include <lz4.h>
#endif

namespace libpdf::detail::chunk {
namespace {

std::uint64_t read_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// Transpose of the 8 x 8 bit matrix whose row r is byte r of x (bit c = column c): afterwards byte c bit r
// holds what byte r bit c held. Three exchanges of blocks across the diagonal (1x1, 2x2, 4x4 bit blocks).
std::uint64_t transpose8x8(std::uint64_t x) {
  std::uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x = x ^ t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x = x ^ t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  return x ^ t ^ (t << 28);
}

// Bitshuffle's default block size (elements) when cd_values[3] is 0: 8 KiB of data, a multiple of 8, at least
// 128 elements (what the filter uses when it writes, so reading must use the same).
std::size_t default_block(std::size_t elem_size) {
  std::size_t b = 8192 / elem_size;
  b -= b % 8;
  return std::max<std::size_t>(b, 128);
}

std::atomic<bool> g_direct{true};

}  // namespace

void set_direct_reads(bool enabled) { g_direct.store(enabled); }
bool direct_reads() { return g_direct.load(); }

bool supported(const std::vector<Filter>& pipeline, std::size_t elem_size) {
  if (elem_size == 0 || elem_size > 8) return false;
  for (const Filter& f : pipeline) {
    if (f.id == kDeflate || f.id == kShuffle) continue;
    if (f.id == kBitshuffle) {
      // Element size (cd 2) must be the dataset's; compression (cd 4) none or LZ4 (2); zstd (3) is not handled.
      if (f.cd_values.size() > 2 && f.cd_values[2] != 0 && f.cd_values[2] != elem_size) return false;
      const unsigned comp = f.cd_values.size() > 4 ? f.cd_values[4] : 0;
      if (comp != 0 && comp != 2) return false;
      continue;
    }
    return false;
  }
  return true;
}

void inflate_zlib(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes) {
#if LIBPDF_HAVE_LIBDEFLATE
  // One decompressor per thread: allocation costs ~30 kB and would otherwise happen per chunk.
  struct Holder {
    libdeflate_decompressor* d = libdeflate_alloc_decompressor();
    ~Holder() { libdeflate_free_decompressor(d); }
  };
  thread_local Holder holder;
  if (!holder.d) throw DecodeError("cannot allocate a deflate decompressor");
  std::size_t got = 0;
  const libdeflate_result r = libdeflate_zlib_decompress(holder.d, in, in_bytes, out, out_bytes, &got);
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
    throw DecodeError("the deflate stream inflates to more than the chunk's " + std::to_string(out_bytes) + " bytes");
  }
  if (r != LIBDEFLATE_SUCCESS) throw DecodeError("corrupt deflate (zlib) stream of " + std::to_string(in_bytes) + " bytes");
  if (got != out_bytes) {
    throw DecodeError("the deflate stream inflates to " + std::to_string(got) + " bytes; the chunk holds " +
                      std::to_string(out_bytes));
  }
#else
  z_stream z{};
  if (inflateInit(&z) != Z_OK) throw DecodeError("cannot initialise zlib");
  z.next_in = const_cast<Bytef*>(in);
  z.avail_in = static_cast<uInt>(in_bytes);
  z.next_out = out;
  z.avail_out = static_cast<uInt>(out_bytes);
  const int r = inflate(&z, Z_FINISH);
  const std::size_t got = out_bytes - z.avail_out;
  inflateEnd(&z);
  if (r != Z_STREAM_END) {
    throw DecodeError(r == Z_BUF_ERROR && got == out_bytes
                          ? "the deflate stream inflates to more than the chunk's " + std::to_string(out_bytes) + " bytes"
                          : "corrupt deflate (zlib) stream of " + std::to_string(in_bytes) + " bytes");
  }
  if (got != out_bytes) {
    throw DecodeError("the deflate stream inflates to " + std::to_string(got) + " bytes; the chunk holds " +
                      std::to_string(out_bytes));
  }
#endif
}

void unshuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t bytes, std::size_t elem_size) {
  if (elem_size <= 1) {
    std::memcpy(out, in, bytes);
    return;
  }
  const std::size_t n = bytes / elem_size;
  if (elem_size == 2) {  // the common case (uint16 detectors): two planes interleaved
    const std::uint8_t* lo = in;
    const std::uint8_t* hi = in + n;
    for (std::size_t i = 0; i < n; ++i) {
      out[2 * i] = lo[i];
      out[2 * i + 1] = hi[i];
    }
  } else {
    for (std::size_t b = 0; b < elem_size; ++b) {
      const std::uint8_t* plane = in + b * n;
      for (std::size_t i = 0; i < n; ++i) out[i * elem_size + b] = plane[i];
    }
  }
  // Trailing bytes that do not make a whole element are stored unshuffled.
  std::memcpy(out + n * elem_size, in + n * elem_size, bytes - n * elem_size);
}

void shuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t bytes, std::size_t elem_size) {
  if (elem_size <= 1) {
    std::memcpy(out, in, bytes);
    return;
  }
  const std::size_t n = bytes / elem_size;
  for (std::size_t b = 0; b < elem_size; ++b) {
    std::uint8_t* plane = out + b * n;
    for (std::size_t i = 0; i < n; ++i) plane[i] = in[i * elem_size + b];
  }
  std::memcpy(out + n * elem_size, in + n * elem_size, bytes - n * elem_size);
}

void deflate_zlib(const std::uint8_t* in, std::size_t bytes, int level, std::vector<std::uint8_t>& out) {
  level = std::clamp(level, 0, 9);
#if LIBPDF_HAVE_LIBDEFLATE
  // One compressor per thread and level (allocating one costs more than compressing a row).
  struct Holder {
    libdeflate_compressor* c[10] = {};
    ~Holder() {
      for (auto* p : c) libdeflate_free_compressor(p);
    }
  };
  thread_local Holder holder;
  libdeflate_compressor*& c = holder.c[level];
  if (!c) c = libdeflate_alloc_compressor(level);
  if (!c) throw DecodeError("cannot allocate a deflate compressor (level " + std::to_string(level) + ")");
  out.resize(libdeflate_zlib_compress_bound(c, bytes));
  const std::size_t got = libdeflate_zlib_compress(c, in, bytes, out.data(), out.size());
  if (got == 0) throw DecodeError("deflate of " + std::to_string(bytes) + " bytes did not fit its bound");
  out.resize(got);
#else
  uLongf got = compressBound(static_cast<uLong>(bytes));
  out.resize(got);
  if (compress2(out.data(), &got, in, static_cast<uLong>(bytes), level) != Z_OK) {
    throw DecodeError("zlib could not compress " + std::to_string(bytes) + " bytes");
  }
  out.resize(got);
#endif
}

void lz4_block(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes) {
#if LIBPDF_HAVE_LZ4
  // liblz4's safe decoder checks every length against both buffers, as the loop below does.
  if (in_bytes > static_cast<std::size_t>(LZ4_MAX_INPUT_SIZE) || out_bytes > static_cast<std::size_t>(INT32_MAX)) {
    throw DecodeError("LZ4 block of " + std::to_string(in_bytes) + " bytes is too large");
  }
  const int got = LZ4_decompress_safe(reinterpret_cast<const char*>(in), reinterpret_cast<char*>(out),
                                      static_cast<int>(in_bytes), static_cast<int>(out_bytes));
  if (got < 0) throw DecodeError("corrupt LZ4 block of " + std::to_string(in_bytes) + " bytes");
  if (static_cast<std::size_t>(got) != out_bytes) {
    throw DecodeError("LZ4 block decodes to " + std::to_string(got) + " bytes; " + std::to_string(out_bytes) + " expected");
  }
#else
  lz4_block_portable(in, in_bytes, out, out_bytes);
#endif
}

void lz4_block_portable(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes) {
  std::size_t ip = 0, op = 0;
  // A length nibble of 15 continues in the following bytes (each adds up to 255; a byte < 255 ends it).
  auto extend = [&](std::size_t len) {
    if (len != 15) return len;
    for (;;) {
      if (ip >= in_bytes) throw DecodeError("LZ4 block ends inside a length");
      const std::uint8_t b = in[ip++];
      len += b;
      if (b != 255) return len;
    }
  };
  while (ip < in_bytes) {
    const std::uint8_t token = in[ip++];
    const std::size_t lit = extend(token >> 4);
    if (lit > in_bytes - ip || lit > out_bytes - op) throw DecodeError("LZ4 literals run past the block");
    std::memcpy(out + op, in + ip, lit);
    ip += lit;
    op += lit;
    if (ip == in_bytes) break;  // the last sequence has literals only
    if (in_bytes - ip < 2) throw DecodeError("LZ4 block ends inside a match offset");
    const std::size_t offset = std::size_t{in[ip]} | (std::size_t{in[ip + 1]} << 8);
    ip += 2;
    if (offset == 0 || offset > op) throw DecodeError("LZ4 match offset " + std::to_string(offset) + " points before the block");
    const std::size_t len = extend(token & 15u) + 4;
    if (len > out_bytes - op) throw DecodeError("LZ4 match runs past the block");
    if (offset >= len) {
      std::memcpy(out + op, out + op - offset, len);
    } else if (offset == 1) {
      std::memset(out + op, out[op - 1], len);  // a run of one byte (zeros of bitshuffled high bits)
    } else {
      // An overlapping match repeats its last `offset` bytes: copy them in pieces that do not overlap.
      for (std::size_t k = 0; k < len;) {
        const std::size_t c = std::min(offset, len - k);
        std::memcpy(out + op + k, out + op + k - offset, c);
        k += c;
      }
    }
    op += len;
  }
  if (op != out_bytes) {
    throw DecodeError("LZ4 block decodes to " + std::to_string(op) + " bytes; " + std::to_string(out_bytes) + " expected");
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// transpose8x8 on the four 64-bit lanes of v.
__attribute__((target("avx2"))) inline __m256i transpose8x8_avx2(__m256i x) {
  __m256i t = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64(x, 7)), _mm256_set1_epi64x(0x00AA00AA00AA00AALL));
  x = _mm256_xor_si256(x, _mm256_xor_si256(t, _mm256_slli_epi64(t, 7)));
  t = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64(x, 14)), _mm256_set1_epi64x(0x0000CCCC0000CCCCLL));
  x = _mm256_xor_si256(x, _mm256_xor_si256(t, _mm256_slli_epi64(t, 14)));
  t = _mm256_and_si256(_mm256_xor_si256(x, _mm256_srli_epi64(x, 28)), _mm256_set1_epi64x(0x00000000F0F0F0F0LL));
  return _mm256_xor_si256(x, _mm256_xor_si256(t, _mm256_slli_epi64(t, 28)));
}

// The eight bit rows r[0..7] (32 columns g each) of one byte plane, byte-transposed so that each 64-bit lane is
// the word y of one column (byte k = row k), then bit-transposed: x[v] holds the columns 2v, 2v+1, 16+2v,
// 17+2v (the order AVX2's in-lane unpacks leave them in).
__attribute__((target("avx2"))) inline void plane_words_avx2(const std::uint8_t* rows, std::size_t row, __m256i x[8]) {
  __m256i r[8];
  for (int k = 0; k < 8; ++k) r[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rows + k * row));
  __m256i p[8], q[8];
  for (int i = 0; i < 4; ++i) {  // rows (2i, 2i+1) as 16-bit pairs
    p[2 * i] = _mm256_unpacklo_epi8(r[2 * i], r[2 * i + 1]);
    p[2 * i + 1] = _mm256_unpackhi_epi8(r[2 * i], r[2 * i + 1]);
  }
  for (int h = 0; h < 2; ++h) {  // rows 0-3 and 4-7 as 32-bit quads, for the low (h = 0) and high column halves
    q[4 * h + 0] = _mm256_unpacklo_epi16(p[h], p[2 + h]);
    q[4 * h + 1] = _mm256_unpackhi_epi16(p[h], p[2 + h]);
    q[4 * h + 2] = _mm256_unpacklo_epi16(p[4 + h], p[6 + h]);
    q[4 * h + 3] = _mm256_unpackhi_epi16(p[4 + h], p[6 + h]);
  }
  for (int h = 0; h < 2; ++h) {
    for (int s = 0; s < 2; ++s) {
      x[4 * h + 2 * s] = transpose8x8_avx2(_mm256_unpacklo_epi32(q[4 * h + s], q[4 * h + 2 + s]));
      x[4 * h + 2 * s + 1] = transpose8x8_avx2(_mm256_unpackhi_epi32(q[4 * h + s], q[4 * h + 2 + s]));
    }
  }
}

// bit_untranspose for 2-byte elements, 32 groups of 8 elements at a time; returns the groups done.
__attribute__((target("avx2"))) std::size_t bit_untranspose2_avx2(const std::uint8_t* in, std::uint8_t* out,
                                                                  std::size_t row) {
  std::size_t g = 0;
  for (; g + 32 <= row; g += 32) {
    __m256i lo[8], hi[8];
    plane_words_avx2(in + g, row, lo);            // byte 0 of the elements
    plane_words_avx2(in + 8 * row + g, row, hi);  // byte 1
    for (int v = 0; v < 8; ++v) {
      // Per 128-bit lane: the 8 elements of one column, low and high bytes interleaved (16 bytes).
      const __m256i a = _mm256_unpacklo_epi8(lo[v], hi[v]);  // columns 2v | 16+2v
      const __m256i b = _mm256_unpackhi_epi8(lo[v], hi[v]);  // columns 2v+1 | 17+2v
      std::uint8_t* dst = out + 16 * (g + 2 * static_cast<std::size_t>(v));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permute2x128_si256(a, b, 0x20));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 16 * 16), _mm256_permute2x128_si256(a, b, 0x31));
    }
  }
  return g;
}

// The same for 4-byte elements: the four byte planes interleaved by bytes, then by 16-bit pairs.
__attribute__((target("avx2"))) std::size_t bit_untranspose4_avx2(const std::uint8_t* in, std::uint8_t* out,
                                                                  std::size_t row) {
  std::size_t g = 0;
  for (; g + 32 <= row; g += 32) {
    __m256i b0[8], b1[8], b2[8], b3[8];
    plane_words_avx2(in + g, row, b0);
    plane_words_avx2(in + 8 * row + g, row, b1);
    plane_words_avx2(in + 16 * row + g, row, b2);
    plane_words_avx2(in + 24 * row + g, row, b3);
    for (int v = 0; v < 8; ++v) {
      // Per 128-bit lane, columns (2v | 16+2v) from the low words and (2v+1 | 17+2v) from the high ones.
      for (int half = 0; half < 2; ++half) {
        const __m256i p01 = half ? _mm256_unpackhi_epi8(b0[v], b1[v]) : _mm256_unpacklo_epi8(b0[v], b1[v]);
        const __m256i p23 = half ? _mm256_unpackhi_epi8(b2[v], b3[v]) : _mm256_unpacklo_epi8(b2[v], b3[v]);
        const __m256i e03 = _mm256_unpacklo_epi16(p01, p23);  // elements 0-3 of the lane's column
        const __m256i e47 = _mm256_unpackhi_epi16(p01, p23);  // elements 4-7
        std::uint8_t* dst = out + 32 * (g + 2 * static_cast<std::size_t>(v) + static_cast<std::size_t>(half));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permute2x128_si256(e03, e47, 0x20));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 32 * 16), _mm256_permute2x128_si256(e03, e47, 0x31));
      }
    }
  }
  return g;
}
#endif

bool fast_bitshuffle(std::size_t elem_size) {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool avx2 = __builtin_cpu_supports("avx2") && std::getenv("LIBPDF_NO_SIMD") == nullptr;
  return avx2 && (elem_size == 2 || elem_size == 4);
#else
  (void)elem_size;
  return false;
#endif
}

void bit_untranspose(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::size_t elem_size) {
  const std::size_t row = n / 8;  // bytes per bit row
  if (elem_size == 2) {
    std::size_t g0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (fast_bitshuffle(2)) g0 = bit_untranspose2_avx2(in, out, row);
#endif
    // The common case (uint16 frames): both byte planes of a group of 8 elements at once, stored as 16-bit words.
    for (std::size_t g = g0; g < row; ++g) {
      std::uint64_t y0 = 0, y1 = 0;
      for (std::size_t k = 0; k < 8; ++k) {
        y0 |= std::uint64_t{in[k * row + g]} << (8 * k);
        y1 |= std::uint64_t{in[(8 + k) * row + g]} << (8 * k);
      }
      const std::uint64_t x0 = transpose8x8(y0), x1 = transpose8x8(y1);
      std::uint8_t* dst = out + 16 * g;
      for (std::size_t j = 0; j < 8; ++j) {
        dst[2 * j] = static_cast<std::uint8_t>(x0 >> (8 * j));
        dst[2 * j + 1] = static_cast<std::uint8_t>(x1 >> (8 * j));
      }
    }
    return;
  }
  std::size_t g0 = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (elem_size == 4 && fast_bitshuffle(4)) g0 = bit_untranspose4_avx2(in, out, row);
#endif
  for (std::size_t b = 0; b < elem_size; ++b) {
    const std::uint8_t* rows = in + b * 8 * row;
    for (std::size_t g = g0; g < row; ++g) {
      std::uint64_t y = 0;
      for (std::size_t k = 0; k < 8; ++k) y |= std::uint64_t{rows[k * row + g]} << (8 * k);
      const std::uint64_t x = transpose8x8(y);  // byte j: byte b of element 8g + j
      std::uint8_t* dst = out + 8 * g * elem_size + b;
      for (std::size_t j = 0; j < 8; ++j) dst[j * elem_size] = static_cast<std::uint8_t>(x >> (8 * j));
    }
  }
}

void bitshuffle_decode(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes,
                       std::size_t elem_size, std::size_t block_elems, bool lz4) {
  std::size_t ip = 0;
  if (lz4) {
    if (in_bytes < 12) throw DecodeError("bitshuffle chunk of " + std::to_string(in_bytes) + " bytes has no header");
    const std::uint64_t total = read_be64(in);
    if (total != out_bytes) {
      throw DecodeError("bitshuffle header says " + std::to_string(total) + " bytes; the chunk holds " +
                        std::to_string(out_bytes));
    }
    const std::uint32_t block_bytes = read_be32(in + 8);
    if (block_bytes == 0 || block_bytes % (8 * elem_size) != 0) {
      throw DecodeError("bitshuffle block size of " + std::to_string(block_bytes) + " bytes is not a multiple of 8 elements");
    }
    block_elems = block_bytes / elem_size;
    ip = 12;
  } else if (block_elems == 0) {
    block_elems = default_block(elem_size);
  }
  if (block_elems % 8 != 0) throw DecodeError("bitshuffle block of " + std::to_string(block_elems) + " elements");
  const std::size_t n = out_bytes / elem_size;
  // First the layout of the blocks (a walk over their 4-byte headers), then the blocks themselves, which are
  // independent: decoded on OpenMP threads (a frame in one chunk still uses every core).
  struct Block {
    std::size_t in, in_bytes, out, elems;
  };
  std::vector<Block> blocks;
  std::size_t done = 0;  // elements
  while (n - done >= 8) {
    std::size_t m = std::min(block_elems, n - done);
    m -= m % 8;
    const std::size_t bytes = m * elem_size;
    if (lz4) {
      if (in_bytes - ip < 4) throw DecodeError("bitshuffle chunk ends before a block header");
      const std::size_t cbytes = read_be32(in + ip);
      ip += 4;
      if (cbytes > in_bytes - ip) throw DecodeError("bitshuffle block of " + std::to_string(cbytes) + " bytes runs past the chunk");
      blocks.push_back({ip, cbytes, done * elem_size, m});
      ip += cbytes;
    } else {
      if (bytes > in_bytes - ip) throw DecodeError("bitshuffle chunk is shorter than its data");
      blocks.push_back({ip, bytes, done * elem_size, m});
      ip += bytes;
    }
    done += m;
  }
  std::vector<std::string> errors(blocks.size());
  const auto nb = static_cast<std::ptrdiff_t>(blocks.size());
#pragma omp parallel if (nb > 8)
  {
    std::vector<std::uint8_t> tmp(lz4 ? block_elems * elem_size : 0);
#pragma omp for schedule(static)
    for (std::ptrdiff_t k = 0; k < nb; ++k) {
      const Block& bl = blocks[static_cast<std::size_t>(k)];
      try {
        const std::uint8_t* bits = in + bl.in;
        if (lz4) {
          lz4_block(in + bl.in, bl.in_bytes, tmp.data(), bl.elems * elem_size);
          bits = tmp.data();
        }
        bit_untranspose(bits, out + bl.out, bl.elems, elem_size);
      } catch (const std::exception& e) {
        errors[static_cast<std::size_t>(k)] = "block " + std::to_string(k) + ": " + e.what();
      }
    }
  }
  for (const std::string& e : errors) {
    if (!e.empty()) throw DecodeError(e);
  }
  const std::size_t rest = out_bytes - done * elem_size;  // < 8 elements (+ any partial element), stored raw
  if (rest > in_bytes - ip) throw DecodeError("bitshuffle chunk is shorter than its data");
  std::memcpy(out + done * elem_size, in + ip, rest);
  ip += rest;
  if (ip != in_bytes) {
    throw DecodeError("bitshuffle chunk has " + std::to_string(in_bytes - ip) + " bytes after its data");
  }
}

void decode(const std::vector<Filter>& pipeline, unsigned filter_mask, std::size_t elem_size,
            const std::vector<std::uint8_t>& raw, std::uint8_t* out, std::size_t out_bytes) {
  // Undo the filters from the last applied to the first; two buffers alternate between the steps, the last
  // step writes straight into out.
  std::vector<std::size_t> active;
  for (std::size_t k = 0; k < pipeline.size(); ++k) {
    if (!(filter_mask & (1u << k))) active.push_back(k);
  }
  if (active.empty()) {
    if (raw.size() != out_bytes) {
      throw DecodeError("unfiltered chunk of " + std::to_string(raw.size()) + " bytes; " + std::to_string(out_bytes) +
                        " expected");
    }
    std::memcpy(out, raw.data(), out_bytes);
    return;
  }
  std::vector<std::uint8_t> a, b;
  const std::uint8_t* src = raw.data();
  std::size_t src_bytes = raw.size();
  for (std::size_t step = active.size(); step-- > 0;) {
    const Filter& f = pipeline[active[step]];
    std::uint8_t* dst = nullptr;
    if (step == 0) {
      dst = out;
    } else {
      std::vector<std::uint8_t>& buf = (src == a.data() && !a.empty()) ? b : a;
      buf.resize(out_bytes);
      dst = buf.data();
    }
    // Every filter here preserves the decoded size, which is the chunk's full size.
    switch (f.id) {
      case kDeflate:
        inflate_zlib(src, src_bytes, dst, out_bytes);
        break;
      case kShuffle:
        if (src_bytes != out_bytes) {
          throw DecodeError("shuffled data of " + std::to_string(src_bytes) + " bytes; " + std::to_string(out_bytes) +
                            " expected");
        }
        unshuffle(src, dst, out_bytes, elem_size);
        break;
      case kBitshuffle: {
        const std::size_t block = f.cd_values.size() > 3 ? f.cd_values[3] : 0;
        const bool lz4 = f.cd_values.size() > 4 && f.cd_values[4] == 2;
        bitshuffle_decode(src, src_bytes, dst, out_bytes, elem_size, block, lz4);
        break;
      }
      default:
        throw DecodeError("filter " + std::to_string(f.id) + " is not handled by the direct chunk reader");
    }
    src = dst;
    src_bytes = out_bytes;
  }
}

}  // namespace libpdf::detail::chunk
