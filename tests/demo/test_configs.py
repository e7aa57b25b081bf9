"""The shipped real-model configurations: they load, v3 has what issue 26 asks, and --full can take
over make demo's runs (the same training, sampling and data)."""

import json

import pytest

from ts2.compare.reuse import SHARED_KEYS, shared_runs
from ts2.demo.run import real_config


def test_v3_configurations_and_their_data(tmp_path):
    demo, full = real_config(tmp_path / "demo"), real_config(tmp_path / "full", full=True)
    assert len(demo.seeds) >= 3 and len(full.seeds) >= 5 and set(demo.seeds) <= set(full.seeds)
    assert set(demo.methods) == {"ce", "ts2"} and demo.methods["ts2"]["alpha"] == 0.25
    assert {"sparsemax", "gem", "dft", "neftune", "ce_uniform", "ts2-alpha0.1", "ts2-alpha1.0"} <= set(full.methods)
    assert full.checks["positive_control"] == "ce_uniform" and demo.checks["spike_in"] and demo.checks["aa"]
    for cfg in (demo, full):
        v = cfg.verdict
        assert v["primary"] == "band" and max(v["levels"]["accuracy"]) < 0.98  # CE's best in the pilots: 0.98-0.99
        assert v["band"][0] < v["band"][1] <= max(v["levels"]["accuracy"])
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


@pytest.mark.parametrize("full", [False, True])
def test_v2_configurations_still_load_with_their_own_data(tmp_path, full):
    cfg = real_config(tmp_path, full=full, protocol="v2")
    assert cfg.verdict["levels"] == {"temperature": [0.6, 1.0]}
    rows = [json.loads(line) for line in open(tmp_path / "data" / "eval.jsonl")]
    assert len(rows) == 72 and {r["kind"] for r in rows} == {"open", "closed"}
    with pytest.raises(ValueError, match="protocol"):
        real_config(tmp_path, protocol="v9")
