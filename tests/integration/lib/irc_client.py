"""A small blocking raw IRC client: "the plain IRC user" of the integration tests.

One IrcTestClient is one connection over a plain or TLS socket. Nothing runs in
the background: every received line is read, parsed and kept while the test
waits (wait_for and the commands that wait), and PINGs are answered then. A
client left unread for longer than the server's ping interval (120 s unless
the test server was started with another) is dropped; call pump() on idle
clients in long tests. Use a client from one thread only.

Every wait has a deadline. A wait that times out raises IrcTimeout (an
AssertionError, so unittest reports a failure) naming what was awaited and
the last lines received.

Lines are parsed per the IRCv3 message format: tags (unescaped), source,
command (upper-cased), parameters (the trailing one included as the last).
"""

from __future__ import annotations

import base64
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional, Sequence

DEFAULT_TIMEOUT = 10.0
# A server line is at most 8191 bytes of tags plus 512 of message; anything
# longer without a newline is a broken peer, not something to buffer.
MAX_LINE_BYTES = 16384
# SASL AUTHENTICATE payloads are sent in chunks of this many base64 bytes.
SASL_CHUNK = 400

_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}
_TAG_ESCAPES = {";": "\\:", " ": "\\s", "\\": "\\\\", "\r": "\\r", "\n": "\\n"}

# Numerics that end a registration attempt with an error.
_REGISTRATION_ERRORS = {"431", "432", "433", "436", "437", "451", "461", "462", "464", "465"}
_SASL_FAILURES = {"902", "904", "905", "906", "907", "908"}


class IrcError(RuntimeError):
    """The server refused something (a numeric error or ERROR), or the link broke."""

    def __init__(self, text: str, message: Optional["IrcMessage"] = None) -> None:
        super().__init__(text)
        self.message = message

    @property
    def numeric(self) -> Optional[str]:
        """The refusing numeric (e.g. "433"), if a numeric caused this."""
        return self.message.command if self.message is not None else None


class IrcTimeout(AssertionError):
    """An expected line did not arrive before the deadline."""


class IrcClosed(IrcError):
    """The server closed the connection while a line was still expected."""


@dataclass
class IrcMessage:
    """One parsed IRC line."""

    command: str
    params: list[str] = field(default_factory=list)
    source: Optional[str] = None
    tags: dict[str, str] = field(default_factory=dict)
    raw: str = ""

    @property
    def nick(self) -> Optional[str]:
        """The nick part of the source (`nick!user@host` -> `nick`), or the server name."""
        if self.source is None:
            return None
        return self.source.split("!", 1)[0].split("@", 1)[0]

    @property
    def target(self) -> str:
        """The first parameter (target of PRIVMSG, channel of JOIN, ...)."""
        return self.params[0] if self.params else ""

    @property
    def text(self) -> str:
        """The last parameter (message text, reason, ...)."""
        return self.params[-1] if self.params else ""

    def param(self, index: int, default: str = "") -> str:
        """Parameter `index`, or default when there are fewer."""
        return self.params[index] if -len(self.params) <= index < len(self.params) else default

    def __str__(self) -> str:
        return self.raw or format_line(self.command, *self.params, tags=self.tags,
                                       source=self.source)


def unescape_tag_value(value: str) -> str:
    """IRCv3 message-tags value unescaping (`\\s` -> space, ...)."""
    out = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 1
            if i < len(value):
                out.append(_TAG_UNESCAPES.get(value[i], value[i]))
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def escape_tag_value(value: str) -> str:
    """IRCv3 message-tags value escaping, the inverse of unescape_tag_value."""
    return "".join(_TAG_ESCAPES.get(ch, ch) for ch in value)


def parse_line(line: str) -> IrcMessage:
    """Parses one line (without CR LF). Raises ValueError when there is no command."""
    raw = line
    rest = line
    tags: dict[str, str] = {}
    if rest.startswith("@"):
        tag_part, _, rest = rest[1:].partition(" ")
        for item in tag_part.split(";"):
            if not item:
                continue
            key, sep, value = item.partition("=")
            tags[key] = unescape_tag_value(value) if sep else ""
        rest = rest.lstrip(" ")
    source = None
    if rest.startswith(":"):
        source, _, rest = rest[1:].partition(" ")
        rest = rest.lstrip(" ")
    params: list[str] = []
    command = ""
    while rest:
        if rest.startswith(":") and command:
            params.append(rest[1:])
            break
        word, _, rest = rest.partition(" ")
        rest = rest.lstrip(" ")
        if not command:
            command = word.upper()
        else:
            params.append(word)
    if not command:
        raise ValueError(f"no command in IRC line {line!r}")
    return IrcMessage(command=command, params=params, source=source, tags=tags, raw=raw)


