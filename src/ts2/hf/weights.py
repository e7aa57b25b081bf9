"""What is wrong with a model directory that Transformers could not load, in one line naming the
file: no weights at all, a safetensors file cut short or not a safetensors file.

Transformers reports these as an ``OSError`` ("no file named model.safetensors ...") or the
safetensors library's ``SafetensorError`` ("incomplete metadata, file not fully covered"), which
name no file. ``model_errors`` turns them into a ``DataError`` naming the directory and, where the
headers show it, the broken file; anything else passes through unchanged.
"""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path

from ..formats import DataError

WEIGHT_FILES = ("*.safetensors", "*.bin", "*.pt", "*.pth", "*.gguf", "*.msgpack", "*.h5", "*.ckpt")


def safetensors_problem(path: Path) -> str | None:
    """Why ``path`` is not a whole safetensors file (from its header and size only), or None."""
    size = path.stat().st_size
    if size < 8:
        return f"{path}: not a safetensors file ({size} bytes)"
    with open(path, "rb") as f:
        (header_len,) = struct.unpack("<Q", f.read(8))
        if 8 + header_len > size:
            return f"{path}: truncated or not a safetensors file (header of {header_len} bytes, file of {size})"
        try:
            header = json.loads(f.read(header_len))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return f"{path}: not a safetensors file (its header is not JSON)"
    if not isinstance(header, dict):
        return f"{path}: not a safetensors file (its header is not a JSON object)"
    ends = [t["data_offsets"][1] for k, t in header.items()
            if k != "__metadata__" and isinstance(t, dict) and len(t.get("data_offsets", ())) == 2]
    expected = 8 + header_len + max(ends, default=0)
    if size < expected:
        return f"{path}: truncated ({size} of {expected} bytes); download or save it again"
    return None


def weights_problem(model_dir) -> str | None:
    """What is wrong with the weights of local directory ``model_dir``, or None when the headers
    look whole (or ``model_dir`` is not a local directory)."""
    root = Path(model_dir)
    if not root.is_dir():
        return None
    files = sorted(f for pattern in WEIGHT_FILES for f in root.glob(pattern) if f.is_file())
    if not files:
        return f"{root}: no weights (no model.safetensors or pytorch_model.bin beside config.json)"
    for f in files:
        if f.suffix == ".safetensors":
            try:
                problem = safetensors_problem(f)
            except OSError as exc:
                return f"{f}: cannot be read ({exc.strerror or exc})"
            if problem:
                return problem
    return None


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@contextlib.contextmanager
def model_errors(model_dir, what: str = "model", weights: bool = True):
    """Loading inside: an OSError, a safetensors error or a tokenizer that cannot be built
    becomes a DataError naming ``what`` and ``model_dir`` (and, with ``weights``, the broken
    weights file)."""
    try:
        yield
    except DataError:
        raise
    except Exception as exc:
        translate = isinstance(exc, (OSError, ValueError)) or type(exc).__module__.startswith("safetensors")
        if not translate:
            raise
        problem = (weights and weights_problem(model_dir)) or _one_line(exc) or type(exc).__name__
        raise DataError(f"cannot load {what} {model_dir}: {problem}") from exc
