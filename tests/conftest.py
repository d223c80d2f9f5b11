# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Let a plain ``pytest tests/...`` import the collection as ``ansible_collections.nekomorto.ops``.

From a checkout, the tracked ``collections/ansible_collections/nekomorto/ops`` link points back at
the repository; in a tree laid out as ``ansible_collections/nekomorto/ops`` (ansible-test), the
collections root is three levels up.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parent.parent
if _REPOSITORY.parent.parent.name == "ansible_collections":
    _COLLECTIONS_ROOT = _REPOSITORY.parent.parent.parent
else:
    _COLLECTIONS_ROOT = _REPOSITORY / "collections"
if str(_COLLECTIONS_ROOT) not in sys.path:
    sys.path.insert(0, str(_COLLECTIONS_ROOT))
