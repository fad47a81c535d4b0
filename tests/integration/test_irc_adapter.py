"""The IRC adapter end to end: XMPP users in IRC channels through trestle.

The acceptance test of the adapter's behaviour contract (rooms, messages,
private messages, nicks, topics, kicks, modes, away, several resources, the
server JID, disco, errors, reconnection, and that nothing from XMPP smuggles
an extra IRC command). Real servers on loopback ports: one Prosody for the
module (with its own MUC component, used to prove the MUC test helpers), and
per test class an IRC server (ngircd plain or TLS, InspIRCd with Atheme) and
a trestle whose `irc.localhost` component lists only that server (plus, where
a test needs one, `localhost` on a port that refuses or never answers).

Two XMPP users (alice, bob) talk to raw IRC clients (carol, dave, ...).
Every test uses its own channels and nicks (a per-class counter), and at its
end waits until the IRC connections trestle held for its XMPP users are gone,
so tests do not leak into each other.

The trestle tests are skipped when TRESTLE_BINARY does not name an
executable; the MUC helper tests against Prosody always run.

Run: TRESTLE_BINARY=... python3 test_irc_adapter.py [unittest args]
"""

from __future__ import annotations

import socket
import sys
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import irc_servers  # noqa: E402
import servers  # noqa: E402
from irc_client import IrcError, IrcMessage, IrcTestClient, msg  # noqa: E402
from trestle_process import Component, TrestleProcess, binary_from_env  # noqa: E402
from xmpp_client import (NS_CLIENT, NS_CONFERENCE, NS_MUC_USER, NS_STANZAS,  # noqa: E402
                         ClientError, JoinResult, MucTestClient, bare_jid, body_of,
                         build_submit_form, error_condition, iq_type, message_from,
                         muc_invite, muc_item, parse_form, presence_from, q, show_of,
                         stanza_type, status_codes, status_of, subject_of, to_string)

BINARY = binary_from_env()
SKIP_REASON = "TRESTLE_BINARY is not set to an executable trestle binary"

IRC = "irc.localhost"
IRC_SECRET = "s3cret-irc"
HOST = irc_servers.LOOPBACK  # the IRC server as the JIDs name it
MUC_DOMAIN = "conference.localhost"

# Timeouts (seconds): generous for a loaded 2-core CI machine, but every
# wait ends. A passing run never waits for them.
STEP = 10.0
CONNECT = 20.0
# The classes set idle_timeout_seconds to IDLE: an IRC connection without
# channels must be gone within GONE. Long enough to tell "QUIT because the
# last resource left" (at once) from "QUIT because idle".
IDLE = 20
GONE = IDLE + 10.0


def room_jid(channel: str, server: str = HOST) -> str:
    """`#chan%server@irc.localhost`."""
    return f"{channel}%{server}@{IRC}"


def user_jid(nick: str, server: str = HOST) -> str:
    """`nick%server@irc.localhost`."""
    return f"{nick}%{server}@{IRC}"


def server_jid(server: str = HOST) -> str:
    """`server@irc.localhost`."""
    return f"{server}@{IRC}"


class MucProsodyServer(servers.ProsodyServer):
    """Prosody with its own MUC component as well (rooms unlocked on creation)."""

    def _prepare(self) -> None:
        fresh = not self.config_path.exists()
        super()._prepare()
        if fresh:
            with self.config_path.open("a") as config:
                config.write(f'\nComponent "{MUC_DOMAIN}" "muc"\n'
                             "    muc_room_locking = false\n"
                             "    restrict_room_creation = false\n")


_PROSODY: list[MucProsodyServer] = []


def shared_prosody() -> MucProsodyServer:
    """The module's Prosody, started on first use and restarted if it died."""
    if not _PROSODY:
        _PROSODY.append(MucProsodyServer([(IRC, IRC_SECRET)]))
    server = _PROSODY[0]
    if not server.running():
        server.start()
    return server


def tearDownModule() -> None:  # noqa: N802 - unittest hook
    for server in _PROSODY:
        server.cleanup()
    _PROSODY.clear()


class XmppHelpers(unittest.TestCase):
    """Connected clients for the test accounts and stanza assertions."""

    prosody: MucProsodyServer

    def xmpp(self, user: str, resource: str = "test") -> MucTestClient:
        """A connected MucTestClient for a test account, disconnected after the test."""
        client = MucTestClient(self.prosody.jid(user), self.prosody.password(user),
                               self.prosody.c2s_port, resource=resource, timeout=STEP)
        client.connect(CONNECT)
        self.addCleanup(client.disconnect)
        return client

    def describe(self, stanza: Optional[ET.Element] = None) -> str:
        """Failure context: the stanza (if any)."""
        return f"\nstanza: {to_string(stanza)}" if stanza is not None else ""

    def assert_item(self, stanza: ET.Element, affiliation: str, role: str) -> None:
        """The muc#user item carries this affiliation and role."""
        item = muc_item(stanza)
        self.assertIsNotNone(item, self.describe(stanza))
        self.assertEqual((item.affiliation, item.role), (affiliation, role),
                         self.describe(stanza))

    def assert_error(self, stanza: ET.Element, *conditions: str) -> None:
        """An error stanza, with one of conditions when any are given."""
        self.assertEqual(stanza_type(stanza), "error", self.describe(stanza))
        if conditions:
            self.assertIn(error_condition(stanza), conditions, self.describe(stanza))


# -- the helpers themselves, against Prosody's own MUC -----------------------

