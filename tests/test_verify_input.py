"""keyscan.verify_input: what `keyscan verify` reads (findings file, one pair, environment)."""

from __future__ import annotations

import io
import random
from dataclasses import MISSING, fields, replace

import pytest

from keyscan.errors import ConfigError
from keyscan.model import Commit, Decoy, Finding, FindingKind, Stats, Status, Validation
from keyscan.report.jsonfmt import write_json
from keyscan.verify_input import finding_from_env, findings_from_text
from tests.fakes import fake_account, fake_key_id, fake_secret, fake_token
from tests.sts import finding

RNG = random.Random(6)


def new_key(prefix: str = "AKIA") -> tuple[str, str]:
    return fake_key_id(prefix, account=fake_account(RNG), rng=RNG), fake_secret(RNG)


def test_findings_file_round_trip() -> None:
    """Every field keyscan's JSON report writes is read back (validation is recomputed)."""
    key_id, secret = new_key("ASIA")
    token = fake_token(RNG)
    commit = Commit("a" * 40, "Dev", "dev@example.com", "2024-01-02T03:04:05+00:00", "oops")
    original = replace(
        finding(key_id, secret, token, path="deploy/.env", decoy=Decoy.EXAMPLE, canary=True),
        account_id="111122223333",
        expires_at="2024-01-02T04:04:05Z",
        expired=True,
        line=3,
        column=7,
        end_line=4,
        blob="b" * 40,
        confidence="medium",
        commit=commit,
        in_head=False,
        also_in=("old/.env",),
        validation=Validation(Status.VALID, "111122223333", "arn:aws:iam::111122223333:user/a"),
        suppressed="baseline",
    )
    for field in fields(Finding):  # a new field must be set here, or the check below is blind
        if field.default is not MISSING:
            assert getattr(original, field.name) != field.default, f"set {field.name} above"
    out = io.StringIO()
    write_json([original], Stats(), out, True, False)
    (back,) = findings_from_text(out.getvalue(), "old.json")
    assert back == replace(original, validation=None)
    assert back.fingerprint == original.fingerprint


def test_redacted_findings_file_is_refused() -> None:
    key_id, secret = new_key()
    out = io.StringIO()
    write_json([finding(key_id, secret)], Stats(), out, False, False)
    with pytest.raises(ConfigError, match="--show-secrets"):
        findings_from_text(out.getvalue(), "old.json")


@pytest.mark.parametrize(
    "template",
    [
        "{k} {s} {t}",
        "export AWS_ACCESS_KEY_ID={k}\nexport AWS_SECRET_ACCESS_KEY='{s}'\nAWS_SESSION_TOKEN={t}\n",
        "[default]\naws_access_key_id = {k}\naws_secret_access_key = {s}\naws_session_token = {t}",
        '{{"Credentials": {{"AccessKeyId": "{k}", "SecretAccessKey": "{s}", '
        '"SessionToken": "{t}", "Expiration": "2030-01-01T00:00:00Z"}}}}',
        '{{"Version": 1, "AccessKeyId": "{k}", "SecretAccessKey": "{s}", "SessionToken": "{t}"}}',
    ],
)
def test_one_pair_from_stdin(template: str) -> None:
    key_id, secret = new_key("ASIA")
    token = fake_token(RNG)
    (got,) = findings_from_text(template.format(k=key_id, s=secret, t=token), "<stdin>")
    assert (got.key_id, got.secret, got.token) == (key_id, secret, token)
    assert got.kind is FindingKind.CREDENTIAL and got.path == "<stdin>"


def test_stdin_garbage_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="expected KEY_ID SECRET"):
        findings_from_text("just some words here and there", "<stdin>")
    with pytest.raises(ConfigError, match="nothing to verify"):
        findings_from_text("  \n", "<stdin>")


def test_pair_from_environment() -> None:
    key_id, secret = new_key()
    got = finding_from_env({"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret})
    assert got is not None and (got.key_id, got.secret, got.token) == (key_id, secret, None)
    assert finding_from_env({}) is None
