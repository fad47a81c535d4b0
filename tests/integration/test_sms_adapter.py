"""The SMS adapter end to end: phones as XMPP contacts through trestle.

Real peers on loopback ports: Prosody with the `sms.localhost` component and
slixmpp clients on the XMPP side; on the SMS side a Twilio test double (the
documented REST endpoint, signed status callbacks and inbound webhooks: the
real service is out of reach) and Kannel from Debian (bearerbox, smsbox and
the fakesmsc test SMSC).

Run: TRESTLE_BINARY=... python3 test_sms_adapter.py [unittest args]
"""

from __future__ import annotations

import http.client
import sys
import time
import unittest
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import servers  # noqa: E402
from sms_servers import KannelServers  # noqa: E402
from trestle_process import Component, TrestleProcess, binary_from_env  # noqa: E402
from twilio_double import TwilioDouble, twilio_signature  # noqa: E402
from xmpp_client import (NS_CLIENT, MucTestClient, body_of, error_condition,  # noqa: E402
                         message_from, presence_from, q, status_of, to_string)

BINARY = binary_from_env()
SKIP_REASON = "TRESTLE_BINARY is not set to an executable trestle binary"

SMS = "sms.localhost"
SMS_SECRET = "s3cret-sms"
NS_RECEIPTS = "urn:xmpp:receipts"
NS_OOB = "jabber:x:oob"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_DATA = "jabber:x:data"
STEP = 10.0
CONNECT = 20.0

USERS = {"alice": "alice-secret", "bob": "bob-secret", "carol": "carol-secret",
         "dave": "dave-secret", "erin": "erin-secret", "frank": "frank-secret",
         "grace": "grace-secret", "admin": "admin-secret"}
ALICE_NUMBER = "+15550001111"
CAROL_NUMBER = "+15550004444"   # not one of the provider account's numbers
DAVE_NUMBER = "+15550005555"    # the one with a small hourly cap is dave
GRACE_NUMBER = "+15550006666"   # for the border test, whose texts must not eat alice's cap
POOL = ["+15550002222", "+15550003333"]
KANNEL_TOKEN = "kannel-webhook-token-0123456789"
DENIED_PREFIX = "+1555999"
HOURLY_CAP = 10


def phone(number: str) -> str:
    return f"{number}@{SMS}"


def error_text(stanza: ET.Element) -> str:
    error = stanza.find(q(NS_CLIENT, "error"))
    node = None if error is None else error.find(q(NS_STANZAS, "text"))
    return "" if node is None else (node.text or "")


def http_request(port: int, method: str, path: str, body: bytes = b"",
                 headers: Optional[dict] = None, timeout: float = 10.0) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class SmsTestCase(unittest.TestCase):
    """Prosody, a provider and one trestle per class."""

    prosody: servers.ProsodyServer
    trestle: TrestleProcess

    @classmethod
    def start_prosody(cls) -> None:
        cls.prosody = servers.ProsodyServer([(SMS, SMS_SECRET)], users=USERS)
        cls.prosody.start()

    @classmethod
    def make_trestle(cls, sms: dict) -> None:
        cls.trestle = TrestleProcess(BINARY, cls.prosody.component_port,
                                     components=[Component(SMS, SMS_SECRET, "sms", {"sms": sms})])
        sms["public_base_url"] = f"http://127.0.0.1:{cls.trestle.http_port}"

    @classmethod
    def start_trestle(cls, sms: dict) -> None:
        cls.make_trestle(sms)
        cls.trestle.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.trestle.cleanup()
        cls.prosody.cleanup()

    def xmpp(self, user: str) -> MucTestClient:
        client = MucTestClient(self.prosody.jid(user), self.prosody.password(user),
                               self.prosody.c2s_port, resource="test", timeout=STEP)
        client.connect(CONNECT)
        self.addCleanup(client.disconnect)
        return client

    def send_chat(self, client: MucTestClient, to: str, body: str, *, id_: str,
                  receipt: bool = False) -> None:
        body_element = ET.Element(q(NS_CLIENT, "body"))
        body_element.text = body
        children = [body_element]
        if receipt:
            children.append(ET.Element(q(NS_RECEIPTS, "request")))
        client.send_stanza("message", to, type_="chat", id_=id_, children=children)

    def describe(self, stanza: Optional[ET.Element]) -> str:
        return "\nstanza: " + to_string(stanza) + "\ntrestle log:\n" + self.trestle.log_tail(30)

    def webhook(self, suffix: str) -> str:
        return f"/sms/{SMS}{suffix}"

    def public_url(self, suffix: str) -> str:
        return f"http://127.0.0.1:{self.trestle.http_port}{self.webhook(suffix)}"


