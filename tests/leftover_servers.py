"""Finds servers that the tests started and left running.

`snapshot FILE` records the server processes running now; `check FILE` lists
the server processes running now that the snapshot did not have, and exits 1
when there is any. deploy/test.sh takes the snapshot before the tests and
checks after them, so a server that a test started and did not stop fails the
run, while servers that ran before it (the operator's own Postfix, say) do
not count.

A server is a process whose command line names one of SERVERS: the XMPP, IRC,
mail, SMS and database servers the tests run, trestle and biboumi, and the
Docker engine that the container check may start.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

SERVERS = (
    "prosody", "beam.smp", "epmd", "ngircd", "inspircd", "atheme-services",
    "postfix/sbin/master", "postfix/sbin/smtpd", "postfix/sbin/qmgr", "bearerbox", "smsbox",
    "fakesmsc", "kamailio", "postgres", "trestle", "biboumi", "dockerd", "containerd",
    "docker-proxy",
)


def servers_running() -> dict[str, str]:
    """pid -> command line of every server process (with its start time in the key,
    so that a reused pid is not taken for the process the snapshot saw)."""
    found: dict[str, str] = {}
    me = os.getpid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            start = (entry / "stat").read_text().rsplit(")", 1)[1].split()[19]
        except (OSError, IndexError):
            continue
        command = " ".join(a.decode(errors="replace") for a in argv if a)
        program = command.split(" ", 1)[0]
        # A server's name is in its program or its first arguments (prosody
        # runs as `lua prosody`), not just anywhere (a grep for it).
        head = " ".join(command.split(" ")[:3])
        if any(name in head for name in SERVERS) and "leftover_servers" not in command:
            if Path(program).name in ("sh", "bash", "timeout", "meson", "ninja"):
                continue
            found[f"{entry.name}@{start}"] = command
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["snapshot", "check"])
    parser.add_argument("file", type=Path)
    args = parser.parse_args()
    now = servers_running()
    if args.mode == "snapshot":
        args.file.write_text(json.dumps(now))
        return 0
    try:
        before = json.loads(args.file.read_text())
    except (OSError, ValueError) as exc:
        print(f"leftover servers: no snapshot to compare with ({exc})")
        return 1
    left = {key: command for key, command in now.items() if key not in before}
    for key, command in sorted(left.items()):
        print(f"left running: pid {key.split('@')[0]}: {command[:160]}")
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
