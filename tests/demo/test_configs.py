"""The shipped real-model configurations: they load, v3 has what issue 26 asks, and --full can take
over make demo's runs (the same training, sampling and data)."""

import json

import pytest

from ts2.compare.reuse import SHARED_KEYS, shared_runs
from ts2.demo.run import real_config


def test_v3_configurations_and_their_data(tmp_path):
    demo, full = real_config(tmp_path / "demo", protocol="v3"), real_config(tmp_path / "full", True, "v3")
    assert len(demo.seeds) >= 3 and len(full.seeds) >= 5 and set(demo.seeds) <= set(full.seeds)
    assert set(demo.methods) == {"ce", "ts2"} and demo.methods["ts2"]["alpha"] == 0.25
    assert {"sparsemax", "gem", "dft", "neftune", "ce_uniform", "ts2-alpha0.1", "ts2-alpha1.0"} <= set(full.methods)
    assert full.checks.positive_control == "ce_uniform" and demo.checks.spike_in and demo.checks.aa
    for cfg in (demo, full):
        v = cfg.verdict
        assert v.primary == "band" and max(v.levels["accuracy"]) < 0.98  # CE's best in the pilots: 0.98-0.99
        assert v.band[0] < v.band[1] <= max(v.levels["accuracy"])
    rows = [json.loads(line) for line in open(tmp_path / "demo" / "data" / "eval.jsonl")]
    sft = {r["category"] for r in rows if r["split"] == "sft_categories"}
    assert len(sft) >= 24 and len({r["category"] for r in rows if r["split"] == "heldout_categories"}) >= 8
    # every run make demo makes is one --full makes the same way
    for key in SHARED_KEYS:
        assert demo.to_dict().get(key) == full.to_dict().get(key), key  # base_model_revision: only when set
    record = {k: json.loads(json.dumps(v)) for k, v in demo.to_dict().items()}
    (tmp_path / "demo" / "config.json").write_text(json.dumps(record))
    (tmp_path / "demo" / "inputs.json").write_text(json.dumps({}))
    pairs = shared_runs(full.to_dict(), {}, tmp_path / "demo")
    assert {(m, s) for m in ("base", "ce", "ts2") for s in demo.seeds} == set(pairs)


def test_v4_configurations_are_fresh_and_have_what_issue_38_asks(tmp_path):
    demo, full = real_config(tmp_path / "demo"), real_config(tmp_path / "full", full=True)
    assert set(full.methods) == {"ce", "ts2", "gem", "ts2-alpha0.1", "ts2-alpha1.0", "ce_again",
                                 full.checks.positive_control}
    assert full.checks.replicate == "ce_again" and full.methods["ce_again"] == {"loss": "ce", "seed_offset": 1000}
    assert demo.checks.replicate == "ce_resample" and demo.methods["ce_resample"]["resample_of"] == "ce"
    v3_seeds, pilot_seeds = {0, 1, 2, 3, 4}, {900, 901, 902}
    used = [set(demo.seeds), set(full.seeds), {s + 1000 for s in full.seeds}, v3_seeds, pilot_seeds]
    assert sum(len(x) for x in used) == len(set().union(*used))  # no run shares a seed with another
    assert len(demo.seeds) >= 3 and len(full.seeds) >= 5 and full.verdict.min_seeds == len(full.seeds)
    for cfg in (demo, full):
        v = cfg.verdict
        assert v.primary == "band" and v.ceiling_margin > 0 and cfg.runtime.dtype == "float32"
        assert v.band == [min(v.levels["accuracy"]), max(v.levels["accuracy"])]
    assert full.verdict.delta == demo.verdict.delta and 0.6 in full.sampling.temperatures
    prompts = {cfg.name: [json.loads(line) for line in open(tmp_path / d / "data" / "eval.jsonl")]
               for d, cfg in (("demo", demo), ("full", full))}
    demo_texts, full_texts = ({r["prompt"] for r in rows} for rows in prompts.values())
    assert not demo_texts & full_texts  # the demo samples nothing of the confirmatory run's
    v3_texts = {json.loads(line)["prompt"] for line in open(real_config(tmp_path / "v3", protocol="v3").eval_prompts)}
    assert not (demo_texts | full_texts) & v3_texts  # and nothing earlier runs sampled
    assert len(full_texts) == 72 and len(demo_texts) == 48


@pytest.mark.parametrize("full", [False, True])
def test_v2_configurations_still_load_with_their_own_data(tmp_path, full):
    cfg = real_config(tmp_path, full=full, protocol="v2")
    assert cfg.verdict.levels == {"temperature": [0.6, 1.0]}
    rows = [json.loads(line) for line in open(tmp_path / "data" / "eval.jsonl")]
    assert len(rows) == 72 and {r["kind"] for r in rows} == {"open", "closed"}
    with pytest.raises(ValueError, match="protocol"):
        real_config(tmp_path, protocol="v9")
