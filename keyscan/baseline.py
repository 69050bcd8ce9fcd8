"""The baseline: findings a team has accepted, so that only new ones are reported.

An entry is a finding's fingerprint (sha256 over its kind and values: no location, no secret),
its kind and class, its key ID (an identifier, not a secret: AWS logs it in CloudTrail, and a
reviewer needs it to know which key an entry is), and a free ``note``. There are no line numbers,
paths, timestamps or tool versions, and the output is sorted with stable formatting, so the file
only changes when the set of accepted findings does: it neither churns nor conflicts in merges.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyscan.errors import KeyscanError
from keyscan.model import Finding, FindingKind

FILE_NAME = ".keyscan-baseline.json"
FORMAT_VERSION = 1
SCOPES = ("files", "history")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
# A key ID on its own is covered by a baselined entry with the same key ID: it is no news (and
# the baseline file itself lists key IDs, so scanning it must not re-alert).
_ID_ONLY = (FindingKind.KEY_ID, FindingKind.IDENTIFIER)


class BaselineError(KeyscanError):
    pass


@dataclass(frozen=True, slots=True)
class Entry:
    fingerprint: str
    kind: str
    key_class: str
    key_id: str | None
    note: str = ""


@dataclass(frozen=True)
class Baseline:
    path: str
    scope: str
    entries: tuple[Entry, ...]
    by_fingerprint: dict[str, Entry] = field(init=False, repr=False, compare=False)
    by_key_id: dict[str, Entry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:  # frozen: derived lookups are set once, the documented way
        object.__setattr__(self, "by_fingerprint", {e.fingerprint: e for e in self.entries})
        object.__setattr__(self, "by_key_id", {e.key_id: e for e in self.entries if e.key_id})

    def match(self, finding: Finding) -> Entry | None:
        entry = self.by_fingerprint.get(finding.fingerprint)
        if entry is None and finding.kind in _ID_ONLY and finding.key_id:
            entry = self.by_key_id.get(finding.key_id)
        return entry


def find(start: str | Path) -> Path | None:
    """``.keyscan-baseline.json`` from ``start`` upwards, stopping at the repository's top."""
    folder = Path(start).resolve()
    if not folder.is_dir():
        folder = folder.parent
    for candidate in (folder, *folder.parents):
        if (candidate / FILE_NAME).is_file():
            return candidate / FILE_NAME
        if (candidate / ".git").exists():
            return None
    return None


def load(path: str | Path) -> Baseline:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} does not exist: create it with `keyscan baseline create`"
        ) from None
    except OSError as e:
        raise BaselineError(f"cannot read baseline {path}: {e.strerror}") from e
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise BaselineError(f"{path}: not valid JSON ({e}); recreate it with `keyscan baseline create --force`") from e
    return _parse(doc, str(path))


def _parse(doc: Any, path: str) -> Baseline:
    if not isinstance(doc, dict) or doc.get("tool") != "keyscan" or not isinstance(doc.get("findings"), list):
        raise BaselineError(f"{path}: not a keyscan baseline (no \"tool\": \"keyscan\" and \"findings\" list)")
    if doc.get("version") != FORMAT_VERSION:
        raise BaselineError(
            f"{path}: baseline version {doc.get('version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    scope = doc.get("scope", "files")
    if scope not in SCOPES:
        raise BaselineError(f"{path}: scope {scope!r} must be one of {', '.join(SCOPES)}")
    return Baseline(path, scope, tuple(_entry(item, i, path) for i, item in enumerate(doc["findings"])))


def _entry(item: Any, index: int, path: str) -> Entry:
    if not isinstance(item, dict) or not _FINGERPRINT.fullmatch(str(item.get("fingerprint", ""))):
        raise BaselineError(f"{path}: findings[{index}] has no valid fingerprint (64 hex digits)")
    note = item.get("note", "")
    if not isinstance(note, str):
        raise BaselineError(f"{path}: findings[{index}].note must be a string")
    key_id = item.get("key_id")
    return Entry(
        fingerprint=item["fingerprint"],
        kind=str(item.get("kind", "")),
        key_class=str(item.get("class", "")),
        key_id=key_id if isinstance(key_id, str) else None,
        note=note,
    )


def drop_own_listing(findings: Iterable[Finding], baseline_path: str | Path) -> list[Finding]:
    """Without the key IDs a baseline file lists itself: they are its contents, not leaks."""
    name = Path(baseline_path).name
    return [f for f in findings if not (f.kind in _ID_ONLY and Path(f.path).name == name)]


def entries_for(findings: Iterable[Finding], previous: Baseline | None = None) -> tuple[Entry, ...]:
    """Entries for every unsuppressed finding, once each; notes kept from ``previous``."""
    notes = {e.fingerprint: e.note for e in previous.entries} if previous else {}
    found: dict[str, Entry] = {}
    for f in findings:
        if f.suppressed is None and f.fingerprint not in found:
            found[f.fingerprint] = Entry(
                f.fingerprint, f.kind.value, f.key_class.value, f.key_id, notes.get(f.fingerprint, "")
            )
    covered = {e.key_id for e in found.values() if e.key_id and e.kind not in _ID_ONLY}
    kept = [e for e in found.values() if not (e.kind in _ID_ONLY and e.key_id in covered)]
    return tuple(sorted(kept, key=lambda e: e.fingerprint))


def render(entries: Iterable[Entry], scope: str) -> str:
    """The file's text: sorted keys, two-space indent, one trailing newline, nothing volatile."""
    doc = {
        "tool": "keyscan",
        "version": FORMAT_VERSION,
        "scope": scope,
        "findings": [
            {"fingerprint": e.fingerprint, "kind": e.kind, "class": e.key_class, "key_id": e.key_id, "note": e.note}
            for e in sorted(entries, key=lambda e: e.fingerprint)
        ],
    }
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(path: str | Path, text: str) -> bool:
    """Write atomically (temp file + rename) unless the file already holds ``text``; changed?"""
    target = Path(path)
    try:
        if target.read_bytes() == text.encode("utf-8"):
            return False
    except FileNotFoundError:
        pass
    except OSError as e:
        raise BaselineError(f"cannot read baseline {target}: {e.strerror}") from e
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(text.encode("utf-8"))
        os.replace(tmp, target)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise BaselineError(f"cannot write baseline {target}: {e.strerror}") from e
    return True


def diff(old: Baseline | None, new: Iterable[Entry]) -> tuple[int, int]:
    """How many entries were added and dropped."""
    before = {e.fingerprint for e in old.entries} if old else set()
    after = {e.fingerprint for e in new}
    return len(after - before), len(before - after)
