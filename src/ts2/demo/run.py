"""`ts2 demo`: the paper's claim in miniature, end to end, through ts2's own train/generate/metrics.

Stage 1 trains a tiny Llama (word-level tokenizer trained here) on "Q: ... A: ..." text in which
valid answers appear uniformly; stage 2 fine-tunes copies of it on chat data with one narrow
response per prompt, with each method; then every model samples n responses per held-out prompt
(softmax, two temperatures, top-p 0.9) and is scored.  Every step writes its files into the
output directory and is skipped when they already exist, so an interrupted demo resumes.
"""

from __future__ import annotations

import json
import logging
import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import fmean, pstdev

from . import world

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
SPECIALS = ["<pad>", "<unk>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
METHODS = {  # name -> ts2 train settings (same steps, lr and data order for all)
    "ce": {"loss": "ce"},
    "gem": {"loss": "gem"},
    "sparsemax": {"loss": "sparsemax"},
    "ts2": {"loss": "ts2", "alpha": 0.25},
    "neftune": {"loss": "ce", "neftune_noise_alpha": 5.0},
}
PROBE_METHODS = ("base", "ce", "gem", "sparsemax", "ts2")
PROBE_TASK = ("number", (10,))


@dataclass
class Budget:
    """Sizes and steps, fixed before looking at results (see the README's demo section)."""

    pretrain_lines: int = 60000
    pretrain_steps: int = 1500
    pretrain_lr: float = 3e-3
    sft_steps: int = 150
    sft_lr: float = 1e-3
    batch_size: int = 32
    seeds: tuple = (0, 1, 2)
    temperatures: tuple = (1.0, 0.6)
    n: int = 16
    top_p: float = 0.9
    eval_prompts_per_family: int = 12
    hidden: int = 128
    layers: int = 4

    @classmethod
    def quick(cls) -> Budget:
        return cls(pretrain_lines=8000, pretrain_steps=120, sft_steps=30, seeds=(0,), temperatures=(1.0,),
                   n=8, eval_prompts_per_family=3, hidden=64, layers=2)


class Paths:
    def __init__(self, root: Path):
        self.root = root
        self.pretrain = root / "data" / "pretrain.jsonl"
        self.sft = root / "data" / "sft.jsonl"
        self.init = root / "models" / "init"
        self.base = root / "models" / "base"


def _write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows))
    os.replace(tmp, path)


def build_tokenizer(vocab: list[str]):
    import transformers as tf
    from tokenizers import Tokenizer, models, pre_tokenizers

    core = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(SPECIALS + vocab)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tf.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<pad>",
                                      eos_token="<|end|>", additional_special_tokens=SPECIALS[3:])


def build_base(paths: Paths, families, budget: Budget, log) -> Path:
    """Stage 1: tokenizer + fresh tiny Llama, trained on the stage-1 text with ts2 train (CE)."""
    import transformers as tf

    from ..training import train

    if (paths.base / "ts2_config.json").is_file():
        return paths.base
    rng = random.Random(1)
    lines = world.pretraining_text(families, budget.pretrain_lines, rng)
    _write_jsonl(paths.pretrain, ({"prompt": "", "completion": line} for line in lines))
    tok = build_tokenizer(world.vocabulary())
    tf.set_seed(0)
    config = tf.LlamaConfig(vocab_size=len(tok), hidden_size=budget.hidden, intermediate_size=3 * budget.hidden,
                            num_hidden_layers=budget.layers, num_attention_heads=4, num_key_value_heads=4,
                            max_position_embeddings=64, pad_token_id=tok.pad_token_id,
                            eos_token_id=tok.eos_token_id, bos_token_id=None, tie_word_embeddings=True)
    tf.LlamaForCausalLM(config).save_pretrained(paths.init)
    tok.save_pretrained(paths.init)
    log(f"stage 1: pretraining a {sum(p.numel() for p in tf.LlamaForCausalLM(config).parameters()) / 1e6:.1f}M"
        f"-parameter Llama on {len(lines)} lines")
    train(model=str(paths.init), data=str(paths.pretrain), output=str(paths.base), loss="ce",
          max_steps=budget.pretrain_steps, learning_rate=budget.pretrain_lr, warmup_steps=0.05,
          per_device_train_batch_size=budget.batch_size, max_seq_length=48, seed=0, data_seed=0,
          report_to="none", save_strategy="no", logging_steps=50, disable_tqdm=True, adam_beta2=0.99)
    return paths.base


