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
               ref: str = "main", link: bool = False) -> str:
    """Copy the files of ``source`` (a directory) into the cache as ``repo_id`` at ``commit``
    (default: derived from the id), pointed at by ``refs/<ref>``; returns the commit.  ``link``:
    symbolic links to the files instead of copies (as the real cache links its snapshots to blobs)."""
    commit = commit or commit_of(f"{repo_type}:{repo_id}:{ref}")
    root = Path(hf_home) / "hub" / f"{repo_type}s--{repo_id.replace('/', '--')}"
    snapshot = root / "snapshots" / commit
    if not snapshot.exists():
        if link:
            snapshot.mkdir(parents=True)
            for f in Path(source).iterdir():
                (snapshot / f.name).symlink_to(f.resolve())
        else:
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


SRC = Path(__file__).resolve().parents[2] / "src"


def hub_env(home: Path) -> dict:
    """This process's environment with HF_HOME=home and HF_HUB_OFFLINE=1 (no other HF_ setting)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_HOME=str(home), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONPATH=os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]))
    return env


def ts2(home: Path, *args, cwd=None):
    """One `ts2` command line in a subprocess, as a user's shell runs it (HF_HOME=home, offline)."""
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "ts2.cli", *map(str, args)], env=hub_env(home), cwd=cwd,
                          capture_output=True, text=True, timeout=600)


DRIVER = """import contextlib, io, json, sys
from ts2.cli import main
for key, argv in json.loads(sys.argv[1]).items():
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    print(json.dumps([key, code, out.getvalue(), err.getvalue()]))
"""


def ts2_many(home: Path, runs: dict, cwd=None) -> dict:
    """Several `ts2` command lines, in order, through ``ts2.cli.main`` in one subprocess (one start-up
    instead of one each): {key: (exit code, stdout, stderr)}."""
    import json
    import subprocess
    import sys

    argv = json.dumps({k: list(map(str, v)) for k, v in runs.items()})
    result = subprocess.run([sys.executable, "-c", DRIVER, argv], env=hub_env(home), cwd=cwd, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('["')]
    return {key: (code, out, err) for key, code, out, err in lines}
