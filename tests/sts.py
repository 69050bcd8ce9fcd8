"""Loopback STS servers for the validation tests (see shared sts-testing notes).

- ``moto_sts``: a real moto server subprocess on a free 127.0.0.1 port, seeded with IAM users,
  a deleted key and AssumeRole credentials, then with authentication switched on. Every request
  it answers is one line in its log file, which the tests count.
- ``fake_sts``: a tiny HTTP server of our own that answers with scripted STS documents (the
  codes moto cannot produce: ExpiredToken, throttling, 5xx, HTML bodies ...), per key ID.
- ``silent_port``: a port that accepts connections and never answers.

Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from keyscan.model import Decoy, Finding, FindingKind, KeyClass
from keyscan.validate import VerifyOptions

MOTO_ACCOUNT = "210987654321"  # not moto's default, so a right answer is not an accident
_LISTENING = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")
# werkzeug colours the request of a 4xx answer with ANSI codes when it can: match inside them.
_STS_REQUEST = re.compile(r'"(?:\x1b\[[0-9;]*m)*POST / HTTP/1\.[01](?:\x1b\[[0-9;]*m)*"')
_NO_PROXY = {"http": "", "https": ""}


class MotoStartError(RuntimeError):
    pass


@dataclass(frozen=True)
class Credential:
    key_id: str
    secret: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    arn: str = ""


@dataclass
class MotoServer:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def mark(self) -> int:
        """A position in the log; ``requests_since(mark)`` counts what came after it."""
        return self.log_path.stat().st_size

    def requests_since(self, mark: int, *, settle: float = 0.3, timeout: float = 10.0) -> int:
        """STS requests logged after ``mark``. werkzeug writes the log line around the time it
        answers, so a client can see the answer first: on a busy machine the line lands later.
        Count until the number has not changed for ``settle`` seconds."""
        deadline = time.monotonic() + timeout
        last, stable_since = -1, time.monotonic()
        while True:
            with self.log_path.open("rb") as log:
                log.seek(mark)
                count = len(_STS_REQUEST.findall(log.read().decode(errors="replace")))
            now = time.monotonic()
            if count != last:
                last, stable_since = count, now
            elif now - stable_since >= settle or now >= deadline:
                return count
            time.sleep(0.02)

    def set_auth(self, on: bool) -> None:
        body = b"0" if on else b"inf"
        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=body,
            headers={"Content-Type": "text/plain"},
            method="POST",
        )
        with _opener().open(request, timeout=10) as response:
            assert response.status == 200

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def start_moto(log_path: Path, *, account: str = MOTO_ACCOUNT, wait: float = 30.0) -> MotoServer:
    """Start ``python -m moto.server`` on a free loopback port; raise MotoStartError if it won't."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(MOTO_ACCOUNT_ID=account, PYTHONUNBUFFERED="1", NO_PROXY="127.0.0.1,localhost")
    log = log_path.open("wb")
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    log.close()
    deadline = time.monotonic() + wait
    port = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise MotoStartError(f"moto server exited ({process.returncode}): {_tail(log_path)}")
        port = port or _port_in(log_path)
        if port and _answers(port):
            return MotoServer(process, port, log_path)
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise MotoStartError(f"moto server not ready after {wait:.0f} s: {_tail(log_path)}")


def _port_in(log_path: Path) -> int | None:
    match = _LISTENING.search(log_path.read_bytes())
    return int(match.group(1)) if match else None


def _answers(port: int) -> bool:
    try:
        with _opener().open(f"http://127.0.0.1:{port}/moto-api/", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _tail(log_path: Path) -> str:
    return log_path.read_bytes()[-800:].decode(errors="replace").strip() or "(no output)"


def finding(
    key_id: str | None,
    secret: str | None = None,
    token: str | None = None,
    *,
    kind: FindingKind = FindingKind.CREDENTIAL,
    path: str = "app/settings.py",
    decoy: Decoy | None = None,
    canary: bool = False,
) -> Finding:
    """A finding as the scanner would report it (one place, no validation yet)."""
    short = bool(key_id and key_id.startswith("ASIA"))
    return Finding(
        kind=kind,
        rule_id="aws-credential",
        rules=("aws-credential",),
        key_id=key_id,
        secret=secret,
        token=token,
        key_class=KeyClass.SHORT_TERM if short else KeyClass.LONG_TERM,
        account_id=None,
        canary=canary,
        expires_at=None,
        expired=None,
        decoy=decoy,
        path=path,
        line=1,
        column=1,
        end_line=1,
    )


def on(endpoint: str, **overrides: object) -> VerifyOptions:
    """Options for a loopback endpoint with fast retries."""
    settings: dict[str, object] = {
        "endpoint": endpoint,
        "timeout": 3.0,
        "backoff_base": 0.01,
        "backoff_cap": 0.05,
        "signature_retry_delay": 0.05,
        "same_key_gap": 0.0,
    }
    settings.update(overrides)
    return VerifyOptions(**settings)  # type: ignore[arg-type]


# --- seeding (authentication off) ---------------------------------------------------------


def _client(server: MotoServer, service: str, **credentials: str) -> Any:
    import botocore.session
    from botocore.config import Config

    session = botocore.session.Session()
    return session.create_client(
        service,
        region_name="us-east-1",
        endpoint_url=server.endpoint,
        aws_access_key_id=credentials.get("key_id", "seeding"),
        aws_secret_access_key=credentials.get("secret", "seeding"),
        config=Config(proxies=_NO_PROXY, retries={"total_max_attempts": 1}),
    )


def seed_user(server: MotoServer, name: str) -> Credential:
    iam = _client(server, "iam")
    arn = iam.create_user(UserName=name)["User"]["Arn"]
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return Credential(key["AccessKeyId"], key["SecretAccessKey"], None, arn)


def delete_key(server: MotoServer, user: str, key_id: str) -> None:
    _client(server, "iam").delete_access_key(UserName=user, AccessKeyId=key_id)


def seed_assumed_role(server: MotoServer, via: Credential, role: str) -> Credential:
    # A role of the server's own account: moto 5.2 refuses (InvalidClientTokenId) the
    # credentials of a role in another account once authentication is on.
    role_arn = f"arn:aws:iam::{MOTO_ACCOUNT}:role/{role}"
    sts = _client(server, "sts", key_id=via.key_id, secret=via.secret)
    answer = sts.assume_role(RoleArn=role_arn, RoleSessionName="leaked-session")
    creds = answer["Credentials"]
    arn = answer["AssumedRoleUser"]["Arn"]
    return Credential(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], arn)


