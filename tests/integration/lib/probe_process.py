"""Drives the component_probe test tool (one XEP-0114 link of trestle's own
driver, commanded over stdin) so a test can queue stanzas while the XMPP
server is down. The binary comes from the TRESTLE_PROBE environment variable.
"""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time
from typing import Optional

from servers import _DIE_WITH_PARENT

ENV_PROBE = "TRESTLE_PROBE"


class ProbeError(RuntimeError):
    """The probe did not report what was expected in time."""


def probe_from_env() -> Optional[str]:
    """The component_probe binary named by TRESTLE_PROBE, if executable."""
    path = os.environ.get(ENV_PROBE, "")
    if path and os.path.isfile(path) and os.access(path, os.X_OK):
        return path
    return None


class ProbeProcess:
    """One running component_probe; its stdout events are read by a thread."""

    def __init__(self, binary: str, port: int, domain: str, secret: str) -> None:
        self.proc = subprocess.Popen(
            _DIE_WITH_PARENT + [binary, "127.0.0.1", str(port), domain, secret],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, bufsize=1, start_new_session=True)
        self.events: "queue.Queue[str]" = queue.Queue()
        self.state = "idle"
        self.stderr_lines: list[str] = []
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.events.put),
                         daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr_lines.append),
                         daemon=True).start()

    @staticmethod
    def _pump(stream, sink) -> None:
        for line in stream:
            sink(line.rstrip("\n"))

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.stderr_lines[-lines:])

    def next_event(self, deadline: float) -> str:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProbeError(f"no probe event in time (state {self.state})\n{self.log_tail()}")
        try:
            event = self.events.get(timeout=remaining)
        except queue.Empty as exc:
            raise ProbeError(f"no probe event in time (state {self.state})\n"
                             f"{self.log_tail()}") from exc
        if event.startswith("state "):
            self.state = event.split(" ", 1)[1]
        return event

    def wait_state(self, wanted, timeout: float) -> str:
        """Waits until the link state satisfies wanted (a name or a predicate)."""
        check = wanted if callable(wanted) else (lambda s: s == wanted)
        deadline = time.monotonic() + timeout
        while not check(self.state):
            self.next_event(deadline)
        return self.state

    def send(self, to: str, body: str, timeout: float = 5.0) -> str:
        """Queues a chat message; returns the probe's `queued ...` answer."""
        self.proc.stdin.write(f"send {to} {body}\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(deadline)
            if event.startswith("queued ") or event.startswith("error "):
                return event

    def quit(self, timeout: float = 15.0) -> int:
        """Closes the stream gracefully (the queue is flushed first); returns the exit code."""
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while self.next_event(deadline) != "stopped":
            pass
        return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                stream.close()
            except OSError:
                pass