class MucHelperProsodyTests(XmppHelpers):
    """Proves MucTestClient against a real MUC service (Prosody's), no trestle."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.prosody = shared_prosody()

    def test_join_subject_echo_nick_change_and_kick(self) -> None:
        room = f"helpers@{MUC_DOMAIN}"
        alice, bob = self.xmpp("alice"), self.xmpp("bob")

        first = alice.join_room(room, "alice")
        self.assertTrue(first.ok, self.describe(first.error))
        self.assertEqual(first.nick, "alice")
        self.assertIn("110", status_codes(first.self_presence))
        self.assertEqual(first.occupants, [])
        self.assertEqual(subject_of(first.subject), "")
        self.assertLess(first.self_seq, first.subject_seq)
        self.assert_item(first.self_presence, "owner", "moderator")

        since = alice.mark()
        second = bob.join_room(room, "bob")
        self.assertTrue(second.ok, self.describe(second.error))
        self.assertEqual(second.occupant_nicks(), ["alice"])
        self.assertTrue(all(s < second.self_seq for s in second.occupant_seqs))
        self.assert_item(second.occupant("alice"), "owner", "moderator")
        self.assert_item(second.self_presence, "none", "participant")
        joined = alice.wait_presence(presence_from(f"{room}/bob", type_="available"),
                                     since=since)
        self.assertNotIn("110", status_codes(joined))

        # Subject change reaches everyone from the setter's occupant JID.
        since_a, since_b = alice.mark(), bob.mark()
        alice.set_subject(room, "prosody subject")
        for client, mark in ((alice, since_a), (bob, since_b)):
            got = client.wait_groupchat(message_from(f"{room}/alice", with_subject=True),
                                        since=mark)
            self.assertEqual(subject_of(got), "prosody subject")
            self.assertIsNone(body_of(got))

        # Groupchat: the sender's echo keeps the id.
        since_a, since_b = alice.mark(), bob.mark()
        sent = alice.send_groupchat(room, "hello room", id_="helper-msg-1")
        self.assertEqual(sent, "helper-msg-1")
        echo = alice.wait_groupchat(message_from(f"{room}/alice", type_="groupchat",
                                                 body="hello room"), since=since_a)
        self.assertEqual(echo.get("id"), "helper-msg-1")
        bob.wait_groupchat(message_from(f"{room}/alice", type_="groupchat", body="hello room"),
                           since=since_b)

        # Nick change: unavailable 303 with the new nick, then the new nick.
        since_a = alice.mark()
        since_b = bob.change_nick(room, "bobby")
        gone = alice.wait_presence(presence_from(f"{room}/bob", type_="unavailable",
                                                 codes=["303"]), since=since_a)
        self.assertEqual(muc_item(gone).nick, "bobby")
        alice.wait_presence(presence_from(f"{room}/bobby", type_="available"), since=since_a)
        own = bob.wait_presence(presence_from(f"{room}/bob", type_="unavailable",
                                              codes=["303", "110"]), since=since_b)
        self.assertEqual(muc_item(own).nick, "bobby")

        # A taken nick: error presence with <conflict/>.
        since_b = bob.mark()
        bob.change_nick(room, "alice")
        self.assert_error(bob.wait_error_presence(f"{room}/alice", since=since_b), "conflict")

        # Kick through muc#admin: 307 for everyone, 110 for the victim.
        since_a, since_b = alice.mark(), bob.mark()
        answer = alice.kick(room, "bobby", "helper kick")
        self.assertEqual(iq_type(answer), "result", to_string(answer))
        kicked = bob.wait_presence(presence_from(f"{room}/bobby", type_="unavailable",
                                                 codes=["307", "110"]), since=since_b)
        item = muc_item(kicked)
        self.assertEqual((item.role, item.reason), ("none", "helper kick"), to_string(kicked))
        seen = alice.wait_presence(presence_from(f"{room}/bobby", type_="unavailable",
                                                 codes=["307"]), since=since_a)
        self.assertNotIn("110", status_codes(seen))

        # Leaving: our own unavailable presence with 110.
        left = alice.leave_room(room, "alice")
        self.assertEqual(stanza_type(left), "unavailable")

    def test_join_error_and_bounded_waits(self) -> None:
        room = f"errors@{MUC_DOMAIN}"
        alice, bob = self.xmpp("alice"), self.xmpp("bob")
        self.assertTrue(alice.join_room(room, "same").ok)
        refused = bob.join_room(room, "same")
        self.assertFalse(refused.ok)
        self.assert_error(refused.error, "conflict")
        self.assertEqual(bare_jid(refused.error.get("from")), room)
        # Groupchat to a room bob is not in: Prosody answers with an error message.
        since = bob.mark()
        bob.send_groupchat(room, "not joined")
        self.assert_error(bob.wait_message_error(room, since=since))
        with self.assertRaises(ClientError):
            bob.wait_presence(presence_from(f"{room}/nobody"), timeout=0.5)


# -- trestle ----------------------------------------------------------------

class AdapterTestBase(XmppHelpers):
    """One IRC server and one trestle per class; per-test nicks and channels."""

    ircd: irc_servers.IrcServer
    trestle: TrestleProcess
    counter = 0
    # Set once a test left an IRC connection behind: later tests then wait
    # only briefly, so a broken adapter fails every test but not the runner's
    # time limit.
    leaked = False

    @classmethod
    def make_ircd(cls) -> irc_servers.IrcServer:
        """The class's IRC server (not started)."""
        return irc_servers.NgircdServer(tls=False)

    @classmethod
    def server_entries(cls) -> list[dict]:
        """The `irc.servers` list of the trestle config."""
        return [fast_server(HOST, cls.ircd.port)]

    @classmethod
    def irc_settings(cls) -> dict:
        """The `irc:` section of the component (flood control off, short delays)."""
        return {
            "idle_timeout_seconds": IDLE,
            "server_defaults": {"flood_lines_per_second": 0, "connect_timeout_seconds": 5,
                                "reconnect_min_delay_seconds": 1,
                                "reconnect_max_delay_seconds": 2},
            "servers": cls.server_entries(),
        }

    @classmethod
    def setUpClass(cls) -> None:
        if BINARY is None:
            raise unittest.SkipTest(SKIP_REASON)
        cls.counter = 0
        cls.leaked = False
        cls.prosody = shared_prosody()
        cls.ircd = cls.make_ircd()
        cls.addClassCleanup(cls.ircd.cleanup)
        cls.ircd.start()
        cls.prepare_ircd()
        cls.trestle = TrestleProcess(
            BINARY, cls.prosody.component_port,
            components=[Component(IRC, IRC_SECRET, "irc", {"irc": cls.irc_settings()})])
        cls.addClassCleanup(cls.trestle.cleanup)
        try:
            cls.trestle.start()
        except Exception:
            print(f"\n--- prosody log tail ---\n{cls.prosody.log_tail()}", file=sys.stderr)
            raise

    @classmethod
    def prepare_ircd(cls) -> None:
        """Anything to set up on the IRC server before trestle starts."""

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.trestle.running():
            cls.trestle.stop_expect_clean_exit()

    def setUp(self) -> None:
        type(self).counter += 1
        self.n = type(self).counter
        if not self.ircd.running():
            self.ircd.start()
        self.xmpp_nicks: list[str] = []
        # Registered first, so it runs last: after every client has disconnected.
        self.addCleanup(self.wait_irc_connections_gone)

    # -- names ----------------------------------------------------------------

    def nick(self, base: str) -> str:
        """A nick unique to this test (`alice7`)."""
        return f"{base}{self.n}"

    def channel(self, base: str) -> str:
        """A channel unique to this test (`#topic7`)."""
        return f"#{base}{self.n}"

    # -- clients ----------------------------------------------------------------

    def irc(self, nick: str, **kwargs) -> IrcTestClient:
        """A registered raw IRC client on the class's server, closed after the test."""
        try:
            client = self.ircd.connect_client(nick, timeout=CONNECT, **kwargs)
        except (IrcError, OSError) as exc:
            self.fail(f"{nick} could not connect: {exc}\n{self.ircd.log_tail()}")
        self.addCleanup(client.quit)
        return client

    def join(self, client: MucTestClient, channel: str, nick: str, *,
             server: str = HOST, password: Optional[str] = None) -> JoinResult:
        """Joins `channel` through trestle and requires success."""
        self.xmpp_nicks.append(nick)
        result = client.join_room(room_jid(channel, server), nick, password, timeout=CONNECT)
        if not result.ok:
            self.fail(f"{client.full_jid} could not join {channel} as {nick}"
                      f"{self.describe(result.error)}")
        if result.nick and result.nick not in self.xmpp_nicks:
            self.xmpp_nicks.append(result.nick)
        return result

    def alice_joins_beside_carol(self, base: str) -> tuple[str, str, IrcTestClient,
                                                           MucTestClient, str]:
        """carol (IRC) in a channel of this test; alice (XMPP) joins it, and carol
        sees her JOIN. Returns the channel, its room JID, carol, alice and
        alice's nick."""
        chan = self.channel(base)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)
        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)
        return chan, room_jid(chan), carol, alice, a

    def trestle_tail(self) -> str:
        """The end of the trestle log, for failure messages."""
        return f"\n--- trestle log tail ---\n{self.trestle.log_tail(30)}"

    def describe(self, stanza: Optional[ET.Element] = None) -> str:
        """The stanza and the end of the trestle log."""
        return super().describe(stanza) + self.trestle_tail()

    def wait_irc_connections_gone(self) -> None:
        """Fails the test when an IRC connection of its XMPP users outlives them.

        Runs after the XMPP clients disconnected: trestle QUITs a connection
        whose last resource is gone at once, and one without channels after
        idle_timeout_seconds.
        """
        nicks = sorted(set(self.xmpp_nicks))
        if not nicks or not self.ircd.running():
            return
        probe = self.ircd.connect_client(f"probe{self.n}", timeout=CONNECT)
        try:
            leaked_before = type(self).leaked
            type(self).leaked = True  # stays set when the wait fails
            self.wait_nicks_offline(probe, nicks, 2.0 if leaked_before else GONE,
                                    "the end of the IRC connections of gone XMPP users")
            type(self).leaked = leaked_before
        finally:
            probe.quit()

    def wait_nicks_offline(self, client: IrcTestClient, nicks: list[str], timeout: float,
                           what: str) -> None:
        """Polls ISON until none of nicks is on the IRC server (no event tells it
        to a client that shares no channel with them); bounded."""
        deadline = time.monotonic() + timeout
        while True:
            start = client.mark()
            client.send("ISON", *nicks)
            online = client.wait_command("303", timeout=STEP, since=start).text.split()
            if not online:
                return
            if time.monotonic() >= deadline:
                self.fail(f"no {what} within {timeout}s: still online {online}"
                          f"{self.trestle_tail()}")
            time.sleep(0.2)

    # -- waiting --------------------------------------------------------------

    def occupant(self, client: MucTestClient, room: str, nick: str, since: int,
                 predicate: Callable[[ET.Element], bool] = lambda p: True, *,
                 type_: Optional[str] = "available", codes=(), what: str = "") -> ET.Element:
        """Waits for a presence from room/nick (type_, codes, predicate)."""
        check = presence_from(f"{room}/{nick}", type_=type_, codes=codes)
        try:
            return client.wait_presence(lambda p: check(p) and predicate(p), STEP, since,
                                        what or f"presence from {room}/{nick}")
        except ClientError as exc:
            self.fail(f"{exc}{self.trestle_tail()}")

    def stanza(self, client: MucTestClient, predicate: Callable[[ET.Element], bool],
               since: int, what: str, timeout: float = STEP) -> ET.Element:
        """Waits for any logged stanza; a timeout fails the test with the trestle log."""
        try:
            return client.wait_stanza(predicate, timeout, since, what)
        except ClientError as exc:
            self.fail(f"{exc}{self.trestle_tail()}")

    def irc_lines_from(self, client: IrcTestClient, nick: str, since: int) -> list[IrcMessage]:
        """Every line client received from nick since the mark."""
        return client.messages(lambda m: m.nick is not None
                               and client.casefold(m.nick) == client.casefold(nick), since)

    def sync(self, sender: MucTestClient, room: str, observer: IrcTestClient, channel: str,
             nick: str, text: str) -> None:
        """A groupchat from sender that observer must see: everything trestle was asked
        before it has reached the IRC server by then (one connection, in order)."""
        sender.send_groupchat(room, text)
        observer.wait_privmsg(channel, text, nick=nick, timeout=STEP)

    def poll_whois(self, client: IrcTestClient, nick: str,
                   predicate: Callable[[list[IrcMessage]], bool], what: str) -> list[IrcMessage]:
        """WHOIS nick until predicate holds (AWAY has no event on a server without
        away-notify); bounded."""
        deadline = time.monotonic() + STEP
        while True:
            lines = client.whois(nick, timeout=STEP)
            if predicate(lines):
                return lines
            if time.monotonic() >= deadline:
                self.fail(f"WHOIS {nick}: no {what} in time: "
                          f"{[str(m) for m in lines]}{self.trestle_tail()}")
            time.sleep(0.2)

    def configure(self, client: MucTestClient, to: str, values: dict) -> dict:
        """Runs the `configure` command on `to` with values; returns the form it showed."""
        listed = [item.node for item in client.command_list(to)[1]]
        self.assertIn("configure", listed)
        shown = client.command_execute(to, "configure")
        self.assertEqual(shown.status, "executing", to_string(shown.iq))
        fields = parse_form(shown.form)
        done = client.command_execute(to, "configure", action="complete",
                                      sessionid=shown.sessionid,
                                      form=build_submit_form(values, shown.form))
        self.assertEqual(done.status, "completed", to_string(done.iq))
        return fields


