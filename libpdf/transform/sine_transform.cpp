// The F(q) <-> G(r) sine-transform plan on FFTW's RODFT00 (DST-I). The FFT lives in this one translation
// unit; see include/libpdf/transform.hpp for the definitions and docs/pdf.md for the derivation.
//
// FFTW definitions used (n = transform length):
//   RODFT00: Y_k = 2 Σ_{j=0}^{n−1} X_j sin(π(j+1)(k+1)/(n+1))
//   R2HC:    Y_k = Σ_{j=0}^{n−1} X_j e^{−2πijk/n}, real parts stored at 0..n/2
// With X_{j−1} = (Δq/π) M_j F_j and n + 1 = m·L_r, Y_{K−1} = G at the native r_K = K·rstep/m.
#include <fftw3.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/transform.hpp"
#include "libpdf/transform/fftw_lock.hpp"

namespace libpdf {
namespace {

constexpr double pi = 3.14159265358979323846;

// Largest FFT length accepted: 2^26 points are 512 MB per double buffer.
constexpr std::size_t max_fft_length = std::size_t{1} << 26;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

template <class T>
struct Fftw;

template <>
struct Fftw<double> {
  using Plan = fftw_plan;
  static double* alloc(std::size_t n) {
    return static_cast<double*>(fftw_malloc(sizeof(double) * std::max<std::size_t>(n, 1)));
  }
  static void free(double* p) { fftw_free(p); }
  static Plan plan(int n, double* in, double* out, fftw_r2r_kind kind, unsigned flags) {
    return fftw_plan_r2r_1d(n, in, out, kind, flags);
  }
  static void execute(Plan p, double* in, double* out) { fftw_execute_r2r(p, in, out); }
  static void destroy(Plan p) { fftw_destroy_plan(p); }
};

template <>
struct Fftw<float> {
  using Plan = fftwf_plan;
  static float* alloc(std::size_t n) {
    return static_cast<float*>(fftwf_malloc(sizeof(float) * std::max<std::size_t>(n, 1)));
  }
  static void free(float* p) { fftwf_free(p); }
  static Plan plan(int n, float* in, float* out, fftw_r2r_kind kind, unsigned flags) {
    return fftwf_plan_r2r_1d(n, in, out, kind, flags);
  }
  static void execute(Plan p, float* in, float* out) { fftwf_execute_r2r(p, in, out); }
  static void destroy(Plan p) { fftwf_destroy_plan(p); }
};

// An input/output buffer pair. Inputs are allocated zeroed, and every caller writes the same index range
// of them while FFTW preserves its input (FFTW_PRESERVE_INPUT), so the zero padding never needs rewriting.
template <class T>
struct Buffers {
  T* in = nullptr;
  T* out = nullptr;
};

// A pool of buffer pairs (fftw_malloc'd, so they have the alignment the plan was made with): concurrent
// calls each take their own pair; pairs are reused, so steady-state execution never allocates.
template <class T>
class BufferPool {
 public:
  BufferPool(std::size_t n_in, std::size_t n_out) : n_in_(n_in), n_out_(n_out) {}
  ~BufferPool() {
    for (auto& b : free_) {
      Fftw<T>::free(b.in);
      Fftw<T>::free(b.out);
    }
  }
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  Buffers<T> acquire() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!free_.empty()) {
        Buffers<T> b = free_.back();
        free_.pop_back();
        return b;
      }
    }
    Buffers<T> b;
    b.in = Fftw<T>::alloc(n_in_);
    b.out = Fftw<T>::alloc(n_out_);
    if (b.in == nullptr || b.out == nullptr) {
      Fftw<T>::free(b.in);
      Fftw<T>::free(b.out);
      throw std::bad_alloc();
    }
    std::fill(b.in, b.in + n_in_, T(0));
    return b;
  }
  void release(Buffers<T> b) {
    std::lock_guard<std::mutex> lock(mutex_);
    free_.push_back(b);
  }

 private:
  std::size_t n_in_, n_out_;
  std::mutex mutex_;
  std::vector<Buffers<T>> free_;
};

