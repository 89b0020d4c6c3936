#include "libpdf/io/hdf5.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/error.hpp"

namespace libpdf::detail::h5 {
namespace {

// One mutex for every HDF5 call libpdf makes (see the header: serial HDF5 builds are not re-entrant).
// Recursive because wrappers call wrappers (and Handle destructors run inside guarded functions).
std::recursive_mutex& api_mutex() {
  static std::recursive_mutex m;
  return m;
}

std::string join_shape(const std::vector<std::size_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::vector<hsize_t> to_hsize(const std::vector<std::size_t>& v) {
  return std::vector<hsize_t>(v.begin(), v.end());
}

// Walks one frame of the error stack into text: "H5Fopen(): unable to open file [File accessibility:
// Unable to open file]". File names and line numbers of HDF5's own sources are left out: they help
// nobody reading a libpdf message.
herr_t walk_frame(unsigned n, const H5E_error2_t* e, void* client) {
  auto* out = static_cast<std::string*>(client);
  char major[160] = "";
  char minor[160] = "";
  H5E_type_t kind;
  H5Eget_msg(e->maj_num, &kind, major, sizeof major);
  H5Eget_msg(e->min_num, &kind, minor, sizeof minor);
  *out += "  #" + std::to_string(n) + " " + (e->func_name ? e->func_name : "?") + "(): " +
          (e->desc ? e->desc : "") + " [" + major + ": " + minor + "]\n";
  return 0;
}

// Runs an HDF5 call that returns a negative value on failure; throws with the stack when it fails.
template <class T>
T checked(T ret, const std::string& context, const std::string& what) {
  if (ret < 0) throw_error(context, what);
  return ret;
}

std::string file_context(const std::string& file) { return "HDF5 file '" + file + "'"; }

// Splits "/a/b//c/" into {"a", "b", "c"}.
std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::string cur;
  for (char ch : path) {
    if (ch == '/') {
      if (!cur.empty()) parts.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) parts.push_back(std::move(cur));
  return parts;
}

// What the extent of a dataspace is. Null dataspaces (no elements at all) count as shape ().
std::vector<std::size_t> space_shape(hid_t space, const std::string& context) {
  const int rank = checked(H5Sget_simple_extent_ndims(space), context, "cannot get the rank of the dataspace");
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  if (rank > 0) checked(H5Sget_simple_extent_dims(space, dims.data(), nullptr), context, "cannot get the dimensions");
  return std::vector<std::size_t>(dims.begin(), dims.end());
}

std::size_t element_count(const std::vector<std::size_t>& shape) {
  std::size_t n = 1;
  for (std::size_t d : shape) n *= d;
  return n;
}

// Abstracts "read the whole of an attribute or dataset" so string and numeric reads share code.
struct WholeReader {
  hid_t obj;
  bool attribute;
  std::string context;

  Handle type() const {
    Handle t(attribute ? H5Aget_type(obj) : H5Dget_type(obj));
    if (!t.valid()) throw_error(context, "cannot get the datatype");
    return t;
  }
  Handle space() const {
    Handle s(attribute ? H5Aget_space(obj) : H5Dget_space(obj));
    if (!s.valid()) throw_error(context, "cannot get the dataspace");
    return s;
  }
  std::size_t count() const {
    Handle s = space();
    const hssize_t n = checked(H5Sget_simple_extent_npoints(s.id()), context, "cannot count the elements");
    return static_cast<std::size_t>(n);
  }
  void read(hid_t mem_type, void* buf) const {
    const herr_t rc = attribute ? H5Aread(obj, mem_type, buf)
                                : H5Dread(obj, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    if (rc < 0) throw_error(context, "cannot read the values");
  }
};

// Reads a string (scalar or a one-element array), fixed or variable length.
std::string read_string_value(const WholeReader& r) {
  Handle ft = r.type();
  if (H5Tget_class(ft.id()) != H5T_STRING) {
    throw IoError(r.context + " holds " + type_name(ft.id()) + " values; expected a string");
  }
  const std::size_t n = r.count();
  if (n != 1) {
    throw IoError(r.context + " holds " + std::to_string(n) + " strings; expected exactly one");
  }
  const H5T_cset_t cset = H5Tget_cset(ft.id());
  const htri_t is_var = checked(H5Tis_variable_str(ft.id()), r.context, "cannot inspect the string type");
  Handle mt(checked(H5Tcopy(H5T_C_S1), r.context, "cannot copy the string type"));
  checked(H5Tset_cset(mt.id(), cset), r.context, "cannot set the character set");
  if (is_var > 0) {
    checked(H5Tset_size(mt.id(), H5T_VARIABLE), r.context, "cannot make a variable-length string type");
    char* ptr = nullptr;
    r.read(mt.id(), &ptr);
    std::string value = ptr ? std::string(ptr) : std::string();
    // HDF5 allocated the string; give it back through HDF5 (it may use its own allocator).
    if (ptr) H5free_memory(ptr);
    return value;
  }
  const std::size_t size = H5Tget_size(ft.id());
  if (size == 0) throw_error(r.context, "cannot get the string size");
  // Read as null-padded of the same size: every byte arrives, then trailing padding is cut.
  checked(H5Tset_size(mt.id(), size), r.context, "cannot set the string size");
  checked(H5Tset_strpad(mt.id(), H5T_STR_NULLPAD), r.context, "cannot set the string padding");
  std::string buf(size, '\0');
  r.read(mt.id(), buf.data());
  const H5T_str_t pad = H5Tget_strpad(ft.id());
  const std::size_t nul = buf.find('\0');
  if (nul != std::string::npos) buf.resize(nul);
  if (pad == H5T_STR_SPACEPAD) {
    while (!buf.empty() && buf.back() == ' ') buf.pop_back();
  }
  return buf;
}

// Converts raw integer bytes (of an enum's base type) to doubles.
template <class T>
void raw_to_double(const std::vector<unsigned char>& raw, std::vector<double>& out) {
  for (std::size_t i = 0; i < out.size(); ++i) {
    T v;
    std::memcpy(&v, raw.data() + i * sizeof(T), sizeof(T));
    out[i] = static_cast<double>(v);
  }
}

// HDF5 converts between integer and float types itself but not from enums (h5py stores numpy bools
// as an int8 enum): read an enum in its native form and convert its integer base here.
template <class ReadFn>
std::vector<double> read_numeric(hid_t file_type, std::size_t n, const std::string& context, ReadFn&& read) {
  std::vector<double> out(n);
  const H5T_class_t cls = H5Tget_class(file_type);
  if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
    if (n) read(H5T_NATIVE_DOUBLE, out.data());
    return out;
  }
  if (cls == H5T_ENUM) {
    Handle native(checked(H5Tget_native_type(file_type, H5T_DIR_ASCEND), context, "cannot map the enum type"));
    const std::size_t size = H5Tget_size(native.id());
    Handle super(checked(H5Tget_super(native.id()), context, "cannot get the enum's base type"));
    const bool is_signed = H5Tget_sign(super.id()) == H5T_SGN_2;
    std::vector<unsigned char> raw(n * size);
    if (n) read(native.id(), raw.data());
    switch (size) {
      case 1: is_signed ? raw_to_double<std::int8_t>(raw, out) : raw_to_double<std::uint8_t>(raw, out); break;
      case 2: is_signed ? raw_to_double<std::int16_t>(raw, out) : raw_to_double<std::uint16_t>(raw, out); break;
      case 4: is_signed ? raw_to_double<std::int32_t>(raw, out) : raw_to_double<std::uint32_t>(raw, out); break;
      case 8: is_signed ? raw_to_double<std::int64_t>(raw, out) : raw_to_double<std::uint64_t>(raw, out); break;
      default: throw IoError(context + " is an enum of " + std::to_string(size) + "-byte integers; expected 1, 2, 4 or 8");
    }
    return out;
  }
  throw IoError(context + " holds " + type_name(file_type) + " values; expected numbers (integer or float)");
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
namespace {
// Guards nest (wrappers call wrappers); only the outermost one touches HDF5's error settings. That
// matters: H5Eset_auto2 is itself an API call and would clear a pending error stack that an inner
// function is about to report.
thread_local int t_guard_depth = 0;
}  // namespace

ApiGuard::ApiGuard() : lock_(api_mutex()) {
  if (t_guard_depth++ > 0) return;
  // Save the current automatic error handler of this thread's default stack, then silence it: our
  // callers get the stack inside the exception instead of a dump on stderr.
  if (H5Eget_auto2(H5E_DEFAULT, &saved_func_, &saved_data_) >= 0) {
    restore_ = true;
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
}

ApiGuard::~ApiGuard() {
  --t_guard_depth;
  if (restore_) H5Eset_auto2(H5E_DEFAULT, saved_func_, saved_data_);
}

std::string error_stack() {
  // No ApiGuard here: callers hold one, and a new outermost guard would clear the stack first.
  std::lock_guard<std::recursive_mutex> lock(api_mutex());
  std::string out;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_frame, &out);
  return out;
}

void throw_error(const std::string& context, const std::string& what) {
  std::string stack = error_stack();
  std::string msg = context + ": " + what;
  // A failed read or write of the file driver records the system's errno deep in the stack ("errno = 28,
  // error message = ..."); put its text (e.g. "No space left on device") on the first line, where a user
  // reading the message looks for the cause.
  const std::size_t at = stack.find("errno = ");
  if (at != std::string::npos) {
    const int err = std::atoi(stack.c_str() + at + 8);
    if (err > 0) msg += ": " + std::string(std::strerror(err));
  }
  if (!stack.empty()) {
    msg += "\nHDF5 error stack:\n" + stack;
    while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  }
  throw IoError(msg);
}

// ---------------------------------------------------------------------------------------------------
Handle::~Handle() { reset(); }

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = other.release();
  }
  return *this;
}

hid_t Handle::release() noexcept {
  const hid_t id = id_;
  id_ = H5I_INVALID_HID;
  return id;
}

void Handle::reset() noexcept {
  if (id_ < 0) return;
  ApiGuard guard;
  // Close errors cannot be reported from a destructor; with the stack silenced they are dropped.
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: H5Idec_ref(id_); break;
  }
  id_ = H5I_INVALID_HID;
}

// ---------------------------------------------------------------------------------------------------
hid_t native_type(PixelType t) {
  switch (t) {
    case PixelType::u16: return H5T_NATIVE_UINT16;
    case PixelType::i16: return H5T_NATIVE_INT16;
    case PixelType::u32: return H5T_NATIVE_UINT32;
    case PixelType::i32: return H5T_NATIVE_INT32;
    case PixelType::f32: return H5T_NATIVE_FLOAT;
    case PixelType::f64: return H5T_NATIVE_DOUBLE;
  }
  throw InvalidArgument("unknown PixelType value " + std::to_string(static_cast<int>(t)));
}

std::optional<PixelType> pixel_type_of(hid_t type) {
  ApiGuard guard;
  const H5T_class_t cls = H5Tget_class(type);
  const std::size_t size = H5Tget_size(type);
  if (cls == H5T_INTEGER) {
    const bool is_signed = H5Tget_sign(type) == H5T_SGN_2;
    if (size == 2) return is_signed ? PixelType::i16 : PixelType::u16;
    if (size == 4) return is_signed ? PixelType::i32 : PixelType::u32;
    return std::nullopt;
  }
  if (cls == H5T_FLOAT) {
    // Only IEEE binary32/binary64 layouts: a 4-byte non-IEEE float (rare) still converts correctly,
    // because HDF5 converts by the type description, so size is what matters here.
    if (size == 4) return PixelType::f32;
    if (size == 8) return PixelType::f64;
  }
  return std::nullopt;
}

std::string type_name(hid_t type) {
  ApiGuard guard;
  const std::size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return std::string(H5Tget_sign(type) == H5T_SGN_2 ? "int" : "uint") + std::to_string(8 * size);
    case H5T_FLOAT: return "float" + std::to_string(8 * size);
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield" + std::to_string(8 * size);
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_ARRAY: return "array";
    case H5T_TIME: return "time";
    default: return "unknown type";
  }
}

