"""Monotone frontiers, readings at matched accuracy and the hierarchical bootstrap, against
hand-computed cases, brute force, and simulations where the answer is known."""

import itertools

import numpy as np
import pytest

from ts2.metrics.bootstrap import hierarchical_counts, interval, weighted_means
from ts2.metrics.frontier import crossing, monotone_fit, read_matched

GRID = np.linspace(0, 1, 41)


def _brute_isotonic_decreasing(y):
    """Least squares over every non-increasing sequence on a grid (small n only)."""
    best, best_err = None, np.inf
    for seq in itertools.combinations_with_replacement(GRID[::-1], len(y)):
        err = ((np.array(seq) - y) ** 2).sum()
        if err < best_err:
            best, best_err = np.array(seq), err
    return best


@pytest.mark.parametrize("y", [[1.0, 0.8, 0.9, 0.5], [0.2, 0.4, 0.3, 0.1], [0.5, 0.5, 0.6, 0.7],
                               [0.9, 0.7, 0.5, 0.3]])
def test_monotone_fit_is_the_least_squares_monotone_curve(y):
    fitted = monotone_fit(y, increasing=False)
    assert np.all(np.diff(fitted) <= 1e-12)
    brute = _brute_isotonic_decreasing(np.array(y))
    assert ((fitted - y) ** 2).sum() <= ((brute - y) ** 2).sum() + 1e-12


def test_monotone_fit_by_hand_and_direction():
    np.testing.assert_allclose(monotone_fit([1.0, 0.8, 0.9, 0.5]), [1.0, 0.85, 0.85, 0.5])
    np.testing.assert_allclose(monotone_fit([0.1, 0.3, 0.2, 0.6]), [0.1, 0.25, 0.25, 0.6])  # rising data


def test_crossing_and_read_matched_by_hand():
    ts = [0.5, 1.0, 1.5]
    assert crossing(ts, [1.0, 0.9, 0.8], 0.85) == pytest.approx(1.25)
    assert crossing(ts, [1.0, 0.9, 0.8], 0.9) == pytest.approx(1.0)
    assert crossing(ts, [1.0, 0.9, 0.8], 0.7) is None
    # flat at the target (accuracy at the ceiling): the highest such temperature
    assert crossing([0.4, 0.6, 0.8, 1.0], [1.0, 1.0, 1.0, 0.9], 1.0) == pytest.approx(0.8)
    assert read_matched([0.4, 0.6, 0.8, 1.0], [1.0, 1.0, 1.0, 0.9], [0.1, 0.2, 0.3, 0.4], 1.0)[1] == 0.3
    # best point within tolerance, on a flat best stretch: its right end
    assert read_matched([0.4, 0.6, 0.8], [0.99, 0.99, 0.9], [0.1, 0.2, 0.3], 1.0, tolerance=0.02) == (0.6, 0.2)
    t, value = read_matched(ts, [1.0, 0.9, 0.8], [0.1, 0.2, 0.3], 0.85)
    assert t == pytest.approx(1.25) and value == pytest.approx(0.25)
    # a non-monotone accuracy curve is read on its monotone fit: [0.9, 0.95, 0.7] -> [0.925, 0.925, 0.7]
    t, value = read_matched(ts, [0.9, 0.95, 0.7], [0.1, 0.2, 0.4], 0.8)
    assert t == pytest.approx(1.0 + 0.5 * (0.925 - 0.8) / (0.925 - 0.7))
    # out of reach: fails, unless within the tolerance of the best point (read there)
    assert read_matched(ts, [0.97, 0.9, 0.8], [0.1, 0.2, 0.3], 1.0) == (None, None)
    assert read_matched(ts, [0.97, 0.9, 0.8], [0.1, 0.2, 0.3], 1.0, tolerance=0.03) == (0.5, pytest.approx(0.1))


def test_hierarchical_counts_draw_within_categories():
    groups = ["a", "a", "a", "b", "b", "c"]
    seeds, units = hierarchical_counts(3, groups, resamples=500, seed=1)
    assert seeds.shape == (500, 3) and units.shape == (500, 6)
    assert np.all(seeds.sum(1) == 3)
    sizes = {"a": 3, "b": 2, "c": 1}
    for row in units:
        # every category drawn k times contributes k * its size units, all from its own members
        per_group = {g: row[[i for i, x in enumerate(groups) if x == g]].sum() for g in sizes}
        draws = [per_group[g] / sizes[g] for g in sizes]
        assert all(float(d).is_integer() for d in draws) and sum(draws) == 3
    # one unit per group: the plain bootstrap over units
    _, plain = hierarchical_counts(1, list("abcdef"), resamples=200, seed=0)
    assert np.all(plain.sum(1) == 6)


