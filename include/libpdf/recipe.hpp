#pragma once
/// @file recipe.hpp
/// A recipe: every parameter of a series run (frames, geometry, corrections, integration, sample,
/// reduction, metrics, output, threads) in one TOML file that users can read, comment and keep. The
/// canonical text of a recipe (to_toml) is echoed into the result file, so a result says how it was made.
///
/// Sections and keys are listed in docs/pipeline.md (every key, its default and unit); write_recipe_template
/// writes a commented template. Relative paths are taken relative to the recipe's folder. Parsing is strict:
///   - an unknown key is an error naming the key, its section, file:line and the nearest valid key;
///   - a missing required value ([input] file, [geometry] poni, [sample] composition, [output] result) is an
///     error naming the key and giving an example;
///   - a value of the wrong type or out of range is an error naming the key, the value and what was expected
///     (the range checks are the options' own validate()).
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/reduce.hpp"

namespace libpdf {

/// Where the sample temperature of each frame comes from.
enum class TemperatureSource {
  metadata,  ///< The frames file's NXsample temperature (one value per frame, or one for all).
  list,      ///< The recipe's [input] temperatures_K (one value per input frame).
  none       ///< No temperatures (written as NaN).
};
/// "metadata", "list" or "none".
LIBPDF_API const char* temperature_source_name(TemperatureSource s);

/// What structure metrics are plotted against (and what a transition onset is detected along).
enum class MetricsAxis {
  temperature,  ///< The sample temperature: the run needs a temperature for every frame.
  frame         ///< The frame index (a series without temperatures, or a time series).
};
/// "temperature" or "frame".
LIBPDF_API const char* metrics_axis_name(MetricsAxis a);

/// [input]: the frames.
struct RecipeInput {
  std::string file;                ///< Frames file or series pattern (absolute after parsing). Required.
  std::string dataset;             ///< HDF5 path of the frames; empty = discovered (see open_frames).
  std::size_t start = 0;           ///< First input frame (0-based).
  std::optional<std::size_t> stop; ///< One past the last input frame; unset = to the end.
  std::size_t step = 1;            ///< Take every step-th frame (>= 1).
  bool flip_vertical = false;      ///< Flip frames (and mask, dark, flat) top to bottom (Dioptas calibrations).
  TemperatureSource temperature = TemperatureSource::metadata;  ///< Where temperatures come from.
  std::vector<double> temperatures_K;  ///< With temperature = list: one per input frame (K).
};

/// [corrections]: static images and per-pixel corrections (the rest of IntegrationOptions).
struct RecipeCorrections {
  std::string mask;          ///< Mask file (non-zero = masked; absolute after parsing); empty = none.
  std::string mask_dataset;  ///< HDF5 path of the mask (a NeXus pixel_mask is a bit field).
  bool flip_mask = true;     ///< With flip_vertical, flip the mask too (false: it is stored flipped already).
  std::string dark;          ///< Dark file(s) averaged and subtracted; empty = none.
  std::string dark_dataset;  ///< HDF5 path of the dark.
  bool dark_poisson_variance = false;  ///< Add the dark's Poisson variance (mean/n) to each pixel's (counting detectors).
  std::string flat;          ///< Flat field (first frame); empty = none.
  std::string flat_dataset;  ///< HDF5 path of the flat.
};

/// [metrics]: structure metrics per frame. Unset values take the metrics module's defaults (MetricsOptions).
struct RecipeMetrics {
  bool enabled = true;                         ///< Compute metrics (CSV table and /entry/metrics).
  MetricsAxis against = MetricsAxis::temperature;  ///< Temperature (needs temperatures) or frame index.
  std::optional<std::size_t> reference_frame;  ///< Input frame whose S(q) new peaks are measured against; unset = the first selected frame.
  std::optional<Range> q1_range;               ///< Window of the first S(q) peak (1/Å).
  std::optional<Range> r1_range;               ///< Window of the first G(r) peak (Å).
  std::optional<Range> mro_range;              ///< Medium-range-order window of G(r) (Å).
  std::optional<double> sq_maxima_qmax;        ///< S(q) maxima are looked for below this q (1/Å).
  std::string coordination;                    ///< Coordination-number method (metrics module name); empty = default.
  std::optional<std::vector<double>> watch_q;  ///< q of peaks to watch appear (1/Å).
  std::optional<double> watch_halfwidth;       ///< Half width of each watch window (1/Å).
};

/// [output]: where results go.
struct RecipeOutput {
  std::string result;          ///< NXazint1d result file (.h5/.nxs; absolute after parsing). Required.
  std::string table;           ///< Metrics CSV; empty = the result's name with .csv.
  std::string title;           ///< /entry/title; empty = "libpdf series run <frames file>".
  std::string instrument = "unknown";  ///< Beamline, e.g. "PETRA III P02.1".
  std::string source = "unknown";      ///< Source, e.g. "PETRA III, DESY".
  int gzip_level = 4;          ///< Deflate level 0..9 of the per-frame arrays.
  /// `pdfreduce run` draws figures after the run (gnuplot): I(q), S(q), G(r) of the first frame, the S(q) and
  /// G(r) maps, and the metrics against temperature with their onset. The library's run_series() ignores it.
  bool plots = true;
  std::string plot_dir;        ///< Folder of the figures (absolute after parsing); empty = "plots" beside the result.
};

/// [run]: how the run is executed. Results never depend on these.
struct RecipeRun {
  int threads = 0;                  ///< Worker threads (0 = all cores).
  std::size_t frames_in_flight = 0; ///< Frames read but not yet written, at most (0 = 2 × threads + 2).
};

/// A parsed recipe. Paths are absolute (relative ones were resolved against base_dir).
struct LIBPDF_API Recipe {
  std::string source;  ///< Where it came from (file path, or the name given to parse_recipe).
  std::string base_dir;  ///< Folder relative paths were resolved against.
  RecipeInput input;  ///< [input].
  std::string poni;  ///< [geometry] poni: the calibration file (absolute). Required.
  RecipeCorrections corrections;  ///< [corrections]: static images.
  /// [corrections] solid_angle, polarization, sensor_*, normalization_factor, error_model, dummy,
  /// delta_dummy, mask_detector_markers, bit_depth and [integration] npt, unit, radial_range,
  /// azimuth_range_deg, splitting, empty. threads is not used (see RecipeRun).
  IntegrationOptions integration;
  std::string sample_name;  ///< [sample] name.
  /// [sample] composition, density (g/cm³) or number_density (1/Å³), and every [reduction] key.
  ReductionOptions reduction;
  RecipeMetrics metrics;  ///< [metrics].
  RecipeOutput output;    ///< [output].
  RecipeRun run;          ///< [run].

