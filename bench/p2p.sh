#!/usr/bin/env bash
# Network benchmarks on loopback, each beside its reference and interleaved round by round:
#   bench/p2p.sh [ROUNDS]     (default 5; BYTES=2147483648 by default)
# 1. 2 GiB as one request's streamed body between two PeerNetworks  vs  a bare TLS 1.3 SslStream copy
#    loop of the same bytes (1 MiB writes), both ends in one process on this machine's cores; each side
#    runs an untimed 256 MiB transfer first so both are timed with their code compiled.
# 2. p50 / p99 of 1,000 sequential 16-byte request round trips (after 200 untimed).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
bytes=${BYTES:-2147483648}
. bench/common.sh

declare -a bare ours ratio p50 p99
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then read -r b _ < <($bench p2p bare "$bytes"); o=$($bench p2p stream "$bytes"); else o=$($bench p2p stream "$bytes"); read -r b _ < <($bench p2p bare "$bytes"); fi
  read -r l50 l99 < <($bench p2p latency 1000)
  bare+=("$b"); ours+=("$o"); ratio+=("$(awk -v x="$o" -v y="$b" 'BEGIN {print x/y}')"); p50+=("$l50"); p99+=("$l99")
  echo "round $i/$rounds: stream $o MiB/s, bare TLS $b MiB/s; latency p50 ${l50} us p99 ${l99} us" >&2
done

echo
echo "Network benchmarks, $(date -u +%Y-%m-%d), $rounds interleaved rounds, medians; ratio = median of per-round ratios"
echo
echo "| measurement | NexNet.Fs | reference | ratio | target |"
echo "|---|---|---|---|---|"
echo "| $((bytes / 1048576)) MiB as one stream over one loopback connection | $(m "${ours[@]}") MiB/s | bare SslStream copy loop (TLS 1.3): $(m "${bare[@]}") MiB/s | $(awk -v r="$(m "${ratio[@]}")" 'BEGIN {printf "%.0f%%", r*100}') | >= 80% |"
echo "| 1,000 sequential 16-byte requests, round trip | p50 $(m "${p50[@]}") µs, p99 $(m "${p99[@]}") µs | | | |"
