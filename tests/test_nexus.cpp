// Tests of the NXazint1d result writer and reader (include/libpdf/nexus.hpp): bit-exact round trips, the
// pdf part, resuming (no duplicates, half-written frames dropped), a writer killed mid-run leaving a valid
// file, refusing to resume a different reduction, and no partial output on errors. The expected values
// are the arrays the test itself wrote.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/nexus.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using libpdf::test::error_of;
namespace h5 = libpdf::detail::h5;

namespace {

std::string tmp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path dir = fs::path(LIBPDF_TEST_TMP) / "nexus" / (std::string(info->test_suite_name()) + "." + info->name());
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

// Files in @p dir whose name contains ".tmp." (temporaries left behind).
std::size_t leftovers(const std::string& dir) {
  std::size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().filename().string().find(".tmp.") != std::string::npos;
  return n;
}

libpdf::NexusResultInfo make_info(std::size_t nq, bool pdf = false) {
  libpdf::NexusResultInfo info;
  info.title = "test series";
  info.input = "frames.h5 /entry/data/data";
  info.poni_text = "poni_version: 2\nDistance: 0.25\nWavelength: 2.072e-11\n# comment with ünïcödé\n";
  info.poni_file = "series.poni";
  info.wavelength_A = 0.2072;
  info.sample_name = "La65Co25Al10";
  info.chemical_formula = "La65Co25Al10";
  info.instrument_name = "PETRA III P02.1";
  for (std::size_t i = 0; i < nq; ++i) info.radial.push_back(0.5 + 0.01 * static_cast<double>(i) + 1e-13);
  for (std::size_t i = 0; i <= nq; ++i) info.radial_edges.push_back(0.495 + 0.01 * static_cast<double>(i));
  info.parameters = {{"npt", std::to_string(nq)}, {"splitting", "bbox"}, {"polarization_factor", "0.99"}};
  if (pdf) {
    info.with_pdf = true;
    for (int i = 0; i < 40; ++i) info.pdf_q.push_back(0.1 * i);
    for (int i = 0; i < 30; ++i) info.pdf_r.push_back(0.5 + 0.1 * i);
    info.pdf_parameters = {{"composition", "La65Co25Al10"}, {"qmax", "20"}};
  }
  return info;
}

// Values that use every bit of a double (irrational-ish fractions, tiny and large magnitudes).
std::vector<double> values(std::size_t n, std::size_t frame, double scale = 1.0) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = scale * (std::sin(0.37 * static_cast<double>(i) + static_cast<double>(frame)) * 1e3 +
                    std::sqrt(2.0) * static_cast<double>(frame) + 1e-300 * static_cast<double>(i));
  }
  return v;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

libpdf::PdfFrame pdf_values(std::size_t frame) {
  libpdf::PdfFrame p;
  p.sq = values(40, frame, 1e-3);
  p.sq_sigma = values(40, frame + 7, 1e-5);
  p.fq = values(40, frame + 1, 1e-3);
  p.fq_sigma = {};  // no σ: written as NaN
  p.gr = values(30, frame + 2, 1e-3);
  p.gr_sigma = values(30, frame + 3, 1e-6);
  p.alpha = 1.2345678901234567 + static_cast<double>(frame);
  p.number_density = 0.0335;
  p.background_scale = 0.97;
  return p;
}

}  // namespace

