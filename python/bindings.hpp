// Shared helpers of the Python bindings: numpy conversions, enum properties that also take their names, and
// the keyword constructors of the options structs. Private to python/ (never installed).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "libpdf/error.hpp"

namespace libpdf_python {

namespace py = pybind11;

/// A float64 numpy array holding a copy of @p v. The array owns its memory (flags.owndata), so it outlives the
/// C++ result it came from and can be modified freely.
template <class T>
py::array_t<T> to_numpy(const std::vector<T>& v) {
  py::array_t<T> a(static_cast<py::ssize_t>(v.size()));
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  return a;
}

/// The same as a 2D (rows, cols) array; @p v holds rows*cols values, row-major.
template <class T>
py::array_t<T> to_numpy_2d(const std::vector<T>& v, std::size_t rows, std::size_t cols) {
  py::array_t<T> a({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
  if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), v.size() * sizeof(T));
  return a;
}

/// Input arrays other than frames (patterns, F(q), G(r), masks): converted to C-contiguous T (one copy only
/// when the caller's array is not already that).
template <class T>
using InArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

/// A 1D input array as a std::vector; @p name is used in the error message.
template <class T>
std::vector<T> to_vector(const InArray<T>& a, const char* name) {
  if (a.ndim() != 1) {
    throw libpdf::InvalidArgument(std::string(name) + " must be one-dimensional (got " + std::to_string(a.ndim()) +
                                  " dimensions)");
  }
  return std::vector<T>(a.data(), a.data() + a.size());
}

/// An optional 1D input (None = empty vector).
inline std::vector<double> to_vector_or_empty(const py::object& o, const char* name) {
  if (o.is_none()) return {};
  return to_vector<double>(o.cast<InArray<double>>(), name);
}

/// A read-write property of enum type @p E on options class @p C that also accepts the enum's name as a
/// string, parsed by the library's own parser (so "lorch" and Window.lorch mean the same, and a bad name raises
/// ValueError listing the accepted ones).
template <class C, class E, class Cls>
void enum_property(Cls& cls, const char* name, E C::*member, E (*parse)(const std::string&), const char* doc) {
  cls.def_property(
      name, [member](const C& self) { return self.*member; },
      [member, parse](C& self, const py::object& value) {
        if (py::isinstance<py::str>(value)) {
          self.*member = parse(value.cast<std::string>());
        } else {
          self.*member = value.cast<E>();
        }
      },
      doc);
}

/// Adds `__init__(**kwargs)` to an options class: starts from the C++ defaults and sets every keyword through
/// the class's own properties (so the string forms and the checks of the setters apply). An unknown keyword is a
/// TypeError naming it, as for any Python function.
template <class C, class Cls>
void kwargs_init(Cls& cls) {
  cls.def(py::init([](const py::kwargs& kwargs) {
            py::object self = py::cast(C{});
            for (const auto& item : kwargs) {
              const std::string key = py::str(item.first);
              if (key.empty() || key[0] == '_' || !py::hasattr(self, key.c_str())) {
                throw py::type_error("unknown option '" + key + "' of " +
                                     std::string(py::str(self.get_type().attr("__name__"))));
              }
              py::setattr(self, key.c_str(), item.second);
            }
            return self.cast<C>();
          }),
          "Options with the library's defaults, overridden by the keyword arguments (names as the attributes).");
}

void bind_geometry_integrate(py::module_& m);
void bind_reduce_transform(py::module_& m);
void bind_io(py::module_& m);
void bind_metrics(py::module_& m);

}  // namespace libpdf_python
