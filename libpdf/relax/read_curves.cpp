// Reading DMA and DSC exports: the plain text / CSV files instruments write (TA Instruments, NETZSCH Proteus,
// Mettler STARe, PerkinElmer Pyris, Anton Paar), with the separator, decimal mark, column names and units
// detected. What was recognised is recorded in the curve's notes, so a user can see how the file was read.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <string_view>
#include <vector>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/error.hpp"
#include "libpdf/relax.hpp"
#include "libpdf/relax/relax_detail.hpp"

namespace libpdf {

using relax_detail::num;

// ---------------------------------------------------------------------------------------------------------
// Names of the enumerations and option checks.

const char* temperature_unit_name(TemperatureUnit u) {
  switch (u) {
    case TemperatureUnit::kelvin:
      return "K";
    case TemperatureUnit::celsius:
      return "C";
    case TemperatureUnit::automatic:
      break;
  }
  return "auto";
}

TemperatureUnit parse_temperature_unit(const std::string& name) {
  if (name == "auto") return TemperatureUnit::automatic;
  if (name == "K" || name == "k" || name == "kelvin") return TemperatureUnit::kelvin;
  if (name == "C" || name == "c" || name == "degC" || name == "celsius" || name == "°C") return TemperatureUnit::celsius;
  throw InvalidArgument("temperature unit '" + name + "' (expected auto, K or C)");
}

const char* heat_flow_sign_name(HeatFlowSign s) {
  switch (s) {
    case HeatFlowSign::endo_up:
      return "endo-up";
    case HeatFlowSign::exo_up:
      return "exo-up";
    case HeatFlowSign::automatic:
      break;
  }
  return "auto";
}

HeatFlowSign parse_heat_flow_sign(const std::string& name) {
  if (name == "auto") return HeatFlowSign::automatic;
  if (name == "endo-up" || name == "endo_up") return HeatFlowSign::endo_up;
  if (name == "exo-up" || name == "exo_up") return HeatFlowSign::exo_up;
  throw InvalidArgument("heat-flow sign '" + name + "' (expected auto, endo-up or exo-up)");
}

void CurveReadOptions::validate() const {
  std::vector<std::string> bad;
  if (!(frequency_Hz > 0) || !std::isfinite(frequency_Hz)) {
    bad.push_back("frequency_Hz = " + num(frequency_Hz) + " (expected a finite value > 0)");
  }
  if (heating_rate_K_per_min && (!(*heating_rate_K_per_min > 0) || !std::isfinite(*heating_rate_K_per_min))) {
    bad.push_back("heating_rate_K_per_min = " + num(*heating_rate_K_per_min) + " (expected a finite value > 0)");
  }
  if (sample_mass_mg && (!(*sample_mass_mg > 0) || !std::isfinite(*sample_mass_mg))) {
    bad.push_back("sample_mass_mg = " + num(*sample_mass_mg) + " (expected a finite value > 0)");
  }
  if (bad.empty()) return;
  std::string msg = "invalid curve reading options: ";
  for (std::size_t k = 0; k < bad.size(); ++k) msg += (k ? "; " : "") + bad[k];
  throw InvalidArgument(msg);
}

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr double pi = 3.14159265358979323846;

// ---------------------------------------------------------------------------------------------------------
// Text helpers.

std::string trim(std::string_view s) {
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.front())) != 0)) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) != 0)) s.remove_suffix(1);
  return std::string(s);
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  // Builds a new string: GCC 12's -Wrestrict misfires on std::string::replace inlined at -O3.
  std::string out;
  out.reserve(s.size());
  std::size_t pos = 0;
  for (;;) {
    const std::size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out.append(to);
    pos = hit + from.size();
  }
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

// Drops a leading comment mark and surrounding quotes of a header field or line.
std::string clean_field(std::string_view s) {
  std::string t = trim(s);
  while (!t.empty() && (t.front() == '#' || t.front() == '!')) t = trim(std::string_view(t).substr(1));
  if (t.size() >= 2 && ((t.front() == '"' && t.back() == '"') || (t.front() == '\'' && t.back() == '\''))) {
    t = trim(std::string_view(t).substr(1, t.size() - 2));
  }
  return t;
}

// Lower case with the instruments' symbols spelled out: Greek δ → "delta", µ/μ → "u", primes → apostrophes,
// degree signs removed (UTF-8 and Latin-1), separators collapsed to one space.
std::string normalize(std::string s) {
  replace_all(s, "\xce\xb4", "delta");  // δ
  replace_all(s, "\xce\x94", "delta");  // Δ
  replace_all(s, "\xc2\xb5", "u");      // µ (micro sign)
  replace_all(s, "\xce\xbc", "u");      // μ (Greek mu)
  replace_all(s, "\xe2\x80\xb3", "''"); // ″
  replace_all(s, "\xe2\x80\xb2", "'");  // ′
  replace_all(s, "\xe2\x80\x99", "'");  // ’
  replace_all(s, "\xc2\xb0", "");       // ° (UTF-8)
  replace_all(s, "\xc2\xba", "");       // º
  replace_all(s, "\xe2\x86\x91", " up ");  // ↑
  std::string out;
  for (unsigned char c : s) {
    if (c == 0xB0) continue;  // ° in Latin-1
    if (c == '_' || c == '-' || std::isspace(c) != 0) {
      if (!out.empty() && out.back() != ' ') out += ' ';
      continue;
    }
    out += static_cast<char>(std::tolower(c));
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '.' || out.back() == ':' || out.back() == '/')) out.pop_back();
  return out;
}

