// Fuzz target: HDF5/NeXus discovery and metadata on small generated files. The fuzz input does not hold HDF5
// bytes (mutating those would mostly fuzz the HDF5 library, which is not ours to fix); it drives a generator
// that writes a NeXus-like tree with mutated attributes and shapes: @default / @signal / @NX_class pointing
// anywhere or nowhere, datasets of any rank 0..4 and small extents (including 0), integer, float and string
// types, chunking and deflate, soft / external / dangling links, hard links back to an ancestor (cycles),
// and metadata fields (wavelength, energy, distance, pixel size, beam centre, temperature, ...) with values
// of any type and made-up units. Then open_frames (discovery), reading frames, read_metadata,
// frames_storage and read_mask_image run on it. Invariant: only libpdf::Error escapes, and a frame that
// reads has the shape its source announced.
#include <fuzzer/FuzzedDataProvider.h>
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.hpp"
#include "libpdf/error.hpp"
#include "libpdf/io.hpp"

namespace {

// Names the generator picks from: the ones discovery and metadata look for, plus junk.
const char* const kNames[] = {"entry", "data", "instrument", "detector", "beam", "monochromator", "sample",
                              "detectorSpecific", "collection", "pixel_mask", "x", "", "..", "a/b", "."};
const char* const kClasses[] = {"NXentry", "NXdata", "NXinstrument", "NXdetector", "NXbeam", "NXmonochromator",
                                "NXsample", "NXcollection", "NXroot", "", "NXnope"};
const char* const kFields[] = {"incident_wavelength", "wavelength", "incident_energy", "energy", "photon_energy",
                               "beam_energy", "distance", "detector_distance", "x_pixel_size", "y_pixel_size",
                               "beam_center_x", "beam_center_y", "count_time", "frame_time", "bit_depth_image",
                               "bit_depth_readout", "sensor_material", "sensor_thickness", "temperature",
                               "description", "translation", "data"};
const char* const kUnits[] = {"m", "mm", "um", "angstrom", "A", "nm", "keV", "eV", "J", "s", "ms", "K", "C", "pixel",
                              "deg", "rad", "", "furlong", "1/angstrom", "\xc3\x85", "\xc2\xb5m"};

template <std::size_t N>
const char* pick(FuzzedDataProvider& in, const char* const (&table)[N]) {
  return table[in.ConsumeIntegralInRange<std::size_t>(0, N - 1)];
}

std::string name_of(FuzzedDataProvider& in) {
  // Mostly a known name; sometimes arbitrary bytes (HDF5 rejects '/' and empty names: that is its business).
  if (in.ConsumeIntegralInRange<int>(0, 7) == 0) return in.ConsumeRandomLengthString(12);
  return pick(in, kNames);
}

void string_attr(hid_t obj, const char* name, const std::string& value) {
  const hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, value.empty() ? 1 : value.size());
  const hid_t s = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, t, value.c_str());
    H5Aclose(a);
  }
  H5Sclose(s);
  H5Tclose(t);
}

void numeric_attr(hid_t obj, const char* name, double value) {
  const hid_t s = H5Screate(H5S_SCALAR);
  const hid_t a = H5Acreate2(obj, name, H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
  if (a >= 0) {
    H5Awrite(a, H5T_NATIVE_DOUBLE, &value);
    H5Aclose(a);
  }
  H5Sclose(s);
}

hid_t element_type(int which) {
  switch (which) {
    case 0: return H5T_NATIVE_UINT16;
    case 1: return H5T_NATIVE_INT16;
    case 2: return H5T_NATIVE_UINT32;
    case 3: return H5T_NATIVE_INT32;
    case 4: return H5T_NATIVE_FLOAT;
    case 5: return H5T_NATIVE_DOUBLE;
    case 6: return H5T_NATIVE_UINT8;
    case 7: return H5T_NATIVE_INT64;
    default: return H5T_NATIVE_UINT64;
  }
}

// A dataset of fuzzed rank, extents, type and storage, filled from the input (the rest zero).
void make_dataset(FuzzedDataProvider& in, hid_t parent, const std::string& name) {
  if (in.ConsumeIntegralInRange<int>(0, 5) == 0) {  // a string dataset, e.g. a description or a unit mix-up
    const std::string v = in.ConsumeRandomLengthString(16);
    const hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, v.empty() ? 1 : v.size());
    const hid_t s = H5Screate(H5S_SCALAR);
    const hid_t d = H5Dcreate2(parent, name.c_str(), t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (d >= 0) {
      H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.c_str());
      string_attr(d, "units", pick(in, kUnits));
      H5Dclose(d);
    }
    H5Sclose(s);
    H5Tclose(t);
    return;
  }
  const int rank = in.ConsumeIntegralInRange<int>(0, 4);
  hsize_t dims[4] = {1, 1, 1, 1};
  hsize_t n = 1;
  for (int k = 0; k < rank; ++k) {
    dims[k] = in.ConsumeIntegralInRange<hsize_t>(0, 6);
    n *= dims[k];
  }
  const hid_t type = element_type(in.ConsumeIntegralInRange<int>(0, 8));
  const hid_t space = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (rank > 0 && n > 0 && in.ConsumeBool()) {
    hsize_t chunk[4];
    for (int k = 0; k < rank; ++k) chunk[k] = in.ConsumeIntegralInRange<hsize_t>(1, dims[k]);
    H5Pset_chunk(dcpl, rank, chunk);
    if (in.ConsumeBool()) H5Pset_deflate(dcpl, 1);
  }
  const hid_t d = H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (d >= 0) {
    if (n > 0 && in.ConsumeBool()) {
      std::vector<double> v(static_cast<std::size_t>(n), 0.0);
      for (double& x : v) {
        // Integers, with extremes, NaN and Inf sometimes (converted by HDF5 to the stored type).
        switch (in.ConsumeIntegralInRange<int>(0, 4)) {
          case 0: x = in.ConsumeFloatingPoint<double>(); break;
          case 1: x = -1; break;
          default: x = in.ConsumeIntegralInRange<int>(0, 70000); break;
        }
      }
      H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    }
    if (in.ConsumeBool()) string_attr(d, "units", pick(in, kUnits));
    if (in.ConsumeIntegralInRange<int>(0, 3) == 0) numeric_attr(d, "units", in.ConsumeFloatingPoint<double>());
    H5Dclose(d);
  }
  H5Pclose(dcpl);
  H5Sclose(space);
}

