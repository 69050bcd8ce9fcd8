"""keyscan's configuration: ``.keyscan.toml`` or ``[tool.keyscan]`` in ``pyproject.toml``.

Looked for from the scanned root upwards; ``--config FILE`` wins. Unknown keys and bad values
are errors that name the file, the key and the fix, so a typo never silently turns a setting
off. Flag defaults (``fail_on``, ``format``, ...) only fill in what the command line left unset.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyscan.errors import ConfigError

CONFIG_NAMES = (".keyscan.toml", "pyproject.toml")
FAIL_ON = ("any", "credential", "long-term", "valid")
FORMATS = ("text", "json", "jsonl", "sarif")
# Config key -> what its value must be; these fill in command-line defaults (the flag wins).
_FLAG_DEFAULTS = {
    "fail_on": "one of " + ", ".join(FAIL_ON),
    "format": "one of " + ", ".join(FORMATS),
    "include_examples": "true or false",
    "include_identifiers": "true or false",
    "include_binary": "true or false",
    "show_suppressed": "true or false",
    "max_size": 'a size such as "50M", or a number of bytes',
    "jobs": "a whole number, 1 or more",
}
_KEYS = {"exclude", "rules", "canary_accounts", "allow", "baseline", *_FLAG_DEFAULTS}
_ALLOW_KEYS = {"fingerprint", "key_id", "reason"}
_FINGERPRINT = re.compile(r"[0-9a-f]{16,64}")
_KEY_ID = re.compile(r"A[A-Z0-9]{3}[A-Z2-7]{16}")
_ALLOW_EXAMPLE = '[[allow]]\nkey_id = "AKIA..."  # or fingerprint = "<16 to 64 hex digits>"\nreason = "why"'


@dataclass(frozen=True)
class Allow:
    """One allowlist entry: a key ID (every finding with it) or a fingerprint (or a prefix)."""

    reason: str
    key_id: str | None = None
    fingerprint: str | None = None


@dataclass(frozen=True)
class Config:
    source: str | None = None
    exclude: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    canary_accounts: frozenset[str] = field(default_factory=frozenset)
    allow: tuple[Allow, ...] = ()
    baseline: str | None = None  # resolved against the config file's folder
    defaults: Mapping[str, Any] = field(default_factory=dict)  # argparse dest -> value


def find(start: Path) -> Path | None:
    start = start.resolve()
    if start.is_file():
        start = start.parent
    for folder in (start, *start.parents):
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file() and (name != "pyproject.toml" or _has_tool_table(candidate)):
                return candidate
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        return "keyscan" in _read(path).get("tool", {})
    except ConfigError:
        return False


def load(explicit: str | None, scan_root: str) -> Config:
    path = Path(explicit) if explicit else find(Path(scan_root))
    if path is None:
        return Config()
    doc = _read(path)
    table = doc.get("tool", {}).get("keyscan", {}) if path.name == "pyproject.toml" else doc
    return _parse(table, path)


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e


def _parse(table: dict[str, Any], path: Path) -> Config:
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key {unknown[0]!r}; known keys: {', '.join(sorted(_KEYS))}")
    exclude = _strings(table, "exclude", path)
    rule_files = tuple(str((path.parent / r).resolve()) for r in _strings(table, "rules", path))
    accounts = _strings(table, "canary_accounts", path)
    for a in accounts:
        if not (len(a) == 12 and a.isdigit()):
            raise ConfigError(f"{path}: canary_accounts: {a!r} is not a 12-digit AWS account ID")
    return Config(
        source=str(path),
        exclude=exclude,
        rules=rule_files,
        canary_accounts=frozenset(accounts),
        allow=tuple(_allow(entry, i, path) for i, entry in enumerate(_tables(table, "allow", path))),
        baseline=_baseline(table, path),
        defaults={key: _flag_default(key, table[key], path) for key in _FLAG_DEFAULTS if key in table},
    )


def _strings(table: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)


def _tables(table: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of tables, written as:\n{_ALLOW_EXAMPLE}")
    return value


def _allow(entry: dict[str, Any], index: int, path: Path) -> Allow:
    where = f"{path}: allow[{index}]"
    unknown = sorted(set(entry) - _ALLOW_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}; known keys: fingerprint, key_id, reason")
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise ConfigError(f'{where}: reason is required: say why it is allowed, e.g. reason = "AWS docs example"')
    if ("key_id" in entry) == ("fingerprint" in entry):
        raise ConfigError(f"{where}: give exactly one of key_id or fingerprint")
    if "key_id" in entry:
        key_id = entry["key_id"]
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
            raise ConfigError(f"{where}: key_id {key_id!r} is not an AWS key ID (20 characters, e.g. AKIA...)")
        return Allow(reason.strip(), key_id=key_id)
    fingerprint = entry["fingerprint"]
    if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint.lower()):
        raise ConfigError(
            f"{where}: fingerprint {fingerprint!r} must be 16 to 64 hex digits, as a report shows it"
        )
    return Allow(reason.strip(), fingerprint=fingerprint.lower())


def _baseline(table: dict[str, Any], path: Path) -> str | None:
    value = table.get("baseline")
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f'{path}: baseline must be a file name, e.g. baseline = ".keyscan-baseline.json"')
    return str(path.parent / value)


def _flag_default(key: str, value: Any, path: Path) -> Any:
    """A checked flag default; the error says what the key accepts."""
    checked: Any = None
    if key in ("fail_on", "format"):
        checked = value if value in (FAIL_ON if key == "fail_on" else FORMATS) else None
    elif key == "jobs":
        checked = value if type(value) is int and value >= 1 else None
    elif key == "max_size":
        checked = parse_size(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    elif isinstance(value, bool):
        checked = value
    if checked is None:
        raise ConfigError(f"{path}: {key} = {value!r} is not valid: it must be {_FLAG_DEFAULTS[key]}")
    return checked


def parse_size(value: str | int) -> int | None:
    """``50M``, ``1.5G``, ``4096`` -> bytes; None when it is not a size."""
    if isinstance(value, int):
        return value if value >= 0 else None
    units = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    t = value.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in units else ""
    try:
        size = float(t[: len(t) - len(unit)])
    except ValueError:
        return None
    return int(size * units[unit]) if size >= 0 else None
