/* The C API from C: a flat field integrates flat, frames read from the real CeO2 TIFF, and every error path
 * returns its status with a message (no crash, no exception). Exits non-zero on the first failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libpdf/libpdf.h"

static int failures = 0;
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed; last error: %s\n", __FILE__, \
              __LINE__, #cond, libpdf_last_error());                           \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

static const char* kPoni =
    "poni_version: 2\nDetector: Detector\n"
    "Detector_config: {\"pixel1\": 0.0002, \"pixel2\": 0.0002, \"max_shape\": [128, 160]}\n"
    "Distance: 0.1\nPoni1: 0.0128\nPoni2: 0.016\nRot1: 0.01\nRot2: 0\nRot3: 0\nWavelength: 2e-11\n";

int main(int argc, char** argv) {
  const char* data_dir = argc > 1 ? argv[1] : NULL;
  libpdf_geometry* g = NULL;
  CHECK(libpdf_geometry_from_poni_text(kPoni, 0, 0, &g) == LIBPDF_OK);
  size_t rows = 0, cols = 0;
  CHECK(libpdf_geometry_shape(g, &rows, &cols) == LIBPDF_OK && rows == 128 && cols == 160);

  libpdf_integration_options o;
  libpdf_integration_options_init(&o);
  o.npt = 64;
  o.solid_angle = 0;
  libpdf_integrator* it = NULL;
  CHECK(libpdf_integrator_create(g, &o, NULL, NULL, NULL, &it) == LIBPDF_OK);
  CHECK(libpdf_integrator_npt(it) == 64);
  float* frame = malloc(sizeof(float) * rows * cols);
  for (size_t k = 0; k < rows * cols; ++k) frame[k] = 7.0f;
  double I[64], sigma[64], count[64], radial[64];
  CHECK(libpdf_integrator_radial(it, radial) == LIBPDF_OK && radial[1] > radial[0]);
  CHECK(libpdf_integrate(it, frame, LIBPDF_PIXEL_F32, rows, cols, I, sigma, count) == LIBPDF_OK);
  for (int b = 0; b < 64; ++b) {
    if (count[b] > 0) CHECK(fabs(I[b] - 7.0) < 1e-9);
  }

  /* Error paths: each returns a status and leaves a message naming the problem. */
  libpdf_geometry* bad = NULL;
  CHECK(libpdf_geometry_from_poni_file("/nonexistent/x.poni", 0, 0, &bad) == LIBPDF_IO_ERROR);
  CHECK(bad == NULL && strstr(libpdf_last_error(), "/nonexistent/x.poni") != NULL);
  CHECK(libpdf_geometry_from_poni_text("Distance: -1\n", 10, 10, &bad) == LIBPDF_INVALID_ARGUMENT);
  CHECK(strstr(libpdf_last_error(), "PixelSize1") != NULL);
  CHECK(libpdf_integrate(it, frame, LIBPDF_PIXEL_F32, rows - 1, cols, I, NULL, NULL) == LIBPDF_INVALID_ARGUMENT);
  CHECK(strstr(libpdf_last_error(), "the frame is 127 x 160") != NULL);
  CHECK(libpdf_integrate(it, NULL, LIBPDF_PIXEL_F32, rows, cols, I, NULL, NULL) == LIBPDF_INVALID_ARGUMENT);
  CHECK(libpdf_integrate(it, frame, (libpdf_pixel_type)17, rows, cols, I, NULL, NULL) == LIBPDF_INVALID_ARGUMENT);
  for (size_t k = 0; k < rows * cols; ++k) frame[k] = NAN;
  CHECK(libpdf_integrate(it, frame, LIBPDF_PIXEL_F32, rows, cols, I, NULL, NULL) == LIBPDF_NUMERICAL_ERROR);
  libpdf_integrator* it2 = NULL;
  o.npt = 0;
  CHECK(libpdf_integrator_create(g, &o, NULL, NULL, NULL, &it2) == LIBPDF_INVALID_ARGUMENT && it2 == NULL);
  CHECK(strstr(libpdf_last_error(), "npt = 0") != NULL);
  o.npt = 64;
  o.splitting = (libpdf_splitting)9;
  CHECK(libpdf_integrator_create(g, &o, NULL, NULL, NULL, &it2) == LIBPDF_INVALID_ARGUMENT);
  libpdf_frames* missing = NULL;
  CHECK(libpdf_frames_open("/nonexistent/f.h5", NULL, &missing) == LIBPDF_IO_ERROR && missing == NULL);
  libpdf_integrator_free(NULL); /* accepted */
  libpdf_geometry_free(NULL);
  libpdf_frames_free(NULL);

  /* A real frame through the C API: the CeO2 Pilatus TIFF (1043 x 981, int32). */
  if (data_dir != NULL) {
    char path[4096];
    snprintf(path, sizeof path, "%s/calibrant_CeO2_Pilatus1M/CeO2_Pilatus1M.tif", data_dir);
    libpdf_frames* fr = NULL;
    CHECK(libpdf_frames_open(path, NULL, &fr) == LIBPDF_OK);
    size_t n = 0, r = 0, c = 0;
    libpdf_pixel_type t = LIBPDF_PIXEL_F64;
    CHECK(libpdf_frames_info(fr, &n, &r, &c, &t) == LIBPDF_OK && n == 1 && r == 1043 && c == 981);
    void* buf = malloc(r * c * 8);
    CHECK(libpdf_frames_read(fr, 0, buf) == LIBPDF_OK);
    CHECK(libpdf_frames_read(fr, 5, buf) == LIBPDF_INVALID_ARGUMENT);
    snprintf(path, sizeof path, "%s/calibrant_CeO2_Pilatus1M/CeO2_Pilatus1M.poni", data_dir);
    libpdf_geometry* gc = NULL;
    CHECK(libpdf_geometry_from_poni_file(path, r, c, &gc) == LIBPDF_OK);
    libpdf_integration_options_init(&o);
    o.npt = 500;
    libpdf_integrator* ic = NULL;
    CHECK(libpdf_integrator_create(gc, &o, NULL, NULL, NULL, &ic) == LIBPDF_OK);
    double* Ic = malloc(sizeof(double) * 500);
    CHECK(libpdf_integrate(ic, buf, t, r, c, Ic, NULL, NULL) == LIBPDF_OK);
    double total = 0;
    for (int b = 0; b < 500; ++b) total += Ic[b];
    CHECK(total > 0);
    free(Ic);
    free(buf);
    libpdf_integrator_free(ic);
    libpdf_geometry_free(gc);
    libpdf_frames_free(fr);
  }

  free(frame);
  libpdf_integrator_free(it);
  libpdf_geometry_free(g);
  if (failures == 0) printf("C API: all checks passed (libpdf %s)\n", libpdf_version());
  return failures == 0 ? 0 : 1;
}
