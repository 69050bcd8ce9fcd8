from __future__ import annotations

import io
import json
import random
from dataclasses import replace

from keyscan.engine import Engine
from keyscan.model import Stats, Status, Validation
from keyscan.report import WRITERS
from tests.fakes import fake_key_id, fake_secret


def _finding(validation: Validation | None):  # type: ignore[no-untyped-def]
    rng = random.Random(31)
    key, secret = fake_key_id("AKIA", account=123456789012, rng=rng), fake_secret(rng)
    [f] = Engine.load().scan_bytes(f"aws_access_key_id={key}\naws_secret_access_key={secret}\n".encode(), path="a")
    return replace(f, validation=validation)


def render(fmt: str, finding) -> str:  # type: ignore[no-untyped-def]
    out = io.StringIO()
    WRITERS[fmt]([finding], Stats(), out, False, False)
    return out.getvalue()


def test_valid_long_term_key_gets_the_exact_commands_in_every_format() -> None:
    valid = Validation(Status.VALID, account="123456789012", arn="arn:aws:iam::123456789012:user/ci/deployer", user_id="AIDA")
    f = _finding(valid)
    text = render("text", f)
    assert "validation: valid (arn:aws:iam::123456789012:user/ci/deployer)" in text
    assert f"aws iam update-access-key --user-name deployer --access-key-id {f.key_id} --status Inactive" in text
    assert f"aws iam delete-access-key --user-name deployer --access-key-id {f.key_id}" in text
    doc = json.loads(render("jsonl", f))
    assert doc["validation"]["status"] == "valid" and any("delete-access-key" in r for r in doc["remediation"])
    assert "delete-access-key" in render("sarif", f)


def test_valid_keys_sort_first_in_text() -> None:
    plain = _finding(None)
    live = replace(_finding(Validation(Status.VALID, arn="arn:aws:iam::1:user/u")), path="z-last-by-name")
    out = io.StringIO()
    WRITERS["text"]([plain, live], Stats(), out, False, False)
    assert out.getvalue().index("z-last-by-name") < out.getvalue().index("\na\n")


def test_unvalidated_finding_has_no_remediation_lines() -> None:
    assert json.loads(render("jsonl", _finding(None)))["remediation"] == []
