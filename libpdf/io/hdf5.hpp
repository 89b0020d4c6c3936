#pragma once
// libpdf's private, thin RAII layer over the HDF5 C API (in the spirit of HighFive, which Debian does
// not ship). It never appears in public headers: HDF5 types stay inside the library.
//
// What it gives the rest of libpdf:
//  - Handle: owns one hid_t (file, group, dataset, dataspace, datatype, attribute, property list) and
//    closes it with the matching H5?close.
//  - Checked calls: every failing HDF5 call throws libpdf::IoError whose message names the file, the
//    object path and what was attempted, followed by the HDF5 error stack (walked into text). HDF5's
//    automatic printing of that stack to stderr is switched off for the duration of each call and
//    restored afterwards, so a host program that uses HDF5 itself keeps its own setting.
//  - Reading: frames (hyperslabs) of 2-D/3-D datasets into an Image of their native type, numeric
//    datasets and attributes as double, string datasets and attributes (fixed or variable length).
//  - Writing (for tests and the NeXus writer): groups, chunked/gzip datasets of any PixelType or double,
//    hyperslab writes, string and numeric attributes.
//
// Thread safety: every call into HDF5 made here holds one process-wide recursive mutex, because a
// serial HDF5 built without --enable-threadsafe must never be entered by two threads at once (Debian's
// build is thread-safe, but it also serialises internally, so the mutex costs nothing there).
//
// The symbols are exported (LIBPDF_API) only so that libpdf's own tests can write their fixture files
// through this layer; the header is not installed and is not part of the API.
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/image.hpp"

namespace libpdf::detail::h5 {

/// The HDF5 filter id of bitshuffle (+LZ4), used by Dectris Eiger files.
inline constexpr H5Z_filter_t kBitshuffleFilter = 32008;
/// A dimension of DatasetOptions::max_shape that may grow without limit.
inline constexpr std::size_t kUnlimited = std::numeric_limits<std::size_t>::max();

/// Holds the process-wide HDF5 mutex and switches HDF5's automatic error printing off while alive
/// (restoring the previous handler on destruction). Nests freely within one thread.
class LIBPDF_API ApiGuard {
 public:
  ApiGuard();
  ~ApiGuard();
  ApiGuard(const ApiGuard&) = delete;
  ApiGuard& operator=(const ApiGuard&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  H5E_auto2_t saved_func_ = nullptr;
  void* saved_data_ = nullptr;
  bool restore_ = false;
};

/// The current thread's HDF5 error stack as text, one frame per line (innermost call last).
LIBPDF_API std::string error_stack();

/// Throws IoError("<context>: <what>" + HDF5 error stack). Call right after the failing HDF5 call,
/// before any other HDF5 call replaces the stack.
[[noreturn]] LIBPDF_API void throw_error(const std::string& context, const std::string& what);

/// Owns one HDF5 identifier and closes it (H5Fclose, H5Gclose, H5Dclose, H5Sclose, H5Tclose, H5Aclose,
/// H5Pclose, by its H5Iget_type) when destroyed. Move-only.
class LIBPDF_API Handle {
 public:
  Handle() = default;
  /// Takes ownership of @p id (which may be negative = invalid).
  explicit Handle(hid_t id) noexcept : id_(id) {}
  ~Handle();
  Handle(Handle&& other) noexcept : id_(other.release()) {}
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t id() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }
  /// Gives up ownership without closing.
  hid_t release() noexcept;
  /// Closes now (no-op when invalid).
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// What a path inside a file names.
enum class ObjectType { none, group, dataset, datatype, other };

/// Creation options for datasets written by libpdf.
struct DatasetOptions {
  std::vector<std::size_t> chunks;     ///< Chunk shape (empty = contiguous, unless gzip/max_shape need chunks).
  int gzip_level = -1;                 ///< Deflate level 0..9; -1 = no compression.
  bool shuffle = false;                ///< Byte shuffle before deflate (helps integer frames).
  std::vector<std::size_t> max_shape;  ///< Maximum shape (kUnlimited = growable); empty = fixed.
  bool bitshuffle_lz4 = false;         ///< Bitshuffle + LZ4 (filter 32008, as Dectris Eiger writes); needs the plugin.
};

/// The native HDF5 memory type of a PixelType (a predefined type: never close it).
LIBPDF_API hid_t native_type(PixelType t);
/// The PixelType of an HDF5 datatype, or nullopt when it is not one of u16/i16/u32/i32/f32/f64.
LIBPDF_API std::optional<PixelType> pixel_type_of(hid_t type);
/// A short description of an HDF5 datatype: "int8", "uint64", "float16", "string", "compound", ...
LIBPDF_API std::string type_name(hid_t type);

class Group;

/// An open HDF5 object (group or dataset) with its attributes. Keeps its file open while alive.
class LIBPDF_API Object {
 public:
  hid_t id() const noexcept { return handle_.id(); }
  /// The file system path of the file this object lives in.
  const std::string& file_path() const noexcept { return file_path_; }
  /// The object's absolute path inside the file ("/" for the root group).
  const std::string& path() const noexcept { return path_; }
  /// "HDF5 file '<file>', <kind> '<path>'" for messages.
  std::string where() const;
  /// What the object is, independent of the path it was reached by (its file number and object header
  /// address; a token from HDF5 1.12 on): equal for two paths naming one object through hard or soft links,
  /// so walks of a tree can visit each object once even when links form cycles.
  std::string identity() const;

