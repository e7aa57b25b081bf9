"""SmolLM2 by Hub id, offline: the imported model copied into a temporary HF_HOME in the hub cache
layout samples exactly what its local directory samples, and every row names the commit."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hf"))
from hub_cache import cache_repo, ts2_many  # noqa: E402

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct"  # the id users pass; only this test's cache holds it


def test_smollm2_by_hub_id_samples_what_its_directory_samples(smollm2, tmp_path):
    home = tmp_path / "hf_home"
    commit = cache_repo(home, REPO, smollm2, link=True)  # 540 MB of weights: linked
    prompts = tmp_path / "p.jsonl"
    prompts.write_text("".join(json.dumps({"id": str(i), "prompt": p}) + "\n"
                               for i, p in enumerate(["Name a prime number."])))
    common = ["--prompts", prompts, "--n", 2, "--max_new_tokens", 6, "--seed", 1, "--no_progress"]
    runs = ts2_many(home, {
        "hub": ["generate", "--model", REPO, "--revision", commit, "--output", tmp_path / "hub.jsonl", *common],
        "local": ["generate", "--model", smollm2, "--output", tmp_path / "local.jsonl", *common]})
    for code, _, err in runs.values():
        assert code == 0, err[-2000:]
    hub = [json.loads(line) for line in (tmp_path / "hub.jsonl").read_text().splitlines()]
    local = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert [r["responses"] for r in hub] == [r["responses"] for r in local]
    assert all(r["model"] == REPO and r["settings"]["model_revision"] == commit for r in hub)
    assert all("model_revision" not in r["settings"] for r in local)
