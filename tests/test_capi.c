/* The C API from C: a flat field integrates flat, frames read from the real CeO2 TIFF, and every error path
 * returns its status with a message (no crash, no exception); the sine transform against an analytic pair; the
 * reduction's error paths and, on the real Mg2SiO4 glass, its arrays against each other and the transform plan.
 * Exits non-zero if any check failed. */
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

/* The sine transform against an analytic pair: F(q) = q exp(-a q^2) has
 *   G(r) = (2/pi) int_0^inf F(q) sin(qr) dq = (2/pi) sqrt(pi) r / (4 a^1.5) exp(-r^2 / (4a)).
 * With a = 0.05 and qmax = 25, F(qmax) ~ 1e-12, so cutting the integral at qmax costs nothing, and the rectangle
 * rule of a smooth integrand vanishing at both ends converges faster than any power of dq: 1e-9 of max |G| is
 * a wide margin over the ~1e-13 seen, while any mistake in the grid or the 2/pi dq scale is far above it. */
static void check_transform(void) {
  const double a = 0.05, pi = 3.14159265358979323846;
  libpdf_transform_options o;
  libpdf_transform_options_init(&o);
  CHECK(o.qmax == 25.0 && o.rstep == 0.01 && o.window == LIBPDF_WINDOW_NONE);
  o.rmax = 10.0;
  libpdf_transform* t = NULL;
  CHECK(libpdf_transform_create(&o, &t) == LIBPDF_OK);
  const size_t nq = libpdf_transform_nq(t), nr = libpdf_transform_nr(t);
  CHECK(nq > 2000 && nr == 1001);
  CHECK(libpdf_transform_qstep(t) <= 0.01 && libpdf_transform_qstep(t) > 0.0087);
  double* q = malloc(nq * sizeof *q);
  double* r = malloc(nr * sizeof *r);
  double* F = malloc(2 * nq * sizeof *F);
  double* G = malloc(2 * nr * sizeof *G);
  double* Gb = malloc(2 * nr * sizeof *Gb);
  double* back = malloc(nq * sizeof *back);
  CHECK(libpdf_transform_q(t, q) == LIBPDF_OK && q[0] == 0.0 && fabs(q[1] - libpdf_transform_qstep(t)) < 1e-15);
  CHECK(libpdf_transform_r(t, r) == LIBPDF_OK && r[0] == 0.0 && fabs(r[nr - 1] - 10.0) < 1e-12);
  for (size_t j = 0; j < nq; ++j) {
    F[j] = q[j] * exp(-a * q[j] * q[j]);
    F[nq + j] = 2.0 * F[j];
  }
  CHECK(libpdf_transform_forward(t, F, G) == LIBPDF_OK);
  double worst = 0, gmax = 0;
  for (size_t i = 0; i < nr; ++i) {
    const double exact = 2.0 / pi * sqrt(pi) * r[i] / (4.0 * pow(a, 1.5)) * exp(-r[i] * r[i] / (4.0 * a));
    worst = fmax(worst, fabs(G[i] - exact));
    gmax = fmax(gmax, fabs(exact));
  }
  CHECK(gmax > 1.0 && worst < 1e-9 * gmax);
  /* The batch call gives the single transform row by row, bit for bit (same plan, same arithmetic). */
  CHECK(libpdf_transform_forward_batch(t, F, 2, Gb) == LIBPDF_OK);
  CHECK(memcmp(G, Gb, nr * sizeof *G) == 0);
  int doubled = 1;
  for (size_t i = 0; i < nr; ++i) doubled &= fabs(Gb[nr + i] - 2.0 * G[i]) <= 1e-12 * gmax;
  CHECK(doubled);
  /* The inverse: G has decayed to exp(-100/0.2) by r = 10, so the r grid holds all of it and the rectangle rule
   * gives F back to the same super-algebraic accuracy. */
  CHECK(libpdf_transform_inverse(t, G, back) == LIBPDF_OK);
  double worst_back = 0;
  for (size_t j = 0; j < nq; ++j) worst_back = fmax(worst_back, fabs(back[j] - F[j]));
  CHECK(worst_back < 1e-9);
  /* sigma: a constant sigma_F = s gives sigma_G(r)^2 = (2 dq / pi)^2 s^2 sum_j sin^2(q_j r); at r = 0 it is 0. */
  for (size_t j = 0; j < nq; ++j) F[j] = 0.5;
  CHECK(libpdf_transform_forward_sigma(t, F, G) == LIBPDF_OK && G[0] == 0.0 && G[nr / 2] > 0.0);

  /* Error paths. */
  CHECK(libpdf_transform_forward(t, NULL, G) == LIBPDF_INVALID_ARGUMENT && strstr(libpdf_last_error(), "F is NULL"));
  CHECK(libpdf_transform_forward(NULL, F, G) == LIBPDF_INVALID_ARGUMENT);
  libpdf_transform* bad = (libpdf_transform*)&o; /* must be reset to NULL on failure */
  o.qmax = -1.0;
  CHECK(libpdf_transform_create(&o, &bad) == LIBPDF_INVALID_ARGUMENT && bad == NULL);
  CHECK(strstr(libpdf_last_error(), "qmax") != NULL);
  o.qmax = 25.0;
  o.window = (libpdf_window)7;
  CHECK(libpdf_transform_create(&o, &bad) == LIBPDF_INVALID_ARGUMENT && strstr(libpdf_last_error(), "window = 7"));
  CHECK(libpdf_transform_nq(NULL) == 0 && libpdf_transform_nr(NULL) == 0);
  libpdf_transform_free(NULL);

  free(q), free(r), free(F), free(G), free(Gb), free(back);
  libpdf_transform_free(t);
}

