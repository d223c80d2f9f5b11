# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Each rule of the app's environment with good and bad values."""

from __future__ import annotations

import pytest

from ansible_collections.nekomorto.ops.plugins.module_utils._app_env_rules import (
    check_data_source,
    check_database_url,
    check_maintenance_mode,
    check_node_env,
    check_origins,
    check_port,
    check_session_secret,
    check_session_table,
    is_secret_name,
    is_secret_value,
    normalize_variables,
    secret_values,
    validate_environment,
)

SECRET = "s" * 40
VALID = {
    "NODE_ENV": "production",
    "DATABASE_URL": "postgresql://nekomorto_app:hunter2@db.internal:5432/nekomorto",
    "SESSION_SECRET": SECRET,
    "APP_ORIGIN": "https://nekomata.moe,https://www.nekomata.moe",
}


@pytest.mark.parametrize("value", ["production", "staging", "development", "test"])
def test_node_env_good(value: str) -> None:
    assert check_node_env(value) == []


@pytest.mark.parametrize("value", ["", "Production", "prod", "PRODUCTION"])
def test_node_env_bad(value: str) -> None:
    assert check_node_env(value)[0].startswith("NODE_ENV: must be one of")


@pytest.mark.parametrize(
    "value",
    [
        "postgresql://nekomorto_app:hunter2@db:5432/nekomorto",
        "postgres://u@db/nekomorto",
        "postgresql://u:p%40ss@[::1]:6543/db?sslmode=require",
        "postgresql://u@/db?host=/var/run/postgresql",
    ],
)
def test_database_url_good(value: str) -> None:
    assert check_database_url(value) == []


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("mysql://u:hunter2@db:3306/db", "must start with postgresql://"),
        ("db.internal:5432/nekomorto", "must start with postgresql://"),
        ("postgresql://db:5432/nekomorto", "has no user name"),
        ("postgresql://u:hunter2@:5432/nekomorto", "has no host"),
        ("postgresql://u:hunter2@db:54x32/nekomorto", "cannot be parsed"),
        ("postgresql://u:hunter2@db:70000/nekomorto", "cannot be parsed"),
        ("postgresql://u:hunter2@db:0/nekomorto", "port must be between"),
        ("postgresql://u:hunter2@db:5432", "names no database"),
        ("postgresql://u:hunter2@db:5432/", "names no database"),
        ("postgresql://u:hunter2@db:5432/a/b", "must not contain '/'"),
        ("postgresql://u:hunter2@[::1:5432/db", "cannot be parsed"),
    ],
)
def test_database_url_bad(value: str, rule: str) -> None:
    problems = check_database_url(value)
    assert any(rule in problem for problem in problems), problems
    assert all(problem.startswith("DATABASE_URL: ") for problem in problems)
    assert not any("hunter2" in problem for problem in problems)


def test_session_secret_good() -> None:
    assert check_session_secret("x" * 32) == []
    assert check_session_secret("x" * 8, min_length=8) == []


@pytest.mark.parametrize(("value", "rule"), [
    ("", "is empty"), ("x" * 31, "shorter than 32 characters"),
    # The app trims it: 40 blanks are no secret, and a padded one is shorter than it looks.
    (" " * 40, "is empty or blank"), ("  " + "x" * 30 + "  ", "starts or ends with blanks"),
])
def test_session_secret_bad(value: str, rule: str) -> None:
    problems = check_session_secret(value)
    assert rule in problems[0]
    assert value not in problems[0] or value == ""


@pytest.mark.parametrize(
    "value",
    [
        "https://nekomata.moe",
        "https://nekomata.moe,https://www.nekomata.moe",
        "https://nekomata.moe, https://admin.nekomata.moe:8443",
        "http://localhost:8080",
        "http://127.0.0.1:8080,http://[::1]:8080",
        "https://xn--nekomat-9za.example",
    ],
)
def test_origins_good(value: str) -> None:
    assert check_origins("APP_ORIGIN", value) == []


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("", "is empty"),
        ("https://a.example,", "entry 2 of 2 is empty"),
        ("nekomata.moe", "must start with https:// or http://"),
        ("ftp://nekomata.moe", "must start with https:// or http://"),
        ("https://nekomata.moe/", "ends with a slash"),
        ("https://nekomata.moe/app", "has a path"),
        ("https://nekomata.moe?x=1", "has a query string"),
        ("https://nekomata.moe#top", "has a fragment"),
        ("https://user@nekomata.moe", "must not carry user@ credentials"),
        ("https://nekomata.moe:99999", "is not a valid URL"),
        ("https://nekomata.moe:0", "has port 0"),
        ("https://bad_host.example", "has no valid host name"),
        ("https://", "has no valid host name"),
        ("http://nekomata.moe", "uses http:// in production"),
    ],
)
def test_origins_bad(value: str, rule: str) -> None:
    problems = check_origins("APP_ORIGIN", value)
    assert len(problems) == 1
    assert problems[0].startswith("APP_ORIGIN: ")
    assert rule in problems[0]


