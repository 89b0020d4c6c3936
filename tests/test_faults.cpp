// Faults injected into reading and writing (issue 7): a disk that fills up while a result file grows, an input
// frame whose compressed chunk is corrupt, input files that disappear or are cut short. In every
// case the error names what failed, the result file stays a valid HDF5 file holding every finished frame, and
// a second run (the fault removed) completes the rest with every frame exactly once. The whole-program fault
// (pdfreduce killed mid-series, a tmpfs that fills up) is in tests/python/test_faults.py.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <hdf5.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <tiffio.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/nexus.hpp"
#include "test_util.hpp"

using namespace libpdf;
using libpdf::test::error_of;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path dir = fs::path(LIBPDF_TEST_TMP) / "faults" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

constexpr std::size_t kBins = 400;
constexpr std::size_t kFrames = 8;

NexusResultInfo info() {
  NexusResultInfo in;
  in.title = "fault injection";
  in.input = "synthetic";
  in.wavelength_A = 0.2;
  for (std::size_t b = 0; b < kBins; ++b) in.radial.push_back(0.05 * static_cast<double>(b) + 0.025);
  for (std::size_t b = 0; b <= kBins; ++b) in.radial_edges.push_back(0.05 * static_cast<double>(b));
  in.parameters = {{"npt", std::to_string(kBins)}};
  in.gzip_level = 0;  // uncompressed: the file grows by a known amount per frame, so the limit lands mid-series
  return in;
}

// Frame k's intensities: distinct per frame and bin, so a row written twice or to the wrong place shows.
std::vector<double> intensity(std::size_t k) {
  std::vector<double> v(kBins);
  for (std::size_t b = 0; b < kBins; ++b) v[b] = 1000.0 * static_cast<double>(k + 1) + static_cast<double>(b) / 7.0;
  return v;
}
std::vector<double> sigma(std::size_t k) {
  std::vector<double> v = intensity(k);
  for (double& x : v) x = std::sqrt(x);
  return v;
}

// Every frame in the file once, in order 0..frames−1, holding exactly what was appended.
void expect_frames(const std::string& path, std::size_t frames) {
  const NexusResult r = read_nexus_result(path);
  ASSERT_EQ(r.frames, frames);
  ASSERT_EQ(r.frame_index.size(), frames);
  for (std::size_t k = 0; k < frames; ++k) {
    EXPECT_EQ(r.frame_index[k], k);
    const std::vector<double> row(r.intensity.begin() + static_cast<std::ptrdiff_t>(k * kBins),
                                  r.intensity.begin() + static_cast<std::ptrdiff_t>((k + 1) * kBins));
    EXPECT_EQ(row, intensity(k)) << "frame " << k;
  }
}

struct ChildOutcome {
  int appended = 0;     // frames whose append returned
  int status = -1;      // 0: all appended, 3: IoError, other: unexpected
  std::string message;  // the IoError's text
};

// Runs in a forked child with the file size limited to @p limit bytes (SIGXFSZ ignored, so writes past the
// limit fail with EFBIG as on a full disk instead of killing the process): resumes @p path and appends frames
// until one fails. The child reports through a pipe and leaves with _exit (no test framework teardown).
ChildOutcome append_with_file_size_limit(const std::string& path, rlim_t limit) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit rl{limit, limit};
    setrlimit(RLIMIT_FSIZE, &rl);
    int status = 0;
    std::string msg;
    int appended = 0;
    try {
      NexusResultWriter w(path, info());
      for (std::size_t k = w.frames(); k < kFrames; ++k) {
        w.append(k, intensity(k), sigma(k));
        ++appended;
      }
      w.close();
    } catch (const IoError& e) {
      status = 3;
      msg = e.what();
    } catch (const std::exception& e) {
      status = 4;
      msg = e.what();
    }
    const std::string out = std::to_string(appended) + "\n" + msg;
    if (write(fds[1], out.data(), out.size()) < 0) status = 5;
    close(fds[1]);
    _exit(status);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int ws = 0;
  waitpid(pid, &ws, 0);
  ChildOutcome o;
  o.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
  const auto nl = text.find('\n');
  o.appended = nl == std::string::npos ? -1 : std::stoi(text.substr(0, nl));
  o.message = nl == std::string::npos ? text : text.substr(nl + 1);
  return o;
}

}  // namespace

