# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every module test runs the module as on a host, whatever the other tests imported."""

from __future__ import annotations

import pytest
from ansible.module_utils import _internal


@pytest.fixture(autouse=True)
def module_side(monkeypatch):
    # Importing any controller code (a filter plugin's test does) switches module_utils to the controller's
    # behaviour, where warn() prints instead of returning the warning with the module's result.
    monkeypatch.setattr(_internal, "is_controller", False)
