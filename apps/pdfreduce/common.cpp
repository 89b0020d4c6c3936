#include "pdfreduce/common.hpp"


#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <regex>

#include "libpdf/error.hpp"
#include "libpdf/io.hpp"

namespace pdfreduce {

void Reporter::info(const std::string& message) const {
  if (!global_.quiet) std::cerr << "pdfreduce: " << message << '\n';
}

void Reporter::detail(const std::string& message) const {
  if (!global_.quiet && global_.verbosity > 0) std::cerr << "pdfreduce: " << message << '\n';
}

void Reporter::warn(const std::string& message) const {
  if (!global_.quiet) std::cerr << "pdfreduce: warning: " << message << '\n';
}

std::string strprintf(const char* fmt, ...) {
  va_list args;
  va_start(args, fmt);
  va_list copy;
  va_copy(copy, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, copy);
  va_end(copy);
  std::string out(n > 0 ? static_cast<std::size_t>(n) : 0, '\0');
  if (n > 0) std::vsnprintf(out.data(), out.size() + 1, fmt, args);
  va_end(args);
  return out;
}

std::string exact(double value) {
  // The shortest text that reads back to the same double ("0.1", not "0.10000000000000001").
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, res.ptr);
}

namespace {

// Parses a whole string as a finite double (no trailing garbage).
std::optional<double> to_double(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// Parses a whole string as an integer (no trailing garbage).
std::optional<long long> to_integer(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string> split_colons(const std::string& s) {
  std::vector<std::string> parts;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t pos = s.find(':', begin);
    parts.push_back(s.substr(begin, pos == std::string::npos ? std::string::npos : pos - begin));
    if (pos == std::string::npos) break;
    begin = pos + 1;
  }
  return parts;
}

// "{frame}", "{frame:05}" or "{frame:05d}" (Python's format spelling).
const std::regex& frame_field_regex() {
  static const std::regex re(R"(\{frame(?::0?([0-9]+)d?)?\})");
  return re;
}

}  // namespace

namespace {
CLI::Validator bounded_number(bool strict) {
  return CLI::Validator(
      [strict](std::string& text) -> std::string {
        const auto v = to_double(text);
        if (!v) return "expected a number, got '" + text + "'";
        if (strict ? !(*v > 0) : !(*v >= 0))
          return std::string("must be ") + (strict ? "> 0" : ">= 0") + ", got " + text;
        return {};
      },
      strict ? "POSITIVE" : "NONNEGATIVE");
}
}  // namespace

CLI::Validator positive_number() { return bounded_number(true); }
CLI::Validator non_negative_number() { return bounded_number(false); }

CLI::Validator range_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto parts = split_colons(text);
        if (parts.size() != 2 || !to_double(parts[0]) || !to_double(parts[1])) {
          return "expected LO:HI with two numbers, got '" + text + "'";
        }
        return {};
      },
      "");
}

libpdf::Range parse_range(const std::string& text) {
  const auto parts = split_colons(text);
  return {*to_double(parts.at(0)), *to_double(parts.at(1))};
}

CLI::Validator slice_validator() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const auto parts = split_colons(text);
        std::string expected = "expected N, A:B or A:B:S (Python slice, end excluded), got '" + text + "'";
        if (parts.size() > 3) return expected;
        if (parts.size() == 1) return to_integer(parts[0]) ? std::string{} : expected;
        for (const auto& p : parts) {
          if (!p.empty() && !to_integer(p)) return expected;
        }
        if (parts.size() == 3 && !parts[2].empty() && *to_integer(parts[2]) <= 0) {
          return "the frame step must be positive, got '" + text + "'";
        }
        return {};
      },
      "");
}

FrameSlice parse_slice(const std::string& text) {
  FrameSlice slice;
  const auto parts = split_colons(text);
  if (parts.size() == 1) {
    slice.single = true;
    slice.start = to_integer(parts[0]);
    return slice;
  }
  if (!parts[0].empty()) slice.start = to_integer(parts[0]);
  if (!parts[1].empty()) slice.stop = to_integer(parts[1]);
  if (parts.size() == 3 && !parts[2].empty()) slice.step = *to_integer(parts[2]);
  return slice;
}

std::vector<std::size_t> slice_indices(const FrameSlice& slice, std::size_t n) {
  const auto count = static_cast<long long>(n);
  if (slice.single) {
    long long i = *slice.start;
    if (i < 0) i += count;
    if (i < 0 || i >= count) {
      throw libpdf::InvalidArgument("--frames: frame " + std::to_string(*slice.start) +
                                    " does not exist (the input has " + std::to_string(n) + " frame" +
                                    (n == 1 ? "" : "s") + ")");
    }
    return {static_cast<std::size_t>(i)};
  }
  // Python's slice semantics: negative bounds count from the end, then clamp to [0, n].
  auto resolve = [count](std::optional<long long> v, long long fallback) {
    if (!v) return fallback;
    long long x = *v < 0 ? *v + count : *v;
    return std::clamp(x, 0LL, count);
  };
  const long long start = resolve(slice.start, 0);
  const long long stop = resolve(slice.stop, count);
  std::vector<std::size_t> out;
  for (long long i = start; i < stop; i += slice.step) out.push_back(static_cast<std::size_t>(i));
  if (out.empty()) {
    throw libpdf::InvalidArgument("--frames selects no frame (the input has " + std::to_string(n) + " frame" +
                                  (n == 1 ? "" : "s") + ")");
  }
  return out;
}

bool has_frame_field(const std::string& pattern) { return std::regex_search(pattern, frame_field_regex()); }

std::string expand_frame_field(const std::string& pattern, const std::string& text) {
  std::string out;
  auto begin = std::sregex_iterator(pattern.begin(), pattern.end(), frame_field_regex());
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto& m = *it;
    out += pattern.substr(last, static_cast<std::size_t>(m.position(0)) - last);
    std::string value = text;
    // Zero padding applies to plain numbers only (not to "A-B" ranges of --sum).
    if (m[1].matched && !value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
      const auto width = static_cast<std::size_t>(std::stoul(m[1].str()));
      if (value.size() < width) value.insert(0, width - value.size(), '0');
    }
    out += value;
    last = static_cast<std::size_t>(m.position(0) + m.length(0));
  }
  out += pattern.substr(last);
  return out;
}

std::string expand_frame_field(const std::string& pattern, std::size_t frame) {
  return expand_frame_field(pattern, std::to_string(frame));
}

void write_text_atomic(const std::string& path, const std::string& content) {
  namespace fs = std::filesystem;
  const fs::path target(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) {
      throw libpdf::IoError("cannot create the directory '" + target.parent_path().string() + "' for '" + path +
                            "': " + ec.message());
    }
  }
  libpdf::write_file_atomic(path, content);
}

}  // namespace pdfreduce
