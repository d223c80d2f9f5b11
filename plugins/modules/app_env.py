#!/usr/bin/python
# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: app_env
short_description: Validate the app's environment and render the env file systemd, dotenv and node all read
version_added: 0.1.0
description:
  - Checks the app's environment variables against the rules of the app's contract and the operators' runbook,
    and reports B(every) problem at once, each naming the variable and the rule and never quoting a value.
  - With O(state=present), renders them into one env file that systemd (C(EnvironmentFile=)), the C(dotenv)
    package the server loads and C(node --env-file=.env) (the app's scripts) all read back to identical values.
  - With O(state=validated), only validates and touches nothing, so the deploy's preflight can run it on the
    controller (C(delegate_to=localhost)) before any change is made anywhere.
  - Variables beyond the rules pass through untouched (for example C(DISCORD_CLIENT_ID), C(OWNER_IDS)), and a
    value may be empty (C(GOOGLE_CLIENT_ID) must be defined even when empty).
  - 'Rules: names match C(^[A-Za-z_][A-Za-z0-9_]*$); no value holds a line break, a carriage return or a NUL;
    C(NODE_ENV) is required and one of C(production), C(staging), C(development), C(test) (a warning is given
    for anything but C(production)); C(DATABASE_URL) is required, a C(postgresql://) or C(postgres://) URL with
    a user, a host, a database and a valid port if one is given; C(SESSION_SECRET) is required, not blank, without
    blanks around it (the app trims them) and at least O(min_secret_length) characters (C(SESSION_SECRETS) does
    not replace it); C(APP_ORIGIN) is required
    and C(ADMIN_ORIGINS) optional, each a comma-separated list of absolute origins C(scheme://host[:port]) with
    no path, query, fragment or trailing slash, in C(https) unless the host is in O(allow_http_origins) or
    C(NODE_ENV) is explicitly C(staging), C(development) or C(test); C(SESSION_TABLE) is a table name without a
    schema (the session store of the app quotes it whole); C(MAINTENANCE_MODE) is one of C(1 true yes on 0 false
    no off) in any case (the app reads
    any other value as false, so the module refuses it); C(PORT) is an integer from 1 to 65535.'
  - The runbook forbids dual-write with JSON and a rollback to JSON, so the module refuses a data-source setting
    (C(DATA_SOURCE), C(DATA_BACKEND), C(STORAGE_DRIVER), C(DB_MODE), any name ending in C(_DATA_SOURCE)) whose
    value mentions C(json), C(dual) or C(file), and any variable whose name contains C(DUAL_WRITE),
    C(JSON_FALLBACK) or C(JSON_WRITE) set to a true word.
  - 'The file starts with a comment saying Ansible manages it, then holds the runbook''s variables in the
    runbook''s order (C(NODE_ENV), C(DATABASE_URL), C(SESSION_SECRET), C(APP_ORIGIN), C(SESSION_TABLE),
    C(ADMIN_ORIGINS), C(MAINTENANCE_MODE)), then every other variable sorted by name, one C(NAME=value) a line.'
  - A value made only of letters, digits and C(_@%+=:,./-) is written bare; any other value is single-quoted,
    or double-quoted when it holds a single quote, or written bare when it holds both kinds of quotes and
    nothing the three readers treat differently. A value that no spelling keeps identical for the three
    readers (a single quote together with a backslash, for instance) is refused, naming the variable.
  - The file is replaced atomically (a temporary file in the same directory, renamed over it) with its mode and
    owner already set. The task reports C(changed) only when the content or the file's attributes differ.
author:
  - nekomorto operators (!UNKNOWN)
extends_documentation_fragment:
  - nekomorto.ops.attributes
  - nekomorto.ops.attributes.WRITES
  - nekomorto.ops.file_owner
attributes:
  check_mode:
    details: In check mode the module validates, renders and compares, and reports the change without writing.
  diff_mode:
    details: The diff shows the file with the value of every secret variable replaced by C(********).
options:
  variables:
    description:
      - The app's environment, variable name to value.
      - Booleans are written as V(true) and V(false), numbers as their decimal form, and a null value as an empty
        string.
      - Every value is treated as sensitive by Ansible on the way in; the module then shows the values of
        non-secret variables in its diff (so that a C(MAINTENANCE_MODE) flip reads V(false) -> V(true)) and masks
        the values of secret ones (see O(secret_names)).
    type: dict
    required: true
  state:
    description:
      - V(present) validates and writes the env file at O(path).
      - V(validated) validates only; it reads and writes nothing, so it can run on the controller.
    type: str
    choices: [present, validated]
    default: present
  path:
    description:
      - The env file, for example C(/srv/nekomorto/shared/.env). Its directory must exist.
      - Required with O(state=present).
    type: path
  previous_path:
    description:
      - When the content of an existing env file changes, its former content is first written to this file
        (with the env file's mode and owner, and its modification time), so that a run that fails afterwards
        can put it back; see RV(previous_written).
      - Untouched when the content does not change, and in check mode.
    type: path
  mode:
    description:
      - Permissions of the env file, as an octal string. Symbolic modes are not accepted.
    type: str
    default: "0600"
  merge:
    description:
      - When V(false), the file holds exactly O(variables); every other variable is removed.
      - When V(true), only the given variables are set, and every other variable already in the file is kept
        (the maintenance window flips C(MAINTENANCE_MODE) this way). The whole merged result is validated, and
        a kept line that the three readers would not read alike makes the task fail.
      - With O(state=validated), a merge is validated without the file, so the required variables are not
        demanded.
    type: bool
    default: false
  secret_names:
    description:
      - Names whose values are secret, in addition to the built-in ones, which are always secret.
      - Built in are C(DATABASE_URL), C(SESSION_SECRET), C(SESSION_SECRETS), C(OPERATIONAL_HEALTH_TOKEN),
        C(BOOTSTRAP_TOKEN), and every name containing C(SECRET), C(TOKEN), C(PASS), C(KEY), C(DSN),
        C(CREDENTIAL) or C(PRIVATE), except the published kinds C(GOOGLE_CLIENT_ID), C(DISCORD_CLIENT_ID) and names ending in C(_CLIENT_ID),
        C(_PUBLIC_KEY), C(_SITE_KEY) or C(_KEY_ID).
      - Also secret, whatever its name, is a value that is a URL with a password in it (C(redis://user:pw@host)).
      - A secret value is shown as C(********) in the diff and stays masked in every output of the task.
    type: list
    elements: str
    default: []
  min_secret_length:
    description:
      - The shortest C(SESSION_SECRET) accepted.
    type: int
    default: 32
  allow_http_origins:
    description:
      - Host names that C(APP_ORIGIN) and C(ADMIN_ORIGINS) may use over plain C(http) in production.
    type: list
    elements: str
    default: [localhost, 127.0.0.1, "::1"]
notes:
  - The round trip through the three readers is tested against the real systemd, C(dotenv) 16 and 17, and
    Node.js 20's C(--env-file).
seealso:
  - module: nekomorto.ops.app_health
"""

EXAMPLES = r"""
- name: Validate the environment on the controller before any change
  nekomorto.ops.app_env:
    state: validated
    variables: "{{ nekomorto_env }}"
  delegate_to: localhost
  run_once: true

- name: Render the env file the unit and the scripts read
  nekomorto.ops.app_env:
    path: /srv/nekomorto/shared/.env
    owner: nekomorto
    group: nekomorto
    mode: "0600"
    variables:
      NODE_ENV: production
      DATABASE_URL: "postgresql://nekomorto_app:{{ vault_db_password }}@db1:5432/nekomorto"
      SESSION_SECRET: "{{ vault_session_secret }}"
      APP_ORIGIN: https://nekomata.moe,https://www.nekomata.moe
      SESSION_TABLE: user_sessions
      MAINTENANCE_MODE: false
      GOOGLE_CLIENT_ID: ""
  notify: Restart app

- name: Open the maintenance window (other variables stay as they are)
  nekomorto.ops.app_env:
    path: /srv/nekomorto/shared/.env
    merge: true
    variables:
      MAINTENANCE_MODE: true
  register: maintenance_env
"""

RETURN = r"""
path:
  description:
    - The env file, as given (null with O(state=validated) and no O(path)).
    - As for every module that returns a C(path), Ansible adds the file's C(uid), C(gid), C(owner), C(group),
      C(mode), C(size) and C(state) to the result when the file exists.
  returned: always
  type: str
  sample: /srv/nekomorto/shared/.env
keys:
  description: Names of the variables the file holds (or would hold), in file order.
  returned: always
  type: list
  elements: str
  sample: [NODE_ENV, DATABASE_URL, SESSION_SECRET, APP_ORIGIN, MAINTENANCE_MODE, GOOGLE_CLIENT_ID]
changed_keys:
  description:
    - Names of the variables added, changed or removed by this run, in file order; never values.
    - Empty with O(state=validated), and when only the layout or the attributes of the file change.
  returned: always
  type: list
  elements: str
  sample: [MAINTENANCE_MODE]
previous_written:
  description: Whether this run wrote the former content to O(previous_path).
  returned: always
  type: bool
  sample: false
problems:
  description: Every rule the environment breaks, one sentence each, naming the variable; empty on success.
  returned: always
  type: list
  elements: str
  sample: ["SESSION_SECRET: shorter than 32 characters; generate a longer one (for example: openssl rand -hex 32)"]
diff:
  description:
    - The file before and after, secret values masked as C(********) (a changed secret reads
      C(******** (changed)) on the after side), preceded by a comment with the mode and owner.
    - Both sides are empty with O(state=validated) and on failure.
  returned: always
  type: dict
  contains:
    before:
      description: The file as it was, masked; empty when there was none.
      type: str
    after:
      description: The file as written (or as it would be in check mode), masked.
      type: str
  sample:
    before: "# mode=0600 owner=nekomorto group=nekomorto\nNODE_ENV=production\nMAINTENANCE_MODE=false\n"
    after: "# mode=0600 owner=nekomorto group=nekomorto\nNODE_ENV=production\nMAINTENANCE_MODE=true\n"
"""

import os
import typing as t

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.nekomorto.ops.plugins.module_utils._app_env_rules import (
    DEFAULT_MIN_SECRET_LENGTH,
    LOOPBACK_HOSTS,
    is_secret_name,
    is_secret_value,
    normalize_variables,
    validate_environment,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._envfile import (
    HEADER,
    MASK,
    ParsedEnv,
    ordered_names,
    parse_env,
    quote_value,
    render_env,
)
from ansible_collections.nekomorto.ops.plugins.module_utils._files import (
    FileState,
    attributes_differ,
    file_owner_argument_spec,
    group_name,
    parse_mode,
    read_state,
    resolve_gid,
    resolve_uid,
    set_attributes,
    user_name,
    write_atomically,
)


def argument_spec() -> dict[str, dict[str, t.Any]]:
    return {
        "variables": {"type": "dict", "required": True, "no_log": True},
        "state": {"type": "str", "choices": ["present", "validated"], "default": "present"},
        "path": {"type": "path"},
        "previous_path": {"type": "path"},
        "mode": {"type": "str", "default": "0600"},
        "merge": {"type": "bool", "default": False},
        # Names and a length, not secrets themselves.
        "secret_names": {"type": "list", "elements": "str", "default": [], "no_log": False},
        "min_secret_length": {"type": "int", "default": DEFAULT_MIN_SECRET_LENGTH, "no_log": False},
        "allow_http_origins": {"type": "list", "elements": "str", "default": list(LOOPBACK_HOSTS)},
        **file_owner_argument_spec(),
    }


class AppEnv:
    """Validates the environment and brings the env file to the rendered content and attributes."""

    def __init__(self, module: AnsibleModule) -> None:
        self.module = module
        self.params = module.params
        self.path: str | None = module.params["path"]
        self.mode = 0o600
        self.previous_written = False

    def run(self) -> None:
        try:
            self.mode = parse_mode(self.params["mode"])
        except ValueError as error:
            self.module.fail_json(msg=f"{error}; give the mode as an octal string.", **self._result())
        values, problems = normalize_variables(self.params["variables"])
        self._mask_secret_values_only(values)
        if self.params["state"] == "validated":
            self._validate_only(values, problems)
        else:
            self._present(values, problems)

    def _is_secret(self, name: str, value: str = "") -> bool:
        return is_secret_name(name, self.params["secret_names"]) or is_secret_value(value)

    def _mask_secret_values_only(self, values: dict[str, str]) -> None:
        # Ansible masks every value of a no_log option wherever it appears in the result, even inside
        # other strings (a PORT of "1" would blank every "1" of the output). Only secret values need
        # that; the others stay readable so that a diff shows MAINTENANCE_MODE going false -> true.
        secret = {value for name, value in values.items() if value and self._is_secret(name, value)}
        shown = {value for name, value in values.items() if value and not self._is_secret(name, value)}
        self.module.no_log_values.difference_update(shown - secret)
        self.module.no_log_values.update(secret)

    def _validate(self, values: dict[str, str], complete: bool) -> list[str]:
        problems, warnings = validate_environment(
            values,
            min_secret_length=self.params["min_secret_length"],
            allow_http_hosts=self.params["allow_http_origins"],
            complete=complete,
        )
        for warning in warnings:
            self.module.warn(warning)
        return problems

    def _result(self, keys: t.Iterable[str] = (), changed_keys: t.Iterable[str] = (),
                problems: t.Iterable[str] = (), diff: dict[str, str] | None = None) -> dict[str, t.Any]:
        return {
            "path": self.path,
            "keys": list(keys),
            "changed_keys": list(changed_keys),
            "previous_written": self.previous_written,
            "problems": list(problems),
            "diff": diff or {"before": "", "after": ""},
        }

    def _fail_on(self, problems: list[str], keys: t.Iterable[str]) -> None:
        if problems:
            count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
            self.module.fail_json(
                msg=f"The app environment has {count}; fix them in the inventory (or vault): " + " | ".join(problems)
                + ". Nothing was changed.",
                **self._result(keys=keys, problems=problems),
            )

    def _validate_only(self, values: dict[str, str], problems: list[str]) -> None:
        problems += self._validate(values, complete=not self.params["merge"])
        keys = ordered_names(values)
        self._fail_on(problems, keys)
        self.module.exit_json(changed=False, **self._result(keys=keys))

    def _read_current(self) -> tuple[FileState, ParsedEnv]:
        try:
            state = read_state(self.path)
        except OSError as error:
            self.module.fail_json(
                msg=f"Cannot read {self.path}: {error.strerror or error}; check the path and the become user.",
                **self._result(),
            )
        if not state.exists or state.content is None:
            return state, ParsedEnv()
        try:
            text = state.content.decode("utf-8")
        except UnicodeDecodeError:
            return state, ParsedEnv(problems=["is not UTF-8 text"])
        current = parse_env(text)
        # Values kept from the file are as secret as the given ones.
        self.module.no_log_values.update(
            value for name, value in current.values.items() if value and self._is_secret(name, value)
        )
        return state, current

    def _owner_ids(self) -> tuple[int | None, int | None, bool]:
        """uid, gid, and whether an owner or group is unknown (tolerated in check mode only)."""
        ids: list[int | None] = []
        for resolve, wanted in ((resolve_uid, self.params["owner"]), (resolve_gid, self.params["group"])):
            try:
                ids.append(resolve(wanted))
            except LookupError as error:
                if not self.module.check_mode:
                    self.module.fail_json(
                        msg=f"Cannot give {self.path} to the requested owner: {error}; create it first.",
                        **self._result(),
                    )
                self.module.warn(f"{error}; assuming an earlier task creates it")
                ids.append(None)
        unknown = (self.params["owner"] is not None and ids[0] is None) or (
            self.params["group"] is not None and ids[1] is None
        )
        return ids[0], ids[1], unknown

    def _masked(self, values: dict[str, str], other: dict[str, str], after: bool) -> dict[str, str]:
        display = {}
        for name, value in values.items():
            if self._is_secret(name, value) or self._is_secret(name, other.get(name, "")):
                changed = name in other and other[name] != value
                display[name] = f"{MASK} (changed)" if after and changed else MASK
        return display

    def _diff(self, state: FileState, before: dict[str, str], after: dict[str, str],
              after_attributes: str, layout_changed: bool) -> dict[str, str]:
        before_text = ""
        if state.exists:
            note = "# (the file is not in the managed layout: it is rewritten)\n" if layout_changed else ""
            # A line the file has now may have no portable spelling (it was written by hand): shown as such, since
            # the new file replaces it.
            shown_before = {**{name: "<a value with no portable spelling>" for name, value in before.items()
                               if quote_value(value) is None},
                            **self._masked(before, after, after=False)}
            body = render_env(before, shown_before)
            before_text = f"# {state.describe()}\n{note}{body.removeprefix(HEADER)}"
        after_body = render_env(after, self._masked(after, before, after=True)).removeprefix(HEADER)
        return {
            "before": before_text,
            "after": f"# {after_attributes}\n{after_body}",
            "before_header": f"{self.path} (before)",
            "after_header": f"{self.path} (after)",
        }

    def _present(self, values: dict[str, str], problems: list[str]) -> None:
        if not os.path.isdir(os.path.dirname(os.path.abspath(self.path))):
            missing = os.path.dirname(os.path.abspath(self.path))
            if not self.module.check_mode:
                self.module.fail_json(
                    msg=f"The directory {missing} does not exist; create it before rendering the env file.",
                    **self._result(keys=ordered_names(values)),
                )
            self.module.warn(f"{missing} does not exist; assuming an earlier task creates it")
        state, current = self._read_current()
        if self.params["merge"]:
            problems += [f"{self.path} {problem} (merge keeps this line)" for problem in current.problems]
            desired = {**current.values, **values}
        else:
            desired = values
        problems += self._validate(desired, complete=True)
        keys = ordered_names(desired)
        self._fail_on(problems, keys)

        mode = self.mode
        uid, gid, owner_unknown = self._owner_ids()
        content = render_env(desired).encode("utf-8")
        content_changed = state.content != content
        attributes_changed = state.exists and attributes_differ(state, mode, uid, gid)
        changed = content_changed or attributes_changed or owner_unknown
        changed_keys = [
            name for name in ordered_names(set(current.values) | set(desired))
            if current.values.get(name) != desired.get(name)
        ]

        final_uid = uid if uid is not None else (state.uid if state.exists else os.geteuid())
        final_gid = gid if gid is not None else (state.gid if state.exists else os.getegid())
        owner = self.params["owner"] if uid is None and self.params["owner"] else user_name(final_uid)
        group = self.params["group"] if gid is None and self.params["group"] else group_name(final_gid)
        after_attributes = f"mode={mode:04o} owner={owner} group={group}"
        layout_changed = state.exists and content_changed and not changed_keys
        diff = self._diff(state, current.values, desired, after_attributes, layout_changed)

        if changed and not self.module.check_mode:
            try:
                if content_changed:
                    self._keep_previous(state, mode, final_uid, final_gid)
                    write_atomically(self.path, content, mode, final_uid, final_gid)
                else:
                    set_attributes(self.path, mode, uid, gid)
            except OSError as error:
                self.module.fail_json(
                    msg=f"Cannot write {self.path}: {error.strerror or error}; check the directory's permissions "
                    "and free space.",
                    **self._result(keys=keys, changed_keys=changed_keys),
                )
        self.module.exit_json(changed=changed, **self._result(keys, changed_keys, (), diff))

    def _keep_previous(self, state: FileState, mode: int, uid: int, gid: int) -> None:
        """The content about to be replaced, beside it, dated as it was (a restart check compares the time)."""
        previous = self.params["previous_path"]
        if not previous or not state.exists or state.content is None:
            return
        modified = os.stat(self.path)
        write_atomically(previous, state.content, mode, uid, gid)
        os.utime(previous, ns=(modified.st_atime_ns, modified.st_mtime_ns))
        self.previous_written = True


def main() -> None:
    module = AnsibleModule(
        argument_spec=argument_spec(),
        required_if=[("state", "present", ["path"])],
        supports_check_mode=True,
    )
    AppEnv(module).run()


if __name__ == "__main__":
    main()
