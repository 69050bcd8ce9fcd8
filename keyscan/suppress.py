"""The suppress stage: mark findings a person has accepted, and decide which findings fail.

Three ways to accept a finding, checked in this order; the first sets ``Finding.suppressed`` to
a reason a person can read:

1. an inline ``keyscan:allow`` comment on its line (marked earlier, by ``classify``);
2. an ``[[allow]]`` entry in the config: a key ID or a fingerprint, with a required reason;
3. the baseline file (by fingerprint; a lone key ID is covered by an entry with that key ID).

Suppressed findings stay in the list (``--show-suppressed`` lists them); reports and the exit
code look only at the others.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from keyscan.baseline import Baseline
from keyscan.classify import INLINE_ALLOW
from keyscan.config import Allow
from keyscan.model import Finding, FindingKind, KeyClass, Status

CONFIG_PREFIX = "config allow"
BASELINE_PREFIX = "baseline"
# A key ID or an IAM unique ID alone is an identifier: it names a key, it cannot be used.
_NO_SECRET = (FindingKind.KEY_ID, FindingKind.IDENTIFIER)


@dataclass(frozen=True)
class Policy:
    allow: tuple[Allow, ...] = ()
    allow_source: str = "config"
    baseline: Baseline | None = None


def apply(findings: Iterable[Finding], policy: Policy) -> list[Finding]:
    return [_suppress(f, policy) for f in findings]


def _suppress(f: Finding, policy: Policy) -> Finding:
    if f.suppressed is not None:
        return f
    reason = _allowed(f, policy) or _baselined(f, policy.baseline)
    return f if reason is None else dataclasses.replace(f, suppressed=reason)


def _allowed(f: Finding, policy: Policy) -> str | None:
    for entry in policy.allow:
        if (entry.key_id and entry.key_id == f.key_id) or (
            entry.fingerprint and f.fingerprint.startswith(entry.fingerprint)
        ):
            return f"{CONFIG_PREFIX} ({policy.allow_source}): {entry.reason}"
    return None


def _baselined(f: Finding, baseline: Baseline | None) -> str | None:
    entry = baseline.match(f) if baseline else None
    if entry is None:
        return None
    assert baseline is not None
    return f"{BASELINE_PREFIX} ({baseline.path})" + (f": {entry.note}" if entry.note else "")


def category(reason: str) -> str:
    """``inline``, ``config`` or ``baseline``: how the summary groups suppressed findings."""
    if reason.startswith(CONFIG_PREFIX):
        return "config allow"
    if reason.startswith(BASELINE_PREFIX):
        return "baseline"
    return "inline allow" if reason == INLINE_ALLOW else reason


def tally(findings: Iterable[Finding]) -> Counter[str]:
    return Counter(category(f.suppressed) for f in findings if f.suppressed is not None)


def fails(f: Finding, fail_on: str) -> bool:
    """Whether an unsuppressed finding fails the run (exit 1) under ``--fail-on``.

    any: every reported finding. credential: findings with secret material (a key pair, a
    labelled secret or a session token), not a key ID alone. long-term: credentials except
    short-term (STS) ones, which expire by themselves. valid: STS said the key works.
    """
    if fail_on == "any":
        return True
    if fail_on == "valid":
        return f.validation is not None and f.validation.status is Status.VALID
    has_secret = f.kind not in _NO_SECRET
    if fail_on == "credential":
        return has_secret
    if fail_on == "long-term":
        return has_secret and f.key_class is not KeyClass.SHORT_TERM
    raise ValueError(f"unknown fail-on policy {fail_on!r}")
