#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: app_paths
short_description: Make an app host's folders and links what they should be, in one call
version_added: 0.1.0
description:
  - Creates the listed folders with their owner, group and mode, and makes each listed link point where it
    should, in one call instead of one M(ansible.builtin.file) call per path (each call costs a module start
    on the host, which for a deploy's folder layout and shared links adds up to seconds).
  - Folders are handled first, in the order given, so a list can name a folder and then its sub-folders.
  - Whatever stands at a link's path that is not already that link (a file, a folder with its content, a link
    elsewhere) is replaced; this is how a release's source tree gives way to the shared folders. The new link
    is created beside it and renamed into place.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.WRITES
options:
  directories:
    description:
      - The folders to create or correct. Missing parent folders are created too, with mode V(0755) and the
        owner of the running user.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The folder (absolute).
        type: path
        required: true
      mode:
        description: Its octal mode, quoted, for example V('0750').
        type: str
        required: true
      owner:
        description: Its owner, a user name or number; O(owner) when omitted.
        type: str
      group:
        description: Its group, a group name or number; O(group) when omitted.
        type: str
  owner:
    description: The owner of the listed folders that do not name one; unchanged when neither does.
    type: str
  group:
    description: The group of the listed folders that do not name one; unchanged when neither does.
    type: str
  links:
    description:
      - The symbolic links to create or correct, each where it stands (an absolute path) mapped to what it
        points at (written as given). Missing parent folders of a link are created with mode V(0755).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Create the folder layout
  nekomorto.ops.app_paths:
    directories:
      - {path: /srv/nekomorto, mode: "0755"}
      - {path: /srv/nekomorto/shared, mode: "0750"}
      - {path: /srv/nekomorto/shared/backups, mode: "0750", group: backup}
    owner: nekomorto
    group: nekomorto

- name: Link the shared folders into a release
  nekomorto.ops.app_paths:
    links:
      /srv/nekomorto/releases/v2-e4e1a651e02e/public/uploads: /srv/nekomorto/shared/public/uploads
      /srv/nekomorto/releases/v2-e4e1a651e02e/.env: /srv/nekomorto/shared/.env
"""

RETURN = r"""
changed_paths:
  description: The paths created or corrected (or that would be, in check mode), in the order handled.
  returned: always
  type: list
  elements: str
  sample: [/srv/nekomorto/releases/v2-e4e1a651e02e/public/uploads]
