"""The container check: the image and the compose demo (deploy/), as a new
user runs them.

It builds the images, brings up deploy/docker-compose.yml on free loopback
ports under a project name of its own, logs in to the demo's Prosody with
slixmpp over STARTTLS (verifying the certificate that the demo made at its
first start), joins #test%ngircd@irc.localhost and exchanges a message with an
IRC client on the demo's ngircd, checks /healthz, tries a bind-mounted data
folder that the image's user cannot write, and stops the demo.

It needs a Docker engine and Compose (v2's `docker compose` or v1's
`docker-compose`). When no engine answers it starts dockerd itself and stops
it at the end; when none can be had it is skipped, saying why (exit code 77,
Meson's skip). Base images that are missing are made with
deploy/docker/make-base-images.sh.

Run: /usr/bin/python3 tests/integration/test_container.py
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent / "lib"))

from irc_client import IrcTestClient  # noqa: E402
from servers import free_port, spawn, terminate_process  # noqa: E402
from xmpp_client import MucTestClient, body_of, message_from  # noqa: E402

SOURCE = Path(__file__).resolve().parents[2]
COMPOSE_FILE = SOURCE / "deploy" / "docker-compose.yml"
BASE_IMAGES = ("debian:12", "debian:12-slim")
ROOM = "#test%ngircd@irc.localhost"
SKIP = 77


def log(text: str) -> None:
    """Progress on stdout, which Meson keeps in the test log."""
    print(f"container check: {text}", flush=True)


def run(argv: list[str], *, timeout: float, env: Optional[dict] = None,
        check: bool = True) -> subprocess.CompletedProcess:
    """Runs argv (bounded), output captured; raises with its output on failure."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL, cwd=SOURCE)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {done.returncode}\n"
                             f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def engine_answers() -> bool:
    try:
        return run(["docker", "info"], timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class DockerEngine:
    """The Docker engine the check uses: one that runs already, or a dockerd
    started here (and stopped by stop())."""

    def __init__(self) -> None:
        self.proc: Optional[subprocess.Popen] = None
        self.workdir = Path(tempfile.mkdtemp(prefix="trestle-it-dockerd-"))

    def start(self) -> Optional[str]:
        """None when an engine answers, else why none can be had."""
        if shutil.which("docker") is None:
            return "no docker command (deploy/install-deps.sh container installs it)"
        if engine_answers():
            log("using the Docker engine that runs already")
            return None
        if shutil.which("dockerd") is None:
            return "no Docker engine runs and dockerd is not installed"
        if os.geteuid() != 0:
            return "no Docker engine runs, and starting dockerd needs root"
        log_path = self.workdir / "dockerd.log"
        self.proc = spawn(["dockerd"], log_path=log_path)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"dockerd exited with {self.proc.returncode}: {self.tail(log_path)}"
            if engine_answers():
                log("started dockerd")
                return None
            time.sleep(0.5)
        self.stop()
        return f"dockerd did not answer within 60 s: {self.tail(log_path)}"

    @staticmethod
    def tail(path: Path) -> str:
        lines = path.read_text(errors="replace").splitlines() if path.exists() else []
        return " | ".join(lines[-5:])

    def stop(self) -> None:
        if self.proc is not None:
            proc, self.proc = self.proc, None
            code = terminate_process(proc, 60)
            log(f"stopped dockerd (exit {code})")
        shutil.rmtree(self.workdir, ignore_errors=True)


def compose_command() -> Optional[list[str]]:
    """v2's `docker compose` when it works, else v1's docker-compose, else None."""
    if run(["docker", "compose", "version"], timeout=30, check=False).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def http_status(url: str) -> tuple[int, str]:
    """(status, body) of a GET, 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(errors="replace")
    except (OSError, urllib.error.URLError):
        return 0, ""


class Demo:
    """deploy/docker-compose.yml under a project of the check's own, on free ports."""

    def __init__(self, compose: list[str]) -> None:
        # One name for every run: each build then retags the same images
        # (and reuses their layers) instead of adding a set per run.
        self.project = "trestlecheck"
        self.ports = {"TRESTLE_XMPP_PORT": free_port(), "TRESTLE_IRC_PORT": free_port(),
                      "TRESTLE_HTTP_PORT": free_port()}
        self.env = dict(os.environ, **{name: str(port) for name, port in self.ports.items()})
        self.compose = compose + ["-p", self.project, "-f", str(COMPOSE_FILE)]

    def __call__(self, *args: str, timeout: float = 300,
                 check: bool = True) -> subprocess.CompletedProcess:
        return run(self.compose + list(args), timeout=timeout, env=self.env, check=check)

    def container(self, service: str) -> str:
        return self("ps", "-q", service).stdout.strip()

    def logs(self, service: str) -> str:
        done = self("logs", "--no-color", service, check=False, timeout=60)
        return done.stdout + done.stderr


class ContainerCheck(unittest.TestCase):
    engine: DockerEngine
    demo: Demo
    timings: dict[str, float]

    @classmethod
    def setUpClass(cls) -> None:
        cls.timings = {}
        cls.engine = DockerEngine()
        why = cls.engine.start()
        if why is not None:
            cls.engine.stop()
            cls.skip(f"no Docker engine: {why}")
        compose = compose_command()
        if compose is None:
            cls.engine.stop()
            cls.skip("no Compose: neither `docker compose` nor docker-compose is installed")
        log(f"compose: {' '.join(compose)}")
        cls.demo = Demo(compose)
        try:
            cls._bring_up()
        except BaseException:
            cls._tear_down()
            raise

    @staticmethod
    def skip(reason: str) -> None:
        log(f"skipped: {reason}")
        raise unittest.SkipTest(reason)

    @classmethod
    def _bring_up(cls) -> None:
        missing = [image for image in BASE_IMAGES
                   if run(["docker", "image", "inspect", image], timeout=30,
                          check=False).returncode != 0]
        if missing:
            log(f"making the base images {', '.join(missing)} with debootstrap")
            started = time.monotonic()
            run([str(SOURCE / "deploy" / "docker" / "make-base-images.sh")], timeout=1800)
            cls.timings["base images"] = time.monotonic() - started
        started = time.monotonic()
        cls.demo("build", timeout=3600)
        cls.timings["build"] = time.monotonic() - started
        started = time.monotonic()
        cls.demo("up", "-d", timeout=300)
        deadline = time.monotonic() + 180
        url = f"http://127.0.0.1:{cls.demo.ports['TRESTLE_HTTP_PORT']}/healthz"
        status, body = 0, ""
        while time.monotonic() < deadline:
            status, body = http_status(url)
            if status == 200:
                break
            time.sleep(0.5)
        cls.timings["start-up to healthy"] = time.monotonic() - started
        if status != 200:
            raise AssertionError(f"/healthz answered {status} {body!r} after 180 s\n"
                                 + cls.demo.logs("trestle")[-3000:])
        cls.healthz = body

    @classmethod
    def tearDownClass(cls) -> None:
        cls._tear_down()
        log(", ".join(f"{name} {seconds:.1f} s" for name, seconds in cls.timings.items()))

    @classmethod
    def _tear_down(cls) -> None:
        demo = getattr(cls, "demo", None)
        try:
            if demo is not None:
                demo("down", "-v", "--remove-orphans", "-t", "30", timeout=300, check=False)
        finally:
            cls.engine.stop()

    # -- the checks, in the order a new user meets them --------------------

    def test_1_image_runs_as_its_own_user_and_is_healthy(self) -> None:
        self.assertIn("irc.localhost", self.healthz)
        container = self.demo.container("trestle")
        user = run(["docker", "inspect", "-f", "{{.Config.User}}", container], timeout=30)
        self.assertEqual(user.stdout.strip(), "trestle")
        image = run(["docker", "inspect", "-f", "{{.Image}}", container], timeout=30).stdout.strip()
        size = run(["docker", "image", "inspect", "-f", "{{.Size}}", image], timeout=30)
        log(f"trestle image: {int(size.stdout) / 1e6:.0f} MB")
        logs = self.demo.logs("trestle")
        self.assertEqual(len(re.findall(r"http.*listening on", logs)), 1, logs[-2000:])

    def test_2_chat_over_starttls_with_the_demo_certificate_and_irc(self) -> None:
        certificate = self.demo("exec", "-T", "prosody", "cat",
                                "/var/lib/prosody/certs/localhost.crt", timeout=60).stdout
        ca_file = Path(self.engine.workdir) / "localhost.crt"
        ca_file.write_text(certificate)
        # The step the README gives the user: `logs prosody | grep fingerprint`
        # shows the fingerprint of the certificate the client is shown.
        fingerprint = run(["openssl", "x509", "-noout", "-fingerprint", "-sha256",
                           "-in", str(ca_file)], timeout=30).stdout.strip().split("=", 1)[1]
        shown = [line for line in self.demo.logs("prosody").splitlines() if "fingerprint" in line]
        self.assertTrue(any(fingerprint in line for line in shown), shown)

        xmpp_port = self.demo.ports["TRESTLE_XMPP_PORT"]
        irc = IrcTestClient(self.demo.ports["TRESTLE_IRC_PORT"], "bob", timeout=20).connect()
        self.addCleanup(irc.close)
        irc.join("#test")
        # A new account, made from the client as the README says.
        client = MucTestClient("alice@localhost", secrets.token_hex(12), xmpp_port,
                               ca_file=str(ca_file), create_account=True, timeout=30)
        client.connect(deadline_seconds=30)
        self.addCleanup(client.disconnect)
        self.assertIsNotNone(client.tls_certificate, "the stream did not use STARTTLS")

        joined = client.join_room(ROOM, "alice", wait_subject=False, timeout=60)
        self.assertTrue(joined.ok, f"join refused: {joined.error}")
        irc.wait_command("JOIN", "#test", nick="alice", timeout=30)

        client.send_groupchat(ROOM, "hello from xmpp")
        self.assertEqual(irc.wait_privmsg("#test", "hello from xmpp", timeout=30).nick, "alice")
        irc.privmsg("#test", "hello from irc")
        answer = client.wait_stanza(message_from(f"{ROOM}/bob", body="hello from irc"), 30)
        self.assertEqual(body_of(answer), "hello from irc")

    def test_3_a_data_folder_the_image_cannot_write_is_named(self) -> None:
        container = self.demo.container("trestle")
        image = run(["docker", "inspect", "-f", "{{.Image}}", container], timeout=30).stdout.strip()
        data = Path(tempfile.mkdtemp(prefix="trestle-it-data-"))
        self.addCleanup(shutil.rmtree, data, True)
        os.chmod(data, 0o755)
        config = SOURCE / "deploy" / "docker" / "trestle.yaml"
        done = run(["docker", "run", "--rm", "--network", "none",
                    "-e", "TRESTLE_COMPONENT_SECRET=unused",
                    "-v", f"{config}:/etc/trestle/trestle.yaml:ro",
                    "-v", f"{data}:/var/lib/trestle", image], timeout=120, check=False)
        self.assertEqual(done.returncode, 1, done.stderr)
        owner = data.stat()
        self.assertIn(f"the folder /var/lib/trestle is not writable by uid 10001 (gid 10001): "
                      f"it belongs to uid {owner.st_uid}, gid {owner.st_gid}, mode 755",
                      done.stderr)
        # What the README says to do about it: run as the folder's owner, or
        # give the folder to uid 10001.
        os.chown(data, 4242, 4242)
        self.assert_store_opens(image, config, data, ["--user", "4242:4242"])
        for path in [data, *data.iterdir()]:
            os.chown(path, 10001, 10001)
        self.assert_store_opens(image, config, data, [])

    def assert_store_opens(self, image: str, config: Path, data: Path,
                           options: list[str]) -> None:
        """Starts the image on the data folder (no network) until it has opened its store."""
        container = run(["docker", "run", "-d", "--network", "none", *options,
                         "-e", "TRESTLE_COMPONENT_SECRET=unused",
                         "-v", f"{config}:/etc/trestle/trestle.yaml:ro",
                         "-v", f"{data}:/var/lib/trestle", image], timeout=120).stdout.strip()
        try:
            deadline = time.monotonic() + 30
            logs = ""
            while "store: opened" not in logs and time.monotonic() < deadline:
                time.sleep(0.5)
                done = run(["docker", "logs", container], timeout=30, check=False)
                logs = done.stdout + done.stderr
            self.assertIn("store: opened /var/lib/trestle/trestle.db", logs, options)
        finally:
            run(["docker", "rm", "-f", container], timeout=60, check=False)

    def test_4_the_demo_stops_cleanly(self) -> None:
        container = self.demo.container("trestle")
        started = time.monotonic()
        self.demo("stop", "-t", "30", timeout=120)
        self.timings["stop"] = time.monotonic() - started
        state = run(["docker", "inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}",
                     container], timeout=30).stdout.split()
        self.assertEqual(state, ["exited", "0"], self.demo.logs("trestle")[-2000:])


if __name__ == "__main__":
    program = unittest.main(exit=False, verbosity=2)
    result = program.result
    if result.wasSuccessful() and result.skipped and len(result.skipped) >= result.testsRun:
        sys.exit(SKIP)
    sys.exit(0 if result.wasSuccessful() else 1)
