"""Files and folders: walk, read in chunks, detect; in parallel across processes when it pays.

The walk never follows a symlink unless asked, and then only inside the scanned tree and never
around a loop. Whatever is not scanned is counted by reason in ``Stats.skipped``; whatever
*could not* be read is also an error message, which makes the scan incomplete (exit 2).
"""

from __future__ import annotations

import os
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from keyscan.content import is_binary
from keyscan.engine import DetectOptions, Engine
from keyscan.model import Finding, Stats
from keyscan.pathfilter import PathFilter

if TYPE_CHECKING:
    from concurrent.futures import Future

CHUNK_SIZE = 8 << 20
STDIN = "-"


@dataclass(frozen=True)
class FileOptions:
    include_binary: bool = False
    max_size: int | None = None
    follow_symlinks: bool = False
    exclude: PathFilter = field(default_factory=lambda: PathFilter(()))
    chunk_size: int = CHUNK_SIZE


@dataclass(frozen=True, slots=True)
class Target:
    fs_path: str
    display: str


def walk(roots: Sequence[str], options: FileOptions, stats: Stats) -> Iterator[Target]:
    for root in roots:
        if root == STDIN:
            continue
        try:
            st = os.stat(root)
        except OSError as e:
            stats.skip("missing", f"{root}: cannot scan: {e.strerror}")
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, options, stats)
        elif stat.S_ISREG(st.st_mode):
            yield Target(root, os.path.normpath(root))
        else:
            stats.skip("special", None)


def _walk_dir(root: str, options: FileOptions, stats: Stats) -> Iterator[Target]:
    real_root = os.path.realpath(root)
    seen_dirs = {_dir_id(root)}
    stack = [(root, "")]
    while stack:
        directory, rel_dir = stack.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as e:
            stats.skip("unreadable", f"{directory}: cannot list folder: {e.strerror}")
            continue
        display_dir = os.path.normpath(os.path.join(root, rel_dir))
        display_prefix = "" if display_dir == "." else display_dir + os.sep
        subdirs = []
        for entry in entries:
            rel = f"{rel_dir}{entry.name}"
            display = display_prefix + entry.name
            try:
                is_link = entry.is_symlink()
                if is_link and not options.follow_symlinks:
                    stats.skip("symlink", None)
                    continue
                if is_link and not _inside(entry.path, real_root):
                    stats.skip("symlink-outside", None)
                    continue
                is_dir = entry.is_dir()
                if is_dir:
                    if entry.name == ".git":
                        continue
                    if options.exclude and options.exclude.excluded(rel, is_dir=True):
                        stats.skip("excluded", None)
                        continue
                    ident = _dir_id(entry.path)
                    if ident in seen_dirs:
                        stats.skip("symlink-loop", None)
                        continue
                    seen_dirs.add(ident)
                    subdirs.append((entry.path, rel + "/"))
                elif entry.is_file():
                    if options.exclude and options.exclude.excluded(rel):
                        stats.skip("excluded", None)
                        continue
                    yield Target(entry.path, display)
                else:
                    stats.skip("special" if not is_link else "symlink-broken", None)
            except OSError as e:
                stats.skip("unreadable", f"{display}: cannot read: {e.strerror}")
        stack.extend(reversed(subdirs))


def _dir_id(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _inside(path: str, real_root: str) -> bool:
    real = os.path.realpath(path)
    return real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)


def scan_target(engine: Engine, target: Target, options: FileOptions, stats: Stats) -> list[Finding]:
    try:
        with open(target.fs_path, "rb", buffering=0) as f:
            size = os.fstat(f.fileno()).st_size
            if options.max_size is not None and size > options.max_size:
                stats.skip("too-large", None)
                return []
            # Ask for what the file holds, plus one byte to see the end: an 8 MiB request for a
            # small file costs an allocation far larger than the read itself.
            want = options.chunk_size if size == 0 or size >= options.chunk_size else size + 1
            head = f.read(want)
            if not options.include_binary and is_binary(head):
                stats.skip("binary", None)
                return []
            stats.files += 1
            if len(head) < want:  # the whole file is in hand
                stats.bytes += len(head)
                return engine.scan_bytes(head, path=target.display)
            findings, read = engine.scan_stream(_chunks(head, f, options.chunk_size), path=target.display)
            stats.bytes += read
            return findings
    except OSError as e:
        stats.skip("unreadable", f"{target.display}: cannot read: {e.strerror or e}")
        return []


