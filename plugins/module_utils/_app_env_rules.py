# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The app's environment rules (APP_CONTRACT.md, "Environment"; RUNBOOK-db-only.md, section 1).

Every check returns a list of problems. A problem names the variable and the rule and never
quotes a value, so that a secret cannot leak through an error message.
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
from urllib.parse import parse_qs, unquote, urlsplit

from ansible_collections.nekomorto.ops.plugins.module_utils._envfile import NAME_PATTERN, unrepresentable_reason

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

NODE_ENVS = ("production", "staging", "development", "test")
REQUIRED_NAMES = ("NODE_ENV", "DATABASE_URL", "SESSION_SECRET", "APP_ORIGIN")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_MIN_SECRET_LENGTH = 32

# Always secret, whatever the operator adds.
BUILTIN_SECRET_NAMES = frozenset(
    {"DATABASE_URL", "SESSION_SECRET", "SESSION_SECRETS", "OPERATIONAL_HEALTH_TOKEN", "BOOTSTRAP_TOKEN"}
)
_SECRET_WORDS = ("SECRET", "TOKEN", "PASS", "KEY", "DSN", "CREDENTIAL", "PRIVATE")
# A URL carrying a password (redis://user:pw@host, smtp://user:pw@host) is secret whatever its name.
_URL_WITH_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^@\s/]*:[^@\s]*@")
_URL_PASSWORD = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^@\s/:]*:([^@\s]+)@")
# Names that contain a secret word and are published by design (OAuth client ids, public keys).
_PUBLIC_NAMES = frozenset({"GOOGLE_CLIENT_ID", "DISCORD_CLIENT_ID"})
_PUBLIC_SUFFIXES = ("_CLIENT_ID", "_PUBLIC_KEY", "_SITE_KEY", "_KEY_ID")

# Settings that could point the app back at the JSON files the DB-only cut-over removed.
_DATA_SOURCE_NAMES = frozenset(
    {"DATA_SOURCE", "DATASOURCE", "DATA_BACKEND", "STORAGE_DRIVER", "STORAGE_BACKEND", "DB_MODE"}
)
_DATA_SOURCE_SUFFIXES = ("_DATA_SOURCE", "_DATASOURCE")
_NON_DB_SOURCE = re.compile(r"json|dual|file", re.IGNORECASE)
_JSON_SWITCH_MARKERS = ("DUAL_WRITE", "DUALWRITE", "JSON_FALLBACK", "JSON_WRITE")

_HOST_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_SQL_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_$]{0,62}"
_SESSION_TABLE = re.compile(rf"^{_SQL_IDENTIFIER}$")


def is_secret_value(value: str) -> bool:
    """Whether a value is secret by its form, whatever its name: a URL with a password in it."""
    return bool(_URL_WITH_PASSWORD.match(value))


def secret_values(variables: t.Mapping[str, str], extra_secret_names: t.Iterable[str] = (), min_length: int = 6) -> list[str]:
    """The secrets an environment holds: the values of secret names and URLs with a password, and each such
    URL's password as written and percent-decoded. Values shorter than ``min_length`` are left out: masking
    every ``true`` or ``3000`` would garble a text more than it protects."""
    extra = list(extra_secret_names)
    found: set[str] = set()
    for name, value in variables.items():
        if is_secret_name(name, extra) or is_secret_value(value):
            found.add(value)
        password = _URL_PASSWORD.match(value)
        if password:
            found.update({password.group(1), unquote(password.group(1))})
    return sorted((value for value in found if len(value) >= min_length), key=lambda value: (-len(value), value))


def is_secret_name(name: str, extra_secret_names: t.Iterable[str] = ()) -> bool:
    """Whether the value of ``name`` must be masked wherever the module shows it."""
    if name in BUILTIN_SECRET_NAMES or name in set(extra_secret_names):
        return True
    upper = name.upper()
    if upper in _PUBLIC_NAMES or upper.endswith(_PUBLIC_SUFFIXES):
        return False
    return any(word in upper for word in _SECRET_WORDS)


