"""Every report format against a reviewed golden file (`pytest --update-golden` rewrites them)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import jsonschema
import pytest

from keyscan import __version__
from keyscan.cli import main
from tests.fakes import fake_account, fake_key_id, fake_secret, fake_token

GOLDEN = Path(__file__).parent.parent / "golden"
SCHEMA = Path(__file__).parent.parent / "data" / "sarif-schema-2.1.0.json"


def build_tree(root: Path) -> dict[str, str]:
    rng = random.Random(2026)
    long_key, long_secret = fake_key_id("AKIA", account=fake_account(rng), rng=rng), fake_secret(rng)
    short_key, short_secret = fake_key_id("ASIA", account=fake_account(rng), rng=rng), fake_secret(rng)
    token = fake_token(rng, 400)
    lone_key = fake_key_id("AKIA", rng=rng)
    lone_secret = fake_secret(rng)
    (root / "config").mkdir()
    (root / "config" / "prod.env").write_text(
        f"# production\nAWS_ACCESS_KEY_ID={long_key}\nAWS_SECRET_ACCESS_KEY={long_secret}\n"
    )
    (root / "sts.json").write_text(json.dumps({"Credentials": {
        "AccessKeyId": short_key, "SecretAccessKey": short_secret, "SessionToken": token,
        "Expiration": "2020-05-01T12:00:00Z"}}, indent=2) + "\n")
    (root / "notes.md").write_text(f"Old key: `{lone_key}`\n\nDocs use AKIAIOSFODNN7EXAMPLE.\n")
    (root / "app.py").write_text(f'AWS_SECRET = "{lone_secret}"\n')
    return {"long_key": long_key}


def normalise(text: str) -> str:
    return text.replace(f'"version": "{__version__}"', '"version": "VERSION"')


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    build_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("fmt", ["text", "json", "jsonl", "sarif"])
def test_report_matches_golden(tree: Path, fmt: str, request: pytest.FixtureRequest,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", ".", "--format", fmt, "--no-progress", "--jobs", "1"]) == 1
    out = normalise(capsys.readouterr().out)
    golden = GOLDEN / f"scan.{fmt}"
    if request.config.getoption("--update-golden"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_no_secret_appears_in_any_redacted_format(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = []
    for path in tree.rglob("*"):
        if path.is_file():
            secrets += [w for w in path.read_text().replace('"', " ").split() if len(w) >= 40 and not w.startswith("AKIA")]
    assert secrets
    for fmt in ("text", "json", "jsonl", "sarif"):
        main(["scan", ".", "--format", fmt, "--no-progress"])
        out, err = capsys.readouterr()
        for secret in secrets:
            value = secret.split("=")[-1]
            assert value[8:30] not in out + err, fmt


def test_show_secrets_prints_them(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", ".", "--format", "json", "--show-secrets", "--no-progress"])
    doc = json.loads(capsys.readouterr().out)
    assert all(len(f["secret"]) == 40 for f in doc["findings"] if f["secret"])


def test_sarif_is_valid_sarif_2_1_0(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["scan", ".", "--format", "sarif", "--no-progress"])
    doc = json.loads(capsys.readouterr().out)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    results = doc["runs"][0]["results"]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert results and all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)
    assert all("snippet" not in json.dumps(r) for r in results)


def test_output_file(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "config", "--format", "jsonl", "-o", "out.jsonl", "--no-progress"]) == 1
    assert capsys.readouterr().out == ""
    [line] = (tree / "out.jsonl").read_text().splitlines()
    assert json.loads(line)["kind"] == "credential"
