"""Intervals for a statistic of runs (seeds) crossed with categories, calibrated with few seeds.

A comparison's data form a table: seed s = 1..S (a training run of each method and its samples)
crossed with category c = 1..G (the prompts of one category).  A statistic D (a reading at matched
accuracy, a band mean, a mean at one temperature) is linearised cell by cell: with cell weights
w_sc (all 1 for the data as they are), d_sc = D + S G dD/dw_sc (the infinitesimal jackknife; for a
mean of cell means, d_sc is the cell's own mean).  The pseudo-values follow the crossed
random-effects model d_sc = D + a_c + b_s + e_sc (a: category, b: seed, e: their interaction with
the sampling noise), whose mean has variance

    Var(D) = s_a^2 / G + s_b^2 / S + s_e^2 / (S G) = (MS_C + MS_S - MS_E) / (S G)

with the two-way ANOVA mean squares MS_C (categories, G - 1 df), MS_S (seeds, S - 1 df) and MS_E
(interaction, (S - 1)(G - 1) df): unbiased, whereas resampling seeds and then categories counts
s_e^2 twice (too wide without a seed effect) and resamples 2-5 seeds as if they were many (too
narrow with one: 87.5% coverage with 2 seeds).  The interval is D +- t_{0.975, df} sqrt(Var), df by
Satterthwaite (a few df when the seed term dominates, many when the category term does).  Plugged-in
Satterthwaite df are too many exactly when MS_S happens to be small, which with 2-4 seed df is
often (3 seeds and a seed effect the size of the noise: 92.3% coverage), so the df are the smaller of
the plug-in value and the value with MS_S at its upper 80% confidence limit, MS_S (S - 1) /
chi2_{0.2, S-1} (95.0-96.7% in the same simulation, 3 and 5 seeds, seed sd 0 to 3x the noise).  An
estimate below min(MS_C, MS_S) / (S G), either of which estimates a part of the variance, is
raised to it (then its own df; the max of the two is biased up when both effects are absent, as in
a paired difference whose category effects cancel).  df are never fewer than 1.  With one seed the
seed term cannot be estimated:
Var = MS_C / G, df = G - 1, and ``seed_term`` is None.

Coverage of this interval on simulated comparisons with 3 and 5 seeds, with and without a seed
effect: ``benchmarks/compare_sim.py``, table in ``docs/compare_v3.md``.
"""

from __future__ import annotations

import numpy as np

CONFIDENCE = 0.95
SEED_DF_QUANTILE = 0.2  # the df use MS_S at its upper 80% limit when that gives fewer


def _satterthwaite(total: float, terms) -> float:
    denominator = sum(m * m / max(df, 1) for m, df in terms)
    return total * total / denominator if denominator > 0 else float("inf")


def variance_components(cells) -> dict:
    """Var(mean) and its Satterthwaite df from pseudo-values ``cells`` [S, G] (NaN-free)."""
    d = np.asarray(cells, dtype=np.float64)
    s, g = d.shape
    grand = d.mean()
    seed_means, cat_means = d.mean(1), d.mean(0)
    ms_c = s * ((cat_means - grand) ** 2).sum() / max(g - 1, 1)
    if s == 1:
        return {"variance": ms_c / g, "df": float(max(g - 1, 1)), "ms_categories": ms_c, "seed_term": None}
    ms_s = g * ((seed_means - grand) ** 2).sum() / (s - 1)
    resid = d - seed_means[:, None] - cat_means[None, :] + grand
    ms_e = (resid ** 2).sum() / max((s - 1) * (g - 1), 1)
    terms = [(ms_c, g - 1), (ms_s, s - 1), (-ms_e, (s - 1) * (g - 1))]
    combined = ms_c + ms_s - ms_e
    floor, floor_df = min((ms_c, g - 1), (ms_s, s - 1))
    if combined < floor:
        combined, terms = floor, [(floor, floor_df)]
    df = _satterthwaite(combined, terms)
    if len(terms) == 3:  # with few seeds, a seed term that is small by chance must not buy df
        from scipy.stats import chi2

        upper = ms_s * (s - 1) / float(chi2.ppf(SEED_DF_QUANTILE, s - 1))
        df = min(df, _satterthwaite(ms_c + upper - ms_e, [(ms_c, g - 1), (upper, s - 1), (-ms_e, (s - 1) * (g - 1))]))
    return {"variance": combined / (s * g), "df": float(max(df, 1.0)), "ms_categories": ms_c, "ms_seeds": ms_s,
            "ms_interaction": ms_e, "seed_term": (ms_s - ms_e) / (s * g)}


def t_interval(estimate: float, variance: float, df: float) -> list[float]:
    from scipy.stats import t

    half = float(t.ppf(0.5 + CONFIDENCE / 2, df)) * float(np.sqrt(max(variance, 0.0)))
    return [float(estimate - half), float(estimate + half)]


def crossed_interval(estimate: float, cells) -> dict:
    """{"ci95", "se", "df"} of ``estimate`` from its pseudo-values [S, G] (see the module docstring)."""
    parts = variance_components(cells)
    return {"ci95": t_interval(estimate, parts["variance"], parts["df"]), "se": float(np.sqrt(parts["variance"])),
            "df": parts["df"]}
