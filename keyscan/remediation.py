"""What to do about a finding, given what validation proved. Plain lines for every reporter.

Only the key ID (safe to show) and names from the ARN appear here, never the secret.
"""

from __future__ import annotations

from keyscan.model import Finding, Status, Validation

CLOUDTRAIL = (
    "Check CloudTrail for what it did (every region; 90 days of management events): "
    "aws cloudtrail lookup-events --lookup-attributes "
    "AttributeKey=AccessKeyId,AttributeValue={key_id}"
)
NO_AWS_ACTION = (
    "AWS needs no action ({status}), but the secret is still in the files or the git history: "
    "remove it, and rewrite the history if the repository is shared."
)
# The inline policy the IAM console's "Revoke active sessions" attaches (aws:TokenIssueTime).
# The date is filled in by the shell when the command runs, so the text itself stays stable.
_REVOKE_POLICY = (
    '"{{\\"Version\\":\\"2012-10-17\\",\\"Statement\\":[{{\\"Effect\\":\\"Deny\\",'
    '\\"Action\\":\\"*\\",\\"Resource\\":\\"*\\",\\"Condition\\":{{\\"DateLessThan\\":'
    '{{\\"aws:TokenIssueTime\\":\\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\\"}}}}}}]}}"'
)


def remediation_for(finding: Finding) -> list[str]:
    """Lines of advice for a validated finding; [] when it was not validated."""
    validation = finding.validation
    if validation is None:
        return []
    key_id = finding.key_id or "?"
    if validation.status is Status.VALID:
        if key_id.startswith("ASIA"):
            return _short_term(key_id, validation)
        return _long_term(key_id, validation)
    if validation.status in (Status.INVALID, Status.EXPIRED):
        return [NO_AWS_ACTION.format(status=validation.status.value)]
    if validation.status is Status.CANARY:
        return [
            f"Canary token of account {validation.account or '?'}: not sent to AWS, since any "
            "use alerts its owner. Remove it from the code; do not try it."
        ]
    reason = f" ({validation.reason})" if validation.reason else ""
    return [f"Not verified{reason}: treat it as live until shown otherwise, and rotate it."]


def _long_term(key_id: str, validation: Validation) -> list[str]:
    kind, name = _principal(validation.arn)
    if kind == "root":
        return [
            f"LIVE root access key of account {validation.account}: sign in as the root user, "
            "then Security credentials > Access keys: deactivate and delete it.",
            f"Or, with root credentials: aws iam update-access-key --access-key-id {key_id} "
            f"--status Inactive, then aws iam delete-access-key --access-key-id {key_id}",
            CLOUDTRAIL.format(key_id=key_id),
        ]
    user = name if kind == "user" else "<IAM user>"
    return [
        f"LIVE long-term key of IAM user {user} in account {validation.account}. "
        "Deactivate it now, then delete it once nothing legitimate depends on it:",
        f"aws iam update-access-key --user-name {user} --access-key-id {key_id} --status Inactive",
        f"aws iam delete-access-key --user-name {user} --access-key-id {key_id}",
        CLOUDTRAIL.format(key_id=key_id),
    ]


def _short_term(key_id: str, validation: Validation) -> list[str]:
    kind, name = _principal(validation.arn)
    lines = [
        f"LIVE temporary credentials ({validation.arn}); they cannot be deleted, only "
        "denied until they expire (at most 36 hours, usually 1 to 12)."
    ]
    if kind == "assumed-role":
        lines += [
            f"Revoke the active sessions of role {name}: IAM console > Roles > {name} > "
            "Revoke active sessions, or:",
            f"aws iam put-role-policy --role-name {name} --policy-name AWSRevokeOlderSessions "
            f"--policy-document {_REVOKE_POLICY.format()}",
        ]
    elif kind == "user":
        lines += [
            f"Session of IAM user {name}: deny its older sessions, and rotate the user's "
            "long-term keys (the session came from one):",
            f"aws iam put-user-policy --user-name {name} --policy-name AWSRevokeOlderSessions "
            f"--policy-document {_REVOKE_POLICY.format()}",
        ]
    else:
        lines.append(
            "Find who issued them (the ARN above) and attach a deny on aws:TokenIssueTime to "
            "that principal, or remove the permissions they carry."
        )
    lines.append(CLOUDTRAIL.format(key_id=key_id))
    return lines


def _principal(arn: str | None) -> tuple[str, str]:
    """("user", name) / ("assumed-role", role) / ("root", "") / ("federated-user", name) ..."""
    if not arn or arn.count(":") < 5:
        return ("", "")
    resource = arn.split(":", 5)[5]
    if resource == "root":
        return ("root", "")
    kind, _, rest = resource.partition("/")
    if kind == "user":
        return ("user", rest.rsplit("/", 1)[-1])  # the name follows an optional path
    if kind == "assumed-role":
        return ("assumed-role", rest.split("/", 1)[0])
    return (kind, rest)
