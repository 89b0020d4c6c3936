// Elements H..U: symbol, Z and standard atomic weight.
//
// Source of the masses: IUPAC Commission on Isotopic Abundances and Atomic Weights (CIAAW), Standard Atomic
// Weights 2021 (Pure Appl. Chem. 2022), in g/mol. For the elements whose standard weight is an interval
// (H, Li, B, C, N, O, Mg, Si, S, Cl, Ar, Br, Tl, Pb) the CIAAW "conventional" / abridged value is used.
// For the elements without stable isotopes (Tc, Pm, Po, At, Rn, Fr, Ra, Ac) the mass number of the
// longest-lived isotope is given, as in the IUPAC periodic table; Th, Pa and U have standard weights.
// Cross-checked against xraylib's AtomicWeight() in tests/test_scattering.cpp (xraylib's values are older).
#include <array>
#include <string>

#include "libpdf/error.hpp"
#include "libpdf/scattering.hpp"
#include "libpdf/scattering/tables.hpp"

namespace libpdf {
namespace detail {

const std::array<Element, 92>& element_table() {
  // clang-format off
  static const std::array<Element, 92> table = {{
      {1, "H", 1.008},          {2, "He", 4.002602},      {3, "Li", 6.94},          {4, "Be", 9.0121831},
      {5, "B", 10.81},          {6, "C", 12.011},         {7, "N", 14.007},         {8, "O", 15.999},
      {9, "F", 18.998403162},   {10, "Ne", 20.1797},      {11, "Na", 22.98976928},  {12, "Mg", 24.305},
      {13, "Al", 26.9815384},   {14, "Si", 28.085},       {15, "P", 30.973761998},  {16, "S", 32.06},
      {17, "Cl", 35.45},        {18, "Ar", 39.95},        {19, "K", 39.0983},       {20, "Ca", 40.078},
      {21, "Sc", 44.955907},    {22, "Ti", 47.867},       {23, "V", 50.9415},       {24, "Cr", 51.9961},
      {25, "Mn", 54.938043},    {26, "Fe", 55.845},       {27, "Co", 58.933194},    {28, "Ni", 58.6934},
      {29, "Cu", 63.546},       {30, "Zn", 65.38},        {31, "Ga", 69.723},       {32, "Ge", 72.630},
      {33, "As", 74.921595},    {34, "Se", 78.971},       {35, "Br", 79.904},       {36, "Kr", 83.798},
      {37, "Rb", 85.4678},      {38, "Sr", 87.62},        {39, "Y", 88.905838},     {40, "Zr", 91.222},
      {41, "Nb", 92.90637},     {42, "Mo", 95.95},        {43, "Tc", 98.0},         {44, "Ru", 101.07},
      {45, "Rh", 102.90549},    {46, "Pd", 106.42},       {47, "Ag", 107.8682},     {48, "Cd", 112.414},
      {49, "In", 114.818},      {50, "Sn", 118.710},      {51, "Sb", 121.760},      {52, "Te", 127.60},
      {53, "I", 126.90447},     {54, "Xe", 131.293},      {55, "Cs", 132.90545196}, {56, "Ba", 137.327},
      {57, "La", 138.90547},    {58, "Ce", 140.116},      {59, "Pr", 140.90766},    {60, "Nd", 144.242},
      {61, "Pm", 145.0},        {62, "Sm", 150.36},       {63, "Eu", 151.964},      {64, "Gd", 157.249},
      {65, "Tb", 158.925354},   {66, "Dy", 162.500},      {67, "Ho", 164.930329},   {68, "Er", 167.259},
      {69, "Tm", 168.934219},   {70, "Yb", 173.045},      {71, "Lu", 174.9668},     {72, "Hf", 178.486},
      {73, "Ta", 180.94788},    {74, "W", 183.84},        {75, "Re", 186.207},      {76, "Os", 190.23},
      {77, "Ir", 192.217},      {78, "Pt", 195.084},      {79, "Au", 196.966570},   {80, "Hg", 200.592},
      {81, "Tl", 204.38},       {82, "Pb", 207.2},        {83, "Bi", 208.98040},    {84, "Po", 209.0},
      {85, "At", 210.0},        {86, "Rn", 222.0},        {87, "Fr", 223.0},        {88, "Ra", 226.0},
      {89, "Ac", 227.0},        {90, "Th", 232.0377},     {91, "Pa", 231.03588},    {92, "U", 238.02891},
  }};
  // clang-format on
  return table;
}

}  // namespace detail

const Element& element(int Z) {
  if (Z < 1 || Z > max_atomic_number) {
    throw InvalidArgument("atomic number Z = " + std::to_string(Z) +
                          " is not an element libpdf knows (expected 1..92, H..U)");
  }
  return detail::element_table()[static_cast<std::size_t>(Z - 1)];
}

const Element& element(const std::string& symbol) {
  for (const auto& e : detail::element_table()) {
    if (symbol == e.symbol) return e;
  }
  throw InvalidArgument("unknown element '" + symbol +
                        "' (expected a chemical symbol from H to U, with the case of the periodic table, e.g. 'Co')");
}

}  // namespace libpdf
