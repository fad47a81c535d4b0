"""The trestle command line: options, exit codes, config errors, and that
secrets stay out of the log. Needs no XMPP server.

Run: TRESTLE_BINARY=... python3 test_cli.py
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from servers import free_port  # noqa: E402
from trestle_process import binary_from_env  # noqa: E402

BINARY = binary_from_env()
SOURCE = Path(__file__).resolve().parents[2]
SECRETS = {"TRESTLE_IRC_SECRET": "irc-S3CR3T-value", "TRESTLE_MAIL_SECRET": "mail-S3CR3T-value",
           "TRESTLE_SMS_SECRET": "sms-S3CR3T-value",
           "TRESTLE_KANNEL_PASSWORD": "kannel-S3CR3T-value",
           "TRESTLE_KANNEL_WEBHOOK_TOKEN": "token-S3CR3T-value-0123456789"}


def run(*args: str, env: dict | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    merged = {k: v for k, v in os.environ.items() if k not in SECRETS}
    merged.update(env or {})
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=merged,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@unittest.skipIf(BINARY is None, "TRESTLE_BINARY is not set to an executable trestle binary")
class CliTests(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="trestle-cli-"))
        self.addCleanup(lambda: subprocess.run(["rm", "-rf", str(self.dir)], check=False))

    def write(self, name: str, text: str) -> str:
        path = self.dir / name
        path.write_text(text)
        return str(path)

    def minimal(self, extra: str = "", adapter: str = "irc") -> str:
        return ("xmpp: {}\n"
                "components:\n"
                "  - domain: irc.example.org\n"
                "    secret: ${TRESTLE_IRC_SECRET}\n"
                f"    adapter: {adapter}\n"
                "access:\n"
                "  allow: ['*']\n" + extra)

    def test_version(self) -> None:
        done = run("--version")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertRegex(done.stdout.strip(), r"^trestle \d+\.\d+\.\d+$")

    def test_help(self) -> None:
        done = run("--help")
        self.assertEqual(done.returncode, 0)
        self.assertIn("--check-config", done.stdout)

    def test_usage_errors_exit_2(self) -> None:
        for args in ([], ["--bogus"], ["--config"], ["--check-config", "a", "b"]):
            with self.subTest(args=args):
                done = run(*args)
                self.assertEqual(done.returncode, 2, done.stderr)
                self.assertIn("usage:", done.stderr)

    def test_shipped_configs_are_valid(self) -> None:
        for name in ("trestle.example.yaml", "trestle.minimal.yaml"):
            with self.subTest(config=name):
                done = run("--check-config", str(SOURCE / "config" / name), env=SECRETS)
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertIn(": OK (", done.stdout)
        for path in ("deploy/quickstart/trestle.yaml", "deploy/docker/trestle.yaml"):
            with self.subTest(config=path):
                done = run("--check-config", str(SOURCE / path),
                           env={"TRESTLE_COMPONENT_SECRET": "x"})
                self.assertEqual(done.returncode, 0, done.stderr)

    def test_config_error_names_file_line_column_and_key(self) -> None:
        path = self.write("bad.yaml", self.minimal("logging:\n  levle: debug\n"))
        done = run("--check-config", path, env=SECRETS)
        self.assertEqual(done.returncode, 1)
        self.assertIn(f"{path}:9:3: logging.levle:", done.stderr)

    def test_missing_environment_variable_is_named(self) -> None:
        path = self.write("env.yaml", self.minimal())
        done = run("--check-config", path)
        self.assertEqual(done.returncode, 1)
        self.assertIn("TRESTLE_IRC_SECRET", done.stderr)
        self.assertIn(f"{path}:4:13", done.stderr)

    def test_missing_file(self) -> None:
        done = run("--check-config", str(self.dir / "nope.yaml"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("nope.yaml", done.stderr)

    def test_unknown_adapter(self) -> None:
        path = self.write("adapter.yaml", self.minimal(adapter="xmpp-over-carrier-pigeon"))
        done = run("--check-config", path, env=SECRETS)
        self.assertEqual(done.returncode, 1)
        self.assertIn("components[0].adapter", done.stderr)

    def test_unopenable_store_is_a_start_up_error(self) -> None:
        path = self.write("store.yaml", self.minimal(
            f"storage:\n  sqlite_path: {self.dir / 'missing-dir' / 'trestle.db'}\n"
            "http:\n  port: 0\n"))
        done = run("--config", path, env=SECRETS)
        self.assertEqual(done.returncode, 1)
        self.assertIn("cannot start", done.stderr)

    def test_an_unwritable_data_folder_is_named_with_its_owner(self) -> None:
        # As a container's bind mount is: a folder of another user, mode 755.
        data = self.dir / "data"
        data.mkdir()
        os.chmod(self.dir, 0o755)
        path = self.write("store.yaml", self.minimal(
            f"storage:\n  sqlite_path: {data / 'trestle.db'}\nhttp:\n  port: 0\n"))
        os.chmod(path, 0o644)
        if os.geteuid() == 0:
            # Root writes anywhere: run trestle as nobody instead.
            uid = gid = 65534
            command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", BINARY]
            os.chmod(data, 0o755)
        else:
            uid, gid = os.geteuid(), os.getegid()
            command = [BINARY]
            os.chmod(data, 0o555)
        owner = data.stat()
        env = {k: v for k, v in os.environ.items() if k not in SECRETS}
        env.update(SECRETS)
        done = subprocess.run([*command, "--config", path], capture_output=True, text=True,
                              env=env, timeout=20, stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 1, done.stderr)
        self.assertIn(f"store {data / 'trestle.db'}: cannot open", done.stderr)
        self.assertIn(f"(the folder {data} is not writable by uid {uid} (gid {gid}): it belongs "
                      f"to uid {owner.st_uid}, gid {owner.st_gid}, "
                      f"mode {owner.st_mode & 0o777:o})", done.stderr)

    def test_the_http_listener_is_logged_once(self) -> None:
        config = self.minimal(f"storage:\n  sqlite_path: {self.dir / 'db'}\nhttp:\n  port: 0\n")
        config = config.replace("xmpp: {}", f"xmpp:\n  port: {free_port()}")
        code, err = self.run_until_connecting(self.write("http.yaml", config))
        self.assertEqual(code, 0, err)
        lines = [line for line in err.splitlines() if "listening on" in line]
        self.assertEqual(len(lines), 1, err)
        self.assertRegex(lines[0], r"http.*listening on 127\.0\.0\.1:[1-9][0-9]*$")

    def run_until_connecting(self, path: str) -> tuple[int, str]:
        """Runs trestle with the config at path until it logs its first connect
        attempt (by then it has started its listeners and signal handlers),
        then stops it with SIGTERM; returns its exit code and its log."""
        env = dict(os.environ)
        env.update(SECRETS)
        proc = subprocess.Popen([BINARY, "--config", path], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        early = ""
        try:
            deadline = time.monotonic() + 30
            while "connecting to" not in early and time.monotonic() < deadline:
                ready, _, _ = select.select([proc.stderr], [], [], 1)
                if ready:
                    # Unbuffered, so that select() sees all that is unread.
                    chunk = os.read(proc.stderr.fileno(), 65536)
                    if not chunk:
                        break
                    early += chunk.decode("utf-8", "replace")
            proc.send_signal(signal.SIGTERM)
            _out, rest = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
        return proc.returncode, early + rest

    def test_plain_text_to_a_remote_host_is_refused_at_start(self) -> None:
        # 192.0.2.1 (TEST-NET-1) is never contacted: the configuration is refused first.
        path = self.write("remote.yaml", self.minimal().replace(
            "xmpp: {}", "xmpp:\n  host: 192.0.2.1\n  port: 5347"))
        for option in ("--config", "--check-config"):
            with self.subTest(option=option):
                done = run(option, path, env=SECRETS)
                self.assertEqual(done.returncode, 1, done.stderr)
                self.assertIn(f"{path}:2:9: xmpp.host: '192.0.2.1' is not a loopback address "
                              "and the component link is plain text (tls: false)", done.stderr)
                self.assertIn("insecure: true", done.stderr)
                self.assertNotIn("connecting", done.stderr)

    def test_insecure_plain_link_starts_with_a_warning(self) -> None:
        # "127.1" is 127.0.0.1 to the resolver but not a loopback address to
        # the configuration's rule (only the full forms count), so this stays
        # on loopback; nothing listens on the port.
        port = free_port()
        config = self.minimal(f"storage:\n  sqlite_path: {self.dir / 'db'}\nhttp:\n  port: 0\n")
        config = config.replace("xmpp: {}",
                                f"xmpp:\n  host: '127.1'\n  port: {port}\n  insecure: true")
        path = self.write("insecure.yaml", config)
        code, err = self.run_until_connecting(path)
        self.assertEqual(code, 0, err)
        warnings = [line for line in err.splitlines() if "plain text" in line]
        self.assertEqual(len(warnings), 1, err)
        self.assertIn(f"the component link to 127.1:{port} is plain text (insecure: true): "
                      "component secrets and messages cross the network unencrypted", warnings[0])
        self.assertIn("warning", warnings[0].lower())
        self.assertIn("connecting to 127.1:", err)

    def test_secrets_stay_out_of_the_log(self) -> None:
        # The XMPP port refuses connections: trestle logs its attempts.
        config = self.minimal(f"storage:\n  sqlite_path: {self.dir / 'db'}\n"
                              "http:\n  port: 0\nlogging:\n  level: debug\n")
        config = config.replace("xmpp: {}", f"xmpp:\n  port: {free_port()}")
        path = self.write("run.yaml", config)
        env = {k: v for k, v in os.environ.items()}
        env.update(SECRETS)
        proc = subprocess.Popen([BINARY, "--config", path], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            time.sleep(2)
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate(timeout=5)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("connecting", err)
        for value in SECRETS.values():
            self.assertNotIn(value, out + err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
