// Links against an installed libpdf and integrates a synthetic frame: checks that the installed headers, the
// library and its version agree, and that an integration of a flat field is flat.
#include <libpdf/geometry.hpp>
#include <libpdf/integrate.hpp>
#include <libpdf/version.hpp>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

int main() {
  if (std::strcmp(libpdf::version(), LIBPDF_VERSION_STRING) != 0) {
    std::fprintf(stderr, "header version %s but library %s\n", LIBPDF_VERSION_STRING, libpdf::version());
    return 1;
  }
  libpdf::Poni poni;
  poni.detector = {"Test", 256, 256, 200e-6, 200e-6, 3};
  poni.distance_m = 0.2;
  poni.poni1_m = poni.poni2_m = 0.0256;
  poni.wavelength_m = 0.2e-10;
  const libpdf::Geometry geometry(poni);
  libpdf::IntegrationOptions options;
  options.npt = 100;
  options.solid_angle = false;
  const libpdf::Integrator plan(geometry, options);
  std::vector<float> frame(256 * 256, 5.0f);
  const libpdf::Result1D r = plan.integrate(libpdf::ImageView(frame.data(), 256, 256));
  for (std::size_t b = 0; b < r.intensity.size(); ++b) {
    if (r.count[b] > 0 && std::fabs(r.intensity[b] - 5.0) > 1e-9) {
      std::fprintf(stderr, "bin %zu: %g, expected 5\n", b, r.intensity[b]);
      return 1;
    }
  }
  std::printf("libpdf %s: integrated %zu bins\n", libpdf::version(), r.intensity.size());
  return 0;
}
