// Compositions and scattering factors, the reduction I(q) -> S(q), F(q), G(r), and the sine transform plan.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/transform.hpp"
#include "libpdf/metrics.hpp"

namespace libpdf_python {
namespace {

// A reduction result: the arrays converted to numpy once, the scalars read from the C++ result it keeps (for
// reduction_header and write_reduction).
struct PyReduction {
  std::shared_ptr<const libpdf::ReductionResult> cpp;
  py::array_t<double> q, iq, iq_sigma, f2_mean, f_mean_sq, compton, sq, sq_sigma, fq, fq_sigma, r, gr, gr_sigma,
      pair_gr, pair_gr_sigma, rdf, rdf_sigma;

  explicit PyReduction(libpdf::ReductionResult res)
      : cpp(std::make_shared<const libpdf::ReductionResult>(std::move(res))) {
    const auto& c = *cpp;
    q = to_numpy(c.q);
    iq = to_numpy(c.iq);
    iq_sigma = to_numpy(c.iq_sigma);
    f2_mean = to_numpy(c.f2_mean);
    f_mean_sq = to_numpy(c.f_mean_sq);
    compton = to_numpy(c.compton);
    sq = to_numpy(c.sq);
    sq_sigma = to_numpy(c.sq_sigma);
    fq = to_numpy(c.fq);
    fq_sigma = to_numpy(c.fq_sigma);
    r = to_numpy(c.r);
    gr = to_numpy(c.gr);
    gr_sigma = to_numpy(c.gr_sigma);
    pair_gr = to_numpy(c.pair_gr);
    pair_gr_sigma = to_numpy(c.pair_gr_sigma);
    rdf = to_numpy(c.rdf);
    rdf_sigma = to_numpy(c.rdf_sigma);
  }
};

libpdf::IntensityPattern make_pattern(const InArray<double>& q, const InArray<double>& intensity,
                                      const py::object& sigma) {
  libpdf::IntensityPattern p;
  p.q = to_vector<double>(q, "q");
  p.intensity = to_vector<double>(intensity, "intensity");
  p.sigma = to_vector_or_empty(sigma, "sigma");
  return p;
}

// A pattern argument: an IntensityPattern, or a tuple (q, intensity[, sigma]) of arrays.
libpdf::IntensityPattern to_pattern(const py::handle& o, const char* name) {
  if (py::isinstance<libpdf::IntensityPattern>(o)) return o.cast<libpdf::IntensityPattern>();
  if (py::isinstance<py::tuple>(o) || py::isinstance<py::list>(o)) {
    const auto t = py::reinterpret_borrow<py::sequence>(o);
    if (t.size() == 2 || t.size() == 3) {
      return make_pattern(t[0].cast<InArray<double>>(), t[1].cast<InArray<double>>(),
                          t.size() == 3 ? py::object(t[2]) : py::object(py::none()));
    }
  }
  throw py::type_error(std::string(name) + " must be an IntensityPattern or a tuple (q, intensity[, sigma])");
}

std::vector<libpdf::HeaderEntry> to_header(const std::vector<std::pair<std::string, std::string>>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

void bind_reduce_transform(py::module_& m) {
  // ---- Elements and compositions -------------------------------------------------------------------------
  py::class_<libpdf::Composition>(m, "Composition", "A sample composition with atomic fractions summing to 1.")
      .def(py::init<const std::string&>(), py::arg("formula"),
           "Parses a formula such as 'La65Co25Al10', 'Mg2SiO4' or '(TiZr)0.5O'.")
      .def_property_readonly("formula", &libpdf::Composition::formula, "The formula as given.")
      .def_property_readonly(
          "components",
          [](const libpdf::Composition& c) {
            py::list out;
            for (const auto& k : c.components()) {
              out.append(py::make_tuple(libpdf::element(k.Z).symbol, k.Z, k.amount, k.fraction));
            }
            return out;
          },
          "[(symbol, Z, amount, fraction), ...] in order of first appearance.")
      .def_property_readonly("mean_mass", &libpdf::Composition::mean_mass, "Mean atomic mass (g/mol).")
      .def("normalized_formula", &libpdf::Composition::normalized_formula, "The fractions as a formula.")
      .def("__repr__", [](const libpdf::Composition& c) { return "Composition('" + c.formula() + "')"; });
  py::implicitly_convertible<std::string, libpdf::Composition>();
  m.def("number_density_from_mass_density", &libpdf::number_density_from_mass_density, py::arg("mass_density_g_cm3"),
        py::arg("composition"), "rho0 (atoms/A^3) from rho (g/cm^3).");
  m.def("mass_density_from_number_density", &libpdf::mass_density_from_number_density,
        py::arg("number_density_per_A3"), py::arg("composition"), "rho (g/cm^3) from rho0 (atoms/A^3).");
  m.def(
      "scattering_factors",
      [](const libpdf::Composition& c, const InArray<double>& q) {
        const auto f = libpdf::scattering_factors(c, to_vector<double>(q, "q"));
        py::dict d;
        d["q"] = to_numpy(f.q);
        d["f2_mean"] = to_numpy(f.f2_mean);
        d["f_mean_sq"] = to_numpy(f.f_mean_sq);
        d["compton"] = to_numpy(f.compton);
        return d;
      },
      py::arg("composition"), py::arg("q"),
      "{'q', 'f2_mean' (<f^2>), 'f_mean_sq' (<f>^2), 'compton' (I_inc)} of a composition on q (1/A).");
  m.def("form_factor", py::vectorize(&libpdf::form_factor), py::arg("Z"), py::arg("q"),
        "Waasmaier-Kirfel f0(q) of element Z (electrons), q in 1/A (vectorised).");
  m.def("compton", py::vectorize(&libpdf::compton), py::arg("Z"), py::arg("q"),
        "Incoherent scattering function S_inc(q) of element Z (xraylib), q in 1/A (vectorised).");

  // ---- Reduction -----------------------------------------------------------------------------------------
  py::enum_<libpdf::Normalization>(m, "Normalization", "How the normalisation factor alpha is found.")
      .value("high_q", libpdf::Normalization::high_q)
      .value("krogh_moe_norman", libpdf::Normalization::krogh_moe_norman)
      .value("ad_hoc", libpdf::Normalization::ad_hoc);
  py::enum_<libpdf::HighQWeight>(m, "HighQWeight", "Weight of the high-q fit.")
      .value("none", libpdf::HighQWeight::none)
      .value("q", libpdf::HighQWeight::q)
      .value("q2", libpdf::HighQWeight::q2);
  py::enum_<libpdf::StructureFactorConvention>(m, "StructureFactorConvention", "Normalisation of S(q).")
      .value("faber_ziman", libpdf::StructureFactorConvention::faber_ziman)
      .value("ashcroft_langreth", libpdf::StructureFactorConvention::ashcroft_langreth);
  py::enum_<libpdf::LowQExtrapolation>(m, "LowQExtrapolation", "S(q) below qmin.")
      .value("none", libpdf::LowQExtrapolation::none)
      .value("zero", libpdf::LowQExtrapolation::zero)
      .value("linear", libpdf::LowQExtrapolation::linear);
  py::enum_<libpdf::Window>(m, "Window", "Termination function M(q) of the sine transform.")
      .value("none", libpdf::Window::none)
      .value("lorch", libpdf::Window::lorch)
      .value("cosine", libpdf::Window::cosine);
  py::enum_<libpdf::FftPlanning>(m, "FftPlanning", "FFTW planner effort.")
      .value("estimate", libpdf::FftPlanning::estimate)
      .value("measure", libpdf::FftPlanning::measure);

  py::class_<libpdf::IntensityPattern>(m, "IntensityPattern", "A measured 1D pattern on q (1/A) with optional sigma.")
      .def(py::init(&make_pattern), py::arg("q"), py::arg("intensity"), py::arg("sigma") = py::none())
      .def_property_readonly("q", [](const libpdf::IntensityPattern& p) { return to_numpy(p.q); })
      .def_property_readonly("intensity", [](const libpdf::IntensityPattern& p) { return to_numpy(p.intensity); })
      .def_property_readonly("sigma", [](const libpdf::IntensityPattern& p) { return to_numpy(p.sigma); })
      .def("__len__", [](const libpdf::IntensityPattern& p) { return p.q.size(); });

  using RO = libpdf::ReductionOptions;
  py::class_<RO> ro(m, "ReductionOptions",
                    "Every choice of a reduction; ReductionOptions(composition='Mg2SiO4', mass_density=2.9, ...).");
  kwargs_init<RO>(ro);
  // A formula string is parsed here rather than by an implicit conversion, which would turn a bad formula's
  // ValueError (naming the unknown element) into pybind11's generic TypeError.
  ro.def_property(
      "composition", [](const RO& o) { return o.composition; },
      [](RO& o, const py::object& value) {
        o.composition = py::isinstance<py::str>(value) ? libpdf::Composition(value.cast<std::string>())
                                                       : value.cast<libpdf::Composition>();
      },
      "Sample composition (a Composition or a formula string).");
  ro.def_readwrite("number_density", &RO::number_density, "rho0 in atoms/A^3, or None.");
  ro.def_readwrite("mass_density", &RO::mass_density, "rho in g/cm^3, or None (not both densities).");
  ro.def_readwrite("background_scale", &RO::background_scale, "b in I_s - b I_bkg (>= 0).");
  ro.def_readwrite("qmin", &RO::qmin, "First q used (1/A) or None (the first data point).");
  ro.def_readwrite("qmax", &RO::qmax, "Last q used and transformed (1/A) or None (the last data point).");
  ro.def_readwrite("qmaxinst", &RO::qmaxinst, "Ad hoc fit upper end (1/A) or None (qmax).");
  ro.def_readwrite("qstep", &RO::qstep, "Resample onto a step <= this (1/A), or None (data must be uniform).");
  enum_property(ro, "normalization", &RO::normalization, &libpdf::parse_normalization,
                "How alpha is found ('highq', 'kmn', 'adhoc').");
  ro.def_readwrite("highq_qmin", &RO::highq_qmin, "The high-q fit uses q above this (1/A).");
  enum_property(ro, "highq_weight", &RO::highq_weight, &libpdf::parse_highq_weight, "'1', 'q' or 'q2'.");
  ro.def_readwrite("rpoly", &RO::rpoly, "Ad hoc polynomial degree round(rpoly qmaxinst / pi) (A).");
  enum_property(ro, "convention", &RO::convention, &libpdf::parse_convention,
                "'faber-ziman' or 'ashcroft-langreth'.");
  enum_property(ro, "extrapolation", &RO::extrapolation, &libpdf::parse_extrapolation,
                "S(q) below qmin: 'none', 'zero' or 'linear'.");
  ro.def_readwrite("low_r_iterations", &RO::low_r_iterations, "Eggert/Kaplow iterations (>= 0).");
  ro.def_readwrite("low_r_cutoff", &RO::low_r_cutoff, "r_c (A): g(r) = 0 below it, or None.");
  ro.def_readwrite("optimize_background_scale", &RO::optimize_background_scale, "Optimise b.");
  ro.def_readwrite("optimize_density", &RO::optimize_density, "Optimise rho0.");
  ro.def_readwrite("background_scale_min", &RO::background_scale_min, "Lower bound of b, or None (0.5 b).");
  ro.def_readwrite("background_scale_max", &RO::background_scale_max, "Upper bound of b, or None (1.5 b).");
  ro.def_readwrite("density_min", &RO::density_min, "Lower bound of rho0 (atoms/A^3), or None.");
  ro.def_readwrite("density_max", &RO::density_max, "Upper bound of rho0 (atoms/A^3), or None.");
  ro.def_readwrite("optimize_max_evaluations", &RO::optimize_max_evaluations, "Budget of the optimiser.");
  ro.def_readwrite("rmin", &RO::rmin, "First r of G(r) (A).");
  ro.def_readwrite("rmax", &RO::rmax, "Last r of G(r) (A).");
  ro.def_readwrite("rstep", &RO::rstep, "Step of G(r) (A).");
  enum_property(ro, "window", &RO::window, &libpdf::parse_window, "M(q): 'none', 'lorch' or 'cosine'.");
  ro.def_readwrite("taper_width", &RO::taper_width, "Cosine taper width (1/A); 0 = qmax/10.");
  enum_property(ro, "planning", &RO::planning,
                +[](const std::string& s) {
                  if (s == "estimate") return libpdf::FftPlanning::estimate;
                  if (s == "measure") return libpdf::FftPlanning::measure;
                  throw libpdf::InvalidArgument("planning = '" + s + "' (expected 'estimate' or 'measure')");
                },
                "FFTW planner effort: 'estimate' or 'measure'.");
  ro.def("validate", &RO::validate, "Raises ValueError naming every invalid field.");

  py::class_<PyReduction> rr(m, "ReductionResult",
                             "Everything a reduction produced (numpy arrays owning their memory) and every value used.");
  rr.def_readonly("q", &PyReduction::q, "q grid 0..qmax (1/A).")
      .def_readonly("iq", &PyReduction::iq, "I_c = I_s - b I_bkg on the grid (0 below qmin).")
      .def_readonly("iq_sigma", &PyReduction::iq_sigma, "sigma of I_c (empty without sigma).")
      .def_readonly("f2_mean", &PyReduction::f2_mean, "<f^2> on the grid.")
      .def_readonly("f_mean_sq", &PyReduction::f_mean_sq, "<f>^2 on the grid.")
      .def_readonly("compton", &PyReduction::compton, "I_inc on the grid.")
      .def_readonly("sq", &PyReduction::sq, "S(q).")
      .def_readonly("sq_sigma", &PyReduction::sq_sigma, "sigma of S(q).")
      .def_readonly("fq", &PyReduction::fq, "F(q) = q [S(q) - 1] (1/A).")
      .def_readonly("fq_sigma", &PyReduction::fq_sigma, "sigma of F(q).")
      .def_readonly("r", &PyReduction::r, "r grid (A).")
      .def_readonly("gr", &PyReduction::gr, "G(r) (1/A^2).")
      .def_readonly("gr_sigma", &PyReduction::gr_sigma, "sigma of G(r).")
      .def_readonly("pair_gr", &PyReduction::pair_gr, "g(r) (empty without a density).")
      .def_readonly("pair_gr_sigma", &PyReduction::pair_gr_sigma, "sigma of g(r).")
      .def_readonly("rdf", &PyReduction::rdf, "RDF(r) = 4 pi rho0 r^2 g(r) (1/A; empty without a density).")
      .def_readonly("rdf_sigma", &PyReduction::rdf_sigma, "sigma of RDF(r).")
      .def_property_readonly("options", [](const PyReduction& r) { return r.cpp->options; })
      .def_property_readonly("qmin", [](const PyReduction& r) { return r.cpp->qmin; })
      .def_property_readonly("qmax", [](const PyReduction& r) { return r.cpp->qmax; })
      .def_property_readonly("qmaxinst", [](const PyReduction& r) { return r.cpp->qmaxinst; })
      .def_property_readonly("qstep", [](const PyReduction& r) { return r.cpp->qstep; })
      .def_property_readonly("data_qmin", [](const PyReduction& r) { return r.cpp->data_qmin; })
      .def_property_readonly("data_qmax", [](const PyReduction& r) { return r.cpp->data_qmax; })
      .def_property_readonly("resampled", [](const PyReduction& r) { return r.cpp->resampled; })
      .def_property_readonly("alpha", [](const PyReduction& r) { return r.cpp->alpha; })
      .def_property_readonly("background_scale", [](const PyReduction& r) { return r.cpp->background_scale; })
      .def_property_readonly("background_scales", [](const PyReduction& r) { return r.cpp->background_scales; })
      .def_property_readonly("number_density", [](const PyReduction& r) { return r.cpp->number_density; })
      .def_property_readonly("adhoc_degree", [](const PyReduction& r) { return r.cpp->adhoc_degree; })
      .def_property_readonly("adhoc_coefficients", [](const PyReduction& r) { return r.cpp->adhoc_coefficients; })
      .def_property_readonly("low_r_iterations", [](const PyReduction& r) { return r.cpp->low_r_iterations; })
      .def_property_readonly("low_r_residual", [](const PyReduction& r) { return r.cpp->low_r_residual; })
      .def_property_readonly("optimizer_evaluations",
                             [](const PyReduction& r) { return r.cpp->optimizer_evaluations; })
      .def_property_readonly("has_sigma", [](const PyReduction& r) { return r.cpp->has_sigma; })
      .def_property_readonly("first_measured", [](const PyReduction& r) { return r.cpp->first_measured; });
  // Used by compute_metrics / metrics_input (bind_metrics.cpp), which accept a ReductionResult directly.
  rr.def("_metrics_input", [](const PyReduction& r) { return libpdf::metrics_input(*r.cpp); });

  m.def(
      "reduce",
      [](const py::handle& sample, const RO& options, const py::object& background, const py::object& backgrounds) {
        const libpdf::IntensityPattern s = to_pattern(sample, "sample");
        if (!background.is_none() && !backgrounds.is_none()) {
          throw libpdf::InvalidArgument("give either background or backgrounds, not both");
        }
        libpdf::ReductionResult r;
        if (!backgrounds.is_none()) {
          std::vector<libpdf::BackgroundTerm> terms;
          for (const auto& item : backgrounds) {
            const auto t = item.cast<py::tuple>();
            if (t.size() != 2) throw py::type_error("backgrounds must hold (pattern, scale) pairs");
            terms.push_back({to_pattern(t[0], "a background"), t[1].cast<double>()});
          }
          const py::gil_scoped_release release;
          r = libpdf::reduce(s, terms, options);
        } else if (!background.is_none()) {
          const libpdf::IntensityPattern b = to_pattern(background, "background");
          const py::gil_scoped_release release;
          r = libpdf::reduce(s, &b, options);
        } else {
          const py::gil_scoped_release release;
          r = libpdf::reduce(s, options);
        }
        return PyReduction(std::move(r));
      },
      py::arg("sample"), py::arg("options"), py::arg("background") = py::none(), py::arg("backgrounds") = py::none(),
      "Reduces I(q) to S(q), F(q) and G(r). sample/background: IntensityPattern or (q, intensity[, sigma]); "
      "background is subtracted with options.background_scale; backgrounds: [(pattern, scale), ...] instead. "
      "The GIL is released meanwhile.");
  m.def(
      "reduction_header",
      [](const PyReduction& r, const std::vector<std::pair<std::string, std::string>>& inputs) {
        return libpdf::reduction_header(*r.cpp, to_header(inputs));
      },
      py::arg("result"), py::arg("inputs") = std::vector<std::pair<std::string, std::string>>{},
      "The PDFgetX3-style header [(key, value), ...] of every parameter of a reduction (with the libpdf version).");
  m.def(
      "write_reduction",
      [](const std::string& prefix, const PyReduction& r,
         const std::vector<std::pair<std::string, std::string>>& inputs) {
        return libpdf::write_reduction(prefix, *r.cpp, to_header(inputs));
      },
      py::arg("prefix"), py::arg("result"), py::arg("inputs") = std::vector<std::pair<std::string, std::string>>{},
      "Writes PREFIX.iq, .sq, .fq and .gr atomically; returns the paths.");

  // ---- Sine transform ------------------------------------------------------------------------------------
  using TO = libpdf::TransformOptions;
  py::class_<TO> to(m, "TransformOptions", "Options of a sine-transform plan; TransformOptions(qmax=20, rmax=10).");
  kwargs_init<TO>(to);
  to.def_readwrite("qmax", &TO::qmax, "Upper end of the q band (1/A).")
      .def_readwrite("qstep", &TO::qstep, "Largest acceptable q step (1/A).")
      .def_readwrite("rmin", &TO::rmin, "First r (A, a multiple of rstep).")
      .def_readwrite("rmax", &TO::rmax, "Last r (A).")
      .def_readwrite("rstep", &TO::rstep, "r step (A).")
      .def_readwrite("taper_width", &TO::taper_width, "Cosine taper width (1/A); 0 = qmax/10.")
      .def_readwrite("threads", &TO::threads, "Threads of batch transforms (0 = all cores).")
      .def("validate", &TO::validate, "Raises ValueError naming every invalid field.");
  enum_property(to, "window", &TO::window, &libpdf::parse_window, "M(q): 'none', 'lorch' or 'cosine'.");
  enum_property(to, "planning", &TO::planning,
                +[](const std::string& s) {
                  if (s == "estimate") return libpdf::FftPlanning::estimate;
                  if (s == "measure") return libpdf::FftPlanning::measure;
                  throw libpdf::InvalidArgument("planning = '" + s + "' (expected 'estimate' or 'measure')");
                },
                "FFTW planner effort: 'estimate' or 'measure'.");

  using ST = libpdf::SineTransform;
  py::class_<ST>(m, "SineTransform",
                 "F(q) <-> G(r) plan: G(r_i) = (2/pi) dq sum_j F(q_j) M(q_j) sin(q_j r_i) on its own grids.")
      .def(py::init([](const py::object& options, const py::kwargs& kwargs) {
             TO o = options.is_none() ? TO{} : options.cast<TO>();
             if (kwargs.size() > 0) {
               if (!options.is_none()) throw py::type_error("give options or keyword arguments, not both");
               o = py::type::of<TO>()(**kwargs).cast<TO>();  // the keyword constructor above
             }
             const py::gil_scoped_release release;
             return ST(o);
           }),
           py::arg("options") = py::none(),
           "Builds a plan from TransformOptions or the same keywords (SineTransform(qmax=20, rmax=10)).")
      .def_property_readonly("options", &ST::options)
      .def_property_readonly("q_step", &ST::q_step, "q step of the input grid (<= options.qstep).")
      .def_property_readonly("nq", &ST::nq, "Samples of F.")
      .def_property_readonly("nr", &ST::nr, "Points of G.")
      .def_property_readonly("q", [](const ST& t) { return to_numpy(t.q()); }, "The q grid.")
      .def_property_readonly("r", [](const ST& t) { return to_numpy(t.r()); }, "The r grid.")
      .def_property_readonly("window", [](const ST& t) { return to_numpy(t.window()); }, "M(q) on the q grid.")
      .def_property_readonly("fft_length", &ST::fft_length, "Length of the RODFT00.")
      .def_property_readonly("native_rstep", &ST::native_rstep, "The FFT's own r spacing.")
      .def(
          "forward",
          [](const ST& t, const InArray<double>& F) {
            if (F.ndim() == 2) {
              const auto frames = static_cast<std::size_t>(F.shape(0));
              if (static_cast<std::size_t>(F.shape(1)) != t.nq()) {
                throw libpdf::InvalidArgument("F has " + std::to_string(F.shape(1)) + " columns; the plan needs nq = " +
                                              std::to_string(t.nq()));
              }
              py::array_t<double> G({static_cast<py::ssize_t>(frames), static_cast<py::ssize_t>(t.nr())});
              double* out = G.mutable_data();
              const double* in = F.data();
              {
                const py::gil_scoped_release release;
                t.forward_batch(in, frames, out);
              }
              return G;
            }
            if (F.ndim() != 1 || static_cast<std::size_t>(F.size()) != t.nq()) {
              throw libpdf::InvalidArgument("F must hold nq = " + std::to_string(t.nq()) + " values (or rows of them)");
            }
            py::array_t<double> G(static_cast<py::ssize_t>(t.nr()));
            double* out = G.mutable_data();
            const double* in = F.data();
            {
              const py::gil_scoped_release release;
              t.forward(in, out);
            }
            return G;
          },
          py::arg("F"), "G on the r grid from F on the q grid (a 2D array: one row per frame).")
      .def(
          "forward_sigma",
          [](const ST& t, const InArray<double>& sigma_F) {
            if (sigma_F.ndim() != 1 || static_cast<std::size_t>(sigma_F.size()) != t.nq()) {
              throw libpdf::InvalidArgument("sigma_F must hold nq = " + std::to_string(t.nq()) + " values");
            }
            py::array_t<double> out(static_cast<py::ssize_t>(t.nr()));
            t.forward_sigma(sigma_F.data(), out.mutable_data());
            return out;
          },
          py::arg("sigma_F"), "sigma of G from sigma of F (independent q points).")
      .def(
          "inverse",
          [](const ST& t, const InArray<double>& G) {
            if (G.ndim() != 1 || static_cast<std::size_t>(G.size()) != t.nr()) {
              throw libpdf::InvalidArgument("G must hold nr = " + std::to_string(t.nr()) + " values");
            }
            py::array_t<double> F(static_cast<py::ssize_t>(t.nq()));
            double* out = F.mutable_data();
            const double* in = G.data();
            {
              const py::gil_scoped_release release;
              t.inverse(in, out);
            }
            return F;
          },
          py::arg("G"), "F(q_j) = dr sum_i G(r_i) sin(q_j r_i) on the q grid.");
}

}  // namespace libpdf_python
