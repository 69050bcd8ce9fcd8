"""Turn a group of hits into a Finding: kind, class, account, canary, expiry, decoy."""

from __future__ import annotations

from datetime import UTC, datetime

from keyscan import aws
from keyscan.model import Decoy, Finding, FindingKind, KeyClass
from keyscan.pair import Group
from keyscan.rules import Rule, RuleSet

INLINE_ALLOW = "inline keyscan:allow"


def classify(group: Group, ruleset: RuleSet, rules_by_id: dict[str, Rule], *, path: str,
             blob: str | None, now: datetime) -> Finding:
    parts = group.parts()
    first = min(parts, key=lambda h: h.start)
    key_id = group.key.value if group.key else None
    account = aws.decode_account(key_id) if key_id else None
    key_class = _key_class(group, ruleset)
    expires_at, expired = _expiry(group, key_class, now)
    primary = group.key or group.secret or group.token or group.identifier
    assert primary is not None
    return Finding(
        kind=_kind(group),
        rule_id=primary.rule_id,
        rules=tuple(h.rule_id for h in parts),
        key_id=key_id if key_id else (group.identifier.value if group.identifier else None),
        secret=group.secret.value if group.secret else None,
        token=group.token.value if group.token else None,
        key_class=key_class,
        account_id=account,
        canary=account is not None and account in ruleset.canary_accounts,
        expires_at=expires_at,
        expired=expired,
        decoy=_decoy(group, rules_by_id),
        path=path,
        line=first.line,
        column=first.column,
        end_line=max(h.line for h in parts),
        blob=blob,
        confidence=primary.confidence,
        suppressed=INLINE_ALLOW if any(h.allowed for h in parts) else None,
    )


def _kind(group: Group) -> FindingKind:
    if group.identifier:
        return FindingKind.IDENTIFIER
    if group.key and group.secret:
        return FindingKind.CREDENTIAL
    if group.key:
        return FindingKind.KEY_ID
    if group.secret:
        return FindingKind.SECRET
    return FindingKind.SESSION_TOKEN


def _key_class(group: Group, ruleset: RuleSet) -> KeyClass:
    if group.key:
        return aws.key_class(group.key.value, ruleset.prefixes)
    if group.token:
        return KeyClass.SHORT_TERM
    return KeyClass.UNKNOWN


def _decoy(group: Group, rules_by_id: dict[str, Rule]) -> Decoy | None:
    for hit in group.parts():
        reason = rules_by_id[hit.rule_id].decoy(hit.value)
        if reason is not None:
            return reason
    return None


def _expiry(group: Group, key_class: KeyClass, now: datetime) -> tuple[str | None, bool | None]:
    """Only short-term credentials expire; an Expiration near a long-term key belongs to something else."""
    hit = group.expiration
    if hit is None or key_class is not KeyClass.SHORT_TERM:
        return None, None
    try:
        when = datetime.fromisoformat(hit.value.replace(" ", "T"))
    except ValueError:
        return None, None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.isoformat().replace("+00:00", "Z"), when <= now
