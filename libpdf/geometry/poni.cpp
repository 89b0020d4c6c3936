// PONI files (pyFAI's calibration format), versions 1, 2 and 2.1. See docs/conventions.md §1.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/version.hpp"

namespace libpdf {

Detector Detector::perkinelmer_xrd1621() { return {"Perkin", 2048, 2048, 200e-6, 200e-6, 3}; }
Detector Detector::varex_4343ct() { return {"Varex4343CT", 2880, 2880, 150e-6, 150e-6, 3}; }
Detector Detector::pilatus_1m() { return {"Pilatus1M", 1043, 981, 172e-6, 172e-6, 3}; }

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(std::string_view s) {
  std::size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return std::string(s.substr(a, b - a));
}

// A deliberately small JSON reader for Detector_config: a flat object whose values are numbers, strings,
// null, booleans or arrays of those. Anything else is an error naming the offending text.
struct JsonValue {
  enum Kind { null, number, string, boolean, array } kind = null;
  double num = 0;
  std::string str;
  std::vector<JsonValue> items;
};

class JsonReader {
 public:
  JsonReader(std::string_view text, std::string_view source) : t_(text), src_(source) {}

  std::map<std::string, JsonValue> object() {
    std::map<std::string, JsonValue> out;
    skip();
    expect('{');
    skip();
    if (peek() == '}') {
      ++i_;
      return out;
    }
    for (;;) {
      skip();
      std::string key = string_value();
      skip();
      expect(':');
      out[lower(key)] = value();
      skip();
      if (peek() == ',') {
        ++i_;
        continue;
      }
      expect('}');
      break;
    }
    skip();
    if (i_ != t_.size()) fail("unexpected text after the closing '}'");
    return out;
  }

 private:
  char peek() const { return i_ < t_.size() ? t_[i_] : '\0'; }
  void skip() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw InvalidArgument(std::string(src_) + ": Detector_config is not valid JSON (" + what + " at character " +
                          std::to_string(i_) + " of '" + std::string(t_) + "')");
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string_value() {
    expect('"');
    std::string s;
    while (i_ < t_.size() && t_[i_] != '"') {
      if (t_[i_] == '\\' && i_ + 1 < t_.size()) ++i_;
      s += t_[i_++];
    }
    expect('"');
    return s;
  }
  JsonValue value() {
    skip();
    JsonValue v;
    const char c = peek();
    if (c == '"') {
      v.kind = JsonValue::string;
      v.str = string_value();
    } else if (c == '[') {
      // Detector_config holds flat arrays; a bound on nesting keeps "[[[[..." from exhausting the stack.
      if (++depth_ > kMaxDepth) fail("arrays nested deeper than " + std::to_string(kMaxDepth));
      ++i_;
      v.kind = JsonValue::array;
      skip();
      if (peek() == ']') {
        ++i_;
        return v;
      }
      for (;;) {
        v.items.push_back(value());
        skip();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        expect(']');
        break;
      }
      --depth_;
    } else if (t_.substr(i_, 4) == "null") {
      i_ += 4;
    } else if (t_.substr(i_, 4) == "true") {
      i_ += 4;
      v.kind = JsonValue::boolean;
      v.num = 1;
    } else if (t_.substr(i_, 5) == "false") {
      i_ += 5;
      v.kind = JsonValue::boolean;
    } else {
      const std::string rest(t_.substr(i_));
      std::size_t used = 0;
      try {
        v.num = std::stod(rest, &used);
      } catch (const std::exception&) {
        fail("expected a number, string, array or null");
      }
      v.kind = JsonValue::number;
      i_ += used;
    }
    return v;
  }

  static constexpr int kMaxDepth = 8;
  std::string_view t_;
  std::string_view src_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

double parse_number(const std::string& key, const std::string& value, std::string_view source) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || trim(value.substr(used)).size() != 0) {
    throw InvalidArgument(std::string(source) + ": PONI key '" + key + "' has value '" + value +
                          "', expected a number");
  }
  return v;
}

// Detectors pyFAI knows by name whose PONI files may omit the pixel size.
bool detector_from_name(const std::string& name, Detector& det) {
  const std::string n = lower(name);
  if (n == "pilatus1m" || n == "pilatus 1m") {
    det = Detector::pilatus_1m();
    return true;
  }
  if (n == "perkin" || n == "perkinelmer" || n == "perkin detector" || n == "xrd1621" || n == "perkinelmer_xrd1621") {
    det = Detector::perkinelmer_xrd1621();
    return true;
  }
  if (n == "varex4343ct" || n == "varex 4343ct" || n == "varex_4343ct") {
    det = Detector::varex_4343ct();
    return true;
  }
  return false;
}

std::string fmt_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

}  // namespace

