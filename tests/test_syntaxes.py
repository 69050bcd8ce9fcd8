"""Every syntax a credential is commonly written in is found, paired and classified."""

from __future__ import annotations

import json
import random

import pytest

from keyscan.engine import Engine
from keyscan.model import FindingKind, KeyClass
from tests.fakes import fake_account, fake_key_id, fake_secret, fake_token

RNG = random.Random(7)
KEY = fake_key_id("AKIA", account=fake_account(RNG), rng=RNG)
SECRET = fake_secret(RNG)

SYNTAXES = {
    "dotenv": f"AWS_ACCESS_KEY_ID={KEY}\nAWS_SECRET_ACCESS_KEY={SECRET}\n",
    "shell-export": f'export AWS_ACCESS_KEY_ID="{KEY}"\nexport AWS_SECRET_ACCESS_KEY="{SECRET}"\n',
    "aws-credentials-ini": f"[default]\naws_access_key_id = {KEY}\naws_secret_access_key = {SECRET}\nregion = us-east-1\n",
    "json": json.dumps({"aws_access_key_id": KEY, "aws_secret_access_key": SECRET}, indent=2),
    "yaml": f"aws:\n  access_key_id: {KEY}\n  secret_access_key: {SECRET}\n",
    "toml": f'[aws]\naccess_key = "{KEY}"\nsecret_key = "{SECRET}"\n',
    "xml": f"<Credentials>\n  <AccessKeyId>{KEY}</AccessKeyId>\n  <SecretAccessKey>{SECRET}</SecretAccessKey>\n</Credentials>\n",
    "python": f"s3 = boto3.client(\n    's3',\n    aws_access_key_id='{KEY}',\n    aws_secret_access_key='{SECRET}',\n)\n",
    "javascript": f"const s3 = new S3({{\n  accessKeyId: '{KEY}',\n  secretAccessKey: '{SECRET}',\n}});\n",
    "typescript": f'const creds: Credentials = {{ accessKeyId: "{KEY}", secretAccessKey: "{SECRET}" }};\n',
    "java": f'BasicAWSCredentials creds = new BasicAWSCredentials("{KEY}", "{SECRET}");\n',
    "java-fields": f'private static final String ACCESS_KEY = "{KEY}";\nprivate static final String SECRET_KEY = "{SECRET}";\n',
    "go": f'creds := credentials.NewStaticCredentials("{KEY}", "{SECRET}", "")\n',
    "go-struct": f'aws.Credentials{{\n\tAccessKeyID:     "{KEY}",\n\tSecretAccessKey: "{SECRET}",\n}}\n',
    "csharp": f'var creds = new BasicAWSCredentials("{KEY}", "{SECRET}");\n',
    "csharp-props": f'AwsAccessKeyId = "{KEY}";\nAwsSecretKey = "{SECRET}";\n',
    "terraform": f'provider "aws" {{\n  access_key = "{KEY}"\n  secret_key = "{SECRET}"\n}}\n',
    "java-properties": f"aws.accessKeyId={KEY}\naws.secretKey={SECRET}\n",
    "spring-properties": f"cloud.aws.credentials.access-key={KEY}\ncloud.aws.credentials.secret-key={SECRET}\n",
    "dockerfile": f"FROM python:3.11\nENV AWS_ACCESS_KEY_ID {KEY}\nENV AWS_SECRET_ACCESS_KEY={SECRET}\n",
    "iam-credentials-csv": f"User name,Password,Access key ID,Secret access key,Console login link\nalice,,{KEY},{SECRET},https://console.aws.amazon.com/\n",
    "iam-access-keys-csv": f"Access key ID,Secret access key\n{KEY},{SECRET}\n",
    "jupyter": json.dumps({"cells": [{"cell_type": "code", "source": [
        "import boto3\n", f'key = "{KEY}"\n', f'aws_secret_access_key = "{SECRET}"\n']}]}, indent=1),
    "aws-configure": f"aws configure set aws_access_key_id {KEY}\naws configure set aws_secret_access_key {SECRET}\n",
    "url-userinfo-like": f"s3://{KEY}:{SECRET}@bucket/path\n",
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


@pytest.mark.parametrize("name", sorted(SYNTAXES))
def test_credential_found_in_every_syntax(engine: Engine, name: str) -> None:
    findings = engine.scan_bytes(SYNTAXES[name].encode(), path=f"file.{name}")
    assert [(f.kind, f.key_id, f.secret) for f in findings] == [(FindingKind.CREDENTIAL, KEY, SECRET)]
    assert findings[0].key_class is KeyClass.LONG_TERM


def test_sts_assume_role_output_pairs_key_secret_token_and_expiration(engine: Engine) -> None:
    rng = random.Random(3)
    key, secret, token = fake_key_id("ASIA", account=fake_account(rng), rng=rng), fake_secret(rng), fake_token(rng, 1400)
    doc = {
        "Credentials": {"AccessKeyId": key, "SecretAccessKey": secret, "SessionToken": token,
                        "Expiration": "2020-01-02T03:04:05+00:00"},
        "AssumedRoleUser": {"AssumedRoleId": "AROAYGTTU3F42ZF2OGVX:session", "Arn": "arn:aws:sts::1:assumed-role/r/s"},
    }
    [f] = engine.scan_bytes(json.dumps(doc, indent=4).encode(), path="out.json")
    assert (f.kind, f.key_id, f.secret, f.token) == (FindingKind.CREDENTIAL, key, secret, token)
    assert f.key_class is KeyClass.SHORT_TERM
    assert f.expires_at == "2020-01-02T03:04:05Z" and f.expired is True


def test_future_expiration_is_not_expired(engine: Engine) -> None:
    rng = random.Random(4)
    key, secret = fake_key_id("ASIA", rng=rng), fake_secret(rng)
    text = f'AccessKeyId: {key}\nSecretAccessKey: {secret}\nExpiration: "2099-01-01T00:00:00Z"\n'
    [f] = engine.scan_bytes(text.encode(), path="x.yaml")
    assert f.expired is False and f.expires_at == "2099-01-01T00:00:00Z"


def test_short_term_without_token_is_noted(engine: Engine) -> None:
    key = fake_key_id("ASIA", rng=random.Random(5))
    [f] = engine.scan_bytes(f"AWS_ACCESS_KEY_ID={key}\n".encode(), path=".env")
    assert f.kind is FindingKind.KEY_ID and f.key_class is KeyClass.SHORT_TERM and f.token is None


@pytest.mark.parametrize("label", ["aws_session_token", "AWS_SESSION_TOKEN", "SessionToken", "aws_security_token", "X-Amz-Security-Token"])
def test_session_token_labels(engine: Engine, label: str) -> None:
    token = fake_token(random.Random(label), 1200, prefix="FwoGZXIvYXdzE")
    [f] = engine.scan_bytes(f"{label}={token}\n".encode(), path="t")
    assert f.kind is FindingKind.SESSION_TOKEN and f.token == token


def test_unlabelled_token_by_prefix_of_any_length(engine: Engine) -> None:
    token = fake_token(random.Random(9), 3000)
    [f] = engine.scan_bytes(f"token: {token}\n".encode(), path="t")
    assert f.token == token


def test_several_profiles_pair_each_key_with_its_own_secret(engine: Engine) -> None:
    rng = random.Random(11)
    pairs = [(fake_key_id("AKIA", rng=rng), fake_secret(rng)) for _ in range(3)]
    text = "".join(f"[p{i}]\naws_access_key_id = {k}\naws_secret_access_key = {s}\n\n" for i, (k, s) in enumerate(pairs))
    findings = engine.scan_bytes(text.encode(), path="credentials")
    assert [(f.key_id, f.secret) for f in findings] == pairs


def test_lone_key_and_lone_labelled_secret_are_reported_as_their_own_kinds(engine: Engine) -> None:
    rng = random.Random(12)
    key, secret = fake_key_id("AKIA", rng=rng), fake_secret(rng)
    [lone_key] = engine.scan_bytes(f"key = {key}\n".encode(), path="a")
    [lone_secret] = engine.scan_bytes(("\n" * 30 + f"aws_secret_access_key = {secret}\n").encode(), path="b")
    assert (lone_key.kind, lone_key.line, lone_secret.kind, lone_secret.line) == (
        FindingKind.KEY_ID, 1, FindingKind.SECRET, 31)


def test_unlabelled_40_chars_without_key_is_not_a_secret(engine: Engine) -> None:
    assert engine.scan_bytes(f"value = {fake_secret(random.Random(13))}\n".encode(), path="x") == []


def test_account_is_decoded_and_canary_flagged(engine: Engine) -> None:
    rng = random.Random(14)
    key = fake_key_id("AKIA", account=992382622183, rng=rng)
    [f] = engine.scan_bytes(f"id={key}\n".encode(), path="x")
    assert f.account_id == "992382622183" and f.canary is True
    old = fake_key_id("AKIA", rng=rng)
    [g] = engine.scan_bytes(f"id={old}\n".encode(), path="x")
    assert g.account_id is None and g.canary is False


DECOYS = {
    "aws-doc-example-key": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "aws-doc-example-pair": "AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "placeholder-x": "aws_access_key_id = AKIAXXXXXXXXXXXXXXXX",
    "placeholder-repeat": "aws_access_key_id = AKIAAAAAAAAAAAAAAAAA",
    "placeholder-pattern": "aws_access_key_id = AKIAABCDABCDABCDABCD",
}


@pytest.mark.parametrize("name", sorted(DECOYS))
def test_examples_and_placeholders_hidden_unless_asked(engine: Engine, name: str) -> None:
    data = DECOYS[name].encode()
    assert engine.scan_bytes(data, path="x") == []
    from keyscan.engine import DetectOptions

    shown = Engine.load(DetectOptions(include_examples=True)).scan_bytes(data, path="x")
    assert shown and all(f.decoy is not None for f in shown)


NOT_SECRETS = {
    "git-sha": "AKIA{key}\ncommit da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "sha1-checksum": "aws_secret_access_key = 2fd4e1c67a2d28fced849ee1bb76e7391b93eb12",
    "sri-integrity": '"integrity": "sha512-{b64}"',
    "lockfile-hash": "hash = sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "env-placeholder": "aws_secret_access_key = ${{AWS_SECRET_ACCESS_KEY}}",
    "angle-placeholder": "aws_secret_access_key = <your-secret-key>",
    "stars": "aws_secret_access_key = ***",
    "identifier": '"UserId": "AIDAJQABLZS4A3QDU576Q", "RoleId": "AROAYGTTU3F42ZF2OGVX"',
}


@pytest.mark.parametrize("name", sorted(NOT_SECRETS))
def test_not_secrets(engine: Engine, name: str) -> None:
    rng = random.Random(name)
    text = NOT_SECRETS[name].format(key=fake_key_id("", rng=rng), b64=fake_secret(rng) * 2 + "ab==")
    findings = [f for f in engine.scan_bytes(text.encode(), path="x") if f.secret is not None or f.kind is FindingKind.IDENTIFIER]
    assert findings == []


def test_identifiers_only_with_flag() -> None:
    from keyscan.engine import DetectOptions

    text = b'"UserId": "AIDAJQABLZS4A3QDU576Q"'
    assert Engine.load().scan_bytes(text, path="x") == []
    [f] = Engine.load(DetectOptions(include_identifiers=True)).scan_bytes(text, path="x")
    assert f.kind is FindingKind.IDENTIFIER and f.key_id == "AIDAJQABLZS4A3QDU576Q"


@pytest.mark.parametrize("text", ["X{key}", "{key}X", "{key}7", "x{key}"])
def test_key_inside_longer_token_is_not_a_key(engine: Engine, text: str) -> None:
    key = fake_key_id("AKIA", rng=random.Random(text))
    assert engine.scan_bytes(text.format(key=key).encode(), path="x") == []


def test_minified_single_line_of_megabytes(engine: Engine) -> None:
    rng = random.Random(15)
    key, secret = fake_key_id("AKIA", rng=rng), fake_secret(rng)
    filler = "var a=function(b){return b+1};" * 100_000
    text = filler + f'{{accessKeyId:"{key}",secretAccessKey:"{secret}"}}' + filler
    [f] = engine.scan_bytes(text.encode(), path="app.min.js")
    assert (f.kind, f.line, f.column) == (FindingKind.CREDENTIAL, 1, len(filler) + 15)


def test_environment_dump_pairs_the_one_key_with_the_one_secret_far_apart(engine: Engine) -> None:
    rng = random.Random(16)
    key, secret, token = fake_key_id("ASIA", rng=rng), fake_secret(rng), fake_token(rng, 500)
    filler = "".join(f"# environment\nVAR_{i} = value {i}\n" for i in range(50))
    text = f"AWS_SECRET_ACCESS_KEY = {secret}\n{filler}AWS_ACCESS_KEY_ID = {key}\n{filler}AWS_SESSION_TOKEN = {token}\n"
    [f] = engine.scan_bytes(text.encode(), path="make-db.txt")
    assert (f.kind, f.key_id, f.secret, f.token) == (FindingKind.CREDENTIAL, key, secret, token)


def test_far_apart_parts_do_not_pair_when_it_is_ambiguous(engine: Engine) -> None:
    rng = random.Random(17)
    keys = [fake_key_id("AKIA", rng=rng) for _ in range(2)]
    text = f"a = {keys[0]}\nb = {keys[1]}\n" + "\n" * 40 + f"aws_secret_access_key = {fake_secret(rng)}\n"
    assert sorted(f.kind.value for f in engine.scan_bytes(text.encode(), path="x")) == ["key_id", "key_id", "secret"]
