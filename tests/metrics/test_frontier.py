"""Monotone frontiers, readings at matched accuracy, the crossed seeds x categories interval and the
hierarchical bootstrap, against hand-computed cases, brute force, naive loops, and simulations where
the answer is known."""

import itertools

import numpy as np
import pytest

from ts2.metrics.bootstrap import hierarchical_counts, interval, weighted_means
from ts2.metrics.frontier import band_mean, band_targets, dense_curves, monotone_fit, read_at
from ts2.metrics.intervals import crossed_interval, variance_components

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


def test_monotone_fit_by_hand_and_a_fixed_direction():
    np.testing.assert_allclose(monotone_fit([1.0, 0.8, 0.9, 0.5]), [1.0, 0.85, 0.85, 0.5])
    # rising data are still fitted non-increasing (v2 took the direction from the end points)
    np.testing.assert_allclose(monotone_fit([0.1, 0.3, 0.2, 0.6]), [0.3, 0.3, 0.3, 0.3])
    np.testing.assert_allclose(monotone_fit([0.1, 0.3, 0.2, 0.6], increasing=True), [0.1, 0.25, 0.25, 0.6])


def test_read_at_by_hand():
    acc = np.array([1.0, 1.0, 0.9, 0.8, 0.6])
    cov = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    values, status = read_at(acc, cov, [0.85, 0.9, 1.0, 0.7, 1.01, 0.5, 0.6])
    np.testing.assert_allclose(values, [0.35, 0.3, 0.2, 0.45, 0.1, 0.5, 0.5])
    assert status.tolist() == [0, 0, 0, 0, 1, 2, 0]  # flat at 1.0: its high-T end; 1.01: cost; 0.5: short
    # one target per row (a batch of curves)
    values, status = read_at(np.stack([acc, acc - 0.1]), np.stack([cov, cov]), np.array([[0.85], [0.85]]))
    np.testing.assert_allclose(values[:, 0], [0.35, 0.25])


def test_dense_curves_keep_monotone_data_monotone_and_pass_through_the_points():
    ts = [0.4, 0.8, 1.0, 1.2, 1.5]
    acc = np.array([[1.0, 0.99, 0.97, 0.9, 0.6], [1.0, 1.0, 0.95, 0.96, 0.5]])  # row 2 is not monotone
    cov = np.array([[0.1, 0.2, 0.25, 0.3, 0.35], [0.1, 0.2, 0.25, 0.3, 0.35]])
    dense_t, dense_acc, dense = dense_curves(ts, acc, {"cov": cov})
    assert np.all(np.diff(dense_acc, axis=1) <= 1e-12)
    hits = [int(np.argmin(np.abs(dense_t - t))) for t in ts]
    np.testing.assert_allclose(dense_acc[0, hits], acc[0], atol=1e-3)  # dense points within 0.003 of each t
    np.testing.assert_allclose(dense["cov"][:, hits], cov, atol=1e-3)
    np.testing.assert_allclose(dense_acc[1, hits], monotone_fit(acc[1]), atol=1e-3)


def test_pchip_reading_is_nearly_unbiased_where_chords_are_not():
    """Two samplings of one smooth frontier at different temperatures (a method that is "the
    baseline at 1.3 T") read at one accuracy: PCHIP agrees with the truth far better than linear
    interpolation between grid points (v2: -0.010 coverage, half of delta)."""
    def acc_of(t):
        return 1 / (1 + np.exp(6 * (t - 1.6)))

    def cov_of(t):
        return 0.4 * (1 - np.exp(-1.5 * t))

    grid = np.arange(0.4, 2.01, 0.2)
    target = 0.9
    t_true = 1.6 + np.log(1 / target - 1) / 6
    truth = cov_of(t_true)
    pchip, linear = [], []
    for factor in (1.0, 1.3):
        ts = grid * factor
        _, dense_acc, dense = dense_curves(ts, acc_of(ts)[None], {"cov": cov_of(ts)[None]})
        pchip.append(read_at(dense_acc, dense["cov"], [target])[0][0, 0])
        linear.append(np.interp(target, acc_of(ts)[::-1], cov_of(ts)[::-1]))  # chords between grid points
    assert max(abs(p - truth) for p in pchip) < 0.002
    assert abs(pchip[1] - pchip[0]) < abs(linear[1] - linear[0]) / 2


