# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""nekomorto.ops.app_env, run whole in a temporary directory."""

from __future__ import annotations

import json
import os
import pwd
import stat
import typing as t
from pathlib import Path

import pytest

from ansible_collections.nekomorto.ops.plugins.modules import app_env
from ansible_collections.nekomorto.ops.tests.unit.plugins.modules.file_module_harness import run_module, run_sequence

PASSWORD = "pw-Zq8mXv3T"
SESSION_SECRET = "session-secret-0123456789abcdef-0123456789"
VARIABLES = {
    "NODE_ENV": "production",
    "DATABASE_URL": f"postgresql://nekomorto_app:{PASSWORD}@db.internal:5432/nekomorto",
    "SESSION_SECRET": SESSION_SECRET,
    "APP_ORIGIN": "https://nekomata.moe,https://www.nekomata.moe",
    "SESSION_TABLE": "user_sessions",
    "MAINTENANCE_MODE": False,
    "PORT": 8080,
    "GOOGLE_CLIENT_ID": "",
    "DISCORD_CLIENT_SECRET": "discord-secret-value",
    "SITE_TITLE": "Neko #1 $site",
}
RESULT_KEYS = {"changed", "path", "keys", "changed_keys", "previous_written", "problems", "diff"}
# Added by AnsibleModule to any result with an existing "path".
PATH_INFO_KEYS = {"uid", "gid", "owner", "group", "mode", "size", "state"}
SECRETS = (PASSWORD, SESSION_SECRET, "discord-secret-value")


def _run(path: Path, check_mode: bool = False, **options: t.Any) -> dict[str, t.Any]:
    return run_module(app_env.main, {"path": str(path), "variables": VARIABLES, **options}, check_mode=check_mode)


def _assert_no_secret(result: dict[str, t.Any]) -> None:
    text = json.dumps(result)
    for secret in SECRETS:
        assert secret not in text


