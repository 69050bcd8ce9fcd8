from __future__ import annotations

import functools
import json
import random
from pathlib import Path

import pytest

from keyscan.cli import main
from keyscan.engine import DetectOptions, Engine
from keyscan.errors import GitError
from keyscan.model import Finding, FindingKind, Stats
from keyscan.sources import history
from tests.fakes import fake_key_id, fake_secret
from tests.gitrepo import AUTHOR, GitRepo, credentials_file

LOAD = functools.partial(Engine.load, DetectOptions())


class CountingEngine:
    """The real engine, counting which blobs it was asked to scan."""

    def __init__(self) -> None:
        self.engine = Engine.load(DetectOptions())
        self.blobs: list[str | None] = []

    def scan_bytes(self, data: bytes, *, path: str, blob: str | None = None) -> list[Finding]:
        self.blobs.append(blob)
        return self.engine.scan_bytes(data, path=path, blob=blob)


def scan(repo: GitRepo | Path, **options: object) -> tuple[list[Finding], Stats]:
    path = repo.path if isinstance(repo, GitRepo) else repo
    options.setdefault("jobs", 1)
    return history.scan(path, make_scanner=LOAD, **options)  # type: ignore[arg-type]


def by_key(findings: list[Finding], key_id: str) -> list[Finding]:
    return [f for f in findings if f.key_id == key_id]


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("start", {"README.md": "hello\n"})
    return repo


def test_key_added_then_deleted_is_found_with_its_commit_and_not_in_head(
    repo: GitRepo, rng: random.Random
) -> None:
    key, secret = fake_key_id(rng=rng), fake_secret(rng)
    added = repo.commit(
        "add deploy creds\n\nmore text", {"deploy/creds": credentials_file(key, secret)}
    )
    repo.commit("remove creds", {"deploy/creds": None})

    findings, stats = scan(repo)

    [finding] = findings
    assert finding.kind is FindingKind.CREDENTIAL
    assert (finding.key_id, finding.secret) == (key, secret)
    assert (finding.path, finding.line) == ("deploy/creds", 2)
    assert finding.commit is not None
    assert finding.commit.sha == added
    assert finding.commit.summary == "add deploy creds"
    assert (finding.commit.author, finding.commit.email) == AUTHOR
    assert finding.commit.date == "2024-01-01T02:00:00+00:00"
    assert finding.in_head is False
    assert finding.blob == repo.blob(added, "deploy/creds")
    assert not stats.errors


def test_key_still_in_head(repo: GitRepo, rng: random.Random) -> None:
    key = fake_key_id(rng=rng)
    repo.commit("add", {"a.cfg": credentials_file(key, fake_secret(rng))})

    [finding] = scan(repo)[0]

    assert finding.in_head is True


def test_key_moved_to_another_file_is_still_in_head(repo: GitRepo, rng: random.Random) -> None:
    key, secret = fake_key_id(rng=rng), fake_secret(rng)
    repo.commit("add", {"a.cfg": credentials_file(key, secret)})
    repo.commit("move", {"a.cfg": None, "b.cfg": "# moved\n" + credentials_file(key, secret)})

    findings, _ = scan(repo)

    assert {f.path: f.in_head for f in findings} == {"a.cfg": True, "b.cfg": True}


def test_file_edited_around_an_unchanged_key_is_one_finding_at_its_first_commit(
    repo: GitRepo, rng: random.Random
) -> None:
    key, secret = fake_key_id(rng=rng), fake_secret(rng)
    added = repo.commit("add", {"app.cfg": credentials_file(key, secret)})
    later = [repo.commit(f"edit {i}", {"app.cfg": credentials_file(key, secret) + f"# edit {i}\n"}) for i in range(4)]
    repo.commit("remove", {"app.cfg": "clean\n"})

    [finding] = scan(repo)[0]

    assert finding.commit is not None and finding.commit.sha == added
    assert finding.in_head is False
    assert finding.also_in == tuple(f"{sha[:12]}:app.cfg" for sha in later)


