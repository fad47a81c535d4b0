"""Runs the real trestle binary for a test.

Writes a YAML config into a private temp dir, launches the binary with its
stderr captured to a file, waits for `GET /healthz` to answer, and stops it
with SIGTERM expecting exit code 0. The binary comes from the
TRESTLE_BINARY environment variable (meson passes the built target).

The command line is `<binary> --config <file>` unless TRESTLE_ARGS gives a
template such as `-c {config}`.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from servers import LIVE, free_port, kill_process_group, spawn, terminate_process

ENV_BINARY = "TRESTLE_BINARY"
ENV_ARGS = "TRESTLE_ARGS"
DEFAULT_ARGS = "--config {config}"


@dataclass
class Component:
    """One component entry of the trestle config."""

    domain: str
    secret: str
    adapter: str
    extra: dict = field(default_factory=dict)


DEFAULT_COMPONENTS = [
    Component("irc.localhost", "s3cret-irc", "irc"),
    # The listener on a port of its own: tests may run several trestles.
    Component("mail.localhost", "s3cret-mail", "smtp", {"smtp": {"listener": {"port": 0}}}),
    Component("sms.localhost", "s3cret-sms", "sms", {"sms": {"default_country": "1"}}),
]


class TrestleError(RuntimeError):
    """trestle did not start, answer or stop as expected."""


def binary_from_env() -> Optional[str]:
    """The trestle binary named by TRESTLE_BINARY, if set and executable."""
    path = os.environ.get(ENV_BINARY, "")
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return None


def trestle_version(binary: str, timeout: float = 10.0) -> str:
    """The version `trestle --version` reports: the last word of its first non-empty line."""
    done = subprocess.run([binary, "--version"], stdin=subprocess.DEVNULL, capture_output=True,
                          text=True, timeout=timeout)
    if done.returncode != 0:
        raise TrestleError(f"{binary} --version exited {done.returncode}: {done.stderr}")
    for line in (done.stdout + "\n" + done.stderr).splitlines():
        if line.strip():
            return line.split()[-1]
    raise TrestleError(f"{binary} --version printed nothing")


def _yaml_scalar(value) -> str:
    # JSON strings, numbers and booleans are valid YAML flow scalars, and a
    # quoted string never turns into a number or a boolean by accident.
    return json.dumps(value)


def to_yaml(value, indent: int = 0) -> str:
    """A small block-style YAML emitter for dicts, lists and scalars."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (dict, list)) and item:
                lines.append(f"{pad}{key}:")
                lines.append(to_yaml(item, indent + 1))
            elif isinstance(item, (dict, list)):
                lines.append(f"{pad}{key}: {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines.append(f"{pad}{key}: {_yaml_scalar(item)}")
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                body = to_yaml(item, indent + 1).splitlines()
                lines.append(f"{pad}- {body[0].lstrip()}")
                lines.extend(body[1:])
            else:
                lines.append(f"{pad}- {_yaml_scalar(item)}")
    else:
        lines.append(pad + _yaml_scalar(value))
    return "\n".join(lines)


class TrestleProcess:
    """One trestle process with its own config, database and log file."""

    def __init__(self, binary: str, xmpp_port: int, *,
                 components: Sequence[Component] = tuple(DEFAULT_COMPONENTS),
                 allow: Sequence[str] = ("localhost",),
                 admins: Sequence[str] = ("admin@localhost",),
                 xmpp_overrides: Optional[dict] = None,
                 extra: Optional[dict] = None) -> None:
        self.binary = binary
        self.xmpp_port = xmpp_port
        self.components = list(components)
        self.allow = list(allow)
        self.admins = list(admins)
        self.xmpp_overrides = dict(xmpp_overrides or {})
        self.extra = dict(extra or {})
        self.workdir = Path(tempfile.mkdtemp(prefix="trestle-it-gw-"))
        self.config_path = self.workdir / "trestle.yaml"
        self.log_path = self.workdir / "trestle.log"
        self.http_port = free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.exit_code: Optional[int] = None
        self._cleaned = False
        LIVE.add(self)

    # -- config --------------------------------------------------------------

    def config(self) -> dict:
        """The configuration as a dict (the YAML schema of trestle)."""
        xmpp = {
            "host": "127.0.0.1",
            "port": self.xmpp_port,
            "reconnect_min_delay_seconds": 1,
            "reconnect_max_delay_seconds": 4,
            "keepalive_interval_seconds": 60,
            "keepalive_timeout_seconds": 30,
        }
        xmpp.update(self.xmpp_overrides)
        components = []
        for comp in self.components:
            entry = {"domain": comp.domain, "secret": comp.secret, "adapter": comp.adapter}
            entry.update(comp.extra)
            components.append(entry)
        config = {
            "xmpp": xmpp,
            "components": components,
            "storage": {"sqlite_path": str(self.workdir / "trestle.db")},
            "http": {"bind": "127.0.0.1", "port": self.http_port},
            "access": {"allow": self.allow, "admins": self.admins},
            "logging": {"level": "debug"},
        }
        config.update(self.extra)
        return config

    def write_config(self) -> Path:
        """Writes the YAML config file and returns its path."""
        self.config_path.write_text(to_yaml(self.config()) + "\n")
        return self.config_path

    def argv(self) -> list[str]:
        """The command line (see TRESTLE_ARGS)."""
        template = os.environ.get(ENV_ARGS, DEFAULT_ARGS)
        return [self.binary] + [arg.format(config=str(self.config_path))
                                for arg in shlex.split(template)]

    # -- lifecycle -----------------------------------------------------------

    def start(self, timeout: float = 30.0, expect_status: Optional[int] = 200) -> "TrestleProcess":
        """Launches trestle and waits until /healthz answers expect_status.

        expect_status=None waits only until /healthz answers at all (e.g.
        while a component cannot authenticate).
        """
        if self.running():
            raise TrestleError("trestle already running")
        self.write_config()
        self.exit_code = None
        self.proc = spawn(self.argv(), log_path=self.log_path, cwd=self.workdir)
        self.wait_healthz(expect_status, timeout)
        return self

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM; returns the exit code (raises TrestleError if it did not exit in time)."""
        if self.proc is None:
            return self.exit_code or 0
        proc, self.proc = self.proc, None
        try:
            self.exit_code = terminate_process(proc, timeout)
        except RuntimeError as exc:
            raise TrestleError(f"{exc}\n--- trestle log tail ---\n{self.log_tail()}") from None
        return self.exit_code

    def stop_expect_clean_exit(self, timeout: float = 15.0) -> None:
        """SIGTERM and require exit code 0 within timeout."""
        code = self.stop(timeout)
        if code != 0:
            raise TrestleError(f"trestle exited with {code} after SIGTERM\n"
                               f"--- trestle log tail ---\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL."""
        if self.proc is not None:
            proc, self.proc = self.proc, None
            kill_process_group(proc)
            self.exit_code = proc.returncode

    def cleanup(self) -> None:
        """Kills it if still running and removes the work dir (unless TRESTLE_IT_KEEP)."""
        if self._cleaned:
            return
        try:
            self.kill()
        finally:
            self._cleaned = True
            LIVE.discard(self)
            if not os.environ.get("TRESTLE_IT_KEEP"):
                shutil.rmtree(self.workdir, ignore_errors=True)

    def running(self) -> bool:
        """True while the process is alive."""
        return self.proc is not None and self.proc.poll() is None

    # -- health --------------------------------------------------------------

    def healthz(self, timeout: float = 2.0) -> Optional[int]:
        """The HTTP status of GET /healthz, or None when nothing answers."""
        url = f"http://127.0.0.1:{self.http_port}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except (urllib.error.URLError, OSError):
            return None

    def metric(self, name: str, component: Optional[str] = None, timeout: float = 2.0) -> float:
        """The sum of the samples of `name` in GET /metrics, of `component`'s
        only when given (0 when there are none)."""
        url = f"http://127.0.0.1:{self.http_port}/metrics"
        with urllib.request.urlopen(url, timeout=timeout) as response:
            text = response.read().decode()
        label = f'{{component="{component}"}}' if component else ""
        total = 0.0
        for line in text.splitlines():
            sample, _, value = line.rpartition(" ")
            if sample == name + label or (not component and sample.startswith(name + "{")):
                total += float(value)
        return total

    def wait_healthz(self, status: Optional[int] = 200, timeout: float = 30.0) -> float:
        """Polls /healthz until it answers status (any status if None); returns seconds waited."""
        started = time.monotonic()
        deadline = started + timeout
        last = None
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise TrestleError(f"trestle exited with {self.proc.returncode} while waiting "
                                   f"for /healthz\n--- trestle log tail ---\n{self.log_tail()}")
            last = self.healthz()
            if last is not None and (status is None or last == status):
                return time.monotonic() - started
            if time.monotonic() >= deadline:
                raise TrestleError(f"/healthz gave {last}, not {status or 'an answer'}, within "
                                   f"{timeout}s\n--- trestle log tail ---\n{self.log_tail()}")
            time.sleep(0.1)

    def wait_healthz_not(self, status: int = 200, timeout: float = 30.0) -> Optional[int]:
        """Polls /healthz until it answers something other than status; returns that."""
        deadline = time.monotonic() + timeout
        while True:
            last = self.healthz()
            if last != status:
                return last
            if time.monotonic() >= deadline:
                raise TrestleError(f"/healthz still {status} after {timeout}s")
            time.sleep(0.1)

    # -- logs ----------------------------------------------------------------

    def log_text(self) -> str:
        """Everything trestle wrote to stdout/stderr so far."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_lines(self) -> list[str]:
        """log_text() split into lines."""
        return self.log_text().splitlines()

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the log, for failure messages."""
        return "\n".join(self.log_lines()[-lines:])

    def wait_log(self, predicate, timeout: float = 15.0) -> str:
        """Waits until some log line satisfies predicate; returns it."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.log_lines():
                if predicate(line):
                    return line
            if time.monotonic() >= deadline:
                raise TrestleError(f"no matching log line within {timeout}s\n"
                                   f"--- trestle log tail ---\n{self.log_tail()}")
            time.sleep(0.1)

    def __enter__(self) -> "TrestleProcess":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()
