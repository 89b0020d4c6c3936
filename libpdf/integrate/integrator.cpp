// The 1D integration plan and its per-frame kernel. Layout and reasons: docs/integration.md.
//
// The plan is pixel-major, in the frame's memory order. Per pixel a 16-bit header (32-bit with 32768 bins or
// more) holds the first bin, the top bit marking a pixel that reaches more than 4 bins ("wide"), or
// nb for a pixel that never contributes; four 16-bit fixed-point weight slots (unit = 1/65535) hold the weights
// of bins first .. first + 3 (none splitting stores none). Fixed point lets the weights of an in-range pixel sum
// to exactly 65535, so splitting conserves counts exactly; the plan is about 14 bytes per pixel.
//
// Static sums Σc and Σc·n per bin are computed once; a frame adds only Σc·s and Σc²·var, each pixel into one
// accumulator line of its first bin (Impl::arrays). Pixels that turn out invalid in a frame (NaN, dummy,
// detector marker, sigma-clipped) are listed and their static contributions removed afterwards. Pixels are cut
// into a fixed number of row chunks with their own accumulators, added in chunk order: results do not depend on
// the number of threads.
#include <omp.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <type_traits>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/integrate/finish.hpp"
#include "libpdf/integrate/pixel_calc.hpp"
#include "libpdf/integrate/validity.hpp"

namespace libpdf {

namespace {

constexpr std::uint32_t kUnit = 65535;  // fixed-point weight of 1
constexpr double kInvUnit = 1.0 / 65535.0;
constexpr std::size_t kChunks = 16;     // fixed, so results are independent of the thread count
constexpr std::size_t kLineBins = 4;    // bins per accumulator line (see Impl::arrays)
constexpr std::size_t kPad = 4;         // spare weights after the stream: the kernels read 4 weights at a time
constexpr unsigned kMaxBinsPerPixel = 4096;  // bins one pixel may reach (its count is kept in 32 bits)
// pyFAI's upper bound of a default range: the largest position times (1 + float32 epsilon), so the
// outermost pixel falls inside the last bin.
constexpr double kEps32 = 1.0 + 1.1920928955078125e-07;

// A pixel of full splitting reaching more than 4 bins (a "wide" pixel): its bin count and where its weights
// beyond the first four are (Impl::extra). Wide pixels of bbox splitting keep their count in their 4th slot.
struct Wide {
  std::uint32_t pixel;  // detectors have fewer than 2^32 pixels (checked when the plan is built)
  std::uint32_t cnt;
  std::size_t extra;
};

}  // namespace

struct Integrator::Impl {
  std::size_t rows = 0, cols = 0;
  IntegrationOptions opt;
  std::vector<double> radial, edges;
  double lo = 0, hi = 0, delta = 0;
  std::size_t nb = 0;
  // Per pixel: its first bin (the line it adds to, Impl::arrays) with the top bit set for a pixel reaching more
  // than 4 bins, or nb (a spare line nobody reads) for a pixel that never contributes; 16 bits when nb < 2^15,
  // else 32 (exactly one of the two is filled).
  std::vector<std::uint16_t> hdr16;
  std::vector<std::uint32_t> hdr32;
  // Splitting weights, 16-bit fixed point (unit 1/65535), four slots per pixel (bbox, full; none stores none):
  // slot k is the weight of bin first + k (0 beyond the pixel's bins). A wide pixel keeps [first, interior, last,
  // bin count] (bbox) or its first four weights (full; the others in `extra`, found through `wide`).
  std::vector<std::uint16_t> w;
  std::vector<Wide> wide;                // wide pixels of full splitting, in pixel order
  std::vector<std::uint16_t> extra;      // full splitting: weights 5.. of the wide pixels
  std::size_t nchunks = 0;
  std::vector<std::size_t> chunk_wide;  // index in `wide` of each chunk's first wide pixel (+ end)
  std::vector<std::size_t> chunk_blo, chunk_bhi;  // accumulator lines a chunk's kernel may write: [lo, hi)
  std::vector<float> norm;              // folded normalisation per pixel (0 where the pixel never contributes)
  std::vector<float> dark, dark_var;
  std::vector<std::int64_t> static_count;  // Σ weight (fixed point) per bin
  std::vector<double> static_norm, static_c2n2;
  std::vector<double> static_dark, static_c2dvar;  // Σc·dark and Σc²·dark variance per bin (Poisson/none models)
  enum class Simd { portable, avx2 };
  Simd simd = Simd::portable;  // the kernel this machine runs (checked when the plan is built; x86-64 only)
  PlanStats stats;

  // Accumulators of one call, 64-byte aligned so that an accumulator line is one cache line.
  struct Workspace {
    std::unique_ptr<double[], void (*)(void*)> acc{nullptr, std::free};  // [chunk][line][line_doubles]
    std::vector<std::vector<std::size_t>> invalid;  // pixels found invalid in the frames, per chunk
  };
  mutable std::mutex pool_mutex;
  mutable std::vector<std::unique_ptr<Workspace>> pool;

  // Accumulator layout per chunk: nb + 1 lines (line nb is a spare that pixels which never contribute add to and
  // nobody reads). Line b holds what pixels whose first bin is b add to bins b .. b+3, as arrays() groups of
  // kLineBins doubles: [Σc·x ×4 | Σc²·max(raw, 1) (Poisson) or Σc²s² (azimuthal) ×4 | Σc²·s·n (azimuthal) ×4]. A
  // pixel reaching more bins also uses lines b+4, b+8, ... x is the raw value for the Poisson and no-error models
  // (the dark is subtracted through its static sum Σc·dark) and raw − dark for the azimuthal one. Each pixel thus
  // updates whole lines at their own addresses: a pixel that reaches bins a neighbour reached a moment before
  // never reads a vector partly overlapping one it has just stored (the store-forwarding stall of the earlier
  // layout, one array per sum). Several accumulator copies per chunk (pixels alternating between them) were
  // measured 3-10 % slower with this layout, so there is one. A chunk's bin b is the sum over lines b−3 .. b (slot
  // b − line), taken in that order.
  std::size_t arrays() const {
    return opt.error_model == ErrorModel::azimuthal ? 3 : opt.error_model == ErrorModel::poisson ? 2 : 1;
  }
  std::size_t line_doubles() const { return kLineBins * arrays(); }
  std::size_t chunk_doubles() const { return (nb + 1) * line_doubles(); }  // + the spare line nb

  std::unique_ptr<Workspace> acquire() const {
    {
      std::lock_guard<std::mutex> lock(pool_mutex);
      if (!pool.empty()) {
        auto ws = std::move(pool.back());
        pool.pop_back();
        return ws;
      }
    }
    auto ws = std::make_unique<Workspace>();
    const std::size_t bytes = (nchunks * chunk_doubles() * sizeof(double) + 63) / 64 * 64;
    ws->acc.reset(static_cast<double*>(std::aligned_alloc(64, bytes)));
    if (!ws->acc) throw std::bad_alloc();
    ws->invalid.resize(nchunks);
    return ws;
  }
  void release(std::unique_ptr<Workspace> ws) const {
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool.push_back(std::move(ws));
  }

