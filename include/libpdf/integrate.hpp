#pragma once
/// @file integrate.hpp
/// Azimuthal integration: a plan built once per geometry, mask and options (pixel-to-bin splitting
/// weights with every static correction folded into one normalisation per pixel), then applied to many
/// frames. The plan is immutable and its apply functions are safe to call from many threads at once.
///
/// For bin b, with splitting weights c_i of the pixels i that reach it:
///   I_b = Σ c_i (raw_i − dark_i) / Σ c_i (flat_i Ω_i P_i ε_i k)
///   σ_b = √(Σ c_i² var_i) / Σ c_i (flat_i Ω_i P_i ε_i k)
/// with var_i = max(raw_i, 1) + dark variance (Poisson model). See docs/conventions.md §1.
/// Results do not depend on the number of threads: pixels are cut into a fixed set of chunks whose
/// partial sums are added in a fixed order.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/image.hpp"

namespace libpdf {

/// Radial coordinate of the bins.
enum class RadialUnit {
  q_A,      ///< q in 1/Å
  q_nm,     ///< q in 1/nm
  tth_deg,  ///< 2θ in degrees
  r_mm      ///< distance from the beam axis, √(t1² + t2²), in mm (pyFAI's r_mm)
};
/// pyFAI-style name: "q_A^-1", "q_nm^-1", "2th_deg", "r_mm".
LIBPDF_API const char* radial_unit_name(RadialUnit u);
/// Parses a pyFAI-style unit name; throws InvalidArgument listing the accepted names.
LIBPDF_API RadialUnit parse_radial_unit(const std::string& name);

/// How a pixel is shared between bins (docs/conventions.md §1).
enum class Splitting {
  none,  ///< whole pixel to the bin of its centre
  bbox,  ///< uniformly over [c − d, c + d], d = largest centre-to-corner distance (radial unit)
  full   ///< exact area overlap of the pixel quadrilateral (in radial × χ) with each bin
};
/// "none", "bbox" or "full".
LIBPDF_API const char* splitting_name(Splitting s);
/// Parses "none", "bbox" or "full"; throws InvalidArgument listing the accepted names.
LIBPDF_API Splitting parse_splitting(const std::string& name);

/// How σ of a bin is estimated.
enum class ErrorModel {
  none,      ///< no σ (reported as 0)
  poisson,   ///< var_i = max(raw_i, 1) + dark variance
  azimuthal  ///< spread of the normalised pixel values in the bin: σ² = Σ c²(s − Ī n)² / (Σ c n)²
};
/// "none", "poisson" or "azimuthal".
LIBPDF_API const char* error_model_name(ErrorModel e);
/// Parses "none", "poisson" or "azimuthal"; throws InvalidArgument listing the accepted names.
LIBPDF_API ErrorModel parse_error_model(const std::string& name);

/// A closed interval [lo, hi].
struct Range {
  /// Lower and upper end.
  ///@{
  double lo = 0, hi = 0;
  ///@}
};

/// Options of an integration plan. Defaults are written in; validate() reports every bad field at once.
struct LIBPDF_API IntegrationOptions {
  std::size_t npt = 1000;                     ///< Number of radial bins (> 0).
  RadialUnit unit = RadialUnit::q_A;          ///< Radial unit of the bins and of radial_range.
  std::optional<Range> radial_range;          ///< Bin range in `unit`; default: extent of the pixels.
  std::optional<Range> azimuth_range_deg;     ///< Keep pixels whose χ extent meets this range (degrees).
  Splitting splitting = Splitting::bbox;      ///< Pixel splitting scheme.
  bool solid_angle = true;                    ///< Divide by the solid angle cos³α.
  std::optional<double> polarization_factor;  ///< f in [−1, 1]; unset = no polarisation correction.
  std::optional<Sensor> sensor;               ///< Oblique-incidence sensor efficiency; unset = none.
  double normalization_factor = 1.0;          ///< k: intensities are divided by k (> 0).
  ErrorModel error_model = ErrorModel::poisson;  ///< σ estimate.
  std::optional<double> dummy;                ///< Pixels whose raw value is within delta_dummy of this are invalid.
  double delta_dummy = 0.0;                   ///< Tolerance of the dummy test (>= 0).
  bool mask_detector_markers = true;          ///< Treat −1 (signed ints) and 2^bit_depth − 1 (unsigned) as invalid.
  std::optional<int> bit_depth;               ///< Bit depth for the 2^bit_depth − 1 marker; unset = the type's width.
  int threads = 0;                            ///< Threads for building and applying; 0 = all cores.
  double empty = 0.0;                         ///< Value reported in bins no valid pixel reaches.

