"""Tell a live credential from a dead one with STS ``GetCallerIdentity`` (opt-in: ``--verify``).

Safety first: a key of a known canary-token account is never sent (its account is decoded
offline from the key ID), plain-HTTP endpoints are refused unless on loopback, and secrets
never reach a log line, an exception message or a ``Validation.reason``.

botocore is imported only inside functions: the pre-commit hook path must not pay for it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from keyscan import __version__
from keyscan.errors import ConfigError, MissingExtraError
from keyscan.model import Finding, FindingKind, Status, Validation

log = logging.getLogger(__name__)

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

CacheKey = tuple[str, str, str]
_Scrub = Callable[[str], str]
_SESSION_LOCK = threading.Lock()  # botocore sessions are not thread-safe; clients are


@dataclass(frozen=True)
class VerifyOptions:
    endpoint: str | None = None  # --sts-endpoint; plain http only on loopback
    region: str = "us-east-1"  # --sts-region
    workers: int = 8  # --verify-workers
    timeout: float = 5.0  # connect and read timeout of one call, seconds
    skip_accounts: frozenset[str] = frozenset()  # --skip-account + config, on top of built-ins
    verify_canaries: bool = False  # --verify-canaries: send keys of built-in canary accounts
    throttle_attempts: int = 4  # calls per credential while throttled, then `error`
    backoff_base: float = 0.5  # full-jitter backoff: uniform(0, min(cap, base * 2**n))
    backoff_cap: float = 8.0
    signature_retry_delay: float = 1.0  # before the one SignatureDoesNotMatch retry
    # AWS rejects a valid pair signed within ~5 s of another secret for the same key ID
    # (trufflehog accesskey.go): space such calls apart within one run.
    same_key_gap: float = 5.0

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise ConfigError(f"--verify-workers must be at least 1, not {self.workers}")
        if self.timeout <= 0:
            raise ConfigError(f"the STS timeout must be positive, not {self.timeout}")
        if self.throttle_attempts < 1:
            raise ConfigError("throttle_attempts must be at least 1")
        bad = sorted(a for a in self.skip_accounts if not re.fullmatch(r"\d{12}", a))
        if bad:
            raise ConfigError(f"--skip-account needs 12-digit AWS account IDs, not {bad[0]!r}")


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


def cache_key(key_id: str, secret: str, token: str | None) -> CacheKey:
    """Identity of one credential for the per-run cache; holds no secret in clear."""
    return (key_id, _digest(secret), _digest(token or ""))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


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


# --- offline gate: no call at all -----------------------------------------------------------


def precheck(
    key_id: str | None, secret: str | None, token: str | None, options: VerifyOptions
) -> Validation | None:
    """The answer when no call may or can be made; None when STS must be asked."""
    if not key_id:
        return Validation(Status.UNVERIFIABLE, reason="no key ID to check")
    if not secret:
        return Validation(Status.UNVERIFIABLE, reason="key ID without a secret access key")
    if is_short_term(key_id) and not token:
        return Validation(Status.UNVERIFIABLE, reason="short-term key ID without a session token")
    return canary_gate(key_id, options)


def is_short_term(key_id: str) -> bool:
    return key_id.startswith("ASIA")


def canary_gate(key_id: str, options: VerifyOptions) -> Validation | None:
    """`canary` when the key's account (decoded offline) must never see a request from us."""
    from keyscan.aws import canary_accounts, decode_account

    account = decode_account(key_id)
    if account is None:
        return None
    if account in options.skip_accounts:
        return Validation(Status.CANARY, account=account, reason="account in the skip list")
    if account in canary_accounts() and not options.verify_canaries:
        return Validation(Status.CANARY, account=account, reason="known canary-token account")
    return None


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
    """Ask STS who this credential is. Never raises for what the network or AWS answers."""
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


# --- many findings ------------------------------------------------------------------------


