// Series tables for `pdfreduce onset` and `pdfreduce plot` (plot_data.hpp).
#include "pdfreduce/plot_data.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "libpdf/error.hpp"

namespace pdfreduce {

namespace {

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r\n");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split(const std::string& line, bool commas) {
  std::vector<std::string> out;
  if (commas) {
    std::string cell;
    std::istringstream in(line);
    while (std::getline(in, cell, ',')) out.push_back(trim(cell));
    if (!line.empty() && line.back() == ',') out.emplace_back();
  } else {
    std::istringstream in(line);
    std::string cell;
    while (in >> cell) out.push_back(cell);
  }
  return out;
}

double cell_value(const std::string& c) {
  if (c.empty()) return std::nan("");
  char* end = nullptr;
  const double v = std::strtod(c.c_str(), &end);
  if (end == c.c_str() || *end != '\0') return std::nan("");
  return v;
}

}  // namespace

std::size_t SeriesTable::find(const std::string& name) const {
  for (std::size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return i;
  return columns.size();
}

SeriesTable read_series_table(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw libpdf::IoError("cannot open the series table '" + path + "'");
  SeriesTable t;
  std::string line;
  bool commas = true;
  std::size_t line_no = 0;
  while (std::getline(f, line)) {
    ++line_no;
    const std::string s = trim(line);
    if (s.empty()) continue;
    if (s[0] == '#') {
      t.comments.push_back(trim(s.substr(1)));
      continue;
    }
    if (t.columns.empty()) {
      commas = s.find(',') != std::string::npos;
      t.columns = split(s, commas);
      continue;
    }
    const auto cells = split(s, commas);
    if (cells.size() != t.columns.size()) {
      throw libpdf::IoError("'" + path + "' line " + std::to_string(line_no) + ": " + std::to_string(cells.size()) +
                            " cells, but the header has " + std::to_string(t.columns.size()) + " columns");
    }
    std::vector<double> row;
    for (const auto& c : cells) row.push_back(cell_value(c));
    t.rows.push_back(std::move(row));
  }
  if (t.columns.empty())
    throw libpdf::IoError("'" + path + "' has no header row (expected e.g. frame,temperature_K,...)");
  return t;
}

OnsetSeries onset_series(const SeriesTable& t, const std::string& source, const std::string& x_name,
                         const std::string& metric, bool use_sigma) {
  auto column_list = [&t] {
    std::string s;
    for (std::size_t i = 0; i < t.columns.size() && i < 12; ++i) s += (i ? ", " : "") + t.columns[i];
    if (t.columns.size() > 12) s += ", ...";
    return s;
  };
  const std::size_t ix = t.find(x_name), iy = t.find(metric);
  if (ix == t.columns.size()) {
    throw libpdf::InvalidArgument("'" + source + "' has no column '" + x_name + "' (columns: " + column_list() + ")");
  }
  if (iy == t.columns.size()) {
    throw libpdf::InvalidArgument("'" + source + "' has no column '" + metric + "' (columns: " + column_list() + ")");
  }
  bool any_x = false;
  for (const auto& r : t.rows) any_x = any_x || std::isfinite(r[ix]);
  if (!any_x) {
    throw libpdf::InvalidArgument("column '" + x_name + "' of '" + source + "' has no finite value (" +
                                  std::to_string(t.rows.size()) + " rows)" +
                                  (x_name == "temperature_K" ? ": the series has no temperatures; use --x frame" : ""));
  }
  const std::size_t is = t.find(metric + "_sigma");
  OnsetSeries s;
  std::vector<double> sig;
  bool sigma_ok = use_sigma && is < t.columns.size();
  for (const auto& r : t.rows) {
    if (!std::isfinite(r[ix]) || !std::isfinite(r[iy])) {
      ++s.skipped;
      continue;
    }
    s.x.push_back(r[ix]);
    s.y.push_back(r[iy]);
    if (is < t.columns.size()) {
      sig.push_back(r[is]);
      if (!(std::isfinite(r[is]) && r[is] > 0)) sigma_ok = false;
    }
  }
  if (sigma_ok) {
    s.sigma = std::move(sig);
  } else if (use_sigma && is < t.columns.size()) {
    s.sigma_note = "column " + metric + "_sigma has missing or non-positive values: sigma estimated from the scatter";
  }
  return s;
}

}  // namespace pdfreduce