  /// Throws InvalidArgument naming every invalid field and what was expected.
  void validate() const;
};

/// Static per-pixel corrections (row-major, rows*cols each; an empty vector means "not used").
struct Corrections {
  std::vector<std::uint8_t> mask;     ///< Non-zero = masked (pyFAI/fabio convention).
  std::vector<float> dark;            ///< Dark current subtracted from every frame.
  std::vector<float> dark_variance;   ///< Variance of the dark (added to the Poisson variance); optional.
  std::vector<float> flat;            ///< Flat field (relative efficiency); pixels with flat <= 0 are masked.
};

/// A 1D pattern with the per-bin sums it was made from, so patterns from several frames or panels
/// merge exactly (merge()).
struct Result1D {
  RadialUnit unit = RadialUnit::q_A;             ///< Radial unit of radial and radial_edges.
  ErrorModel error_model = ErrorModel::poisson;  ///< How sigma and sum_variance were estimated.
  std::vector<double> radial;             ///< Bin centres (npt).
  std::vector<double> radial_edges;       ///< Bin edges (npt + 1).
  std::vector<double> intensity;          ///< scale·Σsignal / Σnormalisation (`empty` where count = 0).
  std::vector<double> sigma;              ///< scale·√Σvariance / Σnormalisation (0 where count = 0).
  std::vector<double> sum_signal;         ///< Σ c (raw − dark).
  std::vector<double> sum_variance;       ///< Σ c² var (Poisson) or Σ c²(s − Ī n)² (azimuthal).
  std::vector<double> sum_normalization;  ///< Σ c·(flat Ω P ε k).
  std::vector<double> count;              ///< Σ c (pixels, fractional with splitting).
  std::size_t frames = 1;                 ///< Number of frames whose sums are held here.
  bool summed = false;                    ///< Frames combined by FrameCombine::sum: scale = frames, else 1.
  double empty = 0.0;                     ///< Value reported in empty bins.
  std::size_t rejected_pixels = 0;        ///< Pixels removed by sigma clipping (sigma_clip only).
};

/// Adds the sums of @p b to @p a (same bins required) and recomputes intensity and σ.
/// For the azimuthal model the merged Σvariance is the sum of each part's spread about its own mean. @throws InvalidArgument on other bins.
LIBPDF_API Result1D merge(const Result1D& a, const Result1D& b);

/// How several frames given in one call are combined.
enum class FrameCombine { sum, average };

/// Options of the outlier-rejecting 1D mode.
struct SigmaClipOptions {
  double threshold = 3.0;   ///< Reject pixels with |x − mean| > threshold·std in their bin (> 0).
  int max_iterations = 5;   ///< Stop after this many passes, or earlier when nothing more is rejected.
};

/// Size and timing of a plan, for reports and benchmarks.
struct PlanStats {
  std::size_t pixels = 0;         ///< Detector pixels.
  std::size_t valid_pixels = 0;   ///< Pixels that reach at least one bin.
  std::size_t entries = 0;        ///< (pixel, bin) pairs.
  std::size_t plan_bytes = 0;     ///< Memory of bins, weights and normalisation (the plan proper).
  std::size_t correction_bytes = 0;  ///< Memory of per-frame corrections kept beside it (dark, dark variance).
  double build_seconds = 0;       ///< Wall time to build.
};

/// A 1D azimuthal-integration plan. Immutable after construction, move-only; apply functions are
/// const and thread-safe.
class LIBPDF_API Integrator {
 public:
  /// Builds the plan (in parallel). @throws InvalidArgument for bad options, shape mismatches between
  /// geometry and corrections, an empty radial range or a plan in which every pixel is masked.
  Integrator(const Geometry& geometry, const IntegrationOptions& options, const Corrections& corrections = {});
  ~Integrator();
  /// Moves the plan (the source is left empty).
  Integrator(Integrator&&) noexcept;
  /// Moves the plan (the source is left empty).
  Integrator& operator=(Integrator&&) noexcept;
  Integrator(const Integrator&) = delete;
  Integrator& operator=(const Integrator&) = delete;

