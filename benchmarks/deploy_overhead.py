"""Measures the deploy on the demo hosts (scripts/demo.sh), printing numbers, asserting nothing.

1. no-op re-deploy of the live version: wall time and changed-task count;
2. orchestration overhead: a full deploy of the stand-in (empty database, no release built) with the
   collection, divided by the same runbook commands run as a plain shell script on the same host in
   the same run (target: at most 1.25).

Usage: .venv/bin/python benchmarks/deploy_overhead.py [--rounds N] [--version v2]
Traffic stays on 127.0.0.1 (the demo hosts use host networking).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
APP_HOST = "nekomorto-demo-app"
DB_HOST = "nekomorto-demo-db"
DB_PORT = 56432
APP_PORT = 18080
APP_ROOT = "/srv/nekomorto"

# The runbook's sections 2 and 3 as an operator would script them by hand, on the app host, with the
# same release layout, the same offline npm cache and the same health and smoke checks.
SHELL_DEPLOY = r"""
set -euo pipefail
version="$1"; release={app_root}/releases/shell-$version
export HOME={app_root} PATH={app_root}/node/bin:/usr/bin:/bin npm_config_cache=/var/cache/nekomorto-npm \
  npm_config_offline=true PRISMA_SCHEMA_ENGINE_BINARY=/opt/prisma-schema-engine/schema-engine
git -C {app_root}/repo.git fetch --quiet --prune origin
mkdir -p "$release"
git -C {app_root}/repo.git archive "$version" | tar -x -C "$release"
cd "$release"
rm -rf public/uploads backups; mkdir -p public; ln -s {app_root}/shared/.env .env
ln -s {app_root}/shared/public/uploads public/uploads; ln -s {app_root}/shared/backups backups
npm ci --no-audit --no-fund >/dev/null 2>&1
npm run prisma:generate >/dev/null
npm run prisma:migrate:deploy >/dev/null
npx --no prisma migrate status >/dev/null
npm run build >/dev/null
"""
SHELL_SWITCH = r"""
set -euo pipefail
ln -sfn {app_root}/releases/shell-$1 {app_root}/current
systemctl restart nekomorto
for i in $(seq 1 60); do
  curl -fsS http://127.0.0.1:{port}/api/health >/dev/null 2>&1 && break; sleep 0.5
done
for path in /api/health/live /api/health/ready /api/health /api/contracts/v1.json /sitemap.xml /rss.xml \
            /projects/rss.xml / /manifest.webmanifest; do
  curl -fsS -H 'X-Forwarded-For: 203.0.113.10' "http://127.0.0.1:{port}$path" >/dev/null
done
"""


def sh(*command: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, check=check, capture_output=True, text=True, **kwargs)


def timed(*command: str, env: dict | None = None) -> tuple[float, str]:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"command failed ({' '.join(command[:4])} ...):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def ansible_env() -> dict:
    env = dict(os.environ)
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default")
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}:{env['PATH']}"
    return env


def deploy(version: str, *extra: str) -> tuple[float, int]:
    seconds, output = timed("ansible-playbook", "-i", str(ROOT / "inventories" / "demo"),
                            str(ROOT / "playbooks" / "deploy.yml"), "-e", f"app_version={version}", *extra,
                            env=ansible_env())
    changed = sum(int(n) for n in re.findall(r"^\S+\s*: ok=\d+\s+changed=(\d+)", output, re.M))
    return seconds, changed


def reset_app_and_database() -> None:
    """An app host with no release and an empty database, as before a first deploy."""
    sh("docker", "exec", APP_HOST, "sh", "-c",
       f"systemctl stop nekomorto; rm -rf {APP_ROOT}/releases/* {APP_ROOT}/current {APP_ROOT}/previous")
    # Two -c: DROP DATABASE cannot run in the transaction psql wraps one multi-statement -c in.
    sh("docker", "exec", DB_HOST, "su", "postgres", "-c",
       f'psql -q -p {DB_PORT} -c "DROP DATABASE IF EXISTS nekomorto WITH (FORCE)" '
       f'-c "CREATE DATABASE nekomorto OWNER nekomorto_app"')


def shell_deploy(version: str) -> float:
    started = time.monotonic()
    for script in (SHELL_DEPLOY, SHELL_SWITCH):
        body = script.format(app_root=APP_ROOT, port=APP_PORT)
        done = subprocess.run(["docker", "exec", APP_HOST, "runuser", "-u", "nekomorto", "--", "bash", "-c", body,
                               "shell", version] if script is SHELL_DEPLOY else
                              ["docker", "exec", APP_HOST, "bash", "-c", body, "shell", version],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.exit(f"shell deploy failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1, help="full-deploy rounds (each ~1-2 minutes)")
    parser.add_argument("--noop-rounds", type=int, default=3)
    parser.add_argument("--version", default="v2")
    args = parser.parse_args()

    if sh("docker", "inspect", "-f", "{{.State.Running}}", APP_HOST, check=False).stdout.strip() != "true":
        print("demo hosts not running: starting them with scripts/demo.sh", flush=True)
        subprocess.run([str(ROOT / "scripts" / "demo.sh")], check=True)

    deploy(args.version)  # the live version, so the next runs are no-ops
    noop = [deploy(args.version) for _round in range(args.noop_rounds)]
    print(f"no-op re-deploy of {args.version}: median {statistics.median(seconds for seconds, _changed in noop):.1f} s "
          f"over {len(noop)} runs, changed tasks: {[changed for _seconds, changed in noop]}")

    ratios = []
    for round_number in range(1, args.rounds + 1):
        reset_app_and_database()
        # Same work as the script: no backup of the (empty) database before migrating.
        collection = deploy(args.version, "-e", "migrate_backup_before=false")[0]
        reset_app_and_database()
        baseline = shell_deploy(args.version)
        ratios.append(collection / baseline)
        print(f"round {round_number}: full deploy with the collection {collection:.1f} s, "
              f"plain shell script {baseline:.1f} s, ratio {collection / baseline:.2f}", flush=True)

    reset_app_and_database()
    deploy(args.version)
    print(f"orchestration overhead (collection / shell): median {statistics.median(ratios):.2f} (target <= 1.25)")


if __name__ == "__main__":
    main()
