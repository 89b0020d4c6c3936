#pragma once
/// @file scattering.hpp
/// Elements, sample compositions and X-ray scattering factors (docs/conventions.md §2, docs/pdf.md).
///
/// - Elements H (Z = 1) to U (Z = 92): symbol, Z and standard atomic weight (IUPAC/CIAAW 2021).
/// - Compositions parsed from formulas such as `La65Co25Al10`, `Mg2SiO4`, `Pd40Ni40P20`, `(TiZr)0.5O`,
///   `La0.65Co0.25Al0.1`; atomic fractions c_a normalised to 1.
/// - Coherent atomic form factors f₀(q) of the neutral atoms: Waasmaier & Kirfel, Acta Cryst. A51 (1995)
///   416, five Gaussians plus a constant in s = sin θ/λ = q/4π (1/Å), valid for s ≤ 6 1/Å (q ≤ 75.4 1/Å).
/// - Incoherent (Compton) scattering functions S_inc(q): Hubbell et al. (1975) as served by xraylib
///   (`SF_Compt(Z, x)`, x = q/4π), with S_inc(0) = 0.
/// - Per-atom averages over a composition: ⟨f²⟩ = Σ c_a f_a², ⟨f⟩² = (Σ c_a f_a)², I_inc = Σ c_a S_inc,a.
/// All q are in 1/Å. Every function is thread-safe.
#include <cstddef>
#include <string>
#include <vector>

#include "libpdf/export.hpp"

namespace libpdf {

/// An element of the periodic table.
struct Element {
  int Z = 0;                ///< Atomic number.
  const char* symbol = "";  ///< Chemical symbol, e.g. "La".
  double mass = 0;          ///< Standard atomic weight in g/mol (IUPAC 2021; see docs/pdf.md).
};

/// Largest atomic number libpdf knows (uranium).
inline constexpr int max_atomic_number = 92;

/// The element with atomic number @p Z (1..92). @throws InvalidArgument otherwise.
LIBPDF_API const Element& element(int Z);
/// The element with chemical symbol @p symbol (case-sensitive: "Co", not "CO").
/// @throws InvalidArgument naming the symbol when it is not an element H..U.
LIBPDF_API const Element& element(const std::string& symbol);

/// One element of a composition.
struct Component {
  int Z = 0;            ///< Atomic number.
  double amount = 0;    ///< Amount as written in the formula (after expanding parentheses).
  double fraction = 0;  ///< Atomic fraction c_a = amount / Σ amounts.
};

/// A sample composition: elements with atomic fractions summing to 1.
class LIBPDF_API Composition {
 public:
  /// An empty composition (no element); reduce() rejects it.
  Composition() = default;
  /// Parses a formula: element symbols each followed by an optional amount (integer or decimal, optionally
  /// with a lower-case exponent as in "1e-5", which normalized_formula() writes for tiny fractions; default
  /// 1); parentheses (nested at most 32 deep) group elements and multiply them by the amount after ")";
  /// spaces are ignored; an element that appears twice is merged. Examples: "La65Co25Al10", "Mg2SiO4",
  /// "(TiZr)0.5O", "La0.65 Co0.25 Al0.1". @throws InvalidArgument for an unknown element, an empty formula,
  /// unbalanced parentheses, a malformed number, amounts whose product or sum is not finite, or a zero sum
  /// of amounts (the message shows where).
  explicit Composition(const std::string& formula);

  /// The formula as given.
  const std::string& formula() const { return formula_; }
  /// Elements in order of first appearance.
  const std::vector<Component>& components() const { return components_; }
  /// Whether the composition has no element.
  bool empty() const { return components_.empty(); }
  /// Mean atomic mass ⟨M⟩ = Σ c_a M_a in g/mol.
  double mean_mass() const;
  /// The fractions as a formula with 6 significant digits, e.g. "Mg0.285714Si0.142857O0.571429".
  std::string normalized_formula() const;

 private:
  std::string formula_;
  std::vector<Component> components_;
};

/// Avogadro's number in units that turn g/cm³ and g/mol into atoms/Å³: 6.02214076e23 / 1e24.
inline constexpr double avogadro_per_A3 = 0.602214076;

/// Number density ρ₀ (atoms/Å³) = 0.602214076·ρ[g/cm³]/⟨M⟩[g/mol]. @throws InvalidArgument if ρ is
/// not finite and > 0 or the composition is empty.
LIBPDF_API double number_density_from_mass_density(double mass_density_g_cm3, const Composition& composition);
/// Mass density ρ (g/cm³) = ρ₀·⟨M⟩/0.602214076 (inverse of number_density_from_mass_density).
LIBPDF_API double mass_density_from_number_density(double number_density_per_A3, const Composition& composition);

/// Largest q (1/Å) at which the Waasmaier–Kirfel fits are valid: s = q/4π ≤ 6 1/Å.
inline constexpr double waasmaier_kirfel_qmax = 75.39822368615503;  // 4π·6

/// Waasmaier–Kirfel f₀(q) of the neutral atom @p Z (electrons), q in 1/Å.
/// @throws InvalidArgument for Z outside 1..92 or q outside [0, waasmaier_kirfel_qmax].
LIBPDF_API double form_factor(int Z, double q);
/// The 11 published coefficients of element @p Z in the table's order a1..a5, c, b1..b5
/// (f₀ = Σ a_i exp(−b_i s²) + c, s in 1/Å, b_i in Å²).
LIBPDF_API std::vector<double> waasmaier_kirfel_coefficients(int Z);

/// Incoherent (Compton) scattering function S_inc(q) of the neutral atom @p Z from xraylib (electrons;
/// → Z at high q), q in 1/Å; 0 at q = 0 (xraylib is undefined there).
/// @throws InvalidArgument for Z outside 1..92 or q < 0 or not finite; NumericalError with xraylib's
/// message if xraylib fails.
LIBPDF_API double compton(int Z, double q);

/// Composition averages on a q grid.
struct ScatteringFactors {
  std::vector<double> q;          ///< The grid (1/Å).
  std::vector<double> f2_mean;    ///< ⟨f²⟩ = Σ c_a f_a(q)²
  std::vector<double> f_mean_sq;  ///< ⟨f⟩² = (Σ c_a f_a(q))²
  std::vector<double> compton;    ///< I_inc = Σ c_a S_inc,a(q)
};

/// ⟨f²⟩, ⟨f⟩² and I_inc of @p composition at every q of @p q (any order, any spacing).
/// @throws InvalidArgument for an empty composition or a q outside [0, waasmaier_kirfel_qmax].
LIBPDF_API ScatteringFactors scattering_factors(const Composition& composition, const std::vector<double>& q);

}  // namespace libpdf
