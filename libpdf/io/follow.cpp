// Following a series that is still being written (docs/files.md, "Growing files").
//
// What "the next frame is complete" means per format:
//  - HDF5 stack: the dataset's first dimension covers the frame and, for one-frame chunks, the frame's
//    chunk is allocated (a writer that extends first and writes second leaves an unallocated chunk,
//    which would otherwise read as the fill value);
//  - Eiger: the data file holding the frame exists and holds it;
//  - TIFF series: the frame's file exists and decodes (a truncated file is still being copied).
// The follower opens HDF5 files without HDF5's file lock (File::WithoutReadLocks): a reader's shared lock
// makes a writer in another process fail at once when it opens the file to add the next frame.
// HDF5 keeps one shared view of an open file, with its metadata cached: to see a file grow, every object
// of it must be closed and the file opened again, which is why the follower drops its source before
// every new look.
#include <chrono>
#include <filesystem>
#include <thread>

#include "libpdf/detail/log.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"
#include "libpdf/io/hdf5.hpp"
#include "libpdf/io/io_detail.hpp"

namespace libpdf {

struct FrameFollower::Impl {
  std::string path;
  FollowOptions options;
  std::unique_ptr<FrameSource> source;
  std::string last_error;
  bool ever_opened = false;

  // Whether frame k of a plain HDF5 stack is fully written (other formats: true).
  bool hdf5_frame_complete(std::size_t k) const {
    if (!is_hdf5_file(path) || is_eiger_master(path)) return true;
    if (options.open.dataset.empty() && detail::is_lambda_module_name(path)) return true;
    const auto file = detail::h5::File::open(path);
    std::string ds = options.open.dataset;
    if (ds.empty()) {
      auto found = detail::find_dataset(file, detail::DatasetRole::frames);
      if (!found) return false;
      ds = *found;
    }
    std::size_t index = k;
    if (options.open.frames) index = options.open.frames->start + k * options.open.frames->step;
    return file.open_dataset(ds).frame_written(index);
  }

  // One look: frame k if it is complete now.
  std::optional<Image> try_read(std::size_t k) {
    // No HDF5 read lock while looking: the writer (another process) must be able to open the file for
    // writing at any moment, also while a look is under way.
    const detail::h5::File::WithoutReadLocks no_locks;
    try {
      if (!source || k >= source->size()) {
        source.reset();  // close every HDF5 object first, or the reopened file shows the old extent
        source = open_frames(path, options.open);
        ever_opened = true;
      }
      // Between looks the file stays closed: a reader holding it open would keep the writer (another
      // process, with HDF5's file locking) from opening it for writing.
      if (k >= source->size() || !hdf5_frame_complete(k)) {
        source.reset();
        return std::nullopt;
      }
      Image img = source->read(k);
      if (k + 1 >= source->size()) source.reset();
      return img;
    } catch (const IoError& e) {
      // Missing, locked, truncated or half-written: the writer may not have finished. Try again later.
      last_error = e.what();
      source.reset();
      return std::nullopt;
    } catch (const InvalidArgument& e) {
      // A frame range that selects nothing yet, a series pattern without files yet.
      last_error = e.what();
      source.reset();
      return std::nullopt;
    }
  }
};

FrameFollower::FrameFollower(std::string path, FollowOptions options) : impl_(std::make_unique<Impl>()) {
  if (!(options.timeout_s >= 0) || !(options.poll_interval_s > 0)) {
    throw InvalidArgument("FrameFollower: timeout_s must be >= 0 and poll_interval_s > 0 (got " +
                          std::to_string(options.timeout_s) + " and " + std::to_string(options.poll_interval_s) + ")");
  }
  impl_->path = std::move(path);
  impl_->options = std::move(options);
}

FrameFollower::~FrameFollower() = default;
FrameFollower::FrameFollower(FrameFollower&&) noexcept = default;
FrameFollower& FrameFollower::operator=(FrameFollower&&) noexcept = default;

std::optional<Image> FrameFollower::read(std::size_t index) {
  using clock = std::chrono::steady_clock;
  const auto deadline = clock::now() + std::chrono::duration<double>(impl_->options.timeout_s);
  for (;;) {
    if (auto img = impl_->try_read(index)) return img;
    if (clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(impl_->options.poll_interval_s));
  }
  if (!impl_->ever_opened && !impl_->last_error.empty()) {
    // Nothing could ever be opened: that is an error, not the end of a series.
    throw IoError(impl_->last_error + " (waited " + std::to_string(impl_->options.timeout_s) + " s)");
  }
  detail::logger().info("'{}': frame {} did not arrive complete within {} s; stopping there{}{}", impl_->path, index,
                        impl_->options.timeout_s, impl_->last_error.empty() ? "" : ": ", impl_->last_error);
  return std::nullopt;
}

std::size_t FrameFollower::available() {
  const detail::h5::File::WithoutReadLocks no_locks;
  try {
    impl_->source.reset();
    impl_->source = open_frames(impl_->path, impl_->options.open);
    impl_->ever_opened = true;
    std::size_t n = impl_->source->size();
    impl_->source.reset();
    while (n > 0 && !impl_->hdf5_frame_complete(n - 1)) --n;
    return n;
  } catch (const Error& e) {
    impl_->last_error = e.what();
    impl_->source.reset();
    return 0;
  }
}

}  // namespace libpdf
