#pragma once
/// @file transform.hpp
/// The sine transform between the reduced structure function F(q) and the reduced pair distribution
/// function G(r), as a reusable plan on FFTW's DST-I (RODFT00). Definitions (docs/pdf.md):
///
///   forward   G(r_i) = (2/π) Δq Σ_{j=1}^{nq−1} F(q_j) M(q_j) sin(q_j r_i)          [1/Å²]
///   inverse   F(q_j) = Δr Σ_i G(r_i) sin(q_j r_i)       (the sum runs over the plan's r grid)
///   σ         σ_G(r_i)² = (2Δq/π)² Σ_j sin²(q_j r_i) M(q_j)² σ_F(q_j)²   (independent q points)
///
/// on the grids q_j = j·Δq (j = 0..nq−1, q_0 = 0, q_{nq−1} ≤ qmax) and r_i = rmin + i·rstep
/// (i = 0..nr−1, r_{nr−1} ≤ rmax). The forward sum is the rectangle rule of
/// G(r) = (2/π)∫₀^qmax F(q) M(q) sin(qr) dq with F(0) = 0 and F = 0 beyond qmax.
///
/// How the r grid is reached exactly: FFTW's RODFT00 of length N gives G at r_k = kπ/((N+1)Δq).
/// The plan picks an integer L_r (even, a product of 2, 3, 5 and 7, at most 15 % above π/(qstep·rstep)) with
/// Δq = π/(L_r·rstep) ≤ the requested qstep, so that every rstep is a whole number of native steps, and N + 1 = m·L_r
/// with the smallest m that holds all nq samples (m = 1 unless rstep > π/qmax). F(q) must be sampled on the plan's own
/// grid q() (reduce() resamples the measured pattern onto it); rmin must be a multiple of rstep.
///
/// The plan is immutable, move-only and its transforms are const and safe to call from many threads at
/// once. Plan creation and destruction take one process-wide lock around FFTW's planner (which is not
/// thread-safe); execution uses fftw_execute_r2r on per-call buffers.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "libpdf/export.hpp"

namespace libpdf {

/// Termination (modification) function M(q) applied to F(q) before the transform, named by formula.
enum class Window {
  none,   ///< M(q) = 1
  lorch,  ///< M(q) = sin(πq/qmax)/(πq/qmax)  (Lorch 1969)
  cosine  ///< cosine taper: M = 1 for q ≤ qmax − w, M = ½[1 + cos(π(q − qmax + w)/w)] above (w = taper_width)
};
/// "none", "lorch" or "cosine".
LIBPDF_API const char* window_name(Window w);
/// Parses "none", "lorch" or "cosine". @throws InvalidArgument listing the accepted names.
LIBPDF_API Window parse_window(const std::string& name);
/// The formula of @p w as text, with its parameters, for output headers.
LIBPDF_API std::string window_formula(Window w, double qmax, double taper_width);
/// M(q) of @p w for the band (0, qmax] (0 beyond qmax).
LIBPDF_API double window_value(Window w, double q, double qmax, double taper_width);

/// How FFTW chooses its algorithm. `estimate` plans in well under a millisecond. `measure` times candidates
/// when the plan is built; for RODFT00 near length 32 000 that took 6–38 s on the project's machines and
/// executed no faster (within 2 %), so it is rarely worth it. FFTW remembers a measured plan (wisdom) for
/// later plans of the same length in the process.
enum class FftPlanning { estimate, measure };

/// Options of a sine-transform plan. validate() reports every bad field at once.
struct LIBPDF_API TransformOptions {
  double qmax = 25.0;  ///< Upper end of the q band (1/Å, > 0): F is used on (0, qmax].
  double qstep = 0.01;  ///< Largest acceptable Δq (1/Å, > 0); the plan's Δq is ≤ this and ≥ 0.87× it (see q_step()).
  double rmin = 0.0;             ///< First r (Å, ≥ 0, a multiple of rstep).
  double rmax = 30.0;            ///< Last r (Å, > rmin); the grid ends at the last rmin + i·rstep ≤ rmax.
  double rstep = 0.01;           ///< r step (Å, > 0). Nyquist: rstep ≤ π/qmax keeps the inverse alias-free.
  Window window = Window::none;  ///< Termination function M(q).
  double taper_width = 0.0;      ///< Width w (1/Å) of the cosine taper; 0 means qmax/10. Must be ≤ qmax.
  FftPlanning planning = FftPlanning::estimate;  ///< FFTW planner effort.
  int threads = 0;                               ///< Threads of forward_batch (0 = all cores).

