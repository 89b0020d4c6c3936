#pragma once
/// @file relax.hpp
/// Structure meets dynamics: the β relaxation from dynamic mechanical analysis (DMA, tan δ against temperature
/// at a fixed frequency), the glass transition and exothermic transition peaks from calorimetry (DSC, Flash
/// DSC), their change along an annealing series, and a table keyed by sample name that joins them with the
/// structure metrics of the same samples. Models, criteria and defaults are described in docs/relaxation.md.
///
/// Conventions: temperatures in kelvin everywhere (files in °C or °F are converted on reading); DSC heat flow
/// is held "endo up" (heat taken up by the sample positive, so the glass-transition step rises) in W/g when
/// the file or the caller gives the sample mass, else in W; enthalpies are exothermic-positive, in J/g (or J).
/// Uncertainties are one standard deviation. No function keeps state: all are safe to call from many threads.
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <Eigen/Core>

#include "libpdf/export.hpp"

namespace libpdf {

/// A closed temperature interval [lo_K, hi_K].
struct TemperatureRange {
  /// Lower and upper end (K).
  ///@{
  double lo_K = 0, hi_K = 0;
  ///@}
};

/// A number with its standard uncertainty.
struct ValueSigma {
  double value = 0;  ///< The value.
  double sigma = 0;  ///< One standard deviation; 0 when unknown.
};

// =============================================================================================================
// Reading instrument exports

/// Unit of a temperature column that names none.
enum class TemperatureUnit {
  automatic,  ///< kelvin when every value is ≥ 150, else °C (an assumption, recorded in the curve's notes)
  kelvin,
  celsius
};
/// "auto", "K" or "C".
LIBPDF_API const char* temperature_unit_name(TemperatureUnit u);
/// Accepts "auto", "K", "C" (also "kelvin", "celsius", "degC"). @throws InvalidArgument otherwise.
LIBPDF_API TemperatureUnit parse_temperature_unit(const std::string& name);

/// Sign convention of a DSC heat-flow column.
enum class HeatFlowSign {
  automatic,  ///< from "exo up"/"endo up"/"exo down"/"endo down" in the header or column name, else endo up (noted)
  endo_up,    ///< endothermic effects positive (PerkinElmer, Mettler default; DIN 51007)
  exo_up      ///< exothermic effects positive (TA Instruments default): the values are negated on reading
};
/// "auto", "endo-up" or "exo-up".
LIBPDF_API const char* heat_flow_sign_name(HeatFlowSign s);
/// Accepts "auto", "endo-up", "exo-up" (underscores too). @throws InvalidArgument otherwise.
LIBPDF_API HeatFlowSign parse_heat_flow_sign(const std::string& name);

/// How text and CSV exports are read. The defaults detect everything; each field overrides one detection.
struct LIBPDF_API CurveReadOptions {
  TemperatureUnit temperature_unit = TemperatureUnit::automatic;  ///< Used only when the column names no unit.
  std::string temperature_column;  ///< Exact header of the temperature column; empty: detected.
  std::string signal_column;       ///< Exact header of the tan δ (DMA) or heat-flow (DSC) column; empty: detected.
  double frequency_Hz = 1.0;       ///< DMA: when a file holds several frequencies, the rows at this one are kept
                                   ///< (the study's 1 Hz; > 0). A single-frequency file is read whatever its frequency.
  bool sort_by_temperature = false;  ///< Sort rows by temperature (equal temperatures averaged) instead of rejecting
                                     ///< a temperature column that does not increase strictly.
  HeatFlowSign heat_flow_sign = HeatFlowSign::automatic;  ///< DSC sign convention.
  std::optional<double> heating_rate_K_per_min;  ///< Overrides the file's heating rate (> 0).
  std::optional<double> sample_mass_mg;          ///< Overrides the file's sample mass (> 0); converts W to W/g.

