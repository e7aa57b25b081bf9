"""The Hugging Face hub cache layout, built locally (nothing is downloaded): what `hf download`
leaves under ``$HF_HOME/hub``: ``models--ORG--NAME/refs/main`` holding a commit hash and
``models--ORG--NAME/snapshots/<hash>/`` the files (plain copies; datasets: ``datasets--ORG--NAME``)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def commit_of(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def cache_repo(hf_home: Path, repo_id: str, source: Path, repo_type: str = "model", commit: str | None = None,
               ref: str = "main") -> str:
    """Copy the files of ``source`` (a directory) into the cache as ``repo_id`` at ``commit``
    (default: derived from the id), pointed at by ``refs/<ref>``; returns the commit."""
    commit = commit or commit_of(f"{repo_type}:{repo_id}:{ref}")
    root = Path(hf_home) / "hub" / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snapshot = root / "snapshots" / commit
    if not snapshot.exists():
        shutil.copytree(source, snapshot)
    (root / "refs").mkdir(parents=True, exist_ok=True)
    (root / "refs" / ref).write_text(commit)
    return commit


ULTRAFEEDBACK_SPLITS = ("train_prefs", "train_sft", "test_prefs", "test_sft", "train_gen", "test_gen")


def ultrafeedback_layout(root: Path, rows_per_split: int = 4) -> Path:
    """A few rows in the file layout of HuggingFaceH4/ultrafeedback_binarized: data/<split>-00000-of-00001.parquet
    with its columns (prompt, prompt_id, chosen, rejected, messages, score_chosen, score_rejected) and the
    README's ``configs:`` naming each split's files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "data").mkdir(parents=True, exist_ok=True)
    configs = ["configs:", "- config_name: default", "  data_files:"]
    for split in ULTRAFEEDBACK_SPLITS:
        rows = []
        for i in range(rows_per_split):
            prompt = f"add {i} and {i + 1}"
            good = [{"role": "user", "content": prompt}, {"role": "assistant", "content": f"the answer is {2 * i + 1}"}]
            bad = [{"role": "user", "content": prompt}, {"role": "assistant", "content": "the answer is 7 ."}]
            rows.append({"prompt": prompt, "prompt_id": commit_of(f"{split}{i}")[:64], "chosen": good,
                         "rejected": bad, "messages": good, "score_chosen": 8.0, "score_rejected": 3.5})
        pq.write_table(pa.Table.from_pylist(rows), root / "data" / f"{split}-00000-of-00001.parquet")
        configs += [f"  - split: {split}", f"    path: data/{split}-*"]
    (root / "README.md").write_text("---\n" + "\n".join(configs) + "\n---\n# a few rows in ultrafeedback's layout\n")
    return root
