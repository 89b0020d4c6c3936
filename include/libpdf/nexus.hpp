#pragma once
/// @file nexus.hpp
/// Reduction results as one NeXus/HDF5 file per reduction, laid out as NXazint1d (docs/files.md,
/// docs/conventions.md §4):
///
///     /                      @default = "entry"
///     /entry                 NXentry, @default = "integrated", definition = "NXazint1d"
///       solid_angle_applied, polarization_applied, normalization_applied, monitor_applied   (booleans)
///       instrument           NXinstrument: name, monochromator/{wavelength [Å], energy [keV]}, source/{name,type,probe}
///       reduction            NXprocess: program, version, date, reference, note,
///                            input (NXparameters): poni (full PONI text), every parameter, libpdf_version
///       integrated           NXdata @signal = "I", @axes = [".", "radial_axis"]:
///                            I[nFrames, nRad], I_errors, radial_axis @units "1/angstrom", radial_axis_edges,
///                            frame_index[nFrames] (frame of the input each row came from)
///       sample               NXsample: name, chemical_formula, temperature[nFrames] @units "K"
///       pdf                  NXprocess @default = "gr" (only when the reduction went on to the PDF):
///                            sq, fq, gr (NXdata): S/F/G[nFrames, n], S/F/G_errors, q or r; alpha,
///                            number_density, background_scale [nFrames]; parameters (NXparameters)
///       metrics              NXcollection (only with metric names): one [nFrames] float64 dataset per metric
///                            key (metrics.hpp's metrics_table keys, σ under <key>_sigma), in row order of
///                            integrated/I; parameters (NXparameters) with the metrics options
///     /entry/reduction/input/recipe   the series recipe (TOML, canonical form) when the run came from one
///
/// Arrays are chunked one frame per chunk and compressed (shuffle + deflate). Frames are appended one at
/// a time; after each the file is flushed (H5Fflush), so a run that stops leaves a valid file holding
/// every finished frame. The file is first written under a temporary name and renamed into place once its
/// empty layout is complete, so a failure before that leaves nothing behind. Opening the same path again
/// with the same bins and parameters resumes it: the frames it holds are known (has_frame) and appending
/// continues after them. `frame_index` is written last for each frame and is the commit record: rows of
/// other arrays beyond its length (a frame interrupted half-way) are dropped on resume.
#include <cstddef>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/reduce.hpp"

namespace libpdf {

/// A (key, value) parameter as text.
using Parameter = std::pair<std::string, std::string>;

/// What a result file records once (everything but the per-frame arrays).
struct LIBPDF_API NexusResultInfo {
  std::string title;                         ///< /entry/title.
  std::string program = "libpdf";            ///< reduction/program.
  std::string input;                         ///< The frames reduced (file, dataset, frames), for provenance.
  std::string poni_text;                     ///< The full PONI file text (reduction/input/poni).
  std::string poni_file;                     ///< Its path (attribute `filename` of input/poni).
  double wavelength_A = 0;                   ///< > 0: instrument/monochromator/wavelength.
  std::string instrument_name = "unknown";   ///< instrument/name (the beamline, e.g. "PETRA III P02.1").
  std::string source_name = "unknown";       ///< instrument/source/name (e.g. "PETRA III, DESY").
  std::string source_type = "Synchrotron X-ray Source";  ///< instrument/source/type (an NXsource type value).
  std::string probe = "x-ray";               ///< instrument/source/probe (an NXsource probe value).
  std::string sample_name;                   ///< sample/name.
  std::string chemical_formula;              ///< sample/chemical_formula.
  RadialUnit unit = RadialUnit::q_A;         ///< Unit of the radial axis.
  std::vector<double> radial;                ///< Bin centres (nRad > 0).
  std::vector<double> radial_edges;          ///< Bin edges (nRad + 1).
  bool solid_angle_applied = true;           ///< The intensities were divided by the solid angle (/entry flag).
  bool polarization_applied = false;         ///< They were corrected for polarisation (/entry flag).
  bool normalization_applied = true;         ///< I = Σ signal / Σ normalisation (libpdf always does this).
  bool monitor_applied = false;              ///< A monitor / normalisation factor k ≠ 1 was divided out.
  std::vector<Parameter> parameters;         ///< Every reduction parameter (reduction/input); keys [A-Za-z0-9_].
  bool with_pdf = false;                     ///< Create the `pdf` NXprocess (then pdf_q and pdf_r are needed).
  std::vector<double> pdf_q;                 ///< q grid of S(q) and F(q) (1/Å).
  std::vector<double> pdf_r;                 ///< r grid of G(r) (Å).
  std::vector<Parameter> pdf_parameters;     ///< Every PDF parameter (pdf/parameters).
  int gzip_level = 4;                        ///< Deflate level 0..9 of the per-frame arrays.
  std::vector<std::string> metric_names;     ///< Metric keys: creates /entry/metrics (empty: no metrics group).
  std::vector<Parameter> metrics_parameters; ///< The metrics options (metrics/parameters).
  std::string recipe_text;                   ///< The recipe (reduction/input/recipe); not compared on resume.
  std::string recipe_file;                   ///< Its path (attribute `filename` of input/recipe).

