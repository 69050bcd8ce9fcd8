"""Configuration: every bad config is exit 2 with a message naming the file, the key and the fix;
flag defaults fill in only what the command line left unset."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from keyscan import config
from keyscan.cli import main
from tests.fakes import fake_key_id, fake_secret


def env_text(seed: int = 1) -> str:
    rng = random.Random(seed)
    return f"AWS_ACCESS_KEY_ID={fake_key_id(rng=rng)}\nAWS_SECRET_ACCESS_KEY={fake_secret(rng)}\n"


BAD = [
    ('exclud = ["x"]\n', "'exclud'", "known keys"),
    ('exclude = "x"\n', "exclude", "list of strings"),
    ('exclude = ["[abc"]\n', "[abc", "unclosed"),
    ('canary_accounts = ["123"]\n', "canary_accounts", "12-digit"),
    ('allow = ["AKIA"]\n', "allow", "[[allow]]"),
    ('[[allow]]\nkey_id = "{key}"\n', "allow[0]", "reason is required"),
    ('[[allow]]\nkey_id = "{key}"\nreason = "  "\n', "allow[0]", "reason is required"),
    ('[[allow]]\nkey_id = "{key}"\nfingerprint = "0123456789abcdef"\nreason = "r"\n', "allow[0]", "exactly one of"),
    ('[[allow]]\nreason = "r"\n', "allow[0]", "exactly one of"),
    ('[[allow]]\nkey_id = "not-a-key"\nreason = "r"\n', "key_id", "20 characters"),
    ('[[allow]]\nfingerprint = "abc"\nreason = "r"\n', "fingerprint", "16 to 64 hex"),
    ('[[allow]]\nkeyid = "{key}"\nreason = "r"\n', "'keyid'", "known keys: fingerprint, key_id, reason"),
    ('baseline = 3\n', "baseline", "file name"),
    ('fail_on = "sometimes"\n', "fail_on", "any, credential, long-term, valid"),
    ('format = "xml"\n', "format", "text, json, jsonl, sarif"),
    ('jobs = 0\n', "jobs", "1 or more"),
    ('jobs = true\n', "jobs", "1 or more"),
    ('max_size = "huge"\n', "max_size", '"50M"'),
    ('include_examples = "yes"\n', "include_examples", "true or false"),
    ('show_suppressed = 1\n', "show_suppressed", "true or false"),
    ('exclude = [\n', "not valid TOML", ""),
]
CASES = [(text, key, fix, where) for text, key, fix in BAD for where in (".keyscan.toml", "pyproject.toml")
         if not (where == "pyproject.toml" and key == "not valid TOML")]  # broken pyproject: not ours


@pytest.mark.parametrize(("text", "key", "fix", "where"), CASES, ids=[f"{c[3]}:{c[1]}:{c[2]}" for c in CASES])
def test_bad_config_exits_2_naming_file_key_and_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, key: str, fix: str, where: str
) -> None:
    text = text.replace("{key}", fake_key_id(rng=random.Random(1)))
    if where == "pyproject.toml":
        text = "[tool.keyscan]\n" + text.replace("[[allow]]", "[[tool.keyscan.allow]]")
    (tmp_path / where).write_text(text)
    (tmp_path / "a.txt").write_text("hello\n")
    for command in (["scan", str(tmp_path)], ["baseline", "create", str(tmp_path)]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert where in err and key in err and fix in err, err


def test_hook_reports_config_errors_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".keyscan.toml").write_text('fail_on = "never"\n')
    Path("a.txt").write_text("x\n")
    assert main(["hook", "a.txt"]) == 2
    assert ".keyscan.toml" in capsys.readouterr().err


def test_explicit_config_file_wins_and_missing_one_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".keyscan.toml").write_text('fail_on = "credential"\n')
    (tmp_path / "other.toml").write_text('fail_on = "any"\n')
    (tmp_path / "ids.md").write_text(f"old key {fake_key_id(rng=random.Random(3))}\n")
    assert main(["scan", str(tmp_path)]) == 0
    assert main(["scan", str(tmp_path), "--config", str(tmp_path / "other.toml")]) == 1
    assert main(["scan", str(tmp_path), "--config", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml" in capsys.readouterr().err


def test_flag_defaults_from_config_and_the_command_line_wins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".keyscan.toml").write_text(
        'format = "json"\nfail_on = "credential"\nmax_size = "1K"\njobs = 1\nshow_suppressed = true\n'
    )
    (tmp_path / "ids.md").write_text(f"old key {fake_key_id(rng=random.Random(3))}\n")
    (tmp_path / "big.env").write_text(env_text() + "#" * 2000 + "\n")
    assert main(["scan", str(tmp_path)]) == 0  # the lone key ID does not fail; big.env is skipped
    out, err = capsys.readouterr()
    assert json.loads(out)["findings"][0]["kind"] == "key_id" and "1 too-large" in err
    assert main(["scan", str(tmp_path), "--format", "text", "--fail-on", "any", "--max-size", "1M"]) == 1
    out, _ = capsys.readouterr()
    assert "long-term credential" in out and not out.startswith("{")


def test_config_fail_on_valid_needs_verify(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".keyscan.toml").write_text('fail_on = "valid"\n')
    assert main(["scan", str(tmp_path)]) == 2
    assert "--verify" in capsys.readouterr().err


def test_allow_by_key_id_and_fingerprint_prefix_with_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.env").write_text(env_text(1))
    (tmp_path / "b.env").write_text(env_text(2))
    assert main(["scan", str(tmp_path), "--format", "json"]) == 1
    by_file = {f["path"].rsplit("/", 1)[-1]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    (tmp_path / ".keyscan.toml").write_text(
        f'[[allow]]\nkey_id = "{by_file["a.env"]["key_id"]}"\nreason = "vendor docs sample"\n\n'
        f'[[allow]]\nfingerprint = "{by_file["b.env"]["fingerprint"][:16].upper()}"\nreason = "load-test account, deleted"\n'
    )
    assert main(["scan", str(tmp_path), "--format", "json", "--show-suppressed"]) == 0
    out, err = capsys.readouterr()
    reasons = sorted(f["suppressed"] for f in json.loads(out)["findings"])
    assert reasons[0].startswith("config allow (") and reasons[0].endswith("load-test account, deleted")
    assert reasons[1].endswith(": vendor docs sample")
    # The config file names a key ID; that mention is allowed by the same entry.
    assert "3 suppressed (3 config allow)" in err


def test_pyproject_table_is_found_upwards(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.keyscan]\nfail_on = "long-term"\n')
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    rng = random.Random(4)
    (sub / "sts.env").write_text(
        f"AWS_ACCESS_KEY_ID={fake_key_id('ASIA', rng=rng)}\nAWS_SECRET_ACCESS_KEY={fake_secret(rng)}\n"
    )
    assert main(["scan", str(sub)]) == 0  # a short-term credential does not fail long-term
    cfg = config.load(None, str(sub))
    assert cfg.defaults == {"fail_on": "long-term"} and cfg.source == str(tmp_path / "pyproject.toml")


def test_parse_size() -> None:
    assert config.parse_size("50M") == 50 << 20
    assert config.parse_size("1.5k") == 1536
    assert config.parse_size(4096) == 4096
    assert config.parse_size("lots") is None and config.parse_size(-1) is None
