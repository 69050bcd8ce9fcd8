"""Every unique blob of a repository's history, read once, matched once.

The unit is the blob (Nosey Parker's model): one ``git rev-list --objects`` lists what the refs
reach, one ``git cat-file --batch`` per worker streams the raw contents in that order (which is
close to pack order, so git's delta cache stays warm), and only blobs that matched get
provenance afterwards (``keyscan.provenance``). ``git log -p`` would re-read the same content in
every patch that touches it.
"""

from __future__ import annotations

import os
import queue
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast

from keyscan import git, provenance
from keyscan.errors import GitError
from keyscan.model import Finding, Stats

if TYPE_CHECKING:  # the pre-commit path (``keyscan staged``) never starts workers
    import multiprocessing

DEFAULT_MAX_SIZE = 50 * 1024 * 1024
# Below this many bytes, starting worker processes costs more than it saves.
PARALLEL_MIN_BYTES = 64 * 1024 * 1024
_PROGRESS_EVERY = 8 * 1024 * 1024


class BytesScanner(Protocol):
    def scan_bytes(self, data: bytes, *, path: str, blob: str | None = None) -> list[Finding]: ...


# Builds the scanner inside each worker process (rules compile once per process); must pickle.
ScannerFactory = Callable[[], BytesScanner]


# Called with the number of bytes read since the last call (a tqdm bar's ``update``).
OnProgress = Callable[[int], None]
OnTotal = Callable[[int, int], None]  # bytes and blobs about to be read


@dataclass(frozen=True, slots=True)
class Blob:
    oid: str
    size: int
    path: str  # one path it was seen at; provenance finds every place it appears


@dataclass(slots=True)
class Selection:
    """What to scan: blobs, the revisions they came from (provenance walks the same ones)."""

    blobs: list[Blob]
    revs: list[str]
    missing: list[str] = field(default_factory=list)


def scan(
    repo_path: str | Path,
    *,
    make_scanner: ScannerFactory,
    refs: Sequence[str] = (),
    rev_range: str | None = None,
    since_commit: str | None = None,
    all_objects: bool = False,
    max_size: int = DEFAULT_MAX_SIZE,
    jobs: int = 0,
    on_progress: OnProgress | None = None,
    on_total: OnTotal | None = None,
) -> tuple[list[Finding], Stats]:
    """Scan a repository's history; findings carry commit, path, ``in_head`` and ``also_in``."""
    started = time.monotonic()
    repo = git.open_repo(repo_path)
    stats = Stats(notes=list(repo.notes))
    selection = select(
        repo, refs=refs, rev_range=rev_range, since_commit=since_commit, all_objects=all_objects
    )
    for oid in selection.missing:
        stats.skip("unreadable", f"missing object {oid}")
    if repo.head is not None:
        stats.notes += [f"submodule not scanned: {p}" for p in git.submodules(repo.path, "HEAD")]
    hits, scanned = scan_blobs(
        repo.path,
        selection.blobs,
        make_scanner=make_scanner,
        max_size=max_size,
        jobs=jobs,
        on_progress=on_progress,
        on_total=on_total,
    )
    stats.merge(scanned)
    findings = provenance.locate(repo, hits, selection.revs) if hits else []
    stats.seconds = time.monotonic() - started
    return findings, stats


def select(
    repo: git.Repo,
    *,
    refs: Sequence[str] = (),
    rev_range: str | None = None,
    since_commit: str | None = None,
    all_objects: bool = False,
) -> Selection:
    if rev_range is not None and since_commit is not None:
        raise GitError("use either --range or --since-commit, not both")
    if since_commit is not None:
        rev_range = f"{since_commit}..HEAD"
    if rev_range is not None:
        git.check_revs(repo.path, [rev_range])
        return range_blobs(repo.path, rev_range)
    git.check_revs(repo.path, refs)
    revs = list(refs) if refs else ["--all", *stash_entries(repo.path)]
    if repo.head is None and not refs and not all_objects:
        return Selection(blobs=[], revs=revs)
    if all_objects:
        return Selection(blobs=all_blobs(repo.path), revs=revs)
    return reachable_blobs(repo.path, revs)


