#!/usr/bin/env python3
"""The layout rule that gateway/ knows the networks only through the Adapter
and NetworkConfigReader interfaces: no file but the app wiring
(app/main.cpp) includes a header of protocols/<network>/ or names a
network's namespace. Adding a network then touches its own folder and one
line of main.cpp. Usage: gateway_names_no_network.py GATEWAY PROTOCOLS"""

import pathlib
import re
import sys

WIRING = pathlib.PurePosixPath("app/main.cpp")


def networks(protocols: pathlib.Path) -> dict[str, set[str]]:
    """Each network folder's name and the headers in it (its files at the
    top of protocols/ are shared helpers)."""
    found = {}
    for folder in sorted(protocols.iterdir()):
        if folder.is_dir():
            found[folder.name] = {header.name for header in folder.rglob("*.hpp")}
    return found


def main(gateway: str, protocols: str) -> int:
    known = networks(pathlib.Path(protocols))
    headers = {name: net for net, names in known.items() for name in names}
    namespace = re.compile(r"\b(?:trestle::)?(" + "|".join(map(re.escape, known)) + r")::\w")
    include = re.compile(r'#include "([^"]+)"')
    problems = []
    root = pathlib.Path(gateway)
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".cpp", ".hpp") or path.relative_to(root).as_posix() == str(WIRING):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            included = include.search(line)
            if included and included.group(1) in headers:
                problems.append(f"{path}:{number}: includes {included.group(1)} of "
                                f"protocols/{headers[included.group(1)]}/")
            elif namespace.search(line) and not line.lstrip().startswith("//"):
                problems.append(f"{path}:{number}: names a network: {line.strip()}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} lines of {gateway} name a network; only {WIRING} may")
        return 1
    print(f"{gateway} names no network outside {WIRING}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
