#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turns mla-bench's JSON into a PNG: per shape, the time, the fraction of
the ceiling, and the ratio to a peer when one was measured.

    plot_bench.py BENCH.json [MORE.json ...] --out FILE.png [--peer PEER.json] [--title TEXT]

Each JSON file (mla-bench --json) is one series, labelled by its kernel /
batch-invariant setting (or its file name).  Panels:
  1. time per launch (ms, log scale);
  2. fraction of the ceiling that binds the shape: the larger of of_copy (copy
     bandwidth; of_read, the read-only stream, when measured) and of_gemm (bf16 GEMM rate), marked R, C or G; a ceiling that is
     not known (null) is left out;
  3. only when a peer was measured: peer time / libmla time (> 1: libmla is
     faster), from per-case "peer_ms" in the JSON (name in "peer") or from
     --peer, a JSON file with the same "cases" list ("name", "time_ms").
Skipped and failed cases are left out.  Exit status 0 with the PNG written,
1 no case to plot, 2 a bad file or no matplotlib (Debian: python3-matplotlib).
"""
import argparse
import json
import math
import os
import sys
import textwrap


def load(path):
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"plot_bench.py: {path}: {e}")
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        sys.exit(f"plot_bench.py: {path}: not an mla-bench JSON file (no \"cases\" list)")
    return data


def number(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def label_of(data, path):
    parts = [data.get("backend") or os.path.splitext(os.path.basename(path))[0]]
    if data.get("kernel"):
        parts.append(data["kernel"])
    if data.get("batch_invariant"):
        parts.append("batch-invariant")
    return " ".join(parts)


def measured(data):
    """name -> case, for the cases that ran."""
    return {c["name"]: c for c in data["cases"] if number(c.get("time_ms")) is not None}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json", nargs="+", help="mla-bench --json files, one series each")
    ap.add_argument("--out", required=True, help="the PNG to write")
    ap.add_argument("--peer", help="a JSON file with the peer's times (\"cases\": name, time_ms)")
    ap.add_argument("--title", help="figure title (default: device, commit, date of the first file)")
    args = ap.parse_args()

    series = []
    for path in args.json:
        data = load(path)
        series.append((label_of(data, path), data, measured(data)))
    labels = [s[0] for s in series]
    if len(set(labels)) != len(labels):  # same settings twice: tell them apart by file
        series = [(f"{l} ({os.path.basename(p)})", d, m) for (l, d, m), p in zip(series, args.json)]

    shapes = []
    for _, _, cases in series:
        shapes += [n for n in cases if n not in shapes]
    if not shapes:
        print("plot_bench.py: no case ran in " + ", ".join(args.json), file=sys.stderr)
        return 1

    first = series[0][1]
    peer_name, peer_ms = None, {}
    if args.peer:
        peer = load(args.peer)
        peer_name = peer.get("peer") or peer.get("name") or peer.get("backend") or "peer"
        peer_ms = {n: number(c["time_ms"]) for n, c in measured(peer).items()}
    else:
        for c in first["cases"]:
            if number(c.get("peer_ms")) is not None:
                peer_ms[c["name"]] = c["peer_ms"]
        peer_name = first.get("peer") or "peer"

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        sys.exit("plot_bench.py: needs matplotlib (Debian: apt-get install python3-matplotlib)")

    panels = 3 if peer_ms else 2
    fig, axes = plt.subplots(panels, 1, figsize=(max(8.0, 0.6 * len(shapes) * len(series) + 2), 3.0 * panels),
                             sharex=True, squeeze=False)
    axes = [a[0] for a in axes]
    width = 0.8 / len(series)
    xs = range(len(shapes))

    def offset(i):
        return [x - 0.4 + width * (i + 0.5) for x in xs]

    all_times = [c["time_ms"] for _, _, cases in series for c in cases.values() if c["time_ms"] > 0]
    log_time = bool(all_times) and max(all_times) > 20 * min(all_times)
    for i, (label, _, cases) in enumerate(series):
        times = [cases[n]["time_ms"] if n in cases else 0 for n in shapes]
        bars = axes[0].bar(offset(i), times, width, label=label)
        if len(series) <= 2:
            for bar, t in zip(bars, times):
                if t > 0:
                    axes[0].annotate(f"{t:.3g}", (bar.get_x() + bar.get_width() / 2, t), ha="center", va="bottom",
                                     fontsize=7)
        fracs, marks = [], []
        for n in shapes:
            c = cases.get(n, {})
            copy, gemm = number(c.get("of_copy")), number(c.get("of_gemm"))
            read = number(c.get("of_read"))  # the memory-bound ceiling when measured (R)
            mem = (read, "R") if read is not None else (copy, "C")
            known = [(v, m) for v, m in (mem, (gemm, "G")) if v is not None]
            best = max(known) if known else (0, "")
            fracs.append(best[0])
            marks.append(best[1])
        bars = axes[1].bar(offset(i), fracs, width, label=label)
        for bar, mark in zip(bars, marks):
            if mark:
                axes[1].annotate(mark, (bar.get_x() + bar.get_width() / 2, bar.get_height()), ha="center",
                                 va="bottom", fontsize=7)
        if peer_ms:
            ratios = [peer_ms[n] / cases[n]["time_ms"] if n in cases and peer_ms.get(n) else 0 for n in shapes]
            axes[2].bar(offset(i), ratios, width, label=label)

    axes[0].set_ylabel("time per launch (ms)" + (", log scale" if log_time else ""))
    if log_time:
        axes[0].set_yscale("log")
    axes[1].set_ylabel("fraction of the ceiling\n(R read stream, C copy BW, G GEMM)")
    axes[1].axhline(1.0, color="gray", linestyle="--", linewidth=0.8)
    if peer_ms:
        axes[2].set_ylabel(f"{peer_name} time / libmla time")
        axes[2].axhline(1.0, color="gray", linestyle="--", linewidth=0.8)
    axes[-1].set_xticks(list(xs))
    axes[-1].set_xticklabels(shapes, rotation=45 if len(shapes) > 12 else 0)
    for ax in axes:
        ax.grid(axis="y", alpha=0.3)
    if len(series) > 1:
        axes[0].legend(fontsize=8)
    ceil = []
    if number(first.get("copy_gbs")) is not None:
        ceil.append(f"copy {first['copy_gbs']:.1f} GB/s")
    if number(first.get("gemm_tflops")) is not None:
        ceil.append(f"GEMM {first['gemm_tflops']:.1f} TFLOP/s")
    title = args.title or (f"mla-bench on {first.get('device', '?')}, {first.get('dtype', '?')}; "
                           f"commit {first.get('commit', '?')}, {first.get('date', '?')}; "
                           f"ceilings: {', '.join(ceil) if ceil else 'unknown'}")
    fig.suptitle("\n".join(textwrap.wrap(title, 100)), fontsize=9)
    fig.tight_layout()
    try:
        fig.savefig(args.out, dpi=120)
    except OSError as e:
        sys.exit(f"plot_bench.py: {args.out}: {e}")
    print(f"plot_bench.py: wrote {args.out} ({len(shapes)} shapes, {len(series)} series"
          f"{', ratio to ' + peer_name if peer_ms else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
