from __future__ import annotations

import doctest
import random
import subprocess
import sys

import keyscan
from tests.fakes import fake_key_id, fake_secret


def test_public_names_resolve_and_scan() -> None:
    rng = random.Random(3)
    key, secret = fake_key_id("AKIA", rng=rng), fake_secret(rng)
    [finding] = keyscan.Engine.load(keyscan.DetectOptions()).scan_bytes(
        f"aws_access_key_id={key}\naws_secret_access_key={secret}\n".encode(), path="x")
    assert isinstance(finding, keyscan.Finding) and finding.kind is keyscan.FindingKind.CREDENTIAL
    assert all(getattr(keyscan, name) is not None for name in keyscan.__all__)


def test_docstring_example() -> None:
    assert doctest.testmod(keyscan).failed == 0


def test_import_keyscan_loads_nothing_heavy() -> None:
    code = "import sys, keyscan; print(sorted(m for m in sys.modules if m.startswith('keyscan')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['keyscan']"
