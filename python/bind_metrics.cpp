// Structure metrics (metrics.hpp): compute_metrics, metrics_table, detect_onset.
#include "bindings.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/metrics.hpp"
#include "libpdf/reduce.hpp"

namespace libpdf_python {

namespace {

libpdf::MetricsInput to_input(const py::handle& o) {
  if (py::isinstance<libpdf::MetricsInput>(o)) return o.cast<libpdf::MetricsInput>();
  // A reduction result from libpdf.reduce: its measured part, exactly as metrics_input() takes it in C++.
  if (py::hasattr(o, "_metrics_input")) return o.attr("_metrics_input")().cast<libpdf::MetricsInput>();
  throw py::type_error("expected a MetricsInput or a ReductionResult");
}

}  // namespace

void bind_metrics(py::module_& m) {
  py::enum_<libpdf::CoordinationMethod>(m, "CoordinationMethod", "How cn1 integrates the RDF.")
      .value("first_minimum", libpdf::CoordinationMethod::first_minimum)
      .value("symmetric", libpdf::CoordinationMethod::symmetric);

  py::class_<libpdf::Metric>(m, "Metric", "A value with its standard uncertainty (NaN: not measurable / unknown).")
      .def_readonly("value", &libpdf::Metric::value)
      .def_readonly("sigma", &libpdf::Metric::sigma)
      .def("__iter__", [](const libpdf::Metric& x) { return py::iter(py::make_tuple(x.value, x.sigma)); })
      .def("__repr__", [](const libpdf::Metric& x) {
        return "Metric(" + std::to_string(x.value) + " +- " + std::to_string(x.sigma) + ")";
      });

  using MO = libpdf::MetricsOptions;
  py::class_<MO> mo(m, "MetricsOptions", "Where and how the metrics are read; MetricsOptions(q1_min=1.5, ...).");
  kwargs_init<MO>(mo);
  mo.def_readwrite("q1_min", &MO::q1_min, "First S(q) peak window, lower end (1/A).")
      .def_readwrite("q1_max", &MO::q1_max, "First S(q) peak window, upper end (1/A).")
      .def_readwrite("r1_min", &MO::r1_min, "First G(r) peak window, lower end (A).")
      .def_readwrite("r1_max", &MO::r1_max, "First G(r) peak window, upper end (A).")
      .def_readwrite("mro_rmin", &MO::mro_rmin, "MRO window, lower end (A).")
      .def_readwrite("mro_rmax", &MO::mro_rmax, "MRO window, upper end (A).")
      .def_readwrite("sq_maxima_qmax", &MO::sq_maxima_qmax, "S(q) maxima 2-4 are searched below this (1/A).")
      .def_readwrite("watch_q", &MO::watch_q, "Positions where new S(q) peaks are looked for (1/A).")
      .def_readwrite("watch_halfwidth", &MO::watch_halfwidth, "Half-width of each watch window (1/A).")
      .def("validate", &MO::validate, "Raises ValueError naming every bad field.");
  enum_property(mo, "cn_method", &MO::cn_method, &libpdf::parse_coordination_method,
                "'first-minimum' or 'symmetric'.");

  py::class_<libpdf::MetricsInput>(m, "MetricsInput", "One frame as the metrics read it: S(q) and/or G(r).")
      .def(py::init([](const py::object& q, const py::object& sq, const py::object& sq_sigma, const py::object& r,
                       const py::object& gr, const py::object& gr_sigma, const py::object& rdf,
                       std::optional<double> number_density) {
             libpdf::MetricsInput in;
             in.q = to_vector_or_empty(q, "q");
             in.sq = to_vector_or_empty(sq, "sq");
             in.sq_sigma = to_vector_or_empty(sq_sigma, "sq_sigma");
             in.r = to_vector_or_empty(r, "r");
             in.gr = to_vector_or_empty(gr, "gr");
             in.gr_sigma = to_vector_or_empty(gr_sigma, "gr_sigma");
             in.rdf = to_vector_or_empty(rdf, "rdf");
             in.number_density = number_density;
             return in;
           }),
           py::arg("q") = py::none(), py::arg("sq") = py::none(), py::arg("sq_sigma") = py::none(),
           py::arg("r") = py::none(), py::arg("gr") = py::none(), py::arg("gr_sigma") = py::none(),
           py::arg("rdf") = py::none(), py::arg("number_density") = py::none())
      .def_property_readonly("q", [](const libpdf::MetricsInput& i) { return to_numpy(i.q); })
      .def_property_readonly("sq", [](const libpdf::MetricsInput& i) { return to_numpy(i.sq); })
      .def_property_readonly("r", [](const libpdf::MetricsInput& i) { return to_numpy(i.r); })
      .def_property_readonly("gr", [](const libpdf::MetricsInput& i) { return to_numpy(i.gr); })
      .def_readonly("number_density", &libpdf::MetricsInput::number_density);

  py::class_<libpdf::WatchPeak>(m, "WatchPeak", "The metrics of a watched S(q) position.")
      .def_readonly("watch_q", &libpdf::WatchPeak::watch_q)
      .def_readonly("q", &libpdf::WatchPeak::q)
      .def_readonly("height", &libpdf::WatchPeak::height)
      .def_readonly("excess", &libpdf::WatchPeak::excess)
      .def_readonly("significance", &libpdf::WatchPeak::significance);

  using SM = libpdf::StructureMetrics;
  py::class_<SM> sm(m, "StructureMetrics", "Every metric of a frame (see metrics.hpp); metrics_table() flattens it.");
  sm.def_readonly("q1", &SM::q1)
      .def_readonly("q1_height", &SM::q1_height)
      .def_readonly("q1_fwhm", &SM::q1_fwhm)
      .def_readonly("q1_coherence_L", &SM::q1_coherence_L)
      .def_readonly("q2", &SM::q2)
      .def_readonly("q2_height", &SM::q2_height)
      .def_readonly("q2_fwhm", &SM::q2_fwhm)
      .def_readonly("q3", &SM::q3)
      .def_readonly("q3_height", &SM::q3_height)
      .def_readonly("q3_fwhm", &SM::q3_fwhm)
      .def_readonly("q4", &SM::q4)
      .def_readonly("q4_height", &SM::q4_height)
      .def_readonly("q4_fwhm", &SM::q4_fwhm)
      .def_readonly("r1", &SM::r1)
      .def_readonly("r1_height", &SM::r1_height)
      .def_readonly("r1_width", &SM::r1_width)
      .def_readonly("cn1", &SM::cn1)
      .def_readonly("cn1_rmax", &SM::cn1_rmax)
      .def_readonly("mro_amplitude_rms", &SM::mro_amplitude_rms)
      .def_readonly("mro_amplitude_p2p", &SM::mro_amplitude_p2p)
      .def_readonly("mro_xi", &SM::mro_xi)
      .def_readonly("mro_qm", &SM::mro_qm)
      .def_readonly("mro_A", &SM::mro_A)
      .def_readonly("mro_phi", &SM::mro_phi)
      .def_readonly("watch", &SM::watch)
      .def_readonly("mro_chi2_reduced", &SM::mro_chi2_reduced);

  m.def(
      "compute_metrics",
      [](const py::handle& frame, const MO& options, const py::object& reference) {
        const libpdf::MetricsInput in = to_input(frame);
        std::optional<libpdf::MetricsInput> ref;
        if (!reference.is_none()) ref = to_input(reference);
        const py::gil_scoped_release release;
        return libpdf::compute_metrics(in, options, ref ? &*ref : nullptr);
      },
      py::arg("frame"), py::arg("options") = MO{}, py::arg("reference") = py::none(),
      "The metrics of a frame (a MetricsInput or a ReductionResult); `reference` makes the watch excess relative.");
  m.def(
      "metrics_input", [](const py::handle& result) { return to_input(result); }, py::arg("result"),
      "The measured part of a ReductionResult (S(q) from the first measured q, G(r), sigma, rho0, RDF).");
  m.def(
      "metrics_table",
      [](const SM& s) {
        py::dict d;  // insertion-ordered: the table's stable order
        for (const auto& [k, v] : libpdf::metrics_table(s)) d[py::str(k)] = v;
        return d;
      },
      py::arg("metrics"), "The metrics as an ordered {key: value} dict (each value, then its '<key>_sigma').");
  m.def("metric_names", &libpdf::metric_names, py::arg("options") = MO{},
        "The keys of metrics_table() for metrics computed with `options`.");

  py::class_<libpdf::OnsetResult>(m, "OnsetResult", "A continuous two-segment fit y = a + b1 (x - x0) | b2 (x - x0).")
      .def_readonly("detected", &libpdf::OnsetResult::detected)
      .def_readonly("onset", &libpdf::OnsetResult::onset)
      .def_readonly("onset_sigma", &libpdf::OnsetResult::onset_sigma)
      .def_readonly("intercept", &libpdf::OnsetResult::intercept)
      .def_readonly("intercept_sigma", &libpdf::OnsetResult::intercept_sigma)
      .def_readonly("slope_below", &libpdf::OnsetResult::slope_below)
      .def_readonly("slope_below_sigma", &libpdf::OnsetResult::slope_below_sigma)
      .def_readonly("slope_above", &libpdf::OnsetResult::slope_above)
      .def_readonly("slope_above_sigma", &libpdf::OnsetResult::slope_above_sigma)
      .def_readonly("slope_difference_sigma", &libpdf::OnsetResult::slope_difference_sigma)
      .def_readonly("p_value", &libpdf::OnsetResult::p_value)
      .def_readonly("chi2_hinge", &libpdf::OnsetResult::chi2_hinge)
      .def_readonly("chi2_line", &libpdf::OnsetResult::chi2_line)
      .def_readonly("line_slope", &libpdf::OnsetResult::line_slope)
      .def_readonly("line_intercept", &libpdf::OnsetResult::line_intercept)
      .def_readonly("n", &libpdf::OnsetResult::n)
      .def_readonly("sigma_known", &libpdf::OnsetResult::sigma_known);
  m.def(
      "detect_onset",
      [](const InArray<double>& x, const InArray<double>& y, const py::object& sigma, std::size_t min_points,
         std::optional<double> x_min, std::optional<double> x_max, double significance) {
        libpdf::OnsetOptions o;
        o.min_points = min_points;
        o.x_min = x_min;
        o.x_max = x_max;
        o.significance = significance;
        return libpdf::detect_onset(to_vector<double>(x, "x"), to_vector<double>(y, "y"),
                                    to_vector_or_empty(sigma, "sigma"), o);
      },
      py::arg("x"), py::arg("y"), py::arg("sigma") = py::none(), py::arg("min_points") = 4,
      py::arg("x_min") = py::none(), py::arg("x_max") = py::none(), py::arg("significance") = 0.01,
      "Where the trend of y against x changes (a hinge fit tested against a straight line).");
}

}  // namespace libpdf_python
