// `pdfreduce plot`: PNG figures through gnuplot (Debian gnuplot-nox; the `pngcairo` terminal, else `png`).
//
//   pdfreduce plot RESULT.h5 --out DIR [--frame N]   → iq.png, sq.png, gr.png of a frame; with several frames
//                                                      also sq_map.png and gr_map.png (temperature or frame on y,
//                                                      q or r on x, colour = S or G; cf. Yang et al. 2022 Fig. 4)
//   pdfreduce plot TABLE.csv --metric A[,B] --out DIR → A.png, B.png: the metric against temperature with error
//                                                      bars, the hinge fit (both segments) and its onset (vertical
//                                                      line, shaded ±σ)
//   pdfreduce plot FILE.gr|FILE.sq --out DIR          → gr.png or sq.png
//
// Data and script go to a private temporary folder; gnuplot renders each figure to a temporary name in DIR that
// is renamed into place, so a figure is either complete or absent.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
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
#include "pdfreduce/plot.hpp"
#include "pdfreduce/plot_data.hpp"

extern char** environ;

namespace pdfreduce {
namespace {

namespace fs = std::filesystem;

struct PlotArgs {
  std::string file;
  std::string out = ".";
  std::optional<long long> frame;
  std::vector<std::string> metrics;
  std::string x = "temperature_K";
  std::string range;
  std::string gnuplot = "gnuplot";
  int width = 1000, height = 700;
};

// A temporary folder removed on scope exit.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/pdfreduce-plot-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      throw libpdf::IoError("cannot create a temporary folder from '" + tmpl + "': " + std::strerror(errno));
    }
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The gnuplot executable: @p name itself when it holds a '/', else the first match on PATH.
std::string find_gnuplot(const std::string& name) {
  auto executable = [](const std::string& p) { return ::access(p.c_str(), X_OK) == 0 && !fs::is_directory(p); };
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
  } else if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    std::string d;
    while (std::getline(dirs, d, ':')) {
      const std::string p = (d.empty() ? std::string(".") : d) + "/" + name;
      if (executable(p)) return p;
    }
  }
  throw libpdf::IoError("gnuplot ('" + name +
                        "') was not found: pdfreduce plot draws with gnuplot; install the Debian package gnuplot-nox "
                        "(apt-get install gnuplot-nox) or give its path with --gnuplot");
}