def fast_server(host: str, port: int, **extra) -> dict:
    """An `irc.servers` entry without flood control and with short retry delays."""
    entry = {"host": host, "port": port, "tls": False, "flood_lines_per_second": 0,
             "connect_timeout_seconds": 5, "reconnect_min_delay_seconds": 1,
             "reconnect_max_delay_seconds": 2}
    entry.update(extra)
    return entry


class NgircdAdapterTests(AdapterTestBase):
    """trestle's IRC component against plain ngircd: the whole contract."""

    @classmethod
    def server_entries(cls) -> list[dict]:
        # `localhost` is listed (so allowed) on a port where nothing listens.
        cls.closed_port = servers.free_port()
        return [fast_server(HOST, cls.ircd.port), fast_server("localhost", cls.closed_port)]

    # -- join / part ----------------------------------------------------------

    def test_join_lists_occupants_then_self_then_subject(self) -> None:
        chan = self.channel("joinlist")
        room = room_jid(chan)
        carol, dave = self.irc(self.nick("carol")), self.irc(self.nick("dave"))
        carol.join(chan)
        carol.topic(chan, "welcome to the join test")
        dave.join(chan)
        carol.mode(chan, "+v", dave.nick)
        mark = carol.mark()

        alice = self.xmpp("alice")
        a = self.nick("alice")
        joined = self.join(alice, chan, a)
        self.assertEqual(joined.nick, a)
        codes = status_codes(joined.self_presence)
        self.assertIn("110", codes, self.describe(joined.self_presence))
        self.assertNotIn("210", codes, self.describe(joined.self_presence))
        self.assertEqual(sorted(joined.occupant_nicks()), sorted([carol.nick, dave.nick]),
                         self.describe(joined.self_presence))
        self.assert_item(joined.occupant(carol.nick), "admin", "moderator")
        self.assert_item(joined.occupant(dave.nick), "member", "participant")
        self.assert_item(joined.self_presence, "none", "participant")
        self.assertTrue(all(seq < joined.self_seq for seq in joined.occupant_seqs))
        self.assertLess(joined.self_seq, joined.subject_seq)
        self.assertEqual(stanza_type(joined.subject), "groupchat", self.describe(joined.subject))
        self.assertEqual(subject_of(joined.subject), "welcome to the join test",
                         self.describe(joined.subject))

        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)
        self.sync(alice, room, carol, chan, a, "joined once")
        joins = carol.messages(msg("JOIN", chan, nick=a), since=mark)
        self.assertEqual(len(joins), 1, [str(m) for m in joins])

    def test_first_join_with_brackets_follows_the_servers_casemapping(self) -> None:
        # The join is asked for before the connection has the server's
        # ISUPPORT: under the default rfc1459 folding `[` and `{` are one
        # letter, under ngircd's CASEMAPPING=ascii they are not.
        chan = f"#br[{self.n}]x"
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        result = self.join(alice, chan, a)
        self.assertEqual(result.occupant_nicks(), [carol.nick])
        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)
        alice.send_groupchat(room_jid(chan), "bracket hello")
        carol.wait_privmsg(chan, "bracket hello", nick=a, timeout=STEP)

    def test_join_new_channel_gives_operator_and_empty_subject(self) -> None:
        chan = self.channel("fresh")
        alice = self.xmpp("alice")
        joined = self.join(alice, chan, self.nick("alice"))
        self.assertEqual(joined.occupants, [])
        # ngircd makes the creator a channel operator (@).
        self.assert_item(joined.self_presence, "admin", "moderator")
        self.assertEqual(subject_of(joined.subject), "", self.describe(joined.subject))

    def test_leave_parts_and_last_resource_quits(self) -> None:
        chan, room, carol, alice, a = self.alice_joins_beside_carol("part")

        try:
            left = alice.leave_room(room, a, timeout=STEP)
        except ClientError as exc:
            self.fail(f"{exc}{self.trestle_tail()}")
        self.assertIn("110", status_codes(left), self.describe(left))
        # Leaving the only room is the user's last presence on this server,
        # which trestle cannot tell from going offline: it QUITs.
        carol.wait_for(lambda m: msg("QUIT", nick=a)(m) or msg("PART", chan, nick=a)(m),
                       STEP, what=f"QUIT or PART of {a}")

        # Back in, then the XMPP session ends without a goodbye to the room:
        # the last resource is gone, so the IRC connection is (PART and) QUIT,
        # well before the idle timeout. carol sees the QUIT only while she
        # shares a channel with alice, so the check is that the nick is gone.
        self.join(alice, chan, a)
        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)
        alice.disconnect()
        carol.wait_for(lambda m: msg("QUIT", nick=a)(m) or msg("PART", chan, nick=a)(m),
                       STEP, what=f"QUIT or PART of {a}")
        self.wait_nicks_offline(carol, [a], IDLE / 2, "the QUIT of the last resource")

    def test_others_part_and_quit_carry_their_reason(self) -> None:
        chan = self.channel("leavers")
        room = room_jid(chan)
        dave, erin = self.irc(self.nick("dave")), self.irc(self.nick("erin"))
        dave.join(chan)
        erin.join(chan)
        alice = self.xmpp("alice")
        self.join(alice, chan, self.nick("alice"))

        since = alice.mark()
        dave.part(chan, "dave has to go")
        parted = self.occupant(alice, room, dave.nick, since, type_="unavailable")
        self.assertEqual(status_of(parted), "dave has to go", self.describe(parted))
        self.assertNotIn("110", status_codes(parted))

        since = alice.mark()
        erin.quit("erin quits now")
        quit_ = self.occupant(alice, room, erin.nick, since, type_="unavailable")
        self.assertIn("erin quits now", status_of(quit_) or "", self.describe(quit_))

    # -- messages ---------------------------------------------------------------

    def test_groupchat_between_two_xmpp_users_and_irc(self) -> None:
        chan = self.channel("talk")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice, bob = self.xmpp("alice"), self.xmpp("bob")
        a, b = self.nick("alice"), self.nick("bob")
        self.join(alice, chan, a)
        self.join(bob, chan, b)
        carol.wait_command("JOIN", chan, nick=b, timeout=STEP)

        since_a, since_b = alice.mark(), bob.mark()
        alice.send_groupchat(room, "hello from alice", id_="alice-msg-1")
        self.assertEqual(carol.wait_privmsg(chan, "hello from alice", timeout=STEP).nick, a)
        echo = self.stanza(alice, message_from(f"{room}/{a}", body="hello from alice"),
                           since_a, "echo of alice's message")
        self.assertEqual(echo.get("id"), "alice-msg-1", self.describe(echo))
        self.assertEqual(stanza_type(echo), "groupchat", self.describe(echo))
        self.stanza(bob, message_from(f"{room}/{a}", type_="groupchat", body="hello from alice"),
                    since_b, "alice's message at bob")

        since_a, since_b = alice.mark(), bob.mark()
        carol.privmsg(chan, "hello from carol")
        for client, mark in ((alice, since_a), (bob, since_b)):
            self.stanza(client, message_from(f"{room}/{carol.nick}", type_="groupchat",
                                             body="hello from carol"),
                        mark, f"carol's message at {client.bare_jid}")

        since_a, since_b = alice.mark(), bob.mark()
        bob.send_groupchat(room, "hello from bob", id_="bob-msg-1")
        self.assertEqual(carol.wait_privmsg(chan, "hello from bob", timeout=STEP).nick, b)
        self.stanza(alice, message_from(f"{room}/{b}", type_="groupchat", body="hello from bob"),
                    since_a, "bob's message at alice")
        echo = self.stanza(bob, message_from(f"{room}/{b}", body="hello from bob"), since_b,
                           "echo of bob's message")
        self.assertEqual(echo.get("id"), "bob-msg-1", self.describe(echo))

    def test_omemo_message_is_refused_and_nothing_reaches_irc(self) -> None:
        chan, room, carol, alice, a = self.alice_joins_beside_carol("omemo")
        since = alice.mark()
        mark = len(carol.received)
        encrypted = ET.Element("{eu.siacs.conversations.axolotl}encrypted")
        ET.SubElement(encrypted, "{eu.siacs.conversations.axolotl}header", {"sid": "7"})
        fallback = ET.Element(q(NS_CLIENT, "body"))
        fallback.text = "I sent you an OMEMO encrypted message"
        alice.send_stanza("message", room, type_="groupchat", id_="omemo-room",
                          children=[encrypted, fallback])
        error = self.stanza(alice, message_from(room, type_="error"), since,
                            "the refusal of the encrypted message")
        self.assertEqual(error.get("id"), "omemo-room", self.describe(error))
        self.assertEqual(error_condition(error), "not-acceptable", self.describe(error))
        # A plain message after it arrives; the fallback body never did.
        alice.send_groupchat(room, "plain after omemo")
        carol.wait_privmsg(chan, "plain after omemo", nick=a, timeout=STEP)
        self.assertEqual([m for m in carol.messages(since=mark)
                          if "OMEMO" in " ".join(m.params)], [])

    def test_chat_states_and_markers_are_dropped_quietly(self) -> None:
        # To a room alice has not joined, a text is refused ("join the room
        # first"); a chat state or a marker is no content and gets no answer.
        room = room_jid(self.channel("quiet"))
        alice = self.xmpp("alice")
        since = alice.mark()
        composing = ET.Element("{http://jabber.org/protocol/chatstates}composing")
        displayed = ET.Element("{urn:xmpp:chat-markers:0}displayed", {"id": "x1"})
        alice.send_stanza("message", room, type_="groupchat", id_="state-1", children=[composing])
        alice.send_stanza("message", room, type_="groupchat", id_="marker-1",
                          children=[displayed])
        alice.send_groupchat(room, "text before joining", id_="text-1")
        error = self.stanza(alice, message_from(room, type_="error"), since, "the refused text")
        self.assertEqual(error.get("id"), "text-1", self.describe(error))
        self.assertEqual(error_condition(error), "not-acceptable", self.describe(error))

    def test_corrections_reactions_replies_and_retractions_cross_as_text(self) -> None:
        chan, room, carol, alice, a = self.alice_joins_beside_carol("border")
        since = alice.mark()
        carol.privmsg(chan, "lunch at noon?")
        lunch = self.stanza(alice, message_from(f"{room}/{carol.nick}", type_="groupchat",
                                                body="lunch at noon?"), since, "carol's line")

        # A correction goes as a new line marked "* ", and alice hears why once.
        since = alice.mark()
        alice.send_groupchat(room, "helo", id_="c1")
        carol.wait_privmsg(chan, "helo", nick=a, timeout=STEP)
        replace = ET.Element(q("urn:xmpp:message-correct:0", "replace"), {"id": "c1"})
        body = ET.Element(q(NS_CLIENT, "body"))
        body.text = "hello"
        alice.send_stanza("message", room, type_="groupchat", id_="c2", children=[replace, body])
        carol.wait_privmsg(chan, "* hello", nick=a, timeout=STEP)
        notice = self.stanza(alice, lambda s: message_from(room, type_="groupchat")(s) and
                             (body_of(s) or "").startswith("[gateway] "), since, "notice")
        self.assertIn("cannot be changed", body_of(notice))

        # A reaction to carol's line is an action quoting it.
        reactions = ET.Element(q("urn:xmpp:reactions:0", "reactions"), {"id": lunch.get("id")})
        ET.SubElement(reactions, q("urn:xmpp:reactions:0", "reaction")).text = "👍"
        alice.send_stanza("message", room, type_="groupchat", children=[reactions])
        carol.wait_privmsg(chan, '\x01ACTION reacted 👍 to "lunch at noon?"\x01', nick=a,
                           timeout=STEP)

        # A reply without a quote in its body gets a short one.
        reply = ET.Element(q("urn:xmpp:reply:0", "reply"),
                           {"id": lunch.get("id"), "to": f"{room}/{carol.nick}"})
        body = ET.Element(q(NS_CLIENT, "body"))
        body.text = "yes!"
        alice.send_stanza("message", room, type_="groupchat", children=[reply, body])
        carol.wait_privmsg(chan, "> lunch at noon?", nick=a, timeout=STEP)
        carol.wait_privmsg(chan, "yes!", nick=a, timeout=STEP)

        # A retraction cannot reach IRC: its fallback never goes, alice is told.
        since = alice.mark()
        mark = carol.mark()
        retract = ET.Element(q("urn:xmpp:message-retract:1", "retract"), {"id": "c1"})
        fallback = ET.Element(q(NS_CLIENT, "body"))
        fallback.text = "This person attempted to retract a previous message"
        alice.send_stanza("message", room, type_="groupchat", children=[retract, fallback])
        notice = self.stanza(alice, lambda s: message_from(room, type_="groupchat")(s) and
                             "cannot be taken back" in (body_of(s) or ""), since,
                             "retraction notice")
        self.assertIn('"hello"', body_of(notice))
        alice.send_groupchat(room, "after the retraction")
        carol.wait_privmsg(chan, "after the retraction", nick=a, timeout=STEP)
        self.assertEqual([m for m in carol.messages(since=mark)
                          if "attempted" in " ".join(m.params)], [])

    def test_me_action_both_ways(self) -> None:
        chan = self.channel("action")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)

        alice.send_groupchat(room, "/me waves")
        got = carol.wait_privmsg(chan, "\x01ACTION waves\x01", timeout=STEP)
        self.assertEqual(got.nick, a)

        since = alice.mark()
        carol.action(chan, "dances")
        self.stanza(alice, message_from(f"{room}/{carol.nick}", type_="groupchat",
                                        body="/me dances"), since, "action as /me")

    def test_irc_notice_to_channel_is_groupchat(self) -> None:
        chan = self.channel("notice")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        self.join(alice, chan, self.nick("alice"))
        since = alice.mark()
        carol.notice(chan, "a channel notice")
        got = self.stanza(alice, lambda s: message_from(f"{room}/{carol.nick}",
                                                        type_="groupchat")(s)
                          and "a channel notice" in (body_of(s) or ""), since, "notice")
        self.assertIsNone(subject_of(got), self.describe(got))

    def test_multiline_body_is_one_privmsg_per_line(self) -> None:
        chan = self.channel("lines")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)
        mark = carol.mark()
        alice.send_groupchat(room, "line one\nline two\nline three")
        lines = carol.collect(msg("PRIVMSG", chan, nick=a), 3, timeout=STEP, since=mark)
        self.assertEqual([m.text for m in lines], ["line one", "line two", "line three"])

    def test_long_line_is_split_on_utf8_boundaries(self) -> None:
        chan = self.channel("long")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)
        # 2-, 3- and 1-byte characters, no spaces: any split point is visible.
        text = "start:" + "é€x" * 250 + ":end"
        self.assertGreater(len(text.encode()), 1400)
        mark = carol.mark()
        alice.send_groupchat(room, text)
        carol.wait_for(lambda m: msg("PRIVMSG", chan, nick=a)(m) and m.text.endswith(":end"),
                       STEP, since=mark, what="the last piece of the long line")
        pieces = carol.messages(msg("PRIVMSG", chan, nick=a), since=mark)
        self.assertGreaterEqual(len(pieces), 3, [str(m) for m in pieces])
        for piece in pieces:
            # Relayed with the sender's prefix, the line must still fit the IRC
            # limit: otherwise the server cuts it and text is lost.
            self.assertLessEqual(len(piece.raw.encode("utf-8")) + 2, 512, piece.raw)
            self.assertNotIn("\ufffd", piece.text)
        # Nothing lost, nothing cut inside a character (a broken UTF-8 piece
        # would have been read as latin-1 and not match).
        self.assertEqual("".join(m.text for m in pieces), text)

    def test_private_messages_both_ways(self) -> None:
        chan = self.channel("pm")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)

        alice.send_chat(f"{room}/{carol.nick}", "pm through the room")
        self.assertEqual(carol.wait_privmsg(carol.nick, "pm through the room",
                                            timeout=STEP).nick, a)
        alice.send_chat(user_jid(carol.nick), "pm to the nick jid")
        self.assertEqual(carol.wait_privmsg(carol.nick, "pm to the nick jid",
                                            timeout=STEP).nick, a)

        since = alice.mark()
        carol.privmsg(a, "pm from carol")
        got = self.stanza(alice, message_from(user_jid(carol.nick), body="pm from carol"),
                          since, "carol's private message")
        self.assertEqual(stanza_type(got), "chat", self.describe(got))
        since = alice.mark()
        carol.notice(a, "notice from carol")
        self.stanza(alice, lambda s: message_from(user_jid(carol.nick))(s)
                    and "notice from carol" in (body_of(s) or ""), since,
                    "carol's private notice")

    def test_groupchat_to_room_not_joined_is_not_acceptable(self) -> None:
        chan = self.channel("notjoined")
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        # alice is connected to the server (another room) but not in chan.
        self.join(alice, self.channel("elsewhere"), self.nick("alice"))
        mark = carol.mark()
        since = alice.mark()
        alice.send_groupchat(room_jid(chan), "should not arrive")
        error = self.stanza(alice, message_from(room_jid(chan), type_="error"), since,
                            "message error from the room")
        self.assert_error(error, "not-acceptable")
        carol.pump(0.2)
        self.assertEqual(carol.messages(msg("PRIVMSG", chan), since=mark), [])

    # -- nicks ------------------------------------------------------------------

    def test_nick_change_is_303_pair_and_conflict_is_refused(self) -> None:
        chan = self.channel("nick")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice, bob = self.xmpp("alice"), self.xmpp("bob")
        a, b = self.nick("alice"), self.nick("bob")
        new = self.nick("alicenew")
        self.join(alice, chan, a)
        self.join(bob, chan, b)
        self.xmpp_nicks.append(new)

        since_a, since_b = alice.mark(), bob.mark()
        alice.change_nick(room, new)
        self.assertEqual(carol.wait_command("NICK", nick=a, timeout=STEP).target, new)
        own = self.occupant(alice, room, a, since_a, type_="unavailable", codes=["303", "110"])
        self.assertEqual(muc_item(own).nick, new, self.describe(own))
        again = self.occupant(alice, room, new, since_a)
        self.assertGreater(alice.log.find(lambda s: s is again, since_a)[0][0],
                           alice.log.find(lambda s: s is own, since_a)[0][0])
        seen = self.occupant(bob, room, a, since_b, type_="unavailable", codes=["303"])
        self.assertEqual(muc_item(seen).nick, new, self.describe(seen))
        self.assertNotIn("110", status_codes(seen))
        self.occupant(bob, room, new, since_b)

        # carol's nick is taken: <conflict/> from room/thatnick, no NICK on IRC.
        mark = carol.mark()
        since_a = alice.change_nick(room, carol.nick)
        error = self.stanza(alice, presence_from(f"{room}/{carol.nick}", type_="error"),
                            since_a, "conflict error presence")
        self.assert_error(error, "conflict")
        self.sync(alice, room, carol, chan, new, "still the new nick")
        self.assertEqual(carol.messages(msg("NICK"), since=mark), [])

    def test_irc_nick_change_is_303_pair(self) -> None:
        chan = self.channel("ircnick")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        self.join(alice, chan, self.nick("alice"))
        old, new = carol.nick, self.nick("carolnew")
        since = alice.mark()
        carol.set_nick(new)
        gone = self.occupant(alice, room, old, since, type_="unavailable", codes=["303"])
        self.assertEqual(muc_item(gone).nick, new, self.describe(gone))
        self.assertNotIn("110", status_codes(gone))
        self.occupant(alice, room, new, since)

    # -- topic ------------------------------------------------------------------

    def test_topic_both_ways_and_line_break_refused(self) -> None:
        chan = self.channel("topic")
        room = room_jid(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)  # first in: operator, may set the topic
        carol = self.irc(self.nick("carol"))
        carol.join(chan)

        since = alice.mark()
        alice.set_subject(room, "topic from xmpp")
        got = carol.wait_command("TOPIC", chan, nick=a, timeout=STEP)
        self.assertEqual(got.text, "topic from xmpp")
        self.stanza(alice, lambda s: message_from(f"{room}/{a}", with_subject=True)(s)
                    and subject_of(s) == "topic from xmpp", since, "the topic echo")

        since = alice.mark()
        carol.topic(chan, "topic from irc")
        changed = self.stanza(alice, message_from(f"{room}/{carol.nick}", with_subject=True),
                              since, "subject from carol")
        self.assertEqual(subject_of(changed), "topic from irc", self.describe(changed))
        self.assertEqual(stanza_type(changed), "groupchat", self.describe(changed))

        mark = carol.mark()
        since = alice.mark()
        alice.set_subject(room, "two\nlines", id_="bad-subject")
        error = self.stanza(alice, message_from(room, type_="error"), since,
                            "error for a subject with a line break")
        self.assert_error(error, "not-acceptable")
        self.assertEqual(error.get("id"), "bad-subject", self.describe(error))
        self.sync(alice, room, carol, chan, a, "after the bad subject")
        self.assertEqual(carol.messages(msg("TOPIC"), since=mark), [])

    # -- kick / modes -------------------------------------------------------------

    def test_kick_from_irc_and_from_xmpp(self) -> None:
        chan = self.channel("kick")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice, bob = self.xmpp("alice"), self.xmpp("bob")
        a, b = self.nick("alice"), self.nick("bob")
        self.join(alice, chan, a)
        self.join(bob, chan, b)
        carol.wait_command("JOIN", chan, nick=b, timeout=STEP)

        since_a, since_b = alice.mark(), bob.mark()
        carol.kick(chan, b, "bye bob")
        seen = self.occupant(alice, room, b, since_a, type_="unavailable", codes=["307"])
        self.assertNotIn("110", status_codes(seen))
        item = muc_item(seen)
        self.assertEqual((item.role, item.actor, item.reason), ("none", carol.nick, "bye bob"),
                         self.describe(seen))
        own = self.occupant(bob, room, b, since_b, type_="unavailable", codes=["307", "110"])
        self.assertEqual(muc_item(own).reason, "bye bob", self.describe(own))
        # bob is out of the room now.
        since_b = bob.mark()
        bob.send_groupchat(room, "am I still here?")
        self.assert_error(self.stanza(bob, message_from(room, type_="error"), since_b,
                                      "error after the kick"), "not-acceptable")

        carol.mode(chan, "+o", a)
        self.occupant(alice, room, a, since_a, lambda p: muc_item(p) is not None
                      and muc_item(p).role == "moderator", what="alice as moderator")
        since_a = alice.mark()
        answer = alice.kick(room, carol.nick, "your turn")
        self.assertEqual(iq_type(answer), "result", self.describe(answer))
        kick = carol.wait_command("KICK", chan, carol.nick, nick=a, timeout=STEP)
        self.assertEqual(kick.text, "your turn")
        gone = self.occupant(alice, room, carol.nick, since_a, type_="unavailable",
                             codes=["307"])
        self.assertEqual(muc_item(gone).actor, a, self.describe(gone))

    def test_modes_map_to_role_and_affiliation(self) -> None:
        chan = self.channel("modes")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice, bob = self.xmpp("alice"), self.xmpp("bob")
        a, b = self.nick("alice"), self.nick("bob")
        self.join(alice, chan, a)
        self.join(bob, chan, b)
        prefixes = carol.prefixes()
        steps = [("+v", "member", "participant"), ("+o", "admin", "moderator"),
                 ("-o", "member", "participant"), ("-v", "none", "participant")]
        if "%" in prefixes:
            steps += [("+h", "member", "moderator"), ("-h", "none", "participant")]
        # ngircd lets an IRC operator set the owner (~) and admin (&) prefixes.
        carol.send("OPER", self.ircd.oper_name, self.ircd.oper_password)
        carol.wait_command("381", timeout=STEP)
        steps += [("+a", "owner", "moderator"), ("-a", "none", "participant"),
                  ("+q", "owner", "moderator"), ("-q", "none", "participant")]
        for mode, affiliation, role in steps:
            with self.subTest(mode=mode):
                since_a, since_b = alice.mark(), bob.mark()
                carol.mode(chan, mode, a)
                for client, mark in ((alice, since_a), (bob, since_b)):
                    got = self.occupant(client, room, a, mark, what=f"{mode} presence")
                    self.assert_item(got, affiliation, role)

    # -- away -------------------------------------------------------------------

    def test_away_sets_and_clears_irc_away(self) -> None:
        chan = self.channel("away")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)

        def away_text(lines: list[IrcMessage]) -> Optional[str]:
            found = [m.text for m in lines if m.command == "301"]
            return found[0] if found else None

        alice.send_presence_to(f"{room}/{a}", show="away", status="out to lunch")
        self.poll_whois(carol, a, lambda lines: away_text(lines) == "out to lunch",
                        "301 out to lunch")
        alice.send_presence_to(f"{room}/{a}")
        self.poll_whois(carol, a, lambda lines: away_text(lines) is None, "away cleared")
        alice.send_presence_to(f"{room}/{a}", show="dnd", status="busy")
        self.poll_whois(carol, a, lambda lines: away_text(lines) == "busy", "301 busy")
        alice.send_presence_to(f"{room}/{a}")
        self.poll_whois(carol, a, lambda lines: away_text(lines) is None, "away cleared")
        # Still in the room: a directed presence is no join and no part.
        self.sync(alice, room, carol, chan, a, "back from lunch")

    # -- several resources -----------------------------------------------------

    def test_second_resource_shares_the_join(self) -> None:
        chan = self.channel("multi")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        carol.topic(chan, "shared topic")
        mark = carol.mark()
        first, second = self.xmpp("alice", "first"), self.xmpp("alice", "second")
        a = self.nick("alice")
        self.join(first, chan, a)
        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)

        again = self.join(second, chan, a)
        self.assertEqual(again.nick, a)
        self.assertIn("110", status_codes(again.self_presence))
        self.assertEqual(again.occupant_nicks(), [carol.nick])
        self.assertEqual(subject_of(again.subject), "shared topic")
        self.sync(first, room, carol, chan, a, "one join only")
        self.assertEqual(len(carol.messages(msg("JOIN", chan, nick=a), since=mark)), 1)

        since_1, since_2 = first.mark(), second.mark()
        carol.privmsg(chan, "to both resources")
        for client, since in ((first, since_1), (second, since_2)):
            self.stanza(client, message_from(f"{room}/{carol.nick}", body="to both resources"),
                        since, f"carol's message at {client.full_jid}")

        since_1, since_2 = first.mark(), second.mark()
        first.send_groupchat(room, "echo to both", id_="multi-echo-1")
        carol.wait_privmsg(chan, "echo to both", nick=a, timeout=STEP)
        for client, since in ((first, since_1), (second, since_2)):
            echo = self.stanza(client, message_from(f"{room}/{a}", body="echo to both"), since,
                               f"echo at {client.full_jid}")
            self.assertEqual(echo.get("id"), "multi-echo-1", self.describe(echo))

        # One resource leaves: the other stays, IRC sees no PART.
        mark = carol.mark()
        second.leave_room(room, a, timeout=STEP)
        self.sync(first, room, carol, chan, a, "still here")
        self.assertEqual(carol.messages(msg("PART", chan, nick=a), since=mark), [])
        first.leave_room(room, a, timeout=STEP)
        # The last presence of the user here: QUIT (see test_leave_parts_...).
        carol.wait_for(lambda m: msg("QUIT", nick=a)(m) or msg("PART", chan, nick=a)(m),
                       STEP, what=f"QUIT or PART of {a}")

    # -- server JID, disco, invites -------------------------------------------------

    def test_server_jid_raw_commands_and_motd(self) -> None:
        chan = self.channel("raw")
        carol = self.irc(self.nick("carol"))
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)

        alice.send_chat(server_jid(), f"PRIVMSG {carol.nick} :raw hello")
        self.assertEqual(carol.wait_privmsg(carol.nick, "raw hello", timeout=STEP).nick, a)
        mark = carol.mark()
        alice.send_chat(server_jid(), f"PRIVMSG {carol.nick} :raw one\n"
                                      f"PRIVMSG {carol.nick} :raw two")
        lines = carol.collect(msg("PRIVMSG", carol.nick, nick=a), 2, timeout=STEP, since=mark)
        self.assertEqual([m.text for m in lines], ["raw one", "raw two"])

        def is_motd(stanza: ET.Element) -> bool:
            return (message_from(server_jid())(stanza) and stanza_type(stanza) != "error"
                    and irc_servers.MOTD_LINE in (body_of(stanza) or ""))

        # The connection's MOTD came when trestle connected for the join...
        self.stanza(alice, is_motd, 0, "the MOTD of the new connection")
        # ...and the MOTD command brings it again.
        since = alice.mark()
        alice.send_chat(server_jid(), "MOTD")
        self.stanza(alice, is_motd, since, "the MOTD from the server JID")
        # One message for the whole MOTD, not one per line.
        alice.send_chat(server_jid(), f"PRIVMSG {carol.nick} :after motd")
        carol.wait_privmsg(carol.nick, "after motd", nick=a, timeout=STEP)
        motds = alice.logged(is_motd, since)
        self.assertEqual(len(motds), 1, [to_string(m) for m in motds])

    def test_configure_sets_nick_and_commands_after_connecting(self) -> None:
        chan = self.channel("cfg")
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        admin = self.xmpp("admin")
        configured = self.nick("cfgnick")
        shown = self.configure(admin, server_jid(), {
            "nick": configured, "password": "never-shown",
            "after_connect": [f"PRIVMSG {carol.nick} :after connect one",
                              f"PRIVMSG {carol.nick} :after connect two"]})
        self.assertIn("password", shown)
        # The settings are stored and shown back, except the password.
        again = admin.command_execute(server_jid(), "configure")
        fields = parse_form(again.form)
        self.assertEqual(fields["nick"].values, [configured])
        self.assertEqual(fields["password"].values, [])
        self.assertEqual(fields["after_connect"].values,
                         [f"PRIVMSG {carol.nick} :after connect one",
                          f"PRIVMSG {carol.nick} :after connect two"])
        admin.command_execute(server_jid(), "configure", action="cancel",
                              sessionid=again.sessionid)
        # The next connection uses them: the configured nick, then the commands.
        mark = carol.mark()
        self.join(admin, chan, self.nick("ignored"))
        self.xmpp_nicks.append(configured)
        carol.wait_command("JOIN", chan, nick=configured, timeout=STEP, since=mark)
        lines = carol.collect(msg("PRIVMSG", carol.nick, nick=configured), 2, timeout=STEP,
                              since=mark)
        self.assertEqual([m.text for m in lines], ["after connect one", "after connect two"])
        # A line break in a setting is refused, not stored.
        again = admin.command_execute(server_jid(), "configure")
        refused = admin.command_execute(
            server_jid(), "configure", action="complete", sessionid=again.sessionid,
            form=build_submit_form({"nick": "two\nlines"}, again.form))
        self.assertEqual(iq_type(refused.iq), "error", to_string(refused.iq))
        # Back to the defaults for the class's later tests.
        self.configure(admin, server_jid(), {"nick": "", "after_connect": [],
                                             "forget_password": "true"})

    def test_disco_info_on_room(self) -> None:
        alice = self.xmpp("alice")
        info = alice.disco_info(room_jid(self.channel("disco")))
        self.assertEqual(iq_type(info.iq), "result", self.describe(info.iq))
        self.assertIn(("conference", "irc"), [(c, t) for c, t, _ in info.identities],
                      self.describe(info.iq))
        self.assertIn("http://jabber.org/protocol/muc", info.features, self.describe(info.iq))
        # Not members-only: clients (Conversations, Dino) then do not offer OMEMO here.
        self.assertNotIn("muc_membersonly", info.features, self.describe(info.iq))

    def test_disco_info_on_a_nick_offers_nothing_to_encrypt_with(self) -> None:
        alice = self.xmpp("alice")
        nick = user_jid(self.nick("dana"))
        info = alice.disco_info(nick)
        self.assertEqual(iq_type(info.iq), "result", self.describe(info.iq))
        self.assertEqual(info.features, ["http://jabber.org/protocol/disco#info"],
                         self.describe(info.iq))
        # No OMEMO device list either: Conversations asks for it first.
        answer = alice.omemo_devicelist(nick)
        self.assertEqual(iq_type(answer), "error", self.describe(answer))

    def test_disco_items_on_server_lists_channels(self) -> None:
        listed = self.channel("listed")
        carol = self.irc(self.nick("carol"))
        carol.join(listed)
        alice = self.xmpp("alice")
        self.join(alice, self.channel("lister"), self.nick("alice"))
        iq, items = alice.disco_items(server_jid())
        self.assertEqual(iq_type(iq), "result", self.describe(iq))
        self.assertIn(room_jid(listed), [item.jid for item in items], self.describe(iq))

    def test_invites_both_ways(self) -> None:
        chan = self.channel("invite")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, self.channel("invitehome"), a)

        since = alice.mark()
        carol.invite(a, chan)
        invite = self.stanza(alice, lambda s: s.get("from") == room
                             and muc_invite(s) is not None, since, "the invitation")
        self.assertEqual(muc_invite(invite).get("from"), user_jid(carol.nick),
                         self.describe(invite))

        self.join(alice, chan, a)
        dave = self.irc(self.nick("dave"))
        x = ET.Element(q(NS_MUC_USER, "x"))
        ET.SubElement(x, q(NS_MUC_USER, "invite"), {"to": user_jid(dave.nick)})
        alice.send_stanza("message", room, children=[x])
        got = dave.wait_command("INVITE", dave.nick, chan, nick=a, timeout=STEP)
        self.assertEqual(got.param(1).lower(), chan.lower())

        erin = self.irc(self.nick("erin"))
        direct = ET.Element(q(NS_CONFERENCE, "x"), {"jid": room})
        alice.send_stanza("message", user_jid(erin.nick), children=[direct])
        erin.wait_command("INVITE", erin.nick, chan, nick=a, timeout=STEP)

    # -- errors ---------------------------------------------------------------------

    def test_refused_channel_maps_to_condition_with_server_text(self) -> None:
        carol = self.irc(self.nick("carol"))
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.xmpp_nicks.append(a)
        keyed, closed, banned = (self.channel("keyed"), self.channel("closed"),
                                 self.channel("banned"))
        for chan, modes in ((keyed, ("+k", "sekrit")), (closed, ("+i",)),
                            (banned, ("+b", f"{a}!*@*"))):
            carol.join(chan)
            carol.mode(chan, *modes)
        cases = [(keyed, "not-authorized", "+k"), (closed, "registration-required", "+i"),
                 (banned, "forbidden", "+b")]
        for chan, condition, mode in cases:
            with self.subTest(mode=mode):
                refused = alice.join_room(room_jid(chan), a, timeout=CONNECT)
                self.assertFalse(refused.ok, self.describe(refused.self_presence))
                self.assert_error(refused.error, condition)
                text = refused.error.find(f"{{{NS_CLIENT}}}error/{{{NS_STANZAS}}}text")
                self.assertIsNotNone(text, self.describe(refused.error))
                self.assertIn(mode, text.text or "", self.describe(refused.error))
        # The right key (MUC <password/>) opens the keyed channel.
        joined = alice.join_room(room_jid(keyed), a, "sekrit", timeout=CONNECT)
        self.assertTrue(joined.ok, self.describe(joined.error))
        carol.wait_command("JOIN", keyed, nick=a, timeout=STEP)

    def test_join_with_a_taken_nick(self) -> None:
        chan = self.channel("taken")
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        self.xmpp_nicks.append(carol.nick)
        result = alice.join_room(room_jid(chan), carol.nick, timeout=CONNECT)
        if result.ok:
            # trestle found another nick: it must say so (210) and use it.
            self.assertIn("210", status_codes(result.self_presence),
                          self.describe(result.self_presence))
            self.assertNotEqual(result.nick, carol.nick)
            self.xmpp_nicks.append(result.nick)
            carol.wait_command("JOIN", chan, nick=result.nick, timeout=STEP)
        else:
            self.assert_error(result.error, "conflict")

    def test_server_not_allowed(self) -> None:
        alice = self.xmpp("alice")
        refused = alice.join_room(room_jid("#nope", "irc.example.org"), "alice", timeout=STEP)
        self.assertFalse(refused.ok)
        self.assert_error(refused.error, "not-allowed")
        self.assertEqual(bare_jid(refused.error.get("from")), room_jid("#nope", "irc.example.org"))

    def test_unreachable_server(self) -> None:
        alice = self.xmpp("alice")
        refused = alice.join_room(room_jid(self.channel("down"), "localhost"), "alice",
                                  timeout=CONNECT)
        self.assertFalse(refused.ok)
        self.assert_error(refused.error, "remote-server-not-found")

    # -- nothing smuggled into IRC ---------------------------------------------------

    def assert_no_stray_commands(self, carol: IrcTestClient, nick: str, since: int,
                                 allowed: set[str]) -> None:
        """Every line from nick since the mark is one of the allowed commands."""
        lines = self.irc_lines_from(carol, nick, since)
        stray = [str(m) for m in lines if m.command not in allowed]
        self.assertEqual(stray, [], self.trestle_tail())

    def test_body_line_breaks_never_become_commands(self) -> None:
        chan, room, carol, alice, a = self.alice_joins_beside_carol("inject")
        mark = carol.mark()

        alice.send_groupchat(room, "hello\r\nQUIT :injected")
        alice.send_raw(f"<message to='{room}' type='groupchat' id='raw-cr'>"
                       "<body>cr&#13;QUIT :injected&#13;&#10;MODE "
                       f"{chan} +b *!*@*</body></message>")
        alice.send_chat(user_jid(carol.nick), "pm\r\nQUIT :injected")
        self.sync(alice, room, carol, chan, a, "alive after the attempts")
        self.assert_no_stray_commands(carol, a, mark, {"PRIVMSG"})
        texts = [m.text for m in self.irc_lines_from(carol, a, mark)]
        self.assertIn("hello", texts)
        for text in texts:
            self.assertNotIn("\r", text)
            self.assertNotIn("\n", text)

    def test_bad_nick_reason_and_address_are_refused(self) -> None:
        chan = self.channel("checks")
        room = room_jid(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.join(alice, chan, a)  # operator: may kick
        carol, dave = self.irc(self.nick("carol")), self.irc(self.nick("dave"))
        carol.join(chan)
        dave.join(chan)
        mark = carol.mark()

        # A nick with a space would read as "NICK evil" plus a stray parameter.
        since = alice.change_nick(room, "evil QUIT :x")
        error = self.stanza(alice, presence_from(f"{room}/evil QUIT :x", type_="error"), since,
                            "error for a nick with spaces")
        self.assert_error(error)

        # A kick reason with a line break: refused, or sent on one line.
        reply = alice.kick(room, dave.nick, "bye\nQUIT :injected")
        self.assertIn(iq_type(reply), ("result", "error"), self.describe(reply))

        # An escaped space in a nick JID (XEP-0106 \20) is no IRC target.
        since = alice.mark()
        bad_target = user_jid(f"{carol.nick}\\20quit\\20\\3ainjected")
        alice.send_chat(bad_target, "to a bad target")
        answer = self.stanza(alice, lambda s: (s.get("from") or "").lower() == bad_target
                             and stanza_type(s) == "error", since, "error for a bad target")
        self.assert_error(answer)

        # A subject with a line break is refused (and nothing reaches IRC).
        since = alice.mark()
        alice.set_subject(room, "topic\r\nQUIT :injected")
        self.assert_error(self.stanza(alice, message_from(room, type_="error"), since,
                                      "error for a bad subject"), "not-acceptable")

        self.sync(alice, room, carol, chan, a, "alive after the checks")
        self.assert_no_stray_commands(carol, a, mark, {"PRIVMSG", "KICK"})
        for kick in carol.messages(msg("KICK", chan, nick=a), since=mark):
            self.assertEqual(kick.param(1).lower(), dave.nick.lower(), str(kick))
        self.assertEqual([m for m in self.irc_lines_from(carol, a, mark)
                          if m.command == "PRIVMSG" and "bad target" in m.text], [])

    def test_raw_path_is_one_command_per_line(self) -> None:
        chan, room, carol, alice, a = self.alice_joins_beside_carol("rawcheck")
        mark = carol.mark()
        # A carriage return alone (as a character reference, so XML keeps it)
        # still ends a command; it never rides along inside one.
        alice.send_raw(f"<message to='{server_jid()}' type='chat' id='raw-path'>"
                       f"<body>PRIVMSG {carol.nick} :first&#13;PRIVMSG {carol.nick} :second"
                       "&#13;&#10;&#13;&#10;</body></message>")
        lines = carol.collect(msg("PRIVMSG", carol.nick, nick=a), 2, timeout=STEP, since=mark)
        self.assertEqual([m.text for m in lines], ["first", "second"])
        self.sync(alice, room, carol, chan, a, "alive after the raw path")
        self.assert_no_stray_commands(carol, a, mark, {"PRIVMSG"})


class NgircdFixedServerTests(AdapterTestBase):
    """`irc.fixed_server`: JIDs without the %server part, the domain is the server."""

    @classmethod
    def irc_settings(cls) -> dict:
        settings = super().irc_settings()
        settings["fixed_server"] = HOST
        return settings

    def test_fixed_server_addresses(self) -> None:
        chan = self.channel("fixed")
        room = f"{chan}@{IRC}"
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        self.xmpp_nicks.append(a)
        joined = alice.join_room(room, a, timeout=CONNECT)
        self.assertTrue(joined.ok, self.describe(joined.error))
        self.assertEqual(joined.occupant_nicks(), [carol.nick])
        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)

        alice.send_groupchat(room, "fixed hello")
        carol.wait_privmsg(chan, "fixed hello", nick=a, timeout=STEP)
        since = alice.mark()
        carol.privmsg(chan, "fixed answer")
        self.stanza(alice, message_from(f"{room}/{carol.nick}", body="fixed answer"), since,
                    "carol's message in fixed-server mode")

        since = alice.mark()
        carol.privmsg(a, "fixed pm")
        self.stanza(alice, message_from(f"{carol.nick}@{IRC}", body="fixed pm"), since,
                    "carol's private message from nick@domain")
        alice.send_chat(f"{carol.nick}@{IRC}", "fixed pm back")
        carol.wait_privmsg(carol.nick, "fixed pm back", nick=a, timeout=STEP)

        # The component's own JID is the server JID.
        alice.send_chat(IRC, f"PRIVMSG {carol.nick} :fixed raw")
        carol.wait_privmsg(carol.nick, "fixed raw", nick=a, timeout=STEP)

    def test_configure_on_the_domain_in_fixed_server_mode(self) -> None:
        chan = self.channel("fixedcfg")
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        admin = self.xmpp("admin")
        configured = self.nick("fixedcfg")
        # The component's own JID is the server JID, so it offers `configure`.
        self.configure(admin, IRC, {"nick": configured,
                                    "after_connect": [f"PRIVMSG {carol.nick} :fixed configured"]})
        mark = carol.mark()
        self.xmpp_nicks.append(configured)
        joined = admin.join_room(f"{chan}@{IRC}", self.nick("other"), timeout=CONNECT)
        self.assertTrue(joined.ok, self.describe(joined.error))
        carol.wait_privmsg(carol.nick, "fixed configured", nick=configured, timeout=STEP)
        carol.wait_command("JOIN", chan, nick=configured, timeout=STEP, since=mark)
        self.configure(admin, IRC, {"nick": "", "after_connect": []})


