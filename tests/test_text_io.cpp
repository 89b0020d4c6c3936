// Text patterns: reading the formats users bring (pyFAI .xy, Fit2D .chi, PDFgetX3 .gr, PDFgui 4-column .gr,
// comma-separated), writing .xy and PDFgetX3-style files that read back exactly, x-unit conversion, and the
// errors for malformed files (named by file and line).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/pattern_io.hpp"

using namespace libpdf;
using ::testing::HasSubstr;

namespace {

std::string io_error(const std::string& text) {
  try {
    (void)parse_text_pattern(text, "test.xy");
  } catch (const IoError& e) {
    return e.what();
  }
  return "(no IoError thrown)";
}

}  // namespace

TEST(TextIo, ReadsPyFaiXyWithHeader) {
  const std::string text =
      "# == pyFAI calibration ==\n"
      "# Distance Sample to Detector: 0.399951707142 m\n"
      "# Wavelength: 1.908e-11\n"
      "#\n"
      "# q_A^-1\t I\n"
      "1.235171111E+00  1.213103027E+03\n"
      "1.240787076E+00  1.209487549E+03\r\n"
      "\n"
      "1.246403041E+00  1.205211060E+03\n";
  const auto p = parse_text_pattern(text, "pyfai.xy");
  ASSERT_EQ(p.x.size(), 3u);
  EXPECT_EQ(p.columns, 2u);
  EXPECT_TRUE(p.sigma.empty());
  EXPECT_DOUBLE_EQ(p.x[1], 1.240787076);
  EXPECT_DOUBLE_EQ(p.y[2], 1205.21106);
  ASSERT_EQ(p.header.size(), 5u);
  EXPECT_EQ(p.header[4], "q_A^-1\t I");
  bool found = false;
  for (const auto& [k, v] : p.metadata) found = found || (k == "Wavelength" && v == "1.908e-11");
  EXPECT_TRUE(found);
}

TEST(TextIo, ReadsFit2dChiAndThreeColumnsWithSigma) {
  // Fit2D .chi: title, x label, y label and the point count, without '#'.
  const std::string chi =
      "CeO2.chi\n"
      "2-Theta Angle (Degrees)\n"
      "Intensity\n"
      "       3\n"
      "  0.1000E+01  0.5000E+03  0.2236E+02\n"
      "  0.1010E+01  0.5100E+03  0.2258E+02\n"
      "  0.1020E+01  0.5200E+03  0.2280E+02\n";
  const auto p = parse_text_pattern(chi, "x.chi");
  ASSERT_EQ(p.x.size(), 3u);
  EXPECT_EQ(p.columns, 3u);
  ASSERT_EQ(p.sigma.size(), 3u);
  EXPECT_DOUBLE_EQ(p.sigma[1], 22.58);
  EXPECT_EQ(p.header.size(), 4u);
  // Commas, and PDFgui's 4 columns r G dr dG: σ is the fourth.
  const auto c = parse_text_pattern("1,2\n3,4\n", "c.csv");
  EXPECT_DOUBLE_EQ(c.y[1], 4.0);
  const auto g = parse_text_pattern("# PDFgui\n1.0 0.5 0.0 0.01\n1.01 0.6 0.0 0.02\n", "g.gr");
  EXPECT_DOUBLE_EQ(g.sigma[1], 0.02);
}

TEST(TextIo, PdfgetX3FilesRoundTrip) {
  const std::vector<double> x = {0.0, 0.01, 0.02, 0.03};
  const std::vector<double> y = {0.0, -0.0150444965912345, 1.0 / 3.0, 1e-300};
  const std::vector<double> s = {0.0, 0.001, 0.0021, 0.5};
  const std::vector<HeaderEntry> h = {
      {"version", "libpdf test"}, {"", ""}, {"", "a comment"}, {"composition", "Mg2SiO4"}, {"qmax", "20"}};
  const std::string text = format_pdfgetx3(h, "r($\\AA$)", "G($\\AA^{-2}$)", "dG($\\AA^{-2}$)", x, y, s);
  EXPECT_THAT(text, HasSubstr("[DEFAULT]\n\nversion = libpdf test\n\n# a comment\ncomposition = Mg2SiO4\n"));
  EXPECT_THAT(text, HasSubstr("#### start data\n#S 1\n#L r($\\AA$)  G($\\AA^{-2}$)  dG($\\AA^{-2}$)\n0 0 0\n"));
  const auto p = parse_text_pattern(text, "t.gr");
  ASSERT_EQ(p.x.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    // %.10g: 10 significant digits, a relative rounding error of at most 5e-10.
    EXPECT_NEAR(p.y[k], y[k], 5e-10 * std::fabs(y[k]) + 1e-310);
    EXPECT_NEAR(p.sigma[k], s[k], 5e-10 * s[k]);
  }
  bool found = false;
  for (const auto& [k, v] : p.metadata) found = found || (k == "qmax" && v == "20");
  EXPECT_TRUE(found);
  // Without σ: two columns and no σ label.
  const std::string two = format_pdfgetx3(h, "Q", "S", "dS", x, y, {});
  EXPECT_THAT(two, HasSubstr("#L Q  S\n"));
  EXPECT_EQ(parse_text_pattern(two, "t.sq").columns, 2u);
  EXPECT_THROW((void)format_pdfgetx3(h, "Q", "S", "dS", x, {1.0}, {}), InvalidArgument);
}