  /// Throws InvalidArgument naming every invalid field and what was expected.
  void validate() const;
};

/// A DMA temperature scan at one frequency, temperature strictly increasing.
struct DmaCurve {
  std::string source;                      ///< File name (or what the caller named the text).
  std::string sample;                      ///< Sample name from the header ("Sample: ..."), else empty.
  std::vector<double> temperature_K;       ///< Temperature (K), strictly increasing.
  std::vector<double> tan_delta;           ///< Loss factor tan δ = E″/E′.
  std::vector<double> storage_modulus_Pa;  ///< E′ (or G′); empty when the file has none.
  std::vector<double> loss_modulus_Pa;     ///< E″ (or G″); empty when the file has none.
  std::optional<double> frequency_Hz;      ///< From a frequency column or the header.
  std::optional<double> heating_rate_K_per_min;  ///< From the header, when given.
  std::vector<std::string> notes;          ///< How each column was recognised and converted, and assumptions made.
};

/// A DSC heating scan, temperature strictly increasing, heat flow endo up.
struct DscCurve {
  std::string source;                      ///< File name (or what the caller named the text).
  std::string sample;                      ///< Sample name from the header, else empty.
  std::vector<double> temperature_K;       ///< Temperature (K), strictly increasing.
  std::vector<double> heat_flow;           ///< Endo up, in heat_flow_unit.
  std::string heat_flow_unit = "W/g";      ///< "W/g" (specific) or "W" (sample mass unknown).
  std::vector<double> time_s;              ///< Empty when the file has no time column.
  std::optional<double> heating_rate_K_per_min;  ///< Option, header, or the slope of T(t) when a time column exists.
  std::optional<double> sample_mass_mg;   ///< Sample mass (mg), when given.
  std::vector<std::string> notes;          ///< How each column was recognised and converted, and assumptions made.
};

/// Reads a DMA export: plain text or CSV (',', ';', tab or blank separated; decimal commas with ';' or tab),
/// '#' comments and "key: value" header lines, a column-name row (units in "(°C)", "[K]" or after '/' as in
/// "Temp./°C"; a separate unit row is recognised). Temperature in K, °C or °F; tan δ ("tan δ", "tan delta",
/// "tand", "loss factor"), or E″/E′ when only the moduli are given; moduli in Pa, kPa, MPa or GPa; frequency in
/// Hz, kHz or rad/s. @throws IoError naming the file, the line or column, the value and what was expected: an
/// unreadable file, no tan δ column (the columns found are listed), an unknown unit, a malformed row, fewer
/// than 2 data rows, a temperature that does not increase strictly, a missing frequency.
LIBPDF_API DmaCurve read_dma(const std::string& path, const CurveReadOptions& options = {});
/// The same from text in memory; @p source names it in messages.
LIBPDF_API DmaCurve parse_dma(const std::string& text, const std::string& source,
                              const CurveReadOptions& options = {});

/// Reads a DSC / Flash-DSC export (same layouts as read_dma): temperature (sample temperature preferred over
/// reference or program temperature), heat flow in W/g, mW/mg, mW/g, W/kg, W, mW or µW (NETZSCH "DSC/(mW/mg)"
/// included), optional time in s, min or h; heating rate and sample mass from the header ("Heating rate: 20
/// K/min", "Sample mass: 10.5 mg"), or the heating rate from the time column. @throws IoError as read_dma.
LIBPDF_API DscCurve read_dsc(const std::string& path, const CurveReadOptions& options = {});
/// The same from text in memory; @p source names it in messages.
LIBPDF_API DscCurve parse_dsc(const std::string& text, const std::string& source,
                              const CurveReadOptions& options = {});

// =============================================================================================================
// β relaxation from tan δ(T)

/// Model of the rising α-relaxation wing under the β peak.
enum class BackgroundModel {
  exponential,  ///< B(T) = c + a·exp((T − T_ref)/w); parameters c, a, w (K); T_ref = upper end of the fit range
  arrhenius     ///< B(T) = c + a·exp(−(E/k_B)(1/T − 1/T_ref)); parameters c, a, E/k_B (K)
};
/// "exponential" or "arrhenius".
LIBPDF_API const char* background_model_name(BackgroundModel m);
/// Parses "exponential" or "arrhenius". @throws InvalidArgument listing the accepted names.
LIBPDF_API BackgroundModel parse_background_model(const std::string& name);

/// Model of the β peak.
enum class PeakModel {
  gaussian,  ///< P(T) = h·exp(−(T − T_β)²/(2s²)); parameters h, T_β, s (K); FWHM = 2√(2 ln 2)·s
  debye      ///< P(T) = h / cosh((E/k_B)(1/T − 1/T_β)): the isochronal loss of one Debye process with an Arrhenius
             ///< relaxation time (E its apparent activation energy); parameters h, T_β, E/k_B (K)
};
/// "gaussian" or "debye".
LIBPDF_API const char* peak_model_name(PeakModel m);
/// Parses "gaussian" or "debye". @throws InvalidArgument listing the accepted names.
LIBPDF_API PeakModel parse_peak_model(const std::string& name);

/// Options of the β-relaxation analysis. Defaults are written in; validate() reports every bad field at once.
struct LIBPDF_API BetaFitOptions {
  BackgroundModel background = BackgroundModel::exponential;  ///< Model of the background under the β peak.
  PeakModel peak = PeakModel::gaussian;                       ///< Model of the β peak.
  std::optional<TemperatureRange> range;  ///< Fit range; default: from the first point up to where tan δ first
                                          ///< exceeds max_tan_delta (the α peak itself is not modelled).
  double max_tan_delta = 0.2;       ///< Upper end of the default range (> 0).
  double smoothing_K = 6.0;         ///< Width of the local quadratic (Savitzky–Golay) window used to find maxima and
                                    ///< to read the measured tan δ at T_β (> 0; at least 5 points are used).
  double min_prominence = 3.0;      ///< Criterion (a): a maximum counts when its prominence is ≥ this × the noise σ (> 0).
  double min_significance = 3.0;    ///< Criterion (b): the fitted height must be ≥ this × its σ (> 0).
  int max_iterations = 200;         ///< Levenberg–Marquardt iterations per start (> 0).

