from __future__ import annotations

from pathlib import Path

import pytest

from keyscan import rules
from keyscan.cli import main
from keyscan.errors import RuleError


def test_builtin_rules_pass_their_own_examples() -> None:
    ruleset = rules.load()
    assert rules.check(ruleset) == []
    assert all(r.examples for r in ruleset.rules)


def test_rules_check_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "check"]) == 0
    assert "all pass" in capsys.readouterr().out


def test_rules_list_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "list"]) == 0
    assert "aws-access-key-id" in capsys.readouterr().out


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "extra.toml"
    path.write_text(body)
    return path


GOOD = '''
[[rules]]
id = "custom-key"
name = "Custom"
kind = "key_id"
keywords = ["ZZKEY"]
exact_keywords = true
pattern = \'\'\'(?P<key_id>ZZKEY[0-9]{4})\'\'\'
examples = ["ZZKEY1234"]
negative_examples = ["ZZKEY12"]
'''


def test_extra_rule_file_loads_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD)
    assert rules.load([path]).by_id("custom-key").keywords == ("ZZKEY",)
    assert main(["rules", "check", "--rules", str(path)]) == 0


def test_failing_example_fails_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, GOOD.replace('negative_examples = ["ZZKEY12"]', 'negative_examples = ["ZZKEY9999"]'))
    assert main(["rules", "check", "--rules", str(path)]) == 2
    assert "negative example matched" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("name = ", "nmae = "), "unknown key 'nmae'"),
        (("kind = \"key_id\"", "kind = \"password\""), "kind must be one of"),
        (("(?P<key_id>", "(?P<other>"), "needs a named group"),
        (("[0-9]{4})", "[0-9]{4}"), "does not compile"),
        (('keywords = ["ZZKEY"]', "keywords = []"), "needs keywords"),
        (('id = "custom-key"', 'id = "aws-access-key-id"'), "duplicate rule id"),
    ],
)
def test_bad_rules_are_errors_that_name_the_problem(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(RuleError, match=message):
        rules.load([path])


def test_unknown_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(RuleError, match="unknown key 'rule'"):
        rules.load([_write(tmp_path, "[[rule]]\nid='x'\n")])


def test_entropy() -> None:
    assert rules.shannon_entropy("") == 0.0
    assert rules.shannon_entropy("aaaa") == 0.0
    assert rules.shannon_entropy("0123456789abcdef" * 3) == pytest.approx(4.0)
