#!/usr/bin/env bash
# make fuzz: a short pass over every fuzz target (their seed corpora also run in every
# go test). Each package's instrumented test binary is built once for all of its
# targets (go test -fuzz would link and vet it again per target), the binaries are
# built first (they share the instrumented dependencies in the build cache), then the
# targets run two at a time with one fuzzing worker each: a short pass is dominated by
# each target's start-up and baseline, which a single worker leaves half the CPUs idle
# for (measured: 3 m 5 s in series, 1.6 cores busy). The generated corpus goes where go
# test -fuzz keeps it; a failure's input is written to the package's testdata/fuzz as
# usual and its log is printed.
set -euo pipefail
fuzztime=${FUZZTIME:-2s}
lanes=${FUZZ_LANES:-2}
go=${GO:-go}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cache=$($go env GOCACHE)/fuzz

jobs="$tmp/jobs"
: >"$jobs"
n=0
while read -r pkg dir; do
  targets=$(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/func //' || true)
  [ -n "$targets" ] || continue
  n=$((n + 1))
  echo "build $pkg"
  $go test -c -vet=off -fuzz=. -o "$tmp/$n.test" "$pkg"
  for t in $targets; do
    echo "$n $pkg $dir $t" >>"$jobs"
  done
done < <($go list -f '{{.ImportPath}} {{.Dir}}' ./...)

export tmp fuzztime cache
run() {
  local n=$1 pkg=$2 dir=$3 t=$4 log="$tmp/$1-$4.log"
  echo "fuzz $pkg $t"
  if ! (cd "$dir" && "$tmp/$n.test" -test.run '^$' -test.fuzz "^$t\$" -test.fuzztime "$fuzztime" \
    -test.parallel 1 -test.fuzzcachedir "$cache/$pkg") >"$log" 2>&1; then
    echo "FAIL fuzz $pkg $t:" >&2
    cat "$log" >&2
    return 1
  fi
}
export -f run
# xargs exits 123 when any run failed, after the others finish.
xargs -P "$lanes" -L 1 bash -c 'run "$@"' _ <"$jobs"
