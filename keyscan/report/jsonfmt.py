"""JSON (one document) and JSON Lines (one finding per line, streamable)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from keyscan import __version__
from keyscan.model import Finding, Stats
from keyscan.report.fields import finding_dict


def summary_dict(stats: Stats, findings: Sequence[Finding]) -> dict[str, Any]:
    by_class: dict[str, int] = {}
    for f in findings:
        by_class[f.key_class.value] = by_class.get(f.key_class.value, 0) + 1
    return {
        "files": stats.files,
        "blobs": stats.blobs,
        "bytes": stats.bytes,
        "skipped": dict(sorted(stats.skipped.items())),
        "errors": list(stats.errors),
        "notes": list(stats.notes),
        "findings": len(findings),
        "findings_by_class": dict(sorted(by_class.items())),
        "complete": not stats.incomplete,
    }


def write_json(findings: Sequence[Finding], stats: Stats, out: TextIO, show_secrets: bool, color: bool) -> None:
    doc = {
        "tool": "keyscan",
        "version": __version__,
        "findings": [finding_dict(f, show_secrets) for f in findings],
        "summary": summary_dict(stats, findings),
    }
    json.dump(doc, out, indent=2)
    out.write("\n")


def write_jsonl(findings: Sequence[Finding], stats: Stats, out: TextIO, show_secrets: bool, color: bool) -> None:
    for f in findings:
        out.write(json.dumps(finding_dict(f, show_secrets), separators=(",", ":")))
        out.write("\n")
