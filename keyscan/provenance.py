"""Where matched blobs live: which commit put them at which path, and whether HEAD still has them.

Runs only for blobs that had findings, in one pass of ``git log --raw`` over the same revisions
the scan read: on botocore (20k commits) that pass takes under a second for any number of blobs,
while ``git log --find-object`` costs about as much per blob.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from keyscan import git
from keyscan.model import Commit, Finding

ALSO_IN_LIMIT = 10
_NULL_OIDS = ("0" * 40, "0" * 64)


@dataclass(frozen=True, slots=True)
class Change:
    """A commit set ``path`` to ``blob`` (added it, or changed the file to this content)."""

    blob: str
    path: str
    commit: str


def changes(repo: Path, revs: Sequence[str], only: set[str] | None = None) -> Iterator[Change]:
    """Every (blob, path, commit) where a commit in ``revs`` introduced a blob, newest first.

    Renames are not detected (``--no-renames``): a renamed file is a new path for the same blob,
    which is a place the credential appears. ``-c`` shows what a merge itself introduced
    (conflict resolutions); content a merge took from one side is credited to that side.
    Only commit ids are printed: a message may hold any byte, so no separator is safe in it.
    """
    options = [r for r in revs if r.startswith("--")]
    names = [r for r in revs if not r.startswith("--")]
    out = git.run(
        repo,
        "log",
        "--raw",
        "--no-abbrev",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "-c",
        "--root",
        "-z",
        "--format=%H",
        *options,
        "--end-of-options",
        *names,
        "--",
    ).stdout
    tokens = out.split(b"\0")
    commit = ""
    i = 0
    while i < len(tokens):
        token = tokens[i].lstrip(b"\n")
        if token.startswith(b":") and i + 1 < len(tokens):
            change = _change(token, tokens[i + 1], commit, only)
            if change is not None:
                yield change
            i += 2
            continue
        if token:
            commit = token.decode()
        i += 1


def _change(meta: bytes, path: bytes, commit: str, only: set[str] | None) -> Change | None:
    parts = meta.decode().split(" ")
    # ":m1 m2 old new S" or, for a merge, "::m1 m2 m3 old1 old2 new SS": the post-image
    # object is the one before the status letters, its mode the last of the modes.
    blob, mode = parts[-2], parts[len(parts) // 2 - 1]
    if blob in _NULL_OIDS or mode in ("160000", "040000"):
        return None
    if only is not None and blob not in only:
        return None
    return Change(blob, path.decode(errors="surrogateescape"), commit)


def commits(repo: Path, shas: Iterable[str]) -> dict[str, Commit]:
    """Author, date and summary of a few commits, parsed from the raw commit objects."""
    found: dict[str, Commit] = {}
    for sha, data in git.CatFile(repo).read(sorted(set(shas))):
        if data is not None:
            found[sha] = _parse_commit(sha, data)
    return found


def _parse_commit(sha: str, data: bytes) -> Commit:
    head, _, message = data.partition(b"\n\n")
    author = b""
    for line in head.split(b"\n"):
        if line.startswith(b"author "):
            author = line[len(b"author ") :]
    name, _, rest = author.partition(b" <")
    email, _, when = rest.partition(b"> ")
    summary = message.decode(errors="replace").strip().split("\n", 1)[0]
    return Commit(
        sha=sha,
        author=name.decode(errors="replace"),
        email=email.decode(errors="replace"),
        date=_iso_date(when.decode(errors="replace")),
        summary=summary.strip(),
    )


def _iso_date(raw: str) -> str:
    """``1704067200 +0100`` as ISO 8601 in the author's own offset, like ``git log %aI``."""
    try:
        seconds, offset = raw.split()
        sign = -1 if offset.startswith("-") else 1
        delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])) * sign
        return datetime.fromtimestamp(int(seconds), timezone(delta)).isoformat()
    except (ValueError, IndexError, OverflowError, OSError):
        return raw


