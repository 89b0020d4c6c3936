// The 1D integration plan and its per-frame kernel. Layout and reasons: docs/integration.md.
//
// The plan is pixel-major, in the frame's memory order. Per pixel a 32-bit header holds the first bin (low 24
// bits) and the number of bins the pixel reaches (high 8 bits; 0 = the pixel never contributes). Splitting
// weights follow in one stream of 16-bit fixed-point numbers (unit = 1/65535): none stores no weight (always 1),
// bbox stores at most three (first, interior, last — the interior weights of a bounding box are all equal),
// full stores one per bin. Fixed point lets the weights of an in-range pixel sum to exactly 65535, so splitting
// conserves counts exactly, and keeps the plan near 10-14 bytes per pixel: the kernel is bandwidth-bound.
//
// Static sums Σc and Σc·n per bin are computed once; a frame adds only Σc·s and Σc²·var. Pixels that turn out
// invalid in a frame (NaN, dummy, detector marker, sigma-clipped) are listed and their static contributions
// removed afterwards. Pixels are cut into a fixed number of row chunks with their own accumulators, added in
// chunk order: results do not depend on the number of threads.
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
constexpr std::size_t kLanes = 4;       // independent accumulator copies per chunk (see Impl::stride)
constexpr std::size_t kPad = 4;         // spare bins after each lane: the branch-free kernel writes up to b0 + 3
constexpr unsigned kMaxBinsPerPixel = 255;
// pyFAI's upper bound of a default range: the largest position times (1 + float32 epsilon), so the
// outermost pixel falls inside the last bin.
constexpr double kEps32 = 1.0 + 1.1920928955078125e-07;

inline std::size_t weights_of(Splitting s, unsigned cnt) {
  switch (s) {
    case Splitting::none: return 0;
    case Splitting::bbox: return std::min(cnt, 3u);
    case Splitting::full: return cnt;
  }
  return 0;
}

struct Invalid {
  std::size_t pixel;
  std::size_t woff;
};

}  // namespace

struct Integrator::Impl {
  std::size_t rows = 0, cols = 0;
  IntegrationOptions opt;
  std::vector<double> radial, edges;
  double lo = 0, hi = 0, delta = 0;
  std::size_t nb = 0;
  std::vector<std::uint32_t> hdr;
  std::vector<std::uint16_t> w;
  std::size_t nchunks = 0;
  std::vector<std::size_t> chunk_woff;  // weight offset of each chunk's first pixel (+ end)
  std::vector<std::size_t> chunk_blo, chunk_bhi;  // accumulator bins a chunk's kernel may write: [lo, hi)
  std::vector<float> norm;              // folded normalisation per pixel (0 where the pixel never contributes)
  std::vector<float> dark, dark_var;
  std::vector<std::int64_t> static_count;  // Σ weight (fixed point) per bin
  std::vector<double> static_norm, static_c2n2;
  std::vector<double> static_dark, static_c2dvar;  // Σc·dark and Σc²·dark variance per bin (Poisson/none models)
  bool simd = false;                               // AVX2+FMA kernels (checked at run time, x86-64 only)
  PlanStats stats;

  struct Workspace {
    std::vector<double> acc;  // [chunk][array][bin]
    std::vector<std::vector<Invalid>> invalid;
  };
  mutable std::mutex pool_mutex;
  mutable std::vector<std::unique_ptr<Workspace>> pool;

  // Accumulator layout per chunk: kLanes copies (pixel p uses lane p % kLanes), each of arrays() arrays of
  // nb + kPad bins: [0] Σc·x, [1] Σc²·max(raw, 1) (Poisson) or Σc²s² (azimuthal), [2] Σc²·s·n (azimuthal).
  // x is the raw value for the Poisson and no-error models (the dark is subtracted through its static sum
  // Σc·dark) and raw − dark for the azimuthal one. Neighbouring pixels hit the same bins; separate lanes keep
  // their read-add-write chains independent.
  std::size_t arrays() const { return opt.error_model == ErrorModel::azimuthal ? 3 : 2; }
  std::size_t array_doubles() const { return nb + kPad; }
  std::size_t lane_doubles() const { return arrays() * array_doubles(); }
  std::size_t chunk_doubles() const { return kLanes * lane_doubles(); }

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
    ws->acc.resize(nchunks * chunk_doubles());
    ws->invalid.resize(nchunks);
    return ws;
  }
  void release(std::unique_ptr<Workspace> ws) const {
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool.push_back(std::move(ws));
  }

  void build(const Geometry& g, const Corrections& corr);
  template <class Visit>
  void for_each_weight(std::size_t p, std::size_t woff, Visit&& visit) const;
  Result1D run(const std::vector<ImageView>& frames, bool summed, const std::uint8_t* reject) const;
};

