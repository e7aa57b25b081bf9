"""Turn benchmarks/results/*.json into the README's performance section (between markers)."""

from __future__ import annotations

import json
from pathlib import Path

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
MIB = 2**20


def _index(rows):
    return {(r["method"], r["vocab"], r["tokens"], r["logits"]): r for r in rows}


def loss_table(rows) -> list[str]:
    idx = _index(rows)
    out = [
        "| V | N | logits | torch CE | ts2 | ts2 / CE | authors | authors / CE "
        "| peak extra (x logits): CE / ts2 / authors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    configs = sorted({(r["vocab"], r["tokens"], r["logits"]) for r in rows if r["method"] == "ts2"})
    for vocab, n, kind in configs:
        ce, ts2, authors = (idx.get((m, vocab, n, kind)) for m in ("torch_ce", "ts2", "authors"))
        if ce is None or ts2 is None:
            continue

        def mem(r):
            return f"{r['peak_extra_bytes'] / r['logits_bytes']:.2f}" if r else "-"

        auth_t = f"{authors['time_s']:.2f} s" if authors else "-"
        auth_r = f"{authors['time_s'] / ce['time_s']:.1f}x" if authors else "-"
        out.append(f"| {vocab} | {n} | {kind} | {ce['time_s']:.3f} s | {ts2['time_s']:.3f} s | "
                   f"**{ts2['time_s'] / ce['time_s']:.2f}x** | {auth_t} | {auth_r} | "
                   f"{mem(ce)} / {mem(ts2)} / {mem(authors)} |")
    return out


def fused_table(rows) -> list[str]:
    idx = _index(rows)
    out = [
        "| V | N | h @ W.T + torch CE | fused ts2 | fused / CE | peak extra MiB (CE path / fused), "
        "without grad W |",
        "|---|---|---|---|---|---|",
    ]
    configs = sorted({(r["vocab"], r["tokens"], r["logits"]) for r in rows if r["method"] == "ts2_fused"})
    for vocab, n, kind in configs:
        ce, fused = idx.get(("ce_path", vocab, n, kind)), idx.get(("ts2_fused", vocab, n, kind))
        if ce is None or fused is None:
            continue

        def mem(r):
            return f"{(r['peak_extra_bytes'] - r['grad_weight_bytes']) / MIB:.0f}"

        out.append(f"| {vocab} | {n} | {ce['time_s']:.2f} s | {fused['time_s']:.2f} s | "
                   f"**{fused['time_s'] / ce['time_s']:.2f}x** | {mem(ce)} / {mem(fused)} |")
    return out


def train_table(rows) -> list[str]:
    idx = {(r["method"], r["vocab"], r["tokens"]): r for r in rows}
    out = [
        "| V | tokens/step | HF CE | ts2 unfused | ts2 fused | fused / HF CE | peak extra MiB: HF CE / "
        "unfused / fused |",
        "|---|---|---|---|---|---|---|",
    ]
    for vocab, tokens in sorted({(r["vocab"], r["tokens"]) for r in rows}):
        ce, unfused, fused = (idx.get((m, vocab, tokens)) for m in ("hf_ce", "ts2_unfused", "ts2_fused"))
        if not (ce and unfused and fused):
            continue
        mem = " / ".join(f"{r['peak_extra_bytes'] / MIB:.0f}" for r in (ce, unfused, fused))
        out.append(f"| {vocab} | {tokens} | {ce['time_s']:.2f} s | {unfused['time_s']:.2f} s | "
                   f"{fused['time_s']:.2f} s | **{fused['time_s'] / ce['time_s']:.2f}x** | {mem} |")
    return out


def real_lines(train_rows, sampling_rows) -> list[str]:
    """The real SmolLM2-135M-Instruct: a training step, HF CE vs fused ts2; sampling throughput."""
    out = []
    idx = {r["method"]: r for r in train_rows}
    if "hf_ce" in idx and "ts2_fused" in idx:
        ce, fused = idx["hf_ce"], idx["ts2_fused"]
        out += ["One training step of the real SmolLM2-135M-Instruct (30 layers, V = 49152, tied embeddings; "
                f"{ce['batch']} demo-like chats, {ce['tokens']} tokens with padding; loss + backward + AdamW):", "",
                "| HF CE | ts2 fused | ts2 / HF CE | peak extra MiB: HF CE / ts2 fused |", "|---|---|---|---|",
                f"| {ce['time_s']:.2f} s | {fused['time_s']:.2f} s | **{fused['time_s'] / ce['time_s']:.2f}x** | "
                f"{ce['peak_extra_bytes'] / MIB:.0f} / {fused['peak_extra_bytes'] / MIB:.0f} |", ""]
    idx = {r["method"]: r for r in sampling_rows}
    if "hf_loop" in idx and "batched" in idx:
        old, new = idx["hf_loop"], idx["batched"]
        out += [f"Sampling from SmolLM2-135M-Instruct on the CPU ({new['threads']} threads): {new['prompts']} "
                f"prompts x {new['n']} samples x {new['new_tokens']} new tokens, top-k 50, top-p 0.9:", "",
                "| path | time | generated tokens/s | speed-up |", "|---|---|---|---|",
                f"| one prompt at a time, `model.generate` on n copies (ts2 0.1.0) | {old['time_s']:.1f} s | "
                f"{old['tokens_per_s']:.1f} | 1.00x |",
                f"| ts2 generate: batched prompts, one prefill per prompt | {new['time_s']:.1f} s | "
                f"{new['tokens_per_s']:.1f} | **{new['tokens_per_s'] / old['tokens_per_s']:.2f}x** |", ""]
    return out


def fsdp_lines(rows) -> list[str]:
    """A 2-process sharded training step (FSDP2, DeepSpeed ZeRO-3), unfused vs fused ts2."""
    idx = {r["method"]: r for r in rows}
    sharders = [(name, label) for name, label in (("fsdp", "FSDP2 (`fully_shard` per layer and at the root)"),
                                                   ("zero3", "DeepSpeed ZeRO-3 (CPU accelerator)"))
                if f"{name}_unfused" in idx and f"{name}_fused" in idx]
    if not sharders:
        return []
    first = idx[f"{sharders[0][0]}_fused"]
    lines = [f"One sharded training step on {first['processes']} CPU processes (gloo; Llama hidden {first['hidden']}, "
             f"{first['layers']} layers, V = {first['vocab']}; {first['tokens']} tokens per process; loss + backward + "
             "AdamW; the two columns of a row are measured side by side, rows possibly in different sessions):", "",
             "| sharding | V | tokens/process | ts2 unfused | ts2 fused (in the forward) | fused / unfused | "
             "peak extra MiB per process: unfused / fused | logits MiB |", "|---|---|---|---|---|---|---|---|"]
    for name, label in sharders:
        un, fu = idx[f"{name}_unfused"], idx[f"{name}_fused"]
        lines.append(f"| {label} | {fu['vocab']} | {fu['tokens']} | {un['time_s']:.2f} s | {fu['time_s']:.2f} s | "
                     f"**{fu['time_s'] / un['time_s']:.2f}x** | {un['peak_extra_bytes'] / MIB:.0f} / "
                     f"{fu['peak_extra_bytes'] / MIB:.0f} | {fu['logits_bytes'] / MIB:.0f} |")
    return [*lines, ""]


def sandbox_lines(rows) -> list[str]:
    if not rows:
        return []
    r = rows[0]
    walls = "mount, network and PID namespaces, private read-only root, own /proc"
    who = {"root": f"root: nobody + {walls}", "root_without_private_root": "root: nobody + network and PID "
           "namespaces only (before the private root)", "user_namespace": f"an ordinary user: user namespace + {walls}"}
    cells = [f"| {who[mode]} | {r[mode]['programs']} ({r[mode]['passed']} passed) | {r[mode]['seconds']:.1f} s | "
             f"{r[mode]['programs_per_s']:.1f} programs/s |" for mode in who if mode in r]
    price = (f"; root with / without the private root: **{r['private_root_over_without_time']:.2f}x**"
             if "private_root_over_without_time" in r else "")
    return ["HumanEval canonical solutions in the sandbox by isolation mode, 2 at a time, measured side by side "
            f"(best of 2 alternating runs; ordinary user / root time: **{r['user_over_root_time']:.2f}x**{price}):", "",
            "| evaluation run by | programs | time | rate |", "|---|---|---|---|", *cells, ""]


def eval_lines(rows) -> list[str]:
    if not rows:
        return []
    r = rows[0]
    return [
        "Evaluation throughput:",
        "",
        "| what | amount | time | rate |",
        "|---|---|---|---|",
        f"| HumanEval canonical solutions, sandboxed, {r['program_workers']} at a time | {r['programs']} programs "
        f"({r['programs_passed']} passed) | {r['programs_seconds']:.1f} s | {r['programs_per_s']:.1f} programs/s |",
        f"| distinct-1..4 + self-BLEU | {r['diversity_prompts']} prompts x "
        f"{r['diversity_responses'] // r['diversity_prompts']} responses | {r['string_metrics_seconds']:.1f} s | "
        f"{r['string_metrics_responses_per_s']:.0f} responses/s |",
        f"| MiniLM sentence embeddings (CPU) | {r['diversity_responses']} responses | {r['embedding_seconds']:.1f} s | "
        f"{r['embedding_responses_per_s']:.0f} responses/s |",
        "",
    ]


ENGINE_NAMES = {"native": "ts2 generate (native), 1 process", "native_2proc": "ts2 generate (native), 2 processes",
                "vllm": "vLLM {vllm}, CPU build", "hf_generate": "HF `model.generate`, all rows in one batch"}


def engine_lines(rows, machine: dict | None) -> list[str]:
    """Sampling engines side by side (sampling_bench.py): tokens/s after start-up, start-up, peak RSS."""
    if not rows:
        return []
    first = rows[0]
    cpu = f"{machine['cpu']}, {machine['cores']} cores" if machine else "this machine"
    out = [f"Sampling engines, one `make bench` run on {cpu}: SmolLM2-135M-Instruct, {first['prompts']} chat "
           f"prompts x n {first['n']}, {first['new_tokens']} new tokens each, T 1.0, top-p 1.0, top-k off, the "
           "same token ids in, the best of 3 passes in one process after its start-up "
           "(`benchmarks/sampling_bench.py`):", "",
           "| engine | dtype | tokens/s after start-up | vs native | start-up | peak RSS of a process |",
           "|---|---|---|---|---|---|"]
    for dtype in ("float32", "bfloat16"):
        idx = {r["method"]: r for r in rows if r["dtype"] == dtype}
        base = idx.get("native")
        for method in ENGINE_NAMES:
            if method in idx:
                r = idx[method]
                ratio = f"{r['tokens_per_s'] / base['tokens_per_s']:.2f}x" if base else "-"
                out.append(f"| {ENGINE_NAMES[method].format(vllm=r.get('vllm', ''))} | {dtype} | "
                           f"{r['tokens_per_s']:.0f} | {ratio} | {r['startup_s']:.0f} s | "
                           f"{r['peak_rss_bytes'] / MIB:.0f} MiB |")
    return out + [""]


def section(results: dict) -> str:
    losses = results.get("losses", {"rows": []})
    train = results.get("train_step", {"rows": []})
    m = losses.get("machine") or train.get("machine")
    lines = [
        START,
        "",
        f"Measured by `make bench` on {m['cpu']} ({m['cores']} cores, {m['threads']} torch threads), "
        f"torch {m['torch']}, {m['dtype']}, forward+backward, best of 2-4 runs in alternating fresh "
        "processes (the authors' code: one run). Peak extra memory: peak RSS during one step minus RSS "
        "before it. Raw numbers: `benchmarks/results/*.json`.",
        "",
        "Loss on logits [N, V] (LLM-like logits: 3·randn; flat: 0.3·randn):",
        "",
        *loss_table(losses["rows"]),
        "",
        "Fused linear ts2 from hidden states (d = 2048, LLM-like logits) against `h @ W.T` followed by "
        "torch cross-entropy:",
        "",
        *fused_table(losses["rows"]),
        "",
        "One training step (HF Trainer loss + backward + AdamW) of a Llama with hidden 256, 4 layers, "
        "sequences of 512 tokens; HF CE is the model's own loss:",
        "",
        *train_table(train["rows"]),
        "",
        *real_lines(results.get("real_train_step", {}).get("rows", []), results.get("sampling", {}).get("rows", [])),
        *engine_lines(results.get("sampling_engines", {}).get("rows", []),
                      results.get("sampling_engines", {}).get("machine")),
        *fsdp_lines(results.get("fsdp_step", {}).get("rows", [])),
        *eval_lines(results.get("eval", {}).get("rows", [])),
        *sandbox_lines(results.get("sandbox", {}).get("rows", [])),
        END,
    ]
    return "\n".join(lines)


def update_readme(results: dict, readme: Path) -> None:
    """``results``: results file stem ("losses", "train_step", "eval", ...) -> its JSON."""
    text = readme.read_text()
    new = section(results)
    if START in text and END in text:
        text = text[: text.index(START)] + new + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n## Performance\n\n" + new + "\n"
    readme.write_text(text)


if __name__ == "__main__":
    results_dir = Path(__file__).resolve().parent / "results"
    found = {p.stem: json.loads(p.read_text()) for p in results_dir.glob("*.json")}
    update_readme(found, results_dir.parent.parent / "README.md")