  /// Throws InvalidArgument naming every bad field (no bins, edges not nRad+1, no wavelength, pdf grids
  /// missing, a parameter key that is not a valid NeXus name).
  void validate() const;
};

/// The integration options as parameters (npt, unit, splitting, corrections, error model, ...), in the
/// form NexusResultInfo::parameters takes; the caller adds its own (input, mask, dark, ...).
LIBPDF_API std::vector<Parameter> integration_parameters(const IntegrationOptions& options);

/// A NexusResultInfo filled from a plan: its bins, unit and applied corrections, the PONI's wavelength and
/// integration_parameters(); the caller sets title, input, poni_text and sample fields.
LIBPDF_API NexusResultInfo nexus_info(const Poni& poni, const Integrator& integrator);

/// One frame of the `pdf` part.
struct PdfFrame {
  std::vector<double> sq;             ///< S(q) on NexusResultInfo::pdf_q (pdf/sq/S).
  std::vector<double> sq_sigma;       ///< σ of S(q) (pdf/sq/S_errors); may be empty: written as NaN.
  std::vector<double> fq;             ///< F(q) = q[S(q) − 1] on pdf_q (1/Å; pdf/fq/F).
  std::vector<double> fq_sigma;       ///< σ of F(q) (pdf/fq/F_errors); may be empty: written as NaN.
  std::vector<double> gr;             ///< G(r) on NexusResultInfo::pdf_r (1/Å²; pdf/gr/G).
  std::vector<double> gr_sigma;       ///< σ of G(r) (pdf/gr/G_errors); may be empty: written as NaN.
  double alpha = std::numeric_limits<double>::quiet_NaN();             ///< Normalisation α.
  double number_density = std::numeric_limits<double>::quiet_NaN();    ///< ρ₀ (1/Å³), NaN when not used.
  double background_scale = std::numeric_limits<double>::quiet_NaN();  ///< b.
};
/// The PdfFrame of a reduction result.
LIBPDF_API PdfFrame pdf_frame(const ReductionResult& result);

/// Writes one result file, frame by frame (see the file comment). Move-only; not thread-safe (call from
/// one thread; the HDF5 calls themselves are serialised process-wide).
class LIBPDF_API NexusResultWriter {
 public:
  /// Creates @p path, or resumes it when it exists and was written by libpdf with the same bins (bit for
  /// bit), the same parameters and the same pdf grids. With @p overwrite an existing file is replaced
  /// instead (atomically, when the new layout is complete). @throws InvalidArgument for bad @p info,
  /// IoError when the file exists but cannot be resumed (naming the first difference) or cannot be written.
  NexusResultWriter(const std::string& path, const NexusResultInfo& info, bool overwrite = false);
  ~NexusResultWriter();
  /// Takes over the other writer's open file and state; the moved-from writer may only be destroyed or
  /// assigned to.
  NexusResultWriter(NexusResultWriter&&) noexcept;
  /// Takes over the other writer's open file and state. A file this writer still held is closed without
  /// reporting errors (call close() first to see them); the moved-from writer may only be destroyed or
  /// assigned to afterwards.
  NexusResultWriter& operator=(NexusResultWriter&&) noexcept;
  NexusResultWriter(const NexusResultWriter&) = delete;
  NexusResultWriter& operator=(const NexusResultWriter&) = delete;

  /// The result file's path, as given to the constructor (its final name, not the temporary one).
  const std::string& path() const;
  /// Whether an existing file was opened to continue it.
  bool resumed() const;
  /// Frames in the file.
  std::size_t frames() const;
  /// Input frame indices of the rows, in file order.
  const std::vector<std::size_t>& frame_indices() const;
  /// Whether input frame @p source_index is already in the file.
  bool has_frame(std::size_t source_index) const;

