"""ts2 compare on tiny models: the whole path to a report, resume, and refusals of bad configs."""

import json
import os
import sys

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "hf"))
from tiny import make_model_dir, write_jsonl  # noqa: E402

from ts2.cli import main  # noqa: E402
from ts2.compare.config import CompareConfig, load_config, read_eval_prompts  # noqa: E402
from ts2.data import DataError  # noqa: E402

EVAL = [
    {"id": "n1", "prompt": "name a number below 5", "valid": ["0", "1", "2", "3", "4"], "kind": "open",
     "split": "seen", "category": "number"},
    {"id": "n2", "prompt": "name a prime below 12", "valid": ["2", "3", "5", "7", "11"], "kind": "open",
     "split": "seen", "category": "prime"},
    {"id": "n3", "prompt": "name a number below 9", "valid": [str(i) for i in range(9)], "kind": "open",
     "split": "new", "category": "number"},
    {"id": "a1", "prompt": "add 2 and 3", "valid": ["5"], "kind": "closed", "split": "seen", "category": "add"},
    {"id": "a2", "prompt": "add 1 and 1", "valid": ["2"], "kind": "closed", "split": "new", "category": "add"},
]


@pytest.fixture()
def setup(tmp_path):
    make_model_dir(tmp_path / "base", "llama", seed=1)
    write_jsonl(tmp_path / "sft.jsonl", [
        {"messages": [{"role": "user", "content": f"name a number below {n}"},
                      {"role": "assistant", "content": str(n % 3)}]} for n in range(3, 30)])
    write_jsonl(tmp_path / "eval.jsonl", EVAL)
    raw = {"name": "tiny", "base_model": "base", "train_data": "sft.jsonl", "eval_prompts": "eval.jsonl",
           "methods": {"ce": {"loss": "ce"}, "ts2": {"loss": "ts2", "alpha": 0.25}},
           "training": {"max_steps": 3, "learning_rate": 1e-3, "per_device_train_batch_size": 4},
           "sampling": {"n": 4, "temperatures": [1.0, 0.5], "max_new_tokens": 3},
           "probe": {"prompt": "name a number below 5", "valid": ["0", "1", "2", "3", "4"]},
           "bootstrap": {"resamples": 200, "seed": 0},
           "verdict": {"method": "ts2", "split": "new"}}
    path = tmp_path / "compare.yaml"
    path.write_text(yaml.safe_dump(raw))
    return tmp_path, path, raw


def test_compare_end_to_end_and_resume(setup, capsys):
    root, path, _ = setup
    out = root / "out"
    assert main(["compare", str(path), "--output", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert set(report["methods"]) == {"base", "ce", "ts2"} and set(report["vs_ce"]) == {"base", "ts2"}
    seen = report["methods"]["ts2"]["seen"]
    assert {"accuracy", "coverage", "pass@1", "distinct_1", "self_bleu", "invalid_mass", "entropy"} <= set(seen)
    assert seen["accuracy"]["prompts"] == 2 and seen["pass@1"]["prompts"] == 1
    lo, hi = seen["coverage"]["ci95"]
    assert lo <= seen["coverage"]["mean"] <= hi
    diff = report["vs_ce"]["ts2"]["new"]["coverage"]
    assert set(diff) == {"diff", "ci95", "prompts"}
    verdict = report["verdict"]
    assert isinstance(verdict["reproduced"], bool) and "coverage(ts2) - coverage(ce)" in verdict["rule"]
    assert set(report["temperatures"]) == {"1.0", "0.5"} and set(report["probe"]) == {"base", "ce", "ts2"}
    for method in ("ce", "ts2"):
        timing = report["timing"][method]["0"]
        assert timing["train_seconds"] > 0 and set(timing["sample_seconds"]) == {"T=1.0", "T=0.5"}
    assert report["settings"]["train_examples"] == 27 and report["settings"]["methods"]["ts2"]["alpha"] == 0.25
    for name in ("report.md", "metrics.png", "probe.png"):
        assert (out / name).stat().st_size > 100
    captured = capsys.readouterr()
    assert "| ts2 |" in (out / "report.md").read_text() and "verdict" in captured.out
    # not a terminal: each stage is logged as a line, since no live progress bar is drawn
    assert "ts2 compare: training ts2 (seed 0) (" in captured.err and "stages done" in captured.err
    # Resume: nothing is trained or sampled again.
    stamps = {p: p.stat().st_mtime_ns for p in [*out.rglob("model.safetensors"), *out.rglob("*.jsonl")]}
    assert main(["compare", str(path), "--output", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert json.loads((out / "report.json").read_text())["methods"] == report["methods"]


def test_an_output_directory_belongs_to_one_config(setup, capsys):
    root, path, raw = setup
    out = root / "out"
    out.mkdir()
    (out / "config.json").write_text(json.dumps({"name": "another"}))
    assert main(["compare", str(path), "--output", str(out)]) == 2
    assert "another configuration" in capsys.readouterr().err


@pytest.mark.parametrize("change,message", [
    ({"colour": 1}, "unknown key(s) colour"),
    ({"methods": {}}, "non-empty"),
    ({"methods": {"ce": {"loss": "nope"}}}, "methods.ce"),
    ({"methods": {"ce": {"loss": "ce", "learning_rte": 1}}}, "learning_rte"),
    ({"methods": {"ce": {"loss": "ce", "seed": 3}}}, "may not set seed"),
    ({"baseline": "gem"}, "baseline='gem'"),
    ({"sampling": {"temperatures": [0]}}, "temperatures"),
    ({"sampling": {"top_p": 2}}, "top_p=2"),
    ({"sampling": {"nn": 2}}, "unknown key(s) in sampling: nn"),
    ({"verdict": {"method": "gem"}}, "verdict.method"),
    ({"probe": {"prompt": "x", "methods": ["zzz"]}}, "zzz"),
])
def test_bad_configs_are_refused_before_anything_runs(setup, change, message, capsys):
    root, path, raw = setup
    bad = root / "bad.yaml"
    bad.write_text(yaml.safe_dump({**raw, **change}))
    assert main(["compare", str(bad), "--output", str(root / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (root / "o").exists()


def test_missing_keys_and_bad_eval_records(setup):
    root, path, raw = setup
    with pytest.raises(DataError, match="missing key"):
        CompareConfig.from_dict({"name": "x"}, root)
    assert load_config(path).base_model == str((root / "base").resolve())
    bad = root / "bad_eval.jsonl"
    bad.write_text(json.dumps(EVAL[0]) + "\n" + json.dumps({**EVAL[1], "kind": "maybe"}) + "\n")
    with pytest.raises(DataError, match="bad_eval.jsonl:2: 'kind'"):
        read_eval_prompts(bad)
    bad.write_text(json.dumps({**EVAL[0], "valid": []}) + "\n")
    with pytest.raises(DataError, match="bad_eval.jsonl:1: 'valid'"):
        read_eval_prompts(bad)
