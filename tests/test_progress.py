"""A progress bar for a person at a terminal; none when piped, in CI, or with --no-progress."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest


def run_with_tty_stderr(args: list[str], env: dict[str, str]) -> str:
    """Run with stderr on a real pseudo-terminal, and return what it printed there."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a real terminal has a size
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=slave, stdin=subprocess.DEVNULL, env=env)
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for i in range(300):
        (tmp_path / f"f{i}.txt").write_text("ordinary text\n" * 200)
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update(extra)
    return env


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_bar_on_a_terminal_and_not_otherwise(tree: Path) -> None:
    exe = shutil.which("keyscan")
    assert exe
    shown = run_with_tty_stderr([exe, "scan", str(tree), "--jobs", "1"], _env())
    assert "B/s" in shown, shown
    assert "B/s" not in run_with_tty_stderr([exe, "scan", str(tree), "--no-progress"], _env())
    assert "B/s" not in run_with_tty_stderr([exe, "scan", str(tree)], _env(CI="true"))
    piped = subprocess.run([exe, "scan", str(tree)], capture_output=True, text=True, env=_env(), timeout=60)
    assert "B/s" not in piped.stderr and "scanned 300 files" in piped.stderr


def test_history_bar_knows_its_total(tmp_path: Path) -> None:
    from tests.gitrepo import GitRepo

    repo = GitRepo(tmp_path / "repo")
    repo.commit("files", {f"f{i}.txt": f"text {i}\n" * 100 for i in range(20)})
    exe = shutil.which("keyscan")
    assert exe
    shown = run_with_tty_stderr([exe, "history", str(repo.path), "--jobs", "1"], _env())
    assert "20 blobs" in shown and "%" in shown, shown
