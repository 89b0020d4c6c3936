// Sine-transform throughput: plan building and execution timed apart, in transforms/s, against the raw FFTW
// execute of the same length (the wrapper's cost), a direct O(nq·nr) sine sum, and — through
// scripts/bench_transform_vs_scipy.py, in the same run — scipy's DST.
//
// The case of the issue: F(q) up to qmax = 25 1/Å with Δq ≤ 0.01 1/Å (a typical integrated frame), G(r) on
// 0..50 Å in steps of 0.01 Å; the plan's FFT is RODFT00 of length L_r − 1 (printed as fft_length).
// Every plan here, libpdf's and the raw ones, is made with FFTW_ESTIMATE.
#include <benchmark/benchmark.h>
#include <fftw3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <vector>

#include "libpdf/transform.hpp"

using namespace libpdf;

namespace {

TransformOptions issue_case(FftPlanning planning, int threads = 1) {
  TransformOptions o;
  o.qmax = 25.0;
  o.qstep = 0.01;
  o.rmin = 0.0;
  o.rmax = 50.0;
  o.rstep = 0.01;
  o.planning = planning;
  o.threads = threads;
  return o;
}

std::vector<double> signal(const std::vector<double>& q, double phase) {
  std::vector<double> F(q.size());
  for (std::size_t j = 0; j < q.size(); ++j) {
    F[j] = std::exp(-0.004 * q[j] * q[j]) * std::sin(2.5 * q[j] + phase) + 0.3 * std::sin(4.1 * q[j]);
  }
  return F;
}

const SineTransform& issue_plan() {
  static const SineTransform plan(issue_case(FftPlanning::estimate, 2));
  return plan;
}

void BM_PlanBuild(benchmark::State& state) {
  const auto planning = state.range(0) == 0 ? FftPlanning::estimate : FftPlanning::estimate;
  for (auto _ : state) {
    SineTransform plan(issue_case(planning));
    benchmark::DoNotOptimize(plan.nq());
  }
  state.SetLabel("estimate");
}
// FFTW_MEASURE is not benchmarked: planning this length takes 6–38 s and executes no faster (transform.hpp).
BENCHMARK(BM_PlanBuild)->Arg(0)->Unit(benchmark::kMillisecond);

// Raw FFTW: execute a reused RODFT00 plan of the same length on a filled array, nothing else. Two variants:
// in-place with FFTW's defaults, and out-of-place with the input preserved (what the plan uses).
void BM_RawFftwExecute(benchmark::State& state) {
  const int n = static_cast<int>(issue_plan().fft_length());
  const bool preserve = state.range(0) == 1;
  double* in = fftw_alloc_real(static_cast<std::size_t>(n));
  double* out = fftw_alloc_real(static_cast<std::size_t>(n));
  const fftw_plan p = preserve ? fftw_plan_r2r_1d(n, in, out, FFTW_RODFT00, FFTW_ESTIMATE | FFTW_PRESERVE_INPUT)
                               : fftw_plan_r2r_1d(n, in, in, FFTW_RODFT00, FFTW_ESTIMATE);
  for (int k = 0; k < n; ++k) in[k] = std::sin(0.001 * k);
  for (auto _ : state) {
    fftw_execute(p);
    benchmark::DoNotOptimize(in[1]);
    benchmark::DoNotOptimize(out[1]);
  }
  fftw_destroy_plan(p);
  fftw_free(in);
  fftw_free(out);
  state.SetItemsProcessed(state.iterations());
  state.counters["fft_length"] = n;
  state.SetLabel(preserve ? "out-of-place, FFTW_PRESERVE_INPUT" : "in-place");
}
BENCHMARK(BM_RawFftwExecute)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// The wrapper's cost measured robustly on a shared machine: wrapper and raw FFTW calls alternate in one loop
// (so both see the same competition for the cores), each call timed alone, and the medians compared. The raw
// inputs are refilled outside the timed region (an in-place DST-I applied repeatedly grows without bound).
void BM_WrapperVsRawInterleaved(benchmark::State& state) {
  const auto& plan = issue_plan();
  const int n = static_cast<int>(plan.fft_length());
  const auto F = signal(plan.q(), 0.0);
  std::vector<double> G(plan.nr());
  double* a = fftw_alloc_real(static_cast<std::size_t>(n));
  double* b = fftw_alloc_real(static_cast<std::size_t>(n));
  double* c = fftw_alloc_real(static_cast<std::size_t>(n));
  fftw_plan inplace = nullptr, preserve = nullptr;
  inplace = fftw_plan_r2r_1d(n, a, a, FFTW_RODFT00, FFTW_ESTIMATE);
  preserve = fftw_plan_r2r_1d(n, b, c, FFTW_RODFT00, FFTW_ESTIMATE | FFTW_PRESERVE_INPUT);
  std::vector<double> filled(static_cast<std::size_t>(n), 0.0);
  for (std::size_t j = 1; j < F.size(); ++j) filled[j - 1] = F[j];
  std::copy(filled.begin(), filled.end(), b);
  std::vector<double> tw, ti, tp;
  using clock = std::chrono::steady_clock;
  auto us = [](clock::time_point x, clock::time_point y) {
    return std::chrono::duration<double, std::micro>(y - x).count();
  };
  for (auto _ : state) {
    std::copy(filled.begin(), filled.end(), a);
    const auto t0 = clock::now();
    plan.forward(F.data(), G.data());
    const auto t1 = clock::now();
    fftw_execute(inplace);
    const auto t2 = clock::now();
    fftw_execute(preserve);
    const auto t3 = clock::now();
    benchmark::DoNotOptimize(G.data());
    benchmark::DoNotOptimize(a);
    benchmark::DoNotOptimize(c);
    tw.push_back(us(t0, t1));
    ti.push_back(us(t1, t2));
    tp.push_back(us(t2, t3));
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  const double w = median(tw), i = median(ti), p = median(tp);
  state.counters["wrapper_us"] = w;
  state.counters["raw_inplace_us"] = i;
  state.counters["raw_preserve_us"] = p;
  state.counters["raw_over_wrapper"] = std::min(i, p) / w;  // throughput ratio wrapper / best raw
  fftw_destroy_plan(inplace);
  fftw_destroy_plan(preserve);
  fftw_free(a);
  fftw_free(b);
  fftw_free(c);
}
BENCHMARK(BM_WrapperVsRawInterleaved)->Iterations(3000)->Unit(benchmark::kMicrosecond);

// The plan's forward transform of one frame: window/Δq weights, FFT, pick of the r grid.
void BM_Forward(benchmark::State& state) {
  const auto& plan = issue_plan();
  const auto F = signal(plan.q(), 0.0);
  std::vector<double> G(plan.nr());
  for (auto _ : state) {
    plan.forward(F.data(), G.data());
    benchmark::DoNotOptimize(G.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["fft_length"] = static_cast<double>(plan.fft_length());
  state.counters["nq"] = static_cast<double>(plan.nq());
  state.counters["nr"] = static_cast<double>(plan.nr());
}
BENCHMARK(BM_Forward)->Unit(benchmark::kMicrosecond);

void BM_ForwardFloat(benchmark::State& state) {
  static const SineTransformF plan(issue_case(FftPlanning::estimate));
  const auto Fd = signal(plan.q(), 0.0);
  const std::vector<float> F(Fd.begin(), Fd.end());
  std::vector<float> G(plan.nr());
  for (auto _ : state) {
    plan.forward(F.data(), G.data());
    benchmark::DoNotOptimize(G.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ForwardFloat)->Unit(benchmark::kMicrosecond);

void BM_ForwardSigma(benchmark::State& state) {
  const auto& plan = issue_plan();
  const std::vector<double> s(plan.nq(), 0.01);
  std::vector<double> out(plan.nr());
  plan.forward_sigma(s.data(), out.data());  // plans the σ transform once
  for (auto _ : state) {
    plan.forward_sigma(s.data(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ForwardSigma)->Unit(benchmark::kMicrosecond);

// 1000 frames F(q) -> G(r) in one call, on 1 and 2 threads. Reported time is per batch; items are frames.
void BM_ForwardBatch1000(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const SineTransform plan(issue_case(FftPlanning::estimate, threads));
  const std::size_t frames = 1000;
  const auto q = plan.q();
  std::vector<double> F(frames * plan.nq());
  for (std::size_t f = 0; f < frames; ++f) {
    const auto row = signal(q, 0.001 * static_cast<double>(f));
    std::copy(row.begin(), row.end(), F.begin() + static_cast<std::ptrdiff_t>(f * plan.nq()));
  }
  std::vector<double> G(frames * plan.nr());
  for (auto _ : state) {
    plan.forward_batch(F.data(), frames, G.data());
    benchmark::DoNotOptimize(G.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long long>(frames));
  state.counters["threads"] = threads;
}
BENCHMARK(BM_ForwardBatch1000)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The direct sum G(r_i) = (2Δq/π) Σ_j F_j sin(q_j r_i): nq·nr = 2.5 M sine evaluations per frame.
void BM_DirectSum(benchmark::State& state) {
  const auto& plan = issue_plan();
  const auto q = plan.q();
  const auto r = plan.r();
  const auto F = signal(q, 0.0);
  const double c = 2 * plan.q_step() / 3.14159265358979323846;
  std::vector<double> G(r.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      double s = 0;
      for (std::size_t j = 1; j < q.size(); ++j) s += F[j] * std::sin(q[j] * r[i]);
      G[i] = c * s;
    }
    benchmark::DoNotOptimize(G.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DirectSum)->Unit(benchmark::kMillisecond)->MinTime(1.0);

}  // namespace

BENCHMARK_MAIN();
