"""keyscan.validate against real loopback servers: moto (tests/sts.py) and our scripted STS."""

from __future__ import annotations

import io
import json
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from keyscan import __version__
from keyscan.cli import main
from keyscan.errors import ConfigError, MissingExtraError
from keyscan.model import Decoy, FindingKind, Status, Validation
from keyscan.validate import (
    INSTALL_HINT,
    Verifier,
    VerifyOptions,
    backoff_delay,
    check_credential,
    check_endpoint,
    finding_from_env,
    findings_from_text,
    map_error,
    precheck,
    require_botocore,
    verify_findings,
)
from tests.fakes import fake_account, fake_key_id, fake_secret, fake_token
from tests.gitrepo import GitRepo
from tests.sts import (
    MOTO_ACCOUNT,
    Credential,
    FakeSTS,
    MotoSTS,
    finding,
    html,
    identity,
    sts_error,
)

CANARY_ACCOUNT = 992382622183  # canarytokens.org (built-in list)
RNG = random.Random(4)


def on(endpoint: str, **overrides: object) -> VerifyOptions:
    """Options for a loopback endpoint with fast retries."""
    settings: dict[str, object] = {
        "endpoint": endpoint,
        "timeout": 3.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "signature_retry_delay": 0.05,
        "same_key_gap": 0.0,
    }
    settings.update(overrides)
    return VerifyOptions(**settings)  # type: ignore[arg-type]


def new_key(prefix: str = "AKIA") -> tuple[str, str]:
    return fake_key_id(prefix, account=fake_account(RNG), rng=RNG), fake_secret(RNG)


# --- offline: options, endpoint, gate, lazy import ------------------------------------------


def test_options_reject_nonsense() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        VerifyOptions(workers=0)
    with pytest.raises(ConfigError, match="12-digit"):
        VerifyOptions(skip_accounts=frozenset({"12345"}))


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:4566", "http://localhost:4566/", "http://[::1]:80", "https://sts.example"],
)
def test_endpoint_allowed(url: str) -> None:
    assert check_endpoint(url) == url


@pytest.mark.parametrize(
    "url", ["http://sts.example.com", "http://10.0.0.5:4566", "ftp://x", "sts"]
)
def test_endpoint_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_endpoint(url)


def test_default_endpoint_is_global_https() -> None:
    assert check_endpoint(None) == "https://sts.amazonaws.com"


def test_precheck_without_secret_or_token() -> None:
    options = VerifyOptions()
    key_id, secret = new_key()
    asia, asia_secret = new_key("ASIA")
    assert precheck(key_id, None, None, options) == Validation(
        Status.UNVERIFIABLE, reason="key ID without a secret access key"
    )
    assert precheck(asia, asia_secret, None, options).status is Status.UNVERIFIABLE  # type: ignore[union-attr]
    assert precheck(None, secret, None, options).status is Status.UNVERIFIABLE  # type: ignore[union-attr]
    assert precheck(key_id, secret, None, options) is None


def test_canary_gate() -> None:
    canary = fake_key_id("AKIA", account=CANARY_ACCOUNT, rng=RNG)
    secret = fake_secret(RNG)
    result = precheck(canary, secret, None, VerifyOptions())
    assert result == Validation(
        Status.CANARY, account=str(CANARY_ACCOUNT), reason="known canary-token account"
    )
    assert precheck(canary, secret, None, VerifyOptions(verify_canaries=True)) is None
    # a user's skip list holds even with --verify-canaries
    mine = fake_key_id("AKIA", account=111122223333, rng=RNG)
    skip = VerifyOptions(skip_accounts=frozenset({"111122223333"}), verify_canaries=True)
    assert precheck(mine, secret, None, skip).status is Status.CANARY  # type: ignore[union-attr]


def test_missing_botocore_fails_at_once_with_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    with pytest.raises(MissingExtraError) as caught:
        require_botocore()
    assert str(caught.value) == INSTALL_HINT
    assert "pip install 'keyscan[verify]'" in INSTALL_HINT and "\n" not in INSTALL_HINT
    with pytest.raises(MissingExtraError):
        Verifier(VerifyOptions())


def test_importing_validate_does_not_import_botocore() -> None:
    code = "import sys, keyscan.validate; print('botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_backoff_is_jittered_and_capped() -> None:
    options = VerifyOptions(backoff_base=0.5, backoff_cap=2.0)
    delays = [backoff_delay(n, options) for n in range(1, 10) for _ in range(20)]
    assert all(0 <= d <= 2.0 for d in delays)
    assert len(set(delays)) > 100


