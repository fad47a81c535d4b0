"""The component link over direct TLS (TLS from the first byte, then XEP-0114
inside it), against real servers whose component port speaks only TLS:

- ejabberd: an `ejabberd_service` listener with `tls: true` and a certfile;
- Prosody 0.12: mod_net_multiplex's `ssl_ports` (its `component_ports` are
  plain text only), which does TLS and hands the stream to mod_component.

The test makes its own CA and a certificate for `localhost` signed by it
(openssl command line). trestle trusting that CA (`xmpp.ca_file`) comes up
and serves disco; trestle with the system's CA store refuses the certificate,
says why, and keeps retrying with back-off. (The rule that refuses a
plain-text link to a host that is not loopback is tested in test_cli.py.)

Everything listens on loopback. Skipped when TRESTLE_BINARY does not name an
executable.

Run: TRESTLE_BINARY=... python3 test_component_tls.py [--server prosody|ejabberd|all]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

import servers  # noqa: E402
from servers import TlsFiles  # noqa: E402
from trestle_process import DEFAULT_COMPONENTS, TrestleProcess, binary_from_env  # noqa: E402
from xmpp_client import XmppTestClient  # noqa: E402

BINARY = binary_from_env()
SKIP_REASON = "TRESTLE_BINARY is not set to an executable trestle binary"
IRC = "irc.localhost"
STEP = 20.0


def run_openssl(args: list[str], cwd: Path) -> None:
    """Runs one openssl command (bounded); raises with its output on failure."""
    done = subprocess.run(["openssl", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"openssl {args[0]} failed ({done.returncode}):\n{done.stderr}")


def make_test_pki(directory: Path, name: str = "localhost") -> tuple[Path, TlsFiles]:
    """A test CA and a server certificate for `name` (DNS only, no IP) signed by it.

    Returns the CA certificate (what trestle trusts) and the server's files.
    """
    curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run_openssl(["req", "-x509", *curve, "-days", "2", "-subj", "/CN=trestle test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign",
                 "-keyout", "ca-key.pem", "-out", "ca.pem"], directory)
    run_openssl(["req", "-new", *curve, "-subj", f"/CN={name}",
                 "-keyout", "server-key.pem", "-out", "server.csr"], directory)
    (directory / "server.ext").write_text(
        f"subjectAltName=DNS:{name}\n"
        "basicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n")
    run_openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                 "-CAcreateserial", "-days", "2", "-extfile", "server.ext",
                 "-out", "server.pem"], directory)
    return directory / "ca.pem", TlsFiles(directory / "server.pem", directory / "server-key.pem")


class ComponentTlsTests:
    """trestle against one server kind whose component port speaks direct TLS."""

    server_kind = ""
    server: servers.XmppServer
    pki_dir: Path
    ca_file: Path

    @classmethod
    def setUpClass(cls) -> None:
        if BINARY is None:
            raise unittest.SkipTest(SKIP_REASON)
        cls.pki_dir = Path(tempfile.mkdtemp(prefix="trestle-it-pki-"))
        cls.addClassCleanup(shutil.rmtree, cls.pki_dir, True)
        cls.ca_file, server_files = make_test_pki(cls.pki_dir)
        cls.server = servers.make_server(cls.server_kind,
                                         [(c.domain, c.secret) for c in DEFAULT_COMPONENTS],
                                         component_tls=server_files)
        cls.addClassCleanup(cls.server.cleanup)
        cls.server.start()

    def trestle(self, expect_status: Optional[int] = 200, **xmpp) -> TrestleProcess:
        """A trestle on the server's TLS component port, killed after the test at the latest."""
        proc = TrestleProcess(BINARY, self.server.component_port,
                              xmpp_overrides={"tls": True, **xmpp})
        self.addCleanup(proc.cleanup)
        try:
            proc.start(expect_status=expect_status)
        except Exception:
            print(f"\n--- {self.server.kind} log tail ---\n{self.server.log_tail()}",
                  file=sys.stderr)
            raise
        return proc

    def where(self, host: str = "127.0.0.1") -> str:
        return f"{host}:{self.server.component_port}"

    def assert_serves_disco(self, trestle: TrestleProcess) -> None:
        alice = XmppTestClient(self.server.jid("alice"), self.server.password("alice"),
                               self.server.c2s_port).connect()
        self.addCleanup(alice.disconnect)
        info = alice.disco_info(IRC)
        self.assertEqual(info.iq.get("type"), "result", trestle.log_tail())
        self.assertEqual(info.iq.get("from"), IRC)
        self.assertIn(("gateway", "irc"), [(c, t) for c, t, _ in info.identities])

    def test_comes_up_over_tls_trusting_the_test_ca(self) -> None:
        # The certificate names localhost, not 127.0.0.1: server_name says which.
        trestle = self.trestle(ca_file=str(self.ca_file), server_name="localhost")
        for component in DEFAULT_COMPONENTS:
            trestle.wait_log(lambda line, domain=component.domain: domain in line and
                             f"TLS with {self.where()} established (TLSv1." in line, timeout=STEP)
        self.assert_serves_disco(trestle)
        self.assertFalse([line for line in trestle.log_lines() if "plain text" in line])
        trestle.stop_expect_clean_exit()

    def test_host_name_is_the_name_checked_by_default(self) -> None:
        trestle = self.trestle(host="localhost", ca_file=str(self.ca_file))
        trestle.wait_log(lambda line: f"TLS with {self.where('localhost')} established" in line,
                         timeout=STEP)
        self.assert_serves_disco(trestle)
        trestle.stop_expect_clean_exit()

    def test_system_store_refuses_the_test_certificate(self) -> None:
        launched = time.monotonic()
        trestle = self.trestle(expect_status=None)
        expected = (f"TLS handshake with {self.where()} failed: certificate verify failed "
                    "(certificate: unable to get local issuer certificate)")
        refused = trestle.wait_log(lambda line: expected in line, timeout=STEP)
        self.assertIn("error", refused.lower())
        self.assertEqual(trestle.healthz(), 503)
        # Retried with back-off (1 s, then up to 4 s in TrestleProcess's config),
        # never authenticated.
        trestle.wait_log(lambda line: "reconnecting in" in line, timeout=STEP)
        remaining = 4.0 - (time.monotonic() - launched)
        if remaining > 0:
            time.sleep(remaining)
        lines = trestle.log_lines()
        failures = [line for line in lines if IRC in line and expected in line]
        self.assertGreaterEqual(len(failures), 2, trestle.log_tail())
        self.assertLessEqual(len(failures), 6, "retries too fast\n" + trestle.log_tail())
        self.assertFalse([line for line in lines if "authenticated as" in line],
                         trestle.log_tail())
        self.assertEqual(trestle.healthz(), 503)
        trestle.stop_expect_clean_exit()

    def test_plain_text_to_the_tls_port_does_not_authenticate(self) -> None:
        # The port really is TLS only: a plain stream gets nowhere.
        trestle = self.trestle(expect_status=None, tls=False, connect_timeout_seconds=3)
        trestle.wait_log(lambda line: IRC in line and "reconnecting in" in line, timeout=STEP)
        self.assertFalse([line for line in trestle.log_lines() if "authenticated as" in line])
        self.assertEqual(trestle.healthz(), 503)
        trestle.stop_expect_clean_exit()


def make_test_classes(kinds: list[str], namespace: dict) -> None:
    """One unittest.TestCase per server kind, e.g. ComponentTlsTests_ejabberd."""
    for kind in kinds:
        name = f"ComponentTlsTests_{kind}"
        namespace[name] = type(name, (ComponentTlsTests, unittest.TestCase),
                               {"server_kind": kind})


if __name__ == "__main__":
    KINDS, ARGV = servers.split_server_argv(sys.argv)
else:
    KINDS, ARGV = servers.split_server_argv([__file__])
make_test_classes(KINDS, globals())

if __name__ == "__main__":
    servers.install_exit_on_signals()
    unittest.main(argv=ARGV, verbosity=2)
