"""A run keeps its lock through a step that may outlast the lock's TTL, and stops when another run took
its lock over meanwhile (run_control's extend entry point, as the build, backup, restore, migrate and
ops_task roles call it)."""

from __future__ import annotations

import json
import re

import testbed
from conftest import APP_ROOT

LOCK = f"{APP_ROOT}/state/lock"
OTHER_RUN = {
    "holder": "carol@elsewhere", "run_id": "20261130T000000Z-other", "playbook": "backup",
    "started_at": "2026-11-30T00:00:00Z", "ttl_seconds": 86400000, "expires_at": "2999-01-01T00:00:00Z",
}
# Takes the lock for 60 s, keeps it for a step of an hour, lets another run take it over (as a takeover
# of a lock that looked stale would), then reaches the next long step.
PLAYBOOK = f"""
- name: Lock test
  hosts: nekomorto-app1
  gather_facts: false
  tasks:
    - name: Take the run lock
      ansible.builtin.include_role:
        name: nekomorto.ops.run_control
      vars:
        run_control_kind: lock-test
        run_control_lock_ttl: 60

    - name: Keep it through a step of an hour
      ansible.builtin.include_role:
        name: nekomorto.ops.run_control
        tasks_from: extend
      vars:
        run_control_extend_seconds: 3600
        run_control_lock_ttl: 60

    - name: Read the lock
      ansible.builtin.slurp:
        src: {LOCK}
      register: lock_read

    - name: Show the lock
      ansible.builtin.debug:
        msg: "LOCK playbook=${{{{ (lock_read.content | b64decode | from_json).playbook }}}}
              ttl=${{{{ (lock_read.content | b64decode | from_json).ttl_seconds }}}}"

    - name: Another run takes the lock over
      ansible.builtin.copy:
        dest: {LOCK}
        content: '{json.dumps(OTHER_RUN)}'
        mode: "0644"

    - name: Keep it through the next step
      ansible.builtin.include_role:
        name: nekomorto.ops.run_control
        tasks_from: extend
      vars:
        run_control_extend_seconds: 3600
        run_control_lock_ttl: 60

    - name: Never reached
      ansible.builtin.command: touch /tmp/lock-test-went-on
      changed_when: true
"""


def test_a_long_step_keeps_the_lock_and_a_lost_lock_stops_the_run(app, tmp_path):
    assert not app.file(LOCK).exists
    playbook = tmp_path / "lock.yml"
    playbook.write_text(PLAYBOOK)
    try:
        run = testbed.run_playbook(str(playbook))
        said = " ".join(run.output.split())
        assert run.rc != 0, run.output[-3000:]
        # The first step: the lock taken for 60 s was kept for the hour of the step plus ten minutes.
        shown = re.search(r"LOCK playbook=\$(\S+) ttl=\$(\d+)", said)
        assert shown and shown.group(1) == "lock-test" and int(shown.group(2)) >= 4200, run.output[-3000:]
        # The second: the run no longer holds the lock, says who does, stops, and leaves that lock alone.
        assert "no longer holds the deploy lock" in said and "carol@elsewhere" in said, run.output[-3000:]
        assert not app.file("/tmp/lock-test-went-on").exists
        assert json.loads(app.file(LOCK).content_string) == OTHER_RUN
    finally:
        app.run(f"rm -f {LOCK} /tmp/lock-test-went-on")
