// Names of the reduction choices and validation of ReductionOptions.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/reduce.hpp"

namespace libpdf {
namespace {

std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

bool positive(double v) { return v > 0 && std::isfinite(v); }

}  // namespace

const char* normalization_name(Normalization n) {
  switch (n) {
    case Normalization::high_q:
      return "highq";
    case Normalization::krogh_moe_norman:
      return "kmn";
    case Normalization::ad_hoc:
      return "adhoc";
  }
  return "unknown";
}

Normalization parse_normalization(const std::string& name) {
  if (name == "highq" || name == "high_q" || name == "high-q") return Normalization::high_q;
  if (name == "kmn" || name == "krogh-moe-norman" || name == "krogh_moe_norman") return Normalization::krogh_moe_norman;
  if (name == "adhoc" || name == "ad_hoc" || name == "ad-hoc") return Normalization::ad_hoc;
  throw InvalidArgument("unknown normalization '" + name +
                        "' (expected highq: high-q fit, kmn: Krogh-Moe/Norman sum rule, adhoc: PDFgetX3-style)");
}

const char* adhoc_fit_name(AdhocFit f) {
  switch (f) {
    case AdhocFit::q_space:
      return "q";
    case AdhocFit::low_r:
      return "lowr";
  }
  return "unknown";
}

AdhocFit parse_adhoc_fit(const std::string& name) {
  if (name == "q" || name == "q_space" || name == "qspace") return AdhocFit::q_space;
  if (name == "lowr" || name == "low_r" || name == "low-r") return AdhocFit::low_r;
  throw InvalidArgument("unknown ad hoc fit '" + name +
                        "' (expected q: polynomial fitted to F(q), PDFgetX3; lowr: polynomial chosen so that G(r) "
                        "is linear below low_r_cutoff)");
}

const char* highq_weight_name(HighQWeight w) {
  switch (w) {
    case HighQWeight::none:
      return "1";
    case HighQWeight::q:
      return "q";
    case HighQWeight::q2:
      return "q2";
  }
  return "unknown";
}

HighQWeight parse_highq_weight(const std::string& name) {
  if (name == "1" || name == "none") return HighQWeight::none;
  if (name == "q") return HighQWeight::q;
  if (name == "q2" || name == "q^2") return HighQWeight::q2;
  throw InvalidArgument("unknown high-q weight '" + name + "' (expected 1, q or q2)");
}

const char* convention_name(StructureFactorConvention c) {
  switch (c) {
    case StructureFactorConvention::faber_ziman:
      return "faber-ziman";
    case StructureFactorConvention::ashcroft_langreth:
      return "ashcroft-langreth";
  }
  return "unknown";
}

StructureFactorConvention parse_convention(const std::string& name) {
  if (name == "faber-ziman" || name == "faber_ziman" || name == "fz") return StructureFactorConvention::faber_ziman;
  if (name == "ashcroft-langreth" || name == "ashcroft_langreth" || name == "al") {
    return StructureFactorConvention::ashcroft_langreth;
  }
  throw InvalidArgument("unknown structure-factor convention '" + name +
                        "' (expected faber-ziman or ashcroft-langreth)");
}

const char* extrapolation_name(LowQExtrapolation e) {
  switch (e) {
    case LowQExtrapolation::none:
      return "none";
    case LowQExtrapolation::zero:
      return "zero";
    case LowQExtrapolation::linear:
      return "linear";
  }
  return "unknown";
}

LowQExtrapolation parse_extrapolation(const std::string& name) {
  if (name == "none") return LowQExtrapolation::none;
  if (name == "zero") return LowQExtrapolation::zero;
  if (name == "linear") return LowQExtrapolation::linear;
  throw InvalidArgument("unknown low-q extrapolation '" + name +
                        "' (expected none: F = 0 below qmin, zero: S = 0, linear: S from 0 at q = 0 to S(qmin))");
}

void ReductionOptions::validate() const {
  std::vector<std::string> bad;
  if (composition.empty()) bad.push_back("composition is empty (expected a formula such as 'Mg2SiO4')");
  if (number_density && mass_density) {
    bad.push_back("number_density and mass_density are both set (expected one of them)");
  }
  if (number_density && !positive(*number_density)) {
    bad.push_back("number_density = " + num(*number_density) + " (expected a finite value > 0, in atoms/A^3)");
  }
  if (mass_density && !positive(*mass_density)) {
    bad.push_back("mass_density = " + num(*mass_density) + " (expected a finite value > 0, in g/cm^3)");
  }
  const bool has_density = number_density.has_value() || mass_density.has_value();
  if (!(background_scale >= 0) || !std::isfinite(background_scale)) {
    bad.push_back("background_scale = " + num(background_scale) + " (expected a finite value >= 0)");
  }
  if (qmin && (!(*qmin >= 0) || !std::isfinite(*qmin))) {
    bad.push_back("qmin = " + num(*qmin) + " (expected a finite value >= 0, in 1/A)");
  }
  if (qmax && !positive(*qmax)) bad.push_back("qmax = " + num(*qmax) + " (expected a finite value > 0, in 1/A)");
  if (qmax && *qmax > waasmaier_kirfel_qmax) {
    bad.push_back("qmax = " + num(*qmax) + " (the form factors are valid up to " + num(waasmaier_kirfel_qmax) +
                  " 1/A)");
  }
  if (qmin && qmax && !(*qmin < *qmax)) {
    bad.push_back("qmin = " + num(*qmin) + " is not below qmax = " + num(*qmax));
  }
  if (qmaxinst && !positive(*qmaxinst)) {
    bad.push_back("qmaxinst = " + num(*qmaxinst) + " (expected a finite value > 0, in 1/A)");
  } else if (qmaxinst && qmax && *qmaxinst < *qmax) {
    bad.push_back("qmaxinst = " + num(*qmaxinst) + " is below qmax = " + num(*qmax) +
                  " (the ad hoc fit range must cover the transformed band)");
  }
  if (qstep && !positive(*qstep)) bad.push_back("qstep = " + num(*qstep) + " (expected a finite value > 0, in 1/A)");
  if (!(highq_qmin >= 0) || !std::isfinite(highq_qmin)) {
    bad.push_back("highq_qmin = " + num(highq_qmin) + " (expected a finite value >= 0, in 1/A)");
  } else if (qmax && highq_qmin >= *qmax && normalization != Normalization::krogh_moe_norman) {
    bad.push_back("highq_qmin = " + num(highq_qmin) + " (expected below qmax = " + num(*qmax) + ")");
  }
  if (!positive(rpoly)) bad.push_back("rpoly = " + num(rpoly) + " (expected a finite value > 0, in A)");
  if (normalization == Normalization::krogh_moe_norman && !has_density) {
    bad.push_back("normalization kmn needs the number density (number_density or mass_density)");
  }
  if (low_r_iterations < 0) {
    bad.push_back("low_r_iterations = " + std::to_string(low_r_iterations) + " (expected >= 0)");
  }
  if (low_r_cutoff && !positive(*low_r_cutoff)) {
    bad.push_back("low_r_cutoff = " + num(*low_r_cutoff) + " (expected a finite value > 0, in A)");
  }
  if (normalization == Normalization::ad_hoc && adhoc_fit == AdhocFit::low_r && !low_r_cutoff) {
    bad.push_back("adhoc_fit lowr needs low_r_cutoff (r_c: G(r) is made linear on (0, r_c])");
  }
  const bool optimize = optimize_background_scale || optimize_density;
  if ((low_r_iterations > 0 || optimize) && !low_r_cutoff) {
    bad.push_back(std::string(optimize ? "the optimiser" : "the low-r refinement") +
                  " needs low_r_cutoff (r_c, below which g(r) = 0)");
  }
  if ((low_r_iterations > 0 || optimize) && !has_density) {
    bad.push_back(std::string(optimize ? "the optimiser" : "the low-r refinement") +
                  " needs a (starting) density (number_density or mass_density)");
  }
  auto check_bounds = [&bad](const char* name, const std::optional<double>& lo, const std::optional<double>& hi) {
    if (lo && (!(*lo >= 0) || !std::isfinite(*lo)))
      bad.push_back(std::string(name) + "_min = " + num(*lo) + " (expected >= 0)");
    if (hi && !positive(*hi)) bad.push_back(std::string(name) + "_max = " + num(*hi) + " (expected > 0)");
    if (lo && hi && !(*lo < *hi)) {
      bad.push_back(std::string(name) + " bounds [" + num(*lo) + ", " + num(*hi) + "] (expected min < max)");
    }
  };
  check_bounds("background_scale", background_scale_min, background_scale_max);
  check_bounds("density", density_min, density_max);
  if (optimize_max_evaluations <= 0) {
    bad.push_back("optimize_max_evaluations = " + std::to_string(optimize_max_evaluations) + " (expected > 0)");
  }
  TransformOptions t;
  t.qmax = (qmax && positive(*qmax)) ? *qmax : 25.0;
  t.qstep = t.qmax / 1000;  // qstep itself was checked above
  t.rmin = rmin;
  t.rmax = rmax;
  t.rstep = rstep;
  t.window = window;
  t.taper_width = taper_width;
  t.planning = planning;
  try {
    t.validate();
  } catch (const InvalidArgument& e) {
    // Only the r-grid and window fields come from here (qmax and qstep were checked above).
    std::string m = e.what();
    const std::string prefix = "invalid transform options: ";
    if (m.rfind(prefix, 0) == 0) m = m.substr(prefix.size());
    bad.push_back(m);
  }
  if (!bad.empty()) {
    std::string msg = "invalid reduction options: ";
    for (std::size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    throw InvalidArgument(msg);
  }
}

}  // namespace libpdf