// Returns a buffer pair to its pool at scope exit.
template <class T>
class Lease {
 public:
  explicit Lease(BufferPool<T>& pool) : pool_(pool), b_(pool.acquire()) {}
  ~Lease() { pool_.release(b_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  const Buffers<T>& operator*() const { return b_; }

 private:
  BufferPool<T>& pool_;
  Buffers<T> b_;
};

// The FFT length L >= n to use, FFTW's RODFT00 of length L − 1 being computed through a real FFT of length
// 2L. Measured on the project's 2-core machines (EPYC Zen 4, FFTW 3.3.10, repeated runs): odd L are 3–6 times
// slower than even ones; among even 7-smooth L, factors 2 and 5 are cheapest, 3 and 7 cost more (L = 16000 =
// 2^7·5^3: 121–163 µs, 16384: 142–162 µs, 15750 = 2·3^2·5^3·7: 171–231 µs; 32000: 258–418 µs under load,
// 32768: 297–326 µs, 31500: 306–353 µs). So: even, 7-smooth, at most 15 % above n, with a cost per factor 3
// and a larger one per factor 7.
std::size_t fft_friendly_length(std::size_t n) {
  n = std::max<std::size_t>(n, 2);
  std::size_t best = 0;
  double best_cost = 0;
  const std::size_t limit = n + n * 15 / 100 + 16;
  for (std::size_t L = n; L <= limit || best == 0; ++L) {
    if (L % 2 != 0) continue;
    std::size_t k = L;
    int threes = 0, sevens = 0;
    while (k % 2 == 0) k /= 2;
    while (k % 5 == 0) k /= 5;
    while (k % 3 == 0) {
      k /= 3;
      ++threes;
    }
    while (k % 7 == 0) {
      k /= 7;
      ++sevens;
    }
    if (k != 1) continue;
    const double cost = static_cast<double>(L) * (1.0 + 0.05 * threes + 0.2 * sevens);
    if (best == 0 || cost < best_cost) {
      best = L;
      best_cost = cost;
    }
  }
  return best;
}

unsigned planner_flags(FftPlanning p) {
  return (p == FftPlanning::measure ? FFTW_MEASURE : FFTW_ESTIMATE) | FFTW_PRESERVE_INPUT;
}

}  // namespace

template <class T>
struct BasicSineTransform<T>::Impl {
  using F = Fftw<T>;

  TransformOptions opt;
  double dq = 0;          // Δq
  double taper = 0;       // resolved cosine-taper width
  std::size_t nq = 0;     // q_j = jΔq, j = 0..nq−1
  std::size_t nr = 0;     // r_i = (k0 + i)·rstep
  std::size_t k0 = 0;     // rmin / rstep
  std::size_t lr = 0;     // L_r = π/(Δq·rstep)
  std::size_t m = 1;      // native steps per rstep
  std::size_t n = 0;      // RODFT00 length N = m·L_r − 1
  std::vector<T> weight;  // (Δq/π)·M(q_j); weight[0] = 0
  std::vector<double> window;

  typename F::Plan forward_plan = nullptr;
  mutable BufferPool<T> forward_pool;

  // Plans of forward_sigma and inverse, made on first use (call_once) so plans that never need them
  // cost nothing; creation still goes through the planner lock.
  mutable std::once_flag sigma_once, inverse_once;
  mutable typename F::Plan sigma_plan = nullptr, inverse_plan = nullptr;
  mutable BufferPool<T> sigma_pool, inverse_pool;

  Impl(const TransformOptions& o, double dq_, std::size_t nq_, std::size_t nr_, std::size_t k0_, std::size_t lr_,
       std::size_t m_)
      : opt(o),
        dq(dq_),
        nq(nq_),
        nr(nr_),
        k0(k0_),
        lr(lr_),
        m(m_),
        n(m_ * lr_ - 1),
        forward_pool(n, n),
        sigma_pool(n + 1, n + 1),
        inverse_pool(lr_ - 1, lr_ - 1) {}

  ~Impl() {
    std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
    if (forward_plan != nullptr) F::destroy(forward_plan);
    if (sigma_plan != nullptr) F::destroy(sigma_plan);
    if (inverse_plan != nullptr) F::destroy(inverse_plan);
  }

