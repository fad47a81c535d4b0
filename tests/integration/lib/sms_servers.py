"""A throw-away Kannel 1.4.5 owned by one test: bearerbox, smsbox and fakesmsc.

KannelServers writes a kannel.conf into its own temporary directory (logs,
access logs and `dlr-storage = internal` stay there; nothing is written
elsewhere) and runs Debian's binaries directly on free loopback ports:

    bearerbox  admin port (status.xml), smsbox port, and a `smsc = fake`
               connection that listens for fakesmsc
    smsbox     sendsms port (`sendsms_url`), one sendsms-user, and one
               `sms-service` (keyword `default`) that forwards every message
               from a phone (MO) to the webhook with get-url or post-url
    fakesmsc   the phone network: it injects MO lines read from its stdin and
               logs every message Kannel sends to a phone (MT)

What Kannel 1.4.5 does, as measured with this harness (the self-test,
test_kannel_harness.py, checks each point):

- MO escape codes: %p is the phone (sender), %P the number it wrote to, %b
  the whole text URL-encoded (space as '+'; only [A-Za-z0-9] and -_.!~*'()
  stay as they are), %C the charset (UTF-8, UTF-16BE or 8-BIT), %c the
  coding (0 GSM text, 1 8-bit, 2 UCS-2), %I Kannel's message UUID (the same
  on every retry of one MO), %i the smsc-id, %t the UTC time
  (`2026-11-25+01:06:59`), %T Unix seconds. %a/%r/%k split the text into
  words at whitespace *bytes* and lose data in UCS-2 texts: never use them.
- A GSM text arrives as UTF-8 (coding 0). A UCS-2 text arrives as UTF-16BE
  bytes (coding 2) unless the smsbox group says `mo-recode = true`; then it
  arrives as UTF-8 with coding 0, emoji included.
- post-url: the text is the body, `Content-Type: text/plain;
  charset="UTF-8"` (or "UTF-16BE"; application/octet-stream for 8-bit),
  headers X-Kannel-To, X-Kannel-Time, X-Kannel-SMSC, X-Kannel-Coding,
  X-Kannel-Service, and X-Kannel-From only with `send-sender = true`. There
  is no X-Kannel-Charset header.
- `max-messages = 0` in the sms-service: smsbox never answers the phone,
  whatever the webhook says (200 with a body, 503, 404). Without it, the
  body of the answer is texted back, an empty body as "<Empty reply from
  service provider>" (`omit-empty = true` drops only that one), an error as
  "Could not fetch content, sorry.".
- A webhook answer other than 200/202, or no connection, is retried
  `http-request-retry` times (smsbox group, default 0), every
  `http-queue-delay` seconds, with the identical URL; after that the MO is
  dropped. Calls to a dlr-url are retried the same way.
- sendsms answers 202 "0: Accepted for delivery" (or "3: Queued for later
  delivery" while no fakesmsc is connected), 403 "Authorization failed for
  sendsms", 400 "Missing receiver number, rejected", 400 "Sender missing and
  no global set, rejected", 403 "Not routable. Do not try again." for a
  receiver the SMSC refuses. A missing text is sent as an empty SMS.
  `max-messages` of the sendsms-user (default 1) caps the parts of a long
  text, which is silently truncated to that many 153-character (GSM) or
  67-character (UCS-2) parts; `max-messages = 0` makes the request hang.
- DLRs with fakesmsc: `dlr-mask` bit 8 gives type 8 ("ACK/" in %A) when the
  message is handed to fakesmsc, bits 1, 2 or 16 give type 1 (delivered,
  empty %A, %F the fake SMSC's message id) at the same moment; their order
  on the dlr-url varies. One pair per message, however many parts. A
  receiver matching `denied_prefixes` gives type 16 ("NACK/no SMSC") at
  once. Types 2 and 4 never happen. While fakesmsc is disconnected
  (disconnect_phone) messages wait in bearerbox, without any DLR, until
  connect_phone(). In a dlr-url, %p is the phone, %P our number, %I a fresh
  UUID per report (useless for matching: carry your own id in the URL).

fakesmsc itself: an MO is one stdin line `<from> <to> text <utf-8 text>`,
`<from> <to> ucs2 <url-encoded UTF-16BE>` or `<from> <to> data
<url-encoded bytes>`, at most 254 bytes (it reads with fgets into 256
bytes), and it only reads the next line once it sent the previous one
(lines written in a burst stay in its stdio buffer), so inject_mo() waits
for fakesmsc's "sent message N". Each MT is logged on stderr as `Got message
N: <from to text TEXT>`, `<from to ucs-2 URLENC>`, `<from to data URLENC>`
or, for a part of a long message, `<from to udh URLENC-UDH data URLENC>`; a
newline in a GSM text splits the line in two, and the log shows other
control characters as '?'.

Lifecycle as servers.ManagedServer: start() -> [stop() | kill()] ->
restart() -> ... -> cleanup(). Every wait has a deadline.
"""

