// The detector-frame simulator: per-pixel geometry and corrections computed once, then per frame one pass
// expected photons -> Poisson -> gain, dark, read noise -> rounding and clipping to the stored type.
//
// Determinism: every random number comes from a counter-based stream keyed by (seed, purpose, frame,
// pixel), so a pixel's value never depends on which thread drew it or in which order.
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/simulate.hpp"

namespace libpdf {
namespace {

constexpr double kPi = 3.14159265358979323846;

// SplitMix64 (Steele, Lea, Flood 2014): a fast generator whose state is a plain counter, so any stream
// can be started anywhere from a hash of its key.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1): 53 random bits, never 0.
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
  /// Standard normal by Box–Muller (exact; used for the static flat and dark maps).
  double normal() {
    const double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);
  }
  /// Approximately normal noise for per-frame read noise: the sum of four uniforms, centred and scaled to
  /// unit variance (Irwin–Hall; exact mean and variance, tails cut at ±3.46σ). Five times cheaper than
  /// Box–Muller, and read noise is itself only approximately Gaussian.
  double read_noise() {
    const double sum = static_cast<double>((next() >> 40) + (next() >> 40) + (next() >> 40) + (next() >> 40));
    return (sum * 0x1.0p-24 - 2.0) * 1.7320508075688772;  // (Σu − 2)·√3: variance 4/12·3 = 1
  }
};

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
  Rng r{a ^ (b * 0xD1B54A32D192ED03ull)};
  return r.next();
}

Rng stream(std::uint64_t seed, std::uint64_t purpose, std::uint64_t frame, std::uint64_t pixel) {
  return Rng{mix(mix(mix(seed, purpose), frame), pixel)};
}

enum Purpose : std::uint64_t { kFlat = 1, kDark = 2, kDefect = 3, kFrame = 4, kDarkFrame = 5 };

// ln k! : a table to 255, Stirling's series beyond (error < 1e−16 relative for k ≥ 256).
double log_factorial(double k) {
  static const std::array<double, 256> table = [] {
    std::array<double, 256> t{};
    t[0] = 0;
    for (std::size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] + std::log(static_cast<double>(i));
    return t;
  }();
  if (k < 256) return table[static_cast<std::size_t>(k)];
  const double k1 = k + 1.0;
  return (k1 - 0.5) * std::log(k1) - k1 + 0.5 * std::log(2 * kPi) + 1.0 / (12 * k1) - 1.0 / (360 * k1 * k1 * k1);
}

// Poisson deviate. Mean < 10: inversion by sequential search. Larger: Hörmann's transformed rejection with
// squeeze (PTRS, Insurance: Mathematics and Economics 12 (1993) 39), exact, ~1.1 uniforms per draw.
double poisson(Rng& rng, double mu) {
  if (mu <= 0) return 0;
  if (mu < 10) {
    double p = std::exp(-mu), f = p, u = rng.uniform();
    double k = 0;
    while (u > f && k < 1000) {
      k += 1;
      p *= mu / k;
      f += p;
    }
    return k;
  }
  const double smu = std::sqrt(mu), b = 0.931 + 2.53 * smu, a = -0.059 + 0.02483 * b;
  const double inv_alpha = 1.1239 + 1.1328 / (b - 3.4), vr = 0.9277 - 3.6224 / (b - 2);
  const double log_mu = std::log(mu);
  for (;;) {
    const double U = rng.uniform() - 0.5, V = rng.uniform();
    const double us = 0.5 - std::fabs(U);
    const double k = std::floor((2 * a / us + b) * U + mu + 0.43);
    if (us >= 0.07 && V <= vr) return k;
    if (k < 0 || (us < 0.013 && V > us)) continue;
    if (std::log(V * inv_alpha / (a / (us * us) + b)) <= -mu + k * log_mu - log_factorial(k)) return k;
  }
}