  void build(const Geometry& g, const Corrections& corr);
  std::uint32_t header(std::size_t p) const { return hdr16.empty() ? hdr32[p] : hdr16[p]; }
  std::uint32_t wide_bit() const { return hdr16.empty() ? 0x80000000u : 0x8000u; }
  // The wide-pixel record of pixel p (which must be wide).
  const Wide& wide_of(std::size_t p) const {
    return *std::lower_bound(wide.begin(), wide.end(), p, [](const Wide& a, std::size_t q) { return a.pixel < q; });
  }
  // Calls visit(bin, fixed-point weight) for each bin pixel p reaches with a non-zero weight; wd is its wide
  // record when it is wide (nullptr: looked up).
  template <class Visit>
  void for_each_weight(std::size_t p, const Wide* wd, Visit&& visit) const;
  Result1D run(const std::vector<ImageView>& frames, bool summed, const std::uint8_t* reject) const;
};

template <class Visit>
void Integrator::Impl::for_each_weight(std::size_t p, const Wide* wd, Visit&& visit) const {
  const std::uint32_t h = header(p);
  if (h == nb) return;  // never contributes
  const std::size_t b0 = h & ~wide_bit();
  if (opt.splitting == Splitting::none) {
    visit(b0, kUnit);
    return;
  }
  const std::uint16_t* s = w.data() + 4 * p;
  if (!(h & wide_bit())) {
    for (unsigned k = 0; k < 4; ++k)
      if (s[k]) visit(b0 + k, static_cast<std::uint32_t>(s[k]));
    return;
  }
  if (opt.splitting == Splitting::bbox) {
    const unsigned cnt = s[3];
    visit(b0, s[0]);
    for (unsigned k = 1; k + 1 < cnt; ++k) visit(b0 + k, s[1]);
    visit(b0 + cnt - 1, s[2]);
  } else {
    if (!wd) wd = &wide_of(p);
    for (unsigned k = 0; k < 4; ++k) visit(b0 + k, s[k]);
    for (unsigned k = 4; k < wd->cnt; ++k) visit(b0 + k, extra[wd->extra + k - 4]);
  }
}

namespace {

// Fixed-point weights of one pixel; `exact_total` = the pixel lies wholly in range, so the weights are made to
// sum to exactly kUnit (largest remainder).
void quantize(const double* wt, unsigned n, bool exact_total, std::uint32_t* out) {
  if (!exact_total) {
    for (unsigned k = 0; k < n; ++k) out[k] = static_cast<std::uint32_t>(std::lround(std::clamp(wt[k], 0.0, 1.0) * kUnit));
    return;
  }
  double total = 0;
  for (unsigned k = 0; k < n; ++k) total += std::max(wt[k], 0.0);
  std::int64_t sum = 0;
  double frac[kMaxBinsPerPixel];
  for (unsigned k = 0; k < n; ++k) {
    const double x = std::max(wt[k], 0.0) / total * kUnit;
    out[k] = static_cast<std::uint32_t>(std::floor(x));
    frac[k] = x - std::floor(x);
    sum += out[k];
  }
  std::int64_t left = static_cast<std::int64_t>(kUnit) - sum;
  while (left > 0) {
    unsigned best = 0;
    for (unsigned k = 1; k < n; ++k)
      if (frac[k] > frac[best]) best = k;
    out[best] += 1;
    frac[best] = -1;
    --left;
  }
}

// std::lround for the non-negative (or barely negative, then clamped) weights of the plan, inline: glibc's
// lround is a call and cost about 5 % of building a plan. Halves round up, as lround does for x >= 0.
inline std::int64_t round_weight(double x) { return static_cast<std::int64_t>(x + 0.5); }

#if defined(__x86_64__) && defined(__GNUC__)
// radial_row for q, four points at a time. The operations are RadialCalc's and LabAffine::at's in the same order
// (no FMA, correctly rounded division and square root), so the values are identical to the scalar ones.
// Returns how many points it did.
__attribute__((target("avx2"))) std::size_t radial_row_avx2(const detail::LabAffine& lab, const detail::RadialCalc& rad,
                                                            double row, double col0, std::size_t n, double* out) {
  if (rad.unit != RadialUnit::q_A && rad.unit != RadialUnit::q_nm) return 0;
  __m256d base[3], dc[3];
  for (int k = 0; k < 3; ++k) {
    base[k] = _mm256_set1_pd(lab.t0[k] + row * lab.dr[k]);
    dc[k] = _mm256_set1_pd(lab.dc[k]);
  }
  const __m256d step = _mm256_set_pd(3.0, 2.0, 1.0, 0.0), c0 = _mm256_set1_pd(col0), zero = _mm256_setzero_pd();
  const __m256d half = _mm256_set1_pd(0.5), k4pi = _mm256_set1_pd(rad.four_pi_over_lambda), ten = _mm256_set1_pd(10.0);
  const bool nm = rad.unit == RadialUnit::q_nm;
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256d col = _mm256_add_pd(_mm256_add_pd(_mm256_set1_pd(static_cast<double>(j)), step), c0);
    const __m256d t0 = _mm256_add_pd(base[0], _mm256_mul_pd(col, dc[0]));
    const __m256d t1 = _mm256_add_pd(base[1], _mm256_mul_pd(col, dc[1]));
    const __m256d t2 = _mm256_add_pd(base[2], _mm256_mul_pd(col, dc[2]));
    const __m256d rho2 = _mm256_add_pd(_mm256_mul_pd(t0, t0), _mm256_mul_pd(t1, t1));
    const __m256d len = _mm256_sqrt_pd(_mm256_add_pd(rho2, _mm256_mul_pd(t2, t2)));
    const __m256d fwd = _mm256_cmp_pd(t2, zero, _CMP_GT_OQ);
    const __m256d num = _mm256_blendv_pd(_mm256_sub_pd(len, t2), rho2, fwd);
    const __m256d den = _mm256_blendv_pd(len, _mm256_mul_pd(len, _mm256_add_pd(len, t2)), fwd);
    __m256d q = _mm256_mul_pd(k4pi, _mm256_sqrt_pd(_mm256_mul_pd(half, _mm256_div_pd(num, den))));
    if (nm) q = _mm256_mul_pd(ten, q);
    _mm256_storeu_pd(out + j, q);
  }
  return j;
}
#endif

#if defined(__x86_64__) && defined(__GNUC__)
// norm_row without a sensor, four pixels at a time; NormCalc's operations in its order: identical values.
__attribute__((target("avx2"))) std::size_t norm_row_avx2(const detail::LabAffine& lab, const detail::NormCalc& nc,
                                                          double row, std::size_t n, double* out) {
  const IntegrationOptions& o = *nc.opt;
  if (o.sensor) return 0;
  __m256d base[3], dc[3];
  for (int k = 0; k < 3; ++k) {
    base[k] = _mm256_set1_pd(lab.t0[k] + row * lab.dr[k]);
    dc[k] = _mm256_set1_pd(lab.dc[k]);
  }
  const __m256d step = _mm256_set_pd(3.5, 2.5, 1.5, 0.5), zero = _mm256_setzero_pd();
  const __m256d factor = _mm256_set1_pd(o.normalization_factor), dist = _mm256_set1_pd(nc.distance_m);
  const __m256d one = _mm256_set1_pd(1.0), half = _mm256_set1_pd(0.5);
  const __m256d pf = _mm256_set1_pd(o.polarization_factor ? *o.polarization_factor : 0.0);
  std::size_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const __m256d col = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(j)), step);
    const __m256d t0 = _mm256_add_pd(base[0], _mm256_mul_pd(col, dc[0]));
    const __m256d t1 = _mm256_add_pd(base[1], _mm256_mul_pd(col, dc[1]));
    const __m256d t2 = _mm256_add_pd(base[2], _mm256_mul_pd(col, dc[2]));
    const __m256d rho2 = _mm256_add_pd(_mm256_mul_pd(t0, t0), _mm256_mul_pd(t1, t1));
    const __m256d len2 = _mm256_add_pd(rho2, _mm256_mul_pd(t2, t2));
    __m256d v = factor;
    if (o.solid_angle) {
      const __m256d ca = _mm256_div_pd(dist, _mm256_sqrt_pd(len2));
      v = _mm256_mul_pd(v, _mm256_mul_pd(_mm256_mul_pd(ca, ca), ca));
    }
    if (o.polarization_factor) {
      const __m256d c2 = _mm256_div_pd(_mm256_mul_pd(t2, t2), len2);
      const __m256d chi2 = _mm256_div_pd(_mm256_sub_pd(_mm256_mul_pd(t1, t1), _mm256_mul_pd(t0, t0)), rho2);
      const __m256d cos2chi = _mm256_blendv_pd(zero, chi2, _mm256_cmp_pd(rho2, zero, _CMP_GT_OQ));
      const __m256d pol = _mm256_mul_pd(
          half, _mm256_sub_pd(_mm256_add_pd(one, c2), _mm256_mul_pd(_mm256_mul_pd(pf, cos2chi), _mm256_sub_pd(one, c2))));
      v = _mm256_mul_pd(v, pol);
    }
    _mm256_storeu_pd(out + j, v);
  }
  return j;
}
#endif

// out[j] = normc(lab.at(row, j + 0.5)) for j < n.
void norm_row(const detail::LabAffine& lab, const detail::NormCalc& nc, double row, std::size_t n, double* out,
              bool simd) {
  std::size_t j = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (simd) j = norm_row_avx2(lab, nc, row, n, out);
#else
  (void)simd;
#endif
  for (; j < n; ++j) out[j] = nc(lab.at(row, static_cast<double>(j) + 0.5));
}

// out[j] = rad(lab.at(row, col0 + j)) for j < n (col0 is 0 or 0.5, so col0 + j is exact).
void radial_row(const detail::LabAffine& lab, const detail::RadialCalc& rad, double row, double col0, std::size_t n,
                double* out, bool simd) {
  std::size_t j = 0;
#if defined(__x86_64__) && defined(__GNUC__)
  if (simd) j = radial_row_avx2(lab, rad, row, col0, n, out);
#else
  (void)simd;
#endif
  for (; j < n; ++j) out[j] = rad(lab.at(row, static_cast<double>(j) + col0));
}

}  // namespace

