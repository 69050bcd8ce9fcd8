"""The command line: argparse, subcommands and exit codes. The only package that prints or exits.

Exit codes: 0 clean, 1 findings, 2 usage/config error or an incomplete scan, 3 internal error,
130 interrupted.

Modules: `parser` builds the parser and applies the config's flag defaults; `options` holds the
shared flags and turns them into library options; `scanning` and `workflow` hold the subcommands;
`output` is the shared tail (report, summary, exit code). Heavy imports stay inside functions:
`keyscan hook` runs on every commit.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from keyscan.cli.exits import EXIT_CLEAN, EXIT_ERROR, EXIT_FINDINGS, EXIT_INTERNAL, EXIT_INTERRUPTED
from keyscan.cli.options import verify_options
from keyscan.cli.parser import build_parser, with_config
from keyscan.errors import KeyscanError

__all__ = ["EXIT_CLEAN", "EXIT_ERROR", "EXIT_FINDINGS", "EXIT_INTERNAL", "EXIT_INTERRUPTED", "build_parser", "main"]


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
        print(f"keyscan: internal error: {type(e).__name__}: {e} (set KEYSCAN_DEBUG=1 for a traceback)",
              file=sys.stderr)
        return EXIT_INTERNAL
