// Names of the integration choices and validation of the options.
#include <cmath>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/integrate.hpp"

namespace libpdf {

const char* radial_unit_name(RadialUnit u) {
  switch (u) {
    case RadialUnit::q_A: return "q_A^-1";
    case RadialUnit::q_nm: return "q_nm^-1";
    case RadialUnit::tth_deg: return "2th_deg";
    case RadialUnit::r_mm: return "r_mm";
  }
  return "unknown";
}

RadialUnit parse_radial_unit(const std::string& name) {
  if (name == "q_A^-1" || name == "q_A" || name == "q") return RadialUnit::q_A;
  if (name == "q_nm^-1" || name == "q_nm") return RadialUnit::q_nm;
  if (name == "2th_deg" || name == "tth_deg" || name == "2th") return RadialUnit::tth_deg;
  if (name == "r_mm") return RadialUnit::r_mm;
  throw InvalidArgument("unknown radial unit '" + name + "' (expected q_A^-1, q_nm^-1, 2th_deg or r_mm)");
}

const char* splitting_name(Splitting s) {
  switch (s) {
    case Splitting::none: return "none";
    case Splitting::bbox: return "bbox";
    case Splitting::full: return "full";
  }
  return "unknown";
}

Splitting parse_splitting(const std::string& name) {
  if (name == "none" || name == "no") return Splitting::none;
  if (name == "bbox") return Splitting::bbox;
  if (name == "full") return Splitting::full;
  throw InvalidArgument("unknown pixel splitting '" + name + "' (expected none, bbox or full)");
}

const char* error_model_name(ErrorModel e) {
  switch (e) {
    case ErrorModel::none: return "none";
    case ErrorModel::poisson: return "poisson";
    case ErrorModel::azimuthal: return "azimuthal";
  }
  return "unknown";
}

ErrorModel parse_error_model(const std::string& name) {
  if (name == "none") return ErrorModel::none;
  if (name == "poisson") return ErrorModel::poisson;
  if (name == "azimuthal") return ErrorModel::azimuthal;
  throw InvalidArgument("unknown error model '" + name + "' (expected none, poisson or azimuthal)");
}

namespace {
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}
}  // namespace

void IntegrationOptions::validate() const {
  std::vector<std::string> bad;
  if (npt == 0) bad.push_back("npt = 0 (expected at least 1 bin)");
  if (npt > (1u << 24) - 2) bad.push_back("npt = " + std::to_string(npt) + " (expected at most 16777214 bins)");
  if (radial_range) {
    if (!std::isfinite(radial_range->lo) || !std::isfinite(radial_range->hi) || !(radial_range->lo < radial_range->hi)) {
      bad.push_back("radial_range = [" + num(radial_range->lo) + ", " + num(radial_range->hi) +
                    "] (expected finite lo < hi)");
    } else if (radial_range->hi <= 0) {
      bad.push_back("radial_range = [" + num(radial_range->lo) + ", " + num(radial_range->hi) +
                    "] (every radial unit is >= 0: expected hi > 0)");
    }
  }
  if (azimuth_range_deg) {
    const auto& a = *azimuth_range_deg;
    if (!std::isfinite(a.lo) || !std::isfinite(a.hi) || !(a.lo < a.hi) || a.lo < -360 || a.hi > 360 ||
        a.hi - a.lo > 360) {
      bad.push_back("azimuth_range_deg = [" + num(a.lo) + ", " + num(a.hi) +
                    "] (expected lo < hi within -180..180 or 0..360 degrees)");
    }
  }
  if (polarization_factor && !(std::fabs(*polarization_factor) <= 1.0)) {
    bad.push_back("polarization_factor = " + num(*polarization_factor) + " (expected a value in [-1, 1])");
  }
  if (sensor && (!(sensor->attenuation_length_m > 0) || !(sensor->thickness_m > 0) ||
                 !std::isfinite(sensor->attenuation_length_m) || !std::isfinite(sensor->thickness_m))) {
    bad.push_back("sensor = {attenuation_length_m " + num(sensor->attenuation_length_m) + ", thickness_m " +
                  num(sensor->thickness_m) + "} (expected both finite and > 0)");
  }
  if (!(normalization_factor > 0) || !std::isfinite(normalization_factor)) {
    bad.push_back("normalization_factor = " + num(normalization_factor) + " (expected a finite value > 0)");
  }
  if (dummy && !std::isfinite(*dummy)) bad.push_back("dummy = " + num(*dummy) + " (expected a finite value)");
  if (!(delta_dummy >= 0) || !std::isfinite(delta_dummy)) {
    bad.push_back("delta_dummy = " + num(delta_dummy) + " (expected a finite value >= 0)");
  }
  if (bit_depth && (*bit_depth < 1 || *bit_depth > 32)) {
    bad.push_back("bit_depth = " + std::to_string(*bit_depth) + " (expected 1..32)");
  }
  if (threads < 0) bad.push_back("threads = " + std::to_string(threads) + " (expected 0 = all cores, or > 0)");
  if (!bad.empty()) {
    std::string msg = "invalid integration options: ";
    for (std::size_t i = 0; i < bad.size(); ++i) msg += (i ? "; " : "") + bad[i];
    throw InvalidArgument(msg);
  }
}

void CakeOptions::validate() const {
  std::string extra;
  if (npt_azim == 0) extra = "npt_azim = 0 (expected at least 1 azimuthal bin)";
  try {
    IntegrationOptions::validate();
  } catch (const InvalidArgument& e) {
    throw InvalidArgument(std::string(e.what()) + (extra.empty() ? "" : "; " + extra));
  }
  if (!extra.empty()) throw InvalidArgument("invalid integration options: " + extra);
}

}  // namespace libpdf
