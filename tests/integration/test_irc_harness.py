"""Proves the IRC integration harness itself, without trestle.

The raw IRC test client's line codec is checked offline; then real servers
are started on loopback ports: ngircd (plain and TLS, trusting the generated
certificate) with two clients that join, talk and use the channel commands;
InspIRCd with Atheme, whose CAP LS must show the IRCv3 capabilities the IRC
adapter relies on, and where an account registered through NickServ then
authenticates with SASL PLAIN. Each server is killed and restarted on the
same ports, and stopped and started gracefully.

Run: python3 test_irc_harness.py [unittest args]
"""

from __future__ import annotations

import ssl
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import irc_servers  # noqa: E402
from irc_client import (IrcClosed, IrcError, IrcTestClient, IrcTimeout, format_line,  # noqa: E402
                        msg, parse_line, rfc1459_casefold)
from servers import port_is_listening  # noqa: E402

CHANNEL = "#harness"
IRCV3_CAPS = ["sasl", "echo-message", "server-time", "message-tags", "away-notify",
              "multi-prefix"]


class LineCodecTests(unittest.TestCase):
    """The client's parser and formatter, byte for byte (no server)."""

    def test_parses_tags_source_command_and_trailing(self) -> None:
        m = parse_line(r"@time=2024-01-01T00:00:00.000Z;msgid=a\sb\:c\\d;+draft/x "
                       ":nick!user@host privmsg #chan :hello  world :)")
        self.assertEqual(m.tags, {"time": "2024-01-01T00:00:00.000Z", "msgid": "a b;c\\d",
                                  "+draft/x": ""})
        self.assertEqual(m.source, "nick!user@host")
        self.assertEqual(m.nick, "nick")
        self.assertEqual(m.command, "PRIVMSG")
        self.assertEqual(m.params, ["#chan", "hello  world :)"])

    def test_parses_numerics_and_lines_without_source(self) -> None:
        m = parse_line(":irc.localhost 005 me CASEMAPPING=ascii PREFIX=(ov)@+ :are supported")
        self.assertEqual((m.command, m.params[0], m.text),
                         ("005", "me", "are supported"))
        self.assertEqual(m.nick, "irc.localhost")
        ping = parse_line("PING :token with space")
        self.assertIsNone(ping.source)
        self.assertEqual(ping.params, ["token with space"])
        self.assertEqual(parse_line("CAP * LS * :a b").params, ["*", "LS", "*", "a b"])
        with self.assertRaises(ValueError):
            parse_line("@only=tags")

    def test_formats_and_refuses_line_breaks(self) -> None:
        self.assertEqual(format_line("PRIVMSG", "#c", "hi there"), "PRIVMSG #c :hi there")
        self.assertEqual(format_line("NICK", "bob"), "NICK bob")
        self.assertEqual(format_line("TOPIC", "#c", ""), "TOPIC #c :")
        self.assertEqual(format_line("PRIVMSG", "#c", "x", tags={"+a": "b c;"}),
                         r"@+a=b\sc\: PRIVMSG #c x")
        for bad in ("a\r\nQUIT", "a\nb", "a\0b"):
            with self.assertRaises(ValueError):
                format_line("PRIVMSG", "#c", bad)
        with self.assertRaises(ValueError):
            format_line("PRIVMSG", "two words", "x")

    def test_casefold_and_predicates(self) -> None:
        self.assertEqual(rfc1459_casefold("Nick[A]~"), "nick{a}^")
        self.assertEqual(rfc1459_casefold("Nick[A]~", "ascii"), "nick[a]~")
        self.assertEqual(rfc1459_casefold("ÄB", "ascii"), "Äb")
        line = parse_line(":Bob!b@h PRIVMSG #Chan :hi")
        self.assertTrue(msg("privmsg", "#chan", nick="bob", text="hi")(line))
        self.assertFalse(msg("PRIVMSG", "#other")(line))
        self.assertFalse(msg("PRIVMSG", nick="alice")(line))
        self.assertTrue(msg("PRIVMSG", None, contains="h")(line))


