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
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from keyscan import __version__
from keyscan.errors import KeyscanError
from keyscan.model import Finding, Stats

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
FORMATS = ("text", "json", "jsonl", "sarif")
FAIL_ON = ("any", "credential", "long-term", "valid")
MAX_WARNINGS = 20


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse exits 2 on usage errors and 0 on --help
        return int(e.code or 0)
    try:
        args = with_config(parser, argv, args)
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
    add_git_commands(sub)

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
    add_workflow_commands(sub)
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
    add_policy_options(p)


def add_report_options(p: argparse.ArgumentParser) -> None:
    r = p.add_argument_group("report")
    r.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format (default: text)")
    r.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    r.add_argument("--show-secrets", action="store_true", help="print secrets and tokens unredacted")
    r.add_argument("--no-progress", action="store_true", help="no progress bar (there is none when stderr is not a terminal or CI is set)")
    r.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in the text report")


def add_policy_options(p: argparse.ArgumentParser, fail_on: Sequence[str] = FAIL_ON) -> None:
    """What is accepted (baseline, allow) and what fails the run (exit 1)."""
    g = p.add_argument_group("baseline and policy")
    g.add_argument("--baseline", metavar="FILE", help=(
        "report only findings not in this baseline (default: the config's baseline, else "
        ".keyscan-baseline.json found upwards to the repository's top)"))
    g.add_argument("--no-baseline", action="store_true", help="use no baseline file")
    g.add_argument("--show-suppressed", action="store_true", help=(
        "also list findings suppressed by keyscan:allow, the config's allow list or the baseline, with the reason"))
    g.add_argument("--fail-on", choices=fail_on, default="any", help=(
        "which findings exit 1: any; credential (secret material, not a key ID alone); long-term "
        "(credentials except short-term STS ones); valid (STS says it works; needs --verify). Default: any"))


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


def add_git_commands(sub: Any) -> None:
    history = sub.add_parser(
        "history", help="scan every unique blob of a git repository's history",
        description="Scan every unique blob reachable from all refs (branches, tags, remotes, stash) "
                    "once, and report the commit that introduced each finding. Never runs anything "
                    "from the repository (hooks, filters, fsmonitor).")
    history.add_argument("repo", nargs="?", default=".", metavar="REPO", help="repository (default: .)")
    g = history.add_argument_group("history")
    g.add_argument("--ref", action="append", default=[], metavar="REF", help="scan only what REF reaches (repeatable)")
    g.add_argument("--range", dest="rev_range", metavar="A..B",
                   help="scan only blobs the commits in A..B added or changed")
    g.add_argument("--since-commit", metavar="REV", help="same as --range REV..HEAD")
    g.add_argument("--all-objects", action="store_true", help="every blob in the object store, unreachable ones too")
    g.add_argument("--max-size", type=_size, metavar="SIZE", help="skip blobs larger than SIZE (default: 50M)")
    add_common_options(history)
    history.set_defaults(handler=run_history)

    staged = sub.add_parser(
        "staged", help="scan what is staged for the next commit",
        description="Scan the index versions of added and modified files, as the next commit will have them.")
    staged.add_argument("--max-size", type=_size, metavar="SIZE", help="skip blobs larger than SIZE (default: 50M)")
    add_common_options(staged)
    staged.set_defaults(handler=run_staged, repo=".")


def run_history(args: argparse.Namespace) -> int:
    import functools

    from keyscan.engine import Engine
    from keyscan.sources import history

    make_scanner = functools.partial(Engine.load, detect_options(args, args.cfg))
    with progress(args, unit="B") as bar:
        findings, stats = history.scan(
            args.repo, make_scanner=make_scanner, refs=args.ref, rev_range=args.rev_range,
            since_commit=args.since_commit, all_objects=args.all_objects,
            max_size=args.max_size or history.DEFAULT_MAX_SIZE, jobs=args.jobs, on_progress=bar)
    return finish(_not_excluded(findings, args.cfg), stats, args)


def _not_excluded(findings: list[Finding], cfg: Any) -> list[Finding]:
    """The config's excludes apply to paths in history and the index as they do to files."""
    from keyscan.pathfilter import PathFilter

    exclude = PathFilter(cfg.exclude, source=cfg.source or "config")
    return [f for f in findings if not exclude.excluded(f.path)] if exclude else findings


