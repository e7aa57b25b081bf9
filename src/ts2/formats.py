"""Reading the files users arrive with: JSONL, parquet, CSV, JSON arrays, and the TS² authors'
generations JSON (records with an ``answer`` list).

Parquet and CSV are read with pyarrow, JSON arrays with the standard library, saved Hugging Face
datasets with ``datasets.load_from_disk``; a bad JSONL line is reported as ``file:line``.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

TABLE_SUFFIXES = (".parquet", ".csv", ".json")


class DataError(ValueError):
    """A record or file that cannot be used; the message names where and why."""


def iter_jsonl(path: str | Path):
    """(origin "file:line", object) for each non-blank line of a JSONL or JSONL.gz file; an
    unparsable line raises DataError naming its file and line."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
            yield f"{path}:{lineno}", obj


def read_saved_dataset(path: str | Path, split: str | None = None):
    """A directory written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` as a
    ``datasets.Dataset``.  For a dataset dict, ``split`` picks the split (needed when it holds
    more than one); anything else is a DataError naming the directory and the splits."""
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:  # datasets raises several types for "not a dataset"
        raise DataError(f"{path}: not a saved Hugging Face dataset ({exc})") from exc
    if isinstance(ds, datasets.DatasetDict):
        if split is None and len(ds) == 1:
            split = next(iter(ds))
        if split not in ds:
            wanted = f"no {split!r} split" if split else "several splits"
            raise DataError(f"{path}: dataset dict has {wanted} (splits: {', '.join(ds)}); name one, or point at "
                            f"its directory ({Path(path) / next(iter(ds))})")
        ds = ds[split]
    return ds


def is_table(path: str | Path) -> bool:
    """A parquet, CSV or JSON-array file (not JSONL)."""
    return Path(path).suffix in TABLE_SUFFIXES and ".jsonl" not in Path(path).suffixes


def read_table(path: str | Path) -> list[dict]:
    """Rows of a parquet / CSV / JSON-array file as dicts; DataError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        if path.suffix == ".csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(path).to_pylist()
        with open(path, encoding="utf-8") as f:
            text = f.read()
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if exc.msg != "Extra data":
                raise
            data = [row for _, row in iter_jsonl(path)]  # JSON lines in a .json file
    except (OSError, ValueError) as exc:  # pyarrow's errors derive from these; so does JSONDecodeError
        raise DataError(f"{path}: cannot be read as {path.suffix[1:]}: {exc}") from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DataError(f"{path}: expected a JSON array of objects")
    return data


def read_jsonl(path: str | Path, required: tuple[str, ...] = ()) -> list[dict]:
    """Objects of a JSONL(.gz) file; a bad line is a DataError naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    rows = []
    for origin, row in iter_jsonl(path):
        missing = [k for k in required if not isinstance(row, dict) or k not in row]
        if missing:
            raise DataError(f"{origin}: missing field(s) {', '.join(missing)}")
        rows.append(row)
    if not rows:
        raise DataError(f"{path}: empty")
    return rows


def conversation(prompt, response: str) -> list[dict]:
    """A generations row's prompt (text, or a list of chat messages) followed by ``response`` as
    the assistant's turn."""
    messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": str(prompt)}]
    return [*messages, {"role": "assistant", "content": response}]


def _generation_row(row, origin: str, index: int) -> dict:
    """ts2's {"id", "prompt", "responses"} from a ts2 row or an authors' {"prompt", "answer": [...]}."""
    if not isinstance(row, dict):
        raise DataError(f"{origin}: expected a JSON object")
    if "responses" in row:
        responses = row["responses"]
    elif "answer" in row:  # the authors' generate_response.py output
        responses = row["answer"]
        row = {**row, "id": row.get("id", index), "prompt": row.get("prompt", row.get("instruction"))}
    else:
        raise DataError(f"{origin}: needs a 'responses' list (or the authors' 'answer' list)")
    if "id" not in row:
        raise DataError(f"{origin}: missing field(s) id")
    if not isinstance(responses, list) or not all(isinstance(r, str) for r in responses):
        raise DataError(f"{origin} (id {row['id']}): the responses must be a list of strings")
    return {**row, "responses": responses}


def read_generations(path: str | Path) -> list[dict]:
    """Generations as ts2 writes them (JSONL) or as the authors' scripts do (JSON array)."""
    if is_table(path):
        rows = [_generation_row(r, f"{path}[{i}]", i) for i, r in enumerate(read_table(path))]
        if not rows:
            raise DataError(f"{path}: empty")
        return rows
    return [_generation_row(r, f"{path}: row {i + 1}", i) for i, r in enumerate(read_jsonl(path))]


def write_text_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_jsonl_atomic(path: str | Path, rows) -> Path:
    """Rows as JSON lines, written whole (a reader never sees a half-written file)."""
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return Path(path)


def write_json_atomic(path: str | Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False))
