"""Proves the integration harness itself, without trestle.

A tiny raw-socket XEP-0114 component (below) connects to a throw-away Prosody
or ejabberd, and a slixmpp test user talks to it through the server. Also
checks a wrong secret is refused and that kill / restart / stop of each
server behave as the scenario tests expect.

Run: python3 test_harness.py [--server prosody|ejabberd|all] [unittest args]
"""

from __future__ import annotations

import hashlib
import queue
import socket
import sys
import threading
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional
from xml.sax.saxutils import escape, quoteattr

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import servers  # noqa: E402
from xmpp_client import (NS_COMMANDS, NS_DATA, NS_DISCO_INFO, NS_GATEWAY,  # noqa: E402
                         NS_PING, NS_REGISTER, NS_VERSION, XmppTestClient,
                         build_submit_form, error_condition, iq_type, parse_form, q,
                         text_of, to_string)

NS_ACCEPT = "jabber:component:accept"
NS_STREAM = "http://etherx.jabber.org/streams"
NS_STREAM_ERRORS = "urn:ietf:params:xml:ns:xmpp-streams"

COMPONENT = ("echo.localhost", "s3cret-echo & <co>")
OTHER_COMPONENT = ("other.localhost", "s3cret-other")


class HandshakeRefused(RuntimeError):
    """The server answered the handshake with a stream error."""

    def __init__(self, condition: Optional[str]) -> None:
        super().__init__(f"handshake refused: {condition}")
        self.condition = condition


