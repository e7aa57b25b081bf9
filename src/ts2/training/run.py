"""`ts2 train`: fine-tune a Transformers causal LM with a ts2 loss (or a baseline) via the HF Trainer.

Everything that can be checked is checked before the output directory is touched (loss name and
arguments, model path, every data record, the chat template); then the model is trained with
``TS2Trainer`` and saved with its tokenizer and ``ts2_config.json`` (written last, atomically:
its presence marks a complete model directory).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

from transformers import TrainingArguments

from ..formats import DataError, auto_bool, check_output_dir, read_text, write_text_atomic
from ..hf.hub import Resolved, resolve_dataset, resolve_model
from ..hf.loading import load_tokenizer, stop_token_ids
from ..hf.weights import model_errors, weights_problem
from ..losses import LOSS_SETTINGS, LOSSES, get_loss
from ..ops.driver import check_choice
from .data import read_records, tokenize_records

logger = logging.getLogger("ts2.train")
CONFIG_NAME = "ts2_config.json"


@dataclass
class TS2Arguments:
    """What ts2 adds to the HF TrainingArguments (every TrainingArguments flag also works)."""

    model: str = field(default=None, metadata={
        "help": "A Transformers causal LM: a local directory or a Hugging Face Hub id (ORG/NAME)."})
    revision: str = field(default=None, metadata={
        "help": "Hub ids: the branch, tag or commit of --model (default main); the commit used is recorded."})
    data: str = field(default=None, metadata={
        "help": "Training data: JSONL file, saved HF dataset dir, or a Hub dataset id (ORG/NAME, with --split)."})
    eval_data: str = field(default=None, metadata={
        "help": "Evaluation data in the same formats; evaluated with the same loss and diagnostics "
                "(eval_loss, eval_ts2/*) every epoch unless --eval_strategy says otherwise."})
    split: str = field(default="train", metadata={
        "help": "Split of --data when it is a dataset dict or a Hub dataset (e.g. train_sft)."})
    eval_split: str = field(default=None, metadata={
        "help": "Split of --eval_data when it is a dataset dict or a Hub dataset (default: --split)."})
    column: str = field(default=None, metadata={
        "help": "Dataset column holding each row's conversation (a list of messages), e.g. chosen; "
                "default: the records' own messages or prompt/completion fields."})
    data_revision: str = field(default=None, metadata={
        "help": "Hub dataset ids: the branch, tag or commit of --data and --eval_data (default main)."})
    output: str = field(default=None, metadata={"help": "Directory for checkpoints and the final model."})
    loss: str = field(default="ts2", metadata={"help": f"Loss: one of {', '.join(LOSSES)}."})
    alpha: float = field(default=0.25, metadata={"help": "Sparsemax+ suppression weight (ts2 losses)."})
    temperature: float = field(default=1.0, metadata={"help": "Sparsemax temperature (sparsemax/ts2)."})
    gem_beta: float = field(default=0.7, metadata={"help": "GEM: q = softmax(logits / beta)."})
    gem_h: str = field(default="linear", metadata={"help": "GEM weighting: linear or logsigmoid."})
    fused_loss: str = field(default="auto", metadata={
        "help": "Compute the loss from hidden states chunk by chunk, never materialising the logits: "
                "true, false or auto (true where the model supports it)."})
    chunk_size: int = field(default=None, metadata={"help": "Rows per chunk of the fused loss."})
    max_seq_length: int = field(default=2048, metadata={"help": "Truncate examples to this many tokens."})
    chat_template: str = field(default=None, metadata={
        "help": "Jinja chat template (a string or a file) for tokenizers that have none."})
    lora_r: int = field(default=0, metadata={"help": "LoRA rank; 0 trains all weights."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha."})
    lora_dropout: float = field(default=0.05, metadata={"help": "LoRA dropout."})
    lora_target_modules: str = field(default="all-linear", metadata={
        "help": "LoRA target modules: comma-separated names or all-linear."})

    def loss_kwargs(self) -> dict:
        """The settings of the chosen loss (``ts2.losses.LOSS_SETTINGS``) from these arguments."""
        fields_of = {"beta": "gem_beta", "h": "gem_h"}  # GEM's settings carry its name as flags
        check_choice("loss", self.loss, LOSS_SETTINGS)
        return {**{k: getattr(self, fields_of.get(k, k)) for k in LOSS_SETTINGS[self.loss]},
                "chunk_size": self.chunk_size}

    def fused(self) -> bool | None:
        return auto_bool("fused_loss", self.fused_loss)


def _has_accelerator() -> bool:
    import torch

    return torch.cuda.is_available() or (hasattr(torch, "xpu") and torch.xpu.is_available()) or \
        torch.backends.mps.is_available()


@dataclass
class TS2TrainingArguments(TrainingArguments):
    """HF TrainingArguments with the paper's recipe as defaults (lr 2e-5, cosine, 3% warmup,
    3 epochs, adam beta2 0.95, max_grad_norm 1.0), TensorBoard logging, and use_cpu on machines
    without an accelerator."""

    learning_rate: float = field(default=2e-5, metadata={"help": "Peak learning rate."})
    lr_scheduler_type: str = field(default="cosine", metadata={"help": "Learning-rate schedule."})
    warmup_steps: float = field(default=0.03, metadata={"help": "Warm-up: steps, or a fraction if < 1."})
    num_train_epochs: float = field(default=3.0, metadata={"help": "Epochs."})
    adam_beta2: float = field(default=0.95, metadata={"help": "Adam beta2."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm."})
    report_to: str | list[str] = field(default="tensorboard", metadata={"help": "Loggers, or none."})
    logging_steps: float = field(default=10, metadata={"help": "Log every N steps."})
    # Without it, HF/Accelerate do not set up gloo DDP for CPU-only torchrun runs and every process
    # would silently train on its own copy of the data.
    use_cpu: bool = field(default=not _has_accelerator(), metadata={
        "help": "Train on the CPU (default: true when no GPU/XPU/MPS device is present)."})
    # Evaluation keeps only the loss: gathering [tokens, vocab] logits of an evaluation set does not fit.
    prediction_loss_only: bool = field(default=True, metadata={
        "help": "Evaluation returns only the loss (no logits are gathered)."})

    def __post_init__(self):
        # The command line's parser gives the `str | list[str]` field no default (None without
        # --report_to), which the Trainer refuses ("None is not supported"): None means the default.
        if self.report_to is None or (isinstance(self.report_to, list) and None in self.report_to):
            self.report_to = [r for r in self.report_to or [] if r is not None] or "tensorboard"
        super().__post_init__()


def _read_chat_template(value: str | None) -> str | None:
    if value is None:
        return None
    path = Path(value)
    return read_text(path) if path.is_file() else value


@dataclass
class Prepared:
    """What ``prepare`` checked and built: the loss, the fused-path request, the tokenizer and the
    tokenized training (and evaluation) examples with the training data's statistics."""

    loss: object
    fused: bool | None
    tokenizer: object
    examples: list
    stats: object
    eval_examples: list | None
    model: Resolved | None = None  # where the model was found (its Hub commit, if any)
    sources: dict = field(default_factory=dict)  # "data" / "eval_data" -> Resolved