def test_key_only_on_a_side_branch(repo: GitRepo, rng: random.Random) -> None:
    key = fake_key_id(rng=rng)
    repo.git("switch", "-q", "-c", "side")
    side = repo.commit("side work", {"side.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    repo.git("switch", "-q", "main")

    [finding] = by_key(scan(repo)[0], key)

    assert finding.commit is not None and finding.commit.sha == side
    assert finding.in_head is False
    assert by_key(scan(repo, refs=["main"])[0], key) == []
    assert len(by_key(scan(repo, refs=["side"])[0], key)) == 1


def test_key_only_on_a_tag(repo: GitRepo, rng: random.Random) -> None:
    key = fake_key_id(rng=rng)
    repo.git("switch", "-q", "-c", "release")
    tagged = repo.commit("release", {"release.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    repo.git("tag", "-a", "-m", "v1", "v1.0")
    repo.git("switch", "-q", "main")
    repo.git("branch", "-q", "-D", "release")

    [finding] = by_key(scan(repo)[0], key)

    assert finding.commit is not None and finding.commit.sha == tagged


def test_same_blob_at_two_paths_is_matched_once_and_reported_at_both(
    repo: GitRepo, rng: random.Random
) -> None:
    text = credentials_file(fake_key_id(rng=rng), fake_secret(rng))
    first = repo.commit("one", {"a/creds": text})
    second = repo.commit("two", {"b/creds": text})
    counting = CountingEngine()

    hits, _ = history.scan_blobs(
        repo.path,
        history.reachable_blobs(repo.path, ["--all"]).blobs,
        make_scanner=lambda: counting,
        jobs=1,
    )
    findings, _ = scan(repo)

    blob = repo.blob("HEAD", "a/creds")
    assert counting.blobs.count(blob) == 1
    assert list(hits) == [blob]
    assert {(f.path, f.commit.sha if f.commit else None) for f in findings} == {
        ("a/creds", first),
        ("b/creds", second),
    }
    by_path = {f.path: f for f in findings}
    assert by_path["a/creds"].also_in == (f"{second[:12]}:b/creds",)
    assert by_path["b/creds"].also_in == (f"{first[:12]}:a/creds",)


def test_key_id_and_secret_added_in_two_commits_pair_in_the_later_blob(
    repo: GitRepo, rng: random.Random
) -> None:
    key, secret = fake_key_id(rng=rng), fake_secret(rng)
    repo.commit("key id", {"creds": credentials_file(key)})
    later = repo.commit("secret", {"creds": credentials_file(key, secret)})

    findings, _ = scan(repo)

    [pair] = [f for f in findings if f.kind is FindingKind.CREDENTIAL]
    assert pair.secret == secret
    assert pair.commit is not None and pair.commit.sha == later
    assert pair.in_head is True


def test_key_from_a_merged_branch_is_credited_to_the_branch_commit(
    repo: GitRepo, rng: random.Random
) -> None:
    key = fake_key_id(rng=rng)
    repo.git("switch", "-q", "-c", "feature")
    feature = repo.commit("feature", {"feature.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    repo.git("switch", "-q", "main")
    repo.commit("main moves on", {"other.txt": "x\n"})
    repo.ticks += 1
    repo.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")

    [finding] = by_key(scan(repo)[0], key)

    assert finding.commit is not None and finding.commit.sha == feature
    assert finding.in_head is True


def test_key_written_while_resolving_a_merge_is_credited_to_the_merge(
    repo: GitRepo, rng: random.Random
) -> None:
    key = fake_key_id(rng=rng)
    repo.commit("base", {"conf.env": "A=1\n"})
    repo.git("switch", "-q", "-c", "feature")
    repo.commit("feature", {"conf.env": "A=2\n"})
    repo.git("switch", "-q", "main")
    repo.commit("main", {"conf.env": "A=3\n"})
    repo.ticks += 1
    with pytest.raises(AssertionError):
        repo.git("merge", "-q", "feature")  # conflict
    repo.write("conf.env", f"A=4\nAWS_ACCESS_KEY_ID={key}\n")
    repo.git("add", "conf.env")
    repo.git("commit", "-q", "--no-edit")
    merge = repo.head()

    [finding] = by_key(scan(repo)[0], key)

    assert finding.commit is not None and finding.commit.sha == merge


def test_renamed_file_is_reported_at_both_paths(repo: GitRepo, rng: random.Random) -> None:
    key = fake_key_id(rng=rng)
    added = repo.commit("add", {"old.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    repo.ticks += 1
    repo.git("mv", "old.env", "new.env")
    repo.git("commit", "-q", "-m", "rename")
    renamed = repo.head()

    findings = by_key(scan(repo)[0], key)

    assert {(f.path, f.commit.sha if f.commit else "") for f in findings} == {
        ("old.env", added),
        ("new.env", renamed),
    }
    assert all(f.in_head for f in findings)


def test_stash_entries_are_scanned(repo: GitRepo, rng: random.Random) -> None:
    older, newer = fake_key_id(rng=rng), fake_key_id(rng=rng)
    repo.write("README.md", f"AWS_ACCESS_KEY_ID={older}\n")
    repo.git("stash", "-q")
    repo.write("README.md", f"AWS_ACCESS_KEY_ID={newer}\n")
    repo.git("stash", "-q")

    findings, _ = scan(repo)

    assert {f.key_id for f in findings} == {older, newer}
    assert all(f.commit is not None and "WIP on main" in f.commit.summary for f in findings)
    assert not any(f.in_head for f in findings)


def test_range_scan_sees_only_the_new_commits(repo: GitRepo, rng: random.Random) -> None:
    old, new = fake_key_id(rng=rng), fake_key_id(rng=rng)
    base = repo.commit("old leak", {"old.env": f"AWS_ACCESS_KEY_ID={old}\n"})
    head = repo.commit("new leak", {"new.env": f"AWS_ACCESS_KEY_ID={new}\n"})

    for options in ({"rev_range": f"{base}..{head}"}, {"since_commit": base}):
        findings, _ = scan(repo, **options)
        assert [f.key_id for f in findings] == [new]
        assert findings[0].commit is not None and findings[0].commit.sha == head


def test_unknown_ref_is_a_clear_error(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="unknown revision: 'nope'"):
        scan(repo, refs=["nope"])
    with pytest.raises(GitError, match="unknown revision"):
        scan(repo, rev_range="main..nope")


def test_ref_that_looks_like_an_option_is_not_one(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="unknown revision"):
        scan(repo, refs=["--output=x"])
    assert not (repo.path / "x").exists()


def test_all_objects_reaches_commits_dropped_by_a_reset(repo: GitRepo, rng: random.Random) -> None:
    key = fake_key_id(rng=rng)
    repo.commit("oops", {"leak.env": f"AWS_ACCESS_KEY_ID={key}\n"})
    repo.git("reset", "-q", "--hard", "HEAD~1")
    repo.git("reflog", "expire", "--expire=now", "--all")

    assert scan(repo)[0] == []
    [finding] = scan(repo, all_objects=True)[0]
    assert finding.key_id == key
    assert finding.commit is None and finding.in_head is False
    assert finding.path.startswith("(unreachable blob ")


def test_binary_and_large_blobs_are_skipped_and_counted(repo: GitRepo, rng: random.Random) -> None:
    key = fake_key_id(rng=rng)
    repo.commit(
        "blobs",
        {
            "image.bin": b"\0\1\2" + f"AWS_ACCESS_KEY_ID={key}".encode(),
            "big.env": f"AWS_ACCESS_KEY_ID={key}\n" + "#" * 5000,
        },
    )

    findings, stats = scan(repo, max_size=1000)

    assert findings == []
    assert stats.skipped == {"binary": 1, "too-large": 1}
    assert not stats.incomplete


def test_parallel_workers_find_the_same(
    repo: GitRepo, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "PARALLEL_MIN_BYTES", 0)
    keys = [fake_key_id(rng=rng) for _ in range(6)]
    for i, key in enumerate(keys):
        repo.commit(f"c{i}", {f"f{i}.env": f"AWS_ACCESS_KEY_ID={key}\n" + "x\n" * i})

    serial, serial_stats = scan(repo, jobs=1)
    parallel, parallel_stats = scan(repo, jobs=2)

    assert sorted(f.key_id or "" for f in parallel) == sorted(keys)
    assert sorted(serial, key=str) == sorted(parallel, key=str)
    assert (serial_stats.blobs, serial_stats.bytes) == (parallel_stats.blobs, parallel_stats.bytes)


def test_split_keeps_order_and_balances_bytes() -> None:
    blobs = [history.Blob(f"{i:040x}", size, "") for i, size in enumerate([10, 10, 10, 10, 40])]

    parts = history.split(blobs, 2)

    assert [b for part in parts for b in part] == blobs
    assert [sum(b.size for b in p) for p in parts] == [40, 40]


def test_small_scans_stay_in_process() -> None:
    blobs = [history.Blob("0" * 40, 100, "a"), history.Blob("1" * 40, 100, "b")]

    assert history._worker_count(8, blobs) == 1
    assert history._worker_count(1, blobs) == 1


def test_progress_counts_every_byte(repo: GitRepo, rng: random.Random) -> None:
    repo.commit("c", {"a.env": f"AWS_ACCESS_KEY_ID={fake_key_id(rng=rng)}\n"})
    seen: list[int] = []
    totals: list[tuple[int, int]] = []

    _, stats = scan(repo, on_progress=seen.append, on_total=lambda n, blobs: totals.append((n, blobs)))

    assert sum(seen) == stats.bytes > 0
    assert totals == [(stats.bytes, stats.blobs)]


# --- through the command line ----------------------------------------------------------------


def test_cli_history_reports_a_leak_removed_from_head(
    repo: GitRepo, rng: random.Random, capsys: pytest.CaptureFixture[str]
) -> None:
    key = fake_key_id(rng=rng)
    added = repo.commit("leak", {"creds": credentials_file(key, fake_secret(rng))})
    repo.commit("unleak", {"creds": None})

    code = main(["history", str(repo.path), "--no-progress", "--no-baseline"])

    out = capsys.readouterr().out
    assert code == 1
    assert f"commit {added[:12]} by Ada Tester" in out
    assert "removed from HEAD, still in history: rotate it" in out


def test_cli_history_json_carries_provenance(
    repo: GitRepo, rng: random.Random, capsys: pytest.CaptureFixture[str]
) -> None:
    key = fake_key_id(rng=rng)
    added = repo.commit("leak", {"creds": credentials_file(key)})

    code = main(["history", str(repo.path), "--format", "json", "--no-baseline"])

    document = json.loads(capsys.readouterr().out)
    [finding] = document["findings"] if isinstance(document, dict) else document
    assert code == 1
    assert (finding["commit"], finding["in_head"], finding["path"]) == (added, True, "creds")


def test_cli_history_range_and_refs(
    repo: GitRepo, rng: random.Random, capsys: pytest.CaptureFixture[str]
) -> None:
    base = repo.commit("old leak", {"old.env": f"AWS_ACCESS_KEY_ID={fake_key_id(rng=rng)}\n"})
    new = fake_key_id(rng=rng)
    repo.commit("new leak", {"new.env": f"AWS_ACCESS_KEY_ID={new}\n"})

    code = main(
        ["history", str(repo.path), "--range", f"{base}..HEAD", "-f", "jsonl", "--no-baseline"]
    )
    lines = capsys.readouterr().out.splitlines()

    assert code == 1
    assert [json.loads(line)["key_id"] for line in lines] == [new]
    assert main(["history", str(repo.path), "--since-commit", "HEAD", "--no-baseline"]) == 0
    assert main(["history", str(repo.path), "--ref", "nope", "--no-baseline"]) == 2
    assert "unknown revision: 'nope'" in capsys.readouterr().err


def test_cli_history_errors_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["history", str(tmp_path), "--no-baseline"]) == 2
    assert "keyscan: error: not a git repository" in capsys.readouterr().err
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["history", str(tmp_path), "--no-baseline"]) == 2
    assert "git is not installed" in capsys.readouterr().err


def test_cli_history_of_an_empty_repository_is_clean(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = GitRepo(tmp_path / "empty")

    assert main(["history", str(repo.path), "--no-baseline"]) == 0
    assert "note: empty repository" in capsys.readouterr().err


def test_cli_staged_before_and_after_git_add(
    repo: GitRepo, rng: random.Random, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo.write("creds", credentials_file(fake_key_id(rng=rng), fake_secret(rng)))
    monkeypatch.chdir(repo.path)

    assert main(["staged", "--no-baseline"]) == 0
    repo.git("add", "creds")
    assert main(["staged", "--no-baseline"]) == 1


def test_cli_history_applies_the_config_excludes_to_paths(
    repo: GitRepo, rng: random.Random, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"AWS_ACCESS_KEY_ID={fake_key_id(rng=rng)}\n"
    repo.commit("fixtures", {"fixtures/a.env": text, "src/a.env": text})
    config = repo.path.parent / "keyscan.toml"
    config.write_text('exclude = ["fixtures/"]\n')

    code = main(["history", str(repo.path), "--config", str(config), "-f", "jsonl", "--no-baseline"])

    assert code == 1
    assert [json.loads(line)["path"] for line in capsys.readouterr().out.splitlines()] == ["src/a.env"]
