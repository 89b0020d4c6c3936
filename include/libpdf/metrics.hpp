#pragma once
/// @file metrics.hpp
/// Structure metrics of one frame (docs/conventions.md §3, every definition in docs/metrics.md) and the
/// onset of a change along a series.
///
/// Short-range order (SRO):
///  - first S(q) peak in [q1_min, q1_max]: position q1 and height from the maximum of a least-squares cubic
///    through the top (points whose S − 1 is at least 90 % of the highest S − 1, the window re-centred on the
///    fitted maximum so that it is symmetric; a cubic because the peak is asymmetric); FWHM of S − 1 from the
///    interpolated half-maximum crossings;
///    the coherence length L = 2π/FWHM (key `q1_coherence_L`, not ξ = 2/FWHM);
///  - first G(r) peak in [r1_min, r1_max]: position r1 and height by the same top fit; `r1_width` is the
///    FWHM of G(r) above G = 0;
///  - coordination number cn1 = ∫ RDF(r) dr over the first shell, RDF = r·G(r) + 4πρ₀r² (or the RDF given),
///    from r = 0 (the grid start) to its first minimum after r1 (CoordinationMethod::first_minimum)
///    or twice the integral up to r1 (CoordinationMethod::symmetric).
///
/// Medium-range order (MRO), in [mro_rmin, mro_rmax]:
///  - `mro_amplitude_rms` = √(∫G² dr / (rmax − rmin)); `mro_amplitude_p2p` = the mean |G_max − G_min| over
///    successive extrema;
///  - the envelope fit G(r) ≈ A·e^(−r/ξ)·sin(Q_m r + φ) (Levenberg–Marquardt, σ-weighted when σ is known)
///    → `mro_xi`, `mro_qm`, `mro_A` (A at r = 0, as in the formula), `mro_phi`; and `mro_xi_extrema` from a
///    straight line through ln|G| at the extrema (robust where G(r) is not one damped wave);
///  - maxima 2–4 of S(q) after q1 (below sq_maxima_qmax): positions and heights by the top fit, widths as
///    full width at half prominence;
///  - watched positions (options.watch_q; `watch1` is watch_q[0], `watch2` watch_q[1], ...): a top-hat
///    detector of a new peak — the mean of D over the window |q − q_w| ≤ h minus the mean of D over the two
///    flanks h < |q − q_w| ≤ 2h, with D = S − S_ref against a reference frame, or D = S without one.
///
/// Uncertainties are one standard deviation from the fits' covariances (σ-weighted when the input carries
/// σ, else scaled by the reduced χ²) or from propagating σ. NaN σ means unknown. σ of quantities read off
/// G(r) treat its points as independent, which they are not (a transform correlates neighbouring points
/// over ≈ π/qmax): treat those σ's as lower bounds (docs/metrics.md).
///
/// All functions are pure and safe to call from many threads.
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/reduce.hpp"

