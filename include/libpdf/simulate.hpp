#pragma once
/// @file simulate.hpp
/// A forward simulator of total-scattering experiments: from a model structure whose S(q) and g(r) are
/// known exactly, and a geometry, to detector frames with every effect a reduction must undo. Used for the
/// bundled example series, for tests (known truth) and for planning experiments. Deterministic: the
/// same setup, model, seed and frame number give the same frame bit for bit, on any number of threads.
///
/// Pair-distribution model (docs/files.md, "Simulator"). With the smooth excluded-volume step
/// H(r) = ½ erfc((r − r₀)/(√2 w)) and shells s_k(r) = a_k exp(−(r − c_k)²/(2σ_k²)) cos(ω_k r + φ_k):
///
///     r [g(r) − 1] = Σ_k [s_k(r) − s_k(−r)] − r H(r)
///     S(q) − 1     = (4πρ₀/q) ∫₀^∞ r [g(r) − 1] sin(qr) dr
///                  = (4πρ₀/q) { Σ_k a_k σ_k √(π/2) [e^{−(q+ω_k)²σ_k²/2} sin((q+ω_k)c_k + φ_k)
///                                                   + e^{−(q−ω_k)²σ_k²/2} sin((q−ω_k)c_k − φ_k)]
///                               − e^{−q²w²/2} [(1 + q²w²) sin(q r₀) − q r₀ cos(q r₀)] / q² }
///
/// The odd extension s_k(r) − s_k(−r) makes the half-line sine integral equal the whole-line one, so the
/// closed form is exact for any shell (the step's own r < 0 tail, ½ erfc(r₀/(√2 w)), is below 1e−40 for
/// r₀/w > 13, which validate() requires). A plain Gaussian shell has ω = φ = 0; a shell of coordination N
/// at c has a = N / (4πρ₀ c σ √(2π)). G(r) = 4πρ₀ r [g(r) − 1] is exact too (an infinite q range).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/image.hpp"
#include "libpdf/scattering.hpp"

namespace libpdf {

/// One term of the pair-distribution model (see the file comment).
struct Shell {
  double center_A = 0;      ///< c (Å).
  double width_A = 0.1;     ///< σ (Å, > 0).
  double amplitude_A = 0;   ///< a: peak of its contribution to r[g(r) − 1] (Å); negative for a minimum.
  double frequency = 0;     ///< ω (1/Å) of a modulation cos(ωr + φ) measured from r = 0 (0: plain shell).
  double phase = 0;         ///< φ (radians).
};

/// A pair-distribution model with exactly known g(r), G(r) and S(q).
struct LIBPDF_API PairModel {
  double number_density = 0;  ///< ρ₀ (atoms/Å³, > 0).
  double hole_radius_A = 0;   ///< r₀ of the excluded-volume step (Å, > 0).
  double hole_width_A = 0.1;  ///< w (Å, > 0, r₀/w ≥ 13).
  std::vector<Shell> shells;  ///< The terms s_k(r) of r[g(r) − 1], summed (any number; none: the step alone).