class NgircdReconnectTests(AdapterTestBase):
    """The IRC server goes away and comes back; a server that never answers TLS."""

    @classmethod
    def prepare_ircd(cls) -> None:
        # Listens (the kernel accepts) on both loopback addresses, never reads.
        cls.silent_port = irc_servers.free_dual_port()
        cls.silent = []
        for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            sock = socket.socket(family, socket.SOCK_STREAM)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, cls.silent_port))
            sock.listen(16)
            cls.silent.append(sock)
            cls.addClassCleanup(sock.close)

    @classmethod
    def server_entries(cls) -> list[dict]:
        return [fast_server(HOST, cls.ircd.port),
                fast_server("localhost", cls.silent_port, tls=True, connect_timeout_seconds=2)]

    def test_reconnects_and_rejoins_after_ircd_restart(self) -> None:
        chan = self.channel("back")
        room = room_jid(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        start = alice.mark()
        self.join(alice, chan, a)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)

        since = alice.mark()
        self.ircd.kill()
        lost = self.stanza(alice, message_from(room, type_="groupchat", with_subject=False),
                           since, "the connection-lost notice", timeout=CONNECT)
        self.assertTrue(body_of(lost), self.describe(lost))

        since = alice.mark()
        self.ircd.restart()
        back = self.stanza(alice, message_from(room, type_="groupchat", with_subject=False),
                           since, "the rejoined notice", timeout=CONNECT)
        self.assertTrue(body_of(back), self.describe(back))
        self.assertNotEqual(body_of(back), body_of(lost))

        carol = self.irc(self.nick("carolback"))
        if a not in carol.join(chan):
            # The notice may leave before the JOIN reached the server.
            carol.wait_command("JOIN", chan, nick=a, timeout=STEP)
        since = alice.mark()
        carol.privmsg(chan, "welcome back")
        self.stanza(alice, message_from(f"{room}/{carol.nick}", body="welcome back"), since,
                    "a message after the reconnect")
        alice.send_groupchat(room, "glad to be back")
        carol.wait_privmsg(chan, "glad to be back", nick=a, timeout=STEP)
        # Never out of the room for it (others may come and go).
        out = alice.logged(lambda p: presence_from(f"{room}/{a}", type_="unavailable")(p)
                           or presence_from(room, type_="unavailable", codes=["110"])(p), start)
        self.assertEqual([to_string(p) for p in out], [])

    def test_server_that_never_answers_times_out(self) -> None:
        alice = self.xmpp("alice")
        refused = alice.join_room(room_jid(self.channel("silent"), "localhost"), "alice",
                                  timeout=CONNECT)
        self.assertFalse(refused.ok)
        self.assert_error(refused.error, "remote-server-timeout")


