"""A synchronous slixmpp client for one test user.

slixmpp is asyncio-based; each XmppTestClient owns a private event loop on a
daemon thread, and every public method blocks with a timeout, so tests stay
plain `unittest`. Answers are returned as raw `xml.etree.ElementTree`
elements (the whole `<iq/>`), so a test can assert on exactly what came over
the wire; error replies are returned too, never raised.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import copy
import queue
import secrets
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
                 resource: str = "test", timeout: float = DEFAULT_TIMEOUT,
                 ca_file: Optional[str] = None, create_account: bool = False) -> None:
        """With ca_file the client requires STARTTLS and verifies the server's
        certificate against that file and the JID's domain; without it the
        stream stays plain text (the loopback test servers offer no TLS).
        With create_account, connect() first creates the account by in-band
        registration (XEP-0077), as a client's "create account" does."""
        self.ca_file = ca_file
        self.create_account = create_account
        self.registration_error: Optional[str] = None
        self.tls_certificate: Optional[str] = None
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
        if self.create_account:
            xmpp.register_plugin("xep_0077")
            xmpp.add_event_handler("register", self._register)
            # slixmpp 1.8 holds back every iq until the session starts, the
            # registration's too (it comes before authentication).
            xmpp._always_send_everything = True
        self._xmpp = xmpp

    async def _register(self, _form) -> None:
        """Answers the server's registration form with the JID's user and password."""
        iq = self._xmpp.Iq()
        iq["type"] = "set"
        iq["register"]["username"] = slixmpp.JID(self.bare_jid).user
        iq["register"]["password"] = self.password
        try:
            await iq.send(timeout=self.timeout)
        except (IqError, IqTimeout) as error:
            self.registration_error = f"registration refused or unanswered: {error}"

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
                why = f" ({self.registration_error})" if self.registration_error else ""
                done.set_exception(ClientError(f"authentication failed for {self.bare_jid}{why}"))

        def on_connection_failed(error) -> None:
            failures.append(str(error))

        xmpp.add_event_handler("session_start", on_session_start)
        xmpp.add_event_handler("failed_all_auth", on_failed_auth)
        xmpp.add_event_handler("connection_failed", on_connection_failed)
        if self.ca_file is not None:
            def on_certificate(pem: str) -> None:
                self.tls_certificate = pem

            def on_invalid_chain(error) -> None:
                if not done.done():
                    done.set_exception(ClientError(f"{self.bare_jid}: the server's certificate "
                                                   f"was refused: {error}"))

            xmpp.ca_certs = self.ca_file
            xmpp.add_event_handler("ssl_cert", on_certificate)
            xmpp.add_event_handler("ssl_invalid_chain", on_invalid_chain)
            xmpp.connect(self.address, force_starttls=True, disable_starttls=False)
        else:
            # Plain TCP on loopback: the test servers offer no TLS.
            xmpp.connect(self.address, force_starttls=False, disable_starttls=True)
        try:
            await asyncio.wait_for(done, deadline_seconds)
        except asyncio.TimeoutError:
            xmpp.cancel_connection_attempt()
            xmpp.abort()
            raise ClientError(f"{self.bare_jid} not connected to {self.address} within "
                              f"{deadline_seconds}s; failures: {failures[-3:]}") from None
        except ClientError:
            xmpp.abort()
            raise
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

    def omemo_devicelist(self, to: str) -> ET.Element:
        """Asks `to` for its OMEMO device list, the first thing Conversations
        asks a contact before it offers encryption; returns the answering iq."""
        pubsub = ET.Element("{http://jabber.org/protocol/pubsub}pubsub")
        ET.SubElement(pubsub, "{http://jabber.org/protocol/pubsub}items",
                      {"node": "eu.siacs.conversations.axolotl.devicelist"})
        return self.send_iq(to, "get", pubsub)

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