  /// g(r) (g(0) is the limit). Exact.
  double g(double r) const;
  /// G(r) = 4πρ₀ r [g(r) − 1] (1/Å²). Exact.
  double G(double r) const;
  /// S(q) by the closed form of the file comment (q > 0; q below 1e−6 1/Å is evaluated at 1e−6). Exact.
  double S(double q) const;
  /// S(q) by direct numerical sine integration of g(r) (composite Simpson on [0, r_max] with @p dr):
  /// an independent check of S(q) (agrees to ~1e−9 with dr = 0.001 Å, r_max = 80 Å).
  double S_numerical(double q, double dr = 0.001, double r_max = 80.0) const;
  /// The coordination number of a shell: N = 4πρ₀ a c σ √(2π) (ω = 0).
  static double shell_amplitude(double coordination, double center_A, double width_A, double number_density);
  /// Throws InvalidArgument naming every bad field.
  void validate() const;
};

/// Parameters of the bundled metallic-glass models (docs/files.md states every number and its reason).
struct GlassModelOptions {
  double transition_K = 450.0;  ///< T_c: above it the medium-range order grows (Yang et al. 2022: about 450 K).
  double end_K = 600.0;         ///< The growth is complete here (see metallic_glass_progress).
  bool reference = false;       ///< La50Ni35Al15, the reference glass without the transition.
};

/// The highest temperature metallic_glass_model accepts (K). Far above any glass transition of these alloys; up to
/// here the model keeps S(q) > 0.02 and under 0.02 atoms below 2.5 Å (from ~1250 K on the thermal broadening and the
/// linear ageing take the reference glass past that, and past 2000 K S(q) goes negative).
inline constexpr double kGlassModelMaxTemperatureK = 1000.0;

/// Progress x ∈ [0, 1] of the polyamorphous change at @p temperature_K: 0 at and below transition_K (and for
/// the reference glass), x = (T − T_c)/(end_K − T_c) above it, 1 from end_K on. Linear, so that the model's onset
/// is a hinge exactly at T_c (a two-segment fit of a concave rise would land early).
LIBPDF_API double metallic_glass_progress(double temperature_K, const GlassModelOptions& options = {});

/// The model of La65Co25Al10 (or, with reference, La50Ni35Al15) at @p temperature_K (0 < T ≤
/// kGlassModelMaxTemperatureK, else InvalidArgument). Below the transition
/// only slow ageing and thermal broadening of the first shell (no shift: r1 stays within 0.004 Å, q1 within
/// 0.001 1/Å over 310–600 K); above it, with metallic_glass_progress, the oscillations of G(r) in 5–17 Å grow and
/// extend (fitted coherence length 4.1 → 7.3 Å), S(q) maxima 2–4 grow narrower and higher, and the shoulder at
/// 4.46 1/Å becomes a resolved peak there. The reference glass has none of it: a single first S(q) peak
/// (q1 ≈ 2.30 1/Å) and only ageing and thermal broadening. The excluded volume is empty (< 0.01 atoms below 2.5 Å,
/// |g| < 0.01 below 2.3 Å, at 310–600 K) and S(q) > 0.02 (checked over 250–650 K and at 1000 K). About 15 ms to
/// build (two small least-squares fits).
/// Illustrative parameters chosen to look like the published data (Yang et al., J. Chem. Phys. 157, 184504
/// (2022)), not a refined structure.
LIBPDF_API PairModel metallic_glass_model(double temperature_K, const GlassModelOptions& options = {});

/// Structure metrics of a model, read off its exact S(q) and G(r) (docs/conventions.md §3).
struct ModelMetrics {
  double q1 = 0;       ///< First S(q) maximum: position (1/Å).
  double s_q1 = 0;     ///< Its height S(q1).
  double fwhm_q1 = 0;  ///< Its full width at half (S−1) (1/Å).
  // Maxima 2–4: the highest S(q) maximum with q/q1 in [1.60, 1.93), [2.30, 2.80), [3.10, 3.60) (by place, so that
  // a new peak does not renumber them); widths at half the prominence above the higher adjacent minimum
  // (scipy.signal.peak_widths' convention). 0 when absent.
  double q2 = 0;       ///< Maximum 2: position (1/Å).
  double s_q2 = 0;     ///< Maximum 2: height.
  double fwhm_q2 = 0;  ///< Maximum 2: width at half prominence (1/Å).
  double q3 = 0;       ///< Maximum 3: position (1/Å).
  double s_q3 = 0;     ///< Maximum 3: height.
  double fwhm_q3 = 0;  ///< Maximum 3: width at half prominence (1/Å).
  double q4 = 0;       ///< Maximum 4: position (1/Å).
  double s_q4 = 0;     ///< Maximum 4: height.
  double fwhm_q4 = 0;  ///< Maximum 4: width at half prominence (1/Å).
  double q_new = 0;           ///< The new peak: highest S(q) maximum in 4.30–4.65 1/Å (0 when none; a shoulder is none).
  double s_q_new = 0;         ///< Its height.
  double prominence_new = 0;  ///< Its prominence above the higher adjacent minimum.
  double s_446 = 0;         ///< S(4.46 1/Å), where the new peak of the seed study appears.
  double s_446_excess = 0;  ///< S(4.46) − ½[S(4.16) + S(4.76)]: the bump over a straight baseline.
  double r1 = 0;            ///< Highest G(r) in 2–5 Å (the principal first-shell peak), parabola-refined (Å).
  double g_r1 = 0;          ///< G(r1) (1/Å²).
  double coordination = 0;  ///< ∫ 4πρ₀r²g(r) dr from 0 to the first minimum of r²g(r) after r1.
  double mro_rms = 0;       ///< RMS of G(r) over 5–17 Å (1/Å²), 0.01 Å grid.
  /// Envelope of G(r) over 5–17 Å (0.01 Å grid): least-squares fit of A·e^(−r/ξ)·sin(Q_m r + φ) (A, φ linear;
  /// Q_m in 1.5–3 1/Å and ξ in 1–50 Å searched): the coherence length ξ (Å).
  double xi = 0;
  double q_mro = 0;  ///< Q_m of that fit (1/Å).
};
/// Metrics of @p model (maxima refined by a parabola through the three highest grid points, Δq = 0.002).
LIBPDF_API ModelMetrics model_metrics(const PairModel& model);

/// Everything about the experiment and the detector that the simulator needs.
struct LIBPDF_API SimulationSetup {
  Composition composition{"La65Co25Al10"};  ///< Sample (form factors, Compton).
  Poni poni;                                 ///< Geometry; poni.detector gives rows, cols, pixel sizes.
  double photons_per_electron = 6.5;         ///< Expected photons per (electron unit per atom) in a pixel with
                                             ///< Ω = P = ε = flat = 1: sets the count level.
  double polarization_factor = 0.99;         ///< f of P = ½[1 + cos²2θ − f cos2χ sin²2θ].
  std::optional<Sensor> sensor;              ///< Oblique-incidence efficiency ε(α); unset = none.
  double background_fraction = 0.03;         ///< Air + kapton background relative to ⟨f²⟩(q = 0): smooth.
  double flat_pixel_rms = 0.03;              ///< Pixel-to-pixel gain spread (Gaussian, relative).
  double flat_smooth_amplitude = 0.02;       ///< Amplitude of a smooth large-scale gain variation.
  double gain_adu_per_photon = 1.0;          ///< ADU per detected photon.
  double dark_offset_adu = 1000.0;           ///< Mean dark offset (ADU).
  double dark_pattern_rms_adu = 8.0;         ///< Fixed-pattern spread of the dark (per pixel, Gaussian).
  double dark_column_amplitude_adu = 15.0;   ///< Column structure of the dark (a slow sine along columns).
  double dark_current_adu_per_s = 2.0;       ///< Dark current (ADU/s), times count_time_s.
  double read_noise_adu = 5.0;               ///< Gaussian read noise per frame (ADU).
  double count_time_s = 1.0;                 ///< Exposure per frame (s); the counts scale with it.
  double dead_pixel_fraction = 2e-4;         ///< Pixels that record no photons (dark only).
  double hot_pixel_fraction = 2e-5;          ///< Pixels stuck at the type's maximum.
  std::vector<std::size_t> dead_columns;     ///< Whole columns that record no photons.
  std::vector<std::size_t> gap_rows;         ///< Rows without sensor (panel gaps): the type's maximum.
  std::vector<std::size_t> gap_cols;         ///< Columns without sensor.
  double beamstop_radius_m = 0.004;          ///< Beamstop shadow around the direct beam (0 = none); its arm
                                             ///< runs down to the bottom edge, as wide as the radius.
  bool poisson = true;                       ///< Poisson noise (false: expected values, rounded).
  PixelType type = PixelType::u16;           ///< Stored frame type (values are clipped to its range).
  std::uint64_t seed = 1;                    ///< Noise seed (with the frame number: every frame differs).
  int threads = 0;                           ///< Threads (0 = all cores); the result does not depend on it.

