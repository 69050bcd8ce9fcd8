"""Synthetic AWS credentials, made at test time so that the repository holds no realistic keys.

Key IDs have the real layout: a 4-character prefix and 16 base32 characters whose first 48 bits
carry a generation flag and, for new-generation IDs, the account ID (see shared aws-facts §3).
"""

from __future__ import annotations

import base64
import random
import string

_SECRET_ALPHABET = string.ascii_letters + string.digits + "/+"
_TOKEN_ALPHABET = _SECRET_ALPHABET


def fake_key_id(
    prefix: str = "AKIA", *, account: int | None = None, rng: random.Random | None = None
) -> str:
    """A key ID; with ``account`` it is new-generation and decodes to that account."""
    rng = rng or random.Random()
    # Old generation (no account): the first bit of the body is 0, and nothing can be decoded.
    z = rng.getrandbits(47) if account is None else (1 << 47) | (account << 7) | rng.getrandbits(7)
    body = z.to_bytes(6, "big") + rng.getrandbits(32).to_bytes(4, "big")
    return prefix + base64.b32encode(body).decode()


def fake_secret(rng: random.Random | None = None) -> str:
    rng = rng or random.Random()
    while True:
        value = "".join(rng.choice(_SECRET_ALPHABET) for _ in range(40))
        if any(c.isupper() for c in value) and any(c.islower() for c in value):
            return value


def fake_token(rng: random.Random | None = None, length: int = 600, prefix: str = "IQoJb3JpZ2luX2Vj") -> str:
    rng = rng or random.Random()
    body = "".join(rng.choice(_TOKEN_ALPHABET) for _ in range(length - len(prefix)))
    return prefix + body


def fake_account(rng: random.Random | None = None) -> int:
    rng = rng or random.Random()
    return rng.randrange(10**11, 10**12)
