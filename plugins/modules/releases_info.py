#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: releases_info
short_description: List an app host's releases with their manifests and what its links point at
version_added: 0.1.0
description:
  - Lists the release folders of an app host, reads each one's manifest (the JSON file the release role
    writes last), and reads where the given links (C(current), C(previous)) point, in one call. Never
    changes anything.
  - A folder whose manifest is missing or unreadable is reported with RV(releases[].status=incomplete).
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
options:
  path:
    description: The folder holding one folder per release, for example C(/srv/nekomorto/releases).
    type: path
    required: true
  manifest:
    description: The manifest's file name inside each release folder.
    type: str
    default: .nekomorto-release.json
  links:
    description: Links to read, for example C(/srv/nekomorto/current); see RV(links).
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Read the releases
  nekomorto.ops.releases_info:
    path: /srv/nekomorto/releases
    links: [/srv/nekomorto/current, /srv/nekomorto/previous]
  register: releases

- name: Show the built ones, oldest first
  ansible.builtin.debug:
    msg: "{{ releases.releases | selectattr('status', 'eq', 'built') | map(attribute='id') }}"
"""

RETURN = r"""
releases:
  description: One entry per release folder, oldest build first (folders without a build time last, by name).
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The folder's name.
      type: str
      sample: v2-e4e1a651e02e
    path:
      description: The folder.
      type: str
      sample: /srv/nekomorto/releases/v2-e4e1a651e02e
    status:
      description: The manifest's C(status) (C(built), C(failed)), or C(incomplete) without a readable manifest.
      type: str
      sample: built
    built_at:
      description: The manifest's C(built_at), or an empty string.
      type: str
      sample: "2026-11-30T10:00:41Z"
    manifest:
      description: The manifest, or null.
      type: dict
      sample: {release_id: v2-e4e1a651e02e, version: v2, status: built}
    linked_from:
      description: The O(links) that lead to this folder (compared after resolving every link on the way).
      type: list
      elements: str
      sample: [/srv/nekomorto/current]
links:
  description: Each of O(links) mapped to the absolute path it points at, or null when it is not a link.
  returned: always
  type: dict
  sample: {/srv/nekomorto/current: /srv/nekomorto/releases/v2-e4e1a651e02e, /srv/nekomorto/previous: null}
"""

import json
import os
import typing as t

from ansible.module_utils.basic import AnsibleModule


def read_manifest(path: str) -> dict[str, t.Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def describe(folder: str, name: str, manifest_name: str) -> dict[str, t.Any]:
    path = os.path.join(folder, name)
    manifest = read_manifest(os.path.join(path, manifest_name))
    status = str(manifest.get("status") or "incomplete") if manifest else "incomplete"
    built_at = str(manifest.get("built_at") or "") if manifest else ""
    return {"id": name, "path": path, "status": status, "built_at": built_at, "manifest": manifest}


def link_target(path: str) -> str | None:
    if not os.path.islink(path):
        return None
    return os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(path)))


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "manifest": {"type": "str", "default": ".nekomorto-release.json"},
            "links": {"type": "list", "elements": "path", "default": []},
        },
        supports_check_mode=True,
    )
    folder = module.params["path"]
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.is_dir(follow_symlinks=False))
    except FileNotFoundError:
        names = []
    except OSError as error:
        module.fail_json(msg=f"Cannot list the releases in {folder}: {error.strerror or error}.")
    releases = [describe(folder, name, module.params["manifest"]) for name in names]
    resolved = {path: os.path.realpath(path) for path in module.params["links"] if os.path.islink(path)}
    for release in releases:
        real = os.path.realpath(release["path"])
        release["linked_from"] = [path for path, target in resolved.items() if target == real]
    releases.sort(key=lambda release: (release["built_at"] == "", release["built_at"], release["id"]))
    module.exit_json(changed=False, releases=releases,
                     links={path: link_target(path) for path in module.params["links"]})


if __name__ == "__main__":
    main()