# -- XEP-0045 multi-user chat -----------------------------------------------
#
# MucTestClient keeps every incoming message and presence, in arrival order,
# in a bounded log, so a test can wait for one stanza and then look at what
# came before it (occupant presences before the self-presence, ...). The
# helpers below XmppTestClient build MUC stanzas; the module functions read
# muc#user payloads.

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_ADMIN = NS_MUC + "#admin"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_CONFERENCE = "jabber:x:conference"


def bare_jid(jid: Optional[str]) -> str:
    """The JID without its resource."""
    return (jid or "").split("/", 1)[0]


def resource_of(jid: Optional[str]) -> Optional[str]:
    """The resource of a full JID (the occupant nick of a room JID), or None."""
    if not jid or "/" not in jid:
        return None
    return jid.split("/", 1)[1]


def local_tag(stanza: ET.Element) -> str:
    """`message`, `presence` or `iq`, whatever the namespace."""
    return stanza.tag.split("}", 1)[-1]


def stanza_type(stanza: ET.Element) -> str:
    """The type, with the RFC 6121 defaults (`available` presence, `normal` message)."""
    default = "available" if local_tag(stanza) == "presence" else "normal"
    return stanza.get("type", default)


def body_of(stanza: Optional[ET.Element]) -> Optional[str]:
    """The `<body/>` text of a message ('' when empty), or None."""
    return text_of(stanza, NS_CLIENT, "body")


def subject_of(stanza: Optional[ET.Element]) -> Optional[str]:
    """The `<subject/>` text of a message ('' when empty), or None when absent."""
    return text_of(stanza, NS_CLIENT, "subject")


def show_of(stanza: Optional[ET.Element]) -> Optional[str]:
    """The `<show/>` of a presence, or None."""
    return text_of(stanza, NS_CLIENT, "show")


def status_of(stanza: Optional[ET.Element]) -> Optional[str]:
    """The `<status/>` text of a presence, or None."""
    return text_of(stanza, NS_CLIENT, "status")


def muc_user(stanza: Optional[ET.Element]) -> Optional[ET.Element]:
    """The `<x xmlns='http://jabber.org/protocol/muc#user'/>` payload, or None."""
    if stanza is None:
        return None
    return stanza.find(q(NS_MUC_USER, "x"))


def status_codes(stanza: Optional[ET.Element]) -> set[str]:
    """The muc#user status codes (`'110'`, `'303'`, ...) of a stanza."""
    x = muc_user(stanza)
    if x is None:
        return set()
    return {s.get("code", "") for s in x.findall(q(NS_MUC_USER, "status"))}


@dataclass
class MucItem:
    """The muc#user `<item/>` of an occupant presence."""

    affiliation: Optional[str]
    role: Optional[str]
    nick: Optional[str]
    jid: Optional[str]
    actor: Optional[str]
    reason: Optional[str]


def muc_item(stanza: Optional[ET.Element]) -> Optional[MucItem]:
    """The first muc#user item (affiliation, role, new nick, actor nick, reason), or None."""
    x = muc_user(stanza)
    item = None if x is None else x.find(q(NS_MUC_USER, "item"))
    if item is None:
        return None
    actor = item.find(q(NS_MUC_USER, "actor"))
    return MucItem(affiliation=item.get("affiliation"), role=item.get("role"),
                   nick=item.get("nick"), jid=item.get("jid"),
                   actor=None if actor is None else actor.get("nick"),
                   reason=text_of(item, NS_MUC_USER, "reason"))


def muc_invite(stanza: Optional[ET.Element]) -> Optional[ET.Element]:
    """The muc#user `<invite/>` of a message, or None."""
    x = muc_user(stanza)
    return None if x is None else x.find(q(NS_MUC_USER, "invite"))


def is_presence(stanza: ET.Element) -> bool:
    """True for a `<presence/>`."""
    return local_tag(stanza) == "presence"


def is_message(stanza: ET.Element) -> bool:
    """True for a `<message/>`."""
    return local_tag(stanza) == "message"


