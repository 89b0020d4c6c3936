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
/// `pdfreduce inspect`: what a frames file (or a result file) holds: shape, type, compression, metadata.
Command add_inspect_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce simulate`: writes the bundled example heating series with its truth.
Command add_simulate_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce relax`: the beta relaxation of a DMA scan (T_beta, tan_delta_beta, tan_delta_at_T_beta).
Command add_relax_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce dsc`: glass transition (Tg onset, midpoint) and exothermic transition peaks of a DSC scan.
Command add_dsc_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce pdf`: a 1D pattern to S(q), F(q) and G(r) (.iq .sq .fq .gr files).
Command add_pdf_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce metrics`: structure metrics of a .gr/.sq file or of the frames of a result file.
Command add_metrics_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce onset`: where the trend of a metric along a series changes (two-segment fit).
Command add_onset_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce plot`: PNG figures through gnuplot (frames, temperature maps, metrics with their onset).
Command add_plot_command(CLI::App& parent, const GlobalOptions& global);
/// `pdfreduce run`: a whole series from one recipe file (frames -> I(q) -> S(q), G(r) -> metrics), resumable.
Command add_run_command(CLI::App& parent, const GlobalOptions& global);

}  // namespace pdfreduce
