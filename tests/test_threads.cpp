// Thread safety and thread-count independence (issue 7). One integration plan, one cake plan and one
// sine-transform plan are applied from many std::threads at once, while other threads build and destroy their
// own plans (FFTW's planner is shared process-wide), and whole reductions run concurrently. Every result must
// equal, bit for bit, the same computation done alone on one thread: the plans promise deterministic chunked
// sums whatever the number of threads (docs/hardening.md). This executable is also the ThreadSanitizer
// target (scripts/tsan.sh), so sizes are kept small: TSan runs it 5–15x slower.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/simulate.hpp"
#include "libpdf/transform.hpp"

using namespace libpdf;

namespace {

// Threads hammering one plan at once: more than the machine's cores on purpose, so that calls interleave.
constexpr int kCallers = 6;
// Calls per caller: enough for overlapping calls on every scheduling, few enough for TSan.
constexpr int kRepeats = 3;

// A tilted 96 x 120 panel with the beam inside it: every splitting case and χ wrap occur.
Poni small_poni() {
  Poni p;
  p.version = 2;
  p.detector = {"Threads", 96, 120, 300e-6, 300e-6, 3};
  p.distance_m = 0.1;
  p.poni1_m = 0.0131;
  p.poni2_m = 0.0187;
  p.rot1 = 0.01;
  p.rot2 = -0.02;
  p.rot3 = 0.2;
  p.wavelength_m = 0.2e-10;
  return p;
}

const Geometry& geom() {
  static const Geometry g(small_poni(), 96, 120);
  return g;
}

// Rings in q plus a χ modulation and deterministic "noise" (a hash of the pixel index), as float32 counts,
// with a few hot pixels so that sigma clipping has something to reject.
std::vector<float> frame_f32(const Geometry& g) {
  std::vector<float> f(g.rows() * g.cols());
  for (std::size_t i = 0; i < g.rows(); ++i) {
    for (std::size_t j = 0; j < g.cols(); ++j) {
      const double q = g.q_A(i + 0.5, j + 0.5), chi = g.chi(i + 0.5, j + 0.5);
      const std::uint32_t h = static_cast<std::uint32_t>((i * 2654435761u) ^ (j * 40503u));
      const double noise = static_cast<double>(h % 1000u) / 1000.0 - 0.5;
      f[i * g.cols() + j] = static_cast<float>(
          800.0 * (1.0 + 0.6 * std::exp(-std::pow((q - 2.8) / 0.25, 2))) * (1.0 + 0.04 * std::cos(chi)) + 20 * noise);
    }
  }
  for (std::size_t k = 17; k < f.size(); k += 997) f[k] = 60000.0f;
  return f;
}

void expect_same(const Result1D& a, const Result1D& b) {
  // EXPECT_EQ on vectors of doubles: exact equality, which is the promise.
  EXPECT_EQ(a.intensity, b.intensity);
  EXPECT_EQ(a.sigma, b.sigma);
  EXPECT_EQ(a.sum_signal, b.sum_signal);
  EXPECT_EQ(a.sum_variance, b.sum_variance);
  EXPECT_EQ(a.sum_normalization, b.sum_normalization);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.rejected_pixels, b.rejected_pixels);
}

IntegrationOptions options_for(Splitting s, ErrorModel e, int threads) {
  IntegrationOptions o;
  o.npt = 150;
  o.splitting = s;
  o.error_model = e;
  o.polarization_factor = 0.99;
  o.threads = threads;
  return o;
}

}  // namespace

// The same plan built with 1..5 threads (and "all cores") integrates every frame bit for bit the same: plain,
// several frames summed, sigma clipping; for each splitting and error model.
TEST(ThreadCount, IntegratorResultsDoNotDependOnIt) {
  const Geometry& g = geom();
  const auto f = frame_f32(g);
  const ImageView v(f.data(), g.rows(), g.cols());
  for (Splitting s : {Splitting::none, Splitting::bbox, Splitting::full}) {
    for (ErrorModel e : {ErrorModel::poisson, ErrorModel::azimuthal}) {
      SCOPED_TRACE(std::string(splitting_name(s)) + " / " + error_model_name(e));
      const Integrator one(g, options_for(s, e, 1));
      const Result1D ref = one.integrate(v);
      const Result1D ref_sum = one.integrate({v, v, v}, FrameCombine::sum);
      const Result1D ref_clip = one.sigma_clip(v);
      ASSERT_GT(ref_clip.rejected_pixels, 0u);  // the hot pixels were seen
      for (int nt : {2, 3, 5, 0}) {
        SCOPED_TRACE("threads = " + std::to_string(nt));
        const Integrator many(g, options_for(s, e, nt));
        // The plan itself (built in parallel) is the same...
        EXPECT_EQ(many.radial_edges(), one.radial_edges());
        EXPECT_EQ(many.stats().entries, one.stats().entries);
        // ...and so is everything it computes.
        expect_same(many.integrate(v), ref);
        expect_same(many.integrate({v, v, v}, FrameCombine::sum), ref_sum);
        expect_same(many.sigma_clip(v), ref_clip);
      }
    }
  }
}