namespace libpdf {

/// A value with its standard uncertainty (one σ). NaN value: not measurable on this frame; NaN σ: unknown.
struct Metric {
  double value = std::numeric_limits<double>::quiet_NaN();  ///< The value.
  double sigma = std::numeric_limits<double>::quiet_NaN();  ///< One standard deviation (NaN: unknown).
};

/// How the first-shell coordination number integrates the RDF.
enum class CoordinationMethod {
  first_minimum,  ///< ∫ RDF from r = 0 (the grid start) to its first minimum after r1
  symmetric       ///< 2 × ∫ RDF from r = 0 (the grid start) to r1 (the shell taken as symmetric about r1)
};
/// "first-minimum" or "symmetric".
LIBPDF_API const char* coordination_method_name(CoordinationMethod m);
/// Accepts "first-minimum"/"first_minimum"/"minimum" and "symmetric". @throws InvalidArgument otherwise.
LIBPDF_API CoordinationMethod parse_coordination_method(const std::string& name);

/// Where and how the metrics are read. Defaults suit La-based metallic glasses (q1 ≈ 2.2 1/Å, r1 ≈ 3.6 Å).
struct LIBPDF_API MetricsOptions {
  double q1_min = 1.0;           ///< Lower end of the first S(q) peak's search window (1/Å).
  double q1_max = 4.0;           ///< Upper end of the first S(q) peak's search window (1/Å).
  double r1_min = 2.0;           ///< Lower end of the first G(r) peak's search window (Å).
  double r1_max = 5.0;           ///< Upper end of the first G(r) peak's search window (Å).
  double mro_rmin = 5.0;         ///< Lower end of the MRO window of G(r) (Å).
  double mro_rmax = 17.0;        ///< Upper end of the MRO window of G(r) (Å).
  double sq_maxima_qmax = 12.0;  ///< S(q) maxima 2–4 are searched between q1 and this (1/Å).
  CoordinationMethod cn_method = CoordinationMethod::first_minimum;  ///< How cn1 integrates the RDF.
  std::vector<double> watch_q = {4.46};  ///< Positions where new S(q) peaks are looked for (1/Å).
  double watch_halfwidth = 0.15;         ///< h: half-width of each watch window (1/Å); flanks reach 2h.
  /// Throws InvalidArgument naming every bad field at once (non-finite, empty or reversed windows, r1_min ≤ 0,
  /// sq_maxima_qmax ≤ q1_min, watch_halfwidth ≤ 0, a watch position ≤ 2·watch_halfwidth).
  void validate() const;
};

/// One frame as the metrics read it: S(q) and/or G(r) on any strictly increasing grids.
struct MetricsInput {
  std::vector<double> q;         ///< q (1/Å), strictly increasing; empty: no S(q) metrics.
  std::vector<double> sq;        ///< S(q), same length as q.
  std::vector<double> sq_sigma;  ///< σ of S (same length) or empty.
  std::vector<double> r;         ///< r (Å), strictly increasing; empty: no G(r) metrics.
  std::vector<double> gr;        ///< G(r) (1/Å²), same length as r.
  std::vector<double> gr_sigma;  ///< σ of G (same length) or empty.
  std::vector<double> rdf;  ///< RDF(r) (1/Å) on r when known directly (used for cn1 instead of r·G + 4πρ₀r²);
                            ///< empty: computed from G and number_density.
  std::optional<double> number_density;  ///< ρ₀ (atoms/Å³): needed for cn1 (NaN without it and without rdf).
};

/// The measured part of a reduction (S(q) from the first measured q, G(r), σ when known, ρ₀, and the RDF
/// the reduction computed — Faber–Ziman based in either S(q) convention).
LIBPDF_API MetricsInput metrics_input(const ReductionResult& result);

/// The metrics of a watched S(q) position (see the file comment).
struct WatchPeak {
  double watch_q = std::numeric_limits<double>::quiet_NaN();  ///< The watched position (1/Å), as configured.
  Metric q;             ///< Position of a local maximum of S in the window (top fit); NaN when S has none there.
  Metric height;        ///< S at watch_q from a least-squares parabola over the window.
  Metric excess;        ///< Top-hat excess of D (window mean − flank mean), D = S − S_ref or S.
  Metric significance;  ///< excess / σ(excess) (σ of the input or, without it, the noise estimate); σ NaN.
};

/// Every metric of a frame (see the file comment and docs/metrics.md). NaN where the input lacks the part
/// (S(q) or G(r)) or the feature is absent (e.g. fewer than four S(q) maxima below sq_maxima_qmax).
struct LIBPDF_API StructureMetrics {
  Metric q1;                 ///< First S(q) peak position (1/Å).
  Metric q1_height;          ///< S(q1).
  Metric q1_fwhm;            ///< FWHM of S − 1 at the first peak (1/Å).
  Metric q1_coherence_L;     ///< L = 2π/FWHM (Å).
  Metric q2;                 ///< Second S(q) maximum: position (1/Å).
  Metric q2_height;          ///< Second S(q) maximum: S at the top.
  Metric q2_fwhm;            ///< Second S(q) maximum: full width at half prominence (1/Å).
  Metric q3;                 ///< Third S(q) maximum: position (1/Å).
  Metric q3_height;          ///< Third S(q) maximum: S at the top.
  Metric q3_fwhm;            ///< Third S(q) maximum: full width at half prominence (1/Å).
  Metric q4;                 ///< Fourth S(q) maximum: position (1/Å).
  Metric q4_height;          ///< Fourth S(q) maximum: S at the top.
  Metric q4_fwhm;            ///< Fourth S(q) maximum: full width at half prominence (1/Å).
  Metric r1;                 ///< First G(r) peak position (Å).
  Metric r1_height;          ///< G(r1) (1/Å²).
  Metric r1_width;           ///< FWHM of the first G(r) peak above G = 0 (Å).
  Metric cn1;                ///< First-shell coordination number (atoms).
  Metric cn1_rmax;           ///< Upper integration limit of cn1 (Å; the first RDF minimum, or r1 for symmetric).
  Metric mro_amplitude_rms;  ///< RMS of G(r) over the MRO window (1/Å²).
  Metric mro_amplitude_p2p;  ///< Mean peak-to-peak of successive G(r) extrema in the MRO window (1/Å²).
  Metric mro_xi;             ///< Coherence length ξ of the envelope fit (Å).
  Metric mro_xi_extrema;  ///< ξ from a straight line through ln|G| at the extrema in the window (Å; ≥ 4 extrema).
  Metric mro_qm;          ///< Q_m of the envelope fit (1/Å).
  Metric mro_A;           ///< A of the envelope fit, at r = 0 (1/Å²).
  Metric mro_phi;         ///< φ of the envelope fit (radians, in (−π, π], with A > 0).
  std::vector<WatchPeak> watch;                                        ///< One per options.watch_q, in order.
  double mro_chi2_reduced = std::numeric_limits<double>::quiet_NaN();  ///< Reduced χ² of the envelope fit.
};

/// Computes the metrics of @p frame. @p reference (another frame, any grid covering the watch windows) makes
/// the watch excess relative to it. @throws InvalidArgument for bad options or input (empty input, mismatched
/// lengths, non-increasing grids, NaN or infinite values, negative σ, a q1/r1/MRO/watch window outside the
/// grid, a reference without S(q)); NumericalError when the first S(q) or G(r) peak is not in its window
/// (the highest point is at the window's edge) or a top fit fails.
LIBPDF_API StructureMetrics compute_metrics(const MetricsInput& frame, const MetricsOptions& options = {},
                                            const MetricsInput* reference = nullptr);

/// The metrics as (key, value) pairs in a stable order: every metric's value under its key, then its σ under
/// `<key>_sigma`. Keys: q1 q1_height q1_fwhm q1_coherence_L q2 q2_height q2_fwhm q3 … q4_fwhm r1 r1_height
/// r1_width cn1 cn1_rmax mro_amplitude_rms mro_amplitude_p2p mro_xi mro_xi_extrema mro_qm mro_A mro_phi, then per watch
/// position k = 1, 2, …: watchk_q watchk_height watchk_excess watchk_significance.
LIBPDF_API std::vector<std::pair<std::string, double>> metrics_table(const StructureMetrics& m);
/// Exactly the keys of metrics_table() for metrics computed with @p options (CSV headers).
LIBPDF_API std::vector<std::string> metric_names(const MetricsOptions& options);

/// How detect_onset() fits.
struct OnsetOptions {
  std::size_t min_points = 4;   ///< Points each segment needs at least (≥ 2); the breakpoint is searched
                                ///< between the min_points-th point and the min_points-th from the end.
  std::optional<double> x_min;  ///< Use only points with x ≥ x_min.
  std::optional<double> x_max;  ///< Use only points with x ≤ x_max.
  double significance = 0.01;   ///< Level of the F-test of hinge against a straight line (0 < s < 1).
};

/// A continuous two-segment fit y = a + b₁(x − x₀) for x < x₀, a + b₂(x − x₀) for x ≥ x₀.
struct OnsetResult {
  bool detected = false;  ///< p_value < significance and |b₂ − b₁| > 2σ(b₂ − b₁).
  double onset = std::numeric_limits<double>::quiet_NaN();              ///< x₀ (least squares).
  double onset_sigma = std::numeric_limits<double>::quiet_NaN();        ///< From the χ²(x₀) profile (Δχ² = 1).
  double intercept = std::numeric_limits<double>::quiet_NaN();          ///< a = y at x₀.
  double intercept_sigma = std::numeric_limits<double>::quiet_NaN();    ///< σ of a (full covariance).
  double slope_below = std::numeric_limits<double>::quiet_NaN();        ///< b₁.
  double slope_below_sigma = std::numeric_limits<double>::quiet_NaN();  ///< σ of b₁ (full covariance).
  double slope_above = std::numeric_limits<double>::quiet_NaN();        ///< b₂.
  double slope_above_sigma = std::numeric_limits<double>::quiet_NaN();  ///< σ of b₂ (full covariance).
  double slope_difference_sigma = std::numeric_limits<double>::quiet_NaN();  ///< σ of b₂ − b₁.
  double p_value = std::numeric_limits<double>::quiet_NaN();     ///< Of the line being adequate (F-test, or Δχ²
                                                                 ///< test when σ is known).
  double chi2_hinge = std::numeric_limits<double>::quiet_NaN();  ///< χ² of the hinge fit (weighted when σ known).
  double chi2_line = std::numeric_limits<double>::quiet_NaN();   ///< χ² of the straight line.
  double line_slope = std::numeric_limits<double>::quiet_NaN();  ///< Slope of the straight line.
  double line_intercept = std::numeric_limits<double>::quiet_NaN();  ///< Its value at x = 0.
  std::size_t n = 0;                                                 ///< Points used.
  bool sigma_known = false;  ///< σ was given (χ² absolute) or not (scaled by the reduced χ²).
};

/// Finds where the trend of @p y against @p x changes (points in any order; @p sigma empty or all > 0).
/// The breakpoint is found on a 400-step grid between the allowed extremes and refined by golden section.
/// @throws InvalidArgument for mismatched lengths, NaN/infinite values, σ ≤ 0, bad options or fewer than
/// max(2·min_points, 5) points in the range; NumericalError when all x are equal.
LIBPDF_API OnsetResult detect_onset(const std::vector<double>& x, const std::vector<double>& y,
                                    const std::vector<double>& sigma = {}, const OnsetOptions& options = {});

}  // namespace libpdf