from __future__ import annotations

import http.server
import re
import secrets
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional, Sequence, Union

# _DIE_WITH_PARENT: fakesmsc needs pipes, which servers.spawn() does not offer.
from servers import (_DIE_WITH_PARENT, LIVE, ManagedServer, ServerError, free_port,
                     kill_process_group, spawn, terminate_process)

BEARERBOX = "/usr/sbin/bearerbox"
SMSBOX = "/usr/sbin/smsbox"
FAKESMSC = "/usr/lib/kannel/test/fakesmsc"
LOOPBACK = "127.0.0.1"
SMSC_ID = "fake"
STEP = 10.0

# What trestle's get-url asks for: query parameter -> Kannel escape code.
DEFAULT_MO_PARAMS: Mapping[str, str] = {
    "from": "%p", "to": "%P", "text": "%b", "charset": "%C", "coding": "%c", "id": "%I",
}
# With post-url the text is the body and X-Kannel-* headers carry the rest;
# the charset exists only inside Content-Type, so it is repeated here.
DEFAULT_POST_MO_PARAMS: Mapping[str, str] = {"charset": "%C", "id": "%I"}

# GSM 03.38: the default alphabet and its extension table.
GSM_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
             "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENSION = "\f^{}\\[~]|€"
# fakesmsc reads stdin with fgets(buf, 256): 255 bytes with the newline.
FAKESMSC_MAX_LINE = 254

Predicate = Callable[[object], bool]


def wait_for(collect: Callable[[], list], what: Union[int, Predicate], timeout: float,
             describe: str, detail: Callable[[], str] = lambda: "") -> list:
    """Polls collect() until it holds `what` items (an int) or an item matching
    `what` (a predicate); returns all items, or the matching ones. Raises
    AssertionError with detail() after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        items = collect()
        if isinstance(what, int):
            if len(items) >= what:
                return items
        else:
            matching = [item for item in items if what(item)]
            if matching:
                return matching
        if time.monotonic() >= deadline:
            raise AssertionError(f"{describe}: not there after {timeout:.1f}s; have "
                                 f"{items!r}\n{detail()}")
        time.sleep(0.05)


def listening_on_loopback(port: int) -> bool:
    """True when a socket listens on 127.0.0.1:port, read from /proc/net/tcp.

    Unlike a test connection this is invisible to the server: bearerbox
    takes any connection to the fake SMSC port for fakesmsc itself.
    """
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        next(table)
        return any(fields[1] == wanted and fields[3] == "0A"
                   for fields in (line.split() for line in table))


def build_mo_url(base: str, params: Optional[Mapping[str, str]]) -> str:
    """The sms-service URL: base (which may hold a token and escape codes of
    its own) plus `name=<escape code>` for each of params; base alone for none."""
    if not params:
        return base
    query = "&".join(f"{urllib.parse.quote(name, safe='')}={code}"
                     for name, code in params.items())
    return base + ("&" if "?" in base else "?") + query


def decode_kannel_text(raw: bytes, charset: str) -> str:
    """A text as Kannel's %C names its encoding: UTF-8, UTF-16BE, or 8-BIT
    (taken as UTF-8 when it is, else Latin-1)."""
    name = charset.strip().strip('"').upper()
    if name in ("UTF-16BE", "UCS-2", "UTF16-BE"):
        return raw.decode("utf-16-be")
    if name in ("ISO-8859-1", "LATIN1"):
        return raw.decode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        if name in ("UTF-8", ""):
            raise
        return raw.decode("latin-1")


def is_gsm_text(text: str) -> bool:
    """True when every character has a GSM 03.38 encoding (default alphabet or extension)."""
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def mo_line(sender: str, receiver: str, text: Union[str, bytes], kind: str = "auto") -> str:
    """One fakesmsc input line (without the newline).

    kind: "text" (GSM coding; Kannel passes the UTF-8 on as coding 0),
    "ucs2" (coding 2, as a phone sends non-GSM text), "data" (8-bit, url-
    encoded bytes) or "auto": "text" for GSM text without CR, LF or FF
    (which cannot be on a line), else "ucs2". Raises ValueError for what
    fakesmsc cannot carry.
    """
    for number in (sender, receiver):
        if not number or any(c.isspace() for c in number):
            raise ValueError(f"fakesmsc numbers are one word: {number!r}")
    if kind == "auto":
        if isinstance(text, bytes):
            kind = "data"
        elif is_gsm_text(text) and not any(c in text for c in "\r\n\f"):
            kind = "text"
        else:
            kind = "ucs2"
    if kind == "text":
        if isinstance(text, bytes) or any(ord(c) < 32 for c in text):
            raise ValueError("a 'text' line holds printable text only; use ucs2 or data")
        payload = text
    elif kind == "ucs2":
        payload = urllib.parse.quote(text.encode("utf-16-be", "surrogatepass"), safe="")
    elif kind == "data":
        raw = text if isinstance(text, bytes) else text.encode("utf-8")
        payload = urllib.parse.quote(raw, safe="")
    else:
        raise ValueError(f"unknown fakesmsc message kind {kind!r}")
    line = f"{sender} {receiver} {kind} {payload}"
    if len(line.encode("utf-8")) > FAKESMSC_MAX_LINE:
        raise ValueError(f"fakesmsc reads at most {FAKESMSC_MAX_LINE} bytes a line; "
                         f"this one has {len(line.encode('utf-8'))}")
    return line


def _url_decode(text: str) -> bytes:
    """Inverse of Kannel's octstr_url_encode (space as '+')."""
    return urllib.parse.unquote_to_bytes(text.replace("+", " "))


