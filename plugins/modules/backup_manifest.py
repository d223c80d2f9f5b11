#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: backup_manifest
short_description: Seal a backup folder with its manifest, written last and verified
version_added: 0.2.0
description:
  - Lists every file of the backup folder O(path), computes its size and SHA-256, and writes C(manifest.json) holding
    the folder's id (its name), O(content) (what the backup is, such as its time, host, release, migrations and row
    counts) and that file list. A backup without its manifest never counts.
  - The manifest is written atomically (a temporary file renamed over), then read back and the folder verified
    against it (same files, same sizes) before the task reports success.
  - With O(expect_checksums), the files' checksums must also be the ones the steps that wrote them computed
    (for example RV(nekomorto.ops.pg_dump#module:checksums)); a file changed since it was written is refused.
  - A folder that already has a manifest is never rewritten (the task fails). Temporary files left in the folder
    (C(.*.partial)) and anything that is not a regular file make it fail too.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the module returns the manifest it would write without writing it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: Running the module twice with the same arguments reports C(changed=false) the second time.
    support: none
    details: A manifest is written once; a second run on the same folder fails.
options:
  path:
    description:
      - The backup folder, for example C(/var/backups/nekomorto/20261129T031000Z). Its name is the backup's id
        (C(YYYYMMDDTHHMMSSZ), optionally followed by C(-<n>)).
    type: path
    required: true
  content:
    description:
      - What the manifest says about the backup, besides C(format), C(format_version), C(id) and C(files), which the
        module writes. C(created_at), an ISO 8601 time in UTC, is required (retention orders backups by it).
    type: dict
    required: true
  expect_checksums:
    description:
      - File name (relative to O(path)) to the SHA-256 the step that wrote it computed.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Seal the backup
  nekomorto.ops.backup_manifest:
    path: /var/backups/nekomorto/20261129T031000Z
    content:
      created_at: "2026-11-29T03:10:00Z"
      host: app1
      reason: manual
      release: {id: v1-3f2a9c1d5e7b, version: v1}
    expect_checksums: "{{ dump.checksums | combine({'uploads.tar': uploads.archive_sha256}) }}"
  become: true
"""

RETURN = r"""
manifest:
  description: The manifest written (or that would be written, in check mode).
  returned: always
  type: dict
  sample:
    format: nekomorto.ops.backup
    format_version: 1
    id: 20261129T031000Z
    created_at: "2026-11-29T03:10:00Z"
    files:
      db.dump: {size: 2818048, sha256: 9b0c1d0c8e4bd5c0a8a8f3f4c1e64f09d9ee5f8a2a8b6b4b5e0e4cf0a1d2f3e4}
manifest_path:
  description: Where the manifest is.
  returned: always
  type: str
  sample: /var/backups/nekomorto/20261129T031000Z/manifest.json
size_bytes:
  description: Total size of the files the manifest lists.
  returned: always
  type: int
  sample: 134217728
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._backup import (
    BACKUP_ID,
    MANIFEST_NAME,
    BackupError,
    build_manifest,
    check_backup,
    checksum_files,
    list_files,
    manifest_problems,
    serialize_manifest,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._files import write_atomically


class Manifest:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.path = os.path.abspath(module.params["path"])
        self.result: dict[str, t.Any] = {
            "changed": False,
            "manifest": {},
            "manifest_path": os.path.join(self.path, MANIFEST_NAME),
            "size_bytes": 0,
        }

    def fail(self, message: str) -> t.NoReturn:
        self.module.fail_json(msg=message, **self.result)
        raise AssertionError("fail_json returned")  # pragma: no cover

    def run(self) -> dict[str, t.Any]:
        backup_id = os.path.basename(self.path)
        if not BACKUP_ID.match(backup_id):
            self.fail(f"{self.path}: a backup folder is named by its id, YYYYMMDDTHHMMSSZ (optionally -<n>), not {backup_id!r}.")
        if not os.path.isdir(self.path):
            if self.module.check_mode:
                self.module.warn(f"{self.path} does not exist; assuming an earlier task creates it")
                self.result["changed"] = True
                return self.result
            self.fail(f"{self.path} is not a folder.")
        if os.path.lexists(self.result["manifest_path"]):
            self.fail(f"{self.result['manifest_path']} already exists: a backup's manifest is written once and never rewritten.")
        try:
            names = list_files(self.path)
        except (BackupError, OSError) as exc:
            self.fail(f"The backup cannot be sealed: {exc}.")
        # A temporary file, or a file inside a temporary folder (.db.dir.partial/toc.dat).
        leftovers = [name for name in names if any(part.startswith(".") for part in name.split("/"))]
        if leftovers:
            self.fail(f"The backup cannot be sealed: temporary files are left in it ({', '.join(leftovers)}); a step did not finish.")
        if not names:
            self.fail(f"{self.path} holds no file: there is nothing to seal.")
        files = checksum_files(self.path, names)
        self._compare(files)
        try:
            manifest = build_manifest(backup_id, self.module.params["content"], files)
        except BackupError as exc:
            self.fail(str(exc))
        problems = manifest_problems(manifest, backup_id)
        if problems:
            self.fail(f"The manifest would not be valid: {'; '.join(problems)}.")
        self.result.update(
            changed=True, manifest=manifest, size_bytes=sum(entry["size"] for entry in files.values())
        )
        if self.module.check_mode:
            return self.result
        write_atomically(self.result["manifest_path"], serialize_manifest(manifest), 0o600)
        check = check_backup(self.path, checksums=False)
        if not check.ok:
            self.fail(f"The manifest was written but the backup does not verify against it: {'; '.join(check.problems)}.")
        return self.result

    def _compare(self, files: dict[str, dict[str, t.Any]]) -> None:
        problems = []
        for name, digest in self.module.params["expect_checksums"].items():
            if name not in files:
                problems.append(f"{name} is missing")
            elif files[name]["sha256"] != str(digest):
                problems.append(f"{name} changed after it was written (sha256 differs)")
        if problems:
            self.fail(f"The backup cannot be sealed: {'; '.join(problems)}.")


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "content": {"type": "dict", "required": True},
            "expect_checksums": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    manifest = Manifest(module)
    try:
        result = manifest.run()
    except OSError as exc:
        # A full disk or a folder that changed under the module: a sentence, not a traceback.
        manifest.result.update(changed=False, manifest={})
        manifest.fail(f"The backup cannot be sealed: {exc.filename or manifest.path}: {exc.strerror or exc}. "
                      "Without its manifest the backup does not count.")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
