#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock
short_description: Acquire, release or read the deploy lock of an app host
version_added: 0.1.0
description:
  - Keeps one operation at a time on an app host (deploy, maintenance, backup, rollback) with a lock file
    holding a JSON object C({holder, run_id, playbook, started_at, ttl_seconds, expires_at}).
  - V(present) acquires the lock. The file is created atomically and only when absent (its content is written in
    full first, then hard-linked to O(path), which fails if a lock exists, like C(O_EXCL)). A lock already held
    by the same O(run_id) is fine and left unchanged. A lock held by another run fails the task, naming its
    holder, playbook, start and expiry. An expired (stale) lock fails too, unless O(takeover=true) replaces it;
    the replaced lock is returned as RV(previous).
  - With O(extend_seconds), V(present) only keeps the lock of a run that holds it already, for a long step (a
    backup, a build). Its C(expires_at) moves to now + O(extend_seconds) when that is later, so the lock does not
    look stale while the step runs. A lock the run no longer holds (released, or taken over by another run) fails
    the task instead of being taken again.
  - V(absent) releases the lock, only when O(run_id) holds it; a lock held by another run is left alone with
    a warning, unless O(force=true).
  - To read the lock without changing it, use M(nekomorto.ops.deploy_lock_info).
  - Every operation reads, decides and writes under an exclusive C(flock) on the lock's directory, so two runs
    racing for a stale lock cannot both take it over.
  - Times are in UTC, read from the clock of the host that holds the lock file.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.WRITES
seealso:
  - module: nekomorto.ops.deploy_lock_info
attributes:
  check_mode:
    details: In check mode the module reads the lock and predicts the outcome (including the failures) without
      writing.
  diff_mode:
    details: The diff shows the lock file's JSON before and after.
options:
  path:
    description:
      - The lock file, for example C(/srv/nekomorto/state/lock). Its directory must exist.
    type: path
    required: true
  state:
    description:
      - V(present) acquires, V(absent) releases.
    type: str
    choices: [present, absent]
    default: present
  run_id:
    description:
      - Identifies the run that holds (or wants) the lock; the same value must release it.
    type: str
    required: true
  holder:
    description:
      - Who runs the operation, for the message another operator reads, for example C(alice@laptop).
      - Required with O(state=present).
    type: str
  playbook:
    description:
      - The playbook that holds the lock, for the same message.
    type: str
  ttl_seconds:
    description:
      - How long the lock is honoured after it is taken. After that it is stale and can be taken over.
      - Choose it longer than the longest run of the playbook.
    type: int
    default: 3600
  extend_seconds:
    description:
      - With O(state=present), keep the lock this run holds for at least this many more seconds (see above). The
        lock keeps its holder and start; C(ttl_seconds) becomes the time from the start to the new expiry.
    type: int
  takeover:
    description:
      - With O(state=present), replace a stale lock instead of failing.
      - The roles expose it as C(run_control_lock_takeover=true). It never replaces a lock that has not expired.
    type: bool
    default: false
  force:
    description:
      - With O(state=absent), remove the lock whoever holds it, for example after a run was killed.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Take the deploy lock
  nekomorto.ops.deploy_lock:
    path: /srv/nekomorto/state/lock
    run_id: "{{ nekomorto_run_id }}"
    holder: "{{ lookup('ansible.builtin.env', 'USER') }}@{{ lookup('ansible.builtin.pipe', 'hostname') }}"
    playbook: deploy.yml
    ttl_seconds: 3600
    takeover: "{{ run_control_lock_takeover }}"

- name: Release the deploy lock
  nekomorto.ops.deploy_lock:
    path: /srv/nekomorto/state/lock
    state: absent
    run_id: "{{ nekomorto_run_id }}"

- name: Remove the lock of a run that was killed
  nekomorto.ops.deploy_lock:
    path: /srv/nekomorto/state/lock
    state: absent
    run_id: "{{ nekomorto_run_id }}"
    force: true
"""

RETURN = r"""
lock:
  description: The lock after the operation (as it would be in check mode); null when there is none or the file
    holds no valid lock.
  returned: always
  type: dict
  sample:
    holder: alice@laptop
    run_id: 20261129T031000Z-4f2a
    playbook: deploy.yml
    started_at: "2026-11-29T03:10:00Z"
    ttl_seconds: 3600
    expires_at: "2026-11-29T04:10:00Z"
previous:
  description: The lock this run replaced (stale takeover) or removed (release); null otherwise.
  returned: always
  type: dict
  sample: null
acquired:
  description: Whether O(run_id) holds the lock after the operation.
  returned: always
  type: bool
  sample: true
stale:
  description: Whether the lock found at O(path) had expired (or was not a valid lock).
  returned: always
  type: bool
  sample: false
diff:
  description: The lock file's JSON before and after (an empty string for no file).
  returned: always
  type: dict
  contains:
    before:
      description: The lock file before.
      type: str
    after:
      description: The lock file after.
      type: str
