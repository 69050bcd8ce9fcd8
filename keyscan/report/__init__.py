"""Report writers: one function per format, registered in a plain dict."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TextIO

from keyscan.model import Finding, Stats
from keyscan.report import jsonfmt, sarif, text

Writer = Callable[[Sequence[Finding], Stats, TextIO, bool, bool], None]

WRITERS: dict[str, Writer] = {
    "text": text.write,
    "json": jsonfmt.write_json,
    "jsonl": jsonfmt.write_jsonl,
    "sarif": sarif.write,
}

__all__ = ["WRITERS", "Writer"]
