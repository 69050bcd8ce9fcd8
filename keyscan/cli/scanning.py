"""The scanning commands: scan (files), history, staged, verify, and rules list/check."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from keyscan.cli.exits import EXIT_CLEAN, EXIT_ERROR
from keyscan.cli.options import (
    CONFIG_HELP,
    add_common_options,
    add_file_options,
    add_report_options,
    add_verify_options,
    config_excludes,
    detect_options,
    file_options,
    size,
)
from keyscan.cli.output import finish, progress
from keyscan.errors import KeyscanError
from keyscan.model import Finding, Stats


def add_scanning_commands(sub: Any) -> None:
    scan = sub.add_parser("scan", help="scan files and folders ('-' reads stdin)",
                          description="Scan files and folders recursively for AWS credentials. '-' reads stdin.")
    scan.add_argument("paths", nargs="*", default=["."], metavar="PATH", help="files or folders (default: .)")
    add_file_options(scan)
    add_common_options(scan)
    scan.set_defaults(handler=run_scan)

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
    g.add_argument("--max-size", type=size, metavar="SIZE", help="skip blobs larger than SIZE (default: 50M)")
    add_common_options(history)
    history.set_defaults(handler=run_history)

    staged = sub.add_parser(
        "staged", help="scan what is staged for the next commit",
        description="Scan the index versions of added and modified files, as the next commit will have them.")
    staged.add_argument("--max-size", type=size, metavar="SIZE", help="skip blobs larger than SIZE (default: 50M)")
    add_common_options(staged)
    staged.set_defaults(handler=run_staged, repo=".")

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
    verify.add_argument("--config", metavar="FILE", help=CONFIG_HELP + "; its canary_accounts are never sent")
    add_report_options(verify)
    verify.set_defaults(handler=run_verify, verify=True)


def run_scan(args: argparse.Namespace) -> int:
    from keyscan.sources.files import scan_paths

    cfg = args.cfg  # loaded by with_config from the same root: the first path that is not '-'
    detect = detect_options(args, cfg)
    options = file_options(args, cfg)
    stats = Stats()
    started = time.perf_counter()
    with progress(args, unit="B") as bar:
        findings = scan_paths(args.paths, detect, options, stats, jobs=args.jobs, on_progress=bar)
    stats.seconds = time.perf_counter() - started
    return finish(findings, stats, args)


def run_history(args: argparse.Namespace) -> int:
    import functools

    from keyscan.engine import Engine
    from keyscan.sources import history

    make_scanner = functools.partial(Engine.load, detect_options(args, args.cfg))
    with progress(args, unit="B") as bar:
        findings, stats = history.scan(
            args.repo, make_scanner=make_scanner, refs=args.ref, rev_range=args.rev_range,
            since_commit=args.since_commit, all_objects=args.all_objects,
            max_size=args.max_size or history.DEFAULT_MAX_SIZE, jobs=args.jobs, on_progress=bar,
            on_total=bar.set_total)
    return finish(not_excluded(findings, args.cfg), stats, args)


def run_staged(args: argparse.Namespace) -> int:
    from keyscan.engine import Engine
    from keyscan.sources import history, staged

    findings, stats = staged.scan(args.repo, scanner=Engine.load(detect_options(args, args.cfg)),
                                  max_size=args.max_size or history.DEFAULT_MAX_SIZE)
    return finish(not_excluded(findings, args.cfg), stats, args)


def not_excluded(findings: list[Finding], cfg: Any) -> list[Finding]:
    """The config's excludes apply to paths in history and the index as they do to files."""
    exclude = config_excludes(cfg)
    return [f for f in findings if not exclude.excluded(f.path)] if exclude else findings


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
    verdict = f"{len(problems)} failed" if problems else "all pass"
    print(f"{len(ruleset.rules)} rules, {examples} examples: {verdict}")
    return EXIT_ERROR if problems else EXIT_CLEAN
