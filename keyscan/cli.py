"""The command line: argparse, subcommands and exit codes. The only module that prints or exits.

Exit codes: 0 clean, 1 findings, 2 usage/config error or an incomplete scan, 3 internal error,
130 interrupted.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from keyscan import __version__
from keyscan.errors import KeyscanError
from keyscan.model import Finding, Stats

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
FORMATS = ("text", "json", "jsonl", "sarif")
MAX_WARNINGS = 20


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors and 0 on --help
        return int(e.code or 0)
    try:
        handler: Callable[[argparse.Namespace], int] = args.handler
        if getattr(args, "verify", False):
            args.verify_options = verify_options(args)  # fail before scanning: extra, endpoint
        return handler(args)
    except KeyscanError as e:
        print(f"keyscan: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("keyscan: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_ERROR
    except Exception as e:  # the one funnel for bugs: say so, never dump locals
        if os.environ.get("KEYSCAN_DEBUG"):
            raise
        print(f"keyscan: internal error: {type(e).__name__}: {e} (set KEYSCAN_DEBUG=1 for a traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keyscan",
        description="Find leaked AWS credentials in files and git history.",
        epilog="Exit codes: 0 clean, 1 findings, 2 usage/config error or incomplete scan, 3 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"keyscan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = sub.add_parser("scan", help="scan files and folders ('-' reads stdin)",
                          description="Scan files and folders recursively for AWS credentials. '-' reads stdin.")
    scan.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    add_file_options(scan)
    add_common_options(scan)
    scan.set_defaults(handler=run_scan)

    rules = sub.add_parser("rules", help="list or check the detection rules")
    rules_sub = rules.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    rules_list = rules_sub.add_parser("list", help="list the rules")
    rules_check = rules_sub.add_parser("check", help="run every rule's examples and negative examples")
    for p in (rules_list, rules_check):
        p.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra rule file (repeatable)")
    rules_list.set_defaults(handler=run_rules_list)
    rules_check.set_defaults(handler=run_rules_check)

    verify = sub.add_parser(
        "verify", help="re-check credentials with STS (a findings file, stdin or AWS_* variables)",
        description="Check credentials with STS GetCallerIdentity without rescanning.")
    verify.add_argument("source", nargs="?", metavar="FILE", help=(
        "findings file written with --format json --show-secrets, or '-' for stdin "
        "(KEY_ID SECRET [TOKEN], NAME=value lines or JSON). Default: the AWS_ACCESS_KEY_ID / "
        "AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN variables, else stdin when piped"))
    add_verify_options(verify, flag=False)
    add_report_options(verify)
    verify.set_defaults(handler=run_verify, verify=True)
    return parser


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Detection and report options shared by every scanning subcommand."""
    g = p.add_argument_group("detection")
    g.add_argument("--include-examples", action="store_true", help="also report AWS documentation examples and placeholders")
    g.add_argument("--include-identifiers", action="store_true", help="also list IAM unique IDs (AIDA, AROA, …) as info")
    g.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra rule file in the patterns/ format (repeatable)")
    g.add_argument("--config", metavar="FILE", help="config file (default: .keyscan.toml or pyproject.toml [tool.keyscan], found upwards)")
    g.add_argument("--jobs", "-j", type=_positive_int, default=os.cpu_count() or 1, metavar="N", help="parallel processes (default: CPU count)")
    add_verify_options(p)
    add_report_options(p)


def add_report_options(p: argparse.ArgumentParser) -> None:
    r = p.add_argument_group("report")
    r.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format (default: text)")
    r.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    r.add_argument("--show-secrets", action="store_true", help="print secrets and tokens unredacted")
    r.add_argument("--no-progress", action="store_true", help="no progress bar (there is none when stderr is not a terminal or CI is set)")
    r.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in the text report")


