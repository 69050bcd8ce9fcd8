from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from keyscan import aws, rules
from keyscan.model import KeyClass
from tests.fakes import fake_key_id


@given(account=st.integers(min_value=0, max_value=10**12 - 1), seed=st.integers(0, 1000),
       prefix=st.sampled_from(["AKIA", "ASIA", "ABIA", "ACCA"]))
def test_account_round_trips_through_new_generation_key_ids(account: int, seed: int, prefix: str) -> None:
    key = fake_key_id(prefix, account=account, rng=random.Random(seed))
    assert key[4] in "QRSTUVWXYZ234567"
    assert aws.decode_account(key) == f"{account:012d}"


@given(seed=st.integers(0, 1000))
def test_old_generation_key_ids_carry_no_account(seed: int) -> None:
    key = fake_key_id("AKIA", rng=random.Random(seed))
    assert key[4] in "ABCDEFGHIJKLMNOP"
    assert aws.decode_account(key) is None


def test_decoding_matches_the_published_algorithm_by_hand() -> None:
    # Body bytes 0x80 0x00 0x00 0x00 0x00 0x80 ...: generation bit set, account bits = 1.
    import base64

    body = bytes([0x80, 0, 0, 0, 0, 0x80, 0, 0, 0, 0])
    key = "AKIA" + base64.b32encode(body).decode()
    assert aws.decode_account(key) == "000000000001"


def test_not_decoded_for_other_shapes() -> None:
    assert aws.decode_account("AKIA") is None
    assert aws.decode_account("AIDAQQQQQQQQQQQQQQQQ") is None


def test_prefix_classes_come_from_data() -> None:
    prefixes = rules.load().prefixes
    assert aws.key_class("AKIAQQQQQQQQQQQQQQQQ", prefixes) is KeyClass.LONG_TERM
    assert aws.key_class("ASIAQQQQQQQQQQQQQQQQ", prefixes) is KeyClass.SHORT_TERM
    assert aws.key_class("ACCAQQQQQQQQQQQQQQQQ", prefixes) is KeyClass.UNKNOWN


def test_canary_accounts_are_data() -> None:
    accounts = aws.canary_accounts()
    assert "992382622183" in accounts and all(len(a) == 12 and a.isdigit() for a in accounts)
