#pragma once
// The pdfreduce subcommands. Each lives in its own <name>_cmd.cpp and registers itself on the top-level
// app; main.cpp lists them in one table. To add a subcommand: write <name>_cmd.cpp with an
// add_<name>_command() like the ones below, declare it here, add it to main.cpp's table and to
// apps/CMakeLists.txt.
#include <CLI/CLI.hpp>

#include "pdfreduce/common.hpp"

namespace pdfreduce {

/// `pdfreduce integrate`: azimuthal integration of detector frames to I(q) / I(2θ) text files.
Command add_integrate_command(CLI::App& parent, const GlobalOptions& global);

}  // namespace pdfreduce
