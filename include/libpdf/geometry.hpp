#pragma once
/// @file geometry.hpp
/// Detector geometry in pyFAI's convention (docs/conventions.md §1): PONI files, detectors, and the
/// per-pixel quantities an integration needs. Lengths in metres, angles in radians, q in 1/Å.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "libpdf/export.hpp"
#include "libpdf/image.hpp"

namespace libpdf {

/// A flat detector: pixel grid, pixel size and the origin orientation of pyFAI's PONI v2.1.
struct LIBPDF_API Detector {
  std::string name = "Detector";  ///< pyFAI's detector name (informative).
  std::size_t rows = 0;           ///< Slow axis (dim 1) size in pixels; 0 = unknown.
  std::size_t cols = 0;           ///< Fast axis (dim 2) size in pixels; 0 = unknown.
  double pixel1_m = 0;            ///< Pixel size along the slow axis (rows), metres.
  double pixel2_m = 0;            ///< Pixel size along the fast axis (columns), metres.
  int orientation = 3;            ///< pyFAI orientation 1..4 (3 = pyFAI's native one, no flip).

  /// PerkinElmer XRD1621: 2048 x 2048 pixels of 200 µm.
  static Detector perkinelmer_xrd1621();
  /// Varex 4343CT: 2880 x 2880 pixels of 150 µm.
  static Detector varex_4343ct();
  /// Dectris Pilatus 1M: 1043 x 981 pixels of 172 µm (module gaps hold -2 in its images).
  static Detector pilatus_1m();
};

/// A sensor layer for the oblique-incidence efficiency correction
/// ε(α) = [1 − exp(−μ·d / cos α)] / [1 − exp(−μ·d)], relative to normal incidence.
struct Sensor {
  double attenuation_length_m = 0;  ///< 1/μ at the beam energy, metres (> 0).
  double thickness_m = 0;           ///< Sensor thickness d, metres (> 0).
};

/// The contents of a pyFAI PONI file (versions 1, 2 and 2.1).
struct LIBPDF_API Poni {
  int version = 2;           ///< 1, 2 (Detector_config) or 21 for 2.1 (orientation in Detector_config).
  Detector detector;         ///< Name, pixel sizes, max_shape (rows/cols) and orientation.
  double distance_m = 0;     ///< Sample to PONI distance L.
  double poni1_m = 0;        ///< PONI along the slow axis.
  double poni2_m = 0;        ///< PONI along the fast axis.
  /// Rotations, radians.
  ///@{
  double rot1 = 0, rot2 = 0, rot3 = 0;
  ///@}
  double wavelength_m = 0;   ///< Wavelength, metres (0 = not given).

  /// Wavelength in Å.
  double wavelength_A() const { return wavelength_m * 1e10; }
  /// Throws InvalidArgument naming every bad field (distance/wavelength/pixel size <= 0, non-finite...).
  void validate() const;
};

/// Parses PONI text. Keys are case-insensitive, '#' starts a comment, the last duplicate wins.
/// @param text the PONI text.
/// @param source a name for error messages (e.g. the file path).
LIBPDF_API Poni parse_poni(std::string_view text, std::string_view source = "<poni text>");
/// Reads and parses a PONI file. Throws IoError if it cannot be read.
LIBPDF_API Poni read_poni(const std::string& path);
/// PONI text in the format of @p poni.version (1, 2 or 21 = 2.1).
LIBPDF_API std::string format_poni(const Poni& poni);
/// Writes a PONI file atomically (temporary file, then rename).
LIBPDF_API void write_poni(const std::string& path, const Poni& poni);

/// The four corners of a pixel, each (value in a radial quantity, χ in radians).
using PixelCorners = std::array<std::array<double, 2>, 4>;

/// Per-pixel geometry of a detector at a PONI: 2θ, χ, q, corners, and the correction factors.
/// Pixel (row i, col j) has its centre at p1 = (i + ½)·pixel1 − Poni1, p2 = (j + ½)·pixel2 − Poni2
/// (after the orientation flip), lab vector t = R3·R2·R1·(p1, p2, L).
class LIBPDF_API Geometry {
 public:
  /// @throws InvalidArgument if the PONI is invalid or the detector shape is unknown and not given.
  Geometry(const Poni& poni, std::size_t rows = 0, std::size_t cols = 0);

  /// The calibration.
  const Poni& poni() const { return poni_; }
  /// Detector rows (slow axis).
  std::size_t rows() const { return rows_; }
  /// Detector columns (fast axis).
  std::size_t cols() const { return cols_; }

  /// Lab-frame vector (t1, t2, t3) in metres of a point at fractional pixel coordinates (row, col);
  /// pixel centres are at (i + 0.5, j + 0.5).
  std::array<double, 3> lab_vector(double row, double col) const;
  /// Scattering angle 2θ (radians) at fractional pixel coordinates.
  double tth(double row, double col) const;
  /// Azimuth χ = atan2(t1, t2) in (−π, π].
  double chi(double row, double col) const;
  /// q = 4π sin(θ)/λ in 1/Å (needs a wavelength).
  double q_A(double row, double col) const;
  /// Solid angle of pixel (i, j) relative to the PONI pixel: cos³α, cos α = L/|t|.
  double solid_angle(std::size_t i, std::size_t j) const;
  /// Polarisation factor P = ½[1 + cos²2θ − f·cos(2χ)·sin²2θ] of pixel (i, j).
  double polarization(std::size_t i, std::size_t j, double factor) const;
  /// Oblique-incidence sensor efficiency ε(α) of pixel (i, j) relative to normal incidence.
  double sensor_efficiency(std::size_t i, std::size_t j, const Sensor& sensor) const;
  /// Corners of pixel (i, j) in (2θ, χ), in the order (i,j), (i+1,j), (i+1,j+1), (i,j+1).
  PixelCorners corners_tth_chi(std::size_t i, std::size_t j) const;

  /// Whole-detector array (row-major, rows*cols) of 2θ (rad) at the pixel centres.
  std::vector<double> tth_array() const;
  /// Whole-detector array (row-major, rows*cols) of χ (rad) at the pixel centres.
  std::vector<double> chi_array() const;
  /// Whole-detector array (row-major, rows*cols) of q (1/Å) at the pixel centres.
  std::vector<double> q_array() const;

 private:
  Poni poni_;
  std::size_t rows_ = 0, cols_ = 0;
  double r_[3][3];  // R3·R2·R1
  double flip_rows_ = 0, flip_cols_ = 0;
};

/// How detector modules are placed into one assembled image (e.g. a DESY Lambda: three modules).
struct ModulePlacement {
  std::size_t row_offset = 0;  ///< First row of the module in the assembled image.
  std::size_t col_offset = 0;  ///< First column of the module in the assembled image.
  /// Module size.
  ///@{
  std::size_t rows = 0, cols = 0;
  ///@}
};

/// Assembles module frames (same type) into one image at the given placements; pixels no module
/// covers (gaps) get @p gap_value. @throws InvalidArgument on shape/type mismatches or overlap.
LIBPDF_API Image assemble_modules(const std::vector<ImageView>& modules,
                                  const std::vector<ModulePlacement>& placements,
                                  double gap_value);
/// A mask (1 = masked) of the gaps of an assembly of shape rows x cols.
LIBPDF_API std::vector<std::uint8_t> module_gap_mask(const std::vector<ModulePlacement>& placements,
                                                     std::size_t rows, std::size_t cols);

}  // namespace libpdf