double type_max(PixelType t) {
  switch (t) {
    case PixelType::u16: return 65535.0;
    case PixelType::i16: return 32767.0;
    case PixelType::u32: return 4294967295.0;
    case PixelType::i32: return 2147483647.0;
    case PixelType::f32: return std::numeric_limits<float>::max();
    case PixelType::f64: return std::numeric_limits<double>::max();
  }
  return 0;
}

template <class T>
void store(Image& img, const std::vector<double>& v) {
  T* p = img.as<T>();
  if constexpr (std::is_integral_v<T>) {
    const double lo = static_cast<double>(std::numeric_limits<T>::lowest());
    const double hi = static_cast<double>(std::numeric_limits<T>::max());
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(std::clamp(std::nearbyint(v[i]), lo, hi));
  } else {
    for (std::size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
  }
}

Image to_image(PixelType t, std::size_t rows, std::size_t cols, const std::vector<double>& v) {
  Image img(t, rows, cols);
  switch (t) {
    case PixelType::u16: store<std::uint16_t>(img, v); break;
    case PixelType::i16: store<std::int16_t>(img, v); break;
    case PixelType::u32: store<std::uint32_t>(img, v); break;
    case PixelType::i32: store<std::int32_t>(img, v); break;
    case PixelType::f32: store<float>(img, v); break;
    case PixelType::f64: store<double>(img, v); break;
  }
  return img;
}

int thread_count(int requested) { return requested > 0 ? requested : omp_get_max_threads(); }

}  // namespace

void SimulationSetup::validate() const {
  std::string bad;
  auto add = [&bad](const std::string& s) { bad += (bad.empty() ? "" : "; ") + s; };
  if (composition.empty()) add("composition is empty");
  try {
    poni.validate();
  } catch (const InvalidArgument& e) {
    add(e.what());
  }
  if (poni.detector.rows == 0 || poni.detector.cols == 0) add("poni.detector rows and cols must be set (> 0)");
  if (!(poni.wavelength_m > 0)) add("poni.wavelength_m must be > 0");
  if (!(photons_per_electron >= 0)) add("photons_per_electron must be >= 0");
  if (!(polarization_factor >= -1 && polarization_factor <= 1)) add("polarization_factor must be in [-1, 1]");
  if (!(background_fraction >= 0)) add("background_fraction must be >= 0");
  if (!(flat_pixel_rms >= 0 && flat_pixel_rms < 0.3)) add("flat_pixel_rms must be in [0, 0.3)");
  if (!(flat_smooth_amplitude >= 0 && flat_smooth_amplitude < 0.3)) add("flat_smooth_amplitude must be in [0, 0.3)");
  if (!(gain_adu_per_photon > 0)) add("gain_adu_per_photon must be > 0");
  if (!(read_noise_adu >= 0) || !(dark_pattern_rms_adu >= 0) || !(dark_current_adu_per_s >= 0)) {
    add("read_noise_adu, dark_pattern_rms_adu and dark_current_adu_per_s must be >= 0");
  }
  if (!(count_time_s > 0)) add("count_time_s must be > 0");
  if (!(dead_pixel_fraction >= 0 && hot_pixel_fraction >= 0 && dead_pixel_fraction + hot_pixel_fraction < 1)) {
    add("dead_pixel_fraction and hot_pixel_fraction must be >= 0 and sum to < 1");
  }
  for (std::size_t r : gap_rows) {
    if (r >= poni.detector.rows) add("gap row " + std::to_string(r) + " is outside the detector");
  }
  for (std::size_t c : gap_cols) {
    if (c >= poni.detector.cols) add("gap column " + std::to_string(c) + " is outside the detector");
  }
  for (std::size_t c : dead_columns) {
    if (c >= poni.detector.cols) add("dead column " + std::to_string(c) + " is outside the detector");
  }
  if (!(beamstop_radius_m >= 0)) add("beamstop_radius_m must be >= 0");
  if (!bad.empty()) throw InvalidArgument("SimulationSetup: " + bad);
}

