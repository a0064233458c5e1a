#!/usr/bin/env bash
# Foundation benchmarks, each side by side with its reference, interleaved round by round in one run
# so both see the same machine noise. Prints a Markdown table of medians and median ratios.
#
#   bench/foundation.sh [ROUNDS]        (default 5; BENCH_DIR picks the file system, default /var/tmp)
#
# 1. AES-256-CTR, 1 MiB buffers, one thread:   ours  vs  openssl speed -evp aes-256-ctr -bytes 16384
# 2. Chunk id of 1 MiB (keyed BLAKE3 since blob format 2; HMAC-SHA256 before):  ours  vs  openssl speed
#    -evp sha256 -bytes 1048576 (what an HMAC-SHA256 id costs at best)
# 3. Store 1 GiB as 1 MiB chunks (chunk id, seal, write, durable), wall time of the whole command,
#    vs dd bs=1M conv=fsync of the same bytes to the same file system.
#
# About 3: this machine's virtual disk writes blocks it has not written lately (or that were discarded:
# the file system is mounted with `discard`) at ~270 MB/s and recently freed blocks at ~1.1 GB/s, so a
# single write's speed depends on which blocks the allocator hands out. Each round therefore times dd
# twice: once interleaved with the store like everything else, and once more at once into the blocks
# its first run just freed (its best case, "dd warm"). Ratios are given against both. The store's
# fan-out folders are kept between runs (only blob files are deleted), as on a node that has been
# running: new blobs land in existing folders. Each timed command starts after a sync and once the
# device has no I/O in flight.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
seconds=${CRYPTO_SECONDS:-2}
work=${BENCH_DIR:-/var/tmp}/nexnet-bench-$$
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

dotnet build bench/NexNet.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
bench=bench/NexNet.Benchmarks/bin/Release/net10.0/NexNet.Benchmarks

device=$(basename "$(df --output=source "$work" | tail -n 1)")
settle() {
  sync
  local inflight=/sys/class/block/$device/inflight deadline=$((SECONDS + 30))
  [ -r "$inflight" ] || return 0
  while [ "$(awk '{print $1 + $2}' "$inflight")" -ne 0 ] && [ $SECONDS -lt $deadline ]; do sync; done
}
openssl_rate() { openssl speed -mr -seconds "$seconds" -bytes "$2" -evp "$1" 2>/dev/null | awk -F: '/^\+F:/ {print $4}'; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {print b-a}'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {print x/y}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.0f", b/1048576}'; }

time_dd() { settle; local t0; t0=$(now); dd if="$work/source.bin" of="$work/dd.out" bs=1M conv=fsync status=none; elapsed "$t0" "$(now)"; rm -f "$work/dd.out"; }
time_store() { settle; local t0; t0=$(now); $bench store "$work/source.bin" "$work/store" >/dev/null; elapsed "$t0" "$(now)"; find "$work/store" -type f -delete; }

head -c $((1024 * 1024 * 1024)) /dev/urandom >"$work/source.bin"
time_store >/dev/null # first run makes the fan-out folders; not counted
declare -a ours_enc ours_dec ssl_aes ours_id ssl_sha ours_store dd_store dd_warm r_enc r_dec r_id r_store r_warm
for ((i = 1; i <= rounds; i++)); do
  echo "round $i/$rounds" >&2
  a=$(openssl_rate aes-256-ctr 16384); e=$($bench crypto aes-ctr-encrypt "$seconds"); d=$($bench crypto aes-ctr-decrypt "$seconds")
  s=$(openssl_rate sha256 1048576); h=$($bench crypto chunk-id "$seconds")
  ssl_aes+=("$a"); ours_enc+=("$e"); ours_dec+=("$d"); ssl_sha+=("$s"); ours_id+=("$h")
  r_enc+=("$(ratio "$e" "$a")"); r_dec+=("$(ratio "$d" "$a")"); r_id+=("$(ratio "$h" "$s")")

  # Alternate which goes first, so neither always follows the other's clean-up.
  if ((i % 2)); then st=$(time_store); dd1=$(time_dd); dd2=$(time_dd); else dd1=$(time_dd); dd2=$(time_dd); st=$(time_store); fi
  ours_store+=("$st"); dd_store+=("$dd1"); dd_warm+=("$dd2")
  r_store+=("$(ratio "$dd1" "$st")"); r_warm+=("$(ratio "$dd2" "$st")")
  echo "  aes ours $(mib "$e") / openssl $(mib "$a") MiB/s; id $(mib "$h") / $(mib "$s"); store ${st}s / dd ${dd1}s / dd warm ${dd2}s" >&2
done

m() { printf '%s\n' "$@" | median; }
pct() { awk -v r="$1" 'BEGIN {printf "%.0f%%", r*100}'; }
secs() { awk -v s="$1" 'BEGIN {printf "%.2f s (%.0f MiB/s)", s, 1024/s}'; }
echo
echo "Foundation benchmarks, $(date -u +%Y-%m-%d), $rounds interleaved rounds, medians; ratio = median of per-round ratios"
echo "Disk: $(df --output=source,fstype "$work" | tail -n 1 | tr -s ' '); $(nproc) cores; $(openssl version | cut -d' ' -f1-2)"
echo
echo "| measurement | NexNet.Fs | reference | ratio | target |"
echo "|---|---|---|---|---|"
echo "| AES-256-CTR encrypt, 1 MiB, 1 thread | $(mib "$(m "${ours_enc[@]}")") MiB/s | openssl aes-256-ctr 16 KiB: $(mib "$(m "${ssl_aes[@]}")") MiB/s | $(pct "$(m "${r_enc[@]}")") | >= 50% |"
echo "| AES-256-CTR decrypt at offset 4093, 1 MiB | $(mib "$(m "${ours_dec[@]}")") MiB/s | openssl aes-256-ctr 16 KiB: $(mib "$(m "${ssl_aes[@]}")") MiB/s | $(pct "$(m "${r_dec[@]}")") | >= 50% |"
echo "| chunk id (keyed BLAKE3, blob format 2), 1 MiB | $(mib "$(m "${ours_id[@]}")") MiB/s | openssl sha256 1 MiB: $(mib "$(m "${ssl_sha[@]}")") MiB/s | $(pct "$(m "${r_id[@]}")") | >= 80% |"
echo "| store 1 GiB as 1 MiB chunks, durable | $(secs "$(m "${ours_store[@]}")") | dd bs=1M conv=fsync, interleaved: $(secs "$(m "${dd_store[@]}")") | $(pct "$(m "${r_store[@]}")") | >= 60% |"
echo "| (the same store) | | dd bs=1M conv=fsync, warm (best case): $(secs "$(m "${dd_warm[@]}")") | $(pct "$(m "${r_warm[@]}")") | >= 60% |"
