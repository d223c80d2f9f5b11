"""Every role documents its public variables in meta/argument_specs.yml, and the spec agrees with defaults/main.yml.

For each role under roles/ (discovered, so a new role is covered as soon as it exists):
  (a) meta/argument_specs.yml exists and has a `main` entry point, and every entry point that a
      playbook or role calls with `tasks_from` is documented;
  (b) the keys of defaults/main.yml are exactly the options documented over all entry points
      (an option with `required: true` needs no default);
  (c) each option has a type and a description, and its `default` is the defaults file's value when
      that value is a literal (and is absent when the value is templated);
  (d) every public variable is named `<role>_...`. A role may also require (`required: true`) a public
      variable of a role it depends on, as the release role requires app_version.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
ROLES_DIR = COLLECTION_ROOT / "roles"
COLLECTION_PREFIX = "nekomorto.ops."

# Roles still being written: their specs are checked, but a failure does not fail the suite yet.
# Remove a role from this list once its meta/argument_specs.yml is in place.
PENDING_ROLES: frozenset[str] = frozenset()

JINJA = re.compile(r"{{|{%")


class _Loader(yaml.SafeLoader):
    """A safe loader that reads Ansible files: unknown tags (!vault, !unsafe) load as plain values."""


def _construct_tagged(loader: _Loader, tag_suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_Loader.add_multi_constructor("!", _construct_tagged)


def _load(path: Path) -> Any:
    with path.open(encoding="utf-8") as stream:
        return yaml.load(stream, Loader=_Loader)


def _role_names() -> list[str]:
    return sorted(p.name for p in ROLES_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def _role_params() -> list[Any]:
    return [
        pytest.param(role, marks=pytest.mark.xfail(strict=False, reason="argument_specs pending"))
        if role in PENDING_ROLES
        else role
        for role in _role_names()
    ]


def _defaults(role: str) -> dict[str, Any]:
    path = ROLES_DIR / role / "defaults" / "main.yml"
    if not path.is_file():
        return {}
    data = _load(path)
    assert data is None or isinstance(data, dict), f"{role}: defaults/main.yml is not a mapping"
    return data or {}


def _entry_points(role: str) -> dict[str, dict[str, Any]]:
    path = ROLES_DIR / role / "meta" / "argument_specs.yml"
    assert path.is_file(), f"{role}: roles/{role}/meta/argument_specs.yml is missing"
    data = _load(path)
    assert isinstance(data, dict) and isinstance(data.get("argument_specs"), dict), (
        f"{role}: meta/argument_specs.yml has no `argument_specs` mapping"
    )
    return {name: spec or {} for name, spec in data["argument_specs"].items()}


def _options(entry_point: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: option or {} for name, option in (entry_point.get("options") or {}).items()}


def _dependencies(role: str) -> list[str]:
    """Names of the roles of this collection that `role` depends on (meta/main.yml)."""
    path = ROLES_DIR / role / "meta" / "main.yml"
    if not path.is_file():
        return []
    names = []
    for dependency in (_load(path) or {}).get("dependencies") or []:
        name = dependency.get("role", dependency.get("name")) if isinstance(dependency, dict) else dependency
        if isinstance(name, str):
            names.append(name.removeprefix(COLLECTION_PREFIX))
    return names


def _dependency_variables(role: str) -> set[str]:
    return {key for dependency in _dependencies(role) for key in _defaults(dependency)}


def _is_required_foreign(role: str, name: str, option: dict[str, Any]) -> bool:
    """A required option that is a public variable of a role `role` depends on (release requires app_version)."""
    return bool(option.get("required")) and name in _dependency_variables(role)


def _is_templated(value: Any) -> bool:
    if isinstance(value, str):
        return bool(JINJA.search(value))
    if isinstance(value, dict):
        return any(_is_templated(k) or _is_templated(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_is_templated(item) for item in value)
    return False


def _walk_yaml(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk_yaml(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk_yaml(item)


@functools.cache
def _called_entry_points() -> dict[str, set[tuple[str, str]]]:
    """{role: {(entry point, file that calls it)}} for every `tasks_from` in playbooks/, roles/ and molecule/."""
    calls: dict[str, set[tuple[str, str]]] = {}
    for folder in ("playbooks", "roles", "molecule"):
        for path in sorted((COLLECTION_ROOT / folder).rglob("*.y*ml")):
            if path.suffix not in (".yml", ".yaml"):
                continue
            try:
                documents = list(yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader))
            except yaml.YAMLError:
                continue
            for node in _walk_yaml(documents):
                for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                    args = node.get(key)
                    if not isinstance(args, dict):
                        continue
                    name, tasks_from = args.get("name"), args.get("tasks_from")
                    if not isinstance(name, str) or not isinstance(tasks_from, str) or _is_templated(name + tasks_from):
                        continue
                    if name.startswith(COLLECTION_PREFIX) or "." not in name:
                        entry_point = re.sub(r"\.ya?ml$", "", tasks_from)
                        relative = str(path.relative_to(COLLECTION_ROOT))
                        calls.setdefault(name.removeprefix(COLLECTION_PREFIX), set()).add((entry_point, relative))
    return calls


def test_roles_are_discovered() -> None:
    assert _role_names(), f"no role found under {ROLES_DIR}"


def test_pending_roles_exist() -> None:
    stale = sorted(PENDING_ROLES - set(_role_names()))
    assert not stale, f"PENDING_ROLES names roles that do not exist: {stale}"


@pytest.mark.parametrize("role", _role_params())
def test_entry_points(role: str) -> None:
    """(a) A `main` entry point, one per called `tasks_from`, and each one backed by a tasks file."""
    entry_points = _entry_points(role)
    assert "main" in entry_points, f"{role}: meta/argument_specs.yml has no `main` entry point"

    called = _called_entry_points().get(role, set())
    undocumented = sorted(f"{entry_point} (tasks_from in {caller})" for entry_point, caller in called
                          if entry_point not in entry_points)
    assert not undocumented, f"{role}: entry points called but not in meta/argument_specs.yml: {undocumented}"

    tasks_dir = ROLES_DIR / role / "tasks"
    without_tasks = sorted(
        name for name in entry_points
        if not (name == "main" and not tasks_dir.is_dir())
        and not any((tasks_dir / f"{name}{suffix}").is_file() for suffix in (".yml", ".yaml"))
    )
    assert not without_tasks, f"{role}: entry points without a tasks/<name>.yml: {without_tasks}"


@pytest.mark.parametrize("role", _role_params())
def test_options_match_defaults(role: str) -> None:
    """(b) defaults/main.yml and the spec's options name the same variables."""
    defaults = _defaults(role)
    documented: set[str] = set()
    required: set[str] = set()
    for entry_point in _entry_points(role).values():
        for name, option in _options(entry_point).items():
            (required if option.get("required") else documented).add(name)

    undocumented = sorted(set(defaults) - documented - required)
    assert not undocumented, f"{role}: variables of defaults/main.yml not documented in meta/argument_specs.yml: {undocumented}"
    missing = sorted(documented - set(defaults))
    assert not missing, (
        f"{role}: options of meta/argument_specs.yml missing from defaults/main.yml "
        f"(give them a default, or mark them required: true): {missing}"
    )