template <class Visit>
void Integrator::Impl::for_each_weight(std::size_t p, std::size_t woff, Visit&& visit) const {
  const std::uint32_t h = hdr[p];
  const unsigned cnt = h >> 24;
  const std::size_t b0 = h & 0xFFFFFFu;
  switch (opt.splitting) {
    case Splitting::none:
      if (cnt) visit(b0, kUnit);
      break;
    case Splitting::bbox:
      if (cnt == 1) {
        visit(b0, w[woff]);
      } else if (cnt >= 2) {
        visit(b0, w[woff]);
        for (unsigned k = 1; k + 1 < cnt; ++k) visit(b0 + k, w[woff + 1]);
        visit(b0 + cnt - 1, w[woff + (cnt == 2 ? 1 : 2)]);
      }
      break;
    case Splitting::full:
      for (unsigned k = 0; k < cnt; ++k) visit(b0 + k, w[woff + k]);
      break;
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

void Integrator::Impl::build(const Geometry& g, const Corrections& corr) {
  const auto t0 = std::chrono::steady_clock::now();
  opt.validate();
  rows = g.rows();
  cols = g.cols();
  detail::check_corrections(corr, rows, cols);
  const std::size_t npix = rows * cols;
  const detail::RadialCalc rad(opt.unit, g.poni());
  const detail::NormCalc normc(opt, g.poni());
  const int nt = detail::thread_count(opt.threads);
  const detail::LabAffine lab(g);
  nchunks = std::min(kChunks, rows);
  const Splitting split = opt.splitting;
  const bool need_chi = opt.azimuth_range_deg.has_value() || split == Splitting::full;
#if defined(__x86_64__) && defined(__GNUC__)
  simd = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && std::getenv("LIBPDF_NO_SIMD") == nullptr;
#endif
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
    radial_row(lab, rad, static_cast<double>(i), 0.0, cols + 1, r.data(), simd);
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
  hdr.assign(npix, 0);
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
    if (split != Splitting::none) corner_row(rb, r0, c0);
    for (std::size_t i = rb; i < re; ++i) {
      if (split != Splitting::none) corner_row(i + 1, r1, c1);
      radial_row(lab, rad, static_cast<double>(i) + 0.5, 0.5, cols, cpos.data(), simd);
      norm_row(lab, normc, static_cast<double>(i) + 0.5, cols, cn.data(), simd);
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
        cmin[c] = std::min(cmin[c], std::max(px.pos - d, 0.0));
        cmax[c] = std::max(cmax[c], px.pos + d);
      }
      std::swap(r0, r1);
      std::swap(c0, c1);
    }
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
  std::vector<std::vector<std::uint16_t>> cw(nchunks);
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
    auto& wv = cw[c];
    auto& scount = ccount[c];
    auto& snorm = cnorm[c];
    auto& sc2n2 = cc2n2[c];
    scount.assign(nb, 0);
    snorm.assign(nb, 0.0);
    if (azim) sc2n2.assign(nb, 0.0);
    if (static_dark_sums) cdark[c].assign(nb, 0.0);
    if (static_dvar_sums) cdvar[c].assign(nb, 0.0);
    const std::size_t rb = detail::chunk_row(c, nchunks, rows), re = detail::chunk_row(c + 1, nchunks, rows);
    wv.reserve((re - rb) * cols * (split == Splitting::none ? 0 : 3));
    if (split == Splitting::full) corner_row(rb, r0, c0);
    double wt[kMaxBinsPerPixel];
    std::uint32_t q[kMaxBinsPerPixel];
    std::size_t blo = std::numeric_limits<std::size_t>::max(), bhi = 0;
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
                        std::to_string(ib - ia + 1) + " bins, more than the 255 a plan allows: use fewer bins (npt)";
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
        hdr[p] = static_cast<std::uint32_t>(first) | (cnt << 24);
        // The branch-free kernels write bins first .. first + 3 whatever the count (adding zeros).
        blo = std::min(blo, first);
        bhi = std::max(bhi, first + std::max(cnt, 4u));
        const double nf = static_cast<double>(norm[p]);  // the stored value, so static sums match what is removed
        if (split == Splitting::bbox) {
          wv.push_back(static_cast<std::uint16_t>(q[0]));
          if (cnt == 2) wv.push_back(static_cast<std::uint16_t>(q[1]));
          if (cnt >= 3) {
            wv.push_back(static_cast<std::uint16_t>(q[1]));
            wv.push_back(static_cast<std::uint16_t>(q[cnt - 1]));
          }
        } else if (split == Splitting::full) {
          for (unsigned k = 0; k < cnt; ++k) wv.push_back(static_cast<std::uint16_t>(q[k]));
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
      chunk_bhi[c] = std::min(bhi, array_doubles());
    }
  }
  for (const auto& e : errors)
    if (!e.empty()) throw InvalidArgument("cannot build the integration plan: " + e);

  chunk_woff.assign(nchunks + 1, 0);
  for (std::size_t c = 0; c < nchunks; ++c) chunk_woff[c + 1] = chunk_woff[c] + cw[c].size();
  w.assign(chunk_woff[nchunks] + kPad, 0);  // the kernel may read up to 3 weights past a pixel's own
  for (std::size_t c = 0; c < nchunks; ++c) std::copy(cw[c].begin(), cw[c].end(), w.begin() + static_cast<std::ptrdiff_t>(chunk_woff[c]));
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
  for (std::size_t p = 0; p < npix; ++p) {
    const unsigned cnt = hdr[p] >> 24;
    stats.valid_pixels += cnt ? 1 : 0;
    stats.entries += cnt;
  }
  if (stats.valid_pixels == 0) {
    throw InvalidArgument("cannot build an integration plan: no pixel reaches the radial range [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "] " + radial_unit_name(opt.unit) +
                          " (check the range, the azimuth range and the mask)");
  }
  if (!corr.dark.empty()) dark = corr.dark;
  if (!corr.dark_variance.empty()) dark_var = corr.dark_variance;
  stats.plan_bytes = hdr.size() * sizeof(std::uint32_t) + w.size() * sizeof(std::uint16_t) + norm.size() * sizeof(float) +
                     nb * (sizeof(std::int64_t) + 2 * sizeof(double));
  stats.correction_bytes = (dark.size() + dark_var.size()) * sizeof(float);
  stats.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  detail::logger().debug("integration plan: {} x {} pixels, {} bins, {} entries, {:.2f} B/pixel, built in {:.3f} s", rows,
                         cols, nb, stats.entries, static_cast<double>(stats.plan_bytes) / static_cast<double>(npix),
                         stats.build_seconds);
}