// ---------------------------------------------------------------------------------------------------
Object::Object(Handle h, std::string file_path, std::string path, const char* kind)
    : handle_(std::move(h)), file_path_(std::move(file_path)), path_(std::move(path)), kind_(kind) {}

std::string Object::where() const { return file_context(file_path_) + ", " + kind_ + " '" + path_ + "'"; }

std::string Object::identity() const {
  ApiGuard guard;
  std::string key;
#if H5_VERSION_GE(1, 12, 0)
  H5O_info2_t info;
  checked(H5Oget_info3(id(), &info, H5O_INFO_BASIC), where(), "cannot get the object's info");
  key.assign(reinterpret_cast<const char*>(&info.token), sizeof info.token);
#else
  H5O_info_t info;
  checked(H5Oget_info2(id(), &info, H5O_INFO_BASIC), where(), "cannot get the object's info");
  key.assign(reinterpret_cast<const char*>(&info.addr), sizeof info.addr);
#endif
  // The file number tells apart objects at the same address in different files (external links).
  key.append(reinterpret_cast<const char*>(&info.fileno), sizeof info.fileno);
  return key;
}

bool Object::has_attribute(const std::string& name) const {
  ApiGuard guard;
  return checked(H5Aexists(id(), name.c_str()), where(), "cannot check for attribute '" + name + "'") > 0;
}

std::string Object::string_attribute(const std::string& name) const {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  if (!has_attribute(name)) throw IoError(ctx + " does not exist");
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot open the attribute");
  return read_string_value(WholeReader{a.id(), true, ctx});
}

std::optional<std::string> Object::string_attribute_or_none(const std::string& name) const {
  ApiGuard guard;
  if (!has_attribute(name)) return std::nullopt;
  const std::string ctx = where() + ", attribute '" + name + "'";
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot open the attribute");
  WholeReader r{a.id(), true, ctx};
  Handle t = r.type();
  if (H5Tget_class(t.id()) != H5T_STRING || r.count() != 1) return std::nullopt;
  return read_string_value(r);
}

