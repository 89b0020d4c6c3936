#pragma once
// Pieces every pdfreduce subcommand shares: global options, the command table entry, parsing of
// "LO:HI" ranges and Python-style frame slices, output-name patterns and atomic text output.
#include <CLI/CLI.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "libpdf/integrate.hpp"

namespace pdfreduce {

/// Options of the top-level program, visible to every subcommand.
struct GlobalOptions {
  int verbosity = 0;   ///< Number of -v flags.
  bool quiet = false;  ///< Print nothing but errors.
};

/// A registered subcommand: its CLI11 sub-app and the function that runs it once the command line has
/// been parsed. Running happens outside CLI11's parse so that library errors (exit 1) stay apart from
/// usage errors (exit 2).
struct Command {
  CLI::App* app = nullptr;
  std::function<void()> run;
};

/// Messages for the user on stderr, following --quiet / -v.
class Reporter {
 public:
  explicit Reporter(const GlobalOptions& global) : global_(global) {}
  /// A summary line (hidden by --quiet).
  void info(const std::string& message) const;
  /// Details (shown with -v).
  void detail(const std::string& message) const;
  /// Always shown, prefixed "pdfreduce: warning: " (hidden by --quiet).
  void warn(const std::string& message) const;

 private:
  const GlobalOptions& global_;
};

/// Accepts a number > 0 (strictly) or >= 0, with a short message (CLI11's own range validators print the
/// largest double in full).
CLI::Validator positive_number();
CLI::Validator non_negative_number();

/// Accepts "LO:HI" with two finite numbers (order is checked later, by the library, so that an empty
/// range is reported as an input error with the field's name).
CLI::Validator range_validator();
/// Parses "LO:HI" (already validated).
libpdf::Range parse_range(const std::string& text);

/// A Python-style slice "A:B" or "A:B:S" (end excluded, negatives count from the end), or one index "N".
struct FrameSlice {
  std::optional<long long> start, stop;
  long long step = 1;
  bool single = false;  ///< "N": exactly one frame, which must exist.
};
CLI::Validator slice_validator();
FrameSlice parse_slice(const std::string& text);
/// The frame indices @p slice selects among @p n frames. @throws libpdf::InvalidArgument if a single
/// index is out of range or the slice selects nothing.
std::vector<std::size_t> slice_indices(const FrameSlice& slice, std::size_t n);

/// Whether @p pattern contains a "{frame}" or "{frame:0N}" field.
bool has_frame_field(const std::string& pattern);
/// @p pattern with every "{frame}" replaced by @p text ("{frame:0N}" zero-pads numbers to N digits).
std::string expand_frame_field(const std::string& pattern, const std::string& text);
std::string expand_frame_field(const std::string& pattern, std::size_t frame);

/// Writes @p content to @p path atomically: a temporary file in the same directory ("<path>.tmp.<pid>"),
/// flushed to disk, then renamed over @p path, so readers never see half a file and a failure leaves the
/// old file intact. Creates missing parent directories. @throws libpdf::IoError.
void write_text_atomic(const std::string& path, const std::string& content);

/// printf-style formatting into a std::string.
std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/// The shortest text that reads back to the same double, for headers.
std::string exact(double value);

}  // namespace pdfreduce
