#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The committed GPU check of libmla's CUDA backend (docs/design.md sections 5
# and 6): build (or take a prebuilt tree), run the CUDA tests, the conformance
# suite with every case repeated and compared bit for bit on every kernel
# variant and a batch-invariant context, compute-sanitizer's four tools on
# the tests and on mla-bench D1-D10, the ceilings (copy, read-only stream,
# bf16 GEMM), mla-bench on D1-D10 against them (default kernel, mma.sync,
# batch-invariant), op B (decompressed prefill): its tests, its conformance
# cases, mla-bench P1-P7 (auto and decompressed), the seed table and the
# break-even at H 16 and 128, and the anchor (tools/gpu/opb_anchor.py: torch
# decompression + cuDNN SDPA on the same shapes), and, where the peer is
# prepared (.peer/, see ../shared/peer/README.md), FlashMLA side by side on
# the same tensors.
# Writes $OUT/summary.md (date, GPU, commit, every table, pass/fail) + logs.
#
#   tools/gpu/check.sh [--prebuilt BUILD_DIR] [--arch "90a-real"] [--out DIR]
#                      [--parts correctness,perf,peer] [--quick] [--repeats N]
#                      [--old-build DIR]
#
# --parts picks what runs (default: all three), so a short device budget can
#   split the check over calls; each call writes its own summary.  On one
#   H200 the correctness part takes about 11 minutes at 50 repeats (the
#   device tool allows 10 per call: use --quick or fewer repeats there).
# --quick: the quick suite only (no full suite, no mma.sync bench).
# --repeats N: repeats per conformance case (default 50).
# --old-build DIR: first, run the harness's schedule-scale cases against an
#   older build's plugins (e.g. cd37044, an ABI 1.0 build: --memory cuda), to
#   show which checks catch it.
# --prebuilt uses binaries built elsewhere (bin/ and lib/ of a build tree).
# MLA_COMMIT overrides the commit recorded when the tree has no .git.
set -u -o pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$here/gpu-check-out}
arch="90a-real"
prebuilt=""
parts="correctness,perf,peer"
quick=0
repeats=50
old_build=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prebuilt) prebuilt=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --parts) parts=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --repeats) repeats=$2; shift 2 ;;
    --old-build) old_build=$2; shift 2 ;;
    *) echo "usage: $0 [--prebuilt DIR] [--arch ARCHS] [--out DIR] [--parts correctness,perf,peer] [--quick]" \
            "[--repeats N] [--old-build DIR]" >&2; exit 2 ;;
  esac
done
has() { case ",$parts," in *",$1,"*) return 0 ;; esac; return 1; }
mkdir -p "$out"
logs=$out/logs
mkdir -p "$logs"
summary=$out/summary.md
failures=0
t0=$(date +%s)
note() { echo "[$(( $(date +%s) - t0 ))s] $*" | tee -a "$logs/check.log"; }
fail() { failures=$((failures + 1)); note "FAILED: $*"; }

# ---- build
if [ -n "$prebuilt" ]; then
  build=$(cd "$prebuilt" && pwd)
  note "using prebuilt binaries in $build"
else
  build=$here/build-check
  note "building in $build (CUDA architectures $arch)"
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMLA_ENABLE_HIP=OFF \
        -DCMAKE_CUDA_ARCHITECTURES="$arch" >"$logs/build.log" 2>&1 &&
    cmake --build "$build" -j"$(nproc)" >>"$logs/build.log" 2>&1 || { note "BUILD FAILED (see build.log)"; exit 1; }
fi
# Libraries the build machine had and the GPU machine may lack (TBB, OpenMP,
# the CUDA runtime the tools open at run time).
[ -d "$build/extlib" ] && export LD_LIBRARY_PATH="$build/extlib:${LD_LIBRARY_PATH:-}"
export LD_LIBRARY_PATH="$build/lib:${LD_LIBRARY_PATH:-}"
export MLA_BACKEND_PATH="$build/lib/mla"
san=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)

gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
commit=${MLA_COMMIT:-$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=$(git -C "$here" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with local changes)")
sass=$(cuobjdump --dump-sass "$build/lib/mla/libmla_backend_cuda.so" 2>/dev/null | grep -oE 'HGMMA|HMMA' | sort | uniq -c |
       awk '{printf "%s %s, ", $1, $2}')
clocks() { nvidia-smi --query-gpu=clocks.sm,clocks.mem,power.draw,temperature.gpu --format=csv,noheader 2>/dev/null | head -1; }
note "GPU: ${gpu:-none} x$gpus   commit: $commit${dirty:-}   parts: $parts"

# Last line of a log, or why there is none.
last() { [ -s "$1" ] && tail -1 "$1" || echo "(no output)"; }
# "N errors" / "N hazards" of a compute-sanitizer log.
san_count() {
  local f=$1 n
  n=$(grep -hoE 'ERROR SUMMARY: [0-9]+ error' "$f" | tail -1 | grep -oE '[0-9]+')
  [ -z "$n" ] && n=$(grep -hoE 'RACECHECK SUMMARY: [0-9]+ hazard' "$f" | tail -1 | grep -oE '[0-9]+')
  echo "${n:-?}"
}

tests_table="" conf_table="" san_table="" stress_table="" old_table=""
# ============================================================ correctness
if has correctness; then
  # Sanitizers run beside the conformance suite (on a second GPU when there
  # is one): the four tools on the CUDA tests and on mla-bench D1-D10, one
  # iteration each, ceilings given so the bench measures none.
  printf 'copy_gbs=1\ngemm_tflops=1\n' >"$logs/dummy_ceilings.txt"
  (
    [ "$gpus" -gt 1 ] && export CUDA_VISIBLE_DEVICES=1
    for tool in memcheck racecheck synccheck initcheck; do
      for prog in cuda_absorbed_test cuda_decompressed_test cuda_plugin_api_test; do
        timeout 300 "$san" --tool "$tool" "$build/bin/$prog" >"$logs/san_${tool}_$prog.log" 2>&1
        echo "rc=$?" >>"$logs/san_${tool}_$prog.log"
      done
      timeout 400 "$san" --tool "$tool" "$build/bin/mla-bench" --backend cuda --iters 1 --repeats 1 \
        --ceilings "$logs/dummy_ceilings.txt" --cases D1,D2,D3,D4,D5,D6,D7,D8,D9,D10 >"$logs/san_${tool}_bench.log" 2>&1
      echo "rc=$?" >>"$logs/san_${tool}_bench.log"
      # Op B: P1 and P6 (a cached prefix) in every mode, one iteration each.
      for m in auto decompressed absorbed; do
        timeout 400 "$san" --tool "$tool" "$build/bin/mla-bench" --backend cuda --iters 1 --repeats 1 \
          --ceilings "$logs/dummy_ceilings.txt" --cases P1,P6 --op-b-mode $m >"$logs/san_${tool}_bench_opb_$m.log" 2>&1
        echo "rc=$?" >>"$logs/san_${tool}_bench_opb_$m.log"
      done
    done
  ) &
  san_pid=$!

  for t in cuda_absorbed_test cuda_decompressed_test cuda_plugin_api_test; do
    "$build/bin/$t" >"$logs/$t.log" 2>&1
    rc=$?
    tests_table+="| $t | $( [ $rc -eq 0 ] && echo pass || { [ $rc -eq 77 ] && echo skipped || echo "FAIL (rc $rc)"; }) | $(grep -E 'test cases:' "$logs/$t.log" | tail -1 | sed 's/\[doctest\] //') |"$'\n'
    [ $rc -ne 0 ] && [ $rc -ne 77 ] && fail "$t"
  done

  conf() {  # name args...
    local name=$1; shift
    timeout 900 "$build/bin/mla-conformance" "$@" --report "$logs/$name.json" >"$logs/$name.log" 2>&1
    local rc=$?
    conf_table+="| \`mla-conformance $*\` | $(last "$logs/$name.log") | rc $rc |"$'\n'
    [ $rc -ne 0 ] && fail "mla-conformance $*"
    note "conformance $name rc=$rc: $(last "$logs/$name.log")"
  }
  if [ -n "$old_build" ] && [ -d "$old_build/lib/mla" ]; then
    for k in wgmma $([ $quick -eq 0 ] && echo mma); do
      MLA_CUDA_KERNEL=$([ $k = mma ] && echo mma) MLA_BACKEND_PATH="$old_build/lib/mla" timeout 600 \
        "$build/bin/mla-conformance" --backend cuda --memory cuda --suite quick --filter schedule --repeats 8 \
        --report "$logs/old_$k.json" >"$logs/old_$k.log" 2>&1
      old_table+="| $k | $(last "$logs/old_$k.log") | $(grep -E '<-- FAILED' "$logs/old_$k.log" | awk '{printf "%s (%s failed) ", $1, $3}') |"$'\n'
    done
  fi

  # Every kernel variant, a batch-invariant context, schedule-scale cases,
  # every case repeated; concurrency over every GPU.
  conf conformance_quick_cuda --backend cuda --suite quick --repeats "$repeats"
  [ $quick -eq 0 ] && conf conformance_full_cuda --backend cuda --suite full --kernel wgmma
  conf conformance_quick_all --suite quick --repeats 1 --threads 4  # cuda against cpu (cross_backend)
  # Op B alone (its cases run in the suites above too): the full catalogue's
  # op B cases, every case repeated and compared bit for bit.
  conf conformance_opb_cuda --backend cuda --suite "$([ $quick -eq 0 ] && echo full || echo quick)" \
    --filter decompressed/ --repeats "$(( repeats < 10 ? repeats : 10 ))"

  # D1-D10 exactly as the peer harness builds them, through its ABI 1.0
  # ctypes caller: plan + run with the workspace as left or refilled with
  # 0x00 / 0xff / random bytes, then runs after one plan, bitwise.
  if [ -f "$here/.peer/sbs/stress.py" ]; then
    fm=$here/.peer/FlashMLA
    ls "$fm"/flash_mla/cuda*.so >/dev/null 2>&1 || fm=$here/.peer/stub
    for k in "" $([ $quick -eq 0 ] && echo mma); do
      MLA_CUDA_KERNEL=$k timeout 400 python3 "$here/.peer/sbs/stress.py" --build "$build" --flashmla "$fm" \
        --shapes D1,D2,D3,D4,D5,D6,D7,D8,D9,D10 --trials 13 --runs 50 --json "$logs/stress$k.jsonl" \
        >"$logs/stress$k.log" 2>&1 || fail "stress ${k:-wgmma}"
      python3 - "$logs/stress$k.jsonl" "${k:-default}" >>"$logs/stress_table.md" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for r in rows:
    print(f"| {sys.argv[2]} | {r['shape']} | {r['trials']} | {r['plan_mismatch']} | {r['runs']} | {r['run_mismatch']} "
          f"| {r['sample_fail']} | {r.get('fm_run_mismatch', '—')} |")
EOF
    done
    stress_table=$(cat "$logs/stress_table.md" 2>/dev/null)
    awk -F'|' 'NF > 8 && ($5 + 0 > 0 || $7 + 0 > 0) { bad = 1 } END { exit bad }' "$logs/stress_table.md" ||
      fail "stress: a repeat differed"
  else
    stress_table="| — | not run: no .peer/sbs (../shared/peer/README.md) | | | | | | |"
  fi

  wait "$san_pid"
  for f in "$logs"/san_*.log; do
    name=$(basename "$f" .log)
    n=$(san_count "$f")
    rc=$(grep -oE '^rc=[0-9]+' "$f" | tail -1 | cut -d= -f2)
    san_table+="| ${name#san_} | $n | rc ${rc:-?} |"$'\n'
    [ "$n" != 0 ] && fail "$name: $n"
    case "$rc" in 0) ;; *) fail "$name exited $rc" ;; esac
  done
