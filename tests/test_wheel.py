"""The wheel ships the rules: build it, install it in a fresh venv, and scan with it."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from tests.fakes import fake_key_id, fake_secret

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_contains_rules_and_scans_from_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    [wheel] = dist.glob("keyscan-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "keyscan/patterns/aws.toml" in names and "keyscan/patterns/aws-facts.toml" in names
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True, system_site_packages=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
                   check=True, capture_output=True, timeout=600)
    rng = random.Random(5)
    target = tmp_path / "project"
    target.mkdir()
    key = fake_key_id("AKIA", rng=rng)
    (target / "settings.py").write_text(f'AWS_ACCESS_KEY_ID = "{key}"\nAWS_SECRET_ACCESS_KEY = "{fake_secret(rng)}"\n')
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([str(env_dir / "bin" / "keyscan"), "scan", str(target), "--format", "json"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 1, result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["key_id"] == key and finding["kind"] == "credential"
    origin = subprocess.run([str(py), "-c", "import keyscan.rules as r; print(r.builtin_dir())"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, check=True)
    assert str(env_dir) in origin.stdout
