# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mask_secrets filter: what an app script printed, with the secrets of the app's environment masked."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mask_secrets
author: nekomorto.ops contributors
version_added: 0.1.0
short_description: Masks the secret values of the app's environment in a text or a structure
description:
  - Replaces every occurrence of a secret value of O(app_env) with C(********), in a string or in the strings
    and dict keys of a list or dict at any depth.
  - Secret values are the values of the built-in secret names (C(DATABASE_URL), C(SESSION_SECRET), ...), of
    names holding a secret word (C(TOKEN), C(PASSWORD), C(KEY), ...; not published ones such as C(*_CLIENT_ID)),
    of O(secret_names), and of URLs with a password, plus each such URL's password as written and
    percent-decoded. The same rules as the C(app_env) and C(run_journal) modules.
  - For output the collection shows or saves after running one of the app's scripts with C(no_log).
options:
  _input:
    description: The text (or list, or dict) to mask.
    type: raw
    required: true
  app_env:
    description: The app's environment, name to value (the role variable C(app_env)).
    type: dict
    required: true
  secret_names:
    description: Names whose values are secret besides the built-in ones (the role variable C(app_env_secret_names)).
    type: list
    elements: str
    default: []
  min_length:
    description:
      - Values shorter than this are not masked (masking every C(true) or C(3000) would garble the text).
    type: int
    default: 6
"""

EXAMPLES = r"""
- name: Show what the script printed, secrets masked
  ansible.builtin.debug:
    msg: "{{ script_result.stdout | nekomorto.ops.mask_secrets(app_env, app_env_secret_names) }}"
"""

RETURN = r"""
_value:
  description: The input with every secret value replaced by C(********).
  type: raw
"""

import typing as t

from ansible.errors import AnsibleFilterError

from ansible_collections.nekomorto.ops.plugins.module_utils._app_env_rules import secret_values, to_env_string
from ansible_collections.nekomorto.ops.plugins.module_utils._journal import mask_secrets as mask


def mask_secrets(
    value: t.Any, app_env: t.Mapping[str, t.Any], secret_names: t.Iterable[str] = (), min_length: int = 6
) -> t.Any:
    if not isinstance(app_env, t.Mapping):
        raise AnsibleFilterError("mask_secrets: app_env must be a dict of names to values")
    if isinstance(secret_names, str) or not isinstance(secret_names, t.Iterable):
        raise AnsibleFilterError("mask_secrets: secret_names must be a list of names")
    variables = {}
    for name, raw in app_env.items():
        text = to_env_string(raw)
        if text is not None:
            variables[str(name)] = text
    return mask(value, secret_values(variables, [str(name) for name in secret_names], min_length=int(min_length)))


class FilterModule:
    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"mask_secrets": mask_secrets}
