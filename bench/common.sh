# Shared by the bench/*.sh scripts (sourced, not run): builds the benchmark program and defines
# $bench (its path), median (of stdin lines) and m (median of its arguments).
dotnet build bench/NexNet.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
bench=bench/NexNet.Benchmarks/bin/Release/net10.0/NexNet.Benchmarks
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m() { printf '%s\n' "$@" | median; }
# settle: flushes dirty pages and waits (up to 60 s) until the disk holding the data dirs has had nothing
# in flight for a second, so that no timed run pays for the writeback or the discards (ext4 here is
# mounted with online discard) of the run before it, which deleted its gigabytes just before.
settle() {
  sync
  local src dev quiet=0 deadline=$((SECONDS + 60)) r w
  src=$(findmnt -no source -T "${TMPDIR:-/tmp}")
  dev=$(lsblk -no pkname "$src" 2>/dev/null | head -1)
  [ -n "$dev" ] || dev=$(basename "$src")
  [ -r "/sys/block/$dev/inflight" ] || return 0
  while ((quiet < 10 && SECONDS < deadline)); do
    read -r r w < "/sys/block/$dev/inflight"
    if ((r + w == 0)); then quiet=$((quiet + 1)); else quiet=0; fi
    sleep 0.1
  done
}
# baseline_checkout REV: a detached worktree of REV under .build/baseline (made once per REV), for a
# before/after comparison inside one run (BASELINE=REV in node.sh and mount-vs-peers.sh); prints its path.
baseline_checkout() {
  local rev dir
  rev=$(git rev-parse --short "$1")
  dir="$PWD/.build/baseline-$rev"
  [ -d "$dir" ] || git worktree add --detach "$dir" "$rev" >/dev/null 2>&1
  echo "$dir"
}
