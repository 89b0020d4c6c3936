// Recipe files: TOML (toml++, private to the library) to a Recipe and back. One table of keys drives parsing,
// the canonical text (to_toml), the template and recipe_keys(), so the four can never disagree.
#include "libpdf/recipe.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "libpdf/error.hpp"
#include "libpdf/version.hpp"

namespace libpdf {
namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------------
// Text helpers.

// The shortest decimal text that reads back to the same double, always a valid TOML float.
std::string toml_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[40];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  // TOML floats need a fraction or an exponent ("3" would read back as an integer).
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string toml_array(const std::vector<double>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + toml_double(v[i]);
  return s + "]";
}

std::string toml_range(const Range& r) { return toml_array({r.lo, r.hi}); }

// Levenshtein distance, for "did you mean" suggestions.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t sub = prev[j - 1] + (std::tolower(a[i - 1]) == std::tolower(b[j - 1]) ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// ---------------------------------------------------------------------------------------------------
// Reading values with their location.

struct Reader {
  std::string source;
  fs::path base;
  std::vector<std::string> errors;
  std::map<std::string, std::string> lines;  // "section.key" -> "file:line" or "--set ...", for messages about values
  std::map<const toml::node*, std::string> origins;  // values given on the command line (--set) -> that text

  std::string location(const toml::node& n) const {
    const auto it = origins.find(&n);
    if (it != origins.end()) return it->second;
    return source + ":" + std::to_string(n.source().begin.line);
  }
  std::string where(const std::string& section, const std::string& key, const toml::node& n) const {
    return "[" + section + "] " + key + " (" + location(n) + ")";
  }
  void bad(const std::string& section, const std::string& key, const toml::node& n, const std::string& what) {
    errors.push_back(where(section, key, n) + ": " + what);
  }
  static std::string type_of(const toml::node& n) {
    if (n.is_string()) return "a string";
    if (n.is_integer()) return "an integer";
    if (n.is_floating_point()) return "a number";
    if (n.is_boolean()) return "a boolean";
    if (n.is_array()) return "an array";
    if (n.is_table()) return "a table";
    return "a date or time";
  }

