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
  std::string source_type = "Synchrotron X-ray Source";
  std::string probe = "x-ray";
  std::string sample_name;                   ///< sample/name.
  std::string chemical_formula;              ///< sample/chemical_formula.
  RadialUnit unit = RadialUnit::q_A;         ///< Unit of the radial axis.
  std::vector<double> radial;                ///< Bin centres (nRad > 0).
  std::vector<double> radial_edges;          ///< Bin edges (nRad + 1).
  bool solid_angle_applied = true;
  bool polarization_applied = false;
  bool normalization_applied = true;         ///< I = Σ signal / Σ normalisation (libpdf always does this).
  bool monitor_applied = false;              ///< A monitor / normalisation factor k ≠ 1 was divided out.
  std::vector<Parameter> parameters;         ///< Every reduction parameter (reduction/input); keys [A-Za-z0-9_].
  bool with_pdf = false;                     ///< Create the `pdf` NXprocess (then pdf_q and pdf_r are needed).
  std::vector<double> pdf_q;                 ///< q grid of S(q) and F(q) (1/Å).
  std::vector<double> pdf_r;                 ///< r grid of G(r) (Å).
  std::vector<Parameter> pdf_parameters;     ///< Every PDF parameter (pdf/parameters).
  int gzip_level = 4;                        ///< Deflate level 0..9 of the per-frame arrays.

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
  std::vector<double> sq, sq_sigma;   ///< S(q) on pdf_q (σ may be empty: written as NaN).
  std::vector<double> fq, fq_sigma;   ///< F(q) on pdf_q.
  std::vector<double> gr, gr_sigma;   ///< G(r) on pdf_r.
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
  NexusResultWriter(NexusResultWriter&&) noexcept;
  NexusResultWriter& operator=(NexusResultWriter&&) noexcept;
  NexusResultWriter(const NexusResultWriter&) = delete;
  NexusResultWriter& operator=(const NexusResultWriter&) = delete;

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
  /// (NaN = unknown), and @p pdf when the file has a pdf part (required then). Flushes the file.
  /// @throws InvalidArgument for a frame already in the file, wrong lengths or a missing pdf part.
  void append(std::size_t source_index, const Result1D& pattern,
              double temperature_K = std::numeric_limits<double>::quiet_NaN(), const PdfFrame* pdf = nullptr);
  /// The same from arrays (nRad values each; @p sigma may be empty: written as NaN).
  void append(std::size_t source_index, const std::vector<double>& intensity, const std::vector<double>& sigma,
              double temperature_K = std::numeric_limits<double>::quiet_NaN(), const PdfFrame* pdf = nullptr);
  /// Flushes and closes (also done by the destructor, which cannot report errors).
  void close();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// A result file read back (arrays of frames are row-major [frames][n]).
struct NexusResult {
  std::string path;
  std::string title, program, version, date;
  RadialUnit unit = RadialUnit::q_A;
  double wavelength_A = 0;
  std::string poni_text;
  std::vector<Parameter> parameters;         ///< reduction/input, as written.
  std::vector<double> radial, radial_edges;
  std::size_t frames = 0;
  std::vector<std::size_t> frame_index;
  std::vector<double> intensity, sigma;      ///< [frames][radial.size()]
  std::vector<double> temperature_K;         ///< [frames]
  std::string sample_name, chemical_formula;
  bool has_pdf = false;
  std::vector<Parameter> pdf_parameters;
  std::vector<double> pdf_q, pdf_r;
  std::vector<double> sq, sq_sigma, fq, fq_sigma, gr, gr_sigma;  ///< [frames][pdf_q or pdf_r]
  std::vector<double> alpha, number_density, background_scale;   ///< [frames]
};

/// Whether @p path is a result file libpdf wrote (an HDF5 file with /entry/definition = "NXazint1d" and
/// /entry/integrated/I).
LIBPDF_API bool is_nexus_result(const std::string& path);
/// Reads a result file. @throws IoError naming the file and the missing or malformed dataset.
LIBPDF_API NexusResult read_nexus_result(const std::string& path);

}  // namespace libpdf