class IrcHarnessBase(unittest.TestCase):
    """Starts one server per class; every test gets fresh clients."""

    server_cls: type = irc_servers.IrcServer
    server: irc_servers.IrcServer

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = cls.server_cls()
        cls.addClassCleanup(cls.server.cleanup)
        started = time.monotonic()
        cls.server.start()
        print(f"\n[{cls.server.kind}] up in {time.monotonic() - started:.1f}s: "
              f"{cls.server.describe()}", file=sys.stderr)

    def setUp(self) -> None:
        if not self.server.running():
            self.server.start()

    def connect(self, nick: str, **kwargs) -> IrcTestClient:
        try:
            client = self.server.connect_client(nick, **kwargs)
        except (IrcError, IrcTimeout, OSError) as exc:
            self.fail(f"{nick} could not connect: {exc}\n--- {self.server.kind} log tail ---\n"
                      f"{self.server.log_tail()}")
        self.addCleanup(client.close)
        return client

    def exchange_privmsg(self, a: IrcTestClient, b: IrcTestClient, channel: str) -> None:
        """a and b join channel; each one's PRIVMSG reaches the other."""
        a.join(channel)
        names = b.join(channel)
        self.assertIn(a.nick, names)
        a.wait_command("JOIN", channel, nick=b.nick)
        a.privmsg(channel, f"hello from {a.nick}")
        got = b.wait_privmsg(channel, f"hello from {a.nick}")
        self.assertEqual(got.nick, a.nick)
        b.privmsg(a.nick, "private reply")
        self.assertEqual(a.wait_privmsg(a.nick, "private reply").nick, b.nick)

    def restart_on_same_ports(self) -> None:
        ports = self.server.listening_ports()
        watcher = self.connect("watcher")
        self.server.kill()
        self.assertFalse(self.server.running())
        with self.assertRaises(IrcClosed):
            watcher.wait_for(lambda m: False, 10, what="connection drop")
        self.assertFalse(any(port_is_listening(p) for p in ports))
        started = time.monotonic()
        self.server.restart()
        print(f"\n[{self.server.kind}] restarted in {time.monotonic() - started:.1f}s",
              file=sys.stderr)
        self.assertEqual(self.server.listening_ports(), ports)

    def stop_and_start(self) -> None:
        client = self.connect("leaver")
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        self.assertFalse(port_is_listening(self.server.port))
        with self.assertRaises(IrcClosed):
            client.wait_for(lambda m: False, 10, what="connection drop")
        self.server.start()
        self.connect("leaver")


class NgircdHarnessTests(IrcHarnessBase):
    server_cls = irc_servers.NgircdServer

    def test_plain_clients_exchange_privmsg(self) -> None:
        alice = self.connect("alice")
        bob = self.connect("bob")
        self.assertEqual(alice.welcome.command, "001")
        self.assertIn("PREFIX", alice.isupport)
        self.exchange_privmsg(alice, bob, CHANNEL)
        alice.notice(bob.nick, "a notice")
        self.assertEqual(bob.wait_command("NOTICE", bob.nick, text="a notice").nick, "alice")

    def test_tls_client_trusts_generated_certificate(self) -> None:
        carol = self.connect("carol", tls=True)
        self.assertTrue(carol.tls_version.startswith("TLS"), carol.tls_version)
        subject = dict(item for rdn in carol.peer_certificate["subject"] for item in rdn)
        self.assertEqual(subject["commonName"], irc_servers.SERVER_NAME)
        dave = self.connect("dave")
        self.exchange_privmsg(carol, dave, "#tls")

    def test_tls_without_trusting_the_certificate_fails(self) -> None:
        stranger = self.server.client("stranger", tls=True, ca_file=None)
        with self.assertRaises(ssl.SSLCertVerificationError):
            stranger.connect(5)
        wrong_name = self.server.client("wrongname", tls=True, server_hostname="irc.example.org")
        with self.assertRaises(ssl.SSLCertVerificationError):
            wrong_name.connect(5)

    def test_channel_commands(self) -> None:
        op = self.connect("opnick")
        user = self.connect("usernick")
        op.join("#ops")
        self.assertEqual(user.join("#ops").get("opnick"), "@")

        op.topic("#ops", "the topic")
        self.assertEqual(user.wait_command("TOPIC", "#ops").text, "the topic")
        self.assertEqual(user.topic("#ops").text, "the topic")  # 332

        op.mode("#ops", "+v", "usernick")
        self.assertEqual(user.wait_command("MODE", "#ops", "+v").param(2), "usernick")

        with self.assertRaises(IrcError) as taken:
            user.set_nick("opnick")
        self.assertEqual(taken.exception.numeric, "433")
        user.set_nick("renamed")
        self.assertEqual(op.wait_command("NICK", nick="usernick").target, "renamed")
        self.assertEqual(user.nick, "renamed")

        self.assertEqual(user.away("gone fishing").command, "306")
        op.privmsg("renamed", "are you there?")
        self.assertEqual(op.wait_command("301", None, "renamed").text, "gone fishing")
        self.assertEqual(user.away().command, "305")

        with self.assertRaises(IrcError) as refused:
            user.kick("#ops", "opnick", "not allowed")
        self.assertEqual(refused.exception.numeric, "482")
        op.kick("#ops", "renamed", "bye now")
        kick = user.wait_command("KICK", "#ops", "renamed")
        self.assertEqual((kick.nick, kick.text), ("opnick", "bye now"))

        user.join("#ops")
        user.part("#ops", "leaving")
        self.assertEqual(op.wait_command("PART", "#ops", nick="renamed").text, "leaving")

    def test_wait_is_bounded(self) -> None:
        lonely = self.connect("lonely")
        with self.assertRaises(IrcTimeout) as timed_out:
            lonely.wait_command("PRIVMSG", timeout=0.5)
        self.assertIn("no PRIVMSG", str(timed_out.exception))
        self.assertFalse(lonely.closed)

    def test_kill_and_restart_on_same_ports(self) -> None:
        self.restart_on_same_ports()
        self.exchange_privmsg(self.connect("after1"), self.connect("after2", tls=True), "#back")

    def test_graceful_stop_then_start(self) -> None:
        self.stop_and_start()


