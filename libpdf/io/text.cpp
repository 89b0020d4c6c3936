// Text patterns: .xy/.chi/.dat/.iq/.sq/.fq/.gr reading, and .xy and PDFgetX3-style writing.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/error.hpp"
#include "libpdf/pattern_io.hpp"

namespace libpdf {
namespace {

constexpr double pi = 3.14159265358979323846;

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits a row on whitespace and commas.
std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (std::isspace(static_cast<unsigned char>(line[i])) || line[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i])) && line[i] != ',') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool parse_number(std::string_view t, double& value) {
  if (!t.empty() && t.front() == '+') t.remove_prefix(1);
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  return ec == std::errc() && end == t.data() + t.size();
}

// All tokens numbers (finite or not), and how many.
bool numeric_row(std::string_view line, std::vector<double>& values) {
  values.clear();
  for (auto t : tokens(line)) {
    double v = 0;
    if (!parse_number(t, v)) return false;
    values.push_back(v);
  }
  return !values.empty();
}

bool is_comment(std::string_view s) { return !s.empty() && (s.front() == '#' || s.front() == '!'); }

void add_metadata(TextPattern& p, std::string_view line) {
  std::size_t eq = line.find(" = ");
  std::size_t len = 3;
  if (eq == std::string_view::npos) {
    eq = line.find(": ");
    len = 2;
  }
  if (eq == std::string_view::npos || eq == 0) return;
  const auto key = trim(line.substr(0, eq));
  const auto value = trim(line.substr(eq + len));
  if (!key.empty()) p.metadata.emplace_back(std::string(key), std::string(value));
}

[[noreturn]] void fail(const std::string& source, std::size_t line, const std::string& what) {
  throw IoError(source + ": line " + std::to_string(line) + ": " + what);
}

}  // namespace

TextPattern parse_text_pattern(std::string_view text, const std::string& source) {
  std::vector<std::string_view> lines;
  for (std::size_t start = 0; start <= text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(start, end - start);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    start = end + 1;
  }
  TextPattern p;
  std::size_t first = 0;
  bool pdfgetx3 = false;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (trim(lines[i]).rfind("#### start data", 0) == 0) {
      pdfgetx3 = true;
      first = i + 1;
      for (std::size_t k = 0; k < i; ++k) {
        auto h = trim(lines[k]);
        if (is_comment(h)) h = trim(h.substr(1));
        p.header.emplace_back(h);
        add_metadata(p, h);
      }
      break;
    }
  }
  bool in_data = false;
  std::vector<double> values;
  for (std::size_t i = first; i < lines.size(); ++i) {
    const std::size_t lineno = i + 1;
    const auto l = trim(lines[i]);
    if (l.empty()) continue;
    if (is_comment(l)) {
      if (!in_data && !pdfgetx3) {
        const auto h = trim(l.substr(1));
        p.header.emplace_back(h);
        add_metadata(p, h);
      }
      continue;
    }
    const bool numeric = numeric_row(l, values);
    if (!in_data) {
      if (!numeric || values.size() < 2) {
        if (pdfgetx3) fail(source, lineno, "expected a data row of 2 to 4 numbers, found '" + std::string(l) + "'");
        p.header.emplace_back(l);  // e.g. the title, axis labels and point count of a Fit2D .chi file
        add_metadata(p, l);
        continue;
      }
      in_data = true;
      if (values.size() > 4) {
        fail(source, lineno, std::to_string(values.size()) + " columns (expected x y, x y sigma, or x y dx dy)");
      }
      p.columns = values.size();
    } else if (!numeric) {
      fail(source, lineno, "expected " + std::to_string(p.columns) + " numbers, found '" + std::string(l) + "'");
    } else if (values.size() != p.columns) {
      fail(source, lineno,
           std::to_string(values.size()) + " columns where the data started with " + std::to_string(p.columns));
    }
    for (std::size_t c = 0; c < values.size(); ++c) {
      if (!std::isfinite(values[c])) {
        fail(source, lineno,
             "column " + std::to_string(c + 1) + " is " + num(values[c]) + " (expected a finite number)");
      }
    }
    p.x.push_back(values[0]);
    p.y.push_back(values[1]);
    if (p.columns >= 3) {
      const double s = values[p.columns == 4 ? 3 : 2];
      if (s < 0) fail(source, lineno, "sigma = " + num(s) + " (expected >= 0)");
      p.sigma.push_back(s);
    }
  }
  if (p.x.empty()) throw IoError(source + ": no data rows (expected rows of 2 to 4 numbers: x y [sigma])");
  return p;
}

TextPattern read_text_pattern(const std::string& path) {
  const std::string content = detail::read_file(path);
  return parse_text_pattern(content, path);
}

