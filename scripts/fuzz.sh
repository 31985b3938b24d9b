#!/usr/bin/env bash
# Runs every fuzz target of the module (each `func FuzzXxx(f *testing.F)` in a *_test.go file),
# one after the other, each for FUZZTIME (a duration such as 1m, or a count of inputs such as
# 500x). A target that fails leaves its input under <package>/testdata/fuzz/<target>/, which
# plain `go test` then replays; the others still run, and the script fails at the end naming
# them. See docs/fuzzing.md.
#
# Environment: GO (the go command), FUZZTIME (default 1m), FUZZ_PARALLEL (fuzzing processes
# per target, default 1), FUZZ_TARGETS (a regexp choosing targets by name, default all).
set -euo pipefail
cd "$(dirname "$0")/.."
go=${GO:-go}
fuzztime=${FUZZTIME:-1m}
parallel=${FUZZ_PARALLEL:-1}
only=${FUZZ_TARGETS:-.}

# The targets write each input to a temporary file; on tmpfs that costs no disk syncs.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
  export TMPDIR=/dev/shm
fi

targets=$(grep -rEo --include='*_test.go' --exclude-dir=testdata --exclude-dir=.tools --exclude-dir=.cache \
  '^func Fuzz[A-Za-z0-9_]+' . | sed -E 's#^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]+)$#\1 \2#' | sort -u)
failed=()
n=0
while read -r dir name; do
  [[ $name =~ $only ]] || continue
  n=$((n + 1))
  echo "fuzz: $dir $name for $fuzztime"
  if ! "$go" test "$dir" -run '^$' -fuzz "^$name\$" -fuzztime "$fuzztime" -parallel "$parallel" -fuzzminimizetime 10s; then
    failed+=("$dir $name")
  fi
done <<< "$targets"
if [ "$n" = 0 ]; then
  echo "fuzz: no target matches FUZZ_TARGETS=$only" >&2
  exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
  printf 'fuzz: failed: %s\n' "${failed[@]}" >&2
  echo "fuzz: each failing input is under <package>/testdata/fuzz/<target>/; fix the code, keep the input, and commit both" >&2
  exit 1
fi
echo "fuzz: $n targets passed"