void Poni::validate() const {
  std::vector<std::string> bad;
  auto check_positive = [&](const char* name, double v) {
    if (!(std::isfinite(v) && v > 0)) bad.push_back(std::string(name) + " = " + fmt_double(v) + " (expected a finite value > 0)");
  };
  auto check_finite = [&](const char* name, double v) {
    if (!std::isfinite(v)) bad.push_back(std::string(name) + " = " + fmt_double(v) + " (expected a finite value)");
  };
  check_positive("Distance", distance_m);
  check_positive("PixelSize1", detector.pixel1_m);
  check_positive("PixelSize2", detector.pixel2_m);
  check_finite("Poni1", poni1_m);
  check_finite("Poni2", poni2_m);
  check_finite("Rot1", rot1);
  check_finite("Rot2", rot2);
  check_finite("Rot3", rot3);
  if (!(std::isfinite(wavelength_m) && wavelength_m >= 0)) {
    bad.push_back("Wavelength = " + fmt_double(wavelength_m) + " (expected a finite value > 0, or 0 when not given)");
  }
  if (detector.orientation < 1 || detector.orientation > 4) {
    bad.push_back("orientation = " + std::to_string(detector.orientation) + " (expected 1, 2, 3 or 4)");
  }
  if (version != 1 && version != 2 && version != 21) {
    bad.push_back("version = " + std::to_string(version) + " (expected 1, 2 or 21 for 2.1)");
  }
  if (!bad.empty()) {
    std::string msg = "invalid PONI geometry: ";
    for (std::size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    throw InvalidArgument(msg);
  }
}

Poni parse_poni(std::string_view text, std::string_view source) {
  std::map<std::string, std::pair<std::string, std::string>> kv;  // lower key -> (original key, value)
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    const std::string t = trim(line);
    if (t.empty()) continue;
    const auto colon = t.find(':');
    if (colon == std::string::npos) {
      throw InvalidArgument(std::string(source) + ": line " + std::to_string(lineno) + " '" + t +
                            "' is not a 'key: value' pair");
    }
    const std::string key = trim(std::string_view(t).substr(0, colon));
    kv[lower(key)] = {key, trim(std::string_view(t).substr(colon + 1))};  // the last duplicate wins
  }

  Poni p;
  auto get = [&](const char* key) -> const std::string* {
    auto it = kv.find(key);
    return it == kv.end() ? nullptr : &it->second.second;
  };
  auto require_number = [&](const char* key, const char* display) {
    const std::string* v = get(key);
    if (!v) throw InvalidArgument(std::string(source) + ": PONI key '" + display + "' is missing");
    return parse_number(display, *v, source);
  };

  p.version = 1;
  if (const std::string* v = get("poni_version")) {
    const double ver = parse_number("poni_version", *v, source);
    if (ver == 1) p.version = 1;
    else if (ver == 2) p.version = 2;
    else if (std::fabs(ver - 2.1) < 1e-9) p.version = 21;
    else throw InvalidArgument(std::string(source) + ": poni_version " + *v + " is not supported (expected 1, 2 or 2.1)");
  }

  if (const std::string* name = get("detector")) {
    p.detector.name = *name;
    detector_from_name(*name, p.detector);
  }
  if (p.version == 1) {
    if (!get("pixelsize1") && p.detector.pixel1_m > 0) {
      // A named detector supplies the pixel size.
    } else {
      p.detector.pixel1_m = require_number("pixelsize1", "PixelSize1");
      p.detector.pixel2_m = require_number("pixelsize2", "PixelSize2");
    }
  } else {
    const std::string* cfg = get("detector_config");
    if (cfg) {
      const auto obj = JsonReader(*cfg, source).object();
      auto num = [&](const char* key, double& out) {
        auto it = obj.find(key);
        if (it == obj.end() || it->second.kind == JsonValue::null) return;
        if (it->second.kind != JsonValue::number) {
          throw InvalidArgument(std::string(source) + ": Detector_config '" + key + "' must be a number");
        }
        out = it->second.num;
      };
      num("pixel1", p.detector.pixel1_m);
      num("pixel2", p.detector.pixel2_m);
      auto ms = obj.find("max_shape");
      if (ms != obj.end() && ms->second.kind == JsonValue::array) {
        if (ms->second.items.size() != 2 || ms->second.items[0].kind != JsonValue::number ||
            ms->second.items[1].kind != JsonValue::number || ms->second.items[0].num < 1 ||
            ms->second.items[1].num < 1) {
          throw InvalidArgument(std::string(source) + ": Detector_config 'max_shape' must be [rows, cols] or null");
        }
        // Whole pixel counts below 2^31 (no detector comes near): a NaN, 1e30 or 2.5 would otherwise be cast to
        // an integer, which is undefined behaviour or a silent truncation.
        for (const JsonValue& n : ms->second.items) {
          if (!(n.num <= 2147483647.0) || n.num != std::floor(n.num)) {
            throw InvalidArgument(std::string(source) + ": Detector_config 'max_shape' holds " + fmt_double(n.num) +
                                  " (expected whole numbers of pixels from 1 to 2147483647)");
          }
        }
        p.detector.rows = static_cast<std::size_t>(ms->second.items[0].num);
        p.detector.cols = static_cast<std::size_t>(ms->second.items[1].num);
      }
      auto ori = obj.find("orientation");
      if (ori != obj.end() && ori->second.kind != JsonValue::null) {
        if (ori->second.kind != JsonValue::number || ori->second.num != std::floor(ori->second.num) ||
            ori->second.num < 1 || ori->second.num > 4) {
          throw InvalidArgument(std::string(source) + ": Detector_config 'orientation' must be 1, 2, 3 or 4");
        }
        p.detector.orientation = static_cast<int>(ori->second.num);
      }
    }
    if (!(p.detector.pixel1_m > 0) || !(p.detector.pixel2_m > 0)) {
      // Some writers keep version-1 style pixel sizes in a version-2 file.
      if (get("pixelsize1")) p.detector.pixel1_m = require_number("pixelsize1", "PixelSize1");
      if (get("pixelsize2")) p.detector.pixel2_m = require_number("pixelsize2", "PixelSize2");
    }
    if (!(p.detector.pixel1_m > 0) || !(p.detector.pixel2_m > 0)) {
      throw InvalidArgument(std::string(source) + ": the PONI gives no pixel size (expected Detector_config "
                            "{\"pixel1\": ..., \"pixel2\": ...} or a detector libpdf knows by name)");
    }
  }
  if (const std::string* spline = get("splinefile")) {
    if (lower(*spline) != "none" && !spline->empty()) {
      throw InvalidArgument(std::string(source) + ": SplineFile '" + *spline +
                            "' is not supported (libpdf handles flat detectors without distortion splines)");
    }
  }
  p.distance_m = require_number("distance", "Distance");
  p.poni1_m = require_number("poni1", "Poni1");
  p.poni2_m = require_number("poni2", "Poni2");
  p.rot1 = require_number("rot1", "Rot1");
  p.rot2 = require_number("rot2", "Rot2");
  p.rot3 = require_number("rot3", "Rot3");
  if (const std::string* w = get("wavelength")) {
    p.wavelength_m = parse_number("Wavelength", *w, source);
    if (!(p.wavelength_m > 0) || !std::isfinite(p.wavelength_m)) {
      throw InvalidArgument(std::string(source) + ": PONI key 'Wavelength' is " + *w +
                            " (expected a wavelength > 0 in metres)");
    }
  }
  try {
    p.validate();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string(source) + ": " + e.what());
  }
  return p;
}

