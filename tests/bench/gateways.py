"""The two gateways under test, behind one small interface.

Both serve the component domain `irc.localhost` on the same Prosody and reach
the same ngircd; only one runs at a time. Each is configured for raw speed:
no flood control towards IRC, no history recorded, and access for the load
tool's domain.

- biboumi (Debian package): its per-user settings (IRC port, throttle,
  history) live in its SQLite database, so the database is created once by
  a short first start and then filled with one row per benchmark user.
- trestle: the binary given on the command line, configured through
  tests/integration/lib/trestle_process.py.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Optional

from servers import LIVE, ServerError, kill_process_group, spawn, terminate_process
from trestle_process import Component, TrestleProcess

GATEWAY_DOMAIN = "irc.localhost"
IRC_HOST = "127.0.0.1"
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command name: state is field 3, utime 14, stime 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def rss_kib(pid: int) -> int:
    """VmRSS of a process in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise ServerError(f"no VmRSS for pid {pid}")


class Gateway:
    """What a scenario needs from a gateway: start, stop, its pid."""

    name = "gateway"

    def pid(self) -> int:
        raise NotImplementedError

    def running(self) -> bool:
        raise NotImplementedError

    def start(self, timeout: float = 30.0) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def cleanup(self) -> None:
        raise NotImplementedError

    def log_tail(self, lines: int = 30) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name

    def database_path(self) -> Path:
        """The gateway's SQLite database file."""
        raise NotImplementedError


