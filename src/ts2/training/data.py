"""Training records -> tokenized examples with labels on the response tokens only.

Records (DESIGN §5), one per JSONL line or per row of a saved HF dataset directory:
    {"messages": [{"role": "system"|"user"|"assistant"|"tool", "content": str}, ...]}
        loss on the assistant turns (their content and the template's end-of-turn text)
    {"prompt": str, "completion": str}
        loss on the completion
    {"input_ids": [int], "labels": [int], "attention_mask": [1, ...] (optional)}
        already tokenized (the TS² authors' tokenized JSONL): used as they are, loss where
        labels != -100
Every record is checked before anything is tokenized; a bad one raises DataError with
``file:line: reason`` (``dir[row]: reason`` for dataset directories, ``ORG/NAME[split][row]:
reason`` for Hub datasets, read from their cached snapshot by ``ts2.formats.read_hub_dataset``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..formats import DataError, iter_jsonl, read_hub_dataset, read_saved_dataset

IGNORE_INDEX = -100
ROLES = ("system", "user", "assistant", "tool")


@dataclass
class Record:
    messages: list[dict] | None
    prompt: str | None
    completion: str | None
    origin: str  # "file:line" or "dir[row]"
    input_ids: list[int] | None = None  # a pre-tokenized record
    labels: list[int] | None = None


@dataclass
class TokenizeStats:
    examples: int = 0
    truncated: int = 0
    dropped: int = 0
    label_tokens: int = 0
    dropped_origins: list[str] = field(default_factory=list)


def check_record(obj, origin: str) -> Record:
    if not isinstance(obj, dict):
        raise DataError(f"{origin}: expected a JSON object, got {type(obj).__name__}")
    if "messages" in obj:
        messages = obj["messages"]
        if not isinstance(messages, list) or not messages:
            raise DataError(f"{origin}: 'messages' must be a non-empty list")
        for i, msg in enumerate(messages):
            if not isinstance(msg, dict) or "role" not in msg or "content" not in msg:
                raise DataError(f"{origin}: messages[{i}] must be an object with 'role' and 'content'")
            if msg["role"] not in ROLES:
                raise DataError(f"{origin}: messages[{i}] has unknown role {msg['role']!r} "
                                f"(expected one of {', '.join(ROLES)})")
            if not isinstance(msg["content"], str):
                raise DataError(f"{origin}: messages[{i}].content must be a string")
        if not any(m["role"] == "assistant" for m in messages):
            raise DataError(f"{origin}: conversation has no assistant turn (nothing to learn from)")
        return Record([{"role": m["role"], "content": m["content"]} for m in messages], None, None, origin)
    if "input_ids" in obj:
        return _check_tokenized(obj, origin)
    if "prompt" in obj or "completion" in obj:
        for key in ("prompt", "completion"):
            if not isinstance(obj.get(key), str):
                raise DataError(f"{origin}: '{key}' must be a string")
        if not obj["completion"]:
            raise DataError(f"{origin}: 'completion' is empty (nothing to learn from)")
        return Record(None, obj["prompt"], obj["completion"], origin)
    raise DataError(f"{origin}: missing 'messages' (chat) or 'prompt'/'completion' fields; "
                    f"found keys {sorted(obj)}")


def _check_tokenized(obj: dict, origin: str) -> Record:
    ids, labels = obj.get("input_ids"), obj.get("labels")
    for key, value in (("input_ids", ids), ("labels", labels)):
        if not isinstance(value, list) or not value or not all(type(v) is int for v in value):
            raise DataError(f"{origin}: '{key}' must be a non-empty list of integers")
    if len(labels) != len(ids):
        raise DataError(f"{origin}: 'labels' has {len(labels)} entries but 'input_ids' has {len(ids)}")
    if min(ids) < 0:
        raise DataError(f"{origin}: 'input_ids' holds a negative id ({min(ids)})")
    bad = [lab for lab, tok in zip(labels, ids) if lab != IGNORE_INDEX and lab != tok]
    if bad:  # HF shifts labels inside the loss; a label is the token itself or ignored
        raise DataError(f"{origin}: every label must be -100 or equal to its input id (found {bad[0]})")
    mask = obj.get("attention_mask")
    if mask is not None and (not isinstance(mask, list) or len(mask) != len(ids) or any(m != 1 for m in mask)):
        raise DataError(f"{origin}: 'attention_mask' must be all ones, one per input id (padding is added later)")
    return Record(None, None, None, origin, ids, labels)


def read_records(path: str | Path, split: str = "train", column: str | None = None,
                 hub_id: str | None = None) -> list[Record]:
    """Read and check every record of a JSONL file, a saved HF dataset directory, or (``hub_id``)
    the snapshot directory of a Hub dataset (its ``split``, read by ``datasets.load_dataset`` from
    the local files).  ``column``: the dataset column holding each row's conversation."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    if hub_id is not None:
        ds = read_hub_dataset(path, split, hub_id)
        name = f"{hub_id}[{split}]"
    elif path.is_dir():
        ds, name = read_saved_dataset(path, split=split), str(path)
    else:
        if column is not None:
            raise DataError(f"--column {column} applies to datasets; {path} is a JSONL file")
        ds, name = None, str(path)
    if ds is None:
        records = [check_record(obj, origin) for origin, obj in iter_jsonl(path)]
    else:
        if column is not None and column not in ds.column_names:
            raise DataError(f"{name}: no column {column!r} (columns: {', '.join(ds.column_names)})")
        records = [check_record(row if column is None else {"messages": row[column]}, f"{name}[{i}]")
                   for i, row in enumerate(ds)]
    if not records:
        raise DataError(f"{name}: no records (the file or dataset is empty)")
    return records


