"""Tell a live credential from a dead one with STS ``GetCallerIdentity`` (opt-in: ``--verify``).

This module decides what may be sent and runs a batch: the options, the offline gate (a key of
a known canary-token account is never sent: its account is decoded offline from the key ID),
and the Verifier, which checks each distinct credential once, a few at a time. The call itself
is in ``keyscan.sts``; the inputs of ``keyscan verify`` are read by ``keyscan.verify_input``.

botocore is imported only by ``keyscan.sts``, inside functions: the pre-commit hook path must
not pay for it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from keyscan.errors import ConfigError
from keyscan.model import Finding, FindingKind, Status, Validation
from keyscan.sts import check_credential, check_endpoint, new_session, require_botocore

log = logging.getLogger(__name__)

CacheKey = tuple[str, str, str]


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


def cache_key(key_id: str, secret: str, token: str | None) -> CacheKey:
    """Identity of one credential for the per-run cache; holds no secret in clear."""
    return (key_id, _digest(secret), _digest(token or ""))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


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