def test_check_apply_check_apply(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    results = run_sequence(app_env.main, {"path": str(env), "variables": VARIABLES})
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert results[0]["changed_keys"] == results[1]["changed_keys"] == results[1]["keys"]
    assert results[0]["diff"] == results[1]["diff"]
    assert results[2]["changed_keys"] == results[3]["changed_keys"] == []
    assert all(set(result) - {"invocation", "warnings"} - PATH_INFO_KEYS == RESULT_KEYS for result in results)
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    assert results[1]["keys"] == [
        "NODE_ENV", "DATABASE_URL", "SESSION_SECRET", "APP_ORIGIN", "SESSION_TABLE", "MAINTENANCE_MODE",
        "DISCORD_CLIENT_SECRET", "GOOGLE_CLIENT_ID", "PORT", "SITE_TITLE",
    ]
    assert env.read_text(encoding="utf-8").splitlines()[2:] == [
        "NODE_ENV=production",
        f"DATABASE_URL=postgresql://nekomorto_app:{PASSWORD}@db.internal:5432/nekomorto",
        f"SESSION_SECRET={SESSION_SECRET}",
        "APP_ORIGIN=https://nekomata.moe,https://www.nekomata.moe",
        "SESSION_TABLE=user_sessions",
        "MAINTENANCE_MODE=false",
        "DISCORD_CLIENT_SECRET=discord-secret-value",
        "GOOGLE_CLIENT_ID=",
        "PORT=8080",
        "SITE_TITLE='Neko #1 $site'",
    ]


def test_check_mode_writes_nothing(tmp_path: Path) -> None:
    result = _run(tmp_path / ".env", check_mode=True)
    assert result["changed"] is True
    assert list(tmp_path.iterdir()) == []


def test_the_former_content_is_kept_beside_it_when_it_changes(tmp_path: Path) -> None:
    env, previous = tmp_path / ".env", tmp_path / ".env.previous"
    first = _run(env, previous_path=str(previous))
    assert first["previous_written"] is False and not previous.exists()  # nothing to keep yet
    former = env.read_bytes()
    os.utime(env, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    same = _run(env, previous_path=str(previous))
    assert same["changed"] is False and same["previous_written"] is False and not previous.exists()
    checked = run_module(app_env.main, {"path": str(env), "previous_path": str(previous),
                                        "variables": {**VARIABLES, "SITE_TITLE": "other"}}, check_mode=True)
    assert checked["changed"] is True and checked["previous_written"] is False and not previous.exists()
    changed = run_module(app_env.main, {"path": str(env), "previous_path": str(previous),
                                        "variables": {**VARIABLES, "SITE_TITLE": "other"}})
    assert changed["changed"] is True and changed["previous_written"] is True
    assert previous.read_bytes() == former
    assert stat.S_IMODE(previous.stat().st_mode) == 0o600
    # Dated as the file it was: a later check of "env file newer than the process" reads the same once put back.
    assert previous.stat().st_mtime_ns == 1_700_000_000_000_000_000
    assert b"SITE_TITLE=other" in env.read_bytes()
    _assert_no_secret(changed)


def test_secrets_are_masked_and_other_values_shown(tmp_path: Path) -> None:
    result = _run(tmp_path / ".env")
    _assert_no_secret(result)
    after = result["diff"]["after"]
    assert "DATABASE_URL=********\n" in after
    assert "SESSION_SECRET=********\n" in after
    assert "DISCORD_CLIENT_SECRET=********\n" in after
    # Values of non-secret variables stay readable, although every value went in through no_log.
    assert "MAINTENANCE_MODE=false\n" in after
    assert "PORT=8080\n" in after
    assert result["path"] == str(tmp_path / ".env")


def test_a_url_with_a_password_and_operator_named_secrets_are_masked(tmp_path: Path) -> None:
    extra = {"CACHE_URL": "redis://:cache-pw-77@cache:6379/0", "SMTP_PASS": "smtp-pw-88", "OWNER_IDS": "1,2,3",
             "PUBLIC_URL": "https://nekomata.moe"}
    result = _run(tmp_path / ".env", variables={**VARIABLES, **extra}, secret_names=["OWNER_IDS"])
    text = json.dumps(result)
    for secret in ("cache-pw-77", "smtp-pw-88", "1,2,3"):
        assert secret not in text
    after = result["diff"]["after"]
    assert "CACHE_URL=********\n" in after and "SMTP_PASS=********\n" in after and "OWNER_IDS=********\n" in after
    assert "PUBLIC_URL=https://nekomata.moe\n" in after


def test_merge_flips_maintenance_mode_and_keeps_the_rest(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _run(env)
    args = {"path": str(env), "merge": True, "variables": {"MAINTENANCE_MODE": True}}
    results = run_sequence(app_env.main, args)
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert results[1]["changed_keys"] == ["MAINTENANCE_MODE"]
    assert "MAINTENANCE_MODE=false\n" in results[1]["diff"]["before"]
    assert "MAINTENANCE_MODE=true\n" in results[1]["diff"]["after"]
    assert "SESSION_SECRET=********\n" in results[1]["diff"]["before"]
    for result in results:
        _assert_no_secret(result)
    text = env.read_text(encoding="utf-8")
    assert "MAINTENANCE_MODE=true\n" in text
    assert f"SESSION_SECRET={SESSION_SECRET}\n" in text
    assert "SITE_TITLE='Neko #1 $site'\n" in text


def test_merge_validates_the_merged_result(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("NODE_ENV=production\n", encoding="utf-8")
    result = run_module(app_env.main, {"path": str(env), "merge": True, "variables": {"MAINTENANCE_MODE": "on"}})
    assert result["failed"] is True
    assert "DATABASE_URL: is required (APP_CONTRACT.md, Environment) and is not set" in result["problems"]
    assert env.read_text(encoding="utf-8") == "NODE_ENV=production\n"


def test_merge_refuses_lines_the_readers_disagree_on(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _run(env)
    with env.open("a", encoding="utf-8") as handle:
        handle.write("LEGACY=x # trailing comment\n")
    before = env.read_text(encoding="utf-8")
    result = run_module(app_env.main, {"path": str(env), "merge": True, "variables": {"MAINTENANCE_MODE": "on"}})
    assert result["failed"] is True
    assert result["problems"] == [
        f"{env} line 13 (LEGACY) has a # in an unquoted value: dotenv and node cut it there, systemd does not "
        "(merge keeps this line)"
    ]
    assert env.read_text(encoding="utf-8") == before


def test_secret_change_is_marked_without_showing_it(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _run(env)
    new_secret = "another-session-secret-0123456789abcdef"
    result = run_module(app_env.main, {"path": str(env), "variables": {**VARIABLES, "SESSION_SECRET": new_secret}})
    assert result["changed_keys"] == ["SESSION_SECRET"]
    assert "SESSION_SECRET=********\n" in result["diff"]["before"]
    assert "SESSION_SECRET=******** (changed)\n" in result["diff"]["after"]
    assert new_secret not in json.dumps(result)
    _assert_no_secret(result)


def test_removed_key_is_a_changed_key(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _run(env)
    variables = {name: value for name, value in VARIABLES.items() if name != "SITE_TITLE"}
    result = run_module(app_env.main, {"path": str(env), "variables": variables})
    assert result["changed"] is True
    assert result["changed_keys"] == ["SITE_TITLE"]
    assert "SITE_TITLE" not in env.read_text(encoding="utf-8")


def test_mode_drift_is_repaired_without_key_changes(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _run(env)
    env.chmod(0o644)
    results = run_sequence(app_env.main, {"path": str(env), "variables": VARIABLES})
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert results[1]["changed_keys"] == []
    assert results[1]["diff"]["before"].startswith("# mode=0644 ")
    assert results[1]["diff"]["after"].startswith("# mode=0600 ")
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


def test_layout_only_change_rewrites_the_file(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("PORT = 8080\nNODE_ENV=production\n", encoding="utf-8")
    env.chmod(0o600)
    result = run_module(app_env.main, {"path": str(env), "state": "present", "merge": True, "variables": VARIABLES})
    assert result["changed"] is True
    second = run_module(app_env.main, {"path": str(env), "variables": VARIABLES})
    assert second["changed"] is False
    env.write_text(env.read_text(encoding="utf-8").replace("PORT=8080", "PORT='8080'"), encoding="utf-8")
    third = run_module(app_env.main, {"path": str(env), "variables": VARIABLES})
    assert third["changed"] is True
    assert third["changed_keys"] == []
    assert "not in the managed layout" in third["diff"]["before"]


def test_owner_and_group_by_name(tmp_path: Path) -> None:
    me = pwd.getpwuid(os.geteuid()).pw_name
    result = _run(tmp_path / ".env", owner=me, group=str(os.getegid()))
    assert result["changed"] is True
    assert (tmp_path / ".env").stat().st_uid == os.geteuid()
    assert _run(tmp_path / ".env", owner=me, group=str(os.getegid()))["changed"] is False


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_change_is_applied_and_idempotent(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    _run(env)
    results = run_sequence(app_env.main, {"path": str(env), "variables": VARIABLES, "owner": "65534", "group": "65534"})
    assert [result["changed"] for result in results] == [True, True, False, False]
    assert (env.stat().st_uid, env.stat().st_gid) == (65534, 65534)


def test_unknown_owner_fails_but_only_warns_in_check_mode(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    failed = _run(env, owner="no-such-user-nekomorto")
    assert failed["failed"] is True
    assert "user 'no-such-user-nekomorto' does not exist on this host" in failed["msg"]
    assert not env.exists()
    planned = _run(env, check_mode=True, owner="no-such-user-nekomorto")
    assert planned["changed"] is True
    assert any("no-such-user-nekomorto" in warning for warning in planned["warnings"])


def test_missing_directory(tmp_path: Path) -> None:
    env = tmp_path / "shared" / ".env"
    failed = _run(env)
    assert failed["failed"] is True
    assert f"The directory {tmp_path / 'shared'} does not exist" in failed["msg"]
    planned = _run(env, check_mode=True)
    assert planned["changed"] is True


def test_problems_fail_before_any_write_and_are_all_reported(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    variables = {**VARIABLES, "SESSION_SECRET": "short", "MAINTENANCE_MODE": "maybe", "DATA_SOURCE": "json",
                 "QUOTES": "it's a \\ problem", "APP_ORIGIN": "http://nekomata.moe"}
    result = run_module(app_env.main, {"path": str(env), "variables": variables})
    assert result["failed"] is True
    assert set(result) - {"invocation", "msg", "failed", "warnings"} == RESULT_KEYS - {"changed"}
    assert [problem.split(":")[0] for problem in result["problems"]] == [
        "QUOTES", "SESSION_SECRET", "APP_ORIGIN", "MAINTENANCE_MODE", "DATA_SOURCE",
    ]
    assert result["msg"].startswith("The app environment has 5 problems")
    assert not env.exists()
    _assert_no_secret(result)


def test_validated_touches_nothing(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    result = run_module(app_env.main, {"state": "validated", "path": str(env), "variables": VARIABLES})
    assert result["changed"] is False
    assert result["problems"] == []
    assert result["keys"][0] == "NODE_ENV"
    assert result["diff"] == {"before": "", "after": ""}
    assert not env.exists()
    assert set(result) - {"invocation", "warnings"} == RESULT_KEYS


def test_validated_without_path_reports_problems(tmp_path: Path) -> None:
    result = run_module(app_env.main, {"state": "validated", "variables": {"NODE_ENV": "development"}})
    assert result["failed"] is True
    assert result["path"] is None
    assert len(result["problems"]) == 3
    assert any("NODE_ENV is 'development'" in warning for warning in result["warnings"])


def test_validated_merge_checks_only_the_given_variables() -> None:
    ok = run_module(app_env.main, {"state": "validated", "merge": True, "variables": {"MAINTENANCE_MODE": "true"}})
    assert ok["changed"] is False and not ok.get("failed")
    bad = run_module(app_env.main, {"state": "validated", "merge": True, "variables": {"MAINTENANCE_MODE": "y"}})
    assert bad["failed"] is True


def test_present_needs_a_path() -> None:
    result = run_module(app_env.main, {"variables": VARIABLES})
    assert result["failed"] is True
    assert "path" in result["msg"]


def test_symbolic_mode_is_refused(tmp_path: Path) -> None:
    result = _run(tmp_path / ".env", mode="u=rw")
    assert result["failed"] is True
    assert "is not an octal mode" in result["msg"]
    assert set(result) - {"invocation", "msg", "failed", "warnings"} == RESULT_KEYS - {"changed"}


def test_a_hand_written_line_with_no_portable_spelling_is_replaced(tmp_path: Path) -> None:
    # Both quotes and a backslash: no spelling every reader reads alike, so render_env cannot write it back.
    env = tmp_path / ".env"
    env.write_text('SITE_NOTE="it\'s \\"quoted\\""\n', encoding="utf-8")
    for check_mode in (True, False):
        result = _run(env, check_mode=check_mode, _ansible_diff=True)
        assert result["changed"] is True and not result.get("failed"), result.get("msg")
        assert "SITE_NOTE=<a value with no portable spelling>" in result["diff"]["before"]
    assert "SITE_NOTE" not in env.read_text(encoding="utf-8")