  std::optional<std::string> str(const std::string& s, const std::string& k, const toml::node& n) {
    if (const auto v = n.value_exact<std::string>()) return *v;
    bad(s, k, n, "expected a string in quotes, got " + type_of(n));
    return std::nullopt;
  }
  std::optional<double> number(const std::string& s, const std::string& k, const toml::node& n) {
    if (n.is_integer() || n.is_floating_point()) return n.value<double>();
    bad(s, k, n, "expected a number, got " + type_of(n));
    return std::nullopt;
  }
  std::optional<long long> integer(const std::string& s, const std::string& k, const toml::node& n, long long lo,
                                   const std::string& expect) {
    if (!n.is_integer()) {
      bad(s, k, n, "expected an integer (" + expect + "), got " + type_of(n));
      return std::nullopt;
    }
    const long long v = *n.value<long long>();
    if (v < lo) {
      bad(s, k, n, "is " + std::to_string(v) + " (expected " + expect + ")");
      return std::nullopt;
    }
    return v;
  }
  std::optional<bool> boolean(const std::string& s, const std::string& k, const toml::node& n) {
    if (const auto v = n.value_exact<bool>()) return *v;
    bad(s, k, n, "expected true or false, got " + type_of(n));
    return std::nullopt;
  }
  std::optional<std::vector<double>> numbers(const std::string& s, const std::string& k, const toml::node& n) {
    const toml::array* a = n.as_array();
    if (!a) {
      bad(s, k, n, "expected an array of numbers such as [1.0, 2.0], got " + type_of(n));
      return std::nullopt;
    }
    std::vector<double> out;
    for (const toml::node& e : *a) {
      if (!(e.is_integer() || e.is_floating_point())) {
        bad(s, k, n, "expected an array of numbers, found " + type_of(e) + " in it");
        return std::nullopt;
      }
      out.push_back(*e.value<double>());
    }
    return out;
  }
  std::optional<Range> range(const std::string& s, const std::string& k, const toml::node& n) {
    auto v = numbers(s, k, n);
    if (!v) return std::nullopt;
    if (v->size() != 2) {
      bad(s, k, n, "expected two numbers [lo, hi], got " + std::to_string(v->size()));
      return std::nullopt;
    }
    return Range{(*v)[0], (*v)[1]};
  }
  std::optional<std::string> path(const std::string& s, const std::string& k, const toml::node& n) {
    auto v = str(s, k, n);
    if (!v || v->empty()) return v;
    fs::path p(*v);
    if (p.is_relative()) p = base / p;
    return p.lexically_normal().string();
  }
  // A name parsed by one of the library's parse_* functions (their messages list the accepted names).
  template <class F>
  auto choice(const std::string& s, const std::string& k, const toml::node& n, F parse)
      -> std::optional<decltype(parse(std::string()))> {
    auto v = str(s, k, n);
    if (!v) return std::nullopt;
    try {
      return parse(*v);
    } catch (const InvalidArgument& e) {
      bad(s, k, n, e.what());
      return std::nullopt;
    }
  }
};

// One key of the recipe: how it is read, written and documented.
struct KeySpec {
  const char* section;
  const char* name;
  const char* doc;       // one line: meaning, unit, default
  bool required = false;
  std::function<void(Reader&, const toml::node&, Recipe&)> read;
  // The value as TOML text, or nullopt when unset (written as a commented example).
  std::function<std::optional<std::string>(const Recipe&)> write;
  const char* example = "";  // for unset optional keys and required placeholders
  const char* field = "";    // name in the options' validate() messages, when it differs
};

template <class T>
std::optional<std::string> opt_num(const std::optional<T>& v) {
  if (!v) return std::nullopt;
  return toml_double(static_cast<double>(*v));
}

const char* dark_variance_name(bool poisson) { return poisson ? "poisson" : "none"; }

std::string slice_text(const RecipeInput& in) {
  std::string s = std::to_string(in.start) + ":" + (in.stop ? std::to_string(*in.stop) : "");
  if (in.step != 1) s += ":" + std::to_string(in.step);
  return s;
}

// Parses "A:B:S" / "A:B" / "A" with non-negative integers (empty A = 0, empty B = to the end).
bool parse_slice_text(const std::string& t, RecipeInput& in) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const auto c = t.find(':', start);
    parts.push_back(t.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  if (parts.size() > 3) return false;
  auto num = [](const std::string& s, std::optional<std::size_t>& out) {
    std::string x;
    for (char c : s) {
      if (c != ' ') x += c;
    }
    if (x.empty()) return true;
    if (!std::all_of(x.begin(), x.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    out = static_cast<std::size_t>(std::stoull(x));
    return true;
  };
  std::optional<std::size_t> a, b, s;
  if (!num(parts[0], a)) return false;
  if (parts.size() == 1) {  // one index: exactly that frame
    if (!a) return false;
    in.start = *a;
    in.stop = *a + 1;
    in.step = 1;
    return true;
  }
  if (!num(parts[1], b)) return false;
  if (parts.size() == 3 && !num(parts[2], s)) return false;
  in.start = a.value_or(0);
  in.stop = b;
  in.step = s.value_or(1);
  return in.step >= 1;
}

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> specs = [] {
    std::vector<KeySpec> k;
    using R = Recipe;
    using N = toml::node;
    // [input]
    k.push_back({"input", "file",
                 "frames: an HDF5/NeXus stack, a DESY Lambda module file, an Eiger master, a TIFF or a TIFF series "
                 "pattern (scan_#####.tif)",
                 true, [](Reader& r, const N& n, R& o) { o.input.file = r.path("input", "file", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.input.file); }, "\"series.h5\""});
    k.push_back({"input", "dataset", "HDF5 path of the frames; \"\" = discovered (NeXus @default/@signal, NXdetector data)",
                 false, [](Reader& r, const N& n, R& o) { o.input.dataset = r.str("input", "dataset", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.input.dataset); }});
    k.push_back({"input", "frames",
                 "input frames to reduce, 0-based: \"A:B\" (B excluded, empty = to the end), \"A:B:S\" every S-th, or "
                 "\"N\" one frame",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.str("input", "frames", n);
                   if (v && !parse_slice_text(*v, o.input)) {
                     r.bad("input", "frames", n,
                           "'" + *v + "' is not a slice (expected \"A:B\", \"A:B:S\" with S >= 1, or \"N\"; "
                           "non-negative integers)");
                   }
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(slice_text(o.input)); }});
    k.push_back({"input", "flip_vertical",
                 "flip frames, mask, dark and flat top to bottom before integrating (calibrations made in Dioptas)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   o.input.flip_vertical = r.boolean("input", "flip_vertical", n).value_or(false);
                 },
                 [](const R& o) -> std::optional<std::string> { return o.input.flip_vertical ? "true" : "false"; }});
    k.push_back({"input", "temperature",
                 "sample temperature per frame: \"metadata\" (the file's NXsample temperature), \"list\" "
                 "(temperatures_K) or \"none\"",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.str("input", "temperature", n);
                   if (!v) return;
                   if (*v == "metadata") o.input.temperature = TemperatureSource::metadata;
                   else if (*v == "list") o.input.temperature = TemperatureSource::list;
                   else if (*v == "none") o.input.temperature = TemperatureSource::none;
                   else r.bad("input", "temperature", n, "'" + *v + "' (expected \"metadata\", \"list\" or \"none\")");
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return toml_string(temperature_source_name(o.input.temperature));
                 }});
    k.push_back({"input", "temperatures_K", "with temperature = \"list\": one temperature per input frame (K)", false,
                 [](Reader& r, const N& n, R& o) {
                   o.input.temperatures_K = r.numbers("input", "temperatures_K", n).value_or(std::vector<double>{});
                 },
                 [](const R& o) -> std::optional<std::string> {
                   if (o.input.temperatures_K.empty()) return std::nullopt;
                   return toml_array(o.input.temperatures_K);
                 },
                 "[310.0, 320.0, 330.0]"});
    // [geometry]
    k.push_back({"geometry", "poni", "calibration: a pyFAI PONI file (versions 1, 2, 2.1)", true,
                 [](Reader& r, const N& n, R& o) { o.poni = r.path("geometry", "poni", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.poni); }, "\"series.poni\""});
    // [corrections]
    k.push_back({"corrections", "mask", "mask file, non-zero = masked (TIFF, Dioptas .mask, or HDF5 with mask_dataset); \"\" = none",
                 false, [](Reader& r, const N& n, R& o) { o.corrections.mask = r.path("corrections", "mask", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.corrections.mask); }});
    k.push_back({"corrections", "mask_dataset", "HDF5 path of the mask (a NeXus pixel_mask is a bit field); \"\" = found",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   o.corrections.mask_dataset = r.str("corrections", "mask_dataset", n).value_or("");
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.corrections.mask_dataset); }});
    k.push_back({"corrections", "flip_mask", "with flip_vertical, flip the mask too (false: it is stored flipped already)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   o.corrections.flip_mask = r.boolean("corrections", "flip_mask", n).value_or(true);
                 },
                 [](const R& o) -> std::optional<std::string> { return o.corrections.flip_mask ? "true" : "false"; }});
    k.push_back({"corrections", "dark", "dark image(s), averaged and subtracted from every frame; \"\" = none", false,
                 [](Reader& r, const N& n, R& o) { o.corrections.dark = r.path("corrections", "dark", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.corrections.dark); }});
    k.push_back({"corrections", "dark_dataset", "HDF5 path of the dark; \"\" = discovered", false,
                 [](Reader& r, const N& n, R& o) {
                   o.corrections.dark_dataset = r.str("corrections", "dark_dataset", n).value_or("");
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.corrections.dark_dataset); }});
    k.push_back({"corrections", "dark_variance",
                 "\"none\" (an electronic offset, flat panels) or \"poisson\" (a counted dark: mean/n added to each "
                 "pixel's variance)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.str("corrections", "dark_variance", n);
                   if (!v) return;
                   if (*v == "none" || *v == "poisson") o.corrections.dark_poisson_variance = *v == "poisson";
                   else r.bad("corrections", "dark_variance", n, "'" + *v + "' (expected \"none\" or \"poisson\")");
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return toml_string(dark_variance_name(o.corrections.dark_poisson_variance));
                 }});
    k.push_back({"corrections", "flat", "flat field (relative pixel efficiency; first frame); \"\" = none", false,
                 [](Reader& r, const N& n, R& o) { o.corrections.flat = r.path("corrections", "flat", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.corrections.flat); }});
    k.push_back({"corrections", "flat_dataset", "HDF5 path of the flat; \"\" = discovered", false,
                 [](Reader& r, const N& n, R& o) {
                   o.corrections.flat_dataset = r.str("corrections", "flat_dataset", n).value_or("");
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.corrections.flat_dataset); }});
    k.push_back({"corrections", "solid_angle", "divide by the pixel solid angle cos^3(alpha)", false,
                 [](Reader& r, const N& n, R& o) {
                   o.integration.solid_angle = r.boolean("corrections", "solid_angle", n).value_or(true);
                 },
                 [](const R& o) -> std::optional<std::string> { return o.integration.solid_angle ? "true" : "false"; }});
    k.push_back({"corrections", "polarization",
                 "polarisation factor f in [-1, 1] (0.95-0.99 at synchrotrons); unset = no correction", false,
                 [](Reader& r, const N& n, R& o) { o.integration.polarization_factor = r.number("corrections", "polarization", n); },
                 [](const R& o) { return opt_num(o.integration.polarization_factor); }, "0.99", "polarization_factor"});
    k.push_back({"corrections", "sensor_thickness_m",
                 "sensor thickness d (m) for the oblique-incidence efficiency; with sensor_attenuation_length_m", false,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.number("corrections", "sensor_thickness_m", n);
                   if (!v) return;
                   if (!o.integration.sensor) o.integration.sensor = Sensor{};
                   o.integration.sensor->thickness_m = *v;
                 },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.integration.sensor) return std::nullopt;
                   return toml_double(o.integration.sensor->thickness_m);
                 },
                 "0.0006", "sensor"});
    k.push_back({"corrections", "sensor_attenuation_length_m", "attenuation length 1/mu of the sensor at the beam energy (m)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.number("corrections", "sensor_attenuation_length_m", n);
                   if (!v) return;
                   if (!o.integration.sensor) o.integration.sensor = Sensor{};
                   o.integration.sensor->attenuation_length_m = *v;
                 },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.integration.sensor) return std::nullopt;
                   return toml_double(o.integration.sensor->attenuation_length_m);
                 },
                 "0.00028", "sensor"});
    k.push_back({"corrections", "normalization_factor", "k: intensities are divided by k (e.g. monitor counts; > 0)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("corrections", "normalization_factor", n)) o.integration.normalization_factor = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.integration.normalization_factor); }});
    k.push_back({"corrections", "error_model",
                 "sigma of I: \"poisson\" (var = max(raw, 1) + dark), \"azimuthal\" (spread in the bin) or \"none\"",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("corrections", "error_model", n, parse_error_model)) o.integration.error_model = *v;
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return toml_string(error_model_name(o.integration.error_model));
                 }});
    k.push_back({"corrections", "dummy", "pixels whose raw value equals this (within delta_dummy) are invalid; unset = none",
                 false, [](Reader& r, const N& n, R& o) { o.integration.dummy = r.number("corrections", "dummy", n); },
                 [](const R& o) { return opt_num(o.integration.dummy); }, "-2.0"});
    k.push_back({"corrections", "delta_dummy", "tolerance of the dummy test (raw units, >= 0)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("corrections", "delta_dummy", n)) o.integration.delta_dummy = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.integration.delta_dummy); }});
    k.push_back({"corrections", "mask_detector_markers",
                 "treat -1 (signed frames) and 2^bit_depth - 1 (unsigned) as invalid pixels", false,
                 [](Reader& r, const N& n, R& o) {
                   o.integration.mask_detector_markers =
                       r.boolean("corrections", "mask_detector_markers", n).value_or(true);
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return o.integration.mask_detector_markers ? "true" : "false";
                 }});
    k.push_back({"corrections", "bit_depth", "counter bit depth for the 2^bit_depth - 1 marker (1..32); unset = the type's width",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("corrections", "bit_depth", n, 1, "1..32")) o.integration.bit_depth = static_cast<int>(*v);
                 },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.integration.bit_depth) return std::nullopt;
                   return std::to_string(*o.integration.bit_depth);
                 },
                 "16"});
    // [integration]
    k.push_back({"integration", "npt", "number of radial bins", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("integration", "npt", n, 1, "at least 1 bin")) o.integration.npt = static_cast<std::size_t>(*v);
                 },
                 [](const R& o) -> std::optional<std::string> { return std::to_string(o.integration.npt); }});
    k.push_back({"integration", "unit", "radial unit of the bins: \"q_A^-1\" or \"q_nm^-1\" (a series run reduces in q)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("integration", "unit", n, parse_radial_unit)) o.integration.unit = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(radial_unit_name(o.integration.unit)); }});
    k.push_back({"integration", "radial_range", "outer bin edges [lo, hi] in unit; unset = the extent of the pixels", false,
                 [](Reader& r, const N& n, R& o) { o.integration.radial_range = r.range("integration", "radial_range", n); },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.integration.radial_range) return std::nullopt;
                   return toml_range(*o.integration.radial_range);
                 },
                 "[0.5, 24.0]"});
    k.push_back({"integration", "azimuth_range_deg", "keep pixels whose chi (degrees, pyFAI convention) meets [lo, hi]; unset = all",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   o.integration.azimuth_range_deg = r.range("integration", "azimuth_range_deg", n);
                 },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.integration.azimuth_range_deg) return std::nullopt;
                   return toml_range(*o.integration.azimuth_range_deg);
                 },
                 "[-180.0, 180.0]"});
    k.push_back({"integration", "splitting", "pixel splitting: \"none\", \"bbox\" or \"full\"", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("integration", "splitting", n, parse_splitting)) o.integration.splitting = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(splitting_name(o.integration.splitting)); }});
    k.push_back({"integration", "empty", "intensity written for bins no valid pixel reaches", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("integration", "empty", n)) o.integration.empty = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.integration.empty); }});
    // [sample]
    k.push_back({"sample", "name", "sample name (result file)", false,
                 [](Reader& r, const N& n, R& o) { o.sample_name = r.str("sample", "name", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.sample_name); }});
    k.push_back({"sample", "composition", "formula, e.g. \"La65Co25Al10\", \"Mg2SiO4\", \"(TiZr)0.5O\"", true,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.str("sample", "composition", n);
                   if (!v) return;
                   try {
                     o.reduction.composition = Composition(*v);
                   } catch (const InvalidArgument& e) {
                     r.bad("sample", "composition", n, e.what());
                   }
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.reduction.composition.formula()); },
                 "\"La65Co25Al10\""});
    k.push_back({"sample", "density", "mass density (g/cm^3, > 0); or number_density; unset = none (highq/adhoc need none)",
                 false, [](Reader& r, const N& n, R& o) { o.reduction.mass_density = r.number("sample", "density", n); },
                 [](const R& o) { return opt_num(o.reduction.mass_density); }, "6.0", "mass_density"});
    k.push_back({"sample", "number_density", "number density rho0 (atoms/A^3, > 0); not with density", false,
                 [](Reader& r, const N& n, R& o) { o.reduction.number_density = r.number("sample", "number_density", n); },
                 [](const R& o) { return opt_num(o.reduction.number_density); }, "0.0335"});
    // [reduction]
    k.push_back({"reduction", "normalization", "how alpha is found: \"highq\", \"kmn\" (needs a density) or \"adhoc\"", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("reduction", "normalization", n, parse_normalization)) o.reduction.normalization = *v;
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return toml_string(normalization_name(o.reduction.normalization));
                 }});
    k.push_back({"reduction", "qmin", "first q used (1/A); unset = the first bin", false,
                 [](Reader& r, const N& n, R& o) { o.reduction.qmin = r.number("reduction", "qmin", n); },
                 [](const R& o) { return opt_num(o.reduction.qmin); }, "1.0"});
    k.push_back({"reduction", "qmax", "last q used and transformed (1/A); unset = the last bin", false,
                 [](Reader& r, const N& n, R& o) { o.reduction.qmax = r.number("reduction", "qmax", n); },
                 [](const R& o) { return opt_num(o.reduction.qmax); }, "22.0"});
    k.push_back({"reduction", "qmaxinst", "adhoc: upper end of the polynomial fit (1/A, >= qmax); unset = qmax", false,
                 [](Reader& r, const N& n, R& o) { o.reduction.qmaxinst = r.number("reduction", "qmaxinst", n); },
                 [](const R& o) { return opt_num(o.reduction.qmaxinst); }, "23.0"});
    k.push_back({"reduction", "qstep", "resample onto a uniform grid of step <= qstep (1/A); unset = the bins' own step", false,
                 [](Reader& r, const N& n, R& o) { o.reduction.qstep = r.number("reduction", "qstep", n); },
                 [](const R& o) { return opt_num(o.reduction.qstep); }, "0.01"});
    k.push_back({"reduction", "highq_qmin", "highq/adhoc: fit alpha over q above this (1/A)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("reduction", "highq_qmin", n)) o.reduction.highq_qmin = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.reduction.highq_qmin); }});
    k.push_back({"reduction", "highq_weight", "weight of the high-q fit: \"1\", \"q\" or \"q2\"", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("reduction", "highq_weight", n, parse_highq_weight)) o.reduction.highq_weight = *v;
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return toml_string(highq_weight_name(o.reduction.highq_weight));
                 }});
    k.push_back({"reduction", "rpoly", "adhoc: polynomial degree n = round(rpoly qmaxinst / pi) (A, > 0)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("reduction", "rpoly", n)) o.reduction.rpoly = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.reduction.rpoly); }});
    k.push_back({"reduction", "convention", "\"faber-ziman\" or \"ashcroft-langreth\"", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("reduction", "convention", n, parse_convention)) o.reduction.convention = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(convention_name(o.reduction.convention)); }});
    k.push_back({"reduction", "extrapolation", "S(q) below qmin: \"none\" (F = 0), \"zero\" (S = 0) or \"linear\"", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("reduction", "extrapolation", n, parse_extrapolation)) o.reduction.extrapolation = *v;
                 },
                 [](const R& o) -> std::optional<std::string> {
                   return toml_string(extrapolation_name(o.reduction.extrapolation));
                 }});
    k.push_back({"reduction", "low_r_iterations", "Eggert/Kaplow low-r refinement iterations (>= 0; needs low_r_cutoff and a density)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("reduction", "low_r_iterations", n, 0, ">= 0")) o.reduction.low_r_iterations = static_cast<int>(*v);
                 },
                 [](const R& o) -> std::optional<std::string> { return std::to_string(o.reduction.low_r_iterations); }});
    k.push_back({"reduction", "low_r_cutoff", "r_c (A): g(r) = 0 below it (2.2-2.5 for La glasses, 1.4 oxides); unset = none",
                 false, [](Reader& r, const N& n, R& o) { o.reduction.low_r_cutoff = r.number("reduction", "low_r_cutoff", n); },
                 [](const R& o) { return opt_num(o.reduction.low_r_cutoff); }, "2.3"});
    k.push_back({"reduction", "window", "termination function M(q): \"none\", \"lorch\" or \"cosine\"", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.choice("reduction", "window", n, parse_window)) o.reduction.window = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(window_name(o.reduction.window)); }});
    k.push_back({"reduction", "taper_width", "width of the cosine taper (1/A); 0 = qmax/10", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("reduction", "taper_width", n)) o.reduction.taper_width = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.reduction.taper_width); }});
    k.push_back({"reduction", "rmin", "first r of G(r) (A, a multiple of rstep)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("reduction", "rmin", n)) o.reduction.rmin = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.reduction.rmin); }});
    k.push_back({"reduction", "rmax", "last r of G(r) (A)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("reduction", "rmax", n)) o.reduction.rmax = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.reduction.rmax); }});
    k.push_back({"reduction", "rstep", "step of G(r) (A, > 0)", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.number("reduction", "rstep", n)) o.reduction.rstep = *v;
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_double(o.reduction.rstep); }});
    // [metrics]
    k.push_back({"metrics", "enabled", "compute structure metrics per frame (CSV table and /entry/metrics)", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.enabled = r.boolean("metrics", "enabled", n).value_or(true); },
                 [](const R& o) -> std::optional<std::string> { return o.metrics.enabled ? "true" : "false"; }});
    k.push_back({"metrics", "against", "\"temperature\" (every frame needs one) or \"frame\"", false,
                 [](Reader& r, const N& n, R& o) {
                   const auto v = r.str("metrics", "against", n);
                   if (!v) return;
                   if (*v == "temperature") o.metrics.against = MetricsAxis::temperature;
                   else if (*v == "frame") o.metrics.against = MetricsAxis::frame;
                   else r.bad("metrics", "against", n, "'" + *v + "' (expected \"temperature\" or \"frame\")");
                 },
                 [](const R& o) -> std::optional<std::string> { return toml_string(metrics_axis_name(o.metrics.against)); }});
    k.push_back({"metrics", "reference_frame", "input frame new S(q) peaks are measured against; unset = the first selected frame",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("metrics", "reference_frame", n, 0, ">= 0")) o.metrics.reference_frame = static_cast<std::size_t>(*v);
                 },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.metrics.reference_frame) return std::nullopt;
                   return std::to_string(*o.metrics.reference_frame);
                 },
                 "0"});
    k.push_back({"metrics", "q1_range", "window of the first S(q) peak [lo, hi] (1/A); unset = the metrics default", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.q1_range = r.range("metrics", "q1_range", n); },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.metrics.q1_range) return std::nullopt;
                   return toml_range(*o.metrics.q1_range);
                 },
                 "[1.0, 4.0]"});
    k.push_back({"metrics", "r1_range", "window of the first G(r) peak [lo, hi] (A); unset = the metrics default", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.r1_range = r.range("metrics", "r1_range", n); },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.metrics.r1_range) return std::nullopt;
                   return toml_range(*o.metrics.r1_range);
                 },
                 "[2.0, 5.0]"});
    k.push_back({"metrics", "mro_range", "medium-range-order window of G(r) [lo, hi] (A); unset = the metrics default", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.mro_range = r.range("metrics", "mro_range", n); },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.metrics.mro_range) return std::nullopt;
                   return toml_range(*o.metrics.mro_range);
                 },
                 "[5.0, 17.0]"});
    k.push_back({"metrics", "sq_maxima_qmax", "S(q) maxima are looked for below this q (1/A); unset = the metrics default", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.sq_maxima_qmax = r.number("metrics", "sq_maxima_qmax", n); },
                 [](const R& o) { return opt_num(o.metrics.sq_maxima_qmax); }, "12.0"});
    k.push_back({"metrics", "coordination", "coordination-number method (see docs/pipeline.md); \"\" = the metrics default",
                 false,
                 [](Reader& r, const N& n, R& o) { o.metrics.coordination = r.str("metrics", "coordination", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.metrics.coordination); }});
    k.push_back({"metrics", "watch_q", "q of peaks to watch appear (1/A); unset = the metrics default", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.watch_q = r.numbers("metrics", "watch_q", n); },
                 [](const R& o) -> std::optional<std::string> {
                   if (!o.metrics.watch_q) return std::nullopt;
                   return toml_array(*o.metrics.watch_q);
                 },
                 "[4.46]"});
    k.push_back({"metrics", "watch_halfwidth", "half width of each watch window (1/A); unset = the metrics default", false,
                 [](Reader& r, const N& n, R& o) { o.metrics.watch_halfwidth = r.number("metrics", "watch_halfwidth", n); },
                 [](const R& o) { return opt_num(o.metrics.watch_halfwidth); }, "0.15"});
    // [output]
    k.push_back({"output", "result", "NXazint1d result file (.h5 or .nxs); an existing one is resumed", true,
                 [](Reader& r, const N& n, R& o) { o.output.result = r.path("output", "result", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.output.result); }, "\"out/result.h5\""});
    k.push_back({"output", "table", "metrics table (CSV, one row per frame); \"\" = the result's name with .csv", false,
                 [](Reader& r, const N& n, R& o) { o.output.table = r.path("output", "table", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.output.table); }});
    k.push_back({"output", "title", "title of the result (/entry/title); \"\" = from the frames file", false,
                 [](Reader& r, const N& n, R& o) { o.output.title = r.str("output", "title", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.output.title); }});
    k.push_back({"output", "instrument", "beamline (instrument/name), e.g. \"PETRA III P02.1\"", false,
                 [](Reader& r, const N& n, R& o) { o.output.instrument = r.str("output", "instrument", n).value_or("unknown"); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.output.instrument); }});
    k.push_back({"output", "source", "X-ray source (instrument/source/name), e.g. \"PETRA III, DESY\"", false,
                 [](Reader& r, const N& n, R& o) { o.output.source = r.str("output", "source", n).value_or("unknown"); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.output.source); }});
    k.push_back({"output", "gzip_level", "deflate level 0..9 of the per-frame arrays", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("output", "gzip_level", n, 0, "0..9")) {
                     if (*v > 9) r.bad("output", "gzip_level", n, "is " + std::to_string(*v) + " (expected 0..9)");
                     else o.output.gzip_level = static_cast<int>(*v);
                   }
                 },
                 [](const R& o) -> std::optional<std::string> { return std::to_string(o.output.gzip_level); }});
    k.push_back({"output", "plots",
                 "pdfreduce run: after the run, PNG figures (gnuplot) of the first frame's I(q), S(q), G(r), the S(q) "
                 "and G(r) maps and the metrics against temperature with their onset",
                 false,
                 [](Reader& r, const N& n, R& o) { o.output.plots = r.boolean("output", "plots", n).value_or(true); },
                 [](const R& o) -> std::optional<std::string> { return o.output.plots ? "true" : "false"; }});
    k.push_back({"output", "plot_dir", "folder of the figures; \"\" = \"plots\" beside the result file", false,
                 [](Reader& r, const N& n, R& o) { o.output.plot_dir = r.path("output", "plot_dir", n).value_or(""); },
                 [](const R& o) -> std::optional<std::string> { return toml_string(o.output.plot_dir); }});
    // [run]
    k.push_back({"run", "threads", "worker threads (0 = all cores); results do not depend on it", false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("run", "threads", n, 0, "0 = all cores, or > 0")) o.run.threads = static_cast<int>(*v);
                 },
                 [](const R& o) -> std::optional<std::string> { return std::to_string(o.run.threads); }});
    k.push_back({"run", "frames_in_flight", "frames read but not yet written, at most: bounds the memory (0 = 2 x threads + 2)",
                 false,
                 [](Reader& r, const N& n, R& o) {
                   if (auto v = r.integer("run", "frames_in_flight", n, 0, ">= 0")) o.run.frames_in_flight = static_cast<std::size_t>(*v);
                 },
                 [](const R& o) -> std::optional<std::string> { return std::to_string(o.run.frames_in_flight); }});
    return k;
  }();
  return specs;
}

