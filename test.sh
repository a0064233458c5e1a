#!/usr/bin/env bash
# Runs every test of NexNet.Fs: installs the tools the tests need if they are missing, builds the
# solution in Release, checks formatting, runs `dotnet test` on NexNet.Fs.sln, and ends with one line
# "N passed, N failed[, N skipped]" counted from the test runners' own result files.
set -uo pipefail
cd "$(dirname "$0")"

say() { printf 'test.sh: %s\n' "$*"; }

# --- tools the tests use (real parts, not mocks) ---------------------------------------------------
apt_packages=()
command -v sqlite3 >/dev/null 2>&1 || apt_packages+=(sqlite3)
command -v fusermount3 >/dev/null 2>&1 || apt_packages+=(fuse3)
[ -e /usr/include/fuse3/fuse.h ] || apt_packages+=(libfuse3-dev)
command -v gcc >/dev/null 2>&1 || apt_packages+=(gcc)
command -v git >/dev/null 2>&1 || apt_packages+=(git)
command -v rsync >/dev/null 2>&1 || apt_packages+=(rsync)
command -v python3 >/dev/null 2>&1 || apt_packages+=(python3)
command -v litmus >/dev/null 2>&1 || apt_packages+=(litmus)
command -v mount.davfs >/dev/null 2>&1 || apt_packages+=(davfs2)
command -v script >/dev/null 2>&1 || apt_packages+=(bsdutils)
command -v setpriv >/dev/null 2>&1 || apt_packages+=(util-linux)
command -v ip >/dev/null 2>&1 || apt_packages+=(iproute2)
if [ ${#apt_packages[@]} -gt 0 ]; then
  say "installing ${apt_packages[*]} (used by the integration tests: the real sqlite3, libfuse3 and its headers, git, rsync, the WebDAV suite litmus and client davfs2, a pty, capabilities, a network namespace)"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  if ! { "${sudo_cmd[@]}" apt-get update -qq && DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${apt_packages[@]}"; } >/dev/null; then
    say "could not install ${apt_packages[*]}; install them with apt-get and run again"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi
if ! command -v dotnet >/dev/null 2>&1; then
  say "the .NET 10 SDK is not installed (https://learn.microsoft.com/dotnet/core/install/linux-debian)"
  echo "0 passed, 1 failed"
  exit 1
fi
if ! command -v pwsh >/dev/null 2>&1 && [ ! -x "$HOME/.dotnet/tools/pwsh" ]; then
  # Pinned: the newest (7.7) needs a platform package NuGet does not serve here and may want .NET 11.
  say "installing PowerShell 7.6 as a .NET tool (the mount.ps1 test runs it)"
  if ! dotnet tool install --global PowerShell --version 7.6.9 >/dev/null; then
    say "could not install PowerShell (dotnet tool install --global PowerShell --version 7.6.9); install it and run again"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# --- build and format ------------------------------------------------------------------------------
if ! dotnet build NexNet.Fs.sln -c Release -nologo -clp:ErrorsOnly; then
  say "the build failed"
  echo "0 passed, 1 failed"
  exit 1
fi
format_failed=0
if ! dotnet format NexNet.Fs.sln --verify-no-changes --no-restore -v quiet; then
  say "dotnet format found code that is not formatted: run 'dotnet format NexNet.Fs.sln'"
  format_failed=1
fi

# --- tests -----------------------------------------------------------------------------------------
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
dotnet test --solution NexNet.Fs.sln -c Release --no-build --results-directory "$results" --report-xunit-trx
test_exit=$?

passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  # The summary counters are one element; pull the attributes out of it.
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  e=$(sed -n 's/.* error="\([0-9]*\)".*/\1/p' <<<"$counters")
  x=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${total:-0} - ${x:-0}))
done

expected_files=$(grep -c 'Tests\.csproj' NexNet.Fs.sln)
if [ "$files" -lt "$expected_files" ]; then
  say "only $files of $expected_files test projects wrote results (a test host crashed?)"
  failed=$((failed + expected_files - files))
fi
if [ "$test_exit" -ne 0 ] && [ "$failed" -eq 0 ]; then
  say "dotnet test exited with $test_exit without a failed test in its results"
  failed=1
fi
failed=$((failed + format_failed))

line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
