# Shared helpers for the set-up scripts. Sourced, never run.
# shellcheck shell=bash

TESTBED_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export TESTBED_ROOT
export TESTBED_CACHE="${NEKOMORTO_CACHE_DIR:-$TESTBED_ROOT/.cache}"
export TESTBED_VENV="${NEKOMORTO_VENV:-$TESTBED_ROOT/.venv}"
export TESTBED_BASE_IMAGE="${NEKOMORTO_BASE_IMAGE:-debian:trixie}"
export TESTBED_HOST_IMAGE="${NEKOMORTO_TESTHOST_IMAGE:-nekomorto-testhost:trixie}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# Content hash of files, so an expensive step reruns only when its inputs change.
content_hash() { cat "$@" 2>/dev/null | sha256sum | cut -c1-16; }
