// Geometry (PONI, detector) and azimuthal integration. Frames are read in place: a C-contiguous numpy array of
// a supported dtype is handed to the integrator as a view of its own buffer, and the GIL is released while the
// plan is built or applied so other Python threads run meanwhile.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/image.hpp"
#include "libpdf/integrate.hpp"

namespace libpdf_python {
namespace {

// A frame argument: the view the integrator reads and the array that owns the pixels (the caller's array, or
// the one contiguous copy made of a non-contiguous one), kept referenced while the view is in use.
struct Frame {
  libpdf::ImageView view;
  py::array keep;
};

template <class T>
bool try_frame(const py::array& a, libpdf::PixelType t, Frame& out) {
  // isinstance<array_t<T>> compares dtypes with numpy's PyArray_EquivTypes: no conversion, and a non-native
  // byte order does not match (it would need one).
  if (!py::isinstance<py::array_t<T>>(a)) return false;
  out.keep = a;
  if (!(a.flags() & py::array::c_style)) {
    // One copy into C order (same dtype); the caller's contiguous arrays never take this path.
    out.keep = py::array::ensure(a, py::array::c_style);
  }
  out.view = libpdf::ImageView(out.keep.data(), t, static_cast<std::size_t>(a.shape(0)),
                               static_cast<std::size_t>(a.shape(1)));
  return true;
}

Frame to_frame(const py::handle& obj) {
  if (!py::isinstance<py::array>(obj)) {
    throw py::type_error("a frame must be a numpy array (got " + std::string(py::str(obj.get_type())) + ")");
  }
  const auto a = py::reinterpret_borrow<py::array>(obj);
  if (a.ndim() != 2) {
    throw libpdf::InvalidArgument("a frame must be two-dimensional (rows, cols); got " + std::to_string(a.ndim()) +
                                  " dimensions");
  }
  Frame f;
  if (try_frame<std::uint16_t>(a, libpdf::PixelType::u16, f) || try_frame<std::int16_t>(a, libpdf::PixelType::i16, f) ||
      try_frame<std::uint32_t>(a, libpdf::PixelType::u32, f) || try_frame<std::int32_t>(a, libpdf::PixelType::i32, f) ||
      try_frame<float>(a, libpdf::PixelType::f32, f) || try_frame<double>(a, libpdf::PixelType::f64, f)) {
    return f;
  }
  throw py::type_error("frame dtype " + std::string(py::str(a.dtype())) +
                       " is not supported (expected native-endian uint16, int16, uint32, int32, float32 or float64)");
}

// A per-pixel correction array (mask, dark, flat) as the row-major vector Corrections holds; None = not used.
template <class T>
std::vector<T> correction(const py::object& o, const char* name) {
  if (o.is_none()) return {};
  const auto a = o.cast<InArray<T>>();
  if (a.ndim() != 2 && a.ndim() != 1) {
    throw libpdf::InvalidArgument(std::string(name) + " must be a (rows, cols) array (got " +
                                  std::to_string(a.ndim()) + " dimensions)");
  }
  return std::vector<T>(a.data(), a.data() + a.size());
}

// The 1D result as numpy arrays converted once (every access returns the same array), with the C++ result kept
// for merge().
struct PyResult1D {
  std::shared_ptr<const libpdf::Result1D> cpp;
  py::array_t<double> radial, radial_edges, intensity, sigma, sum_signal, sum_variance, sum_normalization, count;

