#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: run_journal
short_description: Append an entry to the run journal of an app host, or read its last entries
version_added: 0.1.0
description:
  - The journal is a JSON Lines file, for example C(/srv/nekomorto/state/journal.jsonl), with one object per run
    step (who, when, playbook, release, migrations, backup id, checks, timings, outcome).
  - With O(entry), appends that object with a C(ts) key (UTC, ISO 8601, to the microsecond) put first. The line
    is written with a single C(write) on a file opened with C(O_APPEND) (under an exclusive C(flock)), so
    concurrent writers never interleave lines. The file is created with O(mode), O(owner) and O(group), and an
    append also restores them when they drifted.
  - An entry holding one of the run's secrets (listed in O(redact), or read from O(secrets_env_file)) is refused
    before anything is written, naming the key path only; with O(on_secret=mask), the secret is replaced by
    C(********) wherever it appears and the entry is written.
  - With O(tail), returns the last entries. Without O(entry), the module only reads and reports
    C(changed=false).
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.APPENDS
  - nekomorto.ops.file_owner
options:
  path:
    description:
      - The journal file. Its directory must exist.
    type: path
    required: true
  entry:
    description:
      - The object to append. Any JSON-compatible values; the key C(ts) is reserved for the module.
      - Leave it out to only read the journal with O(tail).
    type: dict
  redact:
    description:
      - Secrets that must never reach the journal (database password, session secret, tokens).
      - An entry in which any string (a value or a key, at any depth) contains one of them is refused.
    type: list
    elements: str
    default: []
  secrets_env_file:
    description:
      - The app's env file on the host, for example C(/srv/nekomorto/shared/.env). The values of its secret names
        (as M(nekomorto.ops.app_env) masks them, O(secret_names) included) and the password of any URL in it, as
        written and percent-decoded, are secrets too. Values shorter than 6 characters are left out.
      - A file that does not exist (a first deploy stopped before writing it) adds no secret.
    type: path
  secret_names:
    description:
      - Names in O(secrets_env_file) whose values are secret besides the built-in ones (the app role's
        C(app_env_secret_names)).
    type: list
    elements: str
    default: []
  on_secret:
    description:
      - What an entry holding a secret gets. V(refuse) fails, naming the key paths; V(mask) writes the entry with
        every secret replaced by C(********) and lists the key paths in RV(masked) (for a journal line that must be
        written whatever a failed step's message held).
    type: str
    choices: [refuse, mask]
    default: refuse
  tail:
    description:
      - How many of the last entries to return in RV(entries). V(0) returns none.
      - Lines that are not JSON are skipped with a warning.
    type: int
    default: 0
  mode:
    description:
      - Permissions of the journal, as an octal string.
    type: str
    default: "0640"
"""

EXAMPLES = r"""
- name: Record the outcome of the deploy
  nekomorto.ops.run_journal:
    path: /srv/nekomorto/state/journal.jsonl
    owner: root
    group: nekomorto
    entry:
      run_id: "{{ nekomorto_run_id }}"
      playbook: deploy.yml
      release: "{{ app_version }}"
      migrations_applied: "{{ migrate_result.applied | default([]) }}"
      backup_id: "{{ backup_result.backup_id | default(none) }}"
      outcome: success
    redact:
      - "{{ vault_db_password }}"
      - "{{ vault_session_secret }}"

- name: Show the last five runs
  nekomorto.ops.run_journal:
    path: /srv/nekomorto/state/journal.jsonl
    tail: 5
  register: journal
"""

RETURN = r"""
path:
  description: The journal file.
  returned: always
  type: str
  sample: /srv/nekomorto/state/journal.jsonl
entry:
  description: The object appended, C(ts) included (what would be appended, in check mode); null without O(entry).
  returned: always
  type: dict
  sample:
    ts: "2026-11-29T03:14:07.123456Z"
    run_id: 20261129T031000Z-4f2a
    playbook: deploy.yml
    outcome: success
masked:
  description: Key paths of the entry where a secret was masked (O(on_secret=mask)).
  returned: always
  type: list
  elements: str
  sample: [entry.error]
entries:
  description: The last O(tail) entries, oldest first, the appended one included.
  returned: always
  type: list
  elements: dict
  sample: []
diff:
  description: The line appended (after) to nothing (before); both empty without O(entry).
  returned: always
  type: dict
  contains:
    before:
      description: Always empty; the journal is only appended to.
      type: str
    after:
      description: The appended line.
      type: str
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._app_env_rules import secret_values
from ansible_collections.nekomorto.ops.plugins.module_utils._envfile import parse_env
from ansible_collections.nekomorto.ops.plugins.module_utils._files import (
    file_owner_argument_spec,
    parse_mode,
    resolve_gid,
    resolve_uid,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._journal import (
    append_record,
    find_secrets,
    make_record,
    mask_secrets,
    read_tail,
    serialize_record,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._timestamps import format_utc_precise, utc_now


class RunJournal:
    """Appends one entry and/or reads the last ones."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.path: str = module.params["path"]
        self.masked: list[str] = []

    def _result(self, entry: dict[str, t.Any] | None = None, entries: list[t.Any] | None = None,
                line: str = "") -> dict[str, t.Any]:
        return {"path": self.path, "entry": entry, "entries": entries or [], "masked": self.masked,
                "diff": {"before": "", "after": line}}

    def _fail(self, msg: str) -> None:
        self.module.fail_json(msg=msg, **self._result())

    def run(self) -> None:
        entry = self.params["entry"]
        if self.params["tail"] < 0:
            self._fail("tail must be 0 or a positive number of entries.")
        if entry is None:
            self.module.exit_json(changed=False, **self._result(entries=self._tail()))
        entry = self._check_entry(entry)
        mode, uid, gid = self._attributes()
        record = make_record(entry, format_utc_precise(utc_now()))
        data = serialize_record(record)
        if self.module.check_mode:
            entries = (self._tail() + [record])[-self.params["tail"]:] if self.params["tail"] else []
        else:
            self._append(data, mode, uid, gid)
            entries = self._tail()
        self.module.exit_json(changed=True, **self._result(record, entries, data.decode("utf-8")))

    def _secrets(self) -> list[str]:
        secrets = [secret for secret in self.params["redact"] if secret]
        env_file = self.params["secrets_env_file"]
        if env_file:
            try:
                with open(env_file, encoding="utf-8", errors="replace") as handle:
                    text = handle.read()
            except FileNotFoundError:
                text = ""
            except OSError as error:
                self._fail(f"Cannot read {env_file} (secrets_env_file): {error.strerror or error}.")
            found = secret_values(parse_env(text).values, self.params["secret_names"])
            for secret in found:
                self.module.no_log_values.add(secret)
            secrets.extend(found)
        return secrets

    def _check_entry(self, entry: dict[str, t.Any]) -> dict[str, t.Any]:
        if "ts" in entry:
            self._fail("The entry must not set 'ts': the module adds the time itself; use another key.")
        secrets = self._secrets()
        leaks = find_secrets(entry, secrets)
        if leaks and self.params["on_secret"] == "mask":
            self.masked = leaks
            return mask_secrets(entry, secrets)
        if leaks:
            self._fail(
                f"Refusing to journal a secret: {', '.join(leaks)} contain{'s' if len(leaks) == 1 else ''} a value "
                "listed in redact or read from secrets_env_file. Remove it from the entry (journal a name or a hash "
                "instead), or set on_secret=mask."
            )
        return entry

    def _attributes(self) -> tuple[int, int | None, int | None]:
        """Mode, uid and gid of the journal; an unknown owner is tolerated in check mode only."""
        try:
            mode = parse_mode(self.params["mode"])
        except ValueError as error:
            self._fail(f"{error}; give the mode as an octal string.")
        ids: list[int | None] = []
        for resolve, wanted in ((resolve_uid, self.params["owner"]), (resolve_gid, self.params["group"])):
            try:
                ids.append(resolve(wanted))
            except LookupError as error:
                if not self.module.check_mode:
                    self._fail(f"Cannot give {self.path} to the requested owner: {error}; create it first.")
                self.module.warn(f"{error}; assuming an earlier task creates it")
                ids.append(None)
        directory = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(directory):
            if not self.module.check_mode:
                self._fail(f"The directory {directory} does not exist; create it before journaling.")
            self.module.warn(f"{directory} does not exist; assuming an earlier task creates it")
        return mode, ids[0], ids[1]

    def _append(self, data: bytes, mode: int, uid: int | None, gid: int | None) -> None:
        try:
            append_record(self.path, data, mode, uid, gid)
        except OSError as error:
            self._fail(f"Cannot append to {self.path}: {error.strerror or error}; check permissions and free space.")

    def _tail(self) -> list[t.Any]:
        try:
            entries, skipped = read_tail(self.path, self.params["tail"])
        except OSError as error:
            self._fail(f"Cannot read {self.path}: {error.strerror or error}.")
        if skipped:
            self.module.warn(f"Skipped {skipped} line(s) of {self.path} that are not JSON.")
        return entries


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "entry": {"type": "dict"},
            "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
            "secrets_env_file": {"type": "path"},
            "secret_names": {"type": "list", "elements": "str", "default": [], "no_log": False},
            "on_secret": {"type": "str", "choices": ["refuse", "mask"], "default": "refuse"},
            "tail": {"type": "int", "default": 0},
            "mode": {"type": "str", "default": "0640"},
            **file_owner_argument_spec(),
        },
        supports_check_mode=True,
        # The entry may hold secrets of the env file, known only once the module reads it: the invocation is
        # not written to the host's log (syslog, journald), where they would stay unmasked.
        no_log=True,
    )
    RunJournal(module).run()


if __name__ == "__main__":
    main()
