"""Load detection rules from ``patterns/*.toml`` and check them against their own examples.

A rule file is data: keyscan refuses unknown keys, so a typo never silently disables a rule.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyscan.errors import RuleError
from keyscan.model import Decoy, HitKind

_RULE_KEYS = {
    "id", "name", "kind", "description", "confidence", "keywords", "exact_keywords", "pattern", "reach",
    "min_entropy", "require", "allow", "placeholder_entropy", "requires", "within_lines",
    "labelled", "examples", "negative_examples",
}
_FILE_KEYS = {"rules", "prefixes", "canary"}
_CONFIDENCE = {"high", "medium", "low", "info"}
Pattern = Any  # re.Pattern[bytes], or regex.Pattern[bytes] for what only `regex` can compile
DEFAULT_REACH = (64, 256)


@dataclass(frozen=True)
class Allow:
    pattern: re.Pattern[str]
    reason: Decoy


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    kind: HitKind
    pattern: Pattern
    keywords: tuple[str, ...] = ()
    exact_keywords: bool = False
    description: str = ""
    confidence: str = "high"
    reach: tuple[int, int] = DEFAULT_REACH
    min_entropy: float | None = None
    require: tuple[re.Pattern[str], ...] = ()
    allow: tuple[Allow, ...] = ()
    placeholder_entropy: float | None = None
    requires: HitKind | None = None
    within_lines: int = 0
    labelled: bool = True
    examples: tuple[str, ...] = field(default=(), repr=False)
    negative_examples: tuple[str, ...] = field(default=(), repr=False)
    source: str = ""

    def accepts(self, value: str) -> bool:
        """Whether a regex match is a real candidate (entropy floor and required characters)."""
        if self.min_entropy is not None and shannon_entropy(value) < self.min_entropy:
            return False
        return all(r.search(value) for r in self.require)

    def decoy(self, value: str) -> Decoy | None:
        for allow in self.allow:
            if allow.pattern.search(value):
                return allow.reason
        if self.placeholder_entropy is not None and shannon_entropy(value) < self.placeholder_entropy:
            return Decoy.PLACEHOLDER
        return None


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    prefixes: dict[str, dict[str, str]]
    canary_accounts: frozenset[str]

    def by_id(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


def shannon_entropy(value: str) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def builtin_dir() -> Path:
    """The rules shipped with keyscan: inside the wheel, or ``patterns/`` in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "patterns", here.parent / "patterns"):
        if candidate.is_dir():
            return candidate
    raise RuleError("keyscan's built-in rules are missing: reinstall keyscan")


