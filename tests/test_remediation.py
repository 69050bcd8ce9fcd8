"""keyscan.remediation: advice that follows from what validation proved."""

from __future__ import annotations

import json
import random
import shlex
import shutil
import subprocess
from dataclasses import replace

import pytest

from keyscan.model import Finding, FindingKind, KeyClass, Status, Validation
from keyscan.remediation import remediation_for
from tests.fakes import fake_key_id, fake_secret, fake_token

RNG = random.Random(7)
ACCOUNT = "111122223333"


def validated(prefix: str, validation: Validation | None) -> Finding:
    short = prefix == "ASIA"
    return Finding(
        kind=FindingKind.CREDENTIAL,
        rule_id="aws-credential",
        rules=("aws-credential",),
        key_id=fake_key_id(prefix, account=int(ACCOUNT), rng=RNG),
        secret=fake_secret(RNG),
        token=fake_token(RNG) if short else None,
        key_class=KeyClass.SHORT_TERM if short else KeyClass.LONG_TERM,
        account_id=ACCOUNT,
        canary=False,
        expires_at=None,
        expired=None,
        decoy=None,
        path="deploy/.env",
        line=3,
        column=1,
        end_line=3,
        validation=validation,
    )


def valid(arn: str) -> Validation:
    return Validation(Status.VALID, account=ACCOUNT, arn=arn, user_id="AIDAEXAMPLE")


def test_nothing_without_validation() -> None:
    assert remediation_for(validated("AKIA", None)) == []


def test_valid_long_term_key_commands() -> None:
    found = validated("AKIA", valid(f"arn:aws:iam::{ACCOUNT}:user/ops/deploy-bot"))
    key = found.key_id
    lines = remediation_for(found)
    assert "IAM user deploy-bot" in lines[0]
    assert (
        f"aws iam update-access-key --user-name deploy-bot --access-key-id {key} --status Inactive"
        in lines
    )
    assert f"aws iam delete-access-key --user-name deploy-bot --access-key-id {key}" in lines
    assert any("CloudTrail" in line and f"AttributeValue={key}" in line for line in lines)


def test_valid_root_key() -> None:
    lines = remediation_for(validated("AKIA", valid(f"arn:aws:iam::{ACCOUNT}:root")))
    assert "root access key" in lines[0]
    assert not any("--user-name" in line for line in lines)


def test_valid_assumed_role_revokes_sessions() -> None:
    found = validated("ASIA", valid(f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-run-7"))
    lines = remediation_for(found)
    text = "\n".join(lines)
    assert "Revoke active sessions" in text and "role deployer" in text
    command = next(line for line in lines if line.startswith("aws iam put-role-policy"))
    assert "--role-name deployer --policy-name AWSRevokeOlderSessions" in command
    assert "delete-access-key" not in text  # temporary credentials cannot be deleted


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash to expand the command")
def test_revoke_policy_is_valid_json_once_the_shell_expands_it() -> None:
    found = validated("ASIA", valid(f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/s"))
    command = next(line for line in remediation_for(found) if "put-role-policy" in line)
    document = command.split("--policy-document ", 1)[1]
    out = subprocess.run(
        ["bash", "-c", f"printf %s {document}"], capture_output=True, text=True, check=True
    )
    policy = json.loads(out.stdout)
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"].endswith("Z")
    assert shlex.split(command)[0:3] == ["aws", "iam", "put-role-policy"]


def test_session_of_an_iam_user() -> None:
    found = validated("ASIA", valid(f"arn:aws:iam::{ACCOUNT}:user/alice"))
    text = "\n".join(remediation_for(found))
    assert "aws iam put-user-policy --user-name alice" in text
    assert "rotate the user's long-term keys" in text


@pytest.mark.parametrize("status", [Status.INVALID, Status.EXPIRED])
def test_dead_credentials_still_need_the_history_cleaned(status: Status) -> None:
    (line,) = remediation_for(validated("AKIA", Validation(status, reason="x")))
    assert "AWS needs no action" in line and "history" in line


def test_canary_and_errors() -> None:
    canary = remediation_for(validated("AKIA", Validation(Status.CANARY, account="992382622183")))
    assert "992382622183" in canary[0] and "not sent" in canary[0]
    error = remediation_for(validated("AKIA", Validation(Status.ERROR, reason="timeout")))
    assert "(timeout)" in error[0] and "treat it as live" in error[0]


def test_no_secret_in_any_advice() -> None:
    for arn in (f"arn:aws:iam::{ACCOUNT}:user/a", f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"):
        for prefix in ("AKIA", "ASIA"):
            found = validated(prefix, valid(arn))
            text = "\n".join(remediation_for(replace(found)))
            assert found.secret is not None and found.secret not in text
            assert found.token is None or found.token not in text