// LIBPDF_FUZZ_NO_CYCLES=1 leaves cycles (hard links to an ancestor, soft links to the group's own path) out, to look for other findings while a known cycle
// finding (fuzz/regressions/fuzz_hdf5/hard_link_cycle_timeout) is not fixed yet.
bool cycles_allowed() {
  static const bool allowed = std::getenv("LIBPDF_FUZZ_NO_CYCLES") == nullptr;
  return allowed;
}

// A group with NeXus attributes and up to a few members; recursion bounded by the depth argument.
void make_group(FuzzedDataProvider& in, hid_t parent, const std::string& name, const std::string& path, int depth) {
  const hid_t g = H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0) return;
  if (in.ConsumeBool()) string_attr(g, "NX_class", pick(in, kClasses));
  if (in.ConsumeBool()) string_attr(g, "default", name_of(in));
  if (in.ConsumeBool()) string_attr(g, "signal", name_of(in));
  const int members = in.ConsumeIntegralInRange<int>(0, depth > 3 ? 1 : 4);
  for (int m = 0; m < members && in.remaining_bytes() > 0; ++m) {
    const std::string child = in.ConsumeBool() ? name_of(in) : std::string(pick(in, kFields));
    switch (in.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
      case 1: make_group(in, g, child, path + "/" + child, depth + 1); break;
      case 2:  // soft link, dangling or not
        // (a soft link to this group's own path is a cycle too)
        H5Lcreate_soft(in.ConsumeBool() && cycles_allowed() ? path.c_str() : "/entry/data/data", g, child.c_str(),
                       H5P_DEFAULT, H5P_DEFAULT);
        break;
      case 3:  // external link to a file that does not exist, or to this very file
        H5Lcreate_external(in.ConsumeBool() ? "missing.h5" : "", "/entry", g, child.c_str(), H5P_DEFAULT,
                           H5P_DEFAULT);
        break;
      case 4:  // a hard link to an ancestor: a cycle in the tree
        if (!cycles_allowed()) break;
        H5Lcreate_hard(g, in.ConsumeBool() ? "." : "/", g, child.c_str(), H5P_DEFAULT, H5P_DEFAULT);
        break;
      default: make_dataset(in, g, child); break;
    }
  }
  H5Gclose(g);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // the generator's own failures are expected, not news
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string path = libpdf::fuzz::scratch_path(".h5");
  FuzzedDataProvider in(data, size);
  {
    const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (f < 0) std::abort();
    if (in.ConsumeBool()) string_attr(f, "default", name_of(in));
    const int tops = in.ConsumeIntegralInRange<int>(1, 3);
    for (int t = 0; t < tops && in.remaining_bytes() > 0; ++t) {
      const std::string n = name_of(in);
      if (in.ConsumeIntegralInRange<int>(0, 3) == 0) {
        make_dataset(in, f, n);
      } else {
        make_group(in, f, n, "/" + n, 0);
      }
    }
    H5Fclose(f);
  }
  try {
    const std::unique_ptr<libpdf::FrameSource> src = libpdf::open_frames(path);
    for (std::size_t k = 0; k < src->size() && k < 3; ++k) {
      const libpdf::Image img = src->read(k);
      if (img.rows() != src->rows() || img.cols() != src->cols()) std::abort();
    }
    (void)src->describe();
  } catch (const libpdf::Error&) {
  }
  try {
    const libpdf::FileMetadata md = libpdf::read_metadata(path);
    if (md.wavelength_A) (void)md.require_wavelength_A();
  } catch (const libpdf::Error&) {
  }
  try {
    (void)libpdf::frames_storage(path);
  } catch (const libpdf::Error&) {
  }
  try {
    const libpdf::MaskImage m = libpdf::read_mask_image(path);
    if (m.values.size() != m.rows * m.cols) std::abort();
  } catch (const libpdf::Error&) {
  }
  return 0;
}