def test_weighted_means_point_and_nan():
    values = np.array([[[1.0], [np.nan], [3.0]], [[5.0], [2.0], [np.nan]]])  # [S=2, P=3, T=1]
    point, reps = weighted_means(values, np.ones((4, 2)), np.ones((4, 3)))
    assert point[0] == pytest.approx(11 / 4) and np.allclose(reps[:, 0], 11 / 4)
    seeds = np.array([[2.0, 0.0]])
    units = np.array([[0.0, 1.0, 2.0]])
    _, rep = weighted_means(values, seeds, units)
    assert rep[0, 0] == pytest.approx(3.0)  # seed 0 only: prompt 1 is NaN, prompt 2 counts twice
    assert interval([0.0, np.nan, 1.0, -np.inf])[0] is None


def _simulate(rng, shift=0.0, n_seeds=2, categories=8, per_category=3, temps=(0.5, 1.0, 1.5)):
    """Per-(seed, prompt, T) accuracy and coverage: accuracy falls and coverage rises with T;
    category and seed effects shared by every method, prompt noise independent."""
    t = np.array(temps)
    cat = np.repeat(rng.normal(0, 0.05, categories), per_category)
    seed_effect = rng.normal(0, 0.02, n_seeds)[:, None, None]
    acc = 0.95 - 0.2 * t[None, None, :] + cat[None, :, None] + seed_effect
    acc = acc + rng.normal(0, 0.03, (n_seeds, categories * per_category, len(t)))
    cov = 0.2 + 0.3 * (1 - acc) + shift + rng.normal(0, 0.03, acc.shape)
    return np.clip(acc, 0, 1), cov


def _matched_ci(a, b, temps=(0.5, 1.0, 1.5), level=1, resamples=400, seed=0):
    from ts2.compare.analysis import matched_diff

    groups = np.repeat(np.arange(8), 3)
    counts = hierarchical_counts(a[0].shape[0], groups, resamples, seed)
    curve = [weighted_means(x, *counts) for x in (*a, *b)]
    return matched_diff(list(temps), level, curve[0], curve[1], curve[2], curve[3], tolerance=0.02)


def test_bootstrap_finds_a_planted_difference_and_covers_zero_in_an_a_a_comparison():
    rng = np.random.default_rng(0)
    covered = 0
    for trial in range(30):
        base = _simulate(np.random.default_rng(trial))
        same = _simulate(np.random.default_rng(1000 + trial))
        d = _matched_ci(same, base)
        lo, hi = d["ci95"]
        covered += (lo is None or lo <= 0) and hi >= 0
    assert covered >= 25  # nominal 95%; a small simulation
    planted = _simulate(rng, shift=0.1)
    d = _matched_ci(planted, _simulate(np.random.default_rng(5)))
    assert d["ci95"][0] > 0.03 and d["diff"] == pytest.approx(0.1, abs=0.05)


def test_monotone_fit_matches_sklearn_isotonic_regression():
    isotonic = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.random(7)
        want = isotonic.IsotonicRegression(increasing=False).fit_transform(np.arange(7), y)
        np.testing.assert_allclose(monotone_fit(y, increasing=False), want, atol=1e-12)


def test_weighted_means_equal_the_means_of_explicitly_resampled_lists():
    """The replicate means are those of the resampled data written out (seed x prompt copies),
    and the interval is their 2.5/97.5 percentiles (the checks of the removed prompt-only
    bootstrap, now on the hierarchical one)."""
    rng = np.random.default_rng(2)
    values = rng.random((2, 9, 1))
    groups = ["a", "a", "b", "b", "b", "c", "d", "d", "e"]
    seeds, units = hierarchical_counts(2, groups, resamples=300, seed=5)
    _, reps = weighted_means(values, seeds, units)
    for b in range(300):
        copies = [values[s, p, 0] for s in range(2) for p in range(9)
                  for _ in range(int(seeds[b, s] * units[b, p]))]
        assert reps[b, 0] == pytest.approx(np.mean(copies))
    lo, hi = interval(reps[:, 0])
    assert lo == pytest.approx(np.quantile(reps[:, 0], 0.025, method="inverted_cdf"))
    assert hi == pytest.approx(np.quantile(reps[:, 0], 0.975, method="inverted_cdf"))
    assert lo < values.mean() < hi