  /// Throws InvalidArgument naming every bad field.
  void validate() const;
};

/// A simulator for one setup: the per-pixel geometry, corrections, flat field, dark map and defects are
/// computed once; frames for any model then take one pass over the pixels. Immutable and thread-safe.
class LIBPDF_API Simulator {
 public:
  /// @throws InvalidArgument for an invalid setup.
  explicit Simulator(SimulationSetup setup);
  ~Simulator();
  /// Takes over the other simulator's precomputed detector; the moved-from object may only be destroyed or
  /// assigned to.
  Simulator(Simulator&&) noexcept;
  /// Releases this simulator and takes over the other's precomputed detector; the moved-from object may only
  /// be destroyed or assigned to afterwards.
  Simulator& operator=(Simulator&&) noexcept;
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  /// The setup this simulator was built from (as given, after SimulationSetup::validate()).
  const SimulationSetup& setup() const;
  /// The same detector (geometry, flat, dark, defects: nothing is recomputed) with another sample.
  Simulator with_composition(const Composition& composition) const;
  /// Detector rows (setup().poni.detector.rows): the height of every frame and per-pixel map.
  std::size_t rows() const;
  /// Detector columns (setup().poni.detector.cols): the width of every frame and per-pixel map.
  std::size_t cols() const;

  /// The sample's intensity per atom in electron units on @p q: ⟨f⟩²(S − 1) + ⟨f²⟩ + I_inc (Compton).
  std::vector<double> sample_intensity(const PairModel& model, const std::vector<double>& q) const;
  /// The smooth background (air + kapton) on @p q, electron units.
  std::vector<double> background(const std::vector<double>& q) const;
  /// What an ideal integration of a frame returns on @p q: photons_per_electron·count_time·(sample +
  /// background) (photons per unit of Ω·P·ε·flat, dark subtracted, gain divided out).
  std::vector<double> expected_pattern(const PairModel& model, const std::vector<double>& q) const;

