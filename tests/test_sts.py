"""keyscan.sts: one credential against real loopback servers, moto and our scripted STS."""

from __future__ import annotations

import random
import socket
import sys
import time

import pytest

from keyscan import __version__
from keyscan.errors import ConfigError, MissingExtraError
from keyscan.model import Status, Validation
from keyscan.sts import (
    INSTALL_HINT,
    _client,
    _scrubber,
    backoff_delay,
    check_credential,
    check_endpoint,
    map_error,
    new_session,
    require_botocore,
)
from keyscan.validate import VerifyOptions
from tests.fakes import fake_account, fake_key_id, fake_secret, fake_token
from tests.sts import MOTO_ACCOUNT, FakeSTS, MotoSTS, html, identity, on, sts_error

RNG = random.Random(5)


def new_key(prefix: str = "AKIA") -> tuple[str, str]:
    return fake_key_id(prefix, account=fake_account(RNG), rng=RNG), fake_secret(RNG)


# --- offline: endpoint, install hint, backoff, scrubbing --------------------------------------


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

def test_missing_botocore_fails_at_once_with_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    with pytest.raises(MissingExtraError) as caught:
        require_botocore()
    assert str(caught.value) == INSTALL_HINT
    assert "pip install 'keyscan[verify]'" in INSTALL_HINT and "\n" not in INSTALL_HINT


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
    result = map_error(response, _scrubber(secret, token))
    assert isinstance(result, Validation) and result.status is Status.ERROR
    assert secret not in str(result) and token[:40] not in str(result)
    assert "AccessDenied (HTTP 403)" in str(result.reason)


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
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")  # ignored
    key_id, secret = new_key()
    client = _client(new_session(), key_id, secret, None, VerifyOptions(region=region))
    assert client.meta.endpoint_url == url
    assert client.meta.region_name == region


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
def test_the_offline_gate_holds_for_a_direct_call(fake_sts: FakeSTS) -> None:
    """check_credential applies the canary gate itself: no caller can send a canary key."""
    canary = fake_key_id("AKIA", account=992382622183, rng=RNG)  # canarytokens.org (built-in)
    fake_sts.script(canary, identity("992382622183", "arn:aws:iam::992382622183:user/canary"))
    result = check_credential(canary, fake_secret(RNG), None, on(fake_sts.endpoint))
    assert result.status is Status.CANARY
    assert fake_sts.calls[canary] == 0
