"""SARIF 2.1.0 as GitHub code scanning accepts it. No snippet, so no secret, ever."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

from keyscan import __version__, rules
from keyscan.model import Finding, KeyClass, Stats
from keyscan.remediation import remediation_for
from keyscan.report.fields import describe

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_HELP = (
    "Rotate the credential: deactivate and delete the access key in IAM (or let short-term "
    "credentials expire and revoke the role's sessions), check CloudTrail for its use, then "
    "remove it from the code and its history. If it is a false positive, add `keyscan:allow` "
    "on the line or add its fingerprint to the baseline."
)


def _level(f: Finding) -> str:
    if f.kind.value == "identifier" or f.decoy:
        return "note"
    return "error" if f.key_class is KeyClass.LONG_TERM or f.kind.value == "credential" else "warning"


def _uri(path: str) -> str:
    return path.replace("\\", "/").removeprefix("./")


def write(findings: Sequence[Finding], stats: Stats, out: TextIO, show_secrets: bool, color: bool) -> None:
    ruleset = rules.load()
    rule_ids = [r.id for r in ruleset.rules]
    # Rules from --rules or config files are not known here: describe them from the findings.
    extra = sorted({f.rule_id for f in findings} - set(rule_ids))
    driver_rules = [
        {
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.id.split("-")),
            "shortDescription": {"text": r.name},
            "fullDescription": {"text": r.description or r.name},
            "help": {"text": _HELP, "markdown": _HELP},
            "defaultConfiguration": {"level": "note" if r.kind.value == "identifier" else "error"},
            "properties": {
                "tags": ["security", "secret", "aws"],
                "precision": r.confidence if r.confidence != "info" else "low",
            },
        }
        for r in ruleset.rules
    ] + [
        {"id": rid, "shortDescription": {"text": rid}, "help": {"text": _HELP, "markdown": _HELP}}
        for rid in extra
    ]
    rule_ids += extra
    results = [_result(f, rule_ids) for f in findings]
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "keyscan",
                        "version": __version__,
                        "informationUri": "https://github.com/keyscan/keyscan",
                        "rules": driver_rules,
                    }
                },
                "results": results,
                "invocations": [{"executionSuccessful": not stats.incomplete}],
            }
        ],
    }
    json.dump(doc, out, indent=2)
    out.write("\n")


def _result(f: Finding, rule_ids: list[str]) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": f.line, "startColumn": f.column, "endLine": max(f.end_line, f.line)}
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "level": _level(f),
        "message": {"text": " ".join([describe(f), *remediation_for(f)])},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": _uri(f.path)}, "region": region}}],
        "partialFingerprints": {"keyscan/v1": f.fingerprint},
        "properties": {
            "kind": f.kind.value,
            "class": f.key_class.value,
            "keyId": f.key_id,
            "accountId": f.account_id,
            "commit": f.commit.sha if f.commit else None,
            "inHead": f.in_head,
            "validation": f.validation.status.value if f.validation else None,
        },
    }
    if f.rule_id in rule_ids:
        result["ruleIndex"] = rule_ids.index(f.rule_id)
    return result