def presence_from(jid: str, *, type_: Optional[str] = None,
                  codes: Iterable[str] = ()) -> Callable[[ET.Element], bool]:
    """Predicate: a presence from exactly jid (a bare jid matches any resource when
    it has none), of type_ (None: any), carrying every status code in codes."""
    wanted = set(codes)

    def predicate(stanza: ET.Element) -> bool:
        if not is_presence(stanza):
            return False
        sender = stanza.get("from", "")
        if "/" in jid:
            if sender != jid:
                return False
        elif bare_jid(sender) != jid:
            return False
        if type_ is not None and stanza_type(stanza) != type_:
            return False
        return wanted <= status_codes(stanza)

    return predicate


def message_from(jid: str, *, type_: Optional[str] = None, body: Optional[str] = None,
                 id_: Optional[str] = None,
                 with_subject: Optional[bool] = None) -> Callable[[ET.Element], bool]:
    """Predicate: a message from exactly jid (bare jid: the bare JID itself only, not
    its occupants), optional type, body, id, and presence of `<subject/>`."""

    def predicate(stanza: ET.Element) -> bool:
        if not is_message(stanza) or stanza.get("from", "") != jid:
            return False
        if type_ is not None and stanza_type(stanza) != type_:
            return False
        if body is not None and body_of(stanza) != body:
            return False
        if id_ is not None and stanza.get("id") != id_:
            return False
        if with_subject is not None and (subject_of(stanza) is not None) != with_subject:
            return False
        return True

    return predicate


