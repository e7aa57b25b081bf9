"""`make bench`: run every measurement in a fresh process, save JSON, regenerate the README table.

Results go to benchmarks/results/losses.json, rewritten atomically after each measurement; an
interrupted run resumes (measurements already in the file are kept) unless --fresh is given.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "losses.json"
README = HERE.parent / "README.md"

LOSS_CONFIGS = [(v, n, kind) for v in (32000, 128256) for n in (1024, 2048) for kind in ("llm", "flat")]
FUSED_CONFIGS = [(v, n, "llm") for v in (32000, 128256) for n in (1024, 2048)]
# (rounds, runs per process).  Methods compared with each other run in alternating fresh processes,
# round after round, and keep their best time, so a slow spell on this shared machine hits both.
REPEATS = {"authors": (1, 1), "torch_ce": (2, 2), "ts2": (2, 2), "ce_path": (2, 1), "ts2_fused": (2, 1)}


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "threads": 2, "torch": torch.__version__,
            "python": platform.python_version(), "dtype": "float32"}


def key(row: dict) -> tuple:
    return (row["method"], row["vocab"], row["tokens"], row["logits"])


def save(data: dict) -> None:
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, RESULTS)


def measure(method: str, vocab: int, n: int, kind: str) -> dict:
    env = {**os.environ, "TS2_BENCH_REPS": str(REPEATS[method][1]), "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, str(HERE / "loss_bench.py"), method, str(vocab), str(n), kind],
                         capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{method} V={vocab} N={n} {kind} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def merge(rounds: list[dict]) -> dict:
    """One row from several rounds: best time, all times, highest peak memory."""
    row = dict(rounds[0])
    row["times_s"] = [t for r in rounds for t in r["times_s"]]
    row["time_s"] = min(row["times_s"])
    row["peak_extra_bytes"] = max(r["peak_extra_bytes"] for r in rounds)
    return row


def plan(quick: bool):
    """Groups of (methods, config) measured side by side."""
    loss = LOSS_CONFIGS[:2] if quick else LOSS_CONFIGS
    fused = FUSED_CONFIGS[:1] if quick else FUSED_CONFIGS
    for config in loss:
        yield ("torch_ce", "ts2"), config
        yield ("authors",), config
    for config in fused:
        yield ("ce_path", "ts2_fused"), config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="discard earlier results")
    parser.add_argument("--quick", action="store_true", help="smallest configurations only")
    args = parser.parse_args()
    RESULTS.parent.mkdir(exist_ok=True)
    data = {"machine": machine(), "rows": []}
    if RESULTS.exists() and not args.fresh:
        data["rows"] = json.loads(RESULTS.read_text())["rows"]
    done = {key(r) for r in data["rows"]}
    todo = [(methods, config) for methods, config in plan(args.quick)
            if any((m, *config) not in done for m in methods)]
    for i, (methods, config) in enumerate(todo, 1):
        vocab, n, kind = config
        print(f"[{i}/{len(todo)}] V={vocab:6d} N={n:5d} {kind:4s}", end="", flush=True)
        rounds = {m: [] for m in methods}
        for _ in range(max(REPEATS[m][0] for m in methods)):
            for m in methods:
                rounds[m].append(measure(m, *config))
        for m in methods:
            row = merge(rounds[m])
            print(f"  {m} {row['time_s']:.3f}s ({row['peak_extra_bytes'] / row['logits_bytes']:.2f}x logits)",
                  end="", flush=True)
            data["rows"] = [r for r in data["rows"] if key(r) != key(row)] + [row]
        print(flush=True)
        save(data)
    from report import update_readme

    update_readme(data, README)
    print(f"wrote {RESULTS} and the performance section of {README}")


if __name__ == "__main__":
    main()