@unittest.skipUnless(BINARY, SKIP_REASON)
class TwilioTests(SmsTestCase):
    """The Twilio dialect against the test double."""

    twilio: TwilioDouble

    @classmethod
    def setUpClass(cls) -> None:
        cls.start_prosody()
        cls.twilio = TwilioDouble(numbers=[ALICE_NUMBER, DAVE_NUMBER, GRACE_NUMBER]
                                  + POOL).start()
        cls.start_trestle({
            "provider": "twilio",
            "default_country": "1",
            "numbers": {"alice@localhost": ALICE_NUMBER, "carol@localhost": CAROL_NUMBER,
                        "dave@localhost": DAVE_NUMBER, "grace@localhost": GRACE_NUMBER},
            "pool": POOL,
            "max_segments": 2,
            "max_per_hour": HOURLY_CAP,
            "retry_min_delay_seconds": 1,
            "retry_max_delay_seconds": 2,
            "twilio": {"api_base_url": cls.twilio.base_url,
                       "account_sid": cls.twilio.account_sid,
                       "auth_token": cls.twilio.auth_token},
        })

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.twilio.stop()

    def sent_to(self, number: str, count: int = 1):
        """The messages the double accepted for `number`, once there are `count`."""
        return self.twilio.wait_for(
            lambda: ([m for m in self.twilio.messages if m.to == number]
                     if len([m for m in self.twilio.messages if m.to == number]) >= count
                     else None), STEP, f"{count} messages to {number}")

    # -- XMPP -> SMS ---------------------------------------------------------

    def test_message_becomes_sms_and_delivery_becomes_receipt(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, phone("+15557650001"), "Hello from XMPP ✓", id_="mt-1",
                       receipt=True)
        sent = self.sent_to("+15557650001")[0]
        self.assertEqual(sent.from_, ALICE_NUMBER)
        self.assertEqual(sent.body, "Hello from XMPP ✓")
        self.assertTrue(sent.status_callback.startswith(self.public_url("/twilio/status?id=")))
        receipt = alice.wait_groupchat(message_from(phone("+15557650001")), since=since)
        received = receipt.find(q(NS_RECEIPTS, "received"))
        self.assertIsNotNone(received, self.describe(receipt))
        self.assertEqual(received.get("id"), "mt-1")
        # Both callbacks (sent, delivered) were taken with a 2xx.
        callbacks = self.twilio.wait_for(
            lambda: ([c for c in self.twilio.callbacks if c.value("To") == "+15557650001"]
                     if len([c for c in self.twilio.callbacks
                             if c.value("To") == "+15557650001"]) >= 2 else None), STEP)
        self.assertEqual([c.value("MessageStatus") for c in callbacks], ["sent", "delivered"])
        self.assertTrue(all(200 <= c.status < 300 for c in callbacks), callbacks)

    def test_omemo_message_is_refused_and_nothing_is_texted(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        before = len(self.twilio.attempts)
        encrypted = ET.Element("{eu.siacs.conversations.axolotl}encrypted")
        ET.SubElement(encrypted, "{eu.siacs.conversations.axolotl}header", {"sid": "1"})
        body = ET.Element(q(NS_CLIENT, "body"))
        body.text = ("I sent you an OMEMO encrypted message but your client doesn't seem to "
                     "support that.")
        alice.send_stanza("message", phone("+15557650013"), type_="chat", id_="omemo-1",
                          children=[encrypted, body])
        error = alice.wait_message_error(phone("+15557650013"), since=since)
        self.assertEqual(error.get("id"), "omemo-1")
        self.assertEqual(error_condition(error), "not-acceptable", self.describe(error))
        self.assertIn("OMEMO", error_text(error))
        self.assertIn("SMS", error_text(error))
        # A plain message after it is texted; the encrypted one never was.
        self.send_chat(alice, phone("+15557650013"), "plain", id_="omemo-2")
        self.assertEqual([m.body for m in self.sent_to("+15557650013")], ["plain"])
        self.assertEqual(len([a for a in self.twilio.attempts[before:]
                              if ("To", "+15557650013") in a.form]), 1)
        metrics = http_request(self.trestle.http_port, "GET", "/metrics")[1].decode()
        self.assertIn(f'trestle_encrypted_refused_total{{component="{SMS}"}} 1', metrics)

    def test_corrections_reactions_replies_and_retractions_cross_as_texts(self) -> None:
        grace = self.xmpp("grace")
        number = "+15557650041"
        since = grace.mark()
        status, _ = self.twilio.send_inbound(self.public_url("/twilio/inbound"), number,
                                             GRACE_NUMBER, "dinner at 8?")
        self.assertEqual(status, 200)
        dinner = grace.wait_groupchat(message_from(phone(number), body="dinner at 8?"),
                                      since=since)

        def element(tag: str, text: str) -> ET.Element:
            node = ET.Element(q(NS_CLIENT, tag))
            node.text = text
            return node

        # A correction is one more text, marked "* ".
        self.send_chat(grace, phone(number), "helo", id_="sfix-1")
        grace.send_stanza("message", phone(number), type_="chat", id_="sfix-2", children=[
            element("body", "hello"),
            ET.Element(q("urn:xmpp:message-correct:0", "replace"), {"id": "sfix-1"})])
        # A reaction to the phone's text quotes it.
        reactions = ET.Element(q("urn:xmpp:reactions:0", "reactions"), {"id": dinner.get("id")})
        ET.SubElement(reactions, q("urn:xmpp:reactions:0", "reaction")).text = "👍"
        grace.send_stanza("message", phone(number), type_="chat", children=[reactions])
        # A reply keeps the quote the client wrote.
        grace.send_stanza("message", phone(number), type_="chat", children=[
            element("body", "> dinner at 8?\nyes"),
            ET.Element(q("urn:xmpp:reply:0", "reply"), {"id": dinner.get("id")}),
            ET.Element(q("urn:xmpp:fallback:0", "fallback"), {"for": "urn:xmpp:reply:0"})])
        # A retraction is never texted; alice is told.
        since = grace.mark()
        grace.send_stanza("message", phone(number), type_="chat", children=[
            ET.Element(q("urn:xmpp:message-retract:1", "retract"), {"id": "sfix-1"}),
            element("body", "This person attempted to retract a previous message")])
        notice = grace.wait_groupchat(lambda s: message_from(phone(number), type_="chat")(s) and
                                      "cannot be taken back" in (body_of(s) or ""), since=since)
        self.assertIn("SMS", body_of(notice))
        self.send_chat(grace, phone(number), "last", id_="sfix-9")
        self.assertCountEqual([m.body for m in self.sent_to(number, 5)],
                              ["helo", "* hello", 'reacted 👍 to "dinner at 8?"',
                               "> dinner at 8?\nyes", "last"])

    def test_national_number_is_normalised(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, phone("5557650002"), "national", id_="mt-nat", receipt=True)
        self.assertEqual(self.sent_to("+15557650002")[0].body, "national")
        # The receipt comes from the JID alice wrote to, so her chat shows it.
        receipt = alice.wait_groupchat(message_from(phone("5557650002")), since=since)
        received = receipt.find(q(NS_RECEIPTS, "received"))
        self.assertIsNotNone(received, self.describe(receipt))
        self.assertEqual(received.get("id"), "mt-nat", self.describe(receipt))

    def test_undelivered_status_becomes_error_with_code(self) -> None:
        self.twilio.fail_number("+15557650003", code=30006)
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, phone("+15557650003"), "to a landline", id_="mt-fail")
        error = alice.wait_message_error(phone("+15557650003"), since=since)
        self.assertEqual(error.get("id"), "mt-fail", self.describe(error))
        self.assertEqual(error_condition(error), "recipient-unavailable")
        self.assertIn("30006", error_text(error))

    def test_refusal_by_the_provider_becomes_error(self) -> None:
        # carol's number is not one of the account's: Twilio answers 21606.
        carol = self.xmpp("carol")
        since = carol.mark()
        self.send_chat(carol, phone("+15557650004"), "from a foreign number", id_="mt-refused")
        error = carol.wait_message_error(phone("+15557650004"), since=since)
        self.assertEqual(error_condition(error), "not-acceptable", self.describe(error))
        self.assertIn("21606", error_text(error))

    def test_temporary_failures_are_retried(self) -> None:
        self.twilio.answer_next(2, 503)
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, phone("+15557650005"), "retried", id_="mt-retry", receipt=True)
        self.assertEqual(self.sent_to("+15557650005")[0].body, "retried")
        receipt = alice.wait_groupchat(message_from(phone("+15557650005")), since=since)
        self.assertIsNotNone(receipt.find(q(NS_RECEIPTS, "received")), self.describe(receipt))

    def test_queued_message_survives_a_restart(self) -> None:
        # The provider is down until trestle was stopped and started again.
        self.twilio.answer_next(1000, 503)
        before = len(self.twilio.attempts)
        alice = self.xmpp("alice")
        since = alice.mark()
        try:
            self.send_chat(alice, phone("+15557650012"), "persistent", id_="mt-restart",
                           receipt=True)
            self.twilio.wait_for(lambda: True if len(self.twilio.attempts) > before else None,
                                 STEP, "an attempt")
            self.trestle.stop()
        finally:
            self.twilio.answer_normally()
        self.assertEqual([m for m in self.twilio.messages if m.to == "+15557650012"], [])
        self.trestle.start()
        self.assertEqual(self.sent_to("+15557650012")[0].body, "persistent")
        receipt = alice.wait_groupchat(message_from(phone("+15557650012")), since=since,
                                       timeout=30)
        self.assertEqual(receipt.find(q(NS_RECEIPTS, "received")).get("id"), "mt-restart")

    def test_too_many_segments_is_refused_unsent(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        before = len(self.twilio.attempts)
        self.send_chat(alice, phone("+15557650006"), "x" * 307, id_="mt-long")
        error = alice.wait_message_error(phone("+15557650006"), since=since)
        self.assertEqual(error_condition(error), "not-acceptable", self.describe(error))
        self.assertIn("3 SMS segments", error_text(error))
        self.assertIn("limit is 2", error_text(error))
        # Two segments (306 GSM characters) pass.
        self.send_chat(alice, phone("+15557650006"), "y" * 306, id_="mt-two")
        self.assertEqual(self.sent_to("+15557650006")[0].body, "y" * 306)
        self.assertEqual(len([a for a in self.twilio.attempts[before:]
                              if ("To", "+15557650006") in a.form]), 1)

    def test_hourly_cap_is_enforced(self) -> None:
        dave = self.xmpp("dave")
        for n in range(HOURLY_CAP):
            self.send_chat(dave, phone("+15557650007"), f"capped {n}", id_=f"cap-{n}")
        self.sent_to("+15557650007", HOURLY_CAP)
        since = dave.mark()
        self.send_chat(dave, phone("+15557650007"), "one too many", id_="cap-over")
        error = dave.wait_message_error(phone("+15557650007"), since=since)
        self.assertEqual(error_condition(error), "policy-violation", self.describe(error))
        self.assertIn(f"the limit is {HOURLY_CAP}", error_text(error))

    def test_user_without_number_is_told_to_register(self) -> None:
        frank = self.xmpp("frank")
        since = frank.mark()
        self.send_chat(frank, phone("+15557650008"), "hello?", id_="no-number")
        error = frank.wait_message_error(phone("+15557650008"), since=since)
        self.assertEqual(error_condition(error), "registration-required", self.describe(error))

    def test_registration_chooses_a_pool_number(self) -> None:
        bob = self.xmpp("bob")
        form = bob.register_form(bob.register_get(SMS))
        self.assertIsNotNone(form)
        options = [o.findtext(q(NS_DATA, "value")) for o in form.iter(q(NS_DATA, "option"))]
        self.assertIn(POOL[0], options)
        reply = bob.register_set_form(SMS, {"number": POOL[0]})
        self.assertEqual(reply.get("type"), "result", to_string(reply))
        self.send_chat(bob, phone("+15557650009"), "from my pool number", id_="pool-1")
        self.assertEqual(self.sent_to("+15557650009")[0].from_, POOL[0])
        # Taken now: erin cannot have it, and it is no longer offered.
        erin = self.xmpp("erin")
        taken = erin.register_set_form(SMS, {"number": POOL[0]})
        self.assertEqual(error_condition(taken), "conflict", to_string(taken))
        form = erin.register_form(erin.register_get(SMS))
        options = [o.findtext(q(NS_DATA, "value")) for o in form.iter(q(NS_DATA, "option"))]
        self.assertNotIn(POOL[0], options)
        # And texts to it reach bob.
        since = bob.mark()
        status, _ = self.twilio.send_inbound(self.public_url("/twilio/inbound"), "+15557650010",
                                             POOL[0], "hi bob")
        self.assertEqual(status, 200)
        message = bob.wait_groupchat(message_from(phone("+15557650010")), since=since)
        self.assertEqual(body_of(message), "hi bob")

    def test_not_a_number_is_jid_malformed(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, f"pizza@{SMS}", "hello", id_="bad-jid")
        error = alice.wait_message_error(f"pizza@{SMS}", since=since)
        self.assertEqual(error_condition(error), "jid-malformed", self.describe(error))

    def test_phone_advertises_nothing_it_cannot_honour(self) -> None:
        # No disco features (no PEP, so no OMEMO device list): clients do not
        # offer end-to-end encryption to a phone.
        alice = self.xmpp("alice")
        info = alice.disco_info(phone("+15557650014"))
        self.assertEqual(info.iq.get("type"), "error", to_string(info.iq))
        self.assertEqual(info.features, [])
        # Nor an OMEMO device list, the first thing Conversations asks for.
        answer = alice.omemo_devicelist(phone("+15557650014"))
        self.assertEqual(answer.get("type"), "error", to_string(answer))

    def test_subscription_is_accepted_and_phone_is_available(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        alice.send_stanza("presence", phone("+15557650011"), type_="subscribe")
        available = alice.wait_presence(presence_from(phone("+15557650011"), type_="available"),
                                        since=since)
        self.assertIn("SMS", status_of(available) or "")
        # The phone answered `subscribed` (sent before the presence): Prosody
        # turned it into the roster's subscription.
        roster = alice.send_iq(alice.bare_jid, "get", "<query xmlns='jabber:iq:roster'/>")
        items = {item.get("jid"): item.get("subscription")
                 for item in roster.iter("{jabber:iq:roster}item")}
        self.assertIn(items.get(phone("+15557650011")), ("to", "both"), to_string(roster))

    # -- SMS -> XMPP ---------------------------------------------------------

    def test_inbound_sms_reaches_the_owner(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        status, body = self.twilio.send_inbound(self.public_url("/twilio/inbound"),
                                                "+15557650020", ALICE_NUMBER, "Hi Alice ✓ 日本")
        self.assertEqual(status, 200, body)
        self.assertIn("<Response>", body)
        message = alice.wait_groupchat(message_from(phone("+15557650020")), since=since)
        self.assertEqual(message.get("type"), "chat")
        self.assertEqual(body_of(message), "Hi Alice ✓ 日本")

    def test_mms_media_arrive_as_oob_and_in_the_body(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        media = [("https://media.example.com/a.jpg", "image/jpeg"),
                 ("https://media.example.com/b.png", "image/png")]
        status, _ = self.twilio.send_inbound(self.public_url("/twilio/inbound"), "+15557650021",
                                             ALICE_NUMBER, "look", media=media)
        self.assertEqual(status, 200)
        message = alice.wait_groupchat(message_from(phone("+15557650021")), since=since)
        self.assertEqual(body_of(message),
                         "look\nhttps://media.example.com/a.jpg\nhttps://media.example.com/b.png")
        urls = [x.findtext(q(NS_OOB, "url")) for x in message.findall(q(NS_OOB, "x"))]
        self.assertEqual(urls, [m[0] for m in media])

    def test_replayed_message_sid_is_delivered_once(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        url = self.public_url("/twilio/inbound")
        sid = "SM" + "ab" * 16
        for _ in range(2):
            status, _ = self.twilio.send_inbound(url, "+15557650022", ALICE_NUMBER, "only once",
                                                 sid=sid)
            self.assertEqual(status, 200)
        self.twilio.send_inbound(url, "+15557650022", ALICE_NUMBER, "marker")
        alice.wait_groupchat(message_from(phone("+15557650022"), body="marker"), since=since)
        once = alice.logged(lambda s: s.get("from", "").startswith(phone("+15557650022"))
                            and body_of(s) == "only once", since)
        self.assertEqual(len(once), 1, [to_string(s) for s in once])

    def test_unknown_fields_are_ignored(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        status, _ = self.twilio.send_inbound(self.public_url("/twilio/inbound"), "+15557650023",
                                             ALICE_NUMBER, "with extras",
                                             extra=[("OptOutType", "x"), ("Zzz", "1")])
        self.assertEqual(status, 200)
        alice.wait_groupchat(message_from(phone("+15557650023"), body="with extras"),
                             since=since)

    def test_unowned_number_is_held_and_reported_to_admins(self) -> None:
        admin = self.xmpp("admin")
        since = admin.mark()
        status, _ = self.twilio.send_inbound(self.public_url("/twilio/inbound"), "+15557650024",
                                             "+15550009999", "who is this?")
        self.assertEqual(status, 200)
        notice = admin.wait_groupchat(message_from(SMS), since=since)
        self.assertIn("+15550009999", body_of(notice) or "")
        self.assertIn("who is this?", body_of(notice) or "")
        result = admin.command_execute(SMS, "sms-usage")
        text = to_string(result.iq)
        self.assertIn("who is this?", text)
        self.assertIn("alice@localhost", text)
        # Not for users who are not admins.
        alice = self.xmpp("alice")
        refused = alice.command_execute(SMS, "sms-usage")
        self.assertEqual(error_condition(refused.iq), "forbidden", to_string(refused.iq))

    # -- bad webhook input -----------------------------------------------------

    def signed_post(self, path_suffix: str, params: list[tuple[str, str]], *,
                    raw_body: Optional[bytes] = None) -> tuple[int, bytes]:
        url = self.public_url(path_suffix)
        signature = twilio_signature(self.twilio.auth_token, url, params)
        body = raw_body if raw_body is not None else urllib.parse.urlencode(params).encode()
        return http_request(self.trestle.http_port, "POST", self.webhook(path_suffix), body,
                            {"Content-Type": "application/x-www-form-urlencoded",
                             "X-Twilio-Signature": signature})

    def test_forged_or_missing_signature_is_403(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        url = self.public_url("/twilio/inbound")
        for signing in ("wrong", "missing"):
            status, body = self.twilio.send_inbound(url, "+15557650030", ALICE_NUMBER,
                                                    "forged", signing=signing)
            self.assertEqual(status, 403, body)
        self.twilio.send_inbound(url, "+15557650030", ALICE_NUMBER, "genuine")
        alice.wait_groupchat(message_from(phone("+15557650030"), body="genuine"), since=since)
        self.assertEqual(alice.logged(lambda s: body_of(s) == "forged", since), [])

    def test_oversize_body_is_413(self) -> None:
        status, _ = self.signed_post("/twilio/inbound", [("Body", "x" * 70000)])
        self.assertEqual(status, 413)

    def test_wrong_method_and_path(self) -> None:
        status, _ = http_request(self.trestle.http_port, "GET", self.webhook("/twilio/inbound"))
        self.assertEqual(status, 405)
        status, _ = http_request(self.trestle.http_port, "POST", self.webhook("/twilio/other"),
                                 b"a=b")
        self.assertEqual(status, 404)

    def test_invalid_utf8_is_400(self) -> None:
        params = [("MessageSid", "SM" + "cd" * 16), ("From", "+15557650031"),
                  ("To", ALICE_NUMBER), ("Body", "x")]
        raw = urllib.parse.urlencode(params).replace("Body=x", "Body=%FF%FE").encode()
        status, body = self.signed_post("/twilio/inbound", params, raw_body=raw)
        self.assertEqual(status, 400, body)
        self.assertIn(b"UTF-8", body)

    def test_incomplete_webhook_is_400(self) -> None:
        status, body = self.signed_post("/twilio/inbound", [("Body", "no sender")])
        self.assertEqual(status, 400, body)

    def test_status_for_an_unknown_message_is_accepted_and_ignored(self) -> None:
        params = [("MessageSid", "SM" + "ef" * 16), ("MessageStatus", "delivered")]
        status, _ = self.signed_post("/twilio/status?id=0123456789abcdef", params)
        self.assertEqual(status, 204)

    def test_forged_status_callback_is_403(self) -> None:
        params = [("MessageSid", "SM" + "ab" * 16), ("MessageStatus", "delivered")]
        url = self.public_url("/twilio/status?id=0123456789abcdef")
        body = urllib.parse.urlencode(params).encode()
        for signature in (twilio_signature("not-the-token", url, params), None):
            headers = {"Content-Type": "application/x-www-form-urlencoded"}
            if signature is not None:
                headers["X-Twilio-Signature"] = signature
            status, answer = http_request(self.trestle.http_port, "POST",
                                          self.webhook("/twilio/status?id=0123456789abcdef"),
                                          body, headers)
            self.assertEqual(status, 403, answer)

    def test_text_waits_in_the_store_while_xmpp_is_down(self) -> None:
        # Twilio retries a failed webhook for 15 s at most, so a text or a
        # status callback that comes while the XMPP server is down is kept
        # (200) and delivered when it is back.
        url = self.public_url("/twilio/inbound")
        sid = "SM" + "12" * 16
        self.prosody.stop()
        try:
            self.trestle.wait_healthz_not(200)
            status, _ = self.twilio.send_inbound(url, "+15557650032", ALICE_NUMBER,
                                                 "kept for alice", sid=sid)
            self.assertEqual(status, 200)
            status, _ = self.signed_post("/twilio/status?id=0123456789abcdef",
                                         [("MessageSid", "SM" + "34" * 16),
                                          ("MessageStatus", "delivered")])
            self.assertEqual(status, 204)  # what a status callback is answered
        finally:
            self.prosody.start()
        self.trestle.wait_healthz(200, timeout=30)
        # trestle may deliver before alice is online; Prosody's offline
        # storage then hands it over at login: look from the client's start.
        alice = self.xmpp("alice")
        message = alice.wait_groupchat(message_from(phone("+15557650032"), body="kept for alice"),
                                       timeout=30)
        # Stamped by trestle with the time the text came (Prosody's offline
        # storage may add a delay of its own).
        self.assertIn(SMS, [d.get("from") for d in message.findall("{urn:xmpp:delay}delay")],
                      self.describe(message))
        # The provider's repeat is answered, and not delivered again.
        since = alice.mark()
        status, _ = self.twilio.send_inbound(url, "+15557650032", ALICE_NUMBER, "kept for alice",
                                             sid=sid)
        self.assertEqual(status, 200)
        alice.send_chat(alice.bare_jid, "marker")
        alice.wait_groupchat(lambda s: body_of(s) == "marker", since=since)
        self.assertEqual(alice.logged(lambda s: body_of(s) == "kept for alice", since), [])


class KannelTestCase(SmsTestCase):
    """bearerbox, smsbox and fakesmsc in front of trestle's Kannel dialect."""

    kannel: KannelServers
    mo_method = "get"

    @classmethod
    def setUpClass(cls) -> None:
        cls.start_prosody()
        sms = {
            "provider": "kannel",
            "numbers": {"alice@localhost": ALICE_NUMBER},
            "retry_min_delay_seconds": 1,
            "retry_max_delay_seconds": 2,
            "kannel": {"username": "trestle", "password": "kannel-pass",
                       "webhook_token": KANNEL_TOKEN},
        }
        cls.make_trestle(sms)
        mo_url = (f"http://127.0.0.1:{cls.trestle.http_port}/sms/{SMS}/kannel/mo"
                  f"?token={KANNEL_TOKEN}")
        cls.kannel = KannelServers(mo_url, mo_method=cls.mo_method, password="kannel-pass",
                                   denied_prefixes=[DENIED_PREFIX])
        try:
            cls.kannel.start()
            sms["kannel"]["sendsms_url"] = cls.kannel.sendsms_url
            cls.trestle.start()
        except Exception:
            cls.kannel.cleanup()
            cls.trestle.cleanup()
            cls.prosody.cleanup()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.kannel.cleanup()

    def describe(self, stanza: Optional[ET.Element]) -> str:
        return super().describe(stanza) + "\nkannel log:\n" + self.kannel.log_tail(20)

    def mt_to(self, number: str, since: int = 0):
        return self.kannel.wait_mt(lambda m: m.receiver == number, timeout=STEP, since=since)[0]


@unittest.skipUnless(BINARY, SKIP_REASON)
class KannelTests(KannelTestCase):
    """MT through sendsms to fakesmsc, MO through get-url, DLRs as receipts."""

    def test_mt_reaches_the_phone_and_the_dlr_becomes_a_receipt(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.send_chat(alice, phone("+15557650040"), "héllo € [1]", id_="k-1", receipt=True)
        mt = self.mt_to("+15557650040")
        self.assertEqual(mt.sender, ALICE_NUMBER)
        self.assertEqual(mt.kind, "text")
        self.assertEqual(mt.text, "héllo € [1]")
        receipt = alice.wait_groupchat(message_from(phone("+15557650040")), since=since)
        received = receipt.find(q(NS_RECEIPTS, "received"))
        self.assertIsNotNone(received, self.describe(receipt))
        self.assertEqual(received.get("id"), "k-1")

    def test_receipt_waits_for_the_delivery_report(self) -> None:
        alice = self.xmpp("alice")
        self.kannel.disconnect_phone()
        try:
            since = alice.mark()
            self.send_chat(alice, phone("+15557650041"), "held at the SMSC", id_="k-held",
                           receipt=True)
            time.sleep(3)
            self.assertEqual(alice.logged(message_from(phone("+15557650041")), since), [],
                             "a receipt before any delivery report")
        finally:
            self.kannel.connect_phone()
        self.assertEqual(self.mt_to("+15557650041").text, "held at the SMSC")
        receipt = alice.wait_groupchat(message_from(phone("+15557650041")), since=since)
        self.assertEqual(receipt.find(q(NS_RECEIPTS, "received")).get("id"), "k-held")

    def test_non_gsm_text_goes_as_ucs2(self) -> None:
        alice = self.xmpp("alice")
        self.send_chat(alice, phone("+15557650042"), "日本語 😀", id_="k-ucs2")
        mt = self.mt_to("+15557650042")
        self.assertEqual(mt.kind, "ucs-2")
        self.assertEqual(mt.decode("utf-16-be"), "日本語 😀")

    def test_long_text_is_concatenated_not_cut(self) -> None:
        alice = self.xmpp("alice")
        text = ("0123456789" * 30)[:300]
        self.send_chat(alice, phone("+15557650043"), text, id_="k-long")
        mt = self.mt_to("+15557650043")
        self.assertEqual(mt.parts, 2)
        self.assertEqual(mt.text, text)

    def test_refusal_by_the_smsc_becomes_one_error(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        number = DENIED_PREFIX + "0001"
        self.send_chat(alice, phone(number), "to a denied prefix", id_="k-denied")
        error = alice.wait_message_error(phone(number), since=since)
        self.assertEqual(error.get("id"), "k-denied", self.describe(error))
        self.assertIn(error_condition(error), ("not-acceptable", "recipient-unavailable"))
        time.sleep(2)
        errors = alice.logged(message_from(phone(number), type_="error"), since)
        self.assertEqual(len(errors), 1, [to_string(e) for e in errors])

    def test_mo_reaches_the_owner(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.kannel.inject_mo("+15557650044", ALICE_NUMBER, "hi from a phone é")
        message = alice.wait_groupchat(message_from(phone("+15557650044")), since=since)
        self.assertEqual(body_of(message), "hi from a phone é")

    def test_ucs2_mo_arrives_as_utf8(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.kannel.inject_mo("+15557650045", ALICE_NUMBER, "日本語 😀", kind="ucs2")
        message = alice.wait_groupchat(message_from(phone("+15557650045")), since=since)
        self.assertEqual(body_of(message), "日本語 😀")

    def test_mo_to_an_unowned_number_is_held(self) -> None:
        admin = self.xmpp("admin")
        since = admin.mark()
        self.kannel.inject_mo("+15557650046", "+15550008888", "anyone there?")
        notice = admin.wait_groupchat(message_from(SMS), since=since)
        self.assertIn("anyone there?", body_of(notice) or "")

    def test_wrong_token_is_403(self) -> None:
        for token in ("", "&token=wrong"):
            path = self.webhook("/kannel/mo") + "?from=%2B15557650047&to=%2B15550001111&text=x"
            status, _ = http_request(self.trestle.http_port, "GET", path + token)
            self.assertEqual(status, 403)


@unittest.skipUnless(BINARY, SKIP_REASON)
class KannelPostUrlTests(KannelTestCase):
    """MO through the sms-service's post-url."""

    mo_method = "post"

    def test_mo_through_post_url_reaches_the_owner(self) -> None:
        alice = self.xmpp("alice")
        since = alice.mark()
        self.kannel.inject_mo("+15557650050", ALICE_NUMBER, "posted ✓", kind="ucs2")
        message = alice.wait_groupchat(message_from(phone("+15557650050")), since=since)
        self.assertEqual(body_of(message), "posted ✓")


if __name__ == "__main__":
    unittest.main()