def format_line(command: str, *params: str, tags: Optional[dict[str, str]] = None,
                source: Optional[str] = None) -> str:
    """Builds one line (without CR LF); the last parameter becomes trailing when it must.

    Raises ValueError for CR, LF or NUL anywhere, or a middle parameter that is
    empty, starts with ':' or holds a space: a test must say so explicitly
    with send_raw() when it wants to send a broken line.
    """
    parts = []
    if tags:
        parts.append("@" + ";".join(k if v == "" else f"{k}={escape_tag_value(v)}"
                                    for k, v in tags.items()))
    if source:
        parts.append(":" + source)
    parts.append(command)
    for i, param in enumerate(params):
        last = i == len(params) - 1
        if any(c in param for c in "\r\n\0"):
            raise ValueError(f"CR, LF or NUL in IRC parameter {param!r}")
        if last and (param == "" or " " in param or param.startswith(":")):
            parts.append(":" + param)
        elif not last and (param == "" or " " in param or param.startswith(":")):
            raise ValueError(f"middle IRC parameter {param!r} cannot be sent")
        else:
            parts.append(param)
    line = " ".join(parts)
    if any(c in line for c in "\r\n\0"):
        raise ValueError(f"CR, LF or NUL in IRC line {line!r}")
    return line


def decode_line(data: bytes) -> str:
    """UTF-8, or latin-1 for lines that are not valid UTF-8 (as most clients do)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def rfc1459_casefold(name: str, mapping: str = "rfc1459") -> str:
    """Lower-cases name by a CASEMAPPING (ascii, rfc1459, strict-rfc1459); ASCII letters only."""
    table = {}
    if mapping in ("rfc1459", "strict-rfc1459"):
        table = {"[": "{", "]": "}", "\\": "|"}
        if mapping == "rfc1459":
            table["~"] = "^"
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else table.get(c, c) for c in name)


def msg(command: Optional[str] = None, *params: Optional[str], nick: Optional[str] = None,
        text: Optional[str] = None, contains: Optional[str] = None) -> Callable[[IrcMessage], bool]:
    """A predicate on IrcMessage: command, leading params (None = any), source nick, text.

    `text` compares the last parameter exactly, `contains` as a substring.
    Nicks and channel names compare case-insensitively (rfc1459).
    """
    want_command = command.upper() if command else None

    def predicate(m: IrcMessage) -> bool:
        if want_command is not None and m.command != want_command:
            return False
        for i, value in enumerate(params):
            if value is None:
                continue
            if i >= len(m.params) or rfc1459_casefold(m.params[i]) != rfc1459_casefold(value):
                return False
        if nick is not None and (m.nick is None
                                 or rfc1459_casefold(m.nick) != rfc1459_casefold(nick)):
            return False
        if text is not None and m.text != text:
            return False
        if contains is not None and contains not in m.text:
            return False
        return True

    return predicate


class IrcTestClient:
    """One raw IRC connection (plain or TLS), blocking, with bounded waits.

    connect() does, in order: TCP (+TLS) connect; `CAP LS 302` when caps or
    SASL are wanted (or cap_ls=True); CAP REQ of the wanted caps the server
    offers; SASL PLAIN when credentials are given; CAP END; NICK/USER; and
    waits for 001. After that the command helpers (join, privmsg, ...) send
    and, where it makes sense, wait for the server's answer.
    """

    def __init__(self, port: int, nick: str, *, host: str = "127.0.0.1", tls: bool = False,
                 ca_file: Optional[str] = None, server_hostname: Optional[str] = None,
                 verify: bool = True, username: Optional[str] = None,
                 realname: Optional[str] = None, server_password: Optional[str] = None,
                 caps: Iterable[str] = (), cap_ls: bool = False,
                 sasl: Optional[tuple[str, str]] = None, sasl_required: bool = True,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.ca_file = ca_file
        self.server_hostname = server_hostname
        self.verify = verify
        self.nick = nick
        self.username = username or re.sub(r"[^a-z0-9]", "", nick.lower())[:10] or "test"
        self.realname = realname or f"trestle test {nick}"
        self.server_password = server_password
        self.wanted_caps = list(caps)
        self.want_cap_ls = cap_ls or bool(self.wanted_caps) or sasl is not None
        self.sasl = sasl
        self.sasl_required = sasl_required
        self.timeout = timeout

        self.sock: Optional[socket.socket] = None
        self.received: list[IrcMessage] = []
        self.closed = False
        self.registered = False
        self.welcome: Optional[IrcMessage] = None
        self.isupport: dict[str, str] = {}
        self.caps_offered: dict[str, str] = {}
        self.caps_enabled: set[str] = set()
        self.sasl_result: Optional[IrcMessage] = None
        self.tls_version: Optional[str] = None
        self.peer_certificate: Optional[dict] = None
        self._buffer = b""
        self._cursor = 0

    # -- connection ---------------------------------------------------------

    def connect(self, timeout: Optional[float] = None) -> "IrcTestClient":
        """Connects, negotiates caps/SASL, registers; returns self once 001 arrived."""
        deadline = time.monotonic() + (timeout or self.timeout)
        raw = socket.create_connection((self.host, self.port),
                                       timeout=max(0.1, deadline - time.monotonic()))
        try:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.tls:
                context = self._tls_context()
                sock = context.wrap_socket(raw, server_hostname=self.server_hostname or self.host)
                self.tls_version = sock.version()
                self.peer_certificate = sock.getpeercert()
            else:
                sock = raw
        except BaseException:
            raw.close()
            raise
        self.sock = sock
        try:
            self._register(deadline)
        except BaseException:
            self.close()
            raise
        return self

    def _tls_context(self) -> ssl.SSLContext:
        if not self.verify:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            return context
        return ssl.create_default_context(cafile=self.ca_file)

    def _register(self, deadline: float) -> None:
        if self.want_cap_ls:
            self.send("CAP", "LS", "302")
        if self.server_password is not None:
            self.send("PASS", self.server_password)
        self.send("NICK", self.nick)
        self.send("USER", self.username, "0", "*", self.realname)
        if self.want_cap_ls:
            self._negotiate_caps(deadline)
        welcome = self._wait_registration(deadline)
        self.welcome = welcome
        self.registered = True
        self.nick = welcome.target or self.nick

    def _negotiate_caps(self, deadline: float) -> None:
        self._read_cap_ls(deadline)
        wanted = [c for c in self.wanted_caps if c in self.caps_offered]
        if self.sasl is not None and "sasl" not in wanted:
            if "sasl" not in self.caps_offered:
                if self.sasl_required:
                    raise IrcError("server does not offer the sasl capability; offered: "
                                   + " ".join(sorted(self.caps_offered)))
            else:
                wanted.append("sasl")
        if wanted:
            self.cap_req(wanted, timeout=max(0.1, deadline - time.monotonic()))
        if self.sasl is not None and "sasl" in self.caps_enabled:
            self._sasl_plain(deadline)
        self.send("CAP", "END")

    def _read_cap_ls(self, deadline: float) -> None:
        """Reads a (possibly multi-line) CAP LS reply into caps_offered."""
        while True:
            reply = self._wait(lambda m: m.command == "CAP" and m.param(1).upper() == "LS"
                               or m.command in _REGISTRATION_ERRORS or m.command == "001",
                               deadline, "CAP LS reply")
            if reply.command != "CAP":
                # A server without CAP support registers straight away: step
                # the cursor back onto that line for _wait_registration.
                self._cursor -= 1
                return
            for item in reply.text.split():
                name, _, value = item.partition("=")
                self.caps_offered[name] = value
            if not (len(reply.params) >= 4 and reply.params[2] == "*"):
                return

    def cap_req(self, caps: Sequence[str], timeout: Optional[float] = None) -> set[str]:
        """Sends CAP REQ and waits for ACK/NAK; returns the acknowledged caps."""
        deadline = time.monotonic() + (timeout or self.timeout)
        self.send("CAP", "REQ", " ".join(caps))
        reply = self._wait(lambda m: m.command == "CAP" and m.param(1).upper() in ("ACK", "NAK"),
                           deadline, f"CAP ACK/NAK for {' '.join(caps)}")
        if reply.param(1).upper() == "NAK":
            return set()
        acked = set()
        for item in reply.text.split():
            if item.startswith("-"):
                self.caps_enabled.discard(item[1:])
            else:
                acked.add(item)
                self.caps_enabled.add(item)
        return acked

    def _sasl_plain(self, deadline: float) -> None:
        account, password = self.sasl
        self.send("AUTHENTICATE", "PLAIN")
        go = self._wait(lambda m: m.command == "AUTHENTICATE" or m.command in _SASL_FAILURES,
                        deadline, "AUTHENTICATE +")
        if go.command == "AUTHENTICATE" and go.params == ["+"]:
            payload = base64.b64encode(f"{account}\0{account}\0{password}".encode()).decode()
            chunks = [payload[i:i + SASL_CHUNK] for i in range(0, len(payload), SASL_CHUNK)]
            if not chunks or len(chunks[-1]) == SASL_CHUNK:
                chunks.append("+")
            for chunk in chunks:
                self.send("AUTHENTICATE", chunk)
            result = self._wait(lambda m: m.command in {"903"} | _SASL_FAILURES,
                                deadline, "SASL result (903/904)")
        else:
            result = go
        self.sasl_result = result
        if result.command != "903" and self.sasl_required:
            raise IrcError(f"SASL PLAIN failed: {result}", result)

    def _wait_registration(self, deadline: float) -> IrcMessage:
        reply = self._wait(lambda m: m.command == "001" or m.command in _REGISTRATION_ERRORS
                           or m.command == "ERROR", deadline, "001 welcome")
        if reply.command != "001":
            raise IrcError(f"registration refused: {reply}", reply)
        # ISUPPORT follows 001; read it so casemapping and prefixes are known.
        try:
            self._wait(lambda m: m.command in ("376", "422"),
                       min(deadline, time.monotonic() + 5), "end of MOTD", peek=True)
        except IrcTimeout:
            pass
        return reply

    def close(self) -> None:
        """Closes the socket without QUIT (an abrupt disconnect, as the server sees it)."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.closed = True

    def __enter__(self) -> "IrcTestClient":
        return self.connect() if self.sock is None else self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- sending ------------------------------------------------------------

    def send(self, command: str, *params: str, tags: Optional[dict[str, str]] = None) -> None:
        """Sends one well-formed line (see format_line)."""
        self.send_raw(format_line(command, *params, tags=tags))

    def send_raw(self, line: str | bytes) -> None:
        """Sends line + CR LF exactly as given (bytes are not re-encoded)."""
        if self.sock is None:
            raise IrcClosed("not connected")
        data = line if isinstance(line, bytes) else line.encode("utf-8")
        try:
            self.sock.sendall(data + b"\r\n")
        except OSError as exc:
            self.closed = True
            raise IrcClosed(f"send failed: {exc}") from exc

    # -- receiving ----------------------------------------------------------

    def mark(self) -> int:
        """An index into `received`; pass it as `since` to look only at later lines."""
        return len(self.received)

    def pump(self, duration: float = 0.0) -> int:
        """Reads for `duration` seconds (0: only what is there now); returns the line count."""
        before = len(self.received)
        deadline = time.monotonic() + duration
        while not self.closed:
            self._read_some(deadline)
            if time.monotonic() >= deadline:
                break
        return len(self.received) - before

    def wait_for(self, predicate: Callable[[IrcMessage], bool], timeout: Optional[float] = None,
                 *, since: Optional[int] = None, what: str = "") -> IrcMessage:
        """The first received line after the cursor (or `since`) matching predicate.

        Without `since`, lines are consumed in order: the cursor moves past the
        match, so the next wait starts after it. With `since` the cursor is
        left alone. Raises IrcTimeout, or IrcClosed when the connection ended
        and nothing matched.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        return self._wait(predicate, deadline, what or getattr(predicate, "__name__", "line"),
                          since=since)

    def wait_command(self, command: str, *params: Optional[str], nick: Optional[str] = None,
                     text: Optional[str] = None, contains: Optional[str] = None,
                     timeout: Optional[float] = None, since: Optional[int] = None) -> IrcMessage:
        """wait_for(msg(command, *params, nick=..., text=..., contains=...))."""
        what = " ".join([command, *[p or "*" for p in params]])
        if nick:
            what += f" from {nick}"
        if text is not None:
            what += f" text={text!r}"
        if contains is not None:
            what += f" containing {contains!r}"
        return self.wait_for(msg(command, *params, nick=nick, text=text, contains=contains),
                             timeout, since=since, what=what)

    def wait_privmsg(self, target: Optional[str] = None, text: Optional[str] = None, *,
                     nick: Optional[str] = None, timeout: Optional[float] = None,
                     since: Optional[int] = None) -> IrcMessage:
        """The next PRIVMSG to target (channel or our nick) with the given text/sender."""
        return self.wait_command("PRIVMSG", target, nick=nick, text=text, timeout=timeout,
                                 since=since)

    def collect(self, predicate: Callable[[IrcMessage], bool], count: int,
                timeout: Optional[float] = None, *,
                since: Optional[int] = None) -> list[IrcMessage]:
        """Waits until `count` matching lines arrived (from the cursor or `since`); returns them."""
        deadline = time.monotonic() + (timeout or self.timeout)
        start = self._cursor if since is None else since
        while True:
            found = [m for m in self.received[start:] if predicate(m)]
            if len(found) >= count:
                return found[:count]
            if self.closed:
                raise IrcClosed(f"connection closed with {len(found)}/{count} lines received\n"
                                + self.tail())
            if time.monotonic() >= deadline:
                raise IrcTimeout(f"{self.nick}: {len(found)}/{count} lines in time\n" + self.tail())
            self._read_some(deadline)

    def expect_none(self, predicate: Callable[[IrcMessage], bool], duration: float, *,
                    since: Optional[int] = None) -> None:
        """Reads for `duration` seconds and fails if a matching line arrives (or had arrived)."""
        start = self._cursor if since is None else since
        self.pump(duration)
        for m in self.received[start:]:
            if predicate(m):
                raise AssertionError(f"{self.nick}: unexpected line {m}")

    def messages(self, predicate: Callable[[IrcMessage], bool] = lambda m: True,
                 since: int = 0) -> list[IrcMessage]:
        """Every received line from index `since` matching predicate (no reading)."""
        return [m for m in self.received[since:] if predicate(m)]

    def tail(self, lines: int = 15) -> str:
        """The last received lines, for failure messages."""
        return "\n".join(f"  <- {m}" for m in self.received[-lines:]) or "  (nothing received)"

    def _wait(self, predicate: Callable[[IrcMessage], bool], deadline: float, what: str, *,
              since: Optional[int] = None, peek: bool = False) -> IrcMessage:
        index = self._cursor if since is None else since
        while True:
            while index < len(self.received):
                message = self.received[index]
                index += 1
                if predicate(message):
                    if since is None and not peek:
                        self._cursor = index
                    return message
            if self.closed:
                raise IrcClosed(f"{self.nick}: connection closed while waiting for {what}\n"
                                + self.tail())
            if time.monotonic() >= deadline:
                raise IrcTimeout(f"{self.nick}: no {what} in time\n" + self.tail())
            self._read_some(deadline)

    def _read_some(self, deadline: float) -> None:
        """One bounded recv (at most 0.2 s); parses complete lines."""
        if self.sock is None:
            self.closed = True
            return
        self.sock.settimeout(max(0.001, min(0.2, deadline - time.monotonic())))
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, ssl.SSLWantReadError):
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            line = line.rstrip(b"\r")
            if line:
                self._on_line(decode_line(line))
        if len(self._buffer) > MAX_LINE_BYTES:
            self.close()
            raise IrcError(f"server sent a line over {MAX_LINE_BYTES} bytes without a newline")

    def _on_line(self, line: str) -> None:
        try:
            message = parse_line(line)
        except ValueError:
            return
        self.received.append(message)
        command = message.command
        if command == "PING":
            self.send("PONG", *message.params)
        elif command == "005":
            for token in message.params[1:-1]:
                key, _, value = token.partition("=")
                if key.startswith("-"):
                    self.isupport.pop(key[1:], None)
                else:
                    self.isupport[key] = value
        elif command == "NICK" and message.nick is not None and self.same_nick(message.nick):
            self.nick = message.target
        elif command == "CAP" and message.param(1).upper() in ("NEW", "DEL"):
            for item in message.text.split():
                name, _, value = item.partition("=")
                if message.param(1).upper() == "NEW":
                    self.caps_offered[name] = value
                else:
                    self.caps_offered.pop(name, None)
                    self.caps_enabled.discard(name)

    # -- names --------------------------------------------------------------

    def casefold(self, name: str) -> str:
        """name lower-cased by the server's CASEMAPPING."""
        return rfc1459_casefold(name, self.isupport.get("CASEMAPPING", "rfc1459"))

    def same_nick(self, other: str) -> bool:
        """True when other is our current nick (by CASEMAPPING)."""
        return self.casefold(other) == self.casefold(self.nick)

    def prefixes(self) -> dict[str, str]:
        """ISUPPORT PREFIX as {prefix char: mode char}, e.g. {'@': 'o', '+': 'v'}."""
        value = self.isupport.get("PREFIX", "(ov)@+")
        if not value.startswith("(") or ")" not in value:
            return {}
        modes, chars = value[1:].split(")", 1)
        return dict(zip(chars, modes))

    # -- commands -----------------------------------------------------------

    def join(self, channel: str, key: Optional[str] = None, *, wait: bool = True,
             timeout: Optional[float] = None) -> dict[str, str]:
        """JOINs; with wait, returns the NAMES list as {nick: prefix chars} after 366."""
        self.send("JOIN", channel, *([key] if key else []))
        if not wait:
            return {}
        deadline = time.monotonic() + (timeout or self.timeout)
        start = self.mark()
        reply = self._wait(lambda m: (m.command == "JOIN" and m.nick is not None
                                      and self.same_nick(m.nick)
                                      and self.casefold(m.target) == self.casefold(channel))
                           or (m.command in ("403", "405", "471", "473", "474", "475", "476",
                                             "477", "489")
                               and self.casefold(m.param(1)) == self.casefold(channel)),
                           deadline, f"JOIN {channel}", since=start)
        if reply.command != "JOIN":
            raise IrcError(f"JOIN {channel} refused: {reply}", reply)
        self._wait(self._end_of_names(channel), deadline, f"end of NAMES for {channel}",
                   since=start)
        return self.names_from(channel, since=start)

    def _end_of_names(self, channel: str) -> Callable[[IrcMessage], bool]:
        return lambda m: (m.command == "366"
                          and self.casefold(m.param(1)) == self.casefold(channel))

    def names_from(self, channel: str, since: int = 0) -> dict[str, str]:
        """Parses 353 replies for channel received from index since: {nick: prefix chars}."""
        prefix_chars = "".join(self.prefixes()) or "@+"
        names: dict[str, str] = {}
        for m in self.received[since:]:
            if m.command == "353" and self.casefold(m.param(2)) == self.casefold(channel):
                for item in m.text.split():
                    stripped = item.lstrip(prefix_chars)
                    nick = stripped.split("!", 1)[0]
                    names[nick] = item[:len(item) - len(stripped)]
        return names

    def names(self, channel: str, timeout: Optional[float] = None) -> dict[str, str]:
        """Asks NAMES now; returns {nick: prefix chars}."""
        start = self.mark()
        self.send("NAMES", channel)
        self.wait_for(self._end_of_names(channel), timeout, since=start,
                      what=f"end of NAMES for {channel}")
        return self.names_from(channel, since=start)

    def part(self, channel: str, reason: Optional[str] = None, *, wait: bool = True,
             timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """PARTs; with wait, returns our PART echo."""
        start = self.mark()
        self.send("PART", channel, *([reason] if reason is not None else []))
        if not wait:
            return None
        return self.wait_for(lambda m: m.command == "PART" and m.nick is not None
                             and self.same_nick(m.nick)
                             and self.casefold(m.target) == self.casefold(channel),
                             timeout, since=start, what=f"PART {channel}")

    def privmsg(self, target: str, text: str, *, tags: Optional[dict[str, str]] = None) -> None:
        """Sends PRIVMSG (no reply to wait for)."""
        self.send("PRIVMSG", target, text, tags=tags)

    def notice(self, target: str, text: str) -> None:
        """Sends NOTICE."""
        self.send("NOTICE", target, text)

    def action(self, target: str, text: str) -> None:
        """Sends a CTCP ACTION (/me)."""
        self.send("PRIVMSG", target, f"\x01ACTION {text}\x01")

    def topic(self, channel: str, text: Optional[str] = None, *, wait: bool = True,
              timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """Sets (text given) or asks the topic; with wait returns TOPIC / 332 / 331.

        Raises IrcError on 442, 482 or 403.
        """
        start = self.mark()
        self.send("TOPIC", channel, *([text] if text is not None else []))
        if not wait:
            return None
        reply = self.wait_for(lambda m: (m.command == "TOPIC"
                                         and self.casefold(m.target) == self.casefold(channel))
                              or (m.command in ("331", "332", "442", "482", "403")
                                  and self.casefold(m.param(1)) == self.casefold(channel)),
                              timeout, since=start, what=f"TOPIC {channel}")
        if reply.command in ("442", "482", "403"):
            raise IrcError(f"TOPIC {channel} refused: {reply}", reply)
        return reply

    def kick(self, channel: str, nick: str, reason: Optional[str] = None, *, wait: bool = True,
             timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """KICKs nick; with wait returns the KICK echo, or raises on 482/441/401."""
        start = self.mark()
        self.send("KICK", channel, nick, *([reason] if reason is not None else []))
        if not wait:
            return None
        reply = self.wait_for(lambda m: (m.command == "KICK"
                                         and self.casefold(m.target) == self.casefold(channel)
                                         and self.casefold(m.param(1)) == self.casefold(nick))
                              or m.command in ("401", "403", "441", "442", "482"),
                              timeout, since=start, what=f"KICK {channel} {nick}")
        if reply.command != "KICK":
            raise IrcError(f"KICK refused: {reply}", reply)
        return reply

    def mode(self, target: str, *args: str, wait: bool = True,
             timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """Sends MODE; with wait and args, returns the MODE echo (or raises on an error numeric)."""
        start = self.mark()
        self.send("MODE", target, *args)
        if not wait:
            return None
        if not args:
            return self.wait_for(lambda m: m.command in ("324", "221"), timeout, since=start,
                                 what=f"MODE {target}")
        reply = self.wait_for(lambda m: (m.command == "MODE"
                                         and self.casefold(m.target) == self.casefold(target))
                              or m.command in ("401", "403", "441", "472", "482", "501", "502"),
                              timeout, since=start, what=f"MODE {target} {' '.join(args)}")
        if reply.command != "MODE":
            raise IrcError(f"MODE refused: {reply}", reply)
        return reply

    def set_nick(self, new_nick: str, *, wait: bool = True,
                 timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """Changes nick; with wait returns the NICK echo, or raises IrcError (433, 432, ...)."""
        start = self.mark()
        old = self.nick
        self.send("NICK", new_nick)
        if not wait:
            return None
        reply = self.wait_for(lambda m: (m.command == "NICK" and m.nick is not None
                                         and self.casefold(m.nick) == self.casefold(old))
                              or m.command in ("431", "432", "433", "436", "437", "438"),
                              timeout, since=start, what=f"NICK {new_nick}")
        if reply.command != "NICK":
            raise IrcError(f"NICK {new_nick} refused: {reply}", reply)
        return reply

    def away(self, message: Optional[str] = None, *, wait: bool = True,
             timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """Sets (message) or clears AWAY; with wait returns 306 / 305."""
        start = self.mark()
        self.send("AWAY", *([message] if message else []))
        if not wait:
            return None
        want = "306" if message else "305"
        return self.wait_for(msg(want), timeout, since=start, what=f"AWAY reply {want}")

    def invite(self, nick: str, channel: str, *, wait: bool = True,
               timeout: Optional[float] = None) -> Optional[IrcMessage]:
        """INVITEs nick to channel; with wait returns 341, or raises on an error numeric."""
        start = self.mark()
        self.send("INVITE", nick, channel)
        if not wait:
            return None
        reply = self.wait_for(lambda m: m.command in ("341", "401", "403", "442", "443", "482"),
                              timeout, since=start, what=f"INVITE {nick} {channel}")
        if reply.command != "341":
            raise IrcError(f"INVITE refused: {reply}", reply)
        return reply

    def whois(self, nick: str, timeout: Optional[float] = None) -> list[IrcMessage]:
        """WHOIS nick; returns every reply line up to 318 (raises on 401)."""
        start = self.mark()
        self.send("WHOIS", nick)
        end = self.wait_for(lambda m: m.command in ("318", "401"), timeout, since=start,
                            what=f"WHOIS {nick}")
        if end.command == "401":
            raise IrcError(f"no such nick {nick}", end)
        return [m for m in self.received[start:] if m.command.isdigit()
                and self.casefold(m.param(1)) == self.casefold(nick)]

    def quit(self, reason: str = "bye", timeout: float = 5.0) -> None:
        """Sends QUIT, waits (bounded) for the server to close, then closes."""
        if self.sock is None or self.closed:
            self.close()
            return
        try:
            self.send("QUIT", reason)
            deadline = time.monotonic() + timeout
            while not self.closed and time.monotonic() < deadline:
                self._read_some(deadline)
        except IrcError:
            pass
        finally:
            self.close()
