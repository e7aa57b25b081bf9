"""The v3 readings, rule and checks on planted comparisons where the truth is known
(``ts2.compare.simulate``, score arrays straight from the simulated outcomes)."""

import numpy as np
import pytest

from ts2.compare.analysis import Study, read_method, readings
from ts2.compare.checks import aa_check, collapse_checks
from ts2.compare.scores import Scores
from ts2.compare.simulate import World, prompts_of, score_table, sim_config, simulate
from ts2.compare.verdict import endpoint_outcome, verdict

METRICS = ("accuracy", "lenient_accuracy", "lenient_coverage", "coverage", "valid_simpson", "valid_distinct@4",
           "sft_share", "share_off_list")
SPLIT = "sft_categories"


def _study(methods, seeds=5, seed_effect=0.0, rep=0, verdict_settings=None, checks=None):
    world = World(seeds=seeds, seed_effect=seed_effect)
    sim = simulate(world, methods, rep)
    grid, arrays = score_table(sim, world, METRICS)
    cfg = sim_config(world, methods, verdict_settings, checks)
    return Study(cfg, prompts_of(sim, world), arrays, grid)


def test_a_planted_gain_is_reproduced_and_the_same_frontier_is_not():
    study = _study({"baseline": {}, "method": {"gain": 0.05}, "hot": {"temperature_factor": 1.3}})
    gain = read_method(study, "method", SPLIT)
    band = gain["band"]["metrics"]["lenient_coverage"]
    assert gain["band"]["status"] == "ok" and band["estimate"] == pytest.approx(0.05, abs=0.015)
    assert endpoint_outcome(gain["band"], "lenient_coverage", 0.02) == "reproduced"
    hot = read_method(study, "hot", SPLIT)
    for block in [hot["band"], *hot["levels"].values()]:
        assert block["status"] == "ok"
        reading = block["metrics"]["lenient_coverage"]
        assert reading["ci95"][0] <= 0.0 <= reading["ci95"][1] + 0.005, reading
        assert endpoint_outcome(block, "lenient_coverage", 0.02) != "reproduced"


def test_an_identical_method_reads_exactly_zero():
    study = _study({"baseline": {}, "method": {}})
    study.arrays["method"] = {k: v.copy() for k, v in study.arrays["baseline"].items()}
    reading = read_method(study, "method", SPLIT)
    for block in [reading["band"], *reading["levels"].values()]:
        r = block["metrics"]["lenient_coverage"]
        assert r["estimate"] == pytest.approx(0.0, abs=1e-12) and r["ci95"] == pytest.approx([0.0, 0.0], abs=1e-9)


def test_an_accuracy_cost_is_a_finding_not_minus_infinity():
    """A method whose best accuracy is far below the upper levels: those levels and the band carry the
    accuracy cost (not reproduced); the reachable level is read; no interval holds -inf or None."""
    study = _study({"baseline": {}, "method": {}})
    method = study.arrays["method"]
    for key in ("accuracy", "lenient_accuracy"):
        method[key] = method[key] * 0.85  # every temperature 15% less accurate: best ~0.85
    reading = read_method(study, "method", SPLIT)
    assert reading["levels"]["accuracy 0.95"]["status"] == "accuracy_cost"
    assert reading["levels"]["accuracy 0.8"]["status"] == "ok"
    gap = reading["levels"]["accuracy 0.95"]["best_accuracy_gap"]
    assert gap["estimate"] == pytest.approx(0.85 - 0.95, abs=0.01) and gap["ci95"][1] < 0
    assert reading["band"]["status"] == "accuracy_cost"
    assert endpoint_outcome(reading["band"], "lenient_coverage", 0.02) == "not_reproduced"
    for block in [reading["band"], *reading["levels"].values()]:
        assert all(np.isfinite(block["metrics"]["lenient_coverage"]["ci95"]))


def test_a_grid_that_stops_too_early_is_inconclusive_at_that_level():
    study = _study({"baseline": {}, "method": {"temperature_factor": 0.6}})  # needs T beyond the grid
    reading = read_method(study, "method", SPLIT)
    assert reading["levels"]["accuracy 0.8"]["status"] == "grid_short"
    assert endpoint_outcome(reading["levels"]["accuracy 0.8"], "lenient_coverage", 0.02) == "inconclusive"