namespace {
// The AVX2 kernel where the CPU has AVX2 and FMA, unless LIBPDF_NO_SIMD is set (to anything): then the portable
// one, which the tests compare with it.
Integrator::Impl::Simd choose_kernel() {
  using Simd = Integrator::Impl::Simd;
  if (std::getenv("LIBPDF_NO_SIMD") != nullptr) return Simd::portable;
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Simd::avx2;
#endif
  return Simd::portable;
}
}  // namespace

void Integrator::Impl::build(const Geometry& g, const Corrections& corr) {
  const auto t0 = std::chrono::steady_clock::now();
  opt.validate();
  rows = g.rows();
  cols = g.cols();
  detail::check_corrections(corr, rows, cols);
  const std::size_t npix = rows * cols;
  if (npix >= (std::size_t{1} << 32)) {
    throw InvalidArgument("cannot build an integration plan for " + std::to_string(rows) + " x " + std::to_string(cols) +
                          " pixels: at most 2^32 - 1 pixels are supported");
  }
  const detail::RadialCalc rad(opt.unit, g.poni());
  const detail::NormCalc normc(opt, g.poni());
  const int nt = detail::thread_count(opt.threads);
  const detail::LabAffine lab(g);
  nchunks = std::min(kChunks, rows);
  const Splitting split = opt.splitting;
  const bool need_chi = opt.azimuth_range_deg.has_value() || split == Splitting::full;
  simd = choose_kernel();
  const bool vec = simd != Simd::portable;  // AVX2 row functions of the plan build
  // χ in [0, 2π) when the azimuth range reaches beyond 180°, else (−π, π].
  const bool chi_positive = opt.azimuth_range_deg && opt.azimuth_range_deg->hi > 180.0;
  auto chi_conv = [&](double c) { return chi_positive && c < 0 ? c + 2 * M_PI : c; };
  double az_lo = 0, az_hi = 0;
  if (opt.azimuth_range_deg) {
    az_lo = opt.azimuth_range_deg->lo * M_PI / 180.0;
    az_hi = opt.azimuth_range_deg->hi * M_PI / 180.0;
  }

  // Corner rows of radial value and χ; corner (i, j) is the lab point at pixel coordinates (i, j).
  auto corner_row = [&](std::size_t i, std::vector<double>& r, std::vector<double>& c) {
    radial_row(lab, rad, static_cast<double>(i), 0.0, cols + 1, r.data(), vec);
    if (need_chi)
      for (std::size_t j = 0; j <= cols; ++j) c[j] = detail::chi_of(lab.at(static_cast<double>(i), static_cast<double>(j)));
  };

  // Geometry of one pixel: centre position, half-width of the bounding box, χ and χ half-width, quad corners.
  struct Pix {
    double pos, d, chi, dchi, n;
    double quad[4][2];
  };
  auto pixel = [&](std::size_t i, std::size_t j, const std::vector<double>& r0, const std::vector<double>& r1,
                   const std::vector<double>& c0, const std::vector<double>& c1, Pix& px, const double* cpos,
                   const double* cn) {
    std::array<double, 3> t{};
    if (!cpos || !cn || need_chi) t = lab.at(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
    px.pos = cpos ? cpos[j] : rad(t);
    px.n = cn ? cn[j] : normc(t);
    const double rc[4] = {r0[j], r1[j], r1[j + 1], r0[j + 1]};
    px.d = 0;
    for (double v : rc) px.d = std::max(px.d, std::fabs(v - px.pos));
    px.chi = 0;
    px.dchi = 0;
    if (need_chi) {
      px.chi = detail::chi_of(t);
      const double cc[4] = {c0[j], c1[j], c1[j + 1], c0[j + 1]};
      for (int k = 0; k < 4; ++k) {
        const double u = detail::unwrap_near(cc[k], px.chi);
        px.dchi = std::max(px.dchi, std::fabs(u - px.chi));
        px.quad[k][0] = rc[k];
        px.quad[k][1] = u;
      }
    }
  };

  // Pass 1: per-pixel geometry (centre position, box half-width, χ, folded normalisation) into temporary arrays,
  // and the radial extent of the statically valid pixels (pyFAI's default range).
  norm.assign(npix, 0.0f);
  std::unique_ptr<double[]> pos(new double[npix]);
  std::unique_ptr<float[]> half(new float[npix]);
  std::unique_ptr<float[]> chi(need_chi ? new float[npix] : nullptr);
  std::unique_ptr<float[]> dchi(need_chi ? new float[npix] : nullptr);
  std::vector<double> cmin(nchunks, std::numeric_limits<double>::infinity());
  std::vector<double> cmax(nchunks, -std::numeric_limits<double>::infinity());
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t c = 0; c < nchunks; ++c) {
    std::vector<double> r0(cols + 1), r1(cols + 1), c0(cols + 1), c1(cols + 1), cpos(cols), cn(cols);
    const std::size_t rb = detail::chunk_row(c, nchunks, rows), re = detail::chunk_row(c + 1, nchunks, rows);
    // The chunk's radial extent in locals, stored once at the end: cmin/cmax of neighbouring chunks share cache
    // lines, and updating them per pixel from two threads made this pass scale 1.2× on 2 threads.
    double lo_c = std::numeric_limits<double>::infinity(), hi_c = -std::numeric_limits<double>::infinity();
    if (split != Splitting::none) corner_row(rb, r0, c0);
    for (std::size_t i = rb; i < re; ++i) {
      if (split != Splitting::none) corner_row(i + 1, r1, c1);
      radial_row(lab, rad, static_cast<double>(i) + 0.5, 0.5, cols, cpos.data(), vec);
      norm_row(lab, normc, static_cast<double>(i) + 0.5, cols, cn.data(), vec);
      for (std::size_t j = 0; j < cols; ++j) {
        const std::size_t p = i * cols + j;
        if (!detail::statically_valid(corr, p)) continue;
        Pix px{};
        if (split == Splitting::none) {
          px.pos = cpos[j];
          px.n = cn[j];
          if (need_chi) px.chi = detail::chi_of(lab.at(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5));
        } else {
          pixel(i, j, r0, r1, c0, c1, px, cpos.data(), cn.data());
        }
        const double n = px.n * (corr.flat.empty() ? 1.0 : static_cast<double>(corr.flat[p]));
        if (!(n > 0) || !std::isfinite(n)) continue;
        norm[p] = static_cast<float>(n);
        pos[p] = px.pos;
        half[p] = static_cast<float>(px.d);
        if (need_chi) {
          chi[p] = static_cast<float>(chi_conv(px.chi));
          dchi[p] = static_cast<float>(px.dchi);
        }
        // Every radial unit is >= 0: a box reaching below zero (pixels at the beam centre) is cut at zero, as
        // the pixel has no area at negative q.
        const double d = static_cast<double>(half[p]);
        lo_c = std::min(lo_c, std::max(px.pos - d, 0.0));
        hi_c = std::max(hi_c, px.pos + d);
      }
      std::swap(r0, r1);
      std::swap(c0, c1);
    }
    cmin[c] = lo_c;
    cmax[c] = hi_c;
  }
  if (opt.radial_range) {
    lo = opt.radial_range->lo;
    hi = opt.radial_range->hi;
  } else {
    lo = *std::min_element(cmin.begin(), cmin.end());
    hi = *std::max_element(cmax.begin(), cmax.end());
    if (!std::isfinite(lo) || !std::isfinite(hi)) {
      throw InvalidArgument("cannot build an integration plan: every pixel is masked (mask, flat <= 0 or NaN dark)");
    }
    lo = std::max(lo, 0.0);
    hi *= kEps32;
  }
  if (!(hi > lo)) {
    throw InvalidArgument("empty radial range [" + std::to_string(lo) + ", " + std::to_string(hi) + "] " +
                          radial_unit_name(opt.unit));
  }
  nb = opt.npt;
  delta = (hi - lo) / static_cast<double>(nb);
  edges.resize(nb + 1);
  radial.resize(nb);
  for (std::size_t b = 0; b <= nb; ++b) edges[b] = lo + delta * static_cast<double>(b);
  edges[nb] = hi;
  for (std::size_t b = 0; b < nb; ++b) radial[b] = lo + delta * (static_cast<double>(b) + 0.5);

  // Pass 2: bins and weights per pixel from the stored geometry, per chunk; static sums per chunk.
  hdr32.assign(npix, static_cast<std::uint32_t>(nb));  // nb: never contributes
  hdr16.clear();
  w.assign(split == Splitting::none ? 0 : 4 * npix + kPad, 0);  // the kernels read 4 slots with 8-byte loads
  std::vector<std::vector<Wide>> cwide(nchunks);
  std::vector<std::vector<std::uint16_t>> cextra(nchunks);
  std::vector<std::size_t> centries(nchunks, 0), cvalid(nchunks, 0);
  std::vector<std::vector<std::int64_t>> ccount(nchunks);
  std::vector<std::vector<double>> cnorm(nchunks), cc2n2(nchunks), cdark(nchunks), cdvar(nchunks);
  std::vector<std::string> errors(nchunks);
  chunk_blo.assign(nchunks, 0);
  chunk_bhi.assign(nchunks, 0);
  const bool azim = opt.error_model == ErrorModel::azimuthal;
  const bool static_dark_sums = !azim && !corr.dark.empty();
  const bool static_dvar_sums = opt.error_model == ErrorModel::poisson && !corr.dark_variance.empty();
  const double inv_delta = 1.0 / delta;
  // The range is closed. Positions here come from the affine lab mapping, which can differ from Geometry's own
  // q_array()/tth_array() in the last bits; a range taken from those arrays (qmax at the detector's edge) must
  // still hold its end pixels, so the ends are widened by a few ulps (nothing else moves: 8ε relative).
  const double edge_tol = 8 * std::numeric_limits<double>::epsilon() * std::max(std::fabs(lo), std::fabs(hi));
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t c = 0; c < nchunks; ++c) {
    std::vector<double> r0, r1, c0, c1;
    if (split == Splitting::full) {
      r0.resize(cols + 1);
      r1.resize(cols + 1);
      c0.resize(cols + 1);
      c1.resize(cols + 1);
    }
    auto& scount = ccount[c];
    auto& snorm = cnorm[c];
    auto& sc2n2 = cc2n2[c];
    scount.assign(nb, 0);
    snorm.assign(nb, 0.0);
    if (azim) sc2n2.assign(nb, 0.0);
    if (static_dark_sums) cdark[c].assign(nb, 0.0);
    if (static_dvar_sums) cdvar[c].assign(nb, 0.0);
    const std::size_t rb = detail::chunk_row(c, nchunks, rows), re = detail::chunk_row(c + 1, nchunks, rows);
    if (split == Splitting::full) corner_row(rb, r0, c0);
    double wt[kMaxBinsPerPixel];
    std::uint32_t q[kMaxBinsPerPixel];
    std::size_t blo = std::numeric_limits<std::size_t>::max(), bhi = 0;
    std::size_t entries = 0, valid_px = 0;  // local: per-pixel writes to shared vectors would false-share
    for (std::size_t i = rb; i < re && errors[c].empty(); ++i) {
      if (split == Splitting::full) corner_row(i + 1, r1, c1);
      for (std::size_t j = 0; j < cols; ++j) {
        const std::size_t p = i * cols + j;
        if (norm[p] == 0.0f) continue;  // statically invalid (pass 1)
        const double pc = pos[p];
        if (opt.azimuth_range_deg) {
          const double ch = static_cast<double>(chi[p]);
          const double dch = split == Splitting::none ? 0.0 : static_cast<double>(dchi[p]);
          if (ch + dch < az_lo || ch - dch > az_hi) {
            norm[p] = 0.0f;
            continue;
          }
        }
        unsigned cnt = 0;
        std::size_t first = 0;
        if (split == Splitting::none) {
          if (pc < lo - edge_tol || pc > hi + edge_tol) {
            norm[p] = 0.0f;
            continue;
          }
          first = std::min(static_cast<std::size_t>(std::max(pc - lo, 0.0) * inv_delta), nb - 1);
          cnt = 1;
          q[0] = kUnit;
        } else {
          const double d = static_cast<double>(half[p]);
          const double a = std::max(pc - d, 0.0), b = pc + d;
          if (b < lo || a > hi) {
            norm[p] = 0.0f;
            continue;
          }
          const bool whole = a >= lo && b <= hi;
          const double ca = std::max(a, lo), cb = std::min(b, hi);
          const std::size_t ia = std::min(static_cast<std::size_t>((ca - lo) * inv_delta), nb - 1);
          const std::size_t ib = std::min(static_cast<std::size_t>((cb - lo) * inv_delta), nb - 1);
          if (ib - ia + 1 > kMaxBinsPerPixel) {
            errors[c] = "pixel (" + std::to_string(i) + ", " + std::to_string(j) + ") spans " +
                        std::to_string(ib - ia + 1) + " bins, more than the " + std::to_string(kMaxBinsPerPixel) + " a plan allows: use fewer bins (npt)";
            break;
          }
          first = ia;
          cnt = static_cast<unsigned>(ib - ia + 1);
          const double width = b - a;
          Pix px{};
          bool use_quad = false;
          double area = 0;
          if (split == Splitting::full && cnt > 1) {
            pixel(i, j, r0, r1, c0, c1, px, nullptr, nullptr);
            area = detail::polygon_area(px.quad, 4);
            // A pixel holding the beam centre has χ all around it: its quad is meaningless, use its box.
            use_quad = px.dchi <= M_PI_2 && area > 0;
          }
          if (!(width > 0)) {
            cnt = 1;
            q[0] = kUnit;
          } else if (cnt == 1) {
            q[0] = whole ? kUnit : static_cast<std::uint32_t>(round_weight((cb - ca) / width * kUnit));
          } else if (!use_quad) {
            // Bounding box: first and last bins get their overlap, interior bins all get Δ/width. Quantised
            // directly, the last weight absorbing the rounding so an in-range pixel sums to exactly kUnit.
            const double wfirst = (edges[ia + 1] - ca) / width;
            const double wmid = delta / width;
            const double wlast = (cb - edges[ib]) / width;
            const auto qf = round_weight(wfirst * kUnit);
            const auto qm = round_weight(wmid * kUnit);
            std::int64_t ql = whole ? static_cast<std::int64_t>(kUnit) - qf - qm * (cnt - 2)
                                    : round_weight(wlast * kUnit);
            ql = std::clamp<std::int64_t>(ql, 0, kUnit);
            q[0] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(qf, 0, kUnit));
            for (unsigned k = 1; k + 1 < cnt; ++k) q[k] = static_cast<std::uint32_t>(std::clamp<std::int64_t>(qm, 0, kUnit));
            q[cnt - 1] = static_cast<std::uint32_t>(ql);
          } else {
            double prev = ca <= a ? 0.0 : detail::area_below(px.quad, ca);
            for (unsigned k = 0; k < cnt; ++k) {
              const double e1 = std::min(edges[ia + k + 1], cb);
              const double cur = e1 >= b ? area : detail::area_below(px.quad, e1);
              wt[k] = std::max(cur - prev, 0.0) / area;
              prev = cur;
            }
            quantize(wt, cnt, whole, q);
          }
        }
        hdr32[p] = static_cast<std::uint32_t>(first) | (cnt > 4 ? 0x80000000u : 0u);
        entries += cnt;
        valid_px += 1;
        // Accumulator lines the kernels write: first, first + 4, ... (Impl::arrays).
        blo = std::min(blo, first);
        bhi = std::max(bhi, first + ((cnt - 1) & ~(static_cast<unsigned>(kLineBins) - 1)) + 1);
        const double nf = static_cast<double>(norm[p]);  // the stored value, so static sums match what is removed
        if (split != Splitting::none) {
          std::uint16_t* slot = w.data() + 4 * p;
          if (cnt <= 4) {
            for (unsigned k = 0; k < cnt; ++k) slot[k] = static_cast<std::uint16_t>(q[k]);
          } else if (split == Splitting::bbox) {
            slot[0] = static_cast<std::uint16_t>(q[0]);
            slot[1] = static_cast<std::uint16_t>(q[1]);
            slot[2] = static_cast<std::uint16_t>(q[cnt - 1]);
            slot[3] = static_cast<std::uint16_t>(cnt);  // <= kMaxBinsPerPixel
          } else {
            cwide[c].push_back({static_cast<std::uint32_t>(p), cnt, cextra[c].size()});
            for (unsigned k = 0; k < 4; ++k) slot[k] = static_cast<std::uint16_t>(q[k]);
            for (unsigned k = 4; k < cnt; ++k) cextra[c].push_back(static_cast<std::uint16_t>(q[k]));
          }
        }
        for (unsigned k = 0; k < cnt; ++k) {
          const double cf = q[k] * kInvUnit;
          scount[first + k] += q[k];
          snorm[first + k] += cf * nf;
          if (azim) sc2n2[first + k] += cf * cf * nf * nf;
          if (static_dark_sums) cdark[c][first + k] += cf * static_cast<double>(corr.dark[p]);
          if (static_dvar_sums) cdvar[c][first + k] += cf * cf * static_cast<double>(corr.dark_variance[p]);
        }
      }
      if (split == Splitting::full) {
        std::swap(r0, r1);
        std::swap(c0, c1);
      }
    }
    if (bhi > 0) {
      chunk_blo[c] = blo;
      chunk_bhi[c] = bhi;
    }
    centries[c] = entries;
    cvalid[c] = valid_px;
  }
  for (const auto& e : errors)
    if (!e.empty()) throw InvalidArgument("cannot build the integration plan: " + e);

  chunk_wide.assign(nchunks + 1, 0);
  wide.clear();
  extra.clear();
  for (std::size_t c = 0; c < nchunks; ++c) {
    for (Wide wd : cwide[c]) {
      wd.extra += extra.size();
      wide.push_back(wd);
    }
    extra.insert(extra.end(), cextra[c].begin(), cextra[c].end());
    chunk_wide[c + 1] = wide.size();
  }
  extra.resize(extra.size() + kPad, 0);  // the kernel reads the extra weights 4 at a time
  // Headers in 16 bits when every bin index and the spare line nb fit below the wide bit.
  if (nb < 0x8000u) {
    hdr16.resize(npix);
    for (std::size_t k = 0; k < npix; ++k) {
      const std::uint32_t h = hdr32[k];
      hdr16[k] = static_cast<std::uint16_t>((h & 0x7FFFFFFFu) | (h & 0x80000000u ? 0x8000u : 0u));
    }
    std::vector<std::uint32_t>().swap(hdr32);
  }
  static_count.assign(nb, 0);
  static_norm.assign(nb, 0.0);
  if (azim) static_c2n2.assign(nb, 0.0);
  if (static_dark_sums) static_dark.assign(nb, 0.0);
  if (static_dvar_sums) static_c2dvar.assign(nb, 0.0);
  for (std::size_t c = 0; c < nchunks; ++c)
    for (std::size_t b = 0; b < nb; ++b) {
      static_count[b] += ccount[c][b];
      static_norm[b] += cnorm[c][b];
      if (azim) static_c2n2[b] += cc2n2[c][b];
      if (static_dark_sums) static_dark[b] += cdark[c][b];
      if (static_dvar_sums) static_c2dvar[b] += cdvar[c][b];
    }
  stats.pixels = npix;
  stats.valid_pixels = 0;
  stats.entries = 0;
  for (std::size_t c = 0; c < nchunks; ++c) {
    stats.valid_pixels += cvalid[c];
    stats.entries += centries[c];
  }
  if (stats.valid_pixels == 0) {
    throw InvalidArgument("cannot build an integration plan: no pixel reaches the radial range [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "] " + radial_unit_name(opt.unit) +
                          " (check the range, the azimuth range and the mask)");
  }
  if (!corr.dark.empty()) dark = corr.dark;
  if (!corr.dark_variance.empty()) dark_var = corr.dark_variance;
  stats.plan_bytes = hdr16.size() * sizeof(std::uint16_t) + hdr32.size() * sizeof(std::uint32_t) +
                     w.size() * sizeof(std::uint16_t) + wide.size() * sizeof(Wide) + extra.size() * sizeof(std::uint16_t) +
                     norm.size() * sizeof(float) + nb * (sizeof(std::int64_t) + 2 * sizeof(double));
  stats.correction_bytes = (dark.size() + dark_var.size()) * sizeof(float);
  stats.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  detail::logger().debug("integration plan: {} x {} pixels, {} bins, {} entries, {:.2f} B/pixel, built in {:.3f} s", rows,
                         cols, nb, stats.entries, static_cast<double>(stats.plan_bytes) / static_cast<double>(npix),
                         stats.build_seconds);
}

