"""The email adapter's cost: inbound mail -> XMPP throughput, CPU per message,
and memory with a full outbound queue.

One Prosody with the `mail.localhost` component (trestle) and a
`users.localhost` component (the load tool speaking for u1..uK, see
xmpp_users.py), and a trestle whose relay is a closed port, so outgoing mail
stays queued.

1. Queue: every user writes `--queued / users` chat messages to email
   contacts (which also gives each user an address from the template); the
   run waits until the store's outbox holds them all, then reads trestle's
   RSS, and its CPU per queued message.
2. Inbound: `--connections` SMTP clients (an asyncio load tool, pipelining
   MAIL/RCPT/DATA) deliver `--mails` small mails to the users' addresses;
   the run ends when the load tool's component received every one as an XMPP
   message. Throughput is mails / wall time; CPU per mail is trestle's
   utime+stime over the run divided by the mails.

Each phase runs `--runs` times (a fresh trestle each run); medians are
printed, with every run in the JSON (`--json`).

Run: /usr/bin/python3 tests/bench/run_email_bench.py --trestle build-release/trestle
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration" / "lib"))

import servers  # noqa: E402
from gateways import cpu_seconds, rss_kib  # noqa: E402
from trestle_process import Component, TrestleProcess  # noqa: E402
from xmpp_users import ComponentUsers, local_name  # noqa: E402

MAIL = "mail.localhost"
USERS = "users.localhost"
TIMEOUT = 300.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trestle", required=True, help="the trestle binary")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--queued", type=int, default=1000, help="outgoing mails to queue")
    parser.add_argument("--mails", type=int, default=5000, help="inbound mails per run")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", help="write every figure to this file")
    return parser.parse_args(argv)


def outbox_count(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    except sqlite3.Error:
        return 0


def mail_bytes(to: str, n: int) -> bytes:
    return (f"From: Sender {n} <sender{n % 50}@example.com>\r\n"
            f"To: {to}\r\nSubject: load {n}\r\nMessage-ID: <load-{n}@example.com>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"Hello, this is mail number {n} of the load run.\r\n.\r\n").encode()


async def smtp_client(port: int, jobs: asyncio.Queue, failures: list[str]) -> None:
    """One connection: EHLO, then MAIL/RCPT/DATA pipelined per mail, then QUIT."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)

    async def reply() -> str:
        while True:
            line = (await reader.readline()).decode()
            if len(line) < 4 or line[3] != "-":
                return line

    await reply()
    writer.write(b"EHLO load.example\r\n")
    await reply()
    while True:
        try:
            n, to = jobs.get_nowait()
        except asyncio.QueueEmpty:
            break
        writer.write(f"MAIL FROM:<sender{n % 50}@example.com>\r\nRCPT TO:<{to}>\r\nDATA\r\n"
                     .encode())
        answers = [await reply() for _ in range(3)]
        if not answers[2].startswith("354"):
            failures.append(f"mail {n}: {answers}")
            writer.write(b"RSET\r\n")
            await reply()
            continue
        writer.write(mail_bytes(to, n))
        final = await reply()
        if not final.startswith("250"):
            failures.append(f"mail {n}: {final.strip()}")
    writer.write(b"QUIT\r\n")
    await writer.drain()
    writer.close()


