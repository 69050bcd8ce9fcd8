"""Real git repositories for tests, with pinned identity and dates so commit ids are the same on
every run and every machine."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

_EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
AUTHOR = ("Ada Tester", "ada@example.com")


def git_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME=AUTHOR[0],
        GIT_AUTHOR_EMAIL=AUTHOR[1],
        GIT_COMMITTER_NAME=AUTHOR[0],
        GIT_COMMITTER_EMAIL=AUTHOR[1],
    )
    return env


class GitRepo:
    """A repository under ``path``; every commit is one hour after the previous one."""

    def __init__(self, path: Path, *, bare: bool = False, init: bool = True) -> None:
        self.path = path
        self.home = path.parent / f".{path.name}-home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.ticks = 0
        if init:
            path.mkdir(parents=True, exist_ok=True)
            self.git("init", "-q", "-b", "main", *(["--bare"] if bare else []))
            self.git("config", "commit.gpgSign", "false")

    def git(self, *args: str, cwd: Path | None = None) -> str:
        date = (_EPOCH + timedelta(hours=self.ticks)).isoformat()
        env = git_env(self.home) | {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd or self.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def write(self, name: str, text: str | bytes) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text)
        return target

    def commit(self, message: str, files: dict[str, str | bytes | None] | None = None) -> str:
        """Write (or, for None, delete) ``files``, stage everything, commit; the new commit id."""
        for name, text in (files or {}).items():
            if text is None:
                self.git("rm", "-q", "--", name)
            else:
                self.write(name, text)
                self.git("add", "--", name)
        self.ticks += 1
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")

    def blob(self, rev: str, name: str) -> str:
        return self.git("rev-parse", f"{rev}:{name}")


def credentials_file(key_id: str, secret: str | None = None) -> str:
    """An AWS shared-credentials file holding a key ID and, optionally, its secret."""
    lines = ["[default]", f"aws_access_key_id = {key_id}"]
    if secret is not None:
        lines.append(f"aws_secret_access_key = {secret}")
    return "\n".join(lines) + "\n"
