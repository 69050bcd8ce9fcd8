"""Detection for one blob or file: match, pair, classify. Every source uses this, and only this."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from keyscan import rules
from keyscan.classify import classify
from keyscan.content import is_utf16, utf16_to_utf8
from keyscan.matcher import Matcher
from keyscan.model import Finding, Hit, HitKind
from keyscan.pair import pair
from keyscan.stream import scan_stream


@dataclass(frozen=True)
class DetectOptions:
    include_examples: bool = False
    include_identifiers: bool = False
    rule_files: tuple[str, ...] = ()
    extra_canary_accounts: frozenset[str] = field(default_factory=frozenset)
    engine: str = "auto"


class Engine:
    """Compiled rules plus the detection policy. Build once per process: compiling costs ~ms."""

    def __init__(self, ruleset: rules.RuleSet, options: DetectOptions) -> None:
        if options.extra_canary_accounts:
            ruleset = rules.RuleSet(
                ruleset.rules, ruleset.prefixes, ruleset.canary_accounts | options.extra_canary_accounts
            )
        self.ruleset = ruleset
        self.options = options
        active = [r for r in ruleset.rules if options.include_identifiers or r.kind is not HitKind.IDENTIFIER]
        self.matcher = Matcher(active, engine=options.engine)
        self._rules_by_id = {r.id: r for r in ruleset.rules}

    @classmethod
    def load(cls, options: DetectOptions | None = None) -> Engine:
        options = options or DetectOptions()
        return cls(rules.load(options.rule_files), options)

    def scan_bytes(self, data: bytes, *, path: str, blob: str | None = None) -> list[Finding]:
        """Findings in one whole blob held in memory (the caller decides about binary content)."""
        if is_utf16(data[:2]):
            return self.scan_chunks([data], path=path, blob=blob)
        return self._findings(self.matcher.scan(data), path=path, blob=blob)

    def scan_chunks(self, chunks: Iterable[bytes], *, path: str, blob: str | None = None) -> list[Finding]:
        """Findings in a stream of chunks (a large file), with flat memory."""
        findings, _ = self.scan_stream(chunks, path=path, blob=blob)
        return findings

    def scan_stream(
        self, chunks: Iterable[bytes], *, path: str, blob: str | None = None
    ) -> tuple[list[Finding], int]:
        iterator = iter(chunks)
        first = next(iterator, b"")
        if is_utf16(first[:2]):
            stream: Iterable[bytes] = utf16_to_utf8(_chain(first, iterator))
        else:
            stream = _chain(first, iterator)
        hits, size = scan_stream(stream, self.matcher)
        return self._findings(hits, path=path, blob=blob), size

    def _findings(self, hits: Sequence[Hit], *, path: str, blob: str | None) -> list[Finding]:
        if not hits:
            return []
        now = datetime.now(UTC)
        findings = [
            classify(g, self.ruleset, self._rules_by_id, path=path, blob=blob, now=now)
            for g in pair(hits)
        ]
        if not self.options.include_examples:
            findings = [f for f in findings if f.decoy is None]
        return findings


def _chain(first: bytes, rest: Iterable[bytes]) -> Iterable[bytes]:
    if first:
        yield first
    yield from rest

