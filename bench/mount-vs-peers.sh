#!/usr/bin/env bash
# The mount against its peers, one run, same disk: 1 GiB sequential write (dd bs=1M conv=fsync, from a
# random file in RAM) and cold read (caches dropped), then a 13,000-file tar x, find and cat-all,
# through NexNet vs gocryptfs vs `rclone mount --vfs-cache-mode writes` (a local remote) vs the plain
# disk. ROUNDS rounds (default 5), targets interleaved inside each round (the order turning by one each
# round); prints per-round times and medians. Then peak RSS of the NexNet node while a 4 GiB file is
# copied in. BASELINE=REV adds a revision's build as a target; NOHISTORY=1 adds NexNet keeping no history.
#
#   bench/mount-vs-peers.sh [ROUNDS]      (root: mounts, drops caches; installs gocryptfs and rclone)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
say() { printf '%s\n' "$*" >&2; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

missing=()
for tool in gocryptfs rclone fusermount3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]/fusermount3/fuse3}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]/fusermount3/fuse3}" >/dev/null
fi
dotnet publish src/NexNet.Cli -c Release -o .build/bench-nexnet -nologo -clp:ErrorsOnly >/dev/null
nexnet=.build/bench-nexnet/nexnet
# BASELINE=REV adds that revision's mount as a fifth target ("before"), built from a worktree of it.
if [ -n "${BASELINE:-}" ]; then
  . bench/common.sh
  base_dir=$(baseline_checkout "$BASELINE")
  dotnet publish "$base_dir/src/NexNet.Cli" -c Release -o .build/bench-nexnet-before -nologo -clp:ErrorsOnly >/dev/null
fi

base="${BENCH_DIR:-/var/tmp/nexnet-bench}"    # on the same disk for every target
rm -rf "$base"; mkdir -p "$base"
work=/dev/shm/nexnet-bench; rm -rf "$work"; mkdir -p "$work"
cleanup() {
  for m in "$base"/mnt-*; do mountpoint -q "$m" 2>/dev/null && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m"; }; done
  [ -n "${nexnet_pid:-}" ] && kill "$nexnet_pid" 2>/dev/null || true
  [ -n "${rclone_pid:-}" ] && kill "$rclone_pid" 2>/dev/null || true
  [ -n "${before_pid:-}" ] && kill "$before_pid" 2>/dev/null || true
  [ -n "${nohistory_pid:-}" ] && kill "$nohistory_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Inputs in RAM, new for every round (a store that keeps chunks must not be handed the same bytes
# twice): 1 GiB of random bytes, and a 13,000-file tree (130 folders of 100 files, sizes spread
# log-uniformly from 100 B to 64 KiB, ~130 MB) as a tar.
make_inputs() {
  head -c 1073741824 /dev/urandom > "$work/r1g"
  rm -rf "$work/tree"
  python3 - "$work/tree" "$1" <<'PY'
import os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
random.seed(13000 + seed)
for d in range(130):
    os.makedirs(f"{root}/src/d{d:03}", exist_ok=True)
    for f in range(100):
        size = int(10 ** random.uniform(2, 4.8))
        with open(f"{root}/src/d{d:03}/f{f:03}.c", "wb") as fh:
            fh.write(os.urandom(size))
PY
  tar cf "$work/t13k.tar" -C "$work/tree" src
  rm -rf "$work/tree"
}
make_inputs 0
say "inputs per round: 1 GiB random, $(tar tf "$work/t13k.tar" | grep -vc '/$') files in a $(du -m "$work/t13k.tar" | cut -f1) MB tar"

# --- the four targets -------------------------------------------------------------------------------
mkdir -p "$base"/{plain,mnt-nexnet,mnt-gocryptfs,mnt-rclone,gocryptfs-cipher,rclone-backing,rclone-cache,nexnet-data}
"$nexnet" mount "$base/mnt-nexnet" --data "$base/nexnet-data" --listen 127.0.0.1:0 > "$work/nexnet.out" 2>&1 &
nexnet_pid=$!
printf 'benchpassword\n' > "$work/pw"
gocryptfs -q -init -passfile "$work/pw" "$base/gocryptfs-cipher" >/dev/null
gocryptfs -q -passfile "$work/pw" "$base/gocryptfs-cipher" "$base/mnt-gocryptfs"
rclone mount ":local:$base/rclone-backing" "$base/mnt-rclone" --vfs-cache-mode writes --cache-dir "$base/rclone-cache" >/dev/null 2>&1 &
rclone_pid=$!
mounts=(nexnet gocryptfs rclone)
targets=(plain nexnet gocryptfs rclone)
if [ -n "${BASELINE:-}" ]; then
  mkdir -p "$base"/{mnt-before,before-data}
  .build/bench-nexnet-before/nexnet mount "$base/mnt-before" --data "$base/before-data" --listen 127.0.0.1:0 > "$work/before.out" 2>&1 &
  before_pid=$!
  mounts+=(before); targets+=(before)
fi
# NOHISTORY=1 adds NexNet keeping no history (historyDays 0) as a target, to show what history costs. It
# runs next to the default NexNet in every round (first one, then the other, turn about), so the two
# meet the same disk state: a comparison of the two, not of whatever ran before each.
if [ -n "${NOHISTORY:-}" ]; then
  mkdir -p "$base"/{mnt-nohistory,nohistory-data}
  "$nexnet" init --data "$base/nohistory-data" --listen 127.0.0.1:0 >/dev/null
  sed -i 's/"historyDays": [0-9.]*/"historyDays": 0/' "$base/nohistory-data/config.json"
  "$nexnet" mount "$base/mnt-nohistory" --data "$base/nohistory-data" --listen 127.0.0.1:0 > "$work/nohistory.out" 2>&1 &
  nohistory_pid=$!
  mounts+=(nohistory)
fi
for m in "${mounts[@]}"; do
  for _ in $(seq 300); do mountpoint -q "$base/mnt-$m" && break; sleep 0.1; done
  mountpoint -q "$base/mnt-$m" || { say "$m did not mount"; cat "$work/nexnet.out" >&2; exit 1; }
done
dir_of() { case "$1" in plain) echo "$base/plain" ;; *) echo "$base/mnt-$1" ;; esac; }
now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

