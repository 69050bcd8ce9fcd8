"""What is staged for the next commit: the index blobs of added and modified files.

The blobs come from the index, not the work tree, so lines are as the staged file has them and
no clean filter runs. ``git diff --cached`` against the empty tree covers a repository with no
commits yet.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from keyscan import git
from keyscan.errors import GitError
from keyscan.model import Finding, Stats
from keyscan.sources.history import DEFAULT_MAX_SIZE, Blob, BytesScanner, scan_blobs


def staged_blobs(repo: git.Repo) -> tuple[dict[str, list[str]], list[str]]:
    """Paths per staged blob id, and staged submodule paths (listed, not entered)."""
    base = ["HEAD"] if repo.head is not None else []  # no HEAD: git diffs against nothing
    out = git.run(
        repo.path,
        "diff",
        "--cached",
        "--raw",
        "-z",
        "--no-abbrev",
        "--no-renames",
        "--no-ext-diff",
        "--no-textconv",
        "--diff-filter=AMT",
        *base,
        "--",
        index_file=git.hook_index(repo),
    ).stdout
    fields = out.split(b"\0")
    paths: dict[str, list[str]] = {}
    submodules: list[str] = []
    for meta, path in zip(fields[0::2], fields[1::2], strict=False):
        if not meta.startswith(b":"):
            continue
        _, new_mode, _, blob, _ = meta[1:].decode().split(" ")
        name = path.decode(errors="surrogateescape")
        if new_mode == "160000":
            submodules.append(name)
        else:
            paths.setdefault(blob, []).append(name)
    return paths, submodules


def scan(
    repo_path: str | Path,
    *,
    scanner: BytesScanner,
    max_size: int = DEFAULT_MAX_SIZE,
) -> tuple[list[Finding], Stats]:
    started = time.monotonic()
    repo = git.open_repo(repo_path)
    if repo.bare:
        raise GitError(f"{repo.path} is a bare repository: it has no index to scan")
    paths, submodules = staged_blobs(repo)
    stats = Stats(notes=[f"submodule not scanned: {p}" for p in submodules])
    sizes = _sizes(repo.path, list(paths))
    blobs = [Blob(oid, sizes[oid], names[0]) for oid, names in paths.items() if oid in sizes]
    for oid in paths.keys() - sizes.keys():
        stats.skip("unreadable", f"missing object {oid}")
    hits, read = scan_blobs(
        repo.path, blobs, make_scanner=lambda: scanner, max_size=max_size, jobs=1
    )
    stats.merge(read)
    stats.files = len(blobs)
    findings = [
        dataclasses.replace(finding, path=name)
        for oid, found in hits.items()
        for finding in found
        for name in paths[oid]
    ]
    stats.seconds = time.monotonic() - started
    return findings, stats


def _sizes(repo: Path, oids: list[str]) -> dict[str, int]:
    return {oid: info[1] for oid, info in git.object_info(repo, oids).items() if info is not None}
