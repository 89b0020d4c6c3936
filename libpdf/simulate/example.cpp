// The bundled example: a PETRA III P02.1-style in-situ heating series of La65Co25Al10 (and the reference
// La50Ni35Al15) on a PerkinElmer XRD1621-like flat panel at 60 keV, written as NeXus files with the
// model's truth beside the frames. The file layout is described in docs/files.md.
#include <tiffio.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <future>

#include "libpdf/detail/atomic_file.hpp"
#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/simulate.hpp"
#include "libpdf/version.hpp"

namespace libpdf {
namespace {

namespace h5 = detail::h5;
namespace fs = std::filesystem;

constexpr double kHcKeVAngstrom = 12.398419843320026;
constexpr double kWavelengthA = 0.2072;  // the 60 keV beam (P02.1 runs at about 59.8 keV)

// A file written under a temporary name and renamed into place by commit(); removed if never committed.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)), tmp_(detail::temporary_path_for(path_)) {}
  ~TempFile() {
    if (!committed_) {
      std::error_code ec;
      fs::remove(tmp_, ec);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::string& tmp() const { return tmp_; }
  const std::string& path() const { return path_; }
  void commit() {
    detail::commit_rename(tmp_, path_);
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

void quantity(h5::Group& g, const std::string& name, double value, const std::string& units) {
  g.write_dataset(name, std::vector<double>{value}, std::vector<std::size_t>{}).write_attribute("units", units);
}

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// The NeXus frame of a PETRA-style file: entry, instrument (source, beam, monochromator, detector).
h5::Group write_instrument(h5::File& f, const std::string& title, const Poni& poni, const SimulationSetup& s,
                           std::size_t rows, std::size_t cols) {
  f.write_attribute("default", "entry");
  f.write_attribute("NX_class", "NXroot");
  f.write_attribute("creator", std::string("libpdf ") + version() + " simulate (synthetic data)");
  h5::Group entry = f.create_group("/entry", "NXentry");
  entry.write_attribute("default", "data");
  entry.write_string_dataset("title", title);
  entry.write_string_dataset("experiment_description",
                             "Simulated by libpdf: a known model structure on a known detector (docs/files.md)");
  h5::Group inst = entry.create_group("instrument", "NXinstrument");
  inst.write_string_dataset("name", "PETRA III P02.1 (simulated)");
  h5::Group source = inst.create_group("source", "NXsource");
  source.write_string_dataset("name", "PETRA III, DESY (simulated)");
  source.write_string_dataset("type", "Synchrotron X-ray Source");
  source.write_string_dataset("probe", "x-ray");
  h5::Group beam = inst.create_group("beam", "NXbeam");
  quantity(beam, "incident_energy", kHcKeVAngstrom / poni.wavelength_A(), "keV");
  quantity(beam, "incident_wavelength", poni.wavelength_A(), "angstrom");
  h5::Group mono = inst.create_group("monochromator", "NXmonochromator");
  quantity(mono, "wavelength", poni.wavelength_A(), "angstrom");
  h5::Group det = inst.create_group("detector", "NXdetector");
  det.write_string_dataset("description", rows == 2048 ? "PerkinElmer XRD1621-like flat panel (simulated)"
                                                       : "PerkinElmer XRD1621-like flat panel, binned (simulated)");
  quantity(det, "x_pixel_size", poni.detector.pixel2_m * 1e6, "um");
  quantity(det, "y_pixel_size", poni.detector.pixel1_m * 1e6, "um");
  quantity(det, "distance", poni.distance_m * 1e3, "mm");
  // Beam centre for rot = 0 (the PONI); the tilts move the true beam centre by a few pixels.
  quantity(det, "beam_center_x", poni.poni2_m / poni.detector.pixel2_m - 0.5, "pixel");
  quantity(det, "beam_center_y", poni.poni1_m / poni.detector.pixel1_m - 0.5, "pixel");
  quantity(det, "count_time", s.count_time_s, "s");
  quantity(det, "frame_time", s.count_time_s, "s");
  det.write_string_dataset("sensor_material", "CsI");
  if (s.sensor) quantity(det, "sensor_thickness", s.sensor->thickness_m * 1e6, "um");
  (void)cols;
  return det;
}

h5::DatasetOptions frame_options(std::size_t rows, std::size_t cols, int gzip) {
  h5::DatasetOptions o;
  o.chunks = {1, rows, cols};  // one frame per chunk: a frame read decompresses exactly one chunk
  o.shuffle = gzip >= 0;
  o.gzip_level = gzip;
  return o;
}

// The NeXus pixel_mask bit field: bit 0 gap, bit 1 dead, bit 3 hot (NXdetector's definition).
std::vector<std::uint32_t> pixel_mask(const Simulator& sim) {
  const SimulationSetup& s = sim.setup();
  const auto& defects = sim.defect_mask();
  std::vector<std::uint32_t> m(defects.size(), 0);
  for (std::size_t p = 0; p < m.size(); ++p) m[p] = defects[p] ? 2u : 0u;
  for (std::size_t r : s.gap_rows) {
    for (std::size_t j = 0; j < sim.cols(); ++j) m[r * sim.cols() + j] = 1u;
  }
  for (std::size_t c : s.gap_cols) {
    for (std::size_t i = 0; i < sim.rows(); ++i) m[i * sim.cols() + c] = 1u;
  }
  return m;
}

void write_mask_tiff(const std::string& path, std::size_t rows, std::size_t cols, const std::vector<std::int32_t>& v) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  if (!t) throw IoError("cannot create the TIFF file '" + path + "'");
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, static_cast<std::uint32_t>(cols));
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, static_cast<std::uint32_t>(rows));
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, std::uint16_t{1});
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, std::uint16_t{32});
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, std::uint16_t{SAMPLEFORMAT_INT});
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, static_cast<std::uint32_t>(64));
  const std::string software = std::string("libpdf ") + version();
  TIFFSetField(t, TIFFTAG_SOFTWARE, software.c_str());
  TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, "pixel mask of the simulated detector (1 gap, 2 dead; 0 valid)");
  const std::size_t row_bytes = cols * 4;
  bool ok = true;
  std::uint32_t strip = 0;
  for (std::size_t r = 0; r < rows && ok; r += 64, ++strip) {
    const std::size_t nr = std::min<std::size_t>(64, rows - r);
    ok = TIFFWriteEncodedStrip(t, strip, const_cast<std::int32_t*>(v.data() + r * cols),
                               static_cast<tmsize_t>(nr * row_bytes)) >= 0;
  }
  ok = ok && TIFFWriteDirectory(t) == 1;
  TIFFClose(t);
  if (!ok) throw IoError("cannot write the TIFF file '" + path + "'");
}