// Runs gnuplot on @p script without a shell; stderr goes to @p log. Returns the exit status.
int run_gnuplot(const std::string& exe, const std::string& script, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> argv = {const_cast<char*>(exe.c_str()), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, exe.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw libpdf::IoError("cannot start gnuplot '" + exe + "': " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw libpdf::IoError(std::string("waiting for gnuplot failed: ") + std::strerror(errno));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string read_all(const std::string& path) {
  std::ifstream f(path);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// gnuplot string literal (single quotes; a quote is doubled).
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

class Plotter {
 public:
  Plotter(const PlotArgs& a, const Reporter& report) : args_(a), report_(report), exe_(find_gnuplot(a.gnuplot)) {
    fs::create_directories(a.out);
    // pngcairo (antialiased, UTF-8 labels) when this gnuplot has it, else the libgd png terminal.
    const std::string probe = tmp_.path() + "/probe.gp";
    write(probe, "set terminal pngcairo\n");
    terminal_ = run_gnuplot(exe_, probe, tmp_.path() + "/probe.log") == 0 ? "pngcairo" : "png";
    report_.detail("gnuplot: " + exe_ + ", terminal " + terminal_);
  }

  std::string data_file(const std::string& name) const { return tmp_.path() + "/" + name; }

  void write(const std::string& path, const std::string& text) const {
    std::ofstream f(path);
    f << text;
    if (!f) throw libpdf::IoError("cannot write '" + path + "'");
  }

  // Renders @p body (everything after the terminal and output lines) to DIR/name atomically.
  void render(const std::string& name, const std::string& body) {
    const fs::path final_path = fs::path(args_.out) / name;
    const fs::path temp_path = fs::path(args_.out) / ("." + name + ".tmp." + std::to_string(::getpid()));
    std::ostringstream s;
    s << "set terminal " << terminal_ << " size " << args_.width << "," << args_.height
      << (terminal_ == "pngcairo" ? " enhanced font 'Sans,11'" : "") << "\n";
    s << "set output " << quoted(temp_path.string()) << "\n";
    // Every output names the libpdf that made it: a small footnote in the corner.
    s << "set encoding utf8\nset grid lc rgb '#dddddd'\n"
      << "set label 99 " << quoted(std::string("libpdf ") + libpdf::version())
      << " at screen 0.995, screen 0.01 right front textcolor rgb '#999999' font ',8' noenhanced\n"
      << body << "\nunset output\n";
    const std::string script = tmp_.path() + "/" + name + ".gp";
    write(script, s.str());
    const std::string log = tmp_.path() + "/" + name + ".log";
    const int rc = run_gnuplot(exe_, script, log);
    std::error_code ec;
    if (rc != 0 || !fs::exists(temp_path) || fs::file_size(temp_path, ec) == 0) {
      fs::remove(temp_path, ec);
      throw libpdf::IoError("gnuplot failed on " + name + " (exit " + std::to_string(rc) + "): " + read_all(log));
    }
    fs::rename(temp_path, final_path);
    report_.info("wrote " + final_path.string());
  }

 private:
  const PlotArgs& args_;
  const Reporter& report_;
  TempDir tmp_;
  std::string exe_;
  std::string terminal_;
};

std::string columns(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& s = {}) {
  std::ostringstream o;
  for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    o << strprintf("%.10g %.10g", x[i], y[i]);
    if (!s.empty()) o << strprintf(" %.10g", std::isfinite(s[i]) ? s[i] : 0.0);
    o << '\n';
  }
  return o.str();
}

// A line plot of one curve, with a σ band when known.
void curve_plot(Plotter& p, const std::string& name, const std::string& title, const std::string& xlabel,
                const std::string& ylabel, const std::vector<double>& x, const std::vector<double>& y,
                const std::vector<double>& s, bool zero_line) {
  bool with_sigma = !s.empty();
  for (double v : s) with_sigma = with_sigma && std::isfinite(v);
  const std::string data = p.data_file(name + ".dat");
  p.write(data, columns(x, y, with_sigma ? s : std::vector<double>{}));
  std::ostringstream b;
  b << "set title " << quoted(title) << " noenhanced\nset xlabel " << quoted(xlabel) << "\nset ylabel "
    << quoted(ylabel) << "\nset key top right\n";
  if (zero_line) b << "set xzeroaxis lt -1 lc rgb '#888888'\n";
  b << "plot ";
  if (with_sigma)
    b << quoted(data)
      << " using 1:($2-$3):($2+$3) with filledcurves fc rgb '#a0c0ff' fs transparent solid 0.5 title '±σ', ";
  b << quoted(data) << " using 1:2 with lines lw 1.5 lc rgb '#1f4e9c' title " << quoted(ylabel);
  p.render(name, b.str());
}

// A temperature (or frame) map: x on the abscissa, one row per frame, colour = value (pm3d, which allows an
// irregular temperature spacing). At most 1200 x points per row (every k-th) keep the figure light.
void map_plot(Plotter& p, const std::string& name, const std::string& title, const std::string& xlabel,
              const std::string& ylabel, const std::string& cblabel, const std::vector<double>& x,
              const std::vector<double>& all, const std::vector<double>& yvals, bool diverging,
              std::optional<std::pair<double, double>> xrange) {
  const std::size_t n = x.size();
  std::vector<std::size_t> order(yvals.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return yvals[a] < yvals[b]; });
  std::size_t stride = std::max<std::size_t>(1, n / 1200);
  std::ostringstream d;
  double vmax = 0;
  for (auto f : order) {
    for (std::size_t j = 0; j < n; j += stride) {
      if (xrange && (x[j] < xrange->first || x[j] > xrange->second)) continue;
      const double v = all[f * n + j];
      d << strprintf("%.8g %.8g %.8g\n", x[j], yvals[f], std::isfinite(v) ? v : 0.0);
      // The colour range of G follows the medium-range part (r ≥ 5 Å, where the study's changes are): the first
      // shell, 10–50 times larger, would leave the oscillations white. It saturates instead.
      if (std::isfinite(v) && (!diverging || x[j] >= 5.0)) vmax = std::max(vmax, std::fabs(v));
    }
    d << '\n';
  }
  const std::string data = p.data_file(name + ".dat");
  p.write(data, d.str());
  std::ostringstream b;
  b << "set title " << quoted(title) << " noenhanced\nset xlabel " << quoted(xlabel) << "\nset ylabel "
    << quoted(ylabel) << "\nset cblabel " << quoted(cblabel) << "\nset view map\nset pm3d map corners2color c1\n"
    << "unset key\nset autoscale xfix\nset autoscale yfix\n";
  if (diverging) {
    // G(r) oscillates about 0: blue–white–red centred on zero.
    b << "set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 1 '#b2182b')\n";
    if (vmax > 0) b << strprintf("set cbrange [%.6g:%.6g]\n", -vmax, vmax);
  } else {
    // A perceptually ordered dark-blue → yellow palette (viridis-like).
    b << "set palette defined (0 '#440154', 0.25 '#3b528b', 0.5 '#21918c', 0.75 '#5ec962', 1 '#fde725')\n";
  }
  b << "splot " << quoted(data) << " using 1:2:3 with pm3d";
  p.render(name, b.str());
}

std::vector<double> frame_row(const std::vector<double>& all, std::size_t f, std::size_t n) {
  if (all.size() < (f + 1) * n) return {};
  return std::vector<double>(all.begin() + static_cast<std::ptrdiff_t>(f * n),
                             all.begin() + static_cast<std::ptrdiff_t>((f + 1) * n));
}

std::string radial_label(libpdf::RadialUnit u) {
  switch (u) {
    case libpdf::RadialUnit::q_A:
      return "q (1/Å)";
    case libpdf::RadialUnit::q_nm:
      return "q (1/nm)";
    case libpdf::RadialUnit::tth_deg:
      return "2θ (°)";
    case libpdf::RadialUnit::r_mm:
      return "r (mm)";
  }
  return "x";
}

void plot_result(Plotter& p, const PlotArgs& a) {
  const libpdf::NexusResult res = libpdf::read_nexus_result(a.file);
  if (res.frames == 0) throw libpdf::InvalidArgument("'" + a.file + "' holds no frames");
  std::size_t f = 0;
  if (a.frame) {
    if (*a.frame < 0 || static_cast<std::size_t>(*a.frame) >= res.frames) {
      throw libpdf::InvalidArgument("--frame " + std::to_string(*a.frame) + " is out of range: '" + a.file +
                                    "' holds frames 0.." + std::to_string(res.frames - 1));
    }
    f = static_cast<std::size_t>(*a.frame);
  }
  const double T = f < res.temperature_K.size() ? res.temperature_K[f] : std::nan("");
  const std::string tag = "frame " + std::to_string(f < res.frame_index.size() ? res.frame_index[f] : f) +
                          (std::isfinite(T) ? strprintf(", %.1f K", T) : std::string());
  const std::size_t nrad = res.radial.size();
  curve_plot(p, "iq.png", "I of " + tag, radial_label(res.unit), "I", res.radial, frame_row(res.intensity, f, nrad),
             frame_row(res.sigma, f, nrad), false);
  if (!res.has_pdf) return;
  const std::size_t nq = res.pdf_q.size(), nr = res.pdf_r.size();
  curve_plot(p, "sq.png", "S(q) of " + tag, "q (1/Å)", "S(q)", res.pdf_q, frame_row(res.sq, f, nq),
             frame_row(res.sq_sigma, f, nq), false);
  curve_plot(p, "gr.png", "G(r) of " + tag, "r (Å)", "G(r) (1/Å²)", res.pdf_r, frame_row(res.gr, f, nr),
             frame_row(res.gr_sigma, f, nr), true);
  if (res.frames < 2) return;
  // Maps: temperature on y when every frame has one, else the frame index.
  bool temps = res.temperature_K.size() == res.frames;
  for (double t : res.temperature_K) temps = temps && std::isfinite(t);
  std::vector<double> y(res.frames);
  for (std::size_t k = 0; k < res.frames; ++k) {
    y[k] = temps ? res.temperature_K[k] : static_cast<double>(k < res.frame_index.size() ? res.frame_index[k] : k);
  }
  const std::string ylabel = temps ? "T (K)" : "frame";
  map_plot(p, "sq_map.png", "S(q) of " + a.file, "q (1/Å)", ylabel, "S(q)", res.pdf_q, res.sq, y, false,
           std::make_pair(0.5, std::min(12.0, res.pdf_q.empty() ? 12.0 : res.pdf_q.back())));
  map_plot(p, "gr_map.png", "G(r) of " + a.file, "r (Å)", ylabel, "G(r) (1/Å²)", res.pdf_r, res.gr, y, true,
           std::nullopt);
}

void plot_metric(Plotter& p, const PlotArgs& a, const Reporter& report, const SeriesTable& t,
                 const std::string& metric) {
  const OnsetSeries s = onset_series(t, a.file, a.x, metric, true);
  if (s.x.empty()) throw libpdf::InvalidArgument("column '" + metric + "' of '" + a.file + "' has no finite value");
  const std::string data = p.data_file(metric + ".dat");
  p.write(data, columns(s.x, s.y, s.sigma));
  std::ostringstream b;
  const bool temps = a.x == "temperature_K";
  b << "set xlabel " << quoted(temps ? "T (K)" : a.x) << " noenhanced\nset ylabel " << quoted(metric)
    << " noenhanced\nset key top left noenhanced\n";
  std::optional<libpdf::OnsetResult> r;
  libpdf::OnsetOptions o;
  if (!a.range.empty()) {
    const auto rg = parse_range(a.range);
    o.x_min = rg.lo;
    o.x_max = rg.hi;
  }
  try {
    r = libpdf::detect_onset(s.x, s.y, s.sigma, o);
  } catch (const libpdf::Error& e) {
    report.warn(metric + ": no onset fit (" + e.what() + ")");
  }
  std::string title = metric + " against " + a.x;
  std::string extra;
  if (r) {
    const double x0 = r->onset, sx = r->onset_sigma;
    title += strprintf(": onset %.4g ± %.2g (%s, p = %.2g)", x0, sx, r->detected ? "detected" : "not significant",
                       r->p_value);
    if (std::isfinite(sx)) {
      b << strprintf(
          "set object 1 rect from %.10g, graph 0 to %.10g, graph 1 behind fc rgb '#f4c0c0' fs solid 0.5 "
          "noborder\n",
          x0 - sx, x0 + sx);
    }
    b << strprintf("set arrow 1 from %.10g, graph 0 to %.10g, graph 1 nohead lw 1.5 lc rgb '#c00000' dt %d\n", x0, x0,
                   r->detected ? 1 : 2);
    b << strprintf("hinge(x) = %.12g + (x < %.12g ? %.12g : %.12g) * (x - %.12g)\n", r->intercept, x0, r->slope_below,
                   r->slope_above, x0);
    const double lo = o.x_min ? *o.x_min : *std::min_element(s.x.begin(), s.x.end());
    const double hi = o.x_max ? *o.x_max : *std::max_element(s.x.begin(), s.x.end());
    b << strprintf("set samples 400\nlo = %.12g\nhi = %.12g\n", lo, hi);
    extra = ", (x >= lo && x <= hi ? hinge(x) : 1/0) with lines lw 2 lc rgb '#c00000' title 'two-segment fit'";
  }
  b << "set title " << quoted(title) << " noenhanced\n";
  b << "plot " << quoted(data) << " using 1:2" << (s.sigma.empty() ? "" : ":3")
    << (s.sigma.empty() ? " with points pt 7 ps 1 lc rgb '#1f4e9c'" : " with yerrorbars pt 7 ps 1 lc rgb '#1f4e9c'")
    << " title " << quoted(metric) << extra;
  // File names from metric names: keep [A-Za-z0-9._-].
  std::string file = metric;
  for (auto& c : file)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) c = '_';
  p.render(file + ".png", b.str());
}

void run_plot(const PlotArgs& a, const GlobalOptions& global) {
  const Reporter report(global);
  std::string e = fs::path(a.file).extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!fs::exists(a.file)) throw libpdf::IoError("'" + a.file + "' does not exist");
  const bool table = e == ".csv" || e == ".txt" || e == ".tsv";
  if (table && a.metrics.empty()) {
    throw libpdf::InvalidArgument("a series table needs --metric NAME[,NAME...] (the columns to plot)");
  }
  if (!table && !a.metrics.empty()) {
    throw libpdf::InvalidArgument("--metric applies to a series table (.csv), not to '" + a.file + "'");
  }
  if (table) {
    const SeriesTable t = read_series_table(a.file);
    // Check every column before drawing anything.
    for (const auto& m : a.metrics) (void)onset_series(t, a.file, a.x, m, false);
    Plotter p(a, report);
    for (const auto& m : a.metrics) plot_metric(p, a, report, t, m);
    return;
  }
  if (e == ".h5" || e == ".hdf5" || e == ".nxs" || libpdf::is_nexus_result(a.file)) {
    Plotter p(a, report);
    plot_result(p, a);
    return;
  }
  if (e == ".gr" || e == ".sq" || e == ".fq" || e == ".iq" || e == ".xy") {
    const auto pat = libpdf::read_text_pattern(a.file);
    Plotter p(a, report);
    const std::string kind = e.substr(1);
    const bool is_gr = kind == "gr";
    curve_plot(p, kind + ".png", a.file, is_gr ? "r (Å)" : "q (1/Å)",
               is_gr          ? "G(r) (1/Å²)"
               : kind == "sq" ? "S(q)"
               : kind == "fq" ? "F(q) (1/Å)"
                              : "I(q)",
               pat.x, pat.y, pat.sigma, is_gr || kind == "fq");
    return;
  }
  throw libpdf::InvalidArgument("cannot tell what '" + a.file +
                                "' holds from its extension (expected .h5 result, .csv series table, .gr or .sq)");
}

}  // namespace