Poni read_poni(const std::string& path) { return parse_poni(detail::read_file(path), path); }

std::string format_poni(const Poni& p) {
  p.validate();
  std::ostringstream o;
  o << "# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis\n";
  o << "# Written by libpdf " << version() << "\n";
  if (p.version == 1) {
    o << "PixelSize1: " << fmt_double(p.detector.pixel1_m) << "\n";
    o << "PixelSize2: " << fmt_double(p.detector.pixel2_m) << "\n";
  } else {
    o << "poni_version: " << (p.version == 21 ? "2.1" : "2") << "\n";
    o << "Detector: " << (p.detector.name.empty() ? "Detector" : p.detector.name) << "\n";
    o << "Detector_config: {\"pixel1\": " << fmt_double(p.detector.pixel1_m)
      << ", \"pixel2\": " << fmt_double(p.detector.pixel2_m) << ", \"max_shape\": ";
    if (p.detector.rows && p.detector.cols) {
      o << "[" << p.detector.rows << ", " << p.detector.cols << "]";
    } else {
      o << "null";
    }
    // Version 2 has no orientation key, but a file read with one keeps it: writing it back must not flip the image.
    if (p.version == 21 || p.detector.orientation != 3) o << ", \"orientation\": " << p.detector.orientation;
    o << "}\n";
  }
  o << "Distance: " << fmt_double(p.distance_m) << "\n";
  o << "Poni1: " << fmt_double(p.poni1_m) << "\n";
  o << "Poni2: " << fmt_double(p.poni2_m) << "\n";
  o << "Rot1: " << fmt_double(p.rot1) << "\n";
  o << "Rot2: " << fmt_double(p.rot2) << "\n";
  o << "Rot3: " << fmt_double(p.rot3) << "\n";
  if (p.wavelength_m > 0) o << "Wavelength: " << fmt_double(p.wavelength_m) << "\n";
  return o.str();
}

void write_poni(const std::string& path, const Poni& poni) { detail::write_file_atomic(path, format_poni(poni)); }

}  // namespace libpdf