def to_env_string(value: t.Any) -> str | None:
    """The string an env file holds for an option value; None when it has no string form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


def normalize_variables(variables: t.Mapping[t.Any, t.Any]) -> tuple[dict[str, str], list[str]]:
    """Names checked and values turned into strings that an env file can hold identically for every reader."""
    values: dict[str, str] = {}
    problems: list[str] = []
    for name, raw in variables.items():
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            problems.append(
                f"{name!r}: invalid variable name; use letters, digits and underscores, not starting with a digit"
            )
            continue
        value = to_env_string(raw)
        if value is None:
            problems.append(f"{name}: must be a string, a number or a boolean, not a {type(raw).__name__}")
            continue
        reason = unrepresentable_reason(value)
        if reason:
            problems.append(f"{name}: the value {reason}")
            continue
        values[name] = value
    return values, problems


def check_node_env(value: str) -> list[str]:
    if value not in NODE_ENVS:
        return [f"NODE_ENV: must be one of {', '.join(NODE_ENVS)} (lowercase)"]
    return []


def check_database_url(value: str) -> list[str]:
    """A PostgreSQL URL as Prisma and the app read it: postgresql://USER:PASSWORD@HOST:PORT/DATABASE."""
    shape = "postgresql://USER:PASSWORD@HOST:5432/DATABASE"
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return [f"DATABASE_URL: cannot be parsed as a URL (invalid port or brackets); expected {shape}"]
    if parts.scheme not in ("postgresql", "postgres"):
        return [f"DATABASE_URL: must start with postgresql:// (or postgres://); expected {shape}"]
    problems = []
    if not parts.username:
        problems.append(f"DATABASE_URL: has no user name; expected {shape}")
    if not parts.hostname and not parse_qs(parts.query).get("host"):
        problems.append(f"DATABASE_URL: has no host; expected {shape}")
    if port == 0:
        problems.append("DATABASE_URL: port must be between 1 and 65535")
    database = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not database:
        problems.append(f"DATABASE_URL: names no database; expected {shape}")
    elif "/" in database:
        problems.append("DATABASE_URL: the database name must not contain '/'")
    return problems


def check_session_secret(value: str, min_length: int = DEFAULT_MIN_SECRET_LENGTH) -> list[str]:
    if not value.strip():
        return ["SESSION_SECRET: is empty or blank; the app refuses to start without it"]
    if value != value.strip():
        return ["SESSION_SECRET: starts or ends with blanks, which the app trims away; remove them"]
    if len(value) < min_length:
        return [
            f"SESSION_SECRET: shorter than {min_length} characters; generate a longer one "
            f"(for example: openssl rand -hex {min_length})"
        ]
    return []


