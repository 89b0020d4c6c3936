#pragma once
// The figures of `pdfreduce plot`, for other subcommands: `pdfreduce run` draws them at the end of a run when the
// recipe's [output] plots is true.
#include <string>
#include <vector>

#include "pdfreduce/common.hpp"

namespace pdfreduce {

/// Whether the gnuplot executable @p name (a name on PATH or a path) can be run.
bool gnuplot_available(const std::string& name = "gnuplot");

/// What a series run draws.
struct SeriesPlots {
  std::string result;                ///< NXazint1d result: iq/sq/gr.png of its first frame, sq_map/gr_map.png.
  std::string table;                 ///< Series table (CSV); empty = no metric figures.
  std::vector<std::string> metrics;  ///< Columns of the table to draw against x with their onset (absent ones skipped).
  std::string x = "temperature_K";   ///< Abscissa column of the table.
  std::string out_dir;               ///< Folder of the PNGs (created).
};

/// Draws @p request's figures into its folder, each written atomically. @throws libpdf::IoError when gnuplot
/// is missing or fails, libpdf::Error when a file cannot be read.
void plot_series_run(const SeriesPlots& request, const Reporter& report);

}  // namespace pdfreduce
