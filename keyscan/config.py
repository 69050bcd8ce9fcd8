"""keyscan's configuration: ``.keyscan.toml`` or ``[tool.keyscan]`` in ``pyproject.toml``.

Looked for from the scanned root upwards; ``--config FILE`` wins. Unknown keys are errors that
name the file and the key, so a typo never silently turns a setting off.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from keyscan.errors import ConfigError

CONFIG_NAMES = (".keyscan.toml", "pyproject.toml")
_KEYS = {"exclude", "rules", "canary_accounts"}


@dataclass(frozen=True)
class Config:
    source: str | None = None
    exclude: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    canary_accounts: frozenset[str] = field(default_factory=frozenset)


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
    return Config(str(path), exclude, rule_files, frozenset(accounts))


def _strings(table: dict[str, Any], key: str, path: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)
