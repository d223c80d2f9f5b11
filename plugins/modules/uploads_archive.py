#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: uploads_archive
short_description: Archive the app's uploads folder with a per-file checksum list, verify such an archive, or extract it
version_added: 0.2.0
description:
  - V(archived) writes the folder O(src) into a tar archive O(path) and the SHA-256 of every file into O(checksum_file),
    in the format of C(sha256sum) (so C(sha256sum -c) checks a folder against it). Each file is read once, for the
    archive and its checksum at the same time. Both files are written under a temporary name, renamed when
    complete, and readable by their owner only.
  - V(verified) reads the archive back and checks every member against the checksum list (same files, same
    content), touching nothing.
  - V(extracted) extracts the archive into the new folder O(dest), checking every member as it goes. Only plain
    files and folders with clean relative names are accepted (no links, devices, absolute paths or C(..)), so an
    archive can never write outside O(dest). If anything does not match, O(dest) is removed again and the task
    fails. Swapping O(dest) in place of the live folder is left to the caller (a rename).
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.file_owner
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode V(archived) counts what it would archive, V(extracted) verifies the archive; nothing is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: Running the module twice with the same arguments reports C(changed=false) the second time.
    support: none
    details: V(archived) and V(extracted) never overwrite, so a second run with the same paths fails; V(verified) never changes anything.
options:
  state:
    description:
      - V(archived), V(verified) or V(extracted), see the description.
    type: str
    choices: [archived, verified, extracted]
    required: true
  path:
    description:
      - The archive, for example C(/var/backups/nekomorto/20261129T031000Z/uploads.tar). With V(archived) it must not exist.
    type: path
    required: true
  checksum_file:
    description:
      - The per-file checksum list, for example C(/var/backups/nekomorto/20261129T031000Z/uploads.sha256). With
        V(archived) it must not exist.
    type: path
    required: true
  src:
    description:
      - The folder to archive, for V(archived), for example C(/srv/nekomorto/shared/public/uploads).
    type: path
  dest:
    description:
      - The folder to extract into, for V(extracted). It must not exist; its parent must.
      - Files get O(owner) and O(group) and keep their mode (without special bits) and modification time.
    type: path
  mode:
    description:
      - Mode of O(dest) itself with V(extracted).
    type: str
    default: "0755"
  compression:
    description:
      - With V(archived), V(gzip) compresses the archive. Uploads are mostly images, already compressed, so the default
        is none. Reading detects the compression by itself.
    type: str
    choices: [none, gzip]
    default: none
notes:
  - Symbolic links and special files in O(src) are not archived; they are listed in RV(skipped) with a warning.
seealso:
  - module: nekomorto.ops.backup_manifest
"""

EXAMPLES = r"""
- name: Archive the uploads into the backup folder
  nekomorto.ops.uploads_archive:
    state: archived
    src: /srv/nekomorto/shared/public/uploads
    path: /var/backups/nekomorto/20261129T031000Z/uploads.tar
    checksum_file: /var/backups/nekomorto/20261129T031000Z/uploads.sha256
  become: true

- name: Refuse a tampered archive before touching anything
  nekomorto.ops.uploads_archive:
    state: verified
    path: /var/backups/nekomorto/20261129T031000Z/uploads.tar
    checksum_file: /var/backups/nekomorto/20261129T031000Z/uploads.sha256
  become: true

- name: Extract it beside the live folder, to be swapped in by rename
  nekomorto.ops.uploads_archive:
    state: extracted
    path: /var/backups/nekomorto/20261129T031000Z/uploads.tar
    checksum_file: /var/backups/nekomorto/20261129T031000Z/uploads.sha256
    dest: /srv/nekomorto/shared/public/uploads.restore-20261129T031000Z
    owner: nekomorto
    group: nekomorto
  become: true
"""

RETURN = r"""
files:
  description: Files archived, checked or extracted.
  returned: always
  type: int
  sample: 2000
directories:
  description: Folders archived, checked or extracted.
  returned: always
  type: int
  sample: 14
bytes:
  description: Total size of the files' content.
  returned: always
  type: int
  sample: 131072000
archive_size:
  description: Size of the archive file (V(archived)); V(0) otherwise.
  returned: always
  type: int
  sample: 132321280
archive_sha256:
  description: SHA-256 of the archive file (V(archived)); empty otherwise.
  returned: always
  type: str
  sample: 3f5c0e8b2b0b6e5f7a8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c
checksum_file_sha256:
  description: SHA-256 of the checksum list (V(archived)); empty otherwise.
  returned: always
  type: str
  sample: 7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6
skipped:
  description: What V(archived) left out (symbolic links, special files), with the reason.
  returned: always
  type: list
  elements: str
  sample: ["avatars/latest.png (symbolic link)"]
problems:
  description: How the archive differs from its checksum list (the task fails when there is any).
  returned: always
  type: list
  elements: str
  sample: ["posts/cover.png does not match its sha256 in the list"]
duration:
  description: Seconds the archive, the check or the extraction took.
  returned: always
  type: float
  sample: 1.42
