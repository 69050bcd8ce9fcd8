"""Running git against hostile or unusual repositories: nothing executes, errors are one line."""

from __future__ import annotations

import functools
import os
import random
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from keyscan import git
from keyscan.engine import DetectOptions, Engine
from keyscan.errors import GitError
from keyscan.model import Finding, Stats
from keyscan.sources import history, staged
from tests.fakes import fake_key_id, fake_secret
from tests.gitrepo import GitRepo, credentials_file

LOAD = functools.partial(Engine.load, DetectOptions())


@pytest.fixture
def rng() -> random.Random:
    return random.Random(99)


def scan_history(path: Path, **options: object) -> tuple[list[Finding], Stats]:
    return history.scan(path, make_scanner=LOAD, jobs=1, **options)  # type: ignore[arg-type]


def marker_command(marker: Path) -> str:
    """A shell command that leaves ``marker`` behind if git ever runs it."""
    script = f"open({str(marker)!r}, 'a').write('ran')"
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(script)}"


def booby_trap(repo: GitRepo, marker: Path) -> None:
    """Config and hooks that run ``marker_command`` through every execution path git has."""
    command = marker_command(marker)
    for key in (
        "core.fsmonitor",
        "core.sshCommand",
        "core.pager",
        "core.alternateRefsCommand",
        "diff.external",
        "filter.trap.clean",
        "filter.trap.smudge",
        "filter.trap.process",
        "diff.trap.textconv",
        "diff.trap.command",
        "gpg.program",
        "uploadpack.packObjectsHook",
    ):
        repo.git("config", key, command)
    repo.git("config", "filter.trap.required", "true")
    repo.git("config", "log.showSignature", "true")
    repo.git("config", "core.hooksPath", str(repo.path / "trap-hooks"))
    hooks = repo.path / "trap-hooks"
    hooks.mkdir()
    for name in ("post-checkout", "post-index-change", "reference-transaction", "pre-commit"):
        hook = hooks / name
        hook.write_text(f"#!/bin/sh\n{command}\n")
        hook.chmod(0o755)


def test_hostile_repository_config_never_runs_anything(tmp_path: Path, rng: random.Random) -> None:
    repo = GitRepo(tmp_path / "repo")
    key, secret = fake_key_id(rng=rng), fake_secret(rng)
    repo.commit("add", {".gitattributes": "* filter=trap diff=trap\n", "a.cfg": "x\n"})
    repo.commit("leak", {"creds": credentials_file(key, secret)})
    repo.write("staged.cfg", credentials_file(fake_key_id(rng=rng), fake_secret(rng)))
    repo.git("add", "staged.cfg")
    repo.write("a.cfg", "modified in the work tree\n")  # a dirty file tempts filters and fsmonitor
    marker = tmp_path / "marker"
    booby_trap(repo, marker)

    found, _ = scan_history(repo.path)
    found_all, _ = scan_history(repo.path, all_objects=True)
    staged_found, _ = staged.scan(repo.path, scanner=Engine.load(DetectOptions()))

    assert [f.key_id for f in found] == [key]
    assert len(found_all) == 2
    assert len(staged_found) == 1
    assert not marker.exists()
    # Plain git does run the trap, so the test above can see it when it springs.
    subprocess.run(["git", "status"], cwd=repo.path, capture_output=True, check=False)
    assert marker.exists()


