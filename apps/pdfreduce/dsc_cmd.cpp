// `pdfreduce dsc`: the glass transition and exothermic transition peaks of a DSC / Flash-DSC heating scan.
//
// Contract (issue 8): pdfreduce dsc FILE [--json] prints Tg_onset (tangent construction), Tg_mid (half step), and
// the transition peak fields (peak_onset, peak_T, peak_end, peak_enthalpy: the first exotherm above T_g), with
// every exotherm found and, on request, the relaxation enthalpy. Defaults come from libpdf::DscOptions and
// libpdf::CurveReadOptions so the tool and the library never disagree.
#include <CLI/CLI.hpp>
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

struct DscArgs {
  std::string file;
  bool json = false;
  std::optional<double> heating_rate;
  std::optional<double> mass_mg;
  std::string sign = "auto";
  std::string temperature_unit = "auto";
  std::string temperature_column, heat_flow_column;
  bool sort = false;
  double smoothing = 0;
  double min_step_sigma = 0, min_peak_sigma = 0;
  std::string tg_range, glass_baseline, liquid_baseline, peak_range, relaxation_range;
  std::string reference;
};


std::optional<libpdf::TemperatureRange> range_of(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const auto r = parse_range(text);
  return libpdf::TemperatureRange{r.lo, r.hi};
}

std::string value_sigma(double v, double s, const std::string& unit) {
  return strprintf("%.6g +- %.2g%s%s", v, s, unit.empty() ? "" : " ", unit.c_str());
}

