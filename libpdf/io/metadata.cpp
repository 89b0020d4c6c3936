// Instrument and sample metadata of frames files, converted to libpdf's units (metres, Å, keV, s, K).
//
// NeXus stores every number with a `units` attribute, but writers disagree on spelling ("um",
// "micrometer", "microns"; "keV" vs "eV"; DESY Lambda: beam energy in eV under collection/). We look for
// each value where the NeXus base classes put it, found by NX_class (not by fixed paths, since entry and
// group names vary), then in the detector-specific places known writers use. An unknown unit is an error
// naming the file, the dataset and the accepted units: guessing a factor of 1000 silently is worse.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {
namespace {

namespace h5 = detail::h5;

// hc in keV·Å (CODATA 2018: h c = 12.398419843320026 keV Å), the same constant the example generator uses.
constexpr double kHcKeVAngstrom = 12.398419843320026;

enum class Kind { length, energy, time, temperature, pixels, angle };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::length: return "length";
    case Kind::energy: return "energy";
    case Kind::time: return "time";
    case Kind::temperature: return "temperature";
    case Kind::pixels: return "pixels";
    case Kind::angle: return "angle";
  }
  return "?";
}

// A unit: value in the kind's base unit (m, eV, s, K, pixel, rad) = value·factor + offset.
struct Unit {
  Kind kind;
  double factor;
  double offset;
};

const std::map<std::string, Unit>& units_table() {
  // Spellings seen in NeXus files of DESY, Dectris, ESRF and MAX IV writers, plus the UDUNITS names.
  static const std::map<std::string, Unit> table = {
      {"m", {Kind::length, 1.0, 0}},          {"metre", {Kind::length, 1.0, 0}},
      {"meter", {Kind::length, 1.0, 0}},      {"cm", {Kind::length, 1e-2, 0}},
      {"mm", {Kind::length, 1e-3, 0}},        {"millimeter", {Kind::length, 1e-3, 0}},
      {"millimetre", {Kind::length, 1e-3, 0}}, {"um", {Kind::length, 1e-6, 0}},
      {"\xC2\xB5m", {Kind::length, 1e-6, 0}},  {"\xCE\xBCm", {Kind::length, 1e-6, 0}},
      {"micrometer", {Kind::length, 1e-6, 0}}, {"micrometre", {Kind::length, 1e-6, 0}},
      {"micron", {Kind::length, 1e-6, 0}},    {"microns", {Kind::length, 1e-6, 0}},
      {"nm", {Kind::length, 1e-9, 0}},        {"angstrom", {Kind::length, 1e-10, 0}},
      {"Angstrom", {Kind::length, 1e-10, 0}}, {"Angstroms", {Kind::length, 1e-10, 0}},
      {"angstroms", {Kind::length, 1e-10, 0}}, {"A", {Kind::length, 1e-10, 0}},
      {"\xC3\x85", {Kind::length, 1e-10, 0}},  {"\xE2\x84\xAB", {Kind::length, 1e-10, 0}},
      {"eV", {Kind::energy, 1.0, 0}},         {"keV", {Kind::energy, 1e3, 0}},
      {"MeV", {Kind::energy, 1e6, 0}},        {"J", {Kind::energy, 1.0 / 1.602176634e-19, 0}},
      {"s", {Kind::time, 1.0, 0}},            {"sec", {Kind::time, 1.0, 0}},
      {"second", {Kind::time, 1.0, 0}},       {"seconds", {Kind::time, 1.0, 0}},
      {"ms", {Kind::time, 1e-3, 0}},          {"us", {Kind::time, 1e-6, 0}},
      {"millisecond", {Kind::time, 1e-3, 0}}, {"milliseconds", {Kind::time, 1e-3, 0}},
      {"microsecond", {Kind::time, 1e-6, 0}}, {"microseconds", {Kind::time, 1e-6, 0}},
      {"nanosecond", {Kind::time, 1e-9, 0}},  {"nanoseconds", {Kind::time, 1e-9, 0}},
      {"meters", {Kind::length, 1.0, 0}},     {"metres", {Kind::length, 1.0, 0}},
      {"millimeters", {Kind::length, 1e-3, 0}}, {"millimetres", {Kind::length, 1e-3, 0}},
      {"micrometers", {Kind::length, 1e-6, 0}}, {"micrometres", {Kind::length, 1e-6, 0}},
      {"electronvolt", {Kind::energy, 1.0, 0}}, {"kiloelectronvolt", {Kind::energy, 1e3, 0}},
      {"\xC2\xB5s", {Kind::time, 1e-6, 0}},    {"ns", {Kind::time, 1e-9, 0}},
      {"K", {Kind::temperature, 1.0, 0}},     {"kelvin", {Kind::temperature, 1.0, 0}},
      {"Kelvin", {Kind::temperature, 1.0, 0}}, {"C", {Kind::temperature, 1.0, 273.15}},
      {"degC", {Kind::temperature, 1.0, 273.15}}, {"celsius", {Kind::temperature, 1.0, 273.15}},
      {"Celsius", {Kind::temperature, 1.0, 273.15}}, {"\xC2\xB0" "C", {Kind::temperature, 1.0, 273.15}},
      {"pixel", {Kind::pixels, 1.0, 0}},      {"pixels", {Kind::pixels, 1.0, 0}},
      {"px", {Kind::pixels, 1.0, 0}},         {"rad", {Kind::angle, 1.0, 0}},
      {"radian", {Kind::angle, 1.0, 0}},      {"radians", {Kind::angle, 1.0, 0}},
      {"deg", {Kind::angle, 3.14159265358979323846 / 180.0, 0}},
      {"degree", {Kind::angle, 3.14159265358979323846 / 180.0, 0}},
      {"degrees", {Kind::angle, 3.14159265358979323846 / 180.0, 0}},
  };
  return table;
}

