/* libpdf C API: plain C (C99) access to libpdf from any language with a C foreign-function interface.
 *
 * - Opaque handles (libpdf_geometry, libpdf_integrator, libpdf_frames, libpdf_reduction, libpdf_transform), made
 *   by the functions ending in _create, _open or _from_... (and libpdf_reduce), and released by the matching
 *   _free (which accepts NULL).
 * - Every fallible function returns a libpdf_status; on failure libpdf_last_error() returns a message naming
 *   the problem (kept per thread until the next failing call of that thread). No C++ exception crosses this API.
 * - Arrays are caller-owned; their required lengths are stated per function. Frames are row-major.
 * - Handles are immutable after creation: one integrator may be used from many threads at once.
 */
#ifndef LIBPDF_LIBPDF_H
#define LIBPDF_LIBPDF_H

#include <stddef.h>
#include <stdint.h>

#if defined(LIBPDF_BUILDING_LIBRARY)
#define LIBPDF_C_API __attribute__((visibility("default")))
#else
#define LIBPDF_C_API
#endif

/* In C++ the enums get a fixed underlying type, so an out-of-range value passed from C (or another language) is
 * still a valid value there and is rejected with LIBPDF_INVALID_ARGUMENT instead of being undefined behaviour. */
#ifdef __cplusplus
#define LIBPDF_ENUM(name) enum name : int
#else
#define LIBPDF_ENUM(name) enum name
#endif

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a call. */
typedef LIBPDF_ENUM(libpdf_status) {
  LIBPDF_OK = 0,               /**< success */
  LIBPDF_INVALID_ARGUMENT = 1, /**< a parameter, option or array is invalid (message says which) */
  LIBPDF_IO_ERROR = 2,         /**< a file could not be read or written, or is malformed */
  LIBPDF_NUMERICAL_ERROR = 3,  /**< no meaningful number could be produced (e.g. every pixel invalid) */
  LIBPDF_INTERNAL_ERROR = 4    /**< anything else (out of memory, a bug): the message says what */
} libpdf_status;

/** Element type of a frame. */
typedef LIBPDF_ENUM(libpdf_pixel_type) {
  LIBPDF_PIXEL_U16 = 0,
  LIBPDF_PIXEL_I16 = 1,
  LIBPDF_PIXEL_U32 = 2,
  LIBPDF_PIXEL_I32 = 3,
  LIBPDF_PIXEL_F32 = 4,
  LIBPDF_PIXEL_F64 = 5
} libpdf_pixel_type;

/** Radial unit of the bins. */
typedef LIBPDF_ENUM(libpdf_radial_unit) {
  LIBPDF_UNIT_Q_A = 0,     /**< q in 1/Å */
  LIBPDF_UNIT_Q_NM = 1,    /**< q in 1/nm */
  LIBPDF_UNIT_TTH_DEG = 2, /**< 2θ in degrees */
  LIBPDF_UNIT_R_MM = 3     /**< distance from the beam axis in mm */
} libpdf_radial_unit;

/** Pixel splitting. */
typedef LIBPDF_ENUM(libpdf_splitting) { LIBPDF_SPLIT_NONE = 0, LIBPDF_SPLIT_BBOX = 1, LIBPDF_SPLIT_FULL = 2 } libpdf_splitting;

/** Error model of σ. */
typedef LIBPDF_ENUM(libpdf_error_model) {
  LIBPDF_ERRORS_NONE = 0,
  LIBPDF_ERRORS_POISSON = 1,
  LIBPDF_ERRORS_AZIMUTHAL = 2
} libpdf_error_model;

/** The library version, "major.minor.patch". */
LIBPDF_C_API const char* libpdf_version(void);

/** The message of the last failed call in this thread ("" if none). Valid until the next failing call. */
LIBPDF_C_API const char* libpdf_last_error(void);

/* ---- Geometry ---------------------------------------------------------------------------------------- */

/** A detector at a calibrated position (a pyFAI PONI plus the detector shape). */
typedef struct libpdf_geometry libpdf_geometry;