bool gnuplot_available(const std::string& name) {
  try {
    (void)find_gnuplot(name);
    return true;
  } catch (const libpdf::IoError&) {
    return false;
  }
}

void plot_series_run(const SeriesPlots& request, const Reporter& report) {
  PlotArgs a;
  a.out = request.out_dir;
  a.x = request.x;
  a.file = request.result;
  Plotter p(a, report);
  plot_result(p, a);
  if (request.table.empty()) return;
  a.file = request.table;
  const SeriesTable t = read_series_table(request.table);
  for (const auto& m : request.metrics) {
    if (t.find(m) == t.columns.size()) continue;  // a metric this run does not compute
    try {
      plot_metric(p, a, report, t, m);
    } catch (const libpdf::InvalidArgument& e) {
      // A metric without a single finite value (every frame's fit failed): no figure, the others still drawn.
      report.warn("no figure of " + m + ": " + e.what());
    }
  }
}

Command add_plot_command(CLI::App& parent, const GlobalOptions& global) {
  auto args = std::make_shared<PlotArgs>();
  CLI::App* app = parent.add_subcommand(
      "plot",
      "PNG figures through gnuplot: the I(q), S(q), G(r) of a frame and temperature maps of S(q) and G(r) from a "
      "result file, or metrics against temperature with the two-segment onset fit from a series table.");
  app->footer(
      "Forms:\n"
      "  pdfreduce plot RESULT.h5 --out DIR [--frame N]    iq.png sq.png gr.png (+ sq_map.png gr_map.png)\n"
      "  pdfreduce plot TABLE.csv --metric A[,B] --out DIR  A.png B.png (error bars, hinge fit, onset +- sigma)\n"
      "  pdfreduce plot FILE.gr|FILE.sq --out DIR           gr.png or sq.png\n"
      "Needs gnuplot (Debian: gnuplot-nox); the pngcairo terminal when available, else png. Figures are written "
      "atomically (temporary name, then rename).");
  auto& a = *args;
  app->add_option("FILE", a.file, "Result .h5, series table .csv, or a .gr/.sq file")->required()->type_name("FILE");
  app->add_option("--out,-o", a.out, "Output folder (created)")->capture_default_str()->type_name("DIR");
  app->add_option("--frame", a.frame, "Frame of a result file for iq/sq/gr.png (default 0)")->type_name("N");
  app->add_option("--metric", a.metrics, "Metric column(s) of a series table")
      ->delimiter(',')
      ->type_name("NAME[,NAME...]");
  app->add_option("--x", a.x, "Abscissa column of a series table")->capture_default_str()->type_name("NAME");
  app->add_option("--range", a.range, "Fit the onset over LO <= x <= HI only")
      ->type_name("LO:HI")
      ->check(range_validator());
  app->add_option("--gnuplot", a.gnuplot, "gnuplot executable (name on PATH or path)")->capture_default_str();
  app->add_option("--width", a.width, "Figure width in pixels")->capture_default_str()->check(CLI::Range(200, 8000));
  app->add_option("--height", a.height, "Figure height in pixels")->capture_default_str()->check(CLI::Range(150, 8000));
  return Command{app, [args, &global] { run_plot(*args, global); }};
}

}  // namespace pdfreduce