TEST(NexusResult, RoundTripIsBitExact) {
  const std::string dir = tmp_dir();
  const std::string path = dir + "/result.h5";
  const std::size_t nq = 257;
  std::vector<double> temps = {310.0, 320.5, std::numeric_limits<double>::quiet_NaN(), 340.25};
  {
    libpdf::NexusResultWriter w(path, make_info(nq));
    EXPECT_FALSE(w.resumed());
    for (std::size_t k = 0; k < temps.size(); ++k) {
      std::vector<double> sigma = values(nq, k + 100, 1e-3);
      if (k == 1) sigma.clear();  // no σ: NaN
      w.append(10 + k, values(nq, k), sigma, temps[k]);
    }
    EXPECT_EQ(w.frames(), 4u);
  }
  EXPECT_EQ(leftovers(dir), 0u);
  ASSERT_TRUE(libpdf::is_nexus_result(path));
  const libpdf::NexusResult r = libpdf::read_nexus_result(path);
  ASSERT_EQ(r.frames, 4u);
  EXPECT_EQ(r.frame_index, (std::vector<std::size_t>{10, 11, 12, 13}));
  EXPECT_TRUE(same_bits(r.radial, make_info(nq).radial));
  EXPECT_TRUE(same_bits(r.radial_edges, make_info(nq).radial_edges));
  for (std::size_t k = 0; k < 4; ++k) {
    const std::vector<double> row(r.intensity.begin() + static_cast<long>(k * nq),
                                  r.intensity.begin() + static_cast<long>((k + 1) * nq));
    EXPECT_TRUE(same_bits(row, values(nq, k))) << "frame " << k;
    const std::vector<double> srow(r.sigma.begin() + static_cast<long>(k * nq),
                                   r.sigma.begin() + static_cast<long>((k + 1) * nq));
    if (k == 1) {
      EXPECT_TRUE(std::isnan(srow[0]) && std::isnan(srow[nq - 1]));
    } else {
      EXPECT_TRUE(same_bits(srow, values(nq, k + 100, 1e-3))) << "frame " << k;
    }
  }
  EXPECT_EQ(r.temperature_K[0], 310.0);
  EXPECT_EQ(r.temperature_K[3], 340.25);
  EXPECT_TRUE(std::isnan(r.temperature_K[2]));
  EXPECT_EQ(r.poni_text, make_info(nq).poni_text);
  EXPECT_EQ(r.wavelength_A, 0.2072);
  EXPECT_EQ(r.unit, libpdf::RadialUnit::q_A);
  EXPECT_EQ(r.sample_name, "La65Co25Al10");
  EXPECT_FALSE(r.has_pdf);
  bool found = false;
  for (const auto& [k, v] : r.parameters) found |= (k == "splitting" && v == "bbox");
  EXPECT_TRUE(found);
  EXPECT_NE(r.version.find("libpdf"), std::string::npos);
}

// The writer shuffles and deflates each row itself and stores it as the row's chunk: the datasets still carry
// HDF5's shuffle + deflate pipeline, and HDF5's own filters (H5Dread) give back the written bits.
TEST(NexusResult, SelfCompressedRowsReadThroughHdf5Filters) {
  const std::string path = tmp_dir() + "/packed.h5";
  const std::size_t nq = 300;
  {
    libpdf::NexusResultWriter w(path, make_info(nq));
    for (std::size_t k = 0; k < 3; ++k) w.append(k, values(nq, k), values(nq, k + 7, 1e-2), 300.0 + k);
  }
  const auto f = h5::File::open(path);
  const auto d = f.open_dataset("/entry/integrated/I");
  const auto filters = d.filters();
  ASSERT_EQ(filters.size(), 2u);
  EXPECT_EQ(filters[0].id, H5Z_FILTER_SHUFFLE);
  EXPECT_EQ(filters[1].id, H5Z_FILTER_DEFLATE);
  EXPECT_EQ(d.chunk_shape(), (std::vector<std::size_t>{1, nq}));
  const std::vector<double> all = d.read_doubles();  // H5Dread: HDF5's deflate and shuffle filters
  for (std::size_t k = 0; k < 3; ++k) {
    const std::vector<double> row(all.begin() + static_cast<long>(k * nq), all.begin() + static_cast<long>((k + 1) * nq));
    EXPECT_TRUE(same_bits(row, values(nq, k))) << "frame " << k;
  }
  // Compressed: smaller on disk than the 3 rows of doubles.
  std::vector<std::uint8_t> raw;
  unsigned mask = 1;
  ASSERT_TRUE(d.read_raw_chunk({0, 0}, raw, mask));
  EXPECT_EQ(mask, 0u);
  EXPECT_LT(raw.size(), nq * sizeof(double));
}

TEST(NexusResult, PdfPartRoundTrips) {
  const std::string path = tmp_dir() + "/pdf.nxs";
  {
    libpdf::NexusResultWriter w(path, make_info(50, true));
    for (std::size_t k = 0; k < 3; ++k) {
      const auto p = pdf_values(k);
      w.append(k, values(50, k), values(50, k + 1), 300.0 + static_cast<double>(k), &p);
    }
    // A file with a pdf part needs one for every frame.
    EXPECT_NE(error_of([&] { w.append(3, values(50, 3), {}, 303.0, nullptr); }).find("needs its S(q)"),
              std::string::npos);
  }
  const auto r = libpdf::read_nexus_result(path);
  ASSERT_TRUE(r.has_pdf);
  ASSERT_EQ(r.frames, 3u);
  for (std::size_t k = 0; k < 3; ++k) {
    const auto p = pdf_values(k);
    auto row = [&](const std::vector<double>& v, std::size_t n) {
      return std::vector<double>(v.begin() + static_cast<long>(k * n), v.begin() + static_cast<long>((k + 1) * n));
    };
    EXPECT_TRUE(same_bits(row(r.sq, 40), p.sq));
    EXPECT_TRUE(same_bits(row(r.sq_sigma, 40), p.sq_sigma));
    EXPECT_TRUE(same_bits(row(r.fq, 40), p.fq));
    EXPECT_TRUE(std::isnan(row(r.fq_sigma, 40)[5]));
    EXPECT_TRUE(same_bits(row(r.gr, 30), p.gr));
    EXPECT_TRUE(same_bits(row(r.gr_sigma, 30), p.gr_sigma));
    EXPECT_EQ(r.alpha[k], p.alpha);
  }
  EXPECT_EQ(r.pdf_q.size(), 40u);
  EXPECT_EQ(r.pdf_r.size(), 30u);
}

