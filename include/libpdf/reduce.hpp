#pragma once
/// @file reduce.hpp
/// From a 1D pattern I(q) to the total structure factor S(q), the reduced structure function F(q), the
/// reduced pair distribution function G(r), the pair distribution function g(r) and the radial
/// distribution function RDF(r), with σ carried all the way (docs/pdf.md has every formula as implemented;
/// docs/conventions.md §2 the physics).
///
///   I_c(q)  = I_s(q) − b·I_bkg(q)                                       (background subtraction, scale b)
///   S(q)    = 1 + [α·I_c − I_inc − ⟨f²⟩] / ⟨f⟩²                          (Faber–Ziman)
///   S_AL(q) = 1 + [α·I_c − I_inc − ⟨f²⟩] / ⟨f²⟩                          (Ashcroft–Langreth-weighted option)
///   F(q)    = q[S(q) − 1],  G(r) = (2/π)∫ F(q) M(q) sin(qr) dq,  g(r) = 1 + G/(4πρ₀r),  RDF = 4πρ₀r²g(r)
///
/// The normalisation α is fixed by one of three methods (recorded in the result): a high-q fit, the
/// Krogh-Moe/Norman sum rule (needs the number density ρ₀), or the PDFgetX3-style ad hoc correction (no
/// density). Optionally the Eggert/Kaplow low-r refinement forces G(r) = −4πρ₀r below r_c, and an
/// optimiser chooses the background scale and/or the density that minimise ∫₀^{r_c} [G(r) + 4πρ₀r]² dr.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/transform.hpp"

namespace libpdf {

/// A measured 1D pattern on q (1/Å, strictly increasing) with optional σ.
struct IntensityPattern {
  std::vector<double> q;          ///< q in 1/Å.
  std::vector<double> intensity;  ///< I(q), any scale.
  std::vector<double> sigma;      ///< σ of I (same length) or empty when unknown.
};

/// How the normalisation factor α is found.
enum class Normalization {
  high_q,            ///< least squares of α·I_c − (⟨f²⟩ + I_inc) over q > highq_qmin, weighted by highq_weight
  krogh_moe_norman,  ///< sum rule ∫₀^qmax q²[S(q) − 1] dq = −2π²ρ₀ (needs the number density)
  ad_hoc             ///< high-q α, then subtract q·P(q) fitted to F over [qmin, qmaxinst] (PDFgetX3-style)
};
/// "highq", "kmn" or "adhoc".
LIBPDF_API const char* normalization_name(Normalization n);
/// Parses "highq", "kmn" or "adhoc" (also "high_q", "krogh-moe-norman", "ad_hoc"). @throws InvalidArgument.
LIBPDF_API Normalization parse_normalization(const std::string& name);

/// How the ad hoc polynomial q·P(q) is chosen.
enum class AdhocFit {
  q_space,  ///< PDFgetX3: least squares of q·P(q) to F(q) over [qmin, qmaxinst]
  low_r     ///< the polynomial (and a slope s) that make G(r) = −s·r on (0, low_r_cutoff]; s = 4πρ₀ is fitted,
            ///< so no density is needed (docs/pdf.md)
};
/// "q" or "lowr".
LIBPDF_API const char* adhoc_fit_name(AdhocFit f);
/// Parses "q" (also "q_space", "qspace") or "lowr" (also "low_r", "low-r"). @throws InvalidArgument.
LIBPDF_API AdhocFit parse_adhoc_fit(const std::string& name);

/// Weight of the high-q fit.
enum class HighQWeight { none, q, q2 };
/// "1", "q" or "q2".
LIBPDF_API const char* highq_weight_name(HighQWeight w);
/// Parses "1", "q" or "q2" (also "none", "q^2"). @throws InvalidArgument listing the accepted names.
LIBPDF_API HighQWeight parse_highq_weight(const std::string& name);

/// Normalisation of the total structure factor.
enum class StructureFactorConvention {
  faber_ziman,       ///< S − 1 = [α I_c − I_inc − ⟨f²⟩]/⟨f⟩²  (g(r) and RDF follow from its G(r))
  ashcroft_langreth  ///< S − 1 = [α I_c − I_inc − ⟨f²⟩]/⟨f²⟩  = (⟨f⟩²/⟨f²⟩)(S_FZ − 1)
};
/// "faber-ziman" or "ashcroft-langreth".
LIBPDF_API const char* convention_name(StructureFactorConvention c);
/// Parses "faber-ziman" or "ashcroft-langreth". @throws InvalidArgument listing the accepted names.
LIBPDF_API StructureFactorConvention parse_convention(const std::string& name);

/// S(q) below qmin, where nothing was measured.
enum class LowQExtrapolation {
  none,   ///< F = 0 (S = 1): the transform starts at qmin
  zero,   ///< S = 0 (F = −q): a glass's S(q → 0) is small
  linear  ///< S rises linearly from 0 at q = 0 to the measured S(qmin)
};
/// "none", "zero" or "linear".
LIBPDF_API const char* extrapolation_name(LowQExtrapolation e);
/// Parses "none", "zero" or "linear". @throws InvalidArgument listing the accepted names.
LIBPDF_API LowQExtrapolation parse_extrapolation(const std::string& name);

/// Every choice of a reduction. Defaults are written in; validate() reports every bad field at once.
struct LIBPDF_API ReductionOptions {
  Composition composition;               ///< Sample composition (required).
  std::optional<double> number_density;  ///< ρ₀ in atoms/Å³ (> 0); or
  std::optional<double> mass_density;    ///< ρ in g/cm³ (> 0), converted with ⟨M⟩. Not both.
  double background_scale = 1.0;         ///< b in I_s − b·I_bkg (≥ 0); ignored without a background.

