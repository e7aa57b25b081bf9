"""Protocol v4's rule: the ceiling is its own endpoint, decided by an interval against a margin, and
no point estimate decides an endpoint; the replicate must be the baseline again."""

import pytest

from ts2.compare.config import CompareConfig
from ts2.compare.sections import Verdict
from ts2.compare.verdict import ceiling_outcome, claim_outcome, primary_outcome
from ts2.formats import DataError

V4 = Verdict(metric="lenient_coverage", levels={"accuracy": [0.86, 0.6]}, band=[0.6, 0.86], primary="band",
             delta=0.03, ceiling_margin=0.02)


def _reading(band_ci, ceiling_ci, status="ok"):
    return {"levels": {}, "band": {"status": status, "metrics": {"lenient_coverage": {"ci95": band_ci}}},
            "ceiling": {"difference": {"estimate": sum(ceiling_ci) / 2, "ci95": ceiling_ci}}}


@pytest.mark.parametrize("ceiling_ci, expected", [
    ([-0.015, 0.01], "non_inferior"),
    ([-0.05, -0.021], "inferior"),
    ([-0.03, 0.0], "inconclusive"),  # the point estimate (-0.015) is within the margin: not enough
])
def test_the_ceiling_is_decided_by_its_interval(ceiling_ci, expected):
    assert ceiling_outcome(_reading([0.01, 0.05], ceiling_ci), 0.02) == expected


@pytest.mark.parametrize("band_ci, ceiling_ci, status, expected", [
    ([0.01, 0.05], [-0.01, 0.01], "ok", "reproduced"),
    ([0.01, 0.05], [-0.04, 0.0], "ok", "inconclusive"),  # more coverage, accuracy not shown kept
    ([0.01, 0.05], [-0.06, -0.03], "ok", "not_reproduced"),  # more coverage, at an accuracy cost
    ([-0.02, 0.02], [-0.01, 0.01], "ok", "not_reproduced"),  # delta 0.03 excluded
    ([0.01, 0.05], [-0.01, 0.01], "accuracy_cost", "inconclusive"),  # unreadable band: never decided by a point
])
def test_the_claim_needs_coverage_and_a_non_inferior_ceiling(band_ci, ceiling_ci, status, expected):
    outcome, parts = claim_outcome(_reading(band_ci, ceiling_ci, status), V4)
    assert outcome == expected and set(parts) == {"band", "ceiling"}


def test_checks_read_the_coverage_endpoint_alone():
    """The positive control may have a lower ceiling than the baseline: it must show more coverage."""
    assert primary_outcome(_reading([0.01, 0.05], [-0.2, -0.1]), V4)[0] == "reproduced"


def test_v3_rule_is_unchanged_without_a_margin():
    from dataclasses import replace

    v3 = replace(V4, ceiling_margin=None)
    assert claim_outcome(_reading([0.01, 0.05], [-0.2, -0.1], "accuracy_cost"), v3)[0] == "not_reproduced"


def _raw(tmp_path, **changes):
    (tmp_path / "eval.jsonl").write_text('{"id": "a", "prompt": "Name a dog.", "valid": ["Rex"], "kind": "open", '
                                         '"split": "s", "category": "dog"}\n')
    raw = {"name": "x", "eval_prompts": "eval.jsonl", "baseline": "ce",
           "methods": {"ce": {"loss": "ce"}, "ts2": {"loss": "ts2"}, "ce_again": {"loss": "ce", "seed_offset": 100}},
           "seeds": [0, 1], "verdict": {"method": "ts2", "split": "s", "levels": {"accuracy": [0.9]},
                                        "ceiling_margin": 0.02},
           "checks": {"replicate": "ce_again"}}
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            raw[section][name] = value
        else:
            raw[section] = value
    return raw


def test_a_replicate_is_the_baseline_with_another_seed_offset(tmp_path):
    cfg = CompareConfig.from_dict(_raw(tmp_path), tmp_path, analysis=True)
    assert cfg.checks.replicate == "ce_again" and cfg.verdict.ceiling_margin == 0.02
    assert cfg.to_dict()["checks"]["replicate"] == "ce_again"


@pytest.mark.parametrize("changes, message", [
    ({"methods__ce_again": {"loss": "ce", "learning_rate": 1e-3, "seed_offset": 100}}, "with another seed_offset"),
    ({"methods__ce_again": {"loss": "ce"}}, "with another seed_offset"),
    ({"checks__replicate": "ce"}, "other than the baseline"),
    ({"checks__replicate": "nope"}, "other than the baseline"),
    ({"methods__ce_again": {"loss": "ce", "seed_offset": "100"}}, "seed_offset must be an integer"),
    ({"verdict__ceiling_margin": -0.1}, "ceiling_margin must be a number in (0, 1)"),
    ({"methods__ce_again": {"resample_of": "ce"}}, "a non-zero seed_offset only"),
    ({"methods__ce_again": {"resample_of": "ce", "seed_offset": 3, "loss": "ce"}}, "a non-zero seed_offset only"),
    ({"methods__ce_again": {"resample_of": "ce_again", "seed_offset": 3}}, "must name another trained method"),
])
def test_bad_replicates_and_margins_are_named(tmp_path, changes, message):
    with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
        CompareConfig.from_dict(_raw(tmp_path, **changes), tmp_path, analysis=True)


def test_a_resample_of_the_baseline_is_a_replicate(tmp_path):
    raw = _raw(tmp_path, methods__ce_again={"resample_of": "ce", "seed_offset": 1000})
    assert CompareConfig.from_dict(raw, tmp_path, analysis=True).methods["ce_again"]["resample_of"] == "ce"


def test_configs_without_v4_keys_record_what_they_recorded(tmp_path):
    raw = _raw(tmp_path)
    del raw["verdict"]["ceiling_margin"], raw["checks"]["replicate"]
    record = CompareConfig.from_dict(raw, tmp_path, analysis=True).to_dict()
    assert "ceiling_margin" not in record["verdict"] and "replicate" not in record["checks"]