class Verifier:
    """One run's verification state: botocore session, cache, per-key-ID spacing."""

    def __init__(self, options: VerifyOptions, session: Any | None = None) -> None:
        require_botocore()
        check_endpoint(options.endpoint)
        self.options = options
        self._session = session or new_session()
        self._cache: dict[CacheKey, Validation] = {}
        self._spacer = _Spacer(options.same_key_gap)

    def verify(self, findings: Sequence[Finding]) -> list[Finding]:
        local = [self._local(f) for f in findings]
        todo: dict[CacheKey, tuple[str, str, str | None]] = {}
        for finding, answer in zip(findings, local, strict=True):
            if answer is None and _is_credential(finding):
                assert finding.key_id is not None and finding.secret is not None
                key = cache_key(finding.key_id, finding.secret, finding.token)
                if key not in self._cache:
                    todo[key] = (finding.key_id, finding.secret, finding.token)
        self._run(todo)
        return [self._fill(f, answer) for f, answer in zip(findings, local, strict=True)]

    def check(self, key_id: str, secret: str, token: str | None) -> Validation:
        """One credential through the cache (and the same-key spacing)."""
        key = cache_key(key_id, secret, token)
        if key not in self._cache:
            with self._spacer.turn(key_id, key[1]):
                result = check_credential(key_id, secret, token, self.options, self._session)
            self._cache[key] = result
            log.debug("verified %s: %s", key_id, result.status.value)
        return self._cache[key]

    def _run(self, todo: dict[CacheKey, tuple[str, str, str | None]]) -> None:
        if not todo:
            return
        workers = min(self.options.workers, len(todo))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="keyscan-sts") as pool:
            futures = [pool.submit(self.check, *creds) for creds in todo.values()]
            try:
                for future in futures:
                    future.result()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise

    def _local(self, finding: Finding) -> Validation | None:
        """The answer without STS; None when STS must be asked (or for a mere identifier)."""
        if finding.kind == FindingKind.IDENTIFIER:
            return None
        if finding.decoy is not None:
            return Validation(Status.UNVERIFIABLE, reason=f"{finding.decoy.value} value, not sent")
        answer = precheck(finding.key_id, finding.secret, finding.token, self.options)
        if answer is None and finding.expired:  # its own Expiration has passed: no call needed
            reason = f"expired at {finding.expires_at}, not sent"
            answer = Validation(Status.EXPIRED, reason=reason)
        if answer is None and finding.canary:
            answer = self._flagged_canary(finding)
        return answer

    def _flagged_canary(self, finding: Finding) -> Validation | None:
        """Detection flagged a canary account (built-in list or the user's config list)."""
        from keyscan.aws import canary_accounts

        if finding.account_id not in canary_accounts():
            # the user's own list: honoured even with --verify-canaries
            return Validation(
                Status.CANARY, account=finding.account_id, reason="account in the skip list"
            )
        if self.options.verify_canaries:
            return None
        return Validation(
            Status.CANARY, account=finding.account_id, reason="known canary-token account"
        )

    def _fill(self, finding: Finding, answer: Validation | None) -> Finding:
        if answer is None:
            if not _is_credential(finding):
                return finding  # an IAM unique ID: information, not a credential
            assert finding.key_id is not None and finding.secret is not None
            answer = self._cache[cache_key(finding.key_id, finding.secret, finding.token)]
        return replace(finding, validation=answer)


def _is_credential(finding: Finding) -> bool:
    return finding.kind != FindingKind.IDENTIFIER and bool(finding.key_id and finding.secret)


def verify_findings(
    findings: Sequence[Finding], options: VerifyOptions, *, verifier: Verifier | None = None
) -> list[Finding]:
    """The findings with ``.validation`` filled; each distinct credential is checked once."""
    return (verifier or Verifier(options)).verify(findings)