/** Reads a PONI file (version 1, 2 or 2.1). rows/cols: the detector shape (0, 0 = the PONI's max_shape). */
LIBPDF_C_API libpdf_status libpdf_geometry_from_poni_file(const char* path, size_t rows, size_t cols,
                                                          libpdf_geometry** out);
/** Parses PONI text (as in a file). */
LIBPDF_C_API libpdf_status libpdf_geometry_from_poni_text(const char* text, size_t rows, size_t cols,
                                                          libpdf_geometry** out);
/** Rows and columns of the detector. */
LIBPDF_C_API libpdf_status libpdf_geometry_shape(const libpdf_geometry* geometry, size_t* rows, size_t* cols);
/** Releases a geometry (NULL is ignored). */
LIBPDF_C_API void libpdf_geometry_free(libpdf_geometry* geometry);

/* ---- Integration ------------------------------------------------------------------------------------- */

/** Options of an integration plan; fill with libpdf_integration_options_init() first. */
typedef struct libpdf_integration_options {
  size_t npt;                       /**< number of radial bins */
  libpdf_radial_unit unit;          /**< radial unit */
  int has_radial_range;             /**< non-zero: use [radial_lo, radial_hi] */
  /** radial range in `unit` */
  /** @{ */
  double radial_lo, radial_hi;
  /** @} */
  int has_azimuth_range;            /**< non-zero: keep pixels meeting [azimuth_lo_deg, azimuth_hi_deg] */
  /** azimuth range in degrees */
  /** @{ */
  double azimuth_lo_deg, azimuth_hi_deg;
  /** @} */
  libpdf_splitting splitting;       /**< pixel splitting */
  int solid_angle;                  /**< non-zero: divide by the solid angle */
  int has_polarization;             /**< non-zero: correct polarisation with polarization_factor */
  double polarization_factor;       /**< in [-1, 1] */
  double normalization_factor;      /**< intensities are divided by it (> 0) */
  libpdf_error_model error_model;   /**< σ estimate */
  int mask_detector_markers;        /**< non-zero: -1 (signed) and 2^bits - 1 (unsigned) are invalid */
  int threads;                      /**< 0 = all cores */
} libpdf_integration_options;

/** Fills @p options with the defaults (1000 bins in q (1/Å), bbox, solid angle, Poisson σ, markers masked). */
LIBPDF_C_API void libpdf_integration_options_init(libpdf_integration_options* options);

/** A 1D integration plan (immutable; safe to use from many threads at once). */
typedef struct libpdf_integrator libpdf_integrator;

/** Builds a plan. mask (uint8, non-zero = masked), dark and flat (float32) are rows*cols arrays or NULL. */
LIBPDF_C_API libpdf_status libpdf_integrator_create(const libpdf_geometry* geometry,
                                                    const libpdf_integration_options* options,
                                                    const uint8_t* mask, const float* dark, const float* flat,
                                                    libpdf_integrator** out);
/** Number of bins of a plan. */
LIBPDF_C_API size_t libpdf_integrator_npt(const libpdf_integrator* integrator);
/** Copies the bin centres (npt values) into @p radial. */
LIBPDF_C_API libpdf_status libpdf_integrator_radial(const libpdf_integrator* integrator, double* radial);
/** Integrates one frame of @p type (rows x cols, row-major, read in place). intensity: npt values; sigma and
 *  count: npt values each, or NULL when not wanted. */
LIBPDF_C_API libpdf_status libpdf_integrate(const libpdf_integrator* integrator, const void* frame,
                                            libpdf_pixel_type type, size_t rows, size_t cols, double* intensity,
                                            double* sigma, double* count);
/** Releases a plan (NULL is ignored). */
LIBPDF_C_API void libpdf_integrator_free(libpdf_integrator* integrator);

/* ---- Reading frames ---------------------------------------------------------------------------------- */

/** A series of frames in a TIFF or HDF5/NeXus file (or a DESY Lambda series). */
typedef struct libpdf_frames libpdf_frames;

/** Opens frames; @p dataset is an HDF5 path or NULL/"" to discover it. */
LIBPDF_C_API libpdf_status libpdf_frames_open(const char* path, const char* dataset, libpdf_frames** out);
/** Number of frames, rows, columns and stored element type. */
LIBPDF_C_API libpdf_status libpdf_frames_info(const libpdf_frames* frames, size_t* count, size_t* rows, size_t* cols,
                                              libpdf_pixel_type* type);
