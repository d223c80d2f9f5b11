# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """O(owner) and O(group) of a file the module writes (argument spec: C(_files.file_owner_argument_spec))."""

    DOCUMENTATION = r"""
options:
  owner:
    description:
      - User (name or uid) that owns the file.
      - When unset, an existing file keeps its owner and a new one belongs to the user the module runs as.
      - A user that does not exist fails the task; in check mode it only warns, since an earlier task
        skipped by check mode may be the one that creates it.
    type: str
  group:
    description:
      - Group (name or gid) of the file, with the same rules as O(owner).
    type: str
"""
