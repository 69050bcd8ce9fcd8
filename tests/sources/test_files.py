"""The file source: walking, skipping with counts, bad input, parallel = serial."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

from keyscan.cli import main
from keyscan.engine import DetectOptions, Engine
from keyscan.model import Stats
from keyscan.sources.files import FileOptions, scan_paths
from tests.fakes import fake_key_id, fake_secret


def pair_text(seed: int) -> tuple[str, str, str]:
    rng = random.Random(seed)
    key, secret = fake_key_id("AKIA", rng=rng), fake_secret(rng)
    return key, secret, f"AWS_ACCESS_KEY_ID={key}\nAWS_SECRET_ACCESS_KEY={secret}\n"


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict, str]:
    code = main([*argv, "--format", "json", "--no-progress"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_binary_files_are_skipped_and_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, _, text = pair_text(1)
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" + text.encode())
    code, doc, err = run_json(["scan", str(tmp_path)], capsys)
    assert code == 0 and doc["findings"] == [] and doc["summary"]["skipped"] == {"binary": 1}
    assert "1 binary" in err
    code, doc, _ = run_json(["scan", "--include-binary", str(tmp_path)], capsys)
    assert code == 1 and doc["findings"][0]["key_id"] == key


def test_non_utf8_and_empty_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, _, text = pair_text(2)
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 \xff\xfe\n".encode("latin-1") + text.encode())
    (tmp_path / "empty.txt").write_bytes(b"")
    code, doc, _ = run_json(["scan", str(tmp_path)], capsys)
    assert code == 1
    assert [(f["path"].endswith("latin1.txt"), f["line"], f["column"]) for f in doc["findings"]] == [(True, 2, 19)]
    assert doc["summary"]["files"] == 2


def test_unreadable_file_is_a_warning_a_count_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # Reading /proc/self/mem from offset 0 fails with EIO even for root: a real unreadable file.
    code, doc, err = run_json(["scan", "/proc/self/mem"], capsys)
    assert code == 2
    assert doc["summary"]["skipped"] == {"unreadable": 1} and doc["summary"]["complete"] is False
    assert "keyscan: warning: /proc/self/mem: cannot read" in err and "INCOMPLETE" in err


def test_unreadable_file_does_not_stop_the_scan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, _, text = pair_text(3)
    (tmp_path / "a.env").write_text(text)
    code, doc, _ = run_json(["scan", "/proc/self/mem", str(tmp_path)], capsys)
    assert code == 1 and [f["key_id"] for f in doc["findings"]] == [key]


def test_missing_path_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, err = run_json(["scan", str(tmp_path / "nope")], capsys)
    assert code == 2 and "cannot scan" in err


def test_symlink_loop_and_outside_links(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, _, text = pair_text(4)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.env").write_text(text)
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "loop").symlink_to(root)
    (root / "escape").symlink_to(outside)
    (root / "dangling").symlink_to(tmp_path / "missing")
    (root / "inside.env").write_text(text)
    (root / "link.env").symlink_to(root / "inside.env")
    code, doc, _ = run_json(["scan", str(root)], capsys)
    assert code == 1 and len(doc["findings"]) == 1
    assert doc["summary"]["skipped"] == {"symlink": 4}
    code, doc, _ = run_json(["scan", "--follow-symlinks", str(root)], capsys)
    assert sorted(Path(f["path"]).name for f in doc["findings"]) == ["inside.env", "link.env"]
    assert doc["summary"]["skipped"] == {"symlink-loop": 1, "symlink-outside": 2}


def test_dot_git_is_skipped_and_paths_are_relative_to_the_argument(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    _, _, text = pair_text(5)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "config").write_text(text)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text(text)
    monkeypatch.chdir(tmp_path)
    code, doc, _ = run_json(["scan"], capsys)
    assert [f["path"] for f in doc["findings"]] == [os.path.join("src", "app.py")]


def test_exclude_globs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, text = pair_text(6)
    for rel in ("keep/a.env", "vendor/b.env", "x/fixtures/c.env", "d.log"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    code, doc, _ = run_json(["scan", str(tmp_path), "--exclude", "vendor/", "--exclude", "**/fixtures/**", "--exclude", "*.log"], capsys)
    assert [Path(f["path"]).name for f in doc["findings"]] == ["a.env"]
    assert doc["summary"]["skipped"] == {"excluded": 3}


def test_max_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, _, text = pair_text(7)
    (tmp_path / "big.env").write_text(text + "x" * 5000)
    code, doc, err = run_json(["scan", "--max-size", "1K", str(tmp_path)], capsys)
    assert code == 0 and doc["summary"]["skipped"] == {"too-large": 1}


def test_parallel_gives_the_same_findings_as_serial(tmp_path: Path) -> None:
    rng = random.Random(8)
    for i in range(400):
        lines = ["nothing here\n"] * rng.randrange(1, 50)
        if i % 7 == 0:
            lines.insert(rng.randrange(len(lines)), pair_text(i)[2])
        (tmp_path / f"d{i % 13}").mkdir(exist_ok=True)
        (tmp_path / f"d{i % 13}" / f"f{i}.txt").write_text("".join(lines))
    results = []
    for jobs in (1, 2):
        stats = Stats()
        found = scan_paths([str(tmp_path)], DetectOptions(), FileOptions(), stats, jobs=jobs)
        results.append((sorted((f.path, f.line, f.key_id) for f in found), stats.files, stats.bytes))
    assert results[0] == results[1] and len(results[0][0]) == 58


def test_large_file_streams_in_chunks(tmp_path: Path) -> None:
    key, secret, text = pair_text(9)
    path = tmp_path / "huge.log"
    expected = []
    line = 0
    with path.open("w") as f:
        for i in range(200_000):
            f.write(f"line {i} ordinary log text\n")
            line += 1
            if i in (10, 123_456, 199_999):
                f.write(text)
                expected.append((line + 1, secret))
                line += 2
    stats = Stats()
    found = scan_paths([str(path)], DetectOptions(), FileOptions(chunk_size=1 << 20), stats, jobs=1,
                       engine=Engine.load())
    assert [(f.line, f.secret) for f in found] == expected and expected[0][0] == 12
    assert stats.bytes == path.stat().st_size
