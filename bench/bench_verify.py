"""Verification benchmark against a local moto STS on 127.0.0.1 (no other network).

    python bench/bench_verify.py                 # 100 credentials, workers 1 and 8
    python bench/bench_verify.py --keys 200 --workers 1 4 8 16

Prints:
  calls/s   distinct credentials checked per second by keyscan.validate, one fresh run (empty
            cache) per worker count; every call is a real signed POST to the moto server.
  scan      `keyscan scan` on a folder of --keys files, each holding one distinct seeded key,
            with and without `--verify`: median wall time of --repeat runs, and the difference.

moto's server is single-process (about 50-150 calls/s), so the numbers bound the client's
overhead and concurrency, not what real STS would give. No assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from keyscan.validate import Verifier, VerifyOptions  # noqa: E402
from tests.sts import Credential, MotoServer, finding, seed_user, start_moto  # noqa: E402


def seed(server: MotoServer, count: int) -> list[Credential]:
    server.set_auth(False)
    try:
        return [seed_user(server, f"bench-{n}") for n in range(count)]
    finally:
        server.set_auth(True)


def calls_per_second(server: MotoServer, creds: list[Credential], workers: int) -> float:
    """One run over distinct credentials with an empty cache."""
    findings = [finding(c.key_id, c.secret) for c in creds]
    verifier = Verifier(VerifyOptions(endpoint=server.endpoint, workers=workers, timeout=10.0))
    started = time.perf_counter()
    out = verifier.verify(findings)
    elapsed = time.perf_counter() - started
    bad = [f for f in out if f.validation is None or f.validation.status.value != "valid"]
    if bad:
        print(f"  warning: {len(bad)} of {len(out)} not valid", file=sys.stderr)
    return len(creds) / elapsed


def write_tree(folder: Path, creds: list[Credential]) -> None:
    for n, cred in enumerate(creds):
        (folder / f"service-{n:03d}.ini").write_text(
            f"[default]\naws_access_key_id = {cred.key_id}\naws_secret_access_key = {cred.secret}\n"
        )


def time_scan(argv: list[str], repeat: int, repeat_note: list[list[str]] | None = None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(ROOT)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "keyscan", *argv], env=env, capture_output=True, check=False
        )
        runs.append(time.perf_counter() - started)
        if done.returncode != 1 or not done.stdout.strip():  # 1: findings, as planted
            tail = done.stderr.decode(errors="replace").strip()[-400:]
            print(f"  warning: exit {done.returncode}: {tail}", file=sys.stderr)
        elif repeat_note is not None and not runs[1:]:
            repeat_note.append(done.stderr.decode(errors="replace").strip().splitlines()[-2:])
    return statistics.median(runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=100, help="distinct credentials (100)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--repeat", type=int, default=3, help="runs per scan timing (3)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="keyscan-bench-") as temp:
        server = start_moto(Path(temp) / "moto.log")
        try:
            creds = seed(server, args.keys)
            print(f"moto STS on loopback, {len(creds)} distinct active keys")
            for workers in args.workers:
                rate = calls_per_second(server, creds, workers)
                print(f"  verify  workers={workers:<3d} {rate:7.1f} calls/s")
            tree = Path(temp) / "tree"
            tree.mkdir()
            write_tree(tree, creds)
            plain = time_scan(["scan", str(tree), "--format", "json"], args.repeat)
            verify = ["--verify", "--sts-endpoint", server.endpoint]
            notes: list[list[str]] = []
            checked = time_scan(
                ["scan", str(tree), "--format", "json", *verify], args.repeat, notes
            )
            print(f"  scan {len(creds)} files           {plain:7.3f} s")
            print(f"  scan {len(creds)} files --verify  {checked:7.3f} s")
            print(f"  --verify adds               {checked - plain:7.3f} s (default 8 workers)")
            for line in notes[0] if notes else []:
                print(f"    {line}")
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