def _guess_decode(payload: bytes) -> str:
    """Kannel's internal bytes of a message of unknown coding: UTF-8 for GSM
    text, UTF-16BE for UCS-2, else Latin-1."""
    if b"\x00" not in payload:
        try:
            return payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
    if len(payload) % 2 == 0:
        try:
            return payload.decode("utf-16-be")
        except UnicodeDecodeError:
            pass
    return payload.decode("latin-1")


@dataclass
class MtPart:
    """One line fakesmsc logged: a message (or a part of one) Kannel sent to a phone."""

    sender: str
    receiver: str
    kind: str  # "text", "ucs-2", "data" or "udh"
    payload: bytes
    udh: bytes = b""

    def concatenation(self) -> Optional[tuple[int, int, int]]:
        """(reference, total, sequence) from a concatenation UDH, else None."""
        data = self.udh[1:1 + (self.udh[0] if self.udh else 0)]
        i = 0
        while i + 1 < len(data):
            iei, length = data[i], data[i + 1]
            value = data[i + 2:i + 2 + length]
            if iei == 0x00 and length == 3:
                return value[0], value[1], value[2]
            if iei == 0x08 and length == 4:
                return (value[0] << 8) | value[1], value[2], value[3]
            i += 2 + length
        return None


_MT_LINE = re.compile(r"^(\S+) (\S+) (text|data|ucs-2) (.*)$", re.S)
_MT_UDH_LINE = re.compile(r"^(\S+) (\S+) udh (\S+) data (\S*)$", re.S)


def parse_mt_line(content: str) -> Optional[MtPart]:
    """The part fakesmsc logged as `Got message N: <content>`; None when content
    is no message (the second half of a text Kannel sent with a newline)."""
    match = _MT_UDH_LINE.match(content)
    if match:
        return MtPart(match[1], match[2], "udh", _url_decode(match[4]), _url_decode(match[3]))
    match = _MT_LINE.match(content)
    if not match:
        return None
    kind = match[3]
    payload = match[4].encode("utf-8") if kind == "text" else _url_decode(match[4])
    return MtPart(match[1], match[2], kind, payload)


@dataclass
class MtMessage:
    """A whole message Kannel sent to a phone (concatenated parts joined)."""

    sender: str
    receiver: str
    kind: str
    payload: bytes
    parts: int = 1
    received_at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        """The text: UTF-8 for "text", UTF-16BE for "ucs-2"; for "data" and
        joined parts (whose coding fakesmsc does not show) a best guess."""
        if self.kind == "text":
            return self.payload.decode("utf-8", "replace")
        if self.kind == "ucs-2":
            return self.payload.decode("utf-16-be", "replace")
        return _guess_decode(self.payload)

    def decode(self, encoding: str) -> str:
        """The payload in a known encoding ("utf-8", "utf-16-be")."""
        return self.payload.decode(encoding)


