#pragma once
// FFTW's planner (plan creation and destruction, wisdom) is not thread-safe; only fftw_execute and its
// new-array variants are. Every libpdf call into the planner holds this one process-wide lock.
#include <mutex>

namespace libpdf::detail {

/// The lock around FFTW planner calls (double and single precision share it).
std::mutex& fftw_planner_mutex();

}  // namespace libpdf::detail
