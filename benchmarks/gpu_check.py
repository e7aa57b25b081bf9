"""GPU check (issue 37): what ts2 has verified on the CPU, checked and timed on one CUDA device.

    python benchmarks/gpu_check.py            # make gpu-check; --quick: 8k tokens only
    python benchmarks/gpu_check.py --output PATH

Steps (each recorded in the JSON; one failing step does not stop the others):
  1. loss: ts2 Sparsemax+ ("ts2") and ts2's "ce", on logits [N, V] and fused from hidden states
     h [N, d] and the output embedding W [V, d], in bfloat16 and float32, against torch CE and a
     float64 reference computed in chunks of rows over every row (nothing subsampled).  The
     float64 reference is independent of ts2: the authors' formulation with a full sort over V,
     gradients by autograd.  Criterion (as tests/ops): no worse than the naive implementation
     measured against float64 (see ``CRITERIA``).
  2. timings: forward+backward against torch CE (logits) and torch matmul + CE (hidden states, the
     logits upcast as Transformers does), and Liger's fused linear CE if ``liger_kernel`` is
     installed: ratios measured side by side in this run (CUDA events, warm-up, median), and the
     peak extra memory of each (``torch.cuda.max_memory_allocated``, reset per case).
  3. one ``ts2 train`` step (a subprocess of the CLI) of a small Llama built from a config,
     ``--loss ts2 --fused_loss true --bf16 true``; checks exit 0, ts2_config.json and the fused path.
  4. sampling on the same model and prompts: ts2's native sampler, HF ``model.generate`` and (if
     installed) vLLM through ts2's ``--engine vllm`` sampler, tokens/s; and ``ts2 generate`` once
     end to end.
  5. benchmarks/results/gpu.json (written atomically) and a short summary; exit 1 if a check failed.

Without CUDA it prints one line and exits 0, writing nothing.  ``--device cpu --tiny`` walks every
step on the CPU at toy sizes (tests/test_gpu_check.py); it needs ``--output``.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch
import torch.nn.functional as F

RESULTS = Path(__file__).resolve().parent / "results" / "gpu.json"
ALPHA, TEMPERATURE = 0.25, 1.0  # the paper's recipe (ts2's defaults)
LOGIT_STD, FLAT_STD = 3.0, 0.1  # LLM-like rows; the first eighth of the rows flat (an untrained head)
IGNORED = 0.1  # share of positions labelled -100

# Sizes.  full: V = 128256 (Llama 3), N = 8k and 32k tokens, d = 4096 (Llama 3 8B).  The largest
# tensors: logits 32k x 128256 are 8.4 GB in bf16, 16.8 GB in fp32; torch CE on fp32 logits holds
# logits + log-softmax + grad (~50 GB), the HF-style bf16 matmul + CE ~67 GB: within an 80 GB card.
SIZES = {
    "full": dict(vocab=128256, tokens=[8192, 32768], dim=4096, chunk=None, ref_rows=512, warmup=2, reps=5,
                 model=dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=4,
                            num_attention_heads=16, num_key_value_heads=4),
                 train_records=16, train_words=200, train_batch=8,
                 prompts=16, n=8, new_tokens=64, passes=3),
    "quick": dict(vocab=128256, tokens=[8192], dim=4096, chunk=None, ref_rows=512, warmup=1, reps=3,
                  model=dict(hidden_size=1024, intermediate_size=2816, num_hidden_layers=4,
                             num_attention_heads=16, num_key_value_heads=4),
                  train_records=16, train_words=200, train_batch=8,
                  prompts=16, n=8, new_tokens=64, passes=2),
    "tiny": dict(vocab=1000, tokens=[48, 96], dim=32, chunk=20, ref_rows=16, warmup=1, reps=1,
                 model=dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2),
                 train_records=8, train_words=12, train_batch=4,
                 prompts=3, n=2, new_tokens=6, passes=1),
}
# The criterion of tests/ops (Cut Cross-Entropy's): ts2's error against float64 is at most 1.5x the
# naive implementation's (torch CE in the same dtype for "ce"; the authors' formulation in float32
# for "ts2": in bf16 its sort-based threshold is wrong, see DESIGN §3; both shifted by the row maximum)
# plus a small slack.
# A bf16 gradient on logits must be the float64 gradient rounded once: |g - t| <= eps_bf16 |t| + 1e-6.
# Fused gradients (dh, dW) are compared in Frobenius norm with slack rel_slack * ||truth||.
CRITERIA = {
    "factor": 1.5,
    "loss_rel_slack": 1e-6,  # times max(1, the largest |loss|): a few float32 ulps of the loss
    "grad_abs_slack": 1e-6,
    "fused_loss_rel_slack": {"float32": 1e-6, "bfloat16": 1e-4},
    "fused_grad_rel_slack": {"float32": 1e-5, "bfloat16": 1e-4},
}
DTYPES = {"bfloat16": torch.bfloat16, "float32": torch.float32}


# ---------------------------------------------------------------------------------------------
# float64 reference (independent of ts2: full sort, autograd)


def sparsemax_sorted(u: torch.Tensor) -> torch.Tensor:
    """sparsemax over the last dim by a full descending sort (Martins & Astudillo 2016).  The support
    S = {j : u_j > tau} is found without gradient; tau = (sum_S u - 1) / |S| and p = (u - tau) on S
    carry it (as entmax's backward does), so entries tied at the threshold count as outside."""
    with torch.no_grad():
        srt, _ = torch.sort(u, dim=-1, descending=True)
        cums = srt.cumsum(-1) - 1
        k = torch.arange(1, u.shape[-1] + 1, device=u.device, dtype=u.dtype)
        size = (srt * k > cums).sum(-1, keepdim=True)
        support = u > cums.gather(-1, size - 1) / size.to(u.dtype)
        del srt, cums
    tau = ((u * support).sum(-1, keepdim=True) - 1) / support.sum(-1, keepdim=True).to(u.dtype)
    return (u - tau) * support


def reference_rows(name: str, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-row losses of valid rows z [C, V] (autograd flows), in z's dtype: torch CE for "ce"; for
    "ts2" the authors' formulation: sparsemax loss + alpha * -log(1 - min(m, 0.99)), m the softmax
    mass where sparsemax(T z) == 0 and j != y."""
    if name == "ce":
        return F.cross_entropy(z, y, reduction="none")
    # Both terms are invariant to shifting a row: shifted by its maximum, |u| stays small and the
    # float64 sums keep their digits at |z| ~ 1e4 (the gradient is unchanged: the shift is constant).
    z = z - z.detach().amax(-1, keepdim=True)
    u = z * TEMPERATURE
    p_star = sparsemax_sorted(u)
    u_y = u.gather(1, y[:, None]).squeeze(1)
    l_sm = (1 - (p_star * p_star).sum(-1)) / 2 + (p_star * u).sum(-1) - u_y
    outside = (p_star == 0).scatter(1, y[:, None], False)
    m = (torch.softmax(z, -1) * outside).sum(-1).clamp(max=0.99)
    return l_sm + ALPHA * -torch.log1p(-m)


def _loss_and_grad(fn, x: torch.Tensor, *args):
    leaf = x.detach().requires_grad_(True)
    out = fn(leaf, *args)
    (grad,) = torch.autograd.grad(out.sum(), leaf)
    return out.detach(), grad


# ---------------------------------------------------------------------------------------------
# problems


def _generator(device, seed):
    return torch.Generator(device=device).manual_seed(seed)


def make_targets(n, vocab, device, seed):
    g = _generator(device, seed + 1)
    y = torch.randint(0, vocab, (n,), generator=g, device=device)
    y[torch.rand(n, generator=g, device=device) < IGNORED] = -100
    return y


def make_logits(n, vocab, dtype, device, seed=0):
    z = torch.randn(n, vocab, generator=_generator(device, seed), device=device)
    z[: n // 8] *= FLAT_STD
    z[n // 8:] *= LOGIT_STD
    return z.to(dtype), make_targets(n, vocab, device, seed)


def make_hidden(n, vocab, dim, dtype, device, seed=0):
    g = _generator(device, seed)
    h = torch.randn(n, dim, generator=g, device=device)
    h[: n // 8] *= FLAT_STD / LOGIT_STD
    w = torch.randn(vocab, dim, generator=g, device=device) * (LOGIT_STD / dim**0.5)
    return h.to(dtype), w.to(dtype), make_targets(n, vocab, device, seed)


# ---------------------------------------------------------------------------------------------
# step 1: correctness


def check_logits(name, dtype_name, n, sizes, device) -> dict:
    """ts2's loss on logits (reduction "none", so every row is checked) against float64."""
    import ts2

    dtype = DTYPES[dtype_name]
    z, y = make_logits(n, sizes["vocab"], dtype, device)
    loss_fn = ts2.get_loss(name, reduction="none", chunk_size=sizes["chunk"])
    rows, grad = _loss_and_grad(lambda x: loss_fn(x, y), z)
    ignored = y == -100
    ignored_ok = bool((rows[ignored] == 0).all()) and int(torch.count_nonzero(grad[ignored])) == 0
    valid = (~ignored).nonzero().squeeze(1)
    eps = torch.finfo(dtype).eps
    errs = dict(loss=0.0, naive_loss=0.0, grad=0.0, naive_grad=0.0, grad_rounding_excess=-math.inf, truth=1.0)
    for start in range(0, valid.numel(), sizes["ref_rows"]):
        idx = valid[start:start + sizes["ref_rows"]]
        zc, yc = z.index_select(0, idx), y.index_select(0, idx)
        truth, truth_g = _loss_and_grad(functools.partial(reference_rows, name), zc.double(), yc)
        naive_in = zc if name == "ce" else zc.float()  # torch CE in the dtype; the formulation in fp32
        naive, naive_g = _loss_and_grad(functools.partial(reference_rows, name), naive_in, yc)
        ours_g = grad.index_select(0, idx).double()
        errs["truth"] = max(errs["truth"], truth.abs().max().item())
        errs["loss"] = max(errs["loss"], (rows[idx].double() - truth).abs().max().item())
        errs["naive_loss"] = max(errs["naive_loss"], (naive.double() - truth).abs().max().item())
        errs["grad"] = max(errs["grad"], (ours_g - truth_g).abs().max().item())
        errs["naive_grad"] = max(errs["naive_grad"], (naive_g.double() - truth_g).abs().max().item())
        excess = ((ours_g - truth_g).abs() - eps * truth_g.abs()).max().item()
        errs["grad_rounding_excess"] = max(errs["grad_rounding_excess"], excess)
        del truth_g, naive_g, ours_g
    c = CRITERIA
    loss_tol = c["factor"] * errs["naive_loss"] + c["loss_rel_slack"] * errs["truth"]
    if dtype == torch.bfloat16:
        grad_ok = errs["grad_rounding_excess"] <= c["grad_abs_slack"]
        grad_tol = f"|g - t| <= {eps:.3g} |t| + {c['grad_abs_slack']:g} elementwise (one bf16 rounding)"
    else:
        grad_tol = c["factor"] * errs["naive_grad"] + c["grad_abs_slack"]
        grad_ok = errs["grad"] <= grad_tol
    passed = errs["loss"] <= loss_tol and grad_ok and ignored_ok
    return {"check": f"logits/{name}/{dtype_name}/{n}", "path": "logits", "loss": name, "dtype": dtype_name,
            "tokens": n, "vocab": sizes["vocab"], "valid_rows": valid.numel(), "reference_rows_per_chunk":
            sizes["ref_rows"], "naive": "torch CE in the dtype" if name == "ce" else "authors' formulation in fp32",
            "loss_max_abs_err": errs["loss"], "naive_loss_max_abs_err": errs["naive_loss"], "loss_tol": loss_tol,
            "grad_max_abs_err": errs["grad"], "naive_grad_max_abs_err": errs["naive_grad"], "grad_tol": grad_tol,
            "grad_rounding_excess": errs["grad_rounding_excess"], "ignored_rows_zero": ignored_ok, "passed": passed}


def check_fused(name, dtype_name, n, sizes, device) -> dict:
    """ts2's fused linear loss (mean) and its dh, dW against float64, naive = logits in the dtype."""
    import ts2

    dtype = DTYPES[dtype_name]
    h, w, y = make_hidden(n, sizes["vocab"], sizes["dim"], dtype, device)
    module = ts2.get_loss(name, chunk_size=sizes["chunk"])

    def grads(fn):
        hl, wl = h.detach().requires_grad_(True), w.detach().requires_grad_(True)
        loss = fn(hl, wl)
        loss.backward()
        return loss.detach().double().item(), hl.grad, wl.grad

    ours = grads(lambda a, b: module.fused(a, b, y))
    if name == "ce":  # what Transformers does: logits in the dtype, upcast, torch CE
        naive = grads(lambda a, b: F.cross_entropy((a @ b.t()).float(), y))
    else:
        naive = grads(lambda a, b: module(a @ b.t(), y))
    _sync(device)
    # float64 truth over every valid row, in chunks: logits, reference loss and gradient per chunk.
    w64 = w.double()
    valid = (y != -100).nonzero().squeeze(1)
    total = 0.0
    dh64 = torch.zeros(h.shape, dtype=torch.float64, device=device)
    dw64 = torch.zeros(w.shape, dtype=torch.float64, device=device)
    for start in range(0, valid.numel(), sizes["ref_rows"]):
        idx = valid[start:start + sizes["ref_rows"]]
        h64, yc = h.index_select(0, idx).double(), y.index_select(0, idx)
        rows, gz = _loss_and_grad(functools.partial(reference_rows, name), h64 @ w64.t(), yc)
        total += rows.sum().item()
        dh64.index_copy_(0, idx, gz @ w64)
        dw64.addmm_(gz.t(), h64)
        del gz
    count = max(valid.numel(), 1)
    truth = (total / count, dh64 / count, dw64 / count)
    del w64, dh64, dw64
    c = CRITERIA
    out = {"check": f"fused/{name}/{dtype_name}/{n}", "path": "fused", "loss": name, "dtype": dtype_name,
           "tokens": n, "vocab": sizes["vocab"], "hidden": sizes["dim"], "valid_rows": valid.numel(),
           "reference_rows_per_chunk": sizes["ref_rows"],
           "naive": "(h @ W.T).float() + torch CE" if name == "ce" else "h @ W.T in the dtype + ts2 loss on logits"}
    loss_err, naive_loss_err = abs(ours[0] - truth[0]), abs(naive[0] - truth[0])
    loss_tol = c["factor"] * naive_loss_err + c["fused_loss_rel_slack"][dtype_name] * abs(truth[0])
    out.update(loss_abs_err=loss_err, naive_loss_abs_err=naive_loss_err, loss_tol=loss_tol)
    passed = loss_err <= loss_tol
    for key, i in (("grad_hidden", 1), ("grad_weight", 2)):
        t = truth[i]
        err = (ours[i].double() - t).norm().item()
        naive_err = (naive[i].double() - t).norm().item()
        tol = c["factor"] * naive_err + c["fused_grad_rel_slack"][dtype_name] * t.norm().item()
        out.update({f"{key}_norm_err": err, f"naive_{key}_norm_err": naive_err, f"{key}_tol": tol,
                    f"{key}_max_abs_err": (ours[i].double() - t).abs().max().item()})
        passed = passed and err <= tol
    out["passed"] = passed
    return out


# ---------------------------------------------------------------------------------------------
# step 2: timings


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_case(step, device, warmup, reps) -> dict:
    """Median seconds of ``step`` (forward+backward) after warm-up; peak memory over what was
    allocated before the timed steps (CUDA only)."""
    for _ in range(warmup):
        step()
    _sync(device)
    cuda = device.type == "cuda"
    if cuda:
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
    times = []
    for _ in range(reps):
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        else:
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
    peak = torch.cuda.max_memory_allocated(device) - before if cuda else None
    return {"time_s": statistics.median(times), "times_s": times, "peak_extra_bytes": peak}


def _liger():
    try:
        from liger_kernel.transformers import LigerFusedLinearCrossEntropyLoss
    except ImportError:
        return None
    return LigerFusedLinearCrossEntropyLoss


def _backward_step(fn, leaves):
    def step():
        loss = fn(*leaves)
        if isinstance(loss, tuple):  # some Liger versions return (loss, z_loss)
            loss = loss[0]
        loss.backward()
        for leaf in leaves:
            leaf.grad = None
    return step


def timings(dtype_name, n, sizes, device) -> list[dict]:
    import ts2

    dtype = DTYPES[dtype_name]
    rows = []

    def run(kind, method, fn, leaves):
        row = {"kind": kind, "method": method, "dtype": dtype_name, "tokens": n, "vocab": sizes["vocab"]}
        if kind == "hidden":
            row["hidden"] = sizes["dim"]
        try:
            row.update(time_case(_backward_step(fn, leaves), device, sizes["warmup"], sizes["reps"]))
        except torch.cuda.OutOfMemoryError:
            row["error"] = "out of memory"
        for leaf in leaves:
            leaf.grad = None
        if device.type == "cuda":
            torch.cuda.empty_cache()
        rows.append(row)

    z, y = make_logits(n, sizes["vocab"], dtype, device)
    z.requires_grad_(True)
    ts2_loss, ts2_ce = (ts2.get_loss(name, chunk_size=sizes["chunk"]) for name in ("ts2", "ce"))
    run("logits", "torch_ce", lambda x: F.cross_entropy(x, y), [z])
    run("logits", "ts2_ce", lambda x: ts2_ce(x, y), [z])
    run("logits", "ts2", lambda x: ts2_loss(x, y), [z])
    del z
    h, w, y = make_hidden(n, sizes["vocab"], sizes["dim"], dtype, device)
    h.requires_grad_(True)
    w.requires_grad_(True)
    run("hidden", "torch_matmul_ce", lambda a, b: F.cross_entropy((a @ b.t()).float(), y), [h, w])
    run("hidden", "ts2_fused_ce", lambda a, b: ts2_ce.fused(a, b, y), [h, w])
    run("hidden", "ts2_fused", lambda a, b: ts2_loss.fused(a, b, y), [h, w])
    liger = _liger()
    if liger is not None:
        liger_loss = liger()
        run("hidden", "liger_fused_linear_ce", lambda a, b: liger_loss(b, a, y), [h, w])
    del h, w
    return rows


def ratios(rows: list[dict]) -> list[dict]:
    """time and peak-memory ratios of each ts2 method to its baselines, same dtype and size."""
    pairs = [("ts2", "torch_ce"), ("ts2_ce", "torch_ce"), ("ts2_fused", "torch_matmul_ce"),
             ("ts2_fused_ce", "torch_matmul_ce"), ("ts2_fused", "liger_fused_linear_ce"),
             ("ts2_fused_ce", "liger_fused_linear_ce")]
    index = {(r["method"], r["dtype"], r["tokens"]): r for r in rows}
    out = []
    for (dtype, tokens) in sorted({(r["dtype"], r["tokens"]) for r in rows}):
        for ours, base in pairs:
            a, b = index.get((ours, dtype, tokens)), index.get((base, dtype, tokens))
            if a is None or b is None:
                continue
            ratio = {"method": ours, "baseline": base, "dtype": dtype, "tokens": tokens}
            if "time_s" in a and "time_s" in b:
                ratio["time_ratio"] = a["time_s"] / b["time_s"]
                if a["peak_extra_bytes"] and b["peak_extra_bytes"]:
                    ratio["memory_ratio"] = a["peak_extra_bytes"] / b["peak_extra_bytes"]
            else:
                ratio["error"] = a.get("error") or b.get("error")
            out.append(ratio)
    return out


# ---------------------------------------------------------------------------------------------
# steps 3 and 4: a small model, one training step, sampling

CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|> {% endif %}")
SPECIALS = ["<pad>", "<unk>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]


def make_model_dir(path: Path, sizes) -> Path:
    """A Llama from a config with a word-level tokenizer of exactly ``vocab`` entries (w0, w1, ...)."""
    import transformers as tf
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {w: i for i, w in enumerate(SPECIALS + [f"w{i}" for i in range(sizes["vocab"] - len(SPECIALS))])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = tf.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<pad>",
                                     eos_token="<|end|>", additional_special_tokens=SPECIALS[3:])
    tok.chat_template = CHAT_TEMPLATE
    config = tf.LlamaConfig(vocab_size=len(tok), max_position_embeddings=1024, pad_token_id=0, eos_token_id=2,
                            bos_token_id=None, tie_word_embeddings=False, **sizes["model"])
    tf.set_seed(0)
    model = tf.LlamaForCausalLM(config)
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _words(rng, count, vocab):
    return " ".join(f"w{rng.randrange(vocab - len(SPECIALS))}" for _ in range(count))


def write_chats(path: Path, sizes) -> Path:
    import random

    rng = random.Random(0)
    with open(path, "w") as f:
        for _ in range(sizes["train_records"]):
            msgs = [{"role": "user", "content": _words(rng, 8, sizes["vocab"])},
                    {"role": "assistant", "content": _words(rng, sizes["train_words"], sizes["vocab"])}]
            f.write(json.dumps({"messages": msgs}) + "\n")
    return path


def _env(device) -> dict:
    env = dict(os.environ)
    if device.type == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    elif "CUDA_VISIBLE_DEVICES" not in env:  # one GPU: the HF Trainer would spread over all it sees
        env["CUDA_VISIBLE_DEVICES"] = str(torch.cuda.current_device())
    return env


def train_step(model_dir: Path, work: Path, sizes, device) -> dict:
    data = write_chats(work / "chats.jsonl", sizes)
    out = work / "trained"
    cmd = [sys.executable, "-m", "ts2.cli", "train", "--model", str(model_dir), "--data", str(data),
           "--output", str(out), "--loss", "ts2", "--fused_loss", "true", "--bf16", "true", "--max_steps", "1",
           "--report_to", "none", "--per_device_train_batch_size", str(sizes["train_batch"]),
           "--disable_tqdm", "true", "--save_strategy", "no", "--dataloader_pin_memory", "false"]
    if sizes["chunk"]:
        cmd += ["--chunk_size", str(sizes["chunk"])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(device), timeout=600)
    row = {"check": "train_step", "command": "ts2 train " + " ".join(cmd[4:]), "returncode": proc.returncode,
           "wall_s": time.perf_counter() - t0}
    record_path = out / "ts2_config.json"
    record = json.loads(record_path.read_text()) if record_path.is_file() else {}
    row.update(config_written=record_path.is_file(), fused_loss=record.get("fused_loss"),
               final_step=record.get("final_step"), bf16=record.get("training_args", {}).get("bf16"))
    row["passed"] = (proc.returncode == 0 and row["config_written"] and row["fused_loss"] is True
                     and row["final_step"] == 1 and row["bf16"] is True)
    if not row["passed"]:
        row["stderr_tail"] = proc.stderr[-3000:]
    return row


def _rendered(tok, sizes) -> list[list[int]]:
    import random

    rng = random.Random(1)
    texts = [_words(rng, 6 + i % 5, sizes["vocab"]) for i in range(sizes["prompts"])]
    return [list(tok.apply_chat_template([{"role": "user", "content": t}], add_generation_prompt=True,
                                         tokenize=True, return_dict=True)["input_ids"]) for t in texts]


def _sample_row(engine, generated, times, expected, **extra) -> dict:
    med = statistics.median(times)
    return {"engine": engine, "generated_tokens": generated, "expected_tokens": expected, "times_s": times,
            "time_s": med, "tokens_per_s": generated / med if med else None, **extra}


def sample_native(model, tok, rendered, sizes, device) -> dict:
    from ts2.generate import Runtime, batches
    from ts2.generate.native import Decoding, sample_prompts
    from ts2.ops.sampling import sample_key

    n, new = sizes["n"], sizes["new_tokens"]
    decoding = Decoding(temperature=1.0, top_k=0, top_p=1.0, max_new_tokens=new)  # no stop ids: fixed length

    def one_pass():
        generated = 0
        for group in batches([len(r) for r in rendered], n, new, Runtime.batch_tokens):
            keys = [[sample_key(0, str(i), j) for j in range(n)] for i in group]
            samples = sample_prompts(model, [rendered[i] for i in group], keys, decoding, tok.pad_token_id)
            generated += sum(len(s.tokens) for per in samples for s in per)
        _sync(device)
        return generated

    one_pass()  # warm-up (kernels, allocator)
    times = []
    for _ in range(sizes["passes"]):
        t0 = time.perf_counter()
        generated = one_pass()
        times.append(time.perf_counter() - t0)
    return _sample_row("native", generated, times, len(rendered) * n * new)


def sample_hf(model, tok, rendered, sizes, device) -> dict:
    from ts2.generate.native import pad_batch

    n, new = sizes["n"], sizes["new_tokens"]
    ids, mask = pad_batch(rendered, tok.pad_token_id, device)

    def one_pass():
        with torch.no_grad():
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=1.0, top_k=0,
                                 top_p=1.0, num_return_sequences=n, max_new_tokens=new, min_new_tokens=new,
                                 pad_token_id=tok.pad_token_id)
        _sync(device)
        return int(out[:, ids.shape[1]:].numel())

    torch.manual_seed(0)
    one_pass()
    times = []
    for _ in range(sizes["passes"]):
        t0 = time.perf_counter()
        generated = one_pass()
        times.append(time.perf_counter() - t0)
    return _sample_row("hf_generate", generated, times, len(rendered) * n * new)


def vllm_worker(model_dir: str, rendered_path: str, sizes_json: str) -> None:
    """Run in a subprocess: ts2's --engine vllm sampler (its vLLM engine and settings) on the same
    token ids; prints one JSON line.  Samples may end at the end-of-turn id (vLLM's stop rules)."""
    from ts2.generate import Runtime, Sampler, SamplingSettings

    sizes = json.loads(sizes_json)
    rendered = json.loads(Path(rendered_path).read_text())
    t0 = time.perf_counter()
    sampler = Sampler.load(model_dir, Runtime(engine="vllm"))
    startup = time.perf_counter() - t0
    settings = SamplingSettings(n=sizes["n"], temperature=1.0, top_k=0, top_p=1.0,
                                max_new_tokens=sizes["new_tokens"], seed=0)
    ids = [str(i) for i in range(len(rendered))]
    sampler.sample_group(ids, rendered, settings)  # warm-up
    times = []
    for _ in range(sizes["passes"]):
        t1 = time.perf_counter()
        samples = sampler.sample_group(ids, rendered, settings)
        times.append(time.perf_counter() - t1)
    generated = sum(len(s.tokens) for per in samples for s in per)
    import vllm

    row = _sample_row("vllm", generated, times, len(rendered) * sizes["n"] * sizes["new_tokens"],
                      startup_s=startup, vllm=vllm.__version__)
    sampler.close()
    print("GPU_CHECK_VLLM " + json.dumps(row))


def sample_vllm(model_dir: Path, rendered, sizes, work: Path, device) -> dict:
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return {"engine": "vllm", "skipped": "not installed"}
    path = work / "rendered.json"
    path.write_text(json.dumps(rendered))
    proc = subprocess.run([sys.executable, __file__, "_vllm_worker", str(model_dir), str(path), json.dumps(sizes)],
                          capture_output=True, text=True, env=_env(device), timeout=600)
    for line in proc.stdout.splitlines():
        if line.startswith("GPU_CHECK_VLLM "):
            return json.loads(line.removeprefix("GPU_CHECK_VLLM "))
    return {"engine": "vllm", "error": f"exit {proc.returncode}", "stderr_tail": proc.stderr[-3000:]}


def generate_cli(model_dir: Path, work: Path, sizes, device) -> dict:
    """``ts2 generate`` (its CLI entry point, in this process) on the device: exit 0, one row per prompt."""
    prompts = work / "prompts.jsonl"
    import random

    rng = random.Random(2)
    prompts.write_text("".join(json.dumps({"id": f"p{i}", "messages": [
        {"role": "user", "content": _words(rng, 5, sizes["vocab"])}]}) + "\n" for i in range(4)))
    out = work / "generations.jsonl"
    argv = ["generate", "--model", str(model_dir), "--prompts", str(prompts), "--output", str(out), "--n", "2",
            "--max_new_tokens", "8", "--device", device.type, "--no_progress"]
    import contextlib
    import io

    from ts2.cli import main as ts2_main

    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):  # in process: no second start-up
        code = ts2_main(argv)
    rows = [json.loads(line) for line in out.read_text().splitlines()] if out.is_file() else []
    row = {"check": "generate_cli", "command": "ts2 " + " ".join(argv), "returncode": code,
           "rows": len(rows), "summary": stdout.getvalue().strip().splitlines()[-1:] or None,
           "dtype": rows[0]["settings"].get("dtype") if rows else None}
    row["passed"] = code == 0 and len(rows) == 4 and all(len(r["responses"]) == 2 for r in rows)
    if not row["passed"]:
        row["stderr_tail"] = stderr.getvalue()[-3000:]
    return row


def sampling(model_dir: Path, work: Path, sizes, device) -> tuple[list[dict], dict]:
    from ts2.hf.loading import load_model

    dtype = "bfloat16" if device.type == "cuda" else "float32"
    model, tok = load_model(str(model_dir), device.type, dtype)
    rendered = _rendered(tok, sizes)
    rows = []
    for fn in (sample_native, sample_hf):
        try:
            rows.append({**fn(model, tok, rendered, sizes, device), "dtype": dtype})
        except Exception as exc:  # recorded, the other engines still run
            rows.append({"engine": fn.__name__.removeprefix("sample_"), "error": _error(exc)})
    del model
    _free(device)  # vLLM (a subprocess) wants 90% of the card's memory free
    rows.append({**sample_vllm(model_dir, rendered, sizes, work, device), "dtype": dtype})
    rate = {r["engine"]: r.get("tokens_per_s") for r in rows}
    check = {"check": "sampling", "passed": all("error" not in r for r in rows)
             and all(r.get("generated_tokens") == r.get("expected_tokens") for r in rows[:2]),
             "native_over_hf_generate": _ratio(rate.get("native"), rate.get("hf_generate")),
             "native_over_vllm": _ratio(rate.get("native"), rate.get("vllm"))}
    return rows, check


def _ratio(a, b):
    return a / b if a and b else None


# ---------------------------------------------------------------------------------------------
# driver


def _error(exc: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(exc), exc)).strip()[-2000:]


