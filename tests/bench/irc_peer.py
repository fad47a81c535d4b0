"""A minimal asyncio IRC client: the benchmark's observer and sender on the IRC side.

It registers, answers PING, joins channels and hands every PRIVMSG to the
callback the scenario installed (`on_privmsg(target, nick, text, t_ns)`).
Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import time
from typing import Callable, Optional


class IrcPeerError(RuntimeError):
    """Registration, a join or the link failed."""


def _parse(line: str) -> tuple[str, str, list[str]]:
    """(source nick, command, params) of one IRC line (tags ignored)."""
    if line.startswith("@"):
        _, _, line = line.partition(" ")
    source = ""
    if line.startswith(":"):
        source, _, line = line[1:].partition(" ")
    trailing = None
    if " :" in line:
        line, _, trailing = line.partition(" :")
    params = line.split()
    command = params.pop(0).upper() if params else ""
    if trailing is not None:
        params.append(trailing)
    return source.split("!", 1)[0], command, params


class IrcPeer:
    """One raw IRC connection driven from the benchmark's event loop."""

    def __init__(self, host: str, port: int, nick: str) -> None:
        self.host = host
        self.port = port
        self.nick = nick
        self.on_privmsg: Callable[[str, str, str, int], None] = lambda *_: None
        self.closed: Optional[str] = None
        self._reader: Optional[asyncio.StreamReader] = None
        self._writer: Optional[asyncio.StreamWriter] = None
        self._task: Optional[asyncio.Task] = None
        self._waiters: list[tuple[Callable[[str, str, list[str]], bool], asyncio.Future]] = []

    async def connect(self, timeout: float = 15.0) -> "IrcPeer":
        """Connects and waits for the welcome (001)."""
        self._reader, self._writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), timeout)
        self._task = asyncio.get_running_loop().create_task(self._read_loop())
        welcome = self._expect(lambda _s, c, _p: c in ("001", "433", "432", "ERROR"))
        self.send(f"NICK {self.nick}")
        self.send(f"USER {self.nick} 0 * :benchmark peer")
        _, command, params = await asyncio.wait_for(welcome, timeout)
        if command != "001":
            raise IrcPeerError(f"registration of {self.nick} refused: {command} {params}")
        return self

    async def join(self, channel: str, timeout: float = 15.0) -> None:
        """JOINs and waits for the end of the names list."""
        done = self._expect(lambda _s, c, p: c == "366" and len(p) > 1
                            and p[1].lower() == channel.lower())
        self.send(f"JOIN {channel}")
        await asyncio.wait_for(done, timeout)

    def send(self, line: str) -> None:
        """Queues one line (CRLF added)."""
        if self.closed:
            raise IrcPeerError(self.closed)
        self._writer.write(line.encode() + b"\r\n")

    def privmsg(self, target: str, text: str) -> None:
        """Queues a PRIVMSG."""
        self.send(f"PRIVMSG {target} :{text}")

    async def drain(self) -> None:
        """Waits until the socket buffer accepts more."""
        await self._writer.drain()

    async def quit(self) -> None:
        """QUIT and close (bounded)."""
        if self._writer is not None and not self.closed:
            try:
                self.send("QUIT :done")
                await asyncio.wait_for(self._writer.drain(), 5)
            except (OSError, ConnectionError, asyncio.TimeoutError, IrcPeerError):
                pass
        if self._writer is not None:
            self._writer.close()
        if self._task is not None:
            self._task.cancel()
            try:
                await asyncio.wait_for(self._task, 5)
            except (asyncio.CancelledError, asyncio.TimeoutError, Exception):  # noqa: BLE001
                pass

    def _expect(self, predicate: Callable[[str, str, list[str]], bool]) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((predicate, future))
        return future

    async def _read_loop(self) -> None:
        try:
            while True:
                raw = await self._reader.readline()
                if not raw:
                    self.closed = "server closed the connection"
                    break
                now = time.monotonic_ns()
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                source, command, params = _parse(line)
                if command == "PRIVMSG" and len(params) == 2:
                    self.on_privmsg(params[0], source, params[1], now)
                    continue
                if command == "PING":
                    self.send("PONG :" + (params[-1] if params else ""))
                    continue
                if self._waiters:
                    keep = []
                    for predicate, future in self._waiters:
                        if future.done():
                            continue
                        if predicate(source, command, params):
                            future.set_result((source, command, params))
                        else:
                            keep.append((predicate, future))
                    self._waiters = keep
        except (OSError, ConnectionError, ValueError) as exc:
            self.closed = f"read failed: {exc}"
        for _, future in self._waiters:
            if not future.done():
                future.set_exception(IrcPeerError(f"{self.nick}: {self.closed}"))
        self._waiters = []
