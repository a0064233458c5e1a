#!/usr/bin/env bash
# Runs NexNet.Fs on this machine: installs fuse3 if it is missing (saying so), builds the nexnet command
# once in Release (rebuilt only when the sources change; see ./nexnet), and mounts.
#
#   ./mount.sh [DIR] [options]   mount your volume at DIR (default ./NexNet); options go to `nexnet mount`
#                                (--data DIR, --listen HOST:PORT, --join HOST:PORT, --verbose)
#   ./mount.sh --demo [ROOT]     three connected nodes mounted at ROOT/a, ROOT/b, ROOT/c (default ./NexNet):
#                                a file copied into a shows up in b and c
#   On macOS: the node runs in the background with its WebDAV front end and mount_webdav mounts it at DIR.
#
# Data lives in $NEXNET_DATA or ~/.local/share/nexnet (created with fresh keys on first use). Stop with
# Ctrl+C: it unmounts cleanly.
set -euo pipefail
cd "$(dirname "$0")"
say() { printf 'mount.sh: %s\n' "$*"; }

if [ "$(uname -s)" = Darwin ]; then
  # macOS: no FUSE by default; the node serves WebDAV on 127.0.0.1 and Finder's own client mounts it.
  dir="${1:-./NexNet}"
  mkdir -p "$dir"
  ./nexnet status >/dev/null 2>&1 || {
    [ -e "${NEXNET_DATA:-$HOME/.local/share/nexnet}/network.key" ] || ./nexnet init
    ./nexnet node --webdav 127.0.0.1:4780 --background
  }
  status=$(./nexnet status --json)
  url=$(sed -n 's/.*"webdav":"\([^"]*\)".*/\1/p' <<<"$status")
  [ -n "$url" ] || { say "the running node serves no WebDAV: stop it and run ./mount.sh again"; exit 69; }
  data=$(sed -n 's/.*"dataDirectory":"\([^"]*\)".*/\1/p' <<<"$status")
  # The WebDAV password goes into the login keychain, where mount_webdav looks for it, through security's
  # stdin (printf is a shell builtin): never on a command line, which every user of the Mac can read.
  server=${url#http://}; server=${server%%/*}
  printf 'add-internet-password -U -a nexnet -s %s -P %s -r http -l NexNet -w %s\n' "${server%:*}" "${server##*:}" "$(cat "$data/webdav.password")" | security -i >/dev/null
  mount_webdav -S -v NexNet "$url" "$dir"
  pid=$(./nexnet status --json | sed -n 's/.*"pid":\([0-9]*\).*/\1/p')
  say "mounted $dir over WebDAV ($url); stop with: umount $dir && kill $pid"
  exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)

if ! command -v fusermount3 >/dev/null 2>&1 || ! { ldconfig -p 2>/dev/null || true; } | grep -q 'libfuse3.so.3'; then
  say "installing fuse3 (the kernel file system bridge the mount needs)"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq fuse3 >/dev/null
fi
if [ ! -e /dev/fuse ]; then
  say "/dev/fuse is missing: load the module with 'sudo modprobe fuse' (in a container: run it with --device /dev/fuse)"
  exit 69
fi

if [ "${1:-}" = "--demo" ]; then
  root="${2:-./NexNet}"
  mkdir -p "$root"
  say "mounting the three-node demo at $root/a, $root/b and $root/c"
  exec ./nexnet mount --demo "$root" "${@:3}"
fi

dir=./NexNet
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  dir="$1"
  shift
fi
mkdir -p "$dir"
exec ./nexnet mount "$dir" "$@"
