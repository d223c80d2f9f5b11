#!/usr/bin/env bash
# ansible-test sanity needs the collection at ansible_collections/<namespace>/<name>: copy the tracked
# files (plus new ones not yet committed) into such a tree and run it there, in its own venvs.
set -euo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/lib.sh"

# A tree of its own per run, so that two runs never share one.
work=$(mktemp -d "${TMPDIR:-/tmp}/nekomorto-sanity.XXXXXX")
trap 'rm -rf "$work"' EXIT
tree="$work/ansible_collections/nekomorto/ops"
mkdir -p "$tree"
cd "$TESTBED_ROOT"
git ls-files -z --cached --others --exclude-standard \
  | grep -zv '^collections/' \
  | xargs -0 -I{} cp --parents -P {} "$tree"/
cd "$tree"
git init -q && git add -A >/dev/null 2>&1
export PATH="$TESTBED_VENV/bin:$PATH"
ansible-test sanity --venv --python 3.11 --color no "$@"
