"""The baseline file: create, report only what is new, update, and never churn."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from keyscan import baseline
from keyscan.cli import main
from tests.fakes import fake_key_id, fake_secret, fake_token
from tests.gitrepo import GitRepo


def pair(seed: int, prefix: str = "AKIA") -> tuple[str, str]:
    rng = random.Random(seed)
    return fake_key_id(prefix, rng=rng), fake_secret(rng)


def env_text(seed: int) -> str:
    key_id, secret = pair(seed)
    return f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n"


def scan_json(root: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["scan", str(root), "--format", "json", "--no-progress", *extra])
    findings = json.loads(capsys.readouterr().out)["findings"]
    return code, findings


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "project"
    (root / "config").mkdir(parents=True)
    (root / "config" / "old.env").write_text(env_text(1))
    (root / "docs.md").write_text("nothing secret\n")
    monkeypatch.chdir(root)
    return root


def test_round_trip_create_new_key_update_clean(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "create"]) == 0
    assert "1 entry (1 added, 0 dropped)" in capsys.readouterr().err
    assert scan_json(project, capsys) == (0, [])

    (project / "config" / "new.env").write_text(env_text(2))
    code, findings = scan_json(project, capsys)
    assert code == 1
    assert [f["key_id"] for f in findings] == [pair(2)[0]]  # only the new one

    assert main(["baseline", "update"]) == 0
    assert "2 entries (1 added, 0 dropped)" in capsys.readouterr().err
    assert scan_json(project, capsys) == (0, [])


def test_moving_a_baselined_key_does_not_realert(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "create"]) == 0
    old = project / "config" / "old.env"
    text = old.read_text()
    old.unlink()
    (project / "deep" / "er").mkdir(parents=True)
    (project / "deep" / "er" / "moved.sh").write_text("#!/bin/sh\n\n\nexport X=1\n" + text.replace("\n", "\n\n"))
    assert scan_json(project, capsys) == (0, [])


def test_file_is_byte_identical_when_nothing_changed(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "b.env").write_text(env_text(3))
    assert main(["baseline", "create"]) == 0
    path = project / baseline.FILE_NAME
    first = path.read_bytes()
    stamp = path.stat().st_mtime_ns
    assert main(["baseline", "update"]) == 0
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == stamp  # not even rewritten
    assert "unchanged" in capsys.readouterr().err
    assert main(["baseline", "create", "--force"]) == 0
    assert path.read_bytes() == first


def test_file_holds_no_secret_no_location_no_timestamp(project: Path) -> None:
    key_id, secret = pair(1)
    assert main(["baseline", "create"]) == 0
    text = (project / baseline.FILE_NAME).read_text()
    assert secret not in text and secret[:4] + "*" not in text
    assert "old.env" not in text and "line" not in text and "date" not in text and "20" + "26" not in text
    doc = json.loads(text)
    assert doc["tool"] == "keyscan" and doc["version"] == 1 and doc["scope"] == "files"
    (entry,) = doc["findings"]
    assert set(entry) == {"fingerprint", "kind", "class", "key_id", "note"}
    assert entry["key_id"] == key_id and entry["kind"] == "credential" and entry["class"] == "long-term"
    assert text == json.dumps(doc, indent=2, sort_keys=True) + "\n"  # stable, sorted formatting


def test_update_keeps_notes_and_drops_what_is_gone(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "b.env").write_text(env_text(4))
    assert main(["baseline", "create"]) == 0
    path = project / baseline.FILE_NAME
    doc = json.loads(path.read_text())
    for entry in doc["findings"]:
        entry["note"] = f"rotated, ticket SEC-{entry['key_id'][-4:]}"
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")

    (project / "config" / "old.env").unlink()
    assert main(["baseline", "update"]) == 0
    assert "1 entry (0 added, 1 dropped)" in capsys.readouterr().err
    (entry,) = json.loads(path.read_text())["findings"]
    assert entry["key_id"] == pair(4)[0] and entry["note"] == f"rotated, ticket SEC-{pair(4)[0][-4:]}"

    code, findings = scan_json(project, capsys, "--show-suppressed")
    assert code == 0 and findings[0]["suppressed"].endswith(f": rotated, ticket SEC-{pair(4)[0][-4:]}")


def test_entries_are_sorted_and_deduplicated(project: Path) -> None:
    for seed in range(10, 16):
        (project / f"k{seed}.env").write_text(env_text(seed))
    (project / "copy.env").write_text(env_text(12))  # the same credential twice
    assert main(["baseline", "create"]) == 0
    fps = [e["fingerprint"] for e in json.loads((project / baseline.FILE_NAME).read_text())["findings"]]
    assert fps == sorted(fps) and len(fps) == len(set(fps)) == 7


def test_the_baseline_file_itself_does_not_alert(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It lists key IDs; each is covered by its own entry, so committing it is clean."""
    assert main(["baseline", "create"]) == 0
    assert main(["scan", baseline.FILE_NAME, "--no-progress"]) == 0
    assert main(["hook", baseline.FILE_NAME, "config/old.env"]) == 0
    assert "suppressed (2 baseline)" in capsys.readouterr().err
    assert main(["baseline", "update"]) == 0  # scanning it again adds nothing
    assert len(json.loads((project / baseline.FILE_NAME).read_text())["findings"]) == 1