def test_error_reason_never_echoes_a_secret() -> None:
    secret, token = fake_secret(RNG), fake_token(RNG)
    response = {
        "Error": {"Code": "AccessDenied", "Message": f"denied for {secret} with {token}"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    from keyscan.validate import _scrubber

    result = map_error(response, _scrubber(secret, token))
    assert isinstance(result, Validation) and result.status is Status.ERROR
    assert secret not in str(result) and token[:40] not in str(result)
    assert "AccessDenied (HTTP 403)" in str(result.reason)


def test_identifiers_and_decoys_are_not_sent() -> None:
    verifier = Verifier(VerifyOptions(endpoint="http://127.0.0.1:9"))  # nothing listens there
    key_id, secret = new_key()
    ident = finding("AIDA" + key_id[4:], kind=FindingKind.IDENTIFIER)
    example = finding(key_id, secret, decoy=Decoy.EXAMPLE)
    lone = finding(key_id, kind=FindingKind.KEY_ID)
    marked = finding(key_id, secret, canary=True)
    out = verifier.verify([ident, example, lone, marked])
    assert out[0].validation is None
    assert [f.validation.status for f in out[1:]] == [  # type: ignore[union-attr]
        Status.UNVERIFIABLE,
        Status.UNVERIFIABLE,
        Status.CANARY,
    ]


# --- real moto STS --------------------------------------------------------------------------


@pytest.mark.sts
def test_active_key_is_valid(moto_sts: MotoSTS) -> None:
    alice = moto_sts.alice
    result = check_credential(alice.key_id, alice.secret, None, on(moto_sts.endpoint))
    assert result.status is Status.VALID
    assert result.arn == f"arn:aws:iam::{MOTO_ACCOUNT}:user/alice" == alice.arn
    assert result.account == MOTO_ACCOUNT
    assert result.user_id


@pytest.mark.sts
def test_deleted_key_is_invalid(moto_sts: MotoSTS) -> None:
    gone = moto_sts.deleted
    result = check_credential(gone.key_id, gone.secret, None, on(moto_sts.endpoint))
    assert result == Validation(Status.INVALID, reason="InvalidClientTokenId")


@pytest.mark.sts
def test_wrong_secret_is_invalid_after_one_retry(moto_sts: MotoSTS) -> None:
    mark = moto_sts.server.mark()
    result = check_credential(moto_sts.alice.key_id, fake_secret(RNG), None, on(moto_sts.endpoint))
    assert result == Validation(Status.INVALID, reason="SignatureDoesNotMatch")
    assert moto_sts.server.requests_since(mark) == 2


@pytest.mark.sts
def test_assumed_role_credentials(moto_sts: MotoSTS) -> None:
    role = moto_sts.assumed
    options = on(moto_sts.endpoint)
    assert role.key_id.startswith("ASIA")
    valid = check_credential(role.key_id, role.secret, role.token, options)
    assert valid.status is Status.VALID
    assert valid.arn == role.arn and ":assumed-role/deployer/leaked-session" in role.arn

    mark = moto_sts.server.mark()
    missing = check_credential(role.key_id, role.secret, None, options)
    assert missing.status is Status.UNVERIFIABLE
    assert moto_sts.server.requests_since(mark) == 0

    wrong = check_credential(role.key_id, role.secret, fake_token(RNG), options)
    assert wrong == Validation(Status.INVALID, reason="InvalidClientTokenId")


@pytest.mark.sts
def test_canary_key_never_reaches_the_server(moto_sts: MotoSTS) -> None:
    canary = fake_key_id("AKIA", account=CANARY_ACCOUNT, rng=RNG)
    mark = moto_sts.server.mark()
    out = verify_findings([finding(canary, fake_secret(RNG))], on(moto_sts.endpoint))
    assert out[0].validation == Validation(
        Status.CANARY, account=str(CANARY_ACCOUNT), reason="known canary-token account"
    )
    assert moto_sts.server.requests_since(mark) == 0


@pytest.mark.sts
def test_cache_one_request_per_credential(moto_sts: MotoSTS) -> None:
    alice, other = moto_sts.alice, moto_sts.spare[0]
    findings = [finding(alice.key_id, alice.secret, path=f"c{n}/a.env") for n in range(50)]
    findings += [finding(other.key_id, other.secret, path=f"c{n}/b.env") for n in range(20)]
    verifier = Verifier(on(moto_sts.endpoint))
    mark = moto_sts.server.mark()
    out = verifier.verify(findings)
    assert moto_sts.server.requests_since(mark) == 2
    assert {f.validation.status for f in out} == {Status.VALID}  # type: ignore[union-attr]
    assert [f.path for f in out] == [f.path for f in findings]  # order and places kept
    mark = moto_sts.server.mark()
    verifier.verify(findings[:3])  # a later batch of the same run: cached
    assert moto_sts.server.requests_since(mark) == 0


@pytest.mark.sts
def test_many_keys_in_parallel(moto_sts: MotoSTS) -> None:
    creds = moto_sts.spare
    findings = [finding(c.key_id, c.secret) for c in creds]
    findings.append(finding(moto_sts.deleted.key_id, moto_sts.deleted.secret))
    out = verify_findings(findings, on(moto_sts.endpoint, workers=8))
    statuses = [f.validation.status for f in out]  # type: ignore[union-attr]
    assert statuses == [Status.VALID] * len(creds) + [Status.INVALID]
    assert [f.validation.arn for f in out[:-1]] == [c.arn for c in creds]  # type: ignore[union-attr]


@pytest.mark.sts
def test_isolated_from_the_users_aws_settings(
    moto_sts: MotoSTS, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_sts.deleted.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_sts.deleted.secret)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    alice = moto_sts.alice
    result = check_credential(alice.key_id, alice.secret, None, on(moto_sts.endpoint))
    assert result.status is Status.VALID and result.arn == alice.arn


# --- scripted STS: what moto cannot produce ---------------------------------------------


def scripted(fake: FakeSTS, *replies: object, prefix: str = "AKIA") -> tuple[str, str, str | None]:
    key_id, secret = new_key(prefix)
    fake.script(key_id, *replies)  # type: ignore[arg-type]
    return key_id, secret, fake_token(RNG) if prefix == "ASIA" else None


@pytest.mark.sts
@pytest.mark.parametrize(
    ("reply", "status", "reason"),
    [
        (
            sts_error("ExpiredToken", "The security token included in the request is expired", 403),
            Status.EXPIRED,
            "ExpiredToken",
        ),
        (
            sts_error("InvalidClientTokenId", "does not exist in our records", 403),
            Status.INVALID,
            "InvalidClientTokenId",
        ),
        (sts_error("AccessDenied", "explicit deny", 403), Status.ERROR, "AccessDenied (HTTP 403)"),
        (
            sts_error("ServiceUnavailable", "", 503, "Receiver"),
            Status.ERROR,
            "ServiceUnavailable (HTTP 503)",
        ),
        (
            sts_error("InternalFailure", "", 500, "Receiver"),
            Status.ERROR,
            "InternalFailure (HTTP 500)",
        ),
        (html(502), Status.ERROR, "HTTP 502 with a non-STS body"),
        (html(200), Status.ERROR, None),
        (sts_error("RequestExpired", "Request has expired", 400), Status.ERROR, "clock skew"),
        (
            sts_error(
                "SignatureDoesNotMatch",
                "Signature expired: 20240101T000000Z is now earlier than 20240101T001500Z",
                403,
            ),
            Status.ERROR,
            "clock skew",
        ),
        (
            sts_error("SignatureDoesNotMatch", "Signature not yet current", 403),
            Status.ERROR,
            "clock skew",
        ),
    ],
)
def test_status_mapping(
    fake_sts: FakeSTS, reply: object, status: Status, reason: str | None
) -> None:
    key_id, secret, token = scripted(fake_sts, reply)
    result = check_credential(key_id, secret, token, on(fake_sts.endpoint))
    assert result.status is status
    assert reason is None or str(result.reason).startswith(reason), result.reason
    assert fake_sts.calls[key_id] == 1  # none of these is retried


@pytest.mark.sts
@pytest.mark.parametrize(
    "throttle",
    [
        sts_error("Throttling", "Rate exceeded"),
        sts_error("ThrottlingException", "Rate exceeded"),
        sts_error("RequestLimitExceeded", "Request limit exceeded."),
        html(429),
    ],
)
def test_throttling_backs_off_then_succeeds(fake_sts: FakeSTS, throttle: object) -> None:
    ok = identity("111122223333", "arn:aws:iam::111122223333:user/ci")
    key_id, secret, _ = scripted(fake_sts, throttle, throttle, ok)
    result = check_credential(key_id, secret, None, on(fake_sts.endpoint))
    assert result == Validation(
        Status.VALID, "111122223333", "arn:aws:iam::111122223333:user/ci", "AIDAEXAMPLEUSERID"
    )
    assert fake_sts.calls[key_id] == 3


@pytest.mark.sts
def test_throttling_gives_up_after_bounded_attempts(fake_sts: FakeSTS) -> None:
    key_id, secret, _ = scripted(fake_sts, sts_error("Throttling", "Rate exceeded"))
    result = check_credential(key_id, secret, None, on(fake_sts.endpoint, throttle_attempts=3))
    assert result == Validation(Status.ERROR, reason="throttled (Throttling) after 3 attempts")
    assert fake_sts.calls[key_id] == 3


@pytest.mark.sts
def test_signature_mismatch_is_retried_once(fake_sts: FakeSTS) -> None:
    """AWS's quirk: a valid pair can be refused once right after another secret for its key."""
    ok = identity("111122223333", "arn:aws:iam::111122223333:user/ci")
    key_id, secret, _ = scripted(fake_sts, sts_error("SignatureDoesNotMatch", "", 403), ok)
    assert check_credential(key_id, secret, None, on(fake_sts.endpoint)).status is Status.VALID
    assert fake_sts.calls[key_id] == 2


@pytest.mark.sts
def test_request_shape(fake_sts: FakeSTS) -> None:
    ok = identity("111122223333", "arn:aws:sts::111122223333:assumed-role/r/s")
    asia, secret, token = scripted(fake_sts, ok, prefix="ASIA")
    check_credential(asia, secret, token, on(fake_sts.endpoint))
    akia, secret2, _ = scripted(fake_sts, ok)
    check_credential(akia, secret2, fake_token(RNG), on(fake_sts.endpoint))  # stray token
    (short,), (long,) = fake_sts.headers[asia], fake_sts.headers[akia]
    assert short["method"] == long["method"] == "POST"
    assert f"keyscan/{__version__}" in short["user-agent"]
    assert short["x-amz-security-token"] == token
    assert "x-amz-security-token" not in long  # a token found near an AKIA key is not sent
    assert "/us-east-1/sts/aws4_request" in long["authorization"]


@pytest.mark.sts
def test_same_key_id_with_two_secrets_is_spaced(fake_sts: FakeSTS) -> None:
    key_id, first, _ = scripted(fake_sts, sts_error("InvalidClientTokenId", "", 403))
    findings = [finding(key_id, first), finding(key_id, fake_secret(RNG))]
    started = time.monotonic()
    verify_findings(findings, on(fake_sts.endpoint, same_key_gap=0.5, workers=2))
    assert time.monotonic() - started >= 0.5
    assert fake_sts.calls[key_id] == 2


@pytest.mark.sts
def test_a_server_that_never_answers_times_out(silent_port: int) -> None:
    key_id, secret = new_key()
    options = VerifyOptions(endpoint=f"http://127.0.0.1:{silent_port}", timeout=0.5)
    started = time.monotonic()
    result = check_credential(key_id, secret, None, options)
    elapsed = time.monotonic() - started
    assert result == Validation(Status.ERROR, reason="timeout")
    assert elapsed < 0.5 + 1.0


@pytest.mark.sts
def test_nobody_listening_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: refused
    key_id, secret = new_key()
    result = check_credential(key_id, secret, None, on(f"http://127.0.0.1:{port}"))
    assert result.status is Status.ERROR
    assert str(result.reason).startswith("connection error")


@pytest.mark.sts
def test_secrets_stay_out_of_results(fake_sts: FakeSTS) -> None:
    key_id, secret, token = scripted(fake_sts, prefix="ASIA")
    fake_sts.script(key_id, sts_error("AccessDenied", f"no: {secret} {token}", 403))
    out = verify_findings([finding(key_id, secret, token)], on(fake_sts.endpoint))
    shown = repr(out) + str(out[0].validation)
    assert secret not in shown and token not in shown  # type: ignore[operator]


# --- inputs of `keyscan verify` ---------------------------------------------------------


def test_findings_file_round_trip() -> None:
    import io

    from keyscan.model import Commit, Stats
    from keyscan.report.jsonfmt import write_json

    key_id, secret = new_key("ASIA")
    token = fake_token(RNG)
    commit = Commit("a" * 40, "Dev", "dev@example.com", "2024-01-02T03:04:05+00:00", "oops")
    original = replace(finding(key_id, secret, token, path="deploy/.env"), commit=commit)
    for show, ok in ((True, True), (False, False)):
        out = io.StringIO()
        write_json([original], Stats(), out, show, False)
        if not ok:
            with pytest.raises(ConfigError, match="--show-secrets"):
                findings_from_text(out.getvalue(), "old.json")
            continue
        (back,) = findings_from_text(out.getvalue(), "old.json")
        assert back.fingerprint == original.fingerprint
        assert (back.path, back.commit, back.key_class) == (
            "deploy/.env",
            commit,
            original.key_class,
        )


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


# --- the CLI end to end -----------------------------------------------------------------


def ini(cred: Credential) -> str:
    text = f"[default]\naws_access_key_id = {cred.key_id}\naws_secret_access_key = {cred.secret}\n"
    return text + (f"aws_session_token = {cred.token}\n" if cred.token else "")


@pytest.fixture
def leaky_repo(tmp_path: Path, moto_sts: MotoSTS) -> GitRepo:
    """A git repository whose files hold the seeded keys, a canary key and one key 30 times."""
    repo = GitRepo(tmp_path / "repo")
    canary = Credential(fake_key_id("AKIA", account=CANARY_ACCOUNT, rng=RNG), fake_secret(RNG))
    files: dict[str, str | bytes | None] = {
        "config/prod.ini": ini(moto_sts.alice),
        "config/old.ini": ini(moto_sts.deleted),
        "config/session.ini": ini(moto_sts.assumed),
        "docs/canary.ini": ini(canary),
    }
    files |= {f"services/s{n:02d}/aws.ini": ini(moto_sts.spare[1]) for n in range(30)}
    repo.commit("add configs", files)
    return repo


def scan_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, {"report": json.loads(out) if out.strip() else None, "stderr": err}


def statuses(report: dict[str, Any]) -> dict[str, set[str]]:
    by_key: dict[str, set[str]] = {}
    for f in report["findings"]:
        by_key.setdefault(f["key_id"], set()).add(f["validation"]["status"])
    return by_key


@pytest.mark.sts
def test_cli_scan_verify_on_a_git_repository(
    leaky_repo: GitRepo, moto_sts: MotoSTS, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", str(leaky_repo.path), "--format", "json", "--no-progress"]
    mark = moto_sts.server.mark()
    code, plain = scan_json(capsys, argv)
    assert code == 1 and all(f["validation"] is None for f in plain["report"]["findings"])
    assert moto_sts.server.requests_since(mark) == 0  # nothing is sent without --verify

    mark = moto_sts.server.mark()
    code, run = scan_json(capsys, [*argv, "--verify", "--sts-endpoint", moto_sts.endpoint])
    assert code == 1
    assert moto_sts.server.requests_since(mark) == 4  # alice, deleted, assumed, spare: once each
    got = statuses(run["report"])
    assert got[moto_sts.alice.key_id] == {"valid"}
    assert got[moto_sts.deleted.key_id] == {"invalid"}
    assert got[moto_sts.assumed.key_id] == {"valid"}
    assert got[moto_sts.spare[1].key_id] == {"valid"}
    assert len(got) == 5 and list(got.values()).count({"canary"}) == 1  # the canary key
    alice = next(f for f in run["report"]["findings"] if f["key_id"] == moto_sts.alice.key_id)
    assert alice["validation"]["arn"] == moto_sts.alice.arn
    assert "validation: 1 canary, 1 invalid, 32 valid" in run["stderr"]
    for cred in (moto_sts.alice, moto_sts.assumed):
        assert cred.secret not in json.dumps(run["report"]) + run["stderr"]


@pytest.mark.sts
def test_cli_verify_rechecks_a_findings_file(
    leaky_repo: GitRepo, moto_sts: MotoSTS, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "findings.json"
    scan = ["scan", str(leaky_repo.path), "--format", "json", "--no-progress"]
    assert main([*scan, "--show-secrets", "-o", str(saved)]) == 1
    capsys.readouterr()
    mark = moto_sts.server.mark()
    code, run = scan_json(
        capsys, ["verify", str(saved), "--format", "json", "--sts-endpoint", moto_sts.endpoint]
    )
    assert code == 1
    assert moto_sts.server.requests_since(mark) == 4
    got = statuses(run["report"])
    assert got[moto_sts.alice.key_id] == {"valid"} and got[moto_sts.deleted.key_id] == {"invalid"}
    assert any(f["path"].endswith("config/prod.ini") for f in run["report"]["findings"])

    redacted = tmp_path / "redacted.json"
    assert main([*scan, "-o", str(redacted)]) == 1
    capsys.readouterr()
    assert main(["verify", str(redacted), "--sts-endpoint", moto_sts.endpoint]) == 2
    assert "--show-secrets" in capsys.readouterr().err


@pytest.mark.sts
def test_cli_verify_from_environment_and_stdin(
    moto_sts: MotoSTS, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, role = moto_sts.alice, moto_sts.assumed
    verify = ["verify", "--format", "json", "--sts-endpoint", moto_sts.endpoint]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", alice.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", alice.secret)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    code, run = scan_json(capsys, verify)
    assert code == 1 and statuses(run["report"]) == {alice.key_id: {"valid"}}

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{role.key_id} {role.secret} {role.token}\n"))
    code, run = scan_json(capsys, [*verify, "-"])
    assert code == 1 and statuses(run["report"]) == {role.key_id: {"valid"}}
    assert run["report"]["findings"][0]["validation"]["arn"] == role.arn


def test_cli_verify_without_botocore_fails_before_scanning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    assert main(["scan", str(tmp_path), "--verify"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"keyscan: error: {INSTALL_HINT}\n"


def test_cli_refuses_plain_http_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", str(tmp_path), "--verify", "--sts-endpoint", "http://sts.example.com"]
    assert main(argv) == 2
    assert "refusing plain-HTTP STS endpoint" in capsys.readouterr().err


@pytest.mark.sts
def test_console_script_verify(leaky_repo: GitRepo, moto_sts: MotoSTS) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    argv = [
        "scan",
        str(leaky_repo.path / "config"),
        "--verify",
        "--sts-endpoint",
        moto_sts.endpoint,
    ]
    done = subprocess.run(
        [sys.executable, "-m", "keyscan", *argv], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert "validation: valid" in done.stdout and moto_sts.alice.arn in done.stdout
    assert "validation: 1 invalid, 2 valid" in done.stderr
    assert moto_sts.alice.secret not in done.stdout + done.stderr


def test_canary_flag_from_config_holds_even_with_verify_canaries() -> None:
    """Keys of the user's canary_accounts stay unsent; --verify-canaries lifts built-ins only."""
    verifier = Verifier(VerifyOptions(endpoint="http://127.0.0.1:9", verify_canaries=True))
    mine = fake_key_id("AKIA", account=111122223333, rng=RNG)
    flagged = replace(finding(mine, fake_secret(RNG), canary=True), account_id="111122223333")
    (out,) = verifier.verify([flagged])
    assert out.validation == Validation(
        Status.CANARY, account="111122223333", reason="account in the skip list"
    )


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("us-east-1", "https://sts.amazonaws.com"),
        ("eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
        ("us-gov-west-1", "https://sts.us-gov-west-1.amazonaws.com"),
        ("cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_endpoint_per_region(region: str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """No call is made: the client's resolved endpoint is inspected."""
    from keyscan.validate import _client, new_session

    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # ignored
    key_id, secret = new_key()
    client = _client(new_session(), key_id, secret, None, VerifyOptions(region=region))
    assert client.meta.endpoint_url == url
    assert client.meta.region_name == region


def test_session_whose_expiration_passed_is_not_sent() -> None:
    verifier = Verifier(VerifyOptions(endpoint="http://127.0.0.1:9"))  # nothing listens there
    key_id, secret = new_key("ASIA")
    old = replace(
        finding(key_id, secret, fake_token(RNG)), expires_at="2021-03-04T05:06:07Z", expired=True
    )
    (out,) = verifier.verify([old])
    assert out.validation == Validation(
        Status.EXPIRED, reason="expired at 2021-03-04T05:06:07Z, not sent"
    )


def test_moto_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    from tests.sts import MotoStartError, start_moto

    with pytest.raises(MotoStartError, match="not ready after 0 s"):
        start_moto(tmp_path / "moto.log", wait=0.0)
