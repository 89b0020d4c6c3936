#include "pdfreduce/nexus_output.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"

namespace pdfreduce {

bool is_nexus_output(const std::string& path) {
  std::string name = path;
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const std::string ext : {".h5", ".nxs", ".hdf5", ".nx5"}) {
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0) return true;
  }
  return false;
}

NexusOutput::NexusOutput(const std::string& path, const std::string& input, const std::string& dataset,
                         const std::string& poni_path, const libpdf::Poni& poni, const libpdf::Integrator& integrator,
                         std::vector<libpdf::Parameter> extra, std::size_t input_frames)
    : input_(input) {
  libpdf::NexusResultInfo info = libpdf::nexus_info(poni, integrator);
  info.program = "pdfreduce integrate";
  info.title = "pdfreduce integrate " + input;
  info.input = dataset.empty() ? input : input + " (dataset " + dataset + ")";
  info.poni_file = poni_path;
  {
    // The PONI file as the user gave it (comments and all), not our re-formatting of it.
    std::ifstream in(poni_path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (in) info.poni_text = text.str();
  }
  extra.insert(extra.begin(), {"input", info.input});
  for (auto& p : extra) info.parameters.push_back(std::move(p));
  // Sample temperatures and the beamline from the input's metadata, when it has them.
  temperatures_.assign(input_frames, std::numeric_limits<double>::quiet_NaN());
  if (libpdf::is_hdf5_file(input)) {
    try {
      const libpdf::FileMetadata meta = libpdf::read_metadata(input);
      if (meta.temperature_K.size() == input_frames) temperatures_ = meta.temperature_K;
      else if (meta.temperature_K.size() == 1) temperatures_.assign(input_frames, meta.temperature_K.front());
    } catch (const libpdf::Error&) {
      // Metadata that cannot be read does not stop a reduction; temperatures stay unknown (NaN).
    }
  }
  writer_ = std::make_unique<libpdf::NexusResultWriter>(path, info);
}

bool NexusOutput::done(std::size_t frame) const { return writer_->has_frame(frame); }

void NexusOutput::write(std::size_t frame, const libpdf::Result1D& result) {
  double t = frame < temperatures_.size() ? temperatures_[frame] : std::numeric_limits<double>::quiet_NaN();
  if (frame >= temperatures_.size() && libpdf::is_hdf5_file(input_)) {
    // A file still being written (--follow): its temperatures grow with it. Read them again; a file the writer
    // holds locked leaves this frame's temperature unknown (NaN).
    try {
      const libpdf::FileMetadata meta = libpdf::read_metadata(input_);
      if (meta.temperature_K.size() > frame) {
        temperatures_ = meta.temperature_K;
        t = temperatures_[frame];
      } else if (meta.temperature_K.size() == 1) {
        t = meta.temperature_K.front();  // one temperature for the whole series
      }
    } catch (const libpdf::Error&) {
    }
  }
  writer_->append(frame, result, t);
}

std::size_t NexusOutput::frames() const { return writer_->frames(); }
bool NexusOutput::resumed() const { return writer_->resumed(); }
void NexusOutput::close() { writer_->close(); }

}  // namespace pdfreduce