def _assistant_spans(messages, tokenizer):
    """Rendered conversation text and the [start, end) character spans of its assistant turns."""
    render = tokenizer.apply_chat_template
    full = render(messages, tokenize=False)
    spans = []
    for j, msg in enumerate(messages):
        if msg["role"] != "assistant":
            continue
        before = render(messages[:j], tokenize=False, add_generation_prompt=True) if j else ""
        upto = render(messages[: j + 1], tokenize=False)
        if not (upto.startswith(before) and full.startswith(upto)):
            raise DataError("the chat template does not render conversations incrementally (a prefix of "
                            "the conversation is not a prefix of its rendering), so assistant tokens "
                            "cannot be located; pass a --chat_template that does")
        spans.append((len(before), len(upto)))
    return full, spans


def tokenize_record(record: Record, tokenizer, max_seq_length: int | None):
    """input_ids and labels (IGNORE_INDEX outside responses); None if no label survives truncation."""
    if record.input_ids is not None:
        return _truncated(record.input_ids, record.labels, max_seq_length, len(tokenizer), record.origin)
    if record.messages is not None or tokenizer.chat_template is not None:
        messages = record.messages or [{"role": "user", "content": record.prompt},
                                       {"role": "assistant", "content": record.completion}]
        if tokenizer.chat_template is None:
            raise DataError(f"{record.origin}: chat records need a chat template, and the tokenizer has "
                            "none; pass --chat_template (a Jinja template string or file)")
        text, spans = _assistant_spans(messages, tokenizer)
    else:  # plain prompt/completion without a chat template: completion then end of sequence
        eos = tokenizer.eos_token or ""
        text = record.prompt + record.completion + eos
        spans = [(len(record.prompt), len(text))]
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = enc["input_ids"], enc["offset_mapping"]
    labels = [tok if any(a <= start < b for a, b in spans) else IGNORE_INDEX
              for tok, (start, _end) in zip(ids, offsets)]
    return _truncated(ids, labels, max_seq_length)


def _truncated(ids: list[int], labels: list[int], max_seq_length: int | None, vocab: int | None = None,
               origin: str = ""):
    if vocab is not None and max(ids) >= vocab:
        raise DataError(f"{origin}: input id {max(ids)} is outside the tokenizer's vocabulary ({vocab} ids); "
                        f"was the file tokenized for another model?")
    truncated = max_seq_length is not None and len(ids) > max_seq_length
    if truncated:
        ids, labels = ids[:max_seq_length], labels[:max_seq_length]
    # Position 0 is never predicted (labels are shifted by one inside the loss).
    if all(lab == IGNORE_INDEX for lab in labels[1:]):
        return None, truncated
    return {"input_ids": ids, "labels": labels, "attention_mask": [1] * len(ids)}, truncated


def tokenize_records(records: list[Record], tokenizer, max_seq_length: int | None = None):
    """Tokenize every record; returns (examples, TokenizeStats). Needs a fast tokenizer (offsets)."""
    if not getattr(tokenizer, "is_fast", False):
        raise DataError("a fast tokenizer (tokenizers library) is required to locate response tokens")
    stats = TokenizeStats()
    examples = []
    for record in records:
        example, truncated = tokenize_record(record, tokenizer, max_seq_length)
        stats.truncated += int(truncated)
        if example is None:
            stats.dropped += 1
            stats.dropped_origins.append(record.origin)
            continue
        stats.examples += 1
        stats.label_tokens += sum(lab != IGNORE_INDEX for lab in example["labels"][1:])
        examples.append(example)
    if not examples:
        raise DataError(f"no example has response tokens left after truncation to max_seq_length="
                        f"{max_seq_length} ({stats.dropped} dropped)")
    return examples, stats