class RawComponent:
    """A minimal XEP-0114 component on a plain socket.

    Opens the stream, sends `<handshake>` = hex(sha1(stream id + secret)),
    then answers a few iqs from a reader thread: ping, disco#info, version,
    a one-field registration, a gateway prompt, a two-step ad-hoc command;
    anything else gets service-unavailable. Messages are echoed back.
    """

    def __init__(self, port: int, domain: str, secret: str) -> None:
        self.port = port
        self.domain = domain
        self.secret = secret
        self.sock: Optional[socket.socket] = None
        self.stream_id: Optional[str] = None
        self.received: "queue.Queue[ET.Element]" = queue.Queue()
        self.closed = threading.Event()
        self.registrations: dict[str, str] = {}
        self._parser = ET.XMLPullParser(events=("start", "end"))
        self._depth = 0
        self._root: Optional[ET.Element] = None
        self._stanzas: "queue.Queue[ET.Element]" = queue.Queue()
        self._reader: Optional[threading.Thread] = None
        self._send_lock = threading.Lock()

    # -- connection --------------------------------------------------------

    def connect(self, timeout: float = 10.0) -> "RawComponent":
        """Opens the stream and authenticates; raises HandshakeRefused or TimeoutError."""
        deadline = time.monotonic() + timeout
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
        self.sock.settimeout(0.2)
        try:
            self._authenticate(deadline)
        except BaseException:
            self.sock.close()
            raise
        self._reader = threading.Thread(target=self._serve, name=f"component-{self.domain}",
                                        daemon=True)
        self._reader.start()
        return self

    def _authenticate(self, deadline: float) -> None:
        self._send(f"<stream:stream xmlns='{NS_ACCEPT}' xmlns:stream='{NS_STREAM}' "
                   f"to={quoteattr(self.domain)}>")
        while self.stream_id is None:
            self._read_some(deadline)
        digest = hashlib.sha1((self.stream_id + self.secret).encode()).hexdigest()
        self._send(f"<handshake>{digest}</handshake>")
        while True:
            stanza = self._next_stanza(deadline)
            if stanza.tag == q(NS_ACCEPT, "handshake"):
                break
            if stanza.tag == q(NS_STREAM, "error"):
                raise HandshakeRefused(_stream_error_condition(stanza))

    def close(self) -> None:
        """Closes the stream and the socket; the reader thread ends."""
        if self.sock is None:
            return
        try:
            self._send("</stream:stream>")
        except OSError:
            pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.closed.wait(3)
        self.sock.close()
        if self._reader is not None:
            self._reader.join(3)

    def send(self, xml: str) -> None:
        """Writes raw XML to the stream."""
        self._send(xml)

    # -- reading -------------------------------------------------------------

    def _send(self, data: str) -> None:
        with self._send_lock:
            self.sock.sendall(data.encode())

    def _read_some(self, deadline: float) -> None:
        if time.monotonic() >= deadline:
            raise TimeoutError(f"component {self.domain}: no answer in time")
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return
        if not data:
            raise ConnectionError(f"component {self.domain}: server closed the connection")
        self._parser.feed(data)
        for event, element in self._parser.read_events():
            if event == "start":
                self._depth += 1
                if self._depth == 1:
                    self._root = element
                    self.stream_id = element.get("id")
            else:
                self._depth -= 1
                if self._depth == 1:
                    self._stanzas.put(element)
                    self._root.remove(element)

    def _next_stanza(self, deadline: float) -> ET.Element:
        while True:
            try:
                return self._stanzas.get_nowait()
            except queue.Empty:
                self._read_some(deadline)

    def _serve(self) -> None:
        try:
            while True:
                try:
                    stanza = self._next_stanza(time.monotonic() + 3600)
                except (ConnectionError, OSError, ET.ParseError):
                    return
                self.received.put(stanza)
                if stanza.tag == q(NS_ACCEPT, "iq"):
                    self._answer_iq(stanza)
                elif stanza.tag == q(NS_ACCEPT, "message"):
                    body = text_of(stanza, NS_ACCEPT, "body")
                    if body is not None:
                        self.send(f"<message from={quoteattr(stanza.get('to', ''))} "
                                  f"to={quoteattr(stanza.get('from', ''))} type='chat'>"
                                  f"<body>{escape('echo: ' + body)}</body></message>")
        finally:
            self.closed.set()

    # -- answers ---------------------------------------------------------------

    def _answer_iq(self, iq: ET.Element) -> None:
        kind = iq.get("type")
        if kind not in ("get", "set"):
            return
        payload = next(iter(iq), None)
        tag = payload.tag if payload is not None else ""
        head = (f"<iq type='result' id={quoteattr(iq.get('id', ''))} "
                f"from={quoteattr(iq.get('to', ''))} to={quoteattr(iq.get('from', ''))}>")
        user = iq.get("from", "").split("/")[0]
        if tag == q(NS_PING, "ping"):
            self.send(head + "</iq>")
        elif tag == q(NS_DISCO_INFO, "query"):
            self.send(head + f"<query xmlns='{NS_DISCO_INFO}'>"
                      "<identity category='gateway' type='test' name='raw'/>"
                      f"<feature var='{NS_DISCO_INFO}'/><feature var='{NS_PING}'/>"
                      "</query></iq>")
        elif tag == q(NS_VERSION, "query"):
            self.send(head + f"<query xmlns='{NS_VERSION}'><name>raw</name>"
                      "<version>0.0</version></query></iq>")
        elif tag == q(NS_REGISTER, "query") and kind == "get":
            nick = self.registrations.get(user)
            current = (f"<registered/><nick>{escape(nick)}</nick>" if nick else "<nick/>")
            self.send(head + f"<query xmlns='{NS_REGISTER}'>{current}"
                      f"<x xmlns='{NS_DATA}' type='form'>"
                      f"<field var='FORM_TYPE' type='hidden'><value>{NS_REGISTER}</value></field>"
                      "<field var='nick' type='text-single'><required/></field></x></query></iq>")
        elif tag == q(NS_REGISTER, "query"):
            self._register_set(iq, payload, head, user)
        elif tag == q(NS_GATEWAY, "query") and kind == "set":
            prompt = text_of(payload, NS_GATEWAY, "prompt") or ""
            self.send(head + f"<query xmlns='{NS_GATEWAY}'>"
                      f"<jid>{escape(prompt.replace('@', '%'))}@{self.domain}</jid></query></iq>")
        elif tag == q(NS_COMMANDS, "command"):
            self._command(payload, head)
        else:
            self.send(_error_reply(iq, "cancel", "service-unavailable"))

    def _register_set(self, iq: ET.Element, query: ET.Element, head: str, user: str) -> None:
        if query.find(q(NS_REGISTER, "remove")) is not None:
            self.registrations.pop(user, None)
            self.send(head + "</iq>")
            return
        nick = text_of(query, NS_REGISTER, "nick")
        form = parse_form(query.find(q(NS_DATA, "x")))
        if not nick and form.get("nick") and form["nick"].values:
            nick = form["nick"].values[0]
        if not nick:
            self.send(_error_reply(iq, "modify", "not-acceptable"))
            return
        self.registrations[user] = nick
        self.send(head + "</iq>")

    def _command(self, command: ET.Element, head: str) -> None:
        node = command.get("node", "")
        if command.get("sessionid"):
            jid = parse_form(command.find(q(NS_DATA, "x"))).get("jid")
            value = jid.values[0] if jid and jid.values else "?"
            self.send(head + f"<command xmlns='{NS_COMMANDS}' node={quoteattr(node)} "
                      f"sessionid={quoteattr(command.get('sessionid'))} status='completed'>"
                      f"<note type='info'>done {escape(value)}</note></command></iq>")
            return
        self.send(head + f"<command xmlns='{NS_COMMANDS}' node={quoteattr(node)} "
                  "sessionid='s1' status='executing'><actions execute='complete'><complete/>"
                  f"</actions><x xmlns='{NS_DATA}' type='form'>"
                  "<field var='jid' type='jid-single'><required/></field></x></command></iq>")


