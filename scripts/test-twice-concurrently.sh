#!/usr/bin/env bash
# Runs the whole test suite twice at the same time, on the same Redis and PostgreSQL, and fails unless both runs
# pass. It proves the suite shares nothing between runs (ports, Redis prefixes, schemas, databases, temporary
# directories) and holds no test to a wall-clock bound that a machine running two suites misses.
# Extra arguments go to both vitest runs. Logs: test-artifacts/twice-{1,2}.log.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/test-prerequisites.sh
mkdir -p test-artifacts
pids=()
for run in 1 2; do
  NO_COLOR=1 npx -y pnpm@10.20.0 exec vitest run --reporter=dot "$@" >"test-artifacts/twice-${run}.log" 2>&1 &
  pids+=("$!")
done

status=0
for run in 1 2; do
  if wait "${pids[$((run - 1))]}"; then
    echo "run ${run}: passed"
  else
    status=1
    echo "run ${run}: FAILED (test-artifacts/twice-${run}.log)"
  fi
  grep -E '^ *(Test Files|Tests) ' "test-artifacts/twice-${run}.log" | sed "s/^/run ${run}: /" || true
done
exit "$status"
