#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Every source file of the repository names its licence in an SPDX line.

    check_spdx.py --source DIR [--fix]

Looks at the files git tracks (all files under DIR when it is not a git
checkout), keeps the kinds that hold code or build rules, and checks that one
of the first five lines carries "SPDX-License-Identifier: MIT".  --fix adds
the line (after a "#!" line) in the file's own comment syntax.  Exit 1 and
the list of files when some lack it.
"""
import argparse
import os
import subprocess
import sys

TAG = "SPDX-License-Identifier: MIT"
SLASH = {".c", ".h", ".cpp", ".hpp", ".cu", ".cuh", ".hip"}
HASH = {".txt", ".cmake", ".py", ".sh", ".in"}
BLOCK = {".map"}
HASH_NAMES = {"run"}  # .ci/run


def comment_for(path):
    base = os.path.basename(path)
    ext = os.path.splitext(base)[1]
    if ext in SLASH:
        return "// " + TAG
    if ext in BLOCK:
        return "/* " + TAG + " */"
    if ext in HASH or base in HASH_NAMES:
        return "# " + TAG
    return None


def tracked(source):
    try:
        out = subprocess.run(["git", "-C", source, "ls-files", "-z"], check=True, capture_output=True).stdout
        return [p for p in out.decode().split("\0") if p]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for root, dirs, names in os.walk(source):
            dirs[:] = [d for d in dirs if not d.startswith((".", "build"))]
            files += [os.path.relpath(os.path.join(root, n), source) for n in names]
        return files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", required=True)
    ap.add_argument("--fix", action="store_true")
    args = ap.parse_args()
    missing = []
    for rel in sorted(tracked(args.source)):
        line = comment_for(rel)
        path = os.path.join(args.source, rel)
        if line is None or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if any(TAG in l for l in text.splitlines()[:5]):
            continue
        if not args.fix:
            missing.append(rel)
            continue
        if text.startswith("#!"):
            first, _, rest = text.partition("\n")
            text = first + "\n" + line + "\n" + rest
        else:
            text = line + "\n" + text
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        print("added:", rel)
    if missing:
        print(f"{len(missing)} source files lack '{TAG}' in their first five lines "
              f"(python3 tools/license/check_spdx.py --source . --fix adds it):")
        for rel in missing:
            print("  " + rel)
        return 1
    if not args.fix:
        print("every source file carries", TAG)
    return 0


if __name__ == "__main__":
    sys.exit(main())
