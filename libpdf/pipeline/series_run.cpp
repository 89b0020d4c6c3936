// The streaming series run (pipeline.hpp has the design: reader, workers, in-order writer, bounded frames in
// flight, resume through the result file's commit record).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/io.hpp"
#include "libpdf/metrics.hpp"
#include "libpdf/nexus.hpp"
#include "libpdf/pipeline.hpp"
#include "libpdf/version.hpp"

namespace libpdf {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string file_and_dataset(const std::string& path, const std::string& dataset) {
  return dataset.empty() ? path : path + " (dataset " + dataset + ")";
}

template <class T>
void flip_rows(std::vector<T>& pixels, std::size_t rows, std::size_t cols) {
  for (std::size_t i = 0; i < rows / 2; ++i) {
    std::swap_ranges(pixels.begin() + static_cast<std::ptrdiff_t>(i * cols),
                     pixels.begin() + static_cast<std::ptrdiff_t>((i + 1) * cols),
                     pixels.begin() + static_cast<std::ptrdiff_t>((rows - 1 - i) * cols));
  }
}

void check_shape(const std::string& key, const std::string& what, std::size_t rows, std::size_t cols,
                 std::size_t frame_rows, std::size_t frame_cols) {
  if (rows != frame_rows || cols != frame_cols) {
    throw InvalidArgument("[corrections] " + key + ": " + what + " is " + std::to_string(rows) + " x " +
                          std::to_string(cols) + " pixels (rows x columns) but the frames are " +
                          std::to_string(frame_rows) + " x " + std::to_string(frame_cols));
  }
}

// The metrics options of a recipe: MetricsOptions' defaults where the recipe leaves a value unset.
MetricsOptions metrics_options(const RecipeMetrics& m) {
  MetricsOptions o;
  if (m.q1_range) {
    o.q1_min = m.q1_range->lo;
    o.q1_max = m.q1_range->hi;
  }
  if (m.r1_range) {
    o.r1_min = m.r1_range->lo;
    o.r1_max = m.r1_range->hi;
  }
  if (m.mro_range) {
    o.mro_rmin = m.mro_range->lo;
    o.mro_rmax = m.mro_range->hi;
  }
  if (m.sq_maxima_qmax) o.sq_maxima_qmax = *m.sq_maxima_qmax;
  if (!m.coordination.empty()) o.cn_method = parse_coordination_method(m.coordination);
  if (m.watch_q) o.watch_q = *m.watch_q;
  if (m.watch_halfwidth) o.watch_halfwidth = *m.watch_halfwidth;
  return o;
}

std::string format_csv_number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[40];
  // 10 significant digits: beyond the precision of any metric, short enough to read.
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string csv_row(std::size_t frame, double temperature, const std::vector<double>& values) {
  // Appended piece by piece: `"," + std::string` trips GCC 12's -Wrestrict false positive at -O3.
  std::string s = std::to_string(frame);
  s += ',';
  s += format_csv_number(temperature);
  for (double v : values) {
    s += ',';
    s += format_csv_number(v);
  }
  s += '\n';
  return s;
}

// Appends whole rows to the CSV table: one write(2) per row, so a reader (or a crash) sees whole rows only
// in all but the rarest case, and a resume rewrites the table from the result file anyway.
class CsvAppender {
 public:
  explicit CsvAppender(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd_ < 0) throw IoError("cannot open the metrics table '" + path + "' for appending: " + std::strerror(errno));
  }
  ~CsvAppender() {
    if (fd_ >= 0) ::close(fd_);
  }
  CsvAppender(const CsvAppender&) = delete;
  CsvAppender& operator=(const CsvAppender&) = delete;
  void append(const std::string& row) {
    std::size_t off = 0;
    while (off < row.size()) {
      const ssize_t n = ::write(fd_, row.data() + off, row.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw IoError("cannot write to the metrics table '" + path_ + "': " + std::strerror(errno));
      }
      off += static_cast<std::size_t>(n);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return in ? s.str() : std::string();
}

}  // namespace

IntensityPattern reduction_input(const Result1D& pattern) {
  IntensityPattern p;
  p.q = pattern.radial;
  if (pattern.unit == RadialUnit::q_nm) {
    for (double& q : p.q) q /= 10.0;
  } else if (pattern.unit != RadialUnit::q_A) {
    throw InvalidArgument(std::string("reduction_input: the pattern's unit is ") + radial_unit_name(pattern.unit) +
                          " (expected q_A^-1 or q_nm^-1)");
  }
  p.intensity = pattern.intensity;
  p.sigma = pattern.error_model == ErrorModel::none ? std::vector<double>{} : pattern.sigma;
  return p;
}

std::size_t peak_memory_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::istringstream s(line.substr(6));
      std::size_t kb = 0;
      s >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------
struct SeriesRun::Impl {
  Recipe recipe;
  SeriesRunOptions options;
  std::shared_ptr<const FrameSource> source;
  std::vector<std::size_t> frames;
  std::vector<double> temperatures;  // parallel to frames
  std::vector<double> all_temperatures;  // per input frame (empty: none)
  Poni poni;
  std::unique_ptr<Integrator> integrator;
  ReductionOptions reduction;
  bool metrics_on = false;
  MetricsOptions metrics;
  std::vector<std::string> metric_names;
  std::optional<MetricsInput> reference;
  std::size_t reference_frame = 0;
  NexusResultInfo info;
  std::size_t workers = 1;
  std::size_t in_flight = 4;
  double plan_seconds = 0;
  bool ran = false;

