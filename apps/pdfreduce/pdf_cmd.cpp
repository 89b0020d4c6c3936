// `pdfreduce pdf`: a 1D pattern I(q) (or I(2θ)) to S(q), F(q) and G(r), written as PDFgetX3-style text files
// PREFIX.iq, PREFIX.sq, PREFIX.fq and PREFIX.gr whose headers hold every parameter of the run.
//
// Contract (issue 3): pdfreduce pdf PATTERN --composition C [--background FILE --bgscale S]
//   [--density G_PER_CM3 | --number-density PER_A3] [--normalization highq|kmn|adhoc] [--qmin Q] [--qmax Q]
//   [--qmaxinst Q] [--rpoly R] [--window none|lorch|cosine] [--low-r-iterations N --rc R] [--rmin R]
//   [--rmax R] [--rstep R] -o PREFIX
// Defaults come from libpdf::ReductionOptions so the tool and the library never disagree.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/transform.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"

namespace pdfreduce {
namespace {

struct PdfArgs {
  std::string pattern;
  std::string composition;
  std::string background;
  double bgscale = 1.0;
  std::string container;
  double container_scale = 1.0;
  std::optional<double> density;
  std::optional<double> number_density;
  std::string normalization;
  std::optional<double> qmin, qmax, qmaxinst, qstep;
  double rpoly = 0.9;
  std::string adhoc_fit = "q";
  double highq_qmin = 3.0;
  std::string highq_weight;
  std::string window;
  double taper_width = 0.0;
  std::string convention;
  std::string extrapolation;
  int low_r_iterations = 0;
  std::optional<double> rc;
  bool optimize_bgscale = false;
  bool optimize_density = false;
  std::string bgscale_range;
  std::string density_range;
  int max_evaluations = 300;
  double rmin = 0.0, rmax = 30.0, rstep = 0.01;
  std::string xunit = "auto";
  std::optional<double> wavelength;
  bool measure = false;
  std::string output;
};

// The x unit of a pattern from its header: pyFAI and `pdfreduce integrate` write the unit name in the column
// line ("# q_A^-1 I sigma", "# 2th_deg I"). @returns nullopt when no unit name appears.
std::optional<libpdf::PatternXUnit> unit_from_header(const libpdf::TextPattern& p, const std::string& path) {
  std::optional<libpdf::PatternXUnit> found;
  for (const auto& line : p.header) {
    for (auto u : {libpdf::PatternXUnit::q_A, libpdf::PatternXUnit::q_nm, libpdf::PatternXUnit::tth_deg}) {
      if (line.find(libpdf::pattern_x_unit_name(u)) == std::string::npos) continue;
      if (found && *found != u) {
        throw libpdf::InvalidArgument(path + ": the header names both " + libpdf::pattern_x_unit_name(*found) +
                                      " and " + libpdf::pattern_x_unit_name(u) + "; give --xunit");
      }
      found = u;
    }
  }
  return found;
}

// The wavelength in Å from a pattern header ("Wavelength: 1.908e-11" in metres, as pyFAI writes it, or in Å).
std::optional<double> wavelength_from_header(const libpdf::TextPattern& p) {
  for (const auto& [key, value] : p.metadata) {
    std::string k = key;
    std::transform(k.begin(), k.end(), k.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (k != "wavelength" && k != "wavelength_a" && k != "wavelength_m") continue;
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || !(v > 0)) continue;
    return v < 1e-3 ? v * 1e10 : v;  // a value below 1e-3 can only be metres
  }
  return std::nullopt;
}

struct LoadedPattern {
  libpdf::IntensityPattern pattern;
  libpdf::PatternXUnit unit = libpdf::PatternXUnit::q_A;
  std::string unit_source;
  std::optional<double> wavelength_A;
};

LoadedPattern load(const std::string& path, const PdfArgs& a, const Reporter& report) {
  const auto text = libpdf::read_text_pattern(path);
  LoadedPattern out;
  if (a.xunit == "auto") {
    const auto u = unit_from_header(text, path);
    out.unit = u.value_or(libpdf::PatternXUnit::q_A);
    out.unit_source = u ? "from the file header" : "assumed (no unit in the header)";
    if (!u) report.detail(path + ": no x unit in the header; assuming q in 1/A (set --xunit otherwise)");
  } else {
    out.unit = libpdf::parse_pattern_x_unit(a.xunit);
    out.unit_source = "--xunit";
  }
  if (out.unit == libpdf::PatternXUnit::tth_deg) {
    out.wavelength_A = a.wavelength ? a.wavelength : wavelength_from_header(text);
    if (!out.wavelength_A) {
      throw libpdf::InvalidArgument(path + ": 2theta data need the wavelength: give --wavelength (in A)");
    }
  }
  out.pattern.q = libpdf::to_q_A(text.x, out.unit, out.wavelength_A.value_or(0.0));
  out.pattern.intensity = text.y;
  out.pattern.sigma = text.sigma;
  return out;
}

std::pair<double, double> range_of(const std::string& text) {
  const auto r = parse_range(text);
  return {r.lo, r.hi};
}

void run_pdf(const PdfArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  libpdf::ReductionOptions o;
  o.composition = libpdf::Composition(a.composition);
  if (a.density) o.mass_density = *a.density;
  if (a.number_density) o.number_density = *a.number_density;
  o.background_scale = a.bgscale;
  o.qmin = a.qmin;
  o.qmax = a.qmax;
  o.qmaxinst = a.qmaxinst;
  o.qstep = a.qstep;
  o.normalization = libpdf::parse_normalization(a.normalization);
  o.highq_qmin = a.highq_qmin;
  o.highq_weight = libpdf::parse_highq_weight(a.highq_weight);
  o.rpoly = a.rpoly;
  o.adhoc_fit = libpdf::parse_adhoc_fit(a.adhoc_fit);
  o.convention = libpdf::parse_convention(a.convention);
  o.extrapolation = libpdf::parse_extrapolation(a.extrapolation);
  o.low_r_iterations = a.low_r_iterations;
  o.low_r_cutoff = a.rc;
  o.optimize_background_scale = a.optimize_bgscale;
  o.optimize_density = a.optimize_density;
  if (!a.bgscale_range.empty()) {
    const auto [lo, hi] = range_of(a.bgscale_range);
    o.background_scale_min = lo;
    o.background_scale_max = hi;
  }
  if (!a.density_range.empty()) {
    const auto [lo, hi] = range_of(a.density_range);
    if (!(lo > 0 && hi > lo)) {
      throw libpdf::InvalidArgument("--density-range " + a.density_range + " (expected 0 < LO < HI, in g/cm^3)");
    }
    o.density_min = libpdf::number_density_from_mass_density(lo, o.composition);
    o.density_max = libpdf::number_density_from_mass_density(hi, o.composition);
  }
  o.optimize_max_evaluations = a.max_evaluations;
  o.rmin = a.rmin;
  o.rmax = a.rmax;
  o.rstep = a.rstep;
  o.window = libpdf::parse_window(a.window);
  o.taper_width = a.taper_width;
  o.planning = a.measure ? libpdf::FftPlanning::measure : libpdf::FftPlanning::estimate;
  o.validate();  // every bad option at once, before any file is read

  const LoadedPattern sample = load(a.pattern, a, report);
  std::vector<libpdf::BackgroundTerm> backgrounds;
  if (!a.background.empty()) backgrounds.push_back({load(a.background, a, report).pattern, a.bgscale});
  if (!a.container.empty()) backgrounds.push_back({load(a.container, a, report).pattern, a.container_scale});
  if (sample.unit == libpdf::PatternXUnit::tth_deg && !o.qstep) {
    // 2θ data are not uniform in q: resample onto the mean q step (recorded in the header).
    const auto& q = sample.pattern.q;
    o.qstep = (q.back() - q.front()) / static_cast<double>(q.size() - 1);
    report.detail(strprintf("2theta data: resampling onto a uniform q grid of step %.6g 1/A", *o.qstep));
  }

  const auto result = libpdf::reduce(sample.pattern, backgrounds, o);

  std::vector<libpdf::HeaderEntry> inputs;
  inputs.emplace_back("inputfile", a.pattern);
  inputs.emplace_back("backgroundfile", a.background.empty() ? "none" : a.background);
  if (!a.container.empty()) {
    inputs.emplace_back("containerfile", a.container);
    inputs.emplace_back("containerscale", exact(a.container_scale));
  }
  inputs.emplace_back("xunit", std::string(libpdf::pattern_x_unit_name(sample.unit)) + " (" + sample.unit_source + ")");
  if (sample.wavelength_A) inputs.emplace_back("wavelength", exact(*sample.wavelength_A) + " A");
  inputs.emplace_back("sigma_column", sample.pattern.sigma.empty() ? "no" : "yes");
  const std::filesystem::path parent = std::filesystem::path(a.output).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) throw libpdf::IoError("cannot create the output directory '" + parent.string() + "': " + ec.message());
  }
  const auto paths = libpdf::write_reduction(a.output, result, inputs);
  report.detail(strprintf("alpha = %.8g, background scale %.6g%s, %d low-r iterations", result.alpha,
                          result.background_scale, a.optimize_bgscale ? " (optimised)" : "", result.low_r_iterations));
  if (result.number_density) {
    report.detail(strprintf("number density %.6g atoms/A^3 (%.6g g/cm^3)%s", *result.number_density,
                            libpdf::mass_density_from_number_density(*result.number_density, o.composition),
                            a.optimize_density ? " (optimised)" : ""));
  }
  report.info(strprintf("reduced %s (%s, q %.4g..%.4g 1/A) into %s.iq .sq .fq .gr", a.pattern.c_str(),
                        libpdf::normalization_name(o.normalization), result.qmin, result.qmax, a.output.c_str()));
  (void)paths;
}

}  // namespace