fi

# ============================================================ perf
bench_md="" ceilings_md="" invariant_md="" opb_md="" seed_md="" anchor_md=""
if has perf; then
  "$build/bin/mla-ceilings" >"$out/ceilings.txt" 2>"$logs/ceilings.err" || fail "mla-ceilings"
  ceilings_md=$(cat "$out/ceilings.txt")
  bench() {  # name extra-args...
    local name=$1; shift
    note "bench $name (clocks before: $(clocks))"
    "$build/bin/mla-bench" --backend cuda --cases D1,D2,D3,D4,D5,D6,D7,D8,D9,D10 --repeats 5 \
      --ceilings "$out/ceilings.txt" --json "$out/bench_$name.json" "$@" >"$logs/bench_$name.log" 2>&1 || fail "mla-bench $name"
    note "bench $name done (clocks after: $(clocks))"
  }
  bench default
  [ $quick -eq 0 ] && MLA_CUDA_KERNEL=mma bench mma
  bench invariant --batch-invariant
  bench_md=$(sed -n '/^backend:/,$p' "$logs/bench_default.log")
  # Op B: P1-P7 in auto and decompressed mode, the seed table and the
  # break-even at H 16 and 128, and the anchor on the same shapes.
  opb_bench() {  # name extra-args...
    local name=$1; shift
    note "bench $name (clocks before: $(clocks))"
    "$build/bin/mla-bench" --backend cuda --cases P1,P2,P3,P4,P5,P6,P7 --repeats 5 \
      --ceilings "$out/ceilings.txt" --json "$out/bench_$name.json" "$@" >"$logs/bench_$name.log" 2>&1 || fail "mla-bench $name"
  }
  opb_bench opb --op-b-mode auto
  [ $quick -eq 0 ] && opb_bench opb_decompressed --op-b-mode decompressed
  for h in 16 128; do
    sizes=$([ "$h" = 16 ] && echo 512,1024,2048,4096,8192,16384 || echo 512,1024,2048,4096,8192)
    [ $quick -eq 1 ] && sizes=512,2048,8192
    note "seed table and break-even, H $h"
    "$build/bin/mla-bench" --backend cuda --seed-table --seed-table-sizes "$sizes" --seed-table-heads "$h" \
      --break-even 4096 --repeats 3 >"$logs/seed_table_h$h.log" 2>&1 || fail "mla-bench --seed-table H $h"
  done
  seed_md=$(for h in 16 128; do grep -E '^(seed table|break-even|\|)' "$logs/seed_table_h$h.log"; echo; done)
  if python3 -c 'import torch' 2>/dev/null; then
    python3 "$here/tools/gpu/opb_anchor.py" --json "$out/opb_anchor.json" >"$logs/opb_anchor.log" 2>&1 ||
      fail "opb_anchor.py"
    anchor_md=$(python3 "$here/tools/gpu/opb_anchor.py" --compare "$out/bench_opb.json" "$out/opb_anchor.json" 2>&1)
  else
    anchor_md="not run: python3 has no torch on this machine"
  fi
  opb_md=$(sed -n '/^backend:/,$p' "$logs/bench_opb.log")
  # Cost of batch invariance per shape: invariant time / default time.
  invariant_md=$(python3 - "$out/bench_default.json" "$out/bench_invariant.json" <<'EOF' 2>&1
import json, sys
d = {c["name"]: c for c in json.load(open(sys.argv[1]))["cases"]}
v = {c["name"]: c for c in json.load(open(sys.argv[2]))["cases"]}
print("| shape | default ms | batch-invariant ms | cost |")
print("|---|---|---|---|")
for n in d:
    if n in v and d[n].get("time_ms") and v[n].get("time_ms"):
        print(f"| {n} | {d[n]['time_ms']:.4g} | {v[n]['time_ms']:.4g} | {v[n]['time_ms'] / d[n]['time_ms']:.2f}x |")
EOF
)
  python3 "$here/tools/bench/plot_bench.py" "$out/bench_default.json" \
    $([ $quick -eq 0 ] && echo "$out/bench_mma.json") "$out/bench_invariant.json" \
    --out "$out/bench.png" >"$logs/plot.log" 2>&1 || note "no plot (see plot.log)"