  void say(const SeriesCallbacks& cb, const std::string& m) const {
    detail::logger().info("{}", m);
    if (cb.message) cb.message(m);
  }

  // The whole chain on one frame. @p reducer: the calling worker's own (plans kept from frame to frame), or
  // null for a one-off reduction; the results are the same bit for bit.
  FrameProducts process(std::size_t frame, const Image& raw, bool with_metrics, Reducer* reducer = nullptr) const {
    FrameProducts out;
    out.frame = frame;
    out.temperature_K = frame < all_temperatures.size() ? all_temperatures[frame] : kNaN;
    const Image flipped = recipe.input.flip_vertical ? raw.flipped_vertical() : Image();
    const Image& image = recipe.input.flip_vertical ? flipped : raw;
    out.pattern = integrator->integrate(image.view());
    try {
      const IntensityPattern pattern = reduction_input(out.pattern);
      out.reduction = reducer ? reducer->reduce(pattern) : reduce(pattern, reduction);
    } catch (const Error& e) {
      // Name the frame: the same options worked on the reference frame, so it is this frame's data.
      throw NumericalError("frame " + std::to_string(frame) + " of " + source->describe() +
                           ": the reduction failed: " + e.what());
    }
    if (with_metrics && metrics_on) {
      try {
        const StructureMetrics m = compute_metrics(metrics_input(out.reduction), metrics, reference ? &*reference : nullptr);
        out.metrics = metrics_table(m);
      } catch (const NumericalError& e) {
        // A feature missing from one frame (e.g. a peak outside its window) leaves that frame's metrics
        // unknown; the rest of the series is still worth reducing.
        detail::logger().warn("frame {}: metrics not measurable ({}); written as NaN", frame, e.what());
        for (const auto& name : metric_names) out.metrics.emplace_back(name, kNaN);
      }
    }
    return out;
  }
};

SeriesRun::SeriesRun(Recipe recipe, SeriesRunOptions options) : impl_(std::make_unique<Impl>()) {
  const auto t0 = Clock::now();
  Impl& m = *impl_;
  recipe.validate();
  m.recipe = std::move(recipe);
  m.options = options;
  const Recipe& r = m.recipe;
  if (options.threads && *options.threads < 0) {
    throw InvalidArgument("SeriesRunOptions: threads = " + std::to_string(*options.threads) + " (expected >= 0)");
  }

  // Input and selection (indices of the input, so the result names the frames as the file does).
  m.source = open_frames(r.input.file, OpenOptions{r.input.dataset, std::nullopt, true});
  const std::size_t n = m.source->size();
  const std::size_t stop = std::min(r.input.stop.value_or(n), n);
  for (std::size_t i = r.input.start; i < stop; i += r.input.step) m.frames.push_back(i);
  if (m.frames.empty()) {
    throw InvalidArgument("[input] frames selects nothing: " + m.source->describe() + " holds " + std::to_string(n) +
                          " frame(s), the recipe asks for " + std::to_string(r.input.start) + ":" +
                          (r.input.stop ? std::to_string(*r.input.stop) : std::string()) + ":" +
                          std::to_string(r.input.step));
  }
  const std::size_t rows = m.source->rows(), cols = m.source->cols();

  // Temperatures.
  if (r.input.temperature == TemperatureSource::list) {
    if (r.input.temperatures_K.size() != n) {
      throw InvalidArgument("[input] temperatures_K has " + std::to_string(r.input.temperatures_K.size()) +
                            " values but " + m.source->describe() + " holds " + std::to_string(n) +
                            " frames (expected one temperature per input frame)");
    }
    m.all_temperatures = r.input.temperatures_K;
  } else if (r.input.temperature == TemperatureSource::metadata && is_hdf5_file(r.input.file)) {
    const FileMetadata meta = read_metadata(r.input.file);
    if (meta.temperature_K.size() == n) m.all_temperatures = meta.temperature_K;
    else if (meta.temperature_K.size() == 1) m.all_temperatures.assign(n, meta.temperature_K.front());
  }
  for (std::size_t i : m.frames) m.temperatures.push_back(i < m.all_temperatures.size() ? m.all_temperatures[i] : kNaN);
  m.metrics_on = r.metrics.enabled;
  if (m.metrics_on && r.metrics.against == MetricsAxis::temperature) {
    const auto missing = std::find_if(m.temperatures.begin(), m.temperatures.end(), [](double t) { return !std::isfinite(t); });
    if (missing != m.temperatures.end()) {
      const std::size_t frame = m.frames[static_cast<std::size_t>(missing - m.temperatures.begin())];
      throw InvalidArgument(
          "[metrics] against = \"temperature\" but " + m.source->describe() +
          (m.all_temperatures.empty() ? std::string(" has no sample temperatures (no NXsample temperature with one "
                                                    "value per frame)")
                                      : " has no temperature for frame " + std::to_string(frame)) +
          ": give them in [input] temperatures_K with temperature = \"list\", or set [metrics] against = \"frame\"");
    }
  }

  // Static images.
  m.poni = read_poni(r.poni);
  const Geometry geometry(m.poni, rows, cols);
  Corrections corrections;
  std::string mask_text = "none", dark_text = "none", flat_text = "none";
  const auto& c = r.corrections;
  if (!c.mask.empty() || !c.mask_dataset.empty()) {
    const std::string path = c.mask.empty() ? r.input.file : c.mask;
    MaskImage mask = read_mask_image(path, c.mask_dataset);
    check_shape("mask", file_and_dataset(path, c.mask_dataset), mask.rows, mask.cols, rows, cols);
    corrections.mask = std::move(mask.values);
    const bool flip = r.input.flip_vertical && c.flip_mask;
    if (flip) flip_rows(corrections.mask, rows, cols);
    std::size_t masked = 0;
    for (auto v : corrections.mask) masked += v != 0 ? 1 : 0;
    mask_text = file_and_dataset(path, c.mask_dataset) + (flip ? ", flipped" : "") + ", " + std::to_string(masked) +
                " pixels masked";
  }
  if (!c.dark.empty() || !c.dark_dataset.empty()) {
    const std::string path = c.dark.empty() ? r.input.file : c.dark;
    DarkImage dark = read_dark(path, DarkOptions{}, c.dark_dataset);
    check_shape("dark", file_and_dataset(path, c.dark_dataset), dark.rows, dark.cols, rows, cols);
    if (r.input.flip_vertical) {
      flip_rows(dark.pixels, rows, cols);
      flip_rows(dark.variance, rows, cols);
    }
    corrections.dark = std::move(dark.pixels);
    if (c.dark_poisson_variance) corrections.dark_variance = std::move(dark.variance);
    dark_text = dark.description + (r.input.flip_vertical ? ", flipped" : "") + ", variance " +
                (c.dark_poisson_variance ? "poisson" : "none");
  }
  if (!c.flat.empty() || !c.flat_dataset.empty()) {
    const std::string path = c.flat.empty() ? r.input.file : c.flat;
    const auto flat_source = open_frames(path, c.flat_dataset);
    check_shape("flat", file_and_dataset(path, c.flat_dataset), flat_source->rows(), flat_source->cols(), rows, cols);
    const auto values = flat_source->read(0).to_double();
    corrections.flat.assign(values.begin(), values.end());
    if (r.input.flip_vertical) flip_rows(corrections.flat, rows, cols);
    flat_text = file_and_dataset(path, c.flat_dataset) + (flat_source->size() > 1 ? ", first frame" : "") +
                (r.input.flip_vertical ? ", flipped" : "");
  }

  // Threads: whole frames in parallel, each worker single-threaded (no synchronisation inside a frame, and
  // the integrator's results do not depend on its thread count).
  const int threads = options.threads.value_or(r.run.threads);
  m.workers = threads > 0 ? static_cast<std::size_t>(threads)
                          : std::max<std::size_t>(1, std::thread::hardware_concurrency());
  m.in_flight = r.run.frames_in_flight > 0 ? r.run.frames_in_flight : 2 * m.workers + 2;
  IntegrationOptions io = r.integration;
  io.threads = 1;
  m.integrator = std::make_unique<Integrator>(geometry, io, corrections);
  m.reduction = r.reduction;

  // The reference frame: reduced here so that bad reduction or metrics options, and the q and r grids of the
  // result file, are known before anything is written.
  m.reference_frame = r.metrics.reference_frame.value_or(m.frames.front());
  if (m.reference_frame >= n) {
    throw InvalidArgument("[metrics] reference_frame = " + std::to_string(m.reference_frame) + " but " +
                          m.source->describe() + " holds " + std::to_string(n) + " frames");
  }
  if (m.metrics_on) {
    try {
      m.metrics = metrics_options(r.metrics);
      m.metrics.validate();
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("recipe " + r.source + ": [metrics] " + e.what());
    }
    m.metric_names = libpdf::metric_names(m.metrics);
  }
  const FrameProducts ref = m.process(m.reference_frame, m.source->read(m.reference_frame), false);
  if (m.metrics_on) {
    m.reference = metrics_input(ref.reduction);
    try {
      (void)compute_metrics(*m.reference, m.metrics, &*m.reference);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument("recipe " + r.source + ": [metrics] on the reference frame " +
                            std::to_string(m.reference_frame) + ": " + e.what());
    } catch (const NumericalError& e) {
      detail::logger().warn("reference frame {}: {}", m.reference_frame, e.what());
    }
  }

  // What the result file records once.
  NexusResultInfo& info = m.info;
  info = nexus_info(m.poni, *m.integrator);
  info.program = "libpdf run_series";
  info.title = r.output.title.empty() ? "libpdf series run " + m.source->describe() : r.output.title;
  info.input = m.source->describe();
  info.poni_file = r.poni;
  if (const std::string text = read_text_file(r.poni); !text.empty()) info.poni_text = text;
  info.instrument_name = r.output.instrument;
  info.source_name = r.output.source;
  info.sample_name = r.sample_name;
  info.chemical_formula = r.reduction.composition.formula();
  info.gzip_level = r.output.gzip_level;
  info.parameters.emplace_back("dataset", r.input.dataset.empty() ? "discovered" : r.input.dataset);
  info.parameters.emplace_back("frames", std::to_string(r.input.start) + ":" +
                                             (r.input.stop ? std::to_string(*r.input.stop) : std::string()) + ":" +
                                             std::to_string(r.input.step));
  info.parameters.emplace_back("flip_vertical", r.input.flip_vertical ? "yes" : "no");
  info.parameters.emplace_back("mask", mask_text);
  info.parameters.emplace_back("dark", dark_text);
  info.parameters.emplace_back("flat", flat_text);
  info.parameters.emplace_back("temperature_source", temperature_source_name(r.input.temperature));
  info.with_pdf = true;
  info.pdf_q = ref.reduction.q;
  info.pdf_r = ref.reduction.r;
  const ReductionOptions& o = r.reduction;
  auto opt = [](const std::optional<double>& v) { return v ? exact(*v) : std::string("auto"); };
  info.pdf_parameters = {
      {"composition", o.composition.formula()},
      {"mass_density", o.mass_density ? exact(*o.mass_density) : "none"},
      {"number_density", o.number_density ? exact(*o.number_density) : "none"},
      {"normalization", normalization_name(o.normalization)},
      {"qmin", opt(o.qmin)},
      {"qmax", opt(o.qmax)},
      {"qmaxinst", opt(o.qmaxinst)},
      {"qstep", opt(o.qstep)},
      {"qstep_used", exact(ref.reduction.qstep)},
      {"highq_qmin", exact(o.highq_qmin)},
      {"highq_weight", highq_weight_name(o.highq_weight)},
      {"rpoly", exact(o.rpoly)},
      {"convention", convention_name(o.convention)},
      {"extrapolation", extrapolation_name(o.extrapolation)},
      {"low_r_iterations", std::to_string(o.low_r_iterations)},
      {"low_r_cutoff", opt(o.low_r_cutoff)},
      {"window", window_formula(o.window, ref.reduction.qmax, o.taper_width)},
      {"rmin", exact(o.rmin)},
      {"rmax", exact(o.rmax)},
      {"rstep", exact(o.rstep)},
  };
  if (m.metrics_on) {
    info.metric_names = m.metric_names;
    info.metrics_parameters = {
        {"against", metrics_axis_name(r.metrics.against)},
        {"reference_frame", std::to_string(m.reference_frame)},
        {"q1_range", exact(m.metrics.q1_min) + " " + exact(m.metrics.q1_max)},
        {"r1_range", exact(m.metrics.r1_min) + " " + exact(m.metrics.r1_max)},
        {"mro_range", exact(m.metrics.mro_rmin) + " " + exact(m.metrics.mro_rmax)},
        {"sq_maxima_qmax", exact(m.metrics.sq_maxima_qmax)},
        {"coordination", coordination_method_name(m.metrics.cn_method)},
        {"watch_halfwidth", exact(m.metrics.watch_halfwidth)},
    };
    std::string watch;
    for (double q : m.metrics.watch_q) watch += (watch.empty() ? "" : " ") + exact(q);
    info.metrics_parameters.emplace_back("watch_q", watch.empty() ? "none" : watch);
  }
  info.recipe_text = to_toml(r);
  info.recipe_file = r.source;
  info.validate();
  m.plan_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
}

SeriesRun::~SeriesRun() = default;
SeriesRun::SeriesRun(SeriesRun&&) noexcept = default;
SeriesRun& SeriesRun::operator=(SeriesRun&&) noexcept = default;

const Recipe& SeriesRun::recipe() const { return impl_->recipe; }
const std::vector<std::size_t>& SeriesRun::frames() const { return impl_->frames; }
const std::vector<double>& SeriesRun::temperatures_K() const { return impl_->temperatures; }
const Integrator& SeriesRun::integrator() const { return *impl_->integrator; }
const std::vector<std::string>& SeriesRun::metric_names() const { return impl_->metric_names; }

FrameProducts SeriesRun::process(std::size_t frame) const {
  if (frame >= impl_->source->size()) {
    throw InvalidArgument("SeriesRun::process: frame " + std::to_string(frame) + " is beyond the " +
                          std::to_string(impl_->source->size()) + " frames of " + impl_->source->describe());
  }
  return impl_->process(frame, impl_->source->read(frame), true);
}

FrameProducts SeriesRun::process(std::size_t frame, const Image& image) const {
  return impl_->process(frame, image, true);
}

SeriesSummary SeriesRun::run(const SeriesCallbacks& callbacks) {
  Impl& m = *impl_;
  if (m.ran) throw InvalidArgument("SeriesRun::run may be called once");
  m.ran = true;
  const Recipe& r = m.recipe;

  SeriesSummary summary;
  summary.result_path = r.output.result;
  summary.selected = m.frames.size();
  summary.workers = m.workers;
  summary.frames_in_flight = m.in_flight;
  summary.plan_seconds = m.plan_seconds;

  NexusResultWriter writer(r.output.result, m.info, m.options.overwrite);
  summary.resumed = writer.resumed();
  std::vector<std::size_t> todo;
  for (std::size_t f : m.frames) {
    if (!writer.has_frame(f)) todo.push_back(f);
  }
  summary.skipped = m.frames.size() - todo.size();
  if (writer.resumed()) {
    m.say(callbacks, r.output.result + ": resuming, " + std::to_string(writer.frames()) +
                         " frame(s) already in the file, " + std::to_string(todo.size()) + " to do");
  }

  // The table, rebuilt from the committed rows (atomically), then appended to row by row.
  std::unique_ptr<CsvAppender> table;
  if (m.metrics_on) {
    summary.table_path = r.table_path();
    // A comment line first, as in every libpdf output: the version that wrote the table (CSV readers of libpdf,
    // numpy's loadtxt and pandas' comment='#' skip it).
    std::string text = std::string("# libpdf ") + version() + ", pdfreduce run: one row per frame\n";
    text += "frame,temperature_K";
    for (const auto& name : m.metric_names) text += "," + name;
    text += "\n";
    const auto stored = writer.stored_metrics();
    const auto temps = writer.stored_temperatures();
    const auto& idx = writer.frame_indices();
    const std::size_t nm = m.metric_names.size();
    for (std::size_t k = 0; k < idx.size(); ++k) {
      std::vector<double> row(stored.begin() + static_cast<std::ptrdiff_t>(k * nm),
                              stored.begin() + static_cast<std::ptrdiff_t>((k + 1) * nm));
      text += csv_row(idx[k], temps[k], row);
    }
    const fs::path parent = fs::path(summary.table_path).parent_path();
    std::error_code ec;
    if (!parent.empty()) fs::create_directories(parent, ec);
    write_file_atomic(summary.table_path, text);
    table = std::make_unique<CsvAppender>(summary.table_path);
  }
  if (todo.empty()) {
    writer.close();
    m.say(callbacks, "every selected frame is already in " + r.output.result);
    return summary;
  }

  // Shared state of the reader, the workers and the writer (this thread).
  std::mutex mu;
  std::condition_variable cv_read, cv_work, cv_write;
  std::deque<std::pair<std::size_t, Image>> raw;  // (sequence number, frame)
  std::map<std::size_t, FrameProducts> finished;
  // Frame buffers of finished frames, reused by the readers (FrameSource::read_into): at most one per ticket,
  // so a long series allocates and page-faults its frames' memory once instead of for every frame.
  std::vector<Image> spare;
  std::size_t tickets = m.in_flight;
  bool reader_done = false, stop = false;
  std::exception_ptr error;
  auto fail = [&](std::exception_ptr e) {
    std::lock_guard<std::mutex> lock(mu);
    if (!error) error = e;
    stop = true;
    cv_read.notify_all();
    cv_work.notify_all();
    cv_write.notify_all();
  };

  const auto t0 = Clock::now();
  // Readers: frames are claimed in order (a ticket first, then the next sequence number) and read outside the
  // lock. FrameSource::read is thread-safe, and HDF5 frames are decompressed outside the HDF5 lock (direct chunk
  // reads), so with two or more workers a second reader keeps them fed when decompression is the slow part; the
  // writer restores the order. With one worker one reader is enough (the worker is the slower of the two).
  const std::size_t n_readers = m.workers >= 2 ? 2 : 1;
  std::size_t next_seq = 0, readers_left = n_readers;
  auto read_frames = [&] {
    try {
      while (true) {
        std::size_t seq = 0;
        Image image;
        {
          std::unique_lock<std::mutex> lock(mu);
          cv_read.wait(lock, [&] { return tickets > 0 || stop || next_seq >= todo.size(); });
          if (stop || next_seq >= todo.size()) break;
          --tickets;
          summary.max_frames_held = std::max(summary.max_frames_held, m.in_flight - tickets);
          seq = next_seq++;
          if (next_seq == todo.size()) cv_read.notify_all();  // the other reader is done too
          if (!spare.empty()) {
            image = std::move(spare.back());
            spare.pop_back();
          }
        }
        m.source->read_into(todo[seq], image);
        std::lock_guard<std::mutex> lock(mu);
        raw.emplace_back(seq, std::move(image));
        cv_work.notify_one();
      }
      std::lock_guard<std::mutex> lock(mu);
      if (--readers_left == 0) {
        reader_done = true;
        cv_work.notify_all();
      }
    } catch (...) {
      fail(std::current_exception());
    }
  };
  std::vector<std::thread> readers;
  for (std::size_t k = 0; k < n_readers; ++k) readers.emplace_back(read_frames);
  std::vector<std::thread> workers;
  for (std::size_t w = 0; w < m.workers; ++w) {
    workers.emplace_back([&] {
      try {
        Reducer reducer(m.reduction);  // this worker's plans, built at its first frame and kept
        while (true) {
          std::pair<std::size_t, Image> job;
          {
            std::unique_lock<std::mutex> lock(mu);
            cv_work.wait(lock, [&] { return !raw.empty() || reader_done || stop; });
            if (stop || raw.empty()) return;
            job = std::move(raw.front());
            raw.pop_front();
          }
          FrameProducts p = m.process(todo[job.first], job.second, true, &reducer);
          std::lock_guard<std::mutex> lock(mu);
          spare.push_back(std::move(job.second));  // the frame's buffer, for a reader to fill again
          finished.emplace(job.first, std::move(p));
          cv_write.notify_one();
        }
      } catch (...) {
        fail(std::current_exception());
      }
    });
  }

  // The writer: frames in order, each committed to the result file before its table row.
  try {
    for (std::size_t seq = 0; seq < todo.size(); ++seq) {
      FrameProducts p;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_write.wait(lock, [&] { return finished.count(seq) > 0 || stop; });
        if (stop) break;
        auto it = finished.find(seq);
        p = std::move(it->second);
        finished.erase(it);
      }
      const PdfFrame pdf = pdf_frame(p.reduction);
      std::vector<double> values;
      values.reserve(p.metrics.size());
      for (const auto& kv : p.metrics) values.push_back(kv.second);
      writer.append(p.frame, p.pattern, p.temperature_K, &pdf, m.metrics_on ? &values : nullptr);
      if (table) table->append(csv_row(p.frame, p.temperature_K, values));
      {
        std::lock_guard<std::mutex> lock(mu);
        ++tickets;
        cv_read.notify_one();
      }
      ++summary.written;
      if (callbacks.progress) {
        SeriesProgress progress;
        progress.done = summary.written;
        progress.total = todo.size();
        progress.skipped = summary.skipped;
        progress.frame = p.frame;
        progress.temperature_K = p.temperature_K;
        progress.elapsed_s = std::chrono::duration<double>(Clock::now() - t0).count();
        progress.frames_per_s = progress.elapsed_s > 0 ? static_cast<double>(progress.done) / progress.elapsed_s : 0;
        if (!callbacks.progress(progress)) {
          summary.cancelled = true;
          break;
        }
      }
    }
  } catch (...) {
    fail(std::current_exception());
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv_read.notify_all();
    cv_work.notify_all();
  }
  for (auto& t : readers) t.join();
  for (auto& t : workers) t.join();
  summary.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  summary.frames_per_s = summary.seconds > 0 ? static_cast<double>(summary.written) / summary.seconds : 0;
  writer.close();
  if (error) std::rethrow_exception(error);
  return summary;
}

SeriesSummary run_series(const Recipe& recipe, const SeriesCallbacks& callbacks, const SeriesRunOptions& options) {
  SeriesRun run(recipe, options);
  return run.run(callbacks);
}

}  // namespace libpdf
