// Composition formulas: parsing, atomic fractions, mean mass and density conversions.
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "libpdf/error.hpp"
#include "libpdf/scattering.hpp"

namespace libpdf {
namespace {

// A recursive-descent parser of  formula := item*,  item := (Symbol | "(" formula ")") amount?,
// amount := (digits ["." digits] | "." digits) ["e" ["+"|"-"] digits]. Spaces between items are skipped.
// The exponent (lower-case 'e' only: "Er", "Es", "Eu" are elements) is what normalized_formula() prints for
// fractions below 1e-4, so the formulas libpdf writes into headers read back.
class FormulaParser {
 public:
  explicit FormulaParser(const std::string& text) : text_(text) {}

  std::vector<std::pair<int, double>> parse() {
    auto items = parse_list(0);
    skip_spaces();
    if (pos_ < text_.size()) fail("unexpected ')' without a matching '('");
    return items;
  }

 private:
  [[noreturn]] void fail(const std::string& what, const std::string& hint = "") const {
    throw InvalidArgument("composition '" + text_ + "': " + what + " at position " + std::to_string(pos_ + 1) +
                          (hint.empty() ? "" : " (" + hint + ")"));
  }

  void skip_spaces() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  std::vector<std::pair<int, double>> parse_list(int depth) {
    std::vector<std::pair<int, double>> items;
    for (;;) {
      skip_spaces();
      if (pos_ >= text_.size()) {
        if (depth > 0) fail("missing ')'");
        return items;
      }
      const char c = text_[pos_];
      if (c == ')') {
        if (depth == 0) fail("unexpected ')' without a matching '('");
        return items;
      }
      std::vector<std::pair<int, double>> group;
      if (c == '(') {
        // Real formulas nest two or three levels; the limit keeps a hostile string from exhausting the stack.
        if (depth >= kMaxDepth) fail("parentheses nested deeper than " + std::to_string(kMaxDepth));
        ++pos_;
        group = parse_list(depth + 1);
        if (group.empty()) fail("empty parentheses");
        ++pos_;  // the ')'
      } else if (std::isupper(static_cast<unsigned char>(c))) {
        std::string symbol(1, c);
        ++pos_;
        if (pos_ < text_.size() && std::islower(static_cast<unsigned char>(text_[pos_]))) symbol += text_[pos_++];
        const std::size_t at = pos_ - symbol.size();
        try {
          group.emplace_back(element(symbol).Z, 1.0);
        } catch (const InvalidArgument&) {
          pos_ = at;
          fail("unknown element '" + symbol + "'",
               "symbols H to U with the case of the periodic table: 'Co' is cobalt, 'CO' carbon and oxygen");
        }
      } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
        fail("a number must follow an element or ')'");
      } else if (std::islower(static_cast<unsigned char>(c))) {
        fail(std::string("element symbols start with a capital letter, found '") + c + "'");
      } else {
        fail(std::string("unexpected character '") + c + "'");
      }
      const std::size_t amount_at = pos_;
      const double amount = parse_amount();
      for (auto& [Z, n] : group) {
        // Amounts multiplied through nested groups can overflow: an infinite amount would make every
        // fraction NaN.
        if (!std::isfinite(n * amount)) {
          pos_ = amount_at;
          fail("amount too large (the product of the nested amounts is not a finite number)");
        }
        items.emplace_back(Z, n * amount);
      }
    }
  }

  // An optional non-negative amount right after the element or ')'; 1 when absent.
  double parse_amount() {
    const std::size_t start = pos_;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.')) ++pos_;
    if (pos_ == start) return 1.0;
    // An exponent only when digits follow it: "Fe1e-3Ni" is 0.001 Fe; a lone 'e' stays an error below.
    if (pos_ < text_.size() && text_[pos_] == 'e') {
      std::size_t k = pos_ + 1;
      if (k < text_.size() && (text_[k] == '+' || text_[k] == '-')) ++k;
      if (k < text_.size() && std::isdigit(static_cast<unsigned char>(text_[k]))) {
        pos_ = k;
        while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) ++pos_;
      }
    }
    const std::string number = text_.substr(start, pos_ - start);
    double value = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size() || !std::isfinite(value)) {
      pos_ = start;
      fail("malformed amount '" + number + "'");
    }
    return value;
  }

  static constexpr int kMaxDepth = 32;
  const std::string& text_;
  std::size_t pos_ = 0;
};

}  // namespace

Composition::Composition(const std::string& formula) : formula_(formula) {
  bool blank = true;
  for (char c : formula) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (blank) throw InvalidArgument("composition is empty (expected a formula such as 'Mg2SiO4' or 'La65Co25Al10')");
  const auto items = FormulaParser(formula).parse();
  double total = 0;
  for (const auto& [Z, n] : items) {
    total += n;
    bool merged = false;
    for (auto& c : components_) {
      if (c.Z == Z) {
        c.amount += n;
        merged = true;
      }
    }
    if (!merged) components_.push_back(Component{Z, n, 0.0});
  }
  if (!std::isfinite(total)) {
    throw InvalidArgument("composition '" + formula + "': the amounts sum to " + std::to_string(total) +
                          " (expected a finite sum)");
  }
  if (!(total > 0)) {
    throw InvalidArgument("composition '" + formula + "': the amounts sum to zero (expected at least one amount > 0)");
  }
  for (auto& c : components_) c.fraction = c.amount / total;
}

double Composition::mean_mass() const {
  double m = 0;
  for (const auto& c : components_) m += c.fraction * element(c.Z).mass;
  return m;
}

std::string Composition::normalized_formula() const {
  std::string s;
  char buf[32];
  for (const auto& c : components_) {
    std::snprintf(buf, sizeof buf, "%.6g", c.fraction);
    s += element(c.Z).symbol;
    s += buf;
  }
  return s;
}

namespace {
std::string num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}
}  // namespace

double number_density_from_mass_density(double mass_density_g_cm3, const Composition& composition) {
  if (!(mass_density_g_cm3 > 0) || !std::isfinite(mass_density_g_cm3)) {
    throw InvalidArgument("mass density = " + num(mass_density_g_cm3) + " g/cm^3 (expected a finite value > 0)");
  }
  if (composition.empty()) throw InvalidArgument("composition is empty: the mean atomic mass is undefined");
  return avogadro_per_A3 * mass_density_g_cm3 / composition.mean_mass();
}

double mass_density_from_number_density(double number_density_per_A3, const Composition& composition) {
  if (!(number_density_per_A3 > 0) || !std::isfinite(number_density_per_A3)) {
    throw InvalidArgument("number density = " + num(number_density_per_A3) +
                          " atoms/A^3 (expected a finite value > 0)");
  }
  if (composition.empty()) throw InvalidArgument("composition is empty: the mean atomic mass is undefined");
  return number_density_per_A3 * composition.mean_mass() / avogadro_per_A3;
}

}  // namespace libpdf
