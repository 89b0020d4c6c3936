#pragma once
// NeXus (NXazint1d) output of `pdfreduce integrate` when -o ends in .h5, .nxs, .hdf5 or .nx5: one file per run,
// frames appended as they are integrated, a re-run resuming after the frames already in the file
// (libpdf::NexusResultWriter does the work; this adds what the command line knows: input, PONI file, options).
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/nexus.hpp"

namespace pdfreduce {

/// Whether @p path names a NeXus output (.h5, .nxs, .hdf5, .nx5; any case).
bool is_nexus_output(const std::string& path);

class NexusOutput {
 public:
  /// Creates or resumes @p path. @p extra are the command's own parameters (input, mask, dark, ...); the
  /// sample temperatures per frame come from the input's metadata when it has them.
  NexusOutput(const std::string& path, const std::string& input, const std::string& dataset,
              const std::string& poni_path, const libpdf::Poni& poni, const libpdf::Integrator& integrator,
              std::vector<libpdf::Parameter> extra, std::size_t input_frames);
  /// Whether input frame @p frame is already in the file (a resumed run skips it).
  bool done(std::size_t frame) const;
  /// Appends input frame @p frame (flushes the file). A frame beyond the input's length at construction (a
  /// followed, growing input) has its temperature read from the input's metadata again.
  void write(std::size_t frame, const libpdf::Result1D& result);
  std::size_t frames() const;
  bool resumed() const;
  void close();

 private:
  std::unique_ptr<libpdf::NexusResultWriter> writer_;
  std::string input_;
  std::vector<double> temperatures_;
};

}  // namespace pdfreduce
