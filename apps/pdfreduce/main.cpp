// pdfreduce: the command-line front end of libpdf.
//
// Exit codes: 0 success, 1 runtime or input error (a libpdf::Error or a system error; the message on
// stderr starts with "pdfreduce: error: "), 2 usage error (the command line itself is wrong).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <new>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/log.hpp"
#include "libpdf/version.hpp"
#include "pdfreduce/commands.hpp"
#include "pdfreduce/common.hpp"

namespace {

const char* level_name(libpdf::LogLevel level) {
  switch (level) {
    case libpdf::LogLevel::trace:
      return "trace";
    case libpdf::LogLevel::debug:
      return "debug";
    case libpdf::LogLevel::info:
      return "info";
    case libpdf::LogLevel::warn:
      return "warning";
    case libpdf::LogLevel::error:
      return "error";
    case libpdf::LogLevel::off:
      break;
  }
  return "log";
}

// The library stays at "warn" unless asked: -v shows its info messages, -vv debug, -vvv trace.
void configure_logging(const pdfreduce::GlobalOptions& global) {
  libpdf::LogLevel level = libpdf::LogLevel::warn;
  if (global.quiet) {
    level = libpdf::LogLevel::error;
  } else if (global.verbosity >= 3) {
    level = libpdf::LogLevel::trace;
  } else if (global.verbosity == 2) {
    level = libpdf::LogLevel::debug;
  } else if (global.verbosity == 1) {
    level = libpdf::LogLevel::info;
  }
  libpdf::set_log_level(level);
  // One prefix for every line the program prints, so library messages are recognisable in logs.
  libpdf::set_log_handler([](libpdf::LogLevel lvl, std::string_view message) {
    std::cerr << "pdfreduce: libpdf " << level_name(lvl) << ": " << message << '\n';
  });
}

// The whole program; main() only adds a last catch.
int run(int argc, char** argv) {
  CLI::App app{
      "pdfreduce: X-ray total-scattering reduction with libpdf.\n"
      "Azimuthal integration of detector frames (TIFF, HDF5/NeXus, DESY Lambda, Dectris Eiger) in pyFAI's "
      "geometry convention (PONI files); reduction of I(q) to S(q), F(q) and G(r); beta relaxation (DMA) and "
      "glass transition (DSC); a forward simulator of in-situ heating series.",
      "pdfreduce"};
  app.set_version_flag("--version", std::string("pdfreduce (libpdf) ") + libpdf::version(),
                       "Print the libpdf version and exit");
  pdfreduce::GlobalOptions global;
  auto* verbose = app.add_flag("-v,--verbose", global.verbosity,
                               "More messages on stderr: -v progress and plan details, -vv library debug log");
  app.add_flag("-q,--quiet", global.quiet, "Print nothing but errors")->excludes(verbose);
  app.require_subcommand(1);
  // Global flags are accepted after the subcommand too ("pdfreduce integrate ... -v").
  app.fallthrough();
  app.footer(
      "Run 'pdfreduce <command> --help' for the options of a command.\n"
      "Exit codes: 0 success, 1 runtime/input error, 2 usage error.");

  std::vector<pdfreduce::Command> commands;
  for (auto add : {&pdfreduce::add_integrate_command, &pdfreduce::add_inspect_command,
                   &pdfreduce::add_simulate_command, &pdfreduce::add_relax_command,
                   &pdfreduce::add_dsc_command, &pdfreduce::add_pdf_command, &pdfreduce::add_metrics_command,
                   &pdfreduce::add_onset_command, &pdfreduce::add_plot_command, &pdfreduce::add_run_command}) {
    commands.push_back(add(app, global));
  }

  if (argc <= 1) {
    std::cerr << app.help();
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "pdfreduce: usage error: " << e.what() << "\n"
              << "Run 'pdfreduce --help' or 'pdfreduce <command> --help' for the options.\n";
    return 2;
  }

  configure_logging(global);
  try {
    for (const auto& command : commands) {
      if (command.app->parsed()) command.run();
    }
  } catch (const libpdf::Error& e) {
    std::cerr << "pdfreduce: error: " << e.what() << '\n';
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "pdfreduce: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "pdfreduce: error: " << e.what() << '\n';
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Setting up the command line can itself throw (e.g. out of memory): still exit 1 with a message.
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "pdfreduce: error: " << e.what() << '\n';
  } catch (...) {
    std::cerr << "pdfreduce: error: unknown exception\n";
  }
  return 1;
}