def resolved_data(script: TS2Arguments) -> dict:
    """The training (and evaluation) data as local paths, Hub dataset ids resolved to snapshots."""
    return {name: resolve_dataset(getattr(script, name), script.data_revision, f"--{name}",
                                  _split_of(script, name))
            for name in ("data", "eval_data") if getattr(script, name) is not None}


def _split_of(script: TS2Arguments, name: str) -> str:
    return script.split if name == "data" else (script.eval_split or script.split)


def prepare(script: TS2Arguments) -> Prepared:
    """All checks and data preparation that must succeed before anything is written."""
    for name in ("data", "output"):
        if getattr(script, name) is None:
            raise ValueError(f"{name} is required: --{name} PATH")
    loss = get_loss(script.loss, **script.loss_kwargs())
    fused = script.fused()
    check_output_dir(script.output, "--output")
    model = resolve_model(script.model, script.revision)
    problem = weights_problem(model.path)  # before the data is tokenized, not after
    if problem:
        raise DataError(f"cannot load model {script.model}: {problem}")
    sources = resolved_data(script)
    tokenizer = load_tokenizer(model.path)
    template = _read_chat_template(script.chat_template)
    if template is not None:
        tokenizer.chat_template = template
    sets = {}
    for name, source in sources.items():
        records = read_records(source.path, _split_of(script, name), script.column,
                               source.name if source.is_hub else None)
        examples, stats = tokenize_records(records, tokenizer, script.max_seq_length)
        logger.info("%s: %d examples, %d truncated to %d tokens, %d dropped (no response tokens left), "
                    "%d response tokens", name, stats.examples, stats.truncated, script.max_seq_length,
                    stats.dropped, stats.label_tokens)
        sets[name] = (examples, stats)
    examples, stats = sets["data"]
    eval_examples = sets["eval_data"][0] if "eval_data" in sets else None
    return Prepared(loss, fused, tokenizer, examples, stats, eval_examples, model, sources)