def load(extra_files: Sequence[str | Path] = ()) -> RuleSet:
    files = sorted(builtin_dir().glob("*.toml")) + [Path(f) for f in extra_files]
    rules: list[Rule] = []
    prefixes: dict[str, dict[str, str]] = {}
    canary: set[str] = set()
    for path in files:
        doc = _read_toml(path)
        unknown = set(doc) - _FILE_KEYS
        if unknown:
            raise RuleError(f"{path}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(_FILE_KEYS))})")
        for i, raw in enumerate(doc.get("rules", [])):
            rules.append(_parse_rule(raw, f"{path.name}: rules[{i}]"))
        prefixes.update(doc.get("prefixes", {}))
        canary.update(_accounts(doc.get("canary", {}), path))
    seen = Counter(r.id for r in rules)
    dupes = [rid for rid, n in seen.items() if n > 1]
    if dupes:
        raise RuleError(f"duplicate rule id {dupes[0]!r}: rule ids must be unique")
    return RuleSet(tuple(rules), prefixes, frozenset(canary))


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise RuleError(f"cannot read rule file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise RuleError(f"{path}: not valid TOML: {e}") from e


def _accounts(table: dict[str, Any], path: Path) -> list[str]:
    accounts = table.get("accounts", [])
    for a in accounts:
        if not (isinstance(a, str) and len(a) == 12 and a.isdigit()):
            raise RuleError(f"{path}: canary account {a!r} is not a 12-digit string")
    return list(accounts)


def _parse_rule(raw: dict[str, Any], where: str) -> Rule:
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    for key in ("id", "name", "kind", "pattern"):
        if key not in raw:
            raise RuleError(f"{where}: missing required key {key!r}")
    where = f"{where} ({raw['id']})"
    try:
        kind = HitKind(raw["kind"])
    except ValueError:
        raise RuleError(f"{where}: kind must be one of {[k.value for k in HitKind]}") from None
    pattern = _compile(raw["pattern"], where)
    if kind.value not in pattern.groupindex:
        raise RuleError(f"{where}: pattern needs a named group (?P<{kind.value}>...)")
    requires = HitKind(raw["requires"]) if "requires" in raw else None
    keywords = tuple(raw.get("keywords", ()))
    if not keywords and requires is None:
        raise RuleError(f"{where}: needs keywords (or requires): every rule is anchored on literals")
    confidence = raw.get("confidence", "high")
    if confidence not in _CONFIDENCE:
        raise RuleError(f"{where}: confidence must be one of {sorted(_CONFIDENCE)}")
    try:
        allow = tuple(Allow(re.compile(a["pattern"]), Decoy(a["reason"])) for a in raw.get("allow", ()))
        require = tuple(re.compile(r) for r in raw.get("require", ()))
    except (KeyError, ValueError, re.error) as e:
        raise RuleError(f"{where}: bad allow/require entry: {e}") from e
    reach = tuple(raw.get("reach", DEFAULT_REACH))
    if len(reach) != 2 or not all(isinstance(x, int) and x >= 0 for x in reach):
        raise RuleError(f"{where}: reach must be [bytes_before, bytes_after]")
    return Rule(
        id=raw["id"], name=raw["name"], kind=kind, pattern=pattern, keywords=keywords,
        exact_keywords=bool(raw.get("exact_keywords", False)),
        description=raw.get("description", ""), confidence=confidence,
        reach=(reach[0], reach[1]), min_entropy=raw.get("min_entropy"), require=require,
        allow=allow, placeholder_entropy=raw.get("placeholder_entropy"), requires=requires,
        within_lines=int(raw.get("within_lines", 0)), labelled=bool(raw.get("labelled", True)),
        examples=tuple(raw.get("examples", ())),
        negative_examples=tuple(raw.get("negative_examples", ())), source=where,
    )


def _compile(source: str, where: str) -> Pattern:
    """Compile with the stdlib ``re`` when the pattern allows it (its per-call overhead is a third
    of ``regex``'s, and a rule runs once per keyword occurrence), else with ``regex``. On bytes
    both give the same matches for every construct ``re`` accepts."""
    data = source.encode()
    try:
        return re.compile(data)
    except re.error:
        pass
    import regex  # only for patterns that need it: it costs 6 ms to import

    try:
        return regex.compile(data)
    except regex.error as e:
        raise RuleError(f"{where}: pattern does not compile: {e}") from e


def check(ruleset: RuleSet, rules: Iterable[Rule] | None = None) -> list[str]:
    """Run every rule's examples through the real matcher; return one message per failure."""
    from keyscan.matcher import Matcher

    matcher = Matcher(ruleset.rules, engine="python")
    problems: list[str] = []
    for rule in rules if rules is not None else ruleset.rules:
        if not rule.examples:
            problems.append(f"{rule.id}: has no examples")
        for text in rule.examples:
            hits = [h for h in matcher.scan(text.encode()) if h.rule_id == rule.id]
            if not hits:
                problems.append(f"{rule.id}: example not matched: {text[:80]!r}")
            elif any(rule.decoy(h.value) for h in hits):
                problems.append(f"{rule.id}: example matched only as a decoy: {text[:80]!r}")
        for text in rule.negative_examples:
            hits = [h for h in matcher.scan(text.encode()) if h.rule_id == rule.id and not rule.decoy(h.value)]
            if hits:
                problems.append(f"{rule.id}: negative example matched: {text[:80]!r}")
    return problems
