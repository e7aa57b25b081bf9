"""`ts2 compare analyze` on planted sample files (``ts2.compare.simulate``): the instrument sees a
planted gain, does not see the baseline at a higher temperature, its checks pass on the baseline's
own samples, its verdict follows from report.json, and bad input is an error naming file and line."""

import json
import shutil

import numpy as np
import pytest
import yaml

from ts2.cli import main
from ts2.compare.audit import AUDIT_FILE
from ts2.compare.simulate import SIM_VERDICT, World, block_scores, simulate, write_samples
from ts2.compare.spike import spike_table
from ts2.compare.verdict import outcome_of
from ts2.metrics.answer_sets import gini_simpson, rarefied_distinct

WORLD = World(categories=12, seeds=5, temperatures=(0.6, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.8))


def _config(root, methods=("baseline", "method", "again"), **verdict):
    raw = {"name": "planted", "eval_prompts": "eval.jsonl", "baseline": "baseline",
           "methods": {m: {"seed_offset": 1000} if m == "again" else {} for m in methods},
           "sampling": {"n": WORLD.n, "temperatures": list(WORLD.temperatures), "base_temperatures": [1.0]},
           "seeds": list(range(WORLD.seeds)), "verdict": {**SIM_VERDICT, "delta": 0.04, **verdict},
           "checks": {"temperature": 1.0, "simpson_drop": 0.1, "replicate": "again"}}
    path = root / "compare.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _analyze(root, method: dict, rep=0, capsys=None):
    methods = {"baseline": {}, "method": method, "again": {}, "base": {"kind": "base", "temperatures": (1.0,)}}
    write_samples(simulate(WORLD, methods, rep), WORLD, root)
    path = _config(root)
    assert main(["compare", "analyze", str(path), "--samples", str(root / "samples"), "--output",
                 str(root / "out"), "--text_metrics", "false"]) == 0
    return json.loads((root / "out" / "report.json").read_text())


@pytest.fixture(scope="module")
def gain(tmp_path_factory):
    root = tmp_path_factory.mktemp("gain")
    return root, _analyze(root, {"gain": 0.06})


def test_a_planted_gain_is_reproduced_through_sample_files(gain):
    root, report = gain
    assert report["protocol"] == "ts2-compare-v3" and report["verdict"]["outcome"] == "reproduced"
    band = report["readings"]["method"]["sft_categories"]["band"]["metrics"]["lenient_coverage"]
    assert band["estimate"] == pytest.approx(0.06, abs=0.02) and band["ci95"][0] > 0
    assert report["verdict"]["outcome"] == outcome_of(report)  # the rule, from report.json alone
    checks = report["checks"]
    assert checks["spike_in"]["passed"] and checks["aa"]["passed"] and checks["format_learned"]["passed"]
    assert checks["replicate"]["passed"] and checks["spike_in"]["design"].startswith("again")
    assert checks["collapse_sft_share"]["passed"] and checks["collapse_entropy"]["available"] is False
    assert report["verdict"]["skipped_checks"] == ["collapse_entropy"]
    for name in ("report.md", "frontier.png", "metrics.png", AUDIT_FILE):
        assert (root / "out" / name).stat().st_size > 100
    text = (root / "out" / "report.md").read_text()
    assert "**Verdict: REPRODUCED**" in text and "band 0.8-0.95" in text and "Off-list answers" in text


def test_the_baseline_at_a_higher_temperature_is_not_reproduced(tmp_path):
    report = _analyze(tmp_path, {"temperature_factor": 1.3}, rep=1)
    assert report["verdict"]["outcome_before_checks"] in ("not_reproduced", "inconclusive")
    band = report["readings"]["method"]["sft_categories"]["band"]["metrics"]["lenient_coverage"]
    assert band["ci95"][0] <= 0.0 and abs(band["estimate"]) < 0.02


def test_the_off_list_audit_is_blind_and_judgements_give_a_sensitivity_row(gain, tmp_path):
    root, report = gain
    rows = [json.loads(line) for line in (root / "out" / AUDIT_FILE).read_text().splitlines()]
    assert rows and all(set(r) == {"item", "prompt_id", "category", "prompt", "answer", "valid"} for r in rows)
    assert all(r["valid"] is None for r in rows) and "method" not in json.dumps(rows)
    judged = [dict(r, valid=True) for r in rows]  # every off-list word judged a real answer
    (tmp_path / "judged.jsonl").write_text("".join(json.dumps(r) + "\n" for r in judged))
    raw = yaml.safe_load((root / "compare.yaml").read_text())
    raw["audit"] = {"judged": str(tmp_path / "judged.jsonl")}
    raw["eval_prompts"] = str(root / "eval.jsonl")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    assert main(["compare", "analyze", str(tmp_path / "c.yaml"), "--samples", str(root / "samples"),
                 "--output", str(tmp_path / "out"), "--text_metrics", "false"]) == 0
    audited = json.loads((tmp_path / "out" / "report.json").read_text())
    counts = audited["audit"]["methods"]["method"]
    assert counts["judged_valid"] == counts["distinct"] > 0
    sensitivity = audited["audit"]["readings"]["method"]["sft_categories"]["band"]
    assert sensitivity["metrics"]["lenient_coverage"]["estimate"] is not None
    assert audited["verdict"] == report["verdict"] | {"rule": audited["verdict"]["rule"]}  # the verdict is not the row