namespace {

// The per-chunk kernel (portable version): accumulate the frame's valid pixels into the chunk's lines.
template <class T, Splitting S, ErrorModel E, bool HasDark>
void accumulate(const Integrator::Impl& P, std::size_t c, const T* frame, const detail::Validity<T>& valid,
                const std::uint8_t* reject, double* acc, std::vector<std::size_t>& invalid) {
  const std::size_t pb = detail::chunk_row(c, P.nchunks, P.rows) * P.cols;
  const std::size_t pe = detail::chunk_row(c + 1, P.nchunks, P.rows) * P.cols;
  const Wide* wd = P.wide.data() + P.chunk_wide[c];
  const float* dark = HasDark ? P.dark.data() : nullptr;
  const float* norm = P.norm.data();
  const std::size_t ld = P.line_doubles();
  const std::uint32_t wide_bit = P.wide_bit();
  for (std::size_t p = pb; p < pe; ++p) {
    const std::uint32_t h = P.header(p);
    if (h == P.nb) continue;
    const Wide* mine = (h & wide_bit) && S == Splitting::full ? wd++ : nullptr;
    const T raw = frame[p];
    if (!valid(raw) || (reject && reject[p])) {
      invalid.push_back(p);
      continue;
    }
    const double r = static_cast<double>(raw);
    const double x = HasDark ? r - static_cast<double>(dark[p]) : r;
    const double v = E == ErrorModel::poisson ? std::max(r, 1.0) : x * x;
    double xn = 0;
    if constexpr (E == ErrorModel::azimuthal) xn = x * static_cast<double>(norm[p]);
    const std::size_t b0 = h & ~wide_bit;
    double* const first = acc + b0 * ld;
    // Bin b0 + k: line b0 + 4·⌊k/4⌋, slot k mod 4.
    P.for_each_weight(p, mine, [&](std::size_t b, std::uint32_t wq) {
      const std::size_t k = b - b0;
      double* a = first + (k / kLineBins) * kLineBins * ld + k % kLineBins;
      const double cf = wq * kInvUnit;
      a[0] += cf * x;
      if constexpr (E != ErrorModel::none) a[kLineBins] += cf * cf * v;
      if constexpr (E == ErrorModel::azimuthal) a[2 * kLineBins] += cf * cf * xn;
    });
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
constexpr double kInv2 = kInvUnit * kInvUnit;

// The vector kernel (AVX2 + FMA, chosen at run time: the library itself is built for baseline x86-64).
#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif

// Four frame values as doubles (exactly static_cast<double> of each).
template <class T>
inline __m256d load4(const T* f) {
  if constexpr (std::is_same_v<T, std::uint16_t>) {
    return _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(f))));
  } else if constexpr (std::is_same_v<T, std::int16_t>) {
    return _mm256_cvtepi32_pd(_mm_cvtepi16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(f))));
  } else if constexpr (std::is_same_v<T, std::int32_t>) {
    return _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(f)));
  } else if constexpr (std::is_same_v<T, std::uint32_t>) {
    // x − 2³¹ as a signed value, converted, plus 2³¹: exact.
    const __m128i s = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(f)), _mm_set1_epi32(INT32_MIN));
    return _mm256_add_pd(_mm256_cvtepi32_pd(s), _mm256_set1_pd(2147483648.0));
  } else if constexpr (std::is_same_v<T, float>) {
    return _mm256_cvtps_pd(_mm_loadu_ps(f));
  } else {
    return _mm256_loadu_pd(f);
  }
}