std::vector<double> Object::numeric_attribute(const std::string& name) const {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  if (!has_attribute(name)) throw IoError(ctx + " does not exist");
  Handle a(H5Aopen(id(), name.c_str(), H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot open the attribute");
  WholeReader r{a.id(), true, ctx};
  Handle t = r.type();
  return read_numeric(t.id(), r.count(), ctx, [&](hid_t mt, void* buf) { r.read(mt, buf); });
}

namespace {
// Removes an attribute if present, so write_attribute can replace one of another type or shape.
void delete_attribute_if_present(hid_t obj, const std::string& name, const std::string& ctx) {
  if (checked(H5Aexists(obj, name.c_str()), ctx, "cannot check for the attribute") > 0) {
    checked(H5Adelete(obj, name.c_str()), ctx, "cannot delete the old attribute");
  }
}

Handle utf8_vlen_string_type(const std::string& ctx) {
  Handle t(checked(H5Tcopy(H5T_C_S1), ctx, "cannot copy the string type"));
  checked(H5Tset_size(t.id(), H5T_VARIABLE), ctx, "cannot make a variable-length string type");
  checked(H5Tset_cset(t.id(), H5T_CSET_UTF8), ctx, "cannot set UTF-8");
  return t;
}
}  // namespace

void Object::write_attribute(const std::string& name, std::string_view value) {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  delete_attribute_if_present(id(), name, ctx);
  Handle type = utf8_vlen_string_type(ctx);
  Handle space(checked(H5Screate(H5S_SCALAR), ctx, "cannot create a scalar dataspace"));
  Handle a(H5Acreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot create the attribute");
  const std::string copy(value);  // null-terminated
  const char* ptr = copy.c_str();
  checked(H5Awrite(a.id(), type.id(), &ptr), ctx, "cannot write the attribute");
}

void Object::write_attribute(const std::string& name, double value) {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  delete_attribute_if_present(id(), name, ctx);
  Handle space(checked(H5Screate(H5S_SCALAR), ctx, "cannot create a scalar dataspace"));
  Handle a(H5Acreate2(id(), name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot create the attribute");
  checked(H5Awrite(a.id(), H5T_NATIVE_DOUBLE, &value), ctx, "cannot write the attribute");
}

void Object::write_attribute(const std::string& name, const std::vector<double>& values) {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  delete_attribute_if_present(id(), name, ctx);
  const hsize_t n = values.size();
  Handle space(checked(H5Screate_simple(1, &n, nullptr), ctx, "cannot create the dataspace"));
  Handle a(H5Acreate2(id(), name.c_str(), H5T_IEEE_F64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot create the attribute");
  if (n) checked(H5Awrite(a.id(), H5T_NATIVE_DOUBLE, values.data()), ctx, "cannot write the attribute");
}

// ---------------------------------------------------------------------------------------------------
Handle Dataset::file_space() const {
  Handle s(H5Dget_space(id()));
  if (!s.valid()) throw_error(where(), "cannot get the dataspace");
  return s;
}

std::vector<std::size_t> Dataset::shape() const {
  ApiGuard guard;
  Handle s = file_space();
  return space_shape(s.id(), where());
}

std::string Dataset::type_name() const {
  ApiGuard guard;
  Handle t(H5Dget_type(id()));
  if (!t.valid()) throw_error(where(), "cannot get the datatype");
  return h5::type_name(t.id());
}

PixelType Dataset::pixel_type() const {
  ApiGuard guard;
  Handle t(H5Dget_type(id()));
  if (!t.valid()) throw_error(where(), "cannot get the datatype");
  if (auto p = pixel_type_of(t.id())) return *p;
  throw IoError(where() + " holds " + h5::type_name(t.id()) +
                " values; expected frames of uint16, int16, uint32, int32, float32 or float64");
}

bool Dataset::has_filter(H5Z_filter_t filter) const {
  ApiGuard guard;
  Handle dcpl(H5Dget_create_plist(id()));
  if (!dcpl.valid()) throw_error(where(), "cannot get the creation property list");
  const int n = checked(H5Pget_nfilters(dcpl.id()), where(), "cannot count the filters");
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0;
    std::size_t nelem = 0;
    unsigned config = 0;
    char name[64] = "";
    const H5Z_filter_t f = H5Pget_filter2(dcpl.id(), static_cast<unsigned>(i), &flags, &nelem, nullptr,
                                          sizeof name, name, &config);
    if (f < 0) throw_error(where(), "cannot inspect filter " + std::to_string(i));
    if (f == filter) return true;
  }
  return false;
}

void Dataset::check_filters_available() const {
  ApiGuard guard;
  Handle dcpl(H5Dget_create_plist(id()));
  if (!dcpl.valid()) throw_error(where(), "cannot get the creation property list");
  const int n = checked(H5Pget_nfilters(dcpl.id()), where(), "cannot count the filters");
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0;
    std::size_t nelem = 0;
    unsigned config = 0;
    char name[64] = "";
    const H5Z_filter_t f = H5Pget_filter2(dcpl.id(), static_cast<unsigned>(i), &flags, &nelem, nullptr,
                                          sizeof name, name, &config);
    if (f < 0) throw_error(where(), "cannot inspect filter " + std::to_string(i));
    // H5Zfilter_avail also tries to load a dynamic plugin from HDF5_PLUGIN_PATH / the default path.
    const htri_t avail = H5Zfilter_avail(f);
    if (avail > 0) continue;
    if (flags & H5Z_FLAG_OPTIONAL) continue;  // an optional filter is skipped by HDF5 when missing
    if (f == kBitshuffleFilter) {
      throw IoError(where() + " is compressed with the bitshuffle/LZ4 filter (HDF5 filter id 32008), "
                    "which this HDF5 library cannot load: install the Debian package `bitshuffle` "
                    "(it puts the plugin libh5bshuf.so into the plugin path "
                    "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins), or point HDF5_PLUGIN_PATH at a "
                    "folder holding it");
    }
    throw IoError(where() + " needs HDF5 filter " + std::to_string(f) + " ('" + name +
                  "'), which this HDF5 library cannot load; install its plugin and set HDF5_PLUGIN_PATH");
  }
}

void Dataset::read_slab(const std::vector<std::size_t>& offsets, const std::vector<std::size_t>& counts,
                        hid_t mem_type, void* out, const std::string& what) const {
  Handle fs = file_space();
  const std::vector<std::size_t> dims = space_shape(fs.id(), where());
  if (offsets.size() != dims.size() || counts.size() != dims.size()) {
    throw InvalidArgument(where() + ": a hyperslab of rank " + std::to_string(offsets.size()) +
                          " was asked of a dataset of shape " + join_shape(dims));
  }
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (offsets[d] > dims[d] || counts[d] > dims[d] - offsets[d]) {
      throw InvalidArgument(where() + ": " + what + " is outside the dataset's shape " + join_shape(dims));
    }
  }
  if (element_count(counts) == 0) return;
  const auto start = to_hsize(offsets);
  const auto count = to_hsize(counts);
  if (!dims.empty()) {
    checked(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), where(),
            "cannot select " + what);
  }
  Handle ms(dims.empty() ? H5Screate(H5S_SCALAR)
                         : H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  if (!ms.valid()) throw_error(where(), "cannot create the memory dataspace");
  if (H5Dread(id(), mem_type, ms.id(), fs.id(), H5P_DEFAULT, out) < 0) {
    // A missing filter makes the read fail deep inside HDF5; say what to install instead.
    std::string stack = error_stack();
    check_filters_available();
    throw IoError(where() + ": cannot read " + what + "\nHDF5 error stack:\n" + stack);
  }
}

Image Dataset::read_frame(std::size_t index) const {
  Image img;
  read_frame_into(index, img);
  return img;
}

void Dataset::read_frame_into(std::size_t index, Image& img) const {
  ApiGuard guard;
  const std::vector<std::size_t> dims = shape();
  if (dims.size() != 2 && dims.size() != 3) {
    throw IoError(where() + " has shape " + join_shape(dims) +
                  "; expected a 2-D frame (rows, cols) or a 3-D stack (frames, rows, cols)");
  }
  const std::size_t frames = dims.size() == 3 ? dims[0] : 1;
  if (index >= frames) {
    throw InvalidArgument(where() + ": frame " + std::to_string(index) + " is out of range; the dataset holds " +
                          std::to_string(frames) + " frame(s)");
  }
  const PixelType type = pixel_type();
  const std::size_t rows = dims[dims.size() - 2];
  const std::size_t cols = dims[dims.size() - 1];
  if (img.type() != type || img.rows() != rows || img.cols() != cols) img = Image(type, rows, cols);
  std::vector<std::size_t> offsets(dims.size(), 0);
  std::vector<std::size_t> counts = dims;
  if (dims.size() == 3) {
    offsets[0] = index;
    counts[0] = 1;
  }
  read_slab(offsets, counts, native_type(type), img.data(), "frame " + std::to_string(index));
}

std::vector<double> Dataset::read_doubles(const std::vector<std::size_t>& offsets,
                                          const std::vector<std::size_t>& counts) const {
  ApiGuard guard;
  Handle t(H5Dget_type(id()));
  if (!t.valid()) throw_error(where(), "cannot get the datatype");
  return read_numeric(t.id(), element_count(counts), where(), [&](hid_t mt, void* buf) {
    read_slab(offsets, counts, mt, buf, "hyperslab at " + join_shape(offsets) + " of " + join_shape(counts));
  });
}

std::vector<double> Dataset::read_doubles() const {
  ApiGuard guard;
  const std::vector<std::size_t> dims = shape();
  return read_doubles(std::vector<std::size_t>(dims.size(), 0), dims);
}

std::string Dataset::read_string() const {
  ApiGuard guard;
  return read_string_value(WholeReader{id(), false, where()});
}

void Dataset::write(hid_t mem_type, const void* data) {
  ApiGuard guard;
  checked(H5Dwrite(id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), where(), "cannot write the dataset");
}

void Dataset::write_slab(const std::vector<std::size_t>& offsets, const std::vector<std::size_t>& counts,
                         hid_t mem_type, const void* data) {
  ApiGuard guard;
  Handle fs = file_space();
  const std::vector<std::size_t> dims = space_shape(fs.id(), where());
  if (offsets.size() != dims.size() || counts.size() != dims.size()) {
    throw InvalidArgument(where() + ": a hyperslab of rank " + std::to_string(offsets.size()) +
                          " was given for a dataset of shape " + join_shape(dims));
  }
  for (std::size_t d = 0; d < dims.size(); ++d) {
    if (offsets[d] > dims[d] || counts[d] > dims[d] - offsets[d]) {
      throw InvalidArgument(where() + ": the hyperslab at " + join_shape(offsets) + " of " + join_shape(counts) +
                            " is outside the dataset's shape " + join_shape(dims));
    }
  }
  if (element_count(counts) == 0) return;
  const auto start = to_hsize(offsets);
  const auto count = to_hsize(counts);
  checked(H5Sselect_hyperslab(fs.id(), H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr), where(),
          "cannot select the hyperslab");
  Handle ms(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr));
  if (!ms.valid()) throw_error(where(), "cannot create the memory dataspace");
  checked(H5Dwrite(id(), mem_type, ms.id(), fs.id(), H5P_DEFAULT, data), where(), "cannot write the hyperslab");
}

void Dataset::write_frame(std::size_t index, const ImageView& frame) {
  ApiGuard guard;
  const std::vector<std::size_t> dims = shape();
  if (dims.size() != 2 && dims.size() != 3) {
    throw InvalidArgument(where() + " has shape " + join_shape(dims) + "; expected 2-D or 3-D to write a frame");
  }
  std::vector<std::size_t> offsets(dims.size(), 0);
  std::vector<std::size_t> counts = dims;
  if (dims.size() == 3) {
    offsets[0] = index;
    counts[0] = 1;
  } else if (index != 0) {
    throw InvalidArgument(where() + " is 2-D: only frame 0 can be written, not " + std::to_string(index));
  }
  if (counts[counts.size() - 2] != frame.rows || counts[counts.size() - 1] != frame.cols) {
    throw InvalidArgument(where() + ": a " + std::to_string(frame.rows) + " x " + std::to_string(frame.cols) +
                          " frame does not fit frames of shape " + join_shape(dims));
  }
  write_slab(offsets, counts, native_type(frame.type), frame.data);
}

void Dataset::resize(const std::vector<std::size_t>& new_shape) {
  ApiGuard guard;
  const auto dims = to_hsize(new_shape);
  checked(H5Dset_extent(id(), dims.data()), where(), "cannot resize to " + join_shape(new_shape));
}

void Dataset::close() {
  ApiGuard guard;
  if (!handle_.valid()) return;
  checked(H5Dclose(handle_.release()), where(), "cannot close the dataset (writing its cached chunks)");
}

// ---------------------------------------------------------------------------------------------------
std::string Group::child_path(const std::string& rel_path) const {
  if (!rel_path.empty() && rel_path.front() == '/') return rel_path;
  if (path_ == "/" || path_.empty()) return "/" + rel_path;
  return path_ + "/" + rel_path;
}

bool Group::exists(const std::string& rel_path) const {
  ApiGuard guard;
  const std::vector<std::string> parts = split_path(rel_path);
  if (parts.empty()) return true;  // "" or "/" name a group that exists
  // H5Lexists fails (rather than returning false) when an intermediate link is missing, so walk the
  // path one link at a time; H5Oexists_by_name then checks that the link resolves to an object.
  std::string prefix = (!rel_path.empty() && rel_path.front() == '/') ? "" : ".";
  for (const std::string& part : parts) {
    prefix = prefix.empty() ? "/" + part : prefix + "/" + part;
    const htri_t link = H5Lexists(id(), prefix.c_str(), H5P_DEFAULT);
    if (link <= 0) return false;
    const htri_t obj = H5Oexists_by_name(id(), prefix.c_str(), H5P_DEFAULT);
    if (obj <= 0) return false;
  }
  return true;
}

ObjectType Group::object_type(const std::string& rel_path) const {
  ApiGuard guard;
  if (!exists(rel_path)) return ObjectType::none;
  const std::string name = rel_path.empty() ? "." : rel_path;
  // H5Oopen + H5Iget_type reads the same on HDF5 1.10, 1.12 and 1.14 (H5Oget_info changed twice).
  Handle o(H5Oopen(id(), name.c_str(), H5P_DEFAULT));
  if (!o.valid()) throw_error(where(), "cannot open '" + rel_path + "'");
  switch (H5Iget_type(o.id())) {
    case H5I_GROUP: return ObjectType::group;
    case H5I_DATASET: return ObjectType::dataset;
    case H5I_DATATYPE: return ObjectType::datatype;
    default: return ObjectType::other;
  }
}

std::vector<std::string> Group::member_names() const {
  ApiGuard guard;
  H5G_info_t info;
  checked(H5Gget_info(id(), &info), where(), "cannot list the members");
  std::vector<std::string> names;
  names.reserve(info.nlinks);
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t len = H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (len < 0) throw_error(where(), "cannot get the name of member " + std::to_string(i));
    std::string name(static_cast<std::size_t>(len) + 1, '\0');
    if (H5Lget_name_by_idx(id(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT) < 0) {
      throw_error(where(), "cannot get the name of member " + std::to_string(i));
    }
    name.resize(static_cast<std::size_t>(len));
    names.push_back(std::move(name));
  }
  std::sort(names.begin(), names.end());
  return names;
}

Group Group::open_group(const std::string& rel_path) const {
  ApiGuard guard;
  const std::string full = child_path(rel_path);
  const ObjectType t = object_type(rel_path);
  if (t == ObjectType::none) throw IoError(file_context(file_path_) + ": group '" + full + "' does not exist");
  if (t != ObjectType::group) throw IoError(file_context(file_path_) + ": '" + full + "' is not a group");
  Handle g(H5Gopen2(id(), rel_path.empty() ? "." : rel_path.c_str(), H5P_DEFAULT));
  if (!g.valid()) throw_error(file_context(file_path_), "cannot open group '" + full + "'");
  return Group(std::move(g), file_path_, full, "group");
}

Dataset Group::open_dataset(const std::string& rel_path) const {
  ApiGuard guard;
  const std::string full = child_path(rel_path);
  const ObjectType t = object_type(rel_path);
  if (t == ObjectType::none) throw IoError(file_context(file_path_) + ": dataset '" + full + "' does not exist");
  if (t != ObjectType::dataset) {
    throw IoError(file_context(file_path_) + ": '" + full + "' is a " +
                  (t == ObjectType::group ? "group" : "non-dataset object") + ", expected a dataset");
  }
  Handle d(H5Dopen2(id(), rel_path.c_str(), H5P_DEFAULT));
  if (!d.valid()) throw_error(file_context(file_path_), "cannot open dataset '" + full + "'");
  return Dataset(std::move(d), file_path_, full, "dataset");
}

Group Group::create_group(const std::string& rel_path, std::string_view nx_class) {
  ApiGuard guard;
  const std::string full = child_path(rel_path);
  const std::string ctx = file_context(file_path_);
  Handle g;
  if (exists(rel_path)) {
    // Like h5py's require_group: an existing group is opened (a dataset there is an error).
    if (object_type(rel_path) != ObjectType::group) {
      throw IoError(ctx + ": cannot create group '" + full + "': a non-group object exists there");
    }
    g = Handle(H5Gopen2(id(), rel_path.c_str(), H5P_DEFAULT));
    if (!g.valid()) throw_error(ctx, "cannot open group '" + full + "'");
  } else {
    Handle lcpl(checked(H5Pcreate(H5P_LINK_CREATE), ctx, "cannot create a link property list"));
    checked(H5Pset_create_intermediate_group(lcpl.id(), 1), ctx, "cannot enable intermediate groups");
    g = Handle(H5Gcreate2(id(), rel_path.c_str(), lcpl.id(), H5P_DEFAULT, H5P_DEFAULT));
    if (!g.valid()) throw_error(ctx, "cannot create group '" + full + "'");
  }
  Group group(std::move(g), file_path_, full, "group");
  if (!nx_class.empty()) group.write_attribute("NX_class", nx_class);
  return group;
}

Dataset Group::create_dataset(const std::string& rel_path, hid_t file_type, const std::vector<std::size_t>& shape,
                              const DatasetOptions& options) {
  ApiGuard guard;
  const std::string full = child_path(rel_path);
  const std::string ctx = file_context(file_path_) + ", dataset '" + full + "'";
  const auto dims = to_hsize(shape);
  std::vector<hsize_t> maxdims;
  if (!options.max_shape.empty()) {
    if (options.max_shape.size() != shape.size()) {
      throw InvalidArgument(ctx + ": max_shape " + join_shape(options.max_shape) + " does not match shape " +
                            join_shape(shape));
    }
    for (std::size_t m : options.max_shape) maxdims.push_back(m == kUnlimited ? H5S_UNLIMITED : hsize_t(m));
  }
  Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                                maxdims.empty() ? nullptr : maxdims.data()));
  if (!space.valid()) throw_error(ctx, "cannot create the dataspace " + join_shape(shape));
  Handle dcpl(checked(H5Pcreate(H5P_DATASET_CREATE), ctx, "cannot create a creation property list"));
  const bool need_chunks = !options.chunks.empty() || options.gzip_level >= 0 || options.shuffle ||
                           options.bitshuffle_lz4 || !maxdims.empty();
  if (need_chunks && !shape.empty()) {
    std::vector<hsize_t> chunks;
    if (!options.chunks.empty()) {
      if (options.chunks.size() != shape.size()) {
        throw InvalidArgument(ctx + ": chunk shape " + join_shape(options.chunks) + " does not match shape " +
                              join_shape(shape));
      }
      chunks = to_hsize(options.chunks);
    } else {
      // Default chunk: one frame (all leading dimensions 1), what detector writers use, so a frame
      // read decompresses exactly one chunk.
      chunks.assign(dims.size(), 1);
      for (std::size_t d = dims.size() >= 2 ? dims.size() - 2 : 0; d < dims.size(); ++d) {
        chunks[d] = std::max<hsize_t>(dims[d], 1);
      }
    }
    checked(H5Pset_chunk(dcpl.id(), static_cast<int>(chunks.size()), chunks.data()), ctx,
            "cannot set the chunk shape " + join_shape(std::vector<std::size_t>(chunks.begin(), chunks.end())));
    if (options.shuffle) checked(H5Pset_shuffle(dcpl.id()), ctx, "cannot enable the shuffle filter");
    if (options.gzip_level >= 0) {
      checked(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(std::min(options.gzip_level, 9))), ctx,
              "cannot enable gzip (deflate)");
    }
    if (options.bitshuffle_lz4) {
      if (H5Zfilter_avail(kBitshuffleFilter) <= 0) {
        throw IoError(ctx + ": cannot write with the bitshuffle/LZ4 filter (HDF5 filter id 32008): this HDF5 "
                      "library cannot load it; install the Debian package `bitshuffle` (plugin libh5bshuf.so in "
                      "/usr/lib/x86_64-linux-gnu/hdf5/serial/plugins) or set HDF5_PLUGIN_PATH");
      }
      // cd_values as the Eiger writes them: block size 0 (automatic), compression 2 = LZ4. The plugin's
      // set_local callback fills in its version and the element size.
      const unsigned cd[2] = {0, 2};
      checked(H5Pset_filter(dcpl.id(), kBitshuffleFilter, H5Z_FLAG_MANDATORY, 2, cd), ctx,
              "cannot enable the bitshuffle/LZ4 filter");
    }
  }
  Handle lcpl(checked(H5Pcreate(H5P_LINK_CREATE), ctx, "cannot create a link property list"));
  checked(H5Pset_create_intermediate_group(lcpl.id(), 1), ctx, "cannot enable intermediate groups");
  Handle d(H5Dcreate2(id(), rel_path.c_str(), file_type, space.id(), lcpl.id(), dcpl.id(), H5P_DEFAULT));
  if (!d.valid()) throw_error(ctx, "cannot create the dataset");
  return Dataset(std::move(d), file_path_, full, "dataset");
}

