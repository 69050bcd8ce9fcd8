"""`keyscan hook FILE ...` (the pre-commit entry) and `keyscan install-hook` (a plain git hook)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from keyscan import hook
from keyscan.cli import main
from tests.fakes import fake_key_id, fake_secret
from tests.gitrepo import GitRepo, git_env


def pair_text(seed: int = 5, prefix: str = "AKIA") -> str:
    rng = random.Random(seed)
    return f"aws_access_key_id = {fake_key_id(prefix, rng=rng)}\naws_secret_access_key = {fake_secret(rng)}\n"


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_hook_blocks_a_key_pair_and_says_what_where_and_how_to_allow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("app").mkdir()
    Path("app/settings.ini").write_text("[default]\n" + pair_text())
    Path("README.md").write_text("nothing here\n")
    before = snapshot(tmp_path)
    assert main(["hook", "app/settings.ini", "README.md"]) == 1
    out, err = capsys.readouterr()
    assert "app/settings.ini" in out and "2:21" in out  # where: path, line and column
    assert "long-term credential" in out  # what and which class
    assert "commit blocked" in err
    for way in ("keyscan:allow", "keyscan baseline update", "[[allow]]", "reason ="):
        assert way in err
    assert snapshot(tmp_path) == before  # the hook never writes a file


def test_hook_passes_clean_files_and_skips_binary_symlinks_and_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.py").write_text("print('hello')\n")
    Path("blob.bin").write_bytes(b"\0\x01" + pair_text().encode())
    Path("link").symlink_to("blob.bin")
    Path("folder").mkdir()
    assert main(["hook", "a.py", "blob.bin", "link", "folder"]) == 0
    err = capsys.readouterr().err
    assert "1 binary" in err and "1 symlink" in err and "0 findings" in err


def test_hook_reads_utf16_text_that_a_text_filter_would_skip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("creds.ps1").write_bytes(pair_text().encode("utf-16"))
    assert main(["hook", "creds.ps1"]) == 1


def test_hook_honours_config_excludes_and_inline_allow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path(".keyscan.toml").write_text('exclude = ["fixtures/"]\n')
    Path("fixtures").mkdir()
    Path("fixtures/keys.env").write_text(pair_text())
    rng = random.Random(9)
    Path("conf.py").write_text(f"KEY = '{fake_key_id(rng=rng)}'  # keyscan:allow test fixture\n")
    assert main(["hook", "fixtures/keys.env", "conf.py"]) == 0
    err = capsys.readouterr().err
    assert "1 excluded" in err and "1 suppressed (1 inline allow)" in err


def test_hook_fail_on_credential_lets_a_lone_key_id_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("notes.md").write_text(f"rotated key {fake_key_id(rng=random.Random(2))}\n")
    assert main(["hook", "notes.md"]) == 1
    assert main(["hook", "--fail-on", "credential", "notes.md"]) == 0
    assert "long-term key id" in capsys.readouterr().out  # still reported, just not fatal
    assert main(["hook", "--fail-on", "valid", "notes.md"]) == 2  # the hook never calls AWS


def test_hook_ignores_a_config_fail_on_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fail_on = "valid"` is for CI with --verify; the offline hook then blocks on any finding."""
    monkeypatch.chdir(tmp_path)
    Path(".keyscan.toml").write_text('fail_on = "valid"\n')
    Path("a.env").write_text(pair_text())
    assert main(["hook", "a.env"]) == 1


def test_hook_start_up_imports_nothing_heavy(tmp_path: Path) -> None:
    """The hook runs on every commit: no GitPython, tqdm, botocore, process pool or hyperscan."""
    (tmp_path / "a.txt").write_text("hello\n")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "keyscan", "hook", "a.txt"],
        cwd=tmp_path, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(Path.cwd())},
    )
    assert proc.returncode == 0, proc.stderr[-500:]
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    heavy = {"git", "tqdm", "botocore", "concurrent.futures.process", "multiprocessing", "hyperscan", "subprocess"}
    assert not (imported & heavy), sorted(imported & heavy)


# --- install-hook --------------------------------------------------------------------------------

@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit("start", {"README.md": "hello\n"})
    monkeypatch.chdir(r.path)
    for key in [k for k in os.environ if k.startswith("GIT_")]:
        monkeypatch.delenv(key)
    return r


def test_install_hook_writes_an_executable_hook_and_is_idempotent(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["install-hook"]) == 0
    target = repo.path / ".git" / "hooks" / "pre-commit"
    text = target.read_text()
    assert text.startswith("#!/bin/sh\n") and hook.MARKER in text and "keyscan staged" in text
    assert os.access(target, os.X_OK)
    assert "installed" in capsys.readouterr().err
    assert main(["install-hook"]) == 0
    assert "unchanged" in capsys.readouterr().err
    assert target.read_text() == text


def test_install_hook_refuses_a_foreign_hook_without_force(
    repo: GitRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    target = repo.path / ".git" / "hooks" / "pre-commit"
    target.parent.mkdir(exist_ok=True)
    target.write_text("#!/bin/sh\n# File generated by pre-commit: https://pre-commit.com\nexit 0\n")
    assert main(["install-hook"]) == 2
    err = capsys.readouterr().err
    assert "not written by keyscan" in err and "--force" in err and ".pre-commit-config.yaml" in err
    assert "pre-commit.com" in target.read_text()  # untouched
    assert main(["install-hook", "--force"]) == 0
    assert hook.MARKER in target.read_text()
    backup = target.with_name("pre-commit" + hook.BACKUP_SUFFIX)
    assert "pre-commit.com" in backup.read_text()


def test_install_hook_follows_core_hooks_path(repo: GitRepo) -> None:
    repo.git("config", "core.hooksPath", "githooks")
    assert main(["install-hook"]) == 0
    assert hook.MARKER in (repo.path / "githooks" / "pre-commit").read_text()
    assert not (repo.path / ".git" / "hooks" / "pre-commit").exists()


def test_install_hook_outside_a_repository_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    assert main(["install-hook"]) == 2
    assert "not a git repository" in capsys.readouterr().err


def test_installed_hook_blocks_a_real_commit(repo: GitRepo) -> None:
    """`git commit` runs the installed hook, which runs `keyscan staged` on the index."""
    assert main(["install-hook"]) == 0
    repo.write("deploy.env", pair_text(seed=11))
    repo.git("add", "deploy.env")
    env = git_env(repo.home) | {"PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(["git", "commit", "-q", "-m", "add deploy config"], cwd=repo.path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "deploy.env" in proc.stdout + proc.stderr
    assert repo.git("rev-list", "--count", "HEAD") == "1"  # nothing was committed
    repo.write("deploy.env", "REGION=eu-west-1\n")
    repo.git("add", "deploy.env")
    proc = subprocess.run(["git", "commit", "-q", "-m", "clean config"], cwd=repo.path, env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert repo.git("rev-list", "--count", "HEAD") == "2"


def test_advice_names_the_config_file_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    Path("pyproject.toml").write_text('[tool.keyscan]\nexclude = ["vendor/"]\n')
    Path("a.env").write_text(pair_text())
    assert main(["hook", "a.env"]) == 1
    err = capsys.readouterr().err
    assert "in pyproject.toml:" in err and "[[tool.keyscan.allow]]" in err