TEST(NexusResult, ResumesWithoutDuplicates) {
  const std::string path = tmp_dir() + "/resume.h5";
  const auto info = make_info(64);
  {
    libpdf::NexusResultWriter w(path, info);
    for (std::size_t k = 0; k < 3; ++k) w.append(k, values(64, k), values(64, k), 300.0);
  }
  {
    libpdf::NexusResultWriter w(path, info);
    EXPECT_TRUE(w.resumed());
    EXPECT_EQ(w.frames(), 3u);
    EXPECT_TRUE(w.has_frame(2));
    EXPECT_FALSE(w.has_frame(3));
    // A re-run skips finished frames; appending one again is refused.
    EXPECT_NE(error_of([&] { w.append(1, values(64, 1), {}, 300.0); }).find("already in the file"), std::string::npos);
    for (std::size_t k = 0; k < 5; ++k) {
      if (!w.has_frame(k)) w.append(k, values(64, k), values(64, k), 300.0);
    }
    EXPECT_EQ(w.frames(), 5u);
  }
  const auto r = libpdf::read_nexus_result(path);
  EXPECT_EQ(r.frame_index, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  const std::vector<double> last(r.intensity.end() - 64, r.intensity.end());
  EXPECT_TRUE(same_bits(last, values(64, 4)));
}

TEST(NexusResult, HalfWrittenFrameIsDroppedOnResume) {
  const std::string path = tmp_dir() + "/half.h5";
  const auto info = make_info(16, true);
  {
    libpdf::NexusResultWriter w(path, info);
    const auto p = pdf_values(0);
    w.append(0, values(16, 0), values(16, 0), 300.0, &p);
  }
  {
    // What an interruption between the arrays and the commit record leaves: I, I_errors and S one row
    // longer than frame_index.
    auto f = h5::File::open(path, h5::File::Mode::read_write);
    for (const char* p : {"/entry/integrated/I", "/entry/integrated/I_errors"}) {
      auto d = f.open_dataset(p);
      d.resize({2, 16});
      const auto v = values(16, 99);
      d.write_slab({1, 0}, {1, 16}, H5T_NATIVE_DOUBLE, v.data());
    }
    f.open_dataset("/entry/pdf/sq/S").resize({2, 40});
    f.flush();
  }
  EXPECT_EQ(libpdf::read_nexus_result(path).frames, 1u);  // readers go by frame_index
  {
    libpdf::NexusResultWriter w(path, info);
    EXPECT_EQ(w.frames(), 1u);
    const auto p = pdf_values(1);
    w.append(1, values(16, 1), values(16, 1), 310.0, &p);
  }
  const auto r = libpdf::read_nexus_result(path);
  ASSERT_EQ(r.frames, 2u);
  const std::vector<double> row1(r.intensity.begin() + 16, r.intensity.end());
  EXPECT_TRUE(same_bits(row1, values(16, 1)));
  EXPECT_EQ(h5::File::open(path).open_dataset("/entry/integrated/I").shape()[0], 2u);
}

TEST(NexusResult, KilledWriterLeavesAValidFileThatResumes) {
  // A child process appends frames and is killed (SIGKILL: no destructor, no close) after 7 frames; the
  // file must open and hold exactly the finished frames, and a re-run completes it.
  const std::string path = tmp_dir() + "/killed.h5";
  const auto info = make_info(2000);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      libpdf::NexusResultWriter w(path, info);
      for (std::size_t k = 0; k < 1000; ++k) {
        w.append(k, values(2000, k), values(2000, k), 300.0);
        if (k == 6) raise(SIGKILL);
      }
    } catch (...) {
    }
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  const auto r = libpdf::read_nexus_result(path);
  EXPECT_EQ(r.frames, 7u);
  const std::vector<double> row6(r.intensity.begin() + 6 * 2000, r.intensity.begin() + 7 * 2000);
  EXPECT_TRUE(same_bits(row6, values(2000, 6)));
  {
    libpdf::NexusResultWriter w(path, info);
    EXPECT_TRUE(w.resumed());
    for (std::size_t k = 0; k < 10; ++k) {
      if (!w.has_frame(k)) w.append(k, values(2000, k), values(2000, k), 300.0);
    }
  }
  EXPECT_EQ(libpdf::read_nexus_result(path).frames, 10u);
}