class _Spacer:
    """Serialises calls per key ID and keeps different secrets of one key ID ``gap`` apart."""

    def __init__(self, gap: float) -> None:
        self._gap = gap
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self._last: dict[str, tuple[float, str]] = {}

    @contextmanager
    def turn(self, key_id: str, secret_digest: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(key_id, threading.Lock())
        with lock:
            last = self._last.get(key_id)
            if last is not None and last[1] != secret_digest:
                time.sleep(max(0.0, last[0] + self._gap - time.monotonic()))
            try:
                yield
            finally:
                self._last[key_id] = (time.monotonic(), secret_digest)


# --- inputs of `keyscan verify`: a findings file, one pair on stdin, the AWS_* variables -------

_ENV_NAMES = {
    "aws_access_key_id": "key_id",
    "aws_secret_access_key": "secret",
    "aws_session_token": "token",
    "accesskeyid": "key_id",
    "secretaccesskey": "secret",
    "sessiontoken": "token",
}
_REDACTED = re.compile(r".{0,4}\*{8}")


def findings_from_text(text: str, origin: str) -> list[Finding]:
    """Credentials to re-check from ``origin`` (a file name or "<stdin>").

    Accepts a keyscan JSON report (``--format json --show-secrets``) or JSON Lines, a JSON
    credentials object (``aws sts assume-role`` / ``export-credentials`` output), ``NAME=value``
    lines (env or ini style), or ``KEY_ID SECRET [TOKEN]``.
    """
    stripped = text.strip()
    if not stripped:
        raise ConfigError(f"{origin}: nothing to verify")
    docs = _json_documents(stripped)
    if docs is not None:
        return _from_json(docs, origin)
    return [_manual(*_pair_from_lines(stripped, origin), path=origin)]


def finding_from_env(env: Mapping[str, str]) -> Finding | None:
    """The credential in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, if any."""
    key_id, secret = env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")
    if not key_id:
        return None
    return _manual(
        key_id.strip(),
        (secret or "").strip() or None,
        (env.get("AWS_SESSION_TOKEN") or "").strip() or None,
        path="<environment>",
    )


def _json_documents(text: str) -> list[Any] | None:
    import json

    if text[0] not in "[{":
        return None
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        try:  # JSON Lines
            return [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError:
            return None


def _from_json(docs: list[Any], origin: str) -> list[Finding]:
    if len(docs) == 1 and isinstance(docs[0], dict) and "findings" in docs[0]:
        docs = docs[0]["findings"]
    elif len(docs) == 1 and isinstance(docs[0], list):
        docs = docs[0]
    findings = []
    for doc in docs:
        if not isinstance(doc, dict):
            raise ConfigError(f"{origin}: not a keyscan findings file")
        doc = doc.get("Credentials", doc)  # `aws sts assume-role` output
        if "AccessKeyId" in doc:
            findings.append(
                _manual(
                    doc["AccessKeyId"],
                    doc.get("SecretAccessKey"),
                    doc.get("SessionToken"),
                    path=origin,
                )
            )
        elif "key_id" in doc and "kind" in doc:
            findings.append(_from_report(doc, origin))
        else:
            raise ConfigError(f"{origin}: not a keyscan findings file")
    return findings


def _from_report(doc: dict[str, Any], origin: str) -> Finding:
    """A finding written by keyscan's JSON reporter (the inverse of ``finding_dict``)."""
    from keyscan.model import Commit, Decoy, KeyClass

    secret, token = doc.get("secret"), doc.get("session_token")
    for value in (secret, token):
        if value and _REDACTED.fullmatch(value):
            raise ConfigError(
                f"{origin} holds redacted secrets: write it with --format json --show-secrets"
            )
    commit = None
    if doc.get("commit"):
        commit = Commit(
            doc["commit"],
            doc.get("author") or "",
            doc.get("email") or "",
            doc.get("date") or "",
            doc.get("message") or "",
        )
    return Finding(
        kind=FindingKind(doc["kind"]),
        rule_id=doc.get("rule_id") or "",
        rules=tuple(doc.get("rules") or ()),
        key_id=doc.get("key_id"),
        secret=secret,
        token=token,
        key_class=KeyClass(doc.get("class") or "unknown"),
        account_id=doc.get("account_id"),
        canary=bool(doc.get("canary")),
        expires_at=doc.get("expires_at"),
        expired=doc.get("expired"),
        decoy=Decoy(doc["example"]) if doc.get("example") else None,
        path=doc.get("path") or origin,
        line=int(doc.get("line") or 0),
        column=int(doc.get("column") or 0),
        end_line=int(doc.get("end_line") or 0),
        blob=doc.get("blob"),
        confidence=doc.get("confidence") or "high",
        commit=commit,
        in_head=doc.get("in_head"),
        also_in=tuple(doc.get("also_in") or ()),
        suppressed=doc.get("suppressed"),
    )


def _pair_from_lines(text: str, origin: str) -> tuple[str, str | None, str | None]:
    named: dict[str, str] = {}
    for line in text.splitlines():
        name, sep, value = line.removeprefix("export ").partition("=")
        field = _ENV_NAMES.get(name.strip().lower())
        if sep and field:
            named[field] = value.strip().strip("'\"")
    if "key_id" in named:
        return named["key_id"], named.get("secret"), named.get("token")
    words = text.split()
    if 2 <= len(words) <= 3 and not named:
        return words[0], words[1], words[2] if len(words) == 3 else None
    raise ConfigError(f"{origin}: expected KEY_ID SECRET [TOKEN], NAME=value lines or JSON")


def _manual(key_id: str, secret: str | None, token: str | None, *, path: str) -> Finding:
    """A finding for a credential given by hand (no file, no line)."""
    from keyscan import aws, rules

    account = aws.decode_account(key_id)
    return Finding(
        kind=FindingKind.CREDENTIAL if secret else FindingKind.KEY_ID,
        rule_id="verify",
        rules=("verify",),
        key_id=key_id,
        secret=secret,
        token=token,
        key_class=aws.key_class(key_id, rules.load().prefixes),
        account_id=account,
        canary=account is not None and account in aws.canary_accounts(),
        expires_at=None,
        expired=None,
        decoy=None,
        path=path,
        line=0,
        column=0,
        end_line=0,
    )