declare -A results
for round in $(seq "$rounds"); do
  [ "$round" -eq 1 ] || make_inputs "$round"
  # The order turns by one target each round, so none always runs first or right after another's writes.
  order=("${targets[@]:$(((round - 1) % ${#targets[@]}))}" "${targets[@]:0:$(((round - 1) % ${#targets[@]}))}")
  if [ -n "${NOHISTORY:-}" ]; then
    paired=()
    for t in "${order[@]}"; do
      if [ "$t" != nexnet ]; then paired+=("$t"); elif ((round % 2)); then paired+=(nexnet nohistory); else paired+=(nohistory nexnet); fi
    done
    order=("${paired[@]}")
  fi
  for t in "${order[@]}"; do
    d=$(dir_of "$t")
    rm -rf "${d:?}"/*; drop
    w=$(timed dd if="$work/r1g" of="$d/big" bs=1M conv=fsync status=none)
    drop
    r=$(timed dd if="$d/big" of=/dev/null bs=1M status=none)
    rm -f "$d/big"; drop
    x=$(timed tar xf "$work/t13k.tar" -C "$d")
    sync; drop
    f=$(timed find "$d/src")
    c=$(timed sh -c "find '$d/src' -type f -exec cat {} + > /dev/null")
    rm -rf "${d:?}/src"
    results[$t,write]+="$w "; results[$t,read]+="$r "; results[$t,tarx]+="$x "; results[$t,find]+="$f "; results[$t,cat]+="$c "
    say "round $round $t: write $w s, cold read $r s, tar x $x s, find $f s, cat-all $c s"
  done
done

before_head=""; [ -n "${BASELINE:-}" ] && before_head=" NexNet at $BASELINE (before) | NexNet / before |"
printf '\n| median of %s | plain disk | NexNet | gocryptfs | rclone (writes) |%s NexNet / gocryptfs |\n|---|---|---|---|---|%s---|\n' "$rounds" "$before_head" \
  "$([ -n "${BASELINE:-}" ] && echo '---|---|')"
for op in write read tarx find cat; do
  row="| $op"
  for t in plain nexnet gocryptfs rclone; do row+=" | $(printf '%s\n' ${results[$t,$op]} | median) s"; done
  n=$(printf '%s\n' ${results[nexnet,$op]} | median); g=$(printf '%s\n' ${results[gocryptfs,$op]} | median)
  if [ -n "${BASELINE:-}" ]; then
    b=$(printf '%s\n' ${results[before,$op]} | median)
    row+=" | $b s | $(awk -v n="$n" -v b="$b" 'BEGIN { printf "%.2f", n / b }')"
  fi
  printf '%s | %s |\n' "$row" "$(awk -v n="$n" -v g="$g" 'BEGIN { printf "%.2f", n / g }')"
done
if [ -n "${NOHISTORY:-}" ]; then
  printf '\n| median of %s | NexNet (history kept, the default) | NexNet keeping no history | kept / none |\n|---|---|---|---|\n' "$rounds"
  for op in write read tarx find cat; do
    n=$(printf '%s\n' ${results[nexnet,$op]} | median); h=$(printf '%s\n' ${results[nohistory,$op]} | median)
    printf '| %s | %s s | %s s | %s |\n' "$op" "$n" "$h" "$(awk -v n="$n" -v h="$h" 'BEGIN { printf "%.2f", n / h }')"
  done
fi

# --- peak RSS of the node (the same one, after all the rounds) while a 4 GiB file is copied in -------
rm -rf "$base/mnt-nexnet"/*
make_inputs 99
grep -E '^VmHWM' "/proc/$nexnet_pid/status" >/dev/null
before=$(awk '/^VmRSS/ { print $2 }' "/proc/$nexnet_pid/status")
peak=0
head -c 4294967296 /dev/urandom | dd of="$base/mnt-nexnet/four" bs=1M iflag=fullblock status=none &
copy=$!
while kill -0 "$copy" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$nexnet_pid/status"); [ "$rss" -gt "$peak" ] && peak=$rss
  sleep 0.05
done
wait "$copy"
printf '\npeak RSS of the NexNet node while 4 GiB is copied in: %d MiB (before: %d MiB; its peak over the whole run: %s; size %s)\n' \
  $((peak / 1024)) $((before / 1024)) "$(awk '/^VmHWM/ { printf "%d MiB", $2 / 1024 }' "/proc/$nexnet_pid/status")" "$(stat -c %s "$base/mnt-nexnet/four")"