  std::optional<double> qmin;      ///< First q used (1/Å); default and lower bound: the first data point.
  std::optional<double> qmax;      ///< Last q used and transformed (1/Å); default: the last data point.
  std::optional<double> qmaxinst;  ///< Ad hoc fit upper end (≥ qmax, within the data); default qmax.
  std::optional<double> qstep;     ///< Resample onto Δq ≤ qstep. Unset: the data must be uniform in q
                                   ///< (0.1 % tolerance) and their step is used.

  Normalization normalization = Normalization::high_q;  ///< How α is found.
  double highq_qmin = 3.0;                              ///< High-q fit over q > this (1/Å, < qmax).
  HighQWeight highq_weight = HighQWeight::q;            ///< Weight of the high-q fit.
  double rpoly = 0.9;  ///< Ad hoc: polynomial degree n = round(rpoly·qmaxinst/π) (Å, > 0).
  AdhocFit adhoc_fit = AdhocFit::q_space;  ///< Ad hoc: how the polynomial is fitted (low_r needs low_r_cutoff).
  StructureFactorConvention convention = StructureFactorConvention::faber_ziman;  ///< S(q), F(q), G(r) normalisation.
  LowQExtrapolation extrapolation = LowQExtrapolation::linear;                    ///< S below qmin.

  int low_r_iterations = 0;                ///< Eggert/Kaplow iterations (≥ 0; needs low_r_cutoff and a density).
  std::optional<double> low_r_cutoff;      ///< r_c (Å, > 0): g(r) = 0 below it (≈1.4 oxides, 2.2–2.5 La glasses).
  bool optimize_background_scale = false;  ///< Optimise b (needs a background, low_r_cutoff, a density).
  bool optimize_density = false;           ///< Optimise ρ₀ (needs low_r_cutoff and a starting density).
  /// Bounds of b; default 0.5 b and 1.5 b.
  ///@{
  std::optional<double> background_scale_min, background_scale_max;
  ///@}
  /// Bounds of ρ₀ (atoms/Å³); default 0.5 ρ₀ and 1.5 ρ₀.
  ///@{
  std::optional<double> density_min, density_max;
  ///@}
  int optimize_max_evaluations = 300;              ///< Budget of the Nelder–Mead optimiser (> 0).