def environment(device) -> dict:
    import transformers

    import ts2

    env = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
           "device_type": device.type, "torch": torch.__version__, "cuda": torch.version.cuda,
           "python": platform.python_version(), "transformers": transformers.__version__,
           "ts2": getattr(ts2, "__version__", None)}
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env.update(memory_bytes=props.total_memory, capability=f"{props.major}.{props.minor}",
                   allow_tf32_matmul=torch.backends.cuda.matmul.allow_tf32)
    for name in ("liger_kernel", "vllm"):
        try:
            from importlib.metadata import version

            env[name] = version(name.replace("_", "-"))
        except Exception:
            env[name] = None
    return env


def write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=str) + "\n")
    os.replace(tmp, path)


def _margin(c: dict) -> float:
    """The largest error / tolerance ratio of a loss check (<= 1 passes)."""
    pairs = [("loss_max_abs_err", "loss_tol"), ("loss_abs_err", "loss_tol"), ("grad_max_abs_err", "grad_tol"),
             ("grad_hidden_norm_err", "grad_hidden_tol"), ("grad_weight_norm_err", "grad_weight_tol")]
    ratios_ = [c[a] / c[b] for a, b in pairs if isinstance(c.get(b), float) and c[b] > 0 and a in c]
    return max(ratios_, default=float("nan"))


