"""Run git against a repository that may be hostile, without letting it run anything.

A repository's own config can name programs git would execute: ``core.fsmonitor`` (run by any
command that looks at the work tree), filter drivers, textconv and external diff drivers,
``core.sshCommand`` and lazy fetches of a partial clone, ``gpg.program`` behind
``log.showSignature``, hooks. keyscan only ever reads objects, so every git call here overrides
those settings on the command line (which wins over repository config), never asks for filters
or textconv, and drops inherited ``GIT_*`` variables: inside a hook git exports ``GIT_DIR`` and
``GIT_INDEX_FILE``, which would silently point us at another repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from keyscan.errors import GitError

# Settings that stop git from executing anything a repository's config names. ``-c`` outranks
# the repository config. ``safe.directory=*`` lets us read repositories owned by someone else:
# that check exists to stop exactly the execution vectors disabled here.
SAFE_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.sshCommand=false",
    "core.gitProxy=",
    "core.askPass=",
    "core.pager=cat",
    "core.quotePath=false",
    "core.alternateRefsCommand=",
    "credential.helper=",
    "diff.external=",
    "log.showSignature=false",
    "gpg.program=false",
    "protocol.allow=never",
    "uploadpack.packObjectsHook=",
    "safe.directory=*",
)

_KEEP_ENV = ("GIT_EXEC_PATH",)  # where git finds its own helpers; not repository-controlled


def git_env(base: dict[str, str] | None = None, *, index_file: str | None = None) -> dict[str, str]:
    """The environment for git: inherited ``GIT_*`` removed, prompts, system config, lazy
    fetches and optional locks off; ``index_file`` is an index chosen on purpose (see
    ``hook_index``)."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith("GIT_") or k in _KEEP_ENV
    }
    env.update(
        GIT_CONFIG_NOSYSTEM="1",
        GIT_TERMINAL_PROMPT="0",
        GIT_NO_LAZY_FETCH="1",
        GIT_OPTIONAL_LOCKS="0",
        GIT_NO_REPLACE_OBJECTS="1",
        LC_ALL="C",
    )
    if index_file is not None:
        env["GIT_INDEX_FILE"] = index_file
    return env


def hook_index(repo: Repo) -> str | None:
    """The index git is committing from, when we run inside its pre-commit hook.

    ``git commit -a`` and ``git commit PATH`` stage into a temporary index and export
    ``GIT_INDEX_FILE`` to the hook: what is staged for *this* commit is there, not in
    ``.git/index``. It is honoured only for the repository git is committing in.
    """
    index = os.environ.get("GIT_INDEX_FILE")
    if not index:
        return None
    git_dir = os.environ.get("GIT_DIR")
    if git_dir and Path(git_dir).resolve() != repo.git_dir.resolve():
        return None
    return os.path.abspath(index)


def git_argv(repo: str | os.PathLike[str], *args: str) -> list[str]:
    argv = ["git", "-C", os.fspath(repo), "--no-pager"]
    for setting in SAFE_CONFIG:
        argv += ["-c", setting]
    return [*argv, *args]


