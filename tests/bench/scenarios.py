"""The benchmark scenarios, run the same way against every gateway.

Each scenario run starts the gateway fresh, uses its own channel and nicks,
measures, and stops the gateway. The figures are the gateway's: CPU from
/proc/PID/stat (utime + stime), memory from /proc/PID/status (VmRSS). The
load tool's own CPU and Prosody's are recorded next to them, so a run where
the tool (one Python process) was the bottleneck can be told apart.

Every wait has a deadline; a scenario that runs out of time raises
ScenarioTimeout with what it was waiting for.
"""

from __future__ import annotations

import asyncio
import resource
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Callable, Optional

from gateways import GATEWAY_DOMAIN, IRC_HOST, Gateway, cpu_seconds, rss_kib
from irc_peer import IrcPeer
from xmpp_users import ComponentUsers, child_text, local_name, status_codes


class ScenarioTimeout(RuntimeError):
    """A scenario did not reach its goal within its deadline."""


class ScenarioFailed(RuntimeError):
    """The gateway answered with an error (e.g. a join refused)."""


@dataclass
class Sizes:
    """Every size and time limit of the scenarios (command-line flags)."""

    s1_users: int = 20
    s1_messages: int = 200
    s2_users: int = 100
    s2_messages: int = 200
    s3_rate: float = 20.0
    s3_seconds: float = 10.0
    s4_users: int = 1000
    s5_rate: float = 100.0
    s5_seconds: float = 12.0
    s5_lock_at: float = 3.0
    s5_lock_seconds: float = 5.0
    join_window: int = 50
    timeout: float = 120.0
    join_timeout: float = 300.0
    settle: float = 2.0


def tool_cpu_seconds() -> float:
    """CPU used by this process (the load tool) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), int(-(-fraction * len(ordered) // 1))))
    return ordered[rank - 1]


@dataclass
class Room:
    """One channel of one scenario run, with the nick of each XMPP user."""

    channel: str
    nicks: dict[str, str] = field(default_factory=dict)  # user -> nick

    @property
    def jid(self) -> str:
        return f"{self.channel}%{IRC_HOST}@{GATEWAY_DOMAIN}"

    def occupant(self, nick: str) -> str:
        return f"{self.jid}/{nick}"


class Tracker:
    """Interprets what the gateway sends to the load tool's users during one run."""

    def __init__(self, room: Room) -> None:
        self.room = room
        self.prefix = room.jid + "/"
        self.joined: set[str] = set()
        self.errors: list[str] = []
        self.progress = asyncio.Event()
        self.delivered = 0
        self.last_delivery_ns = 0
        self.on_body: Optional[Callable[[str, str, int], None]] = None  # user, body, t_ns

    def handle(self, stanza: ET.Element, now: int) -> None:
        kind = local_name(stanza.tag)
        sender = stanza.get("from", "")
        if not sender.startswith(self.room.jid):
            return
        user = stanza.get("to", "").split("@", 1)[0]
        stanza_type = stanza.get("type")
        if stanza_type == "error":
            self.errors.append(f"{kind} error to {user}: "
                               + ET.tostring(stanza).decode(errors="replace")[:400])
            self.progress.set()
            return
        if kind == "presence":
            nick = self.room.nicks.get(user)
            # Only the user's own presence can carry 110; others are skipped cheaply.
            if (stanza_type is None and nick is not None and user not in self.joined
                    and sender.startswith(self.prefix) and "110" in status_codes(stanza)):
                self.joined.add(user)
                self.progress.set()
        elif kind == "message" and stanza_type == "groupchat" and self.on_body is not None:
            body = child_text(stanza, "body")
            if body:
                self.on_body(user, body, now)