@dataclass
class MotoSTS:
    server: MotoServer
    alice: Credential  # active IAM user key
    deleted: Credential  # key deleted after it was issued
    assumed: Credential  # AssumeRole credentials (ASIA + token)
    spare: list[Credential]  # more active keys (cache, concurrency, CLI tests)

    @property
    def endpoint(self) -> str:
        return self.server.endpoint


def seeded(server: MotoServer, spares: int = 8) -> MotoSTS:
    server.set_auth(False)
    try:
        alice = seed_user(server, "alice")
        bob = seed_user(server, "bob")
        delete_key(server, "bob", bob.key_id)
        assumed = seed_assumed_role(server, alice, "deployer")
        spare = [seed_user(server, f"spare-{n}") for n in range(spares)]
    finally:
        server.set_auth(True)
    return MotoSTS(server, alice, bob, assumed, spare)


@pytest.fixture(scope="session")
def moto_sts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoSTS]:
    log_path = tmp_path_factory.mktemp("moto") / "moto.log"
    try:
        server = start_moto(log_path)
    except MotoStartError as error:
        pytest.fail(f"cannot start the local moto STS server: {error}", pytrace=False)
    try:
        yield seeded(server)
    finally:
        server.stop()


# --- our own scripted STS -----------------------------------------------------------------

_NS = "https://sts.amazonaws.com/doc/2011-06-15/"
_KEY_ID = re.compile(r"Credential=([A-Z0-9]+)/")


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "text/xml"


def sts_error(code: str, message: str = "", status: int = 400, kind: str = "Sender") -> Reply:
    body = (
        f'<ErrorResponse xmlns="{_NS}"><Error><Type>{kind}</Type><Code>{code}</Code>'
        f"<Message>{message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>"
    )
    return Reply(status, body.encode())


def identity(account: str, arn: str, user_id: str = "AIDAEXAMPLEUSERID") -> Reply:
    body = (
        f'<GetCallerIdentityResponse xmlns="{_NS}"><GetCallerIdentityResult>'
        f"<Arn>{arn}</Arn><UserId>{user_id}</UserId><Account>{account}</Account>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId>"
        "</ResponseMetadata></GetCallerIdentityResponse>"
    )
    return Reply(200, body.encode())


def html(status: int) -> Reply:
    body = b"<html><head><title>Bad Gateway</title></head><body>proxy error</body></html>"
    return Reply(status, body, "text/html")


@dataclass
class FakeSTS:
    """Answers each key ID with its script, one reply per request; the last reply repeats."""

    port: int = 0
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    headers: dict[str, list[dict[str, str]]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, key_id: str, *replies: Reply) -> None:
        with self.lock:
            self.scripts[key_id] = list(replies)
            self.calls[key_id] = 0

    def answer(self, key_id: str, method: str, headers: dict[str, str]) -> Reply:
        with self.lock:
            self.calls[key_id] += 1
            self.headers[key_id].append({"method": method, **headers})
            replies = self.scripts.get(key_id) or [sts_error("InvalidClientTokenId", status=403)]
            return replies.pop(0) if len(replies) > 1 else replies[0]


def _handler(fake: FakeSTS) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._reply()

        def do_GET(self) -> None:  # noqa: N802
            self._reply()

        def _reply(self) -> None:
            match = _KEY_ID.search(self.headers.get("Authorization", ""))
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = fake.answer(match.group(1) if match else "", self.command, headers)
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    return Handler


@pytest.fixture(scope="session")
def fake_sts() -> Iterator[FakeSTS]:
    fake = FakeSTS()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="fake-sts", daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def silent_port() -> Iterator[int]:
    """A loopback port whose kernel accepts connections; nobody ever reads or answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()
