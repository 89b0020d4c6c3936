// NXazint1d result files: layout, frame-by-frame appending with a flush after each frame, resuming, and
// reading back. The layout and its reasons are in include/libpdf/nexus.hpp and docs/files.md.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include <sys/resource.h>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io/chunk_codec.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io.hpp"
#include "libpdf/nexus.hpp"
#include "libpdf/version.hpp"

namespace libpdf {
namespace {

namespace h5 = detail::h5;
namespace fs = std::filesystem;

constexpr double kHcKeVAngstrom = 12.398419843320026;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const char* const kPdf = "/entry/pdf";
const char* const kMetrics = "/entry/metrics";

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

bool valid_name(const std::string& key) {
  static const std::regex name(R"(^[A-Za-z0-9_]([A-Za-z0-9_.]*[A-Za-z0-9_])?$)");
  return key.size() <= 63 && std::regex_match(key, name);
}

std::string iso_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  char zone[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::strftime(zone, sizeof zone, "%z", &tm);
  // ISO 8601 wants the offset as +hh:mm (strftime gives +hhmm).
  char out[96];
  std::snprintf(out, sizeof out, "%s%.3s:%.2s", buf, zone, std::strlen(zone) >= 5 ? zone + 3 : "00");
  return out;
}

// Units and long names of the radial axis (NXazint1d: q or 2theta).
std::pair<std::string, std::string> radial_units(RadialUnit u) {
  switch (u) {
    case RadialUnit::q_A: return {"1/angstrom", "q"};
    case RadialUnit::q_nm: return {"1/nm", "q"};
    case RadialUnit::tth_deg: return {"degrees", "2theta"};
    case RadialUnit::r_mm: return {"mm", "r"};
  }
  return {"", ""};
}

// All parameters as one text: what a resumed file must match exactly.
std::string parameters_text(const NexusResultInfo& info) {
  std::string s;
  for (const auto& [k, v] : info.parameters) s += k + " = " + v + "\n";
  s += "unit = " + std::string(radial_unit_name(info.unit)) + "\n";
  s += "with_pdf = " + std::string(info.with_pdf ? "yes" : "no") + "\n";
  for (const auto& [k, v] : info.pdf_parameters) s += "pdf." + k + " = " + v + "\n";
  // Only files with metrics get these lines, so files written before metrics existed still resume.
  if (!info.metric_names.empty()) s += "metrics = " + join(info.metric_names, ",") + "\n";
  for (const auto& [k, v] : info.metrics_parameters) s += "metrics." + k + " = " + v + "\n";
  return s;
}

h5::DatasetOptions frames_options(std::size_t n, int gzip) {
  h5::DatasetOptions o;
  o.max_shape = {h5::kUnlimited, n};
  o.chunks = {1, std::max<std::size_t>(n, 1)};
  // Byte shuffle groups the exponent bytes of the doubles together, which is what deflate can compress.
  o.shuffle = gzip >= 0;
  o.gzip_level = gzip;
  return o;
}

h5::DatasetOptions series_options() {
  h5::DatasetOptions o;
  o.max_shape = {h5::kUnlimited};
  o.chunks = {1024};
  return o;
}

void write_text(h5::Group& g, const std::string& name, const std::string& value) { g.write_string_dataset(name, value); }

h5::Dataset write_quantity(h5::Group& g, const std::string& name, double value, const std::string& units) {
  h5::Dataset ds = g.write_dataset(name, std::vector<double>{value}, std::vector<std::size_t>{});
  ds.write_attribute("units", units);
  return ds;
}

void write_parameters(h5::Group& g, const std::vector<Parameter>& params) {
  for (const auto& [k, v] : params) {
    if (g.exists(k)) continue;  // a key given twice: the first wins (documented by the full text below)
    g.write_string_dataset(k, v);
  }
}

// Creates an empty growable [0, n] float64 array.
h5::Dataset frames_array(h5::Group& g, const std::string& name, std::size_t n, int gzip, const std::string& units,
                         const std::string& long_name) {
  h5::Dataset ds = g.create_dataset(name, H5T_IEEE_F64LE, {0, n}, frames_options(n, gzip));
  if (!units.empty()) ds.write_attribute("units", units);
  if (!long_name.empty()) ds.write_attribute("long_name", long_name);
  return ds;
}

h5::Dataset series_array(h5::Group& g, const std::string& name, const std::string& units) {
  h5::Dataset ds = g.create_dataset(name, H5T_IEEE_F64LE, {0}, series_options());
  if (!units.empty()) ds.write_attribute("units", units);
  return ds;
}

void write_pdf_data(h5::Group& pdf, const std::string& group, const std::string& signal, const std::string& axis,
                    const std::vector<double>& axis_values, const std::string& axis_units, const std::string& units,
                    const std::string& long_name, int gzip) {
  h5::Group g = pdf.create_group(group, "NXdata");
  g.write_attribute("signal", signal);
  g.write_attribute("axes", std::vector<std::string>{".", axis});
  g.write_attribute("interpretation", "spectrum");
  frames_array(g, signal, axis_values.size(), gzip, units, long_name);
  frames_array(g, signal + "_errors", axis_values.size(), gzip, units, "standard deviation of " + long_name);
  h5::Dataset ax = g.write_dataset(axis, axis_values);
  ax.write_attribute("units", axis_units);
  ax.write_attribute("long_name", axis);
}

// Writes the complete empty layout into a new file.
void write_layout(h5::File& f, const NexusResultInfo& info) {
  const std::string version = libpdf::version();
  f.write_attribute("default", "entry");
  f.write_attribute("NX_class", "NXroot");
  f.write_attribute("creator", "libpdf " + version);
  f.write_attribute("file_time", iso_now());
  f.write_attribute("HDF5_Version", std::to_string(H5_VERS_MAJOR) + "." + std::to_string(H5_VERS_MINOR) + "." +
                                        std::to_string(H5_VERS_RELEASE));

  h5::Group entry = f.create_group("/entry", "NXentry");
  entry.write_attribute("default", "integrated");
  write_text(entry, "definition", "NXazint1d");
  write_text(entry, "title", info.title);
  entry.write_bool_dataset("solid_angle_applied", info.solid_angle_applied);
  entry.write_bool_dataset("polarization_applied", info.polarization_applied);
  entry.write_bool_dataset("normalization_applied", info.normalization_applied);
  entry.write_bool_dataset("monitor_applied", info.monitor_applied);

  h5::Group instrument = entry.create_group("instrument", "NXinstrument");
  write_text(instrument, "name", info.instrument_name);
  h5::Group mono = instrument.create_group("monochromator", "NXmonochromator");
  write_quantity(mono, "wavelength", info.wavelength_A, "angstrom");
  write_quantity(mono, "energy", kHcKeVAngstrom / info.wavelength_A, "keV");
  h5::Group source = instrument.create_group("source", "NXsource");
  write_text(source, "name", info.source_name);
  write_text(source, "type", info.source_type);
  write_text(source, "probe", info.probe);

  h5::Group reduction = entry.create_group("reduction", "NXprocess");
  write_text(reduction, "program", info.program);
  write_text(reduction, "version", "libpdf " + version);
  write_text(reduction, "date", iso_now());
  write_text(reduction, "reference",
             "libpdf (BSD-3-Clause); geometry and integration follow pyFAI: Kieffer et al., J. Synchrotron Rad. 27 "
             "(2020) 558; Ashiotis et al., J. Appl. Cryst. 48 (2015) 510");
  write_text(reduction, "note",
             "Geometry in pyFAI's convention (PONI file in input/poni): chi = atan2(t1, t2), q = 4 pi sin(theta) / "
             "lambda. I = sum c (raw - dark) / sum c (flat * solid angle * polarisation * sensor efficiency * k); "
             "I_errors from the error model in input/error_model. Rows of integrated/I are the input frames listed "
             "in integrated/frame_index.");
  h5::Group input = reduction.create_group("input", "NXparameters");
  h5::Dataset poni = input.write_string_dataset("poni", info.poni_text);
  poni.write_attribute("filename", info.poni_file);
  write_text(input, "input", info.input);
  write_text(input, "libpdf_version", version);
  write_quantity(input, "wavelength", info.wavelength_A, "angstrom");
  write_parameters(input, info.parameters);
  write_text(input, "all_parameters", parameters_text(info));
  if (!info.recipe_text.empty() && !input.exists("recipe")) {
    h5::Dataset recipe = input.write_string_dataset("recipe", info.recipe_text);
    recipe.write_attribute("filename", info.recipe_file);
    recipe.write_attribute("format", "TOML (libpdf series recipe, canonical form)");
  }

  h5::Group data = entry.create_group("integrated", "NXdata");
  data.write_attribute("signal", "I");
  data.write_attribute("axes", std::vector<std::string>{".", "radial_axis"});
  data.write_attribute("interpretation", "spectrum");
  const std::size_t n = info.radial.size();
  frames_array(data, "I", n, info.gzip_level, "arbitrary units", "intensity");
  frames_array(data, "I_errors", n, info.gzip_level, "arbitrary units", "estimated intensity error");
  const auto [units, long_name] = radial_units(info.unit);
  h5::Dataset ax = data.write_dataset("radial_axis", info.radial);
  ax.write_attribute("units", units);
  ax.write_attribute("long_name", long_name);
  h5::Dataset edges = data.write_dataset("radial_axis_edges", info.radial_edges);
  edges.write_attribute("units", units);
  edges.write_attribute("long_name", long_name + " bin edges");
  h5::Dataset idx = data.write_int64_dataset("frame_index", {}, series_options());
  idx.write_attribute("long_name", "index of the input frame of each row");

  h5::Group sample = entry.create_group("sample", "NXsample");
  write_text(sample, "name", info.sample_name);
  if (!info.chemical_formula.empty()) write_text(sample, "chemical_formula", info.chemical_formula);
  series_array(sample, "temperature", "K");

  if (info.with_pdf) {
    h5::Group pdf = entry.create_group("pdf", "NXprocess");
    pdf.write_attribute("default", "gr");
    write_text(pdf, "program", info.program);
    write_text(pdf, "version", "libpdf " + version);
    write_text(pdf, "date", iso_now());
    write_text(pdf, "note",
               "S(q) Faber-Ziman unless parameters/convention says otherwise; F(q) = q[S(q) - 1] (1/angstrom); "
               "G(r) = (2/pi) int F(q) M(q) sin(qr) dq (1/angstrom^2). One row per row of /entry/integrated/I.");
    h5::Group params = pdf.create_group("parameters", "NXparameters");
    write_parameters(params, info.pdf_parameters);
    write_pdf_data(pdf, "sq", "S", "q", info.pdf_q, "1/angstrom", "", "S(q)", info.gzip_level);
    write_pdf_data(pdf, "fq", "F", "q", info.pdf_q, "1/angstrom", "1/angstrom", "F(q)", info.gzip_level);
    write_pdf_data(pdf, "gr", "G", "r", info.pdf_r, "angstrom", "1/angstrom^2", "G(r)", info.gzip_level);
    series_array(pdf, "alpha", "");
    series_array(pdf, "number_density", "1/angstrom^3");
    series_array(pdf, "background_scale", "");
  }

  if (!info.metric_names.empty()) {
    h5::Group metrics = entry.create_group("metrics", "NXcollection");
    // HDF5 lists members by name; the column order of the metrics table is kept here.
    metrics.write_attribute("columns", join(info.metric_names, ","));
    metrics.write_attribute("note",
                            "One value per row of /entry/integrated/I; <key>_sigma is the standard uncertainty of "
                            "<key>; NaN = not measurable on that frame. Definitions: libpdf docs/metrics.md.");
    for (const std::string& name : info.metric_names) series_array(metrics, name, "");
    h5::Group params = metrics.create_group("parameters", "NXparameters");
    write_parameters(params, info.metrics_parameters);
  }
}

// The per-frame arrays of a layout (row count = frames), frame_index excluded.
std::vector<std::string> frame_arrays(const NexusResultInfo& info) {
  std::vector<std::string> v = {"/entry/integrated/I", "/entry/integrated/I_errors", "/entry/sample/temperature"};
  for (const std::string& name : info.metric_names) v.push_back(std::string(kMetrics) + "/" + name);
  if (info.with_pdf) {
    for (const char* p : {"/entry/pdf/sq/S", "/entry/pdf/sq/S_errors", "/entry/pdf/fq/F", "/entry/pdf/fq/F_errors",
                          "/entry/pdf/gr/G", "/entry/pdf/gr/G_errors", "/entry/pdf/alpha", "/entry/pdf/number_density",
                          "/entry/pdf/background_scale"}) {
      v.emplace_back(p);
    }
  }
  return v;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

std::string first_difference(const std::string& a, const std::string& b) {
  // Line by line: "key = value" lines of the stored and the new parameters.
  auto lines = [](const std::string& s) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < s.size()) {
      const auto nl = s.find('\n', start);
      out.push_back(s.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    return out;
  };
  const auto la = lines(a), lb = lines(b);
  for (std::size_t i = 0; i < std::max(la.size(), lb.size()); ++i) {
    const std::string x = i < la.size() ? la[i] : "(nothing)";
    const std::string y = i < lb.size() ? lb[i] : "(nothing)";
    if (x != y) return "the file has '" + x + "', this run '" + y + "'";
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
void NexusResultInfo::validate() const {
  std::string bad;
  auto add = [&bad](const std::string& s) { bad += (bad.empty() ? "" : "; ") + s; };
  if (radial.empty()) add("radial: no bins (expected nRad > 0 bin centres)");
  if (radial_edges.size() != radial.size() + 1) {
    add("radial_edges: " + std::to_string(radial_edges.size()) + " values, expected nRad + 1 = " +
        std::to_string(radial.size() + 1));
  }
  if (!(wavelength_A > 0) || !std::isfinite(wavelength_A)) add("wavelength_A = " + exact(wavelength_A) + ", expected > 0");
  if (gzip_level < -1 || gzip_level > 9) add("gzip_level = " + std::to_string(gzip_level) + ", expected -1..9");
  for (const auto& [k, v] : parameters) {
    if (!valid_name(k)) add("parameter key '" + k + "' is not a valid NeXus name ([A-Za-z0-9_], at most 63 characters)");
  }
  if (with_pdf) {
    if (pdf_q.empty()) add("pdf_q: empty (with_pdf needs the q grid of S(q))");
    if (pdf_r.empty()) add("pdf_r: empty (with_pdf needs the r grid of G(r))");
    for (const auto& [k, v] : pdf_parameters) {
      if (!valid_name(k)) add("pdf parameter key '" + k + "' is not a valid NeXus name");
    }
  }
  for (const std::string& k : metric_names) {
    if (!valid_name(k) || k == "parameters") add("metric name '" + k + "' is not a valid NeXus name (or is 'parameters')");
  }
  for (const auto& [k, v] : metrics_parameters) {
    if (!valid_name(k)) add("metrics parameter key '" + k + "' is not a valid NeXus name");
  }
  if (!bad.empty()) throw InvalidArgument("NexusResultInfo: " + bad);
}

std::vector<Parameter> integration_parameters(const IntegrationOptions& o) {
  std::vector<Parameter> p;
  p.emplace_back("npt", std::to_string(o.npt));
  p.emplace_back("unit", radial_unit_name(o.unit));
  p.emplace_back("radial_range", o.radial_range ? exact(o.radial_range->lo) + " " + exact(o.radial_range->hi) : "auto");
  p.emplace_back("azimuth_range_deg",
                 o.azimuth_range_deg ? exact(o.azimuth_range_deg->lo) + " " + exact(o.azimuth_range_deg->hi) : "all");
  p.emplace_back("splitting", splitting_name(o.splitting));
  p.emplace_back("solid_angle", o.solid_angle ? "yes" : "no");
  p.emplace_back("polarization_factor", o.polarization_factor ? exact(*o.polarization_factor) : "none");
  p.emplace_back("sensor", o.sensor ? "thickness_m " + exact(o.sensor->thickness_m) + " attenuation_length_m " +
                                          exact(o.sensor->attenuation_length_m)
                                    : "none");
  p.emplace_back("normalization_factor", exact(o.normalization_factor));
  p.emplace_back("error_model", error_model_name(o.error_model));
  p.emplace_back("dummy", o.dummy ? exact(*o.dummy) + " delta " + exact(o.delta_dummy) : "none");
  p.emplace_back("mask_detector_markers", o.mask_detector_markers ? "yes" : "no");
  p.emplace_back("bit_depth", o.bit_depth ? std::to_string(*o.bit_depth) : "type width");
  p.emplace_back("empty", exact(o.empty));
  return p;
}

NexusResultInfo nexus_info(const Poni& poni, const Integrator& integrator) {
  NexusResultInfo info;
  const IntegrationOptions& o = integrator.options();
  info.wavelength_A = poni.wavelength_A();
  info.unit = o.unit;
  info.radial = integrator.radial();
  info.radial_edges = integrator.radial_edges();
  info.solid_angle_applied = o.solid_angle;
  info.polarization_applied = o.polarization_factor.has_value();
  info.normalization_applied = true;
  info.monitor_applied = o.normalization_factor != 1.0;
  info.parameters = integration_parameters(o);
  info.poni_text = format_poni(poni);
  return info;
}

PdfFrame pdf_frame(const ReductionResult& r) {
  PdfFrame f;
  f.sq = r.sq;
  f.sq_sigma = r.sq_sigma;
  f.fq = r.fq;
  f.fq_sigma = r.fq_sigma;
  f.gr = r.gr;
  f.gr_sigma = r.gr_sigma;
  f.alpha = r.alpha;
  f.number_density = r.number_density.value_or(kNaN);
  f.background_scale = r.background_scale;
  return f;
}

// ---------------------------------------------------------------------------------------------------
struct NexusResultWriter::Impl {
  std::string path;
  NexusResultInfo info;
  std::unique_ptr<h5::File> file;
  bool resumed = false;
  std::vector<std::size_t> indices;
  std::set<std::size_t> index_set;
  // Set when a write or flush failed (disk full, I/O error): the file was abandoned as the last successful
  // flush left it, and this writer takes no more frames (a new writer on the same path resumes it).
  std::string failure;

  // Opens the result for appending. Write-through (no chunk cache): each row reaches the file in its own
  // H5Dwrite, so a full disk is reported by the append that hit it, naming the dataset, and nothing is left
  // for a later flush to fail on after HDF5 has already written metadata pointing at the lost chunk.
  void open_for_append() {
    file = std::make_unique<h5::File>(h5::File::open(path, h5::File::Mode::read_write, /*write_through=*/true));
  }

  // Refuses a frame that cannot fit under the process's file size limit (RLIMIT_FSIZE), before anything is
  // written: a write that fails there leaves HDF5 with space allocated beyond the limit, and even a file
  // abandoned without a flush then cannot be closed cleanly. The estimate is what a frame adds: each row
  // uncompressed (deflate can only store it a little larger: 5 bytes per 64 KiB block plus its framing) plus
  // a new chunk of a 1-D series when its row starts one, the first chunk's index nodes, and object header
  // updates; from row 64 on (when the first node of a row index, 64 chunks, is full) room for a leaf and a
  // parent node of each row index, since any frame may split them (measured: +5.2 KB for I and I_errors at
  // rows 64, 121, 178, ...). A frame that still does not fit (another HDF5's index layout) fails half-way,
  // and is then reported and abandoned like any failed write; the file is only lost if the file system
  // also refuses that abandoned close (see docs/hardening.md).
  std::size_t frame_bytes(std::size_t row) const {
    auto stored = [](std::size_t values) { return values * 8 + values * 8 / 65535 * 5 + 64; };
    std::size_t need = 1024;
    std::size_t rows = 2 * stored(info.radial.size());
    if (info.with_pdf) rows += 4 * stored(info.pdf_q.size()) + 2 * stored(info.pdf_r.size());
    need += rows;
    const std::size_t series = 1 + info.metric_names.size() + (info.with_pdf ? 3 : 0) + 1;  // + frame_index
    if (row % 1024 == 0) need += series * stored(1024);  // series_options' chunks of 1024 values
    const std::size_t row_indexes = 2 + (info.with_pdf ? 6 : 0);
    if (row == 0) need += row_indexes * 4096;  // the first chunk creates each row index
    // A v1 B-tree node of a 2-D chunk index (K = 32): header, 65 keys (size, filter mask, 3 offsets), 64 children.
    constexpr std::size_t kIndexNode = 24 + 65 * (8 + 8 * 3) + 64 * 8;
    if (row >= 64) need += row_indexes * 2 * kIndexNode;
    return need;
  }

  void check_file_size_limit(std::size_t source_index, std::size_t row) const {
    rlimit rl{};
    if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
    const std::size_t need = frame_bytes(row);
    const std::size_t size = file->size();
    if (size + need > rl.rlim_cur) {
      throw IoError("HDF5 file '" + path + "': frame " + std::to_string(source_index) + " was not appended: it needs about " +
                    std::to_string(need) + " bytes and the file size limit (RLIMIT_FSIZE) of " +
                    std::to_string(rl.rlim_cur) + " bytes leaves " +
                    std::to_string(size < rl.rlim_cur ? rl.rlim_cur - size : 0) + ": " + std::strerror(EFBIG) +
                    "; the " + std::to_string(indices.size()) + " frame(s) before it are kept");
    }
  }

  // Reserves the disk space the frame and its flush need (the estimate above, an upper bound: rows
  // uncompressed, new chunks and index nodes; plus 16 KiB for object headers a flush may move), before
  // anything is written: on a full disk the frame is refused here with
  // the file untouched, instead of a flush running out of room half-way through metadata it rewrites in place
  // (which would leave a file that no longer opens). Kept under the file size limit, which check_file_size_limit
  // enforces. No-op where the file system cannot preallocate.
  void reserve_space(std::size_t source_index, std::size_t row) {
    std::size_t bytes = frame_bytes(row) + (16u << 10);
    rlimit rl{};
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
      const std::size_t size = file->size();
      bytes = std::min<std::size_t>(bytes, rl.rlim_cur > size ? rl.rlim_cur - size : 0);
    }
    try {
      file->reserve(bytes);
    } catch (const IoError& e) {
      throw IoError("frame " + std::to_string(source_index) + " was not appended to '" + path +
                    "': the disk has no room for it (" + e.what() + "); the " + std::to_string(indices.size()) +
                    " frame(s) before it are kept; free some space and run again to resume");
    }
  }

  // A result file whose path was deleted while the run held it open would vanish with everything in it at
  // close: flush it, copy it back to its path (when nothing else is there now), and stop with an error that
  // says so. A path now naming another file is left alone.
  void check_path(std::size_t source_index) {
    const std::string what = file->path_status();
    if (what.empty()) return;
    std::string saved;
    if (what == "deleted" && !fs::exists(path)) {
      try {
        file->flush();
        file->copy_to(path);
        saved = "; the " + std::to_string(indices.size()) +
                " frame(s) written so far were copied back to it from the open file: run again to resume";
      } catch (const Error& e) {
        saved = "; saving the frames written so far failed: " + std::string(e.what());
      }
    } else if (what == "deleted") {
      saved = "; another file is at its path now, so the frames written so far were not copied back and are lost "
              "with the deleted file";
    } else {
      saved = "; the moved file keeps the frames of its last complete flush";
    }
    const std::string message = "HDF5 result file '" + path + "' was " + what + " while this run was writing it" +
                                (source_index == kNoFrame ? std::string() : " (before frame " + std::to_string(source_index) + ")") + saved;
    fail(message);
    throw IoError(message);
  }
  static constexpr std::size_t kNoFrame = static_cast<std::size_t>(-1);

  void write_frame(std::size_t source_index, std::size_t row, std::size_t n, const std::vector<double>& intensity,
                   const std::vector<double>& sigma, double temperature_K, const PdfFrame* pdf,
                   const std::vector<double>* metrics);

  // After a failed write HDF5's cached metadata describes rows that never reached the disk; closing the
  // file normally would write it over the consistent state of the last flush. Abandon it instead.
  void fail(const std::string& what) {
    failure = what.substr(0, what.find('\n'));  // the message without the HDF5 stack, for later appends
    if (file) file->abandon();
    file.reset();
  }

  h5::Dataset ds(const std::string& p) const { return file->open_dataset(p); }

  void create(bool overwrite) {
    std::error_code ec;
    if (fs::exists(path, ec) && !overwrite) throw IoError("internal: create() on an existing file");
    const fs::path parent = fs::path(path).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    const std::string tmp = detail::temporary_path_for(path);
    try {
      {
        h5::File f = h5::File::create(tmp);
        write_layout(f, info);
        f.close();
      }
      detail::commit_rename(tmp, path);
    } catch (...) {
      fs::remove(tmp, ec);
      throw;
    }
    open_for_append();
  }

  void resume() {
    open_for_append();
    const std::string where = "HDF5 file '" + path + "'";
    auto refuse = [&](const std::string& why) {
      file.reset();
      throw IoError(where + " exists and cannot be resumed: " + why +
                    "; remove it, choose another output, or overwrite it");
    };
    if (!file->exists("/entry/definition") || file->open_dataset("/entry/definition").read_string() != "NXazint1d" ||
        !file->exists("/entry/reduction/input/all_parameters") || !file->exists("/entry/integrated/frame_index")) {
      refuse("it is not a libpdf NXazint1d result file (no /entry/reduction/input/all_parameters)");
    }
    if (!same_bits(ds("/entry/integrated/radial_axis").read_doubles(), info.radial) ||
        !same_bits(ds("/entry/integrated/radial_axis_edges").read_doubles(), info.radial_edges)) {
      refuse("its radial bins (/entry/integrated/radial_axis) differ from this run's");
    }
    const std::string stored = ds("/entry/reduction/input/all_parameters").read_string();
    const std::string now = parameters_text(info);
    if (stored != now) refuse("its parameters differ: " + first_difference(stored, now));
    if (info.with_pdf && (!same_bits(ds("/entry/pdf/sq/q").read_doubles(), info.pdf_q) ||
                          !same_bits(ds("/entry/pdf/gr/r").read_doubles(), info.pdf_r))) {
      refuse("its pdf q or r grid differs from this run's");
    }
    // frame_index is written last for each frame: it says how many frames are complete.
    const std::vector<long long> idx = ds("/entry/integrated/frame_index").read_int64s();
    const std::size_t n = idx.size();
    for (const std::string& p : frame_arrays(info)) {
      h5::Dataset d = ds(p);
      std::vector<std::size_t> shape = d.shape();
      if (shape.empty() || shape[0] < n) {
        refuse(p + " holds fewer rows (" + std::to_string(shape.empty() ? 0 : shape[0]) + ") than frame_index (" +
               std::to_string(n) + "): the file is damaged");
      }
      if (shape[0] > n) {
        detail::logger().info("'{}': dropping the half-written row {} of {}", path, n, p);
        shape[0] = n;
        d.resize(shape);
      }
    }
    for (long long v : idx) {
      indices.push_back(static_cast<std::size_t>(v));
      index_set.insert(static_cast<std::size_t>(v));
    }
    file->flush();
    resumed = true;
  }

  // Per-frame array: the deflate level when its rows are single chunks through byte shuffle + deflate (the
  // layout this writer creates), which append_row then compresses itself; -1 otherwise (found on first use).
  std::map<std::string, int> row_deflate;
  std::vector<std::uint8_t> shuffled, packed;

  int deflate_rows(const h5::Dataset& d, const std::string& p, std::size_t n) {
    auto it = row_deflate.find(p);
    if (it != row_deflate.end()) return it->second;
    int level = -1;
    const auto f = d.filters();
    if (f.size() == 2 && f[0].id == H5Z_FILTER_SHUFFLE && f[1].id == H5Z_FILTER_DEFLATE && !f[1].cd_values.empty() &&
        d.chunk_shape() == std::vector<std::size_t>{1, n} && d.stored_as_native_doubles()) {
      level = static_cast<int>(f[1].cd_values[0]);
    }
    return row_deflate[p] = level;
  }

  void append_row(const std::string& p, std::size_t row, const std::vector<double>& values, std::size_t n) {
    h5::Dataset d = ds(p);
    std::vector<double> buf = values;
    if (buf.empty()) buf.assign(n, kNaN);
    if (buf.size() != n) {
      throw InvalidArgument("NexusResultWriter '" + path + "': " + p + " takes " + std::to_string(n) + " values per frame, got " +
                            std::to_string(buf.size()));
    }
    d.resize({row + 1, n});
    if (const int level = deflate_rows(d, p, n); level >= 0) {
      // The row is one chunk: shuffle and deflate it here (libdeflate, several times zlib's speed, which HDF5's
      // own filter would use) and store it as it is, the same bytes a reader's filters undo.
      const std::size_t bytes = n * sizeof(double);
      shuffled.resize(bytes);
      detail::chunk::shuffle(reinterpret_cast<const std::uint8_t*>(buf.data()), shuffled.data(), bytes, sizeof(double));
      detail::chunk::deflate_zlib(shuffled.data(), bytes, level, packed);
      d.write_raw_chunk({row, 0}, packed.data(), packed.size());
    } else {
      d.write_slab({row, 0}, {1, n}, H5T_NATIVE_DOUBLE, buf.data());
    }
    d.close();  // checked: a close that fails must fail the append, not vanish in a destructor
  }

  void append_value(const std::string& p, std::size_t row, double v) {
    h5::Dataset d = ds(p);
    d.resize({row + 1});
    d.write_slab({row}, {1}, H5T_NATIVE_DOUBLE, &v);
    d.close();
  }
};

NexusResultWriter::NexusResultWriter(const std::string& path, const NexusResultInfo& info, bool overwrite)
    : impl_(std::make_unique<Impl>()) {
  info.validate();
  impl_->path = path;
  impl_->info = info;
  std::error_code ec;
  if (fs::exists(path, ec) && !overwrite) {
    impl_->resume();
    detail::logger().info("'{}': resuming after {} frame(s)", path, impl_->indices.size());
  } else {
    impl_->create(overwrite);
  }
}

NexusResultWriter::~NexusResultWriter() {
  if (!impl_) return;
  try {
    close();
  } catch (const std::exception& e) {
    detail::logger().error("closing '{}' failed: {}", impl_->path, e.what());
  }
}
NexusResultWriter::NexusResultWriter(NexusResultWriter&&) noexcept = default;
NexusResultWriter& NexusResultWriter::operator=(NexusResultWriter&&) noexcept = default;

const std::string& NexusResultWriter::path() const { return impl_->path; }
bool NexusResultWriter::resumed() const { return impl_->resumed; }
std::size_t NexusResultWriter::frames() const { return impl_->indices.size(); }
const std::vector<std::size_t>& NexusResultWriter::frame_indices() const { return impl_->indices; }
bool NexusResultWriter::has_frame(std::size_t source_index) const { return impl_->index_set.count(source_index) > 0; }

void NexusResultWriter::append(std::size_t source_index, const Result1D& pattern, double temperature_K,
                               const PdfFrame* pdf, const std::vector<double>* metrics) {
  const auto& info = impl_->info;
  if (pattern.radial.size() != info.radial.size()) {
    throw InvalidArgument("NexusResultWriter '" + impl_->path + "': the pattern has " +
                          std::to_string(pattern.radial.size()) + " bins, the file " +
                          std::to_string(info.radial.size()));
  }
  for (std::size_t i = 0; i < info.radial.size(); ++i) {
    // Patterns from another plan would be written under the wrong axis; compare to 1e-12 relative.
    if (std::fabs(pattern.radial[i] - info.radial[i]) > 1e-12 * std::max(1.0, std::fabs(info.radial[i]))) {
      throw InvalidArgument("NexusResultWriter '" + impl_->path + "': bin " + std::to_string(i) + " of the pattern is at " +
                            exact(pattern.radial[i]) + ", the file's at " + exact(info.radial[i]));
    }
  }
  append(source_index, pattern.intensity, pattern.sigma, temperature_K, pdf, metrics);
}

void NexusResultWriter::append(std::size_t source_index, const std::vector<double>& intensity,
                               const std::vector<double>& sigma, double temperature_K, const PdfFrame* pdf,
                               const std::vector<double>* metrics) {
  Impl& m = *impl_;
  if (!m.failure.empty()) {
    throw IoError("NexusResultWriter '" + m.path + "': an earlier append failed (" + m.failure +
                  "); the file keeps the " + std::to_string(m.indices.size()) +
                  " frame(s) before it; open it again to resume");
  }
  if (!m.file) throw InvalidArgument("NexusResultWriter '" + m.path + "' is closed");
  if (m.index_set.count(source_index)) {
    throw InvalidArgument("NexusResultWriter '" + m.path + "': frame " + std::to_string(source_index) +
                          " is already in the file (check has_frame() to skip finished frames)");
  }
  if (m.info.with_pdf && !pdf) {
    throw InvalidArgument("NexusResultWriter '" + m.path + "': the file has a pdf part; frame " +
                          std::to_string(source_index) + " needs its S(q), F(q), G(r)");
  }
  if (intensity.empty()) throw InvalidArgument("NexusResultWriter '" + m.path + "': empty intensity");
  const std::size_t nm = m.info.metric_names.size();
  if (nm > 0 && (!metrics || metrics->size() != nm)) {
    throw InvalidArgument("NexusResultWriter '" + m.path + "': the file has " + std::to_string(nm) +
                          " metrics per frame; frame " + std::to_string(source_index) + " gives " +
                          std::to_string(metrics ? metrics->size() : 0));
  }
  const std::size_t row = m.indices.size();
  const std::size_t n = m.info.radial.size();
  if (intensity.size() != n) {
    throw InvalidArgument("NexusResultWriter '" + m.path + "': I takes " + std::to_string(n) + " values, got " +
                          std::to_string(intensity.size()));
  }
  if (m.info.with_pdf && pdf) {
    // Checked before anything is written: a frame must not fail half-way for a caller's mistake.
    const std::size_t nq = m.info.pdf_q.size(), nr = m.info.pdf_r.size();
    const std::pair<const std::vector<double>*, std::size_t> parts[] = {
        {&pdf->sq, nq}, {&pdf->sq_sigma, nq}, {&pdf->fq, nq}, {&pdf->fq_sigma, nq}, {&pdf->gr, nr}, {&pdf->gr_sigma, nr}};
    for (const auto& [v, len] : parts) {
      if (!v->empty() && v->size() != len) {
        throw InvalidArgument("NexusResultWriter '" + m.path + "': frame " + std::to_string(source_index) +
                              ": a pdf array has " + std::to_string(v->size()) + " values, expected " +
                              std::to_string(len) + " (the file's pdf_q or pdf_r)");
      }
    }
  }
  if (!sigma.empty() && sigma.size() != n) {
    throw InvalidArgument("NexusResultWriter '" + m.path + "': I_errors takes " + std::to_string(n) +
                          " values, got " + std::to_string(sigma.size()));
  }
  h5::ApiGuard guard;  // one HDF5 user at a time for the whole frame
  m.check_file_size_limit(source_index, row);  // nothing written yet: the writer stays usable
  m.check_path(source_index);
  m.reserve_space(source_index, row);          // nothing written yet: the writer stays usable
  try {
    m.write_frame(source_index, row, n, intensity, sigma, temperature_K, pdf, metrics);
  } catch (const Error& e) {
    // Everything is validated above, so this is the file failing (disk full, I/O error). The frames
    // before stay as the last flush wrote them; this writer stops.
    m.fail(e.what());
    throw IoError("cannot append frame " + std::to_string(source_index) + " to '" + m.path + "' (the " +
                  std::to_string(row) + " frame(s) before it are kept; run again to resume): " + e.what());
  }
  m.indices.push_back(source_index);
  m.index_set.insert(source_index);
}

// One frame's rows, the commit record (frame_index) last, then the flush that makes them durable.
void NexusResultWriter::Impl::write_frame(std::size_t source_index, std::size_t row, std::size_t n,
                                          const std::vector<double>& intensity, const std::vector<double>& sigma,
                                          double temperature_K, const PdfFrame* pdf,
                                          const std::vector<double>* metrics) {
  Impl& m = *this;
  const std::size_t nm = m.info.metric_names.size();
  m.append_row("/entry/integrated/I", row, intensity, n);
  m.append_row("/entry/integrated/I_errors", row, sigma, n);
  m.append_value("/entry/sample/temperature", row, temperature_K);
  if (m.info.with_pdf && pdf) {
    const std::size_t nq = m.info.pdf_q.size(), nr = m.info.pdf_r.size();
    m.append_row("/entry/pdf/sq/S", row, pdf->sq, nq);
    m.append_row("/entry/pdf/sq/S_errors", row, pdf->sq_sigma, nq);
    m.append_row("/entry/pdf/fq/F", row, pdf->fq, nq);
    m.append_row("/entry/pdf/fq/F_errors", row, pdf->fq_sigma, nq);
    m.append_row("/entry/pdf/gr/G", row, pdf->gr, nr);
    m.append_row("/entry/pdf/gr/G_errors", row, pdf->gr_sigma, nr);
    m.append_value("/entry/pdf/alpha", row, pdf->alpha);
    m.append_value("/entry/pdf/number_density", row, pdf->number_density);
    m.append_value("/entry/pdf/background_scale", row, pdf->background_scale);
  }
  for (std::size_t k = 0; k < nm; ++k) {
    m.append_value(std::string(kMetrics) + "/" + m.info.metric_names[k], row, (*metrics)[k]);
  }
  // The commit record, last.
  h5::Dataset idx = m.ds("/entry/integrated/frame_index");
  idx.resize({row + 1});
  const std::int64_t v = static_cast<std::int64_t>(source_index);
  idx.write_slab({row}, {1}, H5T_NATIVE_INT64, &v);
  idx.close();
  m.file->flush();
}

std::vector<double> NexusResultWriter::stored_metrics() const {
  const Impl& m = *impl_;
  const std::size_t n = m.indices.size(), nm = m.info.metric_names.size();
  std::vector<double> out(n * nm, kNaN);
  if (!m.file || n == 0) return out;
  h5::ApiGuard guard;
  for (std::size_t k = 0; k < nm; ++k) {
    const auto v = m.ds(std::string(kMetrics) + "/" + m.info.metric_names[k]).read_doubles({0}, {n});
    for (std::size_t i = 0; i < n; ++i) out[i * nm + k] = v[i];
  }
  return out;
}

std::vector<double> NexusResultWriter::stored_temperatures() const {
  const Impl& m = *impl_;
  const std::size_t n = m.indices.size();
  if (!m.file || n == 0) return std::vector<double>(n, kNaN);
  h5::ApiGuard guard;
  return m.ds("/entry/sample/temperature").read_doubles({0}, {n});
}

void NexusResultWriter::close() {
  if (!impl_ || !impl_->file) return;
  {
    h5::ApiGuard guard;
    impl_->check_path(Impl::kNoFrame);
  }
  try {
    impl_->file->close();  // flushes; reports errors of the last flush and of the close itself
  } catch (const Error& e) {
    impl_->fail(e.what());
    throw;
  }
  impl_->file.reset();
}

// ---------------------------------------------------------------------------------------------------
bool is_nexus_result(const std::string& path) {
  if (!is_hdf5_file(path)) return false;
  try {
    const auto f = h5::File::open(path);
    return f.object_type("/entry/definition") == h5::ObjectType::dataset &&
           f.open_dataset("/entry/definition").read_string() == "NXazint1d" &&
           f.object_type("/entry/integrated/I") == h5::ObjectType::dataset;
  } catch (const Error&) {
    return false;
  }
}

NexusResult read_nexus_result(const std::string& path) {
  const auto f = h5::File::open(path);
  NexusResult r;
  r.path = path;
  auto text = [&](const std::string& p) {
    return f.object_type(p) == h5::ObjectType::dataset ? f.open_dataset(p).read_string() : std::string();
  };
  auto params = [&](const std::string& g) {
    std::vector<Parameter> out;
    if (f.object_type(g) != h5::ObjectType::group) return out;
    const h5::Group grp = f.open_group(g);
    for (const std::string& name : grp.member_names()) {
      if (grp.object_type(name) != h5::ObjectType::dataset) continue;
      const h5::Dataset d = grp.open_dataset(name);
      try {
        out.emplace_back(name, d.read_string());
      } catch (const IoError&) {
        const auto v = d.read_doubles();
        out.emplace_back(name, v.size() == 1 ? exact(v[0]) : std::to_string(v.size()) + " values");
      }
    }
    return out;
  };
  if (text("/entry/definition") != "NXazint1d") {
    throw IoError("HDF5 file '" + path + "': /entry/definition is not 'NXazint1d'; expected a libpdf result file");
  }
  r.title = text("/entry/title");
  r.program = text("/entry/reduction/program");
  r.version = text("/entry/reduction/version");
  r.date = text("/entry/reduction/date");
  r.poni_text = text("/entry/reduction/input/poni");
  r.parameters = params("/entry/reduction/input");
  r.wavelength_A = f.open_dataset("/entry/instrument/monochromator/wavelength").read_doubles().at(0);
  const h5::Dataset ax = f.open_dataset("/entry/integrated/radial_axis");
  r.radial = ax.read_doubles();
  r.radial_edges = f.open_dataset("/entry/integrated/radial_axis_edges").read_doubles();
  const std::string units = ax.string_attribute_or_none("units").value_or("");
  r.unit = units == "1/nm" ? RadialUnit::q_nm : units == "degrees" ? RadialUnit::tth_deg
                                              : units == "mm"      ? RadialUnit::r_mm
                                                                   : RadialUnit::q_A;
  for (long long v : f.open_dataset("/entry/integrated/frame_index").read_int64s()) {
    r.frame_index.push_back(static_cast<std::size_t>(v));
  }
  r.frames = r.frame_index.size();
  // Read exactly the committed rows (an interrupted frame may have left one more row elsewhere).
  auto rows = [&](const std::string& p, std::size_t n) {
    const h5::Dataset d = f.open_dataset(p);
    const auto shape = d.shape();
    if (shape.empty() || shape[0] < r.frames) {
      throw IoError(d.where() + " holds fewer rows than /entry/integrated/frame_index (" + std::to_string(r.frames) +
                    "); expected one row per frame");
    }
    if (r.frames == 0) return std::vector<double>{};
    if (shape.size() == 1) return d.read_doubles({0}, {r.frames});
    return d.read_doubles({0, 0}, {r.frames, n});
  };
  r.intensity = rows("/entry/integrated/I", r.radial.size());
  r.sigma = rows("/entry/integrated/I_errors", r.radial.size());
  r.temperature_K = rows("/entry/sample/temperature", 1);
  r.sample_name = text("/entry/sample/name");
  r.chemical_formula = text("/entry/sample/chemical_formula");
  r.has_pdf = f.object_type(kPdf) == h5::ObjectType::group;
  if (r.has_pdf) {
    r.pdf_parameters = params("/entry/pdf/parameters");
    r.pdf_q = f.open_dataset("/entry/pdf/sq/q").read_doubles();
    r.pdf_r = f.open_dataset("/entry/pdf/gr/r").read_doubles();
    r.sq = rows("/entry/pdf/sq/S", r.pdf_q.size());
    r.sq_sigma = rows("/entry/pdf/sq/S_errors", r.pdf_q.size());
    r.fq = rows("/entry/pdf/fq/F", r.pdf_q.size());
    r.fq_sigma = rows("/entry/pdf/fq/F_errors", r.pdf_q.size());
    r.gr = rows("/entry/pdf/gr/G", r.pdf_r.size());
    r.gr_sigma = rows("/entry/pdf/gr/G_errors", r.pdf_r.size());
    r.alpha = rows("/entry/pdf/alpha", 1);
    r.number_density = rows("/entry/pdf/number_density", 1);
    r.background_scale = rows("/entry/pdf/background_scale", 1);
  }
  r.recipe_text = text("/entry/reduction/input/recipe");
  if (f.object_type(kMetrics) == h5::ObjectType::group) {
    const h5::Group g = f.open_group(kMetrics);
    const std::string columns = g.string_attribute_or_none("columns").value_or("");
    std::size_t start = 0;
    while (start < columns.size()) {
      const auto c = columns.find(',', start);
      r.metric_names.push_back(columns.substr(start, c == std::string::npos ? std::string::npos : c - start));
      if (c == std::string::npos) break;
      start = c + 1;
    }
    const std::size_t nm = r.metric_names.size();
    r.metrics.assign(r.frames * nm, kNaN);
    for (std::size_t k = 0; k < nm; ++k) {
      const auto v = rows(std::string(kMetrics) + "/" + r.metric_names[k], 1);
      for (std::size_t i = 0; i < r.frames; ++i) r.metrics[i * nm + k] = v[i];
    }
    r.metrics_parameters = params(std::string(kMetrics) + "/parameters");
  }
  return r;
}

}  // namespace libpdf