  /// Throws InvalidArgument naming every invalid field and what was expected.
  void validate() const;
};

/// A fitted background + peak (or background only) model with its parameter covariance.
struct LIBPDF_API BetaModelFit {
  BackgroundModel background = BackgroundModel::exponential;  ///< Background model fitted.
  PeakModel peak = PeakModel::gaussian;                       ///< Peak model fitted (when has_peak).
  bool has_peak = true;                  ///< false: background only (parameters 0..2).
  double reference_K = 0;                ///< T_ref of the background.
  Eigen::VectorXd parameters;            ///< Background c, a, w or E/k_B; then peak h, T_β, s or E/k_B.
  Eigen::MatrixXd covariance;            ///< Of the parameters; scaled by χ²/(n − p) (tan δ carries no σ of its own).
  std::vector<std::string> names;        ///< Parameter names, e.g. "c", "a", "w_K", "h", "T_beta_K", "s_K".
  double chi2 = 0;                       ///< Sum of squared residuals.
  double residual_rms = 0;               ///< √(χ²/(n − p)).
  std::size_t points = 0;                ///< Points fitted.
  int iterations = 0;                   ///< Levenberg–Marquardt iterations of the best start.

  double background_at(double T_K) const;  ///< B(T).
  double peak_at(double T_K) const;        ///< P(T) (0 without a peak).
  double total_at(double T_K) const;       ///< B(T) + P(T).
};

/// The β peak, when there is one.
struct BetaPeak {
  ValueSigma T_beta_K;              ///< Peak temperature: the centre of the fitted peak component.
  ValueSigma height;                ///< tan δ_β: the peak's height above the fitted background at T_β.
  ValueSigma fwhm_K;                ///< Full width at half maximum of the peak component.
  ValueSigma tan_delta_at_T_beta;   ///< Measured tan δ at T_β (local quadratic over smoothing_K): what the study quotes.
  double background_at_T_beta = 0;  ///< B(T_β).
  double T_max_K = 0;               ///< Maximum of the fitted total (the temperature one reads off a plot).
  double prominence = 0;            ///< Prominence of the measured (smoothed) maximum.
  std::optional<ValueSigma> activation_energy_eV;  ///< E of the Debye peak model.
};

/// Result of fit_beta_relaxation().
struct BetaRelaxation {
  std::string source;                   ///< The curve's source (file name).
  std::optional<double> frequency_Hz;   ///< The curve's frequency, when known.
  TemperatureRange range;               ///< Fit range used.
  std::size_t points = 0;               ///< Points in the range.
  double noise_sigma = 0;               ///< Noise σ of tan δ, from second differences (robust, MAD-based).
  std::optional<BetaPeak> peak;         ///< nullopt: no β peak (an excess wing); nothing is invented.
  bool excess_wing = false;             ///< No clear maximum: the β relaxation shows only as an excess wing.
  std::string verdict;                  ///< "peak", or why it is an excess wing (which criterion failed, with numbers).
  BetaModelFit fit;                     ///< Background + peak fit (background only for an excess wing without a
                                        ///< significant peak component).
  std::optional<BetaModelFit> component;  ///< Excess wing: the fitted background + peak component, for information
                                          ///< only (its centre is not a T_β).
};

/// Separates the β peak from the α wing in tan δ(T): fits background + peak by Levenberg–Marquardt (several
/// starts, lowest χ² kept), and reports a peak only when (a) the smoothed measured tan δ has an interior local
/// maximum whose prominence is ≥ min_prominence × noise σ, and (b) the fitted height is ≥ min_significance × its σ
/// with T_β inside the range. Otherwise the result is an excess wing (excess_wing = true, no peak).
/// @throws InvalidArgument for bad options, fewer than 12 points in the range, non-finite values or a
/// temperature that does not increase strictly; NumericalError when a clear maximum exists but no fit converges.
LIBPDF_API BetaRelaxation fit_beta_relaxation(const DmaCurve& curve, const BetaFitOptions& options = {});

// =============================================================================================================
// Glass transition and transition peaks from heat flow

/// Options of the DSC analysis. Every range is optional (detected when unset). validate() reports every bad field.
struct LIBPDF_API DscOptions {
  std::optional<TemperatureRange> tg_search;        ///< Where the step's inflection is sought; default: the first
                                                    ///< significant rise of the heat flow (not an exotherm's trailing edge).
  std::optional<TemperatureRange> glass_baseline;   ///< Glass line fit; default [T_i − 8s, T_i − 3s] (s from the step's width).
  std::optional<TemperatureRange> liquid_baseline;  ///< Supercooled-liquid line fit; default [T_i + 3s, T_i + 6s], before any exotherm.
  std::optional<TemperatureRange> peak_search;      ///< Where exothermic peaks are sought; default: above the glass transition.
  std::optional<TemperatureRange> relaxation_range; ///< If set: the sub-T_g exothermic relaxation enthalpy is the area
                                                    ///< between the curve and the chord across this range.
  double smoothing_K = 3.0;       ///< Savitzky–Golay window (quadratic) for derivatives (> 0; at least 5 points).
  double min_step_sigma = 8.0;    ///< A lobe of dq/dT (a step, an exotherm's edge) must stand this × the slope's noise σ
                                  ///< away from the baseline slope (the median of dq/dT) (> 0).
  double min_peak_sigma = 8.0;    ///< An exotherm's depth must exceed this × the noise σ of the heat flow (> 0).

