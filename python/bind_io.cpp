// Files: frames (TIFF, HDF5/NeXus, Eiger, Lambda, TIFF series), masks, darks, metadata and text patterns.
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "libpdf/image.hpp"
#include "libpdf/io.hpp"
#include "libpdf/pattern_io.hpp"

namespace libpdf_python {
namespace {

py::dtype dtype_of(libpdf::PixelType t) {
  switch (t) {
    case libpdf::PixelType::u16: return py::dtype::of<std::uint16_t>();
    case libpdf::PixelType::i16: return py::dtype::of<std::int16_t>();
    case libpdf::PixelType::u32: return py::dtype::of<std::uint32_t>();
    case libpdf::PixelType::i32: return py::dtype::of<std::int32_t>();
    case libpdf::PixelType::f32: return py::dtype::of<float>();
    case libpdf::PixelType::f64: return py::dtype::of<double>();
  }
  return py::dtype::of<double>();
}

// A frame as a (rows, cols) numpy array of its stored type, owning its memory.
py::array to_numpy_image(const libpdf::Image& img) {
  py::array a(dtype_of(img.type()), {static_cast<py::ssize_t>(img.rows()), static_cast<py::ssize_t>(img.cols())});
  if (!img.empty()) std::memcpy(a.mutable_data(), img.data(), img.size() * libpdf::pixel_size(img.type()));
  return a;
}

// Python keeps a shared_ptr so select_frames can share the source.
using Source = std::shared_ptr<libpdf::FrameSource>;

libpdf::Image read_frame(const libpdf::FrameSource& s, py::ssize_t index) {
  const auto n = static_cast<py::ssize_t>(s.size());
  if (index < 0) index += n;  // Python-style negative indices
  if (index < 0 || index >= n) throw py::index_error("frame index out of range (" + std::to_string(n) + " frames)");
  const py::gil_scoped_release release;  // decompression of HDF5 chunks can take a while
  return s.read(static_cast<std::size_t>(index));
}

py::object opt_or_none(const std::optional<double>& v) { return v ? py::object(py::float_(*v)) : py::object(py::none()); }

}  // namespace

void bind_io(py::module_& m) {
  py::enum_<libpdf::PixelType>(m, "PixelType", "Element type of a frame.")
      .value("u16", libpdf::PixelType::u16)
      .value("i16", libpdf::PixelType::i16)
      .value("u32", libpdf::PixelType::u32)
      .value("i32", libpdf::PixelType::i32)
      .value("f32", libpdf::PixelType::f32)
      .value("f64", libpdf::PixelType::f64);

  py::class_<libpdf::FrameSource, Source>(m, "FrameSource",
                                          "Equally shaped frames of a file or series, read one at a time.")
      .def("__len__", &libpdf::FrameSource::size)
      .def_property_readonly("rows", &libpdf::FrameSource::rows)
      .def_property_readonly("cols", &libpdf::FrameSource::cols)
      .def_property_readonly("shape", [](const libpdf::FrameSource& s) { return py::make_tuple(s.size(), s.rows(), s.cols()); },
                             "(frames, rows, cols).")
      .def_property_readonly("dtype", [](const libpdf::FrameSource& s) { return dtype_of(s.type()); },
                             "numpy dtype of the frames as stored.")
      .def(
          "read", [](const libpdf::FrameSource& s, py::ssize_t i) { return to_numpy_image(read_frame(s, i)); },
          py::arg("index"), "Frame `index` as a (rows, cols) array of the stored dtype.")
      .def("__getitem__",
           [](const libpdf::FrameSource& s, py::ssize_t i) { return to_numpy_image(read_frame(s, i)); })
      .def("describe", &libpdf::FrameSource::describe, "File and dataset, for headers and messages.")
      .def("__repr__", [](const libpdf::FrameSource& s) { return "<libpdf.FrameSource " + s.describe() + ">"; });

  m.def(
      "open_frames",
      [](const std::string& path, const std::string& dataset, const std::optional<py::slice>& frames,
         bool apply_detector_mask) -> Source {
        libpdf::OpenOptions o;
        o.dataset = dataset;
        o.apply_detector_mask = apply_detector_mask;
        if (frames) {
          // A Python slice: start and stop as given (negative values are not meaningful before the file is open).
          libpdf::FrameRange r;
          const py::object start = frames->attr("start"), stop = frames->attr("stop"), step = frames->attr("step");
          if (!start.is_none()) r.start = start.cast<std::size_t>();
          if (!stop.is_none()) r.stop = stop.cast<std::size_t>();
          if (!step.is_none()) r.step = step.cast<std::size_t>();
          o.frames = r;
        }
        const py::gil_scoped_release release;
        return Source(libpdf::open_frames(path, o));
      },
      py::arg("path"), py::arg("dataset") = "", py::arg("frames") = py::none(), py::arg("apply_detector_mask") = true,
      "Opens frames: TIFF (pages), HDF5/NeXus (dataset discovered when ''), Eiger master, Lambda series, or a TIFF "
      "series pattern ('scan_#####.tif', 'scan_*.tif'). frames: a slice such as slice(0, 100, 2).");
  m.def(
      "read_tiff",
      [](const std::string& path, std::size_t page) {
        libpdf::Image img;
        {
          const py::gil_scoped_release release;
          img = libpdf::read_tiff(path, page);
        }
        return to_numpy_image(img);
      },
      py::arg("path"), py::arg("page") = 0, "One TIFF page as a (rows, cols) array of its stored dtype.");
  m.def(
      "read_mask",
      [](const std::string& path, const std::string& dataset) {
        const auto mask = libpdf::read_mask_image(path, dataset);
        return to_numpy_2d(mask.values, mask.rows, mask.cols);
      },
      py::arg("path"), py::arg("dataset") = "", "A mask (TIFF or HDF5) as a (rows, cols) uint8 array, 1 = masked.");
  m.def(
      "read_dark",
      [](const std::string& path, std::size_t frame_summed_frames, std::size_t dark_summed_frames,
         const std::string& dataset) {
        libpdf::DarkOptions o;
        o.frame_summed_frames = frame_summed_frames;
        o.dark_summed_frames = dark_summed_frames;
        const auto d = libpdf::read_dark(path, o, dataset);
        // An already subtracted dark holds no pixels: None rather than an empty (rows, cols) array.
        const auto or_none = [&](const std::vector<float>& v) {
          return v.empty() ? py::object(py::none()) : py::object(to_numpy_2d(v, d.rows, d.cols));
        };
        return py::make_tuple(or_none(d.pixels), or_none(d.variance));
      },
      py::arg("path"), py::arg("frame_summed_frames") = 1, py::arg("dark_summed_frames") = 1, py::arg("dataset") = "",
      "A dark (every frame averaged, scaled by frame_summed/dark_summed) as (pixels, variance) float32 arrays (None when empty).");
  m.def(
      "read_metadata",
      [](const std::string& path) {
        const auto md = libpdf::read_metadata(path);
        py::dict d;
        d["file"] = md.file;
        d["detector"] = md.detector;
        d["wavelength_A"] = opt_or_none(md.wavelength_A);
        d["energy_keV"] = opt_or_none(md.energy_keV);
        d["distance_m"] = opt_or_none(md.distance_m);
        d["pixel1_m"] = opt_or_none(md.pixel1_m);
        d["pixel2_m"] = opt_or_none(md.pixel2_m);
        d["beam_center_row_px"] = opt_or_none(md.beam_center_row_px);
        d["beam_center_col_px"] = opt_or_none(md.beam_center_col_px);
        d["count_time_s"] = opt_or_none(md.count_time_s);
        d["frame_time_s"] = opt_or_none(md.frame_time_s);
        d["bit_depth"] = md.bit_depth ? py::object(py::int_(*md.bit_depth)) : py::object(py::none());
        d["sensor_thickness_m"] = opt_or_none(md.sensor_thickness_m);
        d["sensor_material"] = md.sensor_material;
        d["temperature_K"] = to_numpy(md.temperature_K);
        py::list items;
        for (const auto& it : md.items) items.append(py::make_tuple(it.name, it.path, it.stored, it.converted));
        d["items"] = items;
        return d;
      },
      py::arg("path"),
      "Instrument and sample metadata of a frames file, in libpdf's units (absent values are None); 'items' lists "
      "(name, path, stored, converted) of everything found.");

  // ---- Text patterns -------------------------------------------------------------------------------------
  py::class_<libpdf::TextPattern>(m, "TextPattern", "A pattern read from a text file.")
      .def_property_readonly("x", [](const libpdf::TextPattern& p) { return to_numpy(p.x); }, "First column.")
      .def_property_readonly("y", [](const libpdf::TextPattern& p) { return to_numpy(p.y); }, "Second column.")
      .def_property_readonly("sigma", [](const libpdf::TextPattern& p) { return to_numpy(p.sigma); },
                             "sigma of y (empty if the file has none).")
      .def_readonly("header", &libpdf::TextPattern::header, "Header lines before the data.")
      .def_readonly("metadata", &libpdf::TextPattern::metadata, "'key = value' and 'key: value' header lines.")
      .def_readonly("columns", &libpdf::TextPattern::columns, "Numeric columns of the data rows.")
      .def("__len__", [](const libpdf::TextPattern& p) { return p.x.size(); });
  m.def("read_text_pattern", &libpdf::read_text_pattern, py::arg("path"),
        "Reads a .xy/.chi/.dat/.iq/.sq/.fq/.gr text pattern (two to four columns after a header).");
  py::enum_<libpdf::PatternXUnit>(m, "PatternXUnit", "Unit of the first column of a pattern.")
      .value("q_A", libpdf::PatternXUnit::q_A)
      .value("q_nm", libpdf::PatternXUnit::q_nm)
      .value("tth_deg", libpdf::PatternXUnit::tth_deg);
  m.def(
      "to_q_A",
      [](const InArray<double>& x, const py::object& unit, double wavelength_A) {
        const auto u = py::isinstance<py::str>(unit) ? libpdf::parse_pattern_x_unit(unit.cast<std::string>())
                                                     : unit.cast<libpdf::PatternXUnit>();
        return to_numpy(libpdf::to_q_A(to_vector<double>(x, "x"), u, wavelength_A));
      },
      py::arg("x"), py::arg("unit"), py::arg("wavelength_A") = 0.0,
      "The first column converted to q in 1/A ('q_A^-1', 'q_nm^-1' or '2th_deg' with the wavelength).");
  m.def(
      "write_xy",
      [](const std::string& path, const InArray<double>& x, const InArray<double>& y, const py::object& sigma,
         const std::vector<std::string>& header, const std::string& column_labels) {
        libpdf::write_xy(path, header, column_labels, to_vector<double>(x, "x"), to_vector<double>(y, "y"),
                         to_vector_or_empty(sigma, "sigma"));
      },
      py::arg("path"), py::arg("x"), py::arg("y"), py::arg("sigma") = py::none(),
      py::arg("header") = std::vector<std::string>{}, py::arg("column_labels") = "q_A^-1 I sigma",
      "Writes an .xy file atomically: '# ' header lines, '# <column labels>', then x y [sigma] rows.");
  m.def(
      "write_pdfgetx3",
      [](const std::string& path, const InArray<double>& x, const InArray<double>& y, const py::object& sigma,
         const std::vector<std::pair<std::string, std::string>>& header, const std::string& x_label,
         const std::string& y_label, const std::string& sigma_label) {
        libpdf::write_pdfgetx3(path, {header.begin(), header.end()}, x_label, y_label, sigma_label,
                               to_vector<double>(x, "x"), to_vector<double>(y, "y"),
                               to_vector_or_empty(sigma, "sigma"));
      },
      py::arg("path"), py::arg("x"), py::arg("y"), py::arg("sigma") = py::none(),
      py::arg("header") = std::vector<std::pair<std::string, std::string>>{}, py::arg("x_label") = "r",
      py::arg("y_label") = "G", py::arg("sigma_label") = "dG",
      "Writes a PDFgetX3-style file ([(key, value)] header, '#### start data', '#L' labels) atomically.");
}

}  // namespace libpdf_python
