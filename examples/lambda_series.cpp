// The real DESY Lambda series processed end to end from its NeXus module files, through a recipe:
//
//   lambda_series RECIPE DATA_DIR OUT_FILE
//
// RECIPE is examples/recipes/desy_lambda.toml; its relative paths are taken in DATA_DIR
// (shared/data/real/desy_lambda_series). The three modules are assembled, flipped for the Dioptas calibration,
// integrated and reduced to S(q) and G(r) into OUT_FILE (the recipe says why S(q) and G(r) are only formal for
// this sample and the metrics are off). Exit 0 when DATA_DIR is missing (the test is then
// skipped with a message), 1 on an error or when a check of the result fails.
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "libpdf/nexus.hpp"
#include "libpdf/pipeline.hpp"
#include "libpdf/recipe.hpp"

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s RECIPE DATA_DIR OUT_FILE\n", argv[0]);
    return 2;
  }
  const std::string data = argv[2];
  if (!std::filesystem::exists(std::filesystem::path(data) / "L2.poni")) {
    std::printf("SKIPPED: the DESY Lambda data are not in %s\n", data.c_str());
    return 0;
  }
  try {
    std::ifstream in(argv[1]);
    std::ostringstream text;
    text << in.rdbuf();
    libpdf::Recipe recipe = libpdf::parse_recipe(text.str(), argv[1], data);
    recipe.output.result = std::filesystem::absolute(argv[3]).string();

    libpdf::SeriesCallbacks callbacks;
    callbacks.progress = [](const libpdf::SeriesProgress& p) {
      if (p.done % 10 == 0 || p.done == p.total) {
        std::printf("  %zu/%zu frames, %.1f frames/s\n", p.done, p.total, p.frames_per_s);
      }
      return true;
    };
    libpdf::SeriesRunOptions options;
    options.overwrite = true;
    const libpdf::SeriesSummary s = libpdf::run_series(recipe, callbacks, options);
    std::printf("%zu frames -> %s and %s in %.1f s\n", s.written, s.result_path.c_str(), s.table_path.c_str(),
                s.seconds);

    // Checks: every frame is there, each has intensity in the detector's q range (2.2–5.6 1/Å) and a finite
    // G(r); the frames were integrated in input order.
    const libpdf::NexusResult r = libpdf::read_nexus_result(s.result_path);
    int bad = 0;
    if (r.frames != 50) {
      std::fprintf(stderr, "expected 50 frames, got %zu\n", r.frames);
      ++bad;
    }
    for (std::size_t f = 0; f < r.frames; ++f) {
      if (r.frame_index[f] != f) ++bad;
      double total = 0;
      for (std::size_t b = 0; b < r.radial.size(); ++b) total += r.intensity[f * r.radial.size() + b];
      bool finite = true;
      for (std::size_t i = 0; i < r.pdf_r.size(); ++i) finite = finite && std::isfinite(r.gr[f * r.pdf_r.size() + i]);
      if (!(total > 0) || !finite) {
        std::fprintf(stderr, "frame %zu: sum of I = %g, G(r) finite: %d\n", f, total, finite ? 1 : 0);
        ++bad;
      }
    }
    std::printf("%zu frames checked, %d problem(s)\n", r.frames, bad);
    return bad == 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lambda_series: %s\n", e.what());
    return 1;
  }
}
