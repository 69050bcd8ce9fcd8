"""Gitignore-style path globs, for excluded paths in config.

Supported: ``*`` (not across ``/``), ``**`` (any number of directories), ``?``, ``[...]``, a
leading ``/`` or an inner ``/`` anchors the pattern at the scan root, a trailing ``/`` matches
directories only, and ``!`` re-includes. A pattern without a slash matches at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from keyscan.errors import ConfigError


@dataclass(frozen=True)
class _Glob:
    file_regex: re.Pattern[str]
    dir_regex: re.Pattern[str]
    negate: bool


class PathFilter:
    def __init__(self, patterns: Sequence[str], source: str = "config") -> None:
        self.patterns = tuple(patterns)
        self._globs = [_compile(p, source) for p in patterns]

    def __bool__(self) -> bool:
        return bool(self._globs)

    def excluded(self, relpath: str, is_dir: bool = False) -> bool:
        """``relpath`` is relative to the scan root, with forward slashes."""
        result = False
        for glob in self._globs:
            regex = glob.dir_regex if is_dir else glob.file_regex
            if regex.match(relpath):
                result = not glob.negate
        return result


def _compile(pattern: str, source: str) -> _Glob:
    raw = pattern
    negate = pattern.startswith("!")
    if negate:
        pattern = pattern[1:]
    dir_only = pattern.endswith("/")
    pattern = pattern.rstrip("/")
    if not pattern:
        raise ConfigError(f"{source}: empty exclude pattern {raw!r}")
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    out = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                raise ConfigError(
                    f"{source}: exclude pattern {raw!r} has an unclosed '[': close it or escape it as '\\['"
                )
            body = pattern[i + 1 : end].replace("\\", "\\\\")
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append(f"[{body}]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    body = ("" if anchored else "(?:.*/)?") + "".join(out)
    # A pattern that names a directory also excludes everything below it.
    below = re.compile(f"{body}/.*$")
    itself = re.compile(f"{body}(?:/.*)?$")
    return _Glob(below if dir_only else itself, itself, negate)
