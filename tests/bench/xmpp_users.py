"""Many XMPP users behind one external component connection (XEP-0114).

The load tool does not log in a thousand client accounts: it connects to the
XMPP server as the component `users.localhost` and speaks for
`u1@users.localhost/r` ... `uK@users.localhost/r`. The server routes
component-to-component traffic, so the gateway sees ordinary users.

Incoming stanzas are parsed with the C-accelerated ElementTree pull parser
and handed, one top-level element at a time, to the callback the scenario
installed (`on_stanza`). Stanzas are dropped after the callback, so memory
stays flat however long a scenario runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import xml.etree.ElementTree as ET
from typing import Callable, Optional
from xml.sax.saxutils import escape, quoteattr

STREAM_NS = "http://etherx.jabber.org/streams"
COMPONENT_NS = "jabber:component:accept"
MUC_NS = "http://jabber.org/protocol/muc"
MUC_USER_NS = "http://jabber.org/protocol/muc#user"
RESOURCE = "r"

_STATUS_PATH = f"{{{MUC_USER_NS}}}x/{{{MUC_USER_NS}}}status"


class XmppError(RuntimeError):
    """The component stream failed (refused handshake, stream error, closed)."""


def local_name(tag: str) -> str:
    """`{ns}name` -> `name`."""
    return tag.rsplit("}", 1)[-1]


def status_codes(presence: ET.Element) -> set[str]:
    """The MUC status codes of a presence (`110`, `210`, ...)."""
    return {s.get("code", "") for s in presence.iterfind(_STATUS_PATH)}


def child_text(element: ET.Element, name: str) -> Optional[str]:
    """The text of the first direct child with this local name, or None."""
    for child in element:
        if local_name(child.tag) == name:
            return child.text or ""
    return None


class ComponentUsers:
    """One component stream that sends and receives on behalf of many users."""

    def __init__(self, host: str, port: int, domain: str, secret: str) -> None:
        self.host = host
        self.port = port
        self.domain = domain
        self.secret = secret
        self.on_stanza: Callable[[ET.Element, int], None] = lambda _s, _t: None
        self.received = 0
        self.closed: Optional[str] = None
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._task: Optional[asyncio.Task] = None
        self._root: Optional[ET.Element] = None
        self._depth = 0
        self._parser: Optional[ET.XMLPullParser] = None

    def jid(self, user: str) -> str:
        """The full JID the tool uses for a user name."""
        return f"{user}@{self.domain}/{RESOURCE}"

    def bare(self, user: str) -> str:
        """The bare JID of a user name."""
        return f"{user}@{self.domain}"

    # -- connection -----------------------------------------------------------

    async def connect(self, timeout: float = 15.0) -> None:
        """Opens the stream and completes the handshake within timeout."""
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), timeout)
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._writer.write(
            (f"<stream:stream xmlns='{COMPONENT_NS}' xmlns:stream='{STREAM_NS}' "
             f"to='{self.domain}'>").encode())
        stream_id = await asyncio.wait_for(self._read_header(), timeout)
        digest = hashlib.sha1((stream_id + self.secret).encode()).hexdigest()
        self._writer.write(f"<handshake>{digest}</handshake>".encode())
        await self._writer.drain()
        answer = await asyncio.wait_for(self._next_stanza(), timeout)
        if local_name(answer.tag) != "handshake":
            raise XmppError(f"handshake refused: {ET.tostring(answer)[:300]!r}")
        self._task = asyncio.get_running_loop().create_task(self._read_loop())

    async def close(self) -> None:
        """Ends the stream and stops reading (bounded)."""
        if self._writer is not None:
            try:
                self._writer.write(b"</stream:stream>")
                await asyncio.wait_for(self._writer.drain(), 5)
            except (OSError, asyncio.TimeoutError, ConnectionError):
                pass
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await asyncio.wait_for(self._task, 5)
            except (asyncio.CancelledError, asyncio.TimeoutError, Exception):  # noqa: BLE001
                pass

    async def _read_header(self) -> str:
        while True:
            data = await self._reader.read(65536)
            if not data:
                raise XmppError("server closed the stream before its header")
            self._parser.feed(data)
            for event, element in self._parser.read_events():
                if event == "start" and self._root is None:
                    self._root = element
                    self._depth = 1
                    return element.get("id", "")

    async def _next_stanza(self) -> ET.Element:
        """Only used during the handshake, before the read loop runs."""
        while True:
            for event, element in self._parser.read_events():
                if self._is_top(event):
                    return element
            data = await self._reader.read(65536)
            if not data:
                raise XmppError("server closed the stream during the handshake")
            self._parser.feed(data)

    def _is_top(self, event: str) -> bool:
        """Tracks the depth; True for the end of a top-level element (a stanza)."""
        if event == "start":
            self._depth += 1
            return False
        self._depth -= 1
        return self._depth == 1

    async def _read_loop(self) -> None:
        try:
            while True:
                data = await self._reader.read(1 << 18)
                if not data:
                    self.closed = "server closed the stream"
                    return
                now = time.monotonic_ns()
                self._parser.feed(data)
                for event, element in self._parser.read_events():
                    if not self._is_top(event):
                        continue
                    self.received += 1
                    if local_name(element.tag) == "error":
                        self.closed = "stream error: " + ET.tostring(element).decode()[:300]
                        return
                    self.on_stanza(element, now)
                # Drop the handled stanzas (a stanza still being parsed lives on
                # in the parser and comes back whole with its end event).
                self._root.clear()
        except ET.ParseError as exc:
            self.closed = f"XML parse error: {exc}"
        except (OSError, ConnectionError) as exc:
            self.closed = f"read failed: {exc}"

    # -- sending --------------------------------------------------------------

    def send_raw(self, data: str) -> None:
        """Queues raw XML; call drain() now and then."""
        if self.closed:
            raise XmppError(self.closed)
        self._writer.write(data.encode())

    async def drain(self) -> None:
        """Waits until the socket buffer accepts more."""
        await self._writer.drain()

    def join(self, user: str, occupant: str) -> None:
        """Available presence to room/nick, asking for no MUC history."""
        self.send_raw(f"<presence from={quoteattr(self.jid(user))} to={quoteattr(occupant)}>"
                      f"<x xmlns='{MUC_NS}'><history maxstanzas='0'/></x></presence>")

    def leave(self, user: str, occupant: str) -> None:
        """Unavailable presence to room/nick."""
        self.send_raw(f"<presence type='unavailable' from={quoteattr(self.jid(user))} "
                      f"to={quoteattr(occupant)}/>")

    def groupchat(self, user: str, room: str, body: str, stanza_id: str) -> None:
        """A groupchat message from user to the bare room JID."""
        self.send_raw(f"<message type='groupchat' id={quoteattr(stanza_id)} "
                      f"from={quoteattr(self.jid(user))} to={quoteattr(room)}>"
                      f"<body>{escape(body)}</body></message>")
