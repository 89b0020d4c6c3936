#!/usr/bin/python3
"""Runs docs/tutorial.md, so that the tutorial cannot rot.

The tutorial marks what is tested with an HTML comment on the line before a fenced block:
  <!-- test -->          a ```sh block: run, in order, in one bash session (set -euo pipefail) in a scratch folder,
                         with the pdfreduce under test first on PATH and DATA = the real-data folder;
  <!-- output -->        a ```text block right after a tested block: an excerpt of that block's output (stdout and
                         stderr together). Every line of the excerpt must appear in the real output, in order; numbers
                         are compared to 0.5 % (run times are not compared: a number right before "s", "frames/s" or
                         "MB" matches any number; two numbers both below 1e-3, p-values and the like, match), a
                         line "..." stands for skipped lines and "..." inside a line for any text;
  <!-- test: python -->  a ```python block: run after the shell blocks in the same folder (PYTHONPATH = the module);
  <!-- test: c++ -->     a ```cpp block: compiled against the build tree and run after the shell blocks.
Then the artefacts the tutorial promises are checked (result file, table, onset file, figures, the onset near the
model's 450 K).

    test_tutorial.py --pdfreduce EXE --data DATA_DIR --tmp SCRATCH [--tutorial docs/tutorial.md]
                     [--python-path DIR] [--cxx COMPILER --include DIR... --lib LIBPDF_SO]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))

MARK = re.compile(r"^<!--\s*(test(?::\s*(python|c\+\+))?|output)\s*-->\s*$")
FENCE = re.compile(r"^```(\w[\w+]*)?\s*$")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TIMING = re.compile(r"^\s*(?:s\b|frames/s|MB\b|ms\b)")


def parse_blocks(path):
    """[(kind, language, text, line)] of the marked fenced blocks, kind in test/python/c++/output."""
    lines = open(path, encoding="utf-8").read().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        if not m:
            i += 1
            continue
        kind = "output" if m.group(1) == "output" else (m.group(2) or "sh")
        j = i + 1
        f = FENCE.match(lines[j]) if j < len(lines) else None
        if not f:
            raise SystemExit("%s:%d: a marker must be followed by a fenced block" % (path, i + 1))
        k = j + 1
        while k < len(lines) and lines[k].strip() != "```":
            k += 1
        blocks.append((kind, f.group(1) or "", "\n".join(lines[j + 1:k]), i + 1))
        i = k + 1
    return blocks


def skeleton(line):
    """A regular expression for an excerpt line ("..." inside a line stands for any text, e.g. a folder; runs of
    blanks match any blanks) and its numbers (None for timings), compared with those of the matched line."""
    regex, numbers = [], []
    for n, piece in enumerate(line.split("...")):
        if n:
            regex.append(".*?")
        last = 0
        for m in NUMBER.finditer(piece):
            regex.append(re.escape(piece[last:m.start()]))
            regex.append("(" + NUMBER.pattern + ")")
            numbers.append(None if TIMING.match(piece[m.end():]) else float(m.group(0)))
            last = m.end()
        regex.append(re.escape(piece[last:]))
    return re.compile(re.sub(r"(\\ )+", r"\\s+", "".join(regex))), numbers


def same_number(a, b):
    if a == b:
        return True
    if abs(a) < 1e-3 and abs(b) < 1e-3 and (a == 0) == (b == 0):
        return True  # p-values and tiny uncertainties: their order of magnitude moves with any retuning
    scale = max(abs(a), abs(b))
    return abs(a - b) <= 5e-3 * scale + 1e-12


def excerpt_found(excerpt, output):
    """None when every excerpt line appears in output in order, else a message naming the first missing line."""
    out_lines = output.splitlines()
    pos = 0
    for want in excerpt.splitlines():
        if not want.strip() or want.strip() in ("...", "…"):
            continue
        pattern, numbers = skeleton(want.strip())
        found = False
        while pos < len(out_lines):
            got = out_lines[pos].strip()
            pos += 1
            m = pattern.fullmatch(got)
            if not m:
                continue
            got_numbers = [float(x) for x in m.groups()]
            if all(w is None or same_number(w, g) for w, g in zip(numbers, got_numbers)):
                found = True
                break
        if not found:
            return "the excerpt line %r is not in the output (in order)" % want
    return None


def main():
    ap = argparse.ArgumentParser(description="Runs the marked blocks of docs/tutorial.md")
    ap.add_argument("--pdfreduce", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--tutorial", default=os.path.join(SOURCE, "docs", "tutorial.md"))
    ap.add_argument("--python-path", default="", help="folder of the built libpdf module")
    ap.add_argument("--cxx", default="", help="C++ compiler for the C++ block")
    ap.add_argument("--include", action="append", default=[], help="include folder(s) of libpdf")
    ap.add_argument("--lib", default="", help="the built libpdf.so")
    args = ap.parse_args()

    blocks = parse_blocks(args.tutorial)
    kinds = [b[0] for b in blocks]
    for needed in ("sh", "output", "python", "c++"):
        if needed not in kinds:
            raise SystemExit("%s has no block marked %s" % (args.tutorial, needed))

    shutil.rmtree(args.tmp, ignore_errors=True)
    os.makedirs(args.tmp)
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(args.pdfreduce)) + os.pathsep + env.get("PATH", "")
    env["DATA"] = os.path.abspath(args.data)
    env["OMP_NUM_THREADS"] = "2"
    failures = []

    # The shell blocks in one session; a separator line between blocks splits the output per block.
    sep = "@@@ tutorial block %d @@@"
    script = ["set -euo pipefail"]
    shell = [(n, b) for n, b in enumerate(blocks) if b[0] == "sh"]
    for n, b in shell:
        script.append("echo '%s'" % (sep % n))
        script.append(b[2])
    script.append("echo '%s'" % (sep % len(blocks)))
    proc = subprocess.run(["bash", "-c", "\n".join(script)], cwd=args.tmp, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=900)
    outputs = {}
    current = None
    for line in proc.stdout.splitlines():
        m = re.fullmatch(r"@@@ tutorial block (\d+) @@@", line)
        if m:
            current = int(m.group(1))
            outputs[current] = []
        elif current is not None:
            outputs[current].append(line)
    if proc.returncode != 0:
        last = max(outputs) if outputs else 0
        line = blocks[last][3] if last < len(blocks) else "?"
        print(proc.stdout)
        raise SystemExit("the shell block at %s:%s failed (exit %d)" % (args.tutorial, line, proc.returncode))

    # Where the shell blocks left the user (the tutorial works in the folder 'tutorial').
    workdir = os.path.join(args.tmp, "tutorial")

    def run_other(n, kind, text, line):
        if kind == "python":
            path = os.path.join(workdir, "tutorial_block_%d.py" % n)
            with open(path, "w") as f:
                f.write(text + "\n")
            penv = dict(env, PYTHONPATH=args.python_path, MPLBACKEND="Agg")
            try:
                subprocess.run([sys.executable, "-c", "import libpdf"], env=penv, check=True,
                               capture_output=True)
            except subprocess.CalledProcessError:
                print("note: the Python module is not built (%s): the Python block at line %d is not run"
                      % (args.python_path or "no --python-path", line))
                return None
            return subprocess.run([sys.executable, path], cwd=workdir, env=penv, stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=300)
        if not args.cxx or not args.lib:
            print("note: no --cxx/--lib: the C++ block at line %d is not compiled" % line)
            return None
        src = os.path.join(workdir, "tutorial_block_%d.cpp" % n)
        exe = os.path.join(workdir, "tutorial_block_%d" % n)
        with open(src, "w") as f:
            f.write(text + "\n")
        cmd = [args.cxx, "-std=c++17", "-O1", src, "-o", exe] + ["-I" + d for d in args.include] + [
            args.lib, "-Wl,-rpath," + os.path.dirname(args.lib), "-pthread"]
        comp = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
        if comp.returncode != 0:
            return comp
        return subprocess.run([exe], cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=300)

    for n, (kind, lang, text, line) in enumerate(blocks):
        if kind in ("python", "c++"):
            res = run_other(n, kind, text, line)
            if res is None:
                outputs[n] = None
                continue
            outputs[n] = res.stdout.splitlines()
            if res.returncode != 0:
                failures.append("the %s block at line %d failed (exit %d):\n%s" % (kind, line, res.returncode,
                                                                                    res.stdout))

    # Every excerpt against the output of the tested block before it.
    for n, (kind, lang, text, line) in enumerate(blocks):
        if kind != "output":
            continue
        if n == 0 or blocks[n - 1][0] == "output":
            failures.append("the output excerpt at line %d does not follow a tested block" % line)
            continue
        got = outputs.get(n - 1)
        if got is None:
            continue  # a block that could not run here (noted above)
        problem = excerpt_found(text, "\n".join(got))
        if problem:
            failures.append("%s:%d: %s; the block printed:\n%s" % (args.tutorial, line, problem, "\n".join(got)))

    # What the tutorial promises.
    run_dir = os.path.join(workdir, "run")
    for name in ("heating.h5", "heating.csv", "heating_onset.json"):
        if not os.path.isfile(os.path.join(run_dir, name)):
            failures.append("run/%s was not written" % name)
    for png in ("iq.png", "sq.png", "gr.png", "sq_map.png", "gr_map.png", "mro_xi.png", "mro_amplitude_rms.png",
                "r1.png"):
        p = os.path.join(run_dir, "plots", png)
        if not (os.path.isfile(p) and open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"):
            failures.append("run/plots/%s is not a PNG" % png)
    onset_file = os.path.join(run_dir, "heating_onset.json")
    if os.path.isfile(onset_file):
        onsets = json.load(open(onset_file))
        if not onsets.get("libpdf_version"):
            failures.append("heating_onset.json carries no libpdf_version")
        xi = onsets.get("metrics", {}).get("mro_xi", {})
        # The model's MRO starts growing at 450 K (docs/files.md); 15 frames 310-590 K.
        if not (xi.get("detected") and 400 <= (xi.get("onset") or 0) <= 500):
            failures.append("the onset of mro_xi is %s (detected %s), expected within 400-500 K"
                            % (xi.get("onset"), xi.get("detected")))

    if failures:
        for f in failures:
            print("FAIL: " + f)
        sys.exit(1)
    print("tutorial: %d blocks run, every excerpt found, every promised file written" % len(blocks))


if __name__ == "__main__":
    main()
