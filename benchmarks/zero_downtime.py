"""Measures what a deploy costs the clients, printing numbers, asserting nothing.

Under the same bounded load (loopback GETs of /api/version, /api/posts and /, one connection per
request, from the load client of the molecule tests), counts the failed requests (no answer or a
status >= 500) and the longest time without any successful answer, for:

1. plain restart (baseline): app1 alone, restart strategy, no edge in the way: the load goes straight
   to the app's port while a deploy switches and restarts it;
2. rolling over two hosts: both app hosts on the restart strategy behind the managed nginx edge, one at
   a time out of rotation; the load goes through the edge;
3. blue/green on one host: app1 out of the edge's rotation, app2 on the blue_green strategy switches
   instances twice (its first switch moves it from the restart unit to the green instance, the second
   from green to blue); the load goes through the edge, which only has app2.

It uses the fleet scenario's containers, freshly created and prepared (destroyed first: the cases need
hosts without a blue/green history), and deploys the stand-in's tags with extra vars that set each
host's strategy. The scenario's third app host is deployed once, then left out of the edge's rotation
and of the measured deploys. Takes about 10 minutes on an idle machine.

Usage: .venv/bin/python benchmarks/zero_downtime.py [--keep] [--json results.json]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "molecule" / "resources" / "tests"))

from load import LoadClient  # noqa: E402

EDGE_URL = "http://127.0.0.1:38380"
APP1_URL = "http://127.0.0.1:38381"
APP1, APP2, APP3 = "nekomorto-fl-app1", "nekomorto-fl-app2", "nekomorto-fl-app3"
LOAD = {"workers": 2, "pause": 0.04, "max_requests": 40000, "max_seconds": 900}


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}:{env.get('PATH', '')}"
    env.update(ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(ROOT / "collections"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    return env


def molecule(action: str) -> None:
    print(f"molecule {action} -s fleet", flush=True)
    subprocess.run(["molecule", action, "-s", "fleet"], cwd=ROOT, env=environment(), check=True,
                   stdout=subprocess.DEVNULL)


def inventory() -> str:
    # Other checkouts leave their own molecule.<hash>.fleet behind: the one just prepared is the newest.
    found = glob.glob(os.path.expanduser("~/.ansible/tmp/molecule.*.fleet/inventory"))
    if not found:
        raise SystemExit("no inventory of the fleet scenario: `molecule create -s fleet` failed?")
    return max(found, key=os.path.getmtime)


def playbook(name: str, *args: str, **extra_vars) -> float:
    """Runs a playbook of the collection against the fleet; returns its wall time. Fails loudly."""
    command = ["ansible-playbook", "-i", inventory(), str(ROOT / "playbooks" / name), *args]
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=environment(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n")
        raise SystemExit(f"{name} {' '.join(args)} failed (rc {done.returncode})")
    return time.monotonic() - started


def measure(label: str, url: str, name: str, *args: str, **extra_vars) -> dict:
    with LoadClient(url, **LOAD) as load:
        wall = playbook(name, *args, **extra_vars)
    report = load.report.as_dict() | {"case": label, "target": url, "playbook_s": round(wall, 1)}
    print(f"{label}: {load.report.summary()} (playbook {wall:.0f} s)", flush=True)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="leave the containers running at the end")
    parser.add_argument("--json", help="also write the results to this file")
    options = parser.parse_args()

    molecule("destroy")
    molecule("create")
    molecule("prepare")
    restart = {"service_strategy": "restart"}
    print("set-up: v1 on the app hosts (restart strategy), edge configured, app3 out of its rotation", flush=True)
    playbook("deploy.yml", app_version="v1", **restart)
    playbook("edge_rotation.yml", "--limit", APP3, rotation="out")

    results = [
        measure("plain restart (baseline)", APP1_URL, "deploy.yml", "--limit", APP1,
                app_version="v2", edge_manage=False, **restart),
        measure("rolling over two hosts", EDGE_URL, "deploy.yml", "--limit", f"all:!{APP3}", app_version="v3", **restart),
    ]
    playbook("edge_rotation.yml", "--limit", APP1, rotation="out")
    blue_green = {"service_strategy": "blue_green", "migrate_fail_on_missing_locally": False}
    results += [
        measure("blue/green, restart unit -> green", EDGE_URL, "deploy.yml", "--limit", APP2,
                app_version="v2", **blue_green),
        measure("blue/green, green -> blue", EDGE_URL, "deploy.yml", "--limit", APP2,
                app_version="v3", **blue_green),
    ]
    playbook("edge_rotation.yml", "--limit", APP1, rotation="in")
    if not options.keep:
        molecule("destroy")

    print("\n| case | requests | failed | longest gap without a successful answer | playbook |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for result in results:
        print(f"| {result['case']} | {result['requests']} | {result['failed']} | {result['longest_gap_s']:.2f} s "
              f"| {result['playbook_s']:.0f} s |")
    if options.json:
        pathlib.Path(options.json).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