  bool has_attribute(const std::string& name) const;
  /// A string attribute (scalar or one element; fixed or variable length). @throws IoError if it is
  /// absent or not a string.
  std::string string_attribute(const std::string& name) const;
  /// A string attribute, or nullopt when absent or not a string.
  std::optional<std::string> string_attribute_or_none(const std::string& name) const;
  /// A numeric attribute (integer or float, any shape) as doubles. @throws IoError if absent/not numeric.
  std::vector<double> numeric_attribute(const std::string& name) const;

  /// Writes (replacing any existing) a scalar variable-length UTF-8 string attribute, as h5py does.
  void write_attribute(const std::string& name, std::string_view value);
  /// Writes (replacing) a scalar float64 attribute.
  void write_attribute(const std::string& name, double value);
  /// Writes (replacing) a 1-D float64 attribute.
  void write_attribute(const std::string& name, const std::vector<double>& values);
  /// Writes (replacing) a 1-D array of variable-length UTF-8 strings (NeXus @axes = [".", "radial_axis"]).
  void write_attribute(const std::string& name, const std::vector<std::string>& values);
  /// Writes (replacing) a scalar int64 attribute.
  void write_int_attribute(const std::string& name, long long value);

 protected:
  Object(Handle h, std::string file_path, std::string path, const char* kind);
  Object() = default;
  Handle handle_;
  std::string file_path_;
  std::string path_;
  const char* kind_ = "object";
};

/// An open dataset.
class LIBPDF_API Dataset : public Object {
 public:
  /// Shape (empty for a scalar).
  std::vector<std::size_t> shape() const;
  std::size_t rank() const { return shape().size(); }
  /// A short description of the stored element type ("int16", "int8", "string", ...).
  std::string type_name() const;
  /// The stored element type. @throws IoError naming the dataset and its type when it is not one of
  /// uint16, int16, uint32, int32, float32, float64.
  PixelType pixel_type() const;
  /// Whether the dataset's filter pipeline contains filter @p id.
  bool has_filter(H5Z_filter_t id) const;
  /// Throws a clear IoError when a filter the dataset needs is not available in this HDF5 (bitshuffle
  /// gets install instructions).
  void check_filters_available() const;