# The lock holder: another process, as a backup tool or a second instance is.
# BEGIN EXCLUSIVE with a write: under WAL (trestle's and biboumi's mode) it
# keeps every other writer out, while readers go on; it says on stdout
# whether a second connection could still read. (EXCLUSIVE locking mode,
# which would keep readers out too, cannot be had while the gateway has the
# database open under WAL.)
LOCK_HOLDER = r"""
import sqlite3, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
db = sqlite3.connect(path, timeout=10, isolation_level=None)
db.execute("BEGIN EXCLUSIVE")
db.execute("CREATE TABLE IF NOT EXISTS bench_lock (x)")
db.execute("INSERT INTO bench_lock VALUES (1)")
probe = sqlite3.connect(path, timeout=0)
try:
    probe.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
    blocked = 0
except sqlite3.OperationalError:
    blocked = 1
probe.close()
print(f"locked {blocked}", flush=True)
time.sleep(seconds)
db.execute("ROLLBACK")
db.close()
"""


async def hold_database_lock(path, seconds: float):
    """Starts the lock holder on `path` and returns once it holds the lock;
    the process (with `blocked_reads` set) ends by itself after `seconds`."""
    proc = await asyncio.create_subprocess_exec(
        "/usr/bin/python3", "-c", LOCK_HOLDER, str(path), str(seconds),
        stdout=asyncio.subprocess.PIPE)
    line = await asyncio.wait_for(proc.stdout.readline(), 15.0)
    if not line.startswith(b"locked"):
        proc.kill()
        raise RuntimeError(f"the lock holder could not lock {path}")
    proc.blocked_reads = line.split()[1] == b"1"
    return proc


