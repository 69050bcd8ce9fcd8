"""The workflow commands: hook (for pre-commit), baseline create/update, install-hook.

`keyscan hook` runs on every commit: this module imports nothing heavy at the top, and the hook
path must not import GitPython, tqdm, botocore or hyperscan (tests/test_hook.py checks)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from keyscan.cli.exits import EXIT_CLEAN, EXIT_FINDINGS
from keyscan.cli.options import (
    FAIL_ON,
    add_detection_options,
    add_file_options,
    add_policy_options,
    config_excludes,
    detect_options,
    display_path,
    file_options,
    size,
    suppression_policy,
)
from keyscan.cli.output import conclude, print_summary
from keyscan.cli.scanning import not_excluded
from keyscan.errors import KeyscanError
from keyscan.model import Finding, Stats


def add_workflow_commands(sub: Any) -> None:
    hook = sub.add_parser(
        "hook", help="the pre-commit hook: scan the files pre-commit passes, block on findings",
        description="Scan exactly the given files in this process (pre-commit passes the staged "
                    "files) and exit 1 on findings. Never writes a file, never calls AWS.")
    hook.add_argument("files", nargs="*", metavar="FILE", help="files to scan")
    add_detection_options(hook, jobs=False)
    hook.add_argument("--include-binary", action="store_true", help="also scan files that look binary")
    hook.add_argument("--max-size", type=size, metavar="SIZE", help="skip files larger than SIZE (e.g. 50M)")
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
        add_detection_options(p, jobs=True)
        p.set_defaults(handler=run_baseline)

    install = sub.add_parser(
        "install-hook", help="write .git/hooks/pre-commit running `keyscan staged` (no pre-commit framework needed)",
        description="Write a plain .git/hooks/pre-commit (honouring core.hooksPath) that runs `keyscan staged`.")
    install.add_argument("--force", action="store_true",
                         help="replace a hook keyscan did not write (it is kept as a backup)")
    install.set_defaults(handler=run_install_hook)


def run_hook(args: argparse.Namespace) -> int:
    import dataclasses

    from keyscan import suppress
    from keyscan.engine import Engine
    from keyscan.hook import HookOptions, advice, scan_files

    cfg = args.cfg
    options = HookOptions(
        exclude=config_excludes(cfg),
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
    findings = suppress.apply(findings, suppression_policy(args))  # the advice needs the result too
    code = conclude(findings, stats, args)
    if code == EXIT_FINDINGS:
        failing = [f for f in findings if f.suppressed is None and suppress.fails(f, args.fail_on)]
        print(advice(failing, os.path.basename(cfg.source) if cfg.source else ".keyscan.toml"), file=sys.stderr)
    return code


def run_baseline(args: argparse.Namespace) -> int:
    from keyscan import baseline, suppress

    cfg = args.cfg
    target = display_path(args.baseline or cfg.baseline or _default_baseline(args))
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
    from keyscan.sources.files import scan_paths

    stats = Stats()
    findings = scan_paths([args.root], detect_options(args, cfg), file_options(args, cfg), stats, jobs=args.jobs)
    return findings, stats


def _collect_history(args: argparse.Namespace, cfg: Any) -> tuple[list[Finding], Stats]:
    import functools

    from keyscan.engine import Engine
    from keyscan.sources import history

    make_scanner = functools.partial(Engine.load, detect_options(args, cfg))
    findings, stats = history.scan(args.root, make_scanner=make_scanner, jobs=args.jobs,
                                   max_size=args.max_size or history.DEFAULT_MAX_SIZE)
    return not_excluded(findings, cfg), stats


def run_install_hook(args: argparse.Namespace) -> int:
    from keyscan import hook

    done = hook.install(hook.hooks_dir("."), force=args.force)
    kept = f"; the previous hook is kept as {done.backup}" if done.backup else ""
    print(f"keyscan: pre-commit hook {done.action}: {done.path} (runs `keyscan staged`){kept}", file=sys.stderr)
    return EXIT_CLEAN