def load_training_model(script: TS2Arguments, model: Resolved | None = None):
    """The model to fine-tune: ``script.model`` (or its ``resolve_model`` result) as a causal LM,
    LoRA-wrapped when ``lora_r`` > 0."""
    from transformers import AutoModelForCausalLM

    path = resolve_model(model or script.model, script.revision).path
    with model_errors(path):
        model = AutoModelForCausalLM.from_pretrained(path)
    if script.lora_r > 0:
        from peft import LoraConfig, get_peft_model

        targets = script.lora_target_modules
        model = get_peft_model(model, LoraConfig(
            r=script.lora_r, lora_alpha=script.lora_alpha, lora_dropout=script.lora_dropout,
            target_modules=targets if targets == "all-linear" else targets.split(","),
            task_type="CAUSAL_LM"))
    return model


def _save_final(trainer, tokenizer, output: Path, script: TS2Arguments, stats, prepared: Prepared) -> None:
    """Save model + tokenizer into ``output``; ts2_config.json last, so it marks completeness."""
    staging = output / ".ts2-final.tmp"
    if trainer.is_world_process_zero() and staging.exists():
        shutil.rmtree(staging)
    trainer.save_model(str(staging))  # every process (sharded states are gathered), main writes
    trainer.accelerator.wait_for_everyone()
    if not trainer.is_world_process_zero():
        return
    tokenizer.save_pretrained(str(staging))
    _save_generation_config(trainer, tokenizer, staging)
    for entry in staging.iterdir():
        target = output / entry.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(entry, target)
    staging.rmdir()
    record = {"ts2": asdict(script), "training_args": trainer.args.to_dict(),
              "data": {"examples": stats.examples, "truncated": stats.truncated,
                       "dropped": stats.dropped, "response_tokens": stats.label_tokens},
              "fused_loss": trainer.fused_loss, "final_step": trainer.state.global_step,
              "distributed": _distributed_record(trainer), **_sources_record(prepared)}
    write_text_atomic(output / CONFIG_NAME, json.dumps(record, indent=2, default=str))


def _sources_record(prepared: Prepared) -> dict:
    """The exact model and data trained from: the Hub commit of each (None for local paths)."""
    record = {"model_revision": None if prepared.model is None else prepared.model.revision}
    for name, source in prepared.sources.items():
        record[f"{name}_revision"] = source.revision
    return record


def _distributed_record(trainer) -> dict:
    from ..hf.deepspeed import zero_stage

    return {"world_size": trainer.args.world_size, "fsdp": bool(getattr(trainer, "is_fsdp_enabled", False)),
            "deepspeed_zero_stage": zero_stage(trainer)}