void run_dsc(const DscArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  libpdf::CurveReadOptions read;
  read.temperature_unit = libpdf::parse_temperature_unit(a.temperature_unit);
  read.temperature_column = a.temperature_column;
  read.signal_column = a.heat_flow_column;
  read.sort_by_temperature = a.sort;
  read.heat_flow_sign = libpdf::parse_heat_flow_sign(a.sign);
  read.heating_rate_K_per_min = a.heating_rate;
  read.sample_mass_mg = a.mass_mg;
  const libpdf::DscCurve curve = libpdf::read_dsc(a.file, read);
  for (const auto& note : curve.notes) report.detail(a.file + ": " + note);

  libpdf::DscOptions opt;
  opt.smoothing_K = a.smoothing;
  opt.min_step_sigma = a.min_step_sigma;
  opt.min_peak_sigma = a.min_peak_sigma;
  opt.tg_search = range_of(a.tg_range);
  opt.glass_baseline = range_of(a.glass_baseline);
  opt.liquid_baseline = range_of(a.liquid_baseline);
  opt.peak_search = range_of(a.peak_range);
  if (a.reference.empty()) opt.relaxation_range = range_of(a.relaxation_range);
  const libpdf::DscAnalysis r = libpdf::analyze_dsc(curve, opt);
  for (const auto& note : r.notes) report.detail(a.file + ": " + note);

  std::optional<libpdf::ValueSigma> relaxation = r.relaxation_enthalpy;
  std::string relaxation_method = relaxation ? "chord across the range" : "";
  if (!a.reference.empty()) {
    const libpdf::DscCurve ref = libpdf::read_dsc(a.reference, read);
    const auto range = range_of(a.relaxation_range);
    relaxation = libpdf::relaxation_enthalpy(curve, ref, *range);
    relaxation_method = "difference from the reference scan " + a.reference;
  }

  const auto& g = r.glass_transition;
  const libpdf::ExothermicPeak* peak = r.exotherms.empty() ? nullptr : &r.exotherms.front();
  auto opt_value = [](bool ok, double v) { return ok ? std::optional<double>(v) : std::nullopt; };

  if (a.json) {
    JsonObject o;
    o.text("file", a.file);
    o.text("sample", curve.sample);
    o.text("heat_flow_unit", r.heat_flow_unit);
    o.text("enthalpy_unit", r.enthalpy_unit);
    o.number("heating_rate_K_per_min", r.heating_rate_K_per_min);
    o.number("Tg_onset", g.onset_K.value);
    o.number("Tg_onset_sigma", g.onset_K.sigma);
    o.number("Tg_mid", g.midpoint_K.value);
    o.number("Tg_mid_sigma", g.midpoint_K.sigma);
    o.number("Tg_inflection", g.inflection_K);
    o.number("Tg_end", g.end_K.value);
    o.number("Tg_end_sigma", g.end_K.sigma);
    o.number("step_height", g.step_height);
    o.number("delta_cp", g.delta_cp);
    o.boolean("peak_found", peak != nullptr);
    o.number("peak_onset", opt_value(peak != nullptr, peak ? peak->onset_K.value : 0));
    o.number("peak_onset_sigma", opt_value(peak != nullptr, peak ? peak->onset_K.sigma : 0));
    o.number("peak_T", opt_value(peak != nullptr, peak ? peak->peak_K : 0));
    o.number("peak_end", opt_value(peak != nullptr, peak ? peak->end_K.value : 0));
    o.number("peak_end_sigma", opt_value(peak != nullptr, peak ? peak->end_K.sigma : 0));
    o.number("peak_height", opt_value(peak != nullptr, peak ? peak->height : 0));
    o.number("peak_enthalpy", opt_value(peak && peak->enthalpy, peak && peak->enthalpy ? peak->enthalpy->value : 0));
    o.number("peak_enthalpy_sigma",
             opt_value(peak && peak->enthalpy, peak && peak->enthalpy ? peak->enthalpy->sigma : 0));
    std::vector<std::string> exo;
    for (const auto& e : r.exotherms) {
      JsonObject x;
      x.number("onset", e.onset_K.value);
      x.number("onset_sigma", e.onset_K.sigma);
      x.number("peak", e.peak_K);
      x.number("end", e.end_K.value);
      x.number("end_sigma", e.end_K.sigma);
      x.number("start", e.start_K);
      x.number("stop", e.stop_K);
      x.number("height", e.height);
      x.number("enthalpy", e.enthalpy ? std::optional<double>(e.enthalpy->value) : std::nullopt);
      x.number("enthalpy_sigma", e.enthalpy ? std::optional<double>(e.enthalpy->sigma) : std::nullopt);
      exo.push_back(x.str(6));
    }
    o.raw("exotherms", JsonObject::raw_list(exo));
    o.number("relaxation_enthalpy", relaxation ? std::optional<double>(relaxation->value) : std::nullopt);
    o.number("relaxation_enthalpy_sigma", relaxation ? std::optional<double>(relaxation->sigma) : std::nullopt);
    o.number("noise_sigma", r.noise_sigma);
    std::vector<std::string> notes;
    for (const auto& n : curve.notes) notes.push_back(JsonObject::quote(n));
    for (const auto& n : r.notes) notes.push_back(JsonObject::quote(n));
    o.raw("notes", JsonObject::raw_list(notes));
    o.text("libpdf_version", libpdf::version());
    std::cout << o.str() << '\n';
    return;
  }

  std::string out;
  auto line = [&out](const std::string& key, const std::string& value) {
    out += strprintf("%-22s %s\n", key.c_str(), value.c_str());
  };
  line("file", a.file + (curve.sample.empty() ? "" : " (" + curve.sample + ")"));
  line("heating_rate", r.heating_rate_K_per_min ? strprintf("%.6g K/min", *r.heating_rate_K_per_min)
                                                : std::string("unknown (no enthalpies)"));
  line("Tg_onset", value_sigma(g.onset_K.value, g.onset_K.sigma, "K"));
  line("Tg_mid", value_sigma(g.midpoint_K.value, g.midpoint_K.sigma, "K"));
  line("Tg_inflection", strprintf("%.6g K", g.inflection_K));
  line("Tg_end", value_sigma(g.end_K.value, g.end_K.sigma, "K"));
  line("step_height", strprintf("%.4g %s", g.step_height, r.heat_flow_unit.c_str()));
  if (g.delta_cp) line("delta_cp", strprintf("%.4g %s/K", *g.delta_cp, r.enthalpy_unit.c_str()));
  if (peak == nullptr) {
    line("transition_peak", "none found above T_g");
  }
  for (std::size_t k = 0; k < r.exotherms.size(); ++k) {
    const auto& e = r.exotherms[k];
    const std::string prefix = k == 0 ? "peak" : strprintf("exotherm_%zu", k + 1);
    line(prefix + "_onset", value_sigma(e.onset_K.value, e.onset_K.sigma, "K"));
    line(prefix + "_T", strprintf("%.6g K", e.peak_K));
    line(prefix + "_end", value_sigma(e.end_K.value, e.end_K.sigma, "K"));
    line(prefix + "_enthalpy", e.enthalpy ? value_sigma(e.enthalpy->value, e.enthalpy->sigma, r.enthalpy_unit)
                                          : std::string("unknown (no heating rate)"));
  }
  if (relaxation) {
    line("relaxation_enthalpy",
         value_sigma(relaxation->value, relaxation->sigma, r.enthalpy_unit) + "  (" + relaxation_method + ")");
  }
  std::cout << out;
}

}  // namespace

