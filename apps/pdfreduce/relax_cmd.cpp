// `pdfreduce relax`: the β relaxation of a DMA temperature scan (tan δ against T at one frequency).
//
// Contract (issue 8): pdfreduce relax FILE [--json] prints T_beta, T_beta_sigma, tan_delta_beta (the β peak's
// height above the fitted α-wing background), tan_delta_beta_sigma and tan_delta_at_T_beta (the measured tan δ at
// T_β, which the study quotes), with the fit's other numbers. An excess wing (no clear maximum) is a result, not an
// error: shape "excess_wing", the peak keys null, and the criterion that failed. Defaults come from
// libpdf::BetaFitOptions and libpdf::CurveReadOptions so the tool and the library never disagree.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/relax.hpp"
#include "libpdf/version.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"
#include "pdfreduce/json.hpp"

namespace pdfreduce {
namespace {

struct RelaxArgs {
  std::string file;
  bool json = false;
  std::string background, peak;
  std::string range;
  double max_tan_delta = 0;
  double frequency = 0;
  double smoothing = 0;
  double min_prominence = 0, min_significance = 0;
  std::string temperature_unit = "auto";
  std::string temperature_column, tan_delta_column;
  bool sort = false;
};


std::string value_sigma(double v, double s, const char* unit) {
  return strprintf("%.6g +- %.2g%s%s", v, s, *unit ? " " : "", unit);
}

void run_relax(const RelaxArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  libpdf::CurveReadOptions read;
  read.temperature_unit = libpdf::parse_temperature_unit(a.temperature_unit);
  read.temperature_column = a.temperature_column;
  read.signal_column = a.tan_delta_column;
  read.frequency_Hz = a.frequency;
  read.sort_by_temperature = a.sort;
  const libpdf::DmaCurve curve = libpdf::read_dma(a.file, read);
  for (const auto& note : curve.notes) report.detail(a.file + ": " + note);

  libpdf::BetaFitOptions opt;
  opt.background = libpdf::parse_background_model(a.background);
  opt.peak = libpdf::parse_peak_model(a.peak);
  if (!a.range.empty()) {
    const auto r = parse_range(a.range);
    opt.range = libpdf::TemperatureRange{r.lo, r.hi};
  }
  opt.max_tan_delta = a.max_tan_delta;
  opt.smoothing_K = a.smoothing;
  opt.min_prominence = a.min_prominence;
  opt.min_significance = a.min_significance;
  const libpdf::BetaRelaxation r = libpdf::fit_beta_relaxation(curve, opt);
  const auto& p = r.peak;

  if (a.json) {
    JsonObject o;
    o.text("file", a.file);
    o.text("sample", curve.sample);
    o.number("frequency_Hz", r.frequency_Hz);
    o.text("shape", p ? "peak" : "excess_wing");
    o.text("verdict", r.verdict);
    o.number("T_beta", p ? std::optional<double>(p->T_beta_K.value) : std::nullopt);
    o.number("T_beta_sigma", p ? std::optional<double>(p->T_beta_K.sigma) : std::nullopt);
    o.number("tan_delta_beta", p ? std::optional<double>(p->height.value) : std::nullopt);
    o.number("tan_delta_beta_sigma", p ? std::optional<double>(p->height.sigma) : std::nullopt);
    o.number("tan_delta_at_T_beta", p ? std::optional<double>(p->tan_delta_at_T_beta.value) : std::nullopt);
    o.number("tan_delta_at_T_beta_sigma", p ? std::optional<double>(p->tan_delta_at_T_beta.sigma) : std::nullopt);
    o.number("fwhm", p ? std::optional<double>(p->fwhm_K.value) : std::nullopt);
    o.number("fwhm_sigma", p ? std::optional<double>(p->fwhm_K.sigma) : std::nullopt);
    o.number("T_max", p ? std::optional<double>(p->T_max_K) : std::nullopt);
    o.number("background_at_T_beta", p ? std::optional<double>(p->background_at_T_beta) : std::nullopt);
    o.number("prominence", p ? std::optional<double>(p->prominence) : std::nullopt);
    o.number("activation_energy_eV",
             p && p->activation_energy_eV ? std::optional<double>(p->activation_energy_eV->value) : std::nullopt);
    o.number("activation_energy_eV_sigma",
             p && p->activation_energy_eV ? std::optional<double>(p->activation_energy_eV->sigma) : std::nullopt);
    o.number("noise_sigma", r.noise_sigma);
    o.raw("fit_range", strprintf("[%.10g, %.10g]", r.range.lo_K, r.range.hi_K));
    o.number("points", static_cast<double>(r.points));
    o.text("background_model", libpdf::background_model_name(opt.background));
    o.text("peak_model", libpdf::peak_model_name(opt.peak));
    JsonObject params;
    for (std::size_t k = 0; k < r.fit.names.size(); ++k) {
      const auto i = static_cast<Eigen::Index>(k);
      const double sigma = std::sqrt(std::max(r.fit.covariance(i, i), 0.0));
      params.raw(r.fit.names[k], strprintf("[%.10g, %s]", r.fit.parameters[i],
                                           std::isfinite(sigma) ? strprintf("%.10g", sigma).c_str() : "null"));
    }
    o.raw("parameters", params.str(4));
    o.number("residual_rms", r.fit.residual_rms);
    o.raw("notes", JsonObject::string_list(curve.notes));
    o.text("libpdf_version", libpdf::version());
    std::cout << o.str() << '\n';
    return;
  }

  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out += strprintf("%-26s %s\n", key.c_str(), value.c_str());
  };
  line("file", a.file + (curve.sample.empty() ? "" : " (" + curve.sample + ")"));
  line("frequency", r.frequency_Hz ? strprintf("%.6g Hz", *r.frequency_Hz) : std::string("unknown"));
  line("fit", strprintf("%s background + %s peak over [%.6g, %.6g] K, %zu points, residual rms %.3g",
                        libpdf::background_model_name(opt.background), libpdf::peak_model_name(opt.peak),
                        r.range.lo_K, r.range.hi_K, r.points, r.fit.residual_rms));
  line("shape", p ? "peak" : "excess_wing");
  if (p) {
    line("T_beta", value_sigma(p->T_beta_K.value, p->T_beta_K.sigma, "K"));
    line("tan_delta_beta", value_sigma(p->height.value, p->height.sigma, "") + "  (height above the background)");
    line("tan_delta_at_T_beta",
         value_sigma(p->tan_delta_at_T_beta.value, p->tan_delta_at_T_beta.sigma, "") + "  (measured)");
    line("fwhm", value_sigma(p->fwhm_K.value, p->fwhm_K.sigma, "K"));
    line("T_max", strprintf("%.6g K  (maximum of the fitted total)", p->T_max_K));
    line("background_at_T_beta", strprintf("%.6g", p->background_at_T_beta));
    if (p->activation_energy_eV) {
      line("activation_energy", value_sigma(p->activation_energy_eV->value, p->activation_energy_eV->sigma, "eV"));
    }
  } else {
    line("verdict", r.verdict);
  }
  std::cout << out;
}

}  // namespace

