#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The anchor op B's prefill is measured against (issue 13): torch bf16,
the decompression by matmul (K = [c W_UK^T | kR], V = c W_UV^T for every
head) and F.scaled_dot_product_attention with the cuDNN backend (Dk 192,
Dv 128, causal bottom-right) on the shapes of docs/shapes.md P1-P7.
Times are CUDA events around `--iters` back-to-back calls, the median of
`--repeats`; the decompression and the attention are also timed alone.
Prints one JSON object (and writes it to --json):

  {"device": ..., "torch": ..., "cudnn": ..., "shapes": [
     {"name": "P1", "batch": 1, "s_q": 512, "cached": 0, "heads": 16,
      "backend": "cudnn", "decompress_ms": ..., "attention_ms": ..., "total_ms": ...,
      "tflops_total": ...}, ...]}

"backend" names the SDPA backend that ran: cudnn when it accepted the call,
else the one torch fell back to (flash / efficient / math), so a number is
never silently from another kernel.  Usage:

  python3 tools/gpu/opb_anchor.py [--shapes P1,...,P7] [--iters 10] [--repeats 5] [--json FILE]
  python3 tools/gpu/opb_anchor.py --compare BENCH_JSON ANCHOR_JSON   # markdown table, no torch needed

--compare reads mla-bench's --json of P1-P7 and this script's --json and
prints libmla's time against the anchor's per shape (issue 13's target:
libmla / anchor <= 1.0).
"""
import argparse
import json
import sys

SHAPES = {  # name: (sequences, new tokens, cached before, heads) -- docs/shapes.md
    "P1": (1, 512, 0, 16),
    "P2": (1, 2048, 0, 16),
    "P3": (1, 8192, 0, 16),
    "P4": (1, 16384, 0, 16),
    "P5": (1, 4096, 0, 128),
    "P6": (1, 512, 16384, 16),
    "P7": (4, 2048, 8192, 128),
}
DL, DR, DN, DV = 512, 64, 128, 128


def compare(bench_json, anchor_json):
    lib = {c["name"]: c for c in json.load(open(bench_json))["cases"]}
    anchor = json.load(open(anchor_json))
    print(f"anchor: torch {anchor['torch']}, cuDNN {anchor['cudnn']}, {anchor['device']}")
    print()
    print("| shape | libmla ms | libmla of GEMM | anchor ms (decompress + SDPA) | SDPA backend | libmla / anchor (target <= 1.0) |")
    print("|---|---|---|---|---|---|")
    for a in anchor["shapes"]:
        c = lib.get(a["name"], {})
        t, g = c.get("time_ms"), c.get("of_gemm")
        gemm = f"{g:.2f}" if g else "—"
        if "error" in a or not t:
            print(f"| {a['name']} | {t or '—'} | {gemm} | {a.get('error', '—')} | | |")
            continue
        print(f"| {a['name']} | {t:.4g} | {gemm} | {a['total_ms']:.4g} ({a['decompress_ms']:.3g} + "
              f"{a['attention_ms']:.3g}) | {a['backend']} | {t / a['total_ms']:.2f} |")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--compare", nargs=2, metavar=("BENCH_JSON", "ANCHOR_JSON"))
    ap.add_argument("--shapes", default=",".join(SHAPES))
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    if args.compare:
        return compare(*args.compare)

    import torch
    import torch.nn.functional as F
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.nn.attention.bias import causal_lower_right

    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device"}))
        return 77
    dev = torch.device("cuda")
    torch.manual_seed(0)
    report = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cudnn": torch.backends.cudnn.version(),
        "iters": args.iters,
        "repeats": args.repeats,
        "shapes": [],
    }

    def time_ms(fn):
        fn()  # warm-up (and cuDNN's plan build)
        torch.cuda.synchronize()
        times = []
        for _ in range(args.repeats):
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(args.iters):
                fn()
            stop.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(stop) / args.iters)
        times.sort()
        return times[len(times) // 2]

    for name in args.shapes.split(","):
        B, s_q, cached, H = SHAPES[name]
        s_k = cached + s_q
        bf = torch.bfloat16
        c = torch.randn(B, s_k, DL, device=dev, dtype=bf)
        kr = torch.randn(B, s_k, DR, device=dev, dtype=bf)
        # kv_b_proj [H * (Dn + Dv), Dl], variance 1/Dl (as mla-bench)
        w = (torch.randn(H, DN + DV, DL, device=dev) / DL**0.5).to(bf)
        w_uk = w[:, :DN, :].reshape(H * DN, DL)
        w_uv = w[:, DN:, :].reshape(H * DV, DL)
        q = torch.randn(B, H, s_q, DN + DR, device=dev, dtype=bf)
        scale = (DN + DR) ** -0.5

        def decompress():
            k_nope = (c @ w_uk.t()).view(B, s_k, H, DN)
            v = (c @ w_uv.t()).view(B, s_k, H, DV)
            k = torch.cat([k_nope, kr[:, :, None, :].expand(B, s_k, H, DR)], dim=-1)
            return k.transpose(1, 2), v.transpose(1, 2)  # [B, H, s_k, D]

        k, v = decompress()
        # Bottom-right causal (the cached prefix is visible to every new query).
        mask = causal_lower_right(s_q, s_k) if s_q != s_k else None
        used = None
        for backend, label in ((SDPBackend.CUDNN_ATTENTION, "cudnn"), (SDPBackend.FLASH_ATTENTION, "flash"),
                               (SDPBackend.EFFICIENT_ATTENTION, "efficient"), (SDPBackend.MATH, "math")):
            try:
                with sdpa_kernel(backend):
                    if mask is None:
                        F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
                    else:
                        F.scaled_dot_product_attention(q, k, v, attn_mask=mask, scale=scale)
                torch.cuda.synchronize()
                used = (backend, label)
                break
            except RuntimeError as e:
                print(f"[anchor] {name}: SDPA {label} refused: {str(e).splitlines()[0]}", file=sys.stderr)
        if used is None:
            report["shapes"].append({"name": name, "error": "no SDPA backend accepted the call"})
            continue

        def attention(kk=k, vv=v):
            with sdpa_kernel(used[0]):
                if mask is None:
                    return F.scaled_dot_product_attention(q, kk, vv, is_causal=True, scale=scale)
                return F.scaled_dot_product_attention(q, kk, vv, attn_mask=mask, scale=scale)

        def total():
            kk, vv = decompress()
            return attention(kk, vv)

        t_dec, t_att, t_all = time_ms(decompress), time_ms(attention), time_ms(total)
        pairs = B * (s_q * cached + s_q * (s_q + 1) // 2)  # visible (query, key) pairs, causal
        flops = 2 * H * pairs * (DN + DR + DV) + 2 * B * s_k * DL * H * (DN + DV)
        row = {"name": name, "batch": B, "s_q": s_q, "cached": cached, "heads": H, "backend": used[1],
               "decompress_ms": round(t_dec, 4), "attention_ms": round(t_att, 4), "total_ms": round(t_all, 4),
               "tflops_total": round(flops / (t_all * 1e-3) * 1e-12, 1)}
        print(f"[anchor] {json.dumps(row)}", file=sys.stderr)
        report["shapes"].append(row)
        del c, kr, w, w_uk, w_uv, q, k, v
        torch.cuda.empty_cache()

    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
