"""Reading the files users arrive with: JSONL, parquet, CSV, JSON arrays, saved HF datasets, the
TS² authors' generations JSON (records with an ``answer`` list), and prompt files in any of these.

Parquet and CSV are read with pyarrow, JSON arrays with the standard library, saved Hugging Face
datasets with ``datasets.load_from_disk``; a bad JSONL line is reported as ``file:line``.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .protocols import CODE_PROMPT_STYLES, humaneval_chat_prompt

TABLE_SUFFIXES = (".parquet", ".csv", ".json")


class DataError(ValueError):
    """A record or file that cannot be used; the message names where and why."""


def unreadable(path: str | Path, exc: OSError | UnicodeDecodeError, line: int | None = None) -> DataError:
    """A DataError naming ``path`` (and ``line``) for a file that exists but cannot be read as
    text: a directory, a file this user may not read, bytes that are not UTF-8, a broken gzip."""
    where = f"{path}:{line}" if line else str(path)
    if isinstance(exc, UnicodeDecodeError):
        return DataError(f"{where}: not UTF-8 text (byte {exc.object[exc.start:exc.start + 1]!r} at offset "
                         f"{exc.start}{' of the line' if line else ''}); convert it to UTF-8")
    if isinstance(exc, IsADirectoryError) or Path(path).is_dir():
        return DataError(f"{where}: is a directory, not a file")
    if isinstance(exc, PermissionError):
        return DataError(f"{where}: cannot be read (permission denied)")
    return DataError(f"{where}: cannot be read ({exc.strerror or exc})")


def read_text(path: str | Path) -> str:
    """A UTF-8 text file's contents; a directory, an unreadable or non-UTF-8 file is a DataError
    naming it."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise unreadable(path, exc) from exc


def iter_jsonl(path: str | Path):
    """(origin "file:line", object) for each non-blank line of a JSONL or JSONL.gz file; an
    unparsable line (bad JSON, not UTF-8) raises DataError naming its file and line, and so does a
    file that cannot be read."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    lineno = 0
    try:
        with opener(path, "rb") as f:
            for lineno, raw in enumerate(f, 1):
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
                yield f"{path}:{lineno}", obj
    except FileNotFoundError as exc:
        raise DataError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, EOFError) as exc:  # EOFError: a gzip file cut short
        if isinstance(exc, EOFError):
            raise DataError(f"{path}: truncated gzip file (after line {lineno})") from exc
        raise unreadable(path, exc, lineno if isinstance(exc, UnicodeDecodeError) else None) from exc


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


def read_hub_dataset(path: str | Path, split: str, name: str | None = None):
    """The ``split`` of a Hub dataset snapshot directory (parquet / JSON / CSV files, laid out as the
    Hub lays them out, README ``configs:`` included) as a ``datasets.Dataset``, read from the local
    files (``datasets.load_dataset`` on the folder: no network).  A split it does not have is a
    DataError naming the splits it has."""
    import datasets

    name = name or str(path)
    try:  # the files of each split, as the Hub's viewer finds them; only the split asked for is read
        builder = datasets.load_dataset_builder(str(path))
        files = dict(builder.config.data_files or {})
    except Exception as exc:  # datasets raises several types for "no data files"
        raise DataError(f"{name}: no dataset files found in its snapshot {path} ({exc})") from exc
    if split not in files:
        raise DataError(f"{name}: no split {split!r} (splits: {', '.join(files)}); choose one with --split")
    try:
        return datasets.load_dataset(builder.name, data_files={split: list(files[split])}, split=split)
    except Exception as exc:
        raise DataError(f"{name}[{split}]: cannot be read ({type(exc).__name__}: {exc})") from exc


AUTO_BOOL = {"auto": None, "true": True, "false": False}


def auto_bool(name: str, value) -> bool | None:
    """A setting written auto / true / false (any case; a bool stands for itself): None means auto.
    Anything else is a ValueError naming the setting and the value."""
    if isinstance(value, bool):
        return value
    key = str(value).lower()
    if key not in AUTO_BOOL:
        raise ValueError(f"{name} must be true, false or auto, got {name}={value!r}")
    return AUTO_BOOL[key]


def is_table(path: str | Path) -> bool:
    """A parquet, CSV or JSON-array file (not JSONL)."""
    return Path(path).suffix in TABLE_SUFFIXES and ".jsonl" not in Path(path).suffixes


def read_table(path: str | Path) -> list[dict]:
    """Rows of a parquet / CSV / JSON-array file as dicts; DataError naming the file otherwise."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a file")
    try:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            return pq.read_table(path).to_pylist()
        if path.suffix == ".csv":
            import pyarrow.csv as pcsv

            return pcsv.read_csv(path).to_pylist()
        text = read_text(path)
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
    if not path.exists():
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