def add_file_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("files")
    g.add_argument("--include-binary", action="store_true", help="also scan files that look binary")
    g.add_argument("--max-size", type=_size, metavar="SIZE", help="skip files larger than SIZE (e.g. 50M); default: no limit")
    g.add_argument("--follow-symlinks", action="store_true", help="follow symlinks that stay inside the scanned folder")
    g.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching a gitignore-style glob (repeatable)")


def add_verify_options(p: argparse.ArgumentParser, *, flag: bool = True) -> None:
    """STS validation. Opt-in: nothing is sent anywhere without --verify (or `keyscan verify`)."""
    g = p.add_argument_group("verification (STS GetCallerIdentity; needs keyscan[verify])")
    if flag:
        g.add_argument("--verify", action="store_true", help=(
            "check each paired credential once with STS GetCallerIdentity "
            "(sends the key ID and a signature to AWS)"))
    g.add_argument("--verify-workers", type=_positive_int, default=8, metavar="N",
                   help="parallel STS calls (default: 8)")
    g.add_argument("--sts-endpoint", metavar="URL", help=(
        "STS endpoint (default: https://sts.amazonaws.com, or the region's own with "
        "--sts-region); plain http only on loopback"))
    g.add_argument("--sts-region", default="us-east-1", metavar="REGION",
                   help="region to sign for (default: us-east-1)")
    g.add_argument("--skip-account", action="append", default=[], metavar="ACCOUNT", help=(
        "never send keys of this 12-digit account (repeatable); adds to the built-in "
        "canary list and the config's canary_accounts"))
    g.add_argument("--verify-canaries", action="store_true", help=(
        "also send keys of the built-in canary-token accounts (this alerts their owners)"))


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in units else ""
    try:
        return int(float(t[: len(t) - len(unit)]) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 100M)") from None


# --- commands ---------------------------------------------------------------------------------

def run_scan(args: argparse.Namespace) -> int:
    from keyscan import config
    from keyscan.engine import DetectOptions
    from keyscan.pathfilter import PathFilter
    from keyscan.sources.files import FileOptions, scan_paths

    root = next((p for p in args.paths if p != "-"), ".")
    cfg = config.load(args.config, root)
    detect = detect_options(args, cfg)
    options = FileOptions(
        include_binary=args.include_binary,
        max_size=args.max_size,
        follow_symlinks=args.follow_symlinks,
        exclude=PathFilter([*cfg.exclude, *args.exclude], source=cfg.source or "--exclude"),
    )
    stats = Stats()
    started = time.perf_counter()
    with progress(args, unit="B") as bar:
        findings = scan_paths(args.paths, detect, options, stats, jobs=args.jobs, on_progress=bar)
    stats.seconds = time.perf_counter() - started
    return finish(findings, stats, args)


def detect_options(args: argparse.Namespace, cfg: Any) -> Any:
    from keyscan.engine import DetectOptions

    return DetectOptions(
        include_examples=args.include_examples,
        include_identifiers=args.include_identifiers,
        rule_files=(*cfg.rules, *args.rules),
        extra_canary_accounts=cfg.canary_accounts,
    )


def verify_options(args: argparse.Namespace) -> Any:
    from keyscan import validate

    validate.require_botocore()
    validate.check_endpoint(args.sts_endpoint)
    return validate.VerifyOptions(
        endpoint=args.sts_endpoint,
        region=args.sts_region,
        workers=args.verify_workers,
        skip_accounts=frozenset(args.skip_account),
        verify_canaries=args.verify_canaries,
    )


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


def run_verify(args: argparse.Namespace) -> int:
    return finish(verify_input(args.source), Stats(), args)


