#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: edge_members_info
short_description: Read which app hosts the edge sends requests to
version_added: 0.2.0
description:
  - Reads every member file (C(*.conf)) of the edge's upstream members folder, as written by
    M(nekomorto.ops.edge_member), and tells which app hosts are in rotation, which are out and why.
  - Never changes anything. A missing folder means an edge that was never configured; it is reported, not an error.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
seealso:
  - module: nekomorto.ops.edge_member
options:
  path:
    description:
      - The members folder, for example C(/etc/nginx/nekomorto-upstream.d).
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Which app hosts does the edge use?
  nekomorto.ops.edge_members_info:
    path: /etc/nginx/nekomorto-upstream.d
  register: edge_members

- name: Tell the operator
  ansible.builtin.debug:
    msg: "In rotation: {{ edge_members.in_rotation | join(', ') or 'none' }}"
"""

RETURN = r"""
exists:
  description: Whether the members folder exists.
  returned: always
  type: bool
  sample: true
members:
  description: Every member file, sorted by member name. Files this collection cannot read are in RV(unreadable).
  returned: always
  type: list
  elements: dict
  sample:
    - name: app1.example.org
      address: 10.0.0.11
      port: 8080
      rotation: in
      reason: ""
      parameters: {max_fails: "2", fail_timeout: 10s}
      endpoint: 10.0.0.11:8080
      file: /etc/nginx/nekomorto-upstream.d/app1.example.org.conf
in_rotation:
  description: Names of the members the edge sends requests to.
  returned: always
  type: list
  elements: str
  sample: [app1.example.org]
out_of_rotation:
  description: Names of the members out of rotation.
  returned: always
  type: list
  elements: str
  sample: [app2.example.org]
unreadable:
  description: Files of the folder that are not member files, with the reason.
  returned: always
  type: list
  elements: dict
  sample: []
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._edge_member import MemberError, parse


def read_members(folder: str) -> tuple[list[dict[str, t.Any]], list[dict[str, str]]]:
    """The member files of ``folder`` (sorted by name) and the files that are not member files."""
    members: list[dict[str, t.Any]] = []
    unreadable: list[dict[str, str]] = []
    for entry in sorted(os.listdir(folder)):
        path = os.path.join(folder, entry)
        if not entry.endswith(".conf") or not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                member = parse(handle.read(), fallback_name=entry[: -len(".conf")])
        except (OSError, MemberError) as error:
            unreadable.append({"file": path, "reason": str(error)})
            continue
        members.append({**member.as_dict(), "file": path})
    members.sort(key=lambda member: member["name"])
    return members, unreadable


def main() -> None:
    module = AnsibleModule(
        argument_spec={"path": {"type": "path", "required": True}},
        supports_check_mode=True,
    )
    folder = module.params["path"]
    members: list[dict[str, t.Any]] = []
    unreadable: list[dict[str, str]] = []
    exists = os.path.isdir(folder)
    if exists:
        try:
            members, unreadable = read_members(folder)
        except OSError as error:
            module.fail_json(msg=f"Cannot read the members folder {folder}: {error.strerror or error}.", exists=exists,
                             members=[], in_rotation=[], out_of_rotation=[], unreadable=[])
    module.exit_json(
        changed=False,
        exists=exists,
        members=members,
        in_rotation=[member["name"] for member in members if member["rotation"] == "in"],
        out_of_rotation=[member["name"] for member in members if member["rotation"] != "in"],
        unreadable=unreadable,
    )


if __name__ == "__main__":
    main()