  // Plans a transform of length @p len on a buffer pair of @p pool (its input is re-zeroed afterwards:
  // FFTW_MEASURE scribbles on the arrays while it times candidates).
  typename F::Plan make_plan(BufferPool<T>& pool, std::size_t len, fftw_r2r_kind kind) const {
    Lease<T> lease(pool);
    typename F::Plan p = nullptr;
    {
      std::lock_guard<std::mutex> lock(detail::fftw_planner_mutex());
      p = F::plan(static_cast<int>(len), (*lease).in, (*lease).out, kind, planner_flags(opt.planning));
    }
    std::fill((*lease).in, (*lease).in + len, T(0));
    if (p == nullptr) {
      throw NumericalError("FFTW could not plan a length-" + std::to_string(len) + " real-to-real transform");
    }
    return p;
  }

  void run_forward(const T* f, T* g, const Buffers<T>& b) const {
    T* in = b.in;
    for (std::size_t j = 1; j < nq; ++j) in[j - 1] = f[j] * weight[j];
    F::execute(forward_plan, b.in, b.out);
    const T* out = b.out;
    for (std::size_t i = 0; i < nr; ++i) {
      const std::size_t K = (k0 + i) * m;
      g[i] = K == 0 ? T(0) : out[K - 1];
    }
  }
};

template <class T>
BasicSineTransform<T>::BasicSineTransform(const TransformOptions& options) {
  options.validate();
  // L_r: the period π/Δq in units of rstep. Keep the requested qstep when it already makes L_r an
  // integer (a grid made by an earlier plan); otherwise an FFT-friendly integer at most 15 % larger, which
  // makes Δq up to 15 % finer than asked (never coarser).
  const double x = pi / (options.qstep * options.rstep);
  const std::size_t k_last = static_cast<std::size_t>(std::floor((options.rmax) / options.rstep + 1e-9));
  if (!(x < static_cast<double>(max_fft_length))) {
    throw InvalidArgument("qstep = " + num(options.qstep) + " and rstep = " + num(options.rstep) +
                          " need an FFT of length " + num(x) + " (at most " + std::to_string(max_fft_length) +
                          "): choose a larger qstep or rstep");
  }
  std::size_t lr = 0;
  const double xr = std::round(x);
  if (std::fabs(x - xr) <= 1e-9 * x && xr >= static_cast<double>(k_last + 1)) {
    lr = static_cast<std::size_t>(xr);
  } else {
    // r up to rmax must lie below the alias point π/Δq = L_r·rstep.
    lr = fft_friendly_length(std::max(static_cast<std::size_t>(std::ceil(x - 1e-9 * x)), k_last + 1));
  }
  const double dq = pi / (static_cast<double>(lr) * options.rstep);
  const std::size_t nq = static_cast<std::size_t>(std::floor(options.qmax / dq + 1e-9)) + 1;
  const std::size_t m = std::max<std::size_t>(1, (nq + lr - 1) / lr);  // m·L_r − 1 ≥ nq − 1 samples
  if (m * lr > max_fft_length) {
    throw InvalidArgument("the transform needs an FFT of length " + std::to_string(m * lr - 1) + " (at most " +
                          std::to_string(max_fft_length) + "): choose a larger qstep or rstep");
  }
  const std::size_t k0 = static_cast<std::size_t>(std::llround(options.rmin / options.rstep));
  const std::size_t nr = k_last >= k0 ? k_last - k0 + 1 : 1;

  impl_ = std::make_unique<Impl>(options, dq, nq, nr, k0, lr, m);
  auto& d = *impl_;
  d.taper = options.taper_width > 0 ? options.taper_width : options.qmax / 10;
  d.window.resize(nq);
  d.weight.resize(nq);
  for (std::size_t j = 0; j < nq; ++j) {
    const double q = static_cast<double>(j) * dq;
    d.window[j] = window_value(options.window, q, options.qmax, d.taper);
    d.weight[j] = j == 0 ? T(0) : static_cast<T>(dq / pi * d.window[j]);
  }
  d.forward_plan = d.make_plan(d.forward_pool, d.n, FFTW_RODFT00);
  detail::logger().debug(
      "sine transform plan: qmax {} dq {} (asked {}), nq {}, r {}..{} step {} ({} points), "
      "RODFT00 length {} = {}*{} - 1",
      options.qmax, dq, options.qstep, nq, options.rmin, options.rmax, options.rstep, nr, d.n, m, lr);
}

template <class T>
BasicSineTransform<T>::~BasicSineTransform() = default;
template <class T>
BasicSineTransform<T>::BasicSineTransform(BasicSineTransform&&) noexcept = default;
template <class T>
BasicSineTransform<T>& BasicSineTransform<T>::operator=(BasicSineTransform&&) noexcept = default;

template <class T>
const TransformOptions& BasicSineTransform<T>::options() const {
  return impl_->opt;
}
template <class T>
double BasicSineTransform<T>::q_step() const {
  return impl_->dq;
}
template <class T>
std::size_t BasicSineTransform<T>::nq() const {
  return impl_->nq;
}
template <class T>
std::vector<double> BasicSineTransform<T>::q() const {
  std::vector<double> q(impl_->nq);
  for (std::size_t j = 0; j < q.size(); ++j) q[j] = static_cast<double>(j) * impl_->dq;
  return q;
}
template <class T>
std::size_t BasicSineTransform<T>::nr() const {
  return impl_->nr;
}
template <class T>
std::vector<double> BasicSineTransform<T>::r() const {
  std::vector<double> r(impl_->nr);
  for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<double>(impl_->k0 + i) * impl_->opt.rstep;
  return r;
}
template <class T>
std::vector<double> BasicSineTransform<T>::window() const {
  return impl_->window;
}
template <class T>
std::size_t BasicSineTransform<T>::fft_length() const {
  return impl_->n;
}
template <class T>
double BasicSineTransform<T>::native_rstep() const {
  return impl_->opt.rstep / static_cast<double>(impl_->m);
}

template <class T>
void BasicSineTransform<T>::forward(const T* F, T* G) const {
  const auto& d = *impl_;
  Lease<T> lease(d.forward_pool);
  d.run_forward(F, G, *lease);
}

template <class T>
std::vector<T> BasicSineTransform<T>::forward(const std::vector<T>& F) const {
  if (F.size() != impl_->nq) {
    throw InvalidArgument("F has " + std::to_string(F.size()) + " values but the plan's q grid has " +
                          std::to_string(impl_->nq) + " (q_j = j*" + num(impl_->dq) + ", j = 0.." +
                          std::to_string(impl_->nq - 1) + ")");
  }
  std::vector<T> G(impl_->nr);
  forward(F.data(), G.data());
  return G;
}

template <class T>
void BasicSineTransform<T>::forward_batch(const T* F, std::size_t frames, T* G) const {
  const auto& d = *impl_;
  if (frames == 0) return;
  int threads = d.opt.threads > 0 ? d.opt.threads : omp_get_max_threads();
  threads = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(std::max(threads, 1)), frames));
  // Buffers are taken before the parallel region so an allocation failure throws here, not inside it.
  std::vector<Buffers<T>> buffers;
  buffers.reserve(static_cast<std::size_t>(threads));
  try {
    for (int t = 0; t < threads; ++t) buffers.push_back(d.forward_pool.acquire());
  } catch (...) {
    for (auto& b : buffers) d.forward_pool.release(b);
    throw;
  }
  const long long nframes = static_cast<long long>(frames);
