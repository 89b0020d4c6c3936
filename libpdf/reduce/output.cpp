// The PDFgetX3-style header of a reduction and the .iq/.sq/.fq/.gr files.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "libpdf/pattern_io.hpp"
#include "libpdf/reduce.hpp"
#include "libpdf/version.hpp"

namespace libpdf {
namespace {

// The shortest text that reads back to the same double.
std::string exact(double v) {
  char buf[40];
  for (int p = 6; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

const char* normalization_text(Normalization n) {
  switch (n) {
    case Normalization::high_q:
      return "high-q least-squares fit of alpha*I - (<f^2> + I_inc)";
    case Normalization::krogh_moe_norman:
      return "Krogh-Moe/Norman sum rule, integral_0^qmax q^2 [S - 1] dq = -2 pi^2 rho0";
    case Normalization::ad_hoc:
      return "PDFgetX3-style ad hoc: high-q alpha, then F - q P(q) fitted over [qmin, qmaxinst]";
  }
  return "";
}

}  // namespace

std::vector<HeaderEntry> reduction_header(const ReductionResult& r, const std::vector<HeaderEntry>& inputs) {
  const ReductionOptions& o = r.options;
  std::vector<HeaderEntry> h;
  auto blank = [&h] { h.emplace_back("", ""); };
  auto comment = [&h](const std::string& c) { h.emplace_back("", c); };
  h.emplace_back("version", std::string("libpdf ") + version());
  blank();
  comment("input and output specifications");
  for (const auto& e : inputs) h.push_back(e);
  h.emplace_back("data_qrange", exact(r.data_qmin) + " " + exact(r.data_qmax));
  h.emplace_back(
      "resampled",
      r.resampled ? "yes, linear interpolation onto the uniform grid qstep (sigma^2 weights (1-t)^2, t^2)" : "no");
  blank();
  comment("PDF calculation setup");
  h.emplace_back("mode", "xray");
  h.emplace_back("composition", o.composition.formula());
  h.emplace_back("composition_fractions", o.composition.normalized_formula());
  h.emplace_back("mean_atomic_mass", exact(o.composition.mean_mass()) + " g/mol");
  h.emplace_back("bgscale", exact(r.background_scale) + (o.optimize_background_scale ? " (optimised)" : ""));
  if (r.background_scales.size() > 1) {
    std::string all;
    for (std::size_t k = 0; k < r.background_scales.size(); ++k) {
      if (k > 0) all += ' ';
      all += exact(r.background_scales[k]);
    }
    h.emplace_back("bgscales", all + " (I_c = I - sum_k scale_k I_k, in the order of the background files)");
  }
  if (r.number_density) {
    h.emplace_back("number_density",
                   exact(*r.number_density) + " atoms/A^3" + (o.optimize_density ? " (optimised)" : ""));
    h.emplace_back("mass_density",
                   exact(mass_density_from_number_density(*r.number_density, o.composition)) + " g/cm^3");
  } else {
    h.emplace_back("number_density", "none");
  }
  h.emplace_back("normalization",
                 std::string(normalization_name(o.normalization)) + " (" + normalization_text(o.normalization) + ")");
  h.emplace_back("alpha", exact(r.alpha));
  if (o.normalization != Normalization::krogh_moe_norman) {
    h.emplace_back("highq_qmin", exact(o.highq_qmin));
    h.emplace_back("highq_weight", highq_weight_name(o.highq_weight));
  }
  if (o.normalization == Normalization::ad_hoc) {
    h.emplace_back("rpoly", exact(o.rpoly));
    h.emplace_back("qmaxinst", exact(r.qmaxinst));
    h.emplace_back("adhoc_degree", std::to_string(r.adhoc_degree) + " (round(rpoly*qmaxinst/pi))");
    std::string c;
    for (std::size_t k = 0; k < r.adhoc_coefficients.size(); ++k) {
      if (k > 0) c += ' ';
      c += exact(r.adhoc_coefficients[k]);
    }
    h.emplace_back("adhoc_coefficients", c + " (q P(q) = sum_k c_k q^k, k = 1..n)");
    h.emplace_back("adhoc_fit", std::string(adhoc_fit_name(o.adhoc_fit)) +
                                    (o.adhoc_fit == AdhocFit::low_r ? " (G(r) linear on (0, rcutoff])"
                                                                    : " (least squares to F(q) on [qmin, qmaxinst])"));
    if (r.adhoc_density) h.emplace_back("adhoc_density", exact(*r.adhoc_density) + " atoms/A^3 (low-r slope / 4 pi)");
  }
  h.emplace_back("convention", convention_name(o.convention));
  h.emplace_back("low_q_extrapolation", extrapolation_name(o.extrapolation));
  h.emplace_back("qmin", exact(r.qmin));
  h.emplace_back("qmax", exact(r.qmax));
  h.emplace_back("qstep", exact(r.qstep));
  h.emplace_back("low_r_iterations", std::to_string(r.low_r_iterations));
  h.emplace_back("rcutoff", o.low_r_cutoff ? exact(*o.low_r_cutoff) : "none");
  if (r.low_r_residual)
    h.emplace_back("low_r_residual", exact(*r.low_r_residual) + " (integral_0^rc [G + 4 pi rho0 r]^2 dr)");
  if (o.optimize_background_scale || o.optimize_density) {
    std::string what = o.optimize_background_scale ? "bgscale" : "";
    if (o.optimize_density) what += what.empty() ? "density" : " density";
    h.emplace_back("optimize", what + " (Nelder-Mead, " + std::to_string(r.optimizer_evaluations) +
                                   " reductions, minimising integral_0^rc [G + 4 pi rho0 r]^2 dr)");
  }
  h.emplace_back("window", window_name(o.window));
  h.emplace_back("window_formula", window_formula(o.window, r.qmax, o.taper_width));
  h.emplace_back("rmin", exact(o.rmin));
  h.emplace_back("rmax", exact(o.rmax));
  h.emplace_back("rstep", exact(o.rstep));
  blank();
  comment("definitions (docs/pdf.md)");
  h.emplace_back("form_factors", "Waasmaier & Kirfel, Acta Cryst. A51 (1995) 416, neutral atoms");
  h.emplace_back("compton", "Hubbell et al. (1975) incoherent scattering functions via xraylib SF_Compt");
  h.emplace_back("structure_factor", o.convention == StructureFactorConvention::faber_ziman
                                         ? "S = 1 + [alpha (I - bgscale I_bkg) - I_inc - <f^2>] / <f>^2"
                                         : "S = 1 + [alpha (I - bgscale I_bkg) - I_inc - <f^2>] / <f^2>");
  h.emplace_back("transform", "F = q (S - 1), G(r) = (2/pi) dq sum_j F(q_j) M(q_j) sin(q_j r)");
  h.emplace_back("uncertainty",
                 r.has_sigma ? "sigma propagated from the input pattern (independent points)" : "none in the input");
  return h;
}

std::vector<std::string> write_reduction(const std::string& prefix, const ReductionResult& r,
                                         const std::vector<HeaderEntry>& inputs) {
  const auto header = reduction_header(r, inputs);
  std::vector<std::string> paths;
  auto add = [&](const char* type) {
    auto h = header;
    h.insert(h.begin() + 1, HeaderEntry("outputtype", type));
    return h;
  };
  // .iq: the background-subtracted intensity on the measured band.
  {
    const std::size_t a = r.first_measured;
    std::vector<double> q(r.q.begin() + static_cast<std::ptrdiff_t>(a), r.q.end());
    std::vector<double> i(r.iq.begin() + static_cast<std::ptrdiff_t>(a), r.iq.end());
    std::vector<double> s;
    if (r.has_sigma) s.assign(r.iq_sigma.begin() + static_cast<std::ptrdiff_t>(a), r.iq_sigma.end());
    paths.push_back(prefix + ".iq");
    write_pdfgetx3(paths.back(), add("iq"), "Q($\\AA^{-1}$)", "I($Q$)", "dI($Q$)", q, i, s);
  }
  paths.push_back(prefix + ".sq");
  write_pdfgetx3(paths.back(), add("sq"), "Q($\\AA^{-1}$)", "S($Q$)", "dS($Q$)", r.q, r.sq, r.sq_sigma);
  paths.push_back(prefix + ".fq");
  write_pdfgetx3(paths.back(), add("fq"), "Q($\\AA^{-1}$)", "F($\\AA^{-1}$)", "dF($\\AA^{-1}$)", r.q, r.fq, r.fq_sigma);
  paths.push_back(prefix + ".gr");
  write_pdfgetx3(paths.back(), add("gr"), "r($\\AA$)", "G($\\AA^{-2}$)", "dG($\\AA^{-2}$)", r.r, r.gr, r.gr_sigma);
  return paths;
}

}  // namespace libpdf