TEST(TextIo, XyFilesWithSigmaRoundTripThroughDisk) {
  const std::string path = std::string(LIBPDF_TEST_TMP) + "/text_io_roundtrip.xy";
  const std::vector<double> x = {1.0, 1.5, 2.0}, y = {10.0, 11.5, 9.25}, s = {0.1, 0.2, 0.3};
  write_xy(path, {"made by test_text_io", "unit: q_A^-1"}, "q_A^-1 I sigma", x, y, s);
  const auto p = read_text_pattern(path);
  EXPECT_EQ(p.x, x);
  EXPECT_EQ(p.y, y);
  EXPECT_EQ(p.sigma, s);
  EXPECT_EQ(p.header.front(), "made by test_text_io");
  EXPECT_THROW((void)read_text_pattern(std::string(LIBPDF_TEST_TMP) + "/does_not_exist.xy"), IoError);
}

TEST(TextIo, MalformedFilesNameTheLine) {
  EXPECT_THAT(io_error("1 2\n3 x\n"), HasSubstr("test.xy: line 2: expected 2 numbers, found '3 x'"));
  EXPECT_THAT(io_error("1 2\n3 4 5\n"), HasSubstr("line 2: 3 columns where the data started with 2"));
  EXPECT_THAT(io_error("# only a header\n"), HasSubstr("no data rows"));
  EXPECT_THAT(io_error(""), HasSubstr("no data rows"));
  EXPECT_THAT(io_error("1 2\n2 nan\n"), HasSubstr("line 2: column 2 is nan"));
  EXPECT_THAT(io_error("1 2\n2 inf\n"), HasSubstr("line 2: column 2 is inf"));
  EXPECT_THAT(io_error("1 2 -0.1\n"), HasSubstr("sigma = -0.1"));
  EXPECT_THAT(io_error("1 2 3 4 5\n"), HasSubstr("5 columns"));
  EXPECT_THAT(io_error("#### start data\nr G\n"), HasSubstr("line 2: expected a data row"));
}

TEST(TextIo, XUnitConversion) {
  EXPECT_EQ(parse_pattern_x_unit("2th_deg"), PatternXUnit::tth_deg);
  EXPECT_EQ(parse_pattern_x_unit("q_nm^-1"), PatternXUnit::q_nm);
  EXPECT_STREQ(pattern_x_unit_name(PatternXUnit::q_A), "q_A^-1");
  EXPECT_THROW((void)parse_pattern_x_unit("d_A"), InvalidArgument);
  const auto q = to_q_A({10.0, 60.0}, PatternXUnit::tth_deg, 0.5);
  EXPECT_NEAR(q[0], 4 * M_PI * std::sin(5.0 * M_PI / 180) / 0.5, 1e-14);
  EXPECT_NEAR(q[1], 4 * M_PI * 0.5 / 0.5, 1e-14);  // 2θ = 60°: sin 30° = ½
  EXPECT_DOUBLE_EQ(to_q_A({25.0}, PatternXUnit::q_nm)[0], 2.5);
  try {
    (void)to_q_A({10.0}, PatternXUnit::tth_deg, 0.0);
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_THAT(e.what(), HasSubstr("needs the wavelength"));
  }
  EXPECT_THROW((void)to_q_A({190.0}, PatternXUnit::tth_deg, 0.5), InvalidArgument);
}
