"""An env file or a `current` link newer than the app's process (written or switched by a run that stopped
before its restart: a roll stopped at another host, an interrupted run, a step failed between the switch and
the restart) makes the next deploy restart the app behind the health gate, though the content is unchanged
and `current` already names the release. Once the app runs with them, a re-run restarts nothing."""

from __future__ import annotations

import json

import pytest

from conftest import APP_ROOT, deploy, served_version


def _main_pid(app) -> str:
    return app.run("systemctl show -p MainPID --value nekomorto").stdout.strip()


@pytest.mark.parametrize("newer", [
    f"touch {APP_ROOT}/shared/.env",
    # As the deploy switches: a new link renamed over the old one.
    f"ln -sfn \"$(readlink {APP_ROOT}/current)\" {APP_ROOT}/current.new && mv -T {APP_ROOT}/current.new {APP_ROOT}/current",
], ids=["env_file", "current"])
def test_an_env_file_or_current_newer_than_the_process_is_picked_up(app, newer):
    live = served_version()
    before = _main_pid(app)
    app.run_expect([0], f"sleep 1 && {newer}")
    run = deploy(live)
    assert run.rc == 0, run.output[-3000:]
    assert "nothing restarted" not in run.output
    assert _main_pid(app) != before
    last = json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])
    assert last["restarted"] is True
    assert "Health | Check health" in run.output

    again = deploy(live)
    assert again.rc == 0, again.output[-3000:]
    assert "nothing restarted" in again.output
    assert again.recap()["nekomorto-app1"]["changed"] == 0
