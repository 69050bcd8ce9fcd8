"""keyscan: find leaked AWS credentials in files and git history.

The library API is small: build an ``Engine`` once, then ``scan_bytes`` (a whole blob) or
``scan_stream`` (chunks, flat memory) give ``Finding`` values. Names load on first use, so
``import keyscan`` costs nothing on the pre-commit path.

    >>> from keyscan import Engine
    >>> Engine.load().scan_bytes(b"nothing here", path="x")
    []
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "DetectOptions": "keyscan.engine",
    "Engine": "keyscan.engine",
    "Finding": "keyscan.model",
    "FindingKind": "keyscan.model",
    "KeyClass": "keyscan.model",
    "Status": "keyscan.model",
    "Validation": "keyscan.model",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'keyscan' has no attribute {name!r}")