// The disk fills up after a few frames: the append that does not fit throws IoError naming the file; the file
// is still a valid result file with every frame appended before; resuming without the limit adds the rest,
// each frame once.
TEST(DiskFull, ResultFileKeepsFinishedFramesAndResumes) {
  const fs::path dir = scratch("disk_full");
  const std::string path = (dir / "result.h5").string();
  // How the file grows: the first frame also creates the chunk indexes, later ones add about their own bytes.
  std::uintmax_t one = 0, two = 0;
  {
    const std::string probe = (dir / "probe.h5").string();
    NexusResultWriter w(probe, info());
    w.append(0, intensity(0), sigma(0));
    one = fs::file_size(probe);
    w.append(1, intensity(1), sigma(1));
    two = fs::file_size(probe);
  }
  {
    NexusResultWriter w(path, info());
    w.close();
  }
  // The disk fills up half-way through the fifth frame.
  const rlim_t limit = static_cast<rlim_t>(static_cast<double>(one) + 3.5 * static_cast<double>(two - one));
  const ChildOutcome o = append_with_file_size_limit(path, limit);
  ASSERT_EQ(o.status, 3) << "the child should stop with an IoError; it said: " << o.message;
  EXPECT_EQ(o.appended, 4);
  EXPECT_THAT(o.message, HasSubstr(path));
  // Valid, with exactly the frames whose append returned.
  ASSERT_TRUE(is_nexus_result(path));
  expect_frames(path, static_cast<std::size_t>(o.appended));
  // The second run resumes after them.
  NexusResultWriter w(path, info());
  EXPECT_TRUE(w.resumed());
  EXPECT_EQ(w.frames(), static_cast<std::size_t>(o.appended));
  for (std::size_t k = 0; k < kFrames; ++k) {
    if (!w.has_frame(k)) w.append(k, intensity(k), sigma(k));
  }
  w.close();
  expect_frames(path, kFrames);
}

// A disk that is already full when the file is created: an IoError naming the path, and no file left behind
// (the layout is written under a temporary name and renamed only when complete).
TEST(DiskFull, CreatingOnAFullDiskLeavesNothing) {
  const fs::path dir = scratch("disk_full_create");
  const std::string path = (dir / "result.h5").string();
  const ChildOutcome o = append_with_file_size_limit(path, 512);
  ASSERT_EQ(o.status, 3) << o.message;
  EXPECT_EQ(o.appended, 0);
  EXPECT_THAT(o.message, HasSubstr(path));
  EXPECT_FALSE(fs::exists(path));
  for (const auto& e : fs::directory_iterator(dir)) ADD_FAILURE() << "left behind: " << e.path();
}

// The result file deleted while the run holds it open (POSIX keeps the data until the last descriptor closes,
// so a writer that does not look would close it and lose every frame): the next append stops with an error
// saying what happened, the frames written so far are copied back to the path, and a second run resumes.
TEST(VanishingOutput, ResultDeletedMidRunIsSavedAndResumes) {
  const fs::path dir = scratch("output_deleted");
  const std::string path = (dir / "result.h5").string();
  {
    NexusResultWriter w(path, info());
    for (std::size_t k = 0; k < 3; ++k) w.append(k, intensity(k), sigma(k));
    fs::remove(path);
    const std::string e = error_of<IoError>([&] { w.append(3, intensity(3), sigma(3)); });
    EXPECT_THAT(e, HasSubstr(path));
    EXPECT_THAT(e, HasSubstr("was deleted while this run was writing it (before frame 3)"));
    EXPECT_THAT(e, HasSubstr("the 3 frame(s) written so far were copied back"));
    // The writer has stopped: nothing more goes into the orphaned file.
    EXPECT_THAT(error_of<IoError>([&] { w.append(3, intensity(3), sigma(3)); }), HasSubstr("earlier"));
  }
  expect_frames(path, 3);
  NexusResultWriter w(path, info());
  EXPECT_TRUE(w.resumed());
  for (std::size_t k = 3; k < kFrames; ++k) w.append(k, intensity(k), sigma(k));
  w.close();
  expect_frames(path, kFrames);
}