dest:
  description: O(dest) with V(extracted); empty otherwise.
  returned: always
  type: str
  sample: /srv/nekomorto/shared/public/uploads.restore-20261129T031000Z
"""

import os
import time
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._files import (
    file_owner_argument_spec,
    parse_mode,
    resolve_gid,
    resolve_uid,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._uploads_archive import (
    ArchiveError,
    create_archive,
    read_archive,
)


def _empty_result() -> dict[str, t.Any]:
    return {
        "changed": False,
        "files": 0,
        "directories": 0,
        "bytes": 0,
        "archive_size": 0,
        "archive_sha256": "",
        "checksum_file_sha256": "",
        "skipped": [],
        "problems": [],
        "duration": 0.0,
        "dest": "",
    }


class UploadsArchive:
    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.result = _empty_result()

    def fail(self, message: str) -> t.NoReturn:
        self.module.fail_json(msg=message, **self.result)
        raise AssertionError("fail_json returned")  # pragma: no cover

    def run(self) -> dict[str, t.Any]:
        os.umask(0o077)
        state = self.params["state"]
        started = time.monotonic()
        try:
            if state == "archived":
                self._archive()
            elif state == "verified":
                self._read(dest=None)
            else:
                self._extract()
        except ArchiveError as exc:
            self.fail(str(exc))
        except OSError as exc:
            self.fail(f"{exc.filename or self.params['path']}: {exc.strerror or exc}")
        self.result["duration"] = round(time.monotonic() - started, 3)
        return self.result

    def _archive(self) -> None:
        source = self.params["src"]
        if not source:
            self.fail("src is required with state=archived.")
        if not os.path.isdir(source):
            self.fail(f"src {source} is not a folder.")
        for path in (self.params["path"], self.params["checksum_file"]):
            if os.path.lexists(path):
                self.fail(f"{path} already exists: an archive is never overwritten.")
        if self.module.check_mode:
            self._count(source)
            self.result["changed"] = True
            return
        summary = create_archive(source, self.params["path"], self.params["checksum_file"], self.params["compression"])
        self.result.update(
            changed=True,
            files=summary.files,
            directories=summary.directories,
            bytes=summary.bytes,
            archive_size=summary.archive_size,
            archive_sha256=summary.archive_sha256,
            checksum_file_sha256=summary.list_sha256,
            skipped=summary.skipped,
        )
        for item in summary.skipped:
            self.module.warn(f"not archived: {item}")

    def _unreadable(self, error: OSError) -> None:
        """A folder the count cannot list: check mode says so, as the archive would (a folder gone meanwhile is not)."""
        if isinstance(error, FileNotFoundError):
            return
        self.fail(f"cannot read the folder {error.filename} ({error.strerror or error}): the archive would stop there.")

    def _count(self, source: str) -> None:
        for _root, dirs, files in os.walk(source, onerror=self._unreadable):
            self.result["directories"] += len(dirs)
            self.result["files"] += len(files)

    def _read(self, dest: str | None, uid: int | None = None, gid: int | None = None, mode: int = 0o755) -> None:
        check = read_archive(self.params["path"], self.params["checksum_file"], dest=dest, uid=uid, gid=gid, dest_mode=mode)
        self.result.update(files=check.files, directories=check.directories, bytes=check.bytes, problems=check.problems)
        if check.problems:
            shown = "; ".join(check.problems[:10])
            self.fail(
                f"{self.params['path']} does not match its checksum list {self.params['checksum_file']}: {shown}. "
                f"It is refused{' and nothing was extracted' if dest else ''}."
            )

    def _extract(self) -> None:
        dest = self.params["dest"]
        if not dest:
            self.fail("dest is required with state=extracted.")
        if os.path.lexists(dest):
            self.fail(f"dest {dest} already exists: extract into a new folder, then swap it in.")
        if not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
            self.fail(f"The parent folder of dest {dest} does not exist.")
        try:
            mode = parse_mode(self.params["mode"])
            uid = resolve_uid(self.params["owner"])
            gid = resolve_gid(self.params["group"])
        except (ValueError, LookupError) as exc:
            self.fail(str(exc))
        if self.module.check_mode:
            self._read(dest=None)
            self.result["changed"] = True
            return
        self._read(dest=dest, uid=uid, gid=gid, mode=mode)
        self.result.update(changed=True, dest=dest)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["archived", "verified", "extracted"], "required": True},
            "path": {"type": "path", "required": True},
            "checksum_file": {"type": "path", "required": True},
            "src": {"type": "path"},
            "dest": {"type": "path"},
            "mode": {"type": "str", "default": "0755"},
            "compression": {"type": "str", "choices": ["none", "gzip"], "default": "none"},
            **file_owner_argument_spec(),
        },
        required_if=[("state", "archived", ["src"]), ("state", "extracted", ["dest"])],
        supports_check_mode=True,
    )
    module.exit_json(**UploadsArchive(module).run())


if __name__ == "__main__":
    main()
