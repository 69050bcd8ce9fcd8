"""Find rule matches in bytes: a literal prefilter decides where the anchored regexes run.

Two prefilters find every occurrence of every rule keyword: hyperscan (when its wheel is
installed) and a pure-Python one (``bytes.find``). Both report the same set of keyword
occurrences, and everything after that is shared, so their findings are identical; the tests
check it. A full regex never runs over a whole file, only ``pattern.match`` at the few places a
keyword sits.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any, Protocol

from keyscan.model import Hit
from keyscan.rules import Rule

CASELESS_PREFIX = 7
# An inline comment with this marker on a finding's line suppresses it (any comment syntax).
ALLOW_MARKER = b"keyscan:allow"
# Rules that run only near another hit (`requires`) look at most this many bytes either way.
REQUIRES_MAX_BYTES = 2048
_CONTINUATION = bytes(range(0x80, 0xC0))


class Prefilter(Protocol):
    def find(self, data: bytes) -> list[tuple[int, int]]:
        """Every (keyword index, start offset) where a keyword occurs, overlaps included."""
        ...


class PythonPrefilter:
    """``bytes.find`` per keyword, on lowered bytes for caseless ones.

    Exact keywords that share a first byte (AKIA, ASIA, ABIA, ACCA, A3T) are found in one pass
    with ``re``, whose literal-prefix scan is several times faster than one ``find`` each; the
    search restarts one byte after each hit, so overlapping occurrences are all reported.
    """

    def __init__(self, keywords: Sequence[tuple[bytes, bool]], groups: Sequence[int] | None = None) -> None:
        """``groups[i]`` names the rule keyword i belongs to: caseless keywords of one group that
        share a prefix are looked for once (default: every keyword is its own group)."""
        owners = groups if groups is not None else range(len(keywords))
        exact: dict[int, list[tuple[int, bytes]]] = {}
        for i, (kw, is_exact) in enumerate(keywords):
            if is_exact:
                exact.setdefault(kw[0], []).append((i, kw))
        self._groups: list[tuple[re.Pattern[bytes], list[tuple[int, bytes]]]] = []
        self._single: list[tuple[int, bytes]] = []
        for group in exact.values():
            if len(group) == 1:
                self._single.append(group[0])
            else:
                rests = b"|".join(re.escape(kw[1:]) for _, kw in sorted(group, key=lambda g: -len(g[1])))
                self._groups.append((re.compile(re.escape(group[0][1][:1]) + b"(?:" + rests + b")"), group))
        # Caseless keywords are looked for by their first CASELESS_PREFIX characters: one pass for
        # "session" serves session_token, sessiontoken and session-token. A position found this
        # way is a superset of where the keywords start, and the rule's anchored regex checks the
        # rest, so the hits are the same as hyperscan's exact keywords give.
        by_prefix: dict[bytes, dict[int, int]] = {}
        for i, ((kw, is_exact), owner) in enumerate(zip(keywords, owners, strict=True)):
            if not is_exact:
                by_prefix.setdefault(kw.lower()[:CASELESS_PREFIX], {}).setdefault(owner, i)
        self._caseless = [(prefix, list(first.values())) for prefix, first in by_prefix.items()]

    def find(self, data: bytes) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for pattern, group in self._groups:
            search = pattern.search
            m = search(data)
            while m is not None:
                at = m.start()
                found.extend((index, at) for index, kw in group if data.startswith(kw, at))
                m = search(data, at + 1)
        for index, kw in self._single:
            _find_all(data, kw, index, found)
        if self._caseless:
            lowered = data.lower()
            for prefix, indexes in self._caseless:
                start = len(found)
                _find_all(lowered, prefix, indexes[0], found)
                positions = [at for _, at in found[start:]]
                for index in indexes[1:]:  # other rules with keywords of the same prefix
                    found.extend((index, at) for at in positions)
        return found


def _find_all(data: bytes, kw: bytes, index: int, out: list[tuple[int, int]]) -> None:
    find = data.find
    i = find(kw)
    while i != -1:
        out.append((index, i))
        i = find(kw, i + 1)


class HyperscanPrefilter:
    def __init__(self, keywords: Sequence[tuple[bytes, bool]]) -> None:
        import hyperscan

        self._lengths = [len(kw) for kw, _ in keywords]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=[_pcre_literal(kw) for kw, _ in keywords],
            ids=list(range(len(keywords))),
            elements=len(keywords),
            flags=[0 if exact else hyperscan.HS_FLAG_CASELESS for _, exact in keywords],
        )

    def find(self, data: bytes) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        lengths = self._lengths

        def on_match(index: int, _start: int, end: int, _flags: int, _ctx: object) -> None:
            found.append((index, end - lengths[index]))

        self._db.scan(data, match_event_handler=on_match)
        return found


def _pcre_literal(kw: bytes) -> bytes:
    return b"".join(bytes([c]) if chr(c).isalnum() else b"\\x%02x" % c for c in kw)


def hyperscan_available() -> bool:
    try:
        import hyperscan  # noqa: F401
    except ImportError:
        return False
    return True


def make_prefilter(
    keywords: Sequence[tuple[bytes, bool]], engine: str, groups: Sequence[int] | None = None
) -> Prefilter:
    """``engine``: "auto" (hyperscan when installed), "hyperscan" or "python".

    The environment variable KEYSCAN_ENGINE overrides "auto"; benchmarks and tests use it.
    """
    if engine == "auto":
        engine = os.environ.get("KEYSCAN_ENGINE", "auto")
    if engine == "auto":
        engine = "hyperscan" if hyperscan_available() else "python"
    if engine == "hyperscan":
        return HyperscanPrefilter(keywords)
    if engine == "python":
        return PythonPrefilter(keywords, groups)
    raise ValueError(f"unknown matching engine {engine!r} (hyperscan, python)")


class Matcher:
    def __init__(self, rules: Sequence[Rule], engine: str = "auto") -> None:
        self.rules = tuple(rules)
        self.anchored = [r for r in self.rules if r.requires is None]
        self.dependent = [r for r in self.rules if r.requires is not None]
        keywords: list[tuple[bytes, bool]] = []
        self._keyword_rules: list[Rule] = []
        for rule in self.anchored:
            for kw in rule.keywords:
                keywords.append((kw.encode(), rule.exact_keywords))
                self._keyword_rules.append(rule)
        groups = [self.anchored.index(rule) for rule in self._keyword_rules]
        self.prefilter = make_prefilter(keywords, engine, groups)
        self._plan = [(r, r.pattern.match, r.reach[0], r.reach[1]) for r in self._keyword_rules]
        self.engine = type(self.prefilter).__name__.removesuffix("Prefilter").lower()
        longest = max((r.reach[0] + r.reach[1] for r in self.anchored), default=0)
        # How many bytes a streaming reader must keep from one buffer to the next, and before it.
        self.overlap = max(longest, 2 * REQUIRES_MAX_BYTES) + 64
        self.lookback = max(max((r.reach[0] for r in self.anchored), default=0), REQUIRES_MAX_BYTES) + 64

    def scan(self, data: bytes, base_line: int = 1, base_column: int = 0) -> list[Hit]:
        """All hits in ``data``, sorted by offset. Lines are counted from ``base_line``;
        ``base_column`` is how many characters of the first line precede ``data``."""
        spans: dict[tuple[str, int, int], tuple[Rule, bytes]] = {}
        size = len(data)
        plan = self._plan
        # The hot loop: one anchored match per keyword occurrence, no regex anywhere else.
        for index, at in self.prefilter.find(data):
            rule, match, before, after = plan[index]
            end = at + after
            if end > size:
                end = size
            if before == 0:
                m = match(data, at, end)
                if m is not None:
                    _keep(spans, rule, m)
                continue
            for start in range(at - before if at > before else 0, at + 1):
                m = match(data, start, end)
                if m is not None:
                    _keep(spans, rule, m)
        if self.dependent and spans:
            self._scan_dependent(data, spans)
        return _to_hits(data, spans, base_line, base_column)

    def _scan_dependent(self, data: bytes, spans: dict[tuple[str, int, int], tuple[Rule, bytes]]) -> None:
        anchors = sorted((s, e, r.kind) for (_, s, e), (r, _) in spans.items())
        for rule in self.dependent:
            for start, end, kind in anchors:
                if kind is not rule.requires:
                    continue
                lo = _line_bound(data, start, rule.within_lines, backwards=True)
                hi = _line_bound(data, end, rule.within_lines, backwards=False)
                for m in rule.pattern.finditer(data, lo, hi):
                    _keep(spans, rule, m)


def _keep(spans: dict[tuple[str, int, int], tuple[Rule, bytes]], rule: Rule, m: Any) -> None:
    """``m`` is a match of ``re`` or ``regex``."""
    group = rule.kind.value
    value = m.group(group)
    if not rule.accepts(value.decode("ascii", "replace")):
        return
    s, e = m.span(group)
    spans.setdefault((rule.id, s, e), (rule, value))


def _line_bound(data: bytes, at: int, lines: int, *, backwards: bool) -> int:
    """The offset ``lines`` lines before (or after) ``at``, never more than REQUIRES_MAX_BYTES away."""
    if backwards:
        limit = max(0, at - REQUIRES_MAX_BYTES)
        pos = at
        for _ in range(lines + 1):
            nl = data.rfind(b"\n", limit, pos)
            if nl == -1:
                return limit
            pos = nl
        return pos + 1
    limit = min(len(data), at + REQUIRES_MAX_BYTES)
    pos = at
    for _ in range(lines + 1):
        nl = data.find(b"\n", pos, limit)
        if nl == -1:
            return limit
        pos = nl + 1
    return pos - 1


def _to_hits(
    data: bytes, spans: dict[tuple[str, int, int], tuple[Rule, bytes]], base_line: int, base_column: int
) -> list[Hit]:
    hits: list[Hit] = []
    line = base_line
    counted = 0
    for (rule_id, start, end), (rule, value) in sorted(spans.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        line += data.count(b"\n", counted, start)
        counted = start
        line_start = data.rfind(b"\n", 0, start) + 1
        line_end = data.find(b"\n", end)
        column = 1 + _chars(data, line_start, start) + (base_column if line_start == 0 else 0)
        hits.append(
            Hit(
                rule_id=rule_id, kind=rule.kind, value=value.decode("ascii", "replace"),
                start=start, end=end, line=line, column=column,
                labelled=rule.labelled, confidence=rule.confidence,
                allowed=data.find(ALLOW_MARKER, line_start, len(data) if line_end == -1 else line_end) != -1,
            )
        )
    return hits


def _chars(data: bytes, start: int, end: int) -> int:
    return chars_in(data[start:end])


def chars_in(data: bytes) -> int:
    """Characters of UTF-8 text: every byte that is not a continuation byte."""
    return len(data.translate(None, _CONTINUATION))