// What the vector kernels' per-pixel paths read; H is the plan's header type (16 or 32 bits).
template <class T, class H>
struct VecCtx {
  const T* frame;
  const H* hdr;
  const std::uint16_t* w;
  const std::uint16_t* extra;
  const std::uint8_t* reject;  // nullptr: none
  double* acc;  // the chunk's lines
  std::uint32_t trash;  // header of a pixel that never contributes (= nb)
  detail::Validity<T> valid;
  std::vector<std::size_t>* invalid;
};

template <class H>
constexpr std::uint32_t kWideBit = std::uint32_t{1} << (8 * sizeof(H) - 1);

// Line width in doubles of the vector kernels (Poisson: Σc·x and Σc²·var; no error model: Σc·x).
template <ErrorModel E>
constexpr std::size_t kLine = E == ErrorModel::poisson ? 2 * kLineBins : kLineBins;

// Pixel p's four weight slots as doubles (none: the whole pixel in its first bin).
template <Splitting S>
__attribute__((always_inline)) inline __m256d slots4(const std::uint16_t* w, std::size_t p) {
  if constexpr (S == Splitting::none) {
    (void)w, (void)p;
    return _mm256_set_pd(0.0, 0.0, 0.0, static_cast<double>(kUnit));
  } else {
    return _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + 4 * p))));
  }
}