Dataset Group::write_dataset(const std::string& rel_path, PixelType type, const std::vector<std::size_t>& shape,
                             const void* data, const DatasetOptions& options) {
  ApiGuard guard;
  // Stored little-endian with the same width as in memory (the byte order every detector writes).
  hid_t file_type = H5T_STD_U16LE;
  switch (type) {
    case PixelType::u16: file_type = H5T_STD_U16LE; break;
    case PixelType::i16: file_type = H5T_STD_I16LE; break;
    case PixelType::u32: file_type = H5T_STD_U32LE; break;
    case PixelType::i32: file_type = H5T_STD_I32LE; break;
    case PixelType::f32: file_type = H5T_IEEE_F32LE; break;
    case PixelType::f64: file_type = H5T_IEEE_F64LE; break;
  }
  Dataset ds = create_dataset(rel_path, file_type, shape, options);
  if (element_count(shape) > 0) ds.write(native_type(type), data);
  return ds;
}

Dataset Group::write_dataset(const std::string& rel_path, const std::vector<double>& values,
                             std::vector<std::size_t> shape, const DatasetOptions& options) {
  ApiGuard guard;
  if (shape.empty()) shape = {values.size()};
  if (element_count(shape) != values.size()) {
    throw InvalidArgument(file_context(file_path_) + ", dataset '" + child_path(rel_path) + "': " +
                          std::to_string(values.size()) + " values do not fill shape " + join_shape(shape));
  }
  Dataset ds = create_dataset(rel_path, H5T_IEEE_F64LE, shape, options);
  if (!values.empty()) ds.write(H5T_NATIVE_DOUBLE, values.data());
  return ds;
}