fi

# ============================================================ peer
peer_md=""
if has peer; then
  if [ -f "$here/.peer/sbs/run_device.sh" ] && [ -d "$here/.peer/FlashMLA" ]; then
    # The peer's own script (it expects the build at ./build-cuda): FlashMLA's
    # build, then sbs eager and graph.
    [ -e "$here/build-cuda" ] || ln -s "$build" "$here/build-cuda"
    ( cd "$here" && OUT="$logs/peer" bash .peer/sbs/run_device.sh '' build eager graph ) >"$logs/peer.log" 2>&1 ||
      fail "side-by-side"
    peer_md=$(cat "$logs/peer/results.md" 2>/dev/null || echo "no results.md (see logs/peer.log)")
    cp "$logs/peer/results.md" "$out/peer_results.md" 2>/dev/null
  else
    peer_md="not run: .peer/FlashMLA and .peer/sbs are not prepared (../shared/peer/README.md)"
  fi
fi

{
  echo "# libmla CUDA check — $(date -u +%Y-%m-%d) on ${gpu:-no GPU} (x$gpus)"
  echo
  echo "- commit: \`$commit\`${dirty:-}"
  echo "- date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  echo "- script: \`tools/gpu/check.sh --parts $parts$([ $quick -eq 1 ] && echo " --quick") --repeats $repeats${prebuilt:+ --prebuilt <build>}\`, CUDA architectures $arch"
  echo "- tensor-core instructions in the plugin's SASS: ${sass:-cuobjdump not available}"
  echo "- SM clock, memory clock, power, temperature at the end: $(clocks)"
  if has correctness; then
    echo
    echo "## Tests"
    echo
    echo "| program | verdict | counts |"
    echo "|---|---|---|"
    printf "%s" "$tests_table"
    echo
    echo "## Conformance (every kernel variant and a batch-invariant context; each case repeated, bitwise)"
    echo
    echo "| run | last line | status |"
    echo "|---|---|---|"
    printf "%s" "$conf_table"
    if [ -n "$old_table" ]; then
      echo
      echo "### The same harness against the old build ($old_build)"
      echo
      echo "| kernel | last line | failed checks |"
      echo "|---|---|---|"
      printf "%s" "$old_table"
    fi
    echo
    echo "## D1-D10 repeated (peer stress tool, ABI 1.0 caller): mismatching calls"
    echo
    echo "| kernel | shape | plan+run calls | differing | runs after one plan | differing | oracle-sample failures | FlashMLA differing runs |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "$stress_table"
    echo
    echo "## compute-sanitizer (errors / hazards)"
    echo
    echo "| tool and program | count | exit |"
    echo "|---|---|---|"
    printf "%s" "$san_table"
  fi
  if has perf; then
    echo
    echo "## Ceilings (measured in this run)"
    echo
    echo '```'
    echo "$ceilings_md"
    echo '```'
    echo
    echo "## D1-D10 (bf16, page 64, causal; median of device-timed back-to-back runs)"
    echo
    echo "$bench_md"
    echo
    echo "### Batch invariance: its cost per shape (MLA_CONTEXT_BATCH_INVARIANT)"
    echo
    echo "$invariant_md"
    if [ $quick -eq 0 ]; then
      echo
      echo "### The portable mma.sync kernel (MLA_CUDA_KERNEL=mma)"
      echo
      grep '^|' "$logs/bench_mma.log"
    fi
    echo
    echo "## Op B: P1-P7 (bf16, page 64, causal; MLA_DECOMPRESSED_AUTO)"
    echo
    echo "$opb_md"
    if [ $quick -eq 0 ]; then
      echo
      echo "### MLA_DECOMPRESSED_FORCE"
      echo
      grep '^|' "$logs/bench_opb_decompressed.log"
    fi
    echo
    echo "### Against the anchor (torch bf16 decompression + F.scaled_dot_product_attention, cuDNN)"
    echo
    echo "$anchor_md"
    echo
    echo "### Seed table and break-even (caps.decompressed_break_even_q is provisional until these are read)"
    echo
    echo "$seed_md"
  fi
  if has peer; then
    echo
    echo "## Side by side with FlashMLA (same process, same tensors; ratio = FlashMLA time / libmla time)"
    echo
    echo "$peer_md"
  fi
  echo
  echo "Overall: $([ $failures -eq 0 ] && echo "all steps passed" || echo "$failures step(s) FAILED")"
} >"$summary"
cat "$summary"
# The device tool returns at most 8 files from $OUT: keep the summary, the
# ceilings, the bench JSON and plot loose; pack every log and report.
tar czf "$out/check-logs.tgz" -C "$out" logs && rm -rf "$logs"
exit $((failures > 0))