class Counter:
    """Counts events and wakes a waiter when a target is reached."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.count = 0
        self.last_ns = 0
        self.done = asyncio.Event()
        self.touched = asyncio.Event()

    def hit(self, now: int) -> None:
        self.count += 1
        self.last_ns = now
        self.touched.set()
        if self.count >= self.target:
            self.done.set()

    async def wait(self, timeout: float, what: str) -> None:
        try:
            await asyncio.wait_for(self.done.wait(), timeout)
        except asyncio.TimeoutError:
            raise ScenarioTimeout(f"{what}: {self.count} of {self.target} "
                                  f"within {timeout:.0f}s") from None

    async def wait_quiet(self, quiet: float, timeout: float) -> None:
        """Waits for the target, or until nothing arrived for `quiet` seconds (bounded)."""
        deadline = time.monotonic() + timeout
        while not self.done.is_set() and time.monotonic() < deadline:
            self.touched.clear()
            try:
                await asyncio.wait_for(self.touched.wait(),
                                       min(quiet, max(0.01, deadline - time.monotonic())))
            except asyncio.TimeoutError:
                return


class Bench:
    """Shared state of one benchmark session: servers, the user connection, sizes."""

    def __init__(self, users: ComponentUsers, irc_port: int, sizes: Sizes,
                 prosody_pid: Callable[[], int]) -> None:
        self.users = users
        self.irc_port = irc_port
        self.sizes = sizes
        self.prosody_pid = prosody_pid
        self.run_id = 0

    # -- helpers ---------------------------------------------------------------

    def new_room(self, user_count: int) -> Room:
        self.run_id += 1
        room = Room(f"#bench{self.run_id}")
        for i in range(1, user_count + 1):
            room.nicks[f"u{i}"] = f"b{self.run_id}u{i}"
        return room

    async def irc_peer(self, nick: str, channel: str) -> IrcPeer:
        peer = IrcPeer(IRC_HOST, self.irc_port, nick)
        await peer.connect()
        await peer.join(channel)
        return peer

    async def join_all(self, tracker: Tracker, users: list[str], timeout: float) -> float:
        """Sends join presences (at most join_window outstanding); returns the seconds until
        every user got its self-presence (110)."""
        window = max(1, self.sizes.join_window)
        started = time.monotonic()
        deadline = started + timeout
        sent = 0
        while len(tracker.joined) < len(users):
            if tracker.errors:
                raise ScenarioFailed(tracker.errors[0])
            if self.users.closed:
                raise ScenarioFailed("component stream: " + self.users.closed)
            while sent < len(users) and sent - len(tracker.joined) < window:
                user = users[sent]
                self.users.join(user, tracker.room.occupant(tracker.room.nicks[user]))
                sent += 1
            await self.users.drain()
            tracker.progress.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ScenarioTimeout(f"joins: {len(tracker.joined)} of {len(users)} users got "
                                      f"their self-presence within {timeout:.0f}s")
            try:
                await asyncio.wait_for(tracker.progress.wait(), min(remaining, 1.0))
            except asyncio.TimeoutError:
                pass
        return time.monotonic() - started

    def attach(self, room: Room) -> Tracker:
        tracker = Tracker(room)
        self.users.on_stanza = tracker.handle
        return tracker

    def detach(self) -> None:
        self.users.on_stanza = lambda _s, _t: None

    class Window:
        """CPU of the gateway, the tool and Prosody over one measured interval."""

        def __init__(self, bench: "Bench", gateway: Gateway) -> None:
            self.gateway_pid = gateway.pid()
            self.prosody_pid = bench.prosody_pid()
            self.t0 = time.monotonic()
            self.gw0 = cpu_seconds(self.gateway_pid)
            self.tool0 = tool_cpu_seconds()
            self.prosody0 = cpu_seconds(self.prosody_pid)

        def close(self) -> dict:
            wall = time.monotonic() - self.t0
            return {
                "wall_s": wall,
                "gateway_cpu_s": cpu_seconds(self.gateway_pid) - self.gw0,
                "tool_cpu_s": tool_cpu_seconds() - self.tool0,
                "prosody_cpu_s": cpu_seconds(self.prosody_pid) - self.prosody0,
            }

    # -- scenarios ---------------------------------------------------------------

    async def xmpp_to_irc(self, gateway: Gateway) -> dict:
        """K users each send N groupchat messages; the IRC observer counts them."""
        k, n = self.sizes.s1_users, self.sizes.s1_messages
        room = self.new_room(k)
        tracker = self.attach(room)
        observer = await self.irc_peer(f"obs{self.run_id}", room.channel)
        try:
            users = list(room.nicks)
            await self.join_all(tracker, users, self.sizes.join_timeout)
            tag = f"s1r{self.run_id}"
            on_irc = Counter(k * n)
            on_xmpp = Counter(k * k * n)  # each message: the echo plus K-1 other occupants
            observer.on_privmsg = lambda target, _nick, text, now: (
                on_irc.hit(now) if text.startswith(tag) else None)
            tracker.on_body = lambda _user, body, now: (
                on_xmpp.hit(now) if body.startswith(tag) else None)
            await asyncio.sleep(0.5)
            window = Bench.Window(self, gateway)
            start_ns = time.monotonic_ns()
            for seq in range(n):
                for user in users:
                    self.users.groupchat(user, room.jid, f"{tag} {seq} {user}",
                                         f"{tag}-{seq}-{user}")
                await self.users.drain()
            await on_irc.wait(self.sizes.timeout, "messages seen on IRC")
            await on_xmpp.wait_quiet(1.0, self.sizes.timeout)
            cpu = window.close()
            seconds = (on_irc.last_ns - start_ns) / 1e9
            return {
                "messages": on_irc.count,
                "msg_per_s": on_irc.count / seconds,
                "cpu_us_per_msg": cpu["gateway_cpu_s"] * 1e6 / on_irc.count,
                "xmpp_deliveries": on_xmpp.count,
                "xmpp_deliveries_expected": on_xmpp.target,
                **cpu,
            }
        finally:
            self.detach()
            await observer.quit()

    async def irc_to_xmpp(self, gateway: Gateway) -> dict:
        """One IRC user sends N messages to a channel with K XMPP occupants."""
        k, n = self.sizes.s2_users, self.sizes.s2_messages
        room = self.new_room(k)
        tracker = self.attach(room)
        sender = await self.irc_peer(f"snd{self.run_id}", room.channel)
        try:
            await self.join_all(tracker, list(room.nicks), self.sizes.join_timeout)
            tag = f"s2r{self.run_id}"
            got = Counter(k * n)
            tracker.on_body = lambda _user, body, now: (
                got.hit(now) if body.startswith(tag) else None)
            await asyncio.sleep(0.5)
            window = Bench.Window(self, gateway)
            start_ns = time.monotonic_ns()
            for seq in range(n):
                sender.privmsg(room.channel, f"{tag} {seq}")
            await sender.drain()
            await got.wait(self.sizes.timeout, "deliveries to XMPP occupants")
            cpu = window.close()
            seconds = (got.last_ns - start_ns) / 1e9
            return {
                "deliveries": got.count,
                "deliveries_per_s": got.count / seconds,
                "cpu_us_per_delivery": cpu["gateway_cpu_s"] * 1e6 / got.count,
                **cpu,
            }
        finally:
            self.detach()
            await sender.quit()

    async def latency(self, gateway: Gateway) -> dict:
        """Fixed-rate messages both ways between one XMPP user and one IRC user."""
        rate, seconds = self.sizes.s3_rate, self.sizes.s3_seconds
        count = max(1, int(rate * seconds))
        room = self.new_room(1)
        tracker = self.attach(room)
        peer = await self.irc_peer(f"lat{self.run_id}", room.channel)
        try:
            await self.join_all(tracker, ["u1"], self.sizes.join_timeout)
            await asyncio.sleep(0.5)
            window = Bench.Window(self, gateway)
            result = {}
            for direction in ("x2i", "i2x"):
                tag = f"s3{direction}r{self.run_id}"
                sent: dict[int, int] = {}
                latencies: list[float] = []
                got = Counter(count)

                def arrived(text: str, now: int, tag=tag, sent=sent, latencies=latencies,
                            got=got) -> None:
                    if text.startswith(tag + " "):
                        seq = int(text.split()[1])
                        if seq in sent:
                            latencies.append((now - sent[seq]) / 1e6)
                            got.hit(now)

                if direction == "x2i":
                    peer.on_privmsg = lambda _t, _n, text, now, f=arrived: f(text, now)
                    tracker.on_body = None
                else:
                    peer.on_privmsg = lambda *_: None
                    tracker.on_body = lambda _u, body, now, f=arrived: f(body, now)
                begin = time.monotonic()
                for seq in range(count):
                    delay = begin + seq / rate - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    sent[seq] = time.monotonic_ns()
                    if direction == "x2i":
                        self.users.groupchat("u1", room.jid, f"{tag} {seq}", f"{tag}-{seq}")
                        await self.users.drain()
                    else:
                        peer.privmsg(room.channel, f"{tag} {seq}")
                        await peer.drain()
                try:
                    await got.wait(10.0, f"latency messages {direction}")
                except ScenarioTimeout:
                    if not latencies:
                        raise
                result[f"{direction}_p50_ms"] = percentile(latencies, 0.50)
                result[f"{direction}_p99_ms"] = percentile(latencies, 0.99)
                result[f"{direction}_max_ms"] = max(latencies)
                result[f"{direction}_lost"] = count - len(latencies)
            result.update(window.close())
            return result
        finally:
            self.detach()
            await peer.quit()

    async def lock_stall(self, gateway: Gateway) -> dict:
        """Messages both ways at a fixed total rate while another process holds
        an exclusive lock on the gateway's database for a while: the longest
        gap between two deliveries, in each direction, and what was lost."""
        rate, seconds = self.sizes.s5_rate, self.sizes.s5_seconds
        per_direction = max(1, int(rate / 2 * seconds))
        room = self.new_room(1)
        tracker = self.attach(room)
        peer = await self.irc_peer(f"lock{self.run_id}", room.channel)
        holder = None
        try:
            await self.join_all(tracker, ["u1"], self.sizes.join_timeout)
            await asyncio.sleep(0.5)
            window = Bench.Window(self, gateway)
            arrivals: dict[str, list[int]] = {"x2i": [], "i2x": []}
            got = Counter(2 * per_direction)
            tag = f"s5r{self.run_id}"

            def arrived(direction: str, text: str, now: int) -> None:
                if text.startswith(f"{tag}{direction} "):
                    arrivals[direction].append(now)
                    got.hit(now)

            peer.on_privmsg = lambda _t, _n, text, now: arrived("x2i", text, now)
            tracker.on_body = lambda _u, body, now: arrived("i2x", body, now)
            begin = time.monotonic()
            lock_started = lock_ended = 0
            for seq in range(per_direction):
                at = begin + seq / (rate / 2)
                if holder is None and at - begin >= self.sizes.s5_lock_at:
                    holder = await hold_database_lock(gateway.database_path(),
                                                      self.sizes.s5_lock_seconds)
                    lock_started = time.monotonic_ns()
                delay = at - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                self.users.groupchat("u1", room.jid, f"{tag}x2i {seq}", f"{tag}-{seq}")
                peer.privmsg(room.channel, f"{tag}i2x {seq}")
                await self.users.drain()
                await peer.drain()
            try:
                await got.wait(self.sizes.s5_lock_seconds + 10.0, "lock-stall messages")
            except ScenarioTimeout:
                pass
            if holder is not None:
                await holder.wait()
                lock_ended = lock_started + int(self.sizes.s5_lock_seconds * 1e9)
            result = {}
            for direction, times in arrivals.items():
                times.sort()
                gaps = [b - a for a, b in zip(times, times[1:])]
                result[f"{direction}_max_gap_ms"] = max(gaps) / 1e6 if gaps else float("nan")
                inside = [b - a for a, b in zip(times, times[1:])
                          if lock_started <= b and a <= lock_ended]
                result[f"{direction}_max_gap_locked_ms"] = (max(inside) / 1e6 if inside
                                                            else float("nan"))
                result[f"{direction}_lost"] = per_direction - len(times)
            result["lock_blocked_reads"] = int(bool(holder and holder.blocked_reads))
            result.update(window.close())
            return result
        finally:
            self.detach()
            await peer.quit()
            if holder is not None and holder.returncode is None:
                holder.kill()
                await holder.wait()

    async def memory(self, gateway: Gateway) -> dict:
        """RSS per bridged user with M users in one channel, and the time to join them all."""
        m = self.sizes.s4_users
        room = self.new_room(m)
        tracker = self.attach(room)
        observer = await self.irc_peer(f"mem{self.run_id}", room.channel)
        try:
            await asyncio.sleep(self.sizes.settle)
            pid = gateway.pid()
            idle = rss_kib(pid)
            window = Bench.Window(self, gateway)
            join_s = await self.join_all(tracker, list(room.nicks), self.sizes.join_timeout)
            joined_cpu = window.close()
            # Let the presence storm of the last joins drain before reading RSS.
            await asyncio.sleep(self.sizes.settle)
            after = rss_kib(pid)
            return {
                "users": m,
                "join_all_s": join_s,
                "rss_idle_kib": idle,
                "rss_after_kib": after,
                "rss_per_user_kib": (after - idle) / m,
                "cpu_ms_per_join": joined_cpu["gateway_cpu_s"] * 1e3 / m,
                **joined_cpu,
            }
        finally:
            self.detach()
            await observer.quit()


SCENARIOS = {
    "xmpp_to_irc": Bench.xmpp_to_irc,
    "irc_to_xmpp": Bench.irc_to_xmpp,
    "latency": Bench.latency,
    "memory": Bench.memory,
    "lock_stall": Bench.lock_stall,
}
