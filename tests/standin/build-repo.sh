#!/usr/bin/env bash
# Builds the stand-in app's git repository: a bare repository at DEST whose tags
# are the versions the collection's tests deploy. Commits have fixed authors and
# dates, so the same sources always give the same commit ids.
#
#   tests/standin/build-repo.sh DEST
#
# Tags (each tree = app/ plus the overlays named, copied in that order):
#   v1                app/
#   v2                app/ + versions/v2
#   v3-bad-migration  app/ + versions/v2 + versions/v3-bad-migration   (child of v2)
#   v3                app/ + versions/v2 + versions/v3                 (child of v3-bad-migration)
#   v2-unhealthy      app/ + versions/v2 + versions/v2-unhealthy       (child of v2, branch side/v2-unhealthy)
# Branch main points at v3.
set -euo pipefail

usage() { echo "usage: $0 DEST" >&2; exit 2; }
[ $# -eq 1 ] || usage
dest=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
  echo "$0: $dest exists and is not empty" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tree=$work/tree
export GIT_DIR=$dest GIT_WORK_TREE=$tree GIT_INDEX_FILE=$work/index
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export GIT_AUTHOR_NAME="Nekomorto Stand-in" GIT_AUTHOR_EMAIL="standin@nekomorto.invalid"
export GIT_COMMITTER_NAME="Nekomorto Stand-in" GIT_COMMITTER_EMAIL="standin@nekomorto.invalid"

env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git init --quiet --bare --template= "$dest"
git config core.autocrlf false
git config core.fileMode true
git symbolic-ref HEAD refs/heads/main

# Files of a source folder: what git tracks or would track there (working-tree
# content), or every file but build output when the sources are not in git.
list_files() {
  local dir=$1
  if (cd "$dir" && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git rev-parse --is-inside-work-tree >/dev/null 2>&1); then
    (cd "$dir" && env -u GIT_DIR -u GIT_WORK_TREE -u GIT_INDEX_FILE git ls-files -z --cached --others --exclude-standard .)
  else
    (cd "$dir" && find . -type f \
      -not -path './node_modules/*' -not -path './dist/*' -not -path './public/uploads/*' \
      -not -path './backups/*' -not -name '.env' -print0)
  fi
}

copy_layer() {
  local dir=$here/$1 file
  [ -d "$dir" ] || { echo "$0: missing $dir" >&2; exit 1; }
  while IFS= read -r -d '' file; do
    file=${file#./}
    [ -f "$dir/$file" ] || continue # tracked but deleted in the working tree
    mkdir -p "$tree/$(dirname "$file")"
    cp "$dir/$file" "$tree/$file"
    chmod 0644 "$tree/$file"
  done < <(list_files "$dir")
}

# commit TAG DATE PARENT MESSAGE LAYER...
commit() {
  local tag=$1 date=$2 parent=$3 message=$4 sha
  shift 4
  rm -rf "$tree" "$GIT_INDEX_FILE"
  mkdir -p "$tree"
  for layer in "$@"; do copy_layer "$layer"; done
  (cd "$tree" && git add --all .)
  local parent_args=()
  [ -n "$parent" ] && parent_args=(-p "$parent")
  sha=$(GIT_AUTHOR_DATE="$date" GIT_COMMITTER_DATE="$date" \
    git commit-tree "$(git write-tree)" "${parent_args[@]}" -m "$message")
  git tag "$tag" "$sha"
  printf '%s %s\n' "$tag" "$sha"
  last=$sha
}

last=
commit v1 "2026-01-05T10:00:00Z" "" "v1: initial schema, API, sessions and ops scripts" app
v1=$last
commit v2 "2026-02-10T10:00:00Z" "$v1" "v2: projects.featured" app versions/v2
v2=$last
commit v3-bad-migration "2026-03-02T10:00:00Z" "$v2" "v3: project tags (migration fails half-way)" \
  app versions/v2 versions/v3-bad-migration
bad=$last
commit v3 "2026-03-05T10:00:00Z" "$bad" "v3: project tags with a corrected migration" app versions/v2 versions/v3
git update-ref refs/heads/main "$last"
commit v2-unhealthy "2026-02-20T10:00:00Z" "$v2" "v2-unhealthy: search-index health check always critical" \
  app versions/v2 versions/v2-unhealthy
git update-ref refs/heads/side/v2-unhealthy "$last"

git gc --quiet --prune=now