/* Reduction error paths that need no data: a synthetic uniform pattern. */
static void check_reduction_errors(void) {
  enum { N = 400 };
  double q[N], I[N];
  for (int k = 0; k < N; ++k) {
    q[k] = 0.5 + 0.05 * k;
    I[k] = 100.0 + 10.0 * exp(-q[k]);
  }
  libpdf_pattern p = {q, I, NULL, N};
  libpdf_reduction_options o;
  libpdf_reduction_options_init(&o);
  CHECK(o.composition == NULL && o.rmax == 30.0 && o.rstep == 0.01 && o.normalization == LIBPDF_NORM_HIGH_Q);
  libpdf_reduction* red = (libpdf_reduction*)&o; /* must be reset to NULL on failure */
  CHECK(libpdf_reduce(&p, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT && red == NULL);
  CHECK(strstr(libpdf_last_error(), "composition is NULL") != NULL);
  o.composition = "SiXx2";
  CHECK(libpdf_reduce(&p, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT && strstr(libpdf_last_error(), "Xx"));
  o.composition = "SiO2";
  o.has_mass_density = 1;
  o.mass_density = -2.2;
  CHECK(libpdf_reduce(&p, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT && strstr(libpdf_last_error(), "-2.2"));
  o.has_mass_density = 0;
  o.has_qmax = 1;
  o.qmax = 35.0;
  CHECK(libpdf_reduce(&p, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT && strstr(libpdf_last_error(), "qmax"));
  o.has_qmax = 0;
  o.normalization = (libpdf_normalization)5;
  CHECK(libpdf_reduce(&p, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT &&
        strstr(libpdf_last_error(), "normalization = 5"));
  o.normalization = LIBPDF_NORM_HIGH_Q;
  libpdf_pattern broken = {q, NULL, NULL, N};
  CHECK(libpdf_reduce(&broken, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT &&
        strstr(libpdf_last_error(), "sample.intensity is NULL"));
  CHECK(libpdf_reduce(NULL, NULL, &o, &red) == LIBPDF_INVALID_ARGUMENT);
  /* The synthetic pattern reduces (high-q alpha needs q > 3: the data reach 20.45). */
  CHECK(libpdf_reduce(&p, NULL, &o, &red) == LIBPDF_OK);
  size_t n = 0;
  CHECK(libpdf_reduction_length(red, LIBPDF_RED_SQ_SIGMA, &n) == LIBPDF_OK);
  libpdf_reduction_summary s;
  CHECK(libpdf_reduction_get_summary(red, &s) == LIBPDF_OK && s.has_sigma == 0 && s.alpha > 0);
  CHECK(libpdf_reduction_length(red, (libpdf_reduction_array)99, &n) == LIBPDF_INVALID_ARGUMENT &&
        strstr(libpdf_last_error(), "unknown reduction array 99"));
  double small[4];
  CHECK(libpdf_reduction_get(red, LIBPDF_RED_SQ, small, 4) == LIBPDF_INVALID_ARGUMENT &&
        strstr(libpdf_last_error(), "capacity = 4"));
  CHECK(libpdf_reduction_write(red, "/nonexistent/dir/x", NULL) == LIBPDF_IO_ERROR);
  libpdf_reduction_free(red);
  libpdf_reduction_free(NULL);
  double rho = 0;
  CHECK(libpdf_number_density("SiO2", 2.2, &rho) == LIBPDF_OK && fabs(rho - 0.602214076 * 2.2 / (60.0843 / 3)) < 1e-4);
  CHECK(libpdf_number_density("SiO2", 0.0, &rho) == LIBPDF_INVALID_ARGUMENT);
  libpdf_pattern_file* pf = NULL;
  CHECK(libpdf_pattern_file_read("/nonexistent/p.xy", &pf) == LIBPDF_IO_ERROR && pf == NULL);
  libpdf_pattern_file_free(NULL);
}

/* The Mg2SiO4 glass (real data) with its background: the arrays are consistent with each other and with the
 * transform plan built on the reduction's own grid. */
static void check_reduction_real(const char* data_dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/glass_Mg2SiO4/Mg2SiO4_ambient.xy", data_dir);
  libpdf_pattern_file* sf = NULL;
  libpdf_pattern_file* bf = NULL;
  CHECK(libpdf_pattern_file_read(path, &sf) == LIBPDF_OK);
  snprintf(path, sizeof path, "%s/glass_Mg2SiO4/Mg2SiO4_ambient_bkg.xy", data_dir);
  CHECK(libpdf_pattern_file_read(path, &bf) == LIBPDF_OK);
  libpdf_pattern sample, background;
  CHECK(libpdf_pattern_file_view(sf, &sample) == LIBPDF_OK && sample.n == 4845 && sample.sigma == NULL);
  CHECK(libpdf_pattern_file_view(bf, &background) == LIBPDF_OK);
  libpdf_reduction_options o;
  libpdf_reduction_options_init(&o);
  o.composition = "Mg2SiO4";
  o.has_mass_density = 1;
  o.mass_density = 2.9;
  o.has_qmax = 1;
  o.qmax = 20.0;
  o.rmax = 10.0;
  libpdf_reduction* red = NULL;
  CHECK(libpdf_reduce(&sample, &background, &o, &red) == LIBPDF_OK);
  libpdf_reduction_summary s;
  CHECK(libpdf_reduction_get_summary(red, &s) == LIBPDF_OK);
  CHECK(s.alpha > 0 && s.has_number_density && s.qmax <= 20.0 && s.background_scale == 1.0);
  size_t nq = 0, nr = 0, nsig = 1;
  CHECK(libpdf_reduction_length(red, LIBPDF_RED_Q, &nq) == LIBPDF_OK);
  CHECK(libpdf_reduction_length(red, LIBPDF_RED_R, &nr) == LIBPDF_OK && nr == 1001);
  CHECK(libpdf_reduction_length(red, LIBPDF_RED_FQ_SIGMA, &nsig) == LIBPDF_OK && nsig == 0);
  double* q = malloc(nq * sizeof *q);
  double* S = malloc(nq * sizeof *S);
  double* F = malloc(nq * sizeof *F);
  double* G = malloc(nr * sizeof *G);
  double* G2 = malloc(nr * sizeof *G2);
  CHECK(libpdf_reduction_get(red, LIBPDF_RED_Q, q, nq) == LIBPDF_OK);
  CHECK(libpdf_reduction_get(red, LIBPDF_RED_SQ, S, nq) == LIBPDF_OK);
  CHECK(libpdf_reduction_get(red, LIBPDF_RED_FQ, F, nq) == LIBPDF_OK);
  CHECK(libpdf_reduction_get(red, LIBPDF_RED_GR, G, nr) == LIBPDF_OK);
  /* F = q (S - 1) by definition; 1e-12 relative covers one rounding of the product. */
  int f_ok = 1;
  for (size_t j = 0; j < nq; ++j) f_ok &= fabs(F[j] - q[j] * (S[j] - 1.0)) <= 1e-12 * (1.0 + fabs(F[j]));
  CHECK(f_ok);
  /* G is the plan's forward transform of F: a plan on the reduction's grid reproduces it bit for bit. */
  libpdf_transform_options to;
  libpdf_transform_options_init(&to);
  to.qmax = s.qmax;
  to.qstep = s.qstep;
  to.rmax = 10.0;
  libpdf_transform* t = NULL;
  CHECK(libpdf_transform_create(&to, &t) == LIBPDF_OK);
  CHECK(libpdf_transform_nq(t) == nq && libpdf_transform_nr(t) == nr);
  if (libpdf_transform_nq(t) == nq && libpdf_transform_nr(t) == nr) {
    CHECK(libpdf_transform_forward(t, F, G2) == LIBPDF_OK);
    CHECK(memcmp(G, G2, nr * sizeof *G) == 0);
  }
  /* The written files carry the version in their headers. */
  const char* tmp = getenv("LIBPDF_TEST_TMP");
  snprintf(path, sizeof path, "%s/capi_Mg2SiO4", tmp != NULL ? tmp : ".");
  CHECK(libpdf_reduction_write(red, path, "Mg2SiO4_ambient.xy") == LIBPDF_OK);
  snprintf(path, sizeof path, "%s/capi_Mg2SiO4.gr", tmp != NULL ? tmp : ".");
  FILE* f = fopen(path, "r");
  CHECK(f != NULL);
  if (f != NULL) {
    char line[512], expected[128];
    snprintf(expected, sizeof expected, "version = libpdf %s", libpdf_version());
    int found = 0;
    while (fgets(line, sizeof line, f)) found |= strstr(line, expected) != NULL;
    fclose(f);
    CHECK(found);
  }
  free(q), free(S), free(F), free(G), free(G2);
  libpdf_transform_free(t);
  libpdf_reduction_free(red);
  libpdf_pattern_file_free(sf);
  libpdf_pattern_file_free(bf);
}

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

  check_transform();
  check_reduction_errors();
  if (data_dir != NULL) check_reduction_real(data_dir);

  free(frame);
  libpdf_integrator_free(it);
  libpdf_geometry_free(g);
  if (failures == 0) printf("C API: all checks passed (libpdf %s)\n", libpdf_version());
  return failures == 0 ? 0 : 1;
}
