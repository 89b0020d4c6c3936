// `pdfreduce integrate`: azimuthal integration of detector frames into 1D patterns (.xy/.chi/.dat).
//
// The plan (geometry, mask, static corrections, bins) is built once and applied to every selected
// frame; the next frame is read while the current one is integrated, so file reading overlaps with
// the integration.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/image.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"
#include "libpdf/version.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"
#include "pdfreduce/nexus_output.hpp"

namespace pdfreduce {
namespace {

// Everything the command line can set. Defaults of the integration options come from
// libpdf::IntegrationOptions so the tool and the library never disagree.
struct IntegrateArgs {
  std::string input;
  std::string dataset;
  std::string poni;
  std::string frames = ":";
  std::string mask, mask_dataset;
  std::string dark, dark_dataset;
  std::string dark_variance = "none";
  std::string flat, flat_dataset;
  bool flip_vertical = false;
  bool no_flip_mask = false;
  std::string output;

  std::size_t npt = 0;
  std::string unit;
  std::string radial_range;
  std::string azimuth_range;
  std::string split;
  std::optional<double> polarization;
  std::string error_model;
  bool no_solid_angle = false;
  std::optional<double> sensor_thickness_m;
  std::optional<double> sensor_attenuation_length_m;
  double normalization = 1.0;
  std::optional<double> dummy;
  double delta_dummy = 0.0;
  bool keep_detector_markers = false;
  std::optional<int> bit_depth;
  double empty = 0.0;
  int threads = 0;

  std::optional<double> sigma_clip;
  int clip_iterations = 5;
  bool sum = false;
  bool average = false;