def stash_entries(repo: Path) -> list[str]:
    """Older stash entries live only in the reflog of refs/stash; ``--all`` sees the newest."""
    if git.resolve(repo, "refs/stash") is None:
        return []
    out = git.run(repo, "log", "-g", "--format=%H", "refs/stash", "--").stdout.decode()
    return out.split()[1:]


def reachable_blobs(repo: Path, revs: Sequence[str]) -> Selection:
    """One ``rev-list --objects`` piped into ``cat-file --batch-check`` for types and sizes."""
    options = [r for r in revs if r.startswith("--")]
    names = [r for r in revs if not r.startswith("--")]
    lister = git.popen(
        repo, "rev-list", "--objects", "--missing=print", *options, "--end-of-options", *names,
        stderr=subprocess.PIPE,
    )
    assert lister.stdout is not None
    checker = subprocess.run(
        git.git_argv(
            repo, "cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize) %(rest)"
        ),
        stdin=lister.stdout,
        capture_output=True,
        env=git.git_env(),
        check=False,
    )
    lister.stdout.close()
    _, lister_err = lister.communicate()
    if lister.returncode != 0:
        raise GitError(f"git rev-list failed: {git.first_line(lister_err)}")
    selection = Selection(blobs=[], revs=list(revs))
    for line in checker.stdout.decode(errors="surrogateescape").splitlines():
        _add_checked(selection, line)
    return selection


def _add_checked(selection: Selection, line: str) -> None:
    oid, _, rest = line.partition(" ")
    if rest.startswith("missing"):
        missing = oid.lstrip("?")
        if _is_oid(missing):  # else: the tail of a path that contained a newline
            selection.missing.append(missing)
        return
    kind, size, *name = rest.split(" ", 2)
    if kind == "blob":
        selection.blobs.append(Blob(oid, int(size), name[0] if name else ""))


