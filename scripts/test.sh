#!/usr/bin/env bash
# The whole test suite: set-up, lint, sanity, unit tests, integration tests against a real
# PostgreSQL, then every molecule scenario. Stops at the first failing stage and ends with a summary.
#   scripts/test.sh                 everything
#   scripts/test.sh unit molecule   only these stages (setup always runs)
#   MOLECULE_SCENARIOS="default maintenance" scripts/test.sh molecule
#   MOLECULE_JOBS=1 scripts/test.sh molecule     one scenario at a time, its output streamed (default: 2
#                                                at a time, each into its log, a status line every minute)
set -uo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/testbed/lib.sh"
cd "$TESTBED_ROOT" || exit 1

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(lint sanity unit package node integration molecule)
# Longest first, so that two at a time end close together.
scenarios="${MOLECULE_SCENARIOS:-default fleet maintenance rollback}"
molecule_jobs="${MOLECULE_JOBS:-2}"
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

# One line of the summary: a stage's name, ok or FAILED by its exit code, the seconds since it started.
record() {
  summary+=("$(printf '%-28s %-6s %4ss' "$1" "$([ "$2" -eq 0 ] && echo ok || echo FAILED)" "$(( $(date +%s) - $3 ))")")
}

run_stage() {
  local name=$1; shift
  local t0 rc
  t0=$(date +%s)
  log "stage: $name (at ${SECONDS}s)"
  local logf="$logdir/${name//[^A-Za-z0-9_-]/_}.log"
  "$@" 2>&1 | tee "$logf"; rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || failed_log=$logf
  record "$name" "$rc" "$t0"
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

# Scenarios have their own container names and loopback ports, so several can run at once. Each one's
# output goes to its log; a line every minute says where the running ones are (the last molecule step
# and the last test line), so that the tail of the output tells where a slow run spends its time.
# shellcheck disable=SC2317
molecule_parallel() {
  local -A name_of=() t0_of=()
  local running=0 stop=0 scenario done_name pid rc logf ticker t0
  rm -f "$logdir"/molecule_*.running
  (
    while sleep 60; do
      for logf in "$logdir"/molecule_*.running; do
        [ -e "$logf" ] || continue
        scenario=${logf##*/molecule_}; scenario=${scenario%.running}
        t0=$(cat "$logf" 2>/dev/null) || continue
        printf '    ... molecule:%s, %s min: %s\n' "$scenario" "$(( ($(date +%s) - t0) / 60 ))" \
          "$(sed 's/\x1b\[[0-9;]*m//g' "$logdir/molecule_$scenario.log" |
             grep -a -E '➜|tests/test_|TASK \[|PLAY \[' | tail -n 1 | tr -s ' ' | cut -c1-150)"
      done
    done
  ) &
  ticker=$!
  reap() {
    wait -n -p pid "${!name_of[@]}"; rc=$?
    done_name=${name_of[$pid]}; unset "name_of[$pid]"; running=$(( running - 1 ))
    logf="$logdir/molecule_$done_name.log"
    rm -f "$logdir/molecule_$done_name.running"
    record "molecule:$done_name" "$rc" "${t0_of[$done_name]}"
    log "${summary[-1]}"
    if [ "$rc" -ne 0 ]; then
      printf -- '---- the end of molecule:%s (full log: %s) ----\n' "$done_name" "$logf"
      tail -n 150 "$logf"
      failed_log=$logf; stop=1
    fi
  }
  for scenario in $scenarios; do
    [ -d "molecule/$scenario" ] || continue
    while [ "$running" -ge "$molecule_jobs" ]; do reap; done
    # After a failure no new scenario starts; the running ones finish and are reported.
    [ "$stop" -eq 0 ] || break
    logf="$logdir/molecule_$scenario.log"
    log "stage: molecule:$scenario (at ${SECONDS}s, log: $logf)"
    t0_of[$scenario]=$(date +%s)
    echo "${t0_of[$scenario]}" > "$logdir/molecule_$scenario.running"
    molecule test -s "$scenario" > "$logf" 2>&1 &
    name_of[$!]=$scenario; running=$(( running + 1 ))
  done
  while [ "$running" -gt 0 ]; do reap; done
  kill "$ticker" 2>/dev/null; wait "$ticker" 2>/dev/null
  [ "$stop" -eq 0 ] || finish 1
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
      if [ "$molecule_jobs" -gt 1 ]; then
        molecule_parallel
      else
        for scenario in $scenarios; do
          [ -d "molecule/$scenario" ] || continue
          run_stage "molecule:$scenario" molecule test -s "$scenario"
        done
      fi
      ;;
    *) die "unknown stage: $stage" ;;
  esac
done
finish 0