// Adds q·xs and q²·vs to line a (one FMA per element), AVX2.
template <ErrorModel E>
__attribute__((always_inline)) inline void add_line_avx2(double* a, __m256d q, const double* xs, const double* vs) {
  _mm256_store_pd(a, _mm256_fmadd_pd(q, _mm256_broadcast_sd(xs), _mm256_load_pd(a)));
  if constexpr (E == ErrorModel::poisson) {
    _mm256_store_pd(a + kLineBins,
                    _mm256_fmadd_pd(_mm256_mul_pd(q, q), _mm256_broadcast_sd(vs), _mm256_load_pd(a + kLineBins)));
  }
}

// A wide pixel's bins 4m .. 4m+3 go to line first + 4m, weights 0 beyond its count. bbox: slots [first,
// interior, last, count]; full: its first four weights, the others at `more`.
template <ErrorModel E>
__attribute__((always_inline)) inline void add_wide_bbox(double* first, const std::uint16_t* s, const double* xs,
                                                         const double* vs) {
  const unsigned cnt = s[3];
  const __m256d step = _mm256_set_pd(3.0, 2.0, 1.0, 0.0), zero = _mm256_setzero_pd();
  const __m256d last_bin = _mm256_set1_pd(static_cast<double>(cnt - 1));
  const __m256d mid = _mm256_set1_pd(s[1]), last = _mm256_set1_pd(s[2]);
  // Line 0: first, interior, interior, interior (a wide pixel reaches more than 4 bins).
  add_line_avx2<E>(first, _mm256_set_pd(s[1], s[1], s[1], s[0]), xs, vs);
  for (unsigned m = 4; m < cnt; m += 4) {
    const __m256d bin = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(m)), step);
    __m256d q = _mm256_blendv_pd(zero, mid, _mm256_cmp_pd(bin, last_bin, _CMP_LT_OQ));
    q = _mm256_blendv_pd(q, last, _mm256_cmp_pd(bin, last_bin, _CMP_EQ_OQ));
    add_line_avx2<E>(first + m * kLine<E>, q, xs, vs);
  }
}

template <ErrorModel E>
inline void add_wide_full(double* first, const std::uint16_t* s, const std::uint16_t* more, unsigned cnt,
                          const double* xs, const double* vs) {
  const __m256d step = _mm256_set_pd(3.0, 2.0, 1.0, 0.0), n = _mm256_set1_pd(static_cast<double>(cnt));
  for (unsigned m = 0; m < cnt; m += 4) {
    const std::uint16_t* src = m == 0 ? s : more + (m - 4);
    __m256d q = _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(src))));
    const __m256d bin = _mm256_add_pd(_mm256_set1_pd(static_cast<double>(m)), step);
    q = _mm256_and_pd(q, _mm256_cmp_pd(bin, n, _CMP_LT_OQ));  // the next pixel's weights are not this one's
    add_line_avx2<E>(first + m * kLine<E>, q, xs, vs);
  }
}

// Any pixel, alone (groups with an invalid value or a rejected pixel, wide pixels of full splitting, the ends
// of a chunk). `wd` is the chunk's cursor over its listed wide pixels (full splitting), advanced past this pixel
// if it is one. Per element the same FMA as the grouped path, so a pixel adds the same numbers whichever path
// takes it.
template <class T, class H, Splitting S, ErrorModel E>
__attribute__((noinline)) void add_single(const VecCtx<T, H>& k, std::size_t p, const Wide*& wd) {
  const std::uint32_t h = k.hdr[p];
  if (h == k.trash) return;
  const bool is_wide = (h & kWideBit<H>) != 0;
  const Wide* mine = is_wide && S == Splitting::full ? wd++ : nullptr;
  const T raw = k.frame[p];
  if (!k.valid(raw) || (k.reject && k.reject[p])) {
    k.invalid->push_back(p);
    return;
  }
  const double x = static_cast<double>(raw);
  const double xs = x * kInvUnit;
  const double vs = std::max(x, 1.0) * kInv2;
  double* const first = k.acc + static_cast<std::size_t>(h & ~kWideBit<H>) * kLine<E>;
  if (!is_wide) return add_line_avx2<E>(first, slots4<S>(k.w, p), &xs, &vs);
  if constexpr (S == Splitting::bbox) {
    add_wide_bbox<E>(first, k.w + 4 * p, &xs, &vs);
  } else if constexpr (S == Splitting::full) {
    add_wide_full<E>(first, k.w + 4 * p, k.extra + mine->extra, mine->cnt, &xs, &vs);
  }
}

// Which of four pixels must go alone: an invalid value (NaN/Inf, detector marker, dummy) or a rejected pixel
// anywhere in the group (bit 4: all four), or a wide pixel (bits 0-3).
template <class T, class H>
__attribute__((always_inline)) inline unsigned group_check(const VecCtx<T, H>& k, std::size_t p, __m256d X,
                                                           __m256d marker) {
  int bad;
  if constexpr (std::is_floating_point_v<T>) {
    bad = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_sub_pd(X, X), _mm256_setzero_pd(), _CMP_NEQ_UQ));  // NaN, Inf
  } else {
    bad = _mm256_movemask_pd(_mm256_cmp_pd(X, marker, _CMP_EQ_OQ));
  }
  if (k.valid.use_dummy) {
    // Branch-free on purpose: ints, so that no compiler reads | as a mistaken ||.
    bad |= static_cast<int>(!k.valid(k.frame[p])) | static_cast<int>(!k.valid(k.frame[p + 1])) |
           static_cast<int>(!k.valid(k.frame[p + 2])) | static_cast<int>(!k.valid(k.frame[p + 3]));
  }
  if (k.reject) {
    std::uint32_t r;
    std::memcpy(&r, k.reject + p, 4);
    bad |= r != 0;
  }
  unsigned wide = 0;
  if constexpr (sizeof(H) == 2) {
    std::uint64_t h4;
    std::memcpy(&h4, k.hdr + p, 8);
    h4 &= 0x8000800080008000ull;
    if (__builtin_expect(h4 != 0, 0)) {  // rare: spell out which
      wide = static_cast<unsigned>(((h4 >> 15) & 1) | ((h4 >> 30) & 2) | ((h4 >> 45) & 4) | ((h4 >> 60) & 8));
    }
  } else {
    wide = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(k.hdr + p)))));
  }
  return (bad ? 16u : 0u) | wide;
}


