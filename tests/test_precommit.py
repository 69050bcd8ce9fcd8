"""The published hook through the real pre-commit framework and real `git commit`s.

pre-commit builds a virtualenv from this project (``language: python``), which downloads the
dependencies from PyPI once per test session: these tests are marked slow (CI runs them). The
project is snapshotted into a temporary repository first, so what is tested is the working tree,
committed or not.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keyscan.cli import main
from tests.fakes import fake_key_id, fake_secret
from tests.gitrepo import GitRepo, git_env

pytestmark = pytest.mark.slow
PROJECT = Path(__file__).resolve().parent.parent
SNAPSHOT = ["pyproject.toml", "README.md", ".pre-commit-hooks.yaml", "keyscan", "patterns"]


def pair_text(seed: int) -> str:
    rng = random.Random(seed)
    return f"aws_access_key_id = {fake_key_id(rng=rng)}\naws_secret_access_key = {fake_secret(rng)}\n"


@dataclass
class Consumer:
    repo: GitRepo
    env: dict[str, str]

    def commit(self, message: str, files: dict[str, str]) -> subprocess.CompletedProcess[str]:
        for name, text in files.items():
            self.repo.write(name, text)
        self.repo.git("add", "--", *files)
        return subprocess.run(["git", "commit", "-m", message], cwd=self.repo.path, env=self.env,
                              capture_output=True, text=True, timeout=900)

    def count(self) -> int:
        return int(self.repo.git("rev-list", "--count", "HEAD"))


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Consumer]:
    if shutil.which("pre-commit") is None:
        pytest.fail("pre-commit is not installed: pip install -e '.[test]'")
    base = tmp_path_factory.mktemp("precommit")
    source = GitRepo(base / "keyscan-src")
    for name in SNAPSHOT:
        src = PROJECT / name
        if src.is_dir():
            shutil.copytree(src, source.path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(src, source.path / name)
    source.git("add", "-A")
    rev = source.commit("snapshot of the working tree", {})

    repo = GitRepo(base / "app")
    repo.write(".pre-commit-config.yaml",
               f"repos:\n  - repo: {source.path}\n    rev: {rev}\n    hooks:\n      - id: keyscan\n")
    repo.commit("add pre-commit config", {".pre-commit-config.yaml": (repo.path / ".pre-commit-config.yaml").read_text()})
    env = git_env(repo.home) | {"PRE_COMMIT_HOME": str(base / "pre-commit-home"), "NO_COLOR": "1"}
    env.pop("CI", None)
    subprocess.run(["pre-commit", "install"], cwd=repo.path, env=env, check=True, capture_output=True)
    built = subprocess.run(["pre-commit", "install-hooks"], cwd=repo.path, env=env, capture_output=True,
                           text=True, timeout=900)
    assert built.returncode == 0, built.stdout + built.stderr
    yield Consumer(repo, env)


def test_blocks_a_key_pair_and_says_what_to_do(consumer: Consumer) -> None:
    before = consumer.count()
    proc = consumer.commit("add deploy settings", {"deploy/settings.ini": "[aws]\n" + pair_text(1)})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert consumer.count() == before
    assert "keyscan (AWS credentials)" in out and "Failed" in out
    assert "deploy/settings.ini" in out and "2:21" in out and "long-term credential" in out
    assert "commit blocked" in out and "keyscan:allow" in out and "keyscan baseline update" in out
    consumer.repo.git("reset", "-q", "--hard")


def test_passes_a_clean_commit(consumer: Consumer) -> None:
    before = consumer.count()
    proc = consumer.commit("add readme", {"README.md": "# app\n\nNothing secret here.\n"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "keyscan (AWS credentials)" in proc.stdout + proc.stderr and consumer.count() == before + 1


def test_passes_an_inline_allowed_line(consumer: Consumer) -> None:
    key_id = fake_key_id(rng=random.Random(2))
    proc = consumer.commit("doc example", {"docs/iam.md": f"Example: `{key_id}` <!-- keyscan:allow -->\n"})
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_passes_a_baselined_key_and_the_baseline_file(consumer: Consumer, monkeypatch: pytest.MonkeyPatch) -> None:
    consumer.repo.write("tests/fixtures/creds.ini", "[default]\n" + pair_text(3))
    monkeypatch.chdir(consumer.repo.path)
    assert main(["baseline", "create"]) == 0
    entries = json.loads((consumer.repo.path / ".keyscan-baseline.json").read_text())["findings"]
    assert len(entries) == 1
    proc = consumer.commit("accepted test fixture", {
        "tests/fixtures/creds.ini": "[default]\n" + pair_text(3),
        ".keyscan-baseline.json": (consumer.repo.path / ".keyscan-baseline.json").read_text(),
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ... and a new key next to it is still blocked.
    proc = consumer.commit("second key", {"tests/fixtures/more.ini": pair_text(4)})
    assert proc.returncode == 1 and "tests/fixtures/more.ini" in proc.stdout + proc.stderr
    assert "tests/fixtures/creds.ini" not in proc.stdout
    consumer.repo.git("reset", "-q", "--hard")


def test_the_projects_own_hook_config_passes_on_the_project(tmp_path: Path) -> None:
    """Dogfood: .pre-commit-config.yaml (the local hook) over every file of this project."""
    listed = subprocess.run(["git", "-C", str(PROJECT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, check=False)
    if listed.returncode != 0:
        pytest.skip("not a git checkout")
    copy = GitRepo(tmp_path / "keyscan")
    for name in listed.stdout.decode().split("\0"):
        src = PROJECT / name
        if name and src.is_file() and not src.is_symlink():
            (copy.path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, copy.path / name)
    copy.git("add", "-A")
    env = git_env(copy.home) | {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "NO_COLOR": "1"}
    proc = subprocess.run(["pre-commit", "run", "--all-files", "keyscan"], cwd=copy.path, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "keyscan (AWS credentials)" in proc.stdout and "Passed" in proc.stdout
