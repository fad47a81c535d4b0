"""A synchronous slixmpp client for one test user.

slixmpp is asyncio-based; each XmppTestClient owns a private event loop on a
daemon thread, and every public method blocks with a timeout, so tests stay
plain `unittest`. Answers are returned as raw `xml.etree.ElementTree`
elements (the whole `<iq/>`), so a test can assert on exactly what came over
the wire; error replies are returned too, never raised.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import queue
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

NS_CLIENT = "jabber:client"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DISCO_INFO = "http://jabber.org/protocol/disco#info"
NS_DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
NS_VERSION = "jabber:iq:version"
NS_PING = "urn:xmpp:ping"
NS_REGISTER = "jabber:iq:register"
NS_GATEWAY = "jabber:iq:gateway"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_DATA = "jabber:x:data"

DEFAULT_TIMEOUT = 10.0


def q(ns: str, tag: str) -> str:
    """Clark notation `{ns}tag` for ElementTree lookups."""
    return f"{{{ns}}}{tag}"


def to_string(element: Optional[ET.Element]) -> str:
    """Serialises an element for assertion messages."""
    if element is None:
        return "<none>"
    return ET.tostring(element, encoding="unicode")


def iq_type(iq: ET.Element) -> str:
    """The `type` attribute of an iq."""
    return iq.get("type", "")


def error_condition(stanza: ET.Element) -> Optional[str]:
    """The defined condition of an error reply (`forbidden`, ...), or None."""
    error = stanza.find(q(NS_CLIENT, "error"))
    if error is None:
        error = stanza.find("error")
    if error is None:
        return None
    for child in error:
        if child.tag.startswith("{" + NS_STANZAS + "}") and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return None


def text_of(parent: Optional[ET.Element], ns: str, tag: str) -> Optional[str]:
    """Text of the first child `{ns}tag` of parent ('' when empty), or None if absent."""
    if parent is None:
        return None
    child = parent.find(q(ns, tag))
    if child is None:
        return None
    return child.text or ""


# -- XEP-0004 data forms ----------------------------------------------------

@dataclass
class FormField:
    """One field of a data form."""

    var: Optional[str]
    type: Optional[str]
    label: Optional[str]
    values: list[str] = field(default_factory=list)
    required: bool = False


def parse_form(x: Optional[ET.Element]) -> dict[str, FormField]:
    """Fields of a `<x xmlns='jabber:x:data'/>` keyed by var (fixed fields are skipped)."""
    fields: dict[str, FormField] = {}
    if x is None:
        return fields
    for f in x.findall(q(NS_DATA, "field")):
        var = f.get("var")
        if not var:
            continue
        fields[var] = FormField(
            var=var, type=f.get("type"), label=f.get("label"),
            values=[v.text or "" for v in f.findall(q(NS_DATA, "value"))],
            required=f.find(q(NS_DATA, "required")) is not None)
    return fields


def build_submit_form(values: dict[str, str | Iterable[str]],
                      template: Optional[ET.Element] = None) -> ET.Element:
    """A `type='submit'` form: every field of template (with its value), overridden by values.

    Like a real client, it sends back hidden fields (FORM_TYPE) and the
    defaults it was shown.
    """
    merged: dict[str, list[str]] = {}
    for var, f in parse_form(template).items():
        if f.type == "fixed":
            continue
        merged[var] = list(f.values)
    for var, value in values.items():
        merged[var] = [value] if isinstance(value, str) else list(value)
    x = ET.Element(q(NS_DATA, "x"), {"type": "submit"})
    for var, vals in merged.items():
        fe = ET.SubElement(x, q(NS_DATA, "field"), {"var": var})
        for v in vals:
            ET.SubElement(fe, q(NS_DATA, "value")).text = v
    return x


# -- parsed answers -----------------------------------------------------------

@dataclass
class DiscoInfo:
    """A disco#info answer: identities as (category, type, name), feature vars."""

    iq: ET.Element
    identities: list[tuple[str, str, str]]
    features: list[str]


@dataclass
class DiscoItem:
    """One disco#items entry."""

    jid: str
    node: Optional[str]
    name: Optional[str]


