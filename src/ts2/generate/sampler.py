"""`ts2 generate`: sample n responses per prompt with softmax (or sparsemax) decoding.

Output: JSONL, one prompt a line, ``{"id", "prompt", "responses": [...], "finish_reasons": [...],
"settings": {...}}``, appended and fsync'ed batch by batch.  Prompts are grouped into batches
from a token budget (``batch_tokens`` >= n x (longest prompt + max_new_tokens) per prompt); each
prompt is prefilled once and its n samples share that cache.

Randomness: sample j of prompt p draws from its own stream keyed by (seed, p's id, j)
(``ts2.ops.sampling``), so its tokens do not depend on the other prompts in its batch.  Batches
are formed from the whole prompt file, not from what is left to do, so rerunning the same command
after an interruption recomputes the same batches and writes exactly the bytes an uninterrupted
run writes (same device and batch_tokens).  Prompts already in the file are skipped, a partly
written last line is cut off, and a file written with other sampling settings is refused.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path

from ..formats import DataError, Prompt, read_prompts, resumable_rows
from .engine import Engine, load_engine
from .settings import GenerationResult, Runtime, SamplingSettings


def completed_ids(output: Path, settings: dict, prompts: dict | None = None, model: str | None = None) -> set[str]:
    """Ids already in ``output``; cuts off a partly written last line.  Resuming is refused (a
    DataError that names what changed and how to start fresh) when a row was written with other
    settings, by another model (rows that record one), or for a prompt whose text changed since:
    ``prompts`` maps id -> the prompt as a row records it (text or messages)."""
    fresh = f"delete {output} or use another output to start fresh, or rerun with what it was written with"
    done = set()
    for row in resumable_rows(output, required=("id",)):
        if row.get("settings") != settings:
            raise DataError(f"{output}: was written with other settings ({row.get('settings')}, now "
                            f"{settings}); {fresh}")
        if model is not None and row.get("model") not in (None, model):
            raise DataError(f"{output}: was written by model {row['model']}, now {model}; {fresh}")
        key = str(row["id"])
        if prompts is not None and key in prompts and "prompt" in row and row["prompt"] != prompts[key]:
            raise DataError(f"{output}: the prompt of id {key!r} changed since it was sampled (was "
                            f"{str(row['prompt'])[:80]!r}, now {str(prompts[key])[:80]!r}); {fresh}")
        done.add(key)
    return done


def render_prompt(prompt: Prompt, tokenizer, use_chat: bool | None) -> list[int]:
    """Token ids of the prompt: through the chat template (with the assistant header) or as text."""
    chat = tokenizer.chat_template is not None and prompt.chat if use_chat is None else use_chat
    if prompt.messages is not None and not chat:
        raise DataError(f"prompt {prompt.id}: chat messages need a chat template")
    if chat:
        if tokenizer.chat_template is None:
            raise DataError(f"prompt {prompt.id}: the tokenizer has no chat template")
        messages = prompt.messages or [{"role": "user", "content": prompt.text}]
        ids = list(tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                 return_dict=True)["input_ids"])
        if prompt.prefill:
            ids += tokenizer(prompt.prefill, add_special_tokens=False)["input_ids"]
        return ids
    return list(tokenizer(prompt.text)["input_ids"])


def response_text(tokens: list[int], tokenizer, stop_ids, stop_strings) -> tuple[str, str]:
    """(text, finish reason): a final stop token is dropped, the text is cut before the first
    stop string; reason "stop" for either, else "length"."""
    stopped = bool(tokens) and tokens[-1] in stop_ids
    text = tokenizer.decode(tokens[:-1] if stopped else tokens, skip_special_tokens=True)
    for s in stop_strings:
        if s in text:
            text, stopped = text[: text.index(s)], True
    return text, "stop" if stopped else "length"


class Sampler:
    """The engine-neutral loop of ``ts2 generate``: an ``Engine`` samples prompts into a resumable
    generations file (rendering, rows, their settings record and resume are the same for every
    engine)."""

    def __init__(self, engine: Engine, model_dir: str | None = None, revision: str | None = None):
        self.engine = engine
        # rows record the model: a local directory's absolute path, or a Hub id and its commit
        self.revision = revision
        self.model_dir = None if model_dir is None else \
            str(model_dir) if revision is not None else str(Path(str(model_dir)).resolve())

    @classmethod
    def load(cls, model_dir, runtime: Runtime | None = None, revision: str | None = None) -> Sampler:
        """The runtime's engine with the model of ``model_dir`` loaded: a local directory or a Hub id
        (at ``revision``; ``ts2.hf.hub.resolve_model``)."""
        from ..hf.hub import resolve_model

        runtime = runtime or Runtime()
        runtime.check()
        resolved = resolve_model(model_dir, revision)
        return cls(load_engine(resolved, runtime), _recorded_model(resolved), resolved.revision)

    @property
    def tokenizer(self):
        return self.engine.tokenizer

    @property
    def model(self):
        """The engine's Transformers model in this process, or None (vLLM's lives in its workers)."""
        return self.engine.model

    def run(self, prompts: list[Prompt], output, settings: SamplingSettings, use_chat: bool | None = None,
            batch_tokens: int = Runtime.batch_tokens, progress: bool = True) -> GenerationResult:
        from tqdm.auto import tqdm

        settings.check()
        Runtime(engine=self.engine.name).check_sampling(settings)
        output = Path(output)
        record = self.record(settings)
        done = self.completed(output, settings, prompts)
        rendered = [render_prompt(p, self.tokenizer, use_chat) for p in prompts]
        # Groups of the whole file, not of what is left: a resumed run samples the same groups.
        groups = self.engine.groups([len(r) for r in rendered], settings, batch_tokens)
        todo = [g for g in groups if any(prompts[i].id not in done for i in g)]
        output.parent.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=len(prompts), initial=len(done), unit="prompt", disable=not progress)
        sampled = responses = tokens = 0
        start = time.perf_counter()
        with open(output, "a", encoding="utf-8") as out:
            for group in todo:
                samples = self.sample_group([prompts[i].id for i in group], [rendered[i] for i in group], settings)
                for i, prompt_samples in zip(group, samples):
                    tokens += sum(len(s.tokens) for s in prompt_samples)
                    if prompts[i].id in done:
                        continue
                    out.write(json.dumps(self._row(prompts[i], prompt_samples, record, settings),
                                         ensure_ascii=False) + "\n")
                    sampled += 1
                    responses += len(prompt_samples)
                    bar.update(1)
                out.flush()
                os.fsync(out.fileno())
                elapsed = time.perf_counter() - start
                bar.set_postfix(prompts_per_s=f"{sampled / elapsed:.2f}", tokens_per_s=f"{tokens / elapsed:.1f}")
        bar.close()
        return GenerationResult(output, len(prompts), sampled, responses, tokens, time.perf_counter() - start)

    def sample_group(self, ids: list[str], rendered: list[list[int]], settings: SamplingSettings) -> list[list]:
        """The engine's samples of one group (``Engine.sample_group``)."""
        return self.engine.sample_group(ids, rendered, settings)

    def close(self) -> None:
        self.engine.close()

    def record(self, settings: SamplingSettings) -> dict:
        """The settings as every output row records them (what a resumed file must match): the
        engine's dtype and ``recorded`` fields; a Hub model's commit too (``model_revision``; a
        local directory records none)."""
        record = {**asdict(settings), "dtype": self.engine.dtype_name, **self.engine.recorded}
        if self.revision is not None:
            record["model_revision"] = self.revision
        return record

    def completed(self, output: Path, settings: SamplingSettings, prompts: list[Prompt]) -> set[str]:
        """``completed_ids`` of ``output`` for these settings, this model and these prompts."""
        return completed_ids(output, self.record(settings), {p.id: _recorded_prompt(p) for p in prompts},
                             self.model_dir)

    def _row(self, prompt: Prompt, samples, record: dict, settings: SamplingSettings) -> dict:
        texts = [response_text(s.tokens, self.tokenizer, self.engine.stop_ids, settings.stop) for s in samples]
        row = {"id": prompt.id, "prompt": _recorded_prompt(prompt),
               "responses": [t for t, _ in texts], "finish_reasons": [r for _, r in texts], "settings": record}
        if self.model_dir is not None:
            row["model"] = self.model_dir
        if prompt.prefill:
            row["prefill"] = prompt.prefill  # the responses continue this text
        if settings.record_token_probs:
            row["token_ids"] = [s.tokens for s in samples]
            row["token_probs"] = [[round(p, 6) for p in s.probs] for s in samples]
            row["token_ranks"] = [s.ranks for s in samples]
        return row


