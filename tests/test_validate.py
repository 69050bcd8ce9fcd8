"""keyscan.validate (options, offline gate, Verifier) and `--verify` / `keyscan verify` end to end.

The call itself is tested in test_sts.py, the readers of `keyscan verify` in test_verify_input.py.
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from keyscan.cli import main
from keyscan.errors import ConfigError, MissingExtraError
from keyscan.model import Decoy, FindingKind, Status, Validation
from keyscan.sts import INSTALL_HINT
from keyscan.validate import Verifier, VerifyOptions, precheck, verify_findings
from tests.fakes import fake_account, fake_key_id, fake_secret, fake_token
from tests.gitrepo import GitRepo
from tests.sts import Credential, FakeSTS, MotoSTS, finding, on, sts_error

CANARY_ACCOUNT = 992382622183  # canarytokens.org (built-in list)
RNG = random.Random(4)


def new_key(prefix: str = "AKIA") -> tuple[str, str]:
    return fake_key_id(prefix, account=fake_account(RNG), rng=RNG), fake_secret(RNG)


# --- offline: options, gate, lazy import ---------------------------------------------------


def test_options_reject_nonsense() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        VerifyOptions(workers=0)
    with pytest.raises(ConfigError, match="12-digit"):
        VerifyOptions(skip_accounts=frozenset({"12345"}))


def test_precheck_without_secret_or_token() -> None:
    options = VerifyOptions()
    key_id, secret = new_key()
    asia, asia_secret = new_key("ASIA")
    assert precheck(key_id, None, None, options) == Validation(
        Status.UNVERIFIABLE, reason="key ID without a secret access key"
    )
    assert precheck(asia, asia_secret, None, options).status is Status.UNVERIFIABLE  # type: ignore[union-attr]
    assert precheck(None, secret, None, options).status is Status.UNVERIFIABLE  # type: ignore[union-attr]
    assert precheck(key_id, secret, None, options) is None


def test_canary_gate() -> None:
    canary = fake_key_id("AKIA", account=CANARY_ACCOUNT, rng=RNG)
    secret = fake_secret(RNG)
    result = precheck(canary, secret, None, VerifyOptions())
    assert result == Validation(
        Status.CANARY, account=str(CANARY_ACCOUNT), reason="known canary-token account"
    )
    assert precheck(canary, secret, None, VerifyOptions(verify_canaries=True)) is None
    # a user's skip list holds even with --verify-canaries
    mine = fake_key_id("AKIA", account=111122223333, rng=RNG)
    skip = VerifyOptions(skip_accounts=frozenset({"111122223333"}), verify_canaries=True)
    assert precheck(mine, secret, None, skip).status is Status.CANARY  # type: ignore[union-attr]


def test_verifier_without_botocore_fails_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    with pytest.raises(MissingExtraError) as caught:
        Verifier(VerifyOptions())
    assert str(caught.value) == INSTALL_HINT


@pytest.mark.parametrize("module", ["keyscan.validate", "keyscan.sts", "keyscan.verify_input"])
def test_importing_does_not_import_botocore(module: str) -> None:
    code = f"import sys, {module}; print('botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_identifiers_and_decoys_are_not_sent() -> None:
    verifier = Verifier(VerifyOptions(endpoint="http://127.0.0.1:9"))  # nothing listens there
    key_id, secret = new_key()
    ident = finding("AIDA" + key_id[4:], kind=FindingKind.IDENTIFIER)
    example = finding(key_id, secret, decoy=Decoy.EXAMPLE)
    lone = finding(key_id, kind=FindingKind.KEY_ID)
    marked = finding(key_id, secret, canary=True)
    out = verifier.verify([ident, example, lone, marked])
    assert out[0].validation is None
    assert [f.validation.status for f in out[1:]] == [  # type: ignore[union-attr]
        Status.UNVERIFIABLE,
        Status.UNVERIFIABLE,
        Status.CANARY,
    ]


# --- many findings against real moto STS ---------------------------------------------------


@pytest.mark.sts
def test_canary_key_never_reaches_the_server(moto_sts: MotoSTS) -> None:
    canary = fake_key_id("AKIA", account=CANARY_ACCOUNT, rng=RNG)
    mark = moto_sts.server.mark()
    out = verify_findings([finding(canary, fake_secret(RNG))], on(moto_sts.endpoint))
    assert out[0].validation == Validation(
        Status.CANARY, account=str(CANARY_ACCOUNT), reason="known canary-token account"
    )
    assert moto_sts.server.requests_since(mark) == 0


@pytest.mark.sts
def test_cache_one_request_per_credential(moto_sts: MotoSTS) -> None:
    alice, other = moto_sts.alice, moto_sts.spare[0]
    findings = [finding(alice.key_id, alice.secret, path=f"c{n}/a.env") for n in range(50)]
    findings += [finding(other.key_id, other.secret, path=f"c{n}/b.env") for n in range(20)]
    verifier = Verifier(on(moto_sts.endpoint))
    mark = moto_sts.server.mark()
    out = verifier.verify(findings)
    assert moto_sts.server.requests_since(mark) == 2
    assert {f.validation.status for f in out} == {Status.VALID}  # type: ignore[union-attr]
    assert [f.path for f in out] == [f.path for f in findings]  # order and places kept
    mark = moto_sts.server.mark()
    verifier.verify(findings[:3])  # a later batch of the same run: cached
    assert moto_sts.server.requests_since(mark) == 0


@pytest.mark.sts
def test_many_keys_in_parallel(moto_sts: MotoSTS) -> None:
    creds = moto_sts.spare
    findings = [finding(c.key_id, c.secret) for c in creds]
    findings.append(finding(moto_sts.deleted.key_id, moto_sts.deleted.secret))
    out = verify_findings(findings, on(moto_sts.endpoint, workers=8))
    statuses = [f.validation.status for f in out]  # type: ignore[union-attr]
    assert statuses == [Status.VALID] * len(creds) + [Status.INVALID]
    assert [f.validation.arn for f in out[:-1]] == [c.arn for c in creds]  # type: ignore[union-attr]


# --- many findings against our scripted STS ------------------------------------------------


@pytest.mark.sts
def test_same_key_id_with_two_secrets_is_spaced(fake_sts: FakeSTS) -> None:
    key_id, first = new_key()
    fake_sts.script(key_id, sts_error("InvalidClientTokenId", "", 403))
    findings = [finding(key_id, first), finding(key_id, fake_secret(RNG))]
    started = time.monotonic()
    verify_findings(findings, on(fake_sts.endpoint, same_key_gap=0.5, workers=2))
    assert time.monotonic() - started >= 0.5
    assert fake_sts.calls[key_id] == 2


@pytest.mark.sts
def test_secrets_stay_out_of_results(fake_sts: FakeSTS) -> None:
    key_id, secret = new_key("ASIA")
    token = fake_token(RNG)
    fake_sts.script(key_id, sts_error("AccessDenied", f"no: {secret} {token}", 403))
    out = verify_findings([finding(key_id, secret, token)], on(fake_sts.endpoint))
    shown = repr(out) + str(out[0].validation)
    assert secret not in shown and token not in shown


# --- the CLI end to end -----------------------------------------------------------------


def ini(cred: Credential) -> str:
    text = f"[default]\naws_access_key_id = {cred.key_id}\naws_secret_access_key = {cred.secret}\n"
    return text + (f"aws_session_token = {cred.token}\n" if cred.token else "")


@pytest.fixture
def leaky_repo(tmp_path: Path, moto_sts: MotoSTS) -> GitRepo:
    """A git repository whose files hold the seeded keys, a canary key and one key 30 times."""
    repo = GitRepo(tmp_path / "repo")
    canary = Credential(fake_key_id("AKIA", account=CANARY_ACCOUNT, rng=RNG), fake_secret(RNG))
    files: dict[str, str | bytes | None] = {
        "config/prod.ini": ini(moto_sts.alice),
        "config/old.ini": ini(moto_sts.deleted),
        "config/session.ini": ini(moto_sts.assumed),
        "docs/canary.ini": ini(canary),
    }
    files |= {f"services/s{n:02d}/aws.ini": ini(moto_sts.spare[1]) for n in range(30)}
    repo.commit("add configs", files)
    return repo


def scan_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, dict[str, Any]]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, {"report": json.loads(out) if out.strip() else None, "stderr": err}


def statuses(report: dict[str, Any]) -> dict[str, set[str]]:
    by_key: dict[str, set[str]] = {}
    for f in report["findings"]:
        by_key.setdefault(f["key_id"], set()).add(f["validation"]["status"])
    return by_key


@pytest.mark.sts
def test_cli_scan_verify_on_a_git_repository(
    leaky_repo: GitRepo, moto_sts: MotoSTS, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", str(leaky_repo.path), "--format", "json", "--no-progress"]
    mark = moto_sts.server.mark()
    code, plain = scan_json(capsys, argv)
    assert code == 1 and all(f["validation"] is None for f in plain["report"]["findings"])
    assert moto_sts.server.requests_since(mark) == 0  # nothing is sent without --verify

    mark = moto_sts.server.mark()
    code, run = scan_json(capsys, [*argv, "--verify", "--sts-endpoint", moto_sts.endpoint])
    assert code == 1
    assert moto_sts.server.requests_since(mark) == 4  # alice, deleted, assumed, spare: once each
    got = statuses(run["report"])
    assert got[moto_sts.alice.key_id] == {"valid"}
    assert got[moto_sts.deleted.key_id] == {"invalid"}
    assert got[moto_sts.assumed.key_id] == {"valid"}
    assert got[moto_sts.spare[1].key_id] == {"valid"}
    assert len(got) == 5 and list(got.values()).count({"canary"}) == 1  # the canary key
    alice = next(f for f in run["report"]["findings"] if f["key_id"] == moto_sts.alice.key_id)
    assert alice["validation"]["arn"] == moto_sts.alice.arn
    assert "validation: 1 canary, 1 invalid, 32 valid" in run["stderr"]
    for cred in (moto_sts.alice, moto_sts.assumed):
        assert cred.secret not in json.dumps(run["report"]) + run["stderr"]


@pytest.mark.sts
def test_cli_verify_rechecks_a_findings_file(
    leaky_repo: GitRepo, moto_sts: MotoSTS, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    saved = tmp_path / "findings.json"
    scan = ["scan", str(leaky_repo.path), "--format", "json", "--no-progress"]
    assert main([*scan, "--show-secrets", "-o", str(saved)]) == 1
    capsys.readouterr()
    mark = moto_sts.server.mark()
    code, run = scan_json(
        capsys, ["verify", str(saved), "--format", "json", "--sts-endpoint", moto_sts.endpoint]
    )
    assert code == 1
    assert moto_sts.server.requests_since(mark) == 4
    got = statuses(run["report"])
    assert got[moto_sts.alice.key_id] == {"valid"} and got[moto_sts.deleted.key_id] == {"invalid"}
    assert any(f["path"].endswith("config/prod.ini") for f in run["report"]["findings"])

    redacted = tmp_path / "redacted.json"
    assert main([*scan, "-o", str(redacted)]) == 1
    capsys.readouterr()
    assert main(["verify", str(redacted), "--sts-endpoint", moto_sts.endpoint]) == 2
    assert "--show-secrets" in capsys.readouterr().err


@pytest.mark.sts
def test_cli_verify_from_environment_and_stdin(
    moto_sts: MotoSTS, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, role = moto_sts.alice, moto_sts.assumed
    verify = ["verify", "--format", "json", "--sts-endpoint", moto_sts.endpoint]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", alice.key_id)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", alice.secret)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    code, run = scan_json(capsys, verify)
    assert code == 1 and statuses(run["report"]) == {alice.key_id: {"valid"}}

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{role.key_id} {role.secret} {role.token}\n"))
    code, run = scan_json(capsys, [*verify, "-"])
    assert code == 1 and statuses(run["report"]) == {role.key_id: {"valid"}}
    assert run["report"]["findings"][0]["validation"]["arn"] == role.arn


def test_cli_verify_without_botocore_fails_before_scanning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "botocore", None)
    monkeypatch.setitem(sys.modules, "botocore.session", None)
    assert main(["scan", str(tmp_path), "--verify"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"keyscan: error: {INSTALL_HINT}\n"


def test_cli_refuses_plain_http_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["scan", str(tmp_path), "--verify", "--sts-endpoint", "http://sts.example.com"]
    assert main(argv) == 2
    assert "refusing plain-HTTP STS endpoint" in capsys.readouterr().err


@pytest.mark.sts
def test_console_script_verify(leaky_repo: GitRepo, moto_sts: MotoSTS) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    argv = [
        "scan",
        str(leaky_repo.path / "config"),
        "--verify",
        "--sts-endpoint",
        moto_sts.endpoint,
    ]
    done = subprocess.run(
        [sys.executable, "-m", "keyscan", *argv], env=env, capture_output=True, text=True
    )
    assert done.returncode == 1, done.stderr
    assert "validation: valid" in done.stdout and moto_sts.alice.arn in done.stdout
    assert "validation: 1 invalid, 2 valid" in done.stderr
    assert moto_sts.alice.secret not in done.stdout + done.stderr


def test_canary_flag_from_config_holds_even_with_verify_canaries() -> None:
    """Keys of the user's canary_accounts stay unsent; --verify-canaries lifts built-ins only."""
    verifier = Verifier(VerifyOptions(endpoint="http://127.0.0.1:9", verify_canaries=True))
    mine = fake_key_id("AKIA", account=111122223333, rng=RNG)
    flagged = replace(finding(mine, fake_secret(RNG), canary=True), account_id="111122223333")
    (out,) = verifier.verify([flagged])
    assert out.validation == Validation(
        Status.CANARY, account="111122223333", reason="account in the skip list"
    )


