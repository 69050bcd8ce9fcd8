"""Flags: the option groups the subcommands share, their argument types, and the library options
built from the parsed flags (detection, STS verification, suppression policy)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

FORMATS = ("text", "json", "jsonl", "sarif")
FAIL_ON = ("any", "credential", "long-term", "valid")
CONFIG_HELP = "config file (default: .keyscan.toml or pyproject.toml [tool.keyscan], found upwards)"


def add_common_options(p: argparse.ArgumentParser) -> None:
    """Detection and report options shared by every scanning subcommand."""
    g = p.add_argument_group("detection")
    g.add_argument("--include-examples", action="store_true",
                   help="also report AWS documentation examples and placeholders")
    g.add_argument("--include-identifiers", action="store_true",
                   help="also list IAM unique IDs (AIDA, AROA, …) as info")
    g.add_argument("--rules", action="append", default=[], metavar="FILE",
                   help="extra rule file in the patterns/ format (repeatable)")
    g.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    g.add_argument("--jobs", "-j", type=positive_int, default=os.cpu_count() or 1, metavar="N",
                   help="parallel processes (default: CPU count)")
    add_verify_options(p)
    add_report_options(p)
    add_policy_options(p)


def add_detection_options(p: argparse.ArgumentParser, *, jobs: bool) -> None:
    """The detection group of the workflow commands (hook, baseline)."""
    g = p.add_argument_group("detection")
    g.add_argument("--include-examples", action="store_true",
                   help="also report AWS documentation examples and placeholders")
    g.add_argument("--include-identifiers", action="store_true",
                   help="also list IAM unique IDs (AIDA, AROA, …) as info")
    g.add_argument("--rules", action="append", default=[], metavar="FILE", help="extra rule file (repeatable)")
    g.add_argument("--config", metavar="FILE", help=CONFIG_HELP)
    if jobs:
        g.add_argument("--jobs", "-j", type=positive_int, default=os.cpu_count() or 1, metavar="N",
                       help="parallel processes")


def add_report_options(p: argparse.ArgumentParser) -> None:
    r = p.add_argument_group("report")
    r.add_argument("--format", "-f", choices=FORMATS, default="text", help="report format (default: text)")
    r.add_argument("--output", "-o", metavar="FILE", help="write the report to FILE instead of stdout")
    r.add_argument("--show-secrets", action="store_true", help="print secrets and tokens unredacted")
    r.add_argument("--no-progress", action="store_true",
                   help="no progress bar (there is none when stderr is not a terminal or CI is set)")
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
    g.add_argument("--max-size", type=size, metavar="SIZE",
                   help="skip files larger than SIZE (e.g. 50M); default: no limit")
    g.add_argument("--follow-symlinks", action="store_true", help="follow symlinks that stay inside the scanned folder")
    g.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                   help="skip paths matching a gitignore-style glob (repeatable)")


def add_verify_options(p: argparse.ArgumentParser, *, flag: bool = True) -> None:
    """STS validation. Opt-in: nothing is sent anywhere without --verify (or `keyscan verify`)."""
    g = p.add_argument_group("verification (STS GetCallerIdentity; needs keyscan[verify])")
    if flag:
        g.add_argument("--verify", action="store_true", help=(
            "check each paired credential once with STS GetCallerIdentity "
            "(sends the key ID and a signature to AWS)"))
    g.add_argument("--verify-workers", type=positive_int, default=8, metavar="N",
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


# --- argument types ------------------------------------------------------------------------------

def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def size(text: str) -> int:
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in units else ""
    try:
        return int(float(t[: len(t) - len(unit)]) * units[unit])
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 100M)") from None


# --- parsed flags to library options -------------------------------------------------------------

def detect_options(args: argparse.Namespace, cfg: Any) -> Any:
    from keyscan.engine import DetectOptions

    return DetectOptions(
        include_examples=args.include_examples,
        include_identifiers=args.include_identifiers,
        rule_files=(*cfg.rules, *args.rules),
        extra_canary_accounts=cfg.canary_accounts,
    )


def config_excludes(cfg: Any) -> Any:
    """The config's excluded paths as a PathFilter (applied to files, history and the index)."""
    from keyscan.pathfilter import PathFilter

    return PathFilter(cfg.exclude, source=cfg.source or "config")


def file_options(args: argparse.Namespace, cfg: Any) -> Any:
    from keyscan.pathfilter import PathFilter
    from keyscan.sources.files import FileOptions

    return FileOptions(
        include_binary=args.include_binary,
        max_size=args.max_size,
        follow_symlinks=args.follow_symlinks,
        exclude=PathFilter([*cfg.exclude, *args.exclude], source=cfg.source or "--exclude"),
    )


def verify_options(args: argparse.Namespace) -> Any:
    from keyscan import sts, validate

    sts.require_botocore()
    sts.check_endpoint(args.sts_endpoint)
    cfg = getattr(args, "cfg", None)
    # The config's canary accounts too: `keyscan verify` reads credentials that no scan flagged.
    config_canaries = cfg.canary_accounts if cfg is not None else frozenset()
    return validate.VerifyOptions(
        endpoint=args.sts_endpoint,
        region=args.sts_region,
        workers=args.verify_workers,
        skip_accounts=frozenset(args.skip_account) | config_canaries,
        verify_canaries=args.verify_canaries,
    )


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
        allow_source=display_path(cfg.source) if cfg.source else "config",
        baseline=baseline.load(display_path(path)) if path else None,
    )


def scan_root(args: argparse.Namespace) -> str:
    """Where config and baseline are looked for: the first path scanned, the repository, or '.'."""
    paths = [p for p in getattr(args, "paths", None) or () if p != "-"]
    if paths:
        return str(paths[0])
    return str(getattr(args, "root", None) or getattr(args, "repo", None) or ".")


def display_path(path: str | os.PathLike[str]) -> str:
    """A path relative to the current folder when it is below it (reports carry no home paths)."""
    rel = os.path.relpath(path)
    return os.fspath(path) if rel.startswith("..") else rel
