"""End-to-end scenarios: the real trestle binary against a real XMPP server.

For each component domain (irc.localhost, mail.localhost, sms.localhost):
service discovery, version, ping, in-band registration, the gateway prompt,
ad-hoc commands, access control, unknown namespaces; and for the process:
a wrong component secret (bounded retries, /healthz 503), a server kill and
restart (reconnect), and a clean exit on SIGTERM.

Skipped when TRESTLE_BINARY does not name an executable.

Run: TRESTLE_BINARY=... python3 test_services.py [--server prosody|ejabberd|all]
"""

from __future__ import annotations

import re
import signal
import sys
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import servers  # noqa: E402
from trestle_process import (DEFAULT_COMPONENTS, Component, TrestleProcess,  # noqa: E402
                             binary_from_env, trestle_version)
from probe_process import ProbeProcess, probe_from_env  # noqa: E402
from xmpp_client import (NS_COMMANDS, NS_DISCO_INFO, NS_DISCO_ITEMS, NS_GATEWAY,  # noqa: E402
                         NS_PING, NS_REGISTER, NS_VERSION, CommandResult, XmppTestClient,
                         build_submit_form, error_condition, iq_type, parse_form, q,
                         text_of, to_string)

BINARY = binary_from_env()
SKIP_REASON = "TRESTLE_BINARY is not set to an executable trestle binary"

DOMAINS = {c.domain: c for c in DEFAULT_COMPONENTS}
IRC, MAIL, SMS = "irc.localhost", "mail.localhost", "sms.localhost"
IDENTITY_TYPES = {IRC: "irc", MAIL: "smtp", SMS: "sms"}
REQUIRED_FEATURES = [
    NS_DISCO_INFO, NS_DISCO_ITEMS, NS_VERSION, NS_PING, NS_REGISTER, NS_GATEWAY, NS_COMMANDS,
]
ADMIN_COMMANDS = ["uptime", "users", "disconnect-user"]

# The probe (trestle's XEP-0114 driver alone) has its own component domain.
PROBE = probe_from_env()
PROBE_DOMAIN, PROBE_SECRET = "probe.localhost", "s3cret-probe"

_SERVERS: dict[str, servers.XmppServer] = {}


def shared_server(kind: str) -> servers.XmppServer:
    """The module's server of this kind, started on first use and restarted if it died."""
    server = _SERVERS.get(kind)
    if server is None:
        entries = [(c.domain, c.secret) for c in DEFAULT_COMPONENTS]
        server = servers.make_server(kind, entries + [(PROBE_DOMAIN, PROBE_SECRET)])
        _SERVERS[kind] = server
    if not server.running():
        server.start()
    return server


def tearDownModule() -> None:  # noqa: N802 - unittest hook
    for server in _SERVERS.values():
        server.cleanup()
    _SERVERS.clear()


class TrestleTestBase:
    """Shared set-up: one server per kind, a trestle per class, helpers."""

    server_kind = ""
    server: servers.XmppServer
    trestle: Optional[TrestleProcess] = None
    # Subclasses override to change the trestle configuration.
    trestle_kwargs: dict = {}
    start_trestle_in_setup = True

    @classmethod
    def setUpClass(cls) -> None:
        if BINARY is None:
            raise unittest.SkipTest(SKIP_REASON)
        cls.server = shared_server(cls.server_kind)
        cls.trestle = None
        if cls.start_trestle_in_setup:
            cls.trestle = cls.launch_trestle(**cls.trestle_kwargs)

    @classmethod
    def launch_trestle(cls, expect_status: Optional[int] = 200, **kwargs) -> TrestleProcess:
        """Starts a trestle on the shared server; it is killed at class cleanup at the latest."""
        proc = TrestleProcess(BINARY, cls.server.component_port, **kwargs)
        cls.addClassCleanup(proc.cleanup)
        try:
            proc.start(expect_status=expect_status)
        except Exception:
            print(f"\n--- {cls.server.kind} log tail ---\n{cls.server.log_tail()}",
                  file=sys.stderr)
            raise
        return proc

    @classmethod
    def tearDownClass(cls) -> None:
        # A clean SIGTERM exit is part of the contract for every run.
        if cls.trestle is not None and cls.trestle.running():
            cls.trestle.stop_expect_clean_exit()

    def user(self, name: str) -> XmppTestClient:
        """A connected client for a test account, disconnected after the test."""
        client = XmppTestClient(self.server.jid(name), self.server.password(name),
                                self.server.c2s_port).connect()
        self.addCleanup(client.disconnect)
        return client

    def assert_result(self, iq: ET.Element) -> None:
        self.assertEqual(iq_type(iq), "result", self.describe(iq))

    def assert_error(self, iq: ET.Element, *conditions: str) -> None:
        self.assertEqual(iq_type(iq), "error", self.describe(iq))
        self.assertIn(error_condition(iq), conditions, self.describe(iq))

    def describe(self, iq: ET.Element) -> str:
        tail = self.trestle.log_tail(20) if self.trestle is not None else ""
        return f"\nanswer: {to_string(iq)}\n--- trestle log tail ---\n{tail}"


