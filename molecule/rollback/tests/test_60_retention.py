"""Retention keeps exactly what it promises, in a backup root of its own.

The combinations of both rules are covered by the unit tests of plan_retention (tests/unit/plugins/module_utils/test_backup.py)."""

from __future__ import annotations

import re

from conftest import BACKUP_ROOT, backup, backup_ids, recall

ROOT = "/var/backups/retention-test"

# Copies the golden backup into ROOT under ids (and created_at) so many days old.
_AGED = r"""
import datetime, json, os, shutil, sys
source, root = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc)
for days in sys.argv[3:]:
    moment = now - datetime.timedelta(days=float(days))
    backup_id = moment.strftime("%Y%m%dT%H%M%SZ")
    target = os.path.join(root, backup_id)
    shutil.copytree(source, target)
    path = os.path.join(target, "manifest.json")
    with open(path) as handle:
        manifest = json.load(handle)
    manifest["id"] = backup_id
    manifest["created_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(path, "w") as handle:
        json.dump(manifest, handle)
    print(backup_id)
"""


def _aged(app, *days: float) -> list[str]:
    app.run(f"mkdir -p -m 0700 {ROOT}")
    made = app.run("python3 -c %s %s %s " + " ".join(["%s"] * len(days)),
                   _AGED, f"{BACKUP_ROOT}/{recall()['golden_id']}", ROOT, *[str(day) for day in days])
    assert made.rc == 0, made.stderr
    return made.stdout.split()


def _run(app, **policy) -> list[str]:
    before = set(backup_ids(app, ROOT))
    run = backup(backup_root=ROOT, backup_uploads=False, **policy)
    assert run.rc == 0, run.output[-2500:]
    new = sorted(set(backup_ids(app, ROOT)) - before)
    assert len(new) == 1
    return new


def test_keep_the_last_n(app):
    app.run(f"rm -rf {ROOT}")
    aged = _aged(app, 5, 4, 3, 2, 1)  # oldest first
    killed, running = "20200101T000000Z", "20200102T000000Z"
    corrupt = aged[0]
    for incomplete in (killed, running):
        app.run(f"mkdir -p {ROOT}/{incomplete} && echo partial > {ROOT}/{incomplete}/.db.dump.partial")
    # Nothing written to the killed run's folder for two days; the other one was written to just now.
    app.run(f"touch -d '2 days ago' {ROOT}/{killed}/.db.dump.partial {ROOT}/{killed}")
    app.run(f"truncate -s 10 {ROOT}/{corrupt}/db.dump")
    new = _run(app, backup_keep_count=2, backup_keep_days=0)
    # Kept: the new backup and the newest aged one (last 2); the corrupt one is left for an operator; the
    # folder still written to may be a backup still running.
    assert backup_ids(app, ROOT) == sorted([corrupt, aged[-1], running, *new])


def test_keep_the_last_d_days(app):
    app.run(f"rm -rf {ROOT}")
    aged = _aged(app, 10, 4, 2, 1)
    new = _run(app, backup_keep_count=0, backup_keep_days=3)
    assert backup_ids(app, ROOT) == sorted([aged[2], aged[3], *new])


def test_check_mode_lists_what_the_run_removes(app):
    app.run(f"rm -rf {ROOT}")
    aged = _aged(app, 4, 3, 2, 1)
    check = backup("--check", backup_root=ROOT, backup_uploads=False, backup_keep_count=2, backup_keep_days=0)
    assert check.rc == 0, check.output[-2500:]
    assert backup_ids(app, ROOT) == sorted(aged)
    would = sorted(re.findall(rf"changed: \[[^\]]+\] => \(item={ROOT}/(\w+)\)", check.output))
    new = _run(app, backup_keep_count=2, backup_keep_days=0)
    # The new backup is one of the last 2: the run keeps it and the newest aged one, and check mode said so.
    assert backup_ids(app, ROOT) == sorted([aged[-1], *new])
    assert would == sorted(aged[:-1])


def test_a_backup_dated_in_the_future_is_kept_and_reported(app):
    app.run(f"rm -rf {ROOT}")
    aged = _aged(app, 2, 1, -400)  # the last one taken while the clock was more than a year ahead
    new = _run(app, backup_keep_count=2, backup_keep_days=0)
    # It sorts first (kept as the newest), the new backup is the second of the last 2.
    assert backup_ids(app, ROOT) == sorted([aged[-1], *new])
    run = backup("--check", backup_root=ROOT, backup_uploads=False, backup_keep_count=2, backup_keep_days=0)
    said = " ".join(run.output.split())
    assert run.rc == 0, run.output[-2500:]
    assert f"are dated after nekomorto-rb-app1's clock: {aged[-1]}. The clock was or is wrong." in said


def test_both_rules_off_with_pruning_on_is_refused(app):
    # It would keep only the newest backup (plan_retention's unit tests show that rule).
    before = backup_ids(app, ROOT)
    run = backup(backup_root=ROOT, backup_uploads=False, backup_keep_count=0, backup_keep_days=0)
    said = " ".join(run.output.split())
    assert run.rc != 0
    assert "not both 0 while backup_prune is true" in said, run.output[-2000:]
    assert backup_ids(app, ROOT) == before
    app.run(f"rm -rf {ROOT}")
