"""keyscan: find leaked AWS credentials in files and git history."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
