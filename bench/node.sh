#!/usr/bin/env bash
# Node benchmarks: 3 real nodes on loopback (the writer in the benchmark process, two owners as child
# processes), R = 3, interleaved round by round with their references:
#   bench/node.sh [ROUNDS]     (default 5; BYTES=1073741824 by default; data dirs under $TMPDIR or /tmp)
# 1. BYTES stored through one node until every chunk has R copies (the writer's durable replication
#    queue is empty)  vs  a bare TLS 1.3 copy loop of the same BYTES to two receivers at once (the two
#    remote copies R = 3 needs) and to one receiver; each after an untimed warm-up of its own kind, and
#    each node run once the disk has settled from the run before (see settle in bench/common.sh).
# 2. 1,000 files of 4 KiB stored one after another through one node until all are replicated.
# 3. Peak RSS (VmHWM) of every node over the 1 GiB run.
# 4. The disk's own ceiling for this test: the three nodes share one disk, so every stored byte is written
#    to it three times. fio writes 3 x BYTES at once with direct 1 MiB writes and a final fsync (what the
#    three nodes' stores do); a third of its MiB/s is the most any store with R = 3 could reach here. The
#    bare TLS reference never touches the disk.
# 5. CPU seconds per GiB of all the processes over each timed run, ours and the bare copy to 2 receivers:
#    on two shared cores a run that is not waiting on the disk is bound by this, so bare / ours is the
#    ratio a CPU-bound run would show, whatever the disk does that day.
# With BASELINE=REV, each round also runs the store and small-file benchmarks of that revision (built
# from a worktree of it), alternating with this one's, and a last table gives now / before.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bytes=${BYTES:-1073741824}
. bench/common.sh
base_bench=""
if [ -n "${BASELINE:-}" ]; then
  base_dir=$(baseline_checkout "$BASELINE")
  dotnet build "$base_dir/bench/NexNet.Benchmarks" -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
  base_bench="$base_dir/bench/NexNet.Benchmarks/bin/Release/net10.0/NexNet.Benchmarks"
