"""What a comparison is made from, checked before any work and on every resume: the SFT files and
the base model (readable, whole), the digests of the files and prompts (``inputs.json``), and the
resolved configuration (``config.json``).  An output folder belongs to one configuration and one
set of inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..formats import DataError, write_json_atomic
from .layout import Layout


def train_files(cfg) -> dict:
    """Every SFT file by its config key: train_data and each method's own."""
    return {"train_data": cfg.train_data, **{f"methods.{m}.train_data": s["train_data"]
                                             for m, s in cfg.methods.items() if "train_data" in s}}


def check_inputs(cfg) -> None:
    """Refuse, before the output directory is made, SFT files that are no JSONL (a directory,
    bytes that are not UTF-8, a line that is not JSON) and a local base model without whole
    weights: the messages name the file."""
    from ..formats import iter_jsonl
    from ..hf.weights import weights_problem

    for name, path in train_files(cfg).items():
        if Path(path).is_dir():
            raise DataError(f"config: {name} {path}: is a directory; ts2 compare trains on a JSONL file")
        if Path(path).is_file():
            for _ in iter_jsonl(path):
                pass
    if not cfg.base_model.startswith("gguf:"):
        problem = weights_problem(cfg.base_model)
        if problem:
            raise DataError(f"config: base_model {cfg.base_model}: {problem}")


def input_digests(cfg, prompts: list[dict], base_revision: str | None) -> dict:
    """Digests of what the stages are made from: every SFT file, and the evaluation prompts as
    they are sampled (ids and texts; their answer lists only change the scores, which every
    report recomputes); a Hub base model's commit."""

    def digest(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    sampled = [[r["id"], r.get("prompt"), r.get("messages")] for r in prompts]
    hub = {} if base_revision is None else {"base_model_revision": base_revision}
    return {**{k: digest(Path(v).read_bytes()) for k, v in train_files(cfg).items()},
            "eval_prompts": digest(json.dumps(sampled).encode()), **hub}


def claim_output(cfg, layout: Layout, digests: dict) -> None:
    """Write config.json and inputs.json into a new output folder; in one that has them, refuse
    another configuration or changed inputs (a DataError naming what changed)."""
    record, path = cfg.to_dict(), layout.config
    if path.is_file():
        previous = json.loads(path.read_text())
        if without_data_paths(previous) != without_data_paths(json.loads(json.dumps(record))):
            raise DataError(f"{layout.root}: holds a comparison made with another configuration "
                            f"(see {path}); use another output directory")
    else:
        write_json_atomic(path, record)
    path = layout.inputs
    if path.is_file():
        previous = json.loads(path.read_text())
        changed = sorted(k for k in set(previous) | set(digests) if previous.get(k) != digests.get(k))
        if changed:
            raise DataError(f"{layout.root}: {', '.join(changed)} changed since its models and samples were made "
                            f"(digests in {path}); use another output directory to start fresh")
    else:
        write_json_atomic(path, digests)


def without_data_paths(record: dict) -> dict:
    """A resolved configuration without the paths of its data files: their contents are checked by
    digest (inputs.json), so an output directory moved or copied with its data still resumes."""
    record = {k: v for k, v in record.items() if k not in ("train_data", "eval_prompts")}
    record["methods"] = {m: {k: v for k, v in spec.items() if k != "train_data"}
                         for m, spec in record.get("methods", {}).items()}
    return record