/** Reads frame @p index into @p out (rows*cols values of the stored type, see libpdf_frames_info). */
LIBPDF_C_API libpdf_status libpdf_frames_read(const libpdf_frames* frames, size_t index, void* out);
/** Releases the frames (NULL is ignored). */
LIBPDF_C_API void libpdf_frames_free(libpdf_frames* frames);

/* ---- Reduction: I(q) -> S(q), F(q), G(r) ---------------------------------------------------------------- */

/** How the normalisation factor alpha is found (see reduce.hpp). */
typedef LIBPDF_ENUM(libpdf_normalization) {
  LIBPDF_NORM_HIGH_Q = 0,           /**< least-squares fit of the high-q region */
  LIBPDF_NORM_KROGH_MOE_NORMAN = 1, /**< sum rule; needs a density */
  LIBPDF_NORM_AD_HOC = 2            /**< high-q alpha, then a PDFgetX3-style polynomial correction */
} libpdf_normalization;

/** Weight of the high-q fit. */
typedef LIBPDF_ENUM(libpdf_highq_weight) {
  LIBPDF_HIGHQ_WEIGHT_NONE = 0, /**< unweighted */
  LIBPDF_HIGHQ_WEIGHT_Q = 1,    /**< weight q */
  LIBPDF_HIGHQ_WEIGHT_Q2 = 2    /**< weight q^2 */
} libpdf_highq_weight;

/** Normalisation of the total structure factor. */
typedef LIBPDF_ENUM(libpdf_convention) {
  LIBPDF_FABER_ZIMAN = 0,      /**< Faber-Ziman: normalised by the squared mean form factor */
  LIBPDF_ASHCROFT_LANGRETH = 1 /**< Ashcroft-Langreth weighted: normalised by the mean squared form factor */
} libpdf_convention;

/** S(q) below qmin, where nothing was measured. */
typedef LIBPDF_ENUM(libpdf_extrapolation) {
  LIBPDF_EXTRAPOLATE_NONE = 0,  /**< F = 0 below qmin */
  LIBPDF_EXTRAPOLATE_ZERO = 1,  /**< S = 0 below qmin */
  LIBPDF_EXTRAPOLATE_LINEAR = 2 /**< S rises linearly from 0 at q = 0 to S(qmin) */
} libpdf_extrapolation;

/** Termination function M(q) of the sine transform. */
typedef LIBPDF_ENUM(libpdf_window) {
  LIBPDF_WINDOW_NONE = 0,  /**< M = 1 */
  LIBPDF_WINDOW_LORCH = 1, /**< M = sin(pi q/qmax) / (pi q/qmax) */
  LIBPDF_WINDOW_COSINE = 2 /**< cosine taper of width taper_width below qmax */
} libpdf_window;

/** Options of a reduction; fill with libpdf_reduction_options_init() first. The has_* flags switch the optional
 *  values on (unset values take the library's defaults, as documented in reduce.hpp). */
