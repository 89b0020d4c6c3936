// The whole series run, HDF5 frames to result file: frames/s of the streaming part (plan building timed apart),
// on 1 and 2 worker threads, and the process's peak memory. Per-frame stages timed alone beside it (one thread):
// read, integrate, reduce() (which builds its own sine-transform plan and scattering factors per call), the
// metrics, and Reducer::reduce() (plan and factors kept from frame to frame, as each worker of a run does).
//
// Environment: LIBPDF_BENCH_DIR (scratch folder; default ./bench_pipeline_data), LIBPDF_BENCH_SIZE (pixels per
// side, default 2048), LIBPDF_BENCH_FRAMES (frames, default 40), LIBPDF_BENCH_GZIP (-1 = uncompressed, the
// default; 1 = deflate as the bundled example). Peak memory independent of the series length: run it twice
// with different LIBPDF_BENCH_FRAMES and compare peak_MB (scripts/bench_pipeline_vs_python.py does).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "libpdf/io.hpp"
#include "libpdf/metrics.hpp"
#include "libpdf/pipeline.hpp"
#include "libpdf/recipe.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/simulate.hpp"

namespace {

long env_or(const char* name, long fallback) {
  const char* v = std::getenv(name);
  return v ? std::strtol(v, nullptr, 10) : fallback;
}

struct Data {
  std::string dir;
  std::size_t frames = 0;
  libpdf::Recipe recipe;
};

const Data& data() {
  static const Data d = [] {
    Data out;
    const char* dir = std::getenv("LIBPDF_BENCH_DIR");
    const long size = env_or("LIBPDF_BENCH_SIZE", 2048);
    const long frames = env_or("LIBPDF_BENCH_FRAMES", 40);
    const long gzip = env_or("LIBPDF_BENCH_GZIP", -1);
    out.dir = std::string(dir ? dir : "bench_pipeline_data") + "/s" + std::to_string(size) + "_n" +
              std::to_string(frames) + "_z" + std::to_string(gzip);
    out.frames = static_cast<std::size_t>(frames);
    if (!std::filesystem::exists(out.dir + "/series.h5")) {
      libpdf::ExampleOptions o;
      o.out_dir = out.dir;
      o.size = static_cast<std::size_t>(size);
      o.t_start_K = 300;
      o.t_step_K = 5;
      o.t_stop_K = 300 + 5.0 * static_cast<double>(frames - 1);
      o.reference = false;
      o.dark_frames = 2;
      o.gzip_level = static_cast<int>(gzip);
      libpdf::write_example_series(o);
    }
    // The same reduction as examples/recipes/example_series.toml.
    const std::string text =
        "[input]\nfile = \"series.h5\"\n[geometry]\nponi = \"series.poni\"\n"
        "[corrections]\nmask = \"mask.tif\"\ndark = \"dark.h5\"\nflat = \"flat.h5\"\npolarization = 0.99\n"
        "[integration]\nnpt = 2000\nradial_range = [0.8, 24.0]\n"
        "[sample]\ncomposition = \"La65Co25Al10\"\ndensity = 6.0\n"
        "[reduction]\nqmin = 1.0\nqmax = 22.0\nwindow = \"lorch\"\nrmax = 30.0\nrstep = 0.01\n"
        "[output]\nresult = \"bench_result.h5\"\n";
    out.recipe = libpdf::parse_recipe(text, "bench", out.dir);
    return out;
  }();
  return d;
}

void BM_SeriesRun(benchmark::State& state) {
  const Data& d = data();
  libpdf::SeriesRunOptions o;
  o.overwrite = true;
  o.threads = static_cast<int>(state.range(0));
  libpdf::SeriesSummary s;
  for (auto _ : state) s = libpdf::run_series(d.recipe, {}, o);
  state.counters["frames"] = static_cast<double>(s.written);
  state.counters["frames_per_s"] = s.frames_per_s;  // streaming: first frame read to last frame written
  state.counters["plan_s"] = s.plan_seconds;
  state.counters["max_frames_held"] = static_cast<double>(s.max_frames_held);
  state.counters["peak_MB"] = static_cast<double>(libpdf::peak_memory_bytes()) / 1e6;
}
BENCHMARK(BM_SeriesRun)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();

// The stages of one frame, one thread.
void BM_Stages(benchmark::State& state) {
  const Data& d = data();
  libpdf::SeriesRunOptions o;
  o.threads = 1;
  const libpdf::SeriesRun run(d.recipe, o);
  const auto source = libpdf::open_frames(d.recipe.input.file);
  const libpdf::Image frame = source->read(0);
  const int stage = static_cast<int>(state.range(0));
  const libpdf::Result1D pattern = run.integrator().integrate(frame.view());
  const libpdf::ReductionResult reduced = libpdf::reduce(libpdf::reduction_input(pattern), d.recipe.reduction);
  const libpdf::MetricsInput mi = libpdf::metrics_input(reduced);
  libpdf::Reducer reducer(d.recipe.reduction);
  for (auto _ : state) {
    if (stage == 0) benchmark::DoNotOptimize(source->read(1));
    if (stage == 1) benchmark::DoNotOptimize(run.integrator().integrate(frame.view()));
    if (stage == 2) benchmark::DoNotOptimize(libpdf::reduce(libpdf::reduction_input(pattern), d.recipe.reduction));
    if (stage == 3) benchmark::DoNotOptimize(libpdf::compute_metrics(mi, {}, &mi));
    if (stage == 4) benchmark::DoNotOptimize(reducer.reduce(libpdf::reduction_input(pattern)));
  }
  static const char* names[] = {"read", "integrate", "reduce", "metrics", "reduce_reused"};
  state.SetLabel(names[stage]);
}
BENCHMARK(BM_Stages)->DenseRange(0, 4)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
