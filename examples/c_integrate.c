/* Integrate every frame of a file to I(q) through libpdf's C API.
 * Usage: c_integrate FRAMES PONI [NPT]   (prints q, I, sigma of the first frame; frame totals of the others) */
#include <stdio.h>
#include <stdlib.h>

#include "libpdf/libpdf.h"

static int die(const char* what) {
  fprintf(stderr, "c_integrate: %s: %s\n", what, libpdf_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: c_integrate FRAMES PONI [NPT]\n");
    return 2;
  }
  libpdf_frames* frames = NULL;
  if (libpdf_frames_open(argv[1], NULL, &frames) != LIBPDF_OK) return die("opening the frames");
  size_t n = 0, rows = 0, cols = 0;
  libpdf_pixel_type type;
  libpdf_frames_info(frames, &n, &rows, &cols, &type);
  libpdf_geometry* geometry = NULL;
  if (libpdf_geometry_from_poni_file(argv[2], rows, cols, &geometry) != LIBPDF_OK) return die("reading the PONI");
  libpdf_integration_options options;
  libpdf_integration_options_init(&options);
  options.npt = argc > 3 ? (size_t)atol(argv[3]) : 1000;
  libpdf_integrator* plan = NULL;
  if (libpdf_integrator_create(geometry, &options, NULL, NULL, NULL, &plan) != LIBPDF_OK) return die("building the plan");
  const size_t npt = libpdf_integrator_npt(plan);
  double* q = malloc(npt * sizeof *q);
  double* I = malloc(npt * sizeof *I);
  double* s = malloc(npt * sizeof *s);
  void* frame = malloc(rows * cols * 8);
  libpdf_integrator_radial(plan, q);
  for (size_t k = 0; k < n; ++k) {
    if (libpdf_frames_read(frames, k, frame) != LIBPDF_OK) return die("reading a frame");
    if (libpdf_integrate(plan, frame, type, rows, cols, I, s, NULL) != LIBPDF_OK) return die("integrating");
    if (k == 0) {
      printf("# q(1/A) I sigma\n");
      for (size_t b = 0; b < npt; ++b) printf("%.6f %.6g %.6g\n", q[b], I[b], s[b]);
    } else {
      double total = 0;
      for (size_t b = 0; b < npt; ++b) total += I[b];
      printf("# frame %zu: sum of I = %.6g\n", k, total);
    }
  }
  free(q), free(I), free(s), free(frame);
  libpdf_integrator_free(plan);
  libpdf_geometry_free(geometry);
  libpdf_frames_free(frames);
  return 0;
}
