"""The human report: findings grouped by file, most urgent first, colour only on a terminal."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby
from typing import TextIO

from keyscan.model import Finding, KeyClass, Stats, Status
from keyscan.remediation import remediation_for
from keyscan.report.fields import facts, redact

_RED, _YELLOW, _DIM, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"


def urgency(f: Finding) -> tuple[int, int]:
    """Valid long-term keys first, then other live ones, then by class."""
    status = f.validation.status if f.validation else None
    live = 0 if status is Status.VALID else 1
    order = {KeyClass.LONG_TERM: 0, KeyClass.SHORT_TERM: 1, KeyClass.UNKNOWN: 2}[f.key_class]
    return live, order


def write(findings: Sequence[Finding], stats: Stats, out: TextIO, show_secrets: bool, color: bool) -> None:
    def paint(code: str, s: str) -> str:
        return f"{code}{s}{_RESET}" if color else s

    if not findings:
        out.write("No AWS credentials found.\n")
        return
    by_path = groupby(sorted(findings, key=lambda f: f.path), key=lambda f: f.path)
    groups = [(path, sorted(items, key=lambda f: (urgency(f), f.line, f.column))) for path, items in by_path]
    groups.sort(key=lambda g: (min(urgency(f) for f in g[1]), g[0]))
    for path, items in groups:
        out.write(paint(_BOLD, path) + "\n")
        for f in items:
            colour = _RED if f.key_class is KeyClass.LONG_TERM else _YELLOW
            out.write(f"  {f.line}:{f.column}  {paint(colour, _label(f))}  {_headline(f)}\n")
            for line in _details(f, show_secrets):
                out.write(f"      {line}\n")
        out.write("\n")


def _label(f: Finding) -> str:
    kind = f.kind.value.replace("_", " ")
    return kind if f.key_class is KeyClass.UNKNOWN else f"{f.key_class.value} {kind}"


def _headline(f: Finding) -> str:
    bits = facts(f) if f.key_id else ["(no key ID nearby)", *facts(f)]
    if f.confidence in ("low", "info"):
        bits.append(f"({f.confidence} confidence)")
    return "  ".join(b for b in bits if b)


def _details(f: Finding, show_secrets: bool) -> list[str]:
    lines = []
    if f.secret:
        lines.append(f"secret access key  {redact(f.secret, show_secrets)}")
    if f.token:
        lines.append(f"session token  {redact(f.token, show_secrets)}")
    elif f.key_class is KeyClass.SHORT_TERM and f.kind.value != "session_token":
        lines.append("session token  not found nearby")
    if f.decoy:
        lines.append(f"{f.decoy.value}: this looks like an AWS documentation example or a placeholder")
    if f.commit:
        c = f.commit
        lines.append(f"commit {c.sha[:12]} by {c.author} <{c.email}> on {c.date}: {c.summary}")
    if f.in_head is False:
        lines.append("removed from HEAD, still in history: rotate it anyway")
    if f.also_in:
        more = " …" if len(f.also_in) > 3 else ""
        lines.append(f"also in {len(f.also_in)} other place(s): " + ", ".join(f.also_in[:3]) + more)
    if f.validation:
        v = f.validation
        detail = v.arn or v.reason or ""
        lines.append(f"validation: {v.status.value}" + (f" ({detail})" if detail else ""))
        lines += [f"  {advice}" for advice in remediation_for(f)]
    if f.suppressed:
        lines.append(f"suppressed: {f.suppressed}")
    lines.append(f"fingerprint {f.fingerprint[:16]}  ({', '.join(dict.fromkeys(f.rules))})")
    return lines
