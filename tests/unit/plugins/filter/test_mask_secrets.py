# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The mask_secrets filter: the app's secrets masked in what its scripts print."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.nekomorto.ops.plugins.filter.mask_secrets import FilterModule, mask_secrets

MASK = "********"
APP_ENV = {
    "NODE_ENV": "production",
    "DATABASE_URL": "postgresql://app:p%40ss-w0rd-9@db.internal:5432/nekomorto",
    "SESSION_SECRET": "s" * 40,
    "APP_ORIGIN": "https://nekomata.moe",
    "GOOGLE_CLIENT_ID": "public-client-id.apps",
    "SMTP_PASS": "mail-password",
    "REDIS_URL": "redis://:cache-pw-77@cache:6379",
    "UPLOAD_SIGNER": "signer-value-xyz",
    "PORT": 3000,
    "TRUST_PROXY": True,
}


def test_filter_is_registered():
    assert FilterModule().filters()["mask_secrets"] is mask_secrets


def test_every_kind_of_secret_is_masked_and_public_values_stay():
    text = (
        "connecting to postgresql://app:p%40ss-w0rd-9@db.internal:5432/nekomorto\n"
        "password p@ss-w0rd-9 (decoded), session ssssssssssssssssssssssssssssssssssssssss\n"
        "smtp mail-password, redis cache-pw-77, client public-client-id.apps, origin https://nekomata.moe"
    )
    masked = mask_secrets(text, APP_ENV)
    for secret in ("p%40ss-w0rd-9", "p@ss-w0rd-9", "s" * 40, "mail-password", "cache-pw-77"):
        assert secret not in masked, secret
    assert "public-client-id.apps" in masked and "https://nekomata.moe" in masked
    assert masked.count(MASK) == 5


def test_operator_declared_names_are_masked_too():
    line = "signed with signer-value-xyz"
    assert mask_secrets(line, APP_ENV) == line
    assert mask_secrets(line, APP_ENV, ["UPLOAD_SIGNER"]) == f"signed with {MASK}"


def test_lists_and_nested_structures_are_masked():
    lines = ["ok", "url=redis://:cache-pw-77@cache:6379", {"mail-password": ["smtp mail-password"]}]
    assert mask_secrets(lines, APP_ENV) == ["ok", f"url={MASK}", {MASK: [f"smtp {MASK}"]}]


def test_short_values_follow_min_length():
    app_env = {"DATABASE_URL": "postgresql://app:pw42@db/app", "API_TOKEN": "abcde"}
    assert mask_secrets("pw42 abcde", app_env) == "pw42 abcde"
    assert mask_secrets("pw42 abcde", app_env, min_length=4) == f"{MASK} {MASK}"


def test_non_string_values_are_read_as_the_env_file_holds_them():
    app_env = {"API_KEY": 123456789, "EMPTY_TOKEN": None, "FLAG_SECRET": False}
    assert mask_secrets("key 123456789", app_env) == f"key {MASK}"
    assert mask_secrets("", app_env) == ""


@pytest.mark.parametrize(
    ("app_env", "secret_names", "message"),
    [
        (["DATABASE_URL"], [], "app_env must be a dict"),
        ({}, "UPLOAD_SIGNER", "secret_names must be a list"),
        ({}, 5, "secret_names must be a list"),
    ],
)
def test_bad_arguments_are_named(app_env, secret_names, message):
    with pytest.raises(AnsibleFilterError, match=message):
        mask_secrets("text", app_env, secret_names)
