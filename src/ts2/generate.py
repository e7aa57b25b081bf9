"""`ts2 generate`: sample n responses per prompt with softmax (or sparsemax) decoding.

Output: JSONL, one prompt a line, ``{"id", "prompt", "responses": [...], "settings": {...}}``,
appended and flushed (fsync) prompt by prompt.  Rerunning the same command resumes: prompts already
in the file are skipped, a partly written last line is cut off, and because every prompt's random
seed is derived from (seed, prompt id), a resumed run writes exactly what an uninterrupted run would.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .data import DataError, iter_jsonl


@dataclass
class Prompt:
    id: str
    text: str | None  # plain prompt
    messages: list | None  # chat prompt
    chat: bool  # render with the chat template (when the tokenizer has one)


@dataclass
class SamplingSettings:
    n: int = 16
    temperature: float = 1.0
    top_k: int = 50
    top_p: float = 0.9
    max_new_tokens: int = 512
    seed: int = 42
    decode: str = "softmax"
    batch_size: int = 16
    record_token_probs: bool = False

    def check(self) -> None:
        for name in ("n", "max_new_tokens", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {name}={getattr(self, name)!r}")
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got temperature={self.temperature!r}")
        if not 0 < self.top_p <= 1:
            raise ValueError(f"top_p must be in (0, 1], got top_p={self.top_p!r}")
        if self.top_k < 0:
            raise ValueError(f"top_k must be >= 0 (0: off), got top_k={self.top_k!r}")
        if self.decode not in ("softmax", "sparsemax"):
            raise ValueError(f"decode must be softmax or sparsemax, got decode={self.decode!r}")


def _prompt_from_object(obj, origin: str, default_id: str) -> Prompt:
    if not isinstance(obj, dict):
        raise DataError(f"{origin}: expected a JSON object")
    pid = str(obj.get("id", obj.get("task_id", default_id)))
    if isinstance(obj.get("messages"), list):
        return Prompt(pid, None, obj["messages"], True)
    if isinstance(obj.get("prompt"), str):
        # HumanEval-style problems (task_id + prompt) are code to complete, not chat turns.
        return Prompt(pid, obj["prompt"], None, "task_id" not in obj)
    raise DataError(f"{origin}: needs a 'prompt' string or a 'messages' list")


def read_prompts(path: str | Path, column: str | None = None) -> list[Prompt]:
    """Prompts from JSONL(.gz) (prompt / messages / HumanEval problems), a saved HF dataset
    directory (``column``), or plain text (one prompt a line)."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    prompts: list[Prompt] = []
    if path.is_dir():
        import datasets

        ds = datasets.load_from_disk(str(path))
        if isinstance(ds, datasets.DatasetDict):
            ds = ds[next(iter(ds))]
        column = column or ("messages" if "messages" in ds.column_names else "prompt")
        if column not in ds.column_names:
            raise DataError(f"{path}: no column {column!r} (columns: {ds.column_names}); use --column")
        for i, row in enumerate(ds):
            value = row[column]
            obj = {"messages": value} if isinstance(value, list) else {"prompt": value}
            prompts.append(_prompt_from_object({**obj, "id": row.get("id", i)}, f"{path}[{i}]", str(i)))
    else:
        if ".jsonl" in path.suffixes or ".json" in path.suffixes:
            for origin, obj in iter_jsonl(path):
                prompts.append(_prompt_from_object(obj, origin, origin.rsplit(":", 1)[1]))
        else:
            with open(path, encoding="utf-8") as f:
                prompts = [Prompt(str(n), line.rstrip("\n"), None, True) for n, line in enumerate(f, 1)
                           if line.strip()]
    if not prompts:
        raise DataError(f"{path}: no prompts")
    ids = [p.id for p in prompts]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"{path}: prompt id {dup!r} appears more than once")
    return prompts