def run_command(client: XmppTestClient, domain: str, node: str,
                values: Optional[dict] = None, max_steps: int = 4) -> CommandResult:
    """Executes a command to its end, submitting each form with values (or its defaults)."""
    step = client.command_execute(domain, node)
    for _ in range(max_steps):
        if step.status != "executing" or step.form is None:
            return step
        step = client.command_execute(domain, node, next_action(step), step.sessionid,
                                      build_submit_form(values or {}, step.form))
    return step


def next_action(step: CommandResult) -> str:
    """The action that submits the current stage: complete when allowed, else the default."""
    actions = step.actions()
    if not actions or "complete" in actions:
        return "complete"
    default = step.command.find(q(NS_COMMANDS, "actions")).get("execute")
    return default or "next"


class ServicesTests(TrestleTestBase):
    """Shared XMPP services on every component domain, as alice, bob and admin."""

    def test_disco_info_identity_and_features(self) -> None:
        alice = self.user("alice")
        for domain, kind in IDENTITY_TYPES.items():
            with self.subTest(domain=domain):
                info = alice.disco_info(domain)
                self.assert_result(info.iq)
                self.assertEqual(info.iq.get("from"), domain)
                self.assertIn(("gateway", kind),
                              [(c, t) for c, t, _ in info.identities], self.describe(info.iq))
                for feature in REQUIRED_FEATURES:
                    self.assertIn(feature, info.features, self.describe(info.iq))
                # The border, stated in a XEP-0128 serverinfo form.
                fields = {f.get("var"): [v.text for v in f.findall("{jabber:x:data}value")]
                          for f in info.iq.iter("{jabber:x:data}field")}
                self.assertEqual(fields.get("FORM_TYPE"),
                                 ["http://jabber.org/network/serverinfo"], self.describe(info.iq))
                self.assertIn("leave XMPP here", " ".join(fields.get("x-gateway-border", [])),
                              self.describe(info.iq))

    def test_version_matches_binary(self) -> None:
        expected = trestle_version(BINARY)
        alice = self.user("alice")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                iq, name, version, _ = alice.version(domain)
                self.assert_result(iq)
                self.assertEqual(name, "trestle", self.describe(iq))
                self.assertEqual(version, expected, self.describe(iq))

    def test_ping_answers_empty_result(self) -> None:
        alice = self.user("alice")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                iq = alice.ping(domain)
                self.assert_result(iq)
                self.assertEqual(list(iq), [], self.describe(iq))

    def test_unknown_namespace_is_service_unavailable(self) -> None:
        alice = self.user("alice")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                for iq_kind in ("get", "set"):
                    iq = alice.send_iq(domain, iq_kind, "<query xmlns='urn:example:unknown'/>")
                    self.assert_error(iq, "service-unavailable")

    # -- XEP-0077 registration on irc.localhost ---------------------------

    def registration(self, client: XmppTestClient) -> tuple[ET.Element, ET.Element]:
        iq = client.register_get(IRC)
        self.assert_result(iq)
        query = XmppTestClient.register_query(iq)
        self.assertIsNotNone(query, self.describe(iq))
        return iq, query

    def assert_registered_nick(self, client: XmppTestClient, nick: str) -> None:
        iq, query = self.registration(client)
        self.assertIsNotNone(query.find(q(NS_REGISTER, "registered")), self.describe(iq))
        shown = text_of(query, NS_REGISTER, "nick")
        form = parse_form(XmppTestClient.register_form(iq))
        if shown is None and "nick" in form:
            shown = (form["nick"].values or [None])[0]
        self.assertEqual(shown, nick, self.describe(iq))

    def test_register_with_legacy_fields(self) -> None:
        alice = self.user("alice")
        alice.register_remove(IRC)  # start clean whatever ran before

        iq, query = self.registration(alice)
        self.assertIsNone(query.find(q(NS_REGISTER, "registered")), self.describe(iq))
        self.assertIsNotNone(query.find(q(NS_REGISTER, "nick")), self.describe(iq))
        form = XmppTestClient.register_form(iq)
        self.assertIsNotNone(form, self.describe(iq))
        self.assertIn("nick", parse_form(form), self.describe(iq))

        self.assert_result(alice.register_set(IRC, nick="alice1"))
        self.assert_registered_nick(alice, "alice1")

        self.assert_result(alice.register_set(IRC, nick="alice2"))
        self.assert_registered_nick(alice, "alice2")

        self.assert_result(alice.register_remove(IRC))
        iq, query = self.registration(alice)
        self.assertIsNone(query.find(q(NS_REGISTER, "registered")), self.describe(iq))

    def test_register_with_data_form(self) -> None:
        bob = self.user("bob")
        bob.register_remove(IRC)
        iq, _ = self.registration(bob)
        form = XmppTestClient.register_form(iq)
        self.assertIsNotNone(form, self.describe(iq))

        self.assert_result(bob.register_set_form(IRC, {"nick": "bobby"}, form))
        self.assert_registered_nick(bob, "bobby")

        self.assert_result(bob.register_remove(IRC))
        iq, query = self.registration(bob)
        self.assertIsNone(query.find(q(NS_REGISTER, "registered")), self.describe(iq))

    def test_register_without_nick_is_refused(self) -> None:
        alice = self.user("alice")
        alice.register_remove(IRC)
        self.assert_error(alice.register_set(IRC), "not-acceptable", "bad-request")
        self.assert_error(alice.register_set_form(IRC, {}), "not-acceptable", "bad-request")
        iq, query = self.registration(alice)
        self.assertIsNone(query.find(q(NS_REGISTER, "registered")), self.describe(iq))

    # -- XEP-0100 gateway prompt -------------------------------------------

    def test_gateway_prompt_description(self) -> None:
        alice = self.user("alice")
        iq, desc, prompt = alice.gateway_get(SMS)
        self.assert_result(iq)
        self.assertTrue(desc, self.describe(iq))
        self.assertTrue(prompt, self.describe(iq))

    def test_gateway_prompt_translates_addresses(self) -> None:
        alice = self.user("alice")
        cases = [
            (SMS, "(555) 123-4567", "+15551234567@sms.localhost"),
            (MAIL, "bob@example.com", "bob\\40example.com@mail.localhost"),
            (IRC, "#chan%irc.example.net", "#chan%irc.example.net@irc.localhost"),
        ]
        for domain, prompt, expected in cases:
            with self.subTest(domain=domain, prompt=prompt):
                iq, jid = alice.gateway_set(domain, prompt)
                self.assert_result(iq)
                self.assertEqual(jid, expected, self.describe(iq))

    def test_gateway_prompt_rejects_garbage_number(self) -> None:
        alice = self.user("alice")
        iq, jid = alice.gateway_set(SMS, "not a phone number!")
        self.assert_error(iq, "jid-malformed")
        self.assertIsNone(jid)

    # -- XEP-0050 ad-hoc commands --------------------------------------------

    def test_admin_lists_commands(self) -> None:
        admin = self.user("admin")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                iq, items = admin.command_list(domain)
                self.assert_result(iq)
                nodes = {item.node: item for item in items}
                for command in ADMIN_COMMANDS:
                    self.assertIn(command, nodes, self.describe(iq))
                    self.assertEqual(nodes[command].jid, domain, self.describe(iq))

    def test_admin_runs_uptime(self) -> None:
        admin = self.user("admin")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                step = admin.command_execute(domain, "uptime")
                self.assert_result(step.iq)
                self.assertEqual(step.status, "completed", self.describe(step.iq))
                self.assertTrue(step.notes or step.form is not None, self.describe(step.iq))

    def test_user_may_not_run_admin_command(self) -> None:
        alice = self.user("alice")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                step = alice.command_execute(domain, "uptime")
                self.assert_error(step.iq, "forbidden")

    def test_users_command_lists_active_user(self) -> None:
        alice = self.user("alice")
        admin = self.user("admin")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                self.assert_result(alice.ping(domain))
                step = run_command(admin, domain, "users")
                self.assert_result(step.iq)
                self.assertEqual(step.status, "completed", self.describe(step.iq))
                self.assertIn("alice@localhost", to_string(step.command), self.describe(step.iq))

    def test_disconnect_user_is_two_step(self) -> None:
        alice = self.user("alice")
        admin = self.user("admin")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                self.assert_result(alice.ping(domain))
                first = admin.command_execute(domain, "disconnect-user")
                self.assert_result(first.iq)
                self.assertEqual(first.status, "executing", self.describe(first.iq))
                self.assertTrue(first.sessionid, self.describe(first.iq))
                self.assertIn("jid", parse_form(first.form), self.describe(first.iq))
                second = admin.command_execute(
                    domain, "disconnect-user", next_action(first), first.sessionid,
                    build_submit_form({"jid": "alice@localhost"}, first.form))
                self.assert_result(second.iq)
                self.assertEqual(second.status, "completed", self.describe(second.iq))
                self.assertEqual(second.sessionid, first.sessionid, self.describe(second.iq))


