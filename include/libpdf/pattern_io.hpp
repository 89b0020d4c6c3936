#pragma once
/// @file pattern_io.hpp
/// Text patterns: reading `.xy`, `.chi`, `.dat`, `.iq`, `.sq`, `.fq`, `.gr` (two or three numeric columns
/// x, y, σ after a header) and writing `.xy` files with a `#` header and PDFgetX3-style `.iq .sq .fq .gr`
/// files (`key = value` header lines, `#### start data`, `#L` column labels) that PDFgui, GSAS-II and
/// diffpy read (docs/conventions.md §4).
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libpdf/export.hpp"

namespace libpdf {

/// A pattern read from a text file.
struct TextPattern {
  std::vector<double> x;  ///< First column.
  std::vector<double> y;  ///< Second column.
  std::vector<double>
      sigma;  ///< σ of y: the third column (the fourth of a 4-column PDFgui file x y dx dy); empty if absent.
  std::vector<std::string> header;                            ///< Header lines before the data, without a leading '#'.
  std::vector<std::pair<std::string, std::string>> metadata;  ///< "key = value" and "key: value" header lines.
  std::size_t columns = 0;                                    ///< Numeric columns of the data rows.
};

/// Reads a text pattern. The header is everything before a `#### start data` line when there is one
/// (PDFgetX3), else the leading lines that are comments ('#', '!') or do not hold at least two numbers
/// (Fit2D `.chi` files start with a title, two axis labels and the point count). Data rows hold 2, 3 or
/// 4 whitespace- or comma-separated numbers; later comment and blank lines are skipped.
/// @throws IoError naming the file and line for an unreadable file, a malformed row, rows with different
/// column counts, a non-finite value, a negative σ or no data row.
LIBPDF_API TextPattern read_text_pattern(const std::string& path);
/// The same from text in memory; @p source names it in error messages.
LIBPDF_API TextPattern parse_text_pattern(std::string_view text, const std::string& source);

/// Unit of the first column of a pattern.
enum class PatternXUnit {
  q_A,     ///< q in 1/Å
  q_nm,    ///< q in 1/nm
  tth_deg  ///< 2θ in degrees (needs the wavelength)
};
/// "q_A^-1", "q_nm^-1" or "2th_deg" (pyFAI's names).
LIBPDF_API const char* pattern_x_unit_name(PatternXUnit u);
/// Accepts "q_A^-1"/"q_A"/"q", "q_nm^-1"/"q_nm", "2th_deg"/"tth_deg"/"2th". @throws InvalidArgument.
LIBPDF_API PatternXUnit parse_pattern_x_unit(const std::string& name);
/// The first column converted to q in 1/Å: q = x (q_A), x/10 (q_nm), 4π sin(x/2)/λ (tth_deg, x in degrees,
/// λ = @p wavelength_A). @throws InvalidArgument if 2θ needs a wavelength (λ ≤ 0) or is outside (0, 180).
LIBPDF_API std::vector<double> to_q_A(const std::vector<double>& x, PatternXUnit unit, double wavelength_A = 0);

/// A header entry of a PDFgetX3-style file: `key = value`; an empty key writes @p value as a comment line
/// (`# value`), both empty a blank line.
using HeaderEntry = std::pair<std::string, std::string>;

/// Formats a PDFgetX3-style file: "[DEFAULT]", the header entries, "#### start data", "#S 1",
/// "#L <x_label> <y_label> [<sigma_label>]" and the rows (σ written when @p sigma is not empty).
/// @throws InvalidArgument if the columns differ in length.
LIBPDF_API std::string format_pdfgetx3(const std::vector<HeaderEntry>& header, const std::string& x_label,
                                       const std::string& y_label, const std::string& sigma_label,
                                       const std::vector<double>& x, const std::vector<double>& y,
                                       const std::vector<double>& sigma);
/// Writes format_pdfgetx3() to @p path atomically (temporary file + rename). @throws IoError.
LIBPDF_API void write_pdfgetx3(const std::string& path, const std::vector<HeaderEntry>& header,
                               const std::string& x_label, const std::string& y_label, const std::string& sigma_label,
                               const std::vector<double>& x, const std::vector<double>& y,
                               const std::vector<double>& sigma);

/// Formats an `.xy` file: each header line prefixed "# ", then "# <column labels>", then x y [σ] rows.
LIBPDF_API std::string format_xy(const std::vector<std::string>& header, const std::string& column_labels,
                                 const std::vector<double>& x, const std::vector<double>& y,
                                 const std::vector<double>& sigma);
/// Writes format_xy() to @p path atomically. @throws IoError.
LIBPDF_API void write_xy(const std::string& path, const std::vector<std::string>& header,
                         const std::string& column_labels, const std::vector<double>& x, const std::vector<double>& y,
                         const std::vector<double>& sigma);

}  // namespace libpdf
