"""Nothing acknowledged is lost: trestle answers a mail 250 and a text 200
only once its stanza is kept in the store, and sends it again until the
XMPP server has confirmed it (a XEP-0199 ping answered after it).

Real peers on loopback ports: Prosody (with offline storage), Postfix
relaying the mail domain to trestle's listener as deploy/postfix/ describes,
and Kannel (bearerbox, smsbox and fakesmsc) retrying webhooks that fail.
Each test pushes a burst through both and breaks something half-way:
trestle killed with SIGKILL and started again, or Prosody killed and
started again. Every mail and text must arrive; repeats are allowed (at
least once) and counted on stderr.

Run: TRESTLE_BINARY=... python3 test_durability.py [unittest args]
"""

from __future__ import annotations

import smtplib
import sys
import time
import unittest
import xml.etree.ElementTree as ET
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import servers  # noqa: E402
from sms_servers import KannelServers  # noqa: E402
from smtp_servers import CaptureRelay, PostfixServer, swaks  # noqa: E402
from trestle_process import Component, TrestleProcess, binary_from_env  # noqa: E402
from xmpp_client import MucTestClient, body_of, is_message, register_with  # noqa: E402

BINARY = binary_from_env()
SKIP_REASON = "TRESTLE_BINARY is not set to an executable trestle binary"

MAIL = "mail.localhost"
MAIL_SECRET = "s3cret-mail"
SMS = "sms.localhost"
SMS_SECRET = "s3cret-sms"
USERS = {"alice": "alice-secret", "admin": "admin-secret"}
ALICE_NUMBER = "+15550001111"
PHONES = ("+15557650001", "+15557650002")
SENDERS = ("ann@example.com", "ben@example.com")
KANNEL_TOKEN = "kannel-webhook-token-0123456789"
BURST = 200
STEP = 10.0
CONNECT = 20.0
# Postfix retries deferred mail every 2 to 4 s, Kannel a failed webhook
# every second; everything should be through well within this.
ALL_THROUGH = 180.0


def mail_body(tag: str, sender: str, n: int) -> str:
    return f"{tag} mail {sender} {n:03d}"


def text_body(tag: str, phone: str, n: int) -> str:
    return f"{tag} text {phone} {n:03d}"


def burst_bodies(tag: str) -> list[str]:
    """What a burst tagged `tag` carries (each test its own tag)."""
    bodies = [mail_body(tag, SENDERS[n % 2], n) for n in range(BURST)]
    return bodies + [text_body(tag, PHONES[n % 2], n) for n in range(BURST)]


def message_body(stanza: ET.Element) -> str:
    """The body without the "Subject: ...\\n\\n" a new email thread starts with."""
    body = body_of(stanza) or ""
    return body.rsplit("\n\n", 1)[-1]