def _host_is_valid(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        pass
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    return all(_HOST_LABEL.match(label) for label in labels)


def _origin_problem(entry: str, https_required: bool, allow_http_hosts: t.Collection[str]) -> str | None:
    try:
        parts = urlsplit(entry)
        port = parts.port
    except ValueError:
        return "is not a valid URL (invalid port or brackets)"
    if parts.scheme not in ("http", "https") or not entry.startswith(f"{parts.scheme}://"):
        return "must start with https:// or http://"
    if parts.username is not None or parts.password is not None:
        return "must not carry user@ credentials"
    if not parts.hostname or not _host_is_valid(parts.hostname):
        return "has no valid host name"
    if port == 0:
        return "has port 0; a port is between 1 and 65535"
    if parts.path == "/":
        return "ends with a slash; an origin is scheme://host[:port] with nothing after"
    if parts.path:
        return "has a path; an origin is scheme://host[:port] with nothing after"
    if parts.query or "?" in entry:
        return "has a query string; an origin is scheme://host[:port] with nothing after"
    if parts.fragment or "#" in entry:
        return "has a fragment; an origin is scheme://host[:port] with nothing after"
    allowed_hosts = {host.strip("[]").lower() for host in allow_http_hosts}
    if https_required and parts.scheme == "http" and parts.hostname not in allowed_hosts:
        allowed = ", ".join(allow_http_hosts) or "none"
        return f"uses http:// in production; use https:// (plain http is allowed only for: {allowed})"
    return None


def check_origins(
    name: str,
    value: str,
    https_required: bool = True,
    allow_http_hosts: t.Collection[str] = LOOPBACK_HOSTS,
) -> list[str]:
    """A comma-separated list of absolute origins, as APP_ORIGIN and ADMIN_ORIGINS take them."""
    entries = value.split(",")
    if not value.strip():
        return [f"{name}: is empty; give at least one origin such as https://example.org"]
    problems = []
    for index, entry in enumerate(entries, start=1):
        entry = entry.strip()
        where = f"{name}: entry {index} of {len(entries)}"
        if not entry:
            problems.append(f"{where} is empty (a stray comma?)")
            continue
        problem = _origin_problem(entry, https_required, allow_http_hosts)
        if problem:
            problems.append(f"{where} {problem}")
    return problems


def check_session_table(value: str) -> list[str]:
    if not value:
        return ["SESSION_TABLE: is empty; leave it out to use the default user_sessions"]
    if not _SESSION_TABLE.match(value):
        return [
            "SESSION_TABLE: must be a table name (letters, digits, _ and $, not starting with a digit, "
            "at most 63 characters), without a schema: the app's session store quotes the whole name as one "
            "table (schema.table would be a table named so); the table is looked for in the schema DATABASE_URL "
            "names (?schema=, public by default)"
        ]
    return []


def check_maintenance_mode(value: str) -> list[str]:
    if value.lower() not in TRUE_WORDS | FALSE_WORDS:
        return [
            "MAINTENANCE_MODE: must be one of 1, true, yes, on, 0, false, no, off; the app reads anything "
            "else as false, which would silently leave writes open"
        ]
    return []


def check_port(value: str) -> list[str]:
    if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 65535:
        return ["PORT: must be an integer between 1 and 65535"]
    return []


def check_data_source(name: str, value: str) -> list[str]:
    """Refuse anything that asks for the JSON files or a dual write: the runbook forbids both."""
    upper = name.upper()
    why = (
        "this app is DB-only and the runbook forbids dual-write with JSON and a rollback to JSON; "
        f"remove {name}"
    )
    if (upper in _DATA_SOURCE_NAMES or upper.endswith(_DATA_SOURCE_SUFFIXES)) and _NON_DB_SOURCE.search(value):
        return [f"{name}: asks for a JSON, file or dual-write data source; {why}"]
    if any(marker in upper for marker in _JSON_SWITCH_MARKERS) and value.strip().lower() in TRUE_WORDS:
        return [f"{name}: turns on a JSON write or fallback; {why}"]
    return []


def _https_required(node_env: str | None) -> bool:
    # Unset, the unit's NODE_ENV=production applies; an explicit non-production value reaches the app (the env
    # file overrides the unit) and relaxes the app's own rule.
    return node_env not in ("staging", "development", "test")


def validate_environment(
    values: t.Mapping[str, str],
    min_secret_length: int = DEFAULT_MIN_SECRET_LENGTH,
    allow_http_hosts: t.Collection[str] = LOOPBACK_HOSTS,
    complete: bool = True,
) -> tuple[list[str], list[str]]:
    """Problems and warnings of an environment.

    ``complete`` is false for a partial set (a merge validated away from the file it merges into):
    the required names are then not demanded.
    """
    problems: list[str] = []
    warnings: list[str] = []
    if complete:
        for name in REQUIRED_NAMES:
            if name not in values:
                problems.append(f"{name}: is required (APP_CONTRACT.md, Environment) and is not set")
        if "SESSION_SECRET" not in values and "SESSION_SECRETS" in values:
            problems.append("SESSION_SECRET: SESSION_SECRETS is set but does not replace SESSION_SECRET; set both")

    node_env = values.get("NODE_ENV")
    https_required = _https_required(node_env)
    if node_env is not None:
        problems += check_node_env(node_env)
        if node_env in NODE_ENVS and node_env != "production":
            warnings.append(
                f"NODE_ENV is {node_env!r}, not 'production' (the runbook's value): the app runs with it, since "
                "the env file overrides the unit's NODE_ENV=production (unlike 'npm run start'), so its production "
                "checks are off; the scripts run with 'node --env-file=.env' see it too"
            )

    per_name: dict[str, t.Callable[[str], list[str]]] = {
        "DATABASE_URL": check_database_url,
        "SESSION_SECRET": lambda value: check_session_secret(value, min_secret_length),
        "APP_ORIGIN": lambda value: check_origins("APP_ORIGIN", value, https_required, allow_http_hosts),
        "ADMIN_ORIGINS": lambda value: check_origins("ADMIN_ORIGINS", value, https_required, allow_http_hosts),
        "SESSION_TABLE": check_session_table,
        "MAINTENANCE_MODE": check_maintenance_mode,
        "PORT": check_port,
    }
    for name, value in values.items():
        if name in per_name:
            problems += per_name[name](value)
        problems += check_data_source(name, value)
    return problems, warnings
