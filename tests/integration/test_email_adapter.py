"""The email adapter end to end: XMPP chats as email threads through trestle.

Real peers on loopback ports: Prosody with the `mail.localhost` component,
a capturing relay (aiosmtpd, STARTTLS and AUTH required, its certificate
trusted through `ca_file`) that trestle sends through, swaks and a raw SMTP
client that deliver to trestle's listener, and slixmpp clients for alice
and bob on the XMPP side.

Run: TRESTLE_BINARY=... python3 test_email_adapter.py [unittest args]
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import servers  # noqa: E402
from smtp_servers import CaptureRelay, PostfixServer, SmtpDialogue, swaks  # noqa: E402
from trestle_process import Component, TrestleProcess, binary_from_env  # noqa: E402
from xmpp_client import (NS_CLIENT, MucTestClient, body_of, error_condition,  # noqa: E402
                         message_from, presence_from, q, register_with, stanza_type, status_of,
                         subject_of, to_string)

BINARY = binary_from_env()
SKIP_REASON = "TRESTLE_BINARY is not set to an executable trestle binary"

MAIL = "mail.localhost"
MAIL_SECRET = "s3cret-mail"
NS_RECEIPTS = "urn:xmpp:receipts"
NS_ROSTER = "jabber:iq:roster"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
STEP = 10.0
CONNECT = 20.0


def contact(address: str) -> str:
    """The contact JID of an email address (XEP-0106)."""
    local, domain = address.split("@", 1)
    return f"{local}\\40{domain}@{MAIL}"


def thread_of(stanza: ET.Element) -> Optional[str]:
    node = stanza.find(q(NS_CLIENT, "thread"))
    return None if node is None else (node.text or "")


def error_text(stanza: ET.Element) -> str:
    error = stanza.find(q(NS_CLIENT, "error"))
    node = None if error is None else error.find(q(NS_STANZAS, "text"))
    return "" if node is None else (node.text or "")


@unittest.skipUnless(BINARY, SKIP_REASON)
class EmailTestCase(unittest.TestCase):
    """Prosody, a relay and one trestle per class."""

    prosody: servers.ProsodyServer
    relay: CaptureRelay
    trestle: TrestleProcess
    smtp_extra: dict = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.prosody = servers.ProsodyServer([(MAIL, MAIL_SECRET)])
        cls.prosody.start()
        cls.relay = CaptureRelay().start()
        cls.trestle = cls.make_trestle()
        cls.trestle.start()

    @classmethod
    def make_trestle(cls, **smtp) -> TrestleProcess:
        settings = {
            "relay": cls.relay.relay_settings(),
            "listener": {"port": 0, "command_timeout_seconds": 3, "max_message_bytes": 200000},
            "retry_min_delay_seconds": 1,
            "retry_max_delay_seconds": 2,
        }
        settings.update(cls.smtp_extra)
        settings.update(smtp)
        return TrestleProcess(BINARY, cls.prosody.component_port,
                              components=[Component(MAIL, MAIL_SECRET, "smtp",
                                                    {"smtp": settings})])

    @classmethod
    def tearDownClass(cls) -> None:
        cls.trestle.cleanup()
        cls.relay.stop()
        cls.prosody.cleanup()

    def xmpp(self, user: str) -> MucTestClient:
        client = MucTestClient(self.prosody.jid(user), self.prosody.password(user),
                               self.prosody.c2s_port, resource="test", timeout=STEP)
        client.connect(CONNECT)
        self.addCleanup(client.disconnect)
        return client

    def listener_port(self) -> int:
        """The listener's port, from trestle's start-up log line."""
        line = self.trestle.wait_log(lambda l: "SMTP listening on" in l or "LMTP listening on" in l)
        return int(line.rsplit(":", 1)[1].split()[0])

    def send_chat(self, client: MucTestClient, to: str, body: str, *, id_: str,
                  thread: Optional[str] = None, subject: Optional[str] = None,
                  receipt: bool = False) -> None:
        children = [self.text_element("body", body)]
        if thread is not None:
            children.append(self.text_element("thread", thread))
        if subject is not None:
            children.append(self.text_element("subject", subject))
        if receipt:
            children.append(ET.Element(q(NS_RECEIPTS, "request")))
        client.send_stanza("message", to, type_="chat", id_=id_, children=children)

    @staticmethod
    def text_element(tag: str, text: str) -> ET.Element:
        element = ET.Element(q(NS_CLIENT, tag))
        element.text = text
        return element

    def describe(self, stanza: Optional[ET.Element]) -> str:
        return "\nstanza: " + to_string(stanza) + "\ntrestle log:\n" + self.trestle.log_tail(30)


class OutboundTests(EmailTestCase):
    """XMPP → email through the relay."""

    def test_chat_message_becomes_mail_and_receipt(self) -> None:
        alice = self.xmpp("alice")
        before = len(self.relay.messages)
        since = alice.mark()
        self.send_chat(alice, contact("bob@example.com"), "Hello Bob, ça va? ✓", id_="out-1",
                       receipt=True)
        captured = self.relay.wait_messages(before + 1)[before]
        self.assertEqual(captured.mail_from, "alice@mail.localhost")
        self.assertEqual(captured.recipients, ["bob@example.com"])
        message = captured.message()
        self.assertEqual(message["From"].addresses[0].addr_spec, "alice@mail.localhost")
        self.assertEqual(message["From"].addresses[0].display_name, "alice")
        self.assertEqual(str(message["To"]), "bob@example.com")
        self.assertEqual(str(message["Subject"]), "Message from alice")
        self.assertIsNotNone(message["Date"])
        self.assertTrue(str(message["Message-ID"]).endswith("@mail.localhost>"))
        self.assertEqual(message.get_content_type(), "text/plain")
        self.assertEqual(message.get_content_charset(), "utf-8")
        self.assertEqual(message.get_content().rstrip("\r\n"), "Hello Bob, ça va? ✓")
        for line in captured.data.split(b"\r\n"):
            self.assertLessEqual(len(line), 998)
        self.assertTrue(self.relay.tls_used[-1])
        receipt = alice.wait_groupchat(message_from(contact("bob@example.com")), since=since)
        received = receipt.find(q(NS_RECEIPTS, "received"))
        self.assertIsNotNone(received, self.describe(receipt))
        self.assertEqual(received.get("id"), "out-1")

    def test_header_injection_is_encoded_away(self) -> None:
        alice = self.xmpp("alice")
        before = len(self.relay.messages)
        self.send_chat(alice, contact("carol@example.com"), "body", id_="inj-1",
                       subject="Hi\r\nBcc: evil@example.net", thread="t\r\nX-Evil: 1")
        captured = self.relay.wait_messages(before + 1)[before]
        self.assertEqual(captured.recipients, ["carol@example.com"])
        names = [line.split(":", 1)[0].lower() for line in captured.raw_header_lines()
                 if line and not line[0].isspace()]
        self.assertNotIn("bcc", names)
        self.assertNotIn("x-evil", names)
        self.assertIn("Hi", str(captured.message()["Subject"]))

    def test_utf8_subject_is_encoded_and_thread_continues(self) -> None:
        alice = self.xmpp("alice")
        before = len(self.relay.messages)
        self.send_chat(alice, contact("dora@example.com"), "first", id_="th-1",
                       subject="Grüße aus Köln", thread="thread-dora")
        self.send_chat(alice, contact("dora@example.com"), "second", id_="th-2",
                       thread="thread-dora")
        first, second = self.relay.wait_messages(before + 2)[before:before + 2]
        self.assertEqual(str(first.message()["Subject"]), "Grüße aus Köln")
        subject_line = [l for l in first.raw_header_lines() if l.startswith("Subject:")][0]
        self.assertIn("=?", subject_line)
        first_id = str(first.message()["Message-ID"])
        self.assertEqual(str(second.message()["In-Reply-To"]), first_id)
        self.assertIn(first_id, str(second.message()["References"]))

    def test_omemo_message_is_refused_and_nothing_is_mailed(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        before = len(self.relay.messages)
        encrypted = ET.Element("{urn:xmpp:omemo:2}encrypted")
        ET.SubElement(encrypted, "{urn:xmpp:omemo:2}header", {"sid": "1"})
        alice.send_stanza("message", contact("omemo@example.com"), type_="chat", id_="omemo-1",
                          children=[encrypted, self.text_element("body", "OMEMO fallback")])
        error = alice.wait_message_error(contact("omemo@example.com"), since=since)
        self.assertEqual(error_condition(error), "not-acceptable", self.describe(error))
        self.assertIn("OMEMO 2", error_text(error))
        self.send_chat(alice, contact("omemo@example.com"), "plain after", id_="omemo-2")
        captured = self.relay.wait_messages(before + 1)[before:]
        self.assertEqual(len(captured), 1)
        self.assertEqual(captured[0].message().get_content().rstrip("\r\n"), "plain after")

    def test_contacts_offer_nothing_to_encrypt_with(self) -> None:
        alice = self.xmpp("alice")
        info = alice.disco_info(contact("gil@example.com"))
        self.assertEqual(info.iq.get("type"), "error", to_string(info.iq))
        self.assertEqual(info.features, [])
        answer = alice.omemo_devicelist(contact("gil@example.com"))
        self.assertEqual(answer.get("type"), "error", to_string(answer))

    def test_corrections_reactions_replies_and_retractions_cross_as_mail(self) -> None:
        alice = self.xmpp("alice")
        frank = contact("frank@example.com")

        def text(captured) -> str:
            return captured.message().get_content().replace("\r\n", "\n").rstrip("\n")

        before = len(self.relay.messages)
        self.send_chat(alice, frank, "helo", id_="fix-1", thread="thread-frank")
        first = self.relay.wait_messages(before + 1)[before]

        # A correction is a new mail in the same thread that says so.
        since = alice.mark()
        alice.send_stanza("message", frank, type_="chat", id_="fix-2", children=[
            self.text_element("body", "hello"), self.text_element("thread", "thread-frank"),
            ET.Element(q("urn:xmpp:message-correct:0", "replace"), {"id": "fix-1"})])
        second = self.relay.wait_messages(before + 2)[before + 1]
        self.assertEqual(text(second),
                         "Correction of my last message:\n\nhello")
        self.assertEqual(str(second.message()["In-Reply-To"]), str(first.message()["Message-ID"]))
        notice = alice.wait_groupchat(lambda s: message_from(frank, type_="chat")(s) and
                                      (body_of(s) or "").startswith("[gateway] "), since=since)
        self.assertIn("email", body_of(notice))

        # A reaction is a short mail quoting the message; a reply gets a quote.
        reactions = ET.Element(q("urn:xmpp:reactions:0", "reactions"), {"id": "fix-1"})
        ET.SubElement(reactions, q("urn:xmpp:reactions:0", "reaction")).text = "👍"
        alice.send_stanza("message", frank, type_="chat", id_="fix-3", children=[reactions])
        third = self.relay.wait_messages(before + 3)[before + 2]
        self.assertEqual(text(third), 'reacted 👍 to "hello"')
        alice.send_stanza("message", frank, type_="chat", id_="fix-4", children=[
            self.text_element("body", "see above"),
            ET.Element(q("urn:xmpp:reply:0", "reply"), {"id": "fix-1", "to": frank})])
        fourth = self.relay.wait_messages(before + 4)[before + 3]
        self.assertEqual(text(fourth), "> hello\nsee above")

        # A retraction is never mailed; alice hears that the mail stays.
        since = alice.mark()
        alice.send_stanza("message", frank, type_="chat", id_="fix-5", children=[
            ET.Element(q("urn:xmpp:message-retract:1", "retract"), {"id": "fix-1"}),
            self.text_element("body", "This person attempted to retract a previous message")])
        notice = alice.wait_groupchat(lambda s: message_from(frank, type_="chat")(s) and
                                      "cannot be taken back" in (body_of(s) or ""), since=since)
        self.assertIn('"hello"', body_of(notice))
        # Chat states and markers are not content: dropped quietly.
        alice.send_stanza("message", frank, type_="chat", children=[
            ET.Element(q("http://jabber.org/protocol/chatstates", "composing"))])
        alice.send_stanza("message", frank, type_="chat", children=[
            ET.Element(q("urn:xmpp:chat-markers:0", "displayed"), {"id": "fix-1"})])
        self.send_chat(alice, frank, "after the retraction", id_="fix-6")
        captured = self.relay.wait_messages(before + 5)[before + 4:]
        self.assertEqual([text(m) for m in captured],
                         ["after the retraction"])

    def test_permanent_refusal_becomes_error(self) -> None:
        self.relay.script.refuse["nobody@example.com"] = (550, "5.1.1 No such user")
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, contact("nobody@example.com"), "hello?", id_="perm-1")
        error = alice.wait_groupchat(message_from(contact("nobody@example.com"), type_="error"),
                                     since=since)
        self.assertEqual(error.get("id"), "perm-1", self.describe(error))
        self.assertEqual(error_condition(error), "item-not-found", self.describe(error))
        self.assertIn("550", error_text(error))
        self.assertIn("No such user", error_text(error))

    def test_registration_chooses_address_and_name(self) -> None:
        bob = self.xmpp("bob")
        reply = bob.register_set(MAIL, username="Robert.B", name="Robert Builder")
        self.assertEqual(reply.get("type"), "result", to_string(reply))
        before = len(self.relay.messages)
        self.send_chat(bob, contact("erin@example.com"), "hi erin", id_="reg-1")
        captured = self.relay.wait_messages(before + 1)[before]
        self.assertEqual(captured.mail_from, "robert.b@mail.localhost")
        sender = captured.message()["From"].addresses[0]
        self.assertEqual(sender.display_name, "Robert Builder")
        self.assertEqual(sender.addr_spec, "robert.b@mail.localhost")
        # Taken by bob now: alice cannot have it.
        alice = self.xmpp("alice")
        taken = alice.register_set(MAIL, username="robert.b")
        self.assertEqual(error_condition(taken), "conflict", to_string(taken))

    def test_subscription_is_accepted_and_contact_is_available(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        alice.send_stanza("presence", contact("frank@example.com"), type_="subscribe")
        available = alice.wait_presence(
            presence_from(contact("frank@example.com"), type_="available"), since=since)
        self.assertIn("Email contact", status_of(available) or "")
        # The approval went into the roster (Prosody turns it into a roster push).
        deadline = time.monotonic() + STEP
        subscription = None
        while time.monotonic() < deadline and subscription not in ("to", "both"):
            roster = alice.send_iq(None, "get", ET.Element(q(NS_ROSTER, "query")))
            items = {item.get("jid"): item.get("subscription")
                     for item in roster.iter(q(NS_ROSTER, "item"))}
            subscription = items.get(contact("frank@example.com"))
            time.sleep(0.1)
        self.assertIn(subscription, ("to", "both"))

    def test_temporary_failure_is_retried_after_a_restart(self) -> None:
        self.relay.script.refuse["later@example.com"] = (451, "4.3.0 Try again later")
        self.relay.script.temporary_times["later@example.com"] = 1
        alice = self.xmpp("alice")
        before = len(self.relay.messages)
        since = alice.mark()
        self.send_chat(alice, contact("later@example.com"), "persistent", id_="retry-1",
                       receipt=True)
        deadline = time.monotonic() + STEP
        while "later@example.com" not in self.relay.rcpt_seen and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("later@example.com", self.relay.rcpt_seen)
        self.trestle.stop()
        self.assertEqual(len(self.relay.messages), before)
        self.trestle.start()
        captured = self.relay.wait_messages(before + 1, timeout=30)[before]
        self.assertEqual(captured.recipients, ["later@example.com"])
        receipt = alice.wait_groupchat(message_from(contact("later@example.com")), since=since,
                                       timeout=30)
        self.assertEqual(receipt.find(q(NS_RECEIPTS, "received")).get("id"), "retry-1")


class InboundTests(EmailTestCase):
    """Email → XMPP through the listener."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.alice = MucTestClient(cls.prosody.jid("alice"), cls.prosody.password("alice"),
                                  cls.prosody.c2s_port, resource="test", timeout=STEP)
        cls.alice.connect(CONNECT)
        reply = cls.alice.register_set(MAIL, username="alice")
        assert reply.get("type") == "result", to_string(reply)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.alice.disconnect()
        super().tearDownClass()

    def test_swaks_mail_arrives_as_chat_message(self) -> None:
        since = self.alice.mark()
        result = swaks(self.listener_port(), "--to", "alice@mail.localhost",
                       "--from", "bob@example.com", "--header", "Subject: Lunch?",
                       "--body", "Shall we meet at noon?")
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        message = self.alice.wait_groupchat(message_from(contact("bob@example.com")),
                                            since=since)
        self.assertEqual(stanza_type(message), "chat")
        self.assertEqual(subject_of(message), "Lunch?")
        self.assertEqual(body_of(message), "Subject: Lunch?\n\nShall we meet at noon?")
        self.assertTrue(thread_of(message))

    def test_unknown_recipient_is_refused_550(self) -> None:
        result = swaks(self.listener_port(), "--to", "nobody@mail.localhost",
                       "--from", "bob@example.com", "--body", "x")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("550 5.1.1", result.stdout)
        other_domain = swaks(self.listener_port(), "--to", "alice@example.net",
                             "--from", "bob@example.com", "--body", "x")
        self.assertIn("550 5.1.1", other_domain.stdout)

    def test_reply_stays_in_the_thread(self) -> None:
        before = len(self.relay.messages)
        self.send_chat(self.alice, contact("gina@example.com"), "question", id_="q-1",
                       thread="thread-gina")
        sent = self.relay.wait_messages(before + 1)[before]
        sent_id = str(sent.message()["Message-ID"])
        since = self.alice.mark()
        result = swaks(self.listener_port(), "--to", "alice@mail.localhost",
                       "--from", "gina@example.com", "--header", "Subject: Re: question",
                       "--header", f"In-Reply-To: {sent_id}", "--header", f"References: {sent_id}",
                       "--body", "answer")
        self.assertEqual(result.returncode, 0, result.stdout)
        reply = self.alice.wait_groupchat(message_from(contact("gina@example.com")), since=since)
        self.assertEqual(thread_of(reply), "thread-gina", self.describe(reply))
        self.assertEqual(body_of(reply), "answer")

    def test_bounce_becomes_error_on_the_sent_message(self) -> None:
        before = len(self.relay.messages)
        self.send_chat(self.alice, contact("gone@example.com"), "are you there?", id_="dsn-1")
        sent = self.relay.wait_messages(before + 1)[before]
        sent_id = str(sent.message()["Message-ID"])
        bounce = (
            "From: MAILER-DAEMON@relay.example\r\n"
            "To: alice@mail.localhost\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\n"
            "Auto-Submitted: auto-replied\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n"
            "\r\n--B\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n"
            "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
            "Reporting-MTA: dns; relay.example\r\n\r\n"
            "Final-Recipient: rfc822; gone@example.com\r\nAction: failed\r\n"
            "Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n"
            "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            f"Message-ID: {sent_id}\r\nFrom: alice@mail.localhost\r\n"
            "--B--\r\n")
        since = self.alice.mark()
        dialogue = SmtpDialogue(self.listener_port())
        self.addCleanup(dialogue.close)
        self.assertTrue(dialogue.reply().startswith("220"))
        dialogue.command("EHLO relay.example")
        self.assertTrue(dialogue.command("MAIL FROM:<>").startswith("250"))
        self.assertTrue(dialogue.command("RCPT TO:<alice@mail.localhost>").startswith("250"))
        self.assertTrue(dialogue.command("DATA").startswith("354"))
        dialogue.send(bounce.encode() + b".\r\n")
        self.assertTrue(dialogue.reply().startswith("250"))
        error = self.alice.wait_groupchat(message_from(contact("gone@example.com"),
                                                       type_="error"), since=since)
        self.assertEqual(error.get("id"), "dsn-1", self.describe(error))
        self.assertIn("5.1.1", error_text(error))

    def test_bad_input_gets_clear_replies(self) -> None:
        port = self.listener_port()
        dialogue = SmtpDialogue(port)
        self.addCleanup(dialogue.close)
        dialogue.reply()
        dialogue.command("EHLO client.example")
        dialogue.command("MAIL FROM:<bob@example.com>")
        dialogue.command("RCPT TO:<alice@mail.localhost>")
        self.assertTrue(dialogue.command("DATA").startswith("354"))
        dialogue.send(b"Subject: bare\nLF line\r\n.\r\n")
        self.assertRegex(dialogue.reply(), r"^5\d\d ")
        # Oversize: SIZE declared above the limit is refused at MAIL FROM.
        self.assertTrue(dialogue.command("MAIL FROM:<bob@example.com> SIZE=999999999")
                        .startswith("552"))
        # A silent client is cut off after the command timeout with 421.
        slow = SmtpDialogue(port, timeout=STEP)
        self.addCleanup(slow.close)
        slow.reply()
        slow.send(b"EHLO sl")
        self.assertTrue(slow.reply().startswith("421"))

    def test_xmpp_down_mail_is_kept_and_delivered_later(self) -> None:
        # Last of the class (by name): it restarts Prosody under its clients.
        port = self.listener_port()
        self.prosody.stop()
        try:
            self.trestle.wait_healthz_not(200)
            result = swaks(port, "--to", "alice@mail.localhost", "--from", "bob@example.com",
                           "--body", "while down")
            self.assertEqual(result.returncode, 0, result.stdout)
            self.assertIn("250 2.0.0", result.stdout)
        finally:
            self.prosody.start()
            self.trestle.wait_healthz(200, timeout=30)
        # Sent once the stream is back; alice's client reconnects on its own,
        # and Prosody's offline storage holds it if she is not back yet.
        alice = MucTestClient(self.prosody.jid("alice"), self.prosody.password("alice"),
                              self.prosody.c2s_port, resource="later", timeout=STEP)
        alice.connect(CONNECT)
        self.addCleanup(alice.disconnect)
        message = alice.wait_groupchat(
            lambda s: (body_of(s) or "").endswith("while down"), timeout=30)
        delays = message.findall("{urn:xmpp:delay}delay")
        self.assertIn(MAIL, [d.get("from") for d in delays], to_string(message))
        self.assertIsNotNone(message.find("{urn:xmpp:sid:0}origin-id"), to_string(message))

    def test_locked_database_gives_451(self) -> None:
        # Another process holds the database's write lock (a backup tool,
        # say): the mail cannot be kept, so it is refused for now.
        port = self.listener_port()
        database = self.trestle.workdir / "trestle.db"
        holder = sqlite3.connect(str(database), timeout=5, isolation_level=None)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            holder.execute("INSERT INTO usage_events VALUES ('lock', 'lock', 0)")
            result = swaks(port, "--to", "alice@mail.localhost", "--from", "bob@example.com",
                           "--body", "while locked")
            self.assertIn("451 4.3.0", result.stdout)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        since = self.alice.mark()
        result = swaks(port, "--to", "alice@mail.localhost", "--from", "bob@example.com",
                       "--body", "after the lock")
        self.assertEqual(result.returncode, 0, result.stdout)
        self.alice.wait_groupchat(lambda s: (body_of(s) or "").endswith("after the lock"),
                                  since=since)


