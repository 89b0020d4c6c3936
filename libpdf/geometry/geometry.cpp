// Per-pixel geometry in pyFAI's convention (docs/conventions.md §1).
#include <cmath>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"

namespace libpdf {

Geometry::Geometry(const Poni& poni, std::size_t rows, std::size_t cols) : poni_(poni) {
  poni_.validate();
  if ((rows == 0) != (cols == 0)) {
    throw InvalidArgument("Geometry: give both rows and cols (got " + std::to_string(rows) + " x " +
                          std::to_string(cols) + "), or neither to use the PONI's max_shape");
  }
  rows_ = rows ? rows : poni.detector.rows;
  cols_ = cols ? cols : poni.detector.cols;
  if (rows_ == 0 || cols_ == 0) {
    throw InvalidArgument("Geometry: the detector shape is unknown (the PONI has no max_shape and no shape was "
                          "given); pass rows and cols");
  }
  // R = R3·R2·R1 with pyFAI's matrices: R1 (about axis 1) and R2 (about axis 2) are left-handed,
  // R3 (about the beam) right-handed.
  const double c1 = std::cos(poni.rot1), s1 = std::sin(poni.rot1);
  const double c2 = std::cos(poni.rot2), s2 = std::sin(poni.rot2);
  const double c3 = std::cos(poni.rot3), s3 = std::sin(poni.rot3);
  const double R1[3][3] = {{1, 0, 0}, {0, c1, s1}, {0, -s1, c1}};
  const double R2[3][3] = {{c2, 0, -s2}, {0, 1, 0}, {s2, 0, c2}};
  const double R3[3][3] = {{c3, -s3, 0}, {s3, c3, 0}, {0, 0, 1}};
  double R21[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      R21[i][j] = 0;
      for (int k = 0; k < 3; ++k) R21[i][j] += R2[i][k] * R1[k][j];
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      r_[i][j] = 0;
      for (int k = 0; k < 3; ++k) r_[i][j] += R3[i][k] * R21[k][j];
    }
  // pyFAI 2.1 orientations: 3 native; 1 both axes flipped; 2 rows (axis 1) flipped; 4 columns flipped.
  const int o = poni.detector.orientation;
  flip_rows_ = (o == 1 || o == 2) ? 1.0 : 0.0;
  flip_cols_ = (o == 1 || o == 4) ? 1.0 : 0.0;
}

std::array<double, 3> Geometry::lab_vector(double row, double col) const {
  const double r = flip_rows_ != 0 ? static_cast<double>(rows_) - row : row;
  const double c = flip_cols_ != 0 ? static_cast<double>(cols_) - col : col;
  const double p1 = r * poni_.detector.pixel1_m - poni_.poni1_m;
  const double p2 = c * poni_.detector.pixel2_m - poni_.poni2_m;
  const double p3 = poni_.distance_m;
  return {r_[0][0] * p1 + r_[0][1] * p2 + r_[0][2] * p3, r_[1][0] * p1 + r_[1][1] * p2 + r_[1][2] * p3,
          r_[2][0] * p1 + r_[2][1] * p2 + r_[2][2] * p3};
}

double Geometry::tth(double row, double col) const {
  const auto t = lab_vector(row, col);
  return std::atan2(std::sqrt(t[0] * t[0] + t[1] * t[1]), t[2]);
}

double Geometry::chi(double row, double col) const {
  const auto t = lab_vector(row, col);
  return std::atan2(t[0], t[1]);
}

double Geometry::q_A(double row, double col) const {
  if (!(poni_.wavelength_m > 0)) throw InvalidArgument("Geometry::q_A: the PONI has no wavelength (needed for q)");
  return 4.0 * M_PI * std::sin(0.5 * tth(row, col)) / poni_.wavelength_A();
}

namespace {
// cos α of the incidence on the flat detector: L/|t| (rotation-invariant).
double cos_incidence(const Geometry& g, std::size_t i, std::size_t j) {
  const auto t = g.lab_vector(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
  return g.poni().distance_m / std::sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
}
}  // namespace

double Geometry::solid_angle(std::size_t i, std::size_t j) const {
  const double c = cos_incidence(*this, i, j);
  return c * c * c;
}

double Geometry::polarization(std::size_t i, std::size_t j, double factor) const {
  const double di = static_cast<double>(i) + 0.5, dj = static_cast<double>(j) + 0.5;
  const auto t = lab_vector(di, dj);
  const double tt = std::atan2(std::sqrt(t[0] * t[0] + t[1] * t[1]), t[2]);
  const double ch = std::atan2(t[0], t[1]);
  const double c2 = std::cos(tt) * std::cos(tt);
  return 0.5 * (1.0 + c2 - factor * std::cos(2.0 * ch) * (1.0 - c2));
}

double Geometry::sensor_efficiency(std::size_t i, std::size_t j, const Sensor& sensor) const {
  if (!(sensor.attenuation_length_m > 0) || !(sensor.thickness_m > 0)) {
    throw InvalidArgument("sensor efficiency: attenuation length and thickness must be > 0 (got " +
                          std::to_string(sensor.attenuation_length_m) + " m and " +
                          std::to_string(sensor.thickness_m) + " m)");
  }
  const double mud = sensor.thickness_m / sensor.attenuation_length_m;
  const double c = cos_incidence(*this, i, j);
  return -std::expm1(-mud / c) / -std::expm1(-mud);
}

PixelCorners Geometry::corners_tth_chi(std::size_t i, std::size_t j) const {
  const double di = static_cast<double>(i), dj = static_cast<double>(j);
  const double pts[4][2] = {{di, dj}, {di + 1, dj}, {di + 1, dj + 1}, {di, dj + 1}};
  PixelCorners out{};
  for (int k = 0; k < 4; ++k) {
    const auto t = lab_vector(pts[k][0], pts[k][1]);
    out[k][0] = std::atan2(std::sqrt(t[0] * t[0] + t[1] * t[1]), t[2]);
    out[k][1] = std::atan2(t[0], t[1]);
  }
  return out;
}

std::vector<double> Geometry::tth_array() const {
  std::vector<double> out(rows_ * cols_);
  for (std::size_t i = 0; i < rows_; ++i)
    for (std::size_t j = 0; j < cols_; ++j) out[i * cols_ + j] = tth(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
  return out;
}

std::vector<double> Geometry::chi_array() const {
  std::vector<double> out(rows_ * cols_);
  for (std::size_t i = 0; i < rows_; ++i)
    for (std::size_t j = 0; j < cols_; ++j) out[i * cols_ + j] = chi(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
  return out;
}

std::vector<double> Geometry::q_array() const {
  std::vector<double> out(rows_ * cols_);
  for (std::size_t i = 0; i < rows_; ++i)
    for (std::size_t j = 0; j < cols_; ++j) out[i * cols_ + j] = q_A(static_cast<double>(i) + 0.5, static_cast<double>(j) + 0.5);
  return out;
}

}  // namespace libpdf
