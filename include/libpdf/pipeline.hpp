#pragma once
/// @file pipeline.hpp
/// The streaming series run: read frames → integrate → reduce → transform → metrics → write, with frames in
/// flight on several threads, memory bounded whatever the series length, progress through a callback, and a
/// clean resume after an interruption (docs/pipeline.md).
///
/// Threads: readers (one; two with two or more workers: frames are claimed in order and read outside the lock,
/// HDF5 frames decompressed outside the HDF5 lock), N workers (each takes the next frame read and runs the whole
/// per-frame chain on it, single-threaded, with the run's one Integrator plan and its own Reducer, whose
/// sine-transform plan is kept from frame to frame), and the calling thread as the writer, which appends results in frame order to the
/// NXazint1d result file (and its `metrics` group) and to the CSV table. At most frames_in_flight frames
/// exist at once (read and not yet written: raw, in a worker, or waiting to be written in order), so the
/// memory does not grow with the series. Results do not depend on the number of threads: every frame is
/// computed by the same code on the same plan, and the integrator's sums are deterministic.
///
/// Resume: the result file's frame_index is the commit record (see nexus.hpp). A run on an existing result
/// file (not overwritten) skips the frames it holds; the CSV table is first rewritten (atomically) from the
/// rows in the result file, then rows are appended as frames are committed: each row is written with one
/// write(2) after its frame is flushed to the result file, so the table never holds a frame the result file
/// lacks, and a row cut by a crash is replaced on resume.
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/image.hpp"
#include "libpdf/integrate.hpp"
#include "libpdf/recipe.hpp"
#include "libpdf/reduce.hpp"

namespace libpdf {

/// Progress of a run, reported after every frame written.
struct SeriesProgress {
  std::size_t done = 0;        ///< Frames written by this run.
  std::size_t total = 0;       ///< Frames this run has to write (selected minus those already in the file).
  std::size_t skipped = 0;     ///< Selected frames already in the result file (resume).
  std::size_t frame = 0;       ///< Input index of the frame just written.
  double temperature_K = 0;    ///< Its temperature (NaN when unknown).
  double elapsed_s = 0;        ///< Wall time since the first frame was read.
  double frames_per_s = 0;     ///< done / elapsed_s.
};

/// Hooks of a run. All are called on the thread that called run(); none is required.
struct SeriesCallbacks {
  /// After every frame written. Return false to stop: the frames written so far stay in the file (which
  /// is valid and resumable) and run() returns with SeriesSummary::cancelled set.
  std::function<bool(const SeriesProgress&)> progress;
  /// Messages worth showing a user (resuming, plan built, ...).
  std::function<void(const std::string&)> message;
};

/// What a run did.
struct SeriesSummary {
  std::string result_path;     ///< The result file.
  std::string table_path;      ///< The CSV table ("" when metrics are disabled).
  std::size_t selected = 0;    ///< Frames the recipe selects.
  std::size_t skipped = 0;     ///< Of them, already in the result file.
  std::size_t written = 0;     ///< Written by this run.
  bool resumed = false;        ///< An existing result file was continued.
  bool cancelled = false;      ///< The progress callback stopped the run.
  double plan_seconds = 0;     ///< Opening the input, reading static images, building the plans.
  double seconds = 0;          ///< Streaming the frames (read to written).
  double frames_per_s = 0;     ///< written / seconds.
  std::size_t workers = 0;     ///< Worker threads used.
  std::size_t frames_in_flight = 0;  ///< The bound on frames held at once.
  std::size_t max_frames_held = 0;   ///< The most frames actually held at once (<= frames_in_flight).
};

/// Options of a run that are not part of the recipe (they do not change results).
struct SeriesRunOptions {
  bool overwrite = false;  ///< Replace an existing result file (and table) instead of resuming it.
  std::optional<int> threads;  ///< Overrides [run] threads.
};

/// Everything one frame produced (what the writer appends).
struct FrameProducts {
  std::size_t frame = 0;                    ///< Input frame index.
  double temperature_K = 0;                 ///< NaN when unknown.
  Result1D pattern;                         ///< I(q) of the frame.
  ReductionResult reduction;                ///< S(q), F(q), G(r), ...
  std::vector<std::pair<std::string, double>> metrics;  ///< Metric name and value (empty when disabled).
};

/// A prepared series run: the constructor opens the input, reads the static images (mask, dark, flat),
/// checks shapes, temperatures and every option, and builds the plans, without creating any output, so
/// bad input fails before anything is written. run() then streams the frames. Not copyable.
class LIBPDF_API SeriesRun {
 public:
  /// @throws InvalidArgument (bad recipe values, a mask/dark/flat whose shape differs from the frames',
  /// metrics against temperature without a temperature for every selected frame, nothing selected),
  /// IoError (files that cannot be read).
  explicit SeriesRun(Recipe recipe, SeriesRunOptions options = {});
  ~SeriesRun();
  /// Takes over the prepared run (input, plans, state); the moved-from object may only be destroyed or
  /// assigned to.
  SeriesRun(SeriesRun&&) noexcept;
  /// Releases this run and takes over the other's prepared run; the moved-from object may only be destroyed
  /// or assigned to afterwards.
  SeriesRun& operator=(SeriesRun&&) noexcept;
  SeriesRun(const SeriesRun&) = delete;
  SeriesRun& operator=(const SeriesRun&) = delete;

  /// The recipe this run was prepared from (as given to the constructor, after Recipe::validate()).
  const Recipe& recipe() const;
  /// Input frame indices the recipe selects, in order.
  const std::vector<std::size_t>& frames() const;
  /// Temperature of each selected frame (NaN when unknown), parallel to frames().
  const std::vector<double>& temperatures_K() const;
  /// The integration plan shared by every worker.
  const Integrator& integrator() const;
  /// Names of the metric columns (after `frame` and `temperature_K` in the CSV), empty when disabled.
  const std::vector<std::string>& metric_names() const;

  /// The whole per-frame chain on input frame @p frame (read from the input): what run() writes for it.
  FrameProducts process(std::size_t frame) const;
  /// The same on an image already read (flipped as the recipe says here, not by the caller).
  FrameProducts process(std::size_t frame, const Image& image) const;

  /// Streams every selected frame not yet in the result file; returns when all are written, the callback
  /// cancelled, or an error occurred (rethrown after the threads stopped; the file keeps every frame
  /// written before it). May be called once.
  SeriesSummary run(const SeriesCallbacks& callbacks = {});

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// SeriesRun(recipe, options).run(callbacks).
LIBPDF_API SeriesSummary run_series(const Recipe& recipe, const SeriesCallbacks& callbacks = {},
                                    const SeriesRunOptions& options = {});

/// The pattern a series run reduces: I(q) of @p pattern with q in 1/Å (q_nm bins are divided by 10).
LIBPDF_API IntensityPattern reduction_input(const Result1D& pattern);

/// Peak memory of this process so far (VmHWM of /proc/self/status, bytes; 0 where unavailable).
LIBPDF_API std::size_t peak_memory_bytes();

}  // namespace libpdf