  /// Appends a frame: I and σ of @p pattern (its bins must equal the file's), the sample temperature
  /// (NaN = unknown), @p pdf when the file has a pdf part (required then) and @p metrics (one value per
  /// metric name, in order) when the file has a metrics group (required then). Flushes the file.
  /// @throws InvalidArgument for a frame already in the file, wrong lengths or a missing pdf part or metrics.
  /// @throws IoError naming the file, the dataset and the system's reason ("No space left on device") when
  /// the frame cannot be written, or before writing anything when it would not fit under the process's file
  /// size limit (RLIMIT_FSIZE). After a write failed the file is left as the last frame's flush wrote it
  /// (nothing more is flushed, so the frames before stay readable) and this writer refuses further frames;
  /// a new writer on the same path resumes after them.
  void append(std::size_t source_index, const Result1D& pattern,
              double temperature_K = std::numeric_limits<double>::quiet_NaN(), const PdfFrame* pdf = nullptr,
              const std::vector<double>* metrics = nullptr);
  /// The same from arrays (nRad values each; @p sigma may be empty: written as NaN).
  void append(std::size_t source_index, const std::vector<double>& intensity, const std::vector<double>& sigma,
              double temperature_K = std::numeric_limits<double>::quiet_NaN(), const PdfFrame* pdf = nullptr,
              const std::vector<double>* metrics = nullptr);
  /// The metrics of the frames in the file, row-major [frames()][metric names] (empty without metrics):
  /// what a resumed run rebuilds its table from.
  std::vector<double> stored_metrics() const;
  /// The sample temperatures of the frames in the file [frames()].
  std::vector<double> stored_temperatures() const;
  /// Flushes and closes (also done by the destructor, which cannot report errors).
  void close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// A result file read back (arrays of frames are row-major [frames][n]).
struct NexusResult {
  std::string path;                          ///< The file read (as given to read_nexus_result).
  std::string title;                         ///< /entry/title.
  std::string program;                       ///< reduction/program (NexusResultInfo::program of the writer).
  std::string version;                       ///< reduction/version: "libpdf <version>" of the writing library.
  std::string date;                          ///< reduction/date: when the file was created (ISO 8601, local
                                             ///< time with its UTC offset).
  RadialUnit unit = RadialUnit::q_A;         ///< Unit of the radial axis (its `units` attribute).
  double wavelength_A = 0;                   ///< instrument/monochromator/wavelength (Å).
  std::string poni_text;                     ///< The full PONI text (reduction/input/poni; "" when absent).
  std::vector<Parameter> parameters;         ///< reduction/input, as written.
  std::vector<double> radial;                ///< Bin centres (integrated/radial_axis, in @ref unit) [nRad].
  std::vector<double> radial_edges;          ///< Bin edges (integrated/radial_axis_edges) [nRad + 1].
  std::size_t frames = 0;                    ///< Committed frames: frame_index.size() (rows of an interrupted
                                             ///< frame beyond it are not read).
  std::vector<std::size_t> frame_index;      ///< Input frame index of each row, in file order [frames].
  std::vector<double> intensity;             ///< I (integrated/I) [frames][radial.size()].
  std::vector<double> sigma;                 ///< σ of I (integrated/I_errors; NaN where none was written),
                                             ///< same shape.
  std::vector<double> temperature_K;         ///< Sample temperature of each frame (K; NaN = unknown) [frames].
  std::string sample_name;                   ///< sample/name.
  std::string chemical_formula;              ///< sample/chemical_formula.
  bool has_pdf = false;                      ///< The file has the `pdf` part; the pdf_* and S/F/G members below
                                             ///< are empty without it.
  std::vector<Parameter> pdf_parameters;     ///< pdf/parameters, as written.
  std::vector<double> pdf_q;                 ///< q grid of sq and fq (pdf/sq/q, 1/Å).
  std::vector<double> pdf_r;                 ///< r grid of gr (pdf/gr/r, Å).
  std::vector<double> sq;                    ///< S(q) (pdf/sq/S) [frames][pdf_q.size()].
  std::vector<double> sq_sigma;              ///< σ of S(q) (NaN where none was written), same shape.
  std::vector<double> fq;                    ///< F(q) = q[S(q) − 1] (pdf/fq/F, 1/Å) [frames][pdf_q.size()].
  std::vector<double> fq_sigma;              ///< σ of F(q) (NaN where none was written), same shape.
  std::vector<double> gr;                    ///< G(r) (pdf/gr/G, 1/Å²) [frames][pdf_r.size()].
  std::vector<double> gr_sigma;              ///< σ of G(r) (NaN where none was written), same shape.
  std::vector<double> alpha;                 ///< Normalisation α of each frame (pdf/alpha) [frames].
  std::vector<double> number_density;        ///< ρ₀ of each frame (pdf/number_density, 1/Å³; NaN when not
                                             ///< used) [frames].
  std::vector<double> background_scale;      ///< Background scale b of each frame (pdf/background_scale)
                                             ///< [frames].
  std::vector<std::string> metric_names;     ///< Keys of /entry/metrics (empty without it), in file order.
  std::vector<double> metrics;               ///< [frames][metric_names.size()]
  std::vector<Parameter> metrics_parameters; ///< metrics/parameters.
  std::string recipe_text;                   ///< reduction/input/recipe ("" when absent).
};

/// Whether @p path is a result file libpdf wrote (an HDF5 file with /entry/definition = "NXazint1d" and
/// /entry/integrated/I).
LIBPDF_API bool is_nexus_result(const std::string& path);
/// Reads a result file. @throws IoError naming the file and the missing or malformed dataset.
LIBPDF_API NexusResult read_nexus_result(const std::string& path);

}  // namespace libpdf
