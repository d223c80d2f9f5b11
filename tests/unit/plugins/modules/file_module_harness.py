# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Runs a module in-process and reads back the JSON it prints, exactly what Ansible would receive
(no_log values already masked), for the modules that write files (app_env, deploy_lock, run_journal)."""

from __future__ import annotations

import contextlib
import io
import json
import typing as t

from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args


def _forget_warnings() -> None:
    # Warnings are kept per process; an in-process run must not inherit the previous run's.
    module_warnings._global_warnings.clear()
    module_warnings._global_deprecations.clear()


def run_module(main: t.Callable[[], None], args: dict[str, t.Any], check_mode: bool = False,
               diff: bool = True) -> dict[str, t.Any]:
    """The module's result; ``result["failed"]`` is true when it called fail_json.

    ``result["warnings"]`` is flattened to the list of warning messages.
    """
    args = {**args, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
    printed = io.StringIO()
    _forget_warnings()
    with patch_module_args(args), contextlib.redirect_stdout(printed):
        with contextlib.suppress(SystemExit):
            main()
    _forget_warnings()
    text = printed.getvalue()
    if not text:
        raise AssertionError("the module printed nothing: it did not call exit_json or fail_json")
    result = json.loads(text)
    result["warnings"] = [
        warning["event"]["msg"] if isinstance(warning, dict) else warning for warning in result.get("warnings", [])
    ]
    return result


def run_sequence(main: t.Callable[[], None], args: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """Check, apply, check again, apply again: the community.crypto idempotence sequence."""
    return [run_module(main, args, check_mode=check) for check in (True, False, True, False)]
