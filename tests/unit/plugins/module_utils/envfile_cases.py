# Copyright (c) nekomorto.ops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Values that env-file parsers tend to read differently; every reader must read them back as given.

Shared by the unit round trip (node --env-file, dotenv 16 and 17) and the integration round trip
(systemd's EnvironmentFile= inside the systemd test host).
"""

from __future__ import annotations

TRICKY_VALUES: dict[str, str] = {
    "PLAIN": "abc",
    "EMPTY": "",
    "GOOGLE_CLIENT_ID": "",
    "HASH": "a#b",
    "HASH_AFTER_SPACE": "value #not a comment",
    "HASH_FIRST": "#not-a-comment",
    "SPACES_AROUND": "  lead and trail  ",
    "ONLY_SPACES": "   ",
    "INNER_SPACES": "a b  c",
    "DOLLAR": "$HOME ${PATH} $(id) $$",
    "BACKTICKS": "`id` and `x`",
    "BACKTICK_WRAPPED": "`wrapped`",
    "DOUBLE_QUOTES": 'say "hi"',
    "DOUBLE_WRAPPED": '"wrapped"',
    "SINGLE_QUOTE": "it's",
    "SINGLE_WRAPPED": "'wrapped'",
    "SINGLE_QUOTE_HASH_SPACES": " it's #1 for $HOME ",
    "BOTH_QUOTES": "it's a \"test\" run",
    "BACKSLASH": "C:\\path\\to\\file",
    "BACKSLASH_END": "trailing\\",
    "BACKSLASH_N": "not\\na newline",
    "BACKSLASH_QUOTE": 'a\\"b',
    "EQUALS": "a=b==c=",
    "LEADING_EQUALS": "==x",
    "SEMICOLON": ";not a comment",
    "UNICODE": "ação ✓ 日本語 🙂",
    "NBSP_AROUND": "\u00a0x\u00a0",
    "BOM_AROUND": "\ufeffx\ufeff",
    "TAB": "a\tb",
    "TAB_AROUND": "\tx\t",
    "ESCAPE_SEQUENCE": "\x1b[0m",
    "JSON_TEXT": '{"a": [1, 2], "b": null}',
    "GLOB": "*.js ? [a-z]",
    "SHELL_CHARS": "a&b|c<d>e(f);g!h~i^j",
    "URL": "postgresql://nekomorto_app:p%40ss:w0rd@db.internal:5432/nekomorto?sslmode=require&x=1",
    "ORIGINS": "https://nekomata.moe,https://www.nekomata.moe",
    "PERCENT": "100%",
    "COLON": "key: value",
    "EXPORT_LIKE": "export X=1",
}

# Values no spelling keeps identical for systemd, dotenv and node: the module refuses them.
UNREPRESENTABLE_VALUES: dict[str, str] = {
    "NEWLINE": "a\nb",
    "CARRIAGE_RETURN": "a\rb",
    "NUL": "a\0b",
    "SINGLE_QUOTE_AND_BACKSLASH": "it's C:\\x",
    "BOTH_QUOTES_AND_HASH": "it's \"#1\"",
    "BOTH_QUOTES_LEADING_QUOTE": "'a\" b",
    "BOTH_QUOTES_AROUND_SPACE": " it's \"x\"",
}