const std::vector<std::pair<const char*, const char*>>& section_docs() {
  static const std::vector<std::pair<const char*, const char*>> s = {
      {"input", "The frames and where their temperatures come from."},
      {"geometry", "Detector geometry (pyFAI convention)."},
      {"corrections", "Static images and per-pixel corrections."},
      {"integration", "Radial bins of I(q)."},
      {"sample", "What was measured."},
      {"reduction", "I(q) -> S(q), F(q), G(r) (docs/pdf.md)."},
      {"metrics", "Structure metrics per frame (docs/pipeline.md)."},
      {"output", "Result file and metrics table."},
      {"run", "Execution only: results never depend on these."}};
  return s;
}

std::string nearest(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = std::string::npos;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // A suggestion further than half the word away is noise.
  if (best_d == std::string::npos || best_d > std::max<std::size_t>(2, word.size() / 2)) return "";
  return best;
}

const std::vector<std::string>& section_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& [name, doc_text] : section_docs()) n.emplace_back(name);
    return n;
  }();
  return names;
}

bool is_section(const std::string& name) {
  const auto& s = section_names();
  return std::find(s.begin(), s.end(), name) != s.end();
}

// "; did you mean [x]? Sections: ..." for an unknown section.
std::string section_hint(const std::string& name) {
  const std::string near = nearest(name, section_names());
  return (near.empty() ? "" : "; did you mean [" + near + "]?") +
         std::string(" Sections: input, geometry, corrections, integration, sample, reduction, metrics, output, run");
}