typedef struct libpdf_reduction_options {
  const char* composition;            /**< sample formula, e.g. "Mg2SiO4" (required; copied by libpdf_reduce) */
  int has_number_density;             /**< non-zero: use number_density */
  double number_density;              /**< rho0 in atoms/A^3 (> 0) */
  int has_mass_density;               /**< non-zero: use mass_density (not together with number_density) */
  double mass_density;                /**< rho in g/cm^3 (> 0) */
  double background_scale;            /**< b in I_s - b I_bkg (>= 0) */
  int has_qmin;                       /**< non-zero: use qmin (default: the first data point) */
  double qmin;                        /**< first q used (1/A) */
  int has_qmax;                       /**< non-zero: use qmax (default: the last data point) */
  double qmax;                        /**< last q used and transformed (1/A) */
  int has_qmaxinst;                   /**< non-zero: use qmaxinst (default qmax) */
  double qmaxinst;                    /**< ad hoc fit upper end (1/A) */
  int has_qstep;                      /**< non-zero: resample onto a step <= qstep (else the data must be uniform) */
  double qstep;                       /**< q step (1/A) */
  libpdf_normalization normalization; /**< how alpha is found */
  double highq_qmin;                  /**< the high-q fit uses q above this (1/A) */
  libpdf_highq_weight highq_weight;   /**< weight of the high-q fit */
  double rpoly;                       /**< ad hoc polynomial degree round(rpoly qmaxinst / pi) (A) */
  libpdf_convention convention;       /**< S(q) normalisation */
  libpdf_extrapolation extrapolation; /**< S(q) below qmin */
  int low_r_iterations;               /**< Eggert/Kaplow iterations (>= 0; need low_r_cutoff and a density) */
  int has_low_r_cutoff;               /**< non-zero: use low_r_cutoff */
  double low_r_cutoff;                /**< r_c (A): g(r) = 0 below it */
  int optimize_background_scale;      /**< non-zero: optimise b (needs a background, r_c and a density) */
  int optimize_density;               /**< non-zero: optimise rho0 (needs r_c and a starting density) */
  int has_background_scale_range;     /**< non-zero: bound b to [background_scale_min, background_scale_max] */
  double background_scale_min;        /**< lower bound of b */
  double background_scale_max;        /**< upper bound of b */
  int has_density_range;              /**< non-zero: bound rho0 to [density_min, density_max] (atoms/A^3) */
  double density_min;                 /**< lower bound of rho0 */
  double density_max;                 /**< upper bound of rho0 */
  int optimize_max_evaluations;       /**< budget of the optimiser (> 0) */
  double rmin;                        /**< first r of G(r) (A, a multiple of rstep) */
  double rmax;                        /**< last r of G(r) (A) */
  double rstep;                       /**< r step (A) */
  libpdf_window window;               /**< M(q) of the final transform */
  double taper_width;                 /**< cosine taper width (1/A); 0 = qmax/10 */
} libpdf_reduction_options;

/** Fills @p options with the library's defaults (composition NULL: it must be set). */
LIBPDF_C_API void libpdf_reduction_options_init(libpdf_reduction_options* options);

/** A measured 1D pattern on q (1/A, strictly increasing); arrays are borrowed for the call only. */
typedef struct libpdf_pattern {
  const double* q;         /**< n values of q (1/A) */
  const double* intensity; /**< n values of I(q) */
  const double* sigma;     /**< n values of sigma of I, or NULL when unknown */
  size_t n;                /**< number of points */
} libpdf_pattern;

/** A text pattern read from a file (.xy, .chi, .dat, .iq, .sq, .fq, .gr: two or three numeric columns). */
typedef struct libpdf_pattern_file libpdf_pattern_file;

/** Reads a text pattern (see pattern_io.hpp for the accepted layouts). */
LIBPDF_C_API libpdf_status libpdf_pattern_file_read(const char* path, libpdf_pattern_file** out);
/** Points @p view at the file's columns (x as stored, y, sigma or NULL); valid until the file is freed. The first
 *  column is not converted: a pattern in 2theta or 1/nm must be converted to q in 1/A before libpdf_reduce. */
LIBPDF_C_API libpdf_status libpdf_pattern_file_view(const libpdf_pattern_file* file, libpdf_pattern* view);
/** Releases a pattern file (NULL is ignored). */
LIBPDF_C_API void libpdf_pattern_file_free(libpdf_pattern_file* file);

/** The outcome of a reduction (immutable): arrays on the q and r grids and every value the reduction used. */
typedef struct libpdf_reduction libpdf_reduction;

/** Reduces @p sample, with @p background (or NULL) subtracted with options->background_scale. */
LIBPDF_C_API libpdf_status libpdf_reduce(const libpdf_pattern* sample, const libpdf_pattern* background,
                                         const libpdf_reduction_options* options, libpdf_reduction** out);
/** Reduces @p sample with @p n_backgrounds terms subtracted: I_c = I_s - sum_k scales[k] I_k. With
 *  optimize_background_scale the scale of backgrounds[0] is optimised. */
