#!/usr/bin/env bash
# Runs every Fuzz target in the module for the given time each (default 30s)
# and prints a line per target with its executions; stops at the first
# failure, whose input go test writes to the package's testdata/fuzz.
set -euo pipefail
fuzztime=${1:-30s}
cd "$(dirname "$0")/.."
go=${GO:-go}
targets=$(grep -rl --include='*_test.go' '^func Fuzz' . | sort)
n=0
for file in $targets; do
	pkg=./$(dirname "${file#./}")
	for name in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | sed 's/^func //'); do
		n=$((n + 1))
		start=$(date +%s)
		out=$("$go" test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1) || { echo "$out"; echo "FAIL $name ($pkg)"; exit 1; }
		execs=$(echo "$out" | grep -o 'execs: [0-9]*' | tail -1 | cut -d' ' -f2 || true)
		echo "ok   $name ($pkg): ${execs:-?} executions in $fuzztime ($(( $(date +%s) - start )) s with the build)"
	done
done
echo "$n fuzz targets passed"