def _chunks(head: bytes, f: object, size: int) -> Iterator[bytes]:
    yield head
    read = f.read  # type: ignore[attr-defined]
    while chunk := read(size):
        yield chunk


def scan_stdin(engine: Engine, stats: Stats, chunk_size: int = CHUNK_SIZE) -> list[Finding]:
    stream = sys.stdin.buffer
    findings, size = engine.scan_stream(iter(lambda: stream.read(chunk_size), b""), path="<stdin>")
    stats.files += 1
    stats.bytes += size
    return findings


# --- parallel driver -------------------------------------------------------------------------

_WORKER: tuple[Engine, FileOptions] | None = None
BATCH_FILES = 256
SMALL_SCAN_FILES = 64
SMALL_SCAN_BYTES = 16 << 20


def _init_worker(detect: DetectOptions, options: FileOptions) -> None:
    global _WORKER
    _WORKER = (Engine.load(detect), options)


def _scan_batch(batch: list[Target]) -> tuple[list[Finding], Stats]:
    assert _WORKER is not None
    engine, options = _WORKER
    stats = Stats()
    findings: list[Finding] = []
    for target in batch:
        findings.extend(scan_target(engine, target, options, stats))
    return findings, stats


def _batches(targets: Iterable[Target]) -> Iterator[list[Target]]:
    batch: list[Target] = []
    for target in targets:
        batch.append(target)
        if len(batch) >= BATCH_FILES:
            yield batch
            batch = []
    if batch:
        yield batch


def _size(target: Target) -> int:
    try:
        return os.stat(target.fs_path).st_size
    except OSError:
        return 0  # scan_target reports it


def scan_paths(
    roots: Sequence[str],
    detect: DetectOptions,
    options: FileOptions,
    stats: Stats,
    *,
    jobs: int,
    engine: Engine | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> list[Finding]:
    """Scan files and folders (and stdin for '-'). Small scans stay in this process."""
    engine = engine or Engine.load(detect)
    findings: list[Finding] = []
    if STDIN in roots:
        findings += scan_stdin(engine, stats)
    targets = walk(roots, options, stats)
    first: list[Target] = []
    first_bytes = 0
    for target in targets:
        first.append(target)
        first_bytes += _size(target)
        if len(first) > SMALL_SCAN_FILES or first_bytes > SMALL_SCAN_BYTES:
            break
    else:
        jobs = 1  # the whole walk fitted in the first look: not worth a pool
    rest = _chain(first, targets)
    if jobs <= 1:
        for target in rest:
            before = stats.bytes
            findings += scan_target(engine, target, options, stats)
            if on_progress:
                on_progress(stats.bytes - before)
        return findings
    findings += _scan_parallel(rest, detect, options, stats, jobs, on_progress)
    return findings


def _chain(first: list[Target], rest: Iterator[Target]) -> Iterator[Target]:
    yield from first
    yield from rest


def _scan_parallel(
    targets: Iterator[Target],
    detect: DetectOptions,
    options: FileOptions,
    stats: Stats,
    jobs: int,
    on_progress: Callable[[int], None] | None,
) -> list[Finding]:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    findings: list[Finding] = []
    pending: set[Future[tuple[list[Finding], Stats]]] = set()

    def collect(done: Iterable[Future[tuple[list[Finding], Stats]]]) -> None:
        for future in done:
            pending.discard(future)
            batch_findings, batch_stats = future.result()
            findings.extend(batch_findings)
            stats.merge(batch_stats)
            if on_progress:
                on_progress(batch_stats.bytes)

    with ProcessPoolExecutor(max_workers=jobs, initializer=_init_worker, initargs=(detect, options)) as pool:
        for batch in _batches(targets):
            if len(pending) >= jobs * 4:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                collect(done)
            pending.add(pool.submit(_scan_batch, batch))
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            collect(done)
    return findings