  /// Expected photons per pixel (row-major; 0 for dead, gap, hot and beamstop pixels) of one frame.
  std::vector<double> expected_photons(const PairModel& model) const;
  /// A detector frame: gain·Poisson(photons) + dark + read noise, rounded and clipped to the type;
  /// hot and gap pixels hold the type's maximum. @p frame_number seeds its noise.
  Image frame(const PairModel& model, std::uint64_t frame_number) const;
  /// A dark frame (no beam): dark + read noise.
  Image dark_frame(std::uint64_t frame_number) const;

  /// The true flat field (relative gain, 1 on average; 0 for dead pixels).
  const std::vector<float>& flat() const;
  /// The expected dark of one frame (ADU): offset pattern + dark current × count time.
  const std::vector<float>& dark() const;
  /// Defects: 1 for dead, hot and gap pixels and dead columns (not the beamstop).
  const std::vector<std::uint8_t>& defect_mask() const;
  /// The beamstop shadow (1 = shadowed).
  const std::vector<std::uint8_t>& beamstop_mask() const;

  struct Impl;

 private:
  explicit Simulator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The bundled example: a La65Co25Al10 heating series as PETRA III P02.1 would record it on a PerkinElmer
/// XRD1621 at 60 keV, with its dark, flat, mask and calibration, and the reference La50Ni35Al15 series.
struct LIBPDF_API ExampleOptions {
  std::string out_dir = "example";  ///< Created if missing.
  std::size_t size = 2048;          ///< Pixels per side: 2048 (200 µm), or a divisor of 2048 for a binned
                                    ///< detector of the same area (1024: 400 µm, 512: 800 µm).
  // One frame per temperature t_start_K, t_start_K + t_step_K, ... up to t_stop_K inclusive.
  double t_start_K = 310;           ///< Temperature of the first frame (K, > 0).
  double t_stop_K = 600;            ///< Last temperature (K, ≥ t_start_K; included when on the step grid).
  double t_step_K = 10;             ///< Temperature step between frames (K, > 0; at most 10000 steps).
  bool reference = true;            ///< Also write the La50Ni35Al15 reference series.
  std::size_t dark_frames = 5;      ///< Frames in dark.h5.
  double count_time_s = 1.0;        ///< Exposure per frame.
  int gzip_level = 1;               ///< Deflate level of the frames (with byte shuffle).
  std::uint64_t seed = 1;           ///< SimulationSetup::seed of noise, flat, dark, defects (same seed: same frames).
  int threads = 0;                  ///< SimulationSetup::threads (0 = all cores); the frames do not depend on it.
  std::optional<Poni> poni;         ///< Another geometry (its detector needs rows, cols and pixel sizes); size
                                    ///< is then ignored.
  std::string composition;          ///< Another sample composition for the intensities (the structure model
                                    ///< stays the La65Co25Al10 one); empty = La65Co25Al10.
  /// Throws InvalidArgument naming every bad field.
  void validate() const;
};

/// What write_example_series wrote.
struct ExampleFiles {
  std::string series;     ///< series.h5: /entry/instrument/detector/data [n, rows, cols] uint16, metadata, truth.
  std::string reference;  ///< reference.h5 (empty when not written).
  std::string dark;       ///< dark.h5: dark frames to average.
  std::string flat;       ///< flat.h5: the true flat field (float32, /entry/instrument/detector/data).
  std::string mask;       ///< mask.tif: beamstop + defects (int32, non-zero = masked).
  std::string poni;       ///< series.poni.
  std::vector<double> temperatures_K;  ///< Temperature of each frame (K), in frame order (both series).
  double seconds = 0;     ///< Wall time.
};

/// Writes the example (every file through a temporary name renamed into place: an interrupted run leaves
/// no partial file). The truth beside the frames, in /entry/simulation of series.h5 and reference.h5: the
/// model parameters, S(q), the per-atom sample intensity and the expected pattern on q = 0.005..30 1/Å,
/// g(r) and G(r) on r = 0.01..30 Å, and the model's metrics per frame. @throws IoError, InvalidArgument.
LIBPDF_API ExampleFiles write_example_series(const ExampleOptions& options);

}  // namespace libpdf