def test_origins_http_allowed_outside_production_and_for_listed_hosts() -> None:
    assert check_origins("ADMIN_ORIGINS", "http://staging.example", https_required=False) == []
    assert check_origins("ADMIN_ORIGINS", "http://intranet.example", allow_http_hosts=["intranet.example"]) == []
    assert check_origins("ADMIN_ORIGINS", "http://localhost", allow_http_hosts=[]) != []
    assert check_origins("ADMIN_ORIGINS", "http://Intranet.Example,http://[::1]", allow_http_hosts=["INTRANET.example", "[::1]"]) == []


@pytest.mark.parametrize("value", ["user_sessions", "_s$1", "a" * 63])
def test_session_table_good(value: str) -> None:
    assert check_session_table(value) == []


# public.user_sessions: the session store would look for a table named "public.user_sessions".
@pytest.mark.parametrize("value", ["", "1sessions", "user-sessions", "a.b.c", "public.user_sessions", '"quoted"', "a" * 64, "x;drop"])
def test_session_table_bad(value: str) -> None:
    assert check_session_table(value)[0].startswith("SESSION_TABLE: ")


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "Yes", "on", "0", "false", "No", "OFF"])
def test_maintenance_mode_good(value: str) -> None:
    assert check_maintenance_mode(value) == []


@pytest.mark.parametrize("value", ["", "enabled", "y", "2", " true", "t"])
def test_maintenance_mode_bad(value: str) -> None:
    assert "would silently leave writes open" in check_maintenance_mode(value)[0]


@pytest.mark.parametrize("value", ["1", "80", "8080", "65535"])
def test_port_good(value: str) -> None:
    assert check_port(value) == []


@pytest.mark.parametrize("value", ["", "0", "65536", "-1", "80a", " 80", "8080.0", "123456"])
def test_port_bad(value: str) -> None:
    assert check_port(value) == ["PORT: must be an integer between 1 and 65535"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATA_SOURCE", "db"),
        ("DATA_SOURCE", "postgres"),
        ("STORAGE_DRIVER", "prisma"),
        ("APP_DATA_SOURCE", "database"),
        ("DUAL_WRITE_ENABLED", "false"),
        ("JSON_FALLBACK", "0"),
        ("UPLOADS_DIR", "public/uploads/json"),
    ],
)
def test_data_source_good(name: str, value: str) -> None:
    assert check_data_source(name, value) == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATA_SOURCE", "json"),
        ("DATA_BACKEND", "JSON"),
        ("STORAGE_DRIVER", "file"),
        ("DB_MODE", "dual"),
        ("DB_MODE", "dual-write"),
        ("LEGACY_DATA_SOURCE", "json-files"),
        ("ENABLE_DUAL_WRITE", "true"),
        ("DUAL_WRITE", "1"),
        ("JSON_FALLBACK", "yes"),
        ("JSON_WRITE_ENABLED", "ON"),
    ],
)
def test_data_source_bad(name: str, value: str) -> None:
    problems = check_data_source(name, value)
    assert len(problems) == 1
    assert problems[0].startswith(f"{name}: ")
    assert "runbook forbids dual-write with JSON" in problems[0]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("DATABASE_URL", True),
        ("SESSION_SECRET", True),
        ("SESSION_SECRETS", True),
        ("OPERATIONAL_HEALTH_TOKEN", True),
        ("BOOTSTRAP_TOKEN", True),
        ("DISCORD_CLIENT_SECRET", True),
        ("SMTP_PASSWORD", True),
        ("STRIPE_API_KEY", True),
        ("SMTP_PASS", True),
        ("SENTRY_DSN", True),
        ("GCP_CREDENTIALS_JSON", True),
        ("JWT_PRIVATE_PEM", True),
        ("GOOGLE_CLIENT_ID", False),
        ("DISCORD_CLIENT_ID", False),
        ("VAPID_PUBLIC_KEY", False),
        ("NODE_ENV", False),
        ("MAINTENANCE_MODE", False),
    ],
)
def test_is_secret_name(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("redis://:s3cret@cache:6379/0", True),
        ("smtp://mailer:pa/ss@mail.example:587", True),
        ("postgresql://app:pw@db/app", True),
        ("https://nekomata.moe", False),
        ("https://user@example.com/path", False),
        ("https://example.com/a:b@c", False),
        ("", False),
    ],
)
def test_is_secret_value(value: str, secret: bool) -> None:
    assert is_secret_value(value) is secret