  explicit PyResult1D(libpdf::Result1D r) : cpp(std::make_shared<const libpdf::Result1D>(std::move(r))) {
    radial = to_numpy(cpp->radial);
    radial_edges = to_numpy(cpp->radial_edges);
    intensity = to_numpy(cpp->intensity);
    sigma = to_numpy(cpp->sigma);
    sum_signal = to_numpy(cpp->sum_signal);
    sum_variance = to_numpy(cpp->sum_variance);
    sum_normalization = to_numpy(cpp->sum_normalization);
    count = to_numpy(cpp->count);
  }
};

libpdf::FrameCombine to_combine(const py::object& combine) {
  if (!py::isinstance<py::str>(combine)) return combine.cast<libpdf::FrameCombine>();
  const auto name = combine.cast<std::string>();
  if (name == "sum") return libpdf::FrameCombine::sum;
  if (name == "average") return libpdf::FrameCombine::average;
  throw libpdf::InvalidArgument("combine = '" + name + "' (expected 'sum' or 'average')");
}

std::optional<std::pair<double, double>> get_range(const std::optional<libpdf::Range>& r) {
  if (!r) return std::nullopt;
  return std::make_pair(r->lo, r->hi);
}
std::optional<libpdf::Range> set_range(const std::optional<std::pair<double, double>>& r) {
  if (!r) return std::nullopt;
  return libpdf::Range{r->first, r->second};
}

}  // namespace

void bind_geometry_integrate(py::module_& m) {
  // ---- Geometry ------------------------------------------------------------------------------------------
  py::class_<libpdf::Detector>(m, "Detector", "A flat detector: pixel grid, pixel size and PONI orientation.")
      .def(py::init<>())
      .def_readwrite("name", &libpdf::Detector::name, "pyFAI's detector name (informative).")
      .def_readwrite("rows", &libpdf::Detector::rows, "Slow-axis size in pixels (0 = unknown).")
      .def_readwrite("cols", &libpdf::Detector::cols, "Fast-axis size in pixels (0 = unknown).")
      .def_readwrite("pixel1_m", &libpdf::Detector::pixel1_m, "Pixel size along the rows (m).")
      .def_readwrite("pixel2_m", &libpdf::Detector::pixel2_m, "Pixel size along the columns (m).")
      .def_readwrite("orientation", &libpdf::Detector::orientation, "pyFAI orientation 1..4 (3 = no flip).")
      .def_static("pilatus_1m", &libpdf::Detector::pilatus_1m, "Dectris Pilatus 1M (1043 x 981, 172 um).")
      .def_static("perkinelmer_xrd1621", &libpdf::Detector::perkinelmer_xrd1621, "PerkinElmer XRD1621.")
      .def_static("varex_4343ct", &libpdf::Detector::varex_4343ct, "Varex 4343CT.");

  py::class_<libpdf::Poni>(m, "Poni", "The contents of a pyFAI PONI file (lengths in m, angles in rad).")
      .def(py::init<>())
      .def_readwrite("version", &libpdf::Poni::version, "1, 2 or 21 (= 2.1).")
      .def_readwrite("detector", &libpdf::Poni::detector, "Detector name, pixel sizes, shape and orientation.")
      .def_readwrite("distance_m", &libpdf::Poni::distance_m, "Sample to PONI distance (m).")
      .def_readwrite("poni1_m", &libpdf::Poni::poni1_m, "PONI along the slow axis (m).")
      .def_readwrite("poni2_m", &libpdf::Poni::poni2_m, "PONI along the fast axis (m).")
      .def_readwrite("rot1", &libpdf::Poni::rot1, "Rotation 1 (rad).")
      .def_readwrite("rot2", &libpdf::Poni::rot2, "Rotation 2 (rad).")
      .def_readwrite("rot3", &libpdf::Poni::rot3, "Rotation 3 (rad).")
      .def_readwrite("wavelength_m", &libpdf::Poni::wavelength_m, "Wavelength (m; 0 = not given).")
      .def_property_readonly("wavelength_A", &libpdf::Poni::wavelength_A, "Wavelength (A).")
      .def("validate", &libpdf::Poni::validate, "Raises ValueError naming every bad field.");
  m.def("read_poni", &libpdf::read_poni, py::arg("path"), "Reads a pyFAI PONI file (versions 1, 2 and 2.1).");
  m.def(
      "parse_poni", [](const std::string& text, const std::string& source) { return libpdf::parse_poni(text, source); },
      py::arg("text"), py::arg("source") = "<poni text>", "Parses PONI text; `source` names it in error messages.");
  m.def("format_poni", &libpdf::format_poni, py::arg("poni"), "PONI text in the format of poni.version.");
  m.def("write_poni", &libpdf::write_poni, py::arg("path"), py::arg("poni"), "Writes a PONI file atomically.");

  py::class_<libpdf::Geometry>(m, "Geometry", "A detector at a calibrated position (pyFAI convention).")
      .def(py::init<const libpdf::Poni&, std::size_t, std::size_t>(), py::arg("poni"), py::arg("rows") = 0,
           py::arg("cols") = 0, "rows/cols: the detector shape (0, 0 = the PONI's max_shape).")
      .def_property_readonly("poni", &libpdf::Geometry::poni)
      .def_property_readonly("rows", &libpdf::Geometry::rows)
      .def_property_readonly("cols", &libpdf::Geometry::cols)
      .def_property_readonly("shape", [](const libpdf::Geometry& g) { return py::make_tuple(g.rows(), g.cols()); })
      .def(
          "tth_array", [](const libpdf::Geometry& g) { return to_numpy_2d(g.tth_array(), g.rows(), g.cols()); },
          "2theta (rad) at the pixel centres, shape (rows, cols).")
      .def(
          "chi_array", [](const libpdf::Geometry& g) { return to_numpy_2d(g.chi_array(), g.rows(), g.cols()); },
          "chi (rad) at the pixel centres, shape (rows, cols).")
      .def(
          "q_array", [](const libpdf::Geometry& g) { return to_numpy_2d(g.q_array(), g.rows(), g.cols()); },
          "q (1/A) at the pixel centres, shape (rows, cols).");

  // ---- Integration ---------------------------------------------------------------------------------------
  py::enum_<libpdf::RadialUnit>(m, "RadialUnit", "Radial unit of the bins.")
      .value("q_A", libpdf::RadialUnit::q_A)
      .value("q_nm", libpdf::RadialUnit::q_nm)
      .value("tth_deg", libpdf::RadialUnit::tth_deg)
      .value("r_mm", libpdf::RadialUnit::r_mm);
  py::enum_<libpdf::Splitting>(m, "Splitting", "Pixel splitting.")
      .value("none", libpdf::Splitting::none)
      .value("bbox", libpdf::Splitting::bbox)
      .value("full", libpdf::Splitting::full);
  py::enum_<libpdf::ErrorModel>(m, "ErrorModel", "How sigma of a bin is estimated.")
      .value("none", libpdf::ErrorModel::none)
      .value("poisson", libpdf::ErrorModel::poisson)
      .value("azimuthal", libpdf::ErrorModel::azimuthal);
  py::enum_<libpdf::FrameCombine>(m, "FrameCombine", "How several frames integrated together are combined.")
      .value("sum", libpdf::FrameCombine::sum)
      .value("average", libpdf::FrameCombine::average);

  py::class_<libpdf::Sensor>(m, "Sensor", "A sensor layer for the oblique-incidence efficiency correction.")
      .def(py::init([](double attenuation_length_m, double thickness_m) {
             return libpdf::Sensor{attenuation_length_m, thickness_m};
           }),
           py::arg("attenuation_length_m"), py::arg("thickness_m"))
      .def_readwrite("attenuation_length_m", &libpdf::Sensor::attenuation_length_m, "1/mu (m).")
      .def_readwrite("thickness_m", &libpdf::Sensor::thickness_m, "Sensor thickness (m).");

  using IO = libpdf::IntegrationOptions;
  py::class_<IO> io(m, "IntegrationOptions",
                    "Options of an integration plan; IntegrationOptions(npt=2000, unit='q_A^-1', ...).");
  kwargs_init<IO>(io);
  io.def_readwrite("npt", &IO::npt, "Number of radial bins (> 0).");
  enum_property(io, "unit", &IO::unit, &libpdf::parse_radial_unit,
                "Radial unit (RadialUnit or 'q_A^-1', 'q_nm^-1', '2th_deg', 'r_mm').");
  io.def_property(
      "radial_range", [](const IO& o) { return get_range(o.radial_range); },
      [](IO& o, const std::optional<std::pair<double, double>>& r) { o.radial_range = set_range(r); },
      "(lo, hi) in `unit`, or None for the extent of the pixels.");
  io.def_property(
      "azimuth_range_deg", [](const IO& o) { return get_range(o.azimuth_range_deg); },
      [](IO& o, const std::optional<std::pair<double, double>>& r) { o.azimuth_range_deg = set_range(r); },
      "(lo, hi) in degrees: keep pixels whose chi extent meets it; None = all.");
  enum_property(io, "splitting", &IO::splitting, &libpdf::parse_splitting, "Pixel splitting ('none', 'bbox', 'full').");
  io.def_readwrite("solid_angle", &IO::solid_angle, "Divide by the solid angle cos^3(alpha).");
  io.def_readwrite("polarization_factor", &IO::polarization_factor, "In [-1, 1], or None for no correction.");
  io.def_readwrite("sensor", &IO::sensor, "Sensor for the oblique-incidence correction, or None.");
  io.def_readwrite("normalization_factor", &IO::normalization_factor, "Intensities are divided by it (> 0).");
  enum_property(io, "error_model", &IO::error_model, &libpdf::parse_error_model,
                "Sigma estimate ('none', 'poisson', 'azimuthal').");
  io.def_readwrite("dummy", &IO::dummy, "Raw value marking invalid pixels, or None.");
  io.def_readwrite("delta_dummy", &IO::delta_dummy, "Tolerance of the dummy test (>= 0).");
  io.def_readwrite("mask_detector_markers", &IO::mask_detector_markers,
                   "Treat -1 (signed) and 2^bit_depth - 1 (unsigned) as invalid.");
  io.def_readwrite("bit_depth", &IO::bit_depth, "Bit depth of the unsigned marker, or None for the type's width.");
  io.def_readwrite("threads", &IO::threads, "Threads for building and applying (0 = all cores).");
  io.def_readwrite("empty", &IO::empty, "Value reported in bins no valid pixel reaches.");
  io.def("validate", &IO::validate, "Raises ValueError naming every invalid field.");

  py::class_<PyResult1D>(m, "IntegrationResult",
                         "A 1D pattern: numpy arrays (owning their memory) and the per-bin sums it was made from.")
      .def_readonly("radial", &PyResult1D::radial, "Bin centres (npt).")
      .def_readonly("radial_edges", &PyResult1D::radial_edges, "Bin edges (npt + 1).")
      .def_readonly("intensity", &PyResult1D::intensity, "I per bin.")
      .def_readonly("sigma", &PyResult1D::sigma, "sigma of I per bin.")
      .def_readonly("sum_signal", &PyResult1D::sum_signal, "Sum of c (raw - dark).")
      .def_readonly("sum_variance", &PyResult1D::sum_variance, "Sum of the variances.")
      .def_readonly("sum_normalization", &PyResult1D::sum_normalization, "Sum of c (flat Omega P eps k).")
      .def_readonly("count", &PyResult1D::count, "Pixels per bin (fractional with splitting).")
      .def_property_readonly("unit", [](const PyResult1D& r) { return r.cpp->unit; })
      .def_property_readonly("error_model", [](const PyResult1D& r) { return r.cpp->error_model; })
      .def_property_readonly("frames", [](const PyResult1D& r) { return r.cpp->frames; })
      .def_property_readonly("rejected_pixels", [](const PyResult1D& r) { return r.cpp->rejected_pixels; })
      .def("__len__", [](const PyResult1D& r) { return r.cpp->radial.size(); });
  m.def(
      "merge", [](const PyResult1D& a, const PyResult1D& b) { return PyResult1D(libpdf::merge(*a.cpp, *b.cpp)); },
      py::arg("a"), py::arg("b"), "Adds the sums of two results on the same bins (frames or panels).");

  py::class_<libpdf::PlanStats>(m, "PlanStats", "Size and build time of a plan.")
      .def_readonly("pixels", &libpdf::PlanStats::pixels)
      .def_readonly("valid_pixels", &libpdf::PlanStats::valid_pixels)
      .def_readonly("entries", &libpdf::PlanStats::entries)
      .def_readonly("plan_bytes", &libpdf::PlanStats::plan_bytes)
      .def_readonly("correction_bytes", &libpdf::PlanStats::correction_bytes)
      .def_readonly("build_seconds", &libpdf::PlanStats::build_seconds);

  py::class_<libpdf::Integrator>(m, "Integrator",
                                 "A 1D azimuthal-integration plan: built once, applied to many frames (thread-safe).")
      .def(py::init([](const libpdf::Geometry& g, const IO& options, const py::object& mask, const py::object& dark,
                       const py::object& flat, const py::object& dark_variance) {
             libpdf::Corrections c;
             c.mask = correction<std::uint8_t>(mask, "mask");
             c.dark = correction<float>(dark, "dark");
             c.flat = correction<float>(flat, "flat");
             c.dark_variance = correction<float>(dark_variance, "dark_variance");
             const py::gil_scoped_release release;  // building the plan is the long part
             return libpdf::Integrator(g, options, c);
           }),
           py::arg("geometry"), py::arg("options") = IO{}, py::arg("mask") = py::none(), py::arg("dark") = py::none(),
           py::arg("flat") = py::none(), py::arg("dark_variance") = py::none(),
           "Builds the plan. mask (non-zero = masked), dark, flat, dark_variance: (rows, cols) arrays or None.")
      .def(
          "integrate",
          [](const libpdf::Integrator& self, const py::handle& frame) {
            const Frame f = to_frame(frame);
            libpdf::Result1D r;
            {
              const py::gil_scoped_release release;
              r = self.integrate(f.view);
            }
            return PyResult1D(std::move(r));
          },
          py::arg("frame"),
          "Integrates one frame: a (rows, cols) numpy array of uint16, int16, uint32, int32, float32 or float64, read "
          "in place when C-contiguous (else copied once). The GIL is released meanwhile.")
      .def(
          "integrate_frames",
          [](const libpdf::Integrator& self, const py::handle& frames, const py::object& combine) {
            std::vector<Frame> held;
            if (py::isinstance<py::array>(frames) && py::reinterpret_borrow<py::array>(frames).ndim() == 3) {
              const auto stack = py::reinterpret_borrow<py::array>(frames);
              for (py::ssize_t k = 0; k < stack.shape(0); ++k) {
                const py::object one = stack[py::int_(k)];  // a view into the stack: no copy
                held.push_back(to_frame(one));
              }
            } else {
              for (const auto& f : frames) held.push_back(to_frame(f));
            }
            const libpdf::FrameCombine how = to_combine(combine);
            std::vector<libpdf::ImageView> views;
            for (const auto& f : held) views.push_back(f.view);
            libpdf::Result1D r;
            {
              const py::gil_scoped_release release;
              r = self.integrate(views, how);
            }
            return PyResult1D(std::move(r));
          },
          py::arg("frames"), py::arg("combine") = "sum",
          "Integrates several frames (a (n, rows, cols) array or a sequence of frames) into one pattern, summed or "
          "averaged ('sum' / 'average').")
      .def(
          "sigma_clip",
          [](const libpdf::Integrator& self, const py::handle& frame, double threshold, int max_iterations) {
            const Frame f = to_frame(frame);
            libpdf::Result1D r;
            {
              const py::gil_scoped_release release;
              r = self.sigma_clip(f.view, libpdf::SigmaClipOptions{threshold, max_iterations});
            }
            return PyResult1D(std::move(r));
          },
          py::arg("frame"), py::arg("threshold") = 3.0, py::arg("max_iterations") = 5,
          "Iterative sigma clipping across chi in each bin, then integration of the surviving pixels.")
      .def_property_readonly("rows", &libpdf::Integrator::rows)
      .def_property_readonly("cols", &libpdf::Integrator::cols)
      .def_property_readonly("options", &libpdf::Integrator::options)
      .def_property_readonly(
          "radial", [](const libpdf::Integrator& self) { return to_numpy(self.radial()); }, "Bin centres.")
      .def_property_readonly(
          "radial_edges", [](const libpdf::Integrator& self) { return to_numpy(self.radial_edges()); }, "Bin edges.")
      .def_property_readonly("stats", &libpdf::Integrator::stats, "Size and build time of the plan.");
}

}  // namespace libpdf_python
