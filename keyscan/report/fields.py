"""What every report says about a finding, and the one place secrets are redacted."""

from __future__ import annotations

from typing import Any

from keyscan.model import Finding
from keyscan.remediation import remediation_for

SHOWN_PREFIX = 4


def redact(value: str | None, show: bool = False) -> str | None:
    """A secret as a few leading characters and a mask; the length is not revealed."""
    if value is None or show:
        return value
    return value[:SHOWN_PREFIX] + "*" * 8


def finding_dict(f: Finding, show_secrets: bool) -> dict[str, Any]:
    commit = f.commit
    validation = f.validation
    return {
        "fingerprint": f.fingerprint,
        "rule_id": f.rule_id,
        "rules": list(f.rules),
        "kind": f.kind.value,
        "class": f.key_class.value,
        "confidence": f.confidence,
        "key_id": f.key_id,
        "secret": redact(f.secret, show_secrets),
        "session_token": redact(f.token, show_secrets),
        "account_id": f.account_id,
        "canary": f.canary,
        "expires_at": f.expires_at,
        "expired": f.expired,
        "example": f.decoy.value if f.decoy else None,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "end_line": f.end_line,
        "blob": f.blob,
        "commit": commit.sha if commit else None,
        "author": commit.author if commit else None,
        "email": commit.email if commit else None,
        "date": commit.date if commit else None,
        "message": commit.summary if commit else None,
        "in_head": f.in_head,
        "also_in": list(f.also_in),
        "validation": None if validation is None else {
            "status": validation.status.value,
            "account": validation.account,
            "arn": validation.arn,
            "user_id": validation.user_id,
            "reason": validation.reason,
        },
        "suppressed": f.suppressed,
        "remediation": remediation_for(f),
    }


def describe(f: Finding) -> str:
    """One line that says what was found, with no secret in it."""
    what = {
        "credential": "AWS credential (key ID and secret)",
        "key_id": "AWS access key ID",
        "secret": "AWS secret access key",
        "session_token": "AWS session token",
        "identifier": "AWS IAM unique ID (not a secret)",
    }[f.kind.value]
    label = f"{f.key_class.value} {what}" if f.key_class.value != "unknown" else what
    return ", ".join([label, *facts(f)])


def facts(f: Finding) -> list[str]:
    """Key ID, account, canary and expiry: what identifies a credential without its secret."""
    bits = [f.key_id] if f.key_id else []
    if f.account_id:
        bits.append(f"account {f.account_id}")
    if f.canary:
        bits.append("canary-token account")
    if f.expires_at:
        bits.append(("expired " if f.expired else "expires ") + f.expires_at)
    return bits