fi
declare -a b_ours b_small r_b_ours r_b_small
command -v fio >/dev/null || { echo "installing fio (the disk ceiling)" >&2; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fio >/dev/null; }
# Every run's data dirs stay until the end: this machine's ext4 has no journal, and such an ext4 will not
# reuse an inode freed in the last 60-300 s, scanning past each one on every create. Deleting a round's
# 4,000 files made the next round's creates pay for it (10% of all CPU samples in recently_deleted).
work=$(mktemp -d "${TMPDIR:-/tmp}/nexnet-node-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TMPDIR=$work NEXNET_BENCH_KEEP_DATA=1
pct() { awk -v r="$(m "$@")" 'BEGIN {printf "%.0f%%", r*100}'; }
# disk_ceiling: MiB/s of 3 x BYTES written at once as the three stores write them, divided by 3.
disk_ceiling() {
  local dir="$work/fio" out
  mkdir -p "$dir"
  out=$(fio --name=ceiling --directory="$dir" --rw=write --bs=1M --size="$bytes" --numjobs=3 --direct=1 --end_fsync=1 \
    --group_reporting --output-format=json)
  rm -rf "$dir"
  python3 -c 'import json,sys; print(round(json.load(sys.stdin)["jobs"][0]["write"]["bw"] / 1024 / 3))' <<<"$out"
}

declare -a ours fan one r_fan r_one small rss_w rss_max disk r_disk cpu cpu_fan r_cpu cpu_small
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then settle; read -r o w b c u < <($bench node store "$bytes"); settle; read -r f fu < <($bench p2p bare "$bytes" 2); read -r s _ < <($bench p2p bare "$bytes");
  else settle; read -r f fu < <($bench p2p bare "$bytes" 2); read -r s _ < <($bench p2p bare "$bytes"); settle; read -r o w b c u < <($bench node store "$bytes"); fi
  settle; read -r n _ _ _ nu < <($bench node small 1000 4096)
  if [ -n "$base_bench" ]; then
    settle; read -r bo _ _ _ _ < <($base_bench node store "$bytes"); settle; read -r bn _ _ _ _ < <($base_bench node small 1000 4096)
    b_ours+=("$bo"); b_small+=("$bn")
    r_b_ours+=("$(awk -v x="$o" -v y="$bo" 'BEGIN {print x/y}')"); r_b_small+=("$(awk -v x="$n" -v y="$bn" 'BEGIN {print x/y}')")
    echo "round $i/$rounds, baseline $BASELINE: store+replicate $bo MiB/s; 1000 x 4 KiB: $bn files/s" >&2
  fi
  settle; d=$(disk_ceiling)
  ours+=("$o"); fan+=("$f"); one+=("$s"); small+=("$n"); rss_w+=("$w"); disk+=("$d")
  r_disk+=("$(awk -v x="$o" -v y="$d" 'BEGIN {print x/y}')")
  cpu+=("$u"); cpu_fan+=("$fu"); cpu_small+=("$nu"); r_cpu+=("$(awk -v x="$u" -v y="$fu" 'BEGIN {print y/x}')")
  rss_max+=("$(printf '%s\n' "$w" "$b" "$c" | sort -g | tail -1)")
  r_fan+=("$(awk -v x="$o" -v y="$f" 'BEGIN {print x/y}')"); r_one+=("$(awk -v x="$o" -v y="$s" 'BEGIN {print x/y}')")
  echo "round $i/$rounds: store+replicate $o MiB/s (RSS $w/$b/$c MiB); bare TLS to 2: $f MiB/s, to 1: $s MiB/s; 1000 x 4 KiB: $n files/s; disk ceiling for 3 copies: $d MiB/s; CPU-s per GiB: ours $u, bare TLS to 2 $fu; CPU-ms per small file: $nu" >&2
done

echo
echo "Node benchmarks, $(date -u +%Y-%m-%d), $rounds interleaved rounds, medians; ratio = median of per-round ratios"
echo
echo "| measurement | NexNet.Fs | reference | ratio | target |"
echo "|---|---|---|---|---|"
echo "| $((bytes / 1048576)) MiB stored through one of 3 nodes until R = 3 copies exist | $(m "${ours[@]}") MiB/s | bare TLS 1.3 copy of the same bytes to 2 receivers at once: $(m "${fan[@]}") MiB/s | $(pct "${r_fan[@]}") | >= 50% |"
echo "| (same) | | bare TLS 1.3 copy to 1 receiver: $(m "${one[@]}") MiB/s | $(pct "${r_one[@]}") | |"
echo "| (same) | | the disk's ceiling for 3 copies on it (fio: 3 x $((bytes / 1048576)) MiB direct 1 MiB writes + fsync, / 3): $(m "${disk[@]}") MiB/s | $(pct "${r_disk[@]}") | |"
echo "| CPU seconds per GiB (all processes, over the timed run; the disk's speed does not move it) | $(m "${cpu[@]}") CPU-s | bare TLS to 2 receivers: $(m "${cpu_fan[@]}") CPU-s | $(pct "${r_cpu[@]}") (bare / ours: the ratio a CPU-bound run would show) | |"
echo "| 1,000 files of 4 KiB stored and replicated (R = 3) | $(m "${small[@]}") files/s, $(m "${cpu_small[@]}") CPU-ms per file | | | |"
echo "| peak RSS of any node while $((bytes / 1048576)) MiB moves | $(m "${rss_max[@]}") MiB (writer $(m "${rss_w[@]}") MiB) | | | < 200 MiB |"
if [ -n "$base_bench" ]; then
  echo
  echo "| this revision against $BASELINE, same run | now | before | now / before (median of per-round ratios) |"
  echo "|---|---|---|---|"
  echo "| $((bytes / 1048576)) MiB stored and replicated (R = 3) | $(m "${ours[@]}") MiB/s | $(m "${b_ours[@]}") MiB/s | $(pct "${r_b_ours[@]}") |"
  echo "| 1,000 files of 4 KiB stored and replicated | $(m "${small[@]}") files/s | $(m "${b_small[@]}") files/s | $(pct "${r_b_small[@]}") |"
fi