@dataclass
class CommandResult:
    """The `<command/>` of an XEP-0050 answer (None fields when absent or on error)."""

    iq: ET.Element
    command: Optional[ET.Element]
    status: Optional[str]
    sessionid: Optional[str]
    form: Optional[ET.Element]
    notes: list[tuple[str, str]]

    def actions(self) -> list[str]:
        """Allowed next actions (`next`, `complete`, ...) from `<actions/>`."""
        if self.command is None:
            return []
        actions = self.command.find(q(NS_COMMANDS, "actions"))
        if actions is None:
            return []
        return [child.tag.split("}", 1)[1] for child in actions]


class ClientError(RuntimeError):
    """The client could not connect or an answer did not come in time."""


class _LoopThread:
    """An asyncio loop running on its own daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @staticmethod
    async def _cancel_pending() -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def call(self, coro, timeout: float):
        """Runs coro on the loop and waits for it at most timeout seconds."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise ClientError(f"operation did not finish within {timeout:.1f}s") from None

    def close(self, timeout: float = 5.0) -> None:
        """Cancels what is still pending on the loop (bounded), then stops it."""
        if self.loop.is_closed():
            return
        if self._thread.is_alive():
            try:
                self.call(self._cancel_pending(), timeout)
            except (ClientError, RuntimeError):
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