@unittest.skipUnless(BINARY, SKIP_REASON)
class StartupTests(unittest.TestCase):
    """A listener that cannot listen stops trestle with a clear error."""

    def test_port_in_use_is_a_start_up_error(self) -> None:
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            trestle = TrestleProcess(BINARY, servers.free_port(), components=[
                Component(MAIL, MAIL_SECRET, "smtp", {"smtp": {"listener": {"port": port}}})])
            self.addCleanup(trestle.cleanup)
            trestle.write_config()
            done = subprocess.run(trestle.argv(), capture_output=True, text=True, timeout=30,
                                  cwd=trestle.workdir)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn(f"cannot listen on 127.0.0.1:{port}", done.stderr)


class PostfixTests(EmailTestCase):
    """Mail for the domain through a real Postfix that routes it to trestle
    (relay_domains + transport_maps, recipients verified at RCPT time), as
    deploy/postfix/ describes."""

    lmtp = False
    postfix: PostfixServer

    @classmethod
    def setUpClass(cls) -> None:
        listener = servers.free_port()
        cls.smtp_extra = {"listener": {"port": listener, "lmtp": cls.lmtp}}
        super().setUpClass()
        cls.postfix = PostfixServer(MAIL, listener, lmtp=cls.lmtp).start()
        register_with(cls.prosody, "alice", MAIL, username="alice")

    @classmethod
    def tearDownClass(cls) -> None:
        cls.postfix.cleanup()
        super().tearDownClass()

    def describe_postfix(self) -> str:
        return "\npostfix log:\n" + self.postfix.log_tail(30) + "\ntrestle log:\n" + \
            self.trestle.log_tail(20)

    def test_mail_through_postfix_arrives(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        result = swaks(self.postfix.port, "--to", "alice@mail.localhost",
                       "--from", "hank@example.com", "--header", "Subject: via Postfix",
                       "--body", "routed by transport_maps")
        self.assertEqual(result.returncode, 0, result.stdout + self.describe_postfix())
        message = alice.wait_groupchat(message_from(contact("hank@example.com")), since=since,
                                       timeout=30)
        self.assertEqual(subject_of(message), "via Postfix")
        self.assertEqual(body_of(message), "Subject: via Postfix\n\nrouted by transport_maps")

    def test_unknown_recipient_is_refused_at_rcpt(self) -> None:
        # Postfix verifies in the background: "450 4.1.1 ... verification in
        # progress" until trestle's answer is known, then 550.
        deadline = time.monotonic() + 30
        while True:
            result = swaks(self.postfix.port, "--to", "nobody@mail.localhost",
                           "--from", "hank@example.com", "--body", "x")
            self.assertNotEqual(result.returncode, 0, result.stdout + self.describe_postfix())
            if "<** 450" not in result.stdout or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        self.assertRegex(result.stdout, r"<\*\* +550[ -]", self.describe_postfix())

    def test_taken_while_xmpp_is_down_then_delivered(self) -> None:
        sent_before = self.postfix.log_text().count("status=sent")
        self.prosody.stop()
        try:
            self.trestle.wait_healthz_not(200)
            result = swaks(self.postfix.port, "--to", "alice@mail.localhost",
                           "--from", "ivy@example.com", "--body", "kept by trestle")
            self.assertEqual(result.returncode, 0, result.stdout + self.describe_postfix())
            # trestle keeps it in its store and answers 250: Postfix is done.
            deadline = time.monotonic() + 30
            while self.postfix.log_text().count("status=sent") <= sent_before:
                self.assertLess(time.monotonic(), deadline, self.describe_postfix())
                time.sleep(0.2)
        finally:
            self.prosody.start()
        self.trestle.wait_healthz(200, timeout=30)
        alice = self.xmpp("alice")
        message = alice.wait_groupchat(message_from(contact("ivy@example.com")), timeout=30)
        self.assertTrue((body_of(message) or "").endswith("\n\nkept by trestle"),
                        to_string(message))


class PostfixLmtpTests(PostfixTests):
    """The same, with Postfix delivering over LMTP."""

    lmtp = True


if __name__ == "__main__":
    unittest.main()