@dataclass
class JoinResult:
    """What a MUC join produced: the error presence, or occupants + self-presence + subject."""

    room: str
    requested_nick: str
    error: Optional[ET.Element] = None
    occupants: list[ET.Element] = field(default_factory=list)
    self_presence: Optional[ET.Element] = None
    subject: Optional[ET.Element] = None
    # Arrival positions in the client's log, for ordering assertions.
    self_seq: int = -1
    subject_seq: int = -1
    occupant_seqs: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the self-presence (110) arrived and no error did."""
        return self.error is None and self.self_presence is not None

    @property
    def nick(self) -> Optional[str]:
        """The nick the room gave us (the self-presence's resource)."""
        return None if self.self_presence is None else resource_of(self.self_presence.get("from"))

    def occupant_nicks(self) -> list[str]:
        """Nicks of the other occupants announced before the self-presence."""
        return [resource_of(p.get("from")) or "" for p in self.occupants]

    def occupant(self, nick: str) -> Optional[ET.Element]:
        """The occupant presence for nick, or None."""
        for p in self.occupants:
            if resource_of(p.get("from")) == nick:
                return p
        return None


class StanzaLog:
    """Incoming stanzas in arrival order with sequence numbers; keeps the last maxlen.

    Filled from the client's loop thread, read from the test thread.
    """

    def __init__(self, maxlen: int = 5000) -> None:
        self._cond = threading.Condition()
        self._items: "collections.deque[tuple[int, ET.Element]]" = collections.deque(
            maxlen=maxlen)
        self._next = 0

    def append(self, stanza: ET.Element) -> None:
        with self._cond:
            self._items.append((self._next, stanza))
            self._next += 1
            self._cond.notify_all()

    def mark(self) -> int:
        """The sequence number the next stanza will get."""
        with self._cond:
            return self._next

    def find(self, predicate: Callable[[ET.Element], bool],
             since: int = 0) -> list[tuple[int, ET.Element]]:
        """Every kept (seq, stanza) with seq >= since matching predicate."""
        with self._cond:
            items = list(self._items)
        return [(seq, s) for seq, s in items if seq >= since and predicate(s)]

    def wait(self, predicate: Callable[[ET.Element], bool], timeout: float,
             since: int = 0) -> Optional[tuple[int, ET.Element]]:
        """The first (seq, stanza) with seq >= since matching predicate, waiting up to
        timeout seconds; None on timeout."""
        deadline = time.monotonic() + timeout
        checked = since
        with self._cond:
            while True:
                for seq, stanza in self._items:
                    if seq >= checked and predicate(stanza):
                        return seq, stanza
                checked = max(checked, self._next)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(min(remaining, 0.5))

    def tail(self, count: int = 8) -> str:
        """The last stanzas, for failure messages."""
        with self._cond:
            items = list(self._items)[-count:]
        return "\n".join(f"  [{seq}] {to_string(s)}" for seq, s in items) or "  (nothing)"


class MucTestClient(XmppTestClient):
    """An XmppTestClient that also logs every message and presence (bounded) and
    speaks XEP-0045. `messages` and wait_message() keep working as before."""

    def __init__(self, *args, log_size: int = 5000, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.log = StanzaLog(log_size)

    async def _make_client(self) -> None:
        await super()._make_client()
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath
        # Registered handlers run for every stanza they match, besides
        # slixmpp's own (whose 'message' event needs a <body/>).
        for kind in ("message", "presence"):
            self._xmpp.register_handler(Callback(
                f"muc-test log {kind}", MatchXPath(f"{{{NS_CLIENT}}}{kind}"),
                lambda stanza: self.log.append(copy.deepcopy(stanza.xml))))

    # -- the log ------------------------------------------------------------

    def mark(self) -> int:
        """A position in the log; pass it as `since` to look only at later stanzas."""
        return self.log.mark()

    def wait_stanza(self, predicate: Callable[[ET.Element], bool],
                    timeout: Optional[float] = None, since: int = 0,
                    what: str = "stanza") -> ET.Element:
        """The first logged stanza at or after `since` matching predicate; raises ClientError."""
        return self.wait_stanza_seq(predicate, timeout, since, what)[1]

    def wait_stanza_seq(self, predicate: Callable[[ET.Element], bool],
                        timeout: Optional[float] = None, since: int = 0,
                        what: str = "stanza") -> tuple[int, ET.Element]:
        """wait_stanza() that also returns the stanza's position in the log."""
        timeout = timeout or self.timeout
        found = self.log.wait(predicate, timeout, since)
        if found is None:
            raise ClientError(f"{self.full_jid}: no {what} within {timeout:.1f}s; last stanzas:\n"
                              + self.log.tail())
        return found

    def wait_presence(self, predicate: Callable[[ET.Element], bool] = lambda p: True,
                      timeout: Optional[float] = None, since: int = 0,
                      what: str = "presence") -> ET.Element:
        """The first presence at or after `since` matching predicate."""
        return self.wait_stanza(lambda s: is_presence(s) and predicate(s), timeout, since, what)

    def wait_groupchat(self, predicate: Callable[[ET.Element], bool] = lambda m: True,
                       timeout: Optional[float] = None, since: int = 0,
                       what: str = "message") -> ET.Element:
        """The first message at or after `since` matching predicate (any type)."""
        return self.wait_stanza(lambda s: is_message(s) and predicate(s), timeout, since, what)

    def wait_error_presence(self, from_jid: str, timeout: Optional[float] = None,
                            since: int = 0) -> ET.Element:
        """A presence type='error' from from_jid (a bare room JID matches any nick)."""
        return self.wait_presence(presence_from(from_jid, type_="error"), timeout, since,
                                  f"error presence from {from_jid}")

    def wait_message_error(self, from_jid: str, timeout: Optional[float] = None,
                           since: int = 0) -> ET.Element:
        """A message type='error' from from_jid (exact match)."""
        return self.wait_groupchat(message_from(from_jid, type_="error"), timeout, since,
                                   f"error message from {from_jid}")

    def logged(self, predicate: Callable[[ET.Element], bool] = lambda s: True,
               since: int = 0) -> list[ET.Element]:
        """Every logged stanza at or after `since` matching predicate (no waiting)."""
        return [s for _, s in self.log.find(predicate, since)]

    # -- sending ------------------------------------------------------------

    def send_stanza(self, kind: str, to: str, *, type_: Optional[str] = None,
                    id_: Optional[str] = None,
                    children: Iterable[ET.Element] = ()) -> str:
        """Sends a message/presence/iq built from children (Clark-notation elements).

        Returns the id used (a fresh one when id_ is None). Fire and forget.
        """
        stanza_id = id_ or f"t-{secrets.token_hex(6)}"
        children = [copy.deepcopy(c) for c in children]

        def send() -> None:
            xmpp = self._xmpp
            maker = {"message": xmpp.Message, "presence": xmpp.Presence, "iq": xmpp.Iq}[kind]
            stanza = maker()
            stanza.xml.set("to", to)
            stanza.xml.set("id", stanza_id)
            if type_ is not None:
                stanza.xml.set("type", type_)
            for child in children:
                stanza.xml.append(child)
            stanza.send()

        self._loop.loop.call_soon_threadsafe(send)
        return stanza_id

    def send_message_stanza(self, to: str, body: Optional[str] = None, *,
                            mtype: str = "chat", id_: Optional[str] = None,
                            subject: Optional[str] = None,
                            extra: Iterable[ET.Element] = ()) -> str:
        """A message with optional body, subject and extra payloads; returns its id."""
        children = []
        if subject is not None:
            children.append(_text_element(q(NS_CLIENT, "subject"), subject))
        if body is not None:
            children.append(_text_element(q(NS_CLIENT, "body"), body))
        children.extend(extra)
        return self.send_stanza("message", to, type_=mtype, id_=id_, children=children)

    def send_groupchat(self, room: str, body: Optional[str] = None, *,
                       id_: Optional[str] = None, subject: Optional[str] = None) -> str:
        """A groupchat message to the bare room (body and/or subject); returns its id."""
        return self.send_message_stanza(room, body, mtype="groupchat", id_=id_, subject=subject)

    def send_chat(self, to: str, body: str, *, id_: Optional[str] = None) -> str:
        """A chat message; returns its id."""
        return self.send_message_stanza(to, body, mtype="chat", id_=id_)

    def set_subject(self, room: str, subject: str, *, id_: Optional[str] = None) -> str:
        """A subject change (`<subject/>`, no body); returns its id."""
        return self.send_message_stanza(room, None, mtype="groupchat", id_=id_, subject=subject)

    def send_presence_to(self, to: str, *, type_: Optional[str] = None,
                         show: Optional[str] = None, status: Optional[str] = None,
                         extra: Iterable[ET.Element] = ()) -> str:
        """A directed presence; returns its id."""
        children = []
        if show is not None:
            children.append(_text_element(q(NS_CLIENT, "show"), show))
        if status is not None:
            children.append(_text_element(q(NS_CLIENT, "status"), status))
        children.extend(extra)
        return self.send_stanza("presence", to, type_=type_, children=children)

    # -- MUC ----------------------------------------------------------------

    def join_room(self, room: str, nick: str, password: Optional[str] = None, *,
                  timeout: Optional[float] = None, wait_subject: bool = True,
                  history_maxstanzas: Optional[int] = None) -> JoinResult:
        """Sends the MUC join presence to room/nick and waits for the self-presence
        (status 110) or an error presence; then, unless told not to, for the subject.

        Never raises for a refused join: the result carries the error presence.
        Raises ClientError when neither arrives in time.
        """
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        since = self.mark()
        x = ET.Element(q(NS_MUC, "x"))
        if password is not None:
            _text_element(q(NS_MUC, "password"), password, parent=x)
        if history_maxstanzas is not None:
            ET.SubElement(x, q(NS_MUC, "history"), {"maxstanzas": str(history_maxstanzas)})
        self.send_presence_to(f"{room}/{nick}", extra=[x])
        result = JoinResult(room, nick)

        def self_or_error(stanza: ET.Element) -> bool:
            if not is_presence(stanza) or bare_jid(stanza.get("from")) != room:
                return False
            kind = stanza_type(stanza)
            return kind == "error" or (kind == "available" and "110" in status_codes(stanza))

        seq, answer = self.wait_stanza_seq(self_or_error, timeout, since,
                                           f"self-presence or error from {room}")
        if stanza_type(answer) == "error":
            result.error = answer
            return result
        result.self_presence, result.self_seq = answer, seq
        for occ_seq, presence in self.log.find(presence_from(room, type_="available"), since):
            if occ_seq < seq and presence.get("from") != answer.get("from"):
                result.occupants.append(presence)
                result.occupant_seqs.append(occ_seq)
        if wait_subject:
            result.subject_seq, result.subject = self.wait_stanza_seq(
                message_from(room, with_subject=True), max(0.5, deadline - time.monotonic()),
                since, f"subject from {room}")
        return result

    def leave_room(self, room: str, nick: str, status: Optional[str] = None, *,
                   wait: bool = True, timeout: Optional[float] = None) -> Optional[ET.Element]:
        """Sends unavailable presence to room/nick; with wait returns our unavailable
        self-presence (status 110)."""
        since = self.mark()
        self.send_presence_to(f"{room}/{nick}", type_="unavailable", status=status)
        if not wait:
            return None
        return self.wait_presence(presence_from(room, type_="unavailable", codes=["110"]),
                                  timeout, since, f"unavailable self-presence from {room}")

    def change_nick(self, room: str, new_nick: str) -> int:
        """Sends the nick-change presence (no MUC payload); returns the log mark before it."""
        since = self.mark()
        self.send_presence_to(f"{room}/{new_nick}")
        return since

    def admin_iq(self, room: str, items: Iterable[dict[str, str]],
                 reason: Optional[str] = None, timeout: Optional[float] = None) -> ET.Element:
        """A muc#admin iq set with one `<item/>` per dict; returns the answering iq."""
        query = ET.Element(q(NS_MUC_ADMIN, "query"))
        for attrs in items:
            item = ET.SubElement(query, q(NS_MUC_ADMIN, "item"), attrs)
            if reason is not None:
                _text_element(q(NS_MUC_ADMIN, "reason"), reason, parent=item)
        return self.send_iq(room, "set", query, timeout)

    def kick(self, room: str, nick: str, reason: Optional[str] = None,
             timeout: Optional[float] = None) -> ET.Element:
        """XEP-0045 kick (role none) through muc#admin; returns the answering iq."""
        return self.admin_iq(room, [{"nick": nick, "role": "none"}], reason, timeout)

    def set_role(self, room: str, nick: str, role: str, reason: Optional[str] = None,
                 timeout: Optional[float] = None) -> ET.Element:
        """muc#admin role change (voice = participant, ...); returns the answering iq."""
        return self.admin_iq(room, [{"nick": nick, "role": role}], reason, timeout)

    def configure_instant_room(self, room: str, timeout: Optional[float] = None) -> ET.Element:
        """Accepts the default configuration of a locked new room (muc#owner submit)."""
        query = ET.Element(q(NS_MUC_OWNER, "query"))
        ET.SubElement(query, q(NS_DATA, "x"), {"type": "submit"})
        return self.send_iq(room, "set", query, timeout)


def register_with(server, user: str, domain: str, **fields: str) -> None:
    """Registers `user` of `server` (an XmppServer) with the component
    `domain` (XEP-0077) from a short-lived client; raises ClientError unless
    the answer is a result."""
    client = MucTestClient(server.jid(user), server.password(user), server.c2s_port,
                           resource="setup", timeout=10.0)
    client.connect(20.0)
    try:
        reply = client.register_set(domain, **fields)
        if reply.get("type") != "result":
            raise ClientError(f"registering {user} with {domain} failed: {to_string(reply)}")
    finally:
        client.disconnect()


def _text_element(tag: str, text: str, parent: Optional[ET.Element] = None) -> ET.Element:
    """A new element (child of parent when given) holding text."""
    element = ET.Element(tag) if parent is None else ET.SubElement(parent, tag)
    element.text = text
    return element