def _detail(c: dict) -> str:
    if "error" in c:
        return c["error"].splitlines()[-1][:200]
    if "loss_tol" in c:
        keys = [k for k in c if k.endswith("_err") or k.endswith("_tol") or k == "grad_rounding_excess"]
        return ", ".join(f"{k} {c[k]:.2e}" if isinstance(c[k], float) else f"{k} {c[k]}" for k in keys)
    text = ", ".join(f"{k} {c[k]:.2f}" if isinstance(c[k], float) else f"{k} {c[k]}"
                     for k in ("returncode", "fused_loss", "final_step", "rows", "native_over_hf_generate",
                               "native_over_vllm") if k in c and c[k] is not None)
    tail = [line for line in c.get("stderr_tail", "").splitlines() if line.strip()]
    return text + (f"; stderr: {tail[-1][:200]}" if tail else "")


def summary(result: dict) -> str:
    env = result["environment"]
    lines = [f"gpu-check on {env['device']} (torch {env['torch']}, CUDA {env['cuda']}), sizes {result['size']}: "
             f"{'PASSED' if result['passed'] else 'FAILED'} in {result['wall_s']:.0f} s"]
    loss_checks = [c for c in result["checks"] if c["check"].startswith(("logits/", "fused/"))]
    ok = [c for c in loss_checks if c["passed"]]
    if ok:
        worst = max(ok, key=_margin)
        lines.append(f"  loss checks: {len(ok)}/{len(loss_checks)} passed against float64; largest error/tolerance "
                     f"{_margin(worst):.2f} ({worst['check']})")
    for c in result["checks"]:
        if not c["passed"] or c not in loss_checks:
            lines.append(f"  {'ok  ' if c['passed'] else 'FAIL'} {c['check']}: {_detail(c)}")
    names = {"ts2": "ts2", "ts2_ce": "ts2 ce", "ts2_fused": "fused ts2", "ts2_fused_ce": "fused ce",
             "torch_ce": "torch CE", "torch_matmul_ce": "matmul+CE", "liger_fused_linear_ce": "Liger"}
    groups = {}
    for r in result["ratios"]:
        text = (f"{names[r['method']]}/{names[r['baseline']]} {r['time_ratio']:.2f}x"
                + (f" (mem {r['memory_ratio']:.2f}x)" if "memory_ratio" in r else "")) if "time_ratio" in r \
            else f"{names[r['method']]}/{names[r['baseline']]} {r.get('error')}"
        groups.setdefault((r["dtype"], r["tokens"]), []).append(text)
    for (dtype, tokens), texts in groups.items():
        lines.append(f"  time {dtype} N={tokens}: " + "; ".join(texts))
    failed = [r for r in result["timings"] if "error" in r]
    if failed:
        lines.append("  timings not measured: " + "; ".join(f"{r['method']} {r['dtype']} N={r['tokens']}: "
                                                            f"{r['error'][:80]}" for r in failed))
    rates = []
    for r in result["sampling"]:
        rate = r.get("tokens_per_s")
        rates.append(f"{r['engine']} " + (f"{rate:.0f}" if rate else f"({r.get('skipped') or r.get('error', '-')})"))
    if rates:
        lines.append("  sampling tokens/s: " + ", ".join(rates))
    lines.append("  step wall times: " + ", ".join(f"{k} {v:.0f} s" for k, v in result["step_wall_s"].items()))
    return "\n".join(lines)


