"""Commit hooks: the pre-commit framework's entry (``keyscan hook FILE ...``) and a plain
``.git/hooks/pre-commit`` for people without the framework (``keyscan install-hook``).

The hook runs on every commit, so this module imports only what scanning a handful of files
needs: no process pool, no GitPython, no tqdm. pre-commit stashes unstaged changes before it
runs hooks, so the files on disk are the staged content. The hook never writes a file.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from keyscan.engine import Engine
from keyscan.errors import KeyscanError
from keyscan.model import Finding, Stats
from keyscan.pathfilter import PathFilter
from keyscan.sources.files import FileOptions, Target, scan_target

MARKER = "# keyscan-hook: installed by `keyscan install-hook`"
BACKUP_SUFFIX = ".keyscan-backup"


# --- `keyscan hook FILE ...` -----------------------------------------------------------------

@dataclass(frozen=True)
class HookOptions:
    exclude: PathFilter
    include_binary: bool = False
    max_size: int | None = None


def scan_files(files: Sequence[str], engine: Engine, options: HookOptions, stats: Stats) -> list[Finding]:
    """Scan exactly these files, in this process; folders, symlinks and excluded paths are skipped."""
    findings: list[Finding] = []
    for name in files:
        rel = Path(name).as_posix().removeprefix("./")
        if options.exclude and options.exclude.excluded(rel):
            stats.skip("excluded", None)
            continue
        findings += _scan_file(name, rel, engine, options, stats)
    return findings


def _scan_file(name: str, rel: str, engine: Engine, options: HookOptions, stats: Stats) -> list[Finding]:
    try:
        st = os.lstat(name)
    except OSError as e:
        stats.skip("unreadable", f"{rel}: cannot read: {e.strerror or e}")
        return []
    if not stat.S_ISREG(st.st_mode):  # a staged symlink's content is its target's name
        stats.skip("symlink" if stat.S_ISLNK(st.st_mode) else "special", None)
        return []
    read = FileOptions(include_binary=options.include_binary, max_size=options.max_size)
    return scan_target(engine, Target(name, rel), read, stats)


def advice(findings: Sequence[Finding], config_name: str = ".keyscan.toml") -> str:
    """What to do about a blocked commit: rotate a real key, or allow a false positive."""
    first = findings[0]
    n = len(findings)
    return "\n".join([
        f"keyscan: commit blocked: {n} AWS credential finding{'s' if n != 1 else ''} in the staged files "
        "(listed above).",
        "  A real key: take it out of the files, then deactivate and rotate it in IAM (it may be copied elsewhere).",
        "  A false positive or an accepted test key? Allow it in one of three ways:",
        "    - a comment on its line containing  keyscan:allow  (any comment syntax);",
        "    - accept everything found now into the baseline:  keyscan baseline update"
        "  (and commit .keyscan-baseline.json);",
        f"    - an entry with a reason in {config_name}:",
        "        [[tool.keyscan.allow]]" if config_name == "pyproject.toml" else "        [[allow]]",
        f'        fingerprint = "{first.fingerprint[:16]}"',
        '        reason = "why this is not a live key"',
        "  Skipping the check for one commit (git commit --no-verify) leaves a real key in history.",
    ])


# --- `keyscan install-hook` ------------------------------------------------------------------

@dataclass(frozen=True)
class Installed:
    path: Path
    action: str  # "installed", "unchanged", "updated", "replaced"
    backup: Path | None = None


def hooks_dir(repo: str | os.PathLike[str] = ".") -> Path:
    """The repository's hooks folder, honouring ``core.hooksPath``.

    Unlike scanning (``keyscan.git`` distrusts a repository's config and sets no hooks path),
    this asks git as the user runs it: it is the user's own repository and git's own answer.
    """
    import subprocess  # not on the commit-hook path

    try:
        proc = subprocess.run(["git", "-C", os.fspath(repo), "rev-parse", "--git-path", "hooks"],
                              capture_output=True, check=False)
    except FileNotFoundError:
        raise KeyscanError("git is not installed or not on PATH") from None
    if proc.returncode != 0:
        raise KeyscanError(f"not a git repository: {Path(repo).resolve()} (run install-hook inside one)")
    path = Path(proc.stdout.decode().strip())
    return path if path.is_absolute() else Path(repo) / path


def script(python: str = sys.executable) -> str:
    """A POSIX sh hook that runs ``keyscan staged``, with the Python that installed it first."""
    return "\n".join([
        "#!/bin/sh",
        MARKER,
        "# Blocks a commit that adds AWS credentials. Reinstall with `keyscan install-hook`;",
        "# remove this file to uninstall.",
        f"KEYSCAN_PYTHON={shlex.quote(python)}",
        'if [ -x "$KEYSCAN_PYTHON" ]; then',
        '    exec "$KEYSCAN_PYTHON" -m keyscan staged --no-progress',
        "elif command -v keyscan >/dev/null 2>&1; then",
        "    exec keyscan staged --no-progress",
        "fi",
        'echo "keyscan pre-commit hook: keyscan is not installed (pip install keyscan), commit blocked" >&2',
        "exit 1",
        "",
    ])


def install(directory: Path, *, force: bool = False, python: str = sys.executable) -> Installed:
    """Write ``pre-commit`` in ``directory``; refuse to replace a hook keyscan did not write."""
    target = directory / "pre-commit"
    text = script(python)
    old = _read(target)
    backup = None
    if old is not None and MARKER not in old:
        if not force:
            raise KeyscanError(_foreign(target, old))
        backup = target.with_name(target.name + BACKUP_SUFFIX)
        os.replace(target, backup)
    if old == text:
        return Installed(target, "unchanged")
    directory.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o755)
    os.replace(tmp, target)
    action = "replaced" if backup else ("updated" if old is not None else "installed")
    return Installed(target, action, backup)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise KeyscanError(f"cannot read {path}: {e.strerror}") from e


def _foreign(target: Path, text: str) -> str:
    hint = (" It was written by the pre-commit framework: add the keyscan hook to "
            ".pre-commit-config.yaml instead (see the README)." if "pre-commit.com" in text else "")
    return (f"{target} already exists and was not written by keyscan; not replacing it.{hint} "
            f"Use --force to replace it (the old hook is kept as {target.name}{BACKUP_SUFFIX}).")