// One plan (itself using 2 OpenMP threads per call) applied by kCallers threads at once: every call returns
// what a lone single-threaded call returns.
TEST(SharedPlan, IntegratorFromManyThreadsAtOnce) {
  const Geometry& g = geom();
  const auto f = frame_f32(g);
  const ImageView v(f.data(), g.rows(), g.cols());
  const Result1D ref = Integrator(g, options_for(Splitting::bbox, ErrorModel::poisson, 1)).integrate(v);
  const Result1D ref_clip = Integrator(g, options_for(Splitting::bbox, ErrorModel::poisson, 1)).sigma_clip(v);
  const Integrator shared(g, options_for(Splitting::bbox, ErrorModel::poisson, 2));
  std::vector<std::vector<Result1D>> got(kCallers);
  std::vector<std::thread> pool;
  for (int t = 0; t < kCallers; ++t) {
    pool.emplace_back([&, t] {
      for (int k = 0; k < kRepeats; ++k) {
        // Alternate plain and clipped calls so that both kinds run concurrently.
        got[static_cast<std::size_t>(t)].push_back((t + k) % 2 ? shared.sigma_clip(v) : shared.integrate(v));
      }
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < kCallers; ++t) {
    for (int k = 0; k < kRepeats; ++k) {
      SCOPED_TRACE("caller " + std::to_string(t) + ", call " + std::to_string(k));
      expect_same(got[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)], (t + k) % 2 ? ref_clip : ref);
    }
  }
}

// The 2D cake plan: thread-count independent and shareable.
TEST(SharedPlan, CakeFromManyThreadsAtOnce) {
  const Geometry& g = geom();
  const auto f = frame_f32(g);
  const ImageView v(f.data(), g.rows(), g.cols());
  CakeOptions o;
  o.npt = 60;
  o.npt_azim = 36;
  o.threads = 1;
  const Result2D ref = CakeIntegrator(g, o).integrate(v);
  o.threads = 3;
  const CakeIntegrator shared(g, o);
  std::vector<Result2D> got(kCallers);
  std::vector<std::thread> pool;
  for (int t = 0; t < kCallers; ++t) pool.emplace_back([&, t] { got[static_cast<std::size_t>(t)] = shared.integrate(v); });
  for (auto& th : pool) th.join();
  for (const Result2D& r : got) {
    EXPECT_EQ(r.intensity, ref.intensity);
    EXPECT_EQ(r.sigma, ref.sigma);
    EXPECT_EQ(r.count, ref.count);
  }
}

namespace {

TransformOptions transform_options(int threads) {
  TransformOptions o;
  o.qmax = 20.0;
  o.qstep = 0.02;
  o.rmax = 20.0;
  o.rstep = 0.02;
  o.window = Window::lorch;
  o.threads = threads;
  return o;
}

// A smooth F(q) with a few oscillations, scaled per frame.
template <class T>
std::vector<T> test_F(const std::vector<double>& q, double scale) {
  std::vector<T> F(q.size());
  for (std::size_t j = 0; j < q.size(); ++j) {
    F[j] = static_cast<T>(scale * q[j] * std::exp(-0.02 * q[j] * q[j]) * std::sin(2.5 * q[j]));
  }
  return F;
}

template <class T>
void transform_from_many_threads() {
  const BasicSineTransform<T> plan(transform_options(2));
  const auto q = plan.q();
  const std::size_t frames = 9;
  std::vector<T> F;
  for (std::size_t f = 0; f < frames; ++f) {
    const auto row = test_F<T>(q, 1.0 + 0.1 * static_cast<double>(f));
    F.insert(F.end(), row.begin(), row.end());
  }
  // The single-threaded reference: a plan with one thread, row by row.
  const BasicSineTransform<T> lone(transform_options(1));
  std::vector<T> ref;
  for (std::size_t f = 0; f < frames; ++f) {
    const std::vector<T> row(F.begin() + static_cast<std::ptrdiff_t>(f * plan.nq()),
                             F.begin() + static_cast<std::ptrdiff_t>((f + 1) * plan.nq()));
    const auto g = lone.forward(row);
    ref.insert(ref.end(), g.begin(), g.end());
  }
  const auto ref_sigma = lone.forward_sigma(test_F<T>(q, 0.01));
  const auto ref_inverse = lone.inverse(std::vector<T>(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(plan.nr())));
  // forward_batch with any thread count equals row-by-row forward.
  for (int nt : {1, 2, 4, 0}) {
    const BasicSineTransform<T> p(transform_options(nt));
    EXPECT_EQ(p.forward_batch(F, frames), ref) << "threads = " << nt;
  }
  // Callers sharing one plan (batch, single, σ and inverse at once), while others build and destroy plans of
  // other sizes: the planner lock must keep FFTW's planner from being entered twice.
  std::vector<int> ok(2 * kCallers, 0);
  std::vector<std::thread> pool;
  for (int t = 0; t < kCallers; ++t) {
    pool.emplace_back([&, t] {
      bool good = true;
      for (int k = 0; k < kRepeats; ++k) {
        good = good && plan.forward_batch(F, frames) == ref;
        good = good && plan.forward_sigma(test_F<T>(q, 0.01)) == ref_sigma;
        good = good && plan.inverse(std::vector<T>(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(plan.nr()))) ==
                           ref_inverse;
      }
      ok[static_cast<std::size_t>(t)] = good ? 1 : 0;
    });
    pool.emplace_back([&, t] {
      TransformOptions o = transform_options(1);
      o.rmax = 10.0 + t;
      o.window = t % 2 ? Window::cosine : Window::none;
      const BasicSineTransform<T> own(o);
      ok[static_cast<std::size_t>(kCallers + t)] = own.nr() > 0 && own.forward(test_F<T>(own.q(), 1.0)).size() == own.nr();
    });
  }
  for (auto& th : pool) th.join();
  for (int t = 0; t < 2 * kCallers; ++t) EXPECT_EQ(ok[static_cast<std::size_t>(t)], 1) << "thread " << t;
}

}  // namespace

TEST(SharedPlan, SineTransformFromManyThreadsAtOnce) { transform_from_many_threads<double>(); }
TEST(SharedPlan, SineTransformFloatFromManyThreadsAtOnce) { transform_from_many_threads<float>(); }

namespace {

// A glass pattern with exactly known S(q): I = ⟨f⟩²(S − 1) + ⟨f²⟩ + I_inc per atom, on a uniform grid.
IntensityPattern glass_pattern() {
  const PairModel model = metallic_glass_model(300.0);
  const Composition c("La65Co25Al10");
  IntensityPattern p;
  for (int k = 0; k < 2200; ++k) p.q.push_back(0.6 + 0.01 * k);
  const ScatteringFactors sf = scattering_factors(c, p.q);
  for (std::size_t j = 0; j < p.q.size(); ++j) {
    p.intensity.push_back(sf.f_mean_sq[j] * (model.S(p.q[j]) - 1) + sf.f2_mean[j] + sf.compton[j]);
    p.sigma.push_back(0.01 * p.intensity.back());
  }
  return p;
}

ReductionOptions reduction_options() {
  ReductionOptions o;
  o.composition = Composition("La65Co25Al10");
  o.number_density = 0.05;
  o.qmax = 22.0;
  o.rmax = 15.0;
  o.window = Window::lorch;
  return o;
}

}  // namespace

// Whole reductions (each plans its own transform under the shared FFTW lock) in parallel equal a lone run.
TEST(Concurrent, ReductionsInParallelEqualALoneRun) {
  const IntensityPattern p = glass_pattern();
  const ReductionOptions o = reduction_options();
  const ReductionResult ref = reduce(p, o);
  ASSERT_FALSE(ref.gr.empty());
  std::vector<ReductionResult> got(kCallers);
  std::vector<std::thread> pool;
  for (int t = 0; t < kCallers; ++t) pool.emplace_back([&, t] { got[static_cast<std::size_t>(t)] = reduce(p, o); });
  for (auto& th : pool) th.join();
  for (const ReductionResult& r : got) {
    EXPECT_EQ(r.alpha, ref.alpha);
    EXPECT_EQ(r.sq, ref.sq);
    EXPECT_EQ(r.fq, ref.fq);
    EXPECT_EQ(r.gr, ref.gr);
    EXPECT_EQ(r.gr_sigma, ref.gr_sigma);
  }
}

// The simulator promises the same frame bit for bit on any number of threads, and one simulator is shared.
TEST(ThreadCount, SimulatorFramesDoNotDependOnIt) {
  SimulationSetup s;
  s.poni = small_poni();
  s.poni.detector.rows = 64;
  s.poni.detector.cols = 80;
  s.beamstop_radius_m = 0.002;
  s.threads = 1;
  const PairModel model = metallic_glass_model(400.0);
  const Image ref = Simulator(s).frame(model, 3);
  s.threads = 3;
  const Simulator shared(s);
  std::vector<Image> got(kCallers);
  std::vector<std::thread> pool;
  for (int t = 0; t < kCallers; ++t) pool.emplace_back([&, t] { got[static_cast<std::size_t>(t)] = shared.frame(model, 3); });
  for (auto& th : pool) th.join();
  for (const Image& img : got) {
    ASSERT_EQ(img.size(), ref.size());
    EXPECT_EQ(img.to_double(), ref.to_double());
  }
}
