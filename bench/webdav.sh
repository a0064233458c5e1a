#!/usr/bin/env bash
# WebDAV against the FUSE mount of the same node, same run, same disk: 1 GiB PUT (curl -T) and GET
# (curl, caches dropped first) over loopback vs 1 GiB sequential write (dd bs=1M conv=fsync) and cold
# read through the mount. ROUNDS rounds (default 5), interleaved; prints per-round times, medians and
# WebDAV's throughput as a share of the mount's (target: at least 50%).
#
#   bench/webdav.sh [ROUNDS]      (root: mounts, drops caches)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
say() { printf '%s\n' "$*" >&2; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
seconds() { local start=$EPOCHREALTIME; "$@"; awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

dotnet publish src/NexNet.Cli -c Release -o .build/bench-nexnet -nologo -clp:ErrorsOnly >/dev/null
nexnet=.build/bench-nexnet/nexnet
base="${BENCH_DIR:-/var/tmp/nexnet-bench-webdav}"
rm -rf "$base"; mkdir -p "$base/mnt" "$base/data"
work=/dev/shm/nexnet-bench-webdav; rm -rf "$work"; mkdir -p "$work"
cleanup() {
  mountpoint -q "$base/mnt" 2>/dev/null && fusermount3 -u "$base/mnt" 2>/dev/null || true
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
head -c 1073741824 /dev/urandom > "$work/one"

"$nexnet" mount "$base/mnt" --data "$base/data" --listen 127.0.0.1:0 --webdav 127.0.0.1:0 > "$work/out" 2>&1 &
pid=$!
for _ in $(seq 1 300); do grep -q '^nexnet: webdav at ' "$work/out" && break; sleep 0.1; done
url=$(sed -n 's/^nexnet: webdav at \([^ ]*\).*/\1/p' "$work/out")
[ -n "$url" ] || { cat "$work/out" >&2; exit 1; }
# The password reaches curl through a netrc file (0600), not its arguments.
(umask 077; printf 'machine 127.0.0.1 login nexnet password %s\n' "$(cat "$base/data/webdav.password")" > "$work/netrc")
dav() { curl -sf --netrc-file "$work/netrc" "$@"; }

declare -A results
for round in $(seq 1 "$rounds"); do
  rm -f "$base/mnt/fuse-$round" ; drop
  w=$(seconds dd if="$work/one" of="$base/mnt/fuse-$round" bs=1M conv=fsync status=none)
  drop
  r=$(seconds dd if="$base/mnt/fuse-$round" of=/dev/null bs=1M status=none)
  drop
  p=$(seconds dav -T "$work/one" "${url}dav-$round" -o /dev/null)
  drop
  g=$(seconds dav "${url}dav-$round" -o /dev/null)
  cmp -s <(dav "${url}dav-$round") "$work/one" || { say "round $round: GET returned other bytes"; exit 1; }
  say "round $round: fuse write $w s, fuse cold read $r s, webdav PUT $p s, webdav GET $g s"
  results[fw]+="$w "; results[fr]+="$r "; results[put]+="$p "; results[get]+="$g "
  rm -f "$base/mnt/fuse-$round"; dav -X DELETE "${url}dav-$round" -o /dev/null
done

fw=$(printf '%s\n' ${results[fw]} | median); fr=$(printf '%s\n' ${results[fr]} | median)
put=$(printf '%s\n' ${results[put]} | median); get=$(printf '%s\n' ${results[get]} | median)
echo
echo "| median of $rounds, 1 GiB | FUSE mount | WebDAV (curl, loopback) | WebDAV throughput / FUSE |"
echo "|---|---|---|---|"
awk -v a="$fw" -v b="$put" 'BEGIN { printf "| write (dd conv=fsync / PUT) | %.2f s (%.0f MiB/s) | %.2f s (%.0f MiB/s) | %.0f%% |\n", a, 1024/a, b, 1024/b, 100*a/b }'
awk -v a="$fr" -v b="$get" 'BEGIN { printf "| cold read (dd / GET) | %.2f s (%.0f MiB/s) | %.2f s (%.0f MiB/s) | %.0f%% |\n", a, 1024/a, b, 1024/b, 100*a/b }'
