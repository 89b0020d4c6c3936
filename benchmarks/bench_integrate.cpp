// Integration throughput: plan building and per-frame application timed apart, in frames/s and bytes/s.
// scripts/bench_vs_pyfai.py runs pyFAI on the same frame and geometry in the same run and prints the ratio.
//
// The memory-bandwidth floor printed beside each figure: bytes the kernel must stream per frame (the frame in its
// native type, the plan's headers and weights, the dark) divided by ~30 GB/s per core (docs/performance.md).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"

using namespace libpdf;

namespace {

Poni flat_panel(const Detector& d, double distance_m) {
  Poni p;
  p.version = 2;
  p.detector = d;
  p.distance_m = distance_m;
  // Beam near the centre, slightly off, with a small tilt: what a P02.1 setup looks like.
  p.poni1_m = 0.52 * static_cast<double>(d.rows) * d.pixel1_m;
  p.poni2_m = 0.49 * static_cast<double>(d.cols) * d.pixel2_m;
  p.rot1 = 0.004;
  p.rot2 = -0.006;
  p.wavelength_m = 0.2066e-10;  // 60 keV
  return p;
}

struct Setup {
  Geometry geometry;
  Corrections corr;
  std::vector<std::uint16_t> frame;
};

Setup make_setup(const Detector& d, double distance_m) {
  Setup s{Geometry(flat_panel(d, distance_m)), {}, {}};
  const std::size_t n = d.rows * d.cols;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.9f, 1.1f);
  std::poisson_distribution<int> pois(2000);
  s.corr.dark.resize(n);
  s.corr.flat.resize(n);
  s.corr.mask.assign(n, 0);
  s.frame.resize(n);
  for (std::size_t k = 0; k < n; ++k) {
    s.corr.dark[k] = 100.0f * u(rng);
    s.corr.flat[k] = u(rng);
    s.frame[k] = static_cast<std::uint16_t>(100 + pois(rng));
  }
  for (std::size_t r = 0; r < d.rows; ++r) s.corr.mask[r * d.cols + d.cols / 2] = 1;  // a dead column
  return s;
}

IntegrationOptions all_corrections(Splitting split) {
  IntegrationOptions o;
  o.npt = 3000;
  o.splitting = split;
  o.polarization_factor = 0.99;
  o.solid_angle = true;
  o.error_model = ErrorModel::poisson;
  o.threads = 0;
  return o;
}

void apply_bench(benchmark::State& state, const Detector& d, Splitting split) {
  static std::map<std::size_t, Setup>* cache = new std::map<std::size_t, Setup>();
  auto it = cache->find(d.rows);
  if (it == cache->end()) it = cache->emplace(d.rows, make_setup(d, 0.4)).first;
  const Setup& s = it->second;
  IntegrationOptions o = all_corrections(split);
  o.threads = static_cast<int>(state.range(0));
  const Integrator plan(s.geometry, o, s.corr);
  const ImageView view(s.frame.data(), d.rows, d.cols);
  for (auto _ : state) {
    Result1D r = plan.integrate(view);
    benchmark::DoNotOptimize(r.intensity.data());
  }
  const auto st = plan.stats();
  const double streamed = static_cast<double>(st.plan_bytes - st.pixels * 4 /* norm not read per frame */ +
                                              st.correction_bytes + d.rows * d.cols * sizeof(std::uint16_t));
  state.SetItemsProcessed(state.iterations());  // frames
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(streamed));
  state.counters["plan_B_per_px"] = static_cast<double>(st.plan_bytes) / static_cast<double>(st.pixels);
  state.counters["floor_ms_1core"] = streamed / 30e9 * 1e3;
  state.counters["threads"] = static_cast<double>(o.threads);
}

void build_bench(benchmark::State& state, const Detector& d, Splitting split) {
  const Geometry g(flat_panel(d, 0.4));
  IntegrationOptions o = all_corrections(split);
  o.threads = static_cast<int>(state.range(0));
  for (auto _ : state) {
    Integrator plan(g, o);
    benchmark::DoNotOptimize(&plan);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Integrate2048_bbox_corrections(benchmark::State& s) { apply_bench(s, Detector::perkinelmer_xrd1621(), Splitting::bbox); }
void BM_Integrate2048_none_corrections(benchmark::State& s) { apply_bench(s, Detector::perkinelmer_xrd1621(), Splitting::none); }
void BM_Integrate2048_full_corrections(benchmark::State& s) { apply_bench(s, Detector::perkinelmer_xrd1621(), Splitting::full); }
void BM_Integrate2880_bbox_corrections(benchmark::State& s) { apply_bench(s, Detector::varex_4343ct(), Splitting::bbox); }
void BM_BuildPlan2880_bbox(benchmark::State& s) { build_bench(s, Detector::varex_4343ct(), Splitting::bbox); }
void BM_BuildPlan2048_bbox(benchmark::State& s) { build_bench(s, Detector::perkinelmer_xrd1621(), Splitting::bbox); }

}  // namespace

BENCHMARK(BM_Integrate2048_bbox_corrections)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Integrate2048_none_corrections)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Integrate2048_full_corrections)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Integrate2880_bbox_corrections)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildPlan2048_bbox)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BuildPlan2880_bbox)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
