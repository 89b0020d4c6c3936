// `pdfreduce run`: a whole heating series from one recipe file (frames → I(q) → S(q), F(q), G(r) → metrics),
// streamed through libpdf::SeriesRun: a NeXus result file and a CSV table of metrics, resumed when run again.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/metrics.hpp"
#include "libpdf/pipeline.hpp"
#include "libpdf/recipe.hpp"
#include "libpdf/version.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"
#include "pdfreduce/json.hpp"
#include "pdfreduce/plot.hpp"
#include "pdfreduce/plot_data.hpp"

namespace pdfreduce {
namespace {

struct RunArgs {
  std::string recipe;
  std::optional<int> threads;
  bool overwrite = false;
  bool no_progress = false;
  bool progress = false;
  std::string write_recipe;
  std::string output;
  std::vector<std::string> set;  // "section.key=value" overrides of the recipe
};

// The medium-range-order metrics whose onset a run reports (issue 5: the amplitude and the correlation length of
// the G(r) oscillations in the MRO window), and the metrics a run draws against temperature.
const std::vector<std::string> kOnsetMetrics = {"mro_xi", "mro_amplitude_rms"};
const std::vector<std::string> kPlotMetrics = {"q1", "r1", "cn1", "mro_amplitude_rms", "mro_xi"};

// "<table without .csv>_onset.json".
std::string onset_path(const std::string& table) {
  std::filesystem::path p(table);
  return (p.parent_path() / (p.stem().string() + "_onset.json")).string();
}

// The onset of each of kOnsetMetrics along the finished table (libpdf::detect_onset, the defaults of
// `pdfreduce onset`), written as JSON beside the table and summarised on stderr. A metric that cannot be fitted
// (too few frames, no finite values) is recorded with its reason, not an error: the data are written already.
void report_onsets(const std::string& table_path, const std::string& x, const Reporter& report) {
  const SeriesTable t = read_series_table(table_path);
  JsonObject all;
  all.text("libpdf_version", libpdf::version());
  all.text("table", table_path);
  all.text("x", x);
  JsonObject metrics;
  for (const auto& m : kOnsetMetrics) {
    JsonObject j;
    if (t.find(m) == t.columns.size()) continue;
    const libpdf::OnsetOptions o;
    try {
      const OnsetSeries s = onset_series(t, table_path, x, m, true);
      const libpdf::OnsetResult r = libpdf::detect_onset(s.x, s.y, s.sigma, o);
      add_onset_fields(j, r, o);
      const char* unit = x == "temperature_K" ? " K" : "";
      report.info(strprintf("onset of %s: %s = %.4g +- %.2g%s (%s, p = %.2g, %zu frames)", m.c_str(), x.c_str(),
                            r.onset, r.onset_sigma, unit, r.detected ? "detected" : "not significant", r.p_value,
                            r.n));
    } catch (const libpdf::Error& e) {
      j.raw("onset", "null");
      j.boolean("detected", false);
      j.text("error", e.what());
      report.warn("no onset of " + m + ": " + e.what());
    }
    metrics.raw(m, j.str(6));
  }
  all.raw("metrics", metrics.str(4));
  const std::string path = onset_path(table_path);
  write_text_atomic(path, all.str() + "\n");
  report.info("wrote the onsets to " + path);
}

// Ctrl-C stops the run cleanly after the frame being written: the result file stays valid and resumable.
volatile std::sig_atomic_t g_interrupted = 0;
void on_sigint(int) { g_interrupted = 1; }

std::string bar(double fraction, int width) {
  const int full = static_cast<int>(std::lround(fraction * width));
  return std::string(static_cast<std::size_t>(std::max(0, full)), '#') +
         std::string(static_cast<std::size_t>(std::max(0, width - full)), '.');
}

void run_run(const RunArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  if (!a.write_recipe.empty()) {
    write_text_atomic(a.write_recipe, libpdf::recipe_template());
    report.info("wrote a recipe template to " + a.write_recipe + " (edit it, then: pdfreduce run " + a.write_recipe + ")");
    return;
  }
  if (a.recipe.empty()) throw libpdf::InvalidArgument("no recipe given (pdfreduce run RECIPE, or --write-recipe FILE)");
  libpdf::Recipe recipe = libpdf::load_recipe(a.recipe, a.set);
  if (!a.output.empty()) {
    // The table follows the result unless the recipe names it.
    recipe.output.result = std::filesystem::absolute(a.output).lexically_normal().string();
  }
  libpdf::SeriesRunOptions options;
  options.overwrite = a.overwrite;
  options.threads = a.threads;
  libpdf::SeriesRun run(recipe, options);
  report.detail(strprintf("%zu frame(s) selected from %s", run.frames().size(), recipe.input.file.c_str()));

  // The bar only on a terminal (logs and pipes get the summary), unless forced.
  const bool show = !global.quiet && !a.no_progress && (a.progress || ::isatty(STDERR_FILENO));
  libpdf::SeriesCallbacks callbacks;
  callbacks.message = [&report](const std::string& m) { report.info(m); };
  callbacks.progress = [&](const libpdf::SeriesProgress& p) {
    if (show) {
      const std::size_t n = p.total;
      const double eta = p.frames_per_s > 0 ? static_cast<double>(n - p.done) / p.frames_per_s : 0;
      std::string t = std::isnan(p.temperature_K) ? std::string("     ") : strprintf("%5.1f K", p.temperature_K);
      std::fprintf(stderr, "\r[%s] %zu/%zu frames  %.1f frames/s  frame %zu  %s  ETA %.0f s ", bar(static_cast<double>(p.done) / static_cast<double>(n), 30).c_str(),
                   p.done, n, p.frames_per_s, p.frame, t.c_str(), eta);
      if (p.done == n) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    }
    return g_interrupted == 0;
  };
  g_interrupted = 0;
  auto previous = std::signal(SIGINT, on_sigint);
  libpdf::SeriesSummary s;
  try {
    s = run.run(callbacks);
  } catch (...) {
    std::signal(SIGINT, previous);
    if (show) std::fprintf(stderr, "\n");
    throw;
  }
  std::signal(SIGINT, previous);
  if (s.cancelled) {
    if (show) std::fprintf(stderr, "\n");
    report.warn(strprintf("interrupted after %zu of %zu frame(s); %s is valid: run the same command again to resume",
                          s.written, s.selected - s.skipped, s.result_path.c_str()));
    throw libpdf::Error("interrupted");
  }
  report.info(strprintf("%zu frame(s) written to %s%s%s in %.1f s (%.1f frames/s on %zu worker thread(s); %zu already there)",
                        s.written, s.result_path.c_str(), s.table_path.empty() ? "" : " and ",
                        s.table_path.c_str(), s.seconds, s.frames_per_s, s.workers, s.skipped));
  report.detail(strprintf("plan %.2f s; at most %zu of %zu frames held at once; peak memory %.0f MB", s.plan_seconds,
                          s.max_frames_held, s.frames_in_flight,
                          static_cast<double>(libpdf::peak_memory_bytes()) / 1e6));

  // After the run (also when everything was there already): the onsets and the figures of the whole series.
  const std::string x = recipe.metrics.against == libpdf::MetricsAxis::temperature ? "temperature_K" : "frame";
  if (!s.table_path.empty()) report_onsets(s.table_path, x, report);
  if (recipe.output.plots) {
    if (!gnuplot_available()) {
      // The data are complete: missing figures are worth a warning, not a failed run.
      report.warn("no figures: gnuplot was not found (Debian: apt-get install gnuplot-nox), or set [output] plots = "
                  "false (--set output.plots=false)");
      return;
    }
    SeriesPlots plots;
    plots.result = s.result_path;
    plots.table = s.table_path;
    plots.metrics = kPlotMetrics;
    plots.x = x;
    plots.out_dir = recipe.output.plot_dir.empty()
                        ? (std::filesystem::path(s.result_path).parent_path() / "plots").string()
                        : recipe.output.plot_dir;
    plot_series_run(plots, report);
  }
}

}  // namespace

Command add_run_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* app = parent.add_subcommand(
      "run",
      "A whole series from one recipe file (TOML): frames -> I(q) -> S(q), F(q), G(r) -> structure metrics, "
      "several frames at a time, into a NeXus result file and a CSV table; running it again resumes.");
  app->footer(
      "Start from a template: pdfreduce run --write-recipe run.toml (every key, its default and unit; "
      "docs/pipeline.md). The result file echoes the recipe (/entry/reduction/input/recipe).\n"
      "Ctrl-C stops after the frame being written; the files stay valid and the next run continues.\n"
      "Examples:\n"
      "  pdfreduce simulate --out example --size 1024 && pdfreduce run examples/recipes/example_series.toml\n"
      "  pdfreduce run heating.toml --threads 2 --overwrite\n"
      "  pdfreduce run heating.toml --set reduction.qmax=20 --set output.result=out/qmax20.h5\n"
      "After the run: the onset of mro_xi and mro_amplitude_rms against temperature (or frame) is printed and "
      "written to <table>_onset.json; with [output] plots = true (the default) the figures go to [output] plot_dir "
      "(default: plots/ beside the result; needs gnuplot).");
  auto& a = *args;
  app->add_option("RECIPE", a.recipe, "Recipe file (TOML)")->type_name("FILE");
  app->add_option("--threads", a.threads, "Worker threads (overrides [run] threads; 0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--overwrite", a.overwrite, "Replace an existing result file and table instead of resuming them");
  auto* no_progress = app->add_flag("--no-progress", a.no_progress, "No progress bar");
  app->add_flag("--progress", a.progress, "Show the progress bar even when stderr is not a terminal")
      ->excludes(no_progress);
  app->add_option("-o,--output", a.output, "Result file (overrides [output] result; the table follows it unless "
                  "[output] table is set)")
      ->type_name("FILE");
  app->add_option("--write-recipe", a.write_recipe, "Write a commented recipe template to FILE and exit")
      ->type_name("FILE");
  app->add_option("--set", a.set,
                  "Override a recipe value: section.key=value (repeatable; checked like the file: "
                  "--set reduction.qmax=20 --set reduction.window=lorch --set output.plots=false)")
      ->type_name("SECTION.KEY=VALUE")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app->callback([args] {
    if (args->recipe.empty() && args->write_recipe.empty()) {
      throw CLI::ValidationError("RECIPE", "a recipe file is required (or --write-recipe FILE)");
    }
  });
  return Command{app, [args, &global] { run_run(*args, global); }};
}

}  // namespace pdfreduce