class AccessTests(TrestleTestBase):
    """allow: [bob@localhost] — alice is refused everywhere, bob and admin are not."""

    trestle_kwargs = {"allow": ["bob@localhost"]}

    def test_only_allowed_users_are_served(self) -> None:
        alice, bob, admin = self.user("alice"), self.user("bob"), self.user("admin")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                self.assert_error(alice.disco_info(domain).iq, "forbidden")
                self.assert_result(bob.disco_info(domain).iq)
                self.assert_result(admin.disco_info(domain).iq)


class ReloadTests(TrestleTestBase):
    """SIGHUP reloads access control from the config file; a broken file changes nothing."""

    trestle_kwargs = {"allow": ["bob@localhost"]}

    def reload(self, trestle: TrestleProcess, marker: str) -> str:
        before = sum(marker in line for line in trestle.log_lines())
        trestle.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            found = [line for line in trestle.log_lines() if marker in line]
            if len(found) > before:
                return found[-1]
            time.sleep(0.1)
        self.fail(f"no new '{marker}' line after SIGHUP\n{trestle.log_tail()}")

    def test_sighup_reloads_access_control(self) -> None:
        trestle = self.trestle
        alice = self.user("alice")
        self.assert_error(alice.disco_info(IRC).iq, "forbidden")

        trestle.allow = ["localhost"]
        trestle.write_config()
        self.reload(trestle, "reloaded access control")
        self.assert_result(alice.disco_info(IRC).iq)

        # A broken file is refused with a clear line; the running rules stay.
        good = trestle.config_path.read_text()
        trestle.config_path.write_text(good + "unknown_key: 1\n")
        line = self.reload(trestle, "reload failed")
        self.assertIn("unknown_key", line)
        self.assert_result(alice.disco_info(IRC).iq)
        self.assertTrue(trestle.running(), trestle.log_tail())
        trestle.config_path.write_text(good)