// Deleted after the last frame: close() notices, saves, and says so.
TEST(VanishingOutput, ResultDeletedBeforeCloseIsSaved) {
  const fs::path dir = scratch("output_deleted_close");
  const std::string path = (dir / "result.h5").string();
  NexusResultWriter w(path, info());
  for (std::size_t k = 0; k < kFrames; ++k) w.append(k, intensity(k), sigma(k));
  fs::remove(path);
  const std::string e = error_of<IoError>([&] { w.close(); });
  EXPECT_THAT(e, HasSubstr("was deleted while this run was writing it"));
  EXPECT_THAT(e, HasSubstr("copied back"));
  expect_frames(path, kFrames);
}

// Moved away and another file put at the path: that file is not touched; the moved file keeps the frames of
// the last flush and stays valid.
TEST(VanishingOutput, ResultReplacedMidRunLeavesTheNewFileAlone) {
  const fs::path dir = scratch("output_replaced");
  const std::string path = (dir / "result.h5").string();
  const std::string moved = (dir / "moved.h5").string();
  NexusResultWriter w(path, info());
  for (std::size_t k = 0; k < 2; ++k) w.append(k, intensity(k), sigma(k));
  fs::rename(path, moved);
  std::ofstream(path) << "someone else's file\n";
  const std::string e = error_of<IoError>([&] { w.append(2, intensity(2), sigma(2)); });
  EXPECT_THAT(e, HasSubstr("was replaced by another file while this run was writing it"));
  EXPECT_THAT(e, HasSubstr("the moved file keeps the frames of its last complete flush"));
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "someone else's file");
  expect_frames(moved, 2);
}

// Space for each frame is reserved before it is written (so a flush cannot run out of room half-way through
// metadata it rewrites in place), and given back at close: the closed file occupies no more than its size.
TEST(DiskFull, SpaceIsReservedPerFrameAndGivenBackAtClose) {
  const fs::path dir = scratch("reserve");
  const std::string path = (dir / "result.h5").string();
  NexusResultWriter w(path, info());
  w.append(0, intensity(0), sigma(0));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  const auto allocated = [&] { return static_cast<std::uintmax_t>(st.st_blocks) * 512u; };
  if (allocated() <= static_cast<std::uintmax_t>(st.st_size) + 4096u) {
    GTEST_SKIP() << "this file system does not preallocate (fallocate): nothing is reserved here";
  }
  // What is left of the frame's reservation (its estimated size, an upper bound, plus 16 KiB) is still held.
  EXPECT_GE(allocated(), static_cast<std::uintmax_t>(st.st_size) + (16u << 10));
  w.close();
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_LE(allocated(), static_cast<std::uintmax_t>(st.st_size) + 16384u);
  expect_frames(path, 1);
}

