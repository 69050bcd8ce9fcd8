"""The suppress stage (inline allow, config allow, baseline) and --fail-on."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest

from keyscan import baseline, suppress
from keyscan.classify import INLINE_ALLOW
from keyscan.cli import main
from keyscan.config import Allow
from keyscan.engine import Engine
from keyscan.model import Finding, FindingKind, KeyClass, Status, Validation
from tests.fakes import fake_key_id, fake_secret, fake_token


def finding(kind: FindingKind = FindingKind.CREDENTIAL, key_class: KeyClass = KeyClass.LONG_TERM,
            seed: int = 1, **changes: object) -> Finding:
    rng = random.Random(seed)
    prefix = "ASIA" if key_class is KeyClass.SHORT_TERM else "AKIA"
    key_id = fake_key_id(prefix, rng=rng) if kind is not FindingKind.SECRET else None
    secret = fake_secret(rng) if kind in (FindingKind.CREDENTIAL, FindingKind.SECRET) else None
    token = fake_token(rng) if kind is FindingKind.SESSION_TOKEN else None
    base = Finding(kind=kind, rule_id="r", rules=("r",), key_id=key_id, secret=secret, token=token,
                   key_class=key_class, account_id=None, canary=False, expires_at=None, expired=None,
                   decoy=None, path="a.env", line=1, column=1, end_line=2)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_order_inline_then_config_then_baseline() -> None:
    inline = finding(seed=1, suppressed=INLINE_ALLOW)
    allowed = finding(seed=2)
    baselined = finding(seed=3)
    fresh = finding(seed=4)
    entries = baseline.entries_for([inline, allowed, baselined])  # inline one is skipped
    policy = suppress.Policy(
        allow=(Allow("vendor sample", key_id=allowed.key_id), Allow("also", key_id=inline.key_id)),
        allow_source=".keyscan.toml",
        baseline=baseline.Baseline("b.json", "files", entries),
    )
    out = suppress.apply([inline, allowed, baselined, fresh], policy)
    assert [f.suppressed for f in out] == [
        INLINE_ALLOW, "config allow (.keyscan.toml): vendor sample", "baseline (b.json)", None
    ]
    assert suppress.tally(out) == {"inline allow": 1, "config allow": 1, "baseline": 1}


def test_fingerprint_prefix_and_key_id_cover_what_they_should() -> None:
    pair = finding(seed=5)
    lone = finding(FindingKind.KEY_ID, seed=5)  # the same key ID, without its secret
    by_fp = suppress.Policy(allow=(Allow("r", fingerprint=pair.fingerprint[:16]),))
    assert [f.suppressed is not None for f in suppress.apply([pair, lone], by_fp)] == [True, False]
    by_id = suppress.Policy(allow=(Allow("r", key_id=pair.key_id),))
    assert all(f.suppressed for f in suppress.apply([pair, lone], by_id))


def test_a_baselined_pair_covers_its_lone_key_id_but_not_a_new_secret() -> None:
    pair = finding(seed=6)
    b = baseline.Baseline("b.json", "files", baseline.entries_for([pair]))
    lone = finding(FindingKind.KEY_ID, seed=6)
    other_secret = dataclasses.replace(pair, secret=fake_secret(random.Random(99)))
    out = suppress.apply([lone, other_secret], suppress.Policy(baseline=b))
    assert out[0].suppressed == "baseline (b.json)" and out[1].suppressed is None


MATRIX = [
    # kind, class, validation, any, credential, long-term, valid
    (FindingKind.CREDENTIAL, KeyClass.LONG_TERM, None, True, True, True, False),
    (FindingKind.CREDENTIAL, KeyClass.SHORT_TERM, None, True, True, False, False),
    (FindingKind.KEY_ID, KeyClass.LONG_TERM, None, True, False, False, False),
    (FindingKind.SECRET, KeyClass.UNKNOWN, None, True, True, True, False),
    (FindingKind.SESSION_TOKEN, KeyClass.SHORT_TERM, None, True, True, False, False),
    (FindingKind.CREDENTIAL, KeyClass.LONG_TERM, Status.VALID, True, True, True, True),
    (FindingKind.CREDENTIAL, KeyClass.SHORT_TERM, Status.VALID, True, True, False, True),
    (FindingKind.CREDENTIAL, KeyClass.LONG_TERM, Status.INVALID, True, True, True, False),
]


@pytest.mark.parametrize(("kind", "key_class", "status", "expected"), [(*m[:3], list(m[3:])) for m in MATRIX])
def test_fail_on(kind: FindingKind, key_class: KeyClass, status: Status | None, expected: list[bool]) -> None:
    f = finding(kind, key_class, validation=Validation(status) if status else None)
    assert [suppress.fails(f, p) for p in ("any", "credential", "long-term", "valid")] == expected


def test_fail_on_through_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(7)
    (tmp_path / "sts.env").write_text(
        f"AWS_ACCESS_KEY_ID={fake_key_id('ASIA', rng=rng)}\nAWS_SECRET_ACCESS_KEY={fake_secret(rng)}\n"
    )
    (tmp_path / "ids.md").write_text(f"user key {fake_key_id(rng=rng)}\n")
    assert main(["scan", str(tmp_path)]) == 1
    assert main(["scan", str(tmp_path), "--fail-on", "credential"]) == 1
    assert main(["scan", str(tmp_path), "--fail-on", "long-term"]) == 0
    out = capsys.readouterr().out
    assert "short-term credential" in out and "long-term key id" in out  # reported, not fatal
    assert main(["scan", str(tmp_path), "--fail-on", "valid"]) == 2
    assert "--verify" in capsys.readouterr().err


def test_show_suppressed_lists_them_with_reasons_and_summary_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(8)
    (tmp_path / "a.py").write_text(
        f"KEY = '{fake_key_id(rng=rng)}'  # keyscan:allow\n"
        f"SECRET = '{fake_secret(rng)}'\n"
        f"# another: {fake_key_id(rng=rng)}  <!-- keyscan:allow -->\n"
    )
    assert main(["scan", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "No AWS credentials found" in out and "2 suppressed (2 inline allow)" in err
    assert main(["scan", str(tmp_path), "--show-suppressed"]) == 0
    out, _ = capsys.readouterr()
    assert out.count("suppressed: inline keyscan:allow") == 2
    assert main(["scan", str(tmp_path), "--show-suppressed", "--format", "jsonl"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [f["suppressed"] for f in lines] == [INLINE_ALLOW, INLINE_ALLOW]


def test_engine_findings_pass_through_unchanged_without_a_policy() -> None:
    rng = random.Random(10)
    data = f"aws_access_key_id={fake_key_id(rng=rng)}\naws_secret_access_key={fake_secret(rng)}\n".encode()
    found = Engine.load().scan_bytes(data, path="x")
    assert suppress.apply(found, suppress.Policy()) == found