class MtAssembler:
    """Turns fakesmsc's MT lines into MtMessages: joins concatenated parts and
    the halves of a line Kannel split at a newline."""

    def __init__(self) -> None:
        self.messages: list[MtMessage] = []
        self.parts: list[MtPart] = []
        self._pending: dict[tuple[str, str, int], dict[int, MtPart]] = {}
        self._last_line_message: Optional[MtMessage] = None

    def add(self, content: str) -> None:
        part = parse_mt_line(content)
        if part is None:
            if self._last_line_message is not None:
                self._last_line_message.payload += b"\n" + content.encode("utf-8")
            return
        self.parts.append(part)
        concat = part.concatenation() if part.kind == "udh" else None
        if concat is None:
            message = MtMessage(part.sender, part.receiver, part.kind, part.payload)
            self.messages.append(message)
            self._last_line_message = message if part.kind == "text" else None
            return
        self._last_line_message = None
        ref, total, seq = concat
        key = (part.sender, part.receiver, ref)
        pending = self._pending.setdefault(key, {})
        pending[seq] = part
        if len(pending) == total:
            del self._pending[key]
            payload = b"".join(pending[i].payload for i in sorted(pending))
            self.messages.append(MtMessage(part.sender, part.receiver, "data", payload, total))


class _Fakesmsc:
    """One fakesmsc process in interactive mode, connected to bearerbox's fake SMSC.

    A reader thread copies its output (stdout and stderr together) to the
    log file, counts the MO lines it sent and hands each logged MT line to
    on_mt. The process gets a parent-death signal like every server here.
    """

    _GOT = re.compile(rb"Got message \d+: <(.*)>\r?$", re.S)
    _SENT = re.compile(rb"fakesmsc: sent message (\d+)")

    def __init__(self, port: int, log_path: Path, cwd: Path,
                 on_mt: Callable[[str], None], cond: threading.Condition) -> None:
        self.log_path = log_path
        self.on_mt = on_mt
        self.cond = cond
        self.sent = 0
        argv = [FAKESMSC, "-H", LOOPBACK, "-r", str(port), "-i", "0", "-v", "0"]
        self.proc = subprocess.Popen(_DIE_WITH_PARENT + argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     cwd=str(cwd), start_new_session=True)
        self.reader = threading.Thread(target=self._read, name="fakesmsc-reader", daemon=True)
        self.reader.start()

    def _read(self) -> None:
        with open(self.log_path, "ab") as log:
            for raw in iter(self.proc.stdout.readline, b""):
                log.write(raw)
                log.flush()
                got = self._GOT.search(raw.rstrip(b"\n"))
                sent = self._SENT.search(raw)
                with self.cond:
                    if got:
                        self.on_mt(got.group(1).decode("utf-8", "replace"))
                    if sent:
                        self.sent = max(self.sent, int(sent.group(1)))
                    self.cond.notify_all()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def send_line(self, line: str, deadline: float) -> None:
        """Writes one MO line and waits until fakesmsc says it sent it."""
        with self.cond:
            target = self.sent + 1
        self.proc.stdin.write(line.encode("utf-8") + b"\n")
        self.proc.stdin.flush()
        with self.cond:
            while self.sent < target:
                if not self.alive():
                    raise ServerError("fakesmsc exited before sending the MO")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ServerError(f"fakesmsc did not send {line!r} in time")
                self.cond.wait(min(remaining, 0.2))

    def stop(self, timeout: float) -> int:
        """Closes stdin (fakesmsc exits at EOF); SIGKILL when it does not in time.

        Returns 0 for a clean exit. fakesmsc 1.4.5 frees its last MO line
        twice at the end of interactive mode and dies of SIGABRT ("double
        free detected") once it has sent anything; that counts as clean.
        """
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_process_group(self.proc)
            code = -signal.SIGKILL
        self._close(timeout)
        return 0 if code in (0, -signal.SIGABRT) else code

    def kill(self) -> None:
        kill_process_group(self.proc)
        self._close(STEP)

    def _close(self, timeout: float) -> None:
        """Joins the reader (it ends at EOF of the dead process) and closes the pipes."""
        self.reader.join(timeout)
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


@dataclass(frozen=True)
class SendsmsAnswer:
    """smsbox's answer to a sendsms request; status 0 when none came."""

    status: int
    body: str


@dataclass(frozen=True)
class KannelStatus:
    """The parts of bearerbox's status.xml the harness waits on."""

    smsboxes: int
    smscs: dict[str, str]  # smsc-id -> status ("online 3s", "re-connecting", ...)

    def smsc_online(self, smsc_id: str = SMSC_ID) -> bool:
        return self.smscs.get(smsc_id, "").startswith("online")


