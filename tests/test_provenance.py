from __future__ import annotations

import random
from pathlib import Path

from keyscan import git, provenance
from keyscan.engine import DetectOptions, Engine
from tests.fakes import fake_key_id
from tests.gitrepo import GitRepo


def test_changes_lists_every_introduction_newest_first(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    first = repo.commit("one", {"a": "same\n"})
    second = repo.commit("two", {"b": "same\n", "a": "changed\n"})
    blob = repo.blob(first, "a")

    found = list(provenance.changes(repo.path, ["--all"], only={blob}))

    assert [(c.path, c.commit) for c in found] == [("b", second), ("a", first)]


def test_changes_skips_deletions(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit("one", {"a": "x\n"})
    repo.commit("two", {"a": None})

    assert [c.path for c in provenance.changes(repo.path, ["--all"])] == ["a"]


def test_commit_metadata_survives_odd_messages(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    sha = repo.commit("subject \x01 with a control byte\n\nbody line\n")

    [commit] = provenance.commits(repo.path, [sha]).values()

    assert commit.summary == "subject \x01 with a control byte"
    assert commit.date == "2024-01-01T01:00:00+00:00"


def test_iso_date_keeps_the_author_offset() -> None:
    assert provenance._iso_date("1704067200 +0130") == "2024-01-01T01:30:00+01:30"
    assert provenance._iso_date("1704067200 -0800") == "2023-12-31T16:00:00-08:00"
    assert provenance._iso_date("garbage") == "garbage"


def test_also_in_is_capped(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    text = f"AWS_ACCESS_KEY_ID={fake_key_id(rng=random.Random(3))}\n"
    repo.commit("many", {f"d/{i}.env": text for i in range(15)})
    blob = repo.blob("HEAD", "d/0.env")
    hits = {blob: Engine.load(DetectOptions()).scan_bytes(text.encode(), path="x", blob=blob)}
    located = provenance.locate(git.open_repo(repo.path), hits, ["--all"])

    assert len(located) == 15
    assert located[0].also_in[-1] == "+4 more"
    assert len(located[0].also_in) == provenance.ALSO_IN_LIMIT + 1