class WrongSecretTests(TrestleTestBase):
    """A wrong secret for one component: logged, retried with back-off, unhealthy."""

    start_trestle_in_setup = False
    window_seconds = 6.0
    max_attempts = 5

    def test_wrong_secret_backs_off_and_reports_unhealthy(self) -> None:
        components = [c if c.domain != SMS else Component(c.domain, "wrong-secret", c.adapter,
                                                          c.extra)
                      for c in DEFAULT_COMPONENTS]
        launched = time.monotonic()
        trestle = self.launch_trestle(expect_status=None, components=components)
        type(self).trestle = trestle

        failed = trestle.wait_log(lambda line: "authentication failed" in line.lower()
                                  and SMS in line, timeout=15)
        self.assertIn(SMS, failed)
        trestle.wait_healthz(503, timeout=10)

        # The healthy components still serve while sms.localhost keeps failing.
        alice = self.user("alice")
        self.assert_result(alice.disco_info(IRC).iq)

        remaining = self.window_seconds - (time.monotonic() - launched)
        if remaining > 0:
            time.sleep(remaining)
        self.assertTrue(trestle.running(), trestle.log_tail())
        self.assertEqual(trestle.healthz(), 503)
        attempts = [line for line in trestle.log_lines()
                    if SMS in line and re.search(r"\bconnecting\b", line, re.IGNORECASE)]
        print(f"\n[{self.server_kind}] {len(attempts)} connection attempts for {SMS} in "
              f"{time.monotonic() - launched:.1f}s", file=sys.stderr)
        self.assertGreaterEqual(len(attempts), 2, "no retry after the failed handshake\n"
                                + trestle.log_tail())
        self.assertLessEqual(len(attempts), self.max_attempts,
                             "retries too fast (busy loop?)\n" + "\n".join(attempts))
        trestle.stop_expect_clean_exit()