def fine_tune(paths: Paths, method: str, seed: int, budget: Budget) -> Path:
    from ..training import train

    out = paths.root / "models" / f"{method}-seed{seed}"
    if (out / "ts2_config.json").is_file():
        return out
    train(model=str(paths.base), data=str(paths.sft), output=str(out), chat_template=CHAT_TEMPLATE,
          max_steps=budget.sft_steps, learning_rate=budget.sft_lr, per_device_train_batch_size=budget.batch_size,
          warmup_steps=0.03, seed=seed, data_seed=seed, max_seq_length=48, report_to="none",
          save_strategy="no", logging_steps=25, disable_tqdm=True, **METHODS[method])
    return out


def eval_tasks(families, budget: Budget) -> list[world.Task]:
    tasks = []
    for name in ("prime", "multiple", "word", "number", "add", "reverse"):
        tasks += families[name]["heldout"][: budget.eval_prompts_per_family]
    return tasks


def prompt_text(task: world.Task, chat: bool) -> str:
    """The chat models get the bare question (their template wraps it); the base its stage-1 format."""
    return task.prompt if chat else f"Q: {task.prompt} A:"


def sample(model_dir: Path, tasks, chat: bool, temperature: float, seed: int, budget: Budget) -> dict:
    """Responses per task id, through ts2 generate (resumable file next to the model)."""
    from ..generate import SamplingSettings, generate

    prompts = model_dir / "eval_prompts.jsonl"
    _write_jsonl(prompts, ({"id": t.id, "prompt": prompt_text(t, chat)} for t in tasks))
    settings = SamplingSettings(n=budget.n, temperature=temperature, top_k=0, top_p=budget.top_p,
                                max_new_tokens=8, seed=seed, batch_size=budget.n)
    out = model_dir / f"samples-T{temperature}-seed{seed}.jsonl"
    generate(str(model_dir), str(prompts), str(out), settings, use_chat=chat, progress=False)
    return {row["id"]: row["responses"] for row in map(json.loads, out.read_text().splitlines())}


def score(tasks, responses: dict, n: int) -> dict:
    """Accuracy, coverage, pass@k and diversity of one model's samples (pure given the inputs)."""
    from ..metrics.code import pass_at_k
    from ..metrics.diversity import diversity_report

    def answer(r):  # the answer is what comes before the end of the turn / line
        return r.split("Q:")[0].strip()

    open_tasks = [t for t in tasks if not t.closed]
    closed = [t for t in tasks if t.closed]
    valid = {t.id: [world.is_valid(t, answer(r)) for r in responses[t.id]] for t in tasks}
    coverage = [len({answer(r) for r, ok in zip(responses[t.id], valid[t.id]) if ok}) / min(n, len(t.valid))
                for t in open_tasks]
    report = {
        "accuracy": fmean(v for t in tasks for v in valid[t.id]),
        "accuracy_open": fmean(v for t in open_tasks for v in valid[t.id]),
        "coverage": fmean(coverage),
        **{f"pass@{k}": fmean(pass_at_k(n, sum(valid[t.id]), k) for t in closed) for k in (1, 4, n)},
    }
    div = diversity_report([[answer(r) for r in responses[t.id]] for t in open_tasks])
    report.update({k: div[k] for k in ("distinct_1", "distinct_2", "self_bleu")})
    return report


def answer_position(model_dir: Path, tasks, chat: bool) -> dict:
    """Softmax mass outside the valid first tokens, and entropy, at the answer position."""
    from ..probe import NextTokenProbe

    probe = NextTokenProbe(str(model_dir))
    open_tasks = [t for t in tasks if not t.closed]
    results = [probe(prompt_text(t, chat), list(t.valid), chat=chat) for t in open_tasks]
    return {"invalid_mass": fmean(r["mass_outside_valid"] for r in results),
            "entropy": fmean(r["entropy"] for r in results)}


def aggregate(rows: list[dict]) -> dict:
    """Mean and population std over seeds of every metric (None where a seed has no value, e.g.
    distinct-2 of one-word answers; "seeds" lists the seeds that had one)."""
    out = {}
    for key in rows[0]["metrics"]:
        pairs = [(r["seed"], r["metrics"][key]) for r in rows if r["metrics"][key] is not None]
        values = [v for _, v in pairs]
        out[key] = {"mean": fmean(values) if values else None, "std": pstdev(values) if values else None,
                    "seeds": [s for s, _ in pairs]}
    return out


