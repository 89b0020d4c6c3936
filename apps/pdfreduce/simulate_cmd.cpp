// `pdfreduce simulate`: writes the bundled example (libpdf::write_example_series): a La65Co25Al10 in-situ
// heating series as PETRA III P02.1 would record it on a PerkinElmer flat panel at 60 keV, its dark, flat,
// mask and calibration, the reference La50Ni35Al15 series, and the model's truth beside the frames.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "libpdf/geometry.hpp"
#include "libpdf/simulate.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"

namespace pdfreduce {
namespace {

struct SimulateArgs {
  libpdf::ExampleOptions options;
  bool no_reference = false;
  std::string poni;
  unsigned long long seed = 1;
};

void run_simulate(SimulateArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  a.options.reference = !a.no_reference;
  a.options.seed = a.seed;
  if (!a.poni.empty()) a.options.poni = libpdf::read_poni(a.poni);
  const libpdf::ExampleFiles files = libpdf::write_example_series(a.options);
  report.info(strprintf("wrote %s: %zu frames of %zu x %zu (%.0f -> %.0f K)%s, dark, flat, mask and PONI in %.1f s",
                        files.series.c_str(), files.temperatures_K.size(),
                        a.options.poni ? a.options.poni->detector.rows : a.options.size,
                        a.options.poni ? a.options.poni->detector.cols : a.options.size,
                        files.temperatures_K.front(), files.temperatures_K.back(),
                        files.reference.empty() ? "" : " and the reference series", files.seconds));
  report.info("integrate with:\n  pdfreduce integrate " + files.series + " --poni " + files.poni + " --dark " +
              files.dark + " --flat " + files.flat + " --mask " + files.mask +
              " --polarization 0.99 --npt 3000 -o result.h5");
}

}  // namespace

Command add_simulate_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<SimulateArgs>();
  auto& o = args->options;
  CLI::App* app = parent.add_subcommand(
      "simulate",
      "Write the bundled example: a simulated La65Co25Al10 in-situ heating series (PETRA III P02.1-style NeXus, "
      "PerkinElmer XRD1621 at 60 keV) with its dark, flat, mask and calibration, the reference La50Ni35Al15 series, "
      "and the model's true S(q), g(r), G(r) and metrics in /entry/simulation of each series file.");
  app->footer(
      "Files in --out: series.h5, reference.h5, dark.h5, flat.h5, mask.tif, series.poni (docs/files.md).\n"
      "The frames are deterministic for a --seed: the same options write the same bytes.\n"
      "Examples:\n"
      "  pdfreduce simulate --out example                  # the full 2048 x 2048 series, 310 -> 600 K\n"
      "  pdfreduce simulate --out small --size 512 --t-step 50 --no-reference");
  app->add_option("-o,--out", o.out_dir, "Output folder (created if missing)")->capture_default_str();
  app->add_option("--size", o.size,
                  "Pixels per side: 2048 (200 um), or a divisor of 2048 for a binned detector of the same area "
                  "(1024: 400 um, 512: 800 um)")
      ->capture_default_str()
      ->check(CLI::IsMember({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048}));
  app->add_option("--t-start", o.t_start_K, "First temperature (K)")->capture_default_str()->check(positive_number());
  app->add_option("--t-stop", o.t_stop_K, "Last temperature (K), included; at most 1000 K (the glass models)")->capture_default_str()->check(positive_number());
  app->add_option("--t-step", o.t_step_K, "Temperature step (K)")->capture_default_str()->check(positive_number());
  app->add_flag("--no-reference", args->no_reference, "Do not write the reference La50Ni35Al15 series");
  app->add_option("--dark-frames", o.dark_frames, "Frames in dark.h5")->capture_default_str()->check(positive_number());
  app->add_option("--count-time", o.count_time_s, "Exposure per frame (s); the counts scale with it")
      ->capture_default_str()
      ->check(positive_number());
  app->add_option("--gzip", o.gzip_level, "Deflate level of the frames (0-9, -1 = uncompressed)")
      ->capture_default_str()
      ->check(CLI::Range(-1, 9));
  app->add_option("--seed", args->seed, "Noise seed")->capture_default_str();
  app->add_option("--poni", args->poni,
                  "Another geometry: a PONI file whose detector has a max_shape (replaces --size and the "
                  "PerkinElmer geometry)")
      ->type_name("FILE");
  app->add_option("--composition", o.composition,
                  "Another sample composition for the intensities, e.g. Pd40Ni40P20 (the structure model stays "
                  "the La65Co25Al10 one)");
  app->add_option("--threads", o.threads, "Threads (0 = all cores); the frames do not depend on it")
      ->capture_default_str()
      ->check(non_negative_number());
  return Command{app, [args, &global] { run_simulate(*args, global); }};
}

}  // namespace pdfreduce