def test_the_spike_keeps_accuracy_and_adds_coverage(gain):
    from ts2.compare.config import read_eval_prompts
    from ts2.compare.scores import discover_temperatures, score_arrays

    root, _ = gain
    prompts = read_eval_prompts(root / "eval.jsonl")
    temps = discover_temperatures(root / "samples", ["baseline"], [0, 1, 2, 3, 4], {})
    scores = score_arrays(["baseline"], [0, 1, 2, 3, 4], temps, root / "samples", prompts, "baseline",
                          text_metrics=False)
    base = scores.arrays["baseline"]
    table, achieved = spike_table(base, scores.labels["baseline"], prompts, np.arange(len(prompts)), 0.03,
                                  "lenient_coverage")
    np.testing.assert_array_equal(table["lenient_accuracy"], base["lenient_accuracy"])  # sample for sample
    np.testing.assert_array_equal(table["accuracy"], base["accuracy"])
    gain = np.nanmean(table["lenient_coverage"], axis=(0, 1)) - np.nanmean(base["lenient_coverage"], axis=(0, 1))
    assert np.all(gain[:6] >= 0.03 - 1e-9) and np.all(gain <= 0.03 + 1 / 16 / len(prompts) + 1e-9)
    assert set(achieved) == set(range(len(WORLD.temperatures)))


def test_the_spike_in_fails_where_the_readings_cannot_see_it(gain, tmp_path):
    """Levels and band below every accuracy the baseline reaches on its grid: nothing can be read
    there, the spike-in is not reproduced at any size, and the verdict is inconclusive."""
    root, _ = gain
    raw = yaml.safe_load((root / "compare.yaml").read_text())
    raw["eval_prompts"] = str(root / "eval.jsonl")
    raw["verdict"].update(levels={"accuracy": [0.3]}, band=[0.2, 0.3])
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    assert main(["compare", "analyze", str(tmp_path / "c.yaml"), "--samples", str(root / "samples"),
                 "--output", str(tmp_path / "out"), "--text_metrics", "false"]) == 0
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    spike = report["checks"]["spike_in"]
    assert not spike["passed"] and spike["outcome"] == "inconclusive" and spike["detectable_effect"] is None
    assert report["readings"]["method"]["sft_categories"]["band"]["status"] == "baseline_unreadable"
    assert report["verdict"]["outcome"] == "inconclusive" and "spike_in" in report["verdict"]["failed_checks"]


def test_block_scores_match_the_answer_set_metrics():
    rng = np.random.default_rng(0)
    outcomes = rng.choice([-1000, -3, -1, 0, 1, 2, 3, 4, 5, 6], (300, 16),
                          p=[.1, .05, .05, .3, .1, .1, .1, .1, .05, .05])
    sizes = rng.integers(10, 40, 300)
    scores = block_scores(outcomes, sizes, 16)
    for p in range(300):
        valid = [int(x) for x in outcomes[p] if x >= 0]
        assert scores["lenient_coverage"][p] == pytest.approx(len(set(valid)) / min(16, sizes[p]))
        references = (("valid_simpson", gini_simpson(valid)), ("valid_distinct@4", rarefied_distinct(valid)))
        for metric, reference in references:
            assert np.isnan(scores[metric][p]) if reference is None else scores[metric][p] == pytest.approx(reference)


def _rewrite(path, transform):
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(r) + "\n" for r in transform(rows)))


@pytest.mark.parametrize("damage,message", [
    (lambda d: (d / "samples" / "method-seed2-T1.2.jsonl").unlink(), "missing method-seed2-T1.2.jsonl"),
    (lambda d: [p.unlink() for p in (d / "samples").glob("method-seed1-*")], "no samples of method 'method', seed 1"),
    (lambda d: shutil.copy(d / "samples" / "method-seed0-T1.0.jsonl", d / "samples" / "other-seed0-T1.0.jsonl"),
     "method(s) other that the config does not name"),
    (lambda d: _rewrite(d / "samples" / "method-seed0-T1.0.jsonl", lambda r: [*r[:3], {**r[3], "id": "nope"}, *r[4:]]),
     "method-seed0-T1.0.jsonl:4: id 'nope' is not among the evaluation prompts"),
    (lambda d: _rewrite(d / "samples" / "baseline-seed1-T0.6.jsonl", lambda r: [{**r[0], "responses": []}, *r[1:]]),
     "baseline-seed1-T0.6.jsonl:1: 'responses' must be a non-empty list"),
    (lambda d: _rewrite(d / "samples" / "baseline-seed1-T0.6.jsonl", lambda r: r[1:]),
     "baseline-seed1-T0.6.jsonl: no samples for 1 prompt"),
])
def test_bad_sample_files_are_errors_naming_file_and_line(gain, tmp_path, capsys, damage, message):
    root, _ = gain
    shutil.copytree(root / "samples", tmp_path / "samples")
    damage(tmp_path)
    code = main(["compare", "analyze", str(root / "compare.yaml"), "--samples", str(tmp_path / "samples"),
                 "--output", str(tmp_path / "out")])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out" / "report.json").exists()