// Parses a whole field as a number; a decimal comma is accepted when @p decimal_comma.
bool parse_number(std::string_view field, bool decimal_comma, double& value) {
  std::string t = trim(field);
  if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = trim(std::string_view(t).substr(1, t.size() - 2));
  if (t.empty()) return false;
  if (decimal_comma) std::replace(t.begin(), t.end(), ',', '.');
  const char* b = t.data();
  if (*b == '+') ++b;
  const auto [end, ec] = std::from_chars(b, t.data() + t.size(), value);
  if (ec == std::errc() && end == t.data() + t.size()) return true;
  const std::string l = lower(t);
  if (l == "nan" || l == "-nan" || l == "n/a" || l == "na" || l == "---") {
    value = nan;
    return true;
  }
  return false;
}

// Splits on @p delimiter; 0 means runs of blanks. Trailing empty fields are dropped.
std::vector<std::string> split(std::string_view line, char delimiter) {
  std::vector<std::string> out;
  if (delimiter == 0) {
    std::size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) != 0) ++i;
      const std::size_t start = i;
      while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i])) == 0) ++i;
      if (i > start) out.emplace_back(line.substr(start, i - start));
    }
    return out;
  }
  std::size_t start = 0;
  bool quoted = false;
  for (std::size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && line[i] == '"') quoted = !quoted;
    if (i == line.size() || (line[i] == delimiter && !quoted)) {
      out.push_back(trim(line.substr(start, i - start)));
      start = i + 1;
    }
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