class XmppTestClient:
    """One logged-in test user; all methods block with bounded waits."""

    def __init__(self, jid: str, password: str, port: int, host: str = "127.0.0.1", *,
                 resource: str = "test", timeout: float = DEFAULT_TIMEOUT) -> None:
        self.bare_jid = jid
        self.full_jid = f"{jid}/{resource}"
        self.password = password
        self.address = (host, port)
        self.timeout = timeout
        self.messages: "queue.Queue[ET.Element]" = queue.Queue()
        self._loop = _LoopThread(f"xmpp-{jid}")
        self._xmpp: Optional[slixmpp.ClientXMPP] = None
        self._connected = False

    # -- connection --------------------------------------------------------

    def connect(self, deadline_seconds: float = 20.0, send_presence: bool = True) -> "XmppTestClient":
        """Connects, authenticates and binds within deadline_seconds; raises ClientError."""
        self._loop.call(self._make_client(), 5.0)
        try:
            self._loop.call(self._connect(deadline_seconds, send_presence), deadline_seconds + 5)
        except BaseException:
            self.close()
            raise
        self._connected = True
        return self

    async def _make_client(self) -> None:
        xmpp = slixmpp.ClientXMPP(self.full_jid, self.password)
        xmpp.loop = self._loop.loop
        xmpp.add_event_handler("message", self._on_message)
        self._xmpp = xmpp

    def _on_message(self, msg) -> None:
        self.messages.put(copy.deepcopy(msg.xml))

    async def _connect(self, deadline_seconds: float, send_presence: bool) -> None:
        xmpp = self._xmpp
        assert xmpp is not None
        loop = asyncio.get_running_loop()
        done: asyncio.Future = loop.create_future()
        failures: list[str] = []

        def on_session_start(_event) -> None:
            if not done.done():
                done.set_result(True)

        def on_failed_auth(_event) -> None:
            if not done.done():
                done.set_exception(ClientError(f"authentication failed for {self.bare_jid}"))

        def on_connection_failed(error) -> None:
            failures.append(str(error))

        xmpp.add_event_handler("session_start", on_session_start)
        xmpp.add_event_handler("failed_all_auth", on_failed_auth)
        xmpp.add_event_handler("connection_failed", on_connection_failed)
        # Plain TCP on loopback: the test servers offer no TLS.
        xmpp.connect(self.address, force_starttls=False, disable_starttls=True)
        try:
            await asyncio.wait_for(done, deadline_seconds)
        except asyncio.TimeoutError:
            xmpp.cancel_connection_attempt()
            xmpp.abort()
            raise ClientError(f"{self.bare_jid} not connected to {self.address} within "
                              f"{deadline_seconds}s; failures: {failures[-3:]}") from None
        if send_presence:
            xmpp.send_presence()

    def disconnect(self, timeout: float = 5.0) -> None:
        """Closes the stream politely (bounded), then stops the loop thread."""
        if self._xmpp is not None and self._connected:
            try:
                self._loop.call(self._disconnect(timeout), timeout + 2)
            except ClientError:
                pass
        self._connected = False
        self.close()

    async def _disconnect(self, timeout: float) -> None:
        xmpp = self._xmpp
        try:
            await asyncio.wait_for(xmpp.disconnect(wait=min(2.0, timeout)), timeout)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing anyway
            xmpp.abort()

    def close(self) -> None:
        """Stops the loop thread without talking to the server."""
        self._loop.close()

    def __enter__(self) -> "XmppTestClient":
        return self.connect()

    def __exit__(self, *exc) -> None:
        self.disconnect()

    # -- raw iq ------------------------------------------------------------

    def send_iq(self, to: str, type_: str, payload: ET.Element | str | None = None,
                timeout: Optional[float] = None) -> ET.Element:
        """Sends an iq get/set and returns the answering `<iq/>` (result or error)."""
        if isinstance(payload, str):
            payload = ET.fromstring(payload)
        timeout = timeout or self.timeout
        return self._loop.call(self._send_iq(to, type_, payload, timeout), timeout + 5)

    async def _send_iq(self, to: str, type_: str, payload: Optional[ET.Element],
                       timeout: float) -> ET.Element:
        xmpp = self._xmpp
        if xmpp is None:
            raise ClientError("not connected")
        iq = xmpp.make_iq(ito=to, itype=type_)
        if payload is not None:
            iq.xml.append(copy.deepcopy(payload))
        try:
            answer = await iq.send(timeout=timeout)
        except IqError as exc:
            return copy.deepcopy(exc.iq.xml)
        except IqTimeout:
            raise ClientError(f"no answer from {to} within {timeout}s to "
                              f"{to_string(payload)}") from None
        return copy.deepcopy(answer.xml)

    def send_raw(self, data: str) -> None:
        """Writes raw XML on the stream (for malformed-input tests)."""
        self._loop.loop.call_soon_threadsafe(self._xmpp.send_raw, data)

    # -- messages ------------------------------------------------------------

    def send_message(self, to: str, body: str, mtype: str = "chat") -> None:
        """Sends a message (fire and forget)."""
        def send() -> None:
            self._xmpp.send_message(mto=to, mbody=body, mtype=mtype)
        self._loop.loop.call_soon_threadsafe(send)

    def wait_message(self, predicate: Callable[[ET.Element], bool] = lambda m: True,
                     timeout: Optional[float] = None) -> ET.Element:
        """Returns the first collected message matching predicate; raises ClientError on timeout.

        Messages that do not match are dropped.
        """
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ClientError("no matching message in time")
            try:
                msg = self.messages.get(timeout=remaining)
            except queue.Empty:
                continue
            if predicate(msg):
                return msg

    # -- service discovery, version, ping -------------------------------------

    def disco_info(self, to: str, node: Optional[str] = None) -> DiscoInfo:
        """disco#info; identities/features are empty on an error reply."""
        query = ET.Element(q(NS_DISCO_INFO, "query"), {"node": node} if node else {})
        iq = self.send_iq(to, "get", query)
        identities, features = [], []
        result = iq.find(q(NS_DISCO_INFO, "query"))
        if iq_type(iq) == "result" and result is not None:
            identities = [(i.get("category", ""), i.get("type", ""), i.get("name", ""))
                          for i in result.findall(q(NS_DISCO_INFO, "identity"))]
            features = [f.get("var", "") for f in result.findall(q(NS_DISCO_INFO, "feature"))]
        return DiscoInfo(iq, identities, features)

    def disco_items(self, to: str, node: Optional[str] = None) -> tuple[ET.Element, list[DiscoItem]]:
        """disco#items: the raw iq and its items."""
        query = ET.Element(q(NS_DISCO_ITEMS, "query"), {"node": node} if node else {})
        iq = self.send_iq(to, "get", query)
        items = []
        result = iq.find(q(NS_DISCO_ITEMS, "query"))
        if iq_type(iq) == "result" and result is not None:
            items = [DiscoItem(i.get("jid", ""), i.get("node"), i.get("name"))
                     for i in result.findall(q(NS_DISCO_ITEMS, "item"))]
        return iq, items

    def version(self, to: str) -> tuple[ET.Element, Optional[str], Optional[str], Optional[str]]:
        """jabber:iq:version: (iq, name, version, os)."""
        iq = self.send_iq(to, "get", ET.Element(q(NS_VERSION, "query")))
        query = iq.find(q(NS_VERSION, "query"))
        return (iq, text_of(query, NS_VERSION, "name"), text_of(query, NS_VERSION, "version"),
                text_of(query, NS_VERSION, "os"))

    def ping(self, to: str) -> ET.Element:
        """XEP-0199 ping: the answering iq."""
        return self.send_iq(to, "get", ET.Element(q(NS_PING, "ping")))

    # -- XEP-0077 in-band registration ---------------------------------------

    def register_get(self, to: str) -> ET.Element:
        """Asks for the registration fields (and current registration)."""
        return self.send_iq(to, "get", ET.Element(q(NS_REGISTER, "query")))

    def register_set(self, to: str, **fields: str) -> ET.Element:
        """Registers with legacy fields, e.g. register_set(domain, nick='alice1')."""
        query = ET.Element(q(NS_REGISTER, "query"))
        for name, value in fields.items():
            ET.SubElement(query, q(NS_REGISTER, name)).text = value
        return self.send_iq(to, "set", query)

    def register_set_form(self, to: str, values: dict[str, str],
                          template: Optional[ET.Element] = None) -> ET.Element:
        """Registers by submitting a data form (FORM_TYPE jabber:iq:register)."""
        query = ET.Element(q(NS_REGISTER, "query"))
        values = {"FORM_TYPE": NS_REGISTER, **values}
        query.append(build_submit_form(values, template))
        return self.send_iq(to, "set", query)

    def register_remove(self, to: str) -> ET.Element:
        """Cancels the registration (`<remove/>`)."""
        query = ET.Element(q(NS_REGISTER, "query"))
        ET.SubElement(query, q(NS_REGISTER, "remove"))
        return self.send_iq(to, "set", query)

    @staticmethod
    def register_query(iq: ET.Element) -> Optional[ET.Element]:
        """The `<query xmlns='jabber:iq:register'/>` of an answer."""
        return iq.find(q(NS_REGISTER, "query"))

    @staticmethod
    def register_form(iq: ET.Element) -> Optional[ET.Element]:
        """The data form inside a registration answer, if any."""
        query = iq.find(q(NS_REGISTER, "query"))
        return None if query is None else query.find(q(NS_DATA, "x"))

    # -- XEP-0100 gateway prompt ------------------------------------------------

    def gateway_get(self, to: str) -> tuple[ET.Element, Optional[str], Optional[str]]:
        """jabber:iq:gateway get: (iq, desc, prompt)."""
        iq = self.send_iq(to, "get", ET.Element(q(NS_GATEWAY, "query")))
        query = iq.find(q(NS_GATEWAY, "query"))
        return iq, text_of(query, NS_GATEWAY, "desc"), text_of(query, NS_GATEWAY, "prompt")

    def gateway_set(self, to: str, prompt: str) -> tuple[ET.Element, Optional[str]]:
        """jabber:iq:gateway set: (iq, jid) where jid is None on error."""
        query = ET.Element(q(NS_GATEWAY, "query"))
        ET.SubElement(query, q(NS_GATEWAY, "prompt")).text = prompt
        iq = self.send_iq(to, "set", query)
        return iq, text_of(iq.find(q(NS_GATEWAY, "query")), NS_GATEWAY, "jid")

    # -- XEP-0050 ad-hoc commands -------------------------------------------

    def command_list(self, to: str) -> tuple[ET.Element, list[DiscoItem]]:
        """disco#items on the commands node."""
        return self.disco_items(to, NS_COMMANDS)

    def command_execute(self, to: str, node: str, action: Optional[str] = "execute",
                        sessionid: Optional[str] = None,
                        form: Optional[ET.Element] = None) -> CommandResult:
        """One step of a command: execute / next / complete / cancel, with an optional form."""
        attrs = {"node": node}
        if action:
            attrs["action"] = action
        if sessionid:
            attrs["sessionid"] = sessionid
        command = ET.Element(q(NS_COMMANDS, "command"), attrs)
        if form is not None:
            command.append(form)
        return self.parse_command(self.send_iq(to, "set", command))

    @staticmethod
    def parse_command(iq: ET.Element) -> CommandResult:
        """Splits an XEP-0050 answer into its parts."""
        command = iq.find(q(NS_COMMANDS, "command"))
        if command is None:
            return CommandResult(iq, None, None, None, None, [])
        notes = [(n.get("type", "info"), n.text or "")
                 for n in command.findall(q(NS_COMMANDS, "note"))]
        return CommandResult(iq, command, command.get("status"), command.get("sessionid"),
                             command.find(q(NS_DATA, "x")), notes)