namespace {

// A (frames, rows, cols) uint16 stack, deflate-compressed one frame per chunk, at /entry/data/data.
void write_stack(const std::string& path, std::size_t frames, std::size_t rows, std::size_t cols) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t g = H5Gcreate2(f, "/entry", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hid_t g2 = H5Gcreate2(g, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t dims[3] = {frames, rows, cols}, chunk[3] = {1, rows, cols};
  const hid_t space = H5Screate_simple(3, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 3, chunk);
  H5Pset_deflate(dcpl, 4);
  const hid_t d = H5Dcreate2(g2, "data", H5T_NATIVE_UINT16, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  std::vector<std::uint16_t> px(frames * rows * cols);
  for (std::size_t k = 0; k < px.size(); ++k) px[k] = static_cast<std::uint16_t>((k * 7919u) % 5000u);
  H5Dwrite(d, H5T_NATIVE_UINT16, H5S_ALL, H5S_ALL, H5P_DEFAULT, px.data());
  H5Dclose(d);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Gclose(g2);
  H5Gclose(g);
  H5Fclose(f);
}

// File offset and size of the chunk holding frame @p k.
std::pair<haddr_t, hsize_t> chunk_location(const std::string& path, std::size_t k) {
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  const hid_t d = H5Dopen2(f, "/entry/data/data", H5P_DEFAULT);
  const hsize_t offset[3] = {k, 0, 0};
  unsigned mask = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  H5Dget_chunk_info_by_coord(d, offset, &mask, &addr, &size);
  H5Dclose(d);
  H5Fclose(f);
  return {addr, size};
}

}  // namespace

// One frame's compressed chunk is garbage: reading it is an IoError naming the file and the dataset; the
// frames before and after it still read.
TEST(CorruptFrame, FailedDecompressionNamesTheFrameAndSparesTheOthers) {
  const fs::path dir = scratch("corrupt");
  const std::string path = (dir / "stack.h5").string();
  write_stack(path, 4, 32, 24);
  const auto [addr, size] = chunk_location(path, 2);
  ASSERT_GT(size, 16u);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(addr));
    const std::string junk(static_cast<std::size_t>(size), '\x5a');  // not a deflate stream
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  const auto src = open_frames(path);
  ASSERT_EQ(src->size(), 4u);
  EXPECT_NO_THROW((void)src->read(1));
  const std::string msg = error_of<IoError>([&] { (void)src->read(2); });
  EXPECT_THAT(msg, HasSubstr(path));
  EXPECT_THAT(msg, HasSubstr("/entry/data/data"));
  EXPECT_THAT(msg, HasSubstr("frame 2"));
  EXPECT_NO_THROW((void)src->read(3));
}

namespace {

void write_tiff(const std::string& path, std::uint16_t value) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  const std::uint32_t rows = 8, cols = 6;
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, cols);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, rows);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 16);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
  TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rows);
  std::vector<std::uint16_t> px(rows * cols, value);
  TIFFWriteEncodedStrip(t, 0, px.data(), static_cast<tmsize_t>(px.size() * 2));
  TIFFClose(t);
}

}  // namespace

// A file of a TIFF series disappears after the series was opened: reading that frame names the file; the
// others still read. A series file truncated to half its size (a copy interrupted) is named the same way.
TEST(VanishingInput, SeriesFileDeletedOrTruncatedAfterOpening) {
  const fs::path dir = scratch("vanishing");
  for (int k = 0; k < 4; ++k) write_tiff((dir / ("scan_" + std::to_string(k) + ".tif")).string(), static_cast<std::uint16_t>(k + 1));
  const auto src = open_tiff_series((dir / "scan_#.tif").string());
  ASSERT_EQ(src->size(), 4u);
  const std::string gone = (dir / "scan_2.tif").string();
  fs::remove(gone);
  EXPECT_THAT(error_of<IoError>([&] { (void)src->read(2); }), HasSubstr(gone));
  EXPECT_EQ(src->read(3).at(0, 0), 4.0);
  const std::string cut = (dir / "scan_1.tif").string();
  fs::resize_file(cut, fs::file_size(cut) / 2);
  EXPECT_THAT(error_of<IoError>([&] { (void)src->read(1); }), HasSubstr(cut));
  EXPECT_EQ(src->read(0).at(0, 0), 1.0);
}