std::string accepted_units(Kind kind) {
  std::string out;
  for (const auto& [name, unit] : units_table()) {
    if (unit.kind != kind) continue;
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.8g", v);
  return buf;
}

std::string values_text(const std::vector<double>& v) {
  if (v.size() == 1) return num(v[0]);
  std::string out = "[";
  for (std::size_t i = 0; i < v.size() && i < 4; ++i) out += (i ? ", " : "") + num(v[i]);
  if (v.size() > 4) out += ", ... (" + std::to_string(v.size()) + " values)";
  return out + "]";
}

// Looks through the file and collects what it finds.
class MetadataReader {
 public:
  explicit MetadataReader(const std::string& path) : file_(h5::File::open(path)) { meta_.file = path; }

  FileMetadata run() {
    collect_groups(file_, 0);
    read_beam();
    read_detector();
    read_sample();
    return std::move(meta_);
  }

 private:
  // The first group of each NeXus class, depth-first in sorted-name order.
  void collect_groups(const h5::Group& g, int depth) {
    if (depth > 8) return;
    for (const std::string& name : g.member_names()) {
      if (g.object_type(name) != h5::ObjectType::group) continue;
      h5::Group child = g.open_group(name);
      if (const auto cls = child.string_attribute_or_none("NX_class")) {
        if (!groups_.count(*cls)) groups_.emplace(*cls, child.path());
      }
      collect_groups(child, depth + 1);
    }
  }

  std::optional<std::string> group_of(const std::string& nx_class) const {
    const auto it = groups_.find(nx_class);
    if (it == groups_.end()) return std::nullopt;
    return it->second;
  }

  // Reads a numeric dataset at @p path converted to @p to_units; a missing units attribute means
  // @p default_units (logged). Records the item. nullopt when absent or not numeric.
  std::optional<std::vector<double>> value(const std::string& path, const std::string& name,
                                           const std::string& default_units, const std::string& to_units) {
    if (file_.object_type(path) != h5::ObjectType::dataset) return std::nullopt;
    const h5::Dataset ds = file_.open_dataset(path);
    std::vector<double> v;
    try {
      v = ds.read_doubles();
    } catch (const IoError&) {
      return std::nullopt;  // a string where a number was expected: not this value
    }
    if (v.empty()) return std::nullopt;
    std::string units;
    if (auto u = ds.string_attribute_or_none("units")) units = trimmed(*u);
    if (units.empty()) {
      detail::logger().warn("{} has no units attribute; taking it in {}", ds.where(), default_units);
      units = default_units;
    }
    const auto& table = units_table();
    const auto from = table.find(units);
    const Unit to = table.at(to_units);
    if (from == table.end() || from->second.kind != to.kind) {
      throw IoError(ds.where() + " has units '" + units + "'; expected a " + kind_name(to.kind) + " unit (one of " +
                    accepted_units(to.kind) + ")");
    }
    std::vector<double> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) out[i] = convert_units(v[i], units, to_units);
    meta_.items.push_back({name, path, values_text(v) + " " + units, values_text(out) + " " + to_units});
    return out;
  }

  std::optional<double> scalar(const std::string& path, const std::string& name, const std::string& default_units,
                               const std::string& to_units) {
    auto v = value(path, name, default_units, to_units);
    if (!v) return std::nullopt;
    return v->front();
  }

  std::optional<std::string> text(const std::string& path) {
    if (file_.object_type(path) != h5::ObjectType::dataset) return std::nullopt;
    try {
      return trimmed(file_.open_dataset(path).read_string());
    } catch (const IoError&) {
      return std::nullopt;
    }
  }

  void read_beam() {
    std::vector<std::string> wl_paths, e_paths;
    if (auto g = group_of("NXbeam")) {
      wl_paths.push_back(*g + "/incident_wavelength");
      e_paths.push_back(*g + "/incident_energy");
    }
    if (auto g = group_of("NXmonochromator")) {
      wl_paths.push_back(*g + "/wavelength");
      e_paths.push_back(*g + "/energy");
    }
    if (auto g = group_of("NXdetector")) {
      e_paths.push_back(*g + "/detectorSpecific/photon_energy");  // Dectris Eiger
      e_paths.push_back(*g + "/collection/beam_energy");          // DESY Lambda
    }
    for (const std::string& p : wl_paths) {
      if ((meta_.wavelength_A = scalar(p, "wavelength", "angstrom", "angstrom"))) break;
    }
    for (const std::string& p : e_paths) {
      // NeXus' default energy unit is keV; Lambda and Eiger write eV with units attributes.
      if (auto e = scalar(p, "energy", "keV", "eV")) {
        meta_.energy_keV = *e / 1e3;
        break;
      }
    }
    if (!meta_.wavelength_A && meta_.energy_keV && *meta_.energy_keV > 0) {
      meta_.wavelength_A = kHcKeVAngstrom / *meta_.energy_keV;
      meta_.items.push_back({"wavelength", "(from the energy)", "", num(*meta_.wavelength_A) + " angstrom"});
    } else if (meta_.wavelength_A && !meta_.energy_keV && *meta_.wavelength_A > 0) {
      meta_.energy_keV = kHcKeVAngstrom / *meta_.wavelength_A;
    }
  }

  void read_detector() {
    const auto g = group_of("NXdetector");
    if (!g) return;
    const std::string d = *g;
    for (const char* name : {"description", "model", "local_name", "name"}) {
      if (auto t = text(d + "/" + name); t && !t->empty()) {
        meta_.detector = *t;
        break;
      }
    }
    for (const char* name : {"distance", "detector_distance"}) {
      if ((meta_.distance_m = scalar(d + "/" + name, "distance", "m", "m"))) break;
    }
    meta_.pixel2_m = scalar(d + "/x_pixel_size", "x_pixel_size", "m", "m");
    meta_.pixel1_m = scalar(d + "/y_pixel_size", "y_pixel_size", "m", "m");
    meta_.beam_center_col_px = beam_center(d + "/beam_center_x", "beam_center_x", meta_.pixel2_m);
    meta_.beam_center_row_px = beam_center(d + "/beam_center_y", "beam_center_y", meta_.pixel1_m);
    meta_.count_time_s = scalar(d + "/count_time", "count_time", "s", "s");
    meta_.frame_time_s = scalar(d + "/frame_time", "frame_time", "s", "s");
    for (const std::string& p : {d + "/bit_depth_image", d + "/detectorSpecific/bit_depth_image",
                                d + "/bit_depth_readout", d + "/detectorSpecific/bit_depth_readout"}) {
      if (file_.object_type(p) != h5::ObjectType::dataset) continue;
      try {
        const auto v = file_.open_dataset(p).read_doubles();
        if (!v.empty() && v[0] >= 1 && v[0] <= 64) {
          meta_.bit_depth = static_cast<int>(v[0]);
          meta_.items.push_back({"bit_depth", p, num(v[0]), num(v[0]) + " bits"});
          break;
        }
      } catch (const IoError&) {
      }
    }
    meta_.sensor_thickness_m = scalar(d + "/sensor_thickness", "sensor_thickness", "m", "m");
    if (auto t = text(d + "/sensor_material")) meta_.sensor_material = *t;
  }

  // Beam centres are in pixels (NeXus allows a length; then divide by the pixel size).
  std::optional<double> beam_center(const std::string& path, const std::string& name, std::optional<double> pixel_m) {
    if (file_.object_type(path) != h5::ObjectType::dataset) return std::nullopt;
    const h5::Dataset ds = file_.open_dataset(path);
    const std::string units = trimmed(ds.string_attribute_or_none("units").value_or("pixel"));
    const auto it = units_table().find(units);
    if (it != units_table().end() && it->second.kind == Kind::length) {
      if (!pixel_m || *pixel_m <= 0) {
        throw IoError(ds.where() + " is a length (" + units + ") but the file gives no pixel size to turn it into "
                      "pixels; expected units 'pixel' or an x/y_pixel_size beside it");
      }
      const auto v = scalar(path, name, "m", "m");
      if (!v) return std::nullopt;
      return *v / *pixel_m;
    }
    return scalar(path, name, "pixel", "pixel");
  }

  void read_sample() {
    const auto g = group_of("NXsample");
    if (!g) return;
    for (const std::string& p : {*g + "/temperature", *g + "/temperature_env/value", *g + "/temperature_log/value"}) {
      if (auto t = value(p, "temperature", "K", "K")) {
        meta_.temperature_K = *t;
        break;
      }
    }
  }

  h5::File file_;
  FileMetadata meta_;
  std::map<std::string, std::string> groups_;
};

}  // namespace

