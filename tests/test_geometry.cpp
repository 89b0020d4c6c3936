// Geometry and PONI files against pyFAI (Debian's python3-pyfai 0.21.3) and against first principles.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "libpdf/error.hpp"
#include "test_util.hpp"
#include "libpdf/geometry.hpp"

using namespace libpdf;
using libpdf::test::error_of;
using ::testing::HasSubstr;

namespace {
const std::string kData = LIBPDF_DATA_DIR;
const std::string kCeO2Poni = kData + "/calibrant_CeO2_Pilatus1M/CeO2_Pilatus1M.poni";
const std::string kLambdaPoni = kData + "/desy_lambda_series/L2.poni";

}  // namespace

TEST(Poni, ReadsVersion1RealFile) {
  const Poni p = read_poni(kCeO2Poni);
  EXPECT_EQ(p.version, 1);
  EXPECT_DOUBLE_EQ(p.detector.pixel1_m, 0.000172);
  EXPECT_DOUBLE_EQ(p.detector.pixel2_m, 0.000172);
  EXPECT_DOUBLE_EQ(p.distance_m, 0.208651380603);
  EXPECT_DOUBLE_EQ(p.poni1_m, 0.0872948482846);
  EXPECT_DOUBLE_EQ(p.rot1, -0.0184422457059);
  EXPECT_DOUBLE_EQ(p.rot3, -2.77645988275e-08);
  EXPECT_DOUBLE_EQ(p.wavelength_A(), 0.4066);
  EXPECT_EQ(p.detector.orientation, 3);
}

TEST(Poni, ReadsVersion2RealFile) {
  const Poni p = read_poni(kLambdaPoni);
  EXPECT_EQ(p.version, 2);
  EXPECT_DOUBLE_EQ(p.detector.pixel1_m, 5.4999999999999995e-05);
  EXPECT_EQ(p.detector.rows, 0u);  // max_shape: null
  EXPECT_DOUBLE_EQ(p.distance_m, 0.3091923560063649);
  EXPECT_DOUBLE_EQ(p.wavelength_m, 4.836e-11);
}

TEST(Poni, Version21OrientationAndRoundTrips) {
  const std::string text =
      "poni_version: 2.1\nDetector: Detector\n"
      "Detector_config: {\"pixel1\": 0.0002, \"pixel2\": 0.00015, \"max_shape\": [2048, 1024], \"orientation\": 1}\n"
      "Distance: 0.4\nPoni1: 0.2\nPoni2: 0.1\nRot1: 0.01\nRot2: -0.02\nRot3: 0.03\nWavelength: 2.0e-11\n";
  const Poni p = parse_poni(text);
  EXPECT_EQ(p.version, 21);
  EXPECT_EQ(p.detector.orientation, 1);
  EXPECT_EQ(p.detector.rows, 2048u);
  EXPECT_EQ(p.detector.cols, 1024u);
  EXPECT_DOUBLE_EQ(p.detector.pixel2_m, 0.00015);
  for (int version : {1, 2, 21}) {
    Poni v = p;
    v.version = version;
    if (version != 21) v.detector.orientation = 3;
    const Poni back = parse_poni(format_poni(v));
    EXPECT_EQ(back.version, version);
    EXPECT_EQ(back.detector.orientation, v.detector.orientation);
    EXPECT_EQ(back.distance_m, v.distance_m);  // %.17g round-trips doubles exactly
    EXPECT_EQ(back.poni1_m, v.poni1_m);
    EXPECT_EQ(back.poni2_m, v.poni2_m);
    EXPECT_EQ(back.rot1, v.rot1);
    EXPECT_EQ(back.rot2, v.rot2);
    EXPECT_EQ(back.rot3, v.rot3);
    EXPECT_EQ(back.wavelength_m, v.wavelength_m);
    EXPECT_EQ(back.detector.pixel1_m, v.detector.pixel1_m);
  }
}

TEST(Poni, KeysCaseInsensitiveCommentsAndLastDuplicateWins) {
  const Poni p = parse_poni(
      "# comment\nPIXELSIZE1: 1e-4\npixelsize2: 1e-4  # trailing comment\ndistance: 0.1\nDistance: 0.25\n"
      "poni1: 0\nPONI2: 0\nrot1: 0\nrot2: 0\nrot3: 0\nwavelength: 1e-10\n");
  EXPECT_DOUBLE_EQ(p.distance_m, 0.25);
  EXPECT_DOUBLE_EQ(p.detector.pixel2_m, 1e-4);
}

