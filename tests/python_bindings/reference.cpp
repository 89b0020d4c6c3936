// The C++ side of the Python bindings' bit-for-bit tests: the same computations through the C++ API, arrays written
// as raw native float64 (numpy.fromfile reads them back exactly; text would round them).
//
//   libpdf_bind_reference integrate FRAME PONI NPT OUTDIR        -> radial.f64 intensity.f64 sigma.f64 count.f64
//   libpdf_bind_reference reduce SAMPLE BACKGROUND FORMULA DENSITY QMAX RMAX WINDOW OUTDIR
//                                                                 -> q sq sq_sigma fq gr r (.f64), alpha.txt
//   libpdf_bind_reference transform QMAX RMAX WINDOW F.f64 OUTDIR -> G.f64 (forward of F), F_back.f64 (inverse of G)
//
// Options not given keep the library's defaults, as the Python tests do.
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "libpdf/geometry.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/io.hpp"
#include "libpdf/pattern_io.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/transform.hpp"

namespace {

void write_f64(const std::string& path, const std::vector<double>& v) {
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::vector<double> read_f64(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  if (!f) throw std::runtime_error("cannot read " + path);
  const auto bytes = static_cast<std::size_t>(f.tellg());
  std::vector<double> v(bytes / sizeof(double));
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(double)));
  return v;
}

libpdf::IntensityPattern load(const std::string& path) {
  const auto t = libpdf::read_text_pattern(path);
  return {t.x, t.y, t.sigma};
}

int integrate(char** a) {
  const auto frames = libpdf::open_frames(a[0]);
  const libpdf::Image img = frames->read(0);
  libpdf::IntegrationOptions o;
  o.npt = std::stoul(a[2]);
  const libpdf::Integrator plan(libpdf::Geometry(libpdf::read_poni(a[1]), img.rows(), img.cols()), o);
  const auto r = plan.integrate(img.view());
  const std::string out = a[3];
  write_f64(out + "/radial.f64", r.radial);
  write_f64(out + "/intensity.f64", r.intensity);
  write_f64(out + "/sigma.f64", r.sigma);
  write_f64(out + "/count.f64", r.count);
  return 0;
}

int reduce(char** a) {
  libpdf::ReductionOptions o;
  o.composition = libpdf::Composition(a[2]);
  o.mass_density = std::stod(a[3]);
  o.qmax = std::stod(a[4]);
  o.rmax = std::stod(a[5]);
  o.window = libpdf::parse_window(a[6]);
  const auto sample = load(a[0]);
  const auto background = load(a[1]);
  const auto r = libpdf::reduce(sample, &background, o);
  const std::string out = a[7];
  write_f64(out + "/q.f64", r.q);
  write_f64(out + "/sq.f64", r.sq);
  write_f64(out + "/sq_sigma.f64", r.sq_sigma);
  write_f64(out + "/fq.f64", r.fq);
  write_f64(out + "/gr.f64", r.gr);
  write_f64(out + "/r.f64", r.r);
  std::ofstream(out + "/alpha.txt") << std::hexfloat << r.alpha << "\n";
  return 0;
}

int transform(char** a) {
  libpdf::TransformOptions o;
  o.qmax = std::stod(a[0]);
  o.rmax = std::stod(a[1]);
  o.window = libpdf::parse_window(a[2]);
  const libpdf::SineTransform plan(o);
  const auto F = read_f64(a[3]);
  if (F.size() != plan.nq()) throw std::runtime_error("F holds " + std::to_string(F.size()) + " values, nq = " +
                                                      std::to_string(plan.nq()));
  const auto G = plan.forward(F);
  const std::string out = a[4];
  write_f64(out + "/G.f64", G);
  write_f64(out + "/F_back.f64", plan.inverse(G));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "integrate" && argc == 6) return integrate(argv + 2);
    if (mode == "reduce" && argc == 10) return reduce(argv + 2);
    if (mode == "transform" && argc == 7) return transform(argv + 2);
    std::cerr << "usage: libpdf_bind_reference integrate|reduce|transform ... (see reference.cpp)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "libpdf_bind_reference: " << e.what() << "\n";
    return 1;
  }
}
