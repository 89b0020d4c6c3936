#pragma once
// A small JSON writer for the subcommands' --json output (key order kept, numbers with 10 significant digits,
// NaN and unset values as null).
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

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

}  // namespace pdfreduce