def test_band_mean_is_the_mean_over_the_band():
    targets = band_targets(0.8, 0.9)
    assert targets[0] == 0.8 and targets[-1] == 0.9
    assert band_mean(np.full(len(targets), 0.3)) == pytest.approx(0.3)
    assert band_mean(targets) == pytest.approx(0.85)  # linear in the accuracy: its midpoint


def _naive_anova(d):
    """Two-way ANOVA mean squares by explicit loops."""
    s, g = d.shape
    grand = sum(d[i, j] for i in range(s) for j in range(g)) / (s * g)
    seed = [sum(d[i, j] for j in range(g)) / g for i in range(s)]
    cat = [sum(d[i, j] for i in range(s)) / s for j in range(g)]
    ms_s = g * sum((x - grand) ** 2 for x in seed) / (s - 1)
    ms_c = s * sum((x - grand) ** 2 for x in cat) / (g - 1)
    ms_e = sum((d[i, j] - seed[i] - cat[j] + grand) ** 2 for i in range(s) for j in range(g)) / ((s - 1) * (g - 1))
    return ms_s, ms_c, ms_e


def test_variance_components_match_a_naive_anova_and_satterthwaite():
    rng = np.random.default_rng(0)
    d = rng.normal(0, 1, (4, 9)) + rng.normal(0, 1, (4, 1)) + rng.normal(0, 0.5, (1, 9))
    ms_s, ms_c, ms_e = _naive_anova(d)
    parts = variance_components(d)
    assert parts["ms_seeds"] == pytest.approx(ms_s) and parts["ms_categories"] == pytest.approx(ms_c)
    assert parts["ms_interaction"] == pytest.approx(ms_e)
    combined = ms_c + ms_s - ms_e
    assert parts["variance"] == pytest.approx(max(combined, min(ms_c, ms_s)) / 36)
    if combined >= min(ms_c, ms_s):
        from scipy.stats import chi2

        df = combined ** 2 / (ms_c ** 2 / 8 + ms_s ** 2 / 3 + ms_e ** 2 / 24)
        upper = ms_s * 3 / chi2.ppf(0.2, 3)  # MS_S at its upper 80% limit
        df_upper = (ms_c + upper - ms_e) ** 2 / (ms_c ** 2 / 8 + upper ** 2 / 3 + ms_e ** 2 / 24)
        assert parts["df"] == pytest.approx(min(df, df_upper))
    one = variance_components(d[:1])
    assert one["seed_term"] is None and one["df"] == 8 and one["variance"] == pytest.approx(np.var(d[0], ddof=1) / 9)


@pytest.mark.parametrize("seeds,seed_sd", [(3, 0.0), (3, 1.0), (5, 0.0), (5, 1.0)])
def test_crossed_interval_covers_the_mean_of_a_crossed_random_effects_model(seeds, seed_sd):
    """d_sc = a_c + b_s + e_sc with the truth 0: 95% intervals cover it 93-97% of the time (500 runs:
    binomial sd 1%), with few seeds and with or without a seed effect."""
    rng = np.random.default_rng(seeds * 10 + int(seed_sd))
    covered = 0
    for _ in range(500):
        d = rng.normal(0, 1, (1, 24)) + rng.normal(0, seed_sd, (seeds, 1)) + rng.normal(0, 1, (seeds, 24))
        lo, hi = crossed_interval(float(d.mean()), d)["ci95"]
        covered += lo <= 0 <= hi
    assert 0.925 <= covered / 500 <= 0.98


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