std::vector<double> grid(double first, double step, std::size_t n) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = first + step * static_cast<double>(i);
  return v;
}

// One heating series with its truth.
void write_series(const std::string& path, const Simulator& sim, const Poni& poni, const ExampleOptions& o,
                  const std::vector<double>& temps, bool reference, std::uint64_t frame_offset) {
  const SimulationSetup& s = sim.setup();
  const std::size_t rows = sim.rows(), cols = sim.cols(), n = temps.size();
  const std::string formula = reference ? "La50Ni35Al15" : "La65Co25Al10";
  TempFile out(path);
  {
    h5::File f = h5::File::create(out.tmp());
    h5::Group det = write_instrument(f, formula + " metallic glass, in-situ heating " + num(temps.front()) + " -> " +
                                            num(temps.back()) + " K (simulated)",
                                     poni, s, rows, cols);
    const auto pm = pixel_mask(sim);
    det.write_dataset("pixel_mask", PixelType::u32, {rows, cols}, pm.data());
    h5::Dataset data = det.create_dataset("data", H5T_STD_U16LE, {n, rows, cols}, frame_options(rows, cols, o.gzip_level));
    data.write_attribute("units", "counts");

    h5::Group entry = f.open_group("/entry");
    h5::Group sample = entry.create_group("sample", "NXsample");
    sample.write_string_dataset("name", formula + " metallic glass (simulated)");
    sample.write_string_dataset("chemical_formula", formula);
    sample.write_dataset("temperature", temps).write_attribute("units", "K");
    h5::Group nxdata = entry.create_group("data", "NXdata");
    nxdata.write_attribute("signal", "data");
    nxdata.create_hard_link("data", "/entry/instrument/detector/data");
    nxdata.create_hard_link("temperature", "/entry/sample/temperature");

    // Truth: the models, their exact S(q), g(r), G(r), intensities and metrics.
    h5::Group sim_g = entry.create_group("simulation", "NXcollection");
    sim_g.write_string_dataset("program", std::string("libpdf ") + version() + " write_example_series");
    sim_g.write_string_dataset(
        "description",
        "Truth of the simulated frames: model S(q) (exact closed form of a Gaussian-shell g(r)), the sample's "
        "per-atom intensity <f>^2(S-1)+<f^2>+I_inc, the expected integrated pattern "
        "photons_per_electron*count_time*(sample+background), g(r), G(r)=4 pi rho0 r (g-1), and metrics. "
        "See include/libpdf/simulate.hpp and docs/files.md.");
    sim_g.write_int64_dataset("seed", {static_cast<long long>(s.seed)});
    sim_g.write_int64_dataset("frame_number_offset", {static_cast<long long>(frame_offset)});
    quantity(sim_g, "photons_per_electron", s.photons_per_electron, "photons per electron unit per atom");
    quantity(sim_g, "polarization_factor", s.polarization_factor, "");
    quantity(sim_g, "background_fraction", s.background_fraction, "");
    quantity(sim_g, "gain", s.gain_adu_per_photon, "ADU per photon");
    quantity(sim_g, "dark_offset", s.dark_offset_adu, "ADU");
    quantity(sim_g, "read_noise", s.read_noise_adu, "ADU");
    if (s.sensor) {
      quantity(sim_g, "sensor_thickness", s.sensor->thickness_m, "m");
      quantity(sim_g, "sensor_attenuation_length", s.sensor->attenuation_length_m, "m");
    }
    const std::vector<double> q = grid(0.005, 0.005, 6000);
    const std::vector<double> r = grid(0.01, 0.01, 3000);
    sim_g.write_dataset("q", q).write_attribute("units", "1/angstrom");
    sim_g.write_dataset("r", r).write_attribute("units", "angstrom");
    sim_g.write_dataset("background", sim.background(q)).write_attribute("units", "electrons^2 per atom");
    sim_g.create_hard_link("temperature", "/entry/sample/temperature");
    std::vector<double> S(n * q.size()), I(n * q.size()), E(n * q.size()), g(n * r.size()), G(n * r.size());
    constexpr std::size_t kMetrics = 23;
    std::vector<std::vector<double>> metrics(kMetrics, std::vector<double>(n));
    std::vector<double> rho(n);
    h5::Group models = sim_g.create_group("models", "NXcollection");
    for (std::size_t k = 0; k < n; ++k) {
      const PairModel m = metallic_glass_model(temps[k], GlassModelOptions{450.0, 600.0, reference});
      rho[k] = m.number_density;
      const auto inten = sim.sample_intensity(m, q);
      const auto expct = sim.expected_pattern(m, q);
      for (std::size_t i = 0; i < q.size(); ++i) {
        S[k * q.size() + i] = m.S(q[i]);
        I[k * q.size() + i] = inten[i];
        E[k * q.size() + i] = expct[i];
      }
      for (std::size_t i = 0; i < r.size(); ++i) {
        g[k * r.size() + i] = m.g(r[i]);
        G[k * r.size() + i] = m.G(r[i]);
      }
      const ModelMetrics mm = model_metrics(m);
      const double vals[kMetrics] = {mm.q1,      mm.s_q1,    mm.fwhm_q1,      mm.q2,          mm.s_q2,   mm.fwhm_q2,
                                     mm.q3,      mm.s_q3,    mm.fwhm_q3,      mm.q4,          mm.s_q4,   mm.fwhm_q4,
                                     mm.q_new,   mm.s_q_new, mm.prominence_new, mm.s_446,     mm.s_446_excess,
                                     mm.r1,      mm.g_r1,    mm.coordination, mm.mro_rms,     mm.xi,     mm.q_mro};
      for (std::size_t j = 0; j < kMetrics; ++j) metrics[j][k] = vals[j];
      // The model itself: hole and shells (c, σ, a, ω, φ), so the truth can be recomputed exactly.
      char name[32];
      std::snprintf(name, sizeof name, "frame_%04zu", k);
      h5::Group mg = models.create_group(name, "NXcollection");
      quantity(mg, "temperature", temps[k], "K");
      quantity(mg, "number_density", m.number_density, "1/angstrom^3");
      quantity(mg, "hole_radius", m.hole_radius_A, "angstrom");
      quantity(mg, "hole_width", m.hole_width_A, "angstrom");
      std::vector<double> shells;
      for (const Shell& sh : m.shells) {
        shells.insert(shells.end(), {sh.center_A, sh.width_A, sh.amplitude_A, sh.frequency, sh.phase});
      }
      mg.write_dataset("shells", shells, {m.shells.size(), 5})
          .write_attribute("columns", "center (angstrom), width (angstrom), amplitude (angstrom), frequency "
                                      "(1/angstrom), phase (rad)");
    }
    sim_g.write_dataset("number_density", rho).write_attribute("units", "1/angstrom^3");
    h5::DatasetOptions compact;
    compact.gzip_level = 4;
    compact.shuffle = true;
    compact.chunks = {1, q.size()};
    sim_g.write_dataset("S", S, {n, q.size()}, compact).write_attribute("long_name", "S(q) of the model (Faber-Ziman)");
    sim_g.write_dataset("sample_intensity", I, {n, q.size()}, compact)
        .write_attribute("units", "electrons^2 per atom");
    sim_g.write_dataset("expected_pattern", E, {n, q.size()}, compact)
        .write_attribute("long_name", "what an ideal integration (dark, flat, solid angle, polarisation, sensor "
                                      "efficiency corrected) gives, in photons");
    compact.chunks = {1, r.size()};
    sim_g.write_dataset("g", g, {n, r.size()}, compact);
    sim_g.write_dataset("G", G, {n, r.size()}, compact).write_attribute("units", "1/angstrom^2");
    h5::Group mg = sim_g.create_group("metrics", "NXcollection");
    // The fields of ModelMetrics (simulate.hpp states each definition), in its order.
    const char* names[kMetrics] = {"q1",     "S_q1",     "fwhm_q1",        "q2",     "S_q2",          "fwhm_q2",
                                   "q3",     "S_q3",     "fwhm_q3",        "q4",     "S_q4",          "fwhm_q4",
                                   "q_new",  "S_q_new",  "prominence_new", "S_4_46", "S_4_46_excess", "r1",
                                   "G_r1",   "coordination", "mro_rms_G_5_17", "xi_G_5_17", "Qm_G_5_17"};
    const char* units[kMetrics] = {"1/angstrom", "", "1/angstrom", "1/angstrom", "", "1/angstrom",
                                   "1/angstrom", "", "1/angstrom", "1/angstrom", "", "1/angstrom",
                                   "1/angstrom", "", "", "", "", "angstrom",
                                   "1/angstrom^2", "", "1/angstrom^2", "angstrom", "1/angstrom"};
    for (std::size_t j = 0; j < kMetrics; ++j) {
      h5::Dataset d = mg.write_dataset(names[j], metrics[j]);
      if (*units[j]) d.write_attribute("units", units[j]);
    }

    // Frames: the next one is simulated while this one is compressed and written.
    auto make = [&sim, &temps, reference, frame_offset](std::size_t k) {
      return sim.frame(metallic_glass_model(temps[k], GlassModelOptions{450.0, 600.0, reference}), frame_offset + k);
    };
    std::future<Image> next = std::async(std::launch::async, make, 0);
    for (std::size_t k = 0; k < n; ++k) {
      Image img = next.get();
      if (k + 1 < n) next = std::async(std::launch::async, make, k + 1);
      data.write_frame(k, img.view());
    }
    f.close();
  }
  out.commit();
}

}  // namespace