@unittest.skipUnless(BINARY, SKIP_REASON)
class DurabilityTests(unittest.TestCase):
    """One Prosody, Postfix, Kannel and trestle (mail and SMS) for the class."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.prosody = servers.ProsodyServer([(MAIL, MAIL_SECRET), (SMS, SMS_SECRET)],
                                            users=USERS)
        cls.prosody.start()
        cls.relay = CaptureRelay().start()
        cls.listener_port = servers.free_port()
        sms = {
            "provider": "kannel",
            "numbers": {"alice@localhost": ALICE_NUMBER},
            "kannel": {"username": "trestle", "password": "kannel-pass",
                       "webhook_token": KANNEL_TOKEN},
        }
        smtp = {
            "relay": cls.relay.relay_settings(),
            "listener": {"port": cls.listener_port},
        }
        cls.trestle = TrestleProcess(BINARY, cls.prosody.component_port,
                                     components=[Component(MAIL, MAIL_SECRET, "smtp",
                                                           {"smtp": smtp}),
                                                 Component(SMS, SMS_SECRET, "sms",
                                                           {"sms": sms})])
        sms["public_base_url"] = f"http://127.0.0.1:{cls.trestle.http_port}"
        mo_url = (f"http://127.0.0.1:{cls.trestle.http_port}/sms/{SMS}/kannel/mo"
                  f"?token={KANNEL_TOKEN}")
        # smsbox retries a webhook that fails (no connection, 503) every
        # second for a minute: the provider's side of "nothing lost".
        cls.kannel = KannelServers(mo_url, password="kannel-pass", http_request_retry=60,
                                   http_queue_delay=1)
        cls.postfix = PostfixServer(MAIL, cls.listener_port)
        try:
            cls.kannel.start()
            sms["kannel"]["sendsms_url"] = cls.kannel.sendsms_url
            cls.trestle.start()
            cls.postfix.start()
            register_with(cls.prosody, "alice", MAIL, username="alice")
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        for server in (cls.postfix, cls.kannel, cls.trestle, cls.prosody):
            server.cleanup()
        cls.relay.stop()

    def alice(self) -> MucTestClient:
        client = MucTestClient(self.prosody.jid("alice"), self.prosody.password("alice"),
                               self.prosody.c2s_port, resource="test", timeout=STEP)
        client.connect(CONNECT)
        self.addCleanup(client.disconnect)
        return client

    def describe(self) -> str:
        warnings = [line for line in self.trestle.log_lines()
                    if " warning " in line or " error " in line]
        kannel = [line for line in self.kannel.log_text().splitlines()
                  if "ERROR" in line or "WARNING" in line]
        return ("\ntrestle warnings:\n" + "\n".join(warnings[-20:])
                + "\ntrestle log:\n" + self.trestle.log_tail(20)
                + "\npostfix log:\n" + self.postfix.log_tail(10)
                + "\nkannel warnings:\n" + "\n".join(kannel[-20:])
                + "\nkannel log:\n" + self.kannel.log_tail(10))

    def push_burst(self, tag: str) -> None:
        """200 mails into Postfix's queue and 200 texts into Kannel, from two
        senders each, numbered."""
        with smtplib.SMTP("127.0.0.1", self.postfix.port, timeout=STEP) as smtp:
            for n in range(BURST):
                mail = EmailMessage()
                mail["From"] = SENDERS[n % 2]
                mail["To"] = "alice@" + MAIL
                mail["Subject"] = "burst"
                mail.set_content(mail_body(tag, SENDERS[n % 2], n))
                smtp.send_message(mail)
        for n in range(BURST):
            self.kannel.inject_mo(PHONES[n % 2], ALICE_NUMBER, text_body(tag, PHONES[n % 2], n))

    def received(self, client: MucTestClient, tag: str, since: int = 0) -> list[str]:
        """The bodies of the burst's messages alice has, in arrival order."""
        wanted = set(burst_bodies(tag))
        bodies = [message_body(s) for s in client.logged(is_message, since)]
        return [b for b in bodies if b in wanted]

    def wait_all(self, client: MucTestClient, tag: str, since: int = 0) -> list[str]:
        wanted = set(burst_bodies(tag))
        deadline = time.monotonic() + ALL_THROUGH
        while True:
            got = self.received(client, tag, since)
            missing = wanted - set(got)
            if not missing:
                return got
            if time.monotonic() > deadline:
                self.fail(f"{len(missing)} of {len(wanted)} never arrived, e.g. "
                          f"{sorted(missing)[:5]}" + self.describe())
            time.sleep(0.5)

    def report(self, what: str, got: list[str]) -> None:
        repeats = sum(count - 1 for count in Counter(got).values())
        print(f"\n{what}: {len(set(got))} messages arrived, {repeats} repeats",
              file=sys.stderr)

    def test_sigkill_during_a_burst_loses_nothing(self) -> None:
        alice = self.alice()
        since = alice.mark()
        self.push_burst("kill")
        # Half-way: trestle has passed some on, and holds more.
        deadline = time.monotonic() + 60
        while len(self.received(alice, "kill", since)) < BURST // 2:
            self.assertLess(time.monotonic(), deadline, self.describe())
            time.sleep(0.05)
        self.trestle.kill()
        self.trestle.start()
        got = self.wait_all(alice, "kill", since)
        self.report("SIGKILL of trestle", got)

    def test_prosody_killed_during_a_burst_loses_nothing(self) -> None:
        # alice is offline: what Prosody took is in its offline storage.
        deadline = time.monotonic() + 60
        before = self.trestle.metric("trestle_stanzas_out_total")
        self.push_burst("reset")
        while self.trestle.metric("trestle_stanzas_out_total") - before < BURST // 2:
            self.assertLess(time.monotonic(), deadline, self.describe())
            time.sleep(0.05)
        self.prosody.restart(graceful=False)
        self.trestle.wait_healthz(200, timeout=60)
        alice = self.alice()
        got = self.wait_all(alice, "reset")
        self.report("SIGKILL of Prosody", got)

    def test_order_per_contact_holds_across_a_sigkill(self) -> None:
        # A client that sends one mail at a time and, like an MTA, sends
        # again what got no 250: what trestle accepted comes in that order.
        alice = self.alice()
        since = alice.mark()
        sender = "olga@example.com"
        count = 40
        n = 0
        smtp = None
        deadline = time.monotonic() + 90
        while n < count:
            self.assertLess(time.monotonic(), deadline, self.describe())
            try:
                if smtp is None:
                    smtp = smtplib.SMTP("127.0.0.1", self.listener_port, timeout=STEP)
                smtp.sendmail(sender, ["alice@" + MAIL],
                              f"From: {sender}\r\nSubject: order\r\n\r\norder {n:03d}\r\n")
                n += 1
                if n == count // 2:
                    self.trestle.kill()  # right after a 250: not confirmed yet
                    self.trestle.start()
            except (OSError, smtplib.SMTPException):
                smtp = None
                time.sleep(0.2)
        smtp.quit()
        wanted = [f"order {i:03d}" for i in range(count)]
        deadline = time.monotonic() + 60
        while True:
            got = [b for b in (message_body(s) for s in alice.logged(is_message, since))
                   if b in wanted]
            if set(got) == set(wanted):
                break
            self.assertLess(time.monotonic(), deadline,
                            f"missing {sorted(set(wanted) - set(got))}" + self.describe())
            time.sleep(0.2)
        first_arrivals = list(dict.fromkeys(got))
        self.assertEqual(first_arrivals, wanted)
        self.report("order across a SIGKILL", got)


