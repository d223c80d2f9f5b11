#!/usr/bin/env bash
# The collection as users get it: build the tarball, install it into an empty collections path, and
# check that every playbook resolves as nekomorto.ops.<name> from there.
set -euo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/lib.sh"
export PATH="$TESTBED_VENV/bin:$PATH"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$TESTBED_ROOT"
ansible-galaxy collection build --force --output-path "$work/dist" . >/dev/null
tarball=$(ls "$work"/dist/nekomorto-ops-*.tar.gz)
tar -tzf "$tarball" >"$work/files"
if grep -qE '^(tests|molecule|benchmarks|scripts|\.ci)/' "$work/files"; then die "the tarball contains test files"; fi
: >"$work/none.cfg"
ANSIBLE_CONFIG="$work/none.cfg" ansible-galaxy collection install --offline --force -p "$work/collections" "$tarball" >/dev/null
cd "$work"
for playbook in "$TESTBED_ROOT"/playbooks/*.yml; do
  name=$(basename "$playbook" .yml)
  ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_CONFIG="$work/none.cfg" \
    ansible-playbook -i localhost, --syntax-check "nekomorto.ops.$name" >/dev/null \
    || die "nekomorto.ops.$name does not resolve from the installed collection"
  echo "nekomorto.ops.$name: ok"
done
echo "$(basename "$tarball"): $(wc -l <"$work/files") files, installs, playbooks resolve"
