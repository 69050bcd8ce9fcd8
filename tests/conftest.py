"""Shared fixtures. Keep this file small: fixtures live in their own modules."""

from __future__ import annotations

import pytest

from tests.sts import fake_sts, moto_sts, silent_port

__all__ = ["fake_sts", "moto_sts", "silent_port"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ from the current output")