Command add_pdf_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<PdfArgs>();
  const libpdf::ReductionOptions defaults;
  args->bgscale = defaults.background_scale;
  args->normalization = libpdf::normalization_name(defaults.normalization);
  args->rpoly = defaults.rpoly;
  args->highq_qmin = defaults.highq_qmin;
  args->highq_weight = libpdf::highq_weight_name(defaults.highq_weight);
  args->window = libpdf::window_name(defaults.window);
  args->taper_width = defaults.taper_width;
  args->convention = libpdf::convention_name(defaults.convention);
  args->extrapolation = libpdf::extrapolation_name(defaults.extrapolation);
  args->low_r_iterations = defaults.low_r_iterations;
  args->max_evaluations = defaults.optimize_max_evaluations;
  args->rmin = defaults.rmin;
  args->rmax = defaults.rmax;
  args->rstep = defaults.rstep;

  CLI::App* app = parent.add_subcommand(
      "pdf",
      "Total scattering: a 1D pattern I(q) to the structure factor S(q), the reduced structure function F(q) and "
      "the pair distribution function G(r), with uncertainties when the pattern has a sigma column.");
  app->footer(
      "Formulas (Faber-Ziman): S(q) = 1 + [alpha (I - bgscale I_bkg) - I_inc - <f^2>] / <f>^2, F(q) = q [S(q) - 1], "
      "G(r) = (2/pi) integral F(q) M(q) sin(qr) dq; f0 from Waasmaier & Kirfel (1995), Compton from xraylib.\n"
      "Output: PREFIX.iq (background-subtracted I on the measured band), PREFIX.sq, PREFIX.fq (0..qmax, "
      "extrapolated below qmin), PREFIX.gr; columns x, y, sigma after a PDFgetX3-style header holding every "
      "parameter.\n"
      "Examples:\n"
      "  pdfreduce pdf Mg2SiO4.xy --background bkg.xy --composition Mg2SiO4 --density 2.9 --normalization kmn "
      "--qmax 20 --low-r-iterations 5 --rc 1.4 -o out/Mg2SiO4\n"
      "  pdfreduce pdf glass.chi --xunit 2th_deg --wavelength 0.2066 --composition La65Co25Al10 "
      "--normalization adhoc --qmax 22 --rpoly 0.9 --window lorch -o glass");

  auto& a = *args;
  app->add_option("PATTERN", a.pattern,
                  "1D pattern: a text file (.xy, .chi, .dat, ...) with columns x, I and optionally sigma")
      ->required()
      ->type_name("FILE");
  app->add_option("--composition", a.composition,
                  "Sample composition, e.g. La65Co25Al10, Mg2SiO4, Pd40Ni40P20, (TiZr)0.5O, La0.65Co0.25Al0.1")
      ->required()
      ->type_name("FORMULA");
  app->add_option("-o,--output", a.output, "Output prefix: writes PREFIX.iq, .sq, .fq and .gr (directories created)")
      ->required()
      ->type_name("PREFIX");
  auto* bkg = app->add_option("--background", a.background,
                              "Background (empty container/environment) pattern on q, subtracted with --bgscale")
                  ->type_name("FILE");
  app->add_option("--bgscale", a.bgscale, "Background scale b in I - b I_bkg")
      ->capture_default_str()
      ->check(non_negative_number());
  auto* container = app->add_option("--container", a.container,
                                    "A second pattern subtracted with --container-scale (e.g. the empty container when "
                                    "--background is the sample environment): I - b I_bkg - c I_container")
                        ->type_name("FILE");
  app->add_option("--container-scale", a.container_scale, "Scale c of --container")
      ->capture_default_str()
      ->check(non_negative_number())
      ->needs(container);
  container->needs(bkg);
  auto* density =
      app->add_option("--density", a.density, "Mass density in g/cm^3 (converted with the mean atomic mass)")
          ->type_name("G_PER_CM3")
          ->check(positive_number());
  auto* number_density = app->add_option("--number-density", a.number_density, "Number density rho0 in atoms/A^3")
                             ->type_name("PER_A3")
                             ->check(positive_number());
  density->excludes(number_density);
  app->add_option("--normalization", a.normalization,
                  "How alpha is found: highq (least squares of alpha I - (<f^2> + I_inc) above --highq-qmin), kmn "
                  "(Krogh-Moe/Norman sum rule; needs a density), adhoc (PDFgetX3-style polynomial correction; no "
                  "density)")
      ->capture_default_str()
      ->check(CLI::IsMember({"highq", "kmn", "adhoc"}));
  app->add_option("--qmin", a.qmin, "First q used (1/A); default the first data point")->check(non_negative_number());
  app->add_option("--qmax", a.qmax, "Last q used and transformed (1/A); default the last data point")
      ->check(positive_number());
  app->add_option("--qmaxinst", a.qmaxinst, "adhoc: upper end of the polynomial fit (1/A, >= qmax); default qmax")
      ->check(positive_number());
  app->add_option("--qstep", a.qstep,
                  "Resample the pattern onto a uniform q grid of step <= QSTEP (1/A); without it the pattern must "
                  "be uniform in q (2theta data are resampled onto their mean q step)")
      ->type_name("Q")
      ->check(positive_number());
  app->add_option("--rpoly", a.rpoly, "adhoc: polynomial degree n = round(rpoly qmaxinst / pi) (A)")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--adhoc-fit", a.adhoc_fit,
                  "adhoc: fit the polynomial to F(q) (q, PDFgetX3) or choose it so that G(r) is linear below --rc "
                  "(lowr; fits rho0 too, needs --rc)")
      ->capture_default_str()
      ->check(CLI::IsMember({"q", "lowr"}));
  app->add_option("--highq-qmin", a.highq_qmin, "highq and adhoc: fit alpha over q above this (1/A)")
      ->capture_default_str()
      ->check(non_negative_number());
  app->add_option("--highq-weight", a.highq_weight, "Weight of the high-q fit: 1, q or q2")
      ->capture_default_str()
      ->check(CLI::IsMember({"1", "q", "q2"}));
  app->add_option("--convention", a.convention,
                  "faber-ziman (S - 1 = [...]/<f>^2) or ashcroft-langreth (S - 1 = [...]/<f^2>); g(r) always from "
                  "Faber-Ziman")
      ->capture_default_str()
      ->check(CLI::IsMember({"faber-ziman", "ashcroft-langreth"}));
  app->add_option("--extrapolation", a.extrapolation,
                  "S(q) below qmin: none (F = 0), zero (S = 0), linear (S from 0 at q = 0 to S(qmin))")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "zero", "linear"}));
  app->add_option("--window", a.window,
                  "Termination function M(q): none (M = 1), lorch (M = sin(pi q/qmax)/(pi q/qmax)), cosine "
                  "(M = 1 up to qmax - w, then 0.5 [1 + cos(pi (q - qmax + w)/w)])")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "lorch", "cosine"}));
  app->add_option("--taper-width", a.taper_width, "Width w of the cosine taper (1/A); 0 = qmax/10")
      ->capture_default_str()
      ->check(non_negative_number());
  auto* iterations = app->add_option("--low-r-iterations", a.low_r_iterations,
                                     "Eggert/Kaplow low-r refinement: iterations of S <- S [1 - (1/q) integral_0^rc "
                                     "(G + 4 pi rho0 r) sin(qr) dr] (needs --rc and a density)")
                         ->capture_default_str()
                         ->check(CLI::NonNegativeNumber);
  auto* rc =
      app->add_option("--rc", a.rc, "r_c (A): g(r) = 0 below it (about 1.4 for oxides, 2.2-2.5 for La-based glasses)")
          ->check(positive_number());
  iterations->needs(rc);
  auto* opt_b = app->add_flag("--optimize-bgscale", a.optimize_bgscale,
                              "Optimise the background scale (within --bgscale-range) to minimise integral_0^rc "
                              "[G + 4 pi rho0 r]^2 dr (needs --background, --rc and a density)");
  opt_b->needs(bkg)->needs(rc);
  auto* opt_d = app->add_flag("--optimize-density", a.optimize_density,
                              "Optimise the density (within --density-range), starting from --density or "
                              "--number-density (needs --rc)");
  opt_d->needs(rc);
  app->add_option("--bgscale-range", a.bgscale_range,
                  "Bounds LO:HI of the optimised background scale; default "
                  "0.5..1.5 x --bgscale")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--density-range", a.density_range,
                  "Bounds LO:HI (g/cm^3) of the optimised density; default 0.5..1.5 x the starting density")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--max-evaluations", a.max_evaluations, "Budget of the optimiser (reductions)")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--rmin", a.rmin, "First r of G(r) (A; a multiple of --rstep)")
      ->capture_default_str()
      ->check(non_negative_number());
  app->add_option("--rmax", a.rmax, "Last r of G(r) (A)")->capture_default_str()->check(positive_number());
  app->add_option("--rstep", a.rstep, "Step of G(r) (A); the grid rmin:rstep:rmax is exact")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--xunit", a.xunit,
                  "Unit of the pattern's first column: auto (from the header, else q_A^-1), q_A^-1, q_nm^-1 or "
                  "2th_deg")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "q_A^-1", "q_nm^-1", "2th_deg"}));
  app->add_option("--wavelength", a.wavelength,
                  "Wavelength in A for 2th_deg patterns (default: the pattern header's Wavelength, as pyFAI writes it)")
      ->type_name("A")
      ->check(positive_number());
  app->add_flag("--measure", a.measure, "Let FFTW time its algorithms when planning (worth it for many patterns)");

  return Command{app, [args, &global] { run_pdf(*args, global); }};
}

}  // namespace pdfreduce