def _save_generation_config(trainer, tokenizer, directory: Path) -> None:
    """generation_config.json whose eos ids include the chat template's end of turn, so that any
    sampler stops a response where the template ends the assistant turn (also for LoRA adapters)."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    config = base.generation_config
    config.eos_token_id = stop_token_ids(tokenizer, config)
    if config.pad_token_id is None:
        config.pad_token_id = tokenizer.pad_token_id
    config.save_pretrained(str(directory))


def _check_sharding_happens(args, trainer) -> None:
    """A requested FSDP or DeepSpeed run that the Trainer would not set up is an error: on a
    CPU-only torchrun the HF Trainer given --fsdp silently trains with plain DDP instead."""
    if args.fsdp and not getattr(trainer, "is_fsdp_enabled", False):
        raise ValueError(f"--fsdp was requested (fsdp={args.fsdp!r}) but the HF Trainer "
                         f"would not shard this run (it does not set up FSDP for CPU-only or single-process "
                         f"runs and would train unsharded instead); launch with accelerate/torchrun on GPUs, or "
                         f"drop --fsdp. To shard your own loop, wrap the model with torch.distributed.fsdp."
                         f"fully_shard after ts2.hf.enable_fused_loss(model, loss).")
    if args.deepspeed and not getattr(trainer, "is_deepspeed_enabled", False):
        raise ValueError(f"--deepspeed {args.deepspeed} was requested but the HF Trainer did not enable DeepSpeed")


def check_training_arguments(args: TrainingArguments) -> None:
    """Refuse, before anything is loaded or written, numbers the Trainer would only trip over
    later (a batch size of 0 fails in the data loader, after the output directory is made) and a
    logger that is not installed; the message names the flag and the value."""
    for name in ("per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name} must be >= 1, got --{name} {getattr(args, name)}")
    if args.max_steps <= 0 and not args.num_train_epochs > 0:
        raise ValueError(f"--num_train_epochs must be > 0 (or --max_steps set), got --num_train_epochs "
                         f"{args.num_train_epochs}")
    for name in ("learning_rate", "weight_decay", "max_grad_norm", "warmup_steps"):
        value = getattr(args, name, 0)
        if value is not None and not value >= 0:
            raise ValueError(f"--{name} must be >= 0, got --{name} {value}")
    if not args.logging_steps > 0:
        raise ValueError(f"--logging_steps must be > 0, got --logging_steps {args.logging_steps}")
    reporters = args.report_to if isinstance(args.report_to, list) else [args.report_to]
    if "tensorboard" in reporters:
        from transformers.integrations import is_tensorboard_available

        if not is_tensorboard_available():
            raise ValueError("--report_to tensorboard (the default) needs TensorBoard, which is not installed: "
                             "pip install tensorboard, or pass --report_to none")


def split_settings(settings: dict) -> tuple[TS2Arguments, TS2TrainingArguments]:
    """Keyword settings -> (TS2Arguments, TS2TrainingArguments); unknown names are a ValueError."""
    from dataclasses import fields

    ts2_names = {f.name for f in fields(TS2Arguments)}
    hf_names = {f.name for f in fields(TS2TrainingArguments)}
    unknown = sorted(set(settings) - ts2_names - hf_names)
    if unknown:
        raise ValueError(f"unknown training settings: {', '.join(unknown)}")
    script = TS2Arguments(**{k: v for k, v in settings.items() if k in ts2_names})
    hf = {k: v for k, v in settings.items() if k in hf_names and k not in ts2_names}
    hf.setdefault("output_dir", script.output)
    return script, TS2TrainingArguments(**hf)


def train(script: TS2Arguments | None = None, args: TrainingArguments | None = None, **settings):
    """Fine-tune ``script.model`` on ``script.data``; returns the finished TS2Trainer (its
    ``state.log_history`` has the logs; the model is saved in ``script.output``).

    Either pass the two argument objects, or keyword settings of both kinds, e.g.
    ``train(model="base", data="train.jsonl", output="out", loss="ts2", max_steps=100)``.
    """
    from datasets import Dataset
    from transformers import DataCollatorForSeq2Seq

    from ..hf.trainer import TS2Trainer

    if script is None:
        script, args = split_settings(settings)
    elif settings:
        raise ValueError("pass either argument objects or keyword settings, not both")
    if args is not None:
        check_training_arguments(args)
    prepared = prepare(script)
    loss, tokenizer, eval_examples = prepared.loss, prepared.tokenizer, prepared.eval_examples
    output = Path(script.output)
    if args is None:
        args = TS2TrainingArguments(output_dir=str(output))
    args.output_dir = str(output)
    strategy = str(getattr(args.eval_strategy, "value", args.eval_strategy))
    if eval_examples is None and strategy != "no":
        raise ValueError(f"eval_strategy={strategy} needs evaluation data: --eval_data FILE")
    if eval_examples is not None and strategy == "no":
        from transformers.trainer_utils import IntervalStrategy

        # --eval_data asks for evaluation; the authors evaluate every epoch
        args.eval_strategy, args.do_eval = IntervalStrategy.EPOCH, True
    if args.deepspeed:
        from ..hf.deepspeed import init_deepspeed_comm, prepare_deepspeed, read_deepspeed_config

        read_deepspeed_config(args.deepspeed)
        prepare_deepspeed()  # DeepSpeed's CPU communication op, built once before the ranks need it
        init_deepspeed_comm(args)
    model = load_training_model(script, prepared.model)
    collator = DataCollatorForSeq2Seq(tokenizer, padding=True, label_pad_token_id=-100)
    trainer = TS2Trainer(model=model, args=args, train_dataset=Dataset.from_list(prepared.examples),
                         eval_dataset=None if eval_examples is None else Dataset.from_list(eval_examples),
                         data_collator=collator, processing_class=tokenizer, loss=loss, fused_loss=prepared.fused)
    _check_sharding_happens(args, trainer)
    logger.info("loss %r, fused path %s", loss, trainer.fused_loss)
    trainer.train(resume_from_checkpoint=args.resume_from_checkpoint)
    _save_final(trainer, tokenizer, output, script, prepared.stats, prepared)
    return trainer


__all__ = ["DataError", "TS2Arguments", "TS2TrainingArguments", "train"]