@pytest.mark.parametrize("role", _role_params())
def test_option_documentation_and_defaults(role: str) -> None:
    """(c) Each option has a type and a description; its default is the defaults file's literal value."""
    defaults = _defaults(role)
    problems = []
    for entry_name, entry_point in _entry_points(role).items():
        for name, option in _options(entry_point).items():
            where = f"{role}: {entry_name}: {name}"
            if not option.get("type"):
                problems.append(f"{where} has no type")
            if not option.get("description"):
                problems.append(f"{where} has no description")
            if name not in defaults:
                if "default" in option:
                    problems.append(f"{where} documents a default but defaults/main.yml has none")
                continue
            value = defaults[name]
            if _is_templated(value):
                if "default" in option:
                    problems.append(f"{where}: defaults/main.yml templates it ({value!r}); state it in the description, not as default")
            elif "default" not in option:
                problems.append(f"{where} has no default; defaults/main.yml has {value!r}")
            elif option["default"] != value or type(option["default"]) is not type(value):
                problems.append(f"{where}: default {option['default']!r} differs from defaults/main.yml {value!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("role", _role_params())
def test_public_names_are_prefixed(role: str) -> None:
    """(d) Public variables start with `<role>_`."""
    prefix = f"{role}_"
    names = {name: "defaults/main.yml" for name in _defaults(role)}
    for entry_name, entry_point in _entry_points(role).items():
        for name, option in _options(entry_point).items():
            if not _is_required_foreign(role, name, option):
                names.setdefault(name, f"meta/argument_specs.yml ({entry_name})")
    wrong = sorted(f"{name} (in {where})" for name, where in names.items() if not name.startswith(prefix))
    assert not wrong, f"{role}: public variables not named {prefix}*: {wrong}"