def locate(
    repo: git.Repo, hits: dict[str, list[Finding]], revs: Sequence[str]
) -> list[Finding]:
    """One finding per (finding in a blob, path it was introduced at), with commit and
    ``also_in`` (the other places), and ``in_head``."""
    places: dict[str, list[Change]] = {oid: [] for oid in hits}
    for change in changes(repo.path, revs, only=set(hits)):
        places[change.blob].append(change)
    in_head = _in_head(repo, hits)
    first = {oid: _first_per_path(p[::-1]) for oid, p in places.items()}
    meta = commits(repo.path, (c.commit for f in first.values() for c in f.values()))
    located: list[Finding] = []
    for oid, found in hits.items():
        for finding in found:
            located += _at_each_path(
                finding, places[oid][::-1], first[oid], meta, in_head(oid, finding)
            )
    return collapse_versions(located)


def collapse_versions(findings: Sequence[Finding]) -> list[Finding]:
    """One finding per credential per path: a file edited fifty times around an unchanged key is
    one leak, reported at the commit that first brought it in (as a patch-based scanner would),
    with the later versions' commits in ``also_in``."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    kept: list[Finding] = []
    for finding in findings:
        if finding.commit is None:
            kept.append(finding)
        else:
            groups.setdefault((finding.fingerprint, finding.path), []).append(finding)
    for versions in groups.values():
        versions.sort(key=lambda f: (_when(f), f.line, f.column))
        first, later = versions[0], versions[1:]
        if not later:
            kept.append(first)
            continue
        places = list(first.also_in)
        for f in later:
            assert f.commit is not None
            places += [f"{f.commit.sha[:12]}:{f.path}", *f.also_in]
        hidden = sum(int(p.split()[0][1:]) for p in places if p.startswith("+"))
        places = [p for p in dict.fromkeys(places) if not p.startswith("+")]
        kept.append(
            dataclasses.replace(
                first, in_head=any(f.in_head for f in versions), also_in=_capped(places, hidden)
            )
        )
    return kept


def _when(finding: Finding) -> datetime:
    assert finding.commit is not None
    try:
        return datetime.fromisoformat(finding.commit.date)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)


def _first_per_path(oldest_first: list[Change]) -> dict[str, Change]:
    first: dict[str, Change] = {}
    for change in oldest_first:
        first.setdefault(change.path, change)
    return first


def _at_each_path(
    finding: Finding,
    places: list[Change],
    first: dict[str, Change],
    meta: dict[str, Commit],
    in_head: bool,
) -> list[Finding]:
    if not places:  # unreachable (``--all-objects``) or outside the revisions walked
        return [dataclasses.replace(finding, in_head=in_head)]
    located = []
    for path, change in first.items():
        others = [f"{c.commit[:12]}:{c.path}" for c in places if c is not change]
        located.append(
            dataclasses.replace(
                finding,
                path=path,
                commit=meta.get(change.commit),
                in_head=in_head,
                also_in=_capped(others),
            )
        )
    return located


def _capped(places: list[str], hidden: int = 0) -> tuple[str, ...]:
    hidden += max(0, len(places) - ALSO_IN_LIMIT)
    shown = tuple(places[:ALSO_IN_LIMIT])
    return (*shown, f"+{hidden} more") if hidden else shown


class _HeadCheck:
    """Is a credential still in HEAD: its blob is in the HEAD tree, or a blob in the HEAD tree
    that was scanned holds the same key ID or secret (the key moved to another file)."""

    def __init__(self, head_blobs: set[str], hits: dict[str, list[Finding]]) -> None:
        self.head_blobs = head_blobs
        self.values = set(_values(f for oid in head_blobs & hits.keys() for f in hits[oid]))

    def __call__(self, oid: str, finding: Finding) -> bool:
        return oid in self.head_blobs or any(v in self.values for v in _values([finding]))


def _in_head(repo: git.Repo, hits: dict[str, list[Finding]]) -> _HeadCheck:
    if repo.head is None:
        return _HeadCheck(set(), hits)
    blobs = {oid for mode, oid, _ in git.ls_tree(repo.path, "HEAD") if mode != "160000"}
    return _HeadCheck(blobs, hits)


def _values(findings: Iterable[Finding]) -> Iterator[str]:
    for finding in findings:
        for value in (finding.key_id, finding.secret, finding.token):
            if value:
                yield value
