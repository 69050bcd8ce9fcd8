"""Plain values that flow through the pipeline.

Every secret-bearing field is declared with ``repr=False`` so that a finding printed in a log,
a traceback or a debugger never shows a secret access key or a session token.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class HitKind(StrEnum):
    """What one regex match is."""

    KEY_ID = "key_id"
    SECRET = "secret"
    TOKEN = "token"
    EXPIRATION = "expiration"
    IDENTIFIER = "identifier"


class FindingKind(StrEnum):
    """What a finding is after pairing."""

    CREDENTIAL = "credential"  # key ID + secret (+ session token)
    KEY_ID = "key_id"  # a key ID on its own
    SECRET = "secret"  # a labelled secret access key on its own
    SESSION_TOKEN = "session_token"  # a session token on its own
    IDENTIFIER = "identifier"  # an IAM unique ID (AIDA, AROA, ...): info only


class KeyClass(StrEnum):
    LONG_TERM = "long-term"
    SHORT_TERM = "short-term"
    UNKNOWN = "unknown"


class Decoy(StrEnum):
    """Why a match is not a real credential."""

    EXAMPLE = "example"  # published in AWS documentation (…EXAMPLE…)
    PLACEHOLDER = "placeholder"  # XXXX…, repeated characters, and the like


class Status(StrEnum):
    """Outcome of checking a credential with STS."""

    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"
    UNVERIFIABLE = "unverifiable"
    CANARY = "canary"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Hit:
    """One regex match inside one blob or file. Offsets are bytes from the start of the blob."""

    rule_id: str
    kind: HitKind
    value: str = field(repr=False)
    start: int
    end: int
    line: int
    column: int
    labelled: bool = True
    confidence: str = "high"
    allowed: bool = False  # its line carries an inline `keyscan:allow` marker


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    author: str
    email: str
    date: str
    summary: str


@dataclass(frozen=True, slots=True)
class Validation:
    status: Status
    account: str | None = None
    arn: str | None = None
    user_id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A credential (or part of one) found at one place.

    Identity (``fingerprint``) depends only on the kind and the values, never on where the
    finding is, so moving a leaked key to another line or file keeps its baseline entry.
    """

    kind: FindingKind
    rule_id: str
    rules: tuple[str, ...]
    key_id: str | None
    secret: str | None = field(repr=False)
    token: str | None = field(repr=False)
    key_class: KeyClass
    account_id: str | None
    canary: bool
    expires_at: str | None
    expired: bool | None
    decoy: Decoy | None
    path: str
    line: int
    column: int
    end_line: int
    blob: str | None = None
    confidence: str = "high"
    commit: Commit | None = None
    in_head: bool | None = None
    also_in: tuple[str, ...] = ()
    validation: Validation | None = None
    suppressed: str | None = None

    @property
    def fingerprint(self) -> str:
        parts = [self.kind.value, self.key_id or "", self.secret or "", self.token or ""]
        return hashlib.sha256(b"keyscan/1\0" + "\0".join(parts).encode()).hexdigest()


@dataclass(slots=True)
class Stats:
    """What a scan read, skipped and found; the summary on stderr is made from this."""

    files: int = 0
    blobs: int = 0
    bytes: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def skip(self, reason: str, message: str | None = None) -> None:
        self.skipped[reason] += 1
        if message is not None:
            self.errors.append(message)

    def merge(self, other: Stats) -> None:
        self.files += other.files
        self.blobs += other.blobs
        self.bytes += other.bytes
        self.skipped.update(other.skipped)
        self.errors.extend(other.errors)
        self.notes.extend(other.notes)

    @property
    def incomplete(self) -> bool:
        """True when something that should have been read could not be (not a deliberate skip)."""
        return bool(self.errors)
