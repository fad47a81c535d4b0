"""Counts test cases from a Meson test log (meson-logs/testlog.json).

Each Meson test is one executable or script holding many cases. This reads
Boost.Test's short report ("N test cases out of M passed") and Python
unittest's result lines ("Ran N tests", "FAILED (failures=F, errors=E)"),
falling back to one case per Meson test when neither is present. A Meson
test that failed always counts at least one failed case.

Further checks run outside Meson count as one case each: `--check NAME=ok`
or `--check NAME=failed`.

Prints one line per Meson test, then `N passed, M failed` as the last line.
Exit status 1 when any case failed or the log is missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys

BOOST_COUNT = re.compile(r"(\d+) test cases? out of (\d+) (passed|failed|skipped|aborted)")
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ", re.MULTILINE)
UNITTEST_RESULT = re.compile(r"^(OK|FAILED)(?: \(([^)]*)\))?\s*$", re.MULTILINE)


def count_cases(output: str) -> tuple[int, int, int] | None:
    """(passed, failed, skipped) parsed from a test's output, or None."""
    boost = BOOST_COUNT.findall(output)
    if boost:
        numbers = {kind: int(n) for n, _total, kind in boost}
        total = max(int(total) for _n, total, _kind in boost)
        passed = numbers.get("passed", 0)
        skipped = numbers.get("skipped", 0)
        return passed, max(0, total - passed - skipped), skipped
    ran = UNITTEST_RAN.findall(output)
    results = UNITTEST_RESULT.findall(output)
    if ran and results:
        total = int(ran[-1])
        _verdict, details = results[-1]
        counts = {"failures": 0, "errors": 0, "skipped": 0, "expected failures": 0}
        for part in filter(None, (p.strip() for p in details.split(","))):
            key, _, value = part.partition("=")
            counts[key.strip()] = int(value)
        failed = min(total, counts["failures"] + counts["errors"])
        skipped = counts["skipped"]
        return max(0, total - failed - skipped), failed, skipped
    return None


def main(path: str, checks: list[str]) -> int:
    try:
        with open(path, encoding="utf-8") as log:
            entries = [json.loads(line) for line in log if line.strip()]
    except (OSError, ValueError) as exc:
        print(f"cannot read the test log {path}: {exc}")
        print("0 passed, 1 failed")
        return 1
    passed = failed = skipped = 0
    for entry in entries:
        output = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
        ok = entry.get("result") in ("OK", "EXPECTEDFAIL")
        counts = count_cases(output) or ((1, 0, 0) if ok else (0, 1, 0))
        p, f, s = counts
        if entry.get("result") == "SKIP":
            p, f, s = 0, 0, max(1, s)
        elif not ok and f == 0:
            f = 1
        passed, failed, skipped = passed + p, failed + f, skipped + s
        note = f", {s} skipped" if s else ""
        print(f"{entry.get('name')}: {entry.get('result')} ({p} passed, {f} failed{note})")
        if entry.get("result") == "SKIP":
            reasons = [line for line in output.splitlines() if "skipped" in line.lower()]
            print(f"  {reasons[0].strip() if reasons else 'skipped without a reason'}")
    for check in checks:
        name, _, result = check.partition("=")
        ok = result == "ok"
        passed, failed = passed + ok, failed + (not ok)
        print(f"{name}: {'OK' if ok else 'FAIL'}")
    if skipped:
        print(f"{skipped} skipped")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Counts test cases from a Meson test log.")
    parser.add_argument("log", nargs="?", default="meson-logs/testlog.json")
    parser.add_argument("--check", action="append", default=[], metavar="NAME=ok|failed",
                        help="a check run outside Meson, counted as one case")
    args = parser.parse_args()
    sys.exit(main(args.log, args.check))
