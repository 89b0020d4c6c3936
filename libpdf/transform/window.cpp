// Termination functions M(q) and the validation of transform options.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/transform.hpp"

namespace libpdf {
namespace {

constexpr double pi = 3.14159265358979323846;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

}  // namespace

const char* window_name(Window w) {
  switch (w) {
    case Window::none:
      return "none";
    case Window::lorch:
      return "lorch";
    case Window::cosine:
      return "cosine";
  }
  return "unknown";
}

Window parse_window(const std::string& name) {
  if (name == "none") return Window::none;
  if (name == "lorch") return Window::lorch;
  if (name == "cosine") return Window::cosine;
  throw InvalidArgument("unknown window '" + name +
                        "' (expected none: M = 1; lorch: M = sin(pi q/qmax)/(pi q/qmax); cosine: a cosine taper)");
}

std::string window_formula(Window w, double qmax, double taper_width) {
  switch (w) {
    case Window::none:
      return "M(q) = 1";
    case Window::lorch:
      return "M(q) = sin(pi q/qmax)/(pi q/qmax), qmax = " + num(qmax);
    case Window::cosine: {
      const double width = taper_width > 0 ? taper_width : qmax / 10;
      return "M(q) = 1 for q <= qmax - w, 0.5 [1 + cos(pi (q - qmax + w)/w)] above; qmax = " + num(qmax) +
             ", w = " + num(width);
    }
  }
  return "unknown";
}

double window_value(Window w, double q, double qmax, double taper_width) {
  if (q > qmax) return 0.0;
  switch (w) {
    case Window::none:
      return 1.0;
    case Window::lorch: {
      const double x = pi * q / qmax;
      return x == 0 ? 1.0 : std::sin(x) / x;
    }
    case Window::cosine: {
      const double width = taper_width > 0 ? taper_width : qmax / 10;
      const double start = qmax - width;
      if (q <= start) return 1.0;
      return 0.5 * (1.0 + std::cos(pi * (q - start) / width));
    }
  }
  return 1.0;
}

void TransformOptions::validate() const {
  std::vector<std::string> bad;
  const bool qmax_ok = qmax > 0 && std::isfinite(qmax);
  const bool rstep_ok = rstep > 0 && std::isfinite(rstep);
  if (!qmax_ok) bad.push_back("qmax = " + num(qmax) + " (expected a finite value > 0, in 1/A)");
  if (!(qstep > 0) || !std::isfinite(qstep)) {
    bad.push_back("qstep = " + num(qstep) + " (expected a finite value > 0, in 1/A)");
  } else if (qmax_ok && qstep >= qmax) {
    bad.push_back("qstep = " + num(qstep) + " (expected a step smaller than qmax = " + num(qmax) + ")");
  }
  if (!rstep_ok) bad.push_back("rstep = " + num(rstep) + " (expected a finite value > 0, in A)");
  if (!(rmin >= 0) || !std::isfinite(rmin)) {
    bad.push_back("rmin = " + num(rmin) + " (expected a finite value >= 0, in A)");
  } else if (rstep_ok) {
    const double k = rmin / rstep;
    if (std::fabs(k - std::round(k)) > 1e-6 * std::max(1.0, k)) {
      bad.push_back("rmin = " + num(rmin) + " (expected a multiple of rstep = " + num(rstep) +
                    " so that the r grid falls on the transform's points)");
    }
  }
  if (!(rmax > rmin) || !std::isfinite(rmax)) {
    bad.push_back("rmax = " + num(rmax) + " (expected a finite value > rmin = " + num(rmin) + ")");
  }
  if (!(taper_width >= 0) || !std::isfinite(taper_width) || (qmax_ok && taper_width > qmax)) {
    bad.push_back("taper_width = " + num(taper_width) + " (expected 0 = qmax/10, or a width in (0, qmax] 1/A)");
  }
  if (threads < 0) bad.push_back("threads = " + std::to_string(threads) + " (expected 0 = all cores, or > 0)");
  if (!bad.empty()) {
    std::string msg = "invalid transform options: ";
    for (std::size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    throw InvalidArgument(msg);
  }
}

}  // namespace libpdf