// Header fields when the data are blank-separated: column names may hold single spaces ("Heat Flow"), so tabs and
// runs of two or more blanks separate them.
std::vector<std::string> split_header_blank(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  std::size_t blanks = 0;
  for (char c : line) {
    if (c == '\t') {
      blanks = 2;
      continue;
    }
    if (c == ' ') {
      ++blanks;
      continue;
    }
    if (blanks >= 2 && !cur.empty()) {
      out.push_back(cur);
      cur.clear();
    } else if (blanks == 1 && !cur.empty()) {
      cur += ' ';
    }
    blanks = 0;
    cur += c;
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Units.

enum class Quantity { none, temperature, time, modulus, frequency, heat_flow, dimensionless };

struct Unit {
  Quantity quantity = Quantity::none;
  double factor = 1;        // to K offset-free (temperature handled apart), s, Pa, Hz, W/g or W
  double offset = 0;        // temperature: K = factor·value + offset
  bool specific = false;    // heat flow per mass (W/g)
  std::string name;         // as written, for notes
};

std::optional<Unit> parse_unit(const std::string& raw) {
  std::string u = normalize(raw);
  u.erase(std::remove(u.begin(), u.end(), ' '), u.end());
  replace_all(u, "deg", "");
  Unit out;
  out.name = trim(raw);
  auto set = [&out](Quantity q, double factor, double offset = 0, bool specific = false) {
    out.quantity = q;
    out.factor = factor;
    out.offset = offset;
    out.specific = specific;
    return out;
  };
  if (u == "k" || u == "kelvin") return set(Quantity::temperature, 1.0);
  if (u == "c" || u == "celsius") return set(Quantity::temperature, 1.0, 273.15);
  if (u == "f" || u == "fahrenheit") return set(Quantity::temperature, 5.0 / 9.0, 273.15 - 32.0 * 5.0 / 9.0);
  if (u == "s" || u == "sec" || u == "second" || u == "seconds") return set(Quantity::time, 1.0);
  if (u == "ms") return set(Quantity::time, 1e-3);
  if (u == "min" || u == "minute" || u == "minutes") return set(Quantity::time, 60.0);
  if (u == "h" || u == "hr" || u == "hour" || u == "hours") return set(Quantity::time, 3600.0);
  if (u == "pa") return set(Quantity::modulus, 1.0);
  if (u == "kpa") return set(Quantity::modulus, 1e3);
  if (u == "mpa") return set(Quantity::modulus, 1e6);
  if (u == "gpa") return set(Quantity::modulus, 1e9);
  if (u == "hz") return set(Quantity::frequency, 1.0);
  if (u == "khz") return set(Quantity::frequency, 1e3);
  if (u == "rad/s" || u == "rads" || u == "rad/sec") return set(Quantity::frequency, 1.0 / (2 * pi));
  if (u == "w/g" || u == "mw/mg" || u == "j/(sg)" || u == "j/sg") return set(Quantity::heat_flow, 1.0, 0, true);
  if (u == "mw/g" || u == "w/kg" || u == "uw/mg") return set(Quantity::heat_flow, 1e-3, 0, true);
  if (u == "w") return set(Quantity::heat_flow, 1.0);
  if (u == "mw") return set(Quantity::heat_flow, 1e-3);
  if (u == "uw") return set(Quantity::heat_flow, 1e-6);
  if (u.empty() || u == "1" || u == "-" || u == "a.u." || u == "au") return set(Quantity::dimensionless, 1.0);
  return std::nullopt;
}

// A column name split into its label and unit: "Temperature (°C)", "Heat Flow [W/g]", "Temp./°C",
// "DSC/(mW/mg)", "Temperature in K". A bracketed part that is no known unit stays in the label ("tan(delta)").
struct ColumnName {
  std::string raw, label, unit_text;
  std::optional<Unit> unit;
};

ColumnName split_column_name(const std::string& raw) {
  ColumnName c;
  c.raw = clean_field(raw);
  c.label = c.raw;
  const std::string& s = c.raw;
  auto accept = [&c](const std::string& label, const std::string& unit_text) {
    auto u = parse_unit(unit_text);
    if (!u || u->quantity == Quantity::dimensionless) return false;
    c.label = trim(label);
    while (!c.label.empty() && (c.label.back() == '/' || c.label.back() == ',')) c.label.pop_back();
    c.unit_text = trim(unit_text);
    c.unit = u;
    return true;
  };
  if (!s.empty() && (s.back() == ')' || s.back() == ']')) {
    const char open = s.back() == ')' ? '(' : '[';
    // The matching bracket (units such as "J/(s g)" nest).
    int depth = 0;
    for (std::size_t i = s.size(); i-- > 0;) {
      if (s[i] == s.back()) ++depth;
      if (s[i] == open && --depth == 0) {
        if (accept(s.substr(0, i), s.substr(i + 1, s.size() - i - 2))) return c;
        break;
      }
    }
  }
  const std::size_t in = lower(s).rfind(" in ");
  if (in != std::string::npos && accept(s.substr(0, in), s.substr(in + 4))) return c;
  const std::size_t slash = s.find('/');
  if (slash != std::string::npos && accept(s.substr(0, slash), s.substr(slash + 1))) return c;
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// The table of numbers in a text export.

struct TextTable {
  std::vector<ColumnName> columns;
  std::vector<std::vector<double>> values;   // values[column][row]
  std::vector<std::size_t> line;             // 1-based line of each data row
  std::vector<std::pair<std::string, std::string>> metadata;  // normalized key, raw value
  std::string header_text;                   // normalized header lines, for sign conventions
  bool has_names = false;
  std::string layout;                        // "';' separated, decimal comma" etc.
};

struct Line {
  std::size_t number;
  std::string text;
};

std::vector<Line> split_lines(const std::string& text) {
  std::vector<Line> out;
  std::size_t start = 0, n = 1;
  std::string_view t(text);
  if (t.size() >= 3 && t.substr(0, 3) == "\xef\xbb\xbf") start = 3;  // UTF-8 byte-order mark
  for (std::size_t i = start; i <= t.size(); ++i) {
    if (i == t.size() || t[i] == '\n' || t[i] == '\r') {
      out.push_back({n, std::string(t.substr(start, i - start))});
      if (i + 1 < t.size() && t[i] == '\r' && t[i + 1] == '\n') ++i;
      start = i + 1;
      ++n;
    }
  }
  return out;
}

bool is_comment(const std::string& line) {
  const std::string t = trim(line);
  return t.empty() || t.front() == '#' || t.front() == '!' || (t.size() >= 2 && t[0] == '/' && t[1] == '/');
}

// A row of numbers (NaN for "nan"/"n/a"; an empty field counts as NaN when another field is a number).
bool numeric_fields(const std::vector<std::string>& fields, bool decimal_comma, std::vector<double>& out) {
  out.clear();
  bool any = false;
  for (const auto& f : fields) {
    double v = 0;
    if (trim(f).empty()) {
      out.push_back(nan);
      continue;
    }
    if (!parse_number(f, decimal_comma, v)) return false;
    any = true;
    out.push_back(v);
  }
  return any && out.size() >= 2;
}

TextTable parse_table(const std::string& text, const std::string& source) {
  const auto lines = split_lines(text);
  // The separator and decimal mark that make the most lines rows of at least two numbers.
  struct Layout {
    char delimiter;
    bool decimal_comma;
    const char* name;
  };
  const Layout layouts[] = {{';', true, "';'-separated, decimal comma"},
                            {'\t', true, "tab-separated, decimal comma"},
                            {',', false, "comma-separated"},
                            {0, false, "blank-separated"},
                            {0, true, "blank-separated, decimal comma"}};
  std::size_t best = 0, best_rows = 0;
  std::vector<double> row;
  for (std::size_t k = 0; k < std::size(layouts); ++k) {
    std::size_t rows = 0;
    for (const auto& l : lines) {
      if (!is_comment(l.text) && numeric_fields(split(l.text, layouts[k].delimiter), layouts[k].decimal_comma, row)) {
        ++rows;
      }
    }
    if (rows > best_rows) {
      best_rows = rows;
      best = k;
    }
  }
  if (best_rows == 0) {
    throw IoError(source + ": no data row (expected rows of at least two numbers separated by commas, semicolons, "
                           "tabs or blanks)");
  }
  const Layout layout = layouts[best];
  TextTable table;
  table.layout = layout.name;

  // Data rows: the rows of numbers; their field count is that of the first one.
  std::size_t first_data = lines.size(), ncol = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (is_comment(lines[i].text)) continue;
    if (numeric_fields(split(lines[i].text, layout.delimiter), layout.decimal_comma, row)) {
      first_data = i;
      ncol = row.size();
      break;
    }
  }
  table.values.assign(ncol, {});
  for (std::size_t i = first_data; i < lines.size(); ++i) {
    if (is_comment(lines[i].text)) continue;
    const auto fields = split(lines[i].text, layout.delimiter);
    if (!numeric_fields(fields, layout.decimal_comma, row)) continue;  // segment markers such as "[step]"
    if (row.size() < ncol) row.resize(ncol, nan);  // empty trailing cells
    if (row.size() != ncol) {
      throw IoError(source + ": line " + std::to_string(lines[i].number) + " has " + std::to_string(row.size()) +
                    " fields (expected " + std::to_string(ncol) + " like line " +
                    std::to_string(lines[first_data].number) + ")");
    }
    for (std::size_t c = 0; c < ncol; ++c) table.values[c].push_back(row[c]);
    table.line.push_back(lines[i].number);
  }

  // Header: metadata lines, and the column names (the last header line with as many fields as the data; a
  // line of units just above the data is recognised).
  auto header_fields = [&layout](const std::string& text_line) {
    const std::string t = clean_field(text_line);
    auto f = split(t, layout.delimiter);
    return f;
  };
  std::vector<std::vector<std::string>> candidates;  // header lines with as many fields as the data
  std::vector<std::string> last_fields;              // fields of the last non-blank header line
  bool last_is_candidate = false;
  for (std::size_t i = 0; i < first_data; ++i) {
    const std::string t = clean_field(lines[i].text);
    if (t.empty()) continue;
    table.header_text += normalize(t) + "\n";
    auto fields = header_fields(lines[i].text);
    if (layout.delimiter == 0 && fields.size() != ncol) fields = split_header_blank(t);
    last_fields = fields;
    // "key: value", "key = value", or a two-field "key,value" line.
    std::string key, value;
    const std::size_t colon = t.find(':'), eq = t.find('=');
    const std::size_t sep = std::min(colon, eq);
    if (sep != std::string::npos && sep > 0) {
      key = t.substr(0, sep);
      value = t.substr(sep + 1);
    } else if (layout.delimiter != 0) {
      const auto kv = split(t, layout.delimiter);
      if (kv.size() == 2) {
        key = kv[0];
        value = kv[1];
      }
    }
    if (!key.empty()) {
      // NETZSCH writes "#SAMPLE:;name": the separator after the colon is not part of the value.
      std::string v = clean_field(value);
      while (!v.empty() && (v.front() == ';' || v.front() == ',' || v.front() == '\t')) v = trim(std::string_view(v).substr(1));
      while (!v.empty() && (v.back() == ';' || v.back() == ',')) v.pop_back();
      table.metadata.emplace_back(normalize(clean_field(key)), trim(v));
    }
    // Column names hold no ':' or '=' (those lines are metadata).
    last_is_candidate = fields.size() == ncol && sep == std::string::npos;
    if (last_is_candidate) candidates.push_back(fields);
  }
  auto unit_of_field = [](const std::string& f) {
    std::string u = clean_field(f);
    if (u.size() >= 2 && (u.front() == '(' || u.front() == '[')) u = u.substr(1, u.size() - 2);
    return std::make_pair(u, parse_unit(u));
  };
  auto all_units = [&unit_of_field](const std::vector<std::string>& fields) {
    std::size_t units = 0;
    for (const auto& f : fields) {
      const auto p = unit_of_field(f).second;
      if (!p) return false;
      if (p->quantity != Quantity::dimensionless) ++units;
    }
    return units > 0;
  };
  // A row of units just above the data (trailing empty unit cells may be missing), below the names.
  std::vector<std::string> unit_row;
  if (!last_fields.empty() && last_fields.size() <= ncol && all_units(last_fields)) {
    unit_row = last_fields;
    unit_row.resize(ncol);
    if (last_is_candidate) candidates.pop_back();
  }
  if (!candidates.empty() && !all_units(candidates.back())) {
    table.has_names = true;
    const auto& names = candidates.back();
    for (std::size_t c = 0; c < ncol; ++c) {
      ColumnName name = split_column_name(names[c]);
      if (!unit_row.empty() && !name.unit) {
        const auto [text_unit, unit] = unit_of_field(unit_row[c]);
        if (unit && unit->quantity != Quantity::dimensionless) {
          name.unit = unit;
          name.unit_text = text_unit;
        }
      }
      table.columns.push_back(name);
    }
  }
  if (!table.has_names) {
    for (std::size_t c = 0; c < ncol; ++c) {
      ColumnName name;
      name.raw = name.label = "column " + std::to_string(c + 1);
      table.columns.push_back(name);
    }
  }
  return table;
}

// ---------------------------------------------------------------------------------------------------------
// Column recognition.

std::string column_list(const TextTable& t) {
  std::string s;
  for (std::size_t c = 0; c < t.columns.size(); ++c) s += (c ? ", '" : "'") + t.columns[c].raw + "'";
  return s;
}

bool has_word(const std::string& label, const std::string& word) {
  return (" " + label + " ").find(" " + word + " ") != std::string::npos;
}

Quantity unit_quantity(const ColumnName& c) { return c.unit ? c.unit->quantity : Quantity::none; }

// Score of a column as the temperature (0: not one). The sample temperature beats reference and program ones.
int temperature_score(const ColumnName& c) {
  const std::string l = normalize(c.label);
  const Quantity q = unit_quantity(c);
  if (q != Quantity::none && q != Quantity::temperature) return 0;
  int s = 0;
  if (l.find("temp") != std::string::npos) s = 10;
  if (c.label == "T" || l == "ts" || l == "t sample" || l == "tsample" || l == "t s") s = 10;
  if (l == "t" && q == Quantity::temperature) s = 10;
  if (s == 0 && q == Quantity::temperature) s = 5;
  if (s == 0) return 0;
  if (l.find("sample") != std::string::npos || l == "ts") s += 2;
  for (const char* w : {"ref", "program", "furnace", "set", "target", "block", "oven", "rate"}) {
    if (l.find(w) != std::string::npos) s -= 6;
  }
  return std::max(s, 1);
}

bool is_time(const ColumnName& c) {
  const std::string l = normalize(c.label);
  if (unit_quantity(c) == Quantity::time) return true;
  return unit_quantity(c) == Quantity::none && (l == "time" || l.rfind("time ", 0) == 0 || c.label == "t");
}

bool is_tan_delta(const ColumnName& c) {
  std::string l = normalize(c.label);
  l.erase(std::remove_if(l.begin(), l.end(), [](char ch) { return ch == ' ' || ch == '(' || ch == ')'; }), l.end());
  return l == "tandelta" || l == "tand" || l == "tandel" || l.find("tandelta") != std::string::npos ||
         l.find("lossfactor") != std::string::npos || l.find("losstangent") != std::string::npos ||
         l.find("dampingfactor") != std::string::npos || l == "damping";
}

bool is_storage(const ColumnName& c) {
  const std::string l = normalize(c.label);
  return l == "e'" || l == "g'" || l.find("storage") != std::string::npos || l == "e1" || l == "estorage";
}

bool is_loss_modulus(const ColumnName& c) {
  const std::string l = normalize(c.label);
  return l == "e''" || l == "g''" || l == "e\"" || l == "g\"" || l.find("loss modulus") != std::string::npos ||
         l == "e2" || l == "eloss";
}

bool is_frequency(const ColumnName& c) {
  const std::string l = normalize(c.label);
  return unit_quantity(c) == Quantity::frequency || l.rfind("freq", 0) == 0 || (l == "f" && unit_quantity(c) == Quantity::none);
}

bool is_heat_flow(const ColumnName& c) {
  const std::string l = normalize(c.label);
  if (unit_quantity(c) == Quantity::heat_flow) return true;
  if (unit_quantity(c) != Quantity::none && unit_quantity(c) != Quantity::dimensionless) return false;
  return l.find("heat flow") != std::string::npos || l.find("heatflow") != std::string::npos ||
         l.find("heat flux") != std::string::npos || has_word(l, "dsc") || l == "hf" ||
         l.find("heat flow rate") != std::string::npos;
}

// The column named exactly @p name (raw header or label), or an error listing the columns.
std::size_t named_column(const TextTable& t, const std::string& name, const std::string& source, const char* what) {
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    if (t.columns[c].raw == name || t.columns[c].label == name) return c;
  }
  throw IoError(source + ": no column named '" + name + "' for the " + what + " (columns found: " + column_list(t) + ")");
}

template <class Pred>
std::optional<std::size_t> find_column(const TextTable& t, Pred pred) {
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    if (pred(t.columns[c])) return c;
  }
  return std::nullopt;
}

