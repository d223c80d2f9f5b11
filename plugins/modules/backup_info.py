#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_info
short_description: List and verify the backups of a folder, pick one, and plan their retention
version_added: 0.2.0
description:
  - Reads every backup folder under O(path) (folders named C(YYYYMMDDTHHMMSSZ) or C(YYYYMMDDTHHMMSSZ-<n>)) and tells
    for each whether it counts (RV(backups[].status)).
  - 'V(ok): C(manifest.json) is there, valid, names the folder, and lists exactly the files of the folder with their
    sizes. V(incomplete): no manifest, the run that wrote it failed or was killed. V(corrupt): anything else (a file
    missing, truncated, added, or a manifest that cannot be read).'
  - Selects one backup (RV(selected)), O(backup_id) or else the newest that counts, and with O(checksums=true)
    verifies the SHA-256 of every one of its files; when the newest fails that check, the next newest is tried.
  - With O(keep_last) or O(keep_days), also plans the retention (RV(retention)) without removing anything.
  - The module only reads; it reports C(changed=false) and runs for real in check mode.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
options:
  path:
    description:
      - The folder holding the backups, for example C(/var/backups/nekomorto). A missing folder holds no backup.
    type: path
    required: true
  backup_id:
    description:
      - The backup to select. Empty selects the newest backup that counts.
    type: str
    default: ""
  checksums:
    description:
      - Verify the SHA-256 of every file of the selected backup (the others are checked by size only).
    type: bool
    default: true
  keep_last:
    description:
      - Retention, see RV(retention). Keep the newest O(keep_last) backups that count.
    type: int
  keep_days:
    description:
      - Retention, see RV(retention). Keep the backups that count and are younger than O(keep_days) days (by their
        manifest's C(created_at)). A backup meeting either O(keep_last) or O(keep_days) is kept; V(0) turns a rule off.
    type: int
  protect:
    description:
      - Ids the retention must keep whatever their age (for example the backup a run is using).
    type: list
    elements: str
    default: []
  new_backups:
    description:
      - Verified backups about to be added, newer than every backup in O(path). The retention plans as if they were
        there (they take the first places of O(keep_last), and the newest of them is the newest that counts).
      - A backup run in check mode takes no backup and plans its retention with V(1), so that it lists what the real
        run removes.
    type: int
    default: 0
  incomplete_grace_hours:
    description:
      - Retention removes a folder without a manifest (a backup that failed or was killed) once nothing in it
        changed for this many hours; a younger one may be a backup still running, and is kept.
    type: int
    default: 24
notes:
  - The newest backup that counts is always kept. Incomplete folders are planned for removal. Corrupt backups are
    never planned for removal; they are reported in RV(retention.left_alone) for an operator to decide.
seealso:
  - module: nekomorto.ops.backup_manifest
"""

EXAMPLES = r"""
- name: Pick the newest verified backup
  nekomorto.ops.backup_info:
    path: /var/backups/nekomorto
  become: true
  register: backups

- name: Verify the backup an operator named
  nekomorto.ops.backup_info:
    path: /var/backups/nekomorto
    backup_id: 20261129T031000Z
  become: true
  register: chosen
  failed_when: chosen.selected.status | default('') != 'ok'

- name: Plan the retention, then apply it
  nekomorto.ops.backup_info:
    path: /var/backups/nekomorto
    checksums: false
    keep_last: 7
    keep_days: 14
  become: true
  register: retention

- name: Remove what the retention does not keep
  ansible.builtin.file:
    path: "{{ item }}"
    state: absent
  loop: "{{ retention.retention.remove }}"
  become: true
"""

RETURN = r"""
exists:
  description: Whether O(path) exists.
  returned: always
  type: bool
  sample: true
backups:
  description: Every backup folder, newest first.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The folder's name.
      type: str
    path:
      description: The folder.
      type: str
    status:
      description: V(ok), V(incomplete) or V(corrupt).
      type: str
    problems:
      description: Why it does not count.
      type: list
      elements: str
    checksums_verified:
      description: Whether the SHA-256 of its files were verified (only for the selected backup and those tried before it).
      type: bool
    created_at:
      description: From its manifest.
      type: str
    reason:
      description: Why it was taken, from its manifest.
      type: str
    release_id:
      description: The release live when it was taken.
      type: str
    version:
      description: The app version live when it was taken.
      type: str
    size_bytes:
      description: Total size of its files.
      type: int
  sample:
    - {id: 20261129T031000Z, path: /var/backups/nekomorto/20261129T031000Z, status: ok, problems: [],
       checksums_verified: true, created_at: "2026-11-29T03:10:00Z", reason: manual, release_id: v1-3f2a9c1d5e7b,
       version: v1, size_bytes: 4200000}
selected:
  description: The selected backup (same keys as an item of RV(backups)); empty when there is none.
  returned: always
  type: dict
  sample: {id: 20261129T031000Z, status: ok, checksums_verified: true}
manifest:
  description: The manifest of the selected backup when it counts; empty otherwise.
  returned: always
  type: dict
  sample: {format: nekomorto.ops.backup, format_version: 1, id: 20261129T031000Z}
retention:
  description: With O(keep_last) or O(keep_days), what the policy keeps (and why) and removes.
  returned: always
  type: dict
  contains:
    keep:
      description: Id to the reasons it is kept.
      type: dict
    remove:
      description: Folders to remove.
      type: list
      elements: str
    left_alone:
      description: Corrupt backups, never removed automatically, with their problem.
      type: dict
  sample: {keep: {20261129T031000Z: [newest verified backup]}, remove: [/var/backups/nekomorto/20261101T031000Z],
           left_alone: {}}
dated_in_future:
  description:
    - Ids of the backups that count whose C(created_at) is more than five minutes after the host's clock. The clock
      was or is wrong, and the newest of them may not be the latest backup; a caller that takes the newest backup
      should ask which one to use.
  returned: always
  type: list
  elements: str
  sample: [20990101T000000Z]
ignored:
  description: Other entries of O(path), which are not backups.
  returned: always
  type: list
  elements: str
  sample: [README]
"""

import datetime
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._backup import (
    BACKUP_ID,
    STATUS_CORRUPT,
    BackupCheck,
    BackupError,
    backup_folders,
    check_backup,
    dated_in_future,
    newest_first,
    plan_retention,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._timestamps import utc_now


class BackupStore:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.root = module.params["path"]

    def run(self) -> dict[str, t.Any]:
        folders, ignored = backup_folders(self.root)
        checks = newest_first([check_backup(folder, checksums=False) for folder in folders])
        selected = self._select(checks)
        now = utc_now()
        result: dict[str, t.Any] = {
            "changed": False,
            "exists": os.path.isdir(self.root),
            "backups": [check.summary() for check in checks],
            "selected": selected.summary() if selected else {},
            "manifest": (selected.manifest or {}) if selected and selected.ok else {},
            "retention": {"keep": {}, "remove": [], "left_alone": {}},
            "dated_in_future": dated_in_future(checks, now),
            "ignored": ignored,
        }
        if self.params["keep_last"] is not None or self.params["keep_days"] is not None:
            try:
                plan = plan_retention(
                    checks, self.params["keep_last"] or 0, self.params["keep_days"] or 0, now, self.params["protect"],
                    datetime.timedelta(hours=self.params["incomplete_grace_hours"]), self.params["new_backups"],
                )
            except BackupError as exc:
                self.module.fail_json(msg=str(exc), **result)
            paths = {check.id: check.path for check in checks}
            result["retention"] = {
                "keep": plan.keep,
                "remove": [paths[backup_id] for backup_id in plan.remove],
                "left_alone": plan.left_alone,
            }
        return result

    def _select(self, checks: list[BackupCheck]) -> BackupCheck | None:
        wanted = self.params["backup_id"]
        if wanted:
            if not BACKUP_ID.match(wanted):
                return BackupCheck(id=wanted, path="", status=STATUS_CORRUPT,
                                   problems=[f"{wanted!r} is not a backup id (YYYYMMDDTHHMMSSZ)"])
            for index, check in enumerate(checks):
                if check.id == wanted:
                    if check.ok and self.params["checksums"]:
                        checks[index] = check = check_backup(check.path, checksums=True)
                    return check
            return BackupCheck(id=wanted, path=os.path.join(self.root, wanted), status=STATUS_CORRUPT,
                               problems=[f"there is no backup {wanted} in {self.root}"])
        for index, check in enumerate(checks):
            if not check.ok:
                continue
            if self.params["checksums"]:
                checks[index] = check = check_backup(check.path, checksums=True)
            if check.ok:
                return check
        return None


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "backup_id": {"type": "str", "default": ""},
            "checksums": {"type": "bool", "default": True},
            "keep_last": {"type": "int"},
            "keep_days": {"type": "int"},
            "protect": {"type": "list", "elements": "str", "default": []},
            "new_backups": {"type": "int", "default": 0},
            "incomplete_grace_hours": {"type": "int", "default": 24},
        },
        supports_check_mode=True,
    )
    module.exit_json(**BackupStore(module).run())


if __name__ == "__main__":
    main()
