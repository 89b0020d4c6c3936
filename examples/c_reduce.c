/* From a 1D pattern I(q) to S(q), F(q) and G(r) through libpdf's C API, then the same F(q) transformed again with
 * a Lorch window by a transform plan of its own.
 * Usage: c_reduce PATTERN FORMULA DENSITY_G_CM3 QMAX OUTPUT_PREFIX [BACKGROUND]
 * (PATTERN and BACKGROUND: two- or three-column text files with q in 1/A). Writes OUTPUT_PREFIX.iq/.sq/.fq/.gr and
 * prints the reduction's summary and the first peak of G(r) with and without the window. */
#include <stdio.h>
#include <stdlib.h>

#include "libpdf/libpdf.h"

static int die(const char* what) {
  fprintf(stderr, "c_reduce: %s: %s\n", what, libpdf_last_error());
  return 1;
}

/* Index of the largest value of G between 1 and 2 A: the first (cation-oxygen) shell of an oxide glass. Below 1 A
 * there are no pairs, only the -4 pi rho0 r line; beyond 2 A the next shells start. */
static size_t first_peak(const double* r, const double* G, size_t n) {
  size_t best = 0;
  for (size_t i = 0; i < n; ++i) {
    if (r[i] > 1.0 && r[i] < 2.0 && (best == 0 || G[i] > G[best])) best = i;
  }
  return best;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: c_reduce PATTERN FORMULA DENSITY_G_CM3 QMAX OUTPUT_PREFIX [BACKGROUND]\n");
    return 2;
  }
  libpdf_pattern_file* sample_file = NULL;
  libpdf_pattern_file* background_file = NULL;
  libpdf_pattern sample, background;
  if (libpdf_pattern_file_read(argv[1], &sample_file) != LIBPDF_OK) return die("reading the pattern");
  libpdf_pattern_file_view(sample_file, &sample);
  if (argc > 6) {
    if (libpdf_pattern_file_read(argv[6], &background_file) != LIBPDF_OK) return die("reading the background");
    libpdf_pattern_file_view(background_file, &background);
  }

  libpdf_reduction_options options;
  libpdf_reduction_options_init(&options);
  options.composition = argv[2];
  options.has_mass_density = 1;
  options.mass_density = atof(argv[3]);
  options.has_qmax = 1;
  options.qmax = atof(argv[4]);
  options.rmax = 20.0;
  libpdf_reduction* reduction = NULL;
  if (libpdf_reduce(&sample, background_file ? &background : NULL, &options, &reduction) != LIBPDF_OK) {
    return die("reducing");
  }
  libpdf_reduction_summary s;
  libpdf_reduction_get_summary(reduction, &s);
  printf("alpha = %.6g, rho0 = %.6g atoms/A^3, q %.4g..%.4g step %.6g 1/A\n", s.alpha, s.number_density, s.qmin,
         s.qmax, s.qstep);
  if (libpdf_reduction_write(reduction, argv[5], argv[1]) != LIBPDF_OK) return die("writing the results");

  size_t nq = 0, nr = 0;
  libpdf_reduction_length(reduction, LIBPDF_RED_Q, &nq);
  libpdf_reduction_length(reduction, LIBPDF_RED_R, &nr);
  double* F = malloc(nq * sizeof *F);
  double* r = malloc(nr * sizeof *r);
  double* G = malloc(nr * sizeof *G);
  double* G_lorch = malloc(nr * sizeof *G_lorch);
  libpdf_reduction_get(reduction, LIBPDF_RED_FQ, F, nq);
  libpdf_reduction_get(reduction, LIBPDF_RED_R, r, nr);
  libpdf_reduction_get(reduction, LIBPDF_RED_GR, G, nr);

  /* A plan on the reduction's own q grid (same qmax and step) transforms its F(q) directly. */
  libpdf_transform_options t;
  libpdf_transform_options_init(&t);
  t.qmax = s.qmax;
  t.qstep = s.qstep;
  t.rmax = options.rmax;
  t.window = LIBPDF_WINDOW_LORCH;
  libpdf_transform* plan = NULL;
  if (libpdf_transform_create(&t, &plan) != LIBPDF_OK) return die("planning the transform");
  if (libpdf_transform_nq(plan) != nq || libpdf_transform_nr(plan) != nr) {
    fprintf(stderr, "c_reduce: the plan's grids (%zu q, %zu r) differ from the reduction's (%zu, %zu)\n",
            libpdf_transform_nq(plan), libpdf_transform_nr(plan), nq, nr);
    return 1;
  }
  if (libpdf_transform_forward(plan, F, G_lorch) != LIBPDF_OK) return die("transforming");
  const size_t p = first_peak(r, G, nr), pl = first_peak(r, G_lorch, nr);
  printf("first-shell peak of G(r): r = %.3f A (G = %.4g); with the Lorch window r = %.3f A (G = %.4g)\n", r[p], G[p],
         r[pl], G_lorch[pl]);
  printf("wrote %s.iq, .sq, .fq, .gr (libpdf %s)\n", argv[5], libpdf_version());

  free(F), free(r), free(G), free(G_lorch);
  libpdf_transform_free(plan);
  libpdf_reduction_free(reduction);
  libpdf_pattern_file_free(sample_file);
  libpdf_pattern_file_free(background_file);
  return 0;
}
