// Annealing series (ΔT_β, Δtan δ/tan δ_as-cast, T_β against T_g) and tables keyed by sample name that join
// the relaxation results with the structure metrics of the same samples.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/error.hpp"
#include "libpdf/relax.hpp"
#include "libpdf/relax/relax_detail.hpp"
#include "libpdf/version.hpp"

namespace libpdf {

using relax_detail::num;

RelaxationSample make_relaxation_sample(const std::string& sample, std::optional<double> annealing_K,
                                        const BetaRelaxation& beta, const DscAnalysis* dsc) {
  RelaxationSample s;
  s.sample = sample;
  s.annealing_K = annealing_K;
  if (beta.peak) {
    s.T_beta_K = beta.peak->T_beta_K;
    s.tan_delta = beta.peak->tan_delta_at_T_beta;
  }
  if (dsc != nullptr) s.Tg_K = dsc->glass_transition.onset_K;
  return s;
}

double LineFit::sigma_at(double x) const {
  const double v = intercept.sigma * intercept.sigma + x * x * slope.sigma * slope.sigma + 2 * x * covariance;
  return std::sqrt(std::max(v, 0.0));
}

LineFit fit_line(const std::vector<double>& x, const std::vector<double>& y, const std::vector<double>& sigma_y,
                 const std::vector<double>& sigma_x) {
  const std::size_t n = x.size();
  if (y.size() != n || (!sigma_y.empty() && sigma_y.size() != n) || (!sigma_x.empty() && sigma_x.size() != n)) {
    throw InvalidArgument("fit_line: " + std::to_string(n) + " x values, " + std::to_string(y.size()) + " y values, " +
                          std::to_string(sigma_y.size()) + " sigma_y and " + std::to_string(sigma_x.size()) +
                          " sigma_x (expected as many of each, or no sigma)");
  }
  if (n < 2) {
    throw InvalidArgument("fit_line: " + std::to_string(n) + " point" + (n == 1 ? "" : "s") +
                          " (expected at least 2 for a straight line)");
  }
  for (std::size_t i = 0; i < n; ++i) {
    const double sy = sigma_y.empty() ? 0.0 : sigma_y[i], sx = sigma_x.empty() ? 0.0 : sigma_x[i];
    if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || !std::isfinite(sy) || !std::isfinite(sx) || sy < 0 || sx < 0) {
      throw InvalidArgument("fit_line: point " + std::to_string(i) + " (x = " + num(x[i]) + ", y = " + num(y[i]) +
                            ", sigma_y = " + num(sy) + ", sigma_x = " + num(sx) +
                            ") is not finite or has a negative sigma");
    }
  }
  // Weighted only when every point has a σ: a point without one would get an infinite weight.
  bool weighted = true;
  for (std::size_t i = 0; i < n; ++i) {
    const double sy = sigma_y.empty() ? 0.0 : sigma_y[i], sx = sigma_x.empty() ? 0.0 : sigma_x[i];
    weighted = weighted && (sy > 0 || sx > 0);
  }
  LineFit fit;
  fit.points = n;
  fit.weighted = weighted;
  fit.dof = static_cast<int>(n) - 2;
  double a = 0, b = 0, S = 0, Sx = 0, Sxx = 0, D = 0;
  // Effective variance σ_y² + b²σ_x² depends on the slope: iterate (converges in a few passes for any sane data).
  for (int pass = 0; pass < 20; ++pass) {
    S = Sx = Sxx = 0;
    double Sy = 0, Sxy = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double w = 1.0;
      if (weighted) {
        const double sy = sigma_y.empty() ? 0.0 : sigma_y[i], sx = sigma_x.empty() ? 0.0 : sigma_x[i];
        w = 1.0 / (sy * sy + b * b * sx * sx);
      }
      S += w;
      Sx += w * x[i];
      Sy += w * y[i];
      Sxx += w * x[i] * x[i];
      Sxy += w * x[i] * y[i];
    }
    D = S * Sxx - Sx * Sx;
    if (!(D > 1e-14 * S * Sxx)) {
      throw NumericalError("fit_line: every x is the same (" + num(x.front()) + "); the slope is undefined");
    }
    const double b_new = (S * Sxy - Sx * Sy) / D;
    a = (Sxx * Sy - Sx * Sxy) / D;
    const bool done = std::abs(b_new - b) <= 1e-12 * std::abs(b_new);
    b = b_new;
    if (!weighted || done || sigma_x.empty()) break;
  }
  double chi2 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double w = 1.0;
    if (weighted) {
      const double sy = sigma_y.empty() ? 0.0 : sigma_y[i], sx = sigma_x.empty() ? 0.0 : sigma_x[i];
      w = 1.0 / (sy * sy + b * b * sx * sx);
    }
    const double e = y[i] - a - b * x[i];
    chi2 += w * e * e;
  }
  fit.chi2 = chi2;
  // Covariance scaling: the Birge ratio when weighted (never shrinks the stated σ), the residual variance when not.
  double scale = 0;
  if (fit.dof > 0) scale = weighted ? std::max(1.0, chi2 / fit.dof) : chi2 / fit.dof;
  if (fit.dof == 0 && weighted) scale = 1.0;
  fit.slope = {b, std::sqrt(S / D * scale)};
  fit.intercept = {a, std::sqrt(Sxx / D * scale)};
  fit.covariance = -Sx / D * scale;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= static_cast<double>(n);
  my /= static_cast<double>(n);
  double cxy = 0, cxx = 0, cyy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    cxy += (x[i] - mx) * (y[i] - my);
    cxx += (x[i] - mx) * (x[i] - mx);
    cyy += (y[i] - my) * (y[i] - my);
  }
  fit.r = cxx > 0 && cyy > 0 ? cxy / std::sqrt(cxx * cyy) : 0.0;
  return fit;
}