def test_session_whose_expiration_passed_is_not_sent() -> None:
    verifier = Verifier(VerifyOptions(endpoint="http://127.0.0.1:9"))  # nothing listens there
    key_id, secret = new_key("ASIA")
    old = replace(
        finding(key_id, secret, fake_token(RNG)), expires_at="2021-03-04T05:06:07Z", expired=True
    )
    (out,) = verifier.verify([old])
    assert out.validation == Validation(
        Status.EXPIRED, reason="expired at 2021-03-04T05:06:07Z, not sent"
    )


def test_moto_that_cannot_start_is_a_clear_error(tmp_path: Path) -> None:
    from tests.sts import MotoStartError, start_moto

    with pytest.raises(MotoStartError, match="not ready after 0 s"):
        start_moto(tmp_path / "moto.log", wait=0.0)


def test_cli_verify_never_sends_a_config_canary_account(
    tmp_path: Path, silent_port: int, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`keyscan verify` reads credentials no scan flagged: the config's canary accounts still hold.
    The endpoint never answers, so a request would end as error: timeout, not canary."""
    rng = random.Random(77)
    key = fake_key_id("AKIA", account=111122223333, rng=rng)
    (tmp_path / ".keyscan.toml").write_text('canary_accounts = ["111122223333"]\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", fake_secret(rng))
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    code = main(["verify", "--format", "json", "--sts-endpoint", f"http://127.0.0.1:{silent_port}"])
    [finding] = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1 and finding["validation"]["status"] == "canary"