class NgircdTlsTests(AdapterTestBase):
    """ngircd over TLS: trusted through ca_file; the same port without it is refused."""

    @classmethod
    def make_ircd(cls) -> irc_servers.IrcServer:
        return irc_servers.NgircdServer(tls=True)

    @classmethod
    def server_entries(cls) -> list[dict]:
        return [fast_server(HOST, cls.ircd.tls_port, tls=True, ca_file=str(cls.ircd.cert_path)),
                fast_server("localhost", cls.ircd.tls_port, tls=True)]

    def test_tls_server_trusted_through_ca_file(self) -> None:
        chan = self.channel("tls")
        room = room_jid(chan)
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        a = self.nick("alice")
        joined = self.join(alice, chan, a)
        self.assertEqual(joined.occupant_nicks(), [carol.nick])
        carol.wait_command("JOIN", chan, nick=a, timeout=STEP)
        alice.send_groupchat(room, "over tls")
        carol.wait_privmsg(chan, "over tls", nick=a, timeout=STEP)
        since = alice.mark()
        carol.privmsg(chan, "back over tls")
        self.stanza(alice, message_from(f"{room}/{carol.nick}", body="back over tls"), since,
                    "carol's message over TLS")

    def test_untrusted_certificate_is_refused(self) -> None:
        chan = self.channel("untrusted")
        carol = self.irc(self.nick("carol"))
        carol.join(chan)
        alice = self.xmpp("alice")
        refused = alice.join_room(room_jid(chan, "localhost"), self.nick("alice"),
                                  timeout=CONNECT)
        self.assertFalse(refused.ok)
        # A certificate that cannot be verified is a server trestle cannot connect to.
        self.assert_error(refused.error, "remote-server-not-found")
        carol.pump(0.3)
        self.assertEqual(carol.messages(msg("JOIN", chan, nick=self.nick("alice"))), [])