changes:
  description: What was done (or would be) to each path in RV(changed_paths), one sentence each.
  returned: always
  type: list
  elements: str
  sample: ["/srv/nekomorto/releases/v2-e4e1a651e02e/public/uploads: a folder replaced by a link to
    /srv/nekomorto/shared/public/uploads"]
"""

import os
import shutil
import stat
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._files import (
    group_name,
    parse_mode,
    resolve_gid,
    resolve_uid,
    user_name,
)

_PARENT_MODE = 0o755


class Plan:
    """What a run changes, applied as it goes unless in check mode."""

    def __init__(self, check_mode: bool) -> None:
        self.check_mode = check_mode
        self.changed_paths: list[str] = []
        self.changes: list[str] = []

    def note(self, path: str, change: str) -> None:
        if path not in self.changed_paths:
            self.changed_paths.append(path)
        self.changes.append(f"{path}: {change}")

    def parents(self, path: str) -> None:
        parent = os.path.dirname(path)
        if os.path.isdir(parent):
            return
        if os.path.lexists(parent):
            raise ValueError(f"{parent} exists and is not a folder, so {path} cannot be created in it")
        self.note(parent, "folder created (a missing parent)")
        if not self.check_mode:
            os.makedirs(parent, mode=_PARENT_MODE, exist_ok=True)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a link"
    return "a file" if stat.S_ISREG(mode) else "something"


def ensure_directory(plan: Plan, spec: dict[str, t.Any], owner: str | None, group: str | None) -> None:
    path = spec["path"]
    mode = parse_mode(spec["mode"])
    owner, group = spec["owner"] or owner, spec["group"] or group
    try:
        uid, gid = resolve_uid(owner), resolve_gid(group)
    except LookupError:
        if not plan.check_mode:
            raise
        # Check mode: the user or group may be one an earlier task of the run creates (and, in check
        # mode, did not). The folder's ownership would change to it.
        if not os.path.isdir(path):
            plan.parents(path)
        plan.note(path, f"folder created or corrected, mode {mode:04o}, owner {owner or '-'}:{group or '-'}"
                        " (not on the host yet)")
        return
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ValueError(f"{path} exists and is not a folder ({_kind(os.lstat(path).st_mode)}); it is left as it is")
    if not os.path.isdir(path):
        plan.parents(path)
        plan.note(path, f"folder created, mode {mode:04o}")
        if plan.check_mode:
            return
        os.mkdir(path, mode)
        os.chmod(path, mode)  # mkdir's mode passes through the umask
        os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
        return
    now = os.stat(path)
    if stat.S_IMODE(now.st_mode) != mode:
        plan.note(path, f"mode {stat.S_IMODE(now.st_mode):04o} -> {mode:04o}")
        if not plan.check_mode:
            os.chmod(path, mode)
    want_uid = now.st_uid if uid is None else uid
    want_gid = now.st_gid if gid is None else gid
    if (now.st_uid, now.st_gid) != (want_uid, want_gid):
        plan.note(path, f"owner {user_name(now.st_uid)}:{group_name(now.st_gid)} -> "
                        f"{user_name(want_uid)}:{group_name(want_gid)}")
        if not plan.check_mode:
            os.chown(path, want_uid, want_gid)


def ensure_link(plan: Plan, path: str, src: str) -> None:
    if os.path.islink(path) and os.readlink(path) == src:
        return
    if os.path.lexists(path):
        change = f"{_kind(os.lstat(path).st_mode)} replaced by a link to {src}"
    else:
        plan.parents(path)
        change = f"link to {src} created"
    plan.note(path, change)
    if plan.check_mode:
        return
    staged = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.link-{os.getpid()}")
    if os.path.lexists(staged):
        os.unlink(staged)
    os.symlink(src, staged)
    if os.path.isdir(path) and not os.path.islink(path):
        # A rename cannot put a link over a folder: the folder goes first, then the link takes its place.
        shutil.rmtree(path)
    os.replace(staged, path)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "directories": {
                "type": "list", "elements": "dict", "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "mode": {"type": "str", "required": True},
                    "owner": {"type": "str"},
                    "group": {"type": "str"},
                },
            },
            "owner": {"type": "str"},
            "group": {"type": "str"},
            "links": {"type": "dict", "default": {}},
        },
        supports_check_mode=True,
    )
    paths = [("directories", spec["path"]) for spec in module.params["directories"]]
    paths += [("links", path) for path in module.params["links"]]
    for option, path in paths:
        if not os.path.isabs(path):
            module.fail_json(msg=f"{option}: {path!r} is not an absolute path.")
    # A link under another link would be made inside what that one leads to: public -> shared/public, then
    # public/uploads would replace shared/public/uploads itself (a folder there would be removed).
    links = [os.path.normpath(path) for path in module.params["links"]]
    for path in links:
        for outer in links:
            if path.startswith(outer + os.sep):
                module.fail_json(msg=f"links: {path} lies under the link {outer}; links must not nest. Nothing was changed.")
    plan = Plan(module.check_mode)
    try:
        for spec in module.params["directories"]:
            ensure_directory(plan, spec, module.params["owner"], module.params["group"])
        for path, src in module.params["links"].items():
            ensure_link(plan, os.path.normpath(path), str(src))
    except (ValueError, LookupError) as error:
        module.fail_json(msg=f"Cannot make the paths right: {error}.", changed=bool(plan.changed_paths),
                         changed_paths=plan.changed_paths, changes=plan.changes)
    except OSError as error:
        module.fail_json(msg=f"Cannot make the paths right: {error.filename}: {error.strerror or error}.",
                         changed=bool(plan.changed_paths), changed_paths=plan.changed_paths, changes=plan.changes)
    module.exit_json(changed=bool(plan.changed_paths), changed_paths=plan.changed_paths, changes=plan.changes,
                     diff={"before": "", "after": "".join(f"{change}\n" for change in plan.changes)})


if __name__ == "__main__":
    main()