  /// Frame @p index of a 3-D (frames, rows, cols) dataset, or the whole of a 2-D one (index must be 0),
  /// in its native type.
  Image read_frame(std::size_t index) const;
  /// read_frame into @p out, reusing its memory when its type and shape already match.
  void read_frame_into(std::size_t index, Image& out) const;
  /// A hyperslab (offsets, counts per dimension) as doubles (any integer, float or integer-enum type).
  std::vector<double> read_doubles(const std::vector<std::size_t>& offsets,
                                   const std::vector<std::size_t>& counts) const;
  /// The whole dataset as doubles (scalars and 1-D parameter datasets).
  std::vector<double> read_doubles() const;
  /// A string dataset (scalar or one element).
  std::string read_string() const;

  /// Writes the whole dataset from memory of HDF5 type @p mem_type.
  void write(hid_t mem_type, const void* data);
  /// Writes a hyperslab from memory of HDF5 type @p mem_type laid out as @p counts (C order).
  void write_slab(const std::vector<std::size_t>& offsets, const std::vector<std::size_t>& counts,
                  hid_t mem_type, const void* data);
  /// Writes frame @p index of a 3-D dataset (or the whole 2-D one) from @p frame (converting its type).
  void write_frame(std::size_t index, const ImageView& frame);
  /// Grows (or shrinks) a chunked dataset to @p new_shape (needs max_shape at creation).
  void resize(const std::vector<std::size_t>& new_shape);
  /// Closes the dataset now, reporting what its close does (writing cached chunks) as an IoError; the
  /// destructor has to drop such errors.
  void close();

  /// One filter of the dataset's pipeline, as stored.
  struct FilterInfo {
    H5Z_filter_t id = 0;
    std::string name;               ///< The name HDF5 or the plugin registered ("deflate", "shuffle", "bitshuffle; see ...").
    std::vector<unsigned> cd_values;  ///< Client data (deflate: level; bitshuffle: block size, compression, ...).
    bool optional = false;
  };
  /// The filter pipeline in order of application (empty for an unfiltered dataset).
  std::vector<FilterInfo> filters() const;
  /// Chunk shape (empty for a contiguous or compact dataset).
  std::vector<std::size_t> chunk_shape() const;
  /// Whether the maximum shape's first dimension is unlimited (a growable stack).
  bool growable() const;
  /// Bytes the dataset occupies in the file (compressed), as H5Dget_storage_size reports.
  std::size_t storage_bytes() const;
  /// For a chunked 3-D stack whose chunks hold single frames: whether frame @p index has been written
  /// (its chunk is allocated). Always true for contiguous datasets and chunks spanning several frames,
  /// where this cannot be told without reading.
  bool frame_written(std::size_t index) const;
  /// Reads a 1-D integer dataset as 64-bit integers (exact beyond 2^53).
  std::vector<long long> read_int64s() const;

  /// Whether the stored elements are pixel_type()'s in this machine's byte order (so raw chunk bytes, once
  /// unfiltered, are the frame's bytes). False for other types or byte orders.
  bool stored_as_native_pixels() const;
  /// Whether the elements are stored as this machine's double (so raw chunks of doubles are its bytes).
  bool stored_as_native_doubles() const;
  /// Direct chunk read (H5Dread_chunk): the stored, still filtered bytes of the chunk whose first element is
  /// at @p offset (one entry per dimension, a multiple of the chunk shape), into @p out, and the mask of the
  /// filters skipped for it. Returns false (out empty) when the chunk is not allocated. Holds the HDF5 mutex
  /// only for the read itself; decompress outside it (libpdf/io/chunk_codec.hpp). @throws IoError.
  bool read_raw_chunk(const std::vector<std::size_t>& offset, std::vector<std::uint8_t>& out,
                      unsigned& filter_mask) const;
  /// Writes one chunk's bytes as stored (already through the dataset's filters, none skipped: mask 0) at the
  /// chunk starting at @p offset (H5Dwrite_chunk). @throws IoError naming the dataset.
  void write_raw_chunk(const std::vector<std::size_t>& offset, const std::uint8_t* bytes, std::size_t size);