class InspircdHarnessTests(IrcHarnessBase):
    server_cls = irc_servers.InspircdServer

    def test_cap_ls_offers_the_ircv3_capabilities(self) -> None:
        alice = self.connect("capuser", caps=IRCV3_CAPS[1:])
        print(f"\n[inspircd] CAP LS: {' '.join(sorted(alice.caps_offered))}", file=sys.stderr)
        for cap in IRCV3_CAPS:
            self.assertIn(cap, alice.caps_offered)
        self.assertIn("PLAIN", alice.caps_offered["sasl"].split(","))
        self.assertEqual(alice.caps_enabled, set(IRCV3_CAPS[1:]))

        # echo-message, server-time, message-tags (msgid) on a real message.
        alice.join("#caps")
        alice.privmsg("#caps", "echo me")
        echo = alice.wait_privmsg("#caps", "echo me", nick="capuser")
        self.assertIn("time", echo.tags)
        self.assertIn("msgid", echo.tags)

    def test_away_notify_and_multi_prefix(self) -> None:
        op = self.connect("prefixop", caps=["multi-prefix", "away-notify"])
        other = self.connect("awayuser")
        op.join("#away")
        op.mode("#away", "+v", "prefixop")
        self.assertEqual(op.names("#away").get("prefixop"), "@+")
        other.join("#away")
        other.away("out for lunch")
        self.assertEqual(op.wait_command("AWAY", nick="awayuser").text, "out for lunch")
        other.away()
        self.assertEqual(op.wait_command("AWAY", nick="awayuser").params, [])

    def test_register_account_then_sasl_plain(self) -> None:
        self.server.register_account("erin", "erin-password-1")
        erin = self.connect("erin_sasl", sasl=("erin", "erin-password-1"))
        self.assertEqual(erin.sasl_result.command, "903")
        logged_in = erin.messages(msg("900"))
        self.assertEqual(logged_in[0].param(2), "erin", erin.tail())

        with self.assertRaises(IrcError) as refused:
            self.server.connect_client("mallory", sasl=("erin", "wrong-password"))
        self.assertEqual(refused.exception.numeric, "904")

    def test_tls_client_trusts_generated_certificate(self) -> None:
        secure = self.connect("secure", tls=True, caps=["server-time"])
        self.assertTrue(secure.tls_version.startswith("TLS"), secure.tls_version)
        self.exchange_privmsg(secure, self.connect("insecure"), "#mixed")

    def test_kill_and_restart_keeps_ports_and_accounts(self) -> None:
        self.server.register_account("frank", "frank-password-1")
        self.restart_on_same_ports()
        frank = self.connect("frank", sasl=("frank", "frank-password-1"), tls=True)
        self.assertEqual(frank.sasl_result.command, "903")

    def test_graceful_stop_then_start(self) -> None:
        self.stop_and_start()


if __name__ == "__main__":
    irc_servers.install_exit_on_signals()
    unittest.main(verbosity=2)