const char* pattern_x_unit_name(PatternXUnit u) {
  switch (u) {
    case PatternXUnit::q_A:
      return "q_A^-1";
    case PatternXUnit::q_nm:
      return "q_nm^-1";
    case PatternXUnit::tth_deg:
      return "2th_deg";
  }
  return "unknown";
}

PatternXUnit parse_pattern_x_unit(const std::string& name) {
  if (name == "q_A^-1" || name == "q_A" || name == "q") return PatternXUnit::q_A;
  if (name == "q_nm^-1" || name == "q_nm") return PatternXUnit::q_nm;
  if (name == "2th_deg" || name == "tth_deg" || name == "2th") return PatternXUnit::tth_deg;
  throw InvalidArgument("unknown x unit '" + name +
                        "' (expected q_A^-1 (q in 1/A), q_nm^-1 (q in 1/nm) or 2th_deg (2theta in degrees))");
}

std::vector<double> to_q_A(const std::vector<double>& x, PatternXUnit unit, double wavelength_A) {
  std::vector<double> q(x.size());
  switch (unit) {
    case PatternXUnit::q_A:
      return x;
    case PatternXUnit::q_nm:
      for (std::size_t k = 0; k < x.size(); ++k) q[k] = x[k] / 10.0;
      return q;
    case PatternXUnit::tth_deg:
      if (!(wavelength_A > 0) || !std::isfinite(wavelength_A)) {
        throw InvalidArgument("wavelength = " + num(wavelength_A) +
                              " A: converting 2theta to q needs the wavelength (a finite value > 0, in A)");
      }
      for (std::size_t k = 0; k < x.size(); ++k) {
        if (!(x[k] > 0 && x[k] < 180)) {
          throw InvalidArgument("2theta = " + num(x[k]) + " degrees at point " + std::to_string(k + 1) +
                                " (expected 0 < 2theta < 180)");
        }
        q[k] = 4 * pi * std::sin(x[k] * pi / 360.0) / wavelength_A;
      }
      return q;
  }
  return q;
}

namespace {

void check_columns(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& sigma) {
  if (y.size() != x.size() || (!sigma.empty() && sigma.size() != x.size())) {
    throw InvalidArgument("pattern columns differ in length: x " + std::to_string(x.size()) + ", y " +
                          std::to_string(y.size()) + ", sigma " + std::to_string(sigma.size()));
  }
}

void append_rows(std::string& out, const std::vector<double>& x, const std::vector<double>& y,
                 const std::vector<double>& sigma) {
  char buf[96];
  out.reserve(out.size() + x.size() * 50);
  for (std::size_t k = 0; k < x.size(); ++k) {
    // %.10g: 10 significant digits, beyond the precision of any measured or derived value here.
    const int n = sigma.empty() ? std::snprintf(buf, sizeof buf, "%.10g %.10g\n", x[k], y[k])
                                : std::snprintf(buf, sizeof buf, "%.10g %.10g %.10g\n", x[k], y[k], sigma[k]);
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string format_pdfgetx3(const std::vector<HeaderEntry>& header, const std::string& x_label,
                            const std::string& y_label, const std::string& sigma_label, const std::vector<double>& x,
                            const std::vector<double>& y, const std::vector<double>& sigma) {
  check_columns(x, y, sigma);
  std::string out = "[DEFAULT]\n\n";
  for (const auto& [key, value] : header) {
    if (key.empty()) {
      out += value.empty() ? "\n" : "# " + value + "\n";
    } else {
      out += key + " = " + value + "\n";
    }
  }
  out += "\n#### start data\n#S 1\n#L " + x_label + "  " + y_label;
  if (!sigma.empty()) out += "  " + sigma_label;
  out += "\n";
  append_rows(out, x, y, sigma);
  return out;
}

void write_pdfgetx3(const std::string& path, const std::vector<HeaderEntry>& header, const std::string& x_label,
                    const std::string& y_label, const std::string& sigma_label, const std::vector<double>& x,
                    const std::vector<double>& y, const std::vector<double>& sigma) {
  detail::write_file_atomic(path, format_pdfgetx3(header, x_label, y_label, sigma_label, x, y, sigma));
}

std::string format_xy(const std::vector<std::string>& header, const std::string& column_labels,
                      const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& sigma) {
  check_columns(x, y, sigma);
  std::string out;
  for (const auto& h : header) out += "# " + h + "\n";
  out += "# " + column_labels + "\n";
  append_rows(out, x, y, sigma);
  return out;
}

void write_xy(const std::string& path, const std::vector<std::string>& header, const std::string& column_labels,
              const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& sigma) {
  detail::write_file_atomic(path, format_xy(header, column_labels, x, y, sigma));
}

}  // namespace libpdf