AnnealingSeries analyze_annealing_series(const std::vector<RelaxationSample>& samples) {
  std::set<std::string> names;
  const RelaxationSample* ref = nullptr;
  for (const auto& s : samples) {
    if (!names.insert(s.sample).second) {
      throw InvalidArgument("annealing series: the sample name '" + s.sample + "' appears twice (expected unique names)");
    }
    if (!s.annealing_K) {
      if (ref != nullptr) {
        throw InvalidArgument("annealing series: two as-cast samples, '" + ref->sample + "' and '" + s.sample +
                              "' (expected exactly one sample without an annealing temperature)");
      }
      ref = &s;
    }
  }
  if (ref == nullptr) {
    throw InvalidArgument("annealing series: no as-cast sample (expected exactly one sample without an annealing "
                          "temperature, the reference)");
  }
  if (!ref->T_beta_K || !ref->tan_delta) {
    throw InvalidArgument("annealing series: the as-cast sample '" + ref->sample + "' has no " +
                          (!ref->T_beta_K ? "T_beta" : "tan delta") +
                          " (expected a beta peak in the reference; an excess wing gives no reference)");
  }
  if (!(ref->tan_delta->value != 0)) {
    throw InvalidArgument("annealing series: tan delta of the as-cast sample '" + ref->sample +
                          "' is 0 (expected a non-zero reference for the relative change)");
  }
  AnnealingSeries out;
  out.reference_sample = ref->sample;
  const ValueSigma Tb0 = *ref->T_beta_K, t0 = *ref->tan_delta;
  std::vector<double> x, y, sx, sy;
  for (const auto& s : samples) {
    AnnealingPoint p;
    p.sample = s.sample;
    p.annealing_K = s.annealing_K;
    const bool is_ref = &s == ref;
    if (s.T_beta_K) {
      p.delta_T_beta_K = is_ref ? ValueSigma{0, 0}
                                : ValueSigma{s.T_beta_K->value - Tb0.value, std::hypot(s.T_beta_K->sigma, Tb0.sigma)};
    }
    if (s.tan_delta) {
      const double t = s.tan_delta->value;
      p.relative_tan_delta =
          is_ref ? ValueSigma{0, 0}
                 : ValueSigma{(t - t0.value) / t0.value,
                              std::hypot(s.tan_delta->sigma / t0.value, t * t0.sigma / (t0.value * t0.value))};
    }
    out.points.push_back(p);
    if (s.T_beta_K && s.Tg_K) {
      x.push_back(s.Tg_K->value);
      sx.push_back(s.Tg_K->sigma);
      y.push_back(s.T_beta_K->value);
      sy.push_back(s.T_beta_K->sigma);
    }
  }
  if (x.size() >= 2) {
    try {
      out.T_beta_vs_Tg = fit_line(x, y, sy, sx);
    } catch (const NumericalError&) {
      // Every T_g equal: no line to fit; the rest of the series stands.
    }
  }
  return out;
}

// =============================================================================================================
// Tables

namespace {

std::string trim(const std::string& s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a])) != 0) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])) != 0) --b;
  return s.substr(a, b - a);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Splits a CSV line on @p sep; "..." quotes a field ("" inside it is one quote).