Command add_relax_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<RelaxArgs>();
  const libpdf::BetaFitOptions defaults;
  const libpdf::CurveReadOptions read_defaults;
  args->background = libpdf::background_model_name(defaults.background);
  args->peak = libpdf::peak_model_name(defaults.peak);
  args->max_tan_delta = defaults.max_tan_delta;
  args->smoothing = defaults.smoothing_K;
  args->min_prominence = defaults.min_prominence;
  args->min_significance = defaults.min_significance;
  args->frequency = read_defaults.frequency_Hz;

  CLI::App* app = parent.add_subcommand(
      "relax",
      "Beta relaxation of a DMA temperature scan: separates the beta peak of tan delta(T) from the rising "
      "alpha-relaxation wing by a least-squares fit (background + peak) and prints T_beta, the peak height above "
      "the background and the measured tan delta at T_beta, with uncertainties.");
  app->footer(
      "Input: a text or CSV export (',', ';', tab or blank separated, decimal commas with ';'), a header row naming "
      "the columns: temperature (K, degC or degF, e.g. 'Temperature (°C)', 'Temp./°C'), tan delta ('tan delta', "
      "'tan δ', 'tand'; or E' and E'' to compute it), optional frequency (Hz). Header lines 'Sample: ...', "
      "'Frequency: 1 Hz' are read.\n"
      "Models: exponential B = c + a exp((T - T_ref)/w), arrhenius B = c + a exp(-(E/k)(1/T - 1/T_ref)); "
      "gaussian P = h exp(-(T - T_beta)^2/(2 s^2)), debye P = h / cosh((E/k)(1/T - 1/T_beta)).\n"
      "A beta peak is reported only when the smoothed tan delta has an interior maximum whose prominence is at "
      "least --min-prominence x the noise sigma, and the fitted height is at least --min-significance x its "
      "sigma; otherwise the result is an excess wing (shape excess_wing, T_beta null) - no peak is invented.\n"
      "Output keys (--json): T_beta, T_beta_sigma, tan_delta_beta (height above the background), "
      "tan_delta_beta_sigma, tan_delta_at_T_beta (measured), tan_delta_at_T_beta_sigma, fwhm, fwhm_sigma, T_max, "
      "shape, verdict, parameters, ... Temperatures in K.\n"
      "Examples:\n"
      "  pdfreduce relax La65Co25Al10_ascast.csv\n"
      "  pdfreduce relax dma.txt --frequency 1 --range 290:420 --peak debye --json");

  auto& a = *args;
  app->add_option("FILE", a.file, "DMA export: temperature and tan delta (or E' and E'') columns")
      ->required()
      ->type_name("FILE");
  app->add_flag("--json", a.json, "Print the result as one JSON object on stdout");
  app->add_option("--background", a.background,
                  "Model of the alpha wing: exponential (c + a exp((T - T_ref)/w)) or arrhenius "
                  "(c + a exp(-(E/k)(1/T - 1/T_ref))); T_ref = the upper end of the fit range")
      ->capture_default_str()
      ->check(CLI::IsMember({"exponential", "arrhenius"}));
  app->add_option("--peak", a.peak,
                  "Model of the beta peak: gaussian in T, or debye (one Debye process with an Arrhenius time: "
                  "h / cosh((E/k)(1/T - 1/T_beta)))")
      ->capture_default_str()
      ->check(CLI::IsMember({"gaussian", "debye"}));
  app->add_option("--range", a.range,
                  "Fit range LO:HI in K (default: from the first point up to where tan delta first exceeds "
                  "--max-tan-delta)")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--max-tan-delta", a.max_tan_delta,
                  "Upper end of the default fit range: the alpha peak itself is not modelled")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--frequency", a.frequency,
                  "Frequency in Hz whose rows are used when the file holds several (a single-frequency file is read "
                  "whatever its frequency)")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--smoothing", a.smoothing,
                  "Width in K of the local quadratic window used to find maxima and to read tan delta at T_beta")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--min-prominence", a.min_prominence,
                  "Peak criterion (a): the maximum's prominence must be at least this x the noise sigma of tan delta")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--min-significance", a.min_significance,
                  "Peak criterion (b): the fitted height must be at least this x its sigma")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--temperature-unit", a.temperature_unit,
                  "Unit of a temperature column that names none: auto (K when every value >= 150, else degC), "
                  "K or C")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "K", "C"}));
  app->add_option("--temperature-column", a.temperature_column, "Exact header of the temperature column")
      ->type_name("NAME");
  app->add_option("--tan-delta-column", a.tan_delta_column, "Exact header of the tan delta column")->type_name("NAME");
  app->add_flag("--sort", a.sort,
                "Sort the rows by temperature (equal temperatures averaged) instead of rejecting a temperature "
                "column that does not increase");

  return Command{app, [args, &global] { run_relax(*args, global); }};
}

}  // namespace pdfreduce
