"""A credential anywhere around a chunk boundary is found exactly once, at the right place."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from keyscan.engine import Engine
from keyscan.model import FindingKind
from tests.fakes import fake_key_id, fake_secret

ENGINE = Engine.load()
RNG = random.Random(21)
KEY, SECRET = fake_key_id("AKIA", rng=RNG), fake_secret(RNG)
FILLER_LINE = "log line: nothing to see here, ünïcödé text ✓ and more\n"


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@settings(max_examples=60, deadline=None)
@given(
    before=st.integers(min_value=0, max_value=4000),
    pad=st.integers(min_value=0, max_value=60),
    chunk_size=st.sampled_from([1, 7, 64, 4096, 65_536, 70_000, 131_072]),
    credential_pair=st.booleans(),
)
def test_boundary_credential_found_once_with_right_position(
    before: int, pad: int, chunk_size: int, credential_pair: bool
) -> None:
    head = FILLER_LINE * before + "x" * pad
    body = f"aws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\n" if credential_pair else f"id={KEY};"
    data = (head + body + FILLER_LINE * 3000).encode()
    expected_column = pad + (len("aws_access_key_id = ") if credential_pair else len("id=")) + 1
    findings = ENGINE.scan_chunks(chunked(data, chunk_size), path="big.log")
    assert [(f.kind, f.line, f.column, f.key_id) for f in findings] == [
        (FindingKind.CREDENTIAL if credential_pair else FindingKind.KEY_ID, before + 1, expected_column, KEY)
    ]
    assert findings == ENGINE.scan_bytes(data, path="big.log")


@settings(max_examples=25, deadline=None)
@given(offset=st.integers(min_value=0, max_value=300_000), chunk_size=st.sampled_from([65_536, 100_000, 262_144]))
def test_any_offset_in_a_long_single_line(offset: int, chunk_size: int) -> None:
    data = ("a" * offset + f" {KEY} " + "b" * 200_000).encode()
    findings = ENGINE.scan_chunks(chunked(data, chunk_size), path="min.js")
    assert [(f.line, f.column) for f in findings] == [(1, offset + 2)]


def test_many_credentials_across_many_chunks_each_once() -> None:
    rng = random.Random(22)
    keys = [fake_key_id("AKIA", rng=rng) for _ in range(200)]
    lines = []
    for k in keys:
        lines += [FILLER_LINE] * rng.randrange(0, 400) + [f"k={k}\n"]
    data = "".join(lines).encode()
    found = ENGINE.scan_chunks(chunked(data, 70_001), path="x")
    assert [f.key_id for f in found] == keys
    assert found == ENGINE.scan_bytes(data, path="x")


def test_utf16_with_bom_is_transcoded() -> None:
    text = f"AWS_ACCESS_KEY_ID={KEY}\r\nAWS_SECRET_ACCESS_KEY={SECRET}\r\n"
    for encoding in ("utf-16-le", "utf-16-be"):
        bom = "\ufeff".encode(encoding)
        data = bom + text.encode(encoding)
        for found in (ENGINE.scan_bytes(data, path="x"), ENGINE.scan_chunks(chunked(data, 5), path="x")):
            [f] = found
            assert (f.kind, f.key_id, f.secret, f.line) == (FindingKind.CREDENTIAL, KEY, SECRET, 1)
