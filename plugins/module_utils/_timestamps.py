# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""UTC timestamps as the lock and the journal write them: 2026-11-29T03:10:00Z."""

from __future__ import annotations

import datetime


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def format_utc(moment: datetime.datetime) -> str:
    """ISO 8601 in UTC, to the second, with a Z."""
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_utc_precise(moment: datetime.datetime) -> str:
    """ISO 8601 in UTC, to the microsecond, with a Z (journal entries written in the same second stay ordered)."""
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime.datetime:
    """A timestamp written by :func:`format_utc` (or any ISO 8601 with an offset); ValueError otherwise."""
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return moment.astimezone(datetime.timezone.utc)
