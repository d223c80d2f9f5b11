#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: deploy_lock_info
short_description: Read the deploy lock of an app host
version_added: 0.1.0
description:
  - Reads the lock file that M(nekomorto.ops.deploy_lock) manages and tells who holds it, whether it expired,
    and whether a given run holds it. Never changes anything.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.READ_ONLY
seealso:
  - module: nekomorto.ops.deploy_lock
options:
  path:
    description:
      - The lock file, for example C(/srv/nekomorto/state/lock).
    type: path
    required: true
  run_id:
    description:
      - A run whose ownership of the lock RV(acquired) reports.
    type: str
"""

EXAMPLES = r"""
- name: Who holds the lock?
  nekomorto.ops.deploy_lock_info:
    path: /srv/nekomorto/state/lock
  register: deploy_lock

- name: Tell the operator
  ansible.builtin.debug:
    msg: "The deploy lock {{ deploy_lock.summary }}"
"""

RETURN = r"""
lock:
  description: The lock's content; null when there is no lock file or it holds no valid lock.
  returned: always
  type: dict
  sample:
    holder: alice@laptop
    run_id: 20261129T031000Z-4f2a
    playbook: deploy.yml
    started_at: "2026-11-29T03:10:00Z"
    ttl_seconds: 3600
    expires_at: "2026-11-29T04:10:00Z"
stale:
  description: Whether a lock file exists and has expired (or holds no valid lock).
  returned: always
  type: bool
  sample: false
acquired:
  description: Whether O(run_id) holds the lock (false without O(run_id)).
  returned: always
  type: bool
  sample: false
summary:
  description: One sentence about the lock, for a message.
  returned: always
  type: str
  sample: "is held by alice@laptop (playbook deploy.yml, run 20261129T031000Z-4f2a) since 2026-11-29T03:10:00Z,
    until 2026-11-29T04:10:00Z"
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._deploy_lock import LockFile, guarded, read_lock
from ansible_collections.nekomorto.ops.plugins.module_utils._timestamps import utc_now


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "run_id": {"type": "str"},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    found = LockFile(exists=False)
    if os.path.isdir(os.path.dirname(os.path.abspath(path))):
        try:
            with guarded(path, exclusive=False):
                found = read_lock(path)
        except OSError as error:
            module.fail_json(msg=f"Cannot read the deploy lock {path}: {error.strerror or error}.",
                             lock=None, stale=False, acquired=False, summary="")
    module.exit_json(
        changed=False,
        lock=found.lock,
        stale=found.is_stale(utc_now()),
        acquired=found.held_by(module.params["run_id"]),
        summary=found.describe() if found.exists else "is not held",
    )


if __name__ == "__main__":
    main()