LIBPDF_C_API libpdf_status libpdf_reduce_backgrounds(const libpdf_pattern* sample, const libpdf_pattern* backgrounds,
                                                     const double* scales, size_t n_backgrounds,
                                                     const libpdf_reduction_options* options,
                                                     libpdf_reduction** out);

/** The arrays of a reduction. Arrays named Q_* share the grid LIBPDF_RED_Q, R_* the grid LIBPDF_RED_R. */
typedef LIBPDF_ENUM(libpdf_reduction_array) {
  LIBPDF_RED_Q = 0,              /**< q grid 0..qmax (1/A) */
  LIBPDF_RED_IQ = 1,             /**< I_c = I_s - b I_bkg on the q grid (0 below qmin) */
  LIBPDF_RED_IQ_SIGMA = 2,       /**< sigma of I_c (empty without sigma) */
  LIBPDF_RED_SQ = 3,             /**< S(q) */
  LIBPDF_RED_SQ_SIGMA = 4,       /**< sigma of S(q) (empty without sigma) */
  LIBPDF_RED_FQ = 5,             /**< F(q) = q [S(q) - 1] (1/A) */
  LIBPDF_RED_FQ_SIGMA = 6,       /**< sigma of F(q) (empty without sigma) */
  LIBPDF_RED_R = 7,              /**< r grid rmin:rstep:rmax (A) */
  LIBPDF_RED_GR = 8,             /**< G(r) (1/A^2) */
  LIBPDF_RED_GR_SIGMA = 9,       /**< sigma of G(r) (empty without sigma) */
  LIBPDF_RED_PAIR_GR = 10,       /**< g(r) (empty without a density) */
  LIBPDF_RED_PAIR_GR_SIGMA = 11, /**< sigma of g(r) */
  LIBPDF_RED_RDF = 12,           /**< RDF(r) = 4 pi rho0 r^2 g(r) (1/A; empty without a density) */
  LIBPDF_RED_RDF_SIGMA = 13,     /**< sigma of RDF(r) */
  LIBPDF_RED_F2_MEAN = 14,       /**< mean of f^2 over the composition, on the q grid */
  LIBPDF_RED_F_MEAN_SQ = 15,     /**< square of the mean f, on the q grid */
  LIBPDF_RED_COMPTON = 16        /**< I_inc on the q grid */
} libpdf_reduction_array;

/** Number of values of array @p which in @p *n (0 for an array that was not produced, e.g. sigma without input
 *  sigma). */
LIBPDF_C_API libpdf_status libpdf_reduction_length(const libpdf_reduction* reduction, libpdf_reduction_array which,
                                                   size_t* n);
/** Copies array @p which into @p out, which holds @p capacity values (at least libpdf_reduction_length). */
LIBPDF_C_API libpdf_status libpdf_reduction_get(const libpdf_reduction* reduction, libpdf_reduction_array which,
                                                double* out, size_t capacity);

/** The scalar values a reduction resolved and used. */
typedef struct libpdf_reduction_summary {
  /** band used (1/A) */
  /** @{ */
  double qmin, qmax, qmaxinst;
  /** @} */
  double qstep;                /**< step of the q grid (1/A) */
  double alpha;                /**< normalisation factor */
  double background_scale;     /**< scale of the first background (0 without one) */
  int has_number_density;      /**< non-zero: number_density is known */
  double number_density;       /**< rho0 used (atoms/A^3) */
  size_t first_measured;       /**< index of the first measured q on the q grid */
  int has_sigma;               /**< non-zero: the sigma arrays are filled */
  int adhoc_degree;            /**< degree of the ad hoc polynomial */
  int low_r_iterations;        /**< Eggert/Kaplow iterations done */
  int has_low_r_residual;      /**< non-zero: low_r_residual is known */
  double low_r_residual;       /**< integral of [G + 4 pi rho0 r]^2 below r_c */
  int optimizer_evaluations;   /**< reductions run by the optimiser */
} libpdf_reduction_summary;

/** Fills @p summary from @p reduction. */
LIBPDF_C_API libpdf_status libpdf_reduction_get_summary(const libpdf_reduction* reduction,
                                                        libpdf_reduction_summary* summary);
