"""The shared tail of every scanning command: suppress, verify, report, summarise, pick the exit
code. Also the progress bar, colour and atomic writes of report files."""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any, TextIO

from keyscan.cli.exits import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS
from keyscan.cli.options import suppression_policy
from keyscan.errors import KeyscanError
from keyscan.model import Finding, Stats

MAX_WARNINGS = 20


def finish(findings: list[Finding], stats: Stats, args: argparse.Namespace) -> int:
    from keyscan import suppress

    # Suppress before --verify: a key someone accepted is never sent to STS.
    return conclude(suppress.apply(findings, suppression_policy(args)), stats, args)


def conclude(findings: list[Finding], stats: Stats, args: argparse.Namespace) -> int:
    """Verify, report, summarise and pick the exit code for findings already suppressed."""
    from keyscan import suppress
    from keyscan.report import WRITERS

    findings = verified(findings, stats, args)
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.commit.sha if f.commit else ""))
    reported = [f for f in findings if f.suppressed is None]
    shown = findings if getattr(args, "show_suppressed", False) else reported
    writer = WRITERS[args.format]
    if args.output:
        buffer = io.StringIO()
        writer(shown, stats, buffer, args.show_secrets, False)
        write_atomic(args.output, buffer.getvalue())
    else:
        writer(shown, stats, sys.stdout, args.show_secrets, _color(args, sys.stdout))
        sys.stdout.flush()
    print_summary(reported, stats, sys.stderr, suppressed=suppress.tally(findings))
    fail_on = getattr(args, "fail_on", "any")
    if any(suppress.fails(f, fail_on) for f in reported):
        return EXIT_FINDINGS
    return EXIT_ERROR if stats.incomplete else EXIT_CLEAN


def verified(findings: list[Finding], stats: Stats, args: argparse.Namespace) -> list[Finding]:
    """With --verify: each distinct unsuppressed credential checked once with STS."""
    options = getattr(args, "verify_options", None)
    if options is None:
        return findings
    from keyscan.validate import verify_findings

    checked = verify_findings([f for f in findings if f.suppressed is None], options)
    counts: dict[str, int] = {}
    for f in checked:
        if f.validation:
            counts[f.validation.status.value] = counts.get(f.validation.status.value, 0) + 1
    if counts:
        tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        stats.notes.append(f"validation: {tally}")
    return checked + [f for f in findings if f.suppressed is not None]


def write_atomic(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise KeyscanError(f"cannot write {path}: {e.strerror}") from e


def print_summary(
    findings: Sequence[Finding], stats: Stats, out: TextIO, suppressed: Mapping[str, int] | None = None
) -> None:
    for message in stats.errors[:MAX_WARNINGS]:
        print(f"keyscan: warning: {message}", file=out)
    if len(stats.errors) > MAX_WARNINGS:
        print(f"keyscan: warning: … and {len(stats.errors) - MAX_WARNINGS} more", file=out)
    for note in stats.notes:
        print(f"keyscan: note: {note}", file=out)
    read = _count(stats.files, "file") if not stats.blobs else _count(stats.blobs, "blob")
    parts = [f"scanned {read}, {_mb(stats.bytes)} in {stats.seconds:.2f} s"]
    if stats.skipped:
        parts.append("skipped " + ", ".join(f"{n:,} {reason}" for reason, n in sorted(stats.skipped.items())))
    by_class: dict[str, int] = {}
    for f in findings:
        label = f"{f.key_class.value} {f.kind.value.replace('_', ' ')}"
        by_class[label] = by_class.get(label, 0) + 1
    found = ", ".join(f"{n} {label}" for label, n in sorted(by_class.items()))
    parts.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" + (f" ({found})" if found else ""))
    if suppressed:
        why = ", ".join(f"{n} {how}" for how, n in sorted(suppressed.items()))
        parts.append(f"{sum(suppressed.values())} suppressed ({why})")
    if stats.incomplete:
        parts.append(f"INCOMPLETE: {len(stats.errors)} input(s) could not be read")
    print("keyscan: " + "; ".join(parts), file=out)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n / 1e3:,.1f} kB"


def _color(args: argparse.Namespace, stream: TextIO) -> bool:
    if args.color != "auto":
        return bool(args.color == "always")
    return stream.isatty() and not os.environ.get("NO_COLOR")


class _NoBar:
    def __call__(self, n: int) -> None:
        pass

    def set_total(self, nbytes: int, items: int) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _Bar:
    def __init__(self, **kwargs: Any) -> None:
        from tqdm import tqdm

        self._bar = tqdm(file=sys.stderr, unit_scale=True, leave=False, **kwargs)

    def __call__(self, n: int) -> None:
        self._bar.update(n)

    def set_total(self, nbytes: int, items: int) -> None:
        """Once the work is known: a total gives the bar its percentage and time left."""
        self._bar.total = nbytes
        self._bar.set_description(f"{items:,} blobs", refresh=True)

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def progress(args: argparse.Namespace, **kwargs: Any) -> _NoBar | _Bar:
    """A tqdm bar on stderr, only for a person at a terminal (not piped, not in CI)."""
    if args.no_progress or os.environ.get("CI") or not sys.stderr.isatty():
        return _NoBar()
    return _Bar(**kwargs)
