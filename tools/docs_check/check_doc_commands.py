#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the shell commands the documentation shows, so that the docs match.

    check_doc_commands.py --source SRC --build BUILD --skip SKIPFILE [--python PY] FILE.md...

Every fenced block whose info string is `sh` or `bash` is read command by
command (a line; a trailing backslash continues it; blank and comment lines
are dropped) and handled in order, in a scratch folder that looks like the
source tree (every top-level entry linked) with `build` linked to BUILD and
HOME set to the scratch folder:

  skip      the command matches an entry of SKIPFILE ("<regex> => <reason>",
            the regex searched in "<file>: <command>"): listed with the reason;
  configure `cmake -S ...` is not run (it would reconfigure BUILD): each
            -D<NAME> must be a variable of BUILD's cache (or CMAKE_*);
  build     `cmake --build build ...` is not run (BUILD is built already):
            each --target must be a target of BUILD; a GPU backend's target
            missing from a build without that backend is a skip; when it
            names targets, the block's later commands may use only those;
  ctest     run with -N: it must select at least one test, and after a
            build of named targets only tests whose programs those are;
  export    `export NAME=VALUE` sets NAME for the block's later commands;
  run       anything else runs (bash, timeout --timeout seconds) and must
            exit 0.
A skipped command that starts a program of the build tree (build/bin/...)
still fails when that program does not exist.
With --python, `python3` in the scratch folder's PATH is that interpreter
(one with matplotlib); without, commands that mention plot_bench.py skip.
Exit status: 0 when nothing failed, 1 otherwise.
"""
import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time


def blocks(path):
    """Yields (line number, [commands]) for every sh/bash fenced block."""
    lines = open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^\s*```\s*(\S*)", lines[i])
        if not m:
            i += 1
            continue
        lang, start, body = m.group(1), i + 1, []
        i += 1
        while i < len(lines) and not re.match(r"^\s*```", lines[i]):
            body.append(lines[i])
            i += 1
        i += 1
        if lang not in ("sh", "bash"):
            continue
        commands, pending = [], ""
        for line in body:
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line = (pending + line).strip()
            pending = ""
            if line and not line.startswith("#"):
                commands.append(line)
        yield start, commands


def read_skips(path):
    skips = []
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if " => " not in line:
            sys.exit(f"{path}:{n}: expected '<regex> => <reason>'")
        pattern, reason = line.split(" => ", 1)
        skips.append((re.compile(pattern.strip()), reason.strip()))
    return skips


def cache_variables(build):
    names = set()
    try:
        for line in open(os.path.join(build, "CMakeCache.txt"), encoding="utf-8"):
            m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*):", line)
            if m:
                names.add(m.group(1))
    except OSError:
        pass
    return names


def build_targets(build):
    out = subprocess.run(["cmake", "--build", build, "--target", "help"], capture_output=True, text=True).stdout
    # Makefiles: "... name (the phony rule)"; Ninja: "name: phony".
    return set(re.findall(r"^\.\.\. (\S+)", out, re.M)) | set(re.findall(r"^(\S+): ", out, re.M))


def target_list(words):
    """The targets of `cmake --build ... --target a b --target=c,d`."""
    named, i = [], 0
    while i < len(words):
        if words[i] == "--target":
            i += 1
            while i < len(words) and not words[i].startswith("-"):
                named.append(words[i])
                i += 1
            continue
        if words[i].startswith("--target="):
            named.append(words[i].split("=", 1)[1])
        i += 1
    return [t for n in named for t in n.split(",") if t]


def tests_needing_more(ctest_command, built, build, root, env):
    """Tests the ctest command selects whose programs (build-tree files in
    their command line) are not among `built` (target names: a program's
    file name, or a library's without lib and .so)."""
    r = subprocess.run(ctest_command + " -N --show-only=json-v1", shell=True, cwd=root, env=env, capture_output=True,
                       text=True, executable="/bin/bash")
    try:
        tests = json.loads(r.stdout)["tests"]
    except (ValueError, KeyError):
        return ["(ctest --show-only=json-v1 failed)"]
    missing = []
    for t in tests:
        files = [a.split("=", 1)[-1] for a in t.get("command", [])]
        files = [f for f in files if f.startswith(build + os.sep) and ("/bin/" in f or "/lib/" in f)]
        names = {re.sub(r"^lib|\.so(\.\d+)*$", "", os.path.basename(f)) for f in files}
        if names - built:
            missing.append(f"{t['name']} ({', '.join(sorted(names - built))})")
    return missing


def scratch_tree(source, build, python):
    root = tempfile.mkdtemp(prefix="mla-doc-commands-")
    for entry in os.listdir(source):
        if entry not in ("build", ".git"):
            os.symlink(os.path.join(source, entry), os.path.join(root, entry))
    os.symlink(build, os.path.join(root, "build"))
    bin_dir = os.path.join(root, ".bin")
    os.mkdir(bin_dir)
    if python:
        os.symlink(python, os.path.join(bin_dir, "python3"))
    return root, bin_dir


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--skip", required=True)
    ap.add_argument("--python", default="")
    ap.add_argument("--timeout", type=float, default=180)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    source, build = os.path.abspath(args.source), os.path.abspath(args.build)
    skips = read_skips(args.skip)
    cache, targets = cache_variables(build), None
    root, bin_dir = scratch_tree(source, build, args.python)
    base_env = dict(os.environ, HOME=root, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    for var in ("MLA_BACKEND", "MLA_BACKEND_PATH", "PKG_CONFIG_PATH"):
        base_env.pop(var, None)
    counts = {"ran": 0, "checked": 0, "skipped": 0, "failed": 0}

    def report(kind, where, command, detail=""):
        counts[kind] += 1
        tag = {"ran": "RAN    ", "checked": "CHECKED", "skipped": "SKIPPED", "failed": "FAILED "}[kind]
        print(f"{tag} {where}: {command}" + (f"\n          {detail}" if detail else ""), flush=True)

    for doc in args.files:
        rel = os.path.relpath(os.path.abspath(doc), source)
        for line, commands in blocks(doc):
            env = dict(base_env)
            built = None  # targets an explicit `cmake --build --target` of this block built; None: everything
            for command in commands:
                where = f"{rel}:{line}"
                reason = next((r for p, r in skips if p.search(f"{rel}: {command}")), None)
                words = shlex.split(command, comments=True) if reason is None else []
                program = next((w for w in command.split() if "=" not in w), "")
                if reason is not None and program.startswith("build/") and not os.access(
                        os.path.join(root, program), os.X_OK):
                    report("failed", where, command, f"skipped ({reason}), but {program} does not exist")
                elif built is not None and program.startswith("build/bin/") and os.path.basename(program) not in built:
                    report("failed", where, command, f"the block's build command does not build {program}")
                elif reason is not None:
                    report("skipped", where, command, reason)
                elif not args.python and "plot_bench" in command:
                    report("skipped", where, command, "no python3 with matplotlib here")
                elif words[:2] == ["cmake", "-S"]:
                    unknown = [w[2:].split("=")[0] for w in words if w.startswith("-D")]
                    unknown = [n for n in unknown if n not in cache and not n.startswith("CMAKE_")]
                    if unknown:
                        report("failed", where, command, f"not a variable of this build: {', '.join(unknown)}")
                    else:
                        report("checked", where, command, "configure: not run; every -D names a cache variable")
                elif words[:2] == ["cmake", "--build"] and "&&" not in words:
                    if targets is None:
                        targets = build_targets(build)
                    named = target_list(words)
                    missing = [t for t in named if t not in targets]
                    gpu_only = [t for t in missing if re.search(r"cuda|hip|ceilings", t)]
                    if missing and len(gpu_only) == len(missing):
                        report("skipped", where, command, f"not in this build tree (backend off): {', '.join(missing)}")
                    elif missing:
                        report("failed", where, command, f"no such target: {', '.join(missing)}")
                    else:
                        report("checked", where, command, "build: not run (built already); every target exists")
                    if named:
                        built = set(named)
                elif words and words[0] == "ctest" and "&&" not in words:
                    r = subprocess.run(shlex.join(words) + " -N", shell=True, cwd=root, env=env, capture_output=True,
                                       text=True, executable="/bin/bash")
                    m = re.search(r"Total Tests: (\d+)", r.stdout)
                    unbuilt = [] if built is None else tests_needing_more(shlex.join(words), built, build, root, env)
                    if r.returncode != 0 or not m or int(m.group(1)) == 0:
                        report("failed", where, command, "selects no test: " + (r.stdout + r.stderr).strip()[-300:])
                    elif unbuilt:
                        report("failed", where, command, "selects tests whose programs the block's build command does "
                               "not build (they would be 'Not Run'): " + ", ".join(unbuilt))
                    else:
                        report("checked", where, command, f"ctest -N: selects {m.group(1)} tests")
                elif words and words[0] == "export" and len(words) == 2 and "=" in words[1]:
                    name = words[1].split("=", 1)[0]
                    r = subprocess.run(f"{command}; printf %s \"${name}\"", shell=True, cwd=root, env=env,
                                       capture_output=True, text=True, executable="/bin/bash")
                    env[name] = r.stdout
                    report("ran", where, command, f"{name}={r.stdout} for the rest of the block")
                else:
                    t0 = time.time()
                    try:
                        r = subprocess.run(command, shell=True, cwd=root, env=env, capture_output=True, text=True,
                                           timeout=args.timeout, executable="/bin/bash")
                        ok, tail = r.returncode == 0, (r.stdout + r.stderr).strip()[-600:]
                        detail = f"exit {r.returncode} in {time.time() - t0:.1f} s"
                    except subprocess.TimeoutExpired:
                        ok, tail, detail = False, "", f"timed out after {args.timeout:.0f} s"
                    if ok:
                        report("ran", where, command, detail)
                    else:
                        report("failed", where, command, detail + ("\n" + tail if tail else ""))
    print(f"\n{counts['ran']} ran, {counts['checked']} checked without running, {counts['skipped']} skipped "
          f"(a skipped build/bin program must exist), {counts['failed']} failed")
    if counts["failed"]:
        print(f"scratch folder kept: {root}")
        return 1
    shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