/** Writes PREFIX.iq, PREFIX.sq, PREFIX.fq and PREFIX.gr (PDFgetX3-style headers with every parameter and the
 *  libpdf version), atomically. @p input_name (or NULL) is recorded as the input file. */
LIBPDF_C_API libpdf_status libpdf_reduction_write(const libpdf_reduction* reduction, const char* prefix,
                                                  const char* input_name);
/** Releases a reduction (NULL is ignored). */
LIBPDF_C_API void libpdf_reduction_free(libpdf_reduction* reduction);

/** Number density (atoms/A^3) of @p formula at mass density @p mass_density_g_cm3 (g/cm^3), into @p *out. */
LIBPDF_C_API libpdf_status libpdf_number_density(const char* formula, double mass_density_g_cm3, double* out);

/* ---- Sine transform F(q) <-> G(r) ---------------------------------------------------------------------- */

/** Options of a transform plan; fill with libpdf_transform_options_init() first. */
typedef struct libpdf_transform_options {
  double qmax;          /**< upper end of the q band (1/A) */
  double qstep;         /**< largest acceptable q step (1/A); the plan's step is <= this */
  double rmin;          /**< first r (A, a multiple of rstep) */
  double rmax;          /**< last r (A) */
  double rstep;         /**< r step (A) */
  libpdf_window window; /**< termination function M(q) */
  double taper_width;   /**< cosine taper width (1/A); 0 = qmax/10 */
  int measure;          /**< non-zero: let FFTW time candidate algorithms (slow to plan) */
  int threads;          /**< threads of libpdf_transform_forward_batch (0 = all cores) */
} libpdf_transform_options;

/** Fills @p options with the defaults (qmax 25, qstep 0.01, r 0..30 step 0.01, no window). */
LIBPDF_C_API void libpdf_transform_options_init(libpdf_transform_options* options);

/** A sine-transform plan (immutable; safe to use from many threads at once). Definitions in transform.hpp:
 *  G(r_i) = (2/pi) dq sum_j F(q_j) M(q_j) sin(q_j r_i) on the plan's grids q_j = j dq and r_i = rmin + i rstep. */
typedef struct libpdf_transform libpdf_transform;

/** Builds a plan. */
LIBPDF_C_API libpdf_status libpdf_transform_create(const libpdf_transform_options* options, libpdf_transform** out);
/** Number of q samples of F (0 for NULL). */
LIBPDF_C_API size_t libpdf_transform_nq(const libpdf_transform* transform);
/** Number of r points of G (0 for NULL). */
LIBPDF_C_API size_t libpdf_transform_nr(const libpdf_transform* transform);
/** The q step of the plan (1/A; 0 for NULL). */
LIBPDF_C_API double libpdf_transform_qstep(const libpdf_transform* transform);
/** Copies the q grid (nq values) into @p q. */
LIBPDF_C_API libpdf_status libpdf_transform_q(const libpdf_transform* transform, double* q);
/** Copies the r grid (nr values) into @p r. */
LIBPDF_C_API libpdf_status libpdf_transform_r(const libpdf_transform* transform, double* r);
/** G (nr values) from F (nq values on the plan's q grid). */
LIBPDF_C_API libpdf_status libpdf_transform_forward(const libpdf_transform* transform, const double* F, double* G);
/** @p frames rows of F (nq values each) into rows of G (nr values each), shared among the plan's threads. */
LIBPDF_C_API libpdf_status libpdf_transform_forward_batch(const libpdf_transform* transform, const double* F,
                                                          size_t frames, double* G);
/** sigma of G (nr values) from sigma of F (nq values), for independent q points. */
LIBPDF_C_API libpdf_status libpdf_transform_forward_sigma(const libpdf_transform* transform, const double* sigma_F,
                                                          double* sigma_G);
/** F (nq values) from G (nr values): F(q_j) = dr sum_i G(r_i) sin(q_j r_i). */
LIBPDF_C_API libpdf_status libpdf_transform_inverse(const libpdf_transform* transform, const double* G, double* F);
/** Releases a plan (NULL is ignored). */
LIBPDF_C_API void libpdf_transform_free(libpdf_transform* transform);

#ifdef __cplusplus
}
#endif

#endif /* LIBPDF_LIBPDF_H */