namespace {

// The per-chunk kernel (portable version): accumulate the frame's valid pixels into the chunk's lanes.
template <class T, Splitting S, ErrorModel E, bool HasDark>
void accumulate(const Integrator::Impl& P, std::size_t c, const T* frame, const detail::Validity<T>& valid,
                const std::uint8_t* reject, double* acc, std::vector<Invalid>& invalid) {
  const std::size_t pb = detail::chunk_row(c, P.nchunks, P.rows) * P.cols;
  const std::size_t pe = detail::chunk_row(c + 1, P.nchunks, P.rows) * P.cols;
  std::size_t woff = P.chunk_woff[c];
  const std::uint32_t* hdr = P.hdr.data();
  const std::uint16_t* w = P.w.data();
  const float* dark = HasDark ? P.dark.data() : nullptr;
  const float* norm = P.norm.data();
  const std::size_t na = P.array_doubles();
  const std::size_t ld = P.lane_doubles();
  for (std::size_t p = pb; p < pe; ++p) {
    const std::uint32_t h = hdr[p];
    const unsigned cnt = h >> 24;
    if (cnt == 0) continue;
    const std::size_t b0 = h & 0xFFFFFFu;
    const T raw = frame[p];
    const std::size_t nw = S == Splitting::none ? 0 : S == Splitting::bbox ? (cnt < 3 ? cnt : 3) : cnt;
    if (!valid(raw) || (reject && reject[p])) {
      invalid.push_back({p, woff});
      woff += nw;
      continue;
    }
    const double r = static_cast<double>(raw);
    const double x = HasDark ? r - static_cast<double>(dark[p]) : r;
    const double v = E == ErrorModel::poisson ? std::max(r, 1.0) : x * x;
    double xn = 0;
    if constexpr (E == ErrorModel::azimuthal) xn = x * static_cast<double>(norm[p]);
    double* a0 = acc + (p % kLanes) * ld;
    double* a1 = a0 + na;
    double* a2 = a1 + na;
    auto add = [&](std::size_t b, double cf) {
      a0[b] += cf * x;
      if constexpr (E != ErrorModel::none) a1[b] += cf * cf * v;
      if constexpr (E == ErrorModel::azimuthal) a2[b] += cf * cf * xn;
    };
    if constexpr (S == Splitting::none) {
      add(b0, 1.0);
    } else if constexpr (S == Splitting::bbox) {
      // Pixels reach 1-4 bins in a pattern the branch predictor cannot learn; up to 4 bins are handled without
      // branches (weights 0 beyond the pixel's bins, written into the spare bins or adding 0).
      if (cnt <= 4) {
        const double c0 = w[woff] * kInvUnit;
        const double cm = w[woff + 1] * kInvUnit;
        const double cl = w[woff + nw - 1] * kInvUnit;
        add(b0, c0);
        add(b0 + 1, 2 < cnt ? cm : (2 == cnt ? cl : 0.0));
        add(b0 + 2, 3 < cnt ? cm : (3 == cnt ? cl : 0.0));
        add(b0 + 3, 4 == cnt ? cl : 0.0);
      } else {
        add(b0, w[woff] * kInvUnit);
        const double cm = w[woff + 1] * kInvUnit;
        for (unsigned k = 1; k + 1 < cnt; ++k) add(b0 + k, cm);
        add(b0 + cnt - 1, w[woff + 2] * kInvUnit);
      }
    } else {
      if (cnt <= 4) {
        add(b0, w[woff] * kInvUnit);
        add(b0 + 1, 1 < cnt ? w[woff + 1] * kInvUnit : 0.0);
        add(b0 + 2, 2 < cnt ? w[woff + 2] * kInvUnit : 0.0);
        add(b0 + 3, 3 < cnt ? w[woff + 3] * kInvUnit : 0.0);
      } else {
        for (unsigned k = 0; k < cnt; ++k) add(b0 + k, w[woff + k] * kInvUnit);
      }
    }
    woff += nw;
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// pshufb masks that turn a pixel's stored 16-bit weights into its 4 slot weights (as 32-bit lanes) for
// bbox (first, interior..., last) and full (one weight per bin) splitting, by bin count; 0x80 clears a byte.
#define Z 0x80
alignas(16) constexpr std::uint8_t kBboxShuffle[5][16] = {
    {Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, 2, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, 2, 3, Z, Z, 4, 5, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, 2, 3, Z, Z, 2, 3, Z, Z, 4, 5, Z, Z}};
alignas(16) constexpr std::uint8_t kFullShuffle[5][16] = {
    {Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, 2, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, 2, 3, Z, Z, 4, 5, Z, Z, Z, Z, Z, Z},
    {0, 1, Z, Z, 2, 3, Z, Z, 4, 5, Z, Z, 6, 7, Z, Z}};
#undef Z

// Four frame values as doubles (exactly static_cast<double> of each).
template <class T>
__attribute__((target("avx2,fma"))) inline __m256d load4(const T* f) {
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

// What the AVX2 kernel's per-pixel paths read.
template <class T>
struct Avx2Ctx {
  const T* frame;
  const std::uint32_t* hdr;
  const std::uint16_t* w;
  const std::uint8_t* reject;
  const std::uint8_t (*shuffle)[16];
  double* lanes[kLanes];
  std::size_t na;
  detail::Validity<T> valid;
  std::vector<Invalid>* invalid;
};

constexpr double kInv2 = kInvUnit * kInvUnit;

// A pixel reaching 0-4 bins (0: it adds zeros to bins 0-3) with a valid value, xs = x/65535 and
// vs = max(x, 1)/65535²; returns the weight offset of the next pixel.
template <Splitting S, ErrorModel E>
__attribute__((target("avx2,fma"), always_inline)) inline std::size_t add_quad(double* lane, std::uint32_t h,
                                                                               const std::uint16_t* w, std::size_t woff,
                                                                               std::size_t na,
                                                                               const std::uint8_t (*shuffle)[16],
                                                                               const double* xs, const double* vs) {
  const unsigned cnt = h >> 24;
  const __m128i wr = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(w + woff));
  const __m128i wi = _mm_shuffle_epi8(wr, _mm_load_si128(reinterpret_cast<const __m128i*>(shuffle[cnt])));
  const __m256d q = _mm256_cvtepi32_pd(wi);
  double* a0 = lane + (h & 0xFFFFFFu);
  _mm256_storeu_pd(a0, _mm256_fmadd_pd(q, _mm256_broadcast_sd(xs), _mm256_loadu_pd(a0)));
  if constexpr (E == ErrorModel::poisson) {
    double* a1 = a0 + na;
    _mm256_storeu_pd(a1, _mm256_fmadd_pd(_mm256_mul_pd(q, q), _mm256_broadcast_sd(vs), _mm256_loadu_pd(a1)));
  }
  return woff + (S == Splitting::bbox ? cnt - (cnt >> 2) : cnt);  // bbox: 1, 2, 3, 3 weights for 1-4 bins
}

// Any pixel, alone (the groups with an invalid value, a rejected pixel or a pixel reaching more than 4 bins);
// returns the weight offset of the next pixel. The same arithmetic as the grouped path.
template <class T, Splitting S, ErrorModel E, bool HasReject>
__attribute__((target("avx2,fma"), noinline)) std::size_t add_single(const Avx2Ctx<T>& k, std::size_t p,
                                                                     std::size_t woff) {
  const std::uint32_t h = k.hdr[p];
  const unsigned cnt = h >> 24;
  if (cnt == 0) return woff;
  const T raw = k.frame[p];
  const std::size_t nw = S == Splitting::bbox ? (cnt < 3 ? cnt : 3) : cnt;
  if (!k.valid(raw) || (HasReject && k.reject[p])) {
    k.invalid->push_back({p, woff});
    return woff + nw;
  }
  const double x = static_cast<double>(raw);
  const double xs = x * kInvUnit;
  const double vs = std::max(x, 1.0) * kInv2;
  double* lane = k.lanes[p % kLanes];
  if (cnt <= 4) return add_quad<S, E>(lane, h, k.w, woff, k.na, k.shuffle, &xs, &vs);
  // Wide pixel.
  double* a0 = lane + (h & 0xFFFFFFu);
  double* a1 = a0 + k.na;
  auto add = [&](std::size_t b, std::uint32_t wq) {
    const double q = static_cast<double>(wq);
    a0[b] = __builtin_fma(q, xs, a0[b]);
    if constexpr (E == ErrorModel::poisson) a1[b] = __builtin_fma(q * q, vs, a1[b]);
  };
  const std::uint16_t* w = k.w + woff;
  if constexpr (S == Splitting::bbox) {
    add(0, w[0]);
    for (unsigned b = 1; b + 1 < cnt; ++b) add(b, w[1]);
    add(cnt - 1, w[2]);
  } else {
    for (unsigned b = 0; b < cnt; ++b) add(b, w[b]);
  }
  return woff + nw;
}

// The same kernel with AVX2. Pixels go in groups of four (one per lane, so a group needs no lane arithmetic):
// one test per group on the values sends a group holding an invalid value or a rejected pixel to the per-pixel
// path; in the others only a pixel reaching more than 4 bins branches. A pixel's (up to) 4 weights become one
// vector by a byte shuffle chosen by its bin count, and its 4 bins of Σc·x and Σc²·var are each updated by one
// 32-byte read-add-write. The scale 1/65535 is applied to the value, not to the weights: Σc·x = Σq·(x/65535),
// Σc²·v = Σq²·(v/65535²), q² exact in double. Both paths use the same arithmetic, so a pixel's contribution
// does not depend on its group.
template <class T, Splitting S, ErrorModel E, bool HasReject, bool HasDummy>
__attribute__((target("avx2,fma"))) void accumulate_avx2(const Integrator::Impl& P, std::size_t c, const T* frame,
                                                          const detail::Validity<T>& validity,
                                                          const std::uint8_t* reject, double* acc,
                                                          std::vector<Invalid>& invalid) {
  static_assert(S != Splitting::none && E != ErrorModel::azimuthal, "bbox/full with the Poisson or no error model");
  static_assert(kLanes % 4 == 0, "a group of four pixels uses four lanes");
  const std::size_t pb = detail::chunk_row(c, P.nchunks, P.rows) * P.cols;
  const std::size_t pe = detail::chunk_row(c + 1, P.nchunks, P.rows) * P.cols;
  const std::size_t ld = P.lane_doubles();
  Avx2Ctx<T> k{frame, P.hdr.data(), P.w.data(), reject, S == Splitting::bbox ? kBboxShuffle : kFullShuffle,
               {}, P.array_doubles(), validity, &invalid};
  for (std::size_t l = 0; l < kLanes; ++l) k.lanes[l] = acc + l * ld;
  const std::uint32_t* hdr = k.hdr;
  const std::uint16_t* w = k.w;
  const std::size_t na = k.na;
  const auto* shuffle = k.shuffle;
  std::size_t woff = P.chunk_woff[c];
  std::size_t p = pb;
  for (; p < pe && p % kLanes != 0; ++p) woff = add_single<T, S, E, HasReject>(k, p, woff);
  const __m128i four = _mm_set1_epi32(4);
  const __m256d inv = _mm256_set1_pd(kInvUnit), inv2 = _mm256_set1_pd(kInv2), one = _mm256_set1_pd(1.0);
  // Integer markers compared as doubles (exact); NaN never compares equal, so no marker = NaN.
  const __m256d marker = _mm256_set1_pd(std::is_integral_v<T> && validity.use_marker
                                            ? static_cast<double>(validity.marker)
                                            : std::numeric_limits<double>::quiet_NaN());
  alignas(32) double xs[4], vs[4];
  for (; p + 4 <= pe; p += 4) {
    const __m256d X = load4(frame + p);
    int bad;
    if constexpr (std::is_floating_point_v<T>) {
      bad = _mm256_movemask_pd(_mm256_cmp_pd(_mm256_sub_pd(X, X), _mm256_setzero_pd(), _CMP_NEQ_UQ));  // NaN, Inf
    } else {
      bad = _mm256_movemask_pd(_mm256_cmp_pd(X, marker, _CMP_EQ_OQ));
    }
    if constexpr (HasDummy) {
      bad |= !k.valid(frame[p]) | !k.valid(frame[p + 1]) | !k.valid(frame[p + 2]) | !k.valid(frame[p + 3]);
    }
    if constexpr (HasReject) {
      std::uint32_t r;
      std::memcpy(&r, reject + p, 4);
      bad |= r != 0;
    }
    const __m128i H = _mm_loadu_si128(reinterpret_cast<const __m128i*>(hdr + p));
    const int wide = _mm_movemask_ps(_mm_castsi128_ps(_mm_cmpgt_epi32(_mm_srli_epi32(H, 24), four)));
    if (__builtin_expect(bad | wide, 0)) {
      for (std::size_t q = 0; q < 4; ++q) woff = add_single<T, S, E, HasReject>(k, p + q, woff);
      continue;
    }
    double* const* L = k.lanes + (p % kLanes);  // p % 4 == 0 here
    double* const l0 = L[0];
    double* const l1 = L[1];
    double* const l2 = L[2];
    double* const l3 = L[3];
    _mm256_store_pd(xs, _mm256_mul_pd(X, inv));
    _mm256_store_pd(vs, _mm256_mul_pd(_mm256_max_pd(X, one), inv2));
    woff = add_quad<S, E>(l0, hdr[p], w, woff, na, shuffle, xs, vs);
    woff = add_quad<S, E>(l1, hdr[p + 1], w, woff, na, shuffle, xs + 1, vs + 1);
    woff = add_quad<S, E>(l2, hdr[p + 2], w, woff, na, shuffle, xs + 2, vs + 2);
    woff = add_quad<S, E>(l3, hdr[p + 3], w, woff, na, shuffle, xs + 3, vs + 3);
  }
  for (; p < pe; ++p) woff = add_single<T, S, E, HasReject>(k, p, woff);
}
#endif

template <class T>
void dispatch_kernel(const Integrator::Impl& P, std::size_t c, const ImageView& f, const std::uint8_t* reject,
                     double* acc, std::vector<Invalid>& invalid) {
  const T* frame = f.as<T>();
  const detail::Validity<T> valid(P.opt);
  const Splitting sp = P.opt.splitting;
  const ErrorModel em = P.opt.error_model;
#if defined(__x86_64__) && defined(__GNUC__)
  if (P.simd && sp != Splitting::none && em != ErrorModel::azimuthal) {
    auto run = [&](auto rtag, auto dtag) {
      constexpr bool R = decltype(rtag)::value, D = decltype(dtag)::value;
      if (sp == Splitting::bbox && em == ErrorModel::poisson)
        return accumulate_avx2<T, Splitting::bbox, ErrorModel::poisson, R, D>(P, c, frame, valid, reject, acc, invalid);
      if (sp == Splitting::bbox && em == ErrorModel::none)
        return accumulate_avx2<T, Splitting::bbox, ErrorModel::none, R, D>(P, c, frame, valid, reject, acc, invalid);
      if (sp == Splitting::full && em == ErrorModel::poisson)
        return accumulate_avx2<T, Splitting::full, ErrorModel::poisson, R, D>(P, c, frame, valid, reject, acc, invalid);
      return accumulate_avx2<T, Splitting::full, ErrorModel::none, R, D>(P, c, frame, valid, reject, acc, invalid);
    };
    if (valid.use_dummy) return reject ? run(std::true_type{}, std::true_type{}) : run(std::false_type{}, std::true_type{});
    return reject ? run(std::true_type{}, std::false_type{}) : run(std::false_type{}, std::false_type{});
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
  const std::size_t na = array_doubles();
  const int nt = detail::thread_count(opt.threads);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t c = 0; c < nchunks; ++c) {
    double* acc = ws->acc.data() + c * cd;
    // Only the bins this chunk's pixels reach are cleared, folded and summed (the others stay 0).
    const std::size_t blo = chunk_blo[c], bhi = chunk_bhi[c];
    for (std::size_t a = 0; a < kLanes * arrays(); ++a) std::fill(acc + a * na + blo, acc + a * na + bhi, 0.0);
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
    // Fold the lanes into lane 0, in lane order.
    for (std::size_t l = 1; l < kLanes; ++l) {
      for (std::size_t a = 0; a < arrays(); ++a) {
        double* dst = acc + a * na;
        const double* src = acc + l * lane_doubles() + a * na;
        for (std::size_t k = blo; k < bhi; ++k) dst[k] += src[k];
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
  std::vector<double> s2(azim ? nb : 0), snv(azim ? nb : 0);
  for (std::size_t c = 0; c < nchunks; ++c) {
    const double* acc = ws->acc.data() + c * cd;
    const std::size_t blo = chunk_blo[c], bhi = std::min(chunk_bhi[c], nb);
    for (std::size_t b = blo; b < bhi; ++b) r.sum_signal[b] += acc[b];
    if (azim) {
      for (std::size_t b = blo; b < bhi; ++b) s2[b] += acc[na + b];
      for (std::size_t b = blo; b < bhi; ++b) snv[b] += acc[2 * na + b];
    } else if (opt.error_model == ErrorModel::poisson) {
      for (std::size_t b = blo; b < bhi; ++b) r.sum_variance[b] += acc[na + b];
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
    for (const Invalid& iv : ws->invalid[c]) {
      const double n = static_cast<double>(norm[iv.pixel]);
      const double d = static_dark.empty() ? 0.0 : static_cast<double>(dark[iv.pixel]);
      const double dv = static_c2dvar.empty() ? 0.0 : static_cast<double>(dark_var[iv.pixel]);
      for_each_weight(iv.pixel, iv.woff, [&](std::size_t b, std::uint32_t wq) {
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
    std::size_t woff = P.chunk_woff[c];
    for (std::size_t p = pb; p < pe; ++p) {
      const unsigned cnt = P.hdr[p] >> 24;
      if (cnt == 0) continue;
      std::size_t best = 0;
      std::uint32_t best_w = 0;
      P.for_each_weight(p, woff, [&](std::size_t b, std::uint32_t wq) {
        if (wq > best_w) {
          best_w = wq;
          best = b;
        }
      });
      woff += weights_of(P.opt.splitting, cnt);
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
  std::size_t c = 0;
  while (c + 1 < P.nchunks && detail::chunk_row(c + 1, P.nchunks, P.rows) <= row) ++c;
  std::size_t woff = P.chunk_woff[c];
  const std::size_t p = row * P.cols + col;
  for (std::size_t k = detail::chunk_row(c, P.nchunks, P.rows) * P.cols; k < p; ++k)
    woff += weights_of(P.opt.splitting, P.hdr[k] >> 24);
  std::vector<std::pair<std::size_t, double>> out;
  P.for_each_weight(p, woff, [&](std::size_t b, std::uint32_t wq) { out.emplace_back(b, wq * kInvUnit); });
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