def verify_input(source: str | None) -> list[Finding]:
    from keyscan import validate

    if source is None:
        found = validate.finding_from_env(os.environ)
        if found is not None:
            return [found]
        if sys.stdin.isatty():
            raise KeyscanError("nothing to verify: give a findings file, pipe KEY_ID SECRET "
                               "on stdin, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        source = "-"
    if source == "-":
        return validate.findings_from_text(sys.stdin.read(), "<stdin>")
    try:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise KeyscanError(f"cannot read {source}: {e.strerror}") from e
    return validate.findings_from_text(text, source)


def run_rules_list(args: argparse.Namespace) -> int:
    from keyscan import rules

    for rule in rules.load(args.rules).rules:
        print(f"{rule.id:40} {rule.kind.value:11} {rule.confidence:7} {rule.name}")
    return EXIT_CLEAN


def run_rules_check(args: argparse.Namespace) -> int:
    from keyscan import rules

    ruleset = rules.load(args.rules)
    problems = rules.check(ruleset)
    for problem in problems:
        print(f"FAIL {problem}")
    examples = sum(len(r.examples) + len(r.negative_examples) for r in ruleset.rules)
    print(f"{len(ruleset.rules)} rules, {examples} examples: {'all pass' if not problems else f'{len(problems)} failed'}")
    return EXIT_ERROR if problems else EXIT_CLEAN


# --- shared tail: report, summary, exit code ----------------------------------------------------

def finish(findings: list[Finding], stats: Stats, args: argparse.Namespace) -> int:
    from keyscan.report import WRITERS

    findings = verified(findings, stats, args)
    findings.sort(key=lambda f: (f.path, f.line, f.column, f.commit.sha if f.commit else ""))
    reported = [f for f in findings if f.suppressed is None]
    writer = WRITERS[args.format]
    if args.output:
        buffer = io.StringIO()
        writer(reported, stats, buffer, args.show_secrets, False)
        write_atomic(args.output, buffer.getvalue())
    else:
        writer(reported, stats, sys.stdout, args.show_secrets, _color(args, sys.stdout))
        sys.stdout.flush()
    print_summary(reported, stats, sys.stderr)
    if reported:
        return EXIT_FINDINGS
    return EXIT_ERROR if stats.incomplete else EXIT_CLEAN


def write_atomic(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as e:
        raise KeyscanError(f"cannot write {path}: {e.strerror}") from e


def print_summary(findings: Sequence[Finding], stats: Stats, out: TextIO) -> None:
    for message in stats.errors[:MAX_WARNINGS]:
        print(f"keyscan: warning: {message}", file=out)
    if len(stats.errors) > MAX_WARNINGS:
        print(f"keyscan: warning: … and {len(stats.errors) - MAX_WARNINGS} more", file=out)
    for note in stats.notes:
        print(f"keyscan: note: {note}", file=out)
    read = f"{stats.files:,} files" if not stats.blobs else f"{stats.blobs:,} blobs"
    parts = [f"scanned {read}, {_mb(stats.bytes)} in {stats.seconds:.2f} s"]
    if stats.skipped:
        parts.append("skipped " + ", ".join(f"{n:,} {reason}" for reason, n in sorted(stats.skipped.items())))
    by_class: dict[str, int] = {}
    for f in findings:
        label = f"{f.key_class.value} {f.kind.value.replace('_', ' ')}"
        by_class[label] = by_class.get(label, 0) + 1
    found = ", ".join(f"{n} {label}" for label, n in sorted(by_class.items()))
    parts.append(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}" + (f" ({found})" if found else ""))
    if stats.incomplete:
        parts.append(f"INCOMPLETE: {len(stats.errors)} input(s) could not be read")
    print("keyscan: " + "; ".join(parts), file=out)


def _mb(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n / 1e3:,.1f} kB"


def _color(args: argparse.Namespace, stream: TextIO) -> bool:
    if args.color != "auto":
        return bool(args.color == "always")
    return stream.isatty() and not os.environ.get("NO_COLOR")


class _NoBar:
    def __call__(self, n: int) -> None:
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

    def __enter__(self) -> _Bar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def progress(args: argparse.Namespace, **kwargs: Any) -> _NoBar | _Bar:
    """A tqdm bar on stderr, only for a person at a terminal (not piped, not in CI)."""
    if args.no_progress or os.environ.get("CI") or not sys.stderr.isatty():
        return _NoBar()
    return _Bar(**kwargs)
