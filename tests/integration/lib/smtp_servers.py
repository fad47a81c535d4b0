"""Real SMTP peers for the email adapter's tests, on loopback ports.

- CaptureRelay: the relay (smarthost) trestle sends to. An aiosmtpd server
  (python3-aiosmtpd) in this process that speaks STARTTLS with a throw-away
  certificate, requires AUTH after STARTTLS, records every message it
  accepts, and refuses scripted recipients with the codes a test chooses.
- swaks (a real SMTP client, Debian's swaks) and raw sockets for the inbound
  side: see swaks() and SmtpDialogue.

Every wait has a deadline.
"""

from __future__ import annotations

import email
import email.policy
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from servers import LIVE, ManagedServer, free_port, spawn

STEP = 10.0


def make_certificate(directory: Path, name: str = "localhost") -> tuple[Path, Path]:
    """A self-signed certificate and key for `name` (and 127.0.0.1), as PEM files."""
    cert = directory / "relay-cert.pem"
    key = directory / "relay-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


@dataclass
class Captured:
    """One message the relay accepted."""

    mail_from: str
    recipients: list[str]
    data: bytes

    def message(self) -> email.message.EmailMessage:
        """The parsed message (headers decoded by Python's email package)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)

    def raw_header_lines(self) -> list[str]:
        """The header lines as sent (unfolded only by splitting at CR LF)."""
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
        return head.split("\r\n")


@dataclass
class RelayScript:
    """Scripted refusals: recipient -> (code, text), and how many times."""

    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    # How often a temporary refusal repeats before the recipient is accepted.
    temporary_times: dict[str, int] = field(default_factory=dict)


class _Handler:
    def __init__(self, relay: "CaptureRelay") -> None:
        self.relay = relay

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        with self.relay.lock:
            self.relay.rcpt_seen.append(address)
            refusal = self.relay.script.refuse.get(address)
            if refusal is not None:
                left = self.relay.script.temporary_times.get(address)
                if left is None or left > 0:
                    if left is not None:
                        self.relay.script.temporary_times[address] = left - 1
                    return f"{refusal[0]} {refusal[1]}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        with self.relay.lock:
            self.relay.messages.append(
                Captured(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content
                                                                            or envelope.content)))
            self.relay.tls_used.append(session.ssl is not None)
        return "250 2.0.0 Queued"


class CaptureRelay:
    """aiosmtpd on 127.0.0.1 with STARTTLS and AUTH, recording what it accepts."""

    USERNAME = "trestle"
    PASSWORD = "relay-pass word"

    def __init__(self, workdir: Optional[Path] = None) -> None:
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="trestle-it-relay-"))
        self.cert, self.key = make_certificate(self.workdir)
        self.port = 0
        self.lock = threading.Lock()
        self.messages: list[Captured] = []
        self.rcpt_seen: list[str] = []
        self.tls_used: list[bool] = []
        self.script = RelayScript()
        self._controller: Optional[Controller] = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword)
              and auth_data.login == self.USERNAME.encode()
              and auth_data.password == self.PASSWORD.encode())
        return AuthResult(success=ok)

    def start(self) -> "CaptureRelay":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(str(self.cert), str(self.key))
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port,
            tls_context=context, require_starttls=True, auth_required=True,
            auth_require_tls=True, authenticator=self._authenticate,
            decode_data=False, ready_timeout=STEP)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_messages(self, count: int, timeout: float = STEP) -> list[Captured]:
        """Waits until at least `count` messages arrived; returns them all."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self.lock:
            raise AssertionError(f"relay got {len(self.messages)} messages, expected {count}")

    def relay_settings(self, **overrides) -> dict:
        """The `relay` section for trestle: STARTTLS, this certificate trusted, AUTH."""
        settings = {
            "host": "127.0.0.1", "port": self.port, "security": "starttls",
            "ca_file": str(self.cert), "username": self.USERNAME, "password": self.PASSWORD,
            "connect_timeout_seconds": 5, "reply_timeout_seconds": 10,
        }
        settings.update(overrides)
        return settings


def swaks(port: int, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess:
    """Runs swaks against 127.0.0.1:port; the transcript is in stdout."""
    return subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(port),
                           "--helo", "client.example", *args],
                          capture_output=True, text=True, timeout=timeout)


