// `pdfreduce inspect FILE [--json]`: what a frames file (or a libpdf result file) holds: the detector, frame
// count, shape and type, how it is stored (chunks, compression, whether this HDF5 can decompress it), the
// metadata with its units as stored and converted, and the sample temperatures.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/nexus.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"
#include "pdfreduce/json.hpp"

namespace pdfreduce {
namespace {

struct InspectArgs {
  std::string file;
  std::string dataset;
  bool json = false;
};

// JSON strings through the tool's one JSON writer (json.hpp), so every --json output escapes alike.
std::string json_string(const std::string& s) { return JsonObject::quote(s); }

std::string json_number(double v) { return std::isfinite(v) ? exact(v) : "null"; }

template <class T>
std::string json_array(const std::vector<T>& v) {
  std::string out = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) out += ", ";
    if constexpr (std::is_same_v<T, std::string>) {
      out += json_string(v[i]);
    } else if constexpr (std::is_floating_point_v<T>) {
      out += json_number(v[i]);
    } else {
      out += std::to_string(v[i]);
    }
  }
  return out + "]";
}

std::string shape_text(const std::vector<std::size_t>& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? " x " : "") + std::to_string(s[i]);
  return out.empty() ? "scalar" : out;
}

std::string optional_text(const std::optional<double>& v, const char* unit) {
  return v ? exact(*v) + " " + unit : "(not found)";
}