class KannelServers(ManagedServer):
    """bearerbox + smsbox + fakesmsc on loopback ports, with a generated kannel.conf.

    mo_url is the webhook base (e.g. trestle's
    `http://127.0.0.1:PORT/sms/sms.localhost/kannel/mo?token=...`); mo_params
    (query name -> escape code) are appended by build_mo_url, so the
    sms-service URL is `mo_template`. Pass mo_params={} to give the whole
    template yourself. mo_method is "get" (get-url) or "post" (post-url, with
    send-sender so that X-Kannel-From is there). mo_recode sets smsbox's
    mo-recode (UCS-2 texts arrive as UTF-8). max_messages is the
    sendsms-user's cap on the parts of one text. http_request_retry and
    http_queue_delay are smsbox's retry settings for MO and DLR calls.
    denied_prefixes are receiver prefixes the fake SMSC refuses (sendsms 403
    and a type-16 DLR).
    """

    kind = "kannel"

    def __init__(self, mo_url: str, *, mo_params: Optional[Mapping[str, str]] = None,
                 mo_method: str = "get", username: str = "trestle",
                 password: Optional[str] = None, max_messages: int = 10,
                 mo_recode: bool = True, http_request_retry: int = 0,
                 http_queue_delay: int = 1, denied_prefixes: Iterable[str] = (),
                 log_level: int = 1, start_timeout: float = 30.0) -> None:
        if mo_method not in ("get", "post"):
            raise ValueError("mo_method is 'get' or 'post'")
        if mo_params is None:
            mo_params = DEFAULT_MO_PARAMS if mo_method == "get" else DEFAULT_POST_MO_PARAMS
        self.mo_method = mo_method
        self.mo_template = build_mo_url(mo_url, mo_params)
        self.username = username
        self.password = password or secrets.token_hex(8)
        for value in (self.mo_template, self.username, self.password, *denied_prefixes):
            if any(c in value for c in '"\r\n'):
                raise ValueError(f"kannel.conf strings cannot hold quotes or newlines: {value!r}")
        self.max_messages = max_messages
        self.mo_recode = mo_recode
        self.http_request_retry = http_request_retry
        self.http_queue_delay = http_queue_delay
        self.denied_prefixes = list(denied_prefixes)
        self.log_level = log_level
        self.start_timeout = start_timeout
        self.workdir = Path(tempfile.mkdtemp(prefix="trestle-it-kannel-"))
        self.admin_port = free_port()
        self.smsbox_port = free_port()
        self.smsc_port = free_port()
        self.sendsms_port = free_port()
        self.admin_password = secrets.token_hex(8)
        self.status_password = secrets.token_hex(8)
        self.config_path = self.workdir / "kannel.conf"
        self.proc: Optional[subprocess.Popen] = None  # bearerbox
        self.smsbox_proc: Optional[subprocess.Popen] = None
        self._fakesmsc: Optional[_Fakesmsc] = None
        self._cond = threading.Condition()
        self._mt = MtAssembler()
        self._cleaned = False
        LIVE.add(self)

    # -- addresses ---------------------------------------------------------

    @property
    def sendsms_url(self) -> str:
        """smsbox's sendsms interface."""
        return f"http://{LOOPBACK}:{self.sendsms_port}/cgi-bin/sendsms"

    @property
    def admin_url(self) -> str:
        """bearerbox's HTTP administration."""
        return f"http://{LOOPBACK}:{self.admin_port}"

    def describe(self) -> str:
        """One line for test output."""
        return (f"kannel admin={self.admin_port} smsbox={self.smsbox_port} "
                f"sendsms={self.sendsms_port} fake-smsc={self.smsc_port} dir={self.workdir}")

    # -- lifecycle ---------------------------------------------------------

    def start(self, timeout: Optional[float] = None) -> "KannelServers":
        """Writes kannel.conf (first time), starts bearerbox, smsbox and fakesmsc,
        and returns once smsbox is connected and the fake SMSC is online."""
        if self._cleaned:
            raise ServerError("kannel already cleaned up")
        if self.running():
            raise ServerError("kannel already running")
        self._force_down()
        deadline = time.monotonic() + (timeout or self.start_timeout)
        if not self.config_path.exists():
            self.config_path.write_text(self._config())
        try:
            self.proc = spawn([BEARERBOX, "-v", "2", str(self.config_path)],
                              log_path=self.workdir / "bearerbox.console", cwd=self.workdir)
            self._wait_ports(self.proc, "bearerbox",
                             [self.admin_port, self.smsbox_port, self.smsc_port], deadline)
            # smsbox exits at once (PANIC) when bearerbox is not there yet.
            self.smsbox_proc = spawn([SMSBOX, "-v", "2", str(self.config_path)],
                                     log_path=self.workdir / "smsbox.console", cwd=self.workdir)
            self._wait_ports(self.smsbox_proc, "smsbox", [self.sendsms_port], deadline)
            self._wait_status(lambda s: s.smsboxes > 0, "smsbox connected", deadline)
            self._start_fakesmsc(deadline)
        except BaseException:
            self._force_down()
            raise
        return self

    def listening_ports(self) -> list[int]:
        return [self.admin_port, self.smsbox_port, self.smsc_port, self.sendsms_port]

    def running(self) -> bool:
        """True while bearerbox, smsbox and fakesmsc are all alive."""
        return (self.proc is not None and self.proc.poll() is None
                and self.smsbox_proc is not None and self.smsbox_proc.poll() is None
                and self._fakesmsc is not None and self._fakesmsc.alive())

    def stop(self, timeout: float = 30.0) -> int:
        """Stops fakesmsc (EOF on stdin), then smsbox and bearerbox (SIGTERM);
        0 when all three exited cleanly, else the first bad exit code."""
        codes = []
        if self._fakesmsc is not None:
            fake, self._fakesmsc = self._fakesmsc, None
            codes.append(fake.stop(timeout))
        for attr in ("smsbox_proc", "proc"):
            proc = getattr(self, attr)
            if proc is not None:
                setattr(self, attr, None)
                codes.append(terminate_process(proc, timeout))
        return next((code for code in codes if code != 0), 0)

    def kill(self) -> None:
        """SIGKILLs all three process groups."""
        self._force_down()

    def _force_down(self) -> None:
        if self._fakesmsc is not None:
            fake, self._fakesmsc = self._fakesmsc, None
            fake.kill()
        if self.smsbox_proc is not None:
            proc, self.smsbox_proc = self.smsbox_proc, None
            kill_process_group(proc)
        super()._force_down()

    # -- the phone side (fakesmsc) -----------------------------------------

    def inject_mo(self, sender: str, receiver: str, text: Union[str, bytes], *,
                  kind: str = "auto", timeout: float = STEP) -> str:
        """A phone `sender` texts `receiver`: one fakesmsc line (see mo_line),
        returned once fakesmsc sent it to bearerbox."""
        line = mo_line(sender, receiver, text, kind)
        if self._fakesmsc is None or not self._fakesmsc.alive():
            raise ServerError("fakesmsc is not running (connect_phone())")
        self._fakesmsc.send_line(line, time.monotonic() + timeout)
        return line

    def mark(self) -> int:
        """The number of MT messages so far, for wait_mt(since=...)."""
        with self._cond:
            return len(self._mt.messages)

    def mt_messages(self, since: int = 0) -> list[MtMessage]:
        """The whole MT messages fakesmsc received so far."""
        with self._cond:
            return list(self._mt.messages[since:])

    def mt_parts(self) -> list[MtPart]:
        """Every MT line fakesmsc received, concatenated parts one by one."""
        with self._cond:
            return list(self._mt.parts)

    def wait_mt(self, what: Union[int, Callable[[MtMessage], bool]] = 1,
                timeout: float = STEP, since: int = 0) -> list[MtMessage]:
        """Waits for `what` MT messages after `since` (an int), or for one matching
        `what` (a predicate: returns the matching ones)."""
        return wait_for(lambda: self.mt_messages(since), what, timeout,
                        "MT messages at fakesmsc", self.log_tail)

    def assert_no_mt(self, seconds: float, since: int = 0) -> None:
        """Raises AssertionError when any MT arrives after `since` within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            got = self.mt_messages(since)
            if got:
                raise AssertionError(f"unexpected MT messages: {got!r}")
            time.sleep(0.05)

    def disconnect_phone(self, timeout: float = STEP) -> None:
        """Stops fakesmsc: MT messages (and their DLRs) then wait in bearerbox."""
        if self._fakesmsc is not None:
            fake, self._fakesmsc = self._fakesmsc, None
            fake.stop(timeout)
        self._wait_status(lambda s: not s.smsc_online(), "fake SMSC offline",
                          time.monotonic() + timeout)

    def connect_phone(self, timeout: float = STEP) -> None:
        """Starts fakesmsc again; bearerbox then delivers what waited."""
        if self._fakesmsc is not None and self._fakesmsc.alive():
            return
        self._start_fakesmsc(time.monotonic() + timeout)

    def _start_fakesmsc(self, deadline: float) -> None:
        self._fakesmsc = _Fakesmsc(self.smsc_port, self.workdir / "fakesmsc.log", self.workdir,
                                   self._mt.add, self._cond)
        self._wait_status(lambda s: s.smsc_online(), "fake SMSC online", deadline)

    # -- the application side (sendsms, status) ----------------------------

    def sendsms(self, to: str, text: Optional[str], *, sender: Optional[str] = "+15550001",
                coding: Optional[int] = None, charset: Optional[str] = "UTF-8",
                dlr_mask: Optional[int] = None, dlr_url: Optional[str] = None,
                username: Optional[str] = None, password: Optional[str] = None,
                extra: Optional[Mapping[str, str]] = None,
                timeout: float = STEP) -> SendsmsAnswer:
        """One GET to sendsms_url as trestle makes it; None leaves a field out."""
        fields = {"username": self.username if username is None else username,
                  "password": self.password if password is None else password,
                  "from": sender, "to": to, "text": text, "charset": charset,
                  "coding": None if coding is None else str(coding),
                  "dlr-mask": None if dlr_mask is None else str(dlr_mask),
                  "dlr-url": dlr_url}
        fields.update(extra or {})
        query = urllib.parse.urlencode({k: v for k, v in fields.items() if v is not None})
        status, body = http_get(f"{self.sendsms_url}?{query}", timeout)
        return SendsmsAnswer(status, body.decode("utf-8", "replace"))

    def status(self, timeout: float = 2.0) -> KannelStatus:
        """bearerbox's status.xml, reduced to what the harness needs."""
        status, body = http_get(f"{self.admin_url}/status.xml?password={self.status_password}",
                                timeout)
        if status != 200:
            raise ServerError(f"status.xml answered {status}")
        root = ElementTree.fromstring(body)
        boxes = [box for box in root.iter("box") if box.findtext("type") == "smsbox"]
        smscs = {smsc.findtext("id") or "": smsc.findtext("status") or ""
                 for smsc in root.iter("smsc")}
        return KannelStatus(len(boxes), smscs)

    # -- logs --------------------------------------------------------------

    def log_text(self) -> str:
        """Every log of the three programs."""
        return "\n".join(f"==> {name} <==\n{text}" for name, text in self._logs())

    def log_tail(self, lines: int = 30) -> str:
        """The last lines of each log, for error messages."""
        return "\n".join(f"==> {name} <==\n" + "\n".join(text.splitlines()[-lines:])
                         for name, text in self._logs())

    def _logs(self) -> list[tuple[str, str]]:
        logs = []
        for name in ("bearerbox.console", "bearerbox.log", "access.log", "smsbox.console",
                     "smsbox.log", "smsbox-access.log", "fakesmsc.log"):
            try:
                logs.append((name, (self.workdir / name).read_text(errors="replace")))
            except OSError:
                continue
        return logs

    # -- helpers -----------------------------------------------------------

    def _wait_ports(self, proc: subprocess.Popen, name: str, ports: Sequence[int],
                    deadline: float) -> None:
        while not all(listening_on_loopback(port) for port in ports):
            if proc.poll() is not None:
                raise ServerError(f"{name} exited (code {proc.returncode}) before listening\n"
                                  + self.log_tail())
            if time.monotonic() >= deadline:
                raise ServerError(f"{name} not listening on {list(ports)} in time\n"
                                  + self.log_tail())
            time.sleep(0.05)

    def _wait_status(self, ready: Callable[[KannelStatus], bool], what: str,
                     deadline: float) -> None:
        last = "no answer"
        while True:
            for name, proc in (("bearerbox", self.proc), ("smsbox", self.smsbox_proc)):
                if proc is None or proc.poll() is not None:
                    raise ServerError(f"{name} is not running (waiting for {what})\n"
                                      + self.log_tail())
            try:
                status = self.status(timeout=max(0.2, min(2.0, deadline - time.monotonic())))
                if ready(status):
                    return
                last = repr(status)
            except (ServerError, ElementTree.ParseError, OSError) as exc:
                last = str(exc)
            if time.monotonic() >= deadline:
                raise ServerError(f"kannel: {what} not reached in time ({last})\n"
                                  + self.log_tail())
            time.sleep(0.1)

    def _config(self) -> str:
        """kannel.conf: groups are separated by blank lines, so none inside a group."""
        d = self.workdir
        groups = [
            ["group = core",
             f"admin-port = {self.admin_port}",
             f"admin-interface = {LOOPBACK}",
             f'admin-password = "{self.admin_password}"',
             f'status-password = "{self.status_password}"',
             f'admin-allow-ip = "{LOOPBACK}"',
             f"smsbox-port = {self.smsbox_port}",
             f"smsbox-interface = {LOOPBACK}",
             f'box-allow-ip = "{LOOPBACK}"',
             f'log-file = "{d / "bearerbox.log"}"',
             f"log-level = {self.log_level}",
             f'access-log = "{d / "access.log"}"',
             "dlr-storage = internal"],
            ["group = smsc",
             "smsc = fake",
             f"smsc-id = {SMSC_ID}",
             f"port = {self.smsc_port}",
             f"our-host = {LOOPBACK}",
             f'connect-allow-ip = "{LOOPBACK}"']
            + ([f'denied-prefix = "{";".join(self.denied_prefixes)}"']
               if self.denied_prefixes else []),
            ["group = smsbox",
             f"bearerbox-host = {LOOPBACK}",
             f"bearerbox-port = {self.smsbox_port}",
             f"sendsms-port = {self.sendsms_port}",
             f"sendsms-interface = {LOOPBACK}",
             f"mo-recode = {'true' if self.mo_recode else 'false'}",
             f"http-request-retry = {self.http_request_retry}",
             f"http-queue-delay = {self.http_queue_delay}",
             f'log-file = "{d / "smsbox.log"}"',
             f"log-level = {self.log_level}",
             f'access-log = "{d / "smsbox-access.log"}"'],
            ["group = sendsms-user",
             f'username = "{self.username}"',
             f'password = "{self.password}"',
             f"max-messages = {self.max_messages}",
             "concatenation = true"],
            ["group = sms-service",
             "keyword = default",
             f'{self.mo_method}-url = "{self.mo_template}"',
             # Never text the phone back, not even an error.
             "max-messages = 0"]
            + (["send-sender = true"] if self.mo_method == "post" else []),
        ]
        return ("# generated by the trestle integration tests\n"
                + "\n\n".join("\n".join(group) for group in groups) + "\n")


