// Recipes and the streaming series run. The run is checked against an independent serial computation
// (its own Integrator and reduce() calls on the same frames): equal bit for bit for any thread count, and an
// interrupted run resumed gives the same file and table as an uninterrupted one.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "libpdf/error.hpp"
#include "libpdf/geometry.hpp"
#include "libpdf/io.hpp"
#include "libpdf/metrics.hpp"
#include "libpdf/nexus.hpp"
#include "libpdf/pipeline.hpp"
#include "libpdf/version.hpp"
#include "libpdf/recipe.hpp"
#include "libpdf/simulate.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using libpdf::test::error_of;

namespace {

const std::string kTmp = std::string(LIBPDF_TEST_TMP) + "/pipeline";

std::string contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos ? "" : "'" + part + "' not in: " + text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A small simulated series (256², 4 temperatures 440..470 K), written once for every test.
const libpdf::ExampleFiles& example() {
  static const libpdf::ExampleFiles files = [] {
    libpdf::ExampleOptions o;
    o.out_dir = kTmp + "/example";
    o.size = 256;
    o.t_start_K = 440;
    o.t_stop_K = 470;
    o.t_step_K = 10;
    o.reference = false;
    o.dark_frames = 2;
    o.threads = 2;
    return libpdf::write_example_series(o);
  }();
  return files;
}

// The recipe of the example; relative paths, parsed with the example folder as base.
std::string recipe_text(const std::string& result, const std::string& extra = "") {
  return "[input]\nfile = \"series.h5\"\n"
         "[geometry]\nponi = \"series.poni\"\n"
         "[corrections]\nmask = \"mask.tif\"\ndark = \"dark.h5\"\nflat = \"flat.h5\"\npolarization = 0.99\n"
         "sensor_thickness_m = 0.0006\nsensor_attenuation_length_m = 0.00028\n"
         "[integration]\nnpt = 800\nradial_range = [0.8, 20.0]\n"
         "[sample]\ncomposition = \"La65Co25Al10\"\ndensity = 6.0\n"
         "[reduction]\nnormalization = \"highq\"\nqmin = 1.0\nqmax = 18.0\nrmax = 20.0\nrstep = 0.02\n"
         "window = \"lorch\"\n"
         "[output]\nresult = \"" + result + "\"\n" + extra;
}

libpdf::Recipe example_recipe(const std::string& result, const std::string& extra = "") {
  return libpdf::parse_recipe(recipe_text(result, extra), "test.toml", fs::path(example().series).parent_path().string());
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Recipes

TEST(Recipe, ParsesValuesAndResolvesPathsAgainstItsFolder) {
  const auto r = libpdf::parse_recipe(recipe_text("out/result.h5", "[run]\nthreads = 3\n"), "x.toml", "/data/run1");
  EXPECT_EQ(r.input.file, "/data/run1/series.h5");
  EXPECT_EQ(r.poni, "/data/run1/series.poni");
  EXPECT_EQ(r.output.result, "/data/run1/out/result.h5");
  EXPECT_EQ(r.table_path(), "/data/run1/out/result.csv");
  EXPECT_EQ(r.integration.npt, 800u);
  ASSERT_TRUE(r.integration.radial_range);
  EXPECT_EQ(r.integration.radial_range->hi, 20.0);
  ASSERT_TRUE(r.integration.sensor);
  EXPECT_EQ(r.integration.sensor->thickness_m, 0.0006);
  EXPECT_EQ(r.reduction.composition.formula(), "La65Co25Al10");
  EXPECT_EQ(r.reduction.mass_density, 6.0);
  EXPECT_EQ(r.reduction.window, libpdf::Window::lorch);
  EXPECT_EQ(r.run.threads, 3);
  // Defaults where the recipe is silent come from the options structs.
  EXPECT_EQ(r.reduction.rmin, libpdf::ReductionOptions{}.rmin);
  EXPECT_EQ(r.integration.splitting, libpdf::IntegrationOptions{}.splitting);
}

TEST(Recipe, UnknownKeyNamesSectionLineAndNearestKey) {
  const std::string text = recipe_text("r.h5") + "[integration]\n";  // a second [integration] is a TOML error
  EXPECT_EQ(contains(error_of<libpdf::InvalidArgument>([&] { libpdf::parse_recipe(text, "a.toml"); }), "not valid TOML"),
            "");
  std::string bad = recipe_text("r.h5");
  bad.replace(bad.find("npt = 800"), 9, "npts = 800");
  const std::string m = error_of<libpdf::InvalidArgument>([&] { libpdf::parse_recipe(bad, "run.toml"); });
  EXPECT_EQ(contains(m, "unknown key 'npts' in section [integration] (run.toml:13)"), "");
  EXPECT_EQ(contains(m, "did you mean 'npt'?"), "");
  // A key of another section says where it belongs; an unknown section suggests the near one.
  const std::string m2 = error_of<libpdf::InvalidArgument>(
      [&] { libpdf::parse_recipe(recipe_text("r.h5", "[run]\nnpt = 3\n[reducton]\nqmax = 3.0\n"), "b.toml"); });
  EXPECT_EQ(contains(m2, "unknown key 'npt' in section [run]"), "");
  EXPECT_EQ(contains(m2, "belongs in section [integration]"), "");
  EXPECT_EQ(contains(m2, "unknown section [reducton]"), "");
  EXPECT_EQ(contains(m2, "did you mean [reduction]?"), "");
}

TEST(Recipe, MissingWrongTypeAndOutOfRangeValues) {
  std::string text = recipe_text("r.h5");
  text.erase(text.find("composition = \"La65Co25Al10\"\n"), 29);
  EXPECT_EQ(contains(error_of<libpdf::InvalidArgument>([&] { libpdf::parse_recipe(text, "c.toml"); }),
                     "missing value: [sample] composition is required"),
            "");
  std::string wrong = recipe_text("r.h5");
  wrong.replace(wrong.find("npt = 800"), 9, "npt = \"800\"");
  EXPECT_EQ(contains(error_of<libpdf::InvalidArgument>([&] { libpdf::parse_recipe(wrong, "d.toml"); }),
                     "[integration] npt (d.toml:13): expected an integer"),
            "");
  std::string range = recipe_text("r.h5");
  range.replace(range.find("polarization = 0.99"), 19, "polarization = 1.5");
  const std::string m = error_of<libpdf::InvalidArgument>([&] { libpdf::parse_recipe(range, "e.toml"); });
  EXPECT_EQ(contains(m, "polarization_factor = 1.5 (expected a value in [-1, 1])"), "");
  EXPECT_EQ(contains(m, "[corrections] polarization at e.toml:9"), "");
  EXPECT_EQ(contains(error_of<libpdf::InvalidArgument>(
                         [&] { libpdf::parse_recipe(recipe_text("r.h5", "[metrics]\nagainst = \"time\"\n"), "f.toml"); }),
                     "'time' (expected \"temperature\" or \"frame\")"),
            "");
}

TEST(Recipe, CanonicalTextRoundTrips) {
  const auto r = libpdf::parse_recipe(
      recipe_text("r.h5", "[metrics]\nwatch_q = [4.46, 5.1]\nreference_frame = 2\n"), "g.toml", "/d");
  const std::string text = libpdf::to_toml(r);
  const auto back = libpdf::parse_recipe(text, "canonical", "/elsewhere");
  EXPECT_EQ(libpdf::to_toml(back), text);
  EXPECT_EQ(back.input.file, "/d/series.h5");
  ASSERT_TRUE(back.metrics.watch_q);
  EXPECT_EQ(*back.metrics.watch_q, (std::vector<double>{4.46, 5.1}));
  EXPECT_EQ(back.reduction.qmax, r.reduction.qmax);
  // The template parses and names every key.
  const auto t = libpdf::parse_recipe(libpdf::recipe_template(), "template", "/t");
  EXPECT_EQ(t.input.file, "/t/series.h5");
  for (const std::string& key : libpdf::recipe_keys()) {
    EXPECT_NE(libpdf::recipe_template().find(key.substr(key.find('.') + 1) + " = "), std::string::npos) << key;
  }
}

// ---------------------------------------------------------------------------------------------------
// The series run

TEST(SeriesRun, EqualsASerialReductionForAnyThreadCount) {
  const auto& ex = example();
  // The serial reference: its own plan and reduce() per frame.
  const auto recipe = example_recipe(kTmp + "/unused.h5");
  libpdf::Corrections corr;
  corr.mask = libpdf::read_mask(ex.mask);
  corr.dark = libpdf::read_dark(ex.dark).pixels;
  const auto flat = libpdf::open_frames(ex.flat)->read(0).to_double();
  corr.flat.assign(flat.begin(), flat.end());
  const auto frames = libpdf::open_frames(ex.series);
  const libpdf::Integrator plan(libpdf::Geometry(libpdf::read_poni(ex.poni), frames->rows(), frames->cols()),
                                recipe.integration, corr);
  std::vector<libpdf::ReductionResult> serial;
  for (std::size_t k = 0; k < frames->size(); ++k) {
    serial.push_back(libpdf::reduce(libpdf::reduction_input(plan.integrate(frames->read(k).view())), recipe.reduction));
  }
  libpdf::MetricsOptions mo;
  const auto ref_input = libpdf::metrics_input(serial[0]);
  for (int threads : {1, 3}) {
    const std::string out = kTmp + "/threads" + std::to_string(threads) + ".h5";
    fs::remove(out);
    libpdf::SeriesRunOptions opt;
    opt.threads = threads;
    std::size_t calls = 0;
    libpdf::SeriesCallbacks cb;
    cb.progress = [&](const libpdf::SeriesProgress& p) {
      ++calls;
      EXPECT_EQ(p.done, calls);
      EXPECT_EQ(p.total, 4u);
      EXPECT_EQ(p.temperature_K, 440.0 + 10.0 * static_cast<double>(p.frame));
      return true;
    };
    const auto summary = libpdf::run_series(example_recipe(out), cb, opt);
    EXPECT_EQ(summary.written, 4u);
    EXPECT_LE(summary.max_frames_held, summary.frames_in_flight);
    const auto r = libpdf::read_nexus_result(out);
    ASSERT_EQ(r.frames, 4u);
    EXPECT_EQ(r.temperature_K, (std::vector<double>{440, 450, 460, 470}));
    EXPECT_NE(r.recipe_text.find("[reduction]"), std::string::npos);
    const std::size_t nq = r.pdf_q.size(), nr = r.pdf_r.size(), nm = r.metric_names.size();
    ASSERT_EQ(nm, libpdf::metric_names(mo).size());
    for (std::size_t k = 0; k < 4; ++k) {
      const auto& s = serial[k];
      const auto row = [](const std::vector<double>& v, std::size_t i, std::size_t n) {
        return std::vector<double>(v.begin() + static_cast<std::ptrdiff_t>(i * n),
                                   v.begin() + static_cast<std::ptrdiff_t>((i + 1) * n));
      };
      EXPECT_TRUE(same_bits(row(r.intensity, k, r.radial.size()), plan.integrate(frames->read(k).view()).intensity));
      EXPECT_TRUE(same_bits(row(r.sq, k, nq), s.sq)) << "frame " << k << ", " << threads << " threads";
      EXPECT_TRUE(same_bits(row(r.gr, k, nr), s.gr)) << "frame " << k << ", " << threads << " threads";
      const auto table = libpdf::metrics_table(libpdf::compute_metrics(libpdf::metrics_input(s), mo, &ref_input));
      for (std::size_t j = 0; j < nm; ++j) {
        const double a = r.metrics[k * nm + j], b = table[j].second;
        EXPECT_TRUE((std::isnan(a) && std::isnan(b)) || a == b) << table[j].first << " frame " << k;
      }
    }
    // The table: the version line, the header, one row per frame in order.
    const std::string csv = read_file(summary.table_path);
    EXPECT_EQ(csv.rfind(std::string("# libpdf ") + libpdf::version() + ",", 0), 0u) << csv.substr(0, 80);
    EXPECT_EQ(csv.find("\nframe,temperature_K,q1,"), csv.find('\n')) << csv.substr(0, 120);
    EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6);
  }
}

TEST(SeriesRun, InterruptedThenResumedEqualsAnUninterruptedRun) {
  const std::string full = kTmp + "/full.h5", cut = kTmp + "/cut.h5";
  fs::remove(full);
  fs::remove(cut);
  libpdf::SeriesRunOptions opt;
  opt.threads = 2;
  const auto whole = libpdf::run_series(example_recipe(full), {}, opt);
  libpdf::SeriesCallbacks stop_after_two;
  stop_after_two.progress = [](const libpdf::SeriesProgress& p) { return p.done < 2; };
  const auto first = libpdf::run_series(example_recipe(cut), stop_after_two, opt);
  EXPECT_TRUE(first.cancelled);
  EXPECT_EQ(first.written, 2u);
  EXPECT_EQ(libpdf::read_nexus_result(cut).frames, 2u);
  const auto second = libpdf::run_series(example_recipe(cut), {}, opt);
  EXPECT_TRUE(second.resumed);
  EXPECT_EQ(second.skipped, 2u);
  EXPECT_EQ(second.written, 2u);
  const auto a = libpdf::read_nexus_result(full), b = libpdf::read_nexus_result(cut);
  EXPECT_EQ(a.frame_index, b.frame_index);
  EXPECT_TRUE(same_bits(a.intensity, b.intensity));
  EXPECT_TRUE(same_bits(a.gr, b.gr));
  EXPECT_TRUE(same_bits(a.sq, b.sq));
  EXPECT_EQ(a.temperature_K, b.temperature_K);
  ASSERT_EQ(a.metrics.size(), b.metrics.size());
  for (std::size_t i = 0; i < a.metrics.size(); ++i) {
    EXPECT_TRUE((std::isnan(a.metrics[i]) && std::isnan(b.metrics[i])) || a.metrics[i] == b.metrics[i]);
  }
  EXPECT_EQ(read_file(whole.table_path), read_file(second.table_path));
  // A third run has nothing to do and leaves everything as it is.
  const auto third = libpdf::run_series(example_recipe(cut), {}, opt);
  EXPECT_EQ(third.written, 0u);
  EXPECT_EQ(read_file(whole.table_path), read_file(third.table_path));
}

TEST(SeriesRun, BadInputFailsBeforeAnythingIsWritten) {
  const auto& ex = example();
  // A mask of another shape.
  libpdf::ExampleOptions small;
  small.out_dir = kTmp + "/small";
  small.size = 128;
  small.t_start_K = 300;
  small.t_stop_K = 300;
  small.reference = false;
  small.dark_frames = 1;
  const auto other = libpdf::write_example_series(small);
  const std::string out = kTmp + "/bad.h5";
  fs::remove(out);
  std::string text = recipe_text(out);
  text.replace(text.find("mask.tif"), 8, other.mask);
  const auto m = error_of<libpdf::InvalidArgument>([&] {
    libpdf::SeriesRun(libpdf::parse_recipe(text, "m.toml", fs::path(ex.series).parent_path().string()));
  });
  EXPECT_EQ(contains(m, "[corrections] mask: " + other.mask + " is 128 x 128 pixels"), "");
  EXPECT_EQ(contains(m, "the frames are 256 x 256"), "");
  EXPECT_FALSE(fs::exists(out));
  // Frames without temperatures, metrics asked against temperature.
  std::string no_t = recipe_text(out);
  no_t.replace(no_t.find("\"series.h5\""), 11, "\"flat.h5\"");
  const auto m2 = error_of<libpdf::InvalidArgument>([&] {
    libpdf::SeriesRun(libpdf::parse_recipe(no_t, "t.toml", fs::path(ex.series).parent_path().string()));
  });
  EXPECT_EQ(contains(m2, "[metrics] against = \"temperature\""), "");
  EXPECT_EQ(contains(m2, "has no sample temperatures"), "");
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(kTmp + "/bad.csv"));
}