class BiboumiGateway(Gateway):
    """biboumi with a prepared SQLite database (no throttle, no history)."""

    name = "biboumi"

    def __init__(self, binary: str, component_port: int, secret: str, irc_port: int,
                 users: list[str]) -> None:
        """users: the bare JIDs that get option rows in the database."""
        self.binary = binary
        self.component_port = component_port
        self.secret = secret
        self.irc_port = irc_port
        self.users = users
        self.workdir = Path(tempfile.mkdtemp(prefix="trestle-bench-biboumi-"))
        self.config_path = self.workdir / "biboumi.cfg"
        self.db_path = self.workdir / "biboumi.sqlite"
        self.log_path = self.workdir / "biboumi.log"
        self.proc: Optional[subprocess.Popen] = None
        self._prepared = False
        self._cleaned = False
        LIVE.add(self)

    def describe(self) -> str:
        try:
            done = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "biboumi"],
                                  capture_output=True, text=True, timeout=10)
            return f"biboumi {done.stdout.strip() or '?'}"
        except (OSError, subprocess.TimeoutExpired):
            return "biboumi"

    def database_path(self) -> Path:
        return self.db_path

    def pid(self) -> int:
        if self.proc is None:
            raise ServerError("biboumi is not running")
        return self.proc.pid

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _write_config(self) -> None:
        # log_level 1 = info: a few lines per connection, none per message
        # (0, debug, logs every stanza and would be measured too).
        # identd_port 0: no identd (port 113 needs privileges and is not loopback-only).
        self.config_path.write_text("\n".join([
            f"hostname={GATEWAY_DOMAIN}",
            f"password={self.secret}",
            "xmpp_server_ip=127.0.0.1",
            f"port={self.component_port}",
            f"db_name={self.db_path}",
            "identd_port=0",
            "log_level=1",
            f"log_file={self.log_path}",
            f"policy_directory={self.workdir}",
            "realname_customization=true",
            "",
        ]))

    def _fill_database(self) -> None:
        """One row of global and IRC server options per benchmark user.

        Columns as biboumi 9 creates them; ports are `;`-separated, an empty
        TLS port list means plain connections only, a negative throttle limit
        turns throttling off.
        """
        with sqlite3.connect(self.db_path) as db:
            owners = list(self.users)
            db.executemany(
                "INSERT INTO globaloptions_ (owner_, maxhistorylength_, recordhistory_, "
                "persistent_) VALUES (?, 0, 0, 0)", [(o,) for o in owners])
            db.executemany(
                "INSERT INTO ircserveroptions_ (owner_, server_, pass_, tlsports_, ports_, "
                "username_, realname_, verifycert_, trustedfingerprint_, encodingout_, "
                "encodingin_, maxhistorylength_, address_, nick_, saslpassword_, "
                "throttlelimit_) VALUES (?, ?, '', '', ?, '', '', 0, '', 'ISO-8859-1', "
                "'ISO-8859-1', 0, '', '', '', -1)",
                [(o, IRC_HOST, str(self.irc_port)) for o in owners])

    def _prepare(self, timeout: float) -> None:
        self._write_config()
        # A first start creates the schema; biboumi has no switch to do only that.
        self._launch()
        deadline = time.monotonic() + timeout
        while not self._log_says("Authenticated with the XMPP server"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise ServerError("biboumi did not start\n" + self.log_tail())
            time.sleep(0.05)
        self.stop()
        self._fill_database()
        self._prepared = True

    def _launch(self) -> None:
        self.log_path.write_text("")
        self.proc = spawn([self.binary, str(self.config_path)],
                          log_path=self.workdir / "console.log", cwd=self.workdir)

    def _log_says(self, text: str) -> bool:
        for path in (self.log_path, self.workdir / "console.log"):
            try:
                if text in path.read_text(errors="replace"):
                    return True
            except OSError:
                pass
        return False

    def start(self, timeout: float = 30.0) -> None:
        """Starts and waits until the component is authenticated."""
        if not self._prepared:
            self._prepare(timeout)
        self._launch()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise ServerError(f"biboumi exited ({self.proc.returncode})\n" + self.log_tail())
            if self._log_says("Authenticated with the XMPP server"):
                return
            if time.monotonic() > deadline:
                raise ServerError("biboumi did not authenticate in time\n" + self.log_tail())
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM (biboumi QUITs its IRC connections, up to 2 s), then SIGKILL."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            terminate_process(proc, 10.0)
        except ServerError:
            pass

    def cleanup(self) -> None:
        if self._cleaned:
            return
        self._cleaned = True
        if self.proc is not None:
            proc, self.proc = self.proc, None
            kill_process_group(proc)
        LIVE.discard(self)
        if not os.environ.get("TRESTLE_IT_KEEP"):
            shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        text = []
        for path in (self.workdir / "console.log", self.log_path):
            try:
                text += path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                pass
        return "\n".join(text)


class TrestleGateway(Gateway):
    """trestle with its IRC adapter, flood control off, access for the load tool's domain."""

    name = "trestle"

    def __init__(self, binary: str, component_port: int, secret: str, irc_port: int,
                 allow_domain: str, send_queue_limit: Optional[int] = None) -> None:
        """send_queue_limit: xmpp.send_queue_limit, or None for trestle's default."""
        self.binary = binary
        self.send_queue_limit = send_queue_limit
        irc = {
            "max_connections_per_user": 5,
            "server_defaults": {"flood_lines_per_second": 0, "connect_timeout_seconds": 10},
            "servers": [{"host": IRC_HOST, "port": irc_port, "tls": False,
                         "flood_lines_per_second": 0, "connect_timeout_seconds": 10}],
        }
        self.process = TrestleProcess(
            binary, component_port,
            xmpp_overrides=({} if send_queue_limit is None
                            else {"send_queue_limit": send_queue_limit}),
            components=[Component(GATEWAY_DOMAIN, secret, "irc", {"irc": irc})],
            allow=(allow_domain,), admins=(),
            extra={"logging": {"level": "info"}})

    def describe(self) -> str:
        queue = ("" if self.send_queue_limit is None
                 else f", xmpp.send_queue_limit {self.send_queue_limit}")
        return f"trestle ({self.binary}{queue})"

    def database_path(self) -> Path:
        return self.process.workdir / "trestle.db"

    def pid(self) -> int:
        if self.process.proc is None:
            raise ServerError("trestle is not running")
        return self.process.proc.pid

    def running(self) -> bool:
        return self.process.running()

    def start(self, timeout: float = 30.0) -> None:
        """Starts with an empty store, so no state of an earlier run (rooms to
        rejoin, registrations) is carried into this one."""
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                (self.process.workdir / f"trestle.db{suffix}").unlink()
            except FileNotFoundError:
                pass
        self.process.start(timeout=timeout)

    def stop(self) -> None:
        try:
            self.process.stop(15.0)
        except RuntimeError:
            self.process.kill()

    def cleanup(self) -> None:
        self.process.cleanup()

    def log_tail(self, lines: int = 30) -> str:
        return self.process.log_tail(lines)
