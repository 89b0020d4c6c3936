#!/usr/bin/python3
"""Installs the libpdf build tree into a fresh prefix and uses the Python module from there, as a user of a
`cmake --install`ed libpdf would: PYTHONPATH = <prefix>/lib/python3/dist-packages (Debian's layout), no
LD_LIBRARY_PATH (the module finds libpdf.so through its RPATH), run in a clean child interpreter from a folder
outside the source and build trees. Checks that the module comes from the installed tree, that the libpdf.so it
loaded is the installed one, that an integration of a flat field is flat, and that libpdf.__version__ equals the
installed tool's `pdfreduce --version` and the build tree's.

    installed_python.py --build BUILD_DIR --work SCRATCH_DIR --pdfreduce BUILD_TREE_PDFREDUCE [--python EXE]

Exit status 0 when every check holds; the failing check's message on stderr otherwise."""
import argparse
import os
import re
import shutil
import subprocess
import sys

# Runs inside the child interpreter: prints one "key=value" line per fact the parent checks.
CHILD = r"""
import os
import numpy as np
import libpdf

print("module=" + os.path.realpath(libpdf.__file__))
print("version=" + libpdf.__version__)
with open("/proc/self/maps") as maps:
    libs = sorted({line.split()[-1] for line in maps if "libpdf.so" in line and "/" in line})
print("loaded=" + ";".join(os.path.realpath(p) for p in libs))

poni = libpdf.parse_poni(
    "poni_version: 2\nDetector: Detector\n"
    'Detector_config: {"pixel1": 0.0002, "pixel2": 0.0002, "max_shape": [128, 160]}\n'
    "Distance: 0.1\nPoni1: 0.0128\nPoni2: 0.016\nRot1: 0.01\nRot2: 0\nRot3: 0\nWavelength: 2e-11\n")
plan = libpdf.Integrator(libpdf.Geometry(poni), libpdf.IntegrationOptions(npt=64, solid_angle=False))
result = plan.integrate(np.full((128, 160), 7.0, dtype=np.float32))
filled = result.count > 0
assert filled.sum() > 32, "too few bins reached: %d" % filled.sum()
err = float(np.max(np.abs(result.intensity[filled] - 7.0)))
assert err < 1e-9, "a flat frame of 7 integrates to %g off" % err
print("bins=%d" % filled.sum())
"""


def fail(message):
    sys.stderr.write("installed_python: " + message + "\n")
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="libpdf build tree to install")
    ap.add_argument("--work", required=True, help="scratch folder (emptied)")
    ap.add_argument("--pdfreduce", required=True, help="the build tree's pdfreduce")
    ap.add_argument("--python", default=sys.executable, help="interpreter to import the module with")
    ap.add_argument("--site-dir", default="lib/python3/dist-packages",
                    help="install folder of the module, relative to the prefix (LIBPDF_PYTHON_INSTALL_DIR)")
    args = ap.parse_args()

    shutil.rmtree(args.work, ignore_errors=True)
    prefix = os.path.join(args.work, "prefix")
    os.makedirs(args.work)
    log = os.path.join(args.work, "install.log")
    with open(log, "w") as f:
        proc = subprocess.run(["cmake", "--install", args.build, "--prefix", prefix], stdout=f,
                              stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        fail("cmake --install %s failed (exit %d); see %s" % (args.build, proc.returncode, log))

    site = os.path.join(prefix, args.site_dir)
    modules = [n for n in os.listdir(site) if re.match(r"libpdf\..*\.so$", n)] if os.path.isdir(site) else []
    if len(modules) != 1:
        fail("expected one extension module libpdf.<abi>.so in %s (Debian's python3 dist-packages layout), "
             "found %s" % (site, modules or "nothing"))
    installed_libs = []
    for root, _, files in os.walk(prefix):
        installed_libs += [os.path.realpath(os.path.join(root, n)) for n in files if re.match(r"libpdf\.so\.", n)]
    if not installed_libs:
        fail("no libpdf.so.* was installed under %s" % prefix)
    tool = os.path.join(prefix, "bin", "pdfreduce")
    if not os.access(tool, os.X_OK):
        fail("the tool was not installed to %s" % tool)

    # A clean environment: only the installed site folder on the path, nothing pointing into the build tree.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "PYTHONHOME")}
    env["PYTHONPATH"] = site
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    child = subprocess.run([args.python, "-c", CHILD], cwd=args.work, env=env, capture_output=True, text=True)
    if child.returncode != 0:
        fail("importing libpdf from %s failed:\n%s%s" % (site, child.stdout, child.stderr))
    facts = dict(line.split("=", 1) for line in child.stdout.splitlines() if "=" in line)

    if not facts["module"].startswith(os.path.realpath(site) + os.sep):
        fail("libpdf was imported from %s, not from the installed %s" % (facts["module"], site))
    loaded = [p for p in facts["loaded"].split(";") if p]
    if not loaded or any(p not in installed_libs for p in loaded):
        fail("the module loaded %s, expected the installed %s" % (loaded or "no libpdf.so", installed_libs))

    def tool_version(exe, environment):
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, env=environment)
        if out.returncode != 0:
            fail("%s --version failed: %s" % (exe, out.stderr))
        m = re.search(r"(\d+\.\d+\.\d+\S*)\s*$", out.stdout.strip())
        if not m:
            fail("cannot read a version in %r" % out.stdout)
        return m.group(1)

    # The installed tool finds the installed libpdf.so through its RPATH ($ORIGIN/../lib...), with no
    # LD_LIBRARY_PATH (env has none).
    installed_tool = tool_version(tool, env)
    build_tool = tool_version(args.pdfreduce, os.environ)
    if not (facts["version"] == installed_tool == build_tool):
        fail("versions differ: libpdf.__version__ %s, installed pdfreduce --version %s, build tree's %s"
             % (facts["version"], installed_tool, build_tool))
    print("installed_python: libpdf %s imported from %s, libpdf.so %s, %s flat bins; pdfreduce --version agrees"
          % (facts["version"], facts["module"], loaded[0], facts["bins"]))


if __name__ == "__main__":
    main()