"""

import datetime
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._deploy_lock import (
    LockFile,
    build_lock,
    create_lock,
    extended_lock,
    guarded,
    read_lock,
    remove_lock,
    replace_lock,
    serialize_lock,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._timestamps import utc_now

TAKEOVER_HINT = "run_control_lock_takeover=true (module option takeover=true)"


def _text(lock: dict[str, t.Any] | None) -> str:
    return serialize_lock(lock).decode("utf-8") if lock else ""


class DeployLock:
    """Acquires, releases or reads the lock at one path."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.path: str = module.params["path"]
        self.run_id: str = module.params["run_id"]
        self.now = utc_now()

    def run(self) -> None:
        state = self.params["state"]
        if state == "present" and self.params["ttl_seconds"] <= 0:
            self._fail("ttl_seconds must be a positive number of seconds.", LockFile(exists=False))
        extend = self.params["extend_seconds"]
        if extend is not None and (state != "present" or extend <= 0):
            self._fail("extend_seconds must be a positive number of seconds, with state=present.", LockFile(exists=False))
        if not os.path.isdir(os.path.dirname(os.path.abspath(self.path))):
            self._without_directory(state)
        # A check-mode run only reads, so a shared guard is enough for a consistent view.
        try:
            with guarded(self.path, exclusive=not self.module.check_mode):
                found = read_lock(self.path)
                if state == "present" and extend is not None:
                    self._extend(found, extend)
                elif state == "present":
                    self._acquire(found)
                else:
                    self._release(found)
        except OSError as error:
            self._fail(f"Cannot use the deploy lock {self.path}: {error.strerror or error}; check the path and the "
                       "become user.", LockFile(exists=False))

    def _result(self, found: LockFile, lock: dict[str, t.Any] | None,
                previous: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
        return {
            "lock": lock,
            "previous": previous,
            "acquired": bool(lock) and lock.get("run_id") == self.run_id,
            "stale": found.is_stale(self.now),
            "diff": {"before": _text(found.lock), "after": _text(lock)},
        }

    def _exit(self, changed: bool, found: LockFile, lock: dict[str, t.Any] | None,
              previous: dict[str, t.Any] | None = None) -> None:
        self.module.exit_json(changed=changed, **self._result(found, lock, previous))

    def _fail(self, msg: str, found: LockFile) -> None:
        self.module.fail_json(msg=msg, **self._result(found, found.lock))

    def _without_directory(self, state: str) -> None:
        directory = os.path.dirname(os.path.abspath(self.path))
        nothing = LockFile(exists=False)
        if state != "present":
            self._exit(False, nothing, None)
        if not self.module.check_mode:
            self._fail(f"The directory {directory} does not exist; create it before taking the lock.", nothing)
        self.module.warn(f"{directory} does not exist; assuming an earlier task creates it")
        self._exit(True, nothing, self._new_lock())

    def _new_lock(self) -> dict[str, t.Any]:
        return build_lock(self.params["holder"], self.run_id, self.params["playbook"],
                          self.params["ttl_seconds"], self.now)

    def _acquire(self, found: LockFile) -> None:
        if not found.exists:
            lock = self._new_lock()
            if not self.module.check_mode and not create_lock(self.path, lock):
                raced = read_lock(self.path)
                self._fail(f"Another run took the deploy lock {self.path} at the same moment: it {raced.describe()}.",
                           raced)
            self._exit(True, found, lock)
        if found.held_by(self.run_id):
            self._exit(False, found, found.lock)
        if not found.is_stale(self.now):
            self._fail(
                f"The deploy lock {self.path} {found.describe()}. Wait for that run to end; if it died, the lock "
                f"can be taken over once it expires ({TAKEOVER_HINT}), or released with state=absent force=true.",
                found,
            )
        if not self.params["takeover"]:
            self._fail(
                f"The deploy lock {self.path} is stale: it {found.describe()}. Make sure that run is no longer "
                f"active, then rerun with {TAKEOVER_HINT} to take it over.",
                found,
            )
        lock = self._new_lock()
        if not self.module.check_mode:
            replace_lock(self.path, lock)
        self.module.warn(f"Took over the stale deploy lock {self.path}, which {found.describe()}.")
        self._exit(True, found, lock, previous=found.lock)

    def _extend(self, found: LockFile, seconds: int) -> None:
        if not found.held_by(self.run_id):
            now_held = found.describe() if found.exists else "is gone (released)"
            self._fail(
                f"Run {self.run_id} no longer holds the deploy lock {self.path}: it {now_held}. Another run may be "
                "at work on this host: this run stops here.",
                found,
            )
        wanted = self.now + datetime.timedelta(seconds=seconds)
        current = found.expires_at()
        if current is not None and current >= wanted:
            self._exit(False, found, found.lock)
        lock = extended_lock(found.lock, wanted)
        if not self.module.check_mode:
            replace_lock(self.path, lock)
        self._exit(True, found, lock)

    def _release(self, found: LockFile) -> None:
        if not found.exists:
            self._exit(False, found, None)
        if not found.held_by(self.run_id) and not self.params["force"]:
            self.module.warn(
                f"The deploy lock {self.path} {found.describe()}; run {self.run_id} does not hold it, so it is "
                "left in place. Remove it with force=true if that run is gone."
            )
            self._exit(False, found, found.lock)
        if not self.module.check_mode:
            remove_lock(self.path)
        self._exit(True, found, None, previous=found.lock)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "run_id": {"type": "str", "required": True},
            "holder": {"type": "str"},
            "playbook": {"type": "str"},
            "ttl_seconds": {"type": "int", "default": 3600},
            "extend_seconds": {"type": "int"},
            "takeover": {"type": "bool", "default": False},
            "force": {"type": "bool", "default": False},
        },
        required_if=[("state", "present", ["holder"])],
        supports_check_mode=True,
    )
    DeployLock(module).run()


if __name__ == "__main__":
    main()