double convert_units(double value, const std::string& from_units, const std::string& to_units) {
  const auto& table = units_table();
  const auto from = table.find(trimmed(from_units));
  const auto to = table.find(trimmed(to_units));
  if (to == table.end()) {
    throw InvalidArgument("convert_units: unknown target unit '" + to_units + "'");
  }
  if (from == table.end()) {
    throw InvalidArgument("unknown unit '" + from_units + "'; expected a " + std::string(kind_name(to->second.kind)) +
                          " unit (one of " + accepted_units(to->second.kind) + ")");
  }
  if (from->second.kind != to->second.kind) {
    throw InvalidArgument("unit '" + from_units + "' is a " + kind_name(from->second.kind) + ", not a " +
                          kind_name(to->second.kind) + " like '" + to_units + "'");
  }
  const double base = value * from->second.factor + from->second.offset;
  return (base - to->second.offset) / to->second.factor;
}

double FileMetadata::require_wavelength_A() const {
  if (wavelength_A && std::isfinite(*wavelength_A) && *wavelength_A > 0) return *wavelength_A;
  std::string msg = "'" + file + "' holds no wavelength";
  if (wavelength_A) msg += " (the stored value " + num(*wavelength_A) + " angstrom is not positive)";
  msg += ": looked for a NXbeam incident_wavelength or incident_energy, a NXmonochromator wavelength or energy, "
         "an Eiger detectorSpecific/photon_energy and a Lambda collection/beam_energy; expected one of them with "
         "units, or give the wavelength (e.g. in the PONI file)";
  throw IoError(msg);
}

FileMetadata read_metadata(const std::string& path) {
  if (detail::is_tiff_file(path)) {
    FileMetadata m;
    m.file = path;
    return m;
  }
  // File::open gives the precise message for a missing file, a directory or a file that is not HDF5.
  MetadataReader reader(path);
  return reader.run();
}

}  // namespace libpdf
