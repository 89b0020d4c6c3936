// The C API (include/libpdf/libpdf.h): opaque handles around the C++ objects, exceptions turned into status codes
// and a per-thread last-error message.
#include "libpdf/libpdf.h"

#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"
#include "libpdf/version.hpp"

struct libpdf_geometry {
  libpdf::Geometry geometry;
};
struct libpdf_integrator {
  libpdf::Integrator plan;
};
struct libpdf_frames {
  std::unique_ptr<libpdf::FrameSource> source;
};

namespace {

thread_local std::string g_last_error;

libpdf_status fail(libpdf_status s, const std::string& message) {
  g_last_error = message;
  return s;
}

// Runs f, mapping every exception to a status; no exception leaves the C API.
template <class F>
libpdf_status guarded(const char* function, F&& f) {
  try {
    f();
    return LIBPDF_OK;
  } catch (const libpdf::InvalidArgument& e) {
    return fail(LIBPDF_INVALID_ARGUMENT, std::string(function) + ": " + e.what());
  } catch (const libpdf::IoError& e) {
    return fail(LIBPDF_IO_ERROR, std::string(function) + ": " + e.what());
  } catch (const libpdf::NumericalError& e) {
    return fail(LIBPDF_NUMERICAL_ERROR, std::string(function) + ": " + e.what());
  } catch (const std::bad_alloc&) {
    return fail(LIBPDF_INTERNAL_ERROR, std::string(function) + ": out of memory");
  } catch (const std::exception& e) {
    return fail(LIBPDF_INTERNAL_ERROR, std::string(function) + ": " + e.what());
  } catch (...) {
    return fail(LIBPDF_INTERNAL_ERROR, std::string(function) + ": unknown error");
  }
}

void require(const void* p, const char* function, const char* name) {
  if (p == nullptr) throw libpdf::InvalidArgument(std::string(name) + " is NULL (" + function + ")");
}

libpdf::PixelType to_cpp(libpdf_pixel_type t) {
  switch (t) {
    case LIBPDF_PIXEL_U16: return libpdf::PixelType::u16;
    case LIBPDF_PIXEL_I16: return libpdf::PixelType::i16;
    case LIBPDF_PIXEL_U32: return libpdf::PixelType::u32;
    case LIBPDF_PIXEL_I32: return libpdf::PixelType::i32;
    case LIBPDF_PIXEL_F32: return libpdf::PixelType::f32;
    case LIBPDF_PIXEL_F64: return libpdf::PixelType::f64;
  }
  throw libpdf::InvalidArgument("unknown pixel type " + std::to_string(static_cast<int>(t)) + " (expected 0..5)");
}

libpdf_pixel_type to_c(libpdf::PixelType t) {
  switch (t) {
    case libpdf::PixelType::u16: return LIBPDF_PIXEL_U16;
    case libpdf::PixelType::i16: return LIBPDF_PIXEL_I16;
    case libpdf::PixelType::u32: return LIBPDF_PIXEL_U32;
    case libpdf::PixelType::i32: return LIBPDF_PIXEL_I32;
    case libpdf::PixelType::f32: return LIBPDF_PIXEL_F32;
    case libpdf::PixelType::f64: return LIBPDF_PIXEL_F64;
  }
  return LIBPDF_PIXEL_F64;
}

template <class E>
E checked_enum(int v, int max, const char* name) {
  if (v < 0 || v > max) {
    throw libpdf::InvalidArgument(std::string(name) + " = " + std::to_string(v) + " (expected 0.." +
                                  std::to_string(max) + ")");
  }
  return static_cast<E>(v);
}

}  // namespace

