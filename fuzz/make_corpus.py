#!/usr/bin/env python3
"""Seed corpus of the libpdf fuzz targets: one folder per target under OUT.

Seeds come from the real data beside the clone (../shared/data/real: PONI files, the heads of measured .xy
patterns, the Lambda mask TIFF) and from small inputs written here that reach the other branches of each
parser (PONI v1/v2/v2.1, Fit2D .chi and PDFgetX3 .gr headers, TIFFs of every sample type, strips and tiles,
both byte orders, several pages). Everything is deterministic, so two runs give the same corpus.

usage: make_corpus.py OUT [--data DIR]
"""
import argparse
import pathlib
import random
import struct

HERE = pathlib.Path(__file__).resolve().parent


def write(folder, name, data):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def head(path, lines):
    """The first lines of a text file: enough for the header and some rows, small enough to mutate fast."""
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(lines))


PONI_V21 = """# Nota: C-Order, 1 refers to the Y axis, 2 to the X axis
poni_version: 2.1
Detector: Detector
Detector_config: {"pixel1": 0.0002, "pixel2": 0.0002, "max_shape": [2048, 2048], "orientation": 3}
Distance: 0.25
Poni1: 0.2
Poni2: 0.21
Rot1: 0.01
Rot2: -0.02
Rot3: 0.0
Wavelength: 2.0664e-11
"""

PONI_V2 = """poni_version: 2
Detector: Pilatus1M
Detector_config: {}
Distance: 0.2
Poni1: 0.08
Poni2: 0.07
Rot1: 0
Rot2: 0
Rot3: 0
Wavelength: 4.066e-11
"""

FORMULAS = ["La65Co25Al10", "Mg2SiO4", "(TiZr)0.5O", "La0.65 Co0.25 Al0.1", "Pd40Ni40P20", "H2O", "U",
            "Ca(OH)2", "((SiO2)3(Al2O3))0.5Na", "C60", "Fe1e-3Ni", "Zr41.2Ti13.8Cu12.5Ni10Be22.5"]

CHI = """2-Theta Angle (Degrees)
2-Theta Angle (Degrees)
Intensity
       5
  1.000000E+00  1.200000E+02
  1.100000E+00  1.180000E+02
  1.200000E+00  1.150000E+02
  1.300000E+00  1.190000E+02
  1.400000E+00  1.210000E+02
"""

GR = """[DEFAULT]
version = libpdf 0.1.0
composition = Mg2SiO4
qmax = 25.0
#### start data
#S 1
#L r($\\AA$)  G($\\AA^{-2}$)  dG($\\AA^{-2}$)
0.01 0.0 0.01
0.02 -0.01 0.01
0.03 -0.02 0.01
"""

PDFGUI4 = "# x y dx dy\n1.0,2.0,0.0,0.1\n1.1,2.1,0.0,0.1\n"


