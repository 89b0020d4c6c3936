// `pdfreduce onset`: where the trend of a metric along a series changes (libpdf::detect_onset, a continuous
// two-segment least-squares fit; docs/metrics.md).
//
// Input: a series table (CSV: a header row `frame,temperature_K,<metric>,<metric>_sigma,...`, `#` comment lines
// allowed, as written by the series pipeline and by `pdfreduce metrics RESULT.h5`). Rows whose x or metric is
// not a number (empty, nan, null) are skipped and counted; the `<metric>_sigma` column is used when every row
// used has a finite σ > 0.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/metrics.hpp"
#include "libpdf/version.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"
#include "pdfreduce/json.hpp"
#include "pdfreduce/plot_data.hpp"

namespace pdfreduce {
namespace {

struct OnsetArgs {
  std::string table;
  std::string metric;
  std::string x = "temperature_K";
  std::string range;
  bool json = false;
  std::size_t min_points = 4;
  double significance = 0.01;
  bool no_sigma = false;
};

void run_onset(const OnsetArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  const SeriesTable t = read_series_table(a.table);
  const OnsetSeries s = onset_series(t, a.table, a.x, a.metric, !a.no_sigma);
  if (s.skipped > 0) {
    report.warn(std::to_string(s.skipped) + " row(s) of '" + a.table + "' without a finite " + a.x + " or " + a.metric +
                " skipped");
  }
  if (!s.sigma_note.empty()) report.detail(s.sigma_note);
  libpdf::OnsetOptions o;
  o.min_points = a.min_points;
  o.significance = a.significance;
  if (!a.range.empty()) {
    const auto r = parse_range(a.range);
    o.x_min = r.lo;
    o.x_max = r.hi;
  }
  const libpdf::OnsetResult r = libpdf::detect_onset(s.x, s.y, s.sigma, o);
  if (a.json) {
    JsonObject j;
    j.text("table", a.table);
    j.text("metric", a.metric);
    j.text("x", a.x);
    add_onset_fields(j, r, o);
    j.number("skipped_rows", static_cast<double>(s.skipped));
    j.text("libpdf_version", libpdf::version());
    std::cout << j.str() << '\n';
    return;
  }
  std::ostringstream out;
  auto line = [&out](const char* key, const std::string& v) { out << key << ' ' << v << '\n'; };
  auto num = [](double v) { return std::isfinite(v) ? strprintf("%.10g", v) : std::string("nan"); };
  line("metric", a.metric);
  line("x", a.x);
  line("onset", num(r.onset));
  line("onset_sigma", num(r.onset_sigma));
  line("slope_below", num(r.slope_below));
  line("slope_below_sigma", num(r.slope_below_sigma));
  line("slope_above", num(r.slope_above));
  line("slope_above_sigma", num(r.slope_above_sigma));
  line("intercept", num(r.intercept));
  line("intercept_sigma", num(r.intercept_sigma));
  line("p_value", num(r.p_value));
  line("detected", r.detected ? "true" : "false");
  line("n", std::to_string(r.n));
  line("sigma_known", r.sigma_known ? "true" : "false");
  std::cout << out.str();
}

}  // namespace

Command add_onset_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<OnsetArgs>();
  const libpdf::OnsetOptions defaults;
  args->min_points = defaults.min_points;
  args->significance = defaults.significance;
  CLI::App* app = parent.add_subcommand(
      "onset",
      "Onset of a change of a metric along a series: a continuous two-segment (hinge) least-squares fit "
      "y = a + b1 (x - x0) below x0, a + b2 (x - x0) above; prints x0 with its sigma (chi2 profile), both slopes "
      "with sigma, the p-value of the F-test (hinge vs straight line) and whether an onset is detected.");
  app->footer(
      "TABLE: CSV with a header row (frame,temperature_K,<metric>,<metric>_sigma,...), '#' comment lines allowed "
      "- the series table of the pipeline or the output of 'pdfreduce metrics RESULT.h5'. Rows with a missing x "
      "or metric are skipped. detected = p_value < --significance and |b2 - b1| > 2 sigma.\n"
      "Examples:\n"
      "  pdfreduce onset series.csv --metric mro_amplitude_rms\n"
      "  pdfreduce onset series.csv --metric q1 --range 310:600 --json");
  auto& a = *args;
  app->add_option("TABLE", a.table, "Series table (CSV)")->required()->type_name("TABLE.csv");
  app->add_option("--metric", a.metric, "Column to fit (its <metric>_sigma column is used when present)")
      ->required()
      ->type_name("NAME");
  app->add_option("--x", a.x, "Column of the abscissa")->capture_default_str()->type_name("NAME");
  app->add_option("--range", a.range, "Use only rows with LO <= x <= HI")->type_name("LO:HI")->check(range_validator());
  app->add_flag("--json", a.json, "Print the result as one JSON object");
  app->add_option("--min-points", a.min_points, "Points each segment needs at least (>= 2)")->capture_default_str();
  app->add_option("--significance", a.significance, "Level of the F-test (0 < s < 1)")->capture_default_str();
  app->add_flag("--no-sigma", a.no_sigma, "Ignore the <metric>_sigma column (scale by the reduced chi2 instead)");
  return Command{app, [args, &global] { run_onset(*args, global); }};
}

}  // namespace pdfreduce