struct Simulator::Impl {
  SimulationSetup setup;
  std::size_t rows = 0, cols = 0;
  std::vector<float> q;          // per pixel (1/Å)
  std::vector<double> response;  // Ω·P·ε·flat per pixel (0 where nothing is recorded)
  std::vector<float> flat, dark;
  std::vector<std::uint8_t> defects, beamstop, stuck;  // stuck: hot or gap (type maximum)
  // Composition averages on a fine q grid, for the per-pixel table.
  double dq = 0.001;
  std::vector<double> grid, f2, fm2, compton, bkg;
  int threads = 1;

  // Sample + background (electron units) on the grid.
  std::vector<double> table(const PairModel& m) const {
    std::vector<double> t(grid.size());
#pragma omp parallel for schedule(static) num_threads(threads)
    for (std::size_t i = 0; i < grid.size(); ++i) {
      t[i] = fm2[i] * (m.S(grid[i]) - 1.0) + f2[i] + compton[i] + bkg[i];
    }
    return t;
  }
};

Simulator::Simulator(SimulationSetup setup) : impl_(std::make_unique<Impl>()) {
  setup.validate();
  Impl& m = *impl_;
  m.setup = std::move(setup);
  const SimulationSetup& s = m.setup;
  m.rows = s.poni.detector.rows;
  m.cols = s.poni.detector.cols;
  m.threads = thread_count(s.threads);
  const std::size_t n = m.rows * m.cols;
  const Geometry geometry(s.poni, m.rows, m.cols);
  m.q.resize(n);
  m.response.resize(n);
  m.flat.resize(n);
  m.dark.resize(n);
  m.defects.assign(n, 0);
  m.beamstop.assign(n, 0);
  m.stuck.assign(n, 0);
  std::vector<double> tth(n);
  double qmax = 0;
  const double lambda_A = s.poni.wavelength_A();
#pragma omp parallel for schedule(static) num_threads(m.threads) reduction(max : qmax)
  for (std::size_t i = 0; i < m.rows; ++i) {
    for (std::size_t j = 0; j < m.cols; ++j) {
      const std::size_t p = i * m.cols + j;
      tth[p] = geometry.tth(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
      const double qq = 4.0 * kPi * std::sin(0.5 * tth[p]) / lambda_A;
      m.q[p] = static_cast<float>(qq);
      qmax = std::max(qmax, qq);
      double r = geometry.solid_angle(i, j) * geometry.polarization(i, j, s.polarization_factor);
      if (s.sensor) r *= geometry.sensor_efficiency(i, j, *s.sensor);
      // Flat field: pixel gain spread times a smooth large-scale variation (two slow waves).
      Rng flat_rng = stream(s.seed, kFlat, 0, p);
      const double x = (static_cast<double>(j) + 0.5) / static_cast<double>(m.cols);
      const double y = (static_cast<double>(i) + 0.5) / static_cast<double>(m.rows);
      const double smooth = 1.0 + s.flat_smooth_amplitude * std::sin(2 * kPi * (0.8 * x + 0.3)) *
                                      std::cos(2 * kPi * (0.6 * y + 0.1));
      const double flat = std::max(0.5, (1.0 + s.flat_pixel_rms * flat_rng.normal()) * smooth);
      // Dark: offset, fixed pattern, column structure, dark current.
      Rng dark_rng = stream(s.seed, kDark, 0, p);
      m.dark[p] = static_cast<float>(s.dark_offset_adu + s.dark_pattern_rms_adu * dark_rng.normal() +
                                     s.dark_column_amplitude_adu * std::sin(static_cast<double>(j) / 7.0) +
                                     s.dark_current_adu_per_s * s.count_time_s);
      Rng defect_rng = stream(s.seed, kDefect, 0, p);
      const double u = defect_rng.uniform();
      if (u < s.dead_pixel_fraction) {
        m.defects[p] = 1;
      } else if (u < s.dead_pixel_fraction + s.hot_pixel_fraction) {
        m.defects[p] = 1;
        m.stuck[p] = 1;
      }
      m.flat[p] = static_cast<float>(flat);
      m.response[p] = r * flat;
    }
  }
  for (std::size_t c : s.dead_columns) {
    for (std::size_t i = 0; i < m.rows; ++i) m.defects[i * m.cols + c] = 1;
  }
  for (std::size_t r : s.gap_rows) {
    for (std::size_t j = 0; j < m.cols; ++j) m.defects[r * m.cols + j] = m.stuck[r * m.cols + j] = 1;
  }
  for (std::size_t c : s.gap_cols) {
    for (std::size_t i = 0; i < m.rows; ++i) m.defects[i * m.cols + c] = m.stuck[i * m.cols + c] = 1;
  }
  // Beamstop: a disc around the pixel nearest the direct beam (smallest 2θ) and an arm to the bottom edge.
  if (s.beamstop_radius_m > 0) {
    const std::size_t pb = static_cast<std::size_t>(std::min_element(tth.begin(), tth.end()) - tth.begin());
    const double ib = static_cast<double>(pb / m.cols), jb = static_cast<double>(pb % m.cols);
    for (std::size_t i = 0; i < m.rows; ++i) {
      for (std::size_t j = 0; j < m.cols; ++j) {
        const double dy = (static_cast<double>(i) - ib) * s.poni.detector.pixel1_m;
        const double dx = (static_cast<double>(j) - jb) * s.poni.detector.pixel2_m;
        const bool disc = dx * dx + dy * dy < s.beamstop_radius_m * s.beamstop_radius_m;
        const bool arm = dy > 0 && std::fabs(dx) < 0.5 * s.beamstop_radius_m;
        if (disc || arm) m.beamstop[i * m.cols + j] = 1;
      }
    }
  }
  for (std::size_t p = 0; p < n; ++p) {
    if (m.defects[p]) m.flat[p] = 0.0f;
    if (m.defects[p] || m.beamstop[p]) m.response[p] = 0.0;
  }
  // Composition averages and background on the table grid.
  const std::size_t ng = static_cast<std::size_t>(std::ceil((qmax + 0.01) / m.dq)) + 2;
  m.grid.resize(ng);
  for (std::size_t i = 0; i < ng; ++i) m.grid[i] = m.dq * static_cast<double>(i);
  const ScatteringFactors f = scattering_factors(s.composition, m.grid);
  m.f2 = f.f2_mean;
  m.fm2 = f.f_mean_sq;
  m.compton = f.compton;
  m.bkg = background(m.grid);
}

Simulator::Simulator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Simulator Simulator::with_composition(const Composition& composition) const {
  if (composition.empty()) throw InvalidArgument("Simulator::with_composition: the composition is empty");
  auto impl = std::make_unique<Impl>(*impl_);
  impl->setup.composition = composition;
  const ScatteringFactors f = scattering_factors(composition, impl->grid);
  impl->f2 = f.f2_mean;
  impl->fm2 = f.f_mean_sq;
  impl->compton = f.compton;
  Simulator out(std::move(impl));
  out.impl_->bkg = out.background(out.impl_->grid);
  return out;
}

Simulator::~Simulator() = default;
Simulator::Simulator(Simulator&&) noexcept = default;
Simulator& Simulator::operator=(Simulator&&) noexcept = default;

const SimulationSetup& Simulator::setup() const { return impl_->setup; }
std::size_t Simulator::rows() const { return impl_->rows; }
std::size_t Simulator::cols() const { return impl_->cols; }
const std::vector<float>& Simulator::flat() const { return impl_->flat; }
const std::vector<float>& Simulator::dark() const { return impl_->dark; }
const std::vector<std::uint8_t>& Simulator::defect_mask() const { return impl_->defects; }
const std::vector<std::uint8_t>& Simulator::beamstop_mask() const { return impl_->beamstop; }

std::vector<double> Simulator::sample_intensity(const PairModel& model, const std::vector<double>& q) const {
  const ScatteringFactors f = scattering_factors(impl_->setup.composition, q);
  std::vector<double> out(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    out[i] = f.f_mean_sq[i] * (model.S(q[i]) - 1.0) + f.f2_mean[i] + f.compton[i];
  }
  return out;
}

std::vector<double> Simulator::background(const std::vector<double>& q) const {
  // Smooth and positive: air scattering falling with q, plus the broad amorphous halos of kapton windows
  // near 0.42, 1.15 and 1.75 1/Å (shapes illustrative). Scaled to background_fraction·⟨f²⟩(0).
  const ScatteringFactors f0 = scattering_factors(impl_->setup.composition, {0.0});
  const double scale = impl_->setup.background_fraction * f0.f2_mean[0];
  std::vector<double> out(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) {
    const double x = q[i];
    auto bump = [x](double c, double w) { return std::exp(-0.5 * (x - c) * (x - c) / (w * w)); };
    const double kapton = 0.5 * bump(0.42, 0.12) + 0.8 * bump(1.15, 0.25) + 0.5 * bump(1.75, 0.35);
    out[i] = scale * (0.6 * std::exp(-x / 1.8) + 0.4 * kapton);
  }
  return out;
}

std::vector<double> Simulator::expected_pattern(const PairModel& model, const std::vector<double>& q) const {
  const SimulationSetup& s = impl_->setup;
  const std::vector<double> a = sample_intensity(model, q);
  const std::vector<double> b = background(q);
  std::vector<double> out(q.size());
  for (std::size_t i = 0; i < q.size(); ++i) out[i] = s.photons_per_electron * s.count_time_s * (a[i] + b[i]);
  return out;
}

std::vector<double> Simulator::expected_photons(const PairModel& model) const {
  model.validate();
  const Impl& m = *impl_;
  const std::vector<double> t = m.table(model);
  const double k = m.setup.photons_per_electron * m.setup.count_time_s;
  std::vector<double> out(m.q.size());
  const double inv = 1.0 / m.dq;
  const std::size_t last = t.size() - 2;
#pragma omp parallel for schedule(static) num_threads(m.threads)
  for (std::size_t p = 0; p < out.size(); ++p) {
    if (m.response[p] == 0.0) {
      out[p] = 0.0;
      continue;
    }
    // Linear interpolation on Δq = 0.0005 1/Å: error Δq²/8·|I''| < 1e−6 relative for these models.
    const double x = static_cast<double>(m.q[p]) * inv;
    const std::size_t i = std::min(static_cast<std::size_t>(x), last);
    const double w = x - static_cast<double>(i);
    out[p] = k * m.response[p] * ((1.0 - w) * t[i] + w * t[i + 1]);
  }
  return out;
}

Image Simulator::frame(const PairModel& model, std::uint64_t frame_number) const {
  const Impl& m = *impl_;
  const SimulationSetup& s = m.setup;
  std::vector<double> v = expected_photons(model);
  const double top = type_max(s.type);
#pragma omp parallel for schedule(static) num_threads(m.threads)
  for (std::size_t p = 0; p < v.size(); ++p) {
    if (m.stuck[p]) {
      v[p] = top;
      continue;
    }
    Rng rng = stream(s.seed, kFrame, frame_number, p);
    const double photons = s.poisson ? poisson(rng, v[p]) : v[p];
    v[p] = s.gain_adu_per_photon * photons + m.dark[p] + (s.read_noise_adu > 0 ? s.read_noise_adu * rng.read_noise() : 0.0);
  }
  return to_image(s.type, m.rows, m.cols, v);
}

Image Simulator::dark_frame(std::uint64_t frame_number) const {
  const Impl& m = *impl_;
  const SimulationSetup& s = m.setup;
  std::vector<double> v(m.dark.size());
  const double top = type_max(s.type);
#pragma omp parallel for schedule(static) num_threads(m.threads)
  for (std::size_t p = 0; p < v.size(); ++p) {
    if (m.stuck[p]) {
      v[p] = top;
      continue;
    }
    Rng rng = stream(s.seed, kDarkFrame, frame_number, p);
    v[p] = m.dark[p] + (s.read_noise_adu > 0 ? s.read_noise_adu * rng.read_noise() : 0.0);
  }
  return to_image(s.type, m.rows, m.cols, v);
}

}  // namespace libpdf