#pragma omp parallel num_threads(threads)
  {
    const Buffers<T>& b = buffers[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
    for (long long k = 0; k < nframes; ++k) {
      const std::size_t f = static_cast<std::size_t>(k);
      d.run_forward(F + f * d.nq, G + f * d.nr, b);
    }
  }
  for (auto& b : buffers) d.forward_pool.release(b);
}

template <class T>
std::vector<T> BasicSineTransform<T>::forward_batch(const std::vector<T>& F, std::size_t frames) const {
  if (F.size() != frames * impl_->nq) {
    throw InvalidArgument("F has " + std::to_string(F.size()) + " values, expected " + std::to_string(frames) +
                          " frames x " + std::to_string(impl_->nq) + " q points");
  }
  std::vector<T> G(frames * impl_->nr);
  forward_batch(F.data(), frames, G.data());
  return G;
}

template <class T>
void BasicSineTransform<T>::forward_sigma(const T* sigma_F, T* sigma_G) const {
  const auto& d = *impl_;
  // σ_G² = 4 Σ_j u_j sin²(q_j r_K), u_j = (weight_j σ_j)², and sin² = (1 − cos 2x)/2 turns the sum into
  // 2[Σ u_j − Σ u_j cos(2π jK/(N+1))]: the real part of one length-(N+1) DFT of u.
  std::call_once(d.sigma_once, [&d] { d.sigma_plan = d.make_plan(d.sigma_pool, d.n + 1, FFTW_R2HC); });
  Lease<T> lease(d.sigma_pool);
  T* in = (*lease).in;
  double total = 0;
  for (std::size_t j = 1; j < d.nq; ++j) {
    const double u = static_cast<double>(d.weight[j]) * static_cast<double>(sigma_F[j]);
    in[j] = static_cast<T>(u * u);
    total += u * u;
  }
  Fftw<T>::execute(d.sigma_plan, (*lease).in, (*lease).out);
  const T* out = (*lease).out;
  const std::size_t len = d.n + 1;
  for (std::size_t i = 0; i < d.nr; ++i) {
    const std::size_t K = (d.k0 + i) * d.m;
    const std::size_t idx = K <= len / 2 ? K : len - K;
    const double v = 2.0 * (total - static_cast<double>(out[idx]));
    sigma_G[i] = K == 0 ? T(0) : static_cast<T>(std::sqrt(std::max(v, 0.0)));
  }
}

