"""The SMS adapter's cost: webhook -> XMPP throughput and CPU per message.

One Prosody with the `sms.localhost` component (trestle) and a
`users.localhost` component (the load tool speaking for u1..uK, see
xmpp_users.py). Each user owns a number (`sms.numbers`). wrk (Debian's `wrk`)
then posts texts from phones to trestle's webhook for `--seconds`, over
`--connections` connections, every request a new message (its own provider
id) to one of the users' numbers:

- kannel: GET on the MO webhook, as an sms-service get-url (token check);
- twilio: POST of a signed inbound-message webhook (HMAC-SHA1 check); the
  requests are signed beforehand (`--twilio-requests` of them, wrk cycles
  through them, so a repeat is answered 200 and dropped as a duplicate).

Throughput is the 2xx answers per second that wrk reports; every message
must also reach the load tool's component as an XMPP message (checked). CPU
per message is trestle's utime+stime over the run divided by the messages
delivered. Each dialect runs `--runs` times (a fresh trestle each run);
medians are printed, with every run in the JSON (`--json`).

Run: /usr/bin/python3 tests/bench/run_sms_bench.py --trestle build-release/trestle
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration" / "lib"))

import servers  # noqa: E402
from gateways import cpu_seconds, rss_kib  # noqa: E402
from trestle_process import Component, TrestleProcess  # noqa: E402
from xmpp_users import ComponentUsers, local_name  # noqa: E402

SMS = "sms.localhost"
USERS = "users.localhost"
TOKEN = "bench-token-" + secrets.token_hex(8)
TIMEOUT = 120.0

KANNEL_LUA = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  base = args[1]
  users = tonumber(args[2])
end
request = function()
  counter = counter + 1
  local n = id * 100000000 + counter
  local path = string.format(
    "%s&from=%%2B1555%07d&to=%%2B1666%07d&text=load+message+%d&charset=UTF-8&coding=0&id=load-%d",
    base, n % 1000, n % users + 1, n, n)
  return wrk.format("GET", path)
end
"""

