"""One STS ``GetCallerIdentity`` call per credential, through botocore: the only code that sends.

The session and client are cut off from the user's AWS settings; plain-HTTP endpoints are
refused unless on loopback; throttling is retried with jittered backoff and a signature
mismatch once; every answer (or failure) becomes a ``Validation``. Secrets never reach a log
line, an exception message or a ``Validation.reason``.

botocore is imported only inside functions: the pre-commit hook path must not pay for it.
"""

from __future__ import annotations

import ipaddress
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keyscan import __version__
from keyscan.errors import ConfigError, MissingExtraError
from keyscan.model import Status, Validation

if TYPE_CHECKING:
    from keyscan.validate import VerifyOptions

GLOBAL_ENDPOINT = "https://sts.amazonaws.com"
INSTALL_HINT = "--verify needs botocore: pip install 'keyscan[verify]'"
THROTTLING_CODES = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
EXPIRED_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
CLOCK_SKEW_CODES = frozenset({"RequestExpired", "RequestTimeTooSkewed"})
_CLOCK_SKEW_MESSAGE = re.compile(r"signature (expired|not yet current)", re.IGNORECASE)
# Session settings botocore may read from the user's environment and ~/.aws files. All of them
# are cut off (no profile, no configured endpoint, no credential chain) except the CA bundle,
# which a TLS-intercepting corporate network needs.
_KEEP_SESSION_VARS = frozenset({"ca_bundle"})

_Scrub = Callable[[str], str]
_SESSION_LOCK = threading.Lock()  # botocore sessions are not thread-safe; clients are


def require_botocore() -> None:
    """Fail at once, with the install hint, when the `verify` extra is missing."""
    try:
        import botocore.session  # noqa: F401
    except ImportError:
        raise MissingExtraError(INSTALL_HINT) from None


def check_endpoint(endpoint: str | None) -> str:
    """The URL to call; refuses plain HTTP off loopback (key ID and token would travel in clear)."""
    if endpoint is None:
        return GLOBAL_ENDPOINT
    parts = urlsplit(endpoint)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ConfigError(f"--sts-endpoint must be an http(s) URL, not {endpoint!r}")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing plain-HTTP STS endpoint {endpoint!r}: use https (http only on loopback)"
        )
    return endpoint


def endpoint_for(options: VerifyOptions) -> str | None:
    """--sts-endpoint; else the global endpoint for us-east-1, else None: botocore then picks
    the region's own endpoint (GovCloud and China keys are unknown to the global one)."""
    if options.endpoint is None and options.region != "us-east-1":
        return None
    return check_endpoint(options.endpoint)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_session() -> Any:
    """A botocore session cut off from the user's AWS profile, config files and variables."""
    require_botocore()
    import botocore.session

    variables = {
        name: (None, None, _isolated_default(name, default), typecast)
        for name, (_, _, default, typecast) in botocore.session.Session.SESSION_VARIABLES.items()
        if name not in _KEEP_SESSION_VARS
    }
    return botocore.session.Session(session_vars=variables)


def _isolated_default(name: str, default: Any) -> Any:
    if name in ("config_file", "credentials_file"):
        return ""  # no such file: botocore then uses an empty config (not os.devnull: may be odd)
    if name == "ignore_configured_endpoint_urls":
        return True
    return default


# --- one credential ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Again:
    """An answer that asks for another attempt: ``signature`` or ``throttled``."""

    kind: str
    code: str


def check_credential(
    key_id: str | None,
    secret: str | None,
    token: str | None,
    options: VerifyOptions,
    session: Any | None = None,
) -> Validation:
    """Ask STS who this credential is. Never raises for what the network or AWS answers.

    The offline gate runs first, here where the request is sent, so no caller can skip it: a
    canary key, or one that cannot be checked, never leaves the machine.
    """
    # Imported here, not at the top: keyscan.validate imports this module for its Verifier.
    from keyscan.validate import is_short_term, precheck

    early = precheck(key_id, secret, token, options)
    if early is not None:
        return early
    assert key_id is not None and secret is not None
    sent_token = token if is_short_term(key_id) else None  # a stray token would spoil a good key
    client = _client(session or new_session(), key_id, secret, sent_token, options)
    scrub = _scrubber(secret, token)
    return _with_retries(client, options, scrub)