std::string temperature_summary(const std::vector<double>& t) {
  if (t.empty()) return "(none)";
  double lo = t.front(), hi = t.front();
  for (double x : t) {
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  return std::to_string(t.size()) + " value" + (t.size() == 1 ? "" : "s") + ", " + strprintf("%.6g", lo) + " to " +
         strprintf("%.6g", hi) + " K";
}

void inspect_result(const InspectArgs& a) {
  const libpdf::NexusResult r = libpdf::read_nexus_result(a.file);
  if (a.json) {
    std::ostringstream o;
    o << "{\n  \"file\": " << json_string(a.file) << ",\n  \"kind\": \"libpdf NXazint1d result\""
      << ",\n  \"program\": " << json_string(r.program) << ",\n  \"version\": " << json_string(r.version)
      << ",\n  \"date\": " << json_string(r.date) << ",\n  \"title\": " << json_string(r.title)
      << ",\n  \"frames\": " << r.frames << ",\n  \"bins\": " << r.radial.size()
      << ",\n  \"unit\": " << json_string(libpdf::radial_unit_name(r.unit))
      << ",\n  \"wavelength_A\": " << json_number(r.wavelength_A)
      << ",\n  \"frame_index\": " << json_array(r.frame_index)
      << ",\n  \"temperature_K\": " << json_array(r.temperature_K) << ",\n  \"has_pdf\": " << (r.has_pdf ? "true" : "false")
      << ",\n  \"parameters\": {";
    bool first = true;  // skipped keys may come first: the separator follows what was written
    for (const auto& [key, value] : r.parameters) {
      if (key == "poni" || key == "all_parameters") continue;
      o << (first ? "" : ", ") << json_string(key) << ": " << json_string(value);
      first = false;
    }
    o << "}\n}\n";
    std::cout << o.str();
    return;
  }
  std::cout << "file:        " << a.file << "\n"
            << "kind:        libpdf reduction result (NeXus NXazint1d)\n"
            << "written by:  " << r.version << ", " << r.date << "\n"
            << "title:       " << r.title << "\n"
            << "frames:      " << r.frames << "\n"
            << "bins:        " << r.radial.size() << " in " << libpdf::radial_unit_name(r.unit);
  if (!r.radial.empty()) std::cout << " (" << exact(r.radial.front()) << " .. " << exact(r.radial.back()) << ")";
  std::cout << "\nwavelength:  " << exact(r.wavelength_A) << " angstrom\n"
            << "temperature: " << temperature_summary(r.temperature_K) << "\n"
            << "pdf part:    " << (r.has_pdf ? "yes (S(q), F(q), G(r))" : "no") << "\n"
            << "parameters:\n";
  for (const auto& [k, v] : r.parameters) {
    if (k == "poni" || k == "all_parameters") continue;
    std::cout << "  " << k << " = " << v << "\n";
  }
}

void inspect_frames(const InspectArgs& a) {
  libpdf::OpenOptions open;
  open.dataset = a.dataset;
  const auto source = libpdf::open_frames(a.file, open);
  const auto storage = libpdf::frames_storage(a.file, a.dataset);
  std::optional<libpdf::FileMetadata> meta;
  std::string meta_error;
  try {
    // HDF5 files (stacks, Eiger masters, Lambda modules) carry metadata; a TIFF series' first file has none.
    meta = libpdf::read_metadata(libpdf::is_hdf5_file(a.file) || storage.empty() ? a.file : storage.front().file);
  } catch (const libpdf::Error& e) {
    // Metadata problems (e.g. unknown units) are reported, but the frames are still described.
    meta_error = e.what();
  }
  std::string kind = "HDF5/NeXus stack";
  if (libpdf::is_eiger_master(a.file)) kind = "Dectris Eiger master + data files";
  else if (source->describe().rfind("DESY Lambda", 0) == 0) kind = "DESY Lambda multi-module series";
  else if (source->describe().rfind("TIFF series", 0) == 0) kind = "TIFF series";
  else if (source->describe().rfind("TIFF", 0) == 0) kind = "TIFF";

  if (a.json) {
    std::ostringstream o;
    o << "{\n  \"file\": " << json_string(a.file) << ",\n  \"kind\": " << json_string(kind)
      << ",\n  \"source\": " << json_string(source->describe()) << ",\n  \"frames\": " << source->size()
      << ",\n  \"rows\": " << source->rows() << ",\n  \"cols\": " << source->cols()
      << ",\n  \"type\": " << json_string(libpdf::pixel_type_name(source->type())) << ",\n  \"storage\": [";
    for (std::size_t i = 0; i < storage.size(); ++i) {
      const auto& s = storage[i];
      o << (i ? ",\n    " : "\n    ") << "{\"file\": " << json_string(s.file) << ", \"dataset\": " << json_string(s.dataset)
        << ", \"shape\": " << json_array(s.shape) << ", \"type\": " << json_string(s.type)
        << ", \"chunks\": " << json_array(s.chunks) << ", \"filters\": " << json_array(s.filters)
        << ", \"filters_available\": " << (s.filters_available ? "true" : "false")
        << ", \"compression_ratio\": " << json_number(s.compression_ratio) << "}";
    }
    o << "\n  ]";
    if (meta) {
      auto opt = [](const std::optional<double>& v) { return v ? json_number(*v) : std::string("null"); };
      o << ",\n  \"metadata\": {\"detector\": " << json_string(meta->detector)
        << ", \"wavelength_A\": " << opt(meta->wavelength_A) << ", \"energy_keV\": " << opt(meta->energy_keV)
        << ", \"distance_m\": " << opt(meta->distance_m) << ", \"pixel1_m\": " << opt(meta->pixel1_m)
        << ", \"pixel2_m\": " << opt(meta->pixel2_m) << ", \"beam_center_row_px\": " << opt(meta->beam_center_row_px)
        << ", \"beam_center_col_px\": " << opt(meta->beam_center_col_px)
        << ", \"count_time_s\": " << opt(meta->count_time_s) << ", \"frame_time_s\": " << opt(meta->frame_time_s)
        << ", \"bit_depth\": " << (meta->bit_depth ? std::to_string(*meta->bit_depth) : "null")
        << ", \"sensor_material\": " << json_string(meta->sensor_material)
        << ", \"sensor_thickness_m\": " << opt(meta->sensor_thickness_m)
        << ", \"temperature_K\": " << json_array(meta->temperature_K) << ",\n    \"items\": [";
      for (std::size_t i = 0; i < meta->items.size(); ++i) {
        const auto& it = meta->items[i];
        o << (i ? ",\n      " : "\n      ") << "{\"name\": " << json_string(it.name) << ", \"path\": " << json_string(it.path)
          << ", \"stored\": " << json_string(it.stored) << ", \"converted\": " << json_string(it.converted) << "}";
      }
      o << "]}";
    }
    if (!meta_error.empty()) o << ",\n  \"metadata_error\": " << json_string(meta_error);
    o << "\n}\n";
    std::cout << o.str();
    return;
  }
  std::cout << "file:        " << a.file << "\n"
            << "kind:        " << kind << "\n"
            << "frames:      " << source->size() << " of " << source->rows() << " x " << source->cols() << " "
            << libpdf::pixel_type_name(source->type()) << " (rows x columns)\n"
            << "source:      " << source->describe() << "\n"
            << "storage:\n";
  for (const auto& s : storage) {
    std::cout << "  " << s.file << (s.dataset.empty() ? "" : " " + s.dataset) << ": " << shape_text(s.shape) << " "
              << s.type << ", " << (s.chunks.empty() ? "contiguous" : "chunks " + shape_text(s.chunks)) << ", "
              << (s.filters.empty() ? std::string("uncompressed") : [&] {
                   std::string f;
                   for (const auto& x : s.filters) f += (f.empty() ? "" : " + ") + x;
                   return f;
                 }())
              << (s.compression_ratio != 1.0 ? strprintf(", ratio %.2f", s.compression_ratio) : std::string())
              << (s.filters_available ? "" : "  [FILTER NOT AVAILABLE: cannot be read here]") << "\n";
  }
  if (meta) {
    std::cout << "detector:    " << (meta->detector.empty() ? "(not stored)" : meta->detector) << "\n"
              << "wavelength:  " << optional_text(meta->wavelength_A, "angstrom") << "\n"
              << "energy:      " << optional_text(meta->energy_keV, "keV") << "\n"
              << "distance:    " << optional_text(meta->distance_m, "m") << "\n"
              << "pixel size:  " << optional_text(meta->pixel1_m, "m") << " (rows) x "
              << optional_text(meta->pixel2_m, "m") << " (columns)\n"
              << "beam centre: " << optional_text(meta->beam_center_row_px, "px") << " (row), "
              << optional_text(meta->beam_center_col_px, "px") << " (column)\n"
              << "count time:  " << optional_text(meta->count_time_s, "s") << "\n"
              << "bit depth:   " << (meta->bit_depth ? std::to_string(*meta->bit_depth) : "(not stored)") << "\n"
              << "temperature: " << temperature_summary(meta->temperature_K) << "\n";
    if (!meta->items.empty()) {
      std::cout << "metadata as stored -> converted:\n";
      for (const auto& it : meta->items) {
        std::cout << "  " << it.name << " (" << it.path << "): " << (it.stored.empty() ? "" : it.stored + " -> ")
                  << it.converted << "\n";
      }
    }
  }
  if (!meta_error.empty()) std::cout << "metadata error: " << meta_error << "\n";
}

void run_inspect(const InspectArgs& a) {
  if (a.dataset.empty() && libpdf::is_nexus_result(a.file)) {
    inspect_result(a);
  } else {
    inspect_frames(a);
  }
}

}  // namespace

Command add_inspect_command(CLI::App& parent, const GlobalOptions& global) {
  (void)global;
  auto args = std::make_shared<InspectArgs>();
  CLI::App* app = parent.add_subcommand(
      "inspect",
      "Show what a frames file holds: detector, frame count and shape, data type, compression, metadata with "
      "units (as stored and converted), temperatures. Also reads libpdf result files (NXazint1d).");
  app->footer(
      "FILE may be a TIFF, a TIFF series pattern (scan_#####.tif), an HDF5/NeXus stack, an Eiger master file, "
      "any file of a DESY Lambda series, or a libpdf result file.\n"
      "Examples:\n"
      "  pdfreduce inspect example/series.h5\n"
      "  pdfreduce inspect scan_master.h5 --json");
  app->add_option("FILE", args->file, "The file to inspect")->required()->type_name("FILE");
  app->add_option("--dataset", args->dataset, "HDF5 path of the frames (default: discovered)")->type_name("PATH");
  app->add_flag("--json", args->json, "Print JSON instead of text");
  return Command{app, [args] { run_inspect(*args); }};
}

}  // namespace pdfreduce