def _error_reply(iq: ET.Element, etype: str, condition: str) -> str:
    return (f"<iq type='error' id={quoteattr(iq.get('id', ''))} "
            f"from={quoteattr(iq.get('to', ''))} to={quoteattr(iq.get('from', ''))}>"
            f"<error type='{etype}'><{condition} xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
            "</error></iq>")


def _stream_error_condition(error: ET.Element) -> Optional[str]:
    for child in error:
        if child.tag.startswith("{" + NS_STREAM_ERRORS + "}") and not child.tag.endswith("}text"):
            return child.tag.split("}", 1)[1]
    return None


def wait_for(predicate, timeout: float, interval: float = 0.1) -> bool:
    """Polls predicate until true or timeout; returns the last result."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


class HarnessTests:
    """The harness checks, mixed into one TestCase per server kind."""

    server_kind = ""
    server: servers.XmppServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = servers.make_server(cls.server_kind, [COMPONENT, OTHER_COMPONENT])
        cls.addClassCleanup(cls.server.cleanup)
        started = time.monotonic()
        cls.server.start()
        print(f"\n[{cls.server_kind}] up in {time.monotonic() - started:.1f}s: "
              f"{cls.server.describe()}", file=sys.stderr)

    def setUp(self) -> None:
        if not self.server.running():
            self.server.start()

    # helpers

    def component(self, entry=COMPONENT) -> RawComponent:
        comp = RawComponent(self.server.component_port, *entry).connect()
        self.addCleanup(comp.close)
        return comp

    def client(self, user: str = "alice") -> XmppTestClient:
        client = XmppTestClient(self.server.jid(user), self.server.password(user),
                                self.server.c2s_port).connect()
        self.addCleanup(client.disconnect)
        return client

    def fail_with_log(self, message: str) -> None:
        self.fail(f"{message}\n--- {self.server.kind} log tail ---\n{self.server.log_tail()}")

    # tests

    def test_component_answers_ping_disco_and_version(self) -> None:
        comp = self.component()
        alice = self.client()
        domain = COMPONENT[0]

        pong = alice.ping(domain)
        self.assertEqual(iq_type(pong), "result", to_string(pong))
        self.assertEqual(pong.get("from"), domain)

        info = alice.disco_info(domain)
        self.assertIn(("gateway", "test", "raw"), info.identities, to_string(info.iq))
        self.assertIn(NS_PING, info.features)

        iq, name, version, _ = alice.version(domain)
        self.assertEqual((name, version), ("raw", "0.0"), to_string(iq))

        # The component saw alice's full JID as sender.
        senders = set()
        while not comp.received.empty():
            senders.add(comp.received.get_nowait().get("from"))
        self.assertIn(alice.full_jid, senders)

    def test_unknown_namespace_gets_service_unavailable(self) -> None:
        self.component()
        alice = self.client()
        answer = alice.send_iq(COMPONENT[0], "get", "<query xmlns='urn:example:nothing'/>")
        self.assertEqual(iq_type(answer), "error")
        self.assertEqual(error_condition(answer), "service-unavailable")

    def test_messages_both_ways(self) -> None:
        self.component()
        bob = self.client("bob")
        bob.send_message(f"someone@{COMPONENT[0]}", "hi <there> & you")
        echo = bob.wait_message(lambda m: (text_of(m, "jabber:client", "body") or "")
                                .startswith("echo:"))
        self.assertEqual(text_of(echo, "jabber:client", "body"), "echo: hi <there> & you")
        self.assertEqual(echo.get("from"), f"someone@{COMPONENT[0]}")

    def test_register_gateway_and_command_helpers(self) -> None:
        self.component()
        alice = self.client()
        domain = COMPONENT[0]

        form = XmppTestClient.register_form(alice.register_get(domain))
        self.assertIn("nick", parse_form(form))
        self.assertEqual(iq_type(alice.register_set(domain, nick="a1")), "result")
        query = XmppTestClient.register_query(alice.register_get(domain))
        self.assertIsNotNone(query.find(q(NS_REGISTER, "registered")))
        self.assertEqual(text_of(query, NS_REGISTER, "nick"), "a1")
        self.assertEqual(iq_type(alice.register_set_form(domain, {"nick": "a2"}, form)), "result")
        query = XmppTestClient.register_query(alice.register_get(domain))
        self.assertEqual(text_of(query, NS_REGISTER, "nick"), "a2")
        refused = alice.register_set(domain)
        self.assertEqual(error_condition(refused), "not-acceptable")
        self.assertEqual(iq_type(alice.register_remove(domain)), "result")
        query = XmppTestClient.register_query(alice.register_get(domain))
        self.assertIsNone(query.find(q(NS_REGISTER, "registered")))

        iq, jid = alice.gateway_set(domain, "bob@example.com")
        self.assertEqual(jid, f"bob%example.com@{domain}", to_string(iq))

        first = alice.command_execute(domain, "disconnect-user")
        self.assertEqual(first.status, "executing")
        self.assertIn("complete", first.actions())
        self.assertIn("jid", parse_form(first.form))
        second = alice.command_execute(domain, "disconnect-user", "complete", first.sessionid,
                                       build_submit_form({"jid": "bob@localhost"}, first.form))
        self.assertEqual(second.status, "completed", to_string(second.iq))
        self.assertEqual(second.notes, [("info", "done bob@localhost")])

    def test_wrong_secret_is_refused(self) -> None:
        with self.assertRaises(HandshakeRefused) as refused:
            RawComponent(self.server.component_port, COMPONENT[0], "not-the-secret").connect()
        self.assertEqual(refused.exception.condition, "not-authorized")

    def test_kill_and_restart_keeps_ports_and_accounts(self) -> None:
        comp = self.component(OTHER_COMPONENT)
        alice = self.client()
        self.assertEqual(iq_type(alice.ping(OTHER_COMPONENT[0])), "result")
        ports = (self.server.c2s_port, self.server.component_port)

        self.server.kill()
        self.assertFalse(self.server.running())
        self.assertTrue(comp.closed.wait(10), "component did not notice the kill")
        self.assertFalse(servers.port_is_listening(ports[1]))

        started = time.monotonic()
        self.server.restart()
        print(f"\n[{self.server_kind}] restarted in {time.monotonic() - started:.1f}s",
              file=sys.stderr)
        self.assertEqual((self.server.c2s_port, self.server.component_port), ports)

        comp2 = self.component(OTHER_COMPONENT)
        alice2 = self.client()  # the account survived the kill
        self.assertEqual(iq_type(alice2.ping(OTHER_COMPONENT[0])), "result")
        self.assertTrue(comp2.received.get(timeout=5) is not None)

    def test_graceful_stop_then_start(self) -> None:
        comp = self.component(OTHER_COMPONENT)
        code = self.server.stop()
        self.assertEqual(code, 0, self.server.log_tail())
        self.assertTrue(comp.closed.wait(10), "component did not see the stream end")
        self.assertFalse(servers.port_is_listening(self.server.c2s_port))
        self.server.start()
        alice = self.client()
        self.component(OTHER_COMPONENT)
        self.assertEqual(iq_type(alice.ping(OTHER_COMPONENT[0])), "result")


def make_test_classes(mixin: type, kinds: list[str], namespace: dict) -> None:
    """Adds one unittest.TestCase per server kind, e.g. HarnessTests_prosody."""
    for kind in kinds:
        name = f"{mixin.__name__}_{kind}"
        namespace[name] = type(name, (mixin, unittest.TestCase), {"server_kind": kind})


if __name__ == "__main__":
    KINDS, ARGV = servers.split_server_argv(sys.argv)
else:
    KINDS, ARGV = servers.split_server_argv([__file__])
make_test_classes(HarnessTests, KINDS, globals())

if __name__ == "__main__":
    servers.install_exit_on_signals()
    unittest.main(argv=ARGV, verbosity=2)
