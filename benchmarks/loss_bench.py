"""Loss benchmarks: forward+backward time and peak extra memory, one fresh process per measurement.

Methods on logits [N, V] (float32):
    authors   the authors' formulation (entmax sparsemax + sparsemax_loss, softmax, mask), anchor
    torch_ce  torch.nn.functional.cross_entropy
    ts2       ts2.ops.sparsemax_plus_loss
and on hidden states h [N, d] with output embedding W [V, d]:
    ce_path      logits = h @ W.T, then torch cross-entropy (what HF models do)
    ts2_fused    ts2.ops.fused_linear_sparsemax_plus_loss (chunked, no [N, V] logits)

Peak extra memory = the process's peak RSS during one forward+backward minus its RSS just before
(Linux: /proc/self/clear_refs resets the high-water mark), so input generation does not count.
Run as a worker: ``python loss_bench.py METHOD V N KIND [D]``; it prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time

import torch
import torch.nn.functional as F

THREADS = 2
LOGIT_SCALE = {"llm": 3.0, "flat": 0.3}  # std of the logits: LLM-like vs flat (untrained head)


def _rss_bytes(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def time_steps(step, reps: int, sync=None) -> tuple[list[float], int]:
    """Run ``step`` once to warm up (optimizer state, allocator pools), then ``reps`` timed times;
    returns the times and the peak extra RSS of the first timed step over the RSS before it.
    ``sync`` (e.g. a process-group barrier) runs before and after each timed step."""
    step()
    rss_before = _rss_bytes("VmRSS")
    _reset_peak()
    times, peak = [], 0
    for i in range(reps):
        if sync:
            sync()
        start = time.perf_counter()
        step()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
        if i == 0:
            peak = _rss_bytes("VmHWM") - rss_before
    return times, peak


def authors_sparsemax_plus(logits, target, alpha=0.25, temperature=1.0):
    import entmax

    u = logits * temperature
    p_star = entmax.sparsemax(u, dim=-1)
    l_sm = entmax.sparsemax_loss(u, target)
    p = torch.softmax(logits, dim=-1)
    cols = torch.arange(logits.shape[-1])
    mask = (p_star == 0) & (cols[None, :] != target[:, None])
    m = (p * mask).sum(-1).clamp(max=0.99)
    return (l_sm + alpha * -torch.log(1 - m)).mean()


def make_step(method: str, vocab: int, n: int, kind: str, dim: int):
    """Inputs (generated in place, no temporaries) and a function doing one forward+backward."""
    import ts2

    torch.manual_seed(0)
    target = torch.randint(0, vocab, (n,))
    scale = LOGIT_SCALE[kind]
    if method in ("authors", "torch_ce", "ts2"):
        logits = torch.randn(n, vocab).mul_(scale).requires_grad_()
        loss_fn = {
            "authors": authors_sparsemax_plus,
            "torch_ce": F.cross_entropy,
            "ts2": ts2.ops.sparsemax_plus_loss,
        }[method]

        def step():
            logits.grad = None
            loss_fn(logits, target).backward()

        return step, n * vocab * 4
    hidden = torch.randn(n, dim).requires_grad_()
    weight = torch.randn(vocab, dim).mul_(scale / dim**0.5).requires_grad_()

    def step():
        hidden.grad = weight.grad = None
        if method == "ce_path":
            loss = F.cross_entropy(hidden @ weight.t(), target)
        else:
            loss = ts2.ops.fused_linear_sparsemax_plus_loss(hidden, weight, target)
        loss.backward()

    return step, n * vocab * 4


def worker(method: str, vocab: int, n: int, kind: str, dim: int = 2048, reps: int = 3) -> dict:
    torch.set_num_threads(THREADS)
    # Load kernels and allocator pools on a tiny problem so they do not count as the loss's memory.
    warm, _ = make_step(method, 64, 8, kind, 16)
    warm()
    step, logits_bytes = make_step(method, vocab, n, kind, dim)
    rss_before = _rss_bytes("VmRSS")
    _reset_peak()
    start = time.perf_counter()
    step()
    times = [time.perf_counter() - start]
    peak = _rss_bytes("VmHWM")
    for _ in range(reps - 1):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "method": method, "vocab": vocab, "tokens": n, "logits": kind, "hidden_dim": dim,
        "time_s": min(times), "times_s": times, "peak_extra_bytes": peak - rss_before,
        "logits_bytes": logits_bytes,
        "grad_weight_bytes": vocab * dim * 4 if method in ("ce_path", "ts2_fused") else 0,
    }


if __name__ == "__main__":
    method, vocab, n, kind = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    dim = int(sys.argv[5]) if len(sys.argv) > 5 else 2048
    reps = int(os.environ.get("TS2_BENCH_REPS", "3"))
    print(json.dumps(worker(method, vocab, n, kind, dim, reps)))
