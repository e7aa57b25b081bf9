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
from ts2.compare.verdict import outcome_of
from ts2.formats import DataError  # noqa: E402

EVAL = [
    {"id": "n1", "prompt": "name a number below 5", "valid": ["0", "1", "2", "3", "4"], "kind": "open",
     "split": "seen", "category": "number"},
    {"id": "n2", "prompt": "name a prime below 12", "valid": ["2", "3", "5", "7", "11"], "kind": "open",
     "split": "seen", "category": "prime"},
    {"id": "n3", "prompt": "name a number below 9", "valid": [str(i) for i in range(9)], "kind": "open",
     "split": "new", "category": "number"},
    {"id": "a1", "prompt": "add 2 and 3", "valid": ["5"], "kind": "closed", "split": "seen", "category": "add"},
    {"id": "a2", "prompt": "add 1 and 1", "valid": ["2"], "kind": "closed", "split": "new", "category": "add"},
    {"id": "g1", "prompt": "add 2 and 2; say 'The answer is: N'", "valid": ["4"], "kind": "closed", "split": "new",
     "category": "task", "extract": "number"},  # as `ts2 eval tasks --write_prompts` writes them
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
    assert {"accuracy", "lenient_accuracy", "coverage", "lenient_coverage", "pass@1", "distinct_1", "self_bleu",
            "invalid_mass", "entropy", "share_off_list"} <= set(seen)
    assert seen["accuracy"]["prompts"] == 2 and seen["pass@1"]["prompts"] == 1
    assert report["methods"]["ts2"]["new"]["pass@1"]["prompts"] == 2  # one answer read out of the response
    lo, hi = seen["coverage"]["ci95"]
    assert lo <= seen["coverage"]["mean"] <= hi
    diff = report["vs_ce"]["ts2"]["new"]["coverage"]
    assert set(diff) == {"diff", "ci95", "se", "df"}
    verdict = report["verdict"]
    assert verdict["outcome"] in ("reproduced", "not_reproduced", "inconclusive") and verdict["preliminary"]
    assert "the lenient_accuracy ce has at T 1" in verdict["rule"] and report["protocol"] == "ts2-compare-v3"
    assert verdict["outcome"] == outcome_of(report)
    assert report["temperature"] == 1.0 and report["checks"] == {}
    assert set(report["frontier"]["ts2"]["new"]) == {"1.0", "0.5"}
    level = report["readings"]["ts2"]["new"]["levels"]["T 1"]
    assert {"target_accuracy", "metrics", "best_accuracy_gap", "status"} <= set(level)
    assert (out / "offlist_audit.jsonl").is_file() and set(report["audit"]["methods"]) == {"ce", "ts2"}
    assert set(report["temperatures"]) == {"1.0", "0.5"} and set(report["probe"]) == {"base", "ce", "ts2"}
    for method in ("ce", "ts2"):
        timing = report["timing"][method]["0"]
        assert timing["train_seconds"] > 0 and set(timing["sample_seconds"]) == {"T=1.0", "T=0.5"}
    assert report["settings"]["train_examples"] == 27 and report["settings"]["methods"]["ts2"]["alpha"] == 0.25
    for name in ("report.md", "metrics.png", "probe.png", "frontier.png"):
        assert (out / name).stat().st_size > 100
    captured = capsys.readouterr()
    assert "| ts2 |" in (out / "report.md").read_text() and "verdict" in captured.out
    assert "**Verdict: " in (out / "report.md").read_text()
    # not a terminal: each stage is logged as a line, since no live progress bar is drawn
    assert "ts2 compare: training ts2 (seed 0) (" in captured.err and "stages done" in captured.err
    # Resume: nothing is trained or sampled again.
    stamps = {p: p.stat().st_mtime_ns for p in [*out.rglob("model.safetensors"), *out.rglob("*.jsonl")]}
    assert main(["compare", str(path), "--output", str(out)]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert json.loads((out / "report.json").read_text())["methods"] == report["methods"]
    # Changed inputs behind the same configuration: refused, naming what changed.
    write_jsonl(root / "sft.jsonl", [{"messages": [{"role": "user", "content": "name a number below 3"},
                                                   {"role": "assistant", "content": "1"}]}] * 27)
    rows = [dict(r, prompt="name a number below 7") if r["id"] == "n1" else r for r in EVAL]
    write_jsonl(root / "eval.jsonl", rows)
    assert main(["compare", str(path), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "eval_prompts, train_data changed since its models and samples were made" in err
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


def test_a_larger_comparison_takes_over_the_runs_it_shares(setup, capsys):
    """--reuse: a comparison with one more seed and one more method takes the source's ce, ts2 and
    base runs at seed 0 (identical files, models hard-linked, nothing trained or sampled again) and
    makes only the rest; a source made with other training settings is refused."""
    root, path, raw = setup
    small = {**raw, "probe": None, "verdict": None, "sampling": {"n": 2, "temperatures": [1.0], "max_new_tokens": 2}}
    (root / "small.yaml").write_text(yaml.safe_dump(small))
    assert main(["compare", str(root / "small.yaml"), "--output", str(root / "small")]) == 0
    large = {**small, "seeds": [0, 1], "methods": {**small["methods"], "gem": {"loss": "gem"}}}
    (root / "large.yaml").write_text(yaml.safe_dump(large))
    assert main(["compare", str(root / "large.yaml"), "--output", str(root / "large"), "--reuse",
                 str(root / "small")]) == 0
    assert "reused 3 run(s)" in capsys.readouterr().err
    for name in ("ce-seed0", "ts2-seed0", "base-seed0"):
        for kind, suffix in (("samples", "-T1.0.jsonl"), ("positions", ".json"), ("runs", ".json")):
            old, new = (root / d / kind / f"{name}{suffix}" for d in ("small", "large"))
            assert new.read_bytes() == old.read_bytes()
    weights = "model.safetensors"
    assert (root / "large/models/ce-seed0" / weights).stat().st_ino == (root / "small/models/ce-seed0" /
                                                                         weights).stat().st_ino
    assert (root / "large/samples/gem-seed0-T1.0.jsonl").is_file() and (root / "large/models/ce-seed1").is_dir()
    # Sample files without their models (a committed run, say): nothing is trained for those runs.
    import shutil

    shutil.copytree(root / "small", root / "bare", ignore=shutil.ignore_patterns("models"))
    assert main(["compare", str(root / "large.yaml"), "--output", str(root / "large2"), "--reuse",
                 str(root / "bare")]) == 0
    assert not (root / "large2/models/ce-seed0").exists() and (root / "large2/models/ce-seed1").is_dir()
    tables = [json.loads((root / d / "report.json").read_text())["methods"] for d in ("large", "large2")]
    assert tables[0] == tables[1] and set(tables[0]) == {"base", "ce", "ts2", "gem"}
    other = {**large, "training": {**large["training"], "learning_rate": 5e-4}}
    (root / "other.yaml").write_text(yaml.safe_dump(other))
    assert main(["compare", str(root / "other.yaml"), "--output", str(root / "other"), "--reuse",
                 str(root / "small")]) == 2
    assert "its training differs" in capsys.readouterr().err and not (root / "other").exists()
    # An output directory moved with its data resumes: data paths are checked by their digests (the
    # base model is where it was, as a gguf:NAME source or a shared model directory would be).
    moved = root.parent / (root.name + "-moved")
    shutil.copytree(root, moved, copy_function=shutil.copy2)
    (moved / "small.yaml").write_text(yaml.safe_dump({**small, "base_model": str(root / "base")}))  # as gguf:NAME
    stamps = {p: p.stat().st_mtime_ns for p in (moved / "small").rglob("*.jsonl")}
    assert main(["compare", str(moved / "small.yaml"), "--output", str(moved / "small")]) == 0
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps


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
    ({"verdict": {"method": "ts2", "levels": [0.7]}}, "verdict.levels"),
    ({"verdict": {"method": "ts2", "metric": "colour"}}, "verdict.metric='colour'"),
    ({"verdict": {"method": "ts2"}, "checks": {"positive_control": "zzz"}}, "checks.positive_control='zzz'"),
    ({"checks": {"aa": True}, "verdict": None}, "checks need a verdict"),
    ({"methods": {"ce": {"loss": "ce"}, "ts2": {"loss": "ts2", "alpha": []}}}, "empty sweep"),
    ({"methods": {"ce": {"loss": "ce", "train_data": "nope.jsonl"}}}, "train_data: no such file"),
    ({"sampling": {"temperatures": [1.0], "base_temperatures": [0.5]}}, "base_temperatures"),
    ({"runtime": {"engine": "tgi"}}, "runtime: engine must be one of native, vllm, got engine='tgi'"),
    ({"runtime": {"tensor_parallel_size": 2}}, "tensor_parallel_size=2 needs --engine vllm"),
])
def test_bad_configs_are_refused_before_anything_runs(setup, change, message, capsys):
    root, path, raw = setup
    bad = root / "bad.yaml"
    bad.write_text(yaml.safe_dump({**raw, **change}))
    assert main(["compare", str(bad), "--output", str(root / "o")]) == 2
    assert message in capsys.readouterr().err
    assert not (root / "o").exists()


def test_engine_settings_are_recorded_only_when_given(setup):
    """Outputs made before the engine settings existed stay resumable and reusable (their recorded
    runtime has no engine keys), and a vLLM comparison never reuses a native one's runs."""
    root, path, raw = setup
    recorded = CompareConfig.from_dict(raw, root).to_dict()["runtime"]
    assert recorded == {"device": "auto", "dtype": "auto", "batch_tokens": 16384}
    vllm = CompareConfig.from_dict({**raw, "runtime": {"engine": "vllm", "tensor_parallel_size": 2}}, root)
    assert vllm.to_dict()["runtime"] == {"device": "auto", "dtype": "auto", "batch_tokens": 16384, "engine": "vllm",
                                         "tensor_parallel_size": 2}
    assert vllm.runtime.runtime().tensor_parallel_size == 2


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
    bad.write_text(json.dumps({**EVAL[-1], "extract": "choice"}) + "\n")
    with pytest.raises(DataError, match="bad_eval.jsonl:1: extract=choice needs 'choices'"):
        read_eval_prompts(bad)
    bad.write_text(json.dumps({**EVAL[0], "extract": "number"}) + "\n")
    with pytest.raises(DataError, match="'extract' must be choice or number, on a closed prompt"):
        read_eval_prompts(bad)


def test_sweeps_own_data_checks_and_a_base_reference_at_one_temperature(setup):
    root, _, raw = setup
    write_jsonl(root / "uniform.jsonl", [
        {"messages": [{"role": "user", "content": f"name a number below {n}"},
                      {"role": "assistant", "content": str(n % 5)}]} for n in range(3, 30)])
    rows = [dict(r, sft_answers=["0", "1", "2"]) if r["kind"] == "open" else r for r in EVAL]
    write_jsonl(root / "eval_sft.jsonl", rows)
    raw = {**raw, "eval_prompts": "eval_sft.jsonl", "seeds": [0, 1],
           "methods": {"ce": {"loss": "ce"}, "ts2": {"loss": "ts2", "alpha": [0.1, 1.0]},
                       "control": {"loss": "ce", "train_data": "uniform.jsonl"},
                       "ce_again": {"loss": "ce", "seed_offset": 7},
                       "ce_resample": {"resample_of": "ce", "seed_offset": 5}},
           "sampling": {"n": 4, "temperatures": [0.5, 1.0], "base_temperatures": [1.0], "max_new_tokens": 3},
           "probe": None,
           "verdict": {"method": "ts2-alpha0.1", "split": "seen", "levels": [0.5, 1.0], "ceiling_margin": 0.05},
           "checks": {"positive_control": "control", "replicate": "ce_again"}}
    path = root / "sweep.yaml"
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path)
    assert set(config.methods) == {"ce", "ts2-alpha0.1", "ts2-alpha1.0", "control", "ce_again", "ce_resample"}
    assert config.methods["ts2-alpha1.0"]["alpha"] == 1.0
    assert config.methods["control"]["train_data"] == str((root / "uniform.jsonl").resolve())
    out = root / "sweep_out"
    assert main(["compare", str(path), "--output", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    # the report temperature is the first level, 0.5, where the base was not sampled
    assert set(report["methods"]) == {"ce", "ts2-alpha0.1", "ts2-alpha1.0", "control", "ce_again", "ce_resample"}
    assert set(report["temperatures"]["1.0"]["methods"]) == {"base", *report["methods"]}
    assert sorted(p.name for p in (out / "samples").glob("base-*")) == ["base-seed0-T1.0.jsonl",
                                                                     "base-seed1-T1.0.jsonl"]
    assert set(report["frontier"]["base"]["seen"]) == {"1.0"} and set(report["frontier"]["ce"]["seen"]) == {"0.5",
                                                                                                           "1.0"}
    assert set(report["checks"]) == {"collapse_sft_share", "collapse_valid_simpson", "collapse_entropy",
                                     "format_learned", "aa", "spike_in", "positive_control", "replicate"}
    assert report["checks"]["spike_in"]["design"].startswith("ce_again") and report["protocol"] == "ts2-compare-v4"
    for check in report["checks"].values():
        assert {"value", "threshold", "passed", "detail", "available"} <= set(check)
    assert set(report["checks"]["aa"]["pairs"]) == {"seed 1 vs 0: T 0.5", "seed 1 vs 0: T 1"}
    v = report["verdict"]
    assert v["outcome"] == ("inconclusive" if v["failed_checks"] else v["outcome_before_checks"])
    assert set(v["endpoints"]) == {"T 0.5", "T 1", "ceiling"} and v["outcome"] == outcome_of(report)
    assert set(report["outcomes"]) == {"ts2-alpha0.1", "ts2-alpha1.0", "control", "ce_again", "ce_resample"}
    # a resample samples ce's models again with other sampling seeds, and trains nothing
    assert not (out / "models" / "ce_resample-seed0").exists()
    assert (out / "samples" / "ce_resample-seed0-T1.0.jsonl").read_text() != (
        out / "samples" / "ce-seed0-T1.0.jsonl").read_text()
    assert (out / "positions" / "ce_resample-seed0.json").read_text() == (
        out / "positions" / "ce-seed0.json").read_text()
    # the replicate is the baseline's process at seed + offset: its own data order and weights
    again = json.loads((out / "models" / "ce_again-seed1" / "ts2_config.json").read_text())
    assert again["training_args"]["seed"] == 8 and again["training_args"]["data_seed"] == 8
    mine, theirs = _weights(out / "models" / "ce_again-seed0"), _weights(out / "models" / "ce-seed0")
    assert any(not (mine[k] == theirs[k]).all() for k in mine)
    # the positive control trained on its own data file
    log = json.loads((out / "models" / "control-seed0" / "ts2_config.json").read_text())
    assert log["ts2"]["data"].endswith("uniform.jsonl")


def test_the_grid_is_extended_while_a_method_is_above_the_lowest_target(setup):
    """sampling.max_temperature: the first seed samples one step higher while its accuracy at the
    highest temperature is above the lowest target, up to the maximum; later seeds and the report
    use the same temperatures (planted sample files stand in for the sampler)."""
    from ts2.compare.run import Compare

    root, _, raw = setup
    raw = {**raw, "sampling": {"n": 4, "temperatures": [0.5, 1.0], "max_temperature": 1.3, "extend_step": 0.1},
           "verdict": {"method": "ts2", "split": "seen", "levels": {"accuracy": [0.9, 0.6]}}}
    run = Compare(CompareConfig.from_dict(raw, root), root / "out", log=lambda message: None)
    assert run.grid.pending("ts2", 0) and not run.grid.pending("ts2", 1)
    assert not run.grid.pending("base", 0)

    def write(temperature, path, accurate):
        answer = "3" if accurate else "I would rather not say"
        write_jsonl(path, [{"id": r["id"], "responses": [answer] * 4} for r in EVAL])

    (root / "out" / "samples").mkdir(parents=True)
    write(1.0, root / "out" / "samples" / "ts2-seed0-T1.0.jsonl", True)
    sampled = []

    def sample(temperature, path):
        sampled.append(temperature)
        write(temperature, path, temperature < 1.2)

    run.grid.extend("ts2", "ts2-seed0", [0.5, 1.0], sample)
    assert sampled == [1.1, 1.2] and run.grid.temperatures("ts2") == [0.5, 1.0, 1.1, 1.2]
    assert not run.grid.pending("ts2", 0) and run.grid.temperatures("ce") == [0.5, 1.0]
    sampled.clear()
    write(1.0, root / "out" / "samples" / "ce-seed0-T1.0.jsonl", True)
    run.grid.extend("ce", "ce-seed0", [0.5, 1.0], lambda t, p: (sampled.append(t), write(t, p, True)))
    assert sampled == [1.1, 1.2, 1.3]  # still accurate: stops at max_temperature


def test_the_grid_is_extended_down_while_a_method_is_below_the_highest_target(setup):
    """sampling.min_temperature: a method less accurate than the highest target at the lowest
    temperature is sampled one step lower, down to the minimum (the upward search still runs)."""
    from ts2.compare.run import Compare

    root, _, raw = setup
    raw = {**raw, "sampling": {"n": 4, "temperatures": [0.8, 1.0], "max_temperature": 1.2, "min_temperature": 0.4,
                               "extend_step": 0.2},
           "verdict": {"method": "ts2", "split": "seen", "band": [0.6, 0.9]}}
    run = Compare(CompareConfig.from_dict(raw, root), root / "out", log=lambda message: None)
    assert run.grid.pending("ts2", 0)

    def write(path, accurate):
        answer = "3" if accurate else "I would rather not say"
        write_jsonl(path, [{"id": r["id"], "responses": [answer] * 4} for r in EVAL])

    (root / "out" / "samples").mkdir(parents=True)
    for t in (0.8, 1.0):
        write(root / "out" / "samples" / f"ts2-seed0-T{t}.jsonl", False)
    sampled = []

    def sample(temperature, path):
        sampled.append(temperature)
        write(path, temperature < 0.5)

    run.grid.extend("ts2", "ts2-seed0", [0.8, 1.0], sample)
    assert sampled == [0.6, 0.4] and run.grid.temperatures("ts2") == [0.8, 1.0, 0.6, 0.4]
    record = json.loads((root / "out" / "runs" / "ts2-temperatures.json").read_text())
    assert record["highest_target"] == 0.9 and record["lowest_target"] == 0.6
    with pytest.raises(DataError, match="min_temperature"):
        CompareConfig.from_dict({**raw, "sampling": {**raw["sampling"], "min_temperature": 0.9}}, root)


def test_every_seed_is_sampled_lower_while_the_mean_accuracy_misses_the_highest_target(setup):
    """bracket_means: the first seed reaches the band's top at T 0.8 and stops the search there,
    but the mean over two seeds does not; every seed is then sampled at 0.7, then 0.6, until the
    mean reaches it (planted sample files stand in for the sampler)."""
    from ts2.compare.run import Compare

    root, _, raw = setup
    raw = {**raw, "seeds": [0, 1],
           "sampling": {"n": 4, "temperatures": [0.8, 1.0], "min_temperature": 0.4, "extend_step": 0.1},
           "verdict": {"method": "ts2", "split": "seen", "band": [0.5, 0.9]}}
    run = Compare(CompareConfig.from_dict(raw, root), root / "out", log=lambda message: None)
    (root / "out" / "samples").mkdir(parents=True)
    (root / "out" / "runs").mkdir(parents=True)

    def write(method, seed, temperature):
        accurate = 4 if seed == 0 or temperature < 0.65 else 2 if temperature < 0.75 else 0
        write_jsonl(root / "out" / "samples" / f"{method}-seed{seed}-T{temperature}.jsonl",
                    [{"id": r["id"], "responses": ["3"] * accurate + ["no idea"] * (4 - accurate)} for r in EVAL])

    for seed in (0, 1):
        for t in (0.8, 1.0):
            write("ts2", seed, t)
            write_jsonl(root / "out" / "samples" / f"ce-seed{seed}-T{t}.jsonl",  # ce: accurate everywhere
                        [{"id": r["id"], "responses": ["3"] * 4} for r in EVAL])
    for method in ("ce", "ts2"):
        (root / "out" / "runs" / f"{method}-temperatures.json").write_text(json.dumps({"extended": []}))
    sampled = []

    def sample_seeds(method, temperature):
        sampled.append((method, temperature))
        for seed in (0, 1):
            write(method, seed, temperature)

    run.grid.bracket_means(sample_seeds)
    assert sampled == [("ts2", 0.7), ("ts2", 0.6)]
    assert run.grid.temperatures("ts2") == [0.8, 1.0, 0.7, 0.6] and run.grid.temperatures("ce") == [0.8, 1.0]
    record = json.loads((root / "out" / "runs" / "ts2-temperatures.json").read_text())
    assert record["by_mean_of_seeds"] == [0.7, 0.6]


def test_closed_prompts_only_draw_no_empty_figures(setup):
    """An OpenLLM task as the evaluation set: no open prompt, so no frontier or bars to draw; the
    report says why instead of shipping empty PNGs."""
    root, _, raw = setup
    write_jsonl(root / "closed.jsonl", [r for r in EVAL if r["kind"] == "closed"])
    raw = {**raw, "eval_prompts": "closed.jsonl", "probe": None, "verdict": None,
           "sampling": {"n": 2, "temperatures": [1.0], "max_new_tokens": 3}}
    path = root / "closed.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = root / "closed_out"
    assert main(["compare", str(path), "--output", str(out)]) == 0
    assert not (out / "frontier.png").exists() and not (out / "metrics.png").exists()
    text = (out / "report.md").read_text()
    assert "No frontier.png: no open prompts" in text and "No metrics.png: no open prompts" in text
    report = json.loads((out / "report.json").read_text())
    assert "pass@1" in report["methods"]["ts2"]["seen"] and report["readings"] == {}


def _weights(path):
    from safetensors.torch import load_file

    return load_file(path / "model.safetensors")


def test_torchrun_trains_data_parallel_and_shares_the_sampling(setup):
    """`torchrun --nproc_per_node 2 -m ts2.cli compare` (rank 0 leads, rank 1 follows): the models
    are those of one process (the global batch kept: 4 = 2 ranks x 2), every sample file has the
    rows of one process, each prompt is sampled by one rank (the summed token counts are one
    process's), no part file is left, and a rerun does nothing."""
    import subprocess

    import torch

    root, path, _ = setup
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    one, two = root / "one", root / "two"
    subprocess.run([sys.executable, "-m", "ts2.cli", "compare", str(path), "--output", str(one)], check=True,
                   env=env, capture_output=True, timeout=600)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29563",
               "-m", "ts2.cli", "compare", str(path), "--output", str(two)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("report: ") == 1, result.stdout[-3000:]
    for method in ("ce", "ts2"):
        a, b = _weights(one / "models" / f"{method}-seed0"), _weights(two / "models" / f"{method}-seed0")
        base = _weights(root / "base")
        assert max((a[k] - base[k]).abs().max() for k in a) > 1e-4  # trained
        for key in a:
            torch.testing.assert_close(a[key], b[key], rtol=1e-4, atol=1e-6, msg=key)
        runs = [json.loads((out / "runs" / f"{method}-seed0.json").read_text()) for out in (one, two)]
        assert [r["train_processes"] for r in runs] == [1, 2] and runs[0]["train_steps"] == runs[1]["train_steps"]
    for single in sorted((one / "samples").iterdir()):
        rows = [[json.loads(line) for line in open(out / "samples" / single.name)] for out in (one, two)]
        assert [r["id"] for r in rows[1]] == [r["id"] for r in rows[0]] == [e["id"] for e in EVAL]
        assert [r["responses"] for r in rows[1]] == [r["responses"] for r in rows[0]]
    for method in ("base", "ce", "ts2"):
        records = [json.loads((out / "runs" / f"{method}-seed0.json").read_text()) for out in (one, two)]
        assert records[0]["sample_tokens"] == records[1]["sample_tokens"]
    assert sorted(p.name for p in (two / "samples").iterdir()) == sorted(p.name for p in (one / "samples").iterdir())
    report = json.loads((two / "report.json").read_text())
    assert report["verdict"]["outcome"] == json.loads((one / "report.json").read_text())["verdict"]["outcome"]
    before = {p: p.stat().st_mtime_ns for p in (two / "samples").iterdir()}
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert {p: p.stat().st_mtime_ns for p in (two / "samples").iterdir()} == before


@pytest.mark.parametrize("training,runtime,message", [
    ({"per_device_train_batch_size": 3}, {}, "neither divides by 2"),
    ({"per_device_train_batch_size": 3, "gradient_accumulation_steps": 4}, {}, None),
    ({}, {"engine": "vllm"}, "--engine vllm runs its own processes"),
])
def test_what_a_launcher_cannot_share_is_refused_on_every_rank_before_any_work(setup, monkeypatch, training,
                                                                               runtime, message):
    from ts2.compare.launch import data_parallel
    from ts2.compare.run import run_compare

    root, path, raw = setup
    raw = {**raw, "training": {**raw["training"], **training}, "runtime": runtime}
    path.write_text(yaml.safe_dump(raw))
    config = load_config(path)
    if message is None:  # the accumulation steps take the division
        settings = data_parallel({**config.training, **config.methods["ce"]}, 2)
        assert settings["gradient_accumulation_steps"] == 2 and settings["per_device_train_batch_size"] == 3
        return
    for rank in ("0", "1"):
        monkeypatch.setenv("WORLD_SIZE", "2")
        monkeypatch.setenv("RANK", rank)
        with pytest.raises(ValueError, match=message):
            run_compare(config, root / "out")
    assert not (root / "out").exists()
