#pragma once
// Decoders of the HDF5 chunk filters that detector files use, applied to raw chunks fetched with
// H5Dread_chunk (direct chunk read) so that decompression runs outside the process-wide HDF5 mutex, on as
// many threads as read frames (libpdf/io/hdf5.hpp explains the mutex). Each function states the exact
// on-disk format it decodes; every length is checked against the buffer it reads, so a corrupt chunk gives a
// DecodeError (never a read outside the buffers). Results are bit-identical to HDF5's own filters
// (tests/test_io_fast.cpp compares them with H5Dread).
//
// Formats:
//  - deflate (filter 1): one zlib stream (RFC 1950) per chunk, as H5Z_FILTER_DEFLATE writes it (compress2).
//  - shuffle (filter 2): the bytes of n elements of size s regrouped by significance: stored byte b·n + i is
//    byte b of element i; the last (size mod s) bytes are stored as they are.
//  - bitshuffle (filter 32008, cd_values: [0..1] plugin version, [2] element size, [3] block size in elements
//    (0: default), [4] compression: 0 none, 2 LZ4): with LZ4 the chunk starts with the uncompressed size
//    (uint64, big-endian) and the block size in bytes (uint32, big-endian); then, for every block of B
//    elements (B a multiple of 8), its compressed size (uint32, big-endian) and one LZ4 block; the last
//    (n mod B) elements rounded down to a multiple of 8 form one more, shorter block; the final (n mod 8)
//    elements are stored raw. Without compression the blocks follow each other without headers. Inside a
//    block of m elements the bits are transposed: stored bit row (8·b + k), m/8 bytes long, holds bit k of
//    byte b of every element, element i at bit (i mod 8) of byte i/8.
//  - LZ4 block format (lz4's doc/lz4_Block_format.md): sequences of a token (literal length in the high
//    nibble, match length − 4 in the low nibble, 15 meaning "more bytes follow, each adding up to 255"),
//    the literals, a 2-byte little-endian match offset and the match, copied byte by byte (it may overlap
//    its own output). The last sequence has literals only.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "libpdf/export.hpp"

namespace libpdf::detail::chunk {

/// A chunk that does not decode; the message says what is wrong (the caller adds file, dataset and frame).
class LIBPDF_API DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// HDF5 filter ids handled here.
inline constexpr int kDeflate = 1;
inline constexpr int kShuffle = 2;
inline constexpr int kBitshuffle = 32008;

/// One filter of a dataset's pipeline (id and client data, as H5Pget_filter2 reports them).
struct Filter {
  int id = 0;
  std::vector<unsigned> cd_values;
};

/// Encoders for the writer's own chunks (direct chunk writes of the result file's rows, compressed by the
/// calling thread outside the HDF5 mutex; readers, HDF5's filters included, decode them as any other chunk).
/// shuffle: the inverse of unshuffle. deflate_zlib: one zlib stream (RFC 1950) of @p bytes at @p level 0..9
/// (clamped), written to @p out, which is resized to the stream's length. @throws DecodeError if the compressor
/// cannot be set up.
LIBPDF_API void shuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t bytes, std::size_t elem_size);
LIBPDF_API void deflate_zlib(const std::uint8_t* in, std::size_t bytes, int level, std::vector<std::uint8_t>& out);

/// Whether bit_untranspose has a vector path for @p elem_size-byte elements on this machine (AVX2, 2 or 4 bytes):
/// then decoding bitshuffle here beats HDF5's plugin, which also runs under HDF5's process-wide mutex.
LIBPDF_API bool fast_bitshuffle(std::size_t elem_size);

/// Whether decode() handles this pipeline for elements of @p elem_size bytes (deflate, shuffle, and
/// bitshuffle without compression or with LZ4, in any order; nothing else).
LIBPDF_API bool supported(const std::vector<Filter>& pipeline, std::size_t elem_size);

/// Undoes @p pipeline (in the order of application, as stored; applied here in reverse) on one raw chunk.
/// Filters whose bit is set in @p filter_mask were skipped when the chunk was written (HDF5's
/// H5Dread_chunk mask) and are skipped here too. @p out receives exactly @p out_bytes bytes (the chunk's
/// full size). @throws DecodeError.
LIBPDF_API void decode(const std::vector<Filter>& pipeline, unsigned filter_mask, std::size_t elem_size,
            const std::vector<std::uint8_t>& raw, std::uint8_t* out, std::size_t out_bytes);

/// Inflates a zlib stream into exactly @p out_bytes bytes. @throws DecodeError (corrupt, short or long).
LIBPDF_API void inflate_zlib(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes);
/// Inverse of the shuffle filter (see the file comment).
LIBPDF_API void unshuffle(const std::uint8_t* in, std::uint8_t* out, std::size_t bytes, std::size_t elem_size);
/// Decompresses one LZ4 block into exactly @p out_bytes bytes (liblz4 where the build found it, else
/// lz4_block_portable). @throws DecodeError.
LIBPDF_API void lz4_block(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes);
/// lz4_block by libpdf's own decoder (the format in the file comment), the fallback without liblz4.
LIBPDF_API void lz4_block_portable(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out,
                                   std::size_t out_bytes);
/// Inverse of bitshuffle's bit transposition of @p n elements (n a multiple of 8) of @p elem_size bytes.
LIBPDF_API void bit_untranspose(const std::uint8_t* in, std::uint8_t* out, std::size_t n, std::size_t elem_size);
/// Decodes one bitshuffle chunk (with LZ4 when @p lz4) of @p out_bytes bytes (see the file comment);
/// @p block_elems is the filter's block size (cd_values[3], 0 = default). @throws DecodeError.
LIBPDF_API void bitshuffle_decode(const std::uint8_t* in, std::size_t in_bytes, std::uint8_t* out, std::size_t out_bytes,
                       std::size_t elem_size, std::size_t block_elems, bool lz4);

/// Process-wide switch of the direct chunk path of HDF5 frame reading (on by default). Off, every frame goes
/// through H5Dread: for benchmarks comparing the two in one run, and tests.
LIBPDF_API void set_direct_reads(bool enabled);
/// Whether the direct chunk path is on.
LIBPDF_API bool direct_reads();

}  // namespace libpdf::detail::chunk