class ReconnectTests(TrestleTestBase):
    """The XMPP server is killed and restarted on the same port."""

    def test_reconnects_after_server_kill(self) -> None:
        trestle = self.trestle
        alice = self.user("alice")
        self.assert_result(alice.disco_info(IRC).iq)
        alice.disconnect()

        self.server.kill()
        down = trestle.wait_healthz_not(200, timeout=15)
        self.assertIn(down, (503, None))
        self.assertTrue(trestle.running(), trestle.log_tail())

        self.server.restart()  # returns once the ports listen again
        waited = trestle.wait_healthz(200, timeout=60)
        print(f"\n[{self.server_kind}] trestle healthy {waited:.2f}s after the server "
              "was listening again", file=sys.stderr)

        alice = self.user("alice")
        for domain in DOMAINS:
            with self.subTest(domain=domain):
                self.assert_result(alice.disco_info(domain).iq)


class QueueTests(TrestleTestBase):
    """Stanzas sent while the server is down wait in the send queue and arrive in order."""

    start_trestle_in_setup = False

    def test_queued_stanzas_arrive_in_order_after_restart(self) -> None:
        if PROBE is None:
            self.skipTest("TRESTLE_PROBE is not set to the component_probe binary")
        probe = ProbeProcess(PROBE, self.server.component_port, PROBE_DOMAIN, PROBE_SECRET)
        self.addCleanup(probe.close)
        probe.wait_state("ready", timeout=20)

        self.server.kill()
        probe.wait_state(lambda s: s not in ("ready", "idle"), timeout=15)
        bodies = [f"queued {i} <&>\"'" for i in range(1, 6)]
        for depth, body in enumerate(bodies, start=1):
            self.assertEqual(probe.send(self.server.jid("alice"), body), f"queued {depth}",
                             probe.log_tail())

        self.server.restart()
        probe.wait_state("ready", timeout=60)
        self.assertEqual(probe.quit(), 0, probe.log_tail())

        # alice was offline all along: the server stored the messages for her.
        alice = self.user("alice")
        received = []
        for _ in bodies:
            msg = alice.wait_message(lambda m: m.get("from") == PROBE_DOMAIN, timeout=20)
            received.append(text_of(msg, "jabber:client", "body"))
        self.assertEqual(received, bodies)


class LifecycleTests(TrestleTestBase):
    """Start, healthy, SIGTERM, exit code 0, port closed."""

    def test_sigterm_exits_zero(self) -> None:
        trestle = self.trestle
        self.assertEqual(trestle.healthz(), 200)
        code = trestle.stop(timeout=15)
        self.assertEqual(code, 0, trestle.log_tail())
        self.assertIsNone(trestle.healthz(timeout=1))


def make_test_classes(kinds: list[str], namespace: dict) -> None:
    """One unittest.TestCase per (scenario class, server kind), e.g. ServicesTests_prosody."""
    for mixin in (ServicesTests, AccessTests, ReloadTests, WrongSecretTests, ReconnectTests,
                  QueueTests, LifecycleTests):
        for kind in kinds:
            name = f"{mixin.__name__}_{kind}"
            namespace[name] = type(name, (mixin, unittest.TestCase), {"server_kind": kind})


if __name__ == "__main__":
    KINDS, ARGV = servers.split_server_argv(sys.argv)
else:
    KINDS, ARGV = servers.split_server_argv([__file__])
make_test_classes(KINDS, globals())

if __name__ == "__main__":
    servers.install_exit_on_signals()
    unittest.main(argv=ARGV, verbosity=2)