TEST(NexusResult, RefusesToResumeADifferentReduction) {
  const std::string dir = tmp_dir();
  const std::string path = dir + "/other.h5";
  {
    libpdf::NexusResultWriter w(path, make_info(32));
    w.append(0, values(32, 0), {}, 300.0);
  }
  auto changed = make_info(32);
  changed.parameters[1].second = "full";
  std::string msg = error_of([&] { libpdf::NexusResultWriter w(path, changed); });
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("splitting = bbox"), std::string::npos) << msg;
  EXPECT_NE(msg.find("splitting = full"), std::string::npos) << msg;
  auto bins = make_info(32);
  bins.radial[3] += 1e-15;
  msg = error_of([&] { libpdf::NexusResultWriter w(path, bins); });
  EXPECT_NE(msg.find("radial bins"), std::string::npos) << msg;
  // overwrite replaces it
  {
    libpdf::NexusResultWriter w(path, changed, true);
    EXPECT_FALSE(w.resumed());
    EXPECT_EQ(w.frames(), 0u);
  }
  EXPECT_EQ(libpdf::read_nexus_result(path).frames, 0u);
  // A file that is not a libpdf result is not touched.
  const std::string foreign = dir + "/foreign.h5";
  h5::File::create(foreign).write_dataset("/x", std::vector<double>{1, 2});
  msg = error_of([&] { libpdf::NexusResultWriter w(foreign, make_info(32)); });
  EXPECT_NE(msg.find("not a libpdf NXazint1d result"), std::string::npos) << msg;
  EXPECT_TRUE(h5::File::open(foreign).exists("/x"));
  EXPECT_EQ(leftovers(dir), 0u);
}

TEST(NexusResult, BadInputLeavesNoFile) {
  const std::string dir = tmp_dir();
  auto info = make_info(8);
  info.radial_edges.pop_back();
  info.wavelength_A = 0;
  info.parameters.push_back({"bad key!", "x"});
  const std::string msg = error_of([&] { libpdf::NexusResultWriter w(dir + "/bad.h5", info); });
  EXPECT_NE(msg.find("radial_edges"), std::string::npos) << msg;
  EXPECT_NE(msg.find("wavelength_A"), std::string::npos) << msg;
  EXPECT_NE(msg.find("bad key!"), std::string::npos) << msg;
  // A path that cannot be created (its folder is a file): IoError, no temporary left.
  std::ofstream(dir + "/plainfile") << "x";
  EXPECT_THROW(libpdf::NexusResultWriter(dir + "/plainfile/r.h5", make_info(8)), libpdf::Error);
  EXPECT_FALSE(fs::exists(dir + "/bad.h5"));
  EXPECT_EQ(leftovers(dir), 0u);
  // Wrong lengths are refused before anything is written.
  libpdf::NexusResultWriter w(dir + "/ok.h5", make_info(8));
  EXPECT_THROW(w.append(0, std::vector<double>(7, 1.0), {}, 300.0), libpdf::InvalidArgument);
  EXPECT_EQ(w.frames(), 0u);
  // Reading something that is not a result file names it.
  const std::string missing = dir + "/missing.h5";
  EXPECT_NE(error_of([&] { libpdf::read_nexus_result(missing); }).find(missing), std::string::npos);
  EXPECT_FALSE(libpdf::is_nexus_result(missing));
}

TEST(NexusResult, InfoFromAnIntegrationPlan) {
  libpdf::Poni poni;
  poni.detector.rows = 64;
  poni.detector.cols = 48;
  poni.detector.pixel1_m = poni.detector.pixel2_m = 1e-3;
  poni.distance_m = 0.1;
  poni.poni1_m = 0.032;
  poni.poni2_m = 0.024;
  poni.wavelength_m = 0.2072e-10;
  libpdf::IntegrationOptions opt;
  opt.npt = 100;
  opt.polarization_factor = 0.99;
  const libpdf::Integrator plan(libpdf::Geometry(poni), opt);
  const auto info = libpdf::nexus_info(poni, plan);
  EXPECT_NO_THROW(info.validate());
  EXPECT_EQ(info.radial.size(), 100u);
  EXPECT_TRUE(info.polarization_applied);
  EXPECT_DOUBLE_EQ(info.wavelength_A, 0.2072);
  const std::string path = tmp_dir() + "/plan.h5";
  std::vector<double> frame(64 * 48, 100.0);
  libpdf::NexusResultWriter w(path, info);
  w.append(0, plan.integrate(libpdf::ImageView(frame.data(), 64, 48)), 295.0);
  w.close();
  const auto r = libpdf::read_nexus_result(path);
  EXPECT_EQ(r.frames, 1u);
  EXPECT_NE(r.poni_text.find("Distance"), std::string::npos);
}
