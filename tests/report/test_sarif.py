from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from keyscan.cli import main

SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"
RULE = """
[[rules]]
id = "corp-deploy-token"
name = "Corp deploy token"
kind = "key_id"
keywords = ["CORPTK"]
exact_keywords = true
pattern = '''(?P<key_id>CORPTK[0-9]{8})'''
examples = ["CORPTK12345678"]
"""


def test_findings_of_user_rules_have_a_rule_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "rules.toml").write_text(RULE)
    (tmp_path / "deploy.sh").write_text("TOKEN=CORPTK87654321\n")
    assert main(["scan", str(tmp_path / "deploy.sh"), "--rules", str(tmp_path / "rules.toml"), "--format", "sarif"]) == 1
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    [result] = doc["runs"][0]["results"]
    assert doc["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "corp-deploy-token"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 1