Dataset Group::write_string_dataset(const std::string& rel_path, std::string_view value) {
  ApiGuard guard;
  const std::string ctx = file_context(file_path_) + ", dataset '" + child_path(rel_path) + "'";
  Handle type = utf8_vlen_string_type(ctx);
  Dataset ds = create_dataset(rel_path, type.id(), {});
  const std::string copy(value);
  const char* ptr = copy.c_str();
  ds.write(type.id(), &ptr);
  return ds;
}

// ---------------------------------------------------------------------------------------------------
namespace {
// Set by File::WithoutReadLocks on the calling thread.
thread_local bool t_without_read_locks = false;

Handle file_access_list(const std::string& ctx, bool write_through = false, bool lock = true) {
  Handle fapl(checked(H5Pcreate(H5P_FILE_ACCESS), ctx, "cannot create a file access property list"));
  if (write_through) {
    // No raw-data chunk cache (0 bytes: no chunk fits, so each one is written as soon as it is complete;
    // one slot, because the cache's hash divides by the slot count). The metadata cache is untouched.
    checked(H5Pset_cache(fapl.id(), 0, 1, 0, 1.0), ctx, "cannot switch the chunk cache off");
  }
#if H5_VERSION_GE(1, 10, 7)
  // Keep HDF5's file locking, but do not fail on file systems without lock support (NFS, Lustre, some
  // beamline storage): readers there would otherwise need HDF5_USE_FILE_LOCKING=FALSE.
  checked(H5Pset_file_locking(fapl.id(), lock ? 1 : 0, 1), ctx, "cannot set the file locking mode");
#else
  (void)lock;
#endif
  return fapl;
}
}  // namespace

