# Shared by the bench/*.sh scripts (sourced, not run): builds the benchmark program and defines
# $bench (its path), median (of stdin lines) and m (median of its arguments).
dotnet build bench/NexNet.Benchmarks -c Release -nologo -v quiet -clp:ErrorsOnly >/dev/null
bench=bench/NexNet.Benchmarks/bin/Release/net10.0/NexNet.Benchmarks
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m() { printf '%s\n' "$@" | median; }