def _is_oid(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def all_blobs(repo: Path) -> list[Blob]:
    """Every blob in the object store, unreachable ones (left by reset, rebase) included."""
    out = git.run(
        repo,
        "cat-file",
        "--batch-all-objects",
        "--unordered",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
    ).stdout.decode()
    blobs = []
    for line in out.splitlines():
        oid, kind, size = line.split(" ")
        if kind == "blob":
            # Provenance replaces this with real paths for blobs some commit reaches.
            blobs.append(Blob(oid, int(size), f"(unreachable blob {oid[:12]})"))
    return blobs


def range_blobs(repo: Path, rev_range: str) -> Selection:
    """Blobs that commits in the range added or changed: the CI check for a pull request."""
    seen: dict[str, str] = {}
    for change in provenance.changes(repo, [rev_range]):
        seen.setdefault(change.blob, change.path)
    selection = Selection(blobs=[], revs=[rev_range])
    for oid, info in git.object_info(repo, seen).items():
        if info is None:
            selection.missing.append(oid)
        elif info[0] == "blob":
            selection.blobs.append(Blob(oid, info[1], seen[oid]))
    return selection


def scan_blobs(
    repo: Path,
    blobs: Sequence[Blob],
    *,
    make_scanner: ScannerFactory,
    max_size: int = DEFAULT_MAX_SIZE,
    jobs: int = 0,
    on_progress: OnProgress | None = None,
    on_total: OnTotal | None = None,
) -> tuple[dict[str, list[Finding]], Stats]:
    """Findings per blob id, and what was read and skipped."""
    stats = Stats()
    wanted = []
    for blob in blobs:
        if blob.size > max_size:
            stats.skip("too-large")  # the same reason name as the file source
        else:
            wanted.append(blob)
    if on_total:
        on_total(sum(b.size for b in wanted), len(wanted))
    update = on_progress or _ignore
    workers = _worker_count(jobs, wanted)
    if workers <= 1:
        hits, read = scan_serial(repo, wanted, make_scanner(), update)
    else:
        hits, read = _scan_parallel(repo, wanted, make_scanner, workers, update)
    stats.merge(read)
    return hits, stats


def _ignore(nbytes: int) -> None:
    return None


def _worker_count(jobs: int, blobs: Sequence[Blob]) -> int:
    """``jobs`` is a ceiling (0: the CPU count); small scans stay in this process."""
    if jobs == 1 or sum(b.size for b in blobs) < PARALLEL_MIN_BYTES:
        return 1
    # Each worker runs its own ``git cat-file``, which needs a core of its own about half the time;
    # beyond four, the pack's delta chains are inflated over and over for little gain.
    ceiling = jobs or os.cpu_count() or 1
    return max(1, min(ceiling, 4, len(blobs)))


def scan_serial(
    repo: Path,
    blobs: Sequence[Blob],
    scanner: BytesScanner,
    update: OnProgress,
) -> tuple[dict[str, list[Finding]], Stats]:
    from keyscan.content import is_binary

    stats = Stats()
    hits: dict[str, list[Finding]] = {}
    paths = {b.oid: b.path for b in blobs}
    reader = git.CatFile(repo)
    pending = 0
    for oid, data in reader.read([b.oid for b in blobs]):
        if data is None:
            continue
        stats.blobs += 1
        stats.bytes += len(data)
        pending += len(data)
        if pending >= _PROGRESS_EVERY:
            update(pending)
            pending = 0
        if is_binary(data):
            stats.skip("binary")
            continue
        found = scanner.scan_bytes(data, path=paths[oid], blob=oid)
        if found:
            hits[oid] = found
    update(pending)
    for oid, why in reader.failed.items():
        stats.skip("unreadable", f"cannot read object {oid}: {why}")
    return hits, stats


def split(blobs: Sequence[Blob], parts: int) -> list[list[Blob]]:
    """Contiguous slices of about equal bytes: neighbours in rev-list order share delta bases."""
    total = sum(b.size for b in blobs) or 1
    slices: list[list[Blob]] = [[] for _ in range(parts)]
    done = 0
    for blob in blobs:
        slices[min(parts - 1, done * parts // total)].append(blob)
        done += blob.size
    return [s for s in slices if s]


def _scan_parallel(
    repo: Path,
    blobs: Sequence[Blob],
    make_scanner: ScannerFactory,
    workers: int,
    update: OnProgress,
) -> tuple[dict[str, list[Finding]], Stats]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    messages: multiprocessing.Queue[tuple[object, ...]] = context.Queue()
    processes = [
        context.Process(target=_worker, args=(repo, part, make_scanner, messages), daemon=True)
        for part in split(blobs, workers)
    ]
    for process in processes:
        process.start()
    hits: dict[str, list[Finding]] = {}
    stats = Stats()
    try:
        for message in _messages(messages, processes):
            if message[0] == "progress":
                update(cast(int, message[1]))
            elif message[0] == "done":
                hits.update(cast(dict[str, list[Finding]], message[1]))
                stats.merge(cast(Stats, message[2]))
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    return hits, stats


def _messages(
    messages: multiprocessing.Queue[tuple[object, ...]],
    processes: Sequence[multiprocessing.process.BaseProcess],
) -> Iterator[tuple[object, ...]]:
    running = len(processes)
    while running:
        try:
            message = messages.get(timeout=1.0)
        except queue.Empty:
            if any(p.exitcode not in (None, 0) for p in processes):
                raise RuntimeError("a history scan worker died") from None
            continue
        if message[0] == "failed":
            raise RuntimeError(f"history scan worker failed:\n{message[1]}")
        if message[0] == "done":
            running -= 1
        yield message


def _worker(
    repo: Path,
    blobs: list[Blob],
    make_scanner: ScannerFactory,
    messages: multiprocessing.Queue[tuple[object, ...]],
) -> None:
    import traceback

    try:
        hits, stats = scan_serial(
            repo, blobs, make_scanner(), lambda n: messages.put(("progress", n))
        )
    except BaseException:  # reported to the parent, which fails the scan with it
        messages.put(("failed", traceback.format_exc()))
        raise
    messages.put(("done", hits, stats))