File::WithoutReadLocks::WithoutReadLocks() : previous_(t_without_read_locks) { t_without_read_locks = true; }
File::WithoutReadLocks::~WithoutReadLocks() { t_without_read_locks = previous_; }

File File::open(const std::string& path, Mode mode, bool write_through) {
  ApiGuard guard;
  const std::string ctx = file_context(path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw IoError(ctx + " does not exist");
  if (std::filesystem::is_directory(path, ec)) throw IoError(ctx + " is a directory, expected a file");
  Handle fapl = file_access_list(ctx, write_through, !(mode == Mode::read_only && t_without_read_locks));
  Handle f(H5Fopen(path.c_str(), mode == Mode::read_only ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl.id()));
  if (!f.valid()) {
    // Take the stack before H5Fis_hdf5 (an API call) replaces it.
    const std::string stack = error_stack();
    const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
    std::string msg = ctx + (is_hdf5 == 0 ? ": cannot open: not an HDF5 file (no HDF5 signature found)"
                                          : std::string(": cannot open for ") +
                                                (mode == Mode::read_only ? "reading" : "reading and writing"));
    if (!stack.empty()) msg += "\nHDF5 error stack:\n" + stack.substr(0, stack.size() - 1);
    throw IoError(msg);
  }
  Handle root(H5Gopen2(f.id(), "/", H5P_DEFAULT));
  if (!root.valid()) throw_error(ctx, "cannot open the root group");
  // The root group keeps the file open (HDF5's default weak close degree); the file id can go.
  return File(std::move(root), path, "/", "group");
}

File File::create(const std::string& path) {
  ApiGuard guard;
  const std::string ctx = file_context(path);
  Handle fapl = file_access_list(ctx);
  Handle f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id()));
  if (!f.valid()) throw_error(ctx, "cannot create the file");
  Handle root(H5Gopen2(f.id(), "/", H5P_DEFAULT));
  if (!root.valid()) throw_error(ctx, "cannot open the root group");
  return File(std::move(root), path, "/", "group");
}

void File::flush() {
  ApiGuard guard;
  checked(H5Fflush(id(), H5F_SCOPE_GLOBAL), file_context(file_path_), "cannot flush");
}

// ---------------------------------------------------------------------------------------------------
// Additions for the Eiger/NeXus readers, the NeXus result writer and the simulator.

