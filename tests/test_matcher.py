"""The hyperscan and pure-Python prefilters give identical hits; rules run only at keywords."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyscan import rules
from keyscan.matcher import Matcher, PythonPrefilter, hyperscan_available
from tests.fakes import fake_key_id, fake_secret, fake_token

RULES = rules.load().rules
needs_hyperscan = pytest.mark.skipif(not hyperscan_available(), reason="hyperscan wheel not installed on this platform")

PIECES = st.sampled_from([
    "aws_access_key_id = ", "aws_secret_access_key = ", "SecretAccessKey: ", "session_token=",
    "Expiration: 2026-01-01T00:00:00Z", "AKIA", "ASIA", "secret", "SECRET", "Session", "\n", " ", '"', "'",
    "EXAMPLE", "ünï", "\x00", "b3JpZ2luX2Vj", "ZXIvYXdz", "=", ":", "AIDA",
])


def _planted(draw_pieces: list[str], seed: int) -> bytes:
    rng = random.Random(seed)
    values = [fake_key_id("AKIA", rng=rng), fake_key_id("ASIA", rng=rng), fake_secret(rng), fake_token(rng, 300)]
    out = []
    for piece in draw_pieces:
        out.append(piece)
        if rng.random() < 0.3:
            out.append(rng.choice(values))
    return "".join(out).encode()


@needs_hyperscan
@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(PIECES, max_size=60), seed=st.integers(0, 10_000))
def test_engines_give_identical_hits(pieces: list[str], seed: int) -> None:
    data = _planted(pieces, seed)
    assert Matcher(RULES, engine="python").scan(data) == Matcher(RULES, engine="hyperscan").scan(data)


@needs_hyperscan
@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=2000))
def test_engines_agree_on_arbitrary_bytes(data: bytes) -> None:
    assert Matcher(RULES, engine="python").scan(data) == Matcher(RULES, engine="hyperscan").scan(data)


def test_python_prefilter_reports_overlapping_occurrences() -> None:
    prefilter = PythonPrefilter([(b"AKIA", True), (b"KIAK", True), (b"secret", False)])
    assert sorted(prefilter.find(b"AKIAKIA SeCrEt")) == [(0, 0), (0, 3), (1, 1), (2, 8)]


@pytest.mark.parametrize("engine", ["python", pytest.param("hyperscan", marks=needs_hyperscan)])
def test_rule_examples_pass_on_each_engine(engine: str) -> None:
    ruleset = rules.load()
    matcher = Matcher(ruleset.rules, engine=engine)
    for rule in ruleset.rules:
        for text in rule.examples:
            assert any(h.rule_id == rule.id for h in matcher.scan(text.encode())), (rule.id, text)


def test_unknown_engine_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown matching engine"):
        Matcher(RULES, engine="grep")


def test_line_and_column_count_characters_not_bytes() -> None:
    key = fake_key_id("AKIA", rng=random.Random(1))
    data = f"first line\nçà ✓ {key}\n".encode()
    [hit] = Matcher(RULES, engine="python").scan(data)
    assert (hit.line, hit.column) == (2, 6)