std::vector<std::string> split_csv(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
      was_quoted = true;
    } else if (c == sep) {
      out.push_back(was_quoted ? cur : trim(cur));
      cur.clear();
      was_quoted = false;
    } else {
      cur += c;
    }
  }
  out.push_back(was_quoted ? cur : trim(cur));
  return out;
}

std::string fmt(double v) {
  if (!std::isfinite(v)) return "";
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

std::optional<double> to_number(const std::string& s) {
  const std::string t = trim(s);
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

}  // namespace

std::size_t SampleTable::column_index(const std::string& column) const {
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (columns[c] == column) return c;
  }
  std::string list;
  for (std::size_t c = 0; c < columns.size(); ++c) list += (c ? ", " : "") + columns[c];
  throw InvalidArgument("table: no column '" + column + "' (columns: " + list + ")");
}

std::optional<std::size_t> SampleTable::row_index(const std::string& sample) const {
  for (std::size_t r = 0; r < samples.size(); ++r) {
    if (samples[r] == sample) return r;
  }
  return std::nullopt;
}

std::optional<double> SampleTable::number(std::size_t row, const std::string& column) const {
  if (row >= samples.size()) {
    throw InvalidArgument("table: row " + std::to_string(row) + " does not exist (the table has " +
                          std::to_string(samples.size()) + " rows)");
  }
  const std::string& cell = cells[row][column_index(column)];
  if (trim(cell).empty()) return std::nullopt;
  const auto v = to_number(cell);
  if (!v) {
    throw InvalidArgument("table: the cell of sample '" + samples[row] + "', column '" + column + "' is '" + cell +
                          "' (expected a number)");
  }
  return v;
}

SampleTable parse_sample_table(const std::string& text, const std::string& source, const std::string& key) {
  std::vector<std::pair<std::size_t, std::string>> lines;
  {
    std::size_t start = 0, no = 1;
    if (text.compare(0, 3, "\xef\xbb\xbf") == 0) start = 3;
    for (std::size_t i = start; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == '\n') {
        std::string l = text.substr(start, i - start);
        if (!l.empty() && l.back() == '\r') l.pop_back();
        const std::string t = trim(l);
        if (!t.empty() && t.front() != '#') lines.emplace_back(no, l);
        start = i + 1;
        ++no;
      }
    }
  }
  if (lines.empty()) throw IoError(source + ": no header row (expected a CSV whose first row names the columns)");
  const std::string& head = lines.front().second;
  char sep = ',';
  std::size_t best = 0;
  for (char c : {',', ';', '\t'}) {
    const auto k = static_cast<std::size_t>(std::count(head.begin(), head.end(), c));
    if (k > best) {
      best = k;
      sep = c;
    }
  }
  const auto names = split_csv(head, sep);
  std::optional<std::size_t> kc;
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (lower(names[c]) == lower(key)) kc = c;
  }
  if (!kc) {
    std::string list;
    for (std::size_t c = 0; c < names.size(); ++c) list += (c ? ", '" : "'") + names[c] + "'";
    throw IoError(source + ": line " + std::to_string(lines.front().first) + ": no '" + key +
                  "' column (columns: " + list + "; expected the sample name column)");
  }
  SampleTable t;
  t.key = names[*kc];
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (c != *kc) t.columns.push_back(names[c]);
  }
  for (std::size_t k = 1; k < lines.size(); ++k) {
    auto f = split_csv(lines[k].second, sep);
    if (f.size() != names.size()) {
      throw IoError(source + ": line " + std::to_string(lines[k].first) + " has " + std::to_string(f.size()) +
                    " fields (expected " + std::to_string(names.size()) + " like the header)");
    }
    const std::string name = f[*kc];
    if (name.empty()) {
      throw IoError(source + ": line " + std::to_string(lines[k].first) + ": empty '" + t.key +
                    "' (expected a sample name)");
    }
    if (t.row_index(name)) {
      throw IoError(source + ": line " + std::to_string(lines[k].first) + ": sample '" + name +
                    "' appears twice (expected one row per sample)");
    }
    t.samples.push_back(name);
    std::vector<std::string> row;
    for (std::size_t c = 0; c < f.size(); ++c) {
      if (c != *kc) row.push_back(f[c]);
    }
    t.cells.push_back(row);
  }
  return t;
}

SampleTable read_sample_table(const std::string& path, const std::string& key) {
  return parse_sample_table(detail::read_file(path), path, key);
}

