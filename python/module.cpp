// The Python module `libpdf`: version, exceptions, logging, and the parts bound in the other files.
#include <string>

#include "bindings.hpp"
#include "libpdf/error.hpp"
#include "libpdf/log.hpp"
#include "libpdf/version.hpp"

namespace py = pybind11;

PYBIND11_MODULE(libpdf, m) {
  m.doc() =
      "libpdf: X-ray total scattering and PDF reduction from 2D detector frames.\n\n"
      "Integrator (frames -> I(q)), reduce (I(q) -> S(q), F(q), G(r)), SineTransform (F(q) <-> G(r)), structure\n"
      "metrics, and reading/writing frames, masks, PONI files and text patterns. Results are numpy arrays that\n"
      "own their memory and equal the C++ library's bit for bit; frames are read in place.";

  // The version of the libpdf.so actually loaded (not the header the module was compiled against).
  m.attr("__version__") = libpdf::version();
  m.def("version", &libpdf::version, "The libpdf version, 'major.minor.patch'.");

  // Exceptions: every libpdf error is a libpdf.Error; each kind also derives from the built-in exception a Python
  // user expects (ValueError for bad arguments, OSError for files, RuntimeError otherwise), so plain
  // `except ValueError` works. Translators are tried newest first, so the base class is registered first.
  static py::exception<libpdf::Error> error(m, "Error", PyExc_RuntimeError);
  error.attr("__doc__") = "Base of every error libpdf raises.";
  static py::exception<libpdf::InvalidArgument> invalid(
      m, "InvalidArgument", py::make_tuple(error, py::handle(PyExc_ValueError)).ptr());
  invalid.attr("__doc__") = "A parameter, option or array is invalid (also a ValueError).";
  static py::exception<libpdf::IoError> io(m, "IoError", py::make_tuple(error, py::handle(PyExc_OSError)).ptr());
  io.attr("__doc__") = "A file could not be read or written, or is malformed (also an OSError).";
  static py::exception<libpdf::NumericalError> numerical(m, "NumericalError", error.ptr());
  numerical.attr("__doc__") = "No meaningful number could be produced (also a RuntimeError).";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const libpdf::InvalidArgument& e) {
      PyErr_SetString(invalid.ptr(), e.what());
    } catch (const libpdf::IoError& e) {
      PyErr_SetString(io.ptr(), e.what());
    } catch (const libpdf::NumericalError& e) {
      PyErr_SetString(numerical.ptr(), e.what());
    } catch (const libpdf::Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });

  py::enum_<libpdf::LogLevel>(m, "LogLevel", "Severity of libpdf's log messages.")
      .value("trace", libpdf::LogLevel::trace)
      .value("debug", libpdf::LogLevel::debug)
      .value("info", libpdf::LogLevel::info)
      .value("warn", libpdf::LogLevel::warn)
      .value("error", libpdf::LogLevel::error)
      .value("off", libpdf::LogLevel::off);
  m.def("set_log_level", &libpdf::set_log_level, py::arg("level"),
        "Sets the minimum level libpdf logs at (to stderr; default warn).");
  m.def("log_level", &libpdf::log_level, "The current minimum log level.");

  libpdf_python::bind_geometry_integrate(m);
  libpdf_python::bind_reduce_transform(m);
  libpdf_python::bind_io(m);
  libpdf_python::bind_metrics(m);
}