def _recorded_model(resolved) -> str:
    """What rows record as their model: a Hub id as named, a local directory as its path."""
    return resolved.name if resolved.is_hub else str(resolved.path)


def _recorded_prompt(prompt: Prompt):
    return prompt.text if prompt.messages is None else prompt.messages


def generate(model_dir: str, prompts_path: str, output: str, settings: SamplingSettings,
             column: str | None = None, use_chat: bool | None = None, progress: bool = True,
             runtime: Runtime | None = None, code_prompt: str = "completion",
             revision: str | None = None) -> GenerationResult:
    """Sample ``settings.n`` responses for every prompt of ``prompts_path`` into ``output`` (resumed)
    with the model of ``model_dir``: a directory or a Hub id (at ``revision``).
    Under a launcher (torchrun, accelerate launch) the prompts are shared out across the ranks and
    merged into ``output`` by rank 0 (``ts2.generate.sharding``); every rank returns the totals of all."""
    runtime = runtime or Runtime()
    runtime.check()
    settings.check()
    runtime.check_sampling(settings)
    prompts = read_prompts(prompts_path, column, code_prompt)
    return sample_file(model_dir, prompts, output, settings, use_chat, runtime, progress, revision)


def sample_file(model_dir: str, prompts: list[Prompt], output, settings: SamplingSettings, use_chat: bool | None,
                runtime: Runtime, progress: bool = True, revision: str | None = None) -> GenerationResult:
    """``prompts`` sampled into ``output`` (resumed) by the runtime's engine with the model of
    ``model_dir``: in this process, or under a launcher each rank its share, merged by rank 0
    (``ts2.generate.sharding``; every rank returns the totals of all)."""
    from ..hf.hub import resolve_model
    from . import sharding

    model = resolve_model(model_dir, revision)  # before any output: a model that cannot be had is refused
    ranks = sharding.launcher_ranks()
    if ranks is None:
        sampler = Sampler.load(model, runtime)
        return sampler.run(prompts, output, settings, use_chat, runtime.batch_tokens, progress)
    sampler = Sampler.load(model, sharding.rank_runtime(runtime, ranks))
    try:
        return sharding.sample_shared(sampler, prompts, output, settings, use_chat, runtime.batch_tokens, progress,
                                      ranks)
    finally:
        sharding.finish()