void Object::write_attribute(const std::string& name, const std::vector<std::string>& values) {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  delete_attribute_if_present(id(), name, ctx);
  Handle type = utf8_vlen_string_type(ctx);
  const hsize_t n = values.size();
  Handle space(checked(H5Screate_simple(1, &n, nullptr), ctx, "cannot create the dataspace"));
  Handle a(H5Acreate2(id(), name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot create the attribute");
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const std::string& v : values) ptrs.push_back(v.c_str());
  if (n) checked(H5Awrite(a.id(), type.id(), ptrs.data()), ctx, "cannot write the attribute");
}

void Object::write_int_attribute(const std::string& name, long long value) {
  ApiGuard guard;
  const std::string ctx = where() + ", attribute '" + name + "'";
  delete_attribute_if_present(id(), name, ctx);
  Handle space(checked(H5Screate(H5S_SCALAR), ctx, "cannot create a scalar dataspace"));
  Handle a(H5Acreate2(id(), name.c_str(), H5T_STD_I64LE, space.id(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.valid()) throw_error(ctx, "cannot create the attribute");
  const std::int64_t v = value;
  checked(H5Awrite(a.id(), H5T_NATIVE_INT64, &v), ctx, "cannot write the attribute");
}

std::vector<Dataset::FilterInfo> Dataset::filters() const {
  ApiGuard guard;
  Handle dcpl(H5Dget_create_plist(id()));
  if (!dcpl.valid()) throw_error(where(), "cannot get the creation property list");
  const int n = checked(H5Pget_nfilters(dcpl.id()), where(), "cannot count the filters");
  std::vector<FilterInfo> out;
  for (int i = 0; i < n; ++i) {
    unsigned flags = 0;
    unsigned cd[16] = {};
    std::size_t nelem = 16;
    unsigned config = 0;
    char name[256] = "";
    const H5Z_filter_t f =
        H5Pget_filter2(dcpl.id(), static_cast<unsigned>(i), &flags, &nelem, cd, sizeof name, name, &config);
    if (f < 0) throw_error(where(), "cannot inspect filter " + std::to_string(i));
    FilterInfo info;
    info.id = f;
    info.name = name;
    info.cd_values.assign(cd, cd + std::min<std::size_t>(nelem, 16));
    info.optional = (flags & H5Z_FLAG_OPTIONAL) != 0;
    out.push_back(std::move(info));
  }
  return out;
}

std::vector<std::size_t> Dataset::chunk_shape() const {
  ApiGuard guard;
  Handle dcpl(H5Dget_create_plist(id()));
  if (!dcpl.valid()) throw_error(where(), "cannot get the creation property list");
  if (H5Pget_layout(dcpl.id()) != H5D_CHUNKED) return {};
  hsize_t dims[H5S_MAX_RANK];
  const int rank = checked(H5Pget_chunk(dcpl.id(), H5S_MAX_RANK, dims), where(), "cannot get the chunk shape");
  return std::vector<std::size_t>(dims, dims + rank);
}

bool Dataset::growable() const {
  ApiGuard guard;
  Handle fs = file_space();
  const int rank = checked(H5Sget_simple_extent_ndims(fs.id()), where(), "cannot get the rank");
  if (rank <= 0) return false;
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank)), maxdims(static_cast<std::size_t>(rank));
  checked(H5Sget_simple_extent_dims(fs.id(), dims.data(), maxdims.data()), where(), "cannot get the dimensions");
  return maxdims[0] == H5S_UNLIMITED || maxdims[0] > dims[0];
}

std::size_t Dataset::storage_bytes() const {
  ApiGuard guard;
  return static_cast<std::size_t>(H5Dget_storage_size(id()));
}

bool Dataset::frame_written(std::size_t index) const {
  ApiGuard guard;
  const std::vector<std::size_t> dims = shape();
  if (dims.size() != 3) return index == 0;
  if (index >= dims[0]) return false;
  const std::vector<std::size_t> chunks = chunk_shape();
  if (chunks.size() != 3 || chunks[0] != 1) return true;
  // Every chunk of the frame must exist (a frame may span several chunks along rows/columns).
  for (std::size_t r = 0; r < dims[1]; r += chunks[1]) {
    for (std::size_t c = 0; c < dims[2]; c += chunks[2]) {
      const hsize_t offset[3] = {index, r, c};
      hsize_t bytes = 0;
      if (H5Dget_chunk_storage_size(id(), offset, &bytes) < 0) {
        H5Eclear2(H5E_DEFAULT);  // an unallocated chunk is an answer, not an error
        return false;
      }
      if (bytes == 0) return false;
    }
  }
  return true;
}

bool Dataset::stored_as_native_pixels() const {
  ApiGuard guard;
  Handle t(H5Dget_type(id()));
  if (!t.valid()) throw_error(where(), "cannot get the datatype");
  std::optional<PixelType> type;
  try {
    type = pixel_type();
  } catch (const IoError&) {
    return false;
  }
  // H5Tequal compares class, size, order, sign and padding: equal to the native type means the stored bytes
  // are the machine's.
  return H5Tequal(t.id(), native_type(*type)) > 0;
}

bool Dataset::stored_as_native_doubles() const {
  ApiGuard guard;
  Handle t(H5Dget_type(id()));
  return t.valid() && H5Tequal(t.id(), H5T_NATIVE_DOUBLE) > 0;
}

void Dataset::write_raw_chunk(const std::vector<std::size_t>& offset, const std::uint8_t* bytes, std::size_t size) {
  ApiGuard guard;
  const auto off = to_hsize(offset);
  if (H5Dwrite_chunk(id(), H5P_DEFAULT, 0, off.data(), size, bytes) < 0) {
    throw_error(where(), "cannot write the chunk at " + join_shape(offset));
  }
}

bool Dataset::read_raw_chunk(const std::vector<std::size_t>& offset, std::vector<std::uint8_t>& out,
                             unsigned& filter_mask) const {
  ApiGuard guard;
  const auto off = to_hsize(offset);
  hsize_t bytes = 0;
  if (H5Dget_chunk_storage_size(id(), off.data(), &bytes) < 0) {
    H5Eclear2(H5E_DEFAULT);  // not allocated (or outside the dataset): the caller falls back to H5Dread
    out.clear();
    return false;
  }
  if (bytes == 0) {
    out.clear();
    return false;
  }
  out.resize(static_cast<std::size_t>(bytes));
  std::uint32_t mask = 0;
  if (H5Dread_chunk(id(), H5P_DEFAULT, off.data(), &mask, out.data()) < 0) {
    throw_error(where(), "cannot read the raw chunk at " + join_shape(offset));
  }
  filter_mask = mask;
  return true;
}

std::vector<long long> Dataset::read_int64s() const {
  ApiGuard guard;
  const std::vector<std::size_t> dims = shape();
  std::size_t n = 1;
  for (std::size_t d : dims) n *= d;
  std::vector<std::int64_t> buf(n);
  Handle t(H5Dget_type(id()));
  if (!t.valid()) throw_error(where(), "cannot get the datatype");
  if (H5Tget_class(t.id()) != H5T_INTEGER) {
    throw IoError(where() + " holds " + h5::type_name(t.id()) + " values; expected integers");
  }
  if (n) {
    checked(H5Dread(id(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), where(),
            "cannot read the values");
  }
  return std::vector<long long>(buf.begin(), buf.end());
}

Dataset Group::write_bool_dataset(const std::string& rel_path, bool value) {
  ApiGuard guard;
  const std::string ctx = file_context(file_path_) + ", dataset '" + child_path(rel_path) + "'";
  Handle type(checked(H5Tenum_create(H5T_STD_I8LE), ctx, "cannot create the boolean enum type"));
  const std::int8_t f = 0, t = 1;
  checked(H5Tenum_insert(type.id(), "FALSE", &f), ctx, "cannot define FALSE");
  checked(H5Tenum_insert(type.id(), "TRUE", &t), ctx, "cannot define TRUE");
  Dataset ds = create_dataset(rel_path, type.id(), {});
  const std::int8_t v = value ? 1 : 0;
  ds.write(type.id(), &v);
  return ds;
}

Dataset Group::write_int64_dataset(const std::string& rel_path, const std::vector<long long>& values,
                                   const DatasetOptions& options) {
  ApiGuard guard;
  Dataset ds = create_dataset(rel_path, H5T_STD_I64LE, {values.size()}, options);
  if (!values.empty()) {
    const std::vector<std::int64_t> v(values.begin(), values.end());
    ds.write(H5T_NATIVE_INT64, v.data());
  }
  return ds;
}

void Group::create_hard_link(const std::string& rel_path, const std::string& target) {
  ApiGuard guard;
  checked(H5Lcreate_hard(id(), target.c_str(), id(), rel_path.c_str(), H5P_DEFAULT, H5P_DEFAULT),
          file_context(file_path_), "cannot link '" + child_path(rel_path) + "' to '" + target + "'");
}

void Group::create_soft_link(const std::string& rel_path, const std::string& target) {
  ApiGuard guard;
  checked(H5Lcreate_soft(target.c_str(), id(), rel_path.c_str(), H5P_DEFAULT, H5P_DEFAULT), file_context(file_path_),
          "cannot create the soft link '" + child_path(rel_path) + "' -> '" + target + "'");
}

void Group::create_external_link(const std::string& rel_path, const std::string& file, const std::string& object) {
  ApiGuard guard;
  checked(H5Lcreate_external(file.c_str(), object.c_str(), id(), rel_path.c_str(), H5P_DEFAULT, H5P_DEFAULT),
          file_context(file_path_),
          "cannot create the external link '" + child_path(rel_path) + "' -> '" + file + ":" + object + "'");
}

std::optional<std::pair<std::string, std::string>> Group::external_link(const std::string& rel_path) const {
  ApiGuard guard;
  if (H5Lexists(id(), rel_path.c_str(), H5P_DEFAULT) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  H5L_info_t info;
  if (H5Lget_info(id(), rel_path.c_str(), &info, H5P_DEFAULT) < 0 || info.type != H5L_TYPE_EXTERNAL) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  std::vector<char> buf(info.u.val_size + 1, '\0');
  checked(H5Lget_val(id(), rel_path.c_str(), buf.data(), buf.size(), H5P_DEFAULT), file_context(file_path_),
          "cannot read the external link '" + child_path(rel_path) + "'");
  const char* file = nullptr;
  const char* object = nullptr;
  unsigned flags = 0;
  checked(H5Lunpack_elink_val(buf.data(), buf.size(), &flags, &file, &object), file_context(file_path_),
          "cannot unpack the external link '" + child_path(rel_path) + "'");
  return std::make_pair(std::string(file ? file : ""), std::string(object ? object : ""));
}

void Group::remove(const std::string& rel_path) {
  ApiGuard guard;
  checked(H5Ldelete(id(), rel_path.c_str(), H5P_DEFAULT), file_context(file_path_),
          "cannot remove '" + child_path(rel_path) + "'");
}

void File::close() {
  ApiGuard guard;
  if (!handle_.valid()) return;
  const std::string ctx = file_context(file_path_);
  checked(H5Fflush(id(), H5F_SCOPE_GLOBAL), ctx, "cannot flush");
  release_reserve();
  // The root group holds the file open, and a Handle's close cannot report errors; the file's last close
  // flushes the metadata cache and truncates the file to its allocated size, both of which can fail on a
  // full disk. So close through a file id of our own, checked.
  Handle f(H5Iget_file_id(id()));
  if (!f.valid()) throw_error(ctx, "cannot get the file's id to close it");
  handle_.reset();
  checked(H5Fclose(f.release()), ctx, "cannot close the file");
}

std::size_t File::size() const {
  ApiGuard guard;
  Handle f(H5Iget_file_id(id()));
  if (!f.valid()) throw_error(file_context(file_path_), "cannot get the file's id");
  hsize_t bytes = 0;
  checked(H5Fget_filesize(f.id(), &bytes), file_context(file_path_), "cannot get the file size");
  return static_cast<std::size_t>(bytes);
}

void File::abandon() noexcept {
  ApiGuard guard;
  if (!handle_.valid()) return;
  release_reserve();
  Handle f(H5Iget_file_id(id()));
  void* vfd = nullptr;
  if (f.valid() && H5Fget_vfd_handle(f.id(), H5P_DEFAULT, &vfd) >= 0 && vfd) {
    Handle fapl(H5Fget_access_plist(f.id()));
    // Only the POSIX (sec2) driver's handle is a plain descriptor; with another driver the close below
    // writes what HDF5 holds (the best that can be done without one).
    if (fapl.valid() && H5Pget_driver(fapl.id()) == H5FD_SEC2) {
      // An anonymous memory file takes what the close writes: it must accept writes and a truncation to
      // the file's allocated size, or the close fails, and HDF5 1.10 then keeps an id to a freed file that
      // crashes its exit handler (/dev/null refuses ftruncate). Sparse, so it costs only the metadata.
      const int fd = *static_cast<int*>(vfd);
      const int sink = ::memfd_create("libpdf-abandoned-hdf5", MFD_CLOEXEC);
      if (sink >= 0) {
        ::dup2(sink, fd);  // the file's own description is closed here, with its lock
        ::close(sink);
      }
    }
  }
  H5Eclear2(H5E_DEFAULT);
  f.reset();
  handle_.reset();  // the last close writes to /dev/null; its errors (truncating a device) are dropped
}

int File::descriptor() const {
  if (!handle_.valid()) return -1;
  Handle f(H5Iget_file_id(id()));
  if (!f.valid()) return -1;
  Handle fapl(H5Fget_access_plist(f.id()));
  void* vfd = nullptr;
  if (!fapl.valid() || H5Pget_driver(fapl.id()) != H5FD_SEC2 || H5Fget_vfd_handle(f.id(), H5P_DEFAULT, &vfd) < 0 ||
      vfd == nullptr) {
    H5Eclear2(H5E_DEFAULT);
    return -1;
  }
  return *static_cast<int*>(vfd);
}

bool File::reserve(std::size_t bytes) {
  ApiGuard guard;
  const int fd = descriptor();
  if (fd < 0 || bytes == 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  const auto end = static_cast<std::size_t>(st.st_size);
  const std::size_t from = std::max(end, reserved_end_);
  if (end + bytes <= from) return true;  // already reserved
  const std::size_t len = end + bytes - from;
  if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(from), static_cast<off_t>(len)) != 0) {
    const int e = errno;
    if (e == EOPNOTSUPP || e == ENOSYS || e == EINVAL) return false;
    throw IoError(file_context(file_path_) + ": cannot reserve " + std::to_string(len) +
                  " bytes of disk space past its end (at byte " + std::to_string(from) + "): " + std::strerror(e));
  }
  reserved_end_ = from + len;
  return true;
}

void File::release_reserve() noexcept {
  ApiGuard guard;
  const int fd = descriptor();
  struct stat st {};
  if (fd >= 0 && reserved_end_ > 0 && ::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) < reserved_end_) {
    // tmpfs frees blocks past the end when a hole is punched there; ext4 ignores a hole past the end but frees
    // them on a truncation to the same size. Both keep the size; a failure only wastes the space.
    (void)::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, st.st_size,
                      static_cast<off_t>(reserved_end_ - static_cast<std::size_t>(st.st_size)));
    (void)::ftruncate(fd, st.st_size);
  }
  reserved_end_ = 0;
}