def run_check(args, device) -> dict:
    sizes = SIZES["tiny" if args.tiny else "quick" if args.quick else "full"]
    t0 = time.perf_counter()
    result = {"issue": 37, "size": "tiny" if args.tiny else "quick" if args.quick else "full",
              "sizes": sizes, "criteria": CRITERIA, "environment": environment(device),
              "checks": [], "timings": [], "ratios": [], "sampling": []}
    checks = result["checks"]
    steps = result["step_wall_s"] = {}
    mark = [time.perf_counter()]

    def lap(step):
        now = time.perf_counter()
        steps[step] = now - mark[0]
        mark[0] = now

    def guarded(label, fn, *a):
        try:
            return fn(*a)
        except Exception as exc:
            checks.append({"check": label, "passed": False, "error": _error(exc)})
            _free(device)
            return None

    for dtype_name in DTYPES:
        for n in sizes["tokens"]:
            for name in ("ce", "ts2"):
                for path, fn in (("logits", check_logits), ("fused", check_fused)):
                    row = guarded(f"{path}/{name}/{dtype_name}/{n}", fn, name, dtype_name, n, sizes, device)
                    if row is not None:
                        checks.append(row)
                    _free(device)
                    _progress(args, checks[-1])
    lap("1_loss_checks")
    for dtype_name in DTYPES:
        for n in sizes["tokens"]:
            try:
                result["timings"].extend(timings(dtype_name, n, sizes, device))
            except Exception as exc:
                result["timings"].append({"kind": "-", "method": "-", "dtype": dtype_name, "tokens": n,
                                          "error": _error(exc)})
            _free(device)
    result["ratios"] = ratios([r for r in result["timings"] if r["method"] != "-"])
    lap("2_timings")
    with tempfile.TemporaryDirectory(prefix="ts2-gpu-check-") as tmp:
        work = Path(tmp)
        model_dir = guarded("make_model", make_model_dir, work / "model", sizes)
        if model_dir is not None:
            row = guarded("train_step", train_step, model_dir, work, sizes, device)
            if row is not None:
                checks.append(row)
            _progress(args, checks[-1])
            lap("3_train_step")
            got = guarded("sampling", sampling, model_dir, work, sizes, device)
            if got is not None:
                result["sampling"], check = got
                checks.append(check)
            _progress(args, checks[-1])
            lap("4_sampling")
            row = guarded("generate_cli", generate_cli, model_dir, work, sizes, device)
            if row is not None:
                checks.append(row)
            _progress(args, checks[-1])
            lap("4_generate_cli")
    result["passed"] = all(c["passed"] for c in checks)
    result["wall_s"] = time.perf_counter() - t0
    return result


def _free(device):
    import gc

    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


def _progress(args, row):
    if not args.quiet:
        print(f"gpu-check: {'ok  ' if row['passed'] else 'FAIL'} {row['check']}", file=sys.stderr, flush=True)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_vllm_worker"]:
        vllm_worker(*argv[1:])
        return 0
    p = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="8k tokens only, fewer repetitions")
    p.add_argument("--output", help=f"results JSON (default {RESULTS})")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.add_argument("--device", default="cuda", help=argparse.SUPPRESS)  # cpu: walk the steps (tests)
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # toy sizes (tests)
    args = p.parse_args(argv)
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu-check: no CUDA device (torch.cuda.is_available() is False); nothing to check")
        return 0
    device = torch.device(args.device)
    if device.type != "cuda" and args.output is None:
        p.error("--device cpu needs --output (benchmarks/results/gpu.json holds GPU results only)")
    output = Path(args.output) if args.output else RESULTS
    if output.is_dir():
        p.error(f"--output {output} is a directory")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    result = run_check(args, device)
    write_atomic(output, result)
    print(summary(result))
    print(f"gpu-check: results in {output}")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