std::string format_sample_table(const SampleTable& table) {
  auto quote = [](const std::string& s) {
    // A cell starting with '#' is quoted too: unquoted, a key cell would make its row read as a comment.
    if (s.find_first_of(",\";\n\t") == std::string::npos && (s.empty() || s.front() != '#')) return s;
    std::string q(1, '"');
    for (char c : s) {
      if (c == '"') q.push_back('"');
      q.push_back(c);
    }
    q.push_back('"');
    return q;
  };
  // The version line first: every file libpdf writes says which libpdf wrote it. Readers skip '#' lines
  // (parse_sample_table, pdfreduce's tables, numpy/pandas with comment='#').
  std::string out = std::string("# libpdf ") + version() + "\n";
  out += quote(table.key);
  for (const auto& c : table.columns) {
    out.push_back(',');
    out += quote(c);
  }
  out += "\n";
  for (std::size_t r = 0; r < table.samples.size(); ++r) {
    out += quote(table.samples[r]);
    for (std::size_t c = 0; c < table.columns.size(); ++c) {
      out.push_back(',');
      out += quote(c < table.cells[r].size() ? table.cells[r][c] : std::string());
    }
    out += "\n";
  }
  return out;
}

void write_sample_table(const std::string& path, const SampleTable& table) {
  detail::write_file_atomic(path, format_sample_table(table));
}

SampleTable join_by_sample(const SampleTable& left, const SampleTable& right) {
  SampleTable out;
  out.key = left.key;
  out.columns = left.columns;
  // Where each right column goes.
  std::vector<std::size_t> target(right.columns.size());
  for (std::size_t c = 0; c < right.columns.size(); ++c) {
    const auto it = std::find(out.columns.begin(), out.columns.end(), right.columns[c]);
    if (it != out.columns.end()) {
      target[c] = static_cast<std::size_t>(it - out.columns.begin());
    } else {
      target[c] = out.columns.size();
      out.columns.push_back(right.columns[c]);
    }
  }
  const std::size_t nc = out.columns.size();
  for (std::size_t r = 0; r < left.samples.size(); ++r) {
    out.samples.push_back(left.samples[r]);
    auto row = left.cells[r];
    row.resize(nc);
    out.cells.push_back(row);
  }
  for (std::size_t r = 0; r < right.samples.size(); ++r) {
    std::size_t row = 0;
    if (const auto lr = out.row_index(right.samples[r])) {
      row = *lr;
    } else {
      out.samples.push_back(right.samples[r]);
      out.cells.emplace_back(nc);
      row = out.samples.size() - 1;
    }
    for (std::size_t c = 0; c < right.columns.size(); ++c) {
      const std::string& v = c < right.cells[r].size() ? right.cells[r][c] : std::string();
      std::string& cell = out.cells[row][target[c]];
      if (trim(v).empty()) continue;
      if (trim(cell).empty()) {
        cell = v;
        continue;
      }
      const auto a = to_number(cell), b = to_number(v);
      const bool same = (a && b) ? std::abs(*a - *b) <= 1e-9 * std::max(std::abs(*a), std::abs(*b)) : trim(cell) == trim(v);
      if (!same) {
        throw InvalidArgument("join: sample '" + right.samples[r] + "', column '" + right.columns[c] + "' is '" + cell +
                              "' in the first table and '" + v + "' in the second (expected the same value)");
      }
    }
  }
  return out;
}

SampleTable relaxation_table(const std::vector<RelaxationSample>& samples, const AnnealingSeries& series) {
  SampleTable t;
  t.columns = {"annealing_K",   "T_beta_K",         "T_beta_K_sigma",          "tan_delta",
               "tan_delta_sigma", "Tg_K",           "Tg_K_sigma",              "delta_T_beta_K",
               "delta_T_beta_K_sigma", "relative_tan_delta", "relative_tan_delta_sigma"};
  auto vs = [](const std::optional<ValueSigma>& v, std::vector<std::string>& row) {
    row.push_back(v ? fmt(v->value) : "");
    row.push_back(v ? fmt(v->sigma) : "");
  };
  for (const auto& s : samples) {
    std::vector<std::string> row;
    row.push_back(s.annealing_K ? fmt(*s.annealing_K) : "");
    vs(s.T_beta_K, row);
    vs(s.tan_delta, row);
    vs(s.Tg_K, row);
    const AnnealingPoint* p = nullptr;
    for (const auto& q : series.points) {
      if (q.sample == s.sample) p = &q;
    }
    vs(p != nullptr ? p->delta_T_beta_K : std::nullopt, row);
    vs(p != nullptr ? p->relative_tan_delta : std::nullopt, row);
    t.samples.push_back(s.sample);
    t.cells.push_back(row);
  }
  return t;
}

}  // namespace libpdf