def _client(
    session: Any, key_id: str, secret: str, token: str | None, options: VerifyOptions
) -> Any:
    from botocore.config import Config

    endpoint = endpoint_for(options)
    host = urlsplit(endpoint or "").hostname or ""
    config = Config(
        connect_timeout=options.timeout,
        read_timeout=options.timeout,
        retries={"total_max_attempts": 1},  # our own retries: backoff on throttling only
        user_agent_extra=f"keyscan/{__version__}",
        # No proxy for loopback (an HTTP_PROXY would get the call); None = the environment's.
        proxies={} if is_loopback(host) else None,
    )
    with _SESSION_LOCK:
        return session.create_client(
            "sts",
            region_name=options.region,
            endpoint_url=endpoint,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            aws_session_token=token,
            config=config,
        )


def _with_retries(client: Any, options: VerifyOptions, scrub: _Scrub) -> Validation:
    signature_retried = False
    throttled = 0
    while True:
        answer = _attempt(client, scrub)
        if isinstance(answer, Validation):
            return answer
        if answer.kind == "signature":
            if signature_retried:
                return Validation(Status.INVALID, reason=answer.code)
            signature_retried = True
            time.sleep(options.signature_retry_delay)
            continue
        throttled += 1
        if throttled >= options.throttle_attempts:
            return Validation(
                Status.ERROR, reason=f"throttled ({answer.code}) after {throttled} attempts"
            )
        time.sleep(backoff_delay(throttled, options))


def backoff_delay(attempt: int, options: VerifyOptions) -> float:
    """Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter")."""
    return random.uniform(0, min(options.backoff_cap, options.backoff_base * 2**attempt))


def _attempt(client: Any, scrub: _Scrub) -> Validation | _Again:
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectTimeoutError,
        EndpointConnectionError,
        ReadTimeoutError,
    )
    from botocore.parsers import ResponseParserError

    try:
        response = client.get_caller_identity()
    except ClientError as error:
        return map_error(error.response, scrub)
    except (ReadTimeoutError, ConnectTimeoutError):
        return Validation(Status.ERROR, reason="timeout")
    except EndpointConnectionError:
        return Validation(Status.ERROR, reason="connection error: could not reach the endpoint")
    except (ResponseParserError, KeyError, ValueError):
        # A body that is not an STS document, e.g. a captive portal's HTML page with HTTP 200;
        # botocore's parser raises KeyError on some of those (1.43).
        return Validation(Status.ERROR, reason="unparseable response (not an STS document)")
    except BotoCoreError as error:
        return Validation(Status.ERROR, reason=f"{type(error).__name__}: {scrub(str(error))}")
    return map_success(response)


# --- answers ------------------------------------------------------------------------------


def map_success(response: dict[str, Any]) -> Validation:
    arn, account = response.get("Arn"), response.get("Account")
    if not arn or not account:
        return Validation(Status.ERROR, reason="unexpected response: HTTP 200 without an identity")
    return Validation(Status.VALID, account=account, arn=arn, user_id=response.get("UserId"))


def map_error(response: dict[str, Any], scrub: _Scrub) -> Validation | _Again:
    """Status for an STS error document (or what botocore made of a non-XML body)."""
    error = response.get("Error", {})
    code = str(error.get("Code") or "")
    message = scrub(str(error.get("Message") or ""))
    http = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "InvalidClientTokenId":
        return Validation(Status.INVALID, reason=code)
    if code in EXPIRED_CODES:
        return Validation(Status.EXPIRED, reason=code)
    if code in CLOCK_SKEW_CODES or (
        code == "SignatureDoesNotMatch" and _CLOCK_SKEW_MESSAGE.search(message)
    ):
        return Validation(Status.ERROR, reason=f"clock skew ({code}): check the system clock")
    if code == "SignatureDoesNotMatch":
        return _Again("signature", code)
    if code in THROTTLING_CODES or http == 429:
        return _Again("throttled", code or "HTTP 429")
    return Validation(Status.ERROR, reason=_describe(code, http, message))


def _describe(code: str, http: int | None, message: str) -> str:
    if code and code == str(http):  # botocore's code for a body that is not an error document
        return f"HTTP {http} with a non-STS body"
    text = f"{code or 'unknown error'} (HTTP {http})"
    return f"{text}: {message[:160]}" if message else text


def _scrubber(*secrets: str | None) -> _Scrub:
    """Blank every secret value out of text that came from elsewhere (a server, an exception)."""
    values = [s for s in secrets if s]

    def scrub(text: str) -> str:
        for value in values:
            text = text.replace(value, "[redacted]")
        return text

    return scrub