  /// The metrics table's path: output.table, or output.result with its extension replaced by .csv.
  std::string table_path() const;
  /// Checks every value that can be checked without reading files (IntegrationOptions::validate,
  /// ReductionOptions::validate, the recipe's own keys). @throws InvalidArgument naming every bad field.
  void validate() const;
};

/// Parses recipe @p text; @p source_name names it in messages ("run.toml"), and relative paths are taken
/// relative to @p base_dir (default: the current directory). @throws InvalidArgument naming the key,
/// section, source:line and what was expected (see the file comment).
LIBPDF_API Recipe parse_recipe(const std::string& text, const std::string& source_name = "recipe",
                               const std::string& base_dir = "");
/// parse_recipe with command-line overrides applied after the file, in order: each item is
/// "section.key=value" (e.g. "reduction.qmax=25", "reduction.window=lorch", "metrics.mro_range=[5, 17]"). The
/// value is TOML; text that is not valid TOML, or that the key accepts only as a string, is taken as a string.
/// Every override is checked exactly like the same key in the file (unknown section or key with the nearest
/// valid one, type, range); messages name the override ("--set reduction.qmax=abc"). Relative paths in an
/// override are relative to the current folder.
LIBPDF_API Recipe parse_recipe(const std::string& text, const std::string& source_name, const std::string& base_dir,
                               const std::vector<std::string>& overrides);
/// Reads and parses the recipe file @p path (relative paths inside are relative to its folder).
/// @throws IoError if it cannot be read, InvalidArgument as parse_recipe.
LIBPDF_API Recipe load_recipe(const std::string& path);
/// load_recipe with command-line overrides ("section.key=value", see parse_recipe).
LIBPDF_API Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides);

/// The canonical text of @p recipe: every section and key (defaults written out), one comment per key,
/// absolute paths. parse_recipe(to_toml(r)) gives r back (same values). What the result file echoes.
LIBPDF_API std::string to_toml(const Recipe& recipe);

/// A commented template to start from: every key with its default, and placeholders for the required
/// values (the bundled example's file names).
LIBPDF_API std::string recipe_template();

/// Every valid key, as "section.key", in file order (for documentation and messages).
LIBPDF_API std::vector<std::string> recipe_keys();

}  // namespace libpdf
