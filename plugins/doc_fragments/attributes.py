# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Shared C(attributes:) blocks for the collection's modules."""

    DOCUMENTATION = r"""
options: {}
"""

    # A probe that reads and never writes: check mode runs it for real.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: The module only reads, so check mode runs the same probe as a normal run.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  idempotent:
    description: The module never changes anything, so every run reports C(changed=false).
    support: full
"""

    # A module that changes state and predicts the change in check mode.
    WRITES = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the module computes the change and reports it without making it.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
  idempotent:
    description: Running the module twice with the same arguments reports C(changed=false) the second time.
    support: full
"""

    # A module that appends a record on every run (a journal): never idempotent by design.
    APPENDS = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the module reports the record it would append, and C(changed=true), without writing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff shows the appended line.
  idempotent:
    description: Running the module twice with the same arguments reports C(changed=false) the second time.
    support: none
    details: Every run with an entry appends one more record; a run without one only reads.
"""
