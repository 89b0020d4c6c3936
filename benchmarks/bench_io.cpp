// Reading and writing speed of libpdf's files:
//  - read + decompress 2048 x 2048 uint16 frames (simulated PerkinElmer frames: realistic entropy) stored
//    uncompressed, with shuffle + deflate (level 1, as the bundled example), and with bitshuffle + LZ4 (Eiger's
//    filter 32008) — the last also as uint32 frames (an Eiger in 32-bit mode) —, on 1 and 2 reading threads, through HDF5's filter pipeline (direct = 0: H5Dread, serialised
//    process-wide, see libpdf/io/hdf5.hpp) and through direct chunk reads decompressed outside the HDF5 mutex
//    (direct = 1: libpdf/io/chunk_codec.hpp), measured in the same run;
//  - writing a 1000-frame NXazint1d result file of 3000 bins (I and sigma, a flush after every frame).
// Reported: frames/s and bytes/s of decompressed data; the integrator for comparison runs at ~220 frames/s
// on 2 cores for this frame size (docs/performance.md).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "libpdf/io.hpp"
#include "libpdf/io/chunk_codec.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/nexus.hpp"
#include "libpdf/simulate.hpp"

namespace fs = std::filesystem;
namespace h5 = libpdf::detail::h5;

namespace {

constexpr std::size_t kFrames = 16;
constexpr std::size_t kSide = 2048;

const std::string& bench_dir() {
  static const std::string dir = [] {
    const fs::path d = fs::temp_directory_path() / ("libpdf_bench_io_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d.string();
  }();
  return dir;
}

// Writes the four series once (from simulated frames) and returns their paths.
const std::vector<std::string>& series_files() {
  static const std::vector<std::string> files = [] {
    libpdf::SimulationSetup s;
    s.poni.detector = libpdf::Detector::perkinelmer_xrd1621();
    s.poni.distance_m = 0.25;
    s.poni.poni1_m = 0.2079;
    s.poni.poni2_m = 0.2024;
    s.poni.wavelength_m = 0.2072e-10;
    s.threads = 2;
    const libpdf::Simulator sim(s);
    std::vector<libpdf::Image> frames;
    for (std::size_t k = 0; k < kFrames; ++k) {
      frames.push_back(sim.frame(libpdf::metallic_glass_model(310.0 + 10.0 * static_cast<double>(k)), k));
    }
    std::vector<std::string> out;
    for (int variant = 0; variant < 4; ++variant) {
      const std::string path = bench_dir() + "/series_" + std::to_string(variant) + ".h5";
      h5::DatasetOptions o;
      o.chunks = {1, kSide, kSide};
      if (variant == 1) {
        o.shuffle = true;
        o.gzip_level = 1;
      }
      if (variant >= 2) o.bitshuffle_lz4 = true;
      auto f = h5::File::create(path);
      auto d = f.create_dataset("/entry/instrument/detector/data", variant == 3 ? H5T_STD_U32LE : H5T_STD_U16LE,
                                {kFrames, kSide, kSide}, o);
      for (std::size_t k = 0; k < kFrames; ++k) d.write_frame(k, frames[k].view());
      out.push_back(path);
    }
    return out;
  }();
  return files;
}

void read_frames(benchmark::State& state) {
  const int variant = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const bool direct = state.range(2) != 0;
  if (variant >= 2 && !h5::File::filter_available(h5::kBitshuffleFilter)) {
    state.SkipWithError("bitshuffle plugin missing: apt-get install bitshuffle");
    return;
  }
  const std::string path = series_files()[static_cast<std::size_t>(variant)];
  const std::shared_ptr<libpdf::FrameSource> src = libpdf::open_frames(path);
  libpdf::detail::chunk::set_direct_reads(direct);
  for (auto _ : state) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
      for (std::size_t k; (k = next.fetch_add(1)) < kFrames;) benchmark::DoNotOptimize(src->read(k));
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t) pool.emplace_back(work);
    work();
    for (auto& t : pool) t.join();
  }
  const auto storage = libpdf::frames_storage(path);
  state.counters["frames/s"] = benchmark::Counter(static_cast<double>(kFrames), benchmark::Counter::kIsIterationInvariantRate);
  const std::size_t bytes_per_pixel = variant == 3 ? 4 : 2;
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(kFrames * kSide * kSide * bytes_per_pixel) / 1e6,
                                              benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ratio"] = storage.front().compression_ratio;
  static const char* const names[] = {"uncompressed", "shuffle+deflate(1)", "bitshuffle+LZ4", "bitshuffle+LZ4 uint32"};
  state.SetLabel(std::string(names[variant]) +
                (direct ? ", direct chunk reads" : ", H5Dread"));
  libpdf::detail::chunk::set_direct_reads(true);
}
BENCHMARK(read_frames)
    ->ArgsProduct({{0, 1, 2, 3}, {1, 2}, {0, 1}})
    ->ArgNames({"variant", "threads", "direct"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(2.0);

void write_result_1000(benchmark::State& state) {
  const std::size_t nq = 3000;
  libpdf::NexusResultInfo info;
  info.wavelength_A = 0.2072;
  info.poni_text = "Distance: 0.25\n";
  for (std::size_t i = 0; i < nq; ++i) info.radial.push_back(0.5 + 0.008 * static_cast<double>(i));
  for (std::size_t i = 0; i <= nq; ++i) info.radial_edges.push_back(0.496 + 0.008 * static_cast<double>(i));
  std::vector<double> I(nq), sigma(nq);
  for (std::size_t i = 0; i < nq; ++i) {
    I[i] = 1e4 * (1.0 + 0.3 * std::sin(0.01 * static_cast<double>(i))) + std::sqrt(static_cast<double>(i));
    sigma[i] = std::sqrt(I[i]) / 30.0;
  }
  const std::string path = bench_dir() + "/result.h5";
  for (auto _ : state) {
    fs::remove(path);
    libpdf::NexusResultWriter w(path, info);
    for (std::size_t k = 0; k < 1000; ++k) {
      I[k % nq] += 1.0;  // every frame differs
      w.append(k, I, sigma, 300.0 + static_cast<double>(k) * 0.1);
    }
    w.close();
  }
  state.counters["frames/s"] = benchmark::Counter(1000.0, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["file_MB"] = static_cast<double>(fs::file_size(path)) / 1e6;
}
BENCHMARK(write_result_1000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  fs::remove_all(bench_dir(), ec);
  return 0;
}
