"""Offline facts about AWS key IDs: which class a prefix is, and the account a key ID encodes.

The account decoding follows Tal Beery's published algorithm (see shared aws-facts §3): the 16
characters after the prefix are base32; bits 1-40 of that body are the account number. Only
new-generation key IDs carry it: those whose fifth character is Q-Z or 2-7.
"""

from __future__ import annotations

import base64
from functools import lru_cache

from keyscan import rules
from keyscan.model import KeyClass

_NEW_GENERATION = frozenset("QRSTUVWXYZ234567")


_DECODABLE = ("AKIA", "ASIA", "ABIA", "ACCA")


def decode_account(key_id: str) -> str | None:
    """The 12-digit account ID a key ID carries, or None when its layout carries none."""
    if len(key_id) != 20 or not key_id.startswith(_DECODABLE) or key_id[4] not in _NEW_GENERATION:
        return None
    try:
        body = base64.b32decode(key_id[4:])
    except ValueError:
        return None
    z = int.from_bytes(body[:6], "big")
    return f"{(z & 0x7FFFFFFFFF80) >> 7:012d}"


def key_class(key_id: str, prefixes: dict[str, dict[str, str]]) -> KeyClass:
    for prefix, facts in prefixes.items():
        if key_id.startswith(prefix):
            return KeyClass(facts["class"])
    return KeyClass.UNKNOWN


@lru_cache(maxsize=1)
def canary_accounts() -> frozenset[str]:
    """The built-in list of canary-token accounts (patterns/aws-facts.toml)."""
    return rules.load().canary_accounts