TWILIO_LUA = """
local requests = {}
local next_index = 1
local threads = {}
function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end
function init(args)
  local path = args[1]
  step = tonumber(args[3])
  for line in io.lines(args[2]) do
    local signature, body = line:match("^(%S+) (.*)$")
    table.insert(requests, wrk.format("POST", path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["X-Twilio-Signature"] = signature}, body))
  end
  next_index = offset + 1
end
request = function()
  local r = requests[(next_index - 1) % #requests + 1]
  next_index = next_index + step
  return r
end
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trestle", required=True, help="the trestle binary")
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--twilio-requests", type=int, default=200000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dialects", default="kannel,twilio")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--verbose", action="store_true", help="print wrk's output")
    return parser.parse_args(argv)


def number(user_index: int) -> str:
    return f"+1666{user_index:07d}"


def twilio_signature(token: str, url: str, params: list[tuple[str, str]]) -> str:
    data = url + "".join(n + v for n, v in sorted(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def write_twilio_requests(path: Path, url: str, token: str, count: int, users: int) -> None:
    with path.open("w") as out:
        for n in range(count):
            params = [("MessageSid", f"SM{n:032x}"), ("AccountSid", "ACbench"),
                      ("From", f"+1555{n % 1000:07d}"), ("To", number(n % users + 1)),
                      ("Body", f"load message {n}"), ("NumMedia", "0")]
            body = urllib.parse.urlencode(params)
            out.write(f"{twilio_signature(token, url, params)} {body}\n")


def parse_wrk(output: str) -> dict:
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    latency = re.search(r"Latency\s+(\S+)", output)
    return {"requests": requests, "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
            "socket_errors": errors.group(1) if errors else "",
            "latency_avg": latency.group(1) if latency else ""}


async def one_run(args: argparse.Namespace, dialect: str, prosody: servers.ProsodyServer,
                  users_secret: str, sms_secret: str, workdir: Path) -> dict:
    sms: dict = {
        "provider": dialect,
        "numbers": {f"u{i}@{USERS}": number(i) for i in range(1, args.users + 1)},
    }
    auth_token = secrets.token_hex(16)
    if dialect == "kannel":
        sms["kannel"] = {"sendsms_url": "http://127.0.0.1:9/cgi-bin/sendsms", "username": "u",
                         "password": "p", "webhook_token": TOKEN}
    else:
        sms["twilio"] = {"api_base_url": "http://127.0.0.1:9", "account_sid": "ACbench",
                         "auth_token": auth_token}
    trestle = TrestleProcess(args.trestle, prosody.component_port,
                             components=[Component(SMS, sms_secret, "sms", {"sms": sms})],
                             allow=(USERS,), admins=(), extra={"logging": {"level": "warning"}})
    base = f"http://127.0.0.1:{trestle.http_port}"
    sms["public_base_url"] = base
    trestle.extra["http"] = {"bind": "127.0.0.1", "port": trestle.http_port,
                             "max_connections": 1024}
    tool = ComponentUsers("127.0.0.1", prosody.component_port, USERS, users_secret)
    try:
        trestle.start()
        pid = trestle.proc.pid
        await tool.connect()
        received = 0

        def on_stanza(stanza, _now) -> None:
            nonlocal received
            if local_name(stanza.tag) == "message" and stanza.get("type") == "chat":
                received += 1

        tool.on_stanza = on_stanza
        script = workdir / f"{dialect}.lua"
        if dialect == "kannel":
            script.write_text(KANNEL_LUA)
            target = f"{base}/sms/{SMS}/kannel/mo"
            script_args = [f"/sms/{SMS}/kannel/mo?token={TOKEN}", str(args.users)]
        else:
            script.write_text(TWILIO_LUA)
            target = f"{base}/sms/{SMS}/twilio/inbound"
            requests_file = workdir / "twilio-requests.txt"
            write_twilio_requests(requests_file, target, auth_token, args.twilio_requests,
                                  args.users)
            script_args = [f"/sms/{SMS}/twilio/inbound", str(requests_file), str(args.threads)]
        rss_before = rss_kib(pid)
        cpu_before = cpu_seconds(pid)
        command = ["wrk", "-t", str(args.threads), "-c", str(args.connections),
                   "-d", f"{args.seconds}s", "--latency", "-s", str(script), target, "--",
                   *script_args]
        done = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True,
                                       timeout=args.seconds + 60)
        if done.returncode != 0:
            raise RuntimeError(f"wrk failed: {done.stderr}")
        if args.verbose:
            print(done.stdout, flush=True)
        wrk = parse_wrk(done.stdout)
        ok = wrk["requests"] - wrk["non_2xx"]
        expected = min(ok, args.twilio_requests) if dialect == "twilio" else ok
        deadline = time.monotonic() + TIMEOUT
        while received < expected:
            if time.monotonic() > deadline or tool.closed:
                raise RuntimeError(f"received {received} of {expected} ({tool.closed})")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        cpu = cpu_seconds(pid) - cpu_before
        return {
            "requests_per_s": ok / args.seconds,
            "delivered": float(received),
            "non_2xx": float(wrk["non_2xx"]),
            "cpu_us_per_request": cpu / max(ok, 1) * 1e6,
            "cpu_us_per_message": cpu / max(received, 1) * 1e6,
            "rss_before_kib": float(rss_before),
            "rss_after_kib": float(rss_kib(pid)),
        }
    finally:
        await tool.close()
        try:
            trestle.stop(60.0)
        except RuntimeError:
            pass
        trestle.cleanup()


async def main_async(args: argparse.Namespace) -> int:
    if shutil.which("wrk") is None:
        print("wrk is not installed (deploy/install-deps.sh bench)", file=sys.stderr)
        return 2
    users_secret, sms_secret = secrets.token_hex(12), secrets.token_hex(12)
    prosody = servers.ProsodyServer([(SMS, sms_secret), (USERS, users_secret)], users={},
                                    log_level="warn")
    results: dict[str, list[dict]] = {}
    workdir = Path(tempfile.mkdtemp(prefix="trestle-sms-bench-"))
    try:
        prosody.start()
        for index in range(args.runs):
            # Interleaved, so that a noisy moment hurts both dialects alike.
            for dialect in args.dialects.split(","):
                result = await one_run(args, dialect, prosody, users_secret, sms_secret, workdir)
                results.setdefault(dialect, []).append(result)
                print(f"run {index + 1} {dialect}: " +
                      ", ".join(f"{k} {v:.1f}" for k, v in result.items()), flush=True)
    finally:
        prosody.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\nmedians over {args.runs} runs ({args.users} users, {args.connections} "
          f"connections, {args.seconds} s each):")
    for dialect, runs in results.items():
        print(f"  {dialect}: " + ", ".join(
            f"{key} {statistics.median(r[key] for r in runs):.1f}" for key in runs[0]))
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": results}, indent=2))
    return 0


def main() -> int:
    return asyncio.run(main_async(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