std::string describe_column(const TextTable& t, std::size_t c) {
  return "column " + std::to_string(c + 1) + " '" + t.columns[c].raw + "'";
}

// The temperature column, converted to K.
std::size_t temperature_column(const TextTable& t, const CurveReadOptions& opt, const std::string& source,
                               std::vector<double>& T_K, std::vector<std::string>& notes) {
  std::size_t col = 0;
  if (!opt.temperature_column.empty()) {
    col = named_column(t, opt.temperature_column, source, "temperature");
  } else if (!t.has_names) {
    col = 0;
    notes.push_back("no column names: column 1 taken as the temperature");
  } else {
    int best = 0;
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const int s = temperature_score(t.columns[c]);
      if (s > best) {
        best = s;
        col = c;
      }
    }
    if (best == 0) {
      throw IoError(source + ": no temperature column (columns found: " + column_list(t) +
                    "; expected one named Temperature, Temp. or T, in K, °C or °F)");
    }
  }
  const ColumnName& name = t.columns[col];
  T_K = t.values[col];
  if (name.unit && name.unit->quantity != Quantity::temperature) {
    throw IoError(source + ": " + describe_column(t, col) + " is in '" + name.unit_text +
                  "', not a temperature unit (expected K, °C or °F)");
  }
  Unit unit;
  std::string how;
  if (name.unit) {
    unit = *name.unit;
    how = "in " + name.unit_text;
  } else {
    TemperatureUnit u = opt.temperature_unit;
    if (u == TemperatureUnit::automatic) {
      double lo = std::numeric_limits<double>::infinity();
      for (double v : T_K) {
        if (std::isfinite(v)) lo = std::min(lo, v);
      }
      // 150: no DMA or DSC scan of a glass reaches below 150 °C... in kelvin, and none in °C starts above it.
      u = lo >= 150 ? TemperatureUnit::kelvin : TemperatureUnit::celsius;
      how = std::string("no unit given: assumed ") + (u == TemperatureUnit::kelvin ? "K" : "°C") +
            " (every value " + (u == TemperatureUnit::kelvin ? ">= 150" : "below 150 somewhere") +
            "; set the temperature unit to override)";
    } else {
      how = std::string("no unit given: ") + temperature_unit_name(u) + " as asked";
    }
    unit.factor = 1;
    unit.offset = u == TemperatureUnit::celsius ? 273.15 : 0.0;
  }
  for (auto& v : T_K) v = unit.factor * v + unit.offset;
  notes.push_back(describe_column(t, col) + ": temperature, " + how);
  return col;
}

