"""The command line contract: exit codes, stdin, --help, the console script."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from keyscan import __version__
from keyscan.cli import main
from tests.fakes import fake_key_id, fake_secret

COMMANDS = [["scan"], ["rules"], ["rules", "list"], ["rules", "check"]]


def credential_text(seed: int = 1) -> str:
    rng = random.Random(seed)
    return f"AWS_ACCESS_KEY_ID={fake_key_id('AKIA', rng=rng)}\nAWS_SECRET_ACCESS_KEY={fake_secret(rng)}\n"


def test_clean_scan_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    assert main(["scan", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert "No AWS credentials found" in out and "0 findings" in err


def test_findings_exit_1(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(credential_text())
    assert main(["scan", str(tmp_path)]) == 1


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", "--format", "xml"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert main(["frobnicate"]) == 2


@pytest.mark.parametrize("command", COMMANDS)
def test_help_on_every_subcommand(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*command, "--help"]) == 0
    assert "usage: keyscan" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"keyscan {__version__}"


def test_config_errors_exit_2_and_name_file_and_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / ".keyscan.toml").write_text('exclud = ["x"]\n')
    assert main(["scan", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert ".keyscan.toml" in err and "'exclud'" in err
    (tmp_path / ".keyscan.toml").write_text('exclude = ["[abc"]\n')
    assert main(["scan", str(tmp_path)]) == 2
    assert "unclosed '['" in capsys.readouterr().err


def test_config_excludes_are_applied(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "keys.env").write_text(credential_text())
    (tmp_path / "pyproject.toml").write_text('[tool.keyscan]\nexclude = ["fixtures/"]\n')
    assert main(["scan", str(tmp_path)]) == 0


def _run(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, **kwargs)  # type: ignore[call-overload]


def test_stdin_through_the_real_console_script() -> None:
    exe = shutil.which("keyscan")
    assert exe, "the keyscan console script is not installed"
    result = _run([exe, "scan", "-", "--format", "json"], input=credential_text(3))
    assert result.returncode == 1, result.stderr
    [finding] = json.loads(result.stdout)["findings"]
    assert finding["path"] == "<stdin>" and finding["kind"] == "credential"
    assert "\x1b" not in result.stderr  # no progress bar when stderr is not a terminal


def test_python_dash_m() -> None:
    result = _run([sys.executable, "-m", "keyscan", "--version"])
    assert result.returncode == 0 and result.stdout.strip() == f"keyscan {__version__}"


def test_internal_error_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import keyscan.sources.files

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(keyscan.sources.files, "scan_paths", broken)
    monkeypatch.delenv("KEYSCAN_DEBUG", raising=False)
    assert main(["scan", str(tmp_path)]) == 3
    assert "internal error: RuntimeError: boom" in capsys.readouterr().err