def run_demo(output: str, quick: bool = False, log=print, progress=None) -> dict:
    """Run (or resume) the whole demo into ``output``; returns the report dict.

    ``progress(done, total)`` is called after each unit of work (pretraining, each fine-tuning
    run, each model's sampling), for a progress bar."""
    import transformers as tf

    tf.utils.logging.set_verbosity_error()
    tf.utils.logging.disable_progress_bar()
    logging.getLogger("ts2").setLevel(logging.WARNING)
    budget = Budget.quick() if quick else Budget()
    paths = Paths(Path(output))
    families = world.task_families(random.Random(0))
    _write_jsonl(paths.sft, world.sft_records(families, random.Random(2)))
    total = 1 + 2 * len(METHODS) * len(budget.seeds) + len(budget.seeds)
    done = 0

    def advance():
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total)

    base = build_base(paths, families, budget, log)
    advance()
    tasks = eval_tasks(families, budget)
    models = {("base", s): base for s in budget.seeds}
    for method in METHODS:
        for seed in budget.seeds:
            log(f"stage 2: fine-tuning {method} (seed {seed})")
            models[(method, seed)] = fine_tune(paths, method, seed, budget)
            advance()
    rows = []
    for (method, seed), model_dir in models.items():
        chat = method != "base"
        position = answer_position(model_dir, tasks, chat)
        for temperature in budget.temperatures:
            log(f"sampling {method} seed {seed} T={temperature}")
            responses = sample(model_dir, tasks, chat, temperature, seed, budget)
            metrics = {**score(tasks, responses, budget.n), **position}
            rows.append({"method": method, "seed": seed, "temperature": temperature, "metrics": metrics})
        advance()
    summary = {}
    for method in ("base", *METHODS):
        for temperature in budget.temperatures:
            group = [r for r in rows if r["method"] == method and r["temperature"] == temperature]
            summary.setdefault(method, {})[f"T={temperature}"] = aggregate(group)
    from ..probe import NextTokenProbe, plot_probe

    task = world.make_task(*PROBE_TASK)
    probes = [NextTokenProbe(str(models[(m, budget.seeds[0])]))(prompt_text(task, m != "base"), list(task.valid),
                                                                 chat=m != "base") for m in PROBE_METHODS]
    plot_probe(probes, paths.root / "probe.png", list(PROBE_METHODS))
    report = {"methods": summary, "runs": rows, "probe": {"task": task.prompt, "results": probes},
              "settings": {"budget": asdict(budget), "methods": METHODS, "chat_template": CHAT_TEMPLATE,
                           "sft_examples": len(paths.sft.read_text().splitlines()),
                           "eval_tasks": [t.id for t in tasks], "quick": quick}}
    _write_report(paths.root, report, budget)
    return report


def _fmt(cell: dict) -> str:
    return "n/a" if cell["mean"] is None else f"{cell['mean']:.3f} ± {cell['std']:.3f}"


def table_rows(report: dict, temperature: float):
    columns = ("accuracy", "coverage", "pass@1", "distinct_1", "self_bleu", "invalid_mass", "entropy")
    for method, by_t in report["methods"].items():
        cells = by_t[f"T={temperature}"]
        yield method, [_fmt(cells[c]) for c in columns]


def _write_report(root: Path, report: dict, budget: Budget) -> None:
    from ..evaluate import write_json_atomic

    write_json_atomic(root / "report.json", report)
    header = "| method | accuracy | coverage | pass@1 (closed) | distinct-1 | self-BLEU | invalid mass | entropy |"
    lines = ["# ts2 demo report", "",
             f"Seeds {list(budget.seeds)}, n = {budget.n} samples per prompt, top-p {budget.top_p}; "
             "mean ± std over seeds. Accuracy: share of samples that are well-formed and valid; coverage: "
             "distinct valid answers per open prompt / min(n, number of valid answers); invalid mass: "
             "softmax mass outside the valid answers at the answer position.", ""]
    for temperature in budget.temperatures:
        lines += [f"## Temperature {temperature}", "", header, "|---" * 8 + "|"]
        lines += [f"| {m} | " + " | ".join(cells) + " |" for m, cells in table_rows(report, temperature)]
        lines.append("")
    lines += ["![next-token distributions](probe.png)", ""]
    (root / "report.md").write_text("\n".join(lines))
