"""A backup copied to the controller, and verified there against its manifest."""

from __future__ import annotations

import hashlib
import json
import stat

from conftest import BACKUP_ROOT, backup, manifest


def test_backup_copied_to_the_controller_verifies(app, tmp_path):
    target = tmp_path / "copies"
    run = backup(backup_fetch=True, backup_fetch_dir=str(target), backup_reason="copy off the host")
    assert run.rc == 0, run.output[-2500:]
    hosts = list(target.iterdir())
    assert [path.name for path in hosts] == ["nekomorto-rb-app1"]
    copies = list(hosts[0].iterdir())
    assert len(copies) == 1
    copied = json.loads((copies[0] / "manifest.json").read_text())
    assert copied == manifest(app, copies[0].name) and copied["reason"] == "copy off the host"
    for name, entry in copied["files"].items():
        assert hashlib.sha256((copies[0] / name).read_bytes()).hexdigest() == entry["sha256"], name
    assert stat.S_IMODE(target.stat().st_mode) == 0o700 and stat.S_IMODE(hosts[0].stat().st_mode) == 0o700
    assert app.file(f"{BACKUP_ROOT}/{copies[0].name}/manifest.json").exists
