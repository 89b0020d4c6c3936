/* libpdf C API: plain C (C99) access to libpdf from any language with a C foreign-function interface.
 *
 * - Opaque handles (libpdf_geometry, libpdf_integrator, libpdf_frames), made by the functions ending in
 *   _create, _open or _from_..., and released by the matching _free (which accepts NULL).
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
  double radial_lo, radial_hi;      /**< radial range in `unit` */
  int has_azimuth_range;            /**< non-zero: keep pixels meeting [azimuth_lo_deg, azimuth_hi_deg] */
  double azimuth_lo_deg, azimuth_hi_deg;
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

#ifdef __cplusplus
}
#endif

#endif /* LIBPDF_LIBPDF_H */