// Whether the rows at index k are usable (T and every listed column finite).
std::vector<std::size_t> finite_rows(const std::vector<const std::vector<double>*>& cols, std::size_t n) {
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < n; ++i) {
    bool ok = true;
    for (const auto* c : cols) ok = ok && std::isfinite((*c)[i]);
    if (ok) keep.push_back(i);
  }
  return keep;
}

// Orders rows by temperature (averaging equal temperatures) or checks that the temperature increases strictly.
// @p columns are reordered alike. @p lines gives the file line of each row for messages.
void order_rows(std::vector<double>& T, std::vector<std::vector<double>*> columns, const std::vector<std::size_t>& lines,
                bool sort, const std::string& source, const std::string& column_text, std::vector<std::string>& notes) {
  const std::size_t n = T.size();
  if (!sort) {
    for (std::size_t i = 1; i < n; ++i) {
      if (!(T[i] > T[i - 1])) {
        throw IoError(source + ": " + column_text + ": the temperature does not increase at line " +
                      std::to_string(lines[i]) + " (" + num(T[i]) + " K after " + num(T[i - 1]) + " K on line " +
                      std::to_string(lines[i - 1]) +
                      "); expected one heating scan, strictly increasing (split multi-segment exports, or sort the "
                      "rows by temperature)");
      }
    }
    return;
  }
  std::vector<std::size_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&T](std::size_t a, std::size_t b) { return T[a] < T[b]; });
  std::vector<double> Tn;
  std::vector<std::vector<double>> cn(columns.size());
  std::size_t merged = 0;
  for (std::size_t k = 0; k < n;) {
    std::size_t e = k;
    while (e < n && T[idx[e]] == T[idx[k]]) ++e;
    Tn.push_back(T[idx[k]]);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c]->empty()) continue;
      double s = 0;
      for (std::size_t j = k; j < e; ++j) s += (*columns[c])[idx[j]];
      cn[c].push_back(s / static_cast<double>(e - k));
    }
    merged += e - k - 1;
    k = e;
  }
  T = Tn;
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (!columns[c]->empty()) *columns[c] = cn[c];
  }
  notes.push_back("rows sorted by temperature" +
                  (merged ? ", " + std::to_string(merged) + " rows at repeated temperatures averaged" : std::string()));
}

std::optional<std::string> metadata_value(const TextTable& t, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    for (const auto& [key, value] : t.metadata) {
      if (key == k && !value.empty()) return value;
    }
  }
  return std::nullopt;
}