// The vector kernel of one chunk. Pixels go in groups of four: one test per group sends a group holding an invalid
// value or a rejected pixel to the per-pixel path, and a wide pixel alone. Any other pixel adds its four slot
// weights q (0 beyond its bins; 0 for a pixel that never contributes, whose line is the spare one) to its line
// as q·x/65535 and q²·max(x, 1)/65535² (q² exact in double): two 32-byte read-add-writes of one 64-byte line,
// with no branch and no decoding per pixel.
template <class T, class H, Splitting S, ErrorModel E>
void accumulate_vec(const Integrator::Impl& P, std::size_t c, const T* frame, const detail::Validity<T>& validity,
                    const std::uint8_t* reject, double* acc, std::vector<std::size_t>& invalid) {
  static_assert(E != ErrorModel::azimuthal, "the vector kernels serve the Poisson and no error models");
  const std::size_t pb = detail::chunk_row(c, P.nchunks, P.rows) * P.cols;
  const std::size_t pe = detail::chunk_row(c + 1, P.nchunks, P.rows) * P.cols;
  const H* hdr;
  if constexpr (sizeof(H) == 2) {
    hdr = P.hdr16.data();
  } else {
    hdr = P.hdr32.data();
  }
  VecCtx<T, H> k{frame, hdr, P.w.data(), P.extra.data(), reject, acc, static_cast<std::uint32_t>(P.nb), validity,
                 &invalid};
  const Wide* wd = P.wide.data() + P.chunk_wide[c];
  const std::uint16_t* w = k.w;
  std::size_t p = pb;
  const __m256d inv = _mm256_set1_pd(kInvUnit), inv2 = _mm256_set1_pd(kInv2), one = _mm256_set1_pd(1.0);
  // Integer markers compared as doubles (exact); NaN never compares equal, so no marker = NaN.
  const __m256d marker = _mm256_set1_pd(std::is_integral_v<T> && validity.use_marker
                                            ? static_cast<double>(validity.marker)
                                            : std::numeric_limits<double>::quiet_NaN());
  alignas(32) double xs[4], vs[4];
  for (; p + 4 <= pe; p += 4) {
    const __m256d X = load4(frame + p);
    const unsigned check = group_check(k, p, X, marker);
    if (__builtin_expect(check & 16u, 0)) {  // an invalid or rejected value: every pixel alone
      for (std::size_t i = 0; i < 4; ++i) add_single<T, H, S, E>(k, p + i, wd);
      continue;
    }
    _mm256_store_pd(xs, _mm256_mul_pd(X, inv));
    _mm256_store_pd(vs, _mm256_mul_pd(_mm256_max_pd(X, one), inv2));
    auto add = [&](std::size_t i) {
      add_line_avx2<E>(acc + static_cast<std::size_t>(hdr[p + i]) * kLine<E>, slots4<S>(w, p + i),
                       xs + i, vs + i);
    };
    if (__builtin_expect(check != 0, 0)) {  // a wide pixel: it alone
      for (std::size_t i = 0; i < 4; ++i) {
        if (!((check >> i) & 1u)) {
          add(i);
        } else if constexpr (S == Splitting::bbox) {
          add_wide_bbox<E>(acc + static_cast<std::size_t>(hdr[p + i] & ~kWideBit<H>) * kLine<E>,
                           w + 4 * (p + i), xs + i, vs + i);
        } else {
          add_single<T, H, S, E>(k, p + i, wd);
        }
      }
      continue;
    }
    add(0);
    add(1);
    add(2);
    add(3);
  }
  for (; p < pe; ++p) add_single<T, H, S, E>(k, p, wd);
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif
#endif

template <class T>
void dispatch_kernel(const Integrator::Impl& P, std::size_t c, const ImageView& f, const std::uint8_t* reject,
                     double* acc, std::vector<std::size_t>& invalid) {
  const T* frame = f.as<T>();
  const detail::Validity<T> valid(P.opt);
  const Splitting sp = P.opt.splitting;
  const ErrorModel em = P.opt.error_model;
#if defined(__x86_64__) && defined(__GNUC__)
  if (P.simd != Integrator::Impl::Simd::portable && em != ErrorModel::azimuthal) {
    const bool small = !P.hdr16.empty();
    auto go = [&](auto stag, auto etag) {
      constexpr Splitting S = decltype(stag)::value;
      constexpr ErrorModel E = decltype(etag)::value;
      using H16 = std::uint16_t;
      using H32 = std::uint32_t;
      if (small) return accumulate_vec<T, H16, S, E>(P, c, frame, valid, reject, acc, invalid);
      return accumulate_vec<T, H32, S, E>(P, c, frame, valid, reject, acc, invalid);
    };
    using poisson = std::integral_constant<ErrorModel, ErrorModel::poisson>;
    using plain = std::integral_constant<ErrorModel, ErrorModel::none>;
    using none = std::integral_constant<Splitting, Splitting::none>;
    using bbox = std::integral_constant<Splitting, Splitting::bbox>;
    using full = std::integral_constant<Splitting, Splitting::full>;
    const bool pois = em == ErrorModel::poisson;
    if (sp == Splitting::bbox) return pois ? go(bbox{}, poisson{}) : go(bbox{}, plain{});
    if (sp == Splitting::full) return pois ? go(full{}, poisson{}) : go(full{}, plain{});
    return pois ? go(none{}, poisson{}) : go(none{}, plain{});
  }
#endif
  // The dark enters the kernel only for the azimuthal model; the others subtract its static sum Σc·dark.
  const bool dark = em == ErrorModel::azimuthal && !P.dark.empty();
#define LIBPDF_K(S, E)                                                                      \
  if (sp == S && em == E) {                                                                \
    if (dark) accumulate<T, S, E, true>(P, c, frame, valid, reject, acc, invalid);          \
    else accumulate<T, S, E, false>(P, c, frame, valid, reject, acc, invalid);              \
    return;                                                                                 \
  }
  LIBPDF_K(Splitting::none, ErrorModel::none)
  LIBPDF_K(Splitting::none, ErrorModel::poisson)
  LIBPDF_K(Splitting::none, ErrorModel::azimuthal)
  LIBPDF_K(Splitting::bbox, ErrorModel::none)
  LIBPDF_K(Splitting::bbox, ErrorModel::poisson)
  LIBPDF_K(Splitting::bbox, ErrorModel::azimuthal)
  LIBPDF_K(Splitting::full, ErrorModel::none)
  LIBPDF_K(Splitting::full, ErrorModel::poisson)
  LIBPDF_K(Splitting::full, ErrorModel::azimuthal)
#undef LIBPDF_K
}

void check_frame(const ImageView& f, std::size_t rows, std::size_t cols) {
  if (f.data == nullptr) throw InvalidArgument("integrate: the frame has no data (null pointer)");
  if (f.rows != rows || f.cols != cols) {
    throw InvalidArgument("integrate: the frame is " + std::to_string(f.rows) + " x " + std::to_string(f.cols) +
                          " but the plan was built for " + std::to_string(rows) + " x " + std::to_string(cols));
  }
}

}  // namespace

Result1D Integrator::Impl::run(const std::vector<ImageView>& frames, bool summed, const std::uint8_t* reject) const {
  if (frames.empty()) throw InvalidArgument("integrate: no frames given");
  for (const auto& f : frames) check_frame(f, rows, cols);
  auto ws = acquire();
  const std::size_t cd = chunk_doubles();
  const std::size_t ld = line_doubles();
  const int nt = detail::thread_count(opt.threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t c = 0; c < nchunks; ++c) {
    double* acc = ws->acc.get() + c * cd;
    // Only the lines this chunk's pixels reach are cleared and summed.
    const std::size_t from = chunk_blo[c] * ld, to = chunk_bhi[c] * ld;
    std::fill(acc + from, acc + to, 0.0);
    std::fill(acc + nb * ld, acc + cd, 0.0);  // the spare line (pixels that never add)
    ws->invalid[c].clear();
    for (const auto& f : frames) {
      switch (f.type) {
        case PixelType::u16: dispatch_kernel<std::uint16_t>(*this, c, f, reject, acc, ws->invalid[c]); break;
        case PixelType::i16: dispatch_kernel<std::int16_t>(*this, c, f, reject, acc, ws->invalid[c]); break;
        case PixelType::u32: dispatch_kernel<std::uint32_t>(*this, c, f, reject, acc, ws->invalid[c]); break;
        case PixelType::i32: dispatch_kernel<std::int32_t>(*this, c, f, reject, acc, ws->invalid[c]); break;
        case PixelType::f32: dispatch_kernel<float>(*this, c, f, reject, acc, ws->invalid[c]); break;
        case PixelType::f64: dispatch_kernel<double>(*this, c, f, reject, acc, ws->invalid[c]); break;
      }
    }
  }
  Result1D r;
  r.unit = opt.unit;
  r.error_model = opt.error_model;
  r.radial = radial;
  r.radial_edges = edges;
  r.frames = frames.size();
  r.summed = summed;
  r.empty = opt.empty;
  r.sum_signal.assign(nb, 0.0);
  r.sum_variance.assign(nb, 0.0);
  const bool azim = opt.error_model == ErrorModel::azimuthal;
  const bool poisson = opt.error_model == ErrorModel::poisson;
  std::vector<double> s2(azim ? nb : 0), snv(azim ? nb : 0);
  // Bin b of a chunk: slot b − line of lines b−3 .. b, in chunk order and line order.
  for (std::size_t c = 0; c < nchunks; ++c) {
    const double* acc = ws->acc.get() + c * cd;
    for (std::size_t line = chunk_blo[c]; line < chunk_bhi[c]; ++line) {
      const double* a = acc + line * ld;
      const std::size_t n = std::min(kLineBins, nb - line);
      for (std::size_t k = 0; k < n; ++k) r.sum_signal[line + k] += a[k];
      if (poisson) {
        for (std::size_t k = 0; k < n; ++k) r.sum_variance[line + k] += a[kLineBins + k];
      } else if (azim) {
        for (std::size_t k = 0; k < n; ++k) s2[line + k] += a[kLineBins + k];
        for (std::size_t k = 0; k < n; ++k) snv[line + k] += a[2 * kLineBins + k];
      }
    }
  }
  // Remove the static contributions of pixels found invalid in these frames, in chunk order.
  const double nf = static_cast<double>(frames.size());
  std::vector<std::int64_t> cnt(nb);
  r.sum_normalization.resize(nb);
  std::vector<double> c2n2(azim ? nb : 0);
  for (std::size_t b = 0; b < nb; ++b) {
    cnt[b] = static_count[b] * static_cast<std::int64_t>(frames.size());
    r.sum_normalization[b] = nf * static_norm[b];
    if (azim) c2n2[b] = nf * static_c2n2[b];
    if (!static_dark.empty()) r.sum_signal[b] -= nf * static_dark[b];
    if (!static_c2dvar.empty()) r.sum_variance[b] += nf * static_c2dvar[b];
  }
  for (std::size_t c = 0; c < nchunks; ++c) {
    for (const std::size_t px : ws->invalid[c]) {
      const double n = static_cast<double>(norm[px]);
      const double d = static_dark.empty() ? 0.0 : static_cast<double>(dark[px]);
      const double dv = static_c2dvar.empty() ? 0.0 : static_cast<double>(dark_var[px]);
      for_each_weight(px, nullptr, [&](std::size_t b, std::uint32_t wq) {
        const double cf = wq * kInvUnit;
        cnt[b] -= wq;
        r.sum_normalization[b] -= cf * n;
        if (azim) c2n2[b] -= cf * cf * n * n;
        r.sum_signal[b] += cf * d;       // its dark was subtracted with the static sum
        r.sum_variance[b] -= cf * cf * dv;
      });
    }
  }
  release(std::move(ws));
  r.count.resize(nb);
  bool any = false;
  for (std::size_t b = 0; b < nb; ++b) {
    r.count[b] = static_cast<double>(cnt[b]) * kInvUnit;
    if (cnt[b] <= 0) {
      // Exactly empty (integer weights): no rounding residue can pose as data.
      r.count[b] = 0;
      r.sum_normalization[b] = 0;
      r.sum_signal[b] = 0;
      r.sum_variance[b] = 0;
      continue;
    }
    any = true;
    if (azim) {
      const double mean = r.sum_signal[b] / r.sum_normalization[b];
      r.sum_variance[b] = std::max(s2[b] - 2 * mean * snv[b] + mean * mean * c2n2[b], 0.0);
    }
  }
  if (!any) {
    throw NumericalError("integrate: every pixel of the frame is invalid (masked, NaN/Inf, dummy value or detector "
                         "marker); nothing to integrate");
  }
  detail::finish_result(r);
  return r;
}

