"""The spike-in control: independent runs of the baseline's process with a known diversity gain.

In every (seed, temperature) sample set of the source runs, on the open prompts of the verdict split,
repeated answers (the second and later samples of an answer) are given unused answers from the
prompt's list, chosen at random, until the mean coverage over the split has risen by ``size``.
A replaced sample keeps its class (valid stays valid, format stays format), so accuracy is
identical, sample for sample.  Slots are drawn at random over the whole split, so prompts with
more repeats receive more.  With fewer repeats than the size needs (a very diverse sample set)
the gain falls short, and ``achieved`` says by how much.

The source is a set of runs independent of the baseline's (``checks.spike_arms``: the baseline's
replicate at other seeds, or the second half of its seeds), and the control is read against the
baseline, so its interval has the variance of a real method difference: seeds, categories and
their interaction.  A check built from the baseline's own samples (protocol v3) could not fail: every
seed got exactly the planted gain, the seed mean square was 0, and the interval had no width.
"""

from __future__ import annotations

import numpy as np

from ..metrics.answer_sets import answer_key, answer_scores, sft_targets


def spike_table(baseline: dict, labels: dict, prompts: list[dict], index, size: float, metric: str,
                seed: int = 0) -> tuple[dict, dict]:
    """(metric -> [S, P, T] arrays of the control, "T" -> mean achieved gain over seeds).

    ``baseline``: the source runs' score arrays; ``labels``: their (seed index, T index) -> prompt
    index -> [(class, answer)] (one method of ``Scores.labels``); ``index``: the prompts to spike
    (open, verdict split)."""
    table = {m: v.copy() for m, v in baseline.items()}
    rng = np.random.default_rng(seed)
    keys = {p: answer_key(prompts[p]["valid"]) for p in index}
    achieved: dict[int, list[float]] = {}
    for (s, t), by_prompt in sorted(labels.items()):
        slots, unused, denominators, edited = [], {}, {}, {}
        for p in index:
            labelled = list(by_prompt[p])
            edited[p] = labelled
            listed = set(keys[p].values())
            denominators[p] = min(len(labelled), len(listed))
            unused[p] = sorted(listed - {a for _, a in labelled if a is not None})
            seen = set()
            for i, (kind, answer) in enumerate(labelled):
                if answer is None:
                    continue
                if answer in seen and (metric != "coverage" or kind == "valid"):
                    slots.append((p, i))
                seen.add(answer)
        gain, order = 0.0, rng.permutation(len(slots))
        for j in order:
            if gain >= size - 1e-12:
                break
            p, i = slots[j]
            if not unused[p]:
                continue
            kind, _ = edited[p][i]
            edited[p][i] = (kind, unused[p].pop(int(rng.integers(len(unused[p])))))
            gain += 1.0 / denominators[p] / len(index)
        achieved.setdefault(t, []).append(gain)
        for p in index:
            values = answer_scores(edited[p], len(set(keys[p].values())),
                                   sft_targets(keys[p], prompts[p].get("sft_answers")))
            for m, value in values.items():
                if m in table:
                    table[m][s, p, t] = np.nan if value is None else value
    return table, {t: float(np.mean(g)) for t, g in achieved.items()}