 private:
  friend class Group;
  using Object::Object;
  Handle file_space() const;
  void read_slab(const std::vector<std::size_t>& offsets, const std::vector<std::size_t>& counts,
                 hid_t mem_type, void* out, const std::string& what) const;
};

/// An open group (the File is its root group).
class LIBPDF_API Group : public Object {
 public:
  /// Whether @p rel_path (relative to this group, or absolute) names an existing object: every link
  /// on the way exists and resolves (dangling soft/external links count as absent).
  bool exists(const std::string& rel_path) const;
  /// What @p rel_path names (ObjectType::none when it does not exist).
  ObjectType object_type(const std::string& rel_path) const;
  /// Names of the members (links) of this group, sorted.
  std::vector<std::string> member_names() const;

  Group open_group(const std::string& rel_path) const;
  /// @throws IoError naming the file and path (and whether it is missing or not a dataset).
  Dataset open_dataset(const std::string& rel_path) const;

  /// Creates a group (and missing intermediate groups), or opens it if it exists (h5py's
  /// require_group); with @p nx_class, sets its NX_class attribute.
  Group create_group(const std::string& rel_path, std::string_view nx_class = {});
  /// Creates a dataset of HDF5 file type @p file_type (missing intermediate groups are created).
  Dataset create_dataset(const std::string& rel_path, hid_t file_type, const std::vector<std::size_t>& shape,
                         const DatasetOptions& options = {});
  /// Creates and writes a dataset of @p type with @p shape from @p data (native layout, C order).
  Dataset write_dataset(const std::string& rel_path, PixelType type, const std::vector<std::size_t>& shape,
                        const void* data, const DatasetOptions& options = {});
  /// Creates and writes a float64 dataset; an empty @p shape means 1-D of values.size().
  Dataset write_dataset(const std::string& rel_path, const std::vector<double>& values,
                        std::vector<std::size_t> shape = {}, const DatasetOptions& options = {});
  /// Creates and writes a scalar variable-length UTF-8 string dataset.
  Dataset write_string_dataset(const std::string& rel_path, std::string_view value);
  /// Creates and writes a scalar boolean as h5py stores numpy booleans (an int8 enum FALSE = 0, TRUE = 1),
  /// which NeXus readers take as NX_BOOLEAN.
  Dataset write_bool_dataset(const std::string& rel_path, bool value);
  /// Creates and writes a 1-D int64 dataset (with @p options, e.g. growable).
  Dataset write_int64_dataset(const std::string& rel_path, const std::vector<long long>& values,
                              const DatasetOptions& options = {});
  /// Creates a hard link @p rel_path to the existing object at @p target (absolute path in this file).
  void create_hard_link(const std::string& rel_path, const std::string& target);
  /// Creates a soft link @p rel_path pointing to @p target (absolute path; may dangle).
  void create_soft_link(const std::string& rel_path, const std::string& target);
  /// Creates an external link @p rel_path to @p object in @p file (a path relative to this file's folder
  /// is resolved there, as Eiger master files do).
  void create_external_link(const std::string& rel_path, const std::string& file, const std::string& object);
  /// When @p rel_path is an external link: its target (file name as stored, object path); else nullopt.
  std::optional<std::pair<std::string, std::string>> external_link(const std::string& rel_path) const;
  /// Removes the link @p rel_path (the object goes when no other link holds it).
  void remove(const std::string& rel_path);

  /// Resolves @p rel_path against this group's path ("/a/b" + "c" -> "/a/b/c"; absolute stays).
  std::string child_path(const std::string& rel_path) const;