def test_the_verdict_follows_the_endpoints_and_a_failed_check_makes_it_inconclusive():
    study = _study({"baseline": {}, "method": {"gain": 0.05}})
    result = readings(study)
    v = verdict(study.cfg, result, {})
    assert v["outcome"] == "reproduced" and v["endpoints"] == {"band": "reproduced"} and not v["preliminary"]
    failed = verdict(study.cfg, result, {"aa": {"passed": False}, "collapse_entropy": {"passed": None,
                                                                                        "available": False}})
    assert failed["outcome"] == "inconclusive" and failed["outcome_before_checks"] == "reproduced"
    assert failed["failed_checks"] == ["aa"] and failed["skipped_checks"] == ["collapse_entropy"]
    levels = _study({"baseline": {}, "method": {"gain": 0.05}}, verdict_settings={"primary": "levels"})
    v = verdict(levels.cfg, readings(levels), {})
    assert set(v["endpoints"]) == {"accuracy 0.95", "accuracy 0.9", "accuracy 0.8"} and v["outcome"] == "reproduced"


def test_temperature_levels_read_the_baseline_where_it_was_sampled():
    study = _study({"baseline": {}, "method": {"temperature_factor": 1.3}},
                   verdict_settings={"levels": {"temperature": [1.2, 1.4]}, "band": None, "primary": "levels"})
    reading = read_method(study, "method", SPLIT)
    target = reading["levels"]["T 1.2"]["target_accuracy"]
    at_t = study.arrays["baseline"]["lenient_accuracy"][..., study.temperatures.index(1.2)]
    assert target == pytest.approx(np.nanmean(at_t), abs=0.01)
    assert reading["levels"]["T 1.2"]["status"] == "ok" and reading["band"] is None


def test_collapse_checks_need_a_collapse_and_entropy_needs_the_model():
    methods = {"baseline": {}, "method": {}, "base": {"kind": "base", "temperatures": (1.0,)}}
    study = _study(methods, seeds=3)
    checks = collapse_checks(study, Scores(study.temperatures, study.arrays))
    assert checks["collapse_sft_share"]["passed"] and checks["collapse_valid_simpson"]["passed"]
    assert checks["collapse_entropy"]["available"] is False and checks["format_learned"]["passed"]
    arrays = {**study.arrays, "base": {k: v.copy() for k, v in study.arrays["baseline"].items()}}  # no collapse
    study = Study(study.cfg, study.prompts, arrays, study.temperatures)
    checks = collapse_checks(study, Scores(study.temperatures, study.arrays))
    assert not checks["collapse_sft_share"]["passed"] and not checks["collapse_valid_simpson"]["passed"]


def test_aa_check_passes_on_one_process_and_fails_on_a_reading_that_favours_the_method(monkeypatch):
    """The A/A check compares every pair of baseline seeds; one deviant seed is seed variance (which
    the pairs' intervals include), so what it catches is an instrument that reads the second of two
    identical processes differently (protocol v2's first run read the baseline at T_L and the method
    at its own crossing: +0.034)."""
    study = _study({"baseline": {}, "method": {}}, seeds=4, rep=3)
    check = aa_check(study)
    assert check["available"] and check["passed"] and len(check["pairs"]) == 6, check["detail"]
    from ts2.compare import readings

    honest = readings.compare_frontiers

    def favouring(*args, **kwargs):
        result = honest(*args, **kwargs)
        for block in [result["band"], *result["levels"].values()]:
            for r in block["metrics"].values():
                r["estimate"] += 0.03
                r["ci95"] = [r["ci95"][0] + 0.03, r["ci95"][1] + 0.03]
        return result

    monkeypatch.setattr("ts2.compare.study.compare_frontiers", favouring)
    biased = aa_check(Study(study.cfg, study.prompts, study.arrays, study.temperatures))
    assert not biased["passed"] and biased["value"] > 0.5


def test_a_small_version_of_the_committed_simulation():
    """benchmarks/compare_sim.py in small: 3 seeds with a seed effect, 40 planted comparisons of the
    baseline with itself (its own runs) and with itself at 1.3 T.  Both truths are 0: the band
    intervals must cover it (nominal 95%; with 40 runs, at least 34, which a 2x too narrow interval
    (~66%) fails), and the readings must not be biased by more than delta / 4 on average."""
    covered, estimates = {"same": 0, "hot": 0}, {"same": [], "hot": []}
    for rep in range(40):
        study = _study({"baseline": {}, "same": {}, "hot": {"temperature_factor": 1.3}}, seeds=3,
                       seed_effect=0.01, rep=100 + rep, verdict_settings={"method": "same"})
        for method in covered:
            band = read_method(study, method, SPLIT)["band"]["metrics"]["lenient_coverage"]
            covered[method] += band["ci95"][0] <= 0 <= band["ci95"][1]
            estimates[method].append(band["estimate"])
    assert all(c >= 34 for c in covered.values()), covered
    assert all(abs(np.mean(e)) < 0.005 for e in estimates.values()), {m: np.mean(e) for m, e in estimates.items()}