template <class T>
std::vector<T> BasicSineTransform<T>::forward_sigma(const std::vector<T>& sigma_F) const {
  if (sigma_F.size() != impl_->nq) {
    throw InvalidArgument("sigma_F has " + std::to_string(sigma_F.size()) + " values but the plan's q grid has " +
                          std::to_string(impl_->nq));
  }
  std::vector<T> s(impl_->nr);
  forward_sigma(sigma_F.data(), s.data());
  return s;
}

template <class T>
void BasicSineTransform<T>::inverse(const T* G, T* F) const {
  const auto& d = *impl_;
  if (d.m > 1 || d.lr < 2) {
    throw InvalidArgument("inverse transform: rstep = " + num(d.opt.rstep) + " is too coarse for q up to " +
                          num(static_cast<double>(d.nq - 1) * d.dq) +
                          " 1/A (need rstep <= pi/qmax = " + num(pi / (static_cast<double>(d.nq - 1) * d.dq)) + " A)");
  }
  // F_j = Δr Σ_k G(kΔr) sin(π jk/L_r) = (Δr/2)·RODFT00 of length L_r − 1.
  std::call_once(d.inverse_once, [&d] { d.inverse_plan = d.make_plan(d.inverse_pool, d.lr - 1, FFTW_RODFT00); });
  Lease<T> lease(d.inverse_pool);
  T* in = (*lease).in;
  const T half_step = static_cast<T>(d.opt.rstep / 2);
  for (std::size_t i = 0; i < d.nr; ++i) {
    const std::size_t k = d.k0 + i;
    if (k >= 1 && k <= d.lr - 1) in[k - 1] = G[i] * half_step;
  }
  Fftw<T>::execute(d.inverse_plan, (*lease).in, (*lease).out);
  F[0] = T(0);
  for (std::size_t j = 1; j < d.nq; ++j) F[j] = (*lease).out[j - 1];
}

template <class T>
std::vector<T> BasicSineTransform<T>::inverse(const std::vector<T>& G) const {
  if (G.size() != impl_->nr) {
    throw InvalidArgument("G has " + std::to_string(G.size()) + " values but the plan's r grid has " +
                          std::to_string(impl_->nr));
  }
  std::vector<T> F(impl_->nq);
  inverse(G.data(), F.data());
  return F;
}

template class BasicSineTransform<double>;
template class BasicSineTransform<float>;

}  // namespace libpdf