Command add_dsc_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<DscArgs>();
  const libpdf::DscOptions defaults;
  args->smoothing = defaults.smoothing_K;
  args->min_step_sigma = defaults.min_step_sigma;
  args->min_peak_sigma = defaults.min_peak_sigma;

  CLI::App* app = parent.add_subcommand(
      "dsc",
      "Glass transition and exothermic transition peaks of a DSC / Flash-DSC heating scan: Tg onset by the "
      "tangent construction, Tg midpoint (half step), and for each exotherm above Tg its onset, peak, end and "
      "enthalpy over a linear baseline.");
  app->footer(
      "Input: a text or CSV export with a temperature column (K, degC or degF) and a heat-flow column with its unit "
      "(W/g, mW/mg, mW/g, W/kg, W, mW or uW; e.g. 'Heat Flow (W/g)', NETZSCH 'DSC/(mW/mg)'); optional time column. "
      "Header lines 'Heating rate: 20 K/min' and 'Sample mass: 10 mg' are read; 'exo up'/'endo up' in the header "
      "or column name sets the sign (default endo up).\n"
      "Output keys (--json): Tg_onset, Tg_onset_sigma, Tg_mid, Tg_mid_sigma, Tg_inflection, Tg_end, step_height, "
      "delta_cp, peak_found, peak_onset, peak_T, peak_end, peak_height, peak_enthalpy (+ _sigma), exotherms [...], "
      "relaxation_enthalpy. Temperatures in K; enthalpies exothermic positive in J/g (J without the sample mass).\n"
      "Examples:\n"
      "  pdfreduce dsc La65Co25Al10_ascast_dsc.csv\n"
      "  pdfreduce dsc scan1.txt --reference scan2.txt --relaxation-range 330:420 --json");

  auto& a = *args;
  app->add_option("FILE", a.file, "DSC export: temperature and heat-flow columns")->required()->type_name("FILE");
  app->add_flag("--json", a.json, "Print the result as one JSON object on stdout");
  app->add_option("--heating-rate", a.heating_rate,
                  "Heating rate in K/min (overrides the file's; needed for enthalpies and delta c_p)")
      ->type_name("K_PER_MIN")
      ->check(positive_number());
  app->add_option("--mass", a.mass_mg, "Sample mass in mg (overrides the file's; converts W to W/g)")
      ->type_name("MG")
      ->check(positive_number());
  app->add_option("--sign", a.sign,
                  "Sign convention of the heat flow: auto (from 'exo up'/'endo up' in the file, else endo up), "
                  "endo-up or exo-up")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "endo-up", "exo-up"}));
  app->add_option("--tg-range", a.tg_range,
                  "Search the glass-transition step's inflection in LO:HI (K); default: the first significant rise "
                  "of the heat flow that is not an exotherm's trailing edge")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--glass-baseline", a.glass_baseline,
                  "Fit the glass line over LO:HI (K); default [T_i - 8s, T_i - 3s] from the step's width s")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--liquid-baseline", a.liquid_baseline,
                  "Fit the supercooled-liquid line over LO:HI (K); default [T_i + 3s, T_i + 6s], before any exotherm")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--peak-range", a.peak_range, "Search exothermic peaks in LO:HI (K); default: above T_g")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--relaxation-range", a.relaxation_range,
                  "Relaxation enthalpy over LO:HI (K): against --reference if given, else the area between the curve "
                  "and the chord across the range (exothermic positive)")
      ->type_name("LO:HI")
      ->check(range_validator());
  auto* reference = app->add_option("--reference", a.reference,
                                    "A relaxed reference scan of the same sample (e.g. the rescan): relaxation "
                                    "enthalpy = integral of (reference - scan) / heating rate over --relaxation-range")
                        ->type_name("FILE");
  app->add_option("--smoothing", a.smoothing,
                  "Width in K of the local quadratic window for the slope (widened up to 8x for noisy scans)")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--min-step-sigma", a.min_step_sigma,
                  "A slope lobe (the step, an exotherm's edge) must stand this x the slope's noise from the baseline")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--min-peak-sigma", a.min_peak_sigma,
                  "An exotherm's depth below its baseline must be at least this x the heat flow's noise sigma")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--temperature-unit", a.temperature_unit,
                  "Unit of a temperature column that names none: auto (K when every value >= 150, else degC), K or C")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "K", "C"}));
  app->add_option("--temperature-column", a.temperature_column, "Exact header of the temperature column")
      ->type_name("NAME");
  app->add_option("--heat-flow-column", a.heat_flow_column, "Exact header of the heat-flow column")->type_name("NAME");
  app->add_flag("--sort", a.sort,
                "Sort the rows by temperature (equal temperatures averaged) instead of rejecting a temperature "
                "column that does not increase");

  app->callback([args, reference] {
    if (reference->count() > 0 && args->relaxation_range.empty()) {
      throw CLI::ValidationError("--reference", "needs --relaxation-range LO:HI (the range to integrate over)");
    }
  });

  return Command{app, [args, &global] { run_dsc(*args, global); }};
}

}  // namespace pdfreduce