def run(
    repo: str | os.PathLike[str],
    *args: str,
    input: bytes | None = None,
    check: bool = True,
    index_file: str | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run one git command to completion; a failure becomes a one-line ``GitError``."""
    try:
        proc = subprocess.run(
            git_argv(repo, *args),
            input=input,
            capture_output=True,
            env=git_env(index_file=index_file),
            check=False,
        )
    except FileNotFoundError:
        raise GitError(_NO_GIT) from None
    if check and proc.returncode != 0:
        raise GitError(f"git {args[0]} failed: {first_line(proc.stderr)}")
    return proc


def popen(
    repo: str | os.PathLike[str],
    *args: str,
    stdin: int | None = None,
    stderr: int | IO[bytes] = subprocess.DEVNULL,
) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(
            git_argv(repo, *args),
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=git_env(),
        )
    except FileNotFoundError:
        raise GitError(_NO_GIT) from None


_NO_GIT = "git is not installed or not on PATH; install git to scan history"


def object_info(repo: str | os.PathLike[str], oids: Iterable[str]) -> dict[str, tuple[str, int] | None]:
    """Type and size of each object (None when it is missing), in one ``cat-file --batch-check``."""
    out = run(
        repo,
        "cat-file",
        "--batch-check=%(objectname) %(objecttype) %(objectsize)",
        input="".join(f"{oid}\n" for oid in oids).encode(),
    ).stdout.decode()
    info: dict[str, tuple[str, int] | None] = {}
    for line in out.splitlines():
        parts = line.split(" ")
        info[parts[0]] = (parts[1], int(parts[2])) if len(parts) == 3 else None
    return info


def first_line(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode(errors="replace").splitlines() if ln.strip()]
    text = lines[0] if lines else "no error message"
    return text.removeprefix("fatal: ").removeprefix("error: ")


@dataclass(frozen=True, slots=True)
class Repo:
    """Facts about a repository, found once before scanning it."""

    path: Path
    git_dir: Path
    bare: bool
    shallow: bool
    head: str | None  # commit id of HEAD, None when HEAD is unborn (empty repository)
    notes: tuple[str, ...] = field(default=())


def open_repo(path: str | os.PathLike[str] = ".") -> Repo:
    """Check that ``path`` is a git repository and learn what kind; raise ``GitError`` if not."""
    where = Path(path)
    if not where.is_dir():
        raise GitError(f"not a git repository: {where} (no such directory)")
    proc = run(
        where,
        "rev-parse",
        "--absolute-git-dir",
        "--is-bare-repository",
        "--is-shallow-repository",
        check=False,
    )
    if proc.returncode != 0:
        message = first_line(proc.stderr)
        if "not a git repository" in message.lower():
            raise GitError(f"not a git repository: {where}")
        raise GitError(f"cannot read git repository {where}: {message}")
    git_dir, bare, shallow = proc.stdout.decode().splitlines()[:3]
    head = resolve(where, "HEAD")
    notes: list[str] = []
    if head is None:
        notes.append("empty repository: no commits to scan")
    if shallow == "true":
        notes.append(_shallow_note(Path(git_dir)))
    if Path(git_dir).parent.name == "worktrees":
        notes.append(f"linked worktree of {Path(git_dir).parent.parent}; scanning its repository")
    return Repo(
        path=where,
        git_dir=Path(git_dir),
        bare=bare == "true",
        shallow=shallow == "true",
        head=head,
        notes=tuple(notes),
    )


def _shallow_note(git_dir: Path) -> str:
    common = _common_dir(git_dir)
    try:
        boundary = (common / "shallow").read_text().split()
    except OSError:
        boundary = []
    shown = ", ".join(sha[:12] for sha in boundary[:3]) + (" …" if len(boundary) > 3 else "")
    return f"shallow clone: history before {shown or 'the graft point'} not scanned"


def _common_dir(git_dir: Path) -> Path:
    try:
        rel = (git_dir / "commondir").read_text().strip()
    except OSError:
        return git_dir
    return (git_dir / rel).resolve()


def resolve(repo: str | os.PathLike[str], rev: str) -> str | None:
    """The object id ``rev`` names, or None if it names nothing."""
    proc = run(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", rev, check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def submodules(repo: str | os.PathLike[str], treeish: str) -> list[str]:
    """Paths of gitlinks (submodules) in a tree; keyscan lists them but does not enter them."""
    return [path for mode, _, path in ls_tree(repo, treeish) if mode == "160000"]


def ls_tree(repo: str | os.PathLike[str], treeish: str) -> list[tuple[str, str, str]]:
    """(mode, object id, path) of every entry in a tree, recursively."""
    out = run(repo, "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", treeish).stdout
    entries: list[tuple[str, str, str]] = []
    for record in split_z(out):
        meta, _, path = record.partition(b"\t")
        mode, _kind, oid = meta.decode().split(" ")
        entries.append((mode, oid, path.decode(errors="surrogateescape")))
    return entries


def split_z(data: bytes) -> list[bytes]:
    return [part for part in data.split(b"\0") if part]


def check_revs(repo: str | os.PathLike[str], revs: Sequence[str]) -> None:
    """Fail early, with the name the user typed, on a ref or range git does not know."""
    for rev in revs:
        for end in re.split(r"\.\.\.?", rev.removeprefix("^")):
            if end and resolve(repo, end + "^{commit}") is None:
                raise GitError(f"unknown revision: {end!r} (in {rev!r})")


class CatFile:
    """One long-lived ``git cat-file --batch`` reading raw objects (never ``--filters``).

    ``read(ids)`` yields ``(id, data)`` in order, ``data`` None for a missing object. A corrupt
    object can make git die, or print fewer bytes than its header promised; the reader then
    notes the object in ``failed`` and restarts git after it, so one bad object costs a
    warning, not the scan.
    """

    def __init__(self, repo: str | os.PathLike[str]) -> None:
        self.repo = repo
        self.failed: dict[str, str] = {}  # object id -> why it could not be read

    def read(self, ids: Sequence[str]) -> Iterator[tuple[str, bytes | None]]:
        start = 0
        while start < len(ids):
            start = yield from self._run(ids, start)

    def _run(self, ids: Sequence[str], start: int) -> Generator[tuple[str, bytes | None], None, int]:
        """Read from ``start`` until done or git goes wrong; returns where to resume."""
        with tempfile.TemporaryFile() as errors:
            proc = popen(self.repo, "cat-file", "--batch", stdin=subprocess.PIPE, stderr=errors)
            assert proc.stdin is not None and proc.stdout is not None
            writer = threading.Thread(target=_feed, args=(proc.stdin, ids[start:]), daemon=True)
            writer.start()
            try:
                return (yield from self._results(proc.stdout, errors, ids, start))
            finally:
                _stop(proc)
                writer.join()

    def _results(
        self, out: IO[bytes], errors: IO[bytes], ids: Sequence[str], start: int
    ) -> Generator[tuple[str, bytes | None], None, int]:
        for index in range(start, len(ids)):
            oid = ids[index]
            header = out.readline().split()
            if len(header) == 2 and header[0].decode() == oid:
                self.failed[oid] = header[1].decode()  # "missing"
                yield oid, None
                continue
            if len(header) != 3 or header[0].decode() != oid:
                errors.seek(0)
                self.failed[oid] = first_line(errors.read()) if not header else "unreadable"
                return index + 1
            data = out.read(int(header[2]))
            if out.read(1) != b"\n":  # git printed less than it announced
                self.failed[oid] = "corrupt object"
                return index + 1
            yield oid, data
        return len(ids)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    assert proc.stdout is not None
    proc.stdout.close()
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def _feed(stdin: IO[bytes], ids: Sequence[str]) -> None:
    try:
        for i in range(0, len(ids), 1024):
            stdin.write("".join(f"{oid}\n" for oid in ids[i : i + 1024]).encode())
        stdin.close()
    except (BrokenPipeError, ValueError):
        pass  # git died or we stopped reading early; the reader reports what it could not read