  /// Throws InvalidArgument naming every invalid field and what was expected.
  void validate() const;
};

/// A straight line y = slope·(T − T0_K) + value_at_T0, fitted over a range, with its parameter covariance.
struct FittedLine {
  double T0_K = 0;           ///< Centre of the fitted range (makes slope and value uncorrelated).
  double value_at_T0 = 0;    ///< The line at T0_K (heat-flow unit).
  double slope = 0;          ///< Slope (heat-flow unit per K).
  /// σ of value_at_T0 and of slope.
  ///@{
  double value_sigma = 0, slope_sigma = 0;
  ///@}
  TemperatureRange range;    ///< Where it was fitted.
  /// The line at temperature @p T_K.
  double at(double T_K) const { return value_at_T0 + slope * (T_K - T0_K); }
};

/// The glass transition by the tangent construction (ISO 11357-2, ASTM E1356).
struct GlassTransition {
  ValueSigma onset_K;          ///< Intersection of the glass line with the inflectional tangent.
  ValueSigma midpoint_K;       ///< Where the curve is halfway between the glass and liquid lines (half step).
  double inflection_K = 0;     ///< Steepest point of the step.
  ValueSigma end_K;            ///< Intersection of the inflectional tangent with the liquid line.
  double step_height = 0;      ///< Liquid minus glass line at the midpoint (heat-flow unit).
  std::optional<double> delta_cp;  ///< step_height / heating rate: J/(g·K) (or J/K); when the rate is known.
  /// The glass line (below the step), the liquid line (above it) and the inflectional tangent.
  ///@{
  FittedLine glass_line, liquid_line, tangent;
  ///@}
};

/// An exothermic peak (a polyamorphous transition, crystallisation) integrated over a linear baseline.
struct ExothermicPeak {
  ValueSigma onset_K;          ///< Pre-peak baseline ∩ tangent at the leading edge's steepest point.
  double peak_K = 0;           ///< Extremum of the heat flow.
  ValueSigma end_K;            ///< Post-peak baseline ∩ tangent at the trailing edge's steepest point.
  /// Integration limits (3.5 inflection half-widths either side of the peak).
  ///@{
  double start_K = 0, stop_K = 0;
  ///@}
  double height = 0;           ///< Baseline minus heat flow at the peak (heat-flow unit, > 0).
  std::optional<ValueSigma> enthalpy;  ///< ∫(baseline − heat flow) dT / heating rate: J/g (or J), exothermic positive.
  /// Baseline within [start, stop]: the chord between them at the limits.
  ///@{
  FittedLine pre_baseline, post_baseline;
  ///@}
};

/// Result of analyze_dsc().
struct DscAnalysis {
  std::string source;                            ///< The curve's source (file name).
  std::string heat_flow_unit;                    ///< Of step and peak heights.
  std::string enthalpy_unit;                     ///< "J/g" or "J" (with heat_flow_unit "W").
  std::optional<double> heating_rate_K_per_min;  ///< Needed for enthalpies and Δc_p.
  double noise_sigma = 0;                        ///< Noise σ of the heat flow.
  GlassTransition glass_transition;              ///< T_g by the tangent construction.
  std::vector<ExothermicPeak> exotherms;         ///< In temperature order; the first above T_g is the transition peak.
  std::optional<ValueSigma> relaxation_enthalpy; ///< With DscOptions::relaxation_range.
  std::vector<std::string> notes;                ///< Choices made (windows, missing heating rate).
};

/// T_g (onset, midpoint, end), exothermic peaks and, optionally, the relaxation enthalpy of a heating scan.
/// @throws InvalidArgument for bad options, fewer than 20 points, non-finite values or a non-increasing
/// temperature; NumericalError when no glass-transition step is found or a baseline window holds too few points.
LIBPDF_API DscAnalysis analyze_dsc(const DscCurve& curve, const DscOptions& options = {});

/// Relaxation enthalpy by two scans: ΔH_rel = ∫ [q_ref(T) − q(T)] dT / β over @p range (exothermic positive):
/// the heat an unrelaxed sample (@p scan, e.g. as-cast) releases below T_g compared with a relaxed reference
/// (@p reference, e.g. the rescan). The reference is interpolated linearly onto the scan's temperatures.
/// @throws InvalidArgument when the range is not covered by both curves, their units differ or the heating rate
/// of @p scan is unknown.
LIBPDF_API ValueSigma relaxation_enthalpy(const DscCurve& scan, const DscCurve& reference, TemperatureRange range);

// =============================================================================================================
// Annealing series

/// One sample of an annealing series: what the analyses above give, by name.
struct RelaxationSample {
  std::string sample;                  ///< Name; the key when joining with structure metrics.
  std::optional<double> annealing_K;   ///< Pre-annealing temperature T_a; nullopt: as-cast (the reference).
  std::optional<ValueSigma> T_beta_K;  ///< nullopt: no β peak (excess wing).
  std::optional<ValueSigma> tan_delta; ///< tan δ at T_β (the study's measure) or the peak height: the caller's choice.
  std::optional<ValueSigma> Tg_K;      ///< T_g (onset) of the same state.
};

/// A sample with its β result and (optionally) its DSC result: T_beta_K and tan_delta_at_T_beta from @p beta
/// when it has a peak, Tg_K = onset from @p dsc.
LIBPDF_API RelaxationSample make_relaxation_sample(const std::string& sample, std::optional<double> annealing_K,
                                                   const BetaRelaxation& beta, const DscAnalysis* dsc = nullptr);

/// Weighted straight line y = intercept + slope·x.
struct LIBPDF_API LineFit {
  /// Slope and intercept with their σ.
  ///@{
  ValueSigma slope, intercept;
  ///@}
  double covariance = 0;       ///< cov(slope, intercept).
  double chi2 = 0;             ///< Weighted χ² (unweighted sum of squares when no σ was given).
  int dof = 0;                 ///< Points − 2.
  double r = 0;                ///< Pearson correlation of x and y.
  std::size_t points = 0;      ///< Points fitted.
  bool weighted = false;       ///< σ were given (χ² weighted).
  /// The line at @p x.
  double at(double x) const { return intercept.value + slope.value * x; }
  double sigma_at(double x) const;  ///< σ of the line at x (from the covariance).
};

/// Straight-line fit with σ on y and x by effective variance (σ_y² + slope²·σ_x², iterated): the covariance is
/// scaled by max(1, χ²/dof) (the Birge ratio) when weighted, by χ²/dof when no σ is given. σ vectors may be empty.
/// @throws InvalidArgument for fewer than 2 points, size mismatches or non-finite values; NumericalError when
/// all x are equal.
LIBPDF_API LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y,
                            const std::vector<double>& sigma_y = {}, const std::vector<double>& sigma_x = {});