class InspircdAthemeTests(AdapterTestBase):
    """InspIRCd + Atheme: a NickServ account used through SASL, and away-notify."""

    ACCOUNT = "alicesasl"
    PASSWORD = "alice-sasl-password-1"

    @classmethod
    def make_ircd(cls) -> irc_servers.IrcServer:
        return irc_servers.InspircdServer(tls=False)

    @classmethod
    def prepare_ircd(cls) -> None:
        cls.ircd.register_account(cls.ACCOUNT, cls.PASSWORD)

    def test_registered_nick_logs_in_with_sasl_and_away_notify(self) -> None:
        chan = self.channel("sasl")
        room = room_jid(chan)
        watcher = self.irc(self.nick("watcher"), caps=["away-notify"])
        self.assertIn("away-notify", watcher.caps_enabled)
        watcher.join(chan)

        alice = self.xmpp("alice")
        answer = alice.register_set(IRC, nick=self.ACCOUNT, password=self.PASSWORD)
        self.assertEqual(iq_type(answer), "result", self.describe(answer))
        self.xmpp_nicks.append(self.ACCOUNT)

        joined = self.join(alice, chan, "asked")
        self.assertEqual(joined.nick, self.ACCOUNT, self.describe(joined.self_presence))
        self.assertTrue({"110", "210"} <= status_codes(joined.self_presence),
                        self.describe(joined.self_presence))
        watcher.wait_command("JOIN", chan, nick=self.ACCOUNT, timeout=STEP)
        whois = watcher.whois(self.ACCOUNT, timeout=STEP)
        logged_in = [m for m in whois if m.command == "330"]
        self.assertTrue(logged_in and logged_in[0].param(2) == self.ACCOUNT,
                        [str(m) for m in whois])

        # away-notify from the server -> <show>away</show> on the occupant.
        since = alice.mark()
        watcher.away("brb")
        self.occupant(alice, room, watcher.nick, since, lambda p: show_of(p) == "away",
                      what="watcher away")
        since = alice.mark()
        watcher.away()
        self.occupant(alice, room, watcher.nick, since, lambda p: show_of(p) is None,
                      what="watcher back")

        # ...and the XMPP user's own away reaches IRC (seen through away-notify).
        alice.send_presence_to(f"{room}/{self.ACCOUNT}", show="xa", status="gone home")
        watcher.wait_command("AWAY", nick=self.ACCOUNT, text="gone home", timeout=STEP)
        alice.send_presence_to(f"{room}/{self.ACCOUNT}")
        watcher.wait_for(lambda m: msg("AWAY", nick=self.ACCOUNT)(m) and not m.params,
                         STEP, what="AWAY cleared")



class ShutdownTests(AdapterTestBase):
    """SIGTERM with a user in a room: a trestle of its own, which the test stops."""

    def test_sigterm_quits_irc_and_tells_the_rooms(self) -> None:
        chan, room, carol, alice, a = self.alice_joins_beside_carol("bye")

        since = alice.mark()
        self.trestle.stop_expect_clean_exit()
        # The IRC adapter's run() was cancelled: the connection QUIT with the
        # gateway's reason...
        carol.wait_for(msg("QUIT", nick=a, contains="shutting down"), STEP,
                       what=f"QUIT of {a} at the shutdown")
        # ...and the room told alice that it closed (332) before the stream did.
        self.occupant(alice, room, a, since, type_="unavailable", codes=("332",),
                      what="the room closed at the shutdown")

if __name__ == "__main__":
    servers.install_exit_on_signals()
    unittest.main(verbosity=2)
