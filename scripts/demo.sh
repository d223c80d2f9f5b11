#!/usr/bin/env bash
# The main job on a built-in default: prepares this machine (scripts/testbed/setup.sh), starts two
# local systemd containers (PostgreSQL 17 and an app host, host networking, loopback ports), deploys
# the bundled stand-in app with playbooks/deploy.yml, and prints where it answers.
#   scripts/demo.sh            deploy the inventory's version (v2)
#   scripts/demo.sh v1         deploy another tag of the stand-in
#   scripts/demo.sh --destroy  remove the demo containers
set -euo pipefail
# shellcheck source=scripts/testbed/lib.sh
. "$(dirname "$0")/testbed/lib.sh"
cd "$TESTBED_ROOT"

hosts=(nekomorto-demo-db nekomorto-demo-app)
if [ "${1:-}" = "--destroy" ]; then
  docker rm -f "${hosts[@]}" >/dev/null 2>&1 || true
  log "demo containers removed"
  exit 0
fi

scripts/testbed/setup.sh
export PATH="$TESTBED_VENV/bin:$PATH"

for host in "${hosts[@]}"; do
  if [ "$(docker inspect -f '{{.State.Running}}' "$host" 2>/dev/null)" != "true" ]; then
    docker rm -f "$host" >/dev/null 2>&1 || true
    log "starting $host"
    extra=()
    if [ "$host" = nekomorto-demo-app ]; then
      extra=(-v "$TESTBED_CACHE/npm:/srv/npm-seed:ro" -v "$TESTBED_CACHE/standin.git:/srv/git/standin.git:ro")
    fi
    docker run -d --name "$host" --hostname "$host" --network host --cgroupns host \
      -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
      --cap-add SYS_ADMIN --cap-add NET_ADMIN --security-opt seccomp=unconfined \
      "${extra[@]}" "$TESTBED_HOST_IMAGE" /lib/systemd/systemd >/dev/null
  fi
done

log "preparing the demo hosts (database, offline Prisma engine)"
ansible-playbook -i inventories/demo molecule/resources/playbooks/prepare.yml
log "deploying the stand-in app"
ansible-playbook -i inventories/demo playbooks/deploy.yml ${1:+-e app_version="$1"}

port=$(ansible-inventory -i inventories/demo --host nekomorto-demo-app | python3 -c 'import json,sys; print(json.load(sys.stdin)["app_port"])')
printf '\nThe stand-in app answers at http://127.0.0.1:%s/  (health: http://127.0.0.1:%s/api/health)\n' "$port" "$port"
curl -fsS "http://127.0.0.1:$port/api/health" | python3 -m json.tool | head -n 12 || true
printf '\nRemove the demo with: scripts/demo.sh --destroy\n'