// The key [section] key, or nullptr with @p elsewhere = the section that has a key of that name (else "") and
// @p near = the nearest key of @p section (else "").
const KeySpec* find_key(const std::string& section, const std::string& key, std::string& elsewhere,
                        std::string& near) {
  std::vector<std::string> names;
  const KeySpec* spec = nullptr;
  elsewhere.clear();
  for (const KeySpec& k : key_specs()) {
    if (section == k.section) {
      names.emplace_back(k.name);
      if (key == k.name) spec = &k;
    } else if (key == k.name) {
      elsewhere = k.section;
    }
  }
  near = spec || !elsewhere.empty() ? std::string() : nearest(key, names);
  return spec;
}

// Names used by the options' validate() messages for recipe keys, to point at the line of a bad value.
void add_value_locations(const Reader& r, std::string& message) {
  std::string where;
  for (const KeySpec& k : key_specs()) {
    const std::string field = *k.field ? k.field : k.name;
    const std::string full = std::string(k.section) + "." + k.name;
    const auto it = r.lines.find(full);
    if (it == r.lines.end()) continue;
    // The field name as a whole word followed by " =" or " bounds" in the message.
    const std::string needle = field + " ";
    std::size_t pos = message.find(needle);
    while (pos != std::string::npos && pos > 0 && (std::isalnum(static_cast<unsigned char>(message[pos - 1])) ||
                                                   message[pos - 1] == '_')) {
      pos = message.find(needle, pos + 1);
    }
    if (pos == std::string::npos) continue;
    where += (where.empty() ? "" : ", ") + std::string("[") + k.section + "] " + k.name + " at " + it->second;
  }
  if (!where.empty()) message += " (" + where + ")";
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
const char* temperature_source_name(TemperatureSource s) {
  switch (s) {
    case TemperatureSource::metadata: return "metadata";
    case TemperatureSource::list: return "list";
    case TemperatureSource::none: return "none";
  }
  return "?";
}

const char* metrics_axis_name(MetricsAxis a) { return a == MetricsAxis::temperature ? "temperature" : "frame"; }

std::string Recipe::table_path() const {
  if (!output.table.empty()) return output.table;
  fs::path p(output.result);
  p.replace_extension(".csv");
  return p.string();
}

void Recipe::validate() const {
  std::vector<std::string> bad;
  if (input.file.empty()) bad.push_back("[input] file is required (the frames, e.g. file = \"series.h5\")");
  if (poni.empty()) bad.push_back("[geometry] poni is required (the calibration, e.g. poni = \"series.poni\")");
  if (output.result.empty()) bad.push_back("[output] result is required (e.g. result = \"out/result.h5\")");
  if (input.step < 1) bad.push_back("[input] frames: step = 0 (expected >= 1)");
  if (input.stop && *input.stop <= input.start) {
    bad.push_back("[input] frames: stop " + std::to_string(*input.stop) + " is not after start " +
                  std::to_string(input.start) + " (nothing selected)");
  }
  if (input.temperature == TemperatureSource::list && input.temperatures_K.empty()) {
    bad.push_back("[input] temperature = \"list\" needs temperatures_K (one per input frame)");
  }
  if (input.temperature != TemperatureSource::list && !input.temperatures_K.empty()) {
    bad.push_back("[input] temperatures_K is given but temperature = \"" +
                  std::string(temperature_source_name(input.temperature)) + "\" (set temperature = \"list\")");
  }
  if (metrics.enabled && metrics.against == MetricsAxis::temperature && input.temperature == TemperatureSource::none) {
    bad.push_back("[metrics] against = \"temperature\" but [input] temperature = \"none\" (set against = \"frame\")");
  }
  if (integration.unit != RadialUnit::q_A && integration.unit != RadialUnit::q_nm) {
    bad.push_back(std::string("[integration] unit = \"") + radial_unit_name(integration.unit) +
                  "\" (a series run reduces I(q) to S(q): expected \"q_A^-1\" or \"q_nm^-1\")");
  }
  if (integration.sensor && (integration.sensor->thickness_m == 0) != (integration.sensor->attenuation_length_m == 0)) {
    bad.push_back("[corrections] sensor_thickness_m and sensor_attenuation_length_m go together (give both or neither)");
  }
  if (output.gzip_level < 0 || output.gzip_level > 9) {
    bad.push_back("[output] gzip_level = " + std::to_string(output.gzip_level) + " (expected 0..9)");
  }
  if (run.threads < 0) bad.push_back("[run] threads = " + std::to_string(run.threads) + " (expected 0 = all cores, or > 0)");
  auto check = [&bad](const char* what, const std::function<void()>& f) {
    try {
      f();
    } catch (const InvalidArgument& e) {
      bad.push_back(std::string(what) + e.what());
    }
  };
  check("", [this] {
    IntegrationOptions o = integration;
    o.threads = 0;
    o.validate();
  });
  check("", [this] { reduction.validate(); });
  auto check_range = [&bad](const char* key, const std::optional<Range>& r) {
    if (r && !(std::isfinite(r->lo) && std::isfinite(r->hi) && r->lo < r->hi && r->lo >= 0)) {
      char buf[128];
      std::snprintf(buf, sizeof buf, "[metrics] %s = [%g, %g] (expected finite 0 <= lo < hi)", key, r->lo, r->hi);
      bad.push_back(buf);
    }
  };
  check_range("q1_range", metrics.q1_range);
  check_range("r1_range", metrics.r1_range);
  check_range("mro_range", metrics.mro_range);
  if (!bad.empty()) {
    std::string msg = "invalid recipe " + source + ": ";
    for (std::size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    throw InvalidArgument(msg);
  }
}

namespace {

// One "section.key=value" of the command line, read by the key's own reader (the same checks as in a file).
// The value is TOML (25, 2.5, true, "text", [1, 2]); text that is not TOML, or that the key rejects while it
// accepts it as a string, is taken as a string (lorch, 0:10, out/run.h5). Relative paths are relative to the
// current folder.
void apply_override(Reader& r, const std::string& item, Recipe& out, std::set<std::string>& seen) {
  const std::string origin = "--set " + item;
  const auto eq = item.find('=');
  const auto dot = item.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq || dot == 0 || dot + 1 == eq) {
    r.errors.push_back(origin + ": expected section.key=value (e.g. reduction.qmax=25)");
    return;
  }
  auto trim = [](std::string t) {
    const auto b = t.find_first_not_of(" \t");
    const auto e = t.find_last_not_of(" \t");
    return b == std::string::npos ? std::string() : t.substr(b, e - b + 1);
  };
  const std::string sname = trim(item.substr(0, dot));
  const std::string kname = trim(item.substr(dot + 1, eq - dot - 1));
  const std::string value = trim(item.substr(eq + 1));
  if (!is_section(sname)) {
    r.errors.push_back(origin + ": unknown section [" + sname + "]" + section_hint(sname));
    return;
  }
  std::string elsewhere, near;
  const KeySpec* spec = find_key(sname, kname, elsewhere, near);
  if (!spec) {
    r.errors.push_back(origin + ": unknown key '" + kname + "' in section [" + sname + "]" +
                       (!elsewhere.empty() ? "; it belongs in section [" + elsewhere + "] (--set " + elsewhere + "." +
                                                 kname + "=...)"
                        : !near.empty()    ? "; did you mean '" + near + "'?"
                                           : ""));
    return;
  }
  // Reads @p node into a copy of the recipe; the copy is kept only when the key accepts the value.
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  auto attempt = [&](const toml::node& node, Reader& trial, Recipe& candidate) {
    trial = r;
    trial.errors.clear();
    trial.base = cwd;
    trial.origins[&node] = origin;
    candidate = out;
    spec->read(trial, node, candidate);
    return trial.errors.empty();
  };
  std::optional<toml::table> typed;
  try {
    typed = toml::parse("v = " + value, origin);
  } catch (const toml::parse_error&) {
    typed.reset();
  }
  const toml::table as_string = toml::parse("v = " + toml_string(value), origin);
  Reader trial;
  Recipe candidate;
  bool ok = false;
  std::vector<std::string> typed_errors;
  const toml::node* used = nullptr;
  if (typed && typed->contains("v") && typed->size() == 1) {
    used = typed->get("v");
    ok = attempt(*used, trial, candidate);
    typed_errors = trial.errors;
  }
  if (!ok && !(value.size() >= 1 && (value.front() == '"' || value.front() == '\'' || value.front() == '['))) {
    used = as_string.get("v");
    ok = attempt(*used, trial, candidate);
    if (!ok && !typed_errors.empty()) trial.errors = typed_errors;  // report what the typed value broke
  }
  if (!ok) {
    for (auto& e : trial.errors) r.errors.push_back(e);
    return;
  }
  out = std::move(candidate);
  const std::string full = sname + "." + kname;
  r.lines[full] = origin;
  seen.insert(full);
}

}  // namespace

Recipe parse_recipe(const std::string& text, const std::string& source_name, const std::string& base_dir) {
  return parse_recipe(text, source_name, base_dir, {});
}

Recipe parse_recipe(const std::string& text, const std::string& source_name, const std::string& base_dir,
                    const std::vector<std::string>& overrides) {
  Reader r;
  r.source = source_name;
  std::error_code ec;
  r.base = base_dir.empty() ? fs::current_path(ec) : fs::absolute(base_dir, ec);

  toml::table doc;
  try {
    doc = toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    throw InvalidArgument("recipe " + source_name + ":" + std::to_string(e.source().begin.line) + ":" +
                          std::to_string(e.source().begin.column) + ": not valid TOML: " + std::string(e.description()));
  }

  Recipe out;
  out.source = source_name;
  out.base_dir = r.base.string();
  std::set<std::string> seen;  // "section.key" given in the file or on the command line
  for (auto&& [skey, snode] : doc) {
    const std::string sname(skey.str());
    const auto line = std::to_string(skey.source().begin.line);
    if (!is_section(sname) || !snode.is_table()) {
      if (!snode.is_table()) {
        // A key outside any section: find the section that has it.
        std::string home;
        for (const KeySpec& k : key_specs()) {
          if (sname == k.name) home = k.section;
        }
        r.errors.push_back("unknown key '" + sname + "' at the top level (" + source_name + ":" + line + "): " +
                           (home.empty() ? "every key belongs in a section such as [input]"
                                         : "it belongs in section [" + home + "]"));
        continue;
      }
      r.errors.push_back("unknown section [" + sname + "] (" + source_name + ":" + line + ")" + section_hint(sname));
      continue;
    }
    for (auto&& [kkey, knode] : *snode.as_table()) {
      const std::string kname(kkey.str());
      std::string elsewhere, near;
      const KeySpec* spec = find_key(sname, kname, elsewhere, near);
      if (!spec) {
        r.errors.push_back("unknown key '" + kname + "' in section [" + sname + "] (" + source_name + ":" +
                           std::to_string(kkey.source().begin.line) + ")" +
                           (!elsewhere.empty() ? "; it belongs in section [" + elsewhere + "]"
                            : !near.empty()    ? "; did you mean '" + near + "'?"
                                               : ""));
        continue;
      }
      const std::string full = sname + "." + kname;
      seen.insert(full);
      r.lines[full] = r.location(knode);
      spec->read(r, knode, out);
    }
  }
  // Command-line overrides, in order, after the file (a later one wins).
  for (const std::string& item : overrides) apply_override(r, item, out, seen);
  for (const KeySpec& k : key_specs()) {
    if (k.required && !seen.count(std::string(k.section) + "." + k.name)) {
      r.errors.push_back("missing value: [" + std::string(k.section) + "] " + k.name + " is required (" + k.doc +
                         "; e.g. " + k.name + " = " + k.example + ")");
    }
  }
  if (!r.errors.empty()) {
    std::string msg = "recipe " + source_name + ": ";
    for (std::size_t i = 0; i < r.errors.size(); ++i) msg += (i ? "; " : "") + r.errors[i];
    throw InvalidArgument(msg);
  }
  try {
    out.validate();
  } catch (const InvalidArgument& e) {
    std::string msg = e.what();
    add_value_locations(r, msg);
    throw InvalidArgument(msg);
  }
  return out;
}

Recipe load_recipe(const std::string& path) { return load_recipe(path, {}); }

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read the recipe '" + path + "': " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw IoError("cannot read the recipe '" + path + "'");
  const fs::path parent = fs::absolute(fs::path(path)).parent_path();
  return parse_recipe(text.str(), path, parent.string(), overrides);
}

