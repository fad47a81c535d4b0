"""Measures an idle trestle and its reconnects against a real Prosody.

- idle memory: peak RSS (VmHWM) and RSS of trestle with three components
  connected, after it has been idle for a few seconds;
- reconnect: Prosody is SIGKILLed, kept down for a while, and started again
  on the same ports; the time from Prosody listening again to /healthz
  answering 200 (all three streams authenticated) is one sample.

trestle runs with the default reconnect settings (1 s doubling to 10 s, with
jitter; --max-delay changes the cap), so the figure depends on how long the server was down: the longer
the outage, the longer the backoff step in progress when it comes back.

Usage: TRESTLE_BINARY=build/trestle /usr/bin/python3 measure.py [--runs N]
       [--outages 2,10,30]
Prints one line per sample and the medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402
from trestle_process import DEFAULT_COMPONENTS, TrestleProcess, binary_from_env  # noqa: E402


def proc_status(pid: int) -> dict[str, str]:
    fields = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="samples per outage length")
    parser.add_argument("--outages", default="2,10,30", help="seconds the server stays down")
    parser.add_argument("--max-delay", type=int, default=10,
                        help="reconnect_max_delay_seconds (trestle's default: 10)")
    parser.add_argument("--idle", type=float, default=10.0, help="idle seconds before reading RSS")
    args = parser.parse_args()
    binary = binary_from_env()
    if binary is None:
        print("set TRESTLE_BINARY to the trestle binary", file=sys.stderr)
        return 2
    outages = [float(x) for x in args.outages.split(",") if x]

    server = servers.make_server("prosody", [(c.domain, c.secret) for c in DEFAULT_COMPONENTS])
    server.start()
    # The defaults of trestle, not the harness's short test delays.
    trestle = TrestleProcess(binary, server.component_port,
                             xmpp_overrides={"reconnect_min_delay_seconds": 1,
                                             "reconnect_max_delay_seconds": args.max_delay})
    try:
        trestle.start()
        time.sleep(args.idle)
        status = proc_status(trestle.proc.pid)
        print(f"idle with {len(DEFAULT_COMPONENTS)} components: VmHWM {status['VmHWM']}, "
              f"VmRSS {status['VmRSS']}")

        results: dict[float, list[float]] = {}
        for outage in outages:
            for run in range(args.runs):
                server.kill()
                trestle.wait_healthz_not(200, timeout=30)
                time.sleep(outage)
                server.start()  # returns once the ports listen again
                back = time.monotonic()
                trestle.wait_healthz(200, timeout=120)
                seconds = time.monotonic() - back
                results.setdefault(outage, []).append(seconds)
                print(f"outage {outage:.0f}s run {run + 1}: healthy {seconds:.2f}s after the "
                      "server listened again", flush=True)
        for outage, samples in results.items():
            print(f"outage {outage:.0f}s: median {statistics.median(samples):.2f}s, "
                  f"min {min(samples):.2f}s, max {max(samples):.2f}s over {len(samples)} runs")
        status = proc_status(trestle.proc.pid)
        print(f"after the reconnects: VmHWM {status['VmHWM']}, VmRSS {status['VmRSS']}")
        trestle.stop_expect_clean_exit()
    finally:
        trestle.cleanup()
        server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
