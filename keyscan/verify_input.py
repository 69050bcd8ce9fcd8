"""The inputs of ``keyscan verify``: a findings file, one pair on stdin, the AWS_* variables.

Each reader returns plain ``Finding`` values for ``keyscan.validate`` to check; nothing here
talks to the network or imports botocore.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from keyscan.errors import ConfigError
from keyscan.model import Finding, FindingKind

_ENV_NAMES = {
    "aws_access_key_id": "key_id",
    "aws_secret_access_key": "secret",
    "aws_session_token": "token",
    "accesskeyid": "key_id",
    "secretaccesskey": "secret",
    "sessiontoken": "token",
}
_REDACTED = re.compile(r".{0,4}\*{8}")  # what keyscan.report.fields.redact() writes


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
    """A finding written by keyscan's JSON reporter (the inverse of ``finding_dict``).

    Kept here, not beside ``finding_dict``: reports only write, and the errors are about what
    ``keyscan verify`` was given. The round-trip test in tests/test_verify_input.py fails when
    a field is added to one side only. ``validation`` and ``remediation`` are not read back:
    they are what this run is about to recompute.
    """
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
