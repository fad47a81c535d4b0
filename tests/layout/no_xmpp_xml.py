#!/usr/bin/env python3
"""The layout rule that adapters read and build no XMPP XML: they take typed
events and reach users through gateway::Bridge. Fails, naming each line,
when a source file under one of the given folders uses the XML element
tree, the stanza builders or their headers."""

import pathlib
import re
import sys

FORBIDDEN = [
    (re.compile(r'#include "(element|stanza|namespaces|room_stanzas)\.hpp"'),
     "includes an XMPP XML header"),
    (re.compile(r"\bxmpp::Element\b"), "uses the XML element tree"),
    (re.compile(r"\bxmpp::(make_message|make_presence|make_iq|make_iq_result|make_error_reply|"
                r"add_delay|StanzaView|kind_of|to_element)\b"),
     "builds or reads a stanza"),
    (re.compile(r"\bxmpp::ns::"), "names an XMPP namespace"),
]


def main(folders: list[str]) -> int:
    problems = []
    for folder in folders:
        for path in sorted(pathlib.Path(folder).rglob("*")):
            if path.suffix not in (".cpp", ".hpp"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                for pattern, what in FORBIDDEN:
                    if pattern.search(line):
                        problems.append(f"{path}:{number}: {what}: {line.strip()}")
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} lines build or read XMPP XML under {', '.join(folders)}; "
              "adapters use gateway/router/user_events.hpp and bridge.hpp instead")
        return 1
    print(f"no XMPP XML under {', '.join(folders)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