  // Growing inputs and TIFF series with a separate dark.
  bool follow = false;
  double timeout_s = 60.0;
  double poll_s = 0.2;
  bool dark_subtracted = false;
  std::size_t summed_frames = 1;
  std::size_t dark_summed_frames = 1;
};

// ---------------------------------------------------------------------------------------------------
// Static images: mask, dark, flat.

// A static image read beside the frames, with a description for the output header.
struct StaticImage {
  std::vector<float> pixels;
  std::string description;
  std::size_t frames = 1;  ///< Number of frames averaged into it.
};

template <class T>
void flip_rows(std::vector<T>& pixels, std::size_t rows, std::size_t cols) {
  for (std::size_t i = 0; i < rows / 2; ++i) {
    std::swap_ranges(pixels.begin() + static_cast<std::ptrdiff_t>(i * cols),
                     pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * cols),
                     pixels.begin() + static_cast<std::ptrdiff_t>((rows - 1 - i) * cols));
  }
}

std::string file_and_dataset(const std::string& path, const std::string& dataset) {
  return dataset.empty() ? path : path + " (dataset " + dataset + ")";
}

void check_shape(const char* option, const std::string& what, std::size_t rows, std::size_t cols,
                 std::size_t frame_rows, std::size_t frame_cols) {
  if (rows != frame_rows || cols != frame_cols) {
    throw libpdf::InvalidArgument(std::string(option) + ": " + what + " is " + std::to_string(rows) + " x " +
                                  std::to_string(cols) + " pixels (rows x columns) but the frames are " +
                                  std::to_string(frame_rows) + " x " + std::to_string(frame_cols));
  }
}

// Reads a dark or flat: the first frame, or the mean of all frames when @p average_all (a stack of darks
// is averaged to lower its noise). Flipped with the frames when asked.
StaticImage read_static_image(const char* option, const std::string& path, const std::string& dataset, bool average_all,
                              bool flip, std::size_t rows, std::size_t cols, const Reporter& report) {
  const auto source = libpdf::open_frames(path, dataset);
  check_shape(option, file_and_dataset(path, dataset), source->rows(), source->cols(), rows, cols);
  const std::size_t n = average_all ? source->size() : 1;
  if (source->size() == 0) {
    throw libpdf::InvalidArgument(std::string(option) + ": " + file_and_dataset(path, dataset) + " holds no frame");
  }
  std::vector<double> sum(rows * cols, 0.0);
  for (std::size_t k = 0; k < n; ++k) {
    const auto values = source->read(k).to_double();
    for (std::size_t p = 0; p < values.size(); ++p) sum[p] += values[p];
  }
  StaticImage out;
  out.frames = n;
  out.pixels.resize(sum.size());
  for (std::size_t p = 0; p < sum.size(); ++p) out.pixels[p] = static_cast<float>(sum[p] / static_cast<double>(n));
  if (flip) flip_rows(out.pixels, rows, cols);
  out.description = file_and_dataset(path, dataset);
  if (n > 1) out.description += ", mean of " + std::to_string(n) + " frames";
  if (!average_all && source->size() > 1) {
    report.warn(std::string(option) + ": " + file_and_dataset(path, dataset) + " holds " +
                std::to_string(source->size()) + " frames; using the first");
    out.description += ", first of " + std::to_string(source->size()) + " frames";
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Output.

bool has_supported_extension(const std::string& path) {
  std::string name = path;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* ext : {".xy", ".chi", ".dat"}) {
    const std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  }
  return is_nexus_output(path);
}

std::string yes_no(bool b) { return b ? "yes" : "no"; }

// The part of the `#` header that is the same for every frame: provenance, geometry and options.
// What the header says about the frames (a FrameSource, or the first frame of a followed file).
struct InputInfo {
  std::string description;
  std::size_t rows = 0, cols = 0;
  libpdf::PixelType type = libpdf::PixelType::u16;
};

std::string common_header(const IntegrateArgs& a, const InputInfo& source, const libpdf::Poni& poni,
                          const libpdf::IntegrationOptions& opt, const libpdf::Integrator& integrator,
                          const std::string& mask_text, const std::string& dark_text, const std::string& flat_text) {
  const auto& det = poni.detector;
  const auto& edges = integrator.radial_edges();
  const auto stats = integrator.stats();
  std::string h;
  auto line = [&h](const std::string& key, const std::string& value) { h += "# " + key + ": " + value + "\n"; };
  h += std::string("# pdfreduce integrate, libpdf ") + libpdf::version() + "\n";
  line("input", a.input);
  line("source", source.description);
  line("frame_shape", std::to_string(source.rows) + " x " + std::to_string(source.cols) + " (rows x columns), " +
                          libpdf::pixel_type_name(source.type));
  if (a.follow) line("follow", "yes (frames read as they were written, timeout " + exact(a.timeout_s) + " s)");
  line("flip_vertical", yes_no(a.flip_vertical));
  line("poni_file", a.poni);
  line("poni_version", poni.version == 21 ? "2.1" : std::to_string(poni.version));
  line("detector", det.name);
  line("detector_shape", std::to_string(integrator.rows()) + " x " + std::to_string(integrator.cols()));
  line("pixel1_m", exact(det.pixel1_m));
  line("pixel2_m", exact(det.pixel2_m));
  line("orientation", std::to_string(det.orientation));
  line("distance_m", exact(poni.distance_m));
  line("poni1_m", exact(poni.poni1_m));
  line("poni2_m", exact(poni.poni2_m));
  line("rot1_rad", exact(poni.rot1));
  line("rot2_rad", exact(poni.rot2));
  line("rot3_rad", exact(poni.rot3));
  line("wavelength_m", exact(poni.wavelength_m));
  line("wavelength_A", exact(poni.wavelength_A()));
  line("mask", mask_text);
  line("dark", dark_text);
  line("summed_frames", std::to_string(a.summed_frames) + " sub-frame(s) per frame, " +
                            std::to_string(a.dark_summed_frames) + " per dark frame");
  line("flat", flat_text);
  line("npt", std::to_string(opt.npt));
  line("unit", libpdf::radial_unit_name(opt.unit));
  line("radial_range", opt.radial_range ? exact(opt.radial_range->lo) + " " + exact(opt.radial_range->hi)
                                        : "auto (extent of the pixels)");
  if (!edges.empty()) line("bin_edges", exact(edges.front()) + " " + exact(edges.back()));
  line("azimuth_range_deg",
       opt.azimuth_range_deg ? exact(opt.azimuth_range_deg->lo) + " " + exact(opt.azimuth_range_deg->hi) : "all");
  line("splitting", libpdf::splitting_name(opt.splitting));
  line("solid_angle", yes_no(opt.solid_angle));
  line("polarization_factor", opt.polarization_factor ? exact(*opt.polarization_factor) : "none");
  line("sensor", opt.sensor ? "thickness_m " + exact(opt.sensor->thickness_m) + ", attenuation_length_m " +
                                  exact(opt.sensor->attenuation_length_m)
                            : "none");
  line("normalization_factor", exact(opt.normalization_factor));
  line("error_model", libpdf::error_model_name(opt.error_model));
  line("dummy", opt.dummy ? exact(*opt.dummy) + ", delta_dummy " + exact(opt.delta_dummy) : "none");
  line("detector_markers_masked",
       opt.mask_detector_markers
           ? std::string("yes (-1 for signed integers, 2^bit_depth - 1 for unsigned; bit_depth ") +
                 (opt.bit_depth ? std::to_string(*opt.bit_depth) : std::string("of the type")) + ")"
           : "no");
  line("sigma_clip", a.sigma_clip
                         ? "threshold " + exact(*a.sigma_clip) + ", max_iterations " + std::to_string(a.clip_iterations)
                         : "none");
  line("empty", exact(opt.empty));
  line("valid_pixels", std::to_string(stats.valid_pixels) + " of " + std::to_string(stats.pixels));
  return h;
}

std::string format_pattern(const std::string& header, const std::string& frame_text, const libpdf::Result1D& r,
                           const libpdf::IntegrationOptions& opt) {
  std::size_t empty_bins = 0;
  for (double c : r.count) empty_bins += c > 0 ? 0 : 1;
  std::string out = header;
  out += "# " + frame_text + "\n";
  if (r.rejected_pixels > 0) out += "# sigma_clip_rejected_pixels: " + std::to_string(r.rejected_pixels) + "\n";
  out += "# bins_without_data: " + std::to_string(empty_bins) + " (reported as I = empty, sigma = 0)\n";
  out += std::string("# columns: ") + libpdf::radial_unit_name(opt.unit) + ", I, sigma\n";
  out += std::string("# ") + libpdf::radial_unit_name(opt.unit) + " I sigma\n";
  out.reserve(out.size() + r.radial.size() * 54);
  char buf[96];
  for (std::size_t b = 0; b < r.radial.size(); ++b) {
    // %.10g keeps 10 significant digits: well beyond the precision of any measured intensity, and enough
    // to reproduce bin centres to 1e-10 relative.
    const int n = std::snprintf(buf, sizeof buf, "%.10g %.10g %.10g\n", r.radial[b], r.intensity[b], r.sigma[b]);
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------

libpdf::IntegrationOptions make_options(const IntegrateArgs& a) {
  libpdf::IntegrationOptions opt;
  opt.npt = a.npt;
  opt.unit = libpdf::parse_radial_unit(a.unit);
  if (!a.radial_range.empty()) opt.radial_range = parse_range(a.radial_range);
  if (!a.azimuth_range.empty()) opt.azimuth_range_deg = parse_range(a.azimuth_range);
  opt.splitting = libpdf::parse_splitting(a.split);
  opt.solid_angle = !a.no_solid_angle;
  opt.polarization_factor = a.polarization;
  if (a.sensor_thickness_m && a.sensor_attenuation_length_m) {
    opt.sensor =
        libpdf::Sensor{.attenuation_length_m = *a.sensor_attenuation_length_m, .thickness_m = *a.sensor_thickness_m};
  }
  opt.normalization_factor = a.normalization;
  opt.error_model = libpdf::parse_error_model(a.error_model);
  opt.dummy = a.dummy;
  opt.delta_dummy = a.delta_dummy;
  opt.mask_detector_markers = !a.keep_detector_markers;
  opt.bit_depth = a.bit_depth;
  opt.empty = a.empty;
  opt.threads = a.threads;
  return opt;
}

void run_integrate(const IntegrateArgs& a, const GlobalOptions& global) {
  const Reporter report(global);

  const libpdf::Poni poni = libpdf::read_poni(a.poni);
  // With --follow the input may still be growing (or not exist yet): it is never held open (a reader keeping an
  // HDF5 file open would lock its writer out), its length is unknown, and the first selected frame tells the
  // shape. Otherwise the whole input is opened once.
  std::shared_ptr<const libpdf::FrameSource> source;
  std::unique_ptr<libpdf::FrameFollower> follower;
  std::optional<libpdf::Image> first_followed;
  std::vector<std::size_t> indices;
  std::optional<std::size_t> follow_stop;  // with --follow: one past the last frame wanted (unset = open-ended)
  std::size_t follow_step = 1;
  InputInfo input;
  if (a.follow) {
    const FrameSlice slice = parse_slice(a.frames);
    if ((slice.start && *slice.start < 0) || (slice.stop && *slice.stop < 0)) {
      throw libpdf::InvalidArgument("--frames " + a.frames + ": with --follow the number of frames is not known "
                                    "yet, so frames cannot be counted from the end (expected A:B, A: or N with "
                                    "A, B >= 0)");
    }
    const auto start = static_cast<std::size_t>(slice.start.value_or(0));
    if (slice.single) {
      follow_stop = start + 1;
    } else if (slice.stop) {
      follow_stop = static_cast<std::size_t>(*slice.stop);
    }
    follow_step = static_cast<std::size_t>(slice.step);
    if (follow_stop && *follow_stop <= start) {
      throw libpdf::InvalidArgument("--frames " + a.frames + " selects no frame");
    }
    libpdf::FollowOptions follow_options;
    follow_options.open.dataset = a.dataset;
    follow_options.timeout_s = a.timeout_s;
    follow_options.poll_interval_s = a.poll_s;
    follower = std::make_unique<libpdf::FrameFollower>(a.input, follow_options);
    report.detail(strprintf("following %s: waiting up to %g s for frame %zu", a.input.c_str(), a.timeout_s, start));
    try {
      first_followed = follower->read(start);
    } catch (const libpdf::IoError& e) {
      // Nothing could be opened at all in that time (FrameFollower tells that apart from a frame still missing).
      throw libpdf::IoError(std::string("--follow: ") + e.what() + "; nothing integrated (a longer --timeout " +
                            "waits more for the file to appear)");
    }
    if (!first_followed) {
      throw libpdf::IoError("--follow: frame " + std::to_string(start) + " of '" + a.input +
                            "' did not arrive complete within --timeout " + exact(a.timeout_s) +
                            " s (nothing integrated; a longer --timeout waits more)");
    }
    indices.push_back(start);
    input = {file_and_dataset(a.input, a.dataset) + " (followed while written)", first_followed->rows(),
             first_followed->cols(), first_followed->type()};
  } else {
    source = libpdf::open_frames(a.input, a.dataset);
    indices = slice_indices(parse_slice(a.frames), source->size());
    input = {source->describe(), source->rows(), source->cols(), source->type()};
  }
  const std::size_t rows = input.rows;
  const std::size_t cols = input.cols;
  const bool combine = a.sum || a.average;
  const bool nexus_out = is_nexus_output(a.output);
  const bool several = a.follow ? !(follow_stop && *follow_stop <= indices.front() + follow_step) : indices.size() > 1;
  if (!combine && several && !has_frame_field(a.output) && !nexus_out) {
    throw libpdf::InvalidArgument("-o " + a.output + ": " +
                                  (a.follow ? std::string("--follow may integrate several frames")
                                            : std::to_string(indices.size()) + " frames are selected") +
                                  " but the output name has no {frame} field to tell their "
                                  "files apart (e.g. out_{frame}.xy); or select one frame with --frames, or "
                                  "combine them with --sum/--average");
  }
  if (source) {
    report.detail("input " + source->describe() + ": " + std::to_string(source->size()) + " frame(s) of " +
                  std::to_string(rows) + " x " + std::to_string(cols) + " " + libpdf::pixel_type_name(source->type()));
  }

  const libpdf::Geometry geometry(poni, rows, cols);

  // Static corrections, read before the frame prefetching starts (one reader of the files at a time).
  libpdf::Corrections corrections;
  std::string mask_text = "none", dark_text = "none", flat_text = "none";
  if (!a.mask.empty() || !a.mask_dataset.empty()) {
    // --mask-dataset alone reads the mask from the input file (e.g. a NeXus pixel_mask).
    const std::string path = a.mask.empty() ? a.input : a.mask;
    libpdf::MaskImage mask_image = libpdf::read_mask_image(path, a.mask_dataset);
    check_shape("--mask", file_and_dataset(path, a.mask_dataset), mask_image.rows, mask_image.cols, rows, cols);
    corrections.mask = std::move(mask_image.values);
    const bool flip_mask = a.flip_vertical && !a.no_flip_mask;
    if (flip_mask) flip_rows(corrections.mask, rows, cols);
    std::size_t masked = 0;
    for (auto m : corrections.mask) masked += m != 0 ? 1 : 0;
    mask_text = file_and_dataset(path, a.mask_dataset) + (flip_mask ? ", flipped" : "") + ", " +
                std::to_string(masked) + " pixels masked";
  }
  libpdf::DarkOptions dark_options;
  dark_options.frame_summed_frames = a.summed_frames;
  dark_options.dark_summed_frames = a.dark_summed_frames;
  dark_options.already_subtracted = a.dark_subtracted;
  if (a.dark_subtracted) {
    // Nothing to subtract; read_dark() checks the options and says so in the header.
    dark_text = libpdf::read_dark("", dark_options).description;
  } else if (!a.dark.empty() || !a.dark_dataset.empty()) {
    // Every frame of the dark (a TIFF, a multi-page TIFF, a TIFF series pattern or an HDF5 stack) averaged and
    // scaled by --summed-frames / --dark-summed-frames.
    const std::string path = a.dark.empty() ? a.input : a.dark;
    libpdf::DarkImage dark = libpdf::read_dark(path, dark_options, a.dark_dataset);
    check_shape("--dark", file_and_dataset(path, a.dark_dataset), dark.rows, dark.cols, rows, cols);
    if (a.flip_vertical) {
      flip_rows(dark.pixels, rows, cols);
      flip_rows(dark.variance, rows, cols);
    }
    if (a.dark_variance == "poisson") {
      // A photon-counting dark: each of its n frames is Poisson, so their mean has variance mean/n (times the
      // square of the sub-frame scale). (pyFAI's Python preprocessing adds the dark itself, n = 1; its Cython
      // engines add nothing.)
      corrections.dark_variance = std::move(dark.variance);
    }
    corrections.dark = std::move(dark.pixels);
    dark_text = dark.description + (a.flip_vertical ? ", flipped" : "") + ", variance " +
                (a.dark_variance == "poisson" ? "dark/" + std::to_string(dark.frames) + " (Poisson)" : "none");
  }
  if (!a.flat.empty() || !a.flat_dataset.empty()) {
    auto flat = read_static_image("--flat", a.flat.empty() ? a.input : a.flat, a.flat_dataset, false, a.flip_vertical,
                                  rows, cols, report);
    corrections.flat = std::move(flat.pixels);
    flat_text = flat.description + (a.flip_vertical ? ", flipped" : "");
  }

  const libpdf::IntegrationOptions options = make_options(a);
  options.validate();

  auto read_frame = [source, flip = a.flip_vertical](std::size_t index) {
    libpdf::Image frame = source->read(index);
    return flip ? frame.flipped_vertical() : frame;
  };

  // Start reading the first frame while the plan is built.
  std::future<libpdf::Image> next;
  if (!combine && !a.follow) next = std::async(std::launch::async, read_frame, indices.front());

  const libpdf::Integrator integrator(geometry, options, corrections);
  const auto stats = integrator.stats();
  report.detail(strprintf("plan: %zu of %zu pixels valid, %zu entries, %.1f MB, built in %.3f s", stats.valid_pixels,
                          stats.pixels, stats.entries, static_cast<double>(stats.plan_bytes) / 1e6,
                          stats.build_seconds));

  const std::string header = common_header(a, input, poni, options, integrator, mask_text, dark_text, flat_text);
  libpdf::SigmaClipOptions clip;
  if (a.sigma_clip) {
    clip.threshold = *a.sigma_clip;
    clip.max_iterations = a.clip_iterations;
  }

  // NeXus output: one file for the run; frames already in it (an interrupted earlier run) are skipped.
  std::unique_ptr<NexusOutput> nexus;
  std::vector<std::size_t> todo = indices;
  if (nexus_out) {
    nexus = std::make_unique<NexusOutput>(
        a.output, a.input, a.dataset, a.poni, poni, integrator,
        std::vector<libpdf::Parameter>{{"dataset", a.dataset.empty() ? "discovered" : a.dataset},
                                       {"mask", mask_text},
                                       {"dark", dark_text},
                                       {"flat", flat_text},
                                       {"summed_frames", std::to_string(a.summed_frames) + " per frame, " +
                                                             std::to_string(a.dark_summed_frames) + " per dark frame"},
                                       {"flip_vertical", yes_no(a.flip_vertical)},
                                       {"frame_combine", a.sum ? "sum" : a.average ? "average" : "none"},
                                       {"sigma_clip", a.sigma_clip ? exact(*a.sigma_clip) : "none"}},
        source ? source->size() : 0);
    if (!combine && !a.follow) {
      todo.clear();
      for (std::size_t i : indices) {
        if (!nexus->done(i)) todo.push_back(i);
      }
      if (nexus->resumed()) {
        report.info(strprintf("%s: resuming, %zu frame(s) already in the file, %zu to do", a.output.c_str(),
                              nexus->frames(), todo.size()));
      }
      if (todo.empty()) {
        report.info("every selected frame is already in " + a.output);
        return;
      }
      // The first frame to read may no longer be indices.front().
      if (todo.front() != indices.front()) {
        next.wait();
        next = std::async(std::launch::async, read_frame, todo.front());
      }
    }
  }

  if (combine) {
    // Every selected frame is held in memory for the one-pass combined integration.
    std::vector<libpdf::Image> frames;
    frames.reserve(indices.size());
    for (std::size_t index : indices) frames.push_back(read_frame(index));
    std::vector<libpdf::ImageView> views;
    views.reserve(frames.size());
    for (const auto& f : frames) views.push_back(f.view());
    const auto result = integrator.integrate(views, a.sum ? libpdf::FrameCombine::sum : libpdf::FrameCombine::average);
    const std::string range = std::to_string(indices.front()) + "-" + std::to_string(indices.back());
    std::string frame_list;
    for (std::size_t k = 0; k < indices.size(); ++k) frame_list += (k ? "," : "") + std::to_string(indices[k]);
    const std::string frame_text = std::string(a.sum ? "frames summed: " : "frames averaged: ") + frame_list;
    const std::string path = nexus ? a.output : expand_frame_field(a.output, range);
    if (nexus) {
      if (!nexus->done(indices.front())) nexus->write(indices.front(), result);
    } else {
      write_text_atomic(path, format_pattern(header, frame_text, result, options));
    }
    report.info(strprintf("%s %zu frames of %s into %s", a.sum ? "summed" : "averaged", indices.size(), a.input.c_str(),
                          path.c_str()));
    return;
  }

  if (a.follow) {
    // Frame by frame as they are written: the next one is waited for up to --timeout; a frame that does not
    // come in time ends the run cleanly after the last complete one.
    std::size_t done = 0;
    std::string last_path;
    if (nexus && nexus->resumed()) {
      report.info(strprintf("%s: resuming, %zu frame(s) already in the file", a.output.c_str(), nexus->frames()));
    }
    for (std::size_t index = indices.front(); !follow_stop || index < *follow_stop; index += follow_step) {
      if (nexus && nexus->done(index)) continue;  // resumed: already in the file
      std::optional<libpdf::Image> frame;
      if (index == indices.front()) {
        frame = std::move(first_followed);
        first_followed.reset();
      } else {
        frame = follower->read(index);
      }
      if (!frame) {
        report.info(strprintf("frame %zu of %s did not arrive within %g s: stopping", index, a.input.c_str(),
                              a.timeout_s));
        break;
      }
      if (frame->rows() != rows || frame->cols() != cols) {
        throw libpdf::IoError(strprintf("--follow: frame %zu of '%s' is %zu x %zu pixels, the first was %zu x %zu",
                                        index, a.input.c_str(), frame->rows(), frame->cols(), rows, cols));
      }
      const libpdf::Image image = a.flip_vertical ? frame->flipped_vertical() : std::move(*frame);
      const auto result = a.sigma_clip ? integrator.sigma_clip(image.view(), clip) : integrator.integrate(image.view());
      if (nexus) {
        nexus->write(index, result);
        last_path = a.output;
      } else {
        last_path = expand_frame_field(a.output, index);
        write_text_atomic(last_path, format_pattern(header, "frame: " + std::to_string(index), result, options));
      }
      report.detail("frame " + std::to_string(index) + " -> " + last_path);
      ++done;
    }
    if (nexus) nexus->close();
    report.info(strprintf("integrated %zu frame(s) of %s (followed) into %s", done, a.input.c_str(),
                          a.output.c_str()));
    return;
  }

  std::string last_path;
  for (std::size_t k = 0; k < todo.size(); ++k) {
    libpdf::Image frame = next.get();
    if (k + 1 < todo.size()) next = std::async(std::launch::async, read_frame, todo[k + 1]);
    const auto result = a.sigma_clip ? integrator.sigma_clip(frame.view(), clip) : integrator.integrate(frame.view());
    if (nexus) {
      nexus->write(todo[k], result);
      report.detail("frame " + std::to_string(todo[k]) + " -> " + a.output);
      last_path = a.output;
      continue;
    }
    const std::string path = expand_frame_field(a.output, todo[k]);
    write_text_atomic(path, format_pattern(header, "frame: " + std::to_string(todo[k]), result, options));
    report.detail("frame " + std::to_string(todo[k]) + " -> " + path);
    last_path = path;
  }
  if (nexus) nexus->close();
  if (todo.size() == 1) {
    report.info("integrated frame " + std::to_string(todo.front()) + " of " + a.input + " into " + last_path);
  } else {
    report.info(strprintf("integrated %zu frames of %s into %s", todo.size(), a.input.c_str(), a.output.c_str()));
  }
}

}  // namespace

Command add_integrate_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<IntegrateArgs>();
  const libpdf::IntegrationOptions defaults;
  args->npt = defaults.npt;
  args->unit = libpdf::radial_unit_name(defaults.unit);
  args->split = libpdf::splitting_name(defaults.splitting);
  args->error_model = libpdf::error_model_name(defaults.error_model);
  args->normalization = defaults.normalization_factor;
  args->delta_dummy = defaults.delta_dummy;
  args->empty = defaults.empty;
  args->threads = defaults.threads;
  args->clip_iterations = libpdf::SigmaClipOptions{}.max_iterations;

  CLI::App* app = parent.add_subcommand(
      "integrate",
      "Azimuthal integration of detector frames into 1D patterns (radial, I, sigma) in pyFAI's geometry "
      "convention. The plan is built once and applied to every selected frame.");
  app->footer(
      "Output: a text file with a '#' header (libpdf version, input and frame, PONI parameters, detector, "
      "every option) and three columns: radial (in --unit), I, sigma. Bins no pixel reaches hold I = --empty, "
      "sigma = 0.\n"
      "Corrected intensity of a bin: I = sum c (raw - dark) / sum c (flat * solid angle * polarisation * "
      "sensor efficiency * K), c = splitting weights.\n"
      "Examples:\n"
      "  pdfreduce integrate CeO2.tif --poni CeO2.poni --flip-vertical --unit 2th_deg --npt 2000 -o CeO2.xy\n"
      "  pdfreduce integrate scan.nxs --poni det.poni --dark dark.tif --mask det.mask --polarization 0.99 "
      "--frames 10:20 -o out/scan_{frame:05d}.xy");

  auto& a = *args;
  // Files.
  app->add_option("INPUT", a.input,
                  "Frames to integrate: a TIFF (every page is a frame) or an HDF5/NeXus file (2-D or 3-D dataset; "
                  "a DESY Lambda module file opens the assembled multi-module series)")
      ->type_name("FILE")
      ->required();
  app->add_option("--poni", a.poni, "Calibration file (pyFAI PONI, versions 1, 2 and 2.1)")
      ->required()
      ->type_name("FILE");
  app->add_option("--dataset", a.dataset,
                  "HDF5 path of the frames (default: found from NeXus @default/@signal or the NXdetector's data)")
      ->type_name("PATH");
  app->add_option("--frames", a.frames,
                  "Frames to integrate, 0-based: a Python slice A:B (end excluded, negative counts from the end, "
                  "A:B:S with a step) or one index N; default all")
      ->type_name("A:B")
      ->check(slice_validator());
  app->add_option("--mask", a.mask,
                  "Mask file, non-zero = masked: TIFF (fabio/pyFAI, Dioptas .mask) or HDF5 with --mask-dataset")
      ->type_name("FILE");
  app->add_option("--mask-dataset", a.mask_dataset,
                  "HDF5 path of the mask; without --mask it is read from INPUT (a NeXus pixel_mask counts a pixel "
                  "bad when (value & 0xFFFF) != 0)")
      ->type_name("PATH");
  app->add_option("--dark", a.dark,
                  "Dark-current image(s) subtracted from every frame: a TIFF, multi-page TIFF, TIFF series pattern "
                  "(dark_###.tif) or HDF5 stack, every frame averaged (scaled by --summed-frames / "
                  "--dark-summed-frames)")
      ->type_name("FILE");
  app->add_option("--dark-dataset", a.dark_dataset, "HDF5 path of the dark; without --dark it is read from INPUT")
      ->type_name("PATH");
  app->add_option("--dark-variance", a.dark_variance,
                  "Variance of the dark added to each pixel's Poisson variance: none (an electronic offset, as for "
                  "flat panels) or poisson (a counted dark: mean/n for a mean of n frames)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "poisson"}));
  app->add_option("--flat", a.flat,
                  "Flat field: relative pixel efficiency the intensity is divided by (first frame of a TIFF or "
                  "HDF5; pixels with flat <= 0 are masked)")
      ->type_name("FILE");
  app->add_option("--flat-dataset", a.flat_dataset, "HDF5 path of the flat; without --flat it is read from INPUT")
      ->type_name("PATH");
  app->add_flag("--flip-vertical", a.flip_vertical,
                "Flip frames, mask, dark and flat top to bottom (row i -> rows-1-i) before integrating: "
                "calibrations made in Dioptas apply to the flipped image");
  app->add_flag("--no-flip-mask", a.no_flip_mask,
                "With --flip-vertical, keep the mask as stored (for masks saved in the flipped orientation)");
  app->add_option("-o,--output", a.output,
                  "Output file (.xy, .chi or .dat). With several frames '{frame}' is replaced by the frame index "
                  "('{frame:05d}' zero-pads to 5 digits); with --sum/--average by 'first-last'. Missing "
                  "directories are created; files are written atomically. An output ending in .h5 or .nxs is "
                  "one NeXus NXazint1d file for all frames (I[frames, bins], sigma, temperatures, the PONI and "
                  "every option), appended frame by frame; running the same command again resumes it")
      ->required()
      ->check(CLI::Validator(
          [](std::string& path) -> std::string {
            return has_supported_extension(path) ? std::string{}
                                                 : "the output must end in .xy, .chi, .dat, .h5 or .nxs";
          },
          ""))
      ->type_name("FILE");

  // Binning.
  app->add_option("--npt", a.npt, "Number of radial bins")->capture_default_str()->check(positive_number());
  app->add_option("--unit", a.unit,
                  "Radial unit: q_A^-1 (q in 1/angstrom), q_nm^-1 (q in 1/nm), 2th_deg (2theta in degrees), "
                  "r_mm (distance from the beam axis in mm)")
      ->capture_default_str()
      ->check(CLI::IsMember({"q_A^-1", "q_nm^-1", "2th_deg", "r_mm"}));
  app->add_option("--radial-range", a.radial_range,
                  "Outer edges LO:HI of the bins, in --unit (default: extent of the pixels)")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--azimuth-range", a.azimuth_range,
                  "Keep pixels whose azimuth chi (degrees, pyFAI convention, -180..180) meets LO:HI")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--split", a.split,
                  "Pixel splitting: none (whole pixel to the bin of its centre), bbox (uniform over the pixel's "
                  "radial extent), full (exact pixel area overlap)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "bbox", "full"}));

  // Corrections.
  app->add_option("--polarization", a.polarization,
                  "Polarisation factor f in [-1, 1] (+1 fully horizontal; 0.95-0.99 at synchrotrons); default: no "
                  "polarisation correction")
      ->check(CLI::Range(-1.0, 1.0));
  app->add_flag("--no-solid-angle", a.no_solid_angle, "Do not divide by the pixel solid angle cos^3(alpha)");
  auto* thickness = app->add_option("--sensor-thickness", a.sensor_thickness_m,
                                    "Sensor thickness d in metres, for the oblique-incidence efficiency correction "
                                    "[1 - exp(-d/(l cos alpha))] / [1 - exp(-d/l)]; needs --sensor-attenuation-length")
                        ->check(positive_number());
  auto* attenuation = app->add_option("--sensor-attenuation-length", a.sensor_attenuation_length_m,
                                      "Attenuation length l = 1/mu of the sensor at the beam energy, in metres; "
                                      "needs --sensor-thickness")
                          ->check(positive_number());
  thickness->needs(attenuation);
  attenuation->needs(thickness);
  app->add_option("--normalization", a.normalization,
                  "Normalisation factor K the intensities are divided by (e.g. monitor counts)")
      ->capture_default_str()
      ->check(positive_number());
  auto* dummy =
      app->add_option("--dummy", a.dummy, "Pixels whose raw value equals this (within --delta-dummy) are invalid");
  app->add_option("--delta-dummy", a.delta_dummy, "Tolerance of the --dummy test (raw value units)")
      ->capture_default_str()
      ->check(non_negative_number())
      ->needs(dummy);
  app->add_flag("--keep-detector-markers", a.keep_detector_markers,
                "Do not treat the detectors' invalid-pixel markers (-1 in signed integer frames, 2^bit_depth - 1 "
                "in unsigned ones) as masked");
  app->add_option("--bit-depth", a.bit_depth,
                  "Bit depth of the counter for the 2^bit_depth - 1 marker (default: the width of the frame type)")
      ->check(CLI::Range(1, 32));
  app->add_option("--error-model", a.error_model,
                  "Uncertainty sigma: none, poisson (var = max(raw, 1) + dark), azimuthal (spread of the pixels in "
                  "each bin)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "poisson", "azimuthal"}));
  app->add_option("--empty", a.empty, "Intensity written for bins no valid pixel reaches")->capture_default_str();

  // Frame handling.
  auto* clip_opt = app->add_option("--sigma-clip", a.sigma_clip,
                                   "Reject pixels further than THRESH standard deviations from their bin's mean "
                                   "(iterated; removes spots, zingers and hot pixels)")
                       ->type_name("THRESH")
                       ->check(positive_number());
  app->add_option("--clip-iterations", a.clip_iterations, "Maximum sigma-clipping passes")
      ->capture_default_str()
      ->check(positive_number())
      ->needs(clip_opt);
  auto* sum = app->add_flag("--sum", a.sum, "Sum the selected frames into one pattern (the frames are held in memory)");
  auto* average = app->add_flag("--average", a.average, "Average the selected frames into one pattern");
  sum->excludes(average);
  clip_opt->excludes(sum)->excludes(average);
  app->add_option("--threads", a.threads, "Threads for building and applying the plan (0 = all cores)")
      ->capture_default_str()
      ->check(non_negative_number());

  // A file still being written.
  auto* follow = app->add_flag("--follow", a.follow,
                               "INPUT is still being written (HDF5 stack being extended, Eiger series, TIFF series "
                               "pattern whose files keep coming): integrate each frame once it is complete, wait "
                               "up to --timeout for the next one, stop cleanly after the last complete frame. "
                               "--frames A: (default 0:) follows without end, A:B stops after frame B-1");
  app->add_option("--timeout", a.timeout_s,
                  "With --follow: longest wait in seconds for the next frame (0 = do not wait)")
      ->capture_default_str()
      ->check(non_negative_number())
      ->needs(follow);
  app->add_option("--poll-interval", a.poll_s, "With --follow: seconds between two looks at the input")
      ->capture_default_str()
      ->check(positive_number())
      ->needs(follow);
  follow->excludes(sum)->excludes(average);

  // How the frames relate to the dark (PerkinElmer/Varex TIFF series with a separate dark).
  app->add_flag("--dark-subtracted", a.dark_subtracted,
                                   "The acquisition software already subtracted the dark from the frames: no dark "
                                   "is subtracted (giving --dark as well is refused)");
  app->add_option("--summed-frames", a.summed_frames,
                  "Sub-frames summed into each frame (PerkinElmer/Varex 'sum' mode): the dark is scaled by "
                  "N / --dark-summed-frames before it is subtracted")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->type_name("N");
  app->add_option("--dark-summed-frames", a.dark_summed_frames, "Sub-frames summed into each frame of the dark")
      ->capture_default_str()
      ->check(CLI::PositiveNumber)
      ->type_name("N");

  // Combinations CLI11 cannot express, checked at the end of parsing so they are usage errors (exit 2).
  app->callback([args] {
    const bool dark = !args->dark.empty() || !args->dark_dataset.empty();
    if (args->dark_variance != "none" && !dark) {
      throw CLI::ValidationError("--dark-variance", "needs a dark (--dark or --dark-dataset)");
    }
    if (args->dark_subtracted && dark) {
      throw CLI::ValidationError("--dark-subtracted",
                                 "the frames are already dark-subtracted, so --dark/--dark-dataset would subtract a "
                                 "dark a second time (give one or the other)");
    }
    if ((args->summed_frames != 1 || args->dark_summed_frames != 1) && !dark) {
      throw CLI::ValidationError("--summed-frames",
                                 "--summed-frames and --dark-summed-frames scale the dark: they need --dark (or "
                                 "--dark-dataset)");
    }
  });

  return Command{app, [args, &global] { run_integrate(*args, global); }};
}

}  // namespace pdfreduce
