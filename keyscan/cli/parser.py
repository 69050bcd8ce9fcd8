"""The argument parser, and the config file's flag defaults applied to it."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from keyscan import __version__
from keyscan.cli.options import scan_root
from keyscan.cli.scanning import add_scanning_commands
from keyscan.cli.workflow import add_workflow_commands
from keyscan.errors import KeyscanError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="keyscan",
        description="Find leaked AWS credentials in files and git history.",
        epilog="Exit codes: 0 clean, 1 findings, 2 usage/config error or incomplete scan, 3 internal error.",
    )
    parser.add_argument("--version", action="version", version=f"keyscan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_scanning_commands(sub)  # scan, history, staged, rules, verify
    add_workflow_commands(sub)  # hook, baseline, install-hook
    return parser


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
