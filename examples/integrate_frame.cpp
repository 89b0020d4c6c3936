// integrate_frame: the smallest complete use of libpdf. Reads a calibration (PONI) and a detector frame,
// builds an integration plan once, applies it, and writes I(q) with its uncertainty.
//
//   integrate_frame FRAME PONI [OUT.xy] [--flip-vertical]
//
// --flip-vertical: calibrations made in Dioptas apply to the image flipped top to bottom.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"

int main(int argc, char** argv) {
  std::vector<std::string> args;
  bool flip = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--flip-vertical") == 0)
      flip = true;
    else
      args.emplace_back(argv[i]);
  }
  if (args.size() < 2 || args.size() > 3) {
    std::fprintf(stderr, "usage: integrate_frame FRAME PONI [OUT.xy] [--flip-vertical]\n");
    return 2;
  }
  try {
    const libpdf::Poni poni = libpdf::read_poni(args[1]);
    libpdf::Image frame = libpdf::open_frames(args[0])->read(0);  // TIFF or HDF5/NeXus, first frame
    if (flip) frame = frame.flipped_vertical();
    const libpdf::Geometry geometry(poni, frame.rows(), frame.cols());

    libpdf::IntegrationOptions options;  // defaults: q in 1/Å, bbox splitting, solid angle, Poisson σ
    options.npt = 2000;
    options.polarization_factor = 0.99;                        // typical of a synchrotron beam, horizontally polarised
    const libpdf::Integrator plan(geometry, options);          // built once (the expensive part)...
    const libpdf::Result1D iq = plan.integrate(frame.view());  // ...applied to as many frames as you like

    std::FILE* out = args.size() == 3 ? std::fopen(args[2].c_str(), "w") : stdout;
    if (out == nullptr) throw libpdf::IoError("cannot open '" + args[2] + "' for writing");
    std::fprintf(out, "# q_A^-1 I sigma (libpdf integrate_frame, %s)\n", args[0].c_str());
    std::size_t peak = 0;
    for (std::size_t b = 0; b < iq.radial.size(); ++b) {
      std::fprintf(out, "%.10g %.10g %.10g\n", iq.radial[b], iq.intensity[b], iq.sigma[b]);
      if (iq.intensity[b] > iq.intensity[peak]) peak = b;
    }
    if (out != stdout && std::fclose(out) != 0) throw libpdf::IoError("cannot write '" + args[2] + "'");
    std::fprintf(stderr, "%zu bins; strongest peak at q = %.4f 1/A\n", iq.radial.size(), iq.radial[peak]);
  } catch (const libpdf::Error& e) {
    std::fprintf(stderr, "integrate_frame: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