TEST(Poni, WritesAtomically) {
  const std::string path = std::string(LIBPDF_TEST_TMP) + "/written.poni";
  const Poni p = read_poni(kCeO2Poni);
  write_poni(path, p);
  const Poni back = read_poni(path);
  EXPECT_EQ(back.distance_m, p.distance_m);
  EXPECT_EQ(back.rot2, p.rot2);
}

TEST(Poni, ErrorsNameTheProblem) {
  const std::string base = "PixelSize1: 1e-4\nPixelSize2: 1e-4\nPoni1: 0\nPoni2: 0\nRot1: 0\nRot2: 0\nRot3: 0\n";
  EXPECT_THAT(error_of([&] { parse_poni(base + "Wavelength: 1e-10\n", "x.poni"); }),
              HasSubstr("x.poni: PONI key 'Distance' is missing"));
  EXPECT_THAT(error_of([&] { parse_poni(base + "Distance: abc\n", "x.poni"); }),
              HasSubstr("'Distance' has value 'abc', expected a number"));
  EXPECT_THAT(error_of([&] { parse_poni(base + "Distance: -0.2\n", "x.poni"); }), HasSubstr("Distance = -0.2"));
  EXPECT_THAT(error_of([&] { parse_poni(base + "Distance: 0\n", "x.poni"); }), HasSubstr("expected a finite value > 0"));
  EXPECT_THAT(error_of([&] { parse_poni(base + "Distance: 0.2\nWavelength: 0\n", "x.poni"); }),
              HasSubstr("'Wavelength' is 0"));
  EXPECT_THAT(error_of([&] { parse_poni("poni_version: 3\n", "x.poni"); }), HasSubstr("poni_version 3 is not supported"));
  EXPECT_THAT(error_of([&] { parse_poni("poni_version: 2\nDetector_config: {\"pixel1\": 1e-4,\nDistance: 1\n"); }),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of([&] { parse_poni("just words\n"); }), HasSubstr("not a 'key: value' pair"));
  EXPECT_THAT(error_of([&] { read_poni("/nonexistent/file.poni"); }), HasSubstr("/nonexistent/file.poni"));
  EXPECT_THROW(read_poni("/nonexistent/file.poni"), IoError);
}

// Reference values printed by Debian's pyFAI 0.21.3 for the CeO2 PONI on a 1043 x 981 detector:
// ai.twoThetaArray, chiArray, qArray (1/nm), solidAngleArray, polarization(factor=0.95), rArray (m).
struct PyFaiPixel {
  int i, j;
  double tth, chi, q_nm, solid_angle, pol095, r_m;
};
const PyFaiPixel kPyFai[] = {
    {0, 0, 0.53124169094124385, -2.3308359247396537, 81.13078529177811, 0.65845795942391727, 0.877856195, 0.1215012584167099},
    {100, 200, 0.39431872800002743, -2.1787383186252876, 60.540026642196516, 0.80032845901831129, 0.950565875, 0.086337431226536199},
    {520, 470, 0.015289192869965058, 2.6984522461688445, 2.3626142728184165, 0.99979637375275821, 0.999812901, 0.0031902034667389226},
    {1042, 980, 0.53386539208848272, 0.82130650588532506, 81.521936709651357, 0.6201239565696296, 0.879354119, 0.12450803236311497},
};

TEST(Geometry, MatchesPyFaiPerPixel) {
  // pyFAI computes pixel positions in float32 (its detector module), libpdf in double: they agree to float32
  // rounding of a position, ~1e-8 m on this 0.18 m wide detector, not to double precision. The tolerances are that
  // position error carried into each quantity (3e-7 relative plus an absolute term; χ near the beam centre
  // is the most sensitive: 1e-8 m / 3 mm = 3e-6 rad).
  const Geometry g(read_poni(kCeO2Poni), 1043, 981);
  auto near = [](double a, double b, double abs_tol) { return std::fabs(a - b) <= 3e-7 * std::fabs(b) + abs_tol; };
  for (const auto& r : kPyFai) {
    const double di = r.i + 0.5, dj = r.j + 0.5;
    const auto i = static_cast<std::size_t>(r.i), j = static_cast<std::size_t>(r.j);
    EXPECT_PRED3(near, g.tth(di, dj), r.tth, 1e-7) << r.i << "," << r.j;
    EXPECT_PRED3(near, g.chi(di, dj), r.chi, 5e-6);
    EXPECT_PRED3(near, g.q_A(di, dj), r.q_nm / 10.0, 3e-6);
    EXPECT_PRED3(near, g.solid_angle(i, j), r.solid_angle, 1e-9);
    EXPECT_PRED3(near, g.polarization(i, j, 0.95), r.pol095, 1e-7);  // pyFAI stores it as float32
    const auto t = g.lab_vector(di, dj);
    EXPECT_PRED3(near, std::hypot(t[0], t[1]), r.r_m, 2e-8);
  }
}