// A positive number at the start of @p s and the text after it ("20 K/min" -> 20, " K/min"); nullopt when
// there is none.
std::optional<std::pair<double, std::string>> leading_positive_number(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) != 0 || s[i] == '.' || s[i] == 'e' ||
                          s[i] == '-' || s[i] == '+')) {
    ++i;
  }
  double v = 0;
  if (i == 0 || !parse_number(s.substr(0, i), false, v) || !(v > 0)) return std::nullopt;
  return std::make_pair(v, s.substr(i));
}

// "20 K/min", "20.0 °C/min", "0.5 K/s", "3 K min-1", "20" (K/min). nullopt when unreadable.
std::optional<double> parse_rate_K_per_min(const std::string& text) {
  std::string s = normalize(text);
  const auto lead = leading_positive_number(s);
  if (!lead) return std::nullopt;
  const double v = lead->first;
  std::string unit = lead->second;
  unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
  if (unit.empty() || unit == "k/min" || unit == "c/min" || unit == "kmin 1" || unit == "kmin1" || unit == "kmin-1" ||
      unit == "cmin-1" || unit == "k/mn") {
    return v;
  }
  if (unit == "k/s" || unit == "c/s" || unit == "ks-1" || unit == "ks1") return v * 60.0;
  if (unit == "k/h" || unit == "c/h") return v / 60.0;
  return std::nullopt;
}

std::optional<double> parse_mass_mg(const std::string& text) {
  std::string s = normalize(text);
  const auto lead = leading_positive_number(s);
  if (!lead) return std::nullopt;
  const double v = lead->first;
  std::string unit = lead->second;
  unit.erase(std::remove(unit.begin(), unit.end(), ' '), unit.end());
  if (unit.empty() || unit == "mg") return v;
  if (unit == "g") return v * 1e3;
  if (unit == "ug") return v * 1e-3;
  if (unit == "ng") return v * 1e-6;  // Flash DSC samples
  return std::nullopt;
}

std::optional<double> parse_frequency_Hz(const std::string& text) {
  std::string s = trim(text);
  const auto lead = leading_positive_number(s);
  if (!lead) return std::nullopt;
  const double v = lead->first;
  const std::string unit = trim(lead->second);
  if (unit.empty()) return v;
  const auto u = parse_unit(unit);
  if (!u || u->quantity != Quantity::frequency) return std::nullopt;
  return v * u->factor;
}

std::string sample_name(const TextTable& t) {
  return metadata_value(t, {"sample", "sample name", "samplename", "specimen", "sample id", "name", "identity"})
      .value_or("");
}

std::optional<double> header_heating_rate(const TextTable& t, const std::string& source, std::vector<std::string>& notes) {
  const auto v = metadata_value(t, {"heating rate", "rate", "scan rate", "heating rate k/min", "beta", "heatingrate"});
  if (!v) return std::nullopt;
  const auto r = parse_rate_K_per_min(*v);
  if (!r) {
    throw IoError(source + ": heating rate '" + *v + "' in the header is not understood (expected a number > 0 with "
                           "K/min, °C/min or K/s)");
  }
  notes.push_back("heating rate " + num(*r) + " K/min from the header");
  return r;
}

std::vector<double> select(const std::vector<double>& v, const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  out.reserve(rows.size());
  for (auto r : rows) out.push_back(v[r]);
  return out;
}

