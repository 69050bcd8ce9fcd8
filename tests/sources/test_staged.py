from __future__ import annotations

import random
import shlex
import sys
from pathlib import Path

import pytest

from keyscan.engine import DetectOptions, Engine
from keyscan.model import Finding, Stats
from keyscan.sources import staged
from tests.fakes import fake_key_id, fake_secret
from tests.gitrepo import GitRepo, credentials_file


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(DetectOptions())


@pytest.fixture
def rng() -> random.Random:
    return random.Random(7)


def scan(repo: GitRepo, engine: Engine) -> tuple[list[Finding], Stats]:
    return staged.scan(repo.path, scanner=engine)


def test_staged_sees_a_key_only_after_git_add(
    tmp_path: Path, engine: Engine, rng: random.Random
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("start", {"README": "x\n"})
    key, secret = fake_key_id(rng=rng), fake_secret(rng)
    repo.write("conf/creds", "# header\n" + credentials_file(key, secret))

    assert scan(repo, engine)[0] == []
    repo.git("add", "conf/creds")
    [finding] = scan(repo, engine)[0]

    assert (finding.path, finding.line, finding.key_id) == ("conf/creds", 3, key)
    assert finding.commit is None


def test_staged_lines_are_the_index_version_not_the_work_tree(
    tmp_path: Path, engine: Engine, rng: random.Random
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("start", {"a.env": "A=1\n"})
    key = fake_key_id(rng=rng)
    repo.write("a.env", f"A=1\nAWS_ACCESS_KEY_ID={key}\n")
    repo.git("add", "a.env")
    repo.write("a.env", "moved down\n\n\n" + f"AWS_ACCESS_KEY_ID={key}\n")  # unstaged edit

    [finding] = scan(repo, engine)[0]

    assert finding.line == 2


def test_staged_in_a_repository_without_commits(
    tmp_path: Path, engine: Engine, rng: random.Random
) -> None:
    repo = GitRepo(tmp_path / "repo")
    key = fake_key_id(rng=rng)
    repo.write("a.env", f"AWS_ACCESS_KEY_ID={key}\n")
    repo.git("add", "a.env")

    [finding] = scan(repo, engine)[0]

    assert finding.key_id == key


def test_staged_ignores_committed_and_deleted_files(
    tmp_path: Path, engine: Engine, rng: random.Random
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("old leak", {"old.env": f"AWS_ACCESS_KEY_ID={fake_key_id(rng=rng)}\n"})
    repo.git("rm", "-q", "old.env")

    findings, stats = scan(repo, engine)

    assert findings == []
    assert stats.files == 0


def test_same_staged_content_at_two_paths_is_reported_at_both(
    tmp_path: Path, engine: Engine, rng: random.Random
) -> None:
    repo = GitRepo(tmp_path / "repo")
    text = credentials_file(fake_key_id(rng=rng), fake_secret(rng))
    repo.write("a", text)
    repo.write("b", text)
    repo.git("add", "a", "b")

    findings, stats = scan(repo, engine)

    assert sorted(f.path for f in findings) == ["a", "b"]
    assert stats.blobs == 1


def test_staged_submodule_is_listed(tmp_path: Path, engine: Engine) -> None:
    repo = GitRepo(tmp_path / "repo")
    sha = repo.commit("start", {"README": "x\n"})
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sha},lib")

    _, stats = scan(repo, engine)

    assert stats.notes == ["submodule not scanned: lib"]


def test_pre_commit_hook_sees_what_commit_all_is_about_to_commit(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``git commit -a`` stages into a temporary index named by GIT_INDEX_FILE, not .git/index."""
    repo = GitRepo(tmp_path / "repo")
    repo.commit("start", {"app.env": "DEBUG=1\n"})
    hook = repo.path / ".git" / "hooks" / "pre-commit"
    command = f"{shlex.quote(sys.executable)} -m keyscan staged --no-progress --no-baseline"
    hook.write_text(f"#!/bin/sh\nexec {command}\n")
    hook.chmod(0o755)
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).resolve().parents[2]))

    repo.write("app.env", "DEBUG=1\n")
    repo.git("commit", "-q", "--allow-empty", "-am", "clean commit passes")
    repo.write("app.env", f"DEBUG=1\nAWS_ACCESS_KEY_ID={fake_key_id(rng=rng)}\n")
    with pytest.raises(AssertionError, match="app.env"):
        repo.git("commit", "-q", "-am", "leak is blocked")
    with pytest.raises(AssertionError, match="app.env"):
        repo.git("commit", "-q", "-m", "partial commit is blocked too", "app.env")