void ExampleOptions::validate() const {
  std::string bad;
  auto add = [&bad](const std::string& s) { bad += (bad.empty() ? "" : "; ") + s; };
  if (out_dir.empty()) add("out_dir is empty");
  if (!poni && (size == 0 || size > 2048 || 2048 % size != 0)) {
    add("size = " + std::to_string(size) + " must divide 2048");
  }
  if (poni && (poni->detector.rows == 0 || poni->detector.cols == 0)) {
    add("poni: the detector shape (max_shape) is needed to simulate frames");
  }
  if (!(t_step_K > 0) || !(t_stop_K >= t_start_K) || !(t_start_K > 0)) {
    add("temperatures: need t_start_K > 0, t_stop_K >= t_start_K and t_step_K > 0");
  } else if ((t_stop_K - t_start_K) / t_step_K > 10000) {
    add("more than 10000 temperatures");
  } else if (t_stop_K > kGlassModelMaxTemperatureK) {
    add("t_stop_K = " + num(t_stop_K) + " K is above " + num(kGlassModelMaxTemperatureK) +
        " K, the highest temperature of the glass models");
  }
  if (dark_frames == 0) add("dark_frames must be >= 1");
  if (!(count_time_s > 0)) add("count_time_s must be > 0");
  if (gzip_level < -1 || gzip_level > 9) add("gzip_level must be -1..9");
  if (!bad.empty()) throw InvalidArgument("ExampleOptions: " + bad);
}

