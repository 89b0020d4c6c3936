// `pdfreduce metrics`: structure metrics (libpdf/metrics.hpp; definitions in docs/metrics.md) of a `.gr` file, a
// `.sq` file, both, or the frames of a result file (.h5, NXazint1d with a `pdf` part).
//
// Output: for one frame `key value sigma` lines (plain) or one JSON object; for several frames of a result file
// a CSV table `frame,temperature_K,<metric names>` (the same columns as the series table, so that `pdfreduce
// onset` reads it) or a JSON array. Exit 0 / 1 input error / 2 usage error (main.cpp).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/metrics.hpp"
#include "libpdf/nexus.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/version.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"
#include "pdfreduce/json.hpp"

namespace pdfreduce {
namespace {

struct MetricsArgs {
  std::string file;
  std::string sq_file;
  std::string reference_file;
  bool json = false;
  std::string mro_window, q1_window, r1_window;
  std::string cn_method = "first-minimum";
  std::optional<long long> frame;
  bool all = false;
  std::optional<double> number_density;
  std::optional<long long> reference_frame;
  std::vector<double> watch;
  std::optional<double> watch_halfwidth;
  std::optional<double> sq_maxima_qmax;
};

std::string lower_extension(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const auto dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string e = path.substr(dot + 1);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return e;
}

enum class FileKind { gr, sq, result };

FileKind kind_of(const std::string& path) {
  const std::string e = lower_extension(path);
  if (e == "h5" || e == "hdf5" || e == "nxs" || e == "nx5") return FileKind::result;
  if (e == "sq") return FileKind::sq;
  if (e == "gr") return FileKind::gr;
  if (libpdf::is_nexus_result(path)) return FileKind::result;
  throw libpdf::InvalidArgument("cannot tell what '" + path +
                                "' holds from its extension (expected .gr for G(r), .sq for S(q) or .h5 for a "
                                "result file)");
}

// The number density from a PDFgetX3-style header ("number_density = 0.0335 atoms/A^3"), when there is one.
std::optional<double> header_density(const libpdf::TextPattern& p) {
  for (const auto& [k, v] : p.metadata) {
    if (k == "number_density" || k == "numberdensity" || k == "rho0") {
      char* end = nullptr;
      const double x = std::strtod(v.c_str(), &end);
      if (end != v.c_str() && std::isfinite(x) && x > 0) return x;
    }
  }
  return std::nullopt;
}

// σ columns of a result file are NaN when unknown: then none.
std::vector<double> sigma_or_empty(std::vector<double> s) {
  for (double v : s)
    if (!std::isfinite(v)) return {};
  return s;
}

std::vector<double> row(const std::vector<double>& all, std::size_t frame, std::size_t n) {
  if (all.size() < (frame + 1) * n) return {};
  return std::vector<double>(all.begin() + static_cast<std::ptrdiff_t>(frame * n),
                             all.begin() + static_cast<std::ptrdiff_t>((frame + 1) * n));
}

// One frame of a result file; S(q) from q > 0 (q = 0 is the extrapolated origin) or from pdf/parameters qmin.
libpdf::MetricsInput result_frame(const libpdf::NexusResult& res, std::size_t f) {
  libpdf::MetricsInput in;
  double qmin = 0;
  for (const auto& [k, v] : res.pdf_parameters) {
    if (k == "qmin") qmin = std::strtod(v.c_str(), nullptr);
  }
  const std::size_t nq = res.pdf_q.size(), nr = res.pdf_r.size();
  const auto sq = row(res.sq, f, nq);
  const auto ss = sigma_or_empty(row(res.sq_sigma, f, nq));
  for (std::size_t j = 0; j < nq && j < sq.size(); ++j) {
    if (!(res.pdf_q[j] > 0) || res.pdf_q[j] < qmin) continue;
    in.q.push_back(res.pdf_q[j]);
    in.sq.push_back(sq[j]);
    if (!ss.empty()) in.sq_sigma.push_back(ss[j]);
  }
  in.r = res.pdf_r;
  in.gr = row(res.gr, f, nr);
  in.gr_sigma = sigma_or_empty(row(res.gr_sigma, f, nr));
  if (f < res.number_density.size() && std::isfinite(res.number_density[f]) && res.number_density[f] > 0) {
    in.number_density = res.number_density[f];
  }
  return in;
}

std::string number_text(double v) { return std::isfinite(v) ? strprintf("%.10g", v) : std::string("nan"); }

void run_metrics(const MetricsArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  libpdf::MetricsOptions opt;
  if (!a.q1_window.empty()) {
    const auto r = parse_range(a.q1_window);
    opt.q1_min = r.lo;
    opt.q1_max = r.hi;
  }
  if (!a.r1_window.empty()) {
    const auto r = parse_range(a.r1_window);
    opt.r1_min = r.lo;
    opt.r1_max = r.hi;
  }
  if (!a.mro_window.empty()) {
    const auto r = parse_range(a.mro_window);
    opt.mro_rmin = r.lo;
    opt.mro_rmax = r.hi;
  }
  opt.cn_method = libpdf::parse_coordination_method(a.cn_method);
  if (!a.watch.empty()) opt.watch_q = a.watch;
  if (a.watch_halfwidth) opt.watch_halfwidth = *a.watch_halfwidth;
  if (a.sq_maxima_qmax) opt.sq_maxima_qmax = *a.sq_maxima_qmax;
  opt.validate();

  struct Frame {
    std::size_t index = 0;
    double temperature_K = std::nan("");
    libpdf::MetricsInput input;
  };
  std::vector<Frame> frames;
  std::optional<libpdf::MetricsInput> reference;
  bool many = false;

  const FileKind kind = kind_of(a.file);
  if (kind == FileKind::result) {
    if (!a.sq_file.empty()) throw libpdf::InvalidArgument("--sq goes with a .gr file, not with a result file");
    const libpdf::NexusResult res = libpdf::read_nexus_result(a.file);
    if (!res.has_pdf) {
      throw libpdf::InvalidArgument("'" + a.file +
                                    "' has no pdf part (/entry/pdf): reduce to S(q) and G(r) first (pdfreduce pdf "
                                    "or the series pipeline)");
    }
    if (res.frames == 0) throw libpdf::InvalidArgument("'" + a.file + "' holds no frames");
    auto check_index = [&](long long i, const char* what) {
      if (i < 0 || static_cast<std::size_t>(i) >= res.frames) {
        throw libpdf::InvalidArgument(std::string(what) + " " + std::to_string(i) + " is out of range: '" + a.file +
                                      "' holds frames 0.." + std::to_string(res.frames - 1));
      }
      return static_cast<std::size_t>(i);
    };
    std::vector<std::size_t> which;
    if (a.frame) {
      which.push_back(check_index(*a.frame, "--frame"));
    } else {
      for (std::size_t f = 0; f < res.frames; ++f) which.push_back(f);
      many = true;
    }
    for (auto f : which) {
      Frame fr;
      fr.index = f < res.frame_index.size() ? res.frame_index[f] : f;
      fr.temperature_K = f < res.temperature_K.size() ? res.temperature_K[f] : std::nan("");
      fr.input = result_frame(res, f);
      if (a.number_density) fr.input.number_density = *a.number_density;
      frames.push_back(std::move(fr));
    }
    if (a.reference_frame) reference = result_frame(res, check_index(*a.reference_frame, "--reference-frame"));
  } else {
    if (a.frame && *a.frame != 0) throw libpdf::InvalidArgument("--frame applies to result files only");
    if (a.reference_frame)
      throw libpdf::InvalidArgument("--reference-frame applies to result files; use --reference FILE.sq");
    Frame fr;
    auto read_sq = [](const std::string& path, libpdf::MetricsInput& in) {
      const auto p = libpdf::read_text_pattern(path);
      in.q = p.x;
      in.sq = p.y;
      in.sq_sigma = p.sigma;
    };
    if (kind == FileKind::sq) {
      if (!a.sq_file.empty()) throw libpdf::InvalidArgument("--sq goes with a .gr file; FILE is already S(q)");
      read_sq(a.file, fr.input);
    } else {
      const auto p = libpdf::read_text_pattern(a.file);
      fr.input.r = p.x;
      fr.input.gr = p.y;
      fr.input.gr_sigma = p.sigma;
      fr.input.number_density = header_density(p);
      if (!a.sq_file.empty()) read_sq(a.sq_file, fr.input);
    }
    if (a.number_density) fr.input.number_density = *a.number_density;
    if (!fr.input.r.empty() && !fr.input.number_density) {
      report.detail("no number density (--number-density or a 'number_density' header line): cn1 is not computed");
    }
    frames.push_back(std::move(fr));
  }
  if (!a.reference_file.empty()) {
    if (reference) throw libpdf::InvalidArgument("give --reference or --reference-frame, not both");
    libpdf::MetricsInput ref;
    const auto p = libpdf::read_text_pattern(a.reference_file);
    ref.q = p.x;
    ref.sq = p.y;
    ref.sq_sigma = p.sigma;
    reference = std::move(ref);
  }

  const auto names = libpdf::metric_names(opt);
  std::vector<std::vector<std::pair<std::string, double>>> tables;
  for (const auto& fr : frames) {
    try {
      tables.push_back(
          libpdf::metrics_table(libpdf::compute_metrics(fr.input, opt, reference ? &*reference : nullptr)));
    } catch (const libpdf::NumericalError& e) {
      // In a table of many frames one frame without a peak must not lose the others: NaN row and a warning.
      if (!many) throw;
      report.warn("frame " + std::to_string(fr.index) + ": " + e.what());
      std::vector<std::pair<std::string, double>> empty;
      for (const auto& n : names) empty.emplace_back(n, std::nan(""));
      tables.push_back(std::move(empty));
    }
  }

  if (a.json) {
    std::vector<std::string> objects;
    for (std::size_t k = 0; k < frames.size(); ++k) {
      JsonObject o;
      o.text("file", a.file);
      if (kind == FileKind::result) {
        o.number("frame", static_cast<double>(frames[k].index));
        o.number("temperature_K", frames[k].temperature_K);
      }
      for (const auto& [key, v] : tables[k]) o.number(key, v);
      o.text("cn_method", libpdf::coordination_method_name(opt.cn_method));
      o.raw("watch_q", [&] {
        std::string s = "[";
        for (std::size_t i = 0; i < opt.watch_q.size(); ++i) s += (i ? ", " : "") + strprintf("%.10g", opt.watch_q[i]);
        return s + "]";
      }());
      o.text("libpdf_version", libpdf::version());
      objects.push_back(o.str(many ? 4 : 2));
    }
    std::cout << (many ? JsonObject::raw_list(objects) : objects.front()) << '\n';
    return;
  }
  if (many) {
    std::ostringstream out;
    out << "# pdfreduce metrics of " << a.file << " (libpdf " << libpdf::version() << "); cn_method "
        << libpdf::coordination_method_name(opt.cn_method) << "; watch1.. = watch_q";
    for (double w : opt.watch_q) out << ' ' << w;
    out << " 1/A\nframe,temperature_K";
    for (const auto& n : names) out << ',' << n;
    out << '\n';
    for (std::size_t k = 0; k < frames.size(); ++k) {
      out << frames[k].index << ',' << number_text(frames[k].temperature_K);
      for (const auto& [key, v] : tables[k]) out << ',' << number_text(v);
      out << '\n';
    }
    std::cout << out.str();
    return;
  }
  // One frame: `key value sigma`.
  std::ostringstream out;
  const auto& t = tables.front();
  for (std::size_t i = 0; i + 1 < t.size(); i += 2) {
    out << t[i].first << ' ' << number_text(t[i].second) << ' ' << number_text(t[i + 1].second) << '\n';
  }
  std::cout << out.str();
}

}  // namespace

Command add_metrics_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<MetricsArgs>();
  CLI::App* app = parent.add_subcommand(
      "metrics",
      "Structure metrics of S(q) and G(r): first S(q) peak (q1, height, FWHM, coherence length L = 2 pi/FWHM), "
      "S(q) maxima 2-4, first G(r) peak (r1, height, FWHM), coordination number cn1, medium-range order in a G(r) "
      "window (RMS and peak-to-peak amplitude, envelope fit A exp(-r/xi) sin(Qm r + phi)) and watched positions "
      "where new S(q) peaks appear. Definitions: docs/metrics.md.");
  app->footer(
      "FILE: a .gr (G(r): r, G[, sigma]; a 'number_density = ...' header line gives rho0 for cn1), a .sq (S(q) "
      "metrics only) or a result .h5 (NXazint1d with a pdf part: every frame, or --frame N).\n"
      "Output: one frame as 'key value sigma' lines (nan = not available), several frames as a CSV table "
      "frame,temperature_K,<keys> (value and <key>_sigma columns; readable by 'pdfreduce onset'); --json an "
      "object or an array of objects.\n"
      "Examples:\n"
      "  pdfreduce metrics sample.gr --sq sample.sq --number-density 0.0335\n"
      "  pdfreduce metrics series_result.h5 > metrics.csv\n"
      "  pdfreduce metrics series_result.h5 --frame 20 --reference-frame 0 --json");
  auto& a = *args;
  app->add_option("FILE", a.file, "A .gr, .sq or result .h5 file")->required()->type_name("FILE");
  app->add_option("--sq", a.sq_file, "S(q) file (.sq) of the same frame, with a .gr FILE")->type_name("FILE");
  app->add_flag("--json", a.json, "Print JSON (an object, or an array for several frames)");
  app->add_option("--mro-window", a.mro_window, "MRO window of G(r) in A (default 5:17)")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--q1-window", a.q1_window, "Search window of the first S(q) peak in 1/A (default 1:4)")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--r1-window", a.r1_window, "Search window of the first G(r) peak in A (default 2:5)")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--cn-method", a.cn_method,
                  "cn1 integration: first-minimum (RDF from its last zero below r1 to its first minimum after r1) "
                  "or symmetric (twice the integral up to r1)")
      ->capture_default_str()
      ->check(CLI::IsMember({"first-minimum", "symmetric"}));
  auto* frame =
      app->add_option("--frame", a.frame, "Frame (row) of a result file; default: all frames")->type_name("N");
  app->add_flag("--all", a.all, "All frames of a result file (the default)")->excludes(frame);
  app->add_option("--number-density", a.number_density, "rho0 in atoms/A^3 for cn1 (overrides the file's)")
      ->check(positive_number());
  app->add_option("--reference-frame", a.reference_frame,
                  "Frame of the result file whose S(q) is the reference of the watched-peak excess")
      ->type_name("N");
  app->add_option("--reference", a.reference_file, "S(q) file (.sq) as the reference of the watched-peak excess")
      ->type_name("FILE");
  app->add_option("--watch", a.watch, "Watched S(q) positions in 1/A (watch1, watch2, ...; default 4.46)")
      ->delimiter(',')
      ->type_name("Q[,Q...]");
  app->add_option("--watch-halfwidth", a.watch_halfwidth, "Half-width h of each watch window in 1/A (default 0.15)")
      ->check(positive_number());
  app->add_option("--sq-maxima-qmax", a.sq_maxima_qmax, "S(q) maxima 2-4 are searched below this q in 1/A (default 12)")
      ->check(positive_number());
  return Command{app, [args, &global] { run_metrics(*args, global); }};
}

}  // namespace pdfreduce
