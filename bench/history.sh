#!/usr/bin/env bash
# History, measured through a real mount and the real CLI, one run:
#  1. meta.db growth for 10,000 writes of one small file (`echo > FILE` in the mount: one version each);
#  2. `history` of a path with 1,000 versions: the control request alone (a Python client on the socket)
#     and the whole `nexnet history` command (with .NET's start-up), ROUNDS times each;
#  3. getting back a 1 GiB file that was overwritten: `restore --version 1` inside the volume (records
#     only) and `get --version 1` to the local disk, against `get` of a current 1 GiB file, interleaved,
#     caches dropped before each, ROUNDS rounds.
# (Keeping history against keeping none for tar x is a target of bench/mount-vs-peers.sh: NOHISTORY=1.)
#
#   bench/history.sh [ROUNDS]      (root: mounts, drops caches)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-5}"
say() { printf '%s\n' "$*" >&2; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m() { printf '%s\n' "$@" | median; }
now() { date +%s.%N; }
timed() { local t0; t0=$(now); "$@" >/dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }

command -v fusermount3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fuse3 >/dev/null; }
dotnet publish src/NexNet.Cli -c Release -o .build/bench-nexnet -nologo -clp:ErrorsOnly >/dev/null
nexnet=.build/bench-nexnet/nexnet
base="${BENCH_DIR:-/var/tmp/nexnet-history-bench}"
rm -rf "$base"; mkdir -p "$base/mnt"
data="$base/data"
cleanup() {
  mountpoint -q "$base/mnt" 2>/dev/null && { fusermount3 -u "$base/mnt" 2>/dev/null || umount -l "$base/mnt"; }
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  rm -f /dev/shm/nexnet-history-r1g
}
trap cleanup EXIT
start() {
  "$nexnet" mount "$base/mnt" --data "$data" --listen 127.0.0.1:0 > "$base/out" 2>&1 &
  pid=$!
  for _ in $(seq 300); do mountpoint -q "$base/mnt" && return; sleep 0.1; done
  say "the mount did not come up"; cat "$base/out" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" || true; pid=""; }
dbsize() { cat "$data"/meta.db* 2>/dev/null | wc -c; }

# --- 1. 10,000 versions of a small file ---------------------------------------------------------------
start
echo "version 0" > "$base/mnt/small.txt"
stop; before=$(dbsize); start
t=$(timed bash -c "for i in \$(seq 10000); do echo \"version \$i of a small file\" > '$base/mnt/small.txt'; done")
stop; after=$(dbsize); start
versions=$("$nexnet" history /small.txt --json --data "$data" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
say "10,000 writes of a 30-byte file in $t s ($versions versions): meta.db $before -> $after bytes"
printf '\n| 10,000 writes of a small file (echo > FILE) | versions kept | meta.db before | after | per version |\n|---|---|---|---|---|\n| written in %s s | %s | %s B | %s B | %s B |\n' \
  "$t" "$versions" "$before" "$after" "$(( (after - before) / versions ))"

# --- 2. history of a path with 1,000 versions --------------------------------------------------------
# Each `echo > FILE` through the mount is one version (the truncation at open is a step of the save, not kept).
for i in $(seq 1000); do echo "thousand $i" > "$base/mnt/thousand.txt"; done
request() {
  python3 - "$data/control.sock" <<'PY'
import json, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
body = json.dumps({"op": "history", "path": "/thousand.txt"}).encode()
t0 = time.perf_counter()
s.sendall(struct.pack(">I", len(body)) + body)
head = b""
while len(head) < 4:
    head += s.recv(4 - len(head))
size = struct.unpack(">I", head)[0]
data = b""
while len(data) < size:
    data += s.recv(size - len(data))
t1 = time.perf_counter()
reply = json.loads(data)
assert len(reply["versions"]) >= 1000, len(reply["versions"])
print(f"{(t1 - t0) * 1000:.1f} {len(reply['versions'])}")
PY
}
count=$(request | cut -d' ' -f2) # warm, and how many versions it holds
req=(); cli=()
for r in $(seq "$rounds"); do
  req+=("$(request | cut -d' ' -f1)")
  cli+=("$(awk -v s="$(timed "$nexnet" history /thousand.txt --json --data "$data")" 'BEGIN { printf "%.1f", s * 1000 }')")
  say "round $r: history of $count versions: request ${req[-1]} ms, whole command ${cli[-1]} ms"
done
printf '\n| history of a path with %s versions, median of %s | control request | whole `nexnet history` command |\n|---|---|---|\n| | %s ms | %s ms |\n' \
  "$count" "$rounds" "$(m "${req[@]}")" "$(m "${cli[@]}")"

# --- 3. a 1 GiB file back from history, against get ---------------------------------------------------
head -c 1073741824 /dev/urandom > /dev/shm/nexnet-history-r1g
"$nexnet" put /dev/shm/nexnet-history-r1g /old.bin --data "$data" >/dev/null
echo "overwritten" > "$base/small-new"
"$nexnet" put "$base/small-new" /old.bin --data "$data" >/dev/null
head -c 1073741824 /dev/urandom > /dev/shm/nexnet-history-r1g
"$nexnet" put /dev/shm/nexnet-history-r1g /current.bin --data "$data" >/dev/null
rm -f /dev/shm/nexnet-history-r1g
restore=(); old=(); cur=()
for r in $(seq "$rounds"); do
  drop; restore+=("$(timed "$nexnet" restore /old.bin --version 1 --to "/restored-$r.bin" --data "$data")")
  for which in old cur; do
    rm -f "$base/out.bin"; drop
    if [ "$which" = old ]; then old+=("$(timed "$nexnet" get /old.bin "$base/out.bin" --version 1 --data "$data")")
    else cur+=("$(timed "$nexnet" get /current.bin "$base/out.bin" --data "$data")"); fi
  done
  rm -f "$base/out.bin"
  say "round $r: restore --version 1 (in the volume) ${restore[-1]} s; get --version 1 ${old[-1]} s; get of a current 1 GiB file ${cur[-1]} s"
done
mo=$(m "${old[@]}"); mc=$(m "${cur[@]}")
printf '\n| 1 GiB back from history, median of %s | restore --version 1 (in the volume) | get --version 1 (to disk) | get, current file (reference) | get --version 1 / get |\n|---|---|---|---|---|\n| | %s s | %s s | %s s | %s%% of its speed |\n' \
  "$rounds" "$(m "${restore[@]}")" "$mo" "$mc" "$(awk -v o="$mo" -v c="$mc" 'BEGIN { printf "%.0f", 100 * c / o }')"