ExampleFiles write_example_series(const ExampleOptions& o) {
  o.validate();
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) throw IoError("cannot create the folder '" + o.out_dir + "': " + ec.message());

  // Geometry: a PerkinElmer XRD1621 (2048² × 200 µm, or binned) 0.25 m behind the sample, beam near the
  // centre, small tilts; q reaches ~20 1/Å at the edges and ~25 1/Å in the corners at 60 keV.
  const std::size_t size = o.poni ? o.poni->detector.rows : o.size;
  const double pixel = 200e-6 * static_cast<double>(2048 / std::max<std::size_t>(o.size, 1));
  const double side = pixel * static_cast<double>(size);
  Poni poni;
  poni.version = 2;
  poni.detector = Detector::perkinelmer_xrd1621();
  poni.detector.rows = poni.detector.cols = size;
  poni.detector.pixel1_m = poni.detector.pixel2_m = pixel;
  poni.distance_m = 0.25;
  poni.poni1_m = side / 2 + 0.0031;
  poni.poni2_m = side / 2 - 0.0024;
  poni.rot1 = 0.004;
  poni.rot2 = -0.003;
  poni.rot3 = 0.0;
  poni.wavelength_m = kWavelengthA * 1e-10;
  if (o.poni) poni = *o.poni;

  SimulationSetup setup;
  setup.composition = Composition(o.composition.empty() ? "La65Co25Al10" : o.composition);
  setup.poni = poni;
  setup.count_time_s = o.count_time_s;
  // CsI scintillator of 600 µm; attenuation length at 60 keV about 0.28 mm (μ/ρ ≈ 7.9 cm²/g, ρ = 4.51 g/cm³).
  setup.sensor = Sensor{0.28e-3, 0.6e-3};
  setup.dead_columns = {static_cast<std::size_t>(0.71 * static_cast<double>(poni.detector.cols))};
  setup.seed = o.seed;
  setup.threads = o.threads;
  const Simulator sim(setup);
  SimulationSetup ref_setup = setup;
  ref_setup.composition = Composition("La50Ni35Al15");

  ExampleFiles files;
  for (double t = o.t_start_K; t <= o.t_stop_K + 1e-9 * o.t_step_K; t += o.t_step_K) files.temperatures_K.push_back(t);
  const fs::path dir(o.out_dir);
  files.series = (dir / "series.h5").string();
  files.dark = (dir / "dark.h5").string();
  files.flat = (dir / "flat.h5").string();
  files.mask = (dir / "mask.tif").string();
  files.poni = (dir / "series.poni").string();

  write_poni(files.poni, poni);
  write_series(files.series, sim, poni, o, files.temperatures_K, false, 0);
  if (o.reference) {
    files.reference = (dir / "reference.h5").string();
    // Same detector (flat, dark, defects come from the same seed); other frame numbers for other noise.
    const Simulator ref_sim = sim.with_composition(ref_setup.composition);
    write_series(files.reference, ref_sim, poni, o, files.temperatures_K, true, 100000);
  }
  {
    TempFile out(files.dark);
    {
      h5::File f = h5::File::create(out.tmp());
      h5::Group det = write_instrument(f, "dark frames (simulated)", poni, setup, sim.rows(), sim.cols());
      h5::Dataset data = det.create_dataset("data", H5T_STD_U16LE, {o.dark_frames, sim.rows(), sim.cols()},
                                            frame_options(sim.rows(), sim.cols(), o.gzip_level));
      for (std::size_t k = 0; k < o.dark_frames; ++k) data.write_frame(k, sim.dark_frame(200000 + k).view());
      h5::Group nxdata = f.open_group("/entry").create_group("data", "NXdata");
      nxdata.write_attribute("signal", "data");
      nxdata.create_hard_link("data", "/entry/instrument/detector/data");
      f.close();
    }
    out.commit();
  }
  {
    TempFile out(files.flat);
    {
      h5::File f = h5::File::create(out.tmp());
      h5::Group det = write_instrument(f, "flat field: relative pixel gain (the simulator's truth)", poni, setup,
                                       sim.rows(), sim.cols());
      det.write_dataset("data", PixelType::f32, {sim.rows(), sim.cols()}, sim.flat().data());
      h5::Group nxdata = f.open_group("/entry").create_group("data", "NXdata");
      nxdata.write_attribute("signal", "data");
      nxdata.create_hard_link("data", "/entry/instrument/detector/data");
      f.close();
    }
    out.commit();
  }
  {
    TempFile out(files.mask);
    std::vector<std::int32_t> mask(sim.rows() * sim.cols());
    for (std::size_t p = 0; p < mask.size(); ++p) mask[p] = (sim.defect_mask()[p] || sim.beamstop_mask()[p]) ? 1 : 0;
    write_mask_tiff(out.tmp(), sim.rows(), sim.cols(), mask);
    out.commit();
  }
  files.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  detail::logger().info("example written to '{}' in {:.1f} s", o.out_dir, files.seconds);
  return files;
}

}  // namespace libpdf