  double rmin = 0.0;                             ///< G(r) grid start (Å, multiple of rstep).
  double rmax = 30.0;                            ///< G(r) grid end (Å).
  double rstep = 0.01;                           ///< G(r) grid step (Å, > 0).
  Window window = Window::none;                  ///< Termination function M(q) of the final transform.
  double taper_width = 0.0;                      ///< Cosine taper width (1/Å); 0 = qmax/10.
  FftPlanning planning = FftPlanning::estimate;  ///< FFTW planner effort.

  /// Throws InvalidArgument naming every invalid field and what was expected.
  void validate() const;
};

/// Everything a reduction produced and every value it used. Arrays on q share the grid q (q_j = jΔq from
/// 0, with q[first_measured] the first point at or above qmin); arrays on r share r.
struct ReductionResult {
  ReductionOptions options;  ///< The options as given.
  // Resolved parameters.
  /// Band used (1/Å).
  ///@{
  double qmin = 0, qmax = 0, qmaxinst = 0;
  ///@}
  double qstep = 0;                         ///< Δq of the grid.
  /// Extent of the measured pattern.
  ///@{
  double data_qmin = 0, data_qmax = 0;
  ///@}
  bool resampled = false;                   ///< The pattern was interpolated onto the grid (always, unless its q
                                            ///< points coincide with the grid's).
  double alpha = 0;                         ///< Normalisation factor α.
  double background_scale = 0;              ///< b of the first background (0 without one); optimised if asked.
  std::vector<double> background_scales;    ///< The scale of every background term, in order.
  std::optional<double> number_density;     ///< ρ₀ used (atoms/Å³); optimised if asked.
  int adhoc_degree = 0;                     ///< Degree n of q·P(q) (ad hoc).
  std::vector<double> adhoc_coefficients;   ///< c_1..c_n of q·P(q) = Σ c_k q^k (ad hoc).
  std::optional<double> adhoc_density;      ///< ρ₀ = s/(4π) from the slope of the low-r ad hoc fit (atoms/Å³).
  int low_r_iterations = 0;                 ///< Eggert/Kaplow iterations done.
  std::optional<double> low_r_residual;  ///< ∫₀^{r_c} [G + 4πρ₀r]² dr of the final S(q) (Å⁻³), when r_c and ρ₀ known.
  int optimizer_evaluations = 0;  ///< Reductions the optimiser ran.
  bool has_sigma = false;         ///< σ arrays are filled (the sample pattern had σ).