def test_inline_and_config_allowed_findings_are_not_baselined(project: Path) -> None:
    key_id, secret = pair(6)
    (project / "t.py").write_text(f"K = '{key_id}'  # keyscan:allow\n")
    (project / ".keyscan.toml").write_text(f'[[allow]]\nkey_id = "{pair(1)[0]}"\nreason = "test"\n')
    assert main(["baseline", "create"]) == 0
    assert json.loads((project / baseline.FILE_NAME).read_text())["findings"] == []


def test_explicit_and_configured_baselines(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "create", "-o", "accepted.json"]) == 0
    assert not (project / baseline.FILE_NAME).exists()
    assert scan_json(project, capsys)[0] == 1  # not found by name: not used
    assert scan_json(project, capsys, "--baseline", "accepted.json") == (0, [])
    (project / ".keyscan.toml").write_text('baseline = "accepted.json"\n')
    assert scan_json(project, capsys) == (0, [])
    assert scan_json(project, capsys, "--no-baseline")[0] == 1


def test_create_refuses_to_overwrite_and_bad_files_are_errors(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["baseline", "create"]) == 0
    capsys.readouterr()
    assert main(["baseline", "create"]) == 2
    assert "baseline update" in capsys.readouterr().err
    (project / baseline.FILE_NAME).write_text("{not json")
    assert main(["scan", "."]) == 2
    assert baseline.FILE_NAME in capsys.readouterr().err
    (project / baseline.FILE_NAME).write_text('{"tool": "keyscan", "version": 1, "findings": [{"note": ""}]}')
    assert main(["scan", "."]) == 2
    assert "findings[0]" in capsys.readouterr().err
    assert main(["scan", ".", "--baseline", "missing.json"]) == 2
    assert "keyscan baseline create" in capsys.readouterr().err


def test_update_creates_a_missing_baseline(project: Path) -> None:
    assert main(["baseline", "update"]) == 0
    assert len(json.loads((project / baseline.FILE_NAME).read_text())["findings"]) == 1


def test_a_session_token_changes_the_fingerprint_but_a_location_does_not(project: Path) -> None:
    rng = random.Random(8)
    key_id, secret, token = fake_key_id("ASIA", rng=rng), fake_secret(rng), fake_token(rng)
    (project / "sts.env").write_text(f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
    assert main(["baseline", "create", "--force"]) == 0
    (project / "sts.env").write_text(
        f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\nAWS_SESSION_TOKEN={token}\n"
    )
    assert main(["scan", ".", "--no-progress"]) == 1  # a different credential: key + token


def test_history_baseline_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("add key", {"deploy.env": env_text(21)})
    repo.commit("remove key", {"deploy.env": None})
    monkeypatch.chdir(repo.path)
    assert main(["baseline", "create", "--history"]) == 0
    doc = json.loads((repo.path / baseline.FILE_NAME).read_text())
    assert doc["scope"] == "history" and [e["key_id"] for e in doc["findings"]] == [pair(21)[0]]
    capsys.readouterr()
    # `update` keeps the scope it was created with: the removed key is still in history.
    assert main(["baseline", "update"]) == 0
    assert "1 entry (0 added, 0 dropped)" in capsys.readouterr().err
