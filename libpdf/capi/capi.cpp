// The C API (include/libpdf/libpdf.h): opaque handles around the C++ objects, exceptions turned into status codes
// and a per-thread last-error message.
#include "libpdf/libpdf.h"

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/transform.hpp"
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
struct libpdf_pattern_file {
  libpdf::TextPattern pattern;
};
struct libpdf_reduction {
  libpdf::ReductionResult result;
};
struct libpdf_transform {
  libpdf::SineTransform plan;
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

libpdf::IntensityPattern to_pattern(const libpdf_pattern& p, const char* name) {
  const std::string n(name);
  if (p.n > 0) {
    if (p.q == nullptr) throw libpdf::InvalidArgument(n + ".q is NULL but " + n + ".n = " + std::to_string(p.n));
    if (p.intensity == nullptr) {
      throw libpdf::InvalidArgument(n + ".intensity is NULL but " + n + ".n = " + std::to_string(p.n));
    }
  }
  libpdf::IntensityPattern out;
  if (p.n == 0) return out;  // reduce() reports the empty pattern in its own words
  out.q.assign(p.q, p.q + p.n);
  out.intensity.assign(p.intensity, p.intensity + p.n);
  if (p.sigma) out.sigma.assign(p.sigma, p.sigma + p.n);
  return out;
}

std::optional<double> opt(int has, double v) { return has ? std::optional<double>(v) : std::nullopt; }

libpdf::ReductionOptions to_cpp(const libpdf_reduction_options& c) {
  if (c.composition == nullptr) {
    throw libpdf::InvalidArgument("options.composition is NULL (expected a formula such as \"Mg2SiO4\")");
  }
  libpdf::ReductionOptions o;
  o.composition = libpdf::Composition(c.composition);
  o.number_density = opt(c.has_number_density, c.number_density);
  o.mass_density = opt(c.has_mass_density, c.mass_density);
  o.background_scale = c.background_scale;
  o.qmin = opt(c.has_qmin, c.qmin);
  o.qmax = opt(c.has_qmax, c.qmax);
  o.qmaxinst = opt(c.has_qmaxinst, c.qmaxinst);
  o.qstep = opt(c.has_qstep, c.qstep);
  o.normalization = checked_enum<libpdf::Normalization>(c.normalization, 2, "normalization");
  o.highq_qmin = c.highq_qmin;
  o.highq_weight = checked_enum<libpdf::HighQWeight>(c.highq_weight, 2, "highq_weight");
  o.rpoly = c.rpoly;
  o.convention = checked_enum<libpdf::StructureFactorConvention>(c.convention, 1, "convention");
  o.extrapolation = checked_enum<libpdf::LowQExtrapolation>(c.extrapolation, 2, "extrapolation");
  o.low_r_iterations = c.low_r_iterations;
  o.low_r_cutoff = opt(c.has_low_r_cutoff, c.low_r_cutoff);
  o.optimize_background_scale = c.optimize_background_scale != 0;
  o.optimize_density = c.optimize_density != 0;
  o.background_scale_min = opt(c.has_background_scale_range, c.background_scale_min);
  o.background_scale_max = opt(c.has_background_scale_range, c.background_scale_max);
  o.density_min = opt(c.has_density_range, c.density_min);
  o.density_max = opt(c.has_density_range, c.density_max);
  o.optimize_max_evaluations = c.optimize_max_evaluations;
  o.rmin = c.rmin;
  o.rmax = c.rmax;
  o.rstep = c.rstep;
  o.window = checked_enum<libpdf::Window>(c.window, 2, "window");
  o.taper_width = c.taper_width;
  return o;
}

const std::vector<double>& reduction_array(const libpdf::ReductionResult& r, libpdf_reduction_array which) {
  switch (which) {
    case LIBPDF_RED_Q: return r.q;
    case LIBPDF_RED_IQ: return r.iq;
    case LIBPDF_RED_IQ_SIGMA: return r.iq_sigma;
    case LIBPDF_RED_SQ: return r.sq;
    case LIBPDF_RED_SQ_SIGMA: return r.sq_sigma;
    case LIBPDF_RED_FQ: return r.fq;
    case LIBPDF_RED_FQ_SIGMA: return r.fq_sigma;
    case LIBPDF_RED_R: return r.r;
    case LIBPDF_RED_GR: return r.gr;
    case LIBPDF_RED_GR_SIGMA: return r.gr_sigma;
    case LIBPDF_RED_PAIR_GR: return r.pair_gr;
    case LIBPDF_RED_PAIR_GR_SIGMA: return r.pair_gr_sigma;
    case LIBPDF_RED_RDF: return r.rdf;
    case LIBPDF_RED_RDF_SIGMA: return r.rdf_sigma;
    case LIBPDF_RED_F2_MEAN: return r.f2_mean;
    case LIBPDF_RED_F_MEAN_SQ: return r.f_mean_sq;
    case LIBPDF_RED_COMPTON: return r.compton;
  }
  throw libpdf::InvalidArgument("unknown reduction array " + std::to_string(static_cast<int>(which)) +
                                " (expected 0..16, see libpdf_reduction_array)");
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

void libpdf_reduction_options_init(libpdf_reduction_options* o) {
  if (o == nullptr) return;
  const libpdf::ReductionOptions d;
  std::memset(o, 0, sizeof(*o));
  o->composition = nullptr;
  o->background_scale = d.background_scale;
  o->normalization = static_cast<libpdf_normalization>(d.normalization);
  o->highq_qmin = d.highq_qmin;
  o->highq_weight = static_cast<libpdf_highq_weight>(d.highq_weight);
  o->rpoly = d.rpoly;
  o->convention = static_cast<libpdf_convention>(d.convention);
  o->extrapolation = static_cast<libpdf_extrapolation>(d.extrapolation);
  o->low_r_iterations = d.low_r_iterations;
  o->optimize_max_evaluations = d.optimize_max_evaluations;
  o->rmin = d.rmin;
  o->rmax = d.rmax;
  o->rstep = d.rstep;
  o->window = static_cast<libpdf_window>(d.window);
  o->taper_width = d.taper_width;
}

libpdf_status libpdf_pattern_file_read(const char* path, libpdf_pattern_file** out) {
  return guarded(__func__, [&] {
    require(path, __func__, "path");
    require(out, __func__, "out");
    *out = nullptr;
    *out = new libpdf_pattern_file{libpdf::read_text_pattern(path)};
  });
}

libpdf_status libpdf_pattern_file_view(const libpdf_pattern_file* file, libpdf_pattern* view) {
  return guarded(__func__, [&] {
    require(file, __func__, "file");
    require(view, __func__, "view");
    const auto& p = file->pattern;
    view->q = p.x.data();
    view->intensity = p.y.data();
    view->sigma = p.sigma.empty() ? nullptr : p.sigma.data();
    view->n = p.x.size();
  });
}

void libpdf_pattern_file_free(libpdf_pattern_file* file) { delete file; }

libpdf_status libpdf_reduce(const libpdf_pattern* sample, const libpdf_pattern* background,
                            const libpdf_reduction_options* options, libpdf_reduction** out) {
  return guarded(__func__, [&] {
    require(sample, __func__, "sample");
    require(options, __func__, "options");
    require(out, __func__, "out");
    *out = nullptr;
    const libpdf::ReductionOptions o = to_cpp(*options);
    const libpdf::IntensityPattern s = to_pattern(*sample, "sample");
    if (background == nullptr) {
      *out = new libpdf_reduction{libpdf::reduce(s, o)};
    } else {
      const libpdf::IntensityPattern b = to_pattern(*background, "background");
      *out = new libpdf_reduction{libpdf::reduce(s, &b, o)};
    }
  });
}

libpdf_status libpdf_reduce_backgrounds(const libpdf_pattern* sample, const libpdf_pattern* backgrounds,
                                        const double* scales, size_t n_backgrounds,
                                        const libpdf_reduction_options* options, libpdf_reduction** out) {
  return guarded(__func__, [&] {
    require(sample, __func__, "sample");
    require(options, __func__, "options");
    require(out, __func__, "out");
    *out = nullptr;
    if (n_backgrounds > 0) {
      require(backgrounds, __func__, "backgrounds");
      require(scales, __func__, "scales");
    }
    const libpdf::ReductionOptions o = to_cpp(*options);
    std::vector<libpdf::BackgroundTerm> terms;
    for (std::size_t k = 0; k < n_backgrounds; ++k) {
      terms.push_back({to_pattern(backgrounds[k], ("backgrounds[" + std::to_string(k) + "]").c_str()), scales[k]});
    }
    *out = new libpdf_reduction{libpdf::reduce(to_pattern(*sample, "sample"), terms, o)};
  });
}

libpdf_status libpdf_reduction_length(const libpdf_reduction* reduction, libpdf_reduction_array which, size_t* n) {
  return guarded(__func__, [&] {
    require(reduction, __func__, "reduction");
    require(n, __func__, "n");
    *n = reduction_array(reduction->result, which).size();
  });
}

libpdf_status libpdf_reduction_get(const libpdf_reduction* reduction, libpdf_reduction_array which, double* out,
                                   size_t capacity) {
  return guarded(__func__, [&] {
    require(reduction, __func__, "reduction");
    const auto& a = reduction_array(reduction->result, which);
    if (a.empty()) return;
    require(out, __func__, "out");
    // The caller states its buffer size so a too-small buffer is an error, not a silent overflow.
    if (capacity < a.size()) {
      throw libpdf::InvalidArgument("capacity = " + std::to_string(capacity) + " but array " +
                                    std::to_string(static_cast<int>(which)) + " holds " + std::to_string(a.size()) +
                                    " values (see libpdf_reduction_length)");
    }
    std::copy(a.begin(), a.end(), out);
  });
}

libpdf_status libpdf_reduction_get_summary(const libpdf_reduction* reduction, libpdf_reduction_summary* summary) {
  return guarded(__func__, [&] {
    require(reduction, __func__, "reduction");
    require(summary, __func__, "summary");
    const auto& r = reduction->result;
    std::memset(summary, 0, sizeof(*summary));
    summary->qmin = r.qmin;
    summary->qmax = r.qmax;
    summary->qmaxinst = r.qmaxinst;
    summary->qstep = r.qstep;
    summary->alpha = r.alpha;
    summary->background_scale = r.background_scale;
    summary->has_number_density = r.number_density ? 1 : 0;
    summary->number_density = r.number_density.value_or(0.0);
    summary->first_measured = r.first_measured;
    summary->has_sigma = r.has_sigma ? 1 : 0;
    summary->adhoc_degree = r.adhoc_degree;
    summary->low_r_iterations = r.low_r_iterations;
    summary->has_low_r_residual = r.low_r_residual ? 1 : 0;
    summary->low_r_residual = r.low_r_residual.value_or(0.0);
    summary->optimizer_evaluations = r.optimizer_evaluations;
  });
}

libpdf_status libpdf_reduction_write(const libpdf_reduction* reduction, const char* prefix, const char* input_name) {
  return guarded(__func__, [&] {
    require(reduction, __func__, "reduction");
    require(prefix, __func__, "prefix");
    std::vector<libpdf::HeaderEntry> inputs;
    if (input_name != nullptr) inputs.emplace_back("inputfile", input_name);
    libpdf::write_reduction(prefix, reduction->result, inputs);
  });
}

void libpdf_reduction_free(libpdf_reduction* reduction) { delete reduction; }

libpdf_status libpdf_number_density(const char* formula, double mass_density_g_cm3, double* out) {
  return guarded(__func__, [&] {
    require(formula, __func__, "formula");
    require(out, __func__, "out");
    *out = libpdf::number_density_from_mass_density(mass_density_g_cm3, libpdf::Composition(formula));
  });
}

void libpdf_transform_options_init(libpdf_transform_options* o) {
  if (o == nullptr) return;
  const libpdf::TransformOptions d;
  std::memset(o, 0, sizeof(*o));
  o->qmax = d.qmax;
  o->qstep = d.qstep;
  o->rmin = d.rmin;
  o->rmax = d.rmax;
  o->rstep = d.rstep;
  o->window = static_cast<libpdf_window>(d.window);
  o->taper_width = d.taper_width;
  o->measure = d.planning == libpdf::FftPlanning::measure ? 1 : 0;
  o->threads = d.threads;
}

libpdf_status libpdf_transform_create(const libpdf_transform_options* options, libpdf_transform** out) {
  return guarded(__func__, [&] {
    require(options, __func__, "options");
    require(out, __func__, "out");
    *out = nullptr;
    libpdf::TransformOptions o;
    o.qmax = options->qmax;
    o.qstep = options->qstep;
    o.rmin = options->rmin;
    o.rmax = options->rmax;
    o.rstep = options->rstep;
    o.window = checked_enum<libpdf::Window>(options->window, 2, "window");
    o.taper_width = options->taper_width;
    o.planning = options->measure ? libpdf::FftPlanning::measure : libpdf::FftPlanning::estimate;
    o.threads = options->threads;
    *out = new libpdf_transform{libpdf::SineTransform(o)};
  });
}

size_t libpdf_transform_nq(const libpdf_transform* transform) { return transform ? transform->plan.nq() : 0; }

size_t libpdf_transform_nr(const libpdf_transform* transform) { return transform ? transform->plan.nr() : 0; }

double libpdf_transform_qstep(const libpdf_transform* transform) { return transform ? transform->plan.q_step() : 0.0; }

libpdf_status libpdf_transform_q(const libpdf_transform* transform, double* q) {
  return guarded(__func__, [&] {
    require(transform, __func__, "transform");
    require(q, __func__, "q");
    const auto g = transform->plan.q();
    std::copy(g.begin(), g.end(), q);
  });
}

libpdf_status libpdf_transform_r(const libpdf_transform* transform, double* r) {
  return guarded(__func__, [&] {
    require(transform, __func__, "transform");
    require(r, __func__, "r");
    const auto g = transform->plan.r();
    std::copy(g.begin(), g.end(), r);
  });
}

libpdf_status libpdf_transform_forward(const libpdf_transform* transform, const double* F, double* G) {
  return guarded(__func__, [&] {
    require(transform, __func__, "transform");
    require(F, __func__, "F");
    require(G, __func__, "G");
    transform->plan.forward(F, G);
  });
}

libpdf_status libpdf_transform_forward_batch(const libpdf_transform* transform, const double* F, size_t frames,
                                             double* G) {
  return guarded(__func__, [&] {
    require(transform, __func__, "transform");
    if (frames == 0) return;
    require(F, __func__, "F");
    require(G, __func__, "G");
    transform->plan.forward_batch(F, frames, G);
  });
}

libpdf_status libpdf_transform_forward_sigma(const libpdf_transform* transform, const double* sigma_F,
                                             double* sigma_G) {
  return guarded(__func__, [&] {
    require(transform, __func__, "transform");
    require(sigma_F, __func__, "sigma_F");
    require(sigma_G, __func__, "sigma_G");
    transform->plan.forward_sigma(sigma_F, sigma_G);
  });
}

libpdf_status libpdf_transform_inverse(const libpdf_transform* transform, const double* G, double* F) {
  return guarded(__func__, [&] {
    require(transform, __func__, "transform");
    require(G, __func__, "G");
    require(F, __func__, "F");
    transform->plan.inverse(G, F);
  });
}

void libpdf_transform_free(libpdf_transform* transform) { delete transform; }

}  // extern "C"