def resumable_rows(path: str | Path, cut: bool = True, required: tuple[str, ...] = ()) -> list[dict]:
    """The rows of an output written line by line and resumed after an interruption: every line up
    to the first one that is not complete JSON (an interrupted write's partial last line), which is
    cut off the file along with what follows when ``cut``.  No file: no rows.  A complete row that
    lacks a ``required`` field is a DataError naming file:line."""
    path = Path(path)
    if not path.exists():
        return []
    rows, good_bytes = [], 0
    with open(path, "rb") as f:
        for number, raw in enumerate(f, 1):
            try:
                row = json.loads(raw) if raw.endswith(b"\n") else None
            except json.JSONDecodeError:
                row = None
            if row is None:
                break
            missing = [k for k in required if not isinstance(row, dict) or k not in row]
            if missing:
                raise DataError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
            rows.append(row)
            good_bytes += len(raw)
    if cut and good_bytes != path.stat().st_size:
        with open(path, "r+b") as f:
            f.truncate(good_bytes)
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


def check_output_file(path: str | Path | None, flag: str | None = "--output") -> None:
    """Refuse, before any work, an output file that cannot be written: a directory, a path under a
    file, a directory this user may not write to.  Creates nothing (a missing parent directory is
    made when the file is written); an existing file is fine (it is replaced, or resumed)."""
    if path is None:
        return
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{_named(flag, path)}: is a directory; name a file")
    _check_writable_parent(path, flag)


def check_output_dir(path: str | Path | None, flag: str | None = "--output") -> None:
    """Refuse, before any work, an output directory that is a file or lies under one, or that
    cannot be written to.  Creates nothing."""
    if path is None:
        return
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DataError(f"{_named(flag, path)}: is a file, not a directory")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise DataError(f"{_named(flag, path)}: cannot write into this directory (permission denied)")
        _probe_write(path, path, flag)
        return
    _check_writable_parent(path, flag)


def _named(flag: str | None, path: Path) -> str:
    return f"{flag} {path}" if flag else str(path)


