"""Runs sandbox checks from a JSON file and writes their outcomes; started by the tests as an
ordinary user (nobody) to exercise the containment that needs no root.

    python sandbox_driver.py CHECKS.json RESULTS.json

Writes {"isolation": report, "outcomes": [...]}; runs no check (outcomes null) when the
isolation mode is not "user_namespace", so hostile programs never run uncontained."""

import json
import sys
from dataclasses import asdict

from ts2.sandbox import Check, Limits, isolation_report, run_checks


def main(checks_path: str, results_path: str) -> None:
    spec = json.load(open(checks_path))
    report = isolation_report()
    outcomes = None
    if report["mode"] == "user_namespace":
        checks = [Check(**c) for c in spec["checks"]]
        outcomes = [asdict(o) for o in run_checks(checks, Limits(**spec["limits"]), workers=2)]
    with open(results_path, "w") as f:
        json.dump({"isolation": report, "outcomes": outcomes}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
