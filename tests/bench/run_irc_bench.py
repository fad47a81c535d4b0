#!/usr/bin/python3
"""IRC gateway benchmark: biboumi and trestle under the same load, in one run.

One Prosody and one ngircd (throw-away, loopback only) serve both gateways;
the gateways take turns on the component domain `irc.localhost`. The load
tool connects to Prosody as the component `users.localhost` and acts as the
users u1..uK@users.localhost; an IRC observer/sender is a raw client on
ngircd. Scenarios (each run `--runs` times per gateway, medians reported):

  1. xmpp_to_irc  K users send N messages each: messages/s seen on IRC,
                  gateway CPU per message
  2. irc_to_xmpp  one IRC user sends N messages to K XMPP occupants:
                  deliveries/s, gateway CPU per delivery
  3. latency      fixed rate both ways: p50/p99 in ms
  4. memory       RSS per bridged user with M users in one channel, and the
                  wall time until every user got its self-presence
  5. lock_stall   messages both ways at a fixed rate (100/s) while another
                  process holds an exclusive lock on the gateway's SQLite
                  file (5 s): the longest gap between deliveries and losses

Figures are the gateway process's own: utime+stime from /proc/PID/stat and
VmRSS from /proc/PID/status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import statistics
import sys
import time
import traceback
from dataclasses import fields
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "integration" / "lib"))

import irc_servers  # noqa: E402
import servers  # noqa: E402
from gateways import BiboumiGateway, Gateway, TrestleGateway  # noqa: E402
from scenarios import SCENARIOS, Bench, Sizes  # noqa: E402
from trestle_process import binary_from_env  # noqa: E402
from xmpp_users import ComponentUsers  # noqa: E402

USERS_DOMAIN = "users.localhost"
GATEWAY_DOMAIN = "irc.localhost"

# (scenario, metric, label, higher is better)
FIGURES = [
    ("xmpp_to_irc", "msg_per_s", "1. XMPP->IRC messages/s", True),
    ("xmpp_to_irc", "cpu_us_per_msg", "1. XMPP->IRC gateway CPU µs/message", False),
    ("xmpp_to_irc", "xmpp_deliveries", "1. echoes + copies to the other occupants received",
     True),
    ("irc_to_xmpp", "deliveries_per_s", "2. IRC->XMPP fan-out deliveries/s", True),
    ("irc_to_xmpp", "cpu_us_per_delivery", "2. IRC->XMPP gateway CPU µs/delivery", False),
    ("latency", "x2i_p50_ms", "3. latency XMPP->IRC p50 ms", False),
    ("latency", "x2i_p99_ms", "3. latency XMPP->IRC p99 ms", False),
    ("latency", "i2x_p50_ms", "3. latency IRC->XMPP p50 ms", False),
    ("latency", "i2x_p99_ms", "3. latency IRC->XMPP p99 ms", False),
    ("lock_stall", "x2i_max_gap_locked_ms", "5. under a held lock: XMPP->IRC longest gap ms", False),
    ("lock_stall", "i2x_max_gap_locked_ms", "5. under a held lock: IRC->XMPP longest gap ms", False),
    ("lock_stall", "x2i_lost", "5. under a held lock: XMPP->IRC lost", False),
    ("lock_stall", "i2x_lost", "5. under a held lock: IRC->XMPP lost", False),
    ("memory", "rss_idle_kib", "4. RSS idle KiB", False),
    ("memory", "rss_per_user_kib", "4. RSS per bridged user KiB", False),
    ("memory", "join_all_s", "4. wall time to join all users s", False),
    ("memory", "cpu_ms_per_join", "4. gateway CPU ms per join", False),
]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trestle", default=None,
                        help="trestle binary (default: $TRESTLE_BINARY)")
    parser.add_argument("--trestle-send-queue", type=int, default=None, metavar="N",
                        help="trestle's xmpp.send_queue_limit (default: trestle's own default)")
    parser.add_argument("--biboumi", default=shutil.which("biboumi") or "/usr/bin/biboumi",
                        help="biboumi binary (default: from PATH)")
    parser.add_argument("--gateways", default="biboumi,trestle",
                        help="comma-separated gateways to run (biboumi, trestle)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated subset of {','.join(SCENARIOS)}")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes and one run (a smoke test, e.g. for CI)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON")
    defaults = Sizes()
    parser.add_argument("--s1-users", type=int, default=defaults.s1_users)
    parser.add_argument("--s1-messages", type=int, default=defaults.s1_messages)
    parser.add_argument("--s2-users", type=int, default=defaults.s2_users)
    parser.add_argument("--s2-messages", type=int, default=defaults.s2_messages)
    parser.add_argument("--s3-rate", type=float, default=defaults.s3_rate,
                        help="latency: messages per second")
    parser.add_argument("--s3-seconds", type=float, default=defaults.s3_seconds)
    parser.add_argument("--s4-users", type=int, default=defaults.s4_users)
    parser.add_argument("--s5-rate", type=float, default=defaults.s5_rate,
                        help="lock_stall: messages per second, both ways together")
    parser.add_argument("--s5-seconds", type=float, default=defaults.s5_seconds)
    parser.add_argument("--s5-lock-at", type=float, default=defaults.s5_lock_at,
                        help="lock_stall: seconds into the flow when the lock is taken")
    parser.add_argument("--s5-lock-seconds", type=float, default=defaults.s5_lock_seconds,
                        help="lock_stall: how long another process holds the lock")
    parser.add_argument("--join-window", type=int, default=defaults.join_window,
                        help="joins outstanding at once")
    parser.add_argument("--timeout", type=float, default=defaults.timeout,
                        help="seconds a measuring phase may take")
    parser.add_argument("--join-timeout", type=float, default=defaults.join_timeout,
                        help="seconds the joins of one scenario may take")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs = 1
        args.s1_users, args.s1_messages = 3, 20
        args.s2_users, args.s2_messages = 5, 20
        args.s3_rate, args.s3_seconds = 20.0, 1.0
        args.s4_users = 20
        args.s5_seconds, args.s5_lock_at, args.s5_lock_seconds = 3.0, 0.5, 1.0
        args.timeout, args.join_timeout = 30.0, 60.0
    return args


def sizes_from(args: argparse.Namespace) -> Sizes:
    return Sizes(**{f.name: getattr(args, f.name) for f in fields(Sizes)
                    if hasattr(args, f.name)})


async def run_gateway(bench: Bench, gateway: Gateway, scenarios: list[str], runs: int,
                      log) -> dict:
    """Every scenario `runs` times against one gateway; a fresh gateway process per run."""
    results = {}
    for name in scenarios:
        entry = {"status": "ok", "runs": []}
        for run in range(runs):
            log(f"{gateway.name}: {name} run {run + 1}/{runs}")
            try:
                await asyncio.to_thread(gateway.start)
            except Exception as exc:  # noqa: BLE001 - reported, not raised
                entry.update(status="error", detail=f"start failed: {exc}")
                break
            try:
                figures = await SCENARIOS[name](bench, gateway)
                entry["runs"].append(figures)
                log("  " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in figures.items()))
            except Exception as exc:  # noqa: BLE001 - a failed scenario is a result
                kind = type(exc).__name__
                died = "" if gateway.running() else " (the gateway process had exited)"
                entry.update(status="timeout" if kind == "ScenarioTimeout" else "error",
                             detail=f"{kind}: {exc}{died}")
                log(f"  {entry['status']}: {exc}")
                if kind not in ("ScenarioTimeout", "ScenarioFailed"):
                    log(traceback.format_exc())
                log("  gateway log tail:\n" + gateway.log_tail(15))
            finally:
                await asyncio.to_thread(gateway.stop)
            if entry["status"] != "ok":
                break
        if entry["runs"]:
            keys = [k for k, v in entry["runs"][0].items() if isinstance(v, (int, float))]
            entry["median"] = {k: statistics.median(r[k] for r in entry["runs"]) for k in keys}
        results[name] = entry
    return results


def cell(entry: dict | None, metric: str) -> str:
    if entry is None:
        return "not run"
    if "median" in entry and metric in entry["median"]:
        value = entry["median"][metric]
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return entry.get("status", "n/a")


def ratio(results: dict, scenario: str, metric: str) -> str:
    try:
        base = results["biboumi"][scenario]["median"][metric]
        ours = results["trestle"][scenario]["median"][metric]
    except KeyError:
        return "—"
    if base == 0:
        return "—"
    return f"{ours / base:.2f}"


def markdown(results: dict, scenarios: list[str], meta: dict) -> str:
    names = list(results)
    lines = [
        f"IRC gateway benchmark: {meta['started']}, {meta['runs']} run(s), medians",
        "",
        "| figure | " + " | ".join(names) + " | trestle/biboumi |",
        "|---|" + "---:|" * len(names) + "---:|",
    ]
    for scenario, metric, label, _ in FIGURES:
        if scenario not in scenarios:
            continue
        row = [cell(results[n].get(scenario), metric) for n in names]
        lines.append(f"| {label} | " + " | ".join(row) + f" | {ratio(results, scenario, metric)} |")
    lines.append("")
    lines.append("Sizes: " + ", ".join(f"{k}={v}" for k, v in meta["sizes"].items()))
    for name in names:
        lines.append(f"- {name}: {meta['gateways'][name]}")
        for scenario, entry in results[name].items():
            median = entry.get("median", {})
            if entry["status"] != "ok":
                lines.append(f"  - {scenario}: **{entry['status']}**: {entry.get('detail', '')}")
            elif median.get("wall_s"):
                share = median["tool_cpu_s"] / median["wall_s"]
                note = " (the load tool was near saturation)" if share > 0.85 else ""
                expected = median.get("xmpp_deliveries_expected")
                if expected and median["xmpp_deliveries"] < expected:
                    note += (f"; only {median['xmpp_deliveries']:.0f} of {expected:.0f} "
                             "echoes/copies reached the XMPP occupants")
                lines.append(f"  - {scenario}: load tool CPU {share:.0%} of wall time, "
                             f"Prosody CPU {median['prosody_cpu_s']:.2f}s{note}")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    log = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    sizes = sizes_from(args)
    scenarios = [s for s in args.scenarios.split(",") if s]
    for name in scenarios:
        if name not in SCENARIOS:
            log(f"unknown scenario {name!r}")
            return 2
    wanted = [g for g in args.gateways.split(",") if g]
    trestle_binary = args.trestle or binary_from_env()
    irc_servers.raise_open_file_limit()
    secret_gw = secrets.token_hex(12)
    secret_users = secrets.token_hex(12)
    prosody = servers.ProsodyServer([(GATEWAY_DOMAIN, secret_gw), (USERS_DOMAIN, secret_users)],
                                    users={}, log_level="warn")
    ircd = irc_servers.NgircdServer(tls=False, ping_interval=600)
    gateways: dict[str, Gateway] = {}
    results: dict[str, dict] = {}
    meta = {"started": time.strftime("%Y-%m-%d %H:%M:%S"), "runs": args.runs,
            "sizes": vars(sizes), "gateways": {}}
    users = None
    try:
        await asyncio.to_thread(prosody.start)
        await asyncio.to_thread(ircd.start)
        log(f"prosody: {prosody.describe()}\nngircd: {ircd.describe()}")
        users = ComponentUsers("127.0.0.1", prosody.component_port, USERS_DOMAIN, secret_users)
        await users.connect()
        max_users = max(sizes.s1_users, sizes.s2_users, sizes.s4_users, 1)
        for name in wanted:
            if name == "biboumi":
                gateways[name] = BiboumiGateway(
                    args.biboumi, prosody.component_port, secret_gw, ircd.port,
                    [users.bare(f"u{i}") for i in range(1, max_users + 1)])
            elif name == "trestle":
                if trestle_binary is None or not os.access(trestle_binary, os.X_OK):
                    results[name] = {s: {"status": "not run", "runs": [],
                                         "detail": "no trestle binary (--trestle or "
                                                   "TRESTLE_BINARY)"} for s in scenarios}
                    meta["gateways"][name] = "no binary"
                    continue
                gateways[name] = TrestleGateway(trestle_binary, prosody.component_port,
                                                secret_gw, ircd.port, USERS_DOMAIN,
                                                args.trestle_send_queue)
            else:
                log(f"unknown gateway {name!r}")
                return 2
        bench = Bench(users, ircd.port, sizes, lambda: prosody.proc.pid)
        for name, gateway in gateways.items():
            meta["gateways"][name] = gateway.describe()
            results[name] = await run_gateway(bench, gateway, scenarios, args.runs, log)
        results = {n: results[n] for n in wanted if n in results}
    finally:
        if users is not None:
            await users.close()
        for gateway in gateways.values():
            await asyncio.to_thread(gateway.cleanup)
        await asyncio.to_thread(ircd.cleanup)
        await asyncio.to_thread(prosody.cleanup)
    print(markdown(results, scenarios, meta))
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    ok = all(entry["status"] == "ok" for g in results.values() for entry in g.values())
    return 0 if ok else 1


def main() -> int:
    servers.install_exit_on_signals()
    return asyncio.run(main_async(parse_args(sys.argv[1:])))


if __name__ == "__main__":
    sys.exit(main())