  /// Integrates one frame (any PixelType, read in place). @throws InvalidArgument on a shape mismatch,
  /// NumericalError if every pixel of the frame is invalid.
  Result1D integrate(const ImageView& frame) const;
  /// Integrates several frames in one pass, summed or averaged.
  Result1D integrate(const std::vector<ImageView>& frames, FrameCombine combine = FrameCombine::sum) const;
  /// Iterative sigma clipping across χ in each bin (removes spots, zingers, hot pixels), then integrates
  /// the surviving pixels with the plan's error model.
  Result1D sigma_clip(const ImageView& frame, const SigmaClipOptions& clip = {}) const;

  /// Detector rows the plan expects.
  std::size_t rows() const;
  /// Detector columns the plan expects.
  std::size_t cols() const;
  /// The options the plan was built with.
  const IntegrationOptions& options() const;
  const std::vector<double>& radial() const;        ///< Bin centres.
  const std::vector<double>& radial_edges() const;  ///< Bin edges.
  /// Size and build time of the plan.
  PlanStats stats() const;
  /// The (bin, weight) pairs of pixel (row, col): what the plan stores, for inspection and tests.
  std::vector<std::pair<std::size_t, double>> pixel_weights(std::size_t row, std::size_t col) const;
  /// The folded normalisation flat·Ω·P·ε·k of pixel (row, col) (0 when masked).
  double pixel_normalization(std::size_t row, std::size_t col) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// Options of a 2D (radial × χ) cake integration.
struct LIBPDF_API CakeOptions : IntegrationOptions {
  std::size_t npt_azim = 360;  ///< Number of azimuthal bins over azimuth_range_deg (default −180..180).
  /// Throws InvalidArgument naming every invalid field (those of IntegrationOptions and npt_azim).
  void validate() const;
};

/// A 2D cake: arrays are [npt_azim][npt_rad] row-major (χ slow, radial fast), as pyFAI's integrate2d.
struct Result2D {
  RadialUnit unit = RadialUnit::q_A;   ///< Radial unit of radial.
  /// Number of radial and azimuthal bins.
  ///@{
  std::size_t npt_rad = 0, npt_azim = 0;
  ///@}
  std::vector<double> radial;          ///< Radial bin centres (npt_rad).
  std::vector<double> azimuthal_deg;   ///< χ bin centres in degrees (npt_azim).
  ///@{
  /// Per bin, [npt_azim][npt_rad]: intensity, σ and the sums they were made from, as in Result1D.
  std::vector<double> intensity, sigma, sum_signal, sum_variance, sum_normalization, count;
  ///@}
};

/// A 2D cake plan; same guarantees as Integrator.
class LIBPDF_API CakeIntegrator {
 public:
  /// Builds the plan. @throws InvalidArgument as Integrator's constructor.
  CakeIntegrator(const Geometry& geometry, const CakeOptions& options, const Corrections& corrections = {});
  ~CakeIntegrator();
  /// Moves the plan (the source is left empty).
  CakeIntegrator(CakeIntegrator&&) noexcept;
  /// Moves the plan (the source is left empty).
  CakeIntegrator& operator=(CakeIntegrator&&) noexcept;
  CakeIntegrator(const CakeIntegrator&) = delete;
  CakeIntegrator& operator=(const CakeIntegrator&) = delete;

  /// Integrates one frame into the cake. @throws InvalidArgument on a shape mismatch.
  Result2D integrate(const ImageView& frame) const;
  /// Size and build time of the plan.
  PlanStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace libpdf