def http_get(url: str, timeout: float) -> tuple[int, bytes]:
    """GET without proxies; (status, body), status 0 when there was no answer."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc).encode()


@dataclass
class RecordedRequest:
    """One request an HttpRecorder answered."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # names in lower case
    body: bytes
    received_at: float

    def raw_params(self) -> dict[str, bytes]:
        """Query fields as bytes (Kannel's %b of a UCS-2 text is UTF-16BE)."""
        pairs = urllib.parse.parse_qsl(self.query, keep_blank_values=True, encoding="latin-1")
        return {name: value.encode("latin-1") for name, value in pairs}

    def params(self) -> dict[str, str]:
        """Query fields decoded as UTF-8 (undecodable bytes replaced)."""
        return {name: value.decode("utf-8", "replace") for name, value in self.raw_params().items()}


class HttpRecorder:
    """A stdlib HTTP server on 127.0.0.1 that records every request and answers
    with scripted (status, body) pairs, then with the default answer. It
    stands in for trestle's webhooks in the harness self-test."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: list[RecordedRequest] = []
        self.default_answer: tuple[int, bytes] = (200, b"")
        self._script: list[tuple[int, bytes]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # Kannel keeps connections alive

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path, _, query = self.path.partition("?")
                with recorder.lock:
                    recorder.requests.append(RecordedRequest(
                        self.command, path, query,
                        {k.lower(): v for k, v in self.headers.items()}, body,
                        time.monotonic()))
                    status, reply = (recorder._script.pop(0) if recorder._script
                                     else recorder.default_answer)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = _answer  # noqa: N815 - http.server's naming
            do_POST = _answer  # noqa: N815

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "HttpRecorder":
        self._thread = threading.Thread(target=self.server.serve_forever, name="http-recorder",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(STEP)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> "HttpRecorder":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def url(self, path: str) -> str:
        """An absolute URL on this server."""
        return f"http://{LOOPBACK}:{self.port}{path}"

    def script(self, *answers: tuple[int, bytes]) -> None:
        """The next requests get these answers, in order."""
        with self.lock:
            self._script.extend(answers)

    def mark(self) -> int:
        """The number of requests so far, for wait(since=...)."""
        with self.lock:
            return len(self.requests)

    def recorded(self, path: Optional[str] = None, since: int = 0) -> list[RecordedRequest]:
        """Requests so far (to `path` only, when given)."""
        with self.lock:
            return [r for r in self.requests[since:] if path is None or r.path == path]

    def wait(self, what: Union[int, Callable[[RecordedRequest], bool]] = 1,
             timeout: float = STEP, path: Optional[str] = None, since: int = 0,
             detail: Callable[[], str] = lambda: "") -> list[RecordedRequest]:
        """Waits for `what` requests (an int) or one matching `what` (a predicate)."""
        return wait_for(lambda: self.recorded(path, since), what, timeout,
                        f"requests to {path or 'the recorder'}", detail)
