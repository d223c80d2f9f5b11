"""An env file newer than the app's process (written by a run that stopped before its restart, e.g. a roll
stopped at another host) makes the next deploy restart the app, though the file's content is unchanged.
Once the app runs with it, a re-run restarts nothing."""

from __future__ import annotations

import json

from conftest import APP_ROOT, deploy, served_version


def _main_pid(app) -> str:
    return app.run("systemctl show -p MainPID --value nekomorto").stdout.strip()


def test_an_env_file_newer_than_the_process_is_picked_up(app):
    live = served_version()
    before = _main_pid(app)
    app.run_expect([0], f"sleep 1 && touch {APP_ROOT}/shared/.env")
    run = deploy(live)
    assert run.rc == 0, run.output[-3000:]
    assert "nothing restarted" not in run.output
    assert _main_pid(app) != before
    last = json.loads(app.file(f"{APP_ROOT}/state/journal.jsonl").content_string.splitlines()[-1])
    assert last["restarted"] is True

    again = deploy(live)
    assert again.rc == 0, again.output[-3000:]
    assert "nothing restarted" in again.output
    assert again.recap()["nekomorto-app1"]["changed"] == 0