def tiff(pages, big_endian=False, tiled=False):
    """A minimal baseline TIFF (uncompressed) of the given pages, each (array of rows, sample format, bits).
    Written by hand so that the corpus needs nothing but the standard library."""
    bo = ">" if big_endian else "<"
    out = bytearray(b"MM\x00\x2a" if big_endian else b"II\x2a\x00")
    out += struct.pack(bo + "I", 0)  # first IFD offset, patched below
    prev_link = 4
    codes = {(1, 8): "B", (1, 16): "H", (1, 32): "I", (2, 16): "h", (2, 32): "i", (3, 32): "f", (3, 64): "d"}
    for rows, fmt, bits in pages:
        h, w = len(rows), len(rows[0])
        pixels = b"".join(struct.pack(bo + codes[(fmt, bits)] * w, *r) for r in rows)
        data_offset = len(out)
        out += pixels
        entries = [(256, 4, w), (257, 4, h), (258, 3, bits), (259, 3, 1), (262, 3, 1), (277, 3, 1), (339, 3, fmt)]
        if tiled:
            # One 16 x 16 tile holding the (smaller) image: edge tiles are stored full size.
            tile = bytearray(16 * 16 * bits // 8)
            row_bytes = w * bits // 8
            for r in range(h):
                tile[r * 16 * bits // 8:r * 16 * bits // 8 + row_bytes] = pixels[r * row_bytes:(r + 1) * row_bytes]
            data_offset = len(out)
            out += tile
            entries += [(322, 3, 16), (323, 3, 16), (324, 4, data_offset), (325, 4, len(tile))]
        else:
            entries += [(273, 4, data_offset), (278, 4, h), (279, 4, len(pixels))]
        entries.sort()
        if len(out) % 2:
            out += b"\x00"
        ifd = len(out)
        struct.pack_into(bo + "I", out, prev_link, ifd)
        out += struct.pack(bo + "H", len(entries))
        for tag, typ, value in entries:
            field = struct.pack(bo + ("H" if typ == 3 else "I"), value).ljust(4, b"\x00")
            out += struct.pack(bo + "HHI", tag, typ, 1) + field
        prev_link = len(out)
        out += struct.pack(bo + "I", 0)
    return bytes(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--data", type=pathlib.Path, default=HERE.parent.parent / "shared" / "data" / "real")
    a = ap.parse_args()
    out = a.out
    rng = random.Random(7)

    # PONI
    write(out / "fuzz_poni", "v21.poni", PONI_V21)
    write(out / "fuzz_poni", "v2.poni", PONI_V2)
    write(out / "fuzz_poni", "v1.poni", "PixelSize1: 0.0002\nPixelSize2: 0.0002\nDistance: 0.3\nPoni1: 0.1\n"
                                        "Poni2: 0.1\nRot1: 0\nRot2: 0\nRot3: 0\nWavelength: 1e-10\n")
    for p in sorted(a.data.glob("*/*.poni")):
        write(out / "fuzz_poni", p.name, p.read_bytes())

    # Compositions
    for i, f in enumerate(FORMULAS):
        write(out / "fuzz_composition", f"formula{i:02d}", f)

    # Text patterns: heads of the measured files, and the other header styles.
    for p in sorted(a.data.glob("*/*.xy")):
        write(out / "fuzz_text_pattern", p.name, head(p, 40))
    write(out / "fuzz_text_pattern", "fit2d.chi", CHI)
    write(out / "fuzz_text_pattern", "pdfgetx3.gr", GR)
    write(out / "fuzz_text_pattern", "pdfgui4.csv", PDFGUI4)

    # TIFF: every sample type, strips and tiles, both byte orders, several pages; the real Lambda mask.
    def img(h, w, lo, hi, integer=True):
        return [[rng.randint(lo, hi) if integer else rng.uniform(lo, hi) for _ in range(w)] for _ in range(h)]
    t = out / "fuzz_tiff"
    write(t, "u16.tif", tiff([(img(5, 7, 0, 65535), 1, 16)]))
    write(t, "i16_be.tif", tiff([(img(4, 3, -3, 300), 2, 16)], big_endian=True))
    write(t, "u32.tif", tiff([(img(3, 3, 0, 2**32 - 1), 1, 32)]))
    write(t, "i32.tif", tiff([(img(6, 2, -1, 1000), 2, 32)]))
    write(t, "f32.tif", tiff([(img(4, 4, -1.0, 1e6, False), 3, 32)]))
    write(t, "f64_be.tif", tiff([(img(2, 5, -1.0, 1.0, False), 3, 64)], big_endian=True))
    write(t, "u8.tif", tiff([(img(8, 8, 0, 1), 1, 8)]))
    write(t, "tiled_u16.tif", tiff([(img(5, 9, 0, 100), 1, 16)], tiled=True))
    write(t, "pages3.tif", tiff([(img(3, 4, 0, 9), 1, 16)] * 3))
    for p in sorted(a.data.glob("*/*.mask")):
        write(t, p.name, p.read_bytes())

    # HDF5: the generator's input is a byte stream; random streams of a few lengths reach most shapes.
    for i, n in enumerate([16, 64, 128, 256, 512, 1024]):
        write(out / "fuzz_hdf5", f"random{i}", bytes(rng.randrange(256) for _ in range(n)))

    # Recipes: the examples shipped in the tree, if any, and a minimal TOML.
    for p in sorted(HERE.parent.glob("examples/**/*.toml")):
        write(out / "fuzz_recipe", p.name, p.read_bytes())
    write(out / "fuzz_recipe", "minimal.toml", '[integrate]\nnpt = 1000\nunit = "q_A^-1"\n\n[pdf]\n'
                                                'composition = "Mg2SiO4"\nqmax = 22.0\n')


if __name__ == "__main__":
    main()