void check_row_count(std::size_t n, const std::string& source, const std::string& what) {
  if (n < 2) {
    throw IoError(source + ": " + std::to_string(n) + " usable data row" + (n == 1 ? "" : "s") + " of " + what +
                  " (expected a curve of at least 2 rows)");
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// DMA

DmaCurve parse_dma(const std::string& text, const std::string& source, const CurveReadOptions& options) {
  options.validate();
  const TextTable t = parse_table(text, source);
  DmaCurve curve;
  curve.source = source;
  curve.sample = sample_name(t);
  curve.notes.push_back(t.layout + std::string(", ") + std::to_string(t.line.size()) + " data rows");
  std::vector<double> T;
  const std::size_t tcol = temperature_column(t, options, source, T, curve.notes);

  // tan δ: a named column, or E″/E′.
  std::vector<double> tand, E1, E2;
  std::optional<std::size_t> dcol;
  if (!options.signal_column.empty()) {
    dcol = named_column(t, options.signal_column, source, "tan delta");
  } else if (t.has_names) {
    dcol = find_column(t, is_tan_delta);
  } else if (t.columns.size() >= 2) {
    dcol = tcol == 1 ? 0 : 1;
    curve.notes.push_back("no column names: column " + std::to_string(*dcol + 1) + " taken as tan delta");
  }
  const auto e1col = t.has_names ? find_column(t, is_storage) : std::nullopt;
  const auto e2col = t.has_names ? find_column(t, is_loss_modulus) : std::nullopt;
  auto modulus = [&](std::size_t c, std::vector<double>& out, const char* what) {
    const ColumnName& n = t.columns[c];
    double f = 1.0;
    if (n.unit && n.unit->quantity == Quantity::modulus) {
      f = n.unit->factor;
    } else if (n.unit) {
      throw IoError(source + ": " + describe_column(t, c) + " (" + what + ") is in '" + n.unit_text +
                    "' (expected Pa, kPa, MPa or GPa)");
    } else {
      curve.notes.push_back(describe_column(t, c) + ": no unit, assumed Pa");
    }
    out = t.values[c];
    for (auto& v : out) v *= f;
    curve.notes.push_back(describe_column(t, c) + ": " + what + (n.unit ? ", in " + n.unit_text : std::string()));
  };
  if (e1col) modulus(*e1col, E1, "storage modulus E'");
  if (e2col) modulus(*e2col, E2, "loss modulus E''");
  if (dcol) {
    const ColumnName& n = t.columns[*dcol];
    if (n.unit && n.unit->quantity != Quantity::dimensionless) {
      throw IoError(source + ": " + describe_column(t, *dcol) + " (tan delta) has the unit '" + n.unit_text +
                    "' (expected a number without unit)");
    }
    tand = t.values[*dcol];
    curve.notes.push_back(describe_column(t, *dcol) + ": tan delta");
  } else if (e1col && e2col) {
    tand.resize(E1.size());
    for (std::size_t i = 0; i < E1.size(); ++i) tand[i] = E2[i] / E1[i];
    curve.notes.push_back("no tan delta column: tan delta = E''/E' from the moduli");
  } else {
    throw IoError(source + ": no tan delta column (columns found: " + column_list(t) +
                  "; expected one named 'tan delta', 'tan δ', 'tand' or 'loss factor', or both E' and E'' to "
                  "compute it)");
  }

  // Frequency: a column (rows of one frequency kept) or the header.
  std::vector<std::size_t> rows(T.size());
  std::iota(rows.begin(), rows.end(), 0);
  const auto fcol = t.has_names ? find_column(t, is_frequency) : std::nullopt;
  if (fcol) {
    const ColumnName& n = t.columns[*fcol];
    const double f = n.unit && n.unit->quantity == Quantity::frequency ? n.unit->factor : 1.0;
    std::vector<double> freqs;
    for (double v : t.values[*fcol]) {
      if (!std::isfinite(v)) continue;
      const double hz = v * f;
      // Frequencies within 0.1 % are one setting (instruments report the measured frequency).
      if (std::none_of(freqs.begin(), freqs.end(), [hz](double x) { return std::abs(x - hz) <= 1e-3 * x; })) {
        freqs.push_back(hz);
      }
    }
    if (freqs.size() == 1) {
      curve.frequency_Hz = freqs.front();
    } else if (freqs.size() > 1) {
      std::vector<std::size_t> keep;
      for (std::size_t i = 0; i < T.size(); ++i) {
        const double hz = t.values[*fcol][i] * f;
        if (std::abs(hz - options.frequency_Hz) <= 1e-3 * options.frequency_Hz) keep.push_back(i);
      }
      if (keep.empty()) {
        std::sort(freqs.begin(), freqs.end());
        std::string list;
        for (std::size_t k = 0; k < freqs.size(); ++k) list += (k ? ", " : "") + num(freqs[k]);
        throw IoError(source + ": " + describe_column(t, *fcol) + ": no row at " + num(options.frequency_Hz) +
                      " Hz (the file holds " + list + " Hz; choose one of them)");
      }
      rows = keep;
      curve.frequency_Hz = options.frequency_Hz;
      curve.notes.push_back(describe_column(t, *fcol) + ": " + std::to_string(freqs.size()) +
                            " frequencies; the " + std::to_string(keep.size()) + " rows at " +
                            num(options.frequency_Hz) + " Hz kept");
    }
  }
  if (!curve.frequency_Hz) {
    if (const auto v = metadata_value(t, {"frequency", "freq", "frequency hz"})) {
      curve.frequency_Hz = parse_frequency_Hz(*v);
      if (!curve.frequency_Hz) {
        throw IoError(source + ": frequency '" + *v + "' in the header is not understood (expected a number > 0 in Hz)");
      }
    }
  }
  curve.heating_rate_K_per_min = options.heating_rate_K_per_min ? options.heating_rate_K_per_min
                                                                : header_heating_rate(t, source, curve.notes);

  // Usable rows: finite temperature and tan δ.
  std::vector<double> Tsel = select(T, rows), dsel = select(tand, rows);
  std::vector<std::size_t> lines;
  for (auto r : rows) lines.push_back(t.line[r]);
  const auto ok = finite_rows({&Tsel, &dsel}, Tsel.size());
  if (ok.size() < Tsel.size()) {
    curve.notes.push_back(std::to_string(Tsel.size() - ok.size()) + " rows without a temperature or tan delta skipped");
  }
  std::vector<double> E1sel, E2sel;
  if (!E1.empty()) E1sel = select(select(E1, rows), ok);
  if (!E2.empty()) E2sel = select(select(E2, rows), ok);
  Tsel = select(Tsel, ok);
  dsel = select(dsel, ok);
  std::vector<std::size_t> okl;
  for (auto k : ok) okl.push_back(lines[k]);
  check_row_count(Tsel.size(), source, "temperature and tan delta");
  order_rows(Tsel, {&dsel, &E1sel, &E2sel}, okl, options.sort_by_temperature, source, describe_column(t, tcol),
             curve.notes);
  curve.temperature_K = std::move(Tsel);
  curve.tan_delta = std::move(dsel);
  curve.storage_modulus_Pa = std::move(E1sel);
  curve.loss_modulus_Pa = std::move(E2sel);
  return curve;
}

DmaCurve read_dma(const std::string& path, const CurveReadOptions& options) {
  return parse_dma(detail::read_file(path), path, options);
}

// ---------------------------------------------------------------------------------------------------------
// DSC

DscCurve parse_dsc(const std::string& text, const std::string& source, const CurveReadOptions& options) {
  options.validate();
  const TextTable t = parse_table(text, source);
  DscCurve curve;
  curve.source = source;
  curve.sample = sample_name(t);
  curve.notes.push_back(t.layout + std::string(", ") + std::to_string(t.line.size()) + " data rows");
  std::vector<double> T;
  const std::size_t tcol = temperature_column(t, options, source, T, curve.notes);

  std::optional<std::size_t> hcol;
  if (!options.signal_column.empty()) {
    hcol = named_column(t, options.signal_column, source, "heat flow");
  } else if (t.has_names) {
    hcol = find_column(t, is_heat_flow);
  }
  if (!hcol) {
    throw IoError(source + ": no heat-flow column (columns found: " + column_list(t) +
                  "; expected one named 'Heat Flow', 'HF' or 'DSC' with a unit such as W/g, mW/mg or mW)");
  }
  const ColumnName& hn = t.columns[*hcol];
  if (!hn.unit || hn.unit->quantity != Quantity::heat_flow) {
    throw IoError(source + ": " + describe_column(t, *hcol) + " (heat flow) has " +
                  (hn.unit_text.empty() ? std::string("no unit") : "the unit '" + hn.unit_text + "'") +
                  " (expected W/g, mW/mg, mW/g, W/kg, W, mW or uW in the column name, e.g. 'Heat Flow (W/g)')");
  }
  std::vector<double> H = t.values[*hcol];
  for (auto& v : H) v *= hn.unit->factor;

  // Sign convention.
  HeatFlowSign sign = options.heat_flow_sign;
  std::string sign_how = "as asked";
  if (sign == HeatFlowSign::automatic) {
    const std::string text_all = normalize(hn.raw) + "\n" + t.header_text;
    const bool exo_up = text_all.find("exo up") != std::string::npos || text_all.find("up exo") != std::string::npos ||
                        text_all.find("endo down") != std::string::npos || text_all.find("exoup") != std::string::npos;
    const bool endo_up = text_all.find("endo up") != std::string::npos ||
                         text_all.find("up endo") != std::string::npos ||
                         text_all.find("exo down") != std::string::npos || text_all.find("endoup") != std::string::npos;
    if (exo_up && endo_up) {
      throw IoError(source + ": the header says both exo up and endo up; give the heat-flow sign explicitly");
    }
    sign = exo_up ? HeatFlowSign::exo_up : HeatFlowSign::endo_up;
    sign_how = exo_up || endo_up ? "from the header" : "not stated in the file: endo up assumed";
  }
  if (sign == HeatFlowSign::exo_up) {
    for (auto& v : H) v = -v;
  }
  curve.notes.push_back(describe_column(t, *hcol) + ": heat flow in " + hn.unit_text + ", " +
                        heat_flow_sign_name(sign) + " (" + sign_how + ")" +
                        (sign == HeatFlowSign::exo_up ? ", negated to endo up" : ""));

  // Mass: converts W to W/g.
  curve.sample_mass_mg = options.sample_mass_mg;
  if (!curve.sample_mass_mg) {
    if (const auto v = metadata_value(t, {"sample mass", "mass", "weight", "sample weight", "size", "sample size"})) {
      curve.sample_mass_mg = parse_mass_mg(*v);
      if (!curve.sample_mass_mg) {
        throw IoError(source + ": sample mass '" + *v +
                      "' in the header is not understood (expected a number > 0 in mg, g, ug or ng)");
      }
    }
  }
  if (hn.unit->specific) {
    curve.heat_flow_unit = "W/g";
  } else if (curve.sample_mass_mg) {
    const double g = *curve.sample_mass_mg * 1e-3;
    for (auto& v : H) v /= g;
    curve.heat_flow_unit = "W/g";
    curve.notes.push_back("heat flow divided by the sample mass " + num(*curve.sample_mass_mg) + " mg");
  } else {
    curve.heat_flow_unit = "W";
    curve.notes.push_back("sample mass unknown: heat flow kept in W, enthalpies in J");
  }

  // Time.
  std::vector<double> time;
  const auto timecol = t.has_names ? find_column(t, [&](const ColumnName& c) { return is_time(c); }) : std::nullopt;
  if (timecol && *timecol != tcol && *timecol != *hcol) {
    const ColumnName& n = t.columns[*timecol];
    const double f = n.unit && n.unit->quantity == Quantity::time ? n.unit->factor : 1.0;
    time = t.values[*timecol];
    for (auto& v : time) v *= f;
    curve.notes.push_back(describe_column(t, *timecol) + ": time" +
                          (n.unit ? ", in " + n.unit_text : std::string(", no unit: assumed s")));
  }

  const auto ok = finite_rows({&T, &H}, T.size());
  if (ok.size() < T.size()) {
    curve.notes.push_back(std::to_string(T.size() - ok.size()) + " rows without a temperature or heat flow skipped");
  }
  std::vector<double> Ts = select(T, ok), Hs = select(H, ok), ts;
  if (!time.empty()) ts = select(time, ok);
  std::vector<std::size_t> lines;
  for (auto k : ok) lines.push_back(t.line[k]);
  check_row_count(Ts.size(), source, "temperature and heat flow");
  order_rows(Ts, {&Hs, &ts}, lines, options.sort_by_temperature, source, describe_column(t, tcol), curve.notes);

  // Heating rate: option, header, or the slope of T(t).
  if (options.heating_rate_K_per_min) {
    curve.heating_rate_K_per_min = options.heating_rate_K_per_min;
  } else {
    curve.heating_rate_K_per_min = header_heating_rate(t, source, curve.notes);
  }
  if (!curve.heating_rate_K_per_min && ts.size() >= 2) {
    double st = 0, sT = 0;
    const double n = static_cast<double>(ts.size());
    for (std::size_t i = 0; i < ts.size(); ++i) {
      st += ts[i];
      sT += Ts[i];
    }
    double stt = 0, stT = 0;
    for (std::size_t i = 0; i < ts.size(); ++i) {
      stt += (ts[i] - st / n) * (ts[i] - st / n);
      stT += (ts[i] - st / n) * (Ts[i] - sT / n);
    }
    if (stt > 0 && stT / stt > 0) {
      curve.heating_rate_K_per_min = stT / stt * 60.0;
      curve.notes.push_back("heating rate " + num(*curve.heating_rate_K_per_min) + " K/min from the time column");
    }
  }
  if (!curve.heating_rate_K_per_min) curve.notes.push_back("heating rate unknown: no enthalpies or delta c_p");
  curve.temperature_K = std::move(Ts);
  curve.heat_flow = std::move(Hs);
  curve.time_s = std::move(ts);
  return curve;
}

DscCurve read_dsc(const std::string& path, const CurveReadOptions& options) {
  return parse_dsc(detail::read_file(path), path, options);
}

}  // namespace libpdf