std::string File::path_status() const {
  ApiGuard guard;
  const int fd = descriptor();
  struct stat open_st {}, path_st {};
  if (fd < 0 || ::fstat(fd, &open_st) != 0) return "";
  if (open_st.st_nlink == 0) return "deleted";
  if (::stat(file_path_.c_str(), &path_st) != 0) return "moved away (nothing is at its path now)";
  if (path_st.st_dev != open_st.st_dev || path_st.st_ino != open_st.st_ino) return "replaced by another file";
  return "";
}

void File::copy_to(const std::string& dest) const {
  ApiGuard guard;
  const int fd = descriptor();
  const std::string what = "cannot copy HDF5 file '" + file_path_ + "' to '" + dest + "'";
  if (fd < 0) throw IoError(what + ": its descriptor is not available (not the POSIX driver)");
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError(what + ": " + std::strerror(errno));
  const std::string tmp = libpdf::detail::temporary_path_for(dest);
  const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) throw IoError(what + ": cannot create '" + tmp + "': " + std::strerror(errno));
  std::vector<char> buf(1 << 20);
  off_t at = 0;
  auto fail = [&](const std::string& why) {
    ::close(out);
    ::unlink(tmp.c_str());
    throw IoError(what + ": " + why);
  };
  while (at < st.st_size) {
    const ssize_t got = ::pread(fd, buf.data(), buf.size(), at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail(std::string("reading: ") + (got < 0 ? std::strerror(errno) : "unexpected end"));
    for (ssize_t done = 0; done < got;) {
      const ssize_t put = ::write(out, buf.data() + done, static_cast<std::size_t>(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put < 0) fail(std::string("writing: ") + std::strerror(errno));
      done += put;
    }
    at += got;
  }
  if (::fsync(out) != 0) fail(std::string("syncing: ") + std::strerror(errno));
  if (::close(out) != 0) {
    ::unlink(tmp.c_str());
    throw IoError(what + ": closing: " + std::strerror(errno));
  }
  libpdf::detail::commit_rename(tmp, dest);
}

bool File::filter_available(H5Z_filter_t filter_id) {
  ApiGuard guard;
  const htri_t avail = H5Zfilter_avail(filter_id);
  if (avail < 0) H5Eclear2(H5E_DEFAULT);
  return avail > 0;
}

}  // namespace libpdf::detail::h5