/// One row of an annealing series, relative to the as-cast sample.
struct AnnealingPoint {
  std::string sample;                             ///< Sample name.
  std::optional<double> annealing_K;              ///< Annealing temperature (K); unset for the as-cast sample.
  std::optional<ValueSigma> delta_T_beta_K;       ///< T_β(T_a) − T_β(as-cast).
  std::optional<ValueSigma> relative_tan_delta;   ///< [tan δ(T_a) − tan δ(as-cast)] / tan δ(as-cast).
};

/// Result of analyze_annealing_series().
struct AnnealingSeries {
  std::string reference_sample;            ///< The as-cast sample.
  std::vector<AnnealingPoint> points;      ///< In input order (the reference included, at 0).
  std::optional<LineFit> T_beta_vs_Tg;     ///< T_β = intercept + slope·T_g over the samples with both (≥ 2).
};

/// ΔT_β and Δtan δ/tan δ_as-cast for every sample (σ by independent propagation), and T_β against T_g.
/// @throws InvalidArgument when there is not exactly one as-cast sample, it lacks T_β or tan δ, tan δ_as-cast
/// is 0, or a name repeats.
LIBPDF_API AnnealingSeries analyze_annealing_series(const std::vector<RelaxationSample>& samples);

// =============================================================================================================
// Tables keyed by sample