def _check_writable_parent(path: Path, flag: str | None) -> None:
    parent = path.absolute().parent
    while not parent.exists():  # the nearest existing ancestor is where a directory would be made
        parent = parent.parent
    if not parent.is_dir():
        raise DataError(f"{_named(flag, path)}: {parent} is a file, not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise DataError(f"{_named(flag, path)}: cannot write into {parent} (permission denied)")
    _probe_write(parent, path, flag)


def _probe_write(directory: Path, path: Path, flag: str | None) -> None:
    """Refuse a directory where no file can be made, whatever the permission bits say (root on a
    read-only file system, /proc): an unnamed temporary file, made and dropped, leaves no trace."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as exc:
        raise DataError(f"{_named(flag, path)}: cannot write into {directory} ({exc.strerror or exc})") from exc


def write_text_atomic(path: str | Path, text: str) -> None:
    """``text`` written to ``path`` whole: through ``path.tmp`` and a rename; on any failure the
    temporary file is removed and the old ``path`` (if any) is left as it was."""
    path = Path(path)
    check_output_file(path, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # a full disk, a read-only file system: name the file
            raise DataError(f"{path}: cannot be written ({exc.strerror or exc})") from exc
        raise


def write_jsonl_atomic(path: str | Path, rows) -> Path:
    """Rows as JSON lines, written whole (a reader never sees a half-written file)."""
    write_text_atomic(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return Path(path)


def write_json_atomic(path: str | Path, obj) -> None:
    write_text_atomic(path, json.dumps(obj, indent=2, ensure_ascii=False))


@dataclass
class Prompt:
    id: str
    text: str | None  # plain prompt
    messages: list | None  # chat prompt
    chat: bool  # render with the chat template (when the tokenizer has one)
    prefill: str | None = None  # text the assistant turn starts with (the paper's HumanEval chat prompt)


def _prompt_from_object(obj, origin: str, default_id: str, code_prompt: str = "completion") -> Prompt:
    if not isinstance(obj, dict):
        raise DataError(f"{origin}: expected a JSON object")
    pid = str(obj.get("id", obj.get("task_id", default_id)))
    if isinstance(obj.get("messages"), list):
        return Prompt(pid, None, obj["messages"], True)
    if isinstance(obj.get("prompt"), str):
        if "task_id" not in obj:
            return Prompt(pid, obj["prompt"], None, True)
        # HumanEval-style problems (task_id + prompt): code to complete, or the paper's chat prompt.
        if code_prompt == "chat":
            messages, prefill = humaneval_chat_prompt(obj["prompt"])
            return Prompt(pid, None, messages, True, prefill)
        return Prompt(pid, obj["prompt"], None, False)
    raise DataError(f"{origin}: needs a 'prompt' string or a 'messages' list")


# Column names tried, in order, when --column is not given (the authors' parquet files: instruction).
PROMPT_COLUMNS = ("messages", "prompt", "instruction")


def _table_prompts(rows: list[dict], columns: list[str], column: str | None, origin: str) -> list[Prompt]:
    column = column or next((c for c in PROMPT_COLUMNS if c in columns), None)
    if column is None or column not in columns:
        raise DataError(f"{origin}: no column {column or ' / '.join(PROMPT_COLUMNS)!r} (columns: {columns}); "
                        f"use --column")
    prompts = []
    for i, row in enumerate(rows):
        value = row[column]
        obj = {"messages": value} if isinstance(value, list) else {"prompt": value}
        prompts.append(_prompt_from_object({**obj, "id": row.get("id", i)}, f"{origin}[{i}]", str(i)))
    return prompts


def _lines(text: str) -> list[str]:
    """Lines as a text-mode file reads them (\\n, \\r\\n and \\r all end one), without their ends."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def read_prompts(path: str | Path, column: str | None = None, code_prompt: str = "completion") -> list[Prompt]:
    """Prompts from JSONL(.gz) (prompt / messages / HumanEval problems), parquet / CSV / JSON-array
    files and saved HF dataset directories (``column``; default the first of PROMPT_COLUMNS
    present), or plain text (one prompt a line).  ``code_prompt="chat"`` asks HumanEval problems
    the way the TS² authors ask chat models (``ts2.protocols``)."""
    if code_prompt not in CODE_PROMPT_STYLES:
        raise ValueError(f"--code_prompt must be one of {', '.join(CODE_PROMPT_STYLES)}, got {code_prompt!r}")
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file or directory")
    prompts: list[Prompt] = []
    if path.is_dir():
        ds = read_saved_dataset(path)
        prompts = _table_prompts(ds, ds.column_names, column, str(path))
    elif is_table(path):
        rows = read_table(path)
        prompts = _table_prompts(rows, list(rows[0]) if rows else [], column, str(path))
    else:
        if ".jsonl" in path.suffixes or ".json" in path.suffixes:  # incl. .json.gz (JSON lines)
            for origin, obj in iter_jsonl(path):
                prompts.append(_prompt_from_object(obj, origin, origin.rsplit(":", 1)[1], code_prompt))
        else:
            prompts = [Prompt(str(n), line, None, True) for n, line in enumerate(_lines(read_text(path)), 1)
                       if line.strip()]
    if not prompts:
        raise DataError(f"{path}: no prompts")
    ids = [p.id for p in prompts]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise DataError(f"{path}: prompt id {dup!r} appears more than once")
    return prompts