def test_secret_values_of_an_environment() -> None:
    variables = {
        "NODE_ENV": "production",
        "DATABASE_URL": "postgresql://app:p%40ss-word@db/nekomorto",
        "SESSION_SECRET": "s" * 40,
        "REDIS_URL": "redis://:r3dis-pass@cache:6379",
        "GOOGLE_CLIENT_ID": "public-client-id",
        "API_TOKEN": "short",
        "CUSTOM": "custom-value",
    }
    found = secret_values(variables, ["CUSTOM"])
    assert found == [
        "postgresql://app:p%40ss-word@db/nekomorto", "s" * 40, "redis://:r3dis-pass@cache:6379",
        "custom-value", "p%40ss-word", "r3dis-pass", "p@ss-word",
    ]
    assert secret_values({"API_TOKEN": "short"}, min_length=3) == ["short"]


def test_extra_secret_names() -> None:
    assert is_secret_name("OWNER_IDS", ["OWNER_IDS"]) is True
    assert is_secret_name("OWNER_IDS") is False


def test_normalize_converts_scalars_and_reports_bad_names_and_values() -> None:
    values, problems = normalize_variables(
        {"B": True, "F": False, "N": 8080, "R": 1.5, "E": "", "Z": None, "L": [1], "1BAD": "x", "X-Y": "x",
         "NL": "a\nb", "SQ_BS": "it's \\"}
    )
    assert values == {"B": "true", "F": "false", "N": "8080", "R": "1.5", "E": "", "Z": ""}
    assert problems == [
        "L: must be a string, a number or a boolean, not a list",
        "'1BAD': invalid variable name; use letters, digits and underscores, not starting with a digit",
        "'X-Y': invalid variable name; use letters, digits and underscores, not starting with a digit",
        "NL: the value contains a line break (LF or CR), which the parsers do not read alike",
        "SQ_BS: the value has no spelling that systemd, dotenv and node all read back unchanged: it holds a single "
        "quote together with a backslash, or a single and a double quote together with a #, a leading quote or "
        "surrounding whitespace",
    ]


def test_valid_environment() -> None:
    assert validate_environment(VALID) == ([], [])


def test_missing_required_names_are_all_reported() -> None:
    problems = validate_environment({})[0]
    assert problems == [
        "NODE_ENV: is required (APP_CONTRACT.md, Environment) and is not set",
        "DATABASE_URL: is required (APP_CONTRACT.md, Environment) and is not set",
        "SESSION_SECRET: is required (APP_CONTRACT.md, Environment) and is not set",
        "APP_ORIGIN: is required (APP_CONTRACT.md, Environment) and is not set",
    ]


def test_session_secrets_does_not_replace_session_secret() -> None:
    values = {**VALID, "SESSION_SECRETS": f"{SECRET},{SECRET}"}
    del values["SESSION_SECRET"]
    problems = validate_environment(values)[0]
    assert "SESSION_SECRET: SESSION_SECRETS is set but does not replace SESSION_SECRET; set both" in problems


def test_partial_environment_skips_required_names() -> None:
    assert validate_environment({"MAINTENANCE_MODE": "true"}, complete=False) == ([], [])
    assert validate_environment({"MAINTENANCE_MODE": "maybe"}, complete=False)[0] != []


def test_every_problem_is_reported_at_once_without_values() -> None:
    values = {
        "NODE_ENV": "production",
        "DATABASE_URL": "mysql://root:hunter2@db/x",
        "SESSION_SECRET": "hunter2",
        "APP_ORIGIN": "http://nekomata.moe/",
        "MAINTENANCE_MODE": "hunter2",
        "PORT": "hunter2",
        "DATA_SOURCE": "json",
    }
    problems = validate_environment(values)[0]
    assert [problem.split(":", maxsplit=1)[0] for problem in problems] == [
        "DATABASE_URL", "SESSION_SECRET", "APP_ORIGIN", "MAINTENANCE_MODE", "PORT", "DATA_SOURCE",
    ]
    assert not any("hunter2" in problem for problem in problems)


def test_http_origin_allowed_when_node_env_is_not_production() -> None:
    values = {**VALID, "NODE_ENV": "staging", "APP_ORIGIN": "http://staging.internal"}
    problems, warnings = validate_environment(values)
    assert problems == []
    assert warnings and warnings[0].startswith("NODE_ENV is 'staging', not 'production'")
