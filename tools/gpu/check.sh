#!/usr/bin/env bash
# The committed GPU check of libmla's CUDA backend (DESIGN.md 7 and 8): build,
# run the CUDA tests, the conformance suite (full on cuda; quick on every
# usable backend, which cross-checks cuda against cpu), measure the ceilings
# (copy bandwidth, bf16 GEMM) and run mla-bench on D1-D10 against them, then
# write $OUT/summary.md (date, GPU, commit, tables, ratios, pass/fail) + logs.
#
#   tools/gpu/check.sh [--prebuilt BUILD_DIR] [--arch "90a-real"] [--out DIR] [--quick]
#
# --quick (for a short device budget): the quick suite instead of the full
# one, and no mma.sync comparison; the summary says so.
# --prebuilt uses binaries built elsewhere (bin/ and lib/ of a build tree,
# e.g. carried to the GPU machine) instead of building here.
# MLA_COMMIT overrides the commit recorded when the tree has no .git.
set -u -o pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
out=${OUT:-$here/gpu-check-out}
arch="90a-real"
prebuilt=""
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prebuilt) prebuilt=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "usage: $0 [--prebuilt BUILD_DIR] [--arch ARCHS] [--out DIR] [--quick]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
summary=$out/summary.md
failures=0
note() { echo "$*" | tee -a "$out/check.log"; }

# ---- build
if [ -n "$prebuilt" ]; then
  build=$(cd "$prebuilt" && pwd)
  note "using prebuilt binaries in $build"
else
  build=$here/build-check
  note "building in $build (CUDA architectures $arch)"
  cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMLA_ENABLE_HIP=OFF \
        -DCMAKE_CUDA_ARCHITECTURES="$arch" >"$out/build.log" 2>&1 &&
    cmake --build "$build" -j"$(nproc)" >>"$out/build.log" 2>&1 || { note "BUILD FAILED (see build.log)"; exit 1; }
fi
# Libraries the build machine had and the GPU machine may lack (TBB, OpenMP).
[ -d "$build/extlib" ] && export LD_LIBRARY_PATH="$build/extlib:${LD_LIBRARY_PATH:-}"
export MLA_BACKEND_PATH="$build/lib/mla"

sass=$(cuobjdump --dump-sass "$build/lib/mla/libmla_backend_cuda.so" 2>/dev/null | grep -oE 'HGMMA|HMMA' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}')
gpu=$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)
commit=${MLA_COMMIT:-$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)}
dirty=$(git -C "$here" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo " (with local changes)")
note "GPU: ${gpu:-none}   commit: $commit${dirty:-}"

# ---- CUDA unit tests (exit 77 = skipped without a device)
tests_line=""
for t in cuda_absorbed_test cuda_plugin_api_test; do
  "$build/bin/$t" >"$out/$t.log" 2>&1
  rc=$?
  tests_line+="| $t | $( [ $rc -eq 0 ] && echo pass || { [ $rc -eq 77 ] && echo skipped || echo "FAIL (rc $rc)"; }) | $(grep -E 'test cases:' "$out/$t.log" | tail -1 | sed 's/\[doctest\] //') |"$'\n'
  [ $rc -ne 0 ] && [ $rc -ne 77 ] && failures=$((failures + 1))
done

# ---- conformance: full suite on cuda, quick suite on every usable backend
conf() {  # name args...  (runs in $(...): the caller counts failures from the rc column)
  local name=$1; shift
  timeout 900 "$build/bin/mla-conformance" "$@" --report "$out/$name.json" >"$out/$name.log" 2>&1
  local rc=$?
  echo "| mla-conformance $* | $(tail -1 "$out/$name.log") | rc $rc |"
}
conf_full="| mla-conformance --backend cuda --suite full | not run (--quick) | rc 0 |"
conf_mma="| mla-conformance --backend cuda --suite quick | not run (--quick) | rc 0 |"
[ $quick -eq 0 ] && conf_full=$(conf conformance_full_cuda --backend cuda --suite full)
conf_quick=$(conf conformance_quick_all --suite quick)
# The portable mma.sync kernel too (on Hopper it serves only what the wgmma
# kernel does not take, so force it here to keep it checked).
[ $quick -eq 0 ] && conf_mma=$(export MLA_CUDA_KERNEL=mma; conf conformance_quick_cuda_mma --backend cuda --suite quick)
for line in "$conf_full" "$conf_quick" "$conf_mma"; do
  case "$line" in *"| rc 0 |") ;; *) failures=$((failures + 1)) ;; esac
done

# ---- ceilings and the benchmark
"$build/bin/mla-ceilings" >"$out/ceilings.txt" 2>"$out/ceilings.err" || failures=$((failures + 1))
"$build/bin/mla-bench" --backend cuda --cases D1,D2,D3,D4,D5,D6,D7,D8,D9,D10 --repeats 5 \
  --ceilings "$out/ceilings.txt" --json "$out/bench.json" >"$out/bench.log" 2>&1 || failures=$((failures + 1))
# For comparison: the same shapes on the portable mma.sync kernel.
if [ $quick -eq 0 ]; then
  MLA_CUDA_KERNEL=mma "$build/bin/mla-bench" --backend cuda --cases D1,D2,D3,D4,D5,D6,D7,D8,D9,D10 --repeats 3 \
    --ceilings "$out/ceilings.txt" >"$out/bench_mma.log" 2>&1 || failures=$((failures + 1))
else
  echo "not run (--quick)" >"$out/bench_mma.log"
fi

{
  echo "# libmla CUDA check — $(date -u +%Y-%m-%d) on ${gpu:-no GPU}"
  echo
  echo "- commit: \`$commit\`${dirty:-}"
  echo "- date (UTC): $(date -u '+%Y-%m-%d %H:%M')"
  echo "- script: \`tools/gpu/check.sh${prebuilt:+ --prebuilt <build>}$([ $quick -eq 1 ] && echo " --quick")\`, CUDA architectures $arch"
  echo "- tensor-core instructions in the plugin's SASS: ${sass:-cuobjdump not available}"
  echo
  echo "## Tests"
  echo
  echo "| program | verdict | counts |"
  echo "|---|---|---|"
  printf "%s" "$tests_line"
  echo
  echo "| conformance run | last line | status |"
  echo "|---|---|---|"
  echo "$conf_full"
  echo "$conf_quick"
  echo "$conf_mma (MLA_CUDA_KERNEL=mma)"
  echo
  echo "## Ceilings (measured in this run)"
  echo
  echo '```'
  cat "$out/ceilings.txt"
  echo '```'
  echo
  echo "## D1–D10 (bf16, page 64, causal; time = median of device-timed back-to-back runs)"
  echo
  sed -n '/^backend:/,$p' "$out/bench.log"
  echo
  echo "Targets: D1, D2 >= 0.85 of copy BW; D3, D4, D8 >= 0.75 of the GEMM rate; D5, D6 within 2x of the bandwidth floor."
  echo
  echo "### The same shapes on the portable mma.sync kernel (MLA_CUDA_KERNEL=mma)"
  echo
  grep '^|' "$out/bench_mma.log" || cat "$out/bench_mma.log"
  echo
  echo "Overall: $([ $failures -eq 0 ] && echo "all steps passed" || echo "$failures step(s) FAILED")"
} >"$summary"
cat "$summary"
# The device tool returns at most 8 files from $OUT: keep the summary, the
# ceilings and the bench JSON loose and pack every log and report into one archive.
(cd "$out" && tar czf check-logs.tgz --remove-files ./*.log ./*.err conformance_*.json 2>/dev/null)
exit $((failures > 0))
