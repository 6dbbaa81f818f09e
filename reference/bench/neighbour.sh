#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The neighbour test of the cpu plugin: mla-demo decode throughput on a quiet
# machine and beside a competing CPU load (by default 2 busy threads, as an
# engine's own pool would be), and the ratio of the two medians.
#
#   bash reference/bench/neighbour.sh [--build DIR] [--reps N] [--threads N]
#        [--load-threads N] [--load stress-ng|shell] [--min-ratio R] [-- mla-demo options]
#
# Runs quiet and loaded demos alternately (drift hits both alike), prints each
# run, then the medians and loaded/quiet.  Exit 1 when --min-ratio is given
# and not reached.  The load: `stress-ng --cpu N` when installed (Debian
# package stress-ng), else N shell busy loops.  The demo runs with
# OMP_NUM_THREADS=--threads (default 2), the plugin's default thread count.
set -euo pipefail

build=build reps=5 threads=2 load_threads=2 load=auto min_ratio="" demo_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --load-threads) load_threads=$2; shift 2 ;;
    --load) load=$2; shift 2 ;;
    --min-ratio) min_ratio=$2; shift 2 ;;
    --) shift; demo_args=("$@"); break ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "neighbour.sh: unknown option $1 (--help)" >&2; exit 2 ;;
  esac
done
[ ${#demo_args[@]} -gt 0 ] || demo_args=(--steps 256)
demo="$build/bin/mla-demo"
[ -x "$demo" ] || { echo "neighbour.sh: no $demo (build first)" >&2; exit 2; }
if [ "$load" = auto ]; then
  if command -v stress-ng >/dev/null; then load=stress-ng; else load=shell; fi
fi

load_pids=()
start_load() {
  if [ "$load" = stress-ng ]; then
    stress-ng --cpu "$load_threads" --quiet & load_pids+=($!)
  else
    for _ in $(seq "$load_threads"); do (while :; do :; done) & load_pids+=($!); done
  fi
  sleep 0.5  # the load is on the cores before the demo starts
}
stop_load() {
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${load_pids[@]}"; do wait "$p" 2>/dev/null || true; done
  load_pids=()
}
trap stop_load EXIT

# One demo run: its decode tokens/s (exit 1 on an oracle mismatch stops the test).
decode_rate() {
  local out
  out=$(OMP_NUM_THREADS=$threads MLA_BACKEND_PATH="$build/lib/mla" "$demo" --backend cpu "${demo_args[@]}" 2>/dev/null)
  grep -q "all match" <<<"$out" || { echo "neighbour.sh: mla-demo failed:" >&2; echo "$out" >&2; exit 1; }
  sed -n 's/^decode: .* \([0-9][0-9]*\) tokens\/s.*/\1/p' <<<"$out"
}
median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

echo "neighbour: mla-demo ${demo_args[*]}, $threads plugin threads, load: $load x $load_threads, $reps reps"
echo "neighbour: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
quiet=() loaded=()
for i in $(seq "$reps"); do
  q=$(decode_rate)
  start_load
  l=$(decode_rate)
  stop_load
  quiet+=("$q") loaded+=("$l")
  echo "  rep $i: quiet $q tokens/s, loaded $l tokens/s"
done
mq=$(printf '%s\n' "${quiet[@]}" | median)
ml=$(printf '%s\n' "${loaded[@]}" | median)
ratio=$(awk -v l="$ml" -v q="$mq" 'BEGIN {printf "%.2f", l / q}')
echo "neighbour: quiet median $mq tokens/s, loaded median $ml tokens/s, loaded/quiet $ratio"
if [ -n "$min_ratio" ] && awk -v r="$ratio" -v m="$min_ratio" 'BEGIN {exit !(r < m)}'; then
  echo "neighbour: FAIL: loaded/quiet $ratio < $min_ratio" >&2
  exit 1
fi