def run_staged(args: argparse.Namespace) -> int:
    from keyscan.engine import Engine
    from keyscan.sources import history, staged

    findings, stats = staged.scan(args.repo, scanner=Engine.load(detect_options(args, args.cfg)),
                                  max_size=args.max_size or history.DEFAULT_MAX_SIZE)
    return finish(_not_excluded(findings, args.cfg), stats, args)


def detect_options(args: argparse.Namespace, cfg: Any) -> Any:
    from keyscan.engine import DetectOptions

    return DetectOptions(
        include_examples=args.include_examples,
        include_identifiers=args.include_identifiers,
        rule_files=(*cfg.rules, *args.rules),
        extra_canary_accounts=cfg.canary_accounts,
    )


def verify_options(args: argparse.Namespace) -> Any:
    from keyscan import sts, validate

    sts.require_botocore()
    sts.check_endpoint(args.sts_endpoint)
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
    from keyscan.verify_input import finding_from_env, findings_from_text

    if source is None:
        found = finding_from_env(os.environ)
        if found is not None:
            return [found]
        if sys.stdin.isatty():
            raise KeyscanError("nothing to verify: give a findings file, pipe KEY_ID SECRET "
                               "on stdin, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        source = "-"
    if source == "-":
        return findings_from_text(sys.stdin.read(), "<stdin>")
    try:
        with open(source, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise KeyscanError(f"cannot read {source}: {e.strerror}") from e
    return findings_from_text(text, source)


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
    from keyscan import suppress
    from keyscan.report import WRITERS

    # Suppress before --verify: a key someone accepted is never sent to STS.
    findings = suppress.apply(findings, suppression_policy(args))
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
    if suppressed:
        why = ", ".join(f"{n} {how}" for how, n in sorted(suppressed.items()))
        parts.append(f"{sum(suppressed.values())} suppressed ({why})")
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


# --- config, baseline and hooks ------------------------------------------------------------------

def with_config(parser: argparse.ArgumentParser, argv: Sequence[str] | None,
                args: argparse.Namespace) -> argparse.Namespace:
    """Load the config once for a scanning command; its flag defaults fill in unset flags."""
    if not hasattr(args, "config"):
        return args
    from keyscan import config

    cfg = config.load(args.config, scan_root(args))
    chosen = _chosen_parser(parser, args)
    actions = {a.dest: a for a in chosen._actions}
    defaults = {
        key: value for key, value in cfg.defaults.items()
        if key in actions and value in (actions[key].choices or (value,))  # hook: no "valid"
    }
    if defaults:  # argparse has no "was this flag given?": set the defaults and parse again
        chosen.set_defaults(**defaults)
        args = parser.parse_args(argv)
    args.cfg = cfg
    if getattr(args, "fail_on", None) == "valid" and not getattr(args, "verify", False):
        raise KeyscanError("--fail-on valid needs --verify (valid means STS said the key works): "
                           "add --verify, or use --fail-on credential")
    return args


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The (sub)parser that parsed this command line, e.g. the one for `baseline create`."""
    while True:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            return parser
        parser = subs[0].choices[getattr(args, subs[0].dest)]


def scan_root(args: argparse.Namespace) -> str:
    """Where config and baseline are looked for: the first path scanned, the repository, or '.'."""
    paths = [p for p in getattr(args, "paths", None) or () if p != "-"]
    if paths:
        return str(paths[0])
    return str(getattr(args, "root", None) or getattr(args, "repo", None) or ".")


def suppression_policy(args: argparse.Namespace) -> Any:
    from keyscan import baseline, suppress

    cfg = getattr(args, "cfg", None)
    if cfg is None:
        return suppress.Policy()
    path = None if getattr(args, "no_baseline", False) else (getattr(args, "baseline", None) or cfg.baseline)
    if path is None and not getattr(args, "no_baseline", False):
        path = baseline.find(scan_root(args))
    return suppress.Policy(
        allow=cfg.allow,
        allow_source=_display(cfg.source) if cfg.source else "config",
        baseline=baseline.load(_display(path)) if path else None,
    )


def _display(path: str | os.PathLike[str]) -> str:
    """A path relative to the current folder when it is below it (reports carry no home paths)."""
    rel = os.path.relpath(path)
    return os.fspath(path) if rel.startswith("..") else rel


def add_workflow_commands(sub: Any) -> None:
    hook = sub.add_parser(
        "hook", help="the pre-commit hook: scan the files pre-commit passes, block on findings",
        description="Scan exactly the given files in this process (pre-commit passes the staged "
                    "files) and exit 1 on findings. Never writes a file, never calls AWS.")
    hook.add_argument("files", nargs="*", metavar="FILE", help="files to scan")
    _add_detection_options(hook, jobs=False)
    hook.add_argument("--include-binary", action="store_true", help="also scan files that look binary")
    hook.add_argument("--max-size", type=_size, metavar="SIZE", help="skip files larger than SIZE (e.g. 50M)")
    add_policy_options(hook, fail_on=FAIL_ON[:-1])
    hook.add_argument("--color", choices=("auto", "always", "never"), default="auto", help="colour in the report")
    hook.set_defaults(handler=run_hook, format="text", output=None, show_secrets=False, no_progress=True)

    base = sub.add_parser("baseline", help="create or update the baseline of accepted findings")
    actions = base.add_subparsers(dest="baseline_command", required=True, metavar="ACTION")
    for name, text in (("create", "write a baseline of every finding now present"),
                       ("update", "add new findings, drop ones no longer present, keep notes")):
        p = actions.add_parser(name, help=text, description=text + ". Writes .keyscan-baseline.json "
                               "(fingerprints, kind, class, key ID, note: no secret, no location).")
        p.add_argument("root", nargs="?", default=".", metavar="PATH",
                       help="folder, or repository with --history (default: .)")
        scope = p.add_mutually_exclusive_group()
        scope.add_argument("--history", dest="scope", action="store_const", const="history",
                           help="scan every blob of the git history (update: default is the baseline's own scope)")
        scope.add_argument("--files", dest="scope", action="store_const", const="files",
                           help="scan the files (default for create)")
        p.add_argument("--baseline", "-o", metavar="FILE",
                       help="baseline file (default: the config's, else PATH/.keyscan-baseline.json)")
        if name == "create":
            p.add_argument("--force", action="store_true", help="replace an existing baseline (its notes are lost)")
        add_file_options(p)
        _add_detection_options(p, jobs=True)
        p.set_defaults(handler=run_baseline)

    install = sub.add_parser(
        "install-hook", help="write .git/hooks/pre-commit running `keyscan staged` (no pre-commit framework needed)",
        description="Write a plain .git/hooks/pre-commit (honouring core.hooksPath) that runs `keyscan staged`.")
    install.add_argument("--force", action="store_true",
                         help="replace a hook keyscan did not write (it is kept as a backup)")
    install.set_defaults(handler=run_install_hook)


def _add_detection_options(p: argparse.ArgumentParser, *, jobs: bool) -> None:
    g = p.add_argument_group("detection")
    g.add_argument("--include-examples", action="store_true",
                   help="also report AWS documentation examples and placeholders")
    g.add_argument("--include-identifiers", action="store_true",
                   help="also list IAM unique IDs (AIDA, AROA, …) as info")
    g.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra rule file (repeatable)")
    g.add_argument("--config", metavar="FILE",
                   help="config file (default: .keyscan.toml or pyproject.toml [tool.keyscan], found upwards)")
    if jobs:
        g.add_argument("--jobs", "-j", type=_positive_int, default=os.cpu_count() or 1, metavar="N",
                       help="parallel processes")


def run_hook(args: argparse.Namespace) -> int:
    import dataclasses

    from keyscan import suppress
    from keyscan.engine import Engine
    from keyscan.hook import HookOptions, advice, scan_files
    from keyscan.pathfilter import PathFilter

    cfg = args.cfg
    options = HookOptions(
        exclude=PathFilter(cfg.exclude, source=cfg.source or "config"),
        include_binary=args.include_binary,
        max_size=args.max_size,
    )
    stats = Stats()
    started = time.perf_counter()
    # For a handful of small files the pure-Python prefilter starts faster than hyperscan
    # (measured in bench/bench_hook.py); findings are identical. KEYSCAN_ENGINE still wins.
    detect = dataclasses.replace(detect_options(args, cfg), engine=os.environ.get("KEYSCAN_ENGINE", "python"))
    findings = scan_files(args.files, Engine.load(detect), options, stats)
    stats.seconds = time.perf_counter() - started
    findings = suppress.apply(findings, suppression_policy(args))
    code = finish(findings, stats, args)
    if code == EXIT_FINDINGS:
        failing = [f for f in findings if f.suppressed is None and suppress.fails(f, args.fail_on)]
        print(advice(failing, os.path.basename(cfg.source) if cfg.source else ".keyscan.toml"), file=sys.stderr)
    return code


def run_baseline(args: argparse.Namespace) -> int:
    from keyscan import baseline, suppress

    cfg = args.cfg
    target = _display(args.baseline or cfg.baseline or _default_baseline(args))
    exists = os.path.exists(target)
    if args.baseline_command == "create" and exists and not args.force:
        raise KeyscanError(f"{target} exists: `keyscan baseline update` keeps its notes; --force replaces it")
    previous = baseline.load(target) if exists and args.baseline_command == "update" else None
    scope = args.scope or (previous.scope if previous else "files")
    findings, stats = _collect_history(args, cfg) if scope == "history" else _collect_files(args, cfg)
    if stats.incomplete:
        print_summary([], stats, sys.stderr)
        raise KeyscanError(f"scan incomplete: {len(stats.errors)} input(s) could not be read; {target} not written")
    # Inline keyscan:allow and the config's allow list already accept these: not baselined.
    findings = baseline.drop_own_listing(findings, target)
    findings = suppress.apply(findings, suppress.Policy(cfg.allow, cfg.source or "config"))
    entries = baseline.entries_for(findings, previous)
    changed = baseline.write(target, baseline.render(entries, scope))
    added, dropped = baseline.diff(previous, entries)
    state = ("created" if not exists else "written") if changed else "unchanged"
    count = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
    print(f"keyscan: baseline {target} {state}: {count} ({added} added, {dropped} dropped)",
          file=sys.stderr)
    return EXIT_CLEAN


def _default_baseline(args: argparse.Namespace) -> str:
    from keyscan import baseline

    if args.baseline_command == "update":
        found = baseline.find(args.root)
        if found:
            return str(found)
    folder = args.root if os.path.isdir(args.root) else os.path.dirname(args.root) or "."
    return os.path.join(folder, baseline.FILE_NAME)


def _collect_files(args: argparse.Namespace, cfg: Any) -> tuple[list[Finding], Stats]:
    from keyscan.pathfilter import PathFilter
    from keyscan.sources.files import FileOptions, scan_paths

    options = FileOptions(
        include_binary=args.include_binary,
        max_size=args.max_size,
        follow_symlinks=args.follow_symlinks,
        exclude=PathFilter([*cfg.exclude, *args.exclude], source=cfg.source or "--exclude"),
    )
    stats = Stats()
    findings = scan_paths([args.root], detect_options(args, cfg), options, stats, jobs=args.jobs)
    return findings, stats


def _collect_history(args: argparse.Namespace, cfg: Any) -> tuple[list[Finding], Stats]:
    import functools

    from keyscan.engine import Engine
    from keyscan.sources import history

    make_scanner = functools.partial(Engine.load, detect_options(args, cfg))
    findings, stats = history.scan(args.root, make_scanner=make_scanner, jobs=args.jobs,
                                   max_size=args.max_size or history.DEFAULT_MAX_SIZE)
    return _not_excluded(findings, cfg), stats


def run_install_hook(args: argparse.Namespace) -> int:
    from keyscan import hook

    done = hook.install(hook.hooks_dir("."), force=args.force)
    kept = f"; the previous hook is kept as {done.backup}" if done.backup else ""
    print(f"keyscan: pre-commit hook {done.action}: {done.path} (runs `keyscan staged`){kept}", file=sys.stderr)
    return EXIT_CLEAN