class SmtpDialogue:
    """A raw SMTP client for what no well-behaved client sends."""

    def __init__(self, port: int, timeout: float = STEP) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def reply(self) -> str:
        """Reads one whole (possibly multi-line) reply."""
        lines = []
        while True:
            while b"\r\n" not in self.buffer:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise ConnectionError("closed; read so far: " + repr(self.buffer))
                self.buffer += chunk
            line, self.buffer = self.buffer.split(b"\r\n", 1)
            text = line.decode("ascii", "replace")
            lines.append(text)
            if len(text) < 4 or text[3] != "-":
                return "\n".join(lines)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def command(self, line: str) -> str:
        self.send(line.encode() + b"\r\n")
        return self.reply()

    def closed(self, timeout: float = STEP) -> bool:
        """True when the server closes the connection within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            while True:
                if not self.sock.recv(4096):
                    return True
        except (socket.timeout, TimeoutError):
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.sock.close()


# Debian's master.cf with the smtpd on our own port, and no chroot (the
# private instance's queue lives outside /var/spool/postfix).
def _master_cf(port: int) -> str:
    lines = []
    for line in Path("/etc/postfix/master.cf").read_text().splitlines():
        fields = line.split()
        if len(fields) >= 8 and not line.startswith(("#", " ", "\t")):
            if fields[0] == "smtp" and fields[1] == "inet":
                fields[0] = f"127.0.0.1:{port}"
            fields[4] = "n"
            line = " ".join(fields)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _kill_group(leader: Optional[int]) -> None:
    """SIGKILLs the process group that `leader` heads (a daemon after setsid())."""
    if leader is None or leader <= 1:
        return
    try:
        os.killpg(leader, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


class PostfixServer(ManagedServer):
    """A private Postfix instance (Debian's postfix) on a loopback port that
    relays `domain` to trestle's listener, as deploy/postfix/ describes:
    `relay_domains` plus a `transport_maps` entry, with recipients verified
    at RCPT time (reject_unverified_recipient) so that unknown addresses are
    refused before Postfix takes the mail. Runs in the foreground
    (`postfix start-fg`), logging to its stdout."""

    kind = "postfix"
    clean_exit_codes = (0, -15)

    def __init__(self, domain: str, trestle_port: int, *, lmtp: bool = False) -> None:
        self.domain = domain
        self.trestle_port = trestle_port
        self.lmtp = lmtp
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="trestle-it-postfix-"))
        # The postfix user must reach the queue and data directories.
        os.chmod(self.workdir, 0o755)
        self.conf = self.workdir / "conf"
        self.log_path = self.workdir / "postfix.log"
        LIVE.add(self)
        self._prepare()

    def _prepare(self) -> None:
        for name in ("conf", "queue", "data"):
            (self.workdir / name).mkdir(exist_ok=True)
        shutil.chown(self.workdir / "data", user="postfix")
        nexthop = (f"lmtp:inet:127.0.0.1:{self.trestle_port}" if self.lmtp
                   else f"smtp:[127.0.0.1]:{self.trestle_port}")
        (self.conf / "transport").write_text(f"{self.domain} {nexthop}\n")
        (self.conf / "trestle_verify").write_text(f"{self.domain} verify_with_trestle\n")
        (self.conf / "main.cf").write_text(f"""compatibility_level = 3.6
queue_directory = {self.workdir}/queue
data_directory = {self.workdir}/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.test.localhost
mydomain = test.localhost
myorigin = test.localhost
mydestination =
alias_maps =
alias_database =
mynetworks = 127.0.0.0/8
smtputf8_enable = no
biff = no
# What deploy/postfix/main.cf.snippet sets:
relay_domains = {self.domain}
transport_maps = texthash:{self.conf}/transport
smtpd_restriction_classes = verify_with_trestle
verify_with_trestle = reject_unverified_recipient
smtpd_recipient_restrictions =
    check_recipient_access texthash:{self.conf}/trestle_verify,
    permit_mynetworks, reject_unauth_destination
unverified_recipient_reject_code = 550
# Retry deferred mail quickly in tests.
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
""")
        (self.conf / "master.cf").write_text(_master_cf(self.port))

    def start(self, timeout: Optional[float] = None) -> "PostfixServer":
        self.proc = spawn(["postfix", "-c", str(self.conf), "start-fg"], log_path=self.log_path)
        self.wait_until_listening(time.monotonic() + (timeout or 30.0))
        return self

    def flush(self) -> None:
        """Asks Postfix to retry deferred mail now."""
        subprocess.run(["postfix", "-c", str(self.conf), "flush"], capture_output=True,
                       timeout=30)

    def stop(self, timeout: float = 30.0) -> int:
        master = self._master_pid()
        if self.proc is not None:
            subprocess.run(["postfix", "-c", str(self.conf), "stop"], capture_output=True,
                           timeout=timeout)
        try:
            return super().stop(timeout)
        finally:
            _kill_group(master)

    def listening_ports(self) -> list[int]:
        return [self.port]

    def kill(self) -> None:
        master = self._master_pid()
        super().kill()
        _kill_group(master)

    def _force_down(self) -> None:
        master = self._master_pid()
        super()._force_down()
        _kill_group(master)

    def _master_pid(self) -> Optional[int]:
        """The master daemon's pid from its pid file, while it runs.

        `postfix start-fg` runs `master -s`, which calls setsid(): the master
        and its services leave the process group that spawn() made, so
        killing that group alone leaves them running in a deleted queue."""
        try:
            return int((self.workdir / "queue" / "pid" / "master.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])
