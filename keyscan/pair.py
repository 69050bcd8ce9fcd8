"""Group the hits of one file or blob into credentials: key ID + secret (+ session token).

Each key ID takes the nearest secret and the nearest token within PAIR_WITHIN_LINES lines
(nearest first, each part used once), so a file with several profiles pairs each key with its
own secret. When what is left is one unpaired key ID and one unpaired labelled secret (or
token), they pair however far apart they are: an environment dump (`env`, `make -p`) lists
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY a hundred lines apart, and they are still one
credential. An unlabelled secret that pairs with nothing was only a candidate and is dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from keyscan.model import Hit, HitKind

PAIR_WITHIN_LINES = 10


@dataclass(frozen=True, slots=True)
class Group:
    key: Hit | None = None
    secret: Hit | None = None
    token: Hit | None = None
    expiration: Hit | None = None
    identifier: Hit | None = None

    def parts(self) -> list[Hit]:
        return [h for h in (self.key, self.secret, self.token, self.identifier) if h is not None]


def pair(hits: Sequence[Hit], within_lines: int = PAIR_WITHIN_LINES) -> list[Group]:
    by_kind: dict[HitKind, list[Hit]] = {kind: [] for kind in HitKind}
    for hit in _dedupe(hits):
        by_kind[hit.kind].append(hit)
    keys = by_kind[HitKind.KEY_ID]
    secrets = _only_ones(keys, by_kind[HitKind.SECRET], _nearest(keys, by_kind[HitKind.SECRET], within_lines))
    tokens = _only_ones(keys, by_kind[HitKind.TOKEN], _nearest(keys, by_kind[HitKind.TOKEN], within_lines))
    expirations = _nearest(keys, by_kind[HitKind.EXPIRATION], within_lines)
    groups = [
        Group(key=k, secret=secrets.get(i), token=tokens.get(i), expiration=expirations.get(i))
        for i, k in enumerate(keys)
    ]
    used_secrets = {id(h) for h in secrets.values()}
    used_tokens = {id(h) for h in tokens.values()}
    groups += [Group(secret=s) for s in by_kind[HitKind.SECRET] if id(s) not in used_secrets and s.labelled]
    groups += [Group(token=t) for t in by_kind[HitKind.TOKEN] if id(t) not in used_tokens]
    groups += [Group(identifier=h) for h in by_kind[HitKind.IDENTIFIER]]
    return sorted(groups, key=lambda g: min(h.start for h in g.parts()))


def _dedupe(hits: Sequence[Hit]) -> list[Hit]:
    """One hit per (kind, span): a labelled match wins over an unlabelled one of the same value."""
    best: dict[tuple[HitKind, int, int], Hit] = {}
    for hit in hits:
        key = (hit.kind, hit.start, hit.end)
        if key not in best or (hit.labelled and not best[key].labelled):
            best[key] = hit
    return list(best.values())


def _only_ones(keys: Sequence[Hit], parts: Sequence[Hit], paired: dict[int, Hit]) -> dict[int, Hit]:
    """Pair the one key left over with the one labelled part left over, at any distance."""
    free_keys = [i for i in range(len(keys)) if i not in paired]
    used = {id(p) for p in paired.values()}
    free_parts = [p for p in parts if id(p) not in used and p.labelled]
    if len(free_keys) == 1 and len(free_parts) == 1:
        return {**paired, free_keys[0]: free_parts[0]}
    return paired


def _nearest(keys: Sequence[Hit], parts: Sequence[Hit], within_lines: int) -> dict[int, Hit]:
    """Greedy nearest-first assignment of parts to keys (index into keys → part)."""
    candidates = sorted(
        (abs(k.line - p.line), abs(k.start - p.start), ki, pi)
        for ki, k in enumerate(keys)
        for pi, p in enumerate(parts)
        if abs(k.line - p.line) <= within_lines
    )
    taken_keys: set[int] = set()
    taken_parts: set[int] = set()
    out: dict[int, Hit] = {}
    for _, _, ki, pi in candidates:
        if ki in taken_keys or pi in taken_parts:
            continue
        taken_keys.add(ki)
        taken_parts.add(pi)
        out[ki] = parts[pi]
    return out