  std::vector<double> q;                            ///< Grid 0..qmax.
  std::size_t first_measured = 0;                   ///< Index of the first measured q (below: extrapolated).
  /// I_c = I_s − b·I_bkg on the grid (0 below qmin), and its σ.
  ///@{
  std::vector<double> iq, iq_sigma;
  ///@}
  /// ⟨f²⟩, ⟨f⟩², I_inc on the grid.
  ///@{
  std::vector<double> f2_mean, f_mean_sq, compton;
  ///@}
  /// S(q) in the chosen convention, and its σ.
  ///@{
  std::vector<double> sq, sq_sigma;
  ///@}
  /// F(q) = q[S(q) − 1] (1/Å), and its σ.
  ///@{
  std::vector<double> fq, fq_sigma;
  ///@}
  std::vector<double> r;                            ///< rmin:rstep:rmax.
  /// G(r) (1/Å²), with the window, and its σ.
  ///@{
  std::vector<double> gr, gr_sigma;
  ///@}
  /// g(r) = 1 + G_FZ/(4πρ₀r) and its σ (empty without ρ₀; g(0) := 0).
  ///@{
  std::vector<double> pair_gr, pair_gr_sigma;
  ///@}
  /// RDF(r) = 4πρ₀r²g(r) and its σ (1/Å; empty without ρ₀).
  ///@{
  std::vector<double> rdf, rdf_sigma;
  ///@}
};

/// A pattern subtracted from the sample with a scale: the sample environment, the empty container, ...
struct BackgroundTerm {
  IntensityPattern pattern;  ///< On q (1/Å), covering the band used; any grid (interpolated).
  double scale = 1.0;        ///< Its factor in I_c = I_s − Σ scale·I (≥ 0).
};

/// Reduces @p sample with every term of @p backgrounds subtracted: I_c = I_s − Σ_k scale_k·I_k (σ² adds
/// scale_k²σ_k²). options.background_scale is not used here; optimize_background_scale optimises the scale of
/// backgrounds[0] (the others stay fixed; bounds default to 0.5–1.5 × its scale).
/// @throws the same as the single-background overload below.
LIBPDF_API ReductionResult reduce(const IntensityPattern& sample, const std::vector<BackgroundTerm>& backgrounds,
                                  const ReductionOptions& options);
/// Reduces @p sample (with an optional @p background subtracted with options.background_scale).
/// @throws InvalidArgument for bad options or input (unknown element, empty composition, qmax beyond the
/// data, non-increasing or — without qstep — non-uniform q, a NaN, mismatched lengths, a background that
/// does not cover the band, ...), NumericalError when the normalisation is impossible (α ≤ 0, no data
/// above highq_qmin, a singular ad hoc fit).
LIBPDF_API ReductionResult reduce(const IntensityPattern& sample, const IntensityPattern* background,
                                  const ReductionOptions& options);
/// Without background.
LIBPDF_API ReductionResult reduce(const IntensityPattern& sample, const ReductionOptions& options);

/// A reduction with fixed options for many patterns (the frames of a series). reduce() builds the FFTW
/// sine-transform plan(s) and the scattering factors on the q grid for every call; a Reducer keeps them
/// between calls and rebuilds them only when a pattern needs other ones (another q grid or qmax from the
/// data). Results are bit for bit those of reduce() with the same options. Not safe to share between threads:
/// use one per thread (a series run gives each worker its own).
class LIBPDF_API Reducer {
 public:
  /// Keeps @p options for every reduction. @throws InvalidArgument for invalid options (ReductionOptions::validate()).
  explicit Reducer(ReductionOptions options);
  ~Reducer();
  /// Moves the reducer with its plans (the source may only be destroyed or assigned to).
  Reducer(Reducer&&) noexcept;
  /// Moves the reducer with its plans (the source may only be destroyed or assigned to).
  Reducer& operator=(Reducer&&) noexcept;
  Reducer(const Reducer&) = delete;
  Reducer& operator=(const Reducer&) = delete;

  /// The options of every reduction.
  const ReductionOptions& options() const;
  /// As reduce(sample, backgrounds, options()). @throws the same.
  ReductionResult reduce(const IntensityPattern& sample, const std::vector<BackgroundTerm>& backgrounds);
  /// As reduce(sample, background, options()). @throws the same.
  ReductionResult reduce(const IntensityPattern& sample, const IntensityPattern* background);
  /// As reduce(sample, options()). @throws the same.
  ReductionResult reduce(const IntensityPattern& sample);
  /// Sine-transform plans built so far (the final one, and the low-r one when low_r_cutoff is set): 1 or 2
  /// after any number of reductions of patterns on one grid.
  std::size_t plans_built() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The PDFgetX3-style header of every parameter of @p result (so a user can redo the run), after @p inputs
/// (e.g. {"inputfile", path}, {"backgroundfile", path}, set by the caller).
LIBPDF_API std::vector<HeaderEntry> reduction_header(const ReductionResult& result,
                                                     const std::vector<HeaderEntry>& inputs = {});

/// Writes PREFIX.iq (I_c over [qmin, qmax]), PREFIX.sq, PREFIX.fq (0..qmax) and PREFIX.gr (G(r)), each with
/// reduction_header() and columns x, y[, σ]; atomically. Returns the paths. @throws IoError.
LIBPDF_API std::vector<std::string> write_reduction(const std::string& prefix, const ReductionResult& result,
                                                    const std::vector<HeaderEntry>& inputs = {});

}  // namespace libpdf