@unittest.skipUnless(BINARY, SKIP_REASON)
class EjabberdConfirmationTests(unittest.TestCase):
    """ejabberd routes the component's confirming pings back as Prosody does,
    so what is kept is forgotten once delivered."""

    def test_kept_mail_is_confirmed_and_forgotten(self) -> None:
        ejabberd = servers.make_server("ejabberd", [(MAIL, MAIL_SECRET)], users=USERS)
        self.addCleanup(ejabberd.cleanup)
        ejabberd.start()
        relay = CaptureRelay().start()
        self.addCleanup(relay.stop)
        port = servers.free_port()
        trestle = TrestleProcess(BINARY, ejabberd.component_port,
                                 components=[Component(MAIL, MAIL_SECRET, "smtp", {"smtp": {
                                     "relay": relay.relay_settings(),
                                     "listener": {"port": port}}})])
        self.addCleanup(trestle.cleanup)
        trestle.start()
        register_with(ejabberd, "alice", MAIL, username="alice")
        alice = MucTestClient(ejabberd.jid("alice"), ejabberd.password("alice"),
                              ejabberd.c2s_port, resource="test", timeout=STEP)
        alice.connect(CONNECT)
        self.addCleanup(alice.disconnect)
        for n in range(3):
            result = swaks(port, "--to", "alice@" + MAIL, "--from", "bob@example.com",
                           "--body", f"confirmed {n}")
            self.assertEqual(result.returncode, 0, result.stdout)
        for n in range(3):
            alice.wait_groupchat(lambda s, n=n: message_body(s) == f"confirmed {n}")
        deadline = time.monotonic() + STEP
        while trestle.metric("trestle_undelivered", MAIL) != 0:
            self.assertLess(time.monotonic(), deadline, trestle.log_tail(20))
            time.sleep(0.1)


if __name__ == "__main__":
    unittest.main()