Integrator::Integrator(const Geometry& geometry, const IntegrationOptions& options, const Corrections& corrections)
    : impl_(std::make_unique<Impl>()) {
  impl_->opt = options;
  impl_->build(geometry, corrections);
}
Integrator::~Integrator() = default;
Integrator::Integrator(Integrator&&) noexcept = default;
Integrator& Integrator::operator=(Integrator&&) noexcept = default;

Result1D Integrator::integrate(const ImageView& frame) const { return impl_->run({frame}, false, nullptr); }

Result1D Integrator::integrate(const std::vector<ImageView>& frames, FrameCombine combine) const {
  return impl_->run(frames, combine == FrameCombine::sum, nullptr);
}

namespace {
template <class T>
void clip_values(const Integrator::Impl& P, const ImageView& f, std::vector<float>& x, std::vector<std::int32_t>& main_bin) {
  const T* frame = f.as<T>();
  const detail::Validity<T> valid(P.opt);
  const int nt = detail::thread_count(P.opt.threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t c = 0; c < P.nchunks; ++c) {
    const std::size_t pb = detail::chunk_row(c, P.nchunks, P.rows) * P.cols;
    const std::size_t pe = detail::chunk_row(c + 1, P.nchunks, P.rows) * P.cols;
    const Wide* wd = P.wide.data() + P.chunk_wide[c];
    for (std::size_t p = pb; p < pe; ++p) {
      const std::uint32_t h = P.header(p);
      if (h == P.nb) continue;
      const Wide* mine = (h & P.wide_bit()) && P.opt.splitting == Splitting::full ? wd++ : nullptr;
      std::size_t best = 0;
      std::uint32_t best_w = 0;
      P.for_each_weight(p, mine, [&](std::size_t b, std::uint32_t wq) {
        if (wq > best_w) {
          best_w = wq;
          best = b;
        }
      });
      if (!valid(frame[p]) || best_w == 0) continue;
      const double s = static_cast<double>(frame[p]) - (P.dark.empty() ? 0.0 : static_cast<double>(P.dark[p]));
      x[p] = static_cast<float>(s / static_cast<double>(P.norm[p]));
      main_bin[p] = static_cast<std::int32_t>(best);
    }
  }
}
}  // namespace

Result1D Integrator::sigma_clip(const ImageView& frame, const SigmaClipOptions& clip) const {
  if (!(clip.threshold > 0) || !std::isfinite(clip.threshold) || clip.max_iterations < 1) {
    throw InvalidArgument("sigma_clip: threshold = " + std::to_string(clip.threshold) + ", max_iterations = " +
                          std::to_string(clip.max_iterations) + " (expected threshold > 0 and max_iterations >= 1)");
  }
  const Impl& P = *impl_;
  check_frame(frame, P.rows, P.cols);
  const std::size_t npix = P.rows * P.cols;
  std::vector<float> x(npix, 0.0f);
  std::vector<std::int32_t> main_bin(npix, -1);
  switch (frame.type) {
    case PixelType::u16: clip_values<std::uint16_t>(P, frame, x, main_bin); break;
    case PixelType::i16: clip_values<std::int16_t>(P, frame, x, main_bin); break;
    case PixelType::u32: clip_values<std::uint32_t>(P, frame, x, main_bin); break;
    case PixelType::i32: clip_values<std::int32_t>(P, frame, x, main_bin); break;
    case PixelType::f32: clip_values<float>(P, frame, x, main_bin); break;
    case PixelType::f64: clip_values<double>(P, frame, x, main_bin); break;
  }
  // Each pixel is judged in its main bin (largest weight) against the unweighted mean and standard deviation of
  // the surviving normalised values there; repeat until nothing more is rejected.
  std::vector<std::uint8_t> reject(npix, 0);
  std::vector<double> n(P.nb), sx(P.nb), sxx(P.nb);
  std::size_t rejected = 0;
  for (int it = 0; it < clip.max_iterations; ++it) {
    std::fill(n.begin(), n.end(), 0.0);
    std::fill(sx.begin(), sx.end(), 0.0);
    std::fill(sxx.begin(), sxx.end(), 0.0);
    for (std::size_t p = 0; p < npix; ++p) {
      if (main_bin[p] < 0 || reject[p]) continue;
      const auto b = static_cast<std::size_t>(main_bin[p]);
      const double v = x[p];
      n[b] += 1;
      sx[b] += v;
      sxx[b] += v * v;
    }
    std::size_t newly = 0;
    for (std::size_t p = 0; p < npix; ++p) {
      if (main_bin[p] < 0 || reject[p]) continue;
      const auto b = static_cast<std::size_t>(main_bin[p]);
      if (n[b] < 3) continue;  // too few pixels to estimate a spread
      const double mean = sx[b] / n[b];
      const double sd = std::sqrt(std::max(sxx[b] / n[b] - mean * mean, 0.0));
      if (std::fabs(x[p] - mean) > clip.threshold * sd && sd > 0) {
        reject[p] = 1;
        ++newly;
      }
    }
    rejected += newly;
    if (newly == 0) break;
  }
  Result1D r = P.run({frame}, false, reject.data());
  r.rejected_pixels = rejected;
  return r;
}

std::size_t Integrator::rows() const { return impl_->rows; }
std::size_t Integrator::cols() const { return impl_->cols; }
const IntegrationOptions& Integrator::options() const { return impl_->opt; }
const std::vector<double>& Integrator::radial() const { return impl_->radial; }
const std::vector<double>& Integrator::radial_edges() const { return impl_->edges; }
PlanStats Integrator::stats() const { return impl_->stats; }

std::vector<std::pair<std::size_t, double>> Integrator::pixel_weights(std::size_t row, std::size_t col) const {
  const Impl& P = *impl_;
  if (row >= P.rows || col >= P.cols) {
    throw InvalidArgument("pixel_weights: pixel (" + std::to_string(row) + ", " + std::to_string(col) +
                          ") is outside the " + std::to_string(P.rows) + " x " + std::to_string(P.cols) + " detector");
  }
  std::vector<std::pair<std::size_t, double>> out;
  P.for_each_weight(row * P.cols + col, nullptr, [&](std::size_t b, std::uint32_t wq) { out.emplace_back(b, wq * kInvUnit); });
  return out;
}

double Integrator::pixel_normalization(std::size_t row, std::size_t col) const {
  const Impl& P = *impl_;
  if (row >= P.rows || col >= P.cols) {
    throw InvalidArgument("pixel_normalization: pixel (" + std::to_string(row) + ", " + std::to_string(col) +
                          ") is outside the detector");
  }
  return static_cast<double>(P.norm[row * P.cols + col]);
}

}  // namespace libpdf