 protected:
  using Object::Object;
};

/// An open HDF5 file; behaves as its root group. The file stays open while any object from it lives.
class LIBPDF_API File : public Group {
 public:
  enum class Mode { read_only, read_write };
  /// Opens an existing file. @throws IoError naming the file (missing, not HDF5, truncated, ...).
  /// With @p write_through, datasets opened from it get no chunk cache: every H5Dwrite puts its chunks
  /// into the file before it returns, so a failing write (disk full) is reported by that write, naming
  /// the dataset, instead of at a later flush or close (where HDF5 pushes past a failed raw-data flush
  /// and still writes the metadata that points to it).
  static File open(const std::string& path, Mode mode = Mode::read_only, bool write_through = false);

  /// While an object of this class lives, read-only File::open calls on this thread take no HDF5 file lock.
  /// HDF5 locks a file it opens for reading (shared) and fails at once, without waiting, to open it for
  /// writing while another process holds such a lock; a reader following a series that acquisition software
  /// is still writing (the software opening, extending and closing the file for each frame) must never make
  /// that writer fail. The follower reads such files without a lock and checks every frame for completeness
  /// itself (FrameFollower). Writers always lock.
  class WithoutReadLocks {
   public:
    WithoutReadLocks();
    ~WithoutReadLocks();
    WithoutReadLocks(const WithoutReadLocks&) = delete;
    WithoutReadLocks& operator=(const WithoutReadLocks&) = delete;

   private:
    bool previous_;
  };
  /// Creates a file, replacing any existing one.
  static File create(const std::string& path);
  /// Flushes buffered data to disk. @throws IoError (with the system's reason, e.g. no space left).
  void flush();
  /// Flushes and closes the file now, reporting errors of the final flush (every object opened from it
  /// must be gone first, or HDF5 keeps it open until they are and the errors are lost).
  void close();
  /// The file's size as HDF5 sees it: the larger of its end on disk and its end of allocated space.
  std::size_t size() const;
  /// Closes the file without letting anything still held in memory reach the disk: its descriptor is
  /// pointed at an anonymous memory file first. After a failed write the metadata HDF5 caches refers to space the write
  /// never filled; flushing it would overwrite the consistent state of the last successful flush (the
  /// file would no longer open). The file stays exactly as that flush left it (plus unreferenced bytes
  /// beyond its end of allocation, which readers ignore). Never throws.
  void abandon() noexcept;
  /// Allocates @p bytes of disk space just past the file's end without changing its size (fallocate with
  /// FALLOC_FL_KEEP_SIZE), so that the writes and the flush that follow, up to that many bytes, cannot fail
  /// for want of space: HDF5 rewrites metadata in place during a flush, and a flush that runs out of room
  /// half-way leaves a file that no longer opens. Space already reserved is not allocated twice.
  /// @return false when nothing could be reserved here (a driver other than POSIX sec2, or a file system
  /// without fallocate): the writes proceed unprotected. @throws IoError naming the file and the system's
  /// reason when the file system has no room (ENOSPC, EDQUOT) or the size limit forbids it (EFBIG).
  bool reserve(std::size_t bytes);
  /// Gives back what reserve() allocated past the file's end (called before closing). Never throws.
  void release_reserve() noexcept;
  /// What became of the path this file was opened by: "" while it still names this file; otherwise what
  /// happened ("deleted", "replaced by another file"). POSIX keeps a deleted file's data until its last
  /// descriptor closes, so a writer that does not ask would close it and lose everything it wrote.
  std::string path_status() const;
  /// Copies the file's bytes as they are on disk now (call flush() first) into a new file @p dest, written
  /// atomically (temporary file, then rename). Used to save a file whose path was deleted while it was open.
  /// @throws IoError naming both files.
  void copy_to(const std::string& dest) const;
  /// Whether the HDF5 library can apply filter @p id (built in or loadable plugin; tries to load it).
  static bool filter_available(H5Z_filter_t id);

 private:
  using Group::Group;
  // The POSIX descriptor under the sec2 driver, -1 with any other driver.
  int descriptor() const;
  std::size_t reserved_end_ = 0;  // the file offset up to which reserve() allocated
};

}  // namespace libpdf::detail::h5
