#!/usr/bin/env bash
# The whole test suite: set-up, lint, sanity, unit tests, integration tests against a real
# PostgreSQL, then every molecule scenario. Stops at the first failing stage and ends with a summary.
#   scripts/test.sh                 everything
#   scripts/test.sh unit molecule   only these stages (setup always runs)
#   MOLECULE_SCENARIOS="default maintenance" scripts/test.sh molecule
set -uo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/testbed/lib.sh"
cd "$TESTBED_ROOT" || exit 1

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint sanity unit package node integration molecule)
scenarios="${MOLECULE_SCENARIOS:-default maintenance rollback fleet}"
summary=()
started=$(date +%s)
# Each stage's output also goes to a log; a failing run ends with the lines that say why, so the
# tail of the output is enough to start on.
logdir="$TESTBED_CACHE/test-logs"
mkdir -p "$logdir"
failed_log=""

finish() {
  local rc=$1
  if [ -n "$failed_log" ]; then
    printf -- '\n---- why it failed (full log: %s) ----\n' "$failed_log"
    grep -a -E '^(FAILED|ERROR) |^E +[A-Za-z]|fatal: \[|failed: \[|ERROR!|Error: ' "$failed_log" | tail -n 10 | cut -c1-400
  fi
  printf '\n==================== test summary ====================\n'
  printf '%s\n' "${summary[@]}"
  printf '%s in %ss\n' "$([ "$rc" -eq 0 ] && echo "ALL PASSED" || echo "FAILED")" "$(( $(date +%s) - started ))"
  exit "$rc"
}

run_stage() {
  local name=$1; shift
  local t0 rc
  t0=$(date +%s)
  log "stage: $name"
  local logf="$logdir/${name//[^A-Za-z0-9_-]/_}.log"
  "$@" 2>&1 | tee "$logf"; rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || failed_log=$logf
  summary+=("$(printf '%-28s %-6s %4ss' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - t0 ))")")
  [ "$rc" -eq 0 ] || finish 1
}

# The stage helpers below are called through run_stage's "$@", which shellcheck cannot follow.
# shellcheck disable=SC2317
with_pg() {
  local url rc
  url=$(scripts/testbed/pg.sh start) || return 1
  NEKOMORTO_TEST_PG_URL="$url" "$@"; rc=$?
  scripts/testbed/pg.sh stop
  return "$rc"
}

# shellcheck disable=SC2317
node_tests() {
  (cd tests/support/prisma-schema-engine && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm test) &&
  (cd tests/standin/app && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm test)
}

run_stage setup scripts/testbed/setup.sh
export PATH="$TESTBED_VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$TESTBED_ROOT/collections"

for stage in "${stages[@]}"; do
  case "$stage" in
    lint) run_stage ansible-lint ansible-lint --profile production ;;
    sanity) run_stage ansible-test-sanity scripts/testbed/sanity.sh ;;
    unit) run_stage unit pytest -q tests/unit ;;
    package) run_stage package scripts/testbed/package.sh ;;
    node) run_stage node-tests with_pg node_tests ;;
    integration) run_stage integration with_pg pytest -q tests/integration ;;
    molecule)
      for scenario in $scenarios; do
        [ -d "molecule/$scenario" ] || continue
        run_stage "molecule:$scenario" molecule test -s "$scenario"
      done
      ;;
    *) die "unknown stage: $stage" ;;
  esac
done
finish 0