/// A table of text cells with one key column (the sample name). Numbers are written with 10 significant digits;
/// an empty cell is a missing value.
struct LIBPDF_API SampleTable {
  std::string key = "sample";                     ///< Name of the key column.
  std::vector<std::string> columns;               ///< Other columns, in order.
  std::vector<std::string> samples;               ///< Key of each row (unique).
  std::vector<std::vector<std::string>> cells;    ///< cells[row][column].

  /// Index of @p column. @throws InvalidArgument naming the column and listing those present.
  std::size_t column_index(const std::string& column) const;
  /// Row of @p sample, if present.
  std::optional<std::size_t> row_index(const std::string& sample) const;
  /// The cell as a number (nullopt when empty). @throws InvalidArgument when it is not a number.
  std::optional<double> number(std::size_t row, const std::string& column) const;
};

/// Reads a CSV (',' or ';' or tab separated, '#' comments) whose header row names @p key among its columns.
/// @throws IoError naming the file, line and what was expected (no key column, a repeated sample, ragged rows).
LIBPDF_API SampleTable read_sample_table(const std::string& path, const std::string& key = "sample");
/// The same from text in memory.
LIBPDF_API SampleTable parse_sample_table(const std::string& text, const std::string& source,
                                          const std::string& key = "sample");
/// CSV text: a first comment line `# libpdf <version>`, then the key column first, cells quoted when they hold a
/// separator or a quote, or start with '#' (so that no row reads as a comment).
LIBPDF_API std::string format_sample_table(const SampleTable& table);
/// Writes format_sample_table() atomically. @throws IoError.
LIBPDF_API void write_sample_table(const std::string& path, const SampleTable& table);

/// Joins two tables by sample name (full outer join: @p left's rows in order, then rows only in @p right).
/// A column present in both must agree on every shared sample (numbers within 1e-9 relative, else text equal)
/// and appears once; the key column keeps @p left's name (the two keys may be named differently).
/// @throws InvalidArgument when a shared column disagrees, naming the sample, the column and both values.
LIBPDF_API SampleTable join_by_sample(const SampleTable& left, const SampleTable& right);

/// The series as a table: annealing_K, T_beta_K(+_sigma), tan_delta(+_sigma), Tg_K(+_sigma), delta_T_beta_K(+_sigma),
/// relative_tan_delta(+_sigma), one row per sample.
LIBPDF_API SampleTable relaxation_table(const std::vector<RelaxationSample>& samples, const AnnealingSeries& series);

}  // namespace libpdf
