#pragma once
// A small JSON writer for the subcommands' --json output (key order kept, numbers with 10 significant digits,
// NaN and unset values as null).
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/metrics.hpp"
#include "pdfreduce/common.hpp"

namespace pdfreduce {

// A JSON object written in key order, numbers with 10 significant digits, NaN and unset values as null.
class JsonObject {
 public:
  void number(const std::string& key, std::optional<double> v) {
    add(key, v && std::isfinite(*v) ? strprintf("%.10g", *v) : std::string("null"));
  }
  void text(const std::string& key, const std::string& v) { add(key, quote(v)); }
  void boolean(const std::string& key, bool v) { add(key, v ? "true" : "false"); }
  void raw(const std::string& key, const std::string& json) { add(key, json); }
  static std::string quote(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += static_cast<char>(c);
      } else if (c < 0x20) {
        out += strprintf("\\u%04x", c);
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  }
  /// A JSON array of strings (each quoted).
  static std::string string_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t k = 0; k < items.size(); ++k) out += (k ? ", " : "") + quote(items[k]);
    return out + "]";
  }
  /// A JSON array of items that are already JSON (objects, numbers).
  static std::string raw_list(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t k = 0; k < items.size(); ++k) out += (k ? ", " : "") + items[k];
    return out + "]";
  }
  std::string str(int indent = 2) const {
    const std::string pad(static_cast<std::size_t>(indent), ' ');
    std::string out = "{\n";
    for (std::size_t k = 0; k < items_.size(); ++k) {
      out += pad + quote(items_[k].first) + ": " + items_[k].second + (k + 1 < items_.size() ? ",\n" : "\n");
    }
    return out + std::string(static_cast<std::size_t>(indent > 2 ? indent - 2 : 0), ' ') + "}";
  }

 private:
  void add(const std::string& key, const std::string& value) { items_.emplace_back(key, value); }
  std::vector<std::pair<std::string, std::string>> items_;
};

/// The fields of an onset fit, as `pdfreduce onset --json` and the onset file of `pdfreduce run` write them:
/// onset, onset_sigma, both slopes with σ, intercept with σ, p_value, detected, significance, chi2 of both fits,
/// n, sigma_known.
inline void add_onset_fields(JsonObject& j, const libpdf::OnsetResult& r, const libpdf::OnsetOptions& o) {
  j.number("onset", r.onset);
  j.number("onset_sigma", r.onset_sigma);
  j.number("slope_below", r.slope_below);
  j.number("slope_below_sigma", r.slope_below_sigma);
  j.number("slope_above", r.slope_above);
  j.number("slope_above_sigma", r.slope_above_sigma);
  j.number("intercept", r.intercept);
  j.number("intercept_sigma", r.intercept_sigma);
  j.number("p_value", r.p_value);
  j.boolean("detected", r.detected);
  j.number("significance", o.significance);
  j.number("chi2_hinge", r.chi2_hinge);
  j.number("chi2_line", r.chi2_line);
  j.number("n", static_cast<double>(r.n));
  j.boolean("sigma_known", r.sigma_known);
}

}  // namespace pdfreduce