extern "C" {

const char* libpdf_version(void) { return libpdf::version(); }

const char* libpdf_last_error(void) { return g_last_error.c_str(); }

libpdf_status libpdf_geometry_from_poni_file(const char* path, size_t rows, size_t cols, libpdf_geometry** out) {
  return guarded(__func__, [&] {
    require(path, __func__, "path");
    require(out, __func__, "out");
    *out = nullptr;
    *out = new libpdf_geometry{libpdf::Geometry(libpdf::read_poni(path), rows, cols)};
  });
}

libpdf_status libpdf_geometry_from_poni_text(const char* text, size_t rows, size_t cols, libpdf_geometry** out) {
  return guarded(__func__, [&] {
    require(text, __func__, "text");
    require(out, __func__, "out");
    *out = nullptr;
    *out = new libpdf_geometry{libpdf::Geometry(libpdf::parse_poni(text), rows, cols)};
  });
}

libpdf_status libpdf_geometry_shape(const libpdf_geometry* geometry, size_t* rows, size_t* cols) {
  return guarded(__func__, [&] {
    require(geometry, __func__, "geometry");
    if (rows) *rows = geometry->geometry.rows();
    if (cols) *cols = geometry->geometry.cols();
  });
}

void libpdf_geometry_free(libpdf_geometry* geometry) { delete geometry; }

void libpdf_integration_options_init(libpdf_integration_options* o) {
  if (o == nullptr) return;
  const libpdf::IntegrationOptions d;
  std::memset(o, 0, sizeof(*o));
  o->npt = d.npt;
  o->unit = LIBPDF_UNIT_Q_A;
  o->splitting = LIBPDF_SPLIT_BBOX;
  o->solid_angle = d.solid_angle ? 1 : 0;
  o->polarization_factor = 0.99;
  o->normalization_factor = d.normalization_factor;
  o->error_model = LIBPDF_ERRORS_POISSON;
  o->mask_detector_markers = d.mask_detector_markers ? 1 : 0;
  o->threads = d.threads;
}

libpdf_status libpdf_integrator_create(const libpdf_geometry* geometry, const libpdf_integration_options* options,
                                       const uint8_t* mask, const float* dark, const float* flat,
                                       libpdf_integrator** out) {
  return guarded(__func__, [&] {
    require(geometry, __func__, "geometry");
    require(options, __func__, "options");
    require(out, __func__, "out");
    *out = nullptr;
    libpdf::IntegrationOptions o;
    o.npt = options->npt;
    o.unit = checked_enum<libpdf::RadialUnit>(options->unit, 3, "unit");
    if (options->has_radial_range) o.radial_range = libpdf::Range{options->radial_lo, options->radial_hi};
    if (options->has_azimuth_range) o.azimuth_range_deg = libpdf::Range{options->azimuth_lo_deg, options->azimuth_hi_deg};
    o.splitting = checked_enum<libpdf::Splitting>(options->splitting, 2, "splitting");
    o.solid_angle = options->solid_angle != 0;
    if (options->has_polarization) o.polarization_factor = options->polarization_factor;
    o.normalization_factor = options->normalization_factor;
    o.error_model = checked_enum<libpdf::ErrorModel>(options->error_model, 2, "error_model");
    o.mask_detector_markers = options->mask_detector_markers != 0;
    o.threads = options->threads;
    const std::size_t n = geometry->geometry.rows() * geometry->geometry.cols();
    libpdf::Corrections c;
    if (mask) c.mask.assign(mask, mask + n);
    if (dark) c.dark.assign(dark, dark + n);
    if (flat) c.flat.assign(flat, flat + n);
    *out = new libpdf_integrator{libpdf::Integrator(geometry->geometry, o, c)};
  });
}

size_t libpdf_integrator_npt(const libpdf_integrator* integrator) {
  return integrator ? integrator->plan.radial().size() : 0;
}

libpdf_status libpdf_integrator_radial(const libpdf_integrator* integrator, double* radial) {
  return guarded(__func__, [&] {
    require(integrator, __func__, "integrator");
    require(radial, __func__, "radial");
    const auto& r = integrator->plan.radial();
    std::copy(r.begin(), r.end(), radial);
  });
}

libpdf_status libpdf_integrate(const libpdf_integrator* integrator, const void* frame, libpdf_pixel_type type,
                               size_t rows, size_t cols, double* intensity, double* sigma, double* count) {
  return guarded(__func__, [&] {
    require(integrator, __func__, "integrator");
    require(frame, __func__, "frame");
    require(intensity, __func__, "intensity");
    const libpdf::Result1D r = integrator->plan.integrate(libpdf::ImageView(frame, to_cpp(type), rows, cols));
    std::copy(r.intensity.begin(), r.intensity.end(), intensity);
    if (sigma) std::copy(r.sigma.begin(), r.sigma.end(), sigma);
    if (count) std::copy(r.count.begin(), r.count.end(), count);
  });
}

void libpdf_integrator_free(libpdf_integrator* integrator) { delete integrator; }

libpdf_status libpdf_frames_open(const char* path, const char* dataset, libpdf_frames** out) {
  return guarded(__func__, [&] {
    require(path, __func__, "path");
    require(out, __func__, "out");
    *out = nullptr;
    *out = new libpdf_frames{libpdf::open_frames(path, dataset ? dataset : "")};
  });
}

libpdf_status libpdf_frames_info(const libpdf_frames* frames, size_t* count, size_t* rows, size_t* cols,
                                 libpdf_pixel_type* type) {
  return guarded(__func__, [&] {
    require(frames, __func__, "frames");
    if (count) *count = frames->source->size();
    if (rows) *rows = frames->source->rows();
    if (cols) *cols = frames->source->cols();
    if (type) *type = to_c(frames->source->type());
  });
}

libpdf_status libpdf_frames_read(const libpdf_frames* frames, size_t index, void* out) {
  return guarded(__func__, [&] {
    require(frames, __func__, "frames");
    require(out, __func__, "out");
    const libpdf::Image img = frames->source->read(index);
    std::memcpy(out, img.data(), img.size() * libpdf::pixel_size(img.type()));
  });
}

void libpdf_frames_free(libpdf_frames* frames) { delete frames; }

}  // extern "C"