TEST(Geometry, OrientationsFlipPixelIndices) {
  Poni p = read_poni(kCeO2Poni);
  p.version = 21;
  const std::size_t R = 1043, C = 981;
  const Geometry g3(p, R, C);
  for (int o : {1, 2, 4}) {
    p.detector.orientation = o;
    const Geometry g(p, R, C);
    for (std::size_t i : {0u, 17u, 1042u}) {
      for (std::size_t j : {0u, 300u, 980u}) {
        const std::size_t fi = (o == 1 || o == 2) ? R - 1 - i : i;
        const std::size_t fj = (o == 1 || o == 4) ? C - 1 - j : j;
        EXPECT_NEAR(g.tth(i + 0.5, j + 0.5), g3.tth(fi + 0.5, fj + 0.5), 1e-13) << "orientation " << o;
        EXPECT_NEAR(g.chi(i + 0.5, j + 0.5), g3.chi(fi + 0.5, fj + 0.5), 1e-12) << "orientation " << o;
      }
    }
  }
}

TEST(Geometry, SensorEfficiencyMatchesFormula) {
  const Geometry g(read_poni(kCeO2Poni), 1043, 981);
  const Sensor s{0.5e-3, 1.0e-3};  // 0.5 mm attenuation length, 1 mm thick: μd = 2
  const double cos_a = std::cbrt(g.solid_angle(0, 0));
  const double expected = (1 - std::exp(-2.0 / cos_a)) / (1 - std::exp(-2.0));
  EXPECT_NEAR(g.sensor_efficiency(0, 0, s), expected, 1e-14);
  EXPECT_GT(g.sensor_efficiency(0, 0, s), 1.0);  // oblique rays cross more sensor
  EXPECT_THROW(g.sensor_efficiency(0, 0, Sensor{0, 1e-3}), InvalidArgument);
}

TEST(Geometry, CornersAreSharedBetweenNeighbours) {
  const Geometry g(read_poni(kCeO2Poni), 1043, 981);
  const auto a = g.corners_tth_chi(10, 20);
  const auto below = g.corners_tth_chi(11, 20);
  const auto right = g.corners_tth_chi(10, 21);
  EXPECT_DOUBLE_EQ(a[1][0], below[0][0]);
  EXPECT_DOUBLE_EQ(a[2][0], below[3][0]);
  EXPECT_DOUBLE_EQ(a[3][0], right[0][0]);
  EXPECT_DOUBLE_EQ(a[2][1], right[1][1]);
  // The centre lies within the corner range.
  const double c = g.tth(10.5, 20.5);
  double lo = 10, hi = -10;
  for (const auto& k : a) {
    lo = std::min(lo, k[0]);
    hi = std::max(hi, k[0]);
  }
  EXPECT_LT(lo, c);
  EXPECT_GT(hi, c);
}

TEST(Geometry, ShapeAndDetectorPresets) {
  Poni p = read_poni(kLambdaPoni);
  EXPECT_THAT(error_of([&] { Geometry g(p); }), HasSubstr("detector shape is unknown"));
  const Geometry g(p, 1833, 1556);
  EXPECT_EQ(g.rows(), 1833u);
  EXPECT_EQ(Detector::perkinelmer_xrd1621().rows, 2048u);
  EXPECT_DOUBLE_EQ(Detector::perkinelmer_xrd1621().pixel1_m, 200e-6);
  EXPECT_EQ(Detector::varex_4343ct().cols, 2880u);
  EXPECT_DOUBLE_EQ(Detector::varex_4343ct().pixel2_m, 150e-6);
  EXPECT_EQ(Detector::pilatus_1m().rows, 1043u);
  EXPECT_EQ(Detector::pilatus_1m().cols, 981u);
}
