// The 2D (radial × χ) cake plan. Unlike the 1D plan it is stored bin-major (CSR: for each output cell the pixels
// and weights that reach it): a cake has ~10⁵–10⁶ cells, too many for per-chunk accumulators, and gathering per
// cell gives deterministic sums with no reduction step. Weights are float32 fractions of the pixel.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/integrate/pixel_calc.hpp"
#include "libpdf/integrate/validity.hpp"

namespace libpdf {

struct CakeIntegrator::Impl {
  std::size_t rows = 0, cols = 0, nr = 0, na = 0;
  CakeOptions opt;
  std::vector<double> radial, azim_deg;
  std::vector<std::size_t> offsets;  // per cell, into pix/wts (CSR)
  std::vector<std::uint32_t> pix;
  std::vector<float> wts;
  std::vector<float> norm, dark, dark_var;
  PlanStats stats;

  void build(const Geometry& g, const Corrections& corr);
  template <class T>
  void apply(const T* frame, Result2D& r) const;
};

void CakeIntegrator::Impl::build(const Geometry& g, const Corrections& corr) {
  const auto t0 = std::chrono::steady_clock::now();
  opt.validate();
  rows = g.rows();
  cols = g.cols();
  detail::check_corrections(corr, rows, cols);
  const std::size_t npix = rows * cols;
  if (npix > 0xFFFFFFFFull) throw InvalidArgument("cake: detectors above 2^32 pixels are not supported");
  const detail::RadialCalc rad(opt.unit, g.poni());
  const detail::NormCalc normc(opt, g.poni());
  const int nt = detail::thread_count(opt.threads);
  const detail::LabAffine lab(g);
  nr = opt.npt;
  na = opt.npt_azim;
  const Range az = opt.azimuth_range_deg ? *opt.azimuth_range_deg : Range{-180.0, 180.0};
  const bool full_circle = az.hi - az.lo >= 360.0 - 1e-9;
  const bool chi_positive = az.hi > 180.0;
  const double alo = az.lo * M_PI / 180.0, ahi = az.hi * M_PI / 180.0;
  const double adelta = (ahi - alo) / static_cast<double>(na);

  // Per pixel: centre, corners (radial, χ).
  std::vector<double> pos(npix), dpos(npix), chi(npix), dchi(npix);
  std::vector<float> quad(npix * 8);
  norm.assign(npix, 0.0f);
  std::vector<std::uint8_t> ok(npix, 0);
#pragma omp parallel for schedule(static) num_threads(nt)
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < cols; ++j) {
      const std::size_t p = i * cols + j;
      if (!detail::statically_valid(corr, p)) continue;
      const auto t = lab.at(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
      double c = detail::chi_of(t);
      if (chi_positive && c < 0) c += 2 * M_PI;
      pos[p] = rad(t);
      chi[p] = c;
      double n = normc(t) * (corr.flat.empty() ? 1.0 : static_cast<double>(corr.flat[p]));
      if (!(n > 0) || !std::isfinite(n)) continue;
      norm[p] = static_cast<float>(n);
      ok[p] = 1;
      const double pts[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
      double d = 0, dc = 0;
      for (int k = 0; k < 4; ++k) {
        const auto tc = lab.at(static_cast<double>(i) + pts[k][0], static_cast<double>(j) + pts[k][1]);
        const double rv = rad(tc);
        const double cv = detail::unwrap_near(detail::chi_of(tc), c);
        d = std::max(d, std::fabs(rv - pos[p]));
        dc = std::max(dc, std::fabs(cv - c));
        quad[p * 8 + 2 * static_cast<std::size_t>(k)] = static_cast<float>(rv - pos[p]);
        quad[p * 8 + 2 * static_cast<std::size_t>(k) + 1] = static_cast<float>(cv - c);
      }
      dpos[p] = d;
      dchi[p] = dc;
    }
  }
  double lo, hi;
  if (opt.radial_range) {
    lo = opt.radial_range->lo;
    hi = opt.radial_range->hi;
  } else {
    lo = std::numeric_limits<double>::infinity();
    hi = -lo;
    for (std::size_t p = 0; p < npix; ++p) {
      if (!ok[p]) continue;
      const double d = opt.splitting == Splitting::none ? 0.0 : dpos[p];
      lo = std::min(lo, pos[p] - d);
      hi = std::max(hi, pos[p] + d);
    }
    if (!std::isfinite(lo)) throw InvalidArgument("cannot build a cake plan: every pixel is masked");
    lo = std::max(lo, 0.0);
    hi *= 1.0 + 1.1920928955078125e-07;
  }
  const double rdelta = (hi - lo) / static_cast<double>(nr);
  radial.resize(nr);
  for (std::size_t b = 0; b < nr; ++b) radial[b] = lo + rdelta * (static_cast<double>(b) + 0.5);
  azim_deg.resize(na);
  for (std::size_t b = 0; b < na; ++b) azim_deg[b] = (alo + adelta * (static_cast<double>(b) + 0.5)) * 180.0 / M_PI;

  // Entries (cell, pixel, weight), made per row chunk then sorted by cell with a counting sort.
  struct Entry {
    std::uint32_t cell, pixel;
    float w;
  };
  const std::size_t nchunks = std::min<std::size_t>(16, rows);
  std::vector<std::vector<Entry>> ent(nchunks);
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
  for (std::size_t c = 0; c < nchunks; ++c) {
    auto& e = ent[c];
    const std::size_t pb = detail::chunk_row(c, nchunks, rows) * cols, pe = detail::chunk_row(c + 1, nchunks, rows) * cols;
    for (std::size_t p = pb; p < pe; ++p) {
      if (!ok[p]) continue;
      auto cell_of = [&](long ir, long ia) -> long {
        if (ir < 0 || ir >= static_cast<long>(nr)) return -1;
        if (full_circle) ia = ((ia % static_cast<long>(na)) + static_cast<long>(na)) % static_cast<long>(na);
        else if (ia < 0 || ia >= static_cast<long>(na)) return -1;
        return ia * static_cast<long>(nr) + ir;
      };
      if (opt.splitting == Splitting::none) {
        if (pos[p] < lo || pos[p] > hi) continue;
        const long ir = std::min(static_cast<long>((pos[p] - lo) / rdelta), static_cast<long>(nr) - 1);
        const long ia = static_cast<long>(std::floor((chi[p] - alo) / adelta));
        const long cell = cell_of(ir, ia);
        if (cell >= 0) e.push_back({static_cast<std::uint32_t>(cell), static_cast<std::uint32_t>(p), 1.0f});
        continue;
      }
      const double r0 = pos[p] - dpos[p], r1 = pos[p] + dpos[p];
      const double c0 = chi[p] - dchi[p], c1 = chi[p] + dchi[p];
      const long ir0 = static_cast<long>(std::floor((r0 - lo) / rdelta)), ir1 = static_cast<long>(std::floor((r1 - lo) / rdelta));
      const long ia0 = static_cast<long>(std::floor((c0 - alo) / adelta)), ia1 = static_cast<long>(std::floor((c1 - alo) / adelta));
      const bool degenerate = !(dpos[p] > 0) || !(dchi[p] > 0) || dchi[p] > M_PI_2;
      double poly[4][2] = {};
      double area = 0;
      if (opt.splitting == Splitting::full && !degenerate) {
        for (int k = 0; k < 4; ++k) {
          poly[k][0] = quad[p * 8 + 2 * static_cast<std::size_t>(k)];
          poly[k][1] = quad[p * 8 + 2 * static_cast<std::size_t>(k) + 1];
        }
        area = detail::polygon_area(poly, 4);
      }
      for (long ir = std::max(ir0, 0L); ir <= std::min(ir1, static_cast<long>(nr) - 1); ++ir) {
        const double e0 = lo + rdelta * static_cast<double>(ir), e1 = e0 + rdelta;
        for (long ia = ia0; ia <= ia1; ++ia) {
          const long cell = cell_of(ir, ia);
          if (cell < 0) continue;
          const double a0 = alo + adelta * static_cast<double>(ia), a1 = a0 + adelta;
          double wgt;
          if (opt.splitting == Splitting::full && !degenerate && area > 0) {
            wgt = detail::area_in_rect(poly, 4, e0 - pos[p], e1 - pos[p], a0 - chi[p], a1 - chi[p]) / area;
          } else if (degenerate) {
            wgt = (ir == std::clamp(ir0, 0L, static_cast<long>(nr) - 1) && ia == ia0) ? 1.0 : 0.0;
          } else {
            const double fr = std::max(0.0, std::min(e1, r1) - std::max(e0, r0)) / (r1 - r0);
            const double fa = std::max(0.0, std::min(a1, c1) - std::max(a0, c0)) / (c1 - c0);
            wgt = fr * fa;
          }
          if (wgt > 0) e.push_back({static_cast<std::uint32_t>(cell), static_cast<std::uint32_t>(p), static_cast<float>(wgt)});
        }
      }
    }
  }
  const std::size_t ncell = nr * na;
  offsets.assign(ncell + 1, 0);
  for (const auto& e : ent)
    for (const auto& x : e) ++offsets[x.cell + 1];
  for (std::size_t k = 0; k < ncell; ++k) offsets[k + 1] += offsets[k];
  pix.resize(offsets[ncell]);
  wts.resize(offsets[ncell]);
  std::vector<std::size_t> fill(offsets.begin(), offsets.end() - 1);
  for (const auto& e : ent)
    for (const auto& x : e) {
      pix[fill[x.cell]] = x.pixel;
      wts[fill[x.cell]] = x.w;
      ++fill[x.cell];
    }
  if (pix.empty()) throw InvalidArgument("cannot build a cake plan: no pixel reaches the radial and azimuthal ranges");
  if (!corr.dark.empty()) dark = corr.dark;
  if (!corr.dark_variance.empty()) dark_var = corr.dark_variance;
  stats.pixels = npix;
  stats.valid_pixels = static_cast<std::size_t>(std::count(ok.begin(), ok.end(), 1));
  stats.entries = pix.size();
  stats.plan_bytes = offsets.size() * sizeof(std::size_t) + pix.size() * 8 + norm.size() * 4;
  stats.correction_bytes = (dark.size() + dark_var.size()) * 4;
  stats.build_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

template <class T>
void CakeIntegrator::Impl::apply(const T* frame, Result2D& r) const {
  const detail::Validity<T> valid(opt);
  const std::size_t ncell = nr * na;
  const int nt = detail::thread_count(opt.threads);
  const bool azim = opt.error_model == ErrorModel::azimuthal;
  const bool pois = opt.error_model == ErrorModel::poisson;
#pragma omp parallel for schedule(dynamic, 256) num_threads(nt)
  for (std::size_t cell = 0; cell < ncell; ++cell) {
    double ss = 0, sv = 0, sn = 0, sc = 0, s2 = 0, ssn = 0, sn2 = 0;
    for (std::size_t k = offsets[cell]; k < offsets[cell + 1]; ++k) {
      const std::size_t p = pix[k];
      const T raw = frame[p];
      if (!valid(raw)) continue;
      const double cf = wts[k];
      const double rv = static_cast<double>(raw);
      const double s = dark.empty() ? rv : rv - static_cast<double>(dark[p]);
      const double n = norm[p];
      ss += cf * s;
      sn += cf * n;
      sc += cf;
      if (pois) sv += cf * cf * (std::max(rv, 1.0) + (dark_var.empty() ? 0.0 : static_cast<double>(dark_var[p])));
      if (azim) {
        s2 += cf * cf * s * s;
        ssn += cf * cf * s * n;
        sn2 += cf * cf * n * n;
      }
    }
    if (azim && sn > 0) {
      const double m = ss / sn;
      sv = std::max(s2 - 2 * m * ssn + m * m * sn2, 0.0);
    }
    r.sum_signal[cell] = ss;
    r.sum_variance[cell] = sv;
    r.sum_normalization[cell] = sn;
    r.count[cell] = sc;
    if (sc > 0 && sn > 0) {
      r.intensity[cell] = ss / sn;
      r.sigma[cell] = std::sqrt(sv) / sn;
    } else {
      r.intensity[cell] = opt.empty;
      r.sigma[cell] = 0;
    }
  }
}

CakeIntegrator::CakeIntegrator(const Geometry& geometry, const CakeOptions& options, const Corrections& corrections)
    : impl_(std::make_unique<Impl>()) {
  impl_->opt = options;
  impl_->build(geometry, corrections);
}
CakeIntegrator::~CakeIntegrator() = default;
CakeIntegrator::CakeIntegrator(CakeIntegrator&&) noexcept = default;
CakeIntegrator& CakeIntegrator::operator=(CakeIntegrator&&) noexcept = default;
PlanStats CakeIntegrator::stats() const { return impl_->stats; }

Result2D CakeIntegrator::integrate(const ImageView& frame) const {
  const Impl& P = *impl_;
  if (frame.data == nullptr) throw InvalidArgument("cake: the frame has no data (null pointer)");
  if (frame.rows != P.rows || frame.cols != P.cols) {
    throw InvalidArgument("cake: the frame is " + std::to_string(frame.rows) + " x " + std::to_string(frame.cols) +
                          " but the plan was built for " + std::to_string(P.rows) + " x " + std::to_string(P.cols));
  }
  Result2D r;
  r.unit = P.opt.unit;
  r.npt_rad = P.nr;
  r.npt_azim = P.na;
  r.radial = P.radial;
  r.azimuthal_deg = P.azim_deg;
  const std::size_t n = P.nr * P.na;
  for (auto* v : {&r.intensity, &r.sigma, &r.sum_signal, &r.sum_variance, &r.sum_normalization, &r.count}) v->assign(n, 0.0);
  switch (frame.type) {
    case PixelType::u16: P.apply(frame.as<std::uint16_t>(), r); break;
    case PixelType::i16: P.apply(frame.as<std::int16_t>(), r); break;
    case PixelType::u32: P.apply(frame.as<std::uint32_t>(), r); break;
    case PixelType::i32: P.apply(frame.as<std::int32_t>(), r); break;
    case PixelType::f32: P.apply(frame.as<float>(), r); break;
    case PixelType::f64: P.apply(frame.as<double>(), r); break;
  }
  if (std::all_of(r.count.begin(), r.count.end(), [](double c) { return c <= 0; })) {
    throw NumericalError("cake: every pixel of the frame is invalid (masked, NaN/Inf, dummy or detector marker)");
  }
  return r;
}

}  // namespace libpdf
