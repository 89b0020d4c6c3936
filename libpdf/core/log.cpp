#include "libpdf/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <memory>
#include <mutex>

#include "libpdf/detail/log.hpp"

namespace libpdf {
namespace {

spdlog::level::level_enum to_spd(LogLevel l) {
  switch (l) {
    case LogLevel::trace: return spdlog::level::trace;
    case LogLevel::debug: return spdlog::level::debug;
    case LogLevel::info: return spdlog::level::info;
    case LogLevel::warn: return spdlog::level::warn;
    case LogLevel::error: return spdlog::level::err;
    case LogLevel::off: return spdlog::level::off;
  }
  return spdlog::level::warn;
}

LogLevel from_spd(spdlog::level::level_enum l) {
  switch (l) {
    case spdlog::level::trace: return LogLevel::trace;
    case spdlog::level::debug: return LogLevel::debug;
    case spdlog::level::info: return LogLevel::info;
    case spdlog::level::warn: return LogLevel::warn;
    case spdlog::level::err:
    case spdlog::level::critical: return LogLevel::error;
    default: return LogLevel::off;
  }
}

// Forwards formatted messages to a user handler.
class HandlerSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit HandlerSink(LogHandler h) : handler_(std::move(h)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    handler_(from_spd(msg.level), std::string_view(msg.payload.data(), msg.payload.size()));
  }
  void flush_() override {}

 private:
  LogHandler handler_;
};

std::shared_ptr<spdlog::logger> make_default_logger() {
  // Not registered in spdlog's registry: the host's loggers and default logger stay untouched.
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto lg = std::make_shared<spdlog::logger>("libpdf", std::move(sink));
  lg->set_level(spdlog::level::warn);
  lg->set_pattern("[libpdf] [%l] %v");
  return lg;
}

std::mutex g_mutex;
std::shared_ptr<spdlog::logger>& instance() {
  static std::shared_ptr<spdlog::logger> lg = make_default_logger();
  return lg;
}

}  // namespace

namespace detail {
spdlog::logger& logger() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return *instance();
}
}  // namespace detail

void set_log_level(LogLevel level) {
  std::lock_guard<std::mutex> lock(g_mutex);
  instance()->set_level(to_spd(level));
}

LogLevel log_level() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return from_spd(instance()->level());
}

void set_log_handler(LogHandler handler) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto& lg = instance();
  auto level = lg->level();
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (handler) {
    sink = std::make_shared<HandlerSink>(std::move(handler));
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  lg = std::make_shared<spdlog::logger>("libpdf", std::move(sink));
  lg->set_level(level);
  lg->set_pattern("[libpdf] [%l] %v");
}

}  // namespace libpdf
