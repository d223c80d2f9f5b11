#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: edge_member
short_description: Put one app host of the edge's nginx upstream in or out of rotation
version_added: 0.2.0
description:
  - The edge's upstream block includes one file per app host (C(include <members folder>/*.conf;)). This module
    writes one such file, atomically, with the host's address and port and whether the edge sends it requests
    (C(rotation=in)) or not (C(rotation=out), rendered as nginx's C(down) parameter).
  - The file keeps its state in two comment lines (the member's name, and its rotation with the reason when it is out),
    so the next run, the deploy and M(nekomorto.ops.edge_members_info) read back why a host is out of rotation.
  - It does not reload nginx. Reload gracefully after a change (the edge role does) so that requests in flight
    finish on the old workers.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.WRITES
seealso:
  - module: nekomorto.ops.edge_members_info
attributes:
  check_mode:
    details: In check mode the module reads the member file and reports the change it would make; a members folder that
      does not exist yet (an edge configured for the first time) is reported with a warning.
  diff_mode:
    details: The diff shows the member file before and after.
options:
  path:
    description:
      - The member file, for example C(/etc/nginx/nekomorto-upstream.d/app1.example.org.conf). Its folder must exist.
    type: path
    required: true
  name:
    description:
      - The app host this file stands for (its inventory name), written into the file.
    type: str
    required: true
  address:
    description:
      - Host name or IP address the edge connects to. Required for a new member; omitted, an existing member keeps
        its address.
    type: str
  port:
    description:
      - Port the app answers on. Required for a new member; omitted, an existing member keeps its port.
    type: int
  keep_port:
    description:
      - Keep the port of an existing member file and use O(port) only for a new one. The deploy owns the port of a
        blue/green host (the port of its live instance); a full configuration run should not move it back.
    type: bool
    default: false
  rotation:
    description:
      - V(in) sends the host requests, V(out) stops sending it new ones, V(keep) leaves the rotation as it is.
      - A new member written with V(keep) starts out of rotation with the reason V(new), until something that knows
        it serves puts it in.
    type: str
    choices: [in, out, keep]
    default: keep
  reason:
    description:
      - Why the member goes out of rotation (for example V(deploy) or V(operator)), written into the file.
      - A member an operator took out (reason V(operator)) keeps that reason when another reason takes it out again.
    type: str
    default: operator
  unless_out_for:
    description:
      - With O(rotation=in), leave the member out of rotation when it is out for one of these reasons. A deploy passes
        V([operator]) so that a host an operator took out stays out; RV(held) then says so.
    type: list
    elements: str
    default: []
  parameters:
    description:
      - "nginx C(server) parameters of the member, for example C({max_fails: 2, fail_timeout: 10s}). Omitted, an
        existing member keeps its own. C(down) and C(backup) are not accepted here (see O(rotation))."
    type: dict
"""

EXAMPLES = r"""
- name: Take app1 out of rotation while it restarts
  nekomorto.ops.edge_member:
    path: /etc/nginx/nekomorto-upstream.d/app1.example.org.conf
    name: app1.example.org
    rotation: out
    reason: deploy

- name: Put it back, unless an operator had taken it out
  nekomorto.ops.edge_member:
    path: /etc/nginx/nekomorto-upstream.d/app1.example.org.conf
    name: app1.example.org
    rotation: in
    unless_out_for: [operator]

- name: Send a blue/green host's traffic to its green instance
  nekomorto.ops.edge_member:
    path: /etc/nginx/nekomorto-upstream.d/app2.example.org.conf
    name: app2.example.org
    address: 10.0.0.12
    port: 8081
    rotation: in
    parameters: {max_fails: 2, fail_timeout: 10s}
"""

RETURN = r"""
member:
  description: The member as written (or as it would be, in check mode).
  returned: always
  type: dict
  sample:
    name: app1.example.org
    address: 10.0.0.11
    port: 8080
    rotation: out
    reason: deploy
    parameters: {max_fails: "2", fail_timeout: 10s}
    endpoint: 10.0.0.11:8080
previous:
  description: The member before the run; null when the file did not exist.
  returned: always
  type: dict
  sample:
    name: app1.example.org
    address: 10.0.0.11
    port: 8080
    rotation: in
    reason: ""
    parameters: {max_fails: "2", fail_timeout: 10s}
    endpoint: 10.0.0.11:8080
held:
  description: Whether O(rotation=in) was not applied because the member is out for a reason in O(unless_out_for).
  returned: always
  type: bool
  sample: false
diff:
  description: The member file before and after (with C(--diff)).
  returned: when diff mode is on
  type: dict
  sample:
    before: "server 10.0.0.11:8080 max_fails=2 fail_timeout=10s;\n"
    after: "server 10.0.0.11:8080 max_fails=2 fail_timeout=10s down;\n"
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._edge_member import Member, MemberError, desired, parse, render
from ansible_collections.nekomorto.ops.plugins.module_utils._files import read_state, write_atomically


class EdgeMember:
    """Reads the member file, decides what it should say, writes it when that differs."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params

    def _fail(self, msg: str, previous: Member | None = None) -> t.NoReturn:
        self.module.fail_json(msg=msg, member=None, previous=previous.as_dict() if previous else None, held=False)

    def run(self) -> None:
        path = self.params["path"]
        if not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            if not self.module.check_mode:
                self._fail(f"The members folder of {path} does not exist: configure the edge first (nekomorto.ops.edge).")
            # An edge configured for the first time: the role creates the folder before (not in check mode).
            self.module.warn(f"The members folder of {path} does not exist; assuming an earlier task creates it.")
        try:
            state = read_state(path)
        except OSError as error:
            self._fail(f"Cannot read the member file {path}: {error.strerror or error}.")
        before_text = state.content.decode("utf-8", "replace") if state.content is not None else ""
        previous = None
        if state.exists:
            try:
                previous = parse(before_text, fallback_name=self.params["name"])
            except MemberError as error:
                self._fail(f"{path} is not a member file this collection can read ({error}); remove it or fix it by hand.")
        try:
            member, held = desired(
                previous,
                name=self.params["name"],
                address=self.params["address"],
                port=self.params["port"],
                keep_port=self.params["keep_port"],
                rotation=self.params["rotation"],
                reason=self.params["reason"],
                unless_out_for=self.params["unless_out_for"],
                parameters=self.params["parameters"],
            )
        except MemberError as error:
            self._fail(f"Cannot write the member file {path}: {error}.", previous)
        after_text = render(member)
        changed = after_text != before_text or (state.exists and state.mode != 0o644)
        if changed and not self.module.check_mode:
            try:
                write_atomically(path, after_text.encode(), 0o644)
            except OSError as error:
                self._fail(f"Cannot write the member file {path}: {error.strerror or error}.", previous)
        result: dict[str, t.Any] = {
            "changed": changed,
            "member": member.as_dict(),
            "previous": previous.as_dict() if previous else None,
            "held": held,
        }
        if self.module._diff:
            result["diff"] = {"before": before_text, "after": after_text}
        self.module.exit_json(**result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "name": {"type": "str", "required": True},
            "address": {"type": "str"},
            "port": {"type": "int"},
            "keep_port": {"type": "bool", "default": False},
            "rotation": {"type": "str", "choices": ["in", "out", "keep"], "default": "keep"},
            "reason": {"type": "str", "default": "operator"},
            "unless_out_for": {"type": "list", "elements": "str", "default": []},
            "parameters": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    EdgeMember(module).run()


if __name__ == "__main__":
    main()
