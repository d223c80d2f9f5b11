# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""One app host of the edge's nginx upstream, kept in a file of its own.

The upstream block includes every file of a members folder, one per app host, so that one host can be
taken out of rotation (or moved to another port) by rewriting its file alone. The file carries its own
state in two comment lines, which nginx ignores and the collection reads back:

    # Managed by nekomorto.ops: one app host of the edge's upstream.
    # member: app1.example.org
    # rotation: out (deploy)
    server 10.0.0.11:8080 max_fails=2 fail_timeout=10s down;
"""

from __future__ import annotations

import ipaddress
import re
import typing as t
from dataclasses import dataclass, field

HEADER = "# Managed by nekomorto.ops: one app host of the edge's upstream."
ROTATIONS = ("in", "out")
# A name nginx and a file system both take without quoting: inventory host names and IP addresses.
_NAME = re.compile(r"^[A-Za-z0-9_.:\[\]-]+$")
# A new reason is read back from "# rotation: out (<reason>)": no parenthesis nor line break. Checked when
# one is given, not when a file is read: files written before keep reading as they did.
_REASON = re.compile(r"^[^()\r\n]{0,64}$")
_MEMBER_LINE = re.compile(r"^#\s*member:\s*(?P<name>\S+)\s*$", re.MULTILINE)
_ROTATION_LINE = re.compile(r"^#\s*rotation:\s*(?P<rotation>in|out)(?:\s*\((?P<reason>[^)]*)\))?\s*$", re.MULTILINE)
_SERVER_LINE = re.compile(
    r"^server\s+(?:\[(?P<ipv6>[^\]]+)\]|(?P<host>[^\s:]+)):(?P<port>\d+)(?P<parameters>(?:\s+[^\s;]+)*)\s*;\s*$",
    re.MULTILINE,
)


def _is_ipv6(address: str) -> bool:
    try:
        ipaddress.IPv6Address(address.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


class MemberError(ValueError):
    """A member file or setting the collection cannot use, with a sentence for the operator."""


@dataclass(frozen=True)
class Member:
    """One app host of the upstream: where it answers and whether the edge sends it requests."""

    name: str
    address: str
    port: int
    rotation: str = "in"
    reason: str = ""
    parameters: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise MemberError(f"member name {self.name!r} must be a host name or an address without spaces")
        if not self.address or not _NAME.match(self.address):
            raise MemberError(f"address {self.address!r} of member {self.name} must be a host name or an IP address")
        if ":" in self.address and not _is_ipv6(self.address):
            raise MemberError(f"address {self.address!r} of member {self.name} must be a host name or an IP address, "
                              "without a port (the port is a setting of its own)")
        if not 1 <= self.port <= 65535:
            raise MemberError(f"port {self.port} of member {self.name} must be within 1-65535")
        if self.rotation not in ROTATIONS:
            raise MemberError(f"rotation {self.rotation!r} of member {self.name} must be one of {', '.join(ROTATIONS)}")
        for key, value in self.parameters.items():
            if not re.fullmatch(r"[a-z_]+", key) or not re.fullmatch(r"[A-Za-z0-9.]+", str(value)):
                raise MemberError(f"server parameter {key}={value} of member {self.name} is not a plain nginx parameter")
            if key in ("down", "backup"):
                raise MemberError(f"server parameter {key} is managed by the rotation, not by the parameters")

    @property
    def endpoint(self) -> str:
        """address:port as nginx reads it (IPv6 addresses in brackets)."""
        address = self.address.strip("[]")
        return f"[{address}]:{self.port}" if ":" in address else f"{address}:{self.port}"

    @property
    def in_rotation(self) -> bool:
        return self.rotation == "in"

    def describe(self) -> str:
        state = "in rotation" if self.in_rotation else f"out of rotation ({self.reason or 'no reason given'})"
        return f"{self.name} at {self.endpoint}, {state}"

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "name": self.name,
            "address": self.address,
            "port": self.port,
            "rotation": self.rotation,
            "reason": self.reason,
            "parameters": dict(self.parameters),
            "endpoint": self.endpoint,
        }


def render(member: Member) -> str:
    """The member file's text."""
    parameters = "".join(f" {key}={value}" for key, value in sorted(member.parameters.items()))
    rotation = "in" if member.in_rotation else f"out ({member.reason or 'operator'})"
    down = "" if member.in_rotation else " down"
    return f"{HEADER}\n# member: {member.name}\n# rotation: {rotation}\nserver {member.endpoint}{parameters}{down};\n"


def parse(text: str, fallback_name: str = "") -> Member:
    """A member file's content back into a Member (MemberError when it is not one the collection wrote)."""
    server = _SERVER_LINE.search(text)
    if server is None:
        raise MemberError("no 'server address:port ...;' line")
    name_line = _MEMBER_LINE.search(text)
    name = name_line.group("name") if name_line else fallback_name
    words = server.group("parameters").split()
    down = "down" in words
    parameters = dict(word.split("=", 1) for word in words if "=" in word)
    rotation_line = _ROTATION_LINE.search(text)
    if rotation_line is not None:
        rotation = rotation_line.group("rotation")
        reason = (rotation_line.group("reason") or "").strip() if rotation == "out" else ""
    else:
        rotation, reason = ("out", "operator") if down else ("in", "")
    if (rotation == "out") != down:
        # The server line is what nginx obeys: it wins over a comment edited by hand.
        rotation, reason = ("out", reason or "operator") if down else ("in", "")
    return Member(
        name=name,
        address=server.group("ipv6") or server.group("host"),
        port=int(server.group("port")),
        rotation=rotation,
        reason=reason,
        parameters=parameters,
    )


def desired(current: Member | None, *, name: str, address: str | None, port: int | None, keep_port: bool,
            rotation: str, reason: str, unless_out_for: t.Iterable[str],
            parameters: dict[str, t.Any] | None) -> tuple[Member, bool]:
    """The member to write and whether a requested return to rotation was refused by ``unless_out_for``.

    ``rotation`` is V(in), V(out) or V(keep). A new member kept as it is starts out of rotation (reason V(new)):
    nothing has proved yet that it serves.
    """
    if current is None and (address is None or port is None):
        raise MemberError(f"member {name} does not exist yet: its address and port are both needed")
    if reason and not _REASON.match(reason):
        raise MemberError(f"reason {reason!r} for member {name} must be at most 64 characters, without a parenthesis "
                          "or a line break (it is read back from the member file)")
    base = current or Member(name=name, address=address or "", port=port or 0, rotation="out", reason="new")
    new_port = base.port if (keep_port and current is not None) or port is None else port
    new_rotation, new_reason, held = base.rotation, base.reason, False
    if rotation == "in":
        if base.rotation == "out" and base.reason in set(unless_out_for):
            held = True
        else:
            new_rotation, new_reason = "in", ""
    elif rotation == "out":
        # An operator's decision outlives a deploy's: a deploy that takes out a member the operator took
        # out leaves the reason as it is, so the deploy's return to rotation is held back.
        if base.rotation == "in" or base.reason != "operator" or (reason or "operator") == "operator":
            new_rotation, new_reason = "out", reason or "operator"
    member = Member(
        name=name,
        address=address or base.address,
        port=new_port,
        rotation=new_rotation,
        reason=new_reason,
        parameters={key: str(value) for key, value in (parameters if parameters is not None else base.parameters).items()},
    )
    return member, held