async def one_run(args: argparse.Namespace, prosody: servers.ProsodyServer,
                  users_secret: str, mail_secret: str) -> dict:
    listener = servers.free_port()
    closed_port = servers.free_port()
    smtp = {
        "relay": {"host": "127.0.0.1", "port": closed_port, "security": "none",
                  "connect_timeout_seconds": 5},
        "listener": {"port": listener, "max_connections": 200},
        "retry_min_delay_seconds": 3600, "retry_max_delay_seconds": 3600,
        "max_queued": max(10000, args.queued), "max_queued_per_user": max(500, args.queued),
    }
    trestle = TrestleProcess(args.trestle, prosody.component_port,
                             components=[Component(MAIL, mail_secret, "smtp", {"smtp": smtp})],
                             allow=(USERS,), admins=(), extra={"logging": {"level": "warning"}})
    tool = ComponentUsers("127.0.0.1", prosody.component_port, USERS, users_secret)
    try:
        trestle.start()
        pid = trestle.proc.pid
        await tool.connect()
        received = 0

        def on_stanza(stanza, _now) -> None:
            nonlocal received
            if local_name(stanza.tag) == "message" and stanza.get("type") != "error":
                received += 1

        tool.on_stanza = on_stanza
        users = [f"u{i}" for i in range(1, args.users + 1)]

        # 1. Queue outgoing mail (the relay is a closed port).
        rss_before = rss_kib(pid)
        cpu_before = cpu_seconds(pid)
        for n in range(args.queued):
            user = users[n % len(users)]
            tool.send_raw(f"<message from='{tool.jid(user)}' to='c{n % 97}\\40example.com@{MAIL}'"
                          f" type='chat' id='q{n}'><body>queued mail {n}</body></message>")
            if n % 100 == 99:
                await tool.drain()
        await tool.drain()
        db = trestle.workdir / "trestle.db"
        deadline = time.monotonic() + TIMEOUT
        while outbox_count(db) < args.queued:
            if time.monotonic() > deadline:
                raise RuntimeError(f"outbox holds {outbox_count(db)} of {args.queued}")
            await asyncio.sleep(0.2)
        await asyncio.sleep(1.0)
        queue_cpu = cpu_seconds(pid) - cpu_before
        rss_queued = rss_kib(pid)

        # 2. Inbound mail to the users' addresses.
        jobs: asyncio.Queue = asyncio.Queue()
        for n in range(args.mails):
            jobs.put_nowait((n, f"{users[n % len(users)]}@{MAIL}"))
        failures: list[str] = []
        received = 0
        cpu_before = cpu_seconds(pid)
        start = time.monotonic()
        await asyncio.wait_for(asyncio.gather(*(smtp_client(listener, jobs, failures)
                                                for _ in range(args.connections))), TIMEOUT)
        while received < args.mails - len(failures):
            if time.monotonic() - start > TIMEOUT or tool.closed:
                raise RuntimeError(f"received {received} of {args.mails} ({tool.closed})")
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - start
        inbound_cpu = cpu_seconds(pid) - cpu_before
        if failures:
            raise RuntimeError(f"{len(failures)} mails refused, first: {failures[0]}")
        return {
            "rss_idle_kib": rss_before,
            "rss_with_queue_kib": rss_queued,
            "queue_cpu_us_per_mail": queue_cpu / args.queued * 1e6,
            "inbound_mails_per_s": args.mails / elapsed,
            "inbound_cpu_us_per_mail": inbound_cpu / args.mails * 1e6,
            "inbound_seconds": elapsed,
            "rss_after_inbound_kib": rss_kib(pid),
        }
    finally:
        await tool.close()
        try:
            trestle.stop(60.0)
        except RuntimeError:
            pass
        trestle.cleanup()


async def main_async(args: argparse.Namespace) -> int:
    users_secret, mail_secret = secrets.token_hex(12), secrets.token_hex(12)
    prosody = servers.ProsodyServer([(MAIL, mail_secret), (USERS, users_secret)], users={},
                                    log_level="warn")
    runs = []
    try:
        prosody.start()
        for index in range(args.runs):
            result = await one_run(args, prosody, users_secret, mail_secret)
            runs.append(result)
            print(f"run {index + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in result.items()),
                  flush=True)
    finally:
        prosody.cleanup()
    print(f"\nmedians over {len(runs)} runs ({args.users} users, {args.queued} queued, "
          f"{args.mails} inbound mails over {args.connections} connections):")
    for key in runs[0]:
        print(f"  {key}: {statistics.median(r[key] for r in runs):.1f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs}, indent=2))
    return 0


def main() -> int:
    return asyncio.run(main_async(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