namespace {
std::string render(const Recipe* recipe) {
  std::string s;
  s += std::string("# libpdf ") + version() + " series recipe (pdfreduce run RECIPE). Every key with its meaning and default;\n";
  s += "# docs/pipeline.md";
  s += " has the full reference. Relative paths are relative to this file's folder.\n";
  for (const auto& [section, doc] : section_docs()) {
    s += "\n# " + std::string(doc) + "\n[" + section + "]\n";
    for (const KeySpec& k : key_specs()) {
      if (std::string(k.section) != section) continue;
      s += "# " + std::string(k.doc) + (k.required ? " (required)" : "") + "\n";
      std::optional<std::string> value;
      if (recipe) {
        value = k.write(*recipe);
      } else if (k.required) {
        value = k.example;
      } else {
        value = k.write(Recipe{});
      }
      if (value) {
        s += std::string(k.name) + " = " + *value + "\n";
      } else {
        s += "# " + std::string(k.name) + " = " + k.example + "\n";
      }
    }
  }
  return s;
}
}  // namespace

std::string to_toml(const Recipe& recipe) { return render(&recipe); }

std::string recipe_template() { return render(nullptr); }

std::vector<std::string> recipe_keys() {
  std::vector<std::string> out;
  for (const KeySpec& k : key_specs()) out.push_back(std::string(k.section) + "." + k.name);
  return out;
}

}  // namespace libpdf