def test_inherited_git_environment_is_ignored(
    tmp_path: Path, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a hook git exports GIT_DIR and GIT_INDEX_FILE of the repository being committed."""
    target = GitRepo(tmp_path / "target")
    key = fake_key_id(rng=rng)
    target.commit("leak", {"a.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    other = GitRepo(tmp_path / "other")
    other.commit("clean", {"b.txt": "nothing\n"})
    monkeypatch.setenv("GIT_DIR", str(other.path / ".git"))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other.path / ".git" / "index"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other.path))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(other.path / ".git" / "objects"))

    findings, _ = scan_history(target.path)

    assert [f.key_id for f in findings] == [key]


def test_git_env_keeps_ordinary_variables() -> None:
    env = git.git_env({"PATH": "/bin", "GIT_DIR": "x", "GIT_CONFIG_PARAMETERS": "'a.b'='c'"})

    assert env["PATH"] == "/bin"
    assert "GIT_DIR" not in env and "GIT_CONFIG_PARAMETERS" not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1"


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="^not a git repository: ") as error:
        git.open_repo(tmp_path)
    assert "\n" not in str(error.value)
    with pytest.raises(GitError, match="no such directory"):
        git.open_repo(tmp_path / "missing")


def test_git_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(GitError, match="^git is not installed"):
        git.open_repo(tmp_path)


def test_bare_repository(tmp_path: Path, rng: random.Random) -> None:
    source = GitRepo(tmp_path / "source")
    key = fake_key_id(rng=rng)
    source.commit("leak", {"a.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    bare = GitRepo(tmp_path / "bare.git", init=False)
    bare.git("clone", "-q", "--bare", str(source.path), str(bare.path), cwd=tmp_path)

    assert git.open_repo(bare.path).bare
    findings, _ = scan_history(bare.path)
    assert [f.key_id for f in findings] == [key]
    assert findings[0].in_head is True
    with pytest.raises(GitError, match="bare repository"):
        staged.scan(bare.path, scanner=Engine.load(DetectOptions()))


def test_empty_repository_is_clean_with_a_note(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "empty")

    findings, stats = scan_history(repo.path)

    assert findings == []
    assert "empty repository: no commits to scan" in stats.notes
    assert not stats.incomplete


def test_shallow_clone_is_scanned_with_a_note(tmp_path: Path, rng: random.Random) -> None:
    source = GitRepo(tmp_path / "source")
    old, new = fake_key_id(rng=rng), fake_key_id(rng=rng)
    source.commit("old", {"old.env": f"AWS_ACCESS_KEY_ID={old}\n"})
    source.commit("gone", {"old.env": None})
    tip = source.commit("new", {"new.env": f"AWS_ACCESS_KEY_ID={new}\n"})
    shallow = GitRepo(tmp_path / "shallow", init=False)
    url = f"file://{source.path}"
    shallow.git("clone", "-q", "--depth", "1", url, str(shallow.path), cwd=tmp_path)

    findings, stats = scan_history(shallow.path)

    assert [f.key_id for f in findings] == [new]
    assert f"shallow clone: history before {tip[:12]} not scanned" in stats.notes


def test_missing_and_corrupt_objects_warn_and_the_scan_goes_on(
    tmp_path: Path, rng: random.Random
) -> None:
    repo = GitRepo(tmp_path / "repo")
    key = fake_key_id(rng=rng)
    leak = f"AWS_ACCESS_KEY_ID={key}\n"
    repo.commit("c", {"a.txt": "first\n", "b.txt": "second\n", "leak.env": leak})
    lost, broken = repo.blob("HEAD", "a.txt"), repo.blob("HEAD", "b.txt")
    loose(repo, lost).unlink()
    loose(repo, broken).write_bytes(b"not zlib at all")

    findings, stats = scan_history(repo.path)

    assert [f.key_id for f in findings] == [key]
    assert stats.skipped["unreadable"] == 2
    assert any(lost in e for e in stats.errors)
    assert any(broken in e for e in stats.errors)
    assert stats.incomplete


def test_object_shorter_than_its_header_does_not_derail_the_reader(tmp_path: Path) -> None:
    import zlib

    repo = GitRepo(tmp_path / "repo")
    repo.commit("c", {"a.txt": "alpha\n", "b.txt": "bravo\n", "c.txt": "charlie\n"})
    a, b, c = (repo.blob("HEAD", n) for n in ("a.txt", "b.txt", "c.txt"))
    path = loose(repo, b)
    path.chmod(0o644)
    path.write_bytes(zlib.compress(b"blob 6\0bra"))  # promises 6 bytes, holds 3

    reader = git.CatFile(repo.path)
    read = dict(reader.read([a, b, c]))

    assert read == {a: b"alpha\n", c: b"charlie\n"}
    assert b in reader.failed


def loose(repo: GitRepo, oid: str) -> Path:
    return repo.path / ".git" / "objects" / oid[:2] / oid[2:]


def test_submodules_are_listed_not_entered(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("start", {"README": "x\n"})
    gitlink = repo.head()
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{gitlink},vendor/lib")
    repo.commit("add submodule")

    _, stats = scan_history(repo.path)

    assert "submodule not scanned: vendor/lib" in stats.notes


def test_linked_worktree(tmp_path: Path, rng: random.Random) -> None:
    repo = GitRepo(tmp_path / "repo")
    key = fake_key_id(rng=rng)
    repo.commit("start", {"README": "x\n"})
    repo.git("worktree", "add", "-q", "-b", "wt", str(tmp_path / "wt"))
    worktree = GitRepo(tmp_path / "wt", init=False)
    worktree.ticks = 5
    worktree.commit("leak in worktree", {"a.env": f"AWS_ACCESS_KEY_ID={key}\n"})

    from_main, _ = scan_history(repo.path)
    from_worktree, stats = scan_history(worktree.path)

    assert [f.key_id for f in from_main] == [key]
    assert [f.key_id for f in from_worktree] == [key]
    assert from_worktree[0].in_head is True
    assert any("linked worktree" in n for n in stats.notes)


def test_git_errors_are_one_line(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    with pytest.raises(GitError) as error:
        git.run(repo.path, "cat-file", "-p", "HEAD:nothing")
    assert "\n" not in str(error.value)
    assert str(error.value).startswith("git cat-file failed: ")


def test_argv_disables_execution_settings() -> None:
    argv = git.git_argv(os.curdir, "log")
    settings = {argv[i + 1] for i, a in enumerate(argv) if a == "-c"}

    assert {"core.fsmonitor=false", "protocol.allow=never", "diff.external="} <= settings
    assert argv[-1] == "log"