  /// Throws InvalidArgument naming every invalid field and what was expected.
  void validate() const;
};

/// A sine-transform plan in precision T (double or float). See the file comment for the definitions.
template <class T>
class LIBPDF_API BasicSineTransform {
 public:
  /// Builds the plan. @throws InvalidArgument for invalid options, NumericalError if FFTW cannot plan.
  explicit BasicSineTransform(const TransformOptions& options);
  ~BasicSineTransform();
  /// Moves the plan (the source is left empty).
  BasicSineTransform(BasicSineTransform&&) noexcept;
  /// Moves the plan (the source is left empty).
  BasicSineTransform& operator=(BasicSineTransform&&) noexcept;
  BasicSineTransform(const BasicSineTransform&) = delete;
  BasicSineTransform& operator=(const BasicSineTransform&) = delete;

  /// The options the plan was built with.
  const TransformOptions& options() const;
  double q_step() const;               ///< Δq of the input grid (≤ options().qstep).
  std::size_t nq() const;              ///< Samples of F: q_j = jΔq, j = 0..nq−1.
  std::vector<double> q() const;       ///< The q grid.
  std::size_t nr() const;              ///< Points of G.
  std::vector<double> r() const;       ///< The r grid rmin + i·rstep.
  std::vector<double> window() const;  ///< M(q_j) on the q grid.
  std::size_t fft_length() const;      ///< N, the RODFT00 length of the forward transform.
  double native_rstep() const;         ///< π/((N+1)Δq): the FFT's own r spacing (rstep is a multiple of it).

  /// G on the r grid from F on the q grid (F[0] is ignored: sin 0 = 0). @p F has nq() values, @p G nr().
  void forward(const T* F, T* G) const;
  /// The same, returning G. @throws InvalidArgument unless @p F holds nq() values.
  std::vector<T> forward(const std::vector<T>& F) const;
  /// Many frames at once: @p F holds @p frames rows of nq() values, @p G receives rows of nr() values.
  /// Frames are shared among options().threads threads; results equal forward() row by row.
  void forward_batch(const T* F, std::size_t frames, T* G) const;
  /// The same, returning the frames·nr() values of G. @throws InvalidArgument unless @p F holds frames·nq() values.
  std::vector<T> forward_batch(const std::vector<T>& F, std::size_t frames) const;

  /// σ_G on the r grid from σ_F on the q grid (independent q points; the window enters as M²).
  void forward_sigma(const T* sigma_F, T* sigma_G) const;
  /// The same, returning σ_G. @throws InvalidArgument unless @p sigma_F holds nq() values.
  std::vector<T> forward_sigma(const std::vector<T>& sigma_F) const;

  /// F(q_j) = Δr Σ_i G(r_i) sin(q_j r_i) on the q grid from G on the r grid (G taken as 0 outside
  /// [rmin, rmax]); F[0] = 0. The window is not divided out: the inverse of forward() is F·M inside the
  /// band when the r grid covers the whole native range. @throws InvalidArgument if rstep > π/q_{nq−1}
  /// (the r grid is too coarse: q beyond π/rstep would alias).
  void inverse(const T* G, T* F) const;
  /// The same, returning F. @throws InvalidArgument unless @p G holds nr() values (and as above).
  std::vector<T> inverse(const std::vector<T>& G) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

extern template class LIBPDF_API BasicSineTransform<double>;
extern template class LIBPDF_API BasicSineTransform<float>;

/// Double-precision plan.
using SineTransform = BasicSineTransform<double>;
/// Single-precision plan (fftwf): about twice the throughput, relative accuracy about 1e−6.
using SineTransformF = BasicSineTransform<float>;

}  // namespace libpdf
