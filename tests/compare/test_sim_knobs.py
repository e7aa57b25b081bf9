"""The simulated world's knobs of run-to-run and category variation (``ts2.compare.simulate``) and the
variance components they are fitted to (``benchmarks/variance_components.py``)."""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest

from ts2.compare.simulate import World, prompts_of, score_table, simulate

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "variance_components.py"
METHODS = {"baseline": {}, "hot": {"temperature_factor": 1.3}, "gain": {"gain": 0.03},
           "base": {"kind": "base", "temperatures": (1.0,)}}


def _module():
    spec = importlib.util.spec_from_file_location("variance_components", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fingerprint(world: World, rep: int) -> str:
    sim = simulate(world, METHODS, rep)
    h = hashlib.sha256()
    for o in sim["outcomes"].values():
        for per_t in o["runs"]:
            for rows in per_t:
                for row in rows:
                    h.update(np.asarray(row, dtype=np.int64).tobytes())
    return h.hexdigest()[:16]


# Outcomes of the world before the knobs existed (commit cbb6f28, numpy's default_rng), T 1.0 / 1.3 / 1.6
BEFORE = [({}, "0827312f1fa78e75"), ({"seed_effect": 0.01}, "a47bdf5aaf497df1"),
          ({"seed_effect": 0.03, "seeds": 3}, "27c60503e0596321"),
          ({"categories": 10, "prompts_per_category": 4, "seed_effect": 0.02}, "d909dd50bf243b22")]


@pytest.mark.parametrize("rep", range(len(BEFORE)))
def test_the_knobs_at_their_defaults_leave_every_draw_as_it_was(rep):
    settings, expected = BEFORE[rep]
    world = World(temperatures=(1.0, 1.3, 1.6), **settings)
    assert _fingerprint(world, rep) == expected
    effect = settings.get("seed_effect", 0.0)
    spelled = World(temperatures=(1.0, 1.3, 1.6), **settings, seed_shift=effect, interaction=effect,
                    run_category=0.0, category_scale=1.0, category_dominance=0.0, category_tail=0.0,
                    head_scale=1.0, tail_level=-4.0, invalid_shift=0.0, off_list_shift=0.0)
    assert _fingerprint(spelled, rep) == expected


def test_each_knob_moves_what_it_is_for():
    vc = _module()
    design = {"categories": 12, "prompts_per_category": 3, "seeds": 4, "temperatures": (1.0, 1.4)}

    def measured(reps=3, **knobs):
        runs = []
        for rep in range(reps):
            world = World(**design, **knobs)
            sim = simulate(world, {"baseline": {}}, rep)
            grid, arrays = score_table(sim, world, vc.METRICS)
            runs.append(vc.components(arrays["baseline"], prompts_of(sim, world), grid))
        return lambda m, t, k: float(np.mean([r[m][t][k] for r in runs]))

    plain = measured()
    cov, acc = "lenient_coverage", "lenient_accuracy"
    assert measured(head_scale=3.0)(cov, "1.0", "mean") < plain(cov, "1.0", "mean") - 0.03
    assert measured(invalid_shift=-1.5)(acc, "1.4", "mean") > plain(acc, "1.4", "mean") + 0.05
    assert measured(off_list_shift=-3.0)(acc, "1.0", "mean") > plain(acc, "1.0", "mean") + 0.01
    assert measured(category_tail=2.5)(cov, "1.4", "var_category") > 4 * plain(cov, "1.4", "var_category")
    assert measured(run_category=1.0)(cov, "1.0", "var_interaction") > 1.5 * plain(cov, "1.0", "var_interaction")
    assert measured(seed_shift=0.1)(cov, "1.4", "var_seed") > plain(cov, "1.4", "var_seed") + 1e-4


@pytest.mark.parametrize("categories,per_category", [(10, 4), (7, 6), (24, 1)])
def test_other_designs_simulate_and_decompose(categories, per_category):
    vc = _module()
    world = World(categories=categories, prompts_per_category=per_category, seeds=3, temperatures=(1.0, 1.4),
                  run_category=0.5, category_tail=1.0)
    sim = simulate(world, {"baseline": {}, "gain": {"gain": 0.05}}, 0)
    grid, arrays = score_table(sim, world, vc.METRICS)
    prompts = prompts_of(sim, world)
    assert len(prompts) == categories * per_category and arrays["baseline"][vc.METRICS[0]].shape == (3, len(prompts), 2)
    c = vc.components(arrays["baseline"], prompts, grid)["lenient_coverage"]["1.4"]
    assert c["categories"] == categories and c["prompts_per_category"] == [per_category]
    assert (c["sd_within"] is None) == (per_category == 1)


def test_variance_components_recover_planted_components():
    """Scores a + c_g + b_s + e_sg + u_sgp with known sds: seed 0.02, category 0.06, cell
    interaction 0.03, prompt-level noise 0.05 (so the cell interaction is sqrt(0.03^2 + 0.05^2 / k))."""
    vc = _module()
    rng = np.random.default_rng(1)
    seeds, categories, k, reps = 5, 24, 3, 400
    prompts = [{"id": f"c{g}-p{j}", "category": f"c{g:02d}", "split": "sft_categories", "kind": "open"}
               for g in range(categories) for j in range(k)]
    prompts.append({"id": "held", "category": "x", "split": "held_out", "kind": "open"})  # not in the split
    sums = {}
    for _ in range(reps):
        cat = np.repeat(rng.normal(0, 0.06, categories), k)
        seed = rng.normal(0, 0.02, seeds)[:, None]
        cell = np.repeat(rng.normal(0, 0.03, (seeds, categories)), k, axis=1)
        x = 0.3 + cat[None, :] + seed + cell + rng.normal(0, 0.05, (seeds, categories * k))
        x = np.concatenate([x, np.full((seeds, 1), 9.0)], 1)[:, :, None]  # [S, P, T=1]
        c = vc.components({"m": x}, prompts, [1.0], metrics=("m",))["m"]["1.0"]
        for key in ("mean", "var_seed", "var_category", "var_interaction", "var_within"):
            sums[key] = sums.get(key, 0.0) + c[key] / reps
    assert sums["mean"] == pytest.approx(0.3, abs=0.005)
    assert np.sqrt(sums["var_seed"]) == pytest.approx(0.02, rel=0.1)
    assert np.sqrt(sums["var_category"]) == pytest.approx(0.06, rel=0.05)
    assert np.sqrt(sums["var_interaction"]) == pytest.approx(np.sqrt(0.03 ** 2 + 0.05 ** 2 / k), rel=0.03)
    assert np.sqrt(sums["var_within"]) == pytest.approx(0.05 / np.sqrt(k), rel=0.03)