def prompt_seed(seed: int, prompt_id: str) -> int:
    digest = hashlib.sha256(f"{seed}:{prompt_id}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & ((1 << 63) - 1)


def completed_ids(output: Path, settings: dict) -> set[str]:
    """Ids already in ``output``; cuts off a partly written last line; refuses other settings."""
    if not output.exists():
        return set()
    done, good_bytes = set(), 0
    with open(output, "rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                row = json.loads(raw)
            except json.JSONDecodeError:
                break
            if row.get("settings") != settings:
                raise DataError(f"{output}: was written with other settings ({row.get('settings')}); "
                                f"use another --output or the same settings to resume")
            done.add(str(row["id"]))
            good_bytes += len(raw)
    if good_bytes != output.stat().st_size:
        with open(output, "r+b") as f:
            f.truncate(good_bytes)
    return done


def _render(prompt: Prompt, tokenizer, use_chat: bool | None) -> torch.Tensor:
    chat = tokenizer.chat_template is not None and prompt.chat if use_chat is None else use_chat
    if prompt.messages is not None and not chat:
        raise DataError(f"prompt {prompt.id}: chat messages need a chat template")
    if chat:
        messages = prompt.messages or [{"role": "user", "content": prompt.text}]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)["input_ids"]
    else:
        ids = tokenizer(prompt.text, return_tensors="pt")["input_ids"]
    return ids


def _token_probs(scores, sequences, prompt_len, eos_ids):
    """Per sample: softmax probability and rank (0 = most likely) of each sampled token."""
    probs, ranks = [], []
    steps = torch.stack(scores, dim=1).float()  # [b, steps, V] raw logits
    chosen = sequences[:, prompt_len:]
    for b in range(chosen.shape[0]):
        p_row, r_row = [], []
        for t in range(chosen.shape[1]):
            tok = int(chosen[b, t])
            logits = steps[b, t]
            p_row.append(round(float(torch.softmax(logits, -1)[tok]), 6))
            r_row.append(int((logits > logits[tok]).sum()))
            if tok in eos_ids:
                break
        probs.append(p_row)
        ranks.append(r_row)
    return probs, ranks


def generate(model_dir: str, prompts_path: str, output: str, settings: SamplingSettings,
             column: str | None = None, use_chat: bool | None = None, progress: bool = True) -> Path:
    """Sample ``settings.n`` responses for every prompt; resume into ``output``; returns its path."""
    import transformers as tf
    from tqdm.auto import tqdm

    from .hf.decoding import SparsemaxLogitsProcessor

    settings.check()
    prompts = read_prompts(prompts_path, column)
    output = Path(output)
    settings_record = asdict(settings)
    done = completed_ids(output, settings_record)
    if not (Path(model_dir) / "config.json").is_file():
        raise DataError(f"{model_dir}: not a Transformers model directory (no config.json)")
    tokenizer = tf.AutoTokenizer.from_pretrained(model_dir)
    model = tf.AutoModelForCausalLM.from_pretrained(model_dir).eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    eos = model.generation_config.eos_token_id
    eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    sparse = settings.decode == "sparsemax"
    kwargs = dict(do_sample=True, max_new_tokens=settings.max_new_tokens, pad_token_id=tokenizer.pad_token_id,
                  temperature=1.0 if sparse else settings.temperature, top_k=0 if sparse else settings.top_k,
                  top_p=1.0 if sparse else settings.top_p, return_dict_in_generate=True,
                  output_logits=settings.record_token_probs)
    if sparse:
        kwargs["logits_processor"] = tf.LogitsProcessorList([SparsemaxLogitsProcessor(settings.temperature)])
    todo = [p for p in prompts if p.id not in done]
    output.parent.mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(prompts), initial=len(prompts) - len(todo), unit="prompt", disable=not progress)
    tokens, start = 0, time.perf_counter()
    with open(output, "a", encoding="utf-8") as out, torch.no_grad():
        for prompt in todo:
            ids = _render(prompt, tokenizer, use_chat)
            torch.manual_seed(prompt_seed(settings.seed, prompt.id))
            row = {"id": prompt.id, "prompt": prompt.text if prompt.messages is None else prompt.messages,
                   "responses": [], "settings": settings_record}
            if settings.record_token_probs:
                row["token_probs"], row["token_ranks"] = [], []
            for first in range(0, settings.n, settings.batch_size):
                count = min(settings.batch_size, settings.n - first)
                batch = ids.repeat(count, 1)
                result = model.generate(input_ids=batch, attention_mask=torch.ones_like(batch), **kwargs)
                new = result.sequences[:, ids.shape[1]:]
                tokens += int((new != tokenizer.pad_token_id).sum())
                row["responses"].extend(tokenizer.batch_decode(new, skip_special_tokens=True))
                if settings.record_token_probs:
                    probs, ranks = _token_probs(result.logits, result.sequences, ids.shape[1], eos_ids)
                    row["token_probs"].extend(probs)
                    row["token_ranks"].extend(ranks)
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            os.fsync(out.fileno())
            elapsed = time.perf_counter() - start
            bar.update(1)
            bar.set_postfix(tokens_per_s=f"{tokens / elapsed:.0f}")
    bar.close()
    return output
