#pragma once
// Series tables (CSV) for `pdfreduce onset` and `pdfreduce plot`: reading, and picking the (x, y, σ) columns of
// one metric.
#include <cstddef>
#include <string>
#include <vector>

namespace pdfreduce {

/// A CSV table: the header names and the numeric rows (NaN for empty, "nan", "null" or non-numeric cells).
struct SeriesTable {
  std::vector<std::string> columns;       ///< Header names, trimmed.
  std::vector<std::vector<double>> rows;  ///< One vector per data row, columns.size() values.
  std::vector<std::string> comments;      ///< '#' lines, without the '#'.
  /// Index of @p name, or columns.size() when absent.
  std::size_t find(const std::string& name) const;
};

/// Reads @p path: '#' lines are comments, the first other non-blank line is the header; cells are separated by
/// commas (or by blanks when the header holds no comma). @throws libpdf::IoError for an unreadable file, no
/// header, or a row with another number of cells than the header (naming the line).
SeriesTable read_series_table(const std::string& path);

/// The points of one metric against one column, ready for libpdf::detect_onset().
struct OnsetSeries {
  std::vector<double> x, y, sigma;  ///< sigma empty when not used.
  std::size_t skipped = 0;          ///< Rows without a finite x or y.
  std::string sigma_note;           ///< Why σ was not used (empty when it was, or when there is no σ column).
};

/// Picks columns @p x_name and @p metric (and `<metric>_sigma` when @p use_sigma and every used row has a finite
/// σ > 0). @throws libpdf::InvalidArgument naming @p source and the missing column (listing the columns), or
/// an x column without any finite value.
OnsetSeries onset_series(const SeriesTable& t, const std::string& source, const std::string& x_name,
                         const std::string& metric, bool use_sigma);

}  // namespace pdfreduce
