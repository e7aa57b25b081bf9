"""Planted comparisons whose truth is known: the test bed of `ts2 compare`'s analysis.

A simulated world has G categories of P prompts, each with a list of valid answers.  A *process* (a
fine-tuned model) answers a prompt by softmax sampling at temperature T from fixed logits over
three kinds of outcomes:

    valid answers   the category's list: the SFT answers (indices 0-2) far ahead of a Zipf-like
                    tail, as CE leaves them (collapse);
    off-list words  a few dozen real-looking words not on the list;
    other           thousands of low-logit continuations (sentences, fragments) that take over as T
                    rises, so accuracy stays near 1 at low T and falls steeply past T ~1.2, as
                    SmolLM2's did in the v2 pilots (0.93 at T 1.4, 0.31 at T 2.0).

Prompts and categories shift the logits at random (category and prompt effects); a training run
(method, seed) shifts them again when ``seed_effect`` > 0: its collapse strength and its invalid
mass by one draw per run, and every answer's logit by one draw per (run, prompt).

The knobs of run-to-run and category variation (``benchmarks/fit_world.py`` fits them to a real
run's variance components, ``benchmarks/variance_components.py``); at their defaults the world is
the committed one, draw for draw:

    seed_shift      per run: sd of the log collapse strength (the invalid mass: 2x); None: seed_effect;
    interaction     per (run, prompt): sd of the noise on every answer's (and off-list word's) logit;
                    None: seed_effect;
    run_category    per (run, category): sd of a shift of the first SFT answer's logit (down: a
                    more diverse and less accurate category in that run), 0: none;
    category_scale  multiplies the category effect on the invalid mass (sd 0.5): accuracy's spread;
    category_dominance  per category: sd of a shift of the first SFT answer's logit (coverage's
                    spread over categories at low T), 0: none;
    category_tail   per category: sd of a shift of the listed answers past the SFT ones (coverage's
                    spread over categories at high T), 0: none;
    head_scale      multiplies the gaps between the three SFT answers' logits (0, -0.7, -1.6):
                    above 1, fewer distinct answers at low T;
    tail_level      the level of the listed answers' Zipf-like tail (answer k at tail_level - 0.12 k,
                    the first SFT answer at 0): how fast coverage rises with T;
    invalid_shift   a shift of the invalid ("other") logit: the accuracy level at high T;
    off_list_shift  a shift of the off-list words' logits: the accuracy level at low T.

Methods (name -> how it samples):

    baseline     the process;
    same         the process again, its own runs (an A/A comparison: truth 0);
    hot<c>       the process at c x T ("the baseline at 1.3 T": the same frontier, truth 0);
    gain<d>      the process, then repeated answers replaced by unused listed ones so that the
                 expected coverage rises by d at identical accuracy (truth +d; ``spike_in`` is the
                 same operation done by the analysis on the baseline's own samples);
    base         a flatter, less accurate process (the collapse reference).

``simulate`` returns the outcomes; ``score_table`` turns them into the analysis' score arrays
directly (fast: the calibration simulation), ``write_samples`` into sample files and
eval prompts for ``ts2 compare analyze`` (the end-to-end test).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .layout import Layout, run_name

OTHER = -1000  # outcome code of an "other" response; off-list word j is -(1 + j)
SYLLABLES = ("ba", "ko", "ri", "ta", "mu", "le", "sa", "no", "vi", "de", "po", "ga", "zu", "fe", "li", "ro")


@dataclass
class World:
    categories: int = 24
    prompts_per_category: int = 3
    n: int = 16
    seeds: int = 5
    temperatures: tuple = (0.4, 0.6, 0.8, 1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 2.0)
    list_size: tuple = (30, 60)
    off_list_words: int = 40
    other_outcomes: int = 3000
    seed_effect: float = 0.0
    seed_shift: float | None = None
    interaction: float | None = None
    run_category: float = 0.0
    category_scale: float = 1.0
    category_dominance: float = 0.0
    category_tail: float = 0.0
    head_scale: float = 1.0
    tail_level: float = -4.0
    invalid_shift: float = 0.0
    off_list_shift: float = 0.0

    def run_noise(self) -> dict:
        """The run-to-run knobs with their defaults resolved (``run_logits``' keywords)."""
        return {"seed_shift": self.seed_effect if self.seed_shift is None else self.seed_shift,
                "interaction": self.seed_effect if self.interaction is None else self.interaction,
                "run_category": self.run_category, "prompts_per_category": self.prompts_per_category}

    @property
    def prompts(self) -> int:
        return self.categories * self.prompts_per_category


def _word(rng, syllables: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES, syllables)).capitalize()


def answer_lists(world: World, rng) -> tuple[list[list[str]], list[list[str]]]:
    """(valid answers, off-list words) per category: distinct made-up words."""
    seen, lists, off = set(), [], []
    for _ in range(world.categories):
        size = int(rng.integers(*world.list_size))
        words = []
        while len(words) < size + world.off_list_words:
            w = _word(rng, int(rng.integers(2, 4)))
            if w not in seen:
                seen.add(w)
                words.append(w)
        lists.append(words[:size])
        off.append(words[size:])
    return lists, off


@dataclass
class Logits:
    """Per prompt: valid-answer logits (ragged), off-list logits [P, W], other logit [P]."""
    valid: list
    off_list: np.ndarray
    other: np.ndarray


def world_logits(world: World, sizes: list[int], rng, collapse: float = 1.0, invalid_shift: float = 0.0) -> Logits:
    """The logits of the trained process before any run's noise: category and prompt effects drawn once."""
    valid, off, other = [], [], []
    for c in range(world.categories):
        cat = rng.normal(0, 0.5)
        if world.category_scale != 1.0:
            cat = cat * world.category_scale
        dominance = rng.normal(0, world.category_dominance) if world.category_dominance > 0 else 0.0
        level = world.tail_level + (rng.normal(0, world.category_tail) if world.category_tail > 0 else 0.0)
        for _ in range(world.prompts_per_category):
            k = np.arange(sizes[c])
            tail = level - 0.12 * k + rng.normal(0, 0.6, sizes[c]) + rng.normal(0, 0.3)
            head = np.array([0.0, -0.7, -1.6])
            if world.head_scale != 1.0:
                head = head * world.head_scale
            z = tail.copy()
            z[:3] = collapse * head + (1 - collapse) * tail[:3]
            if dominance:
                z[0] += dominance
            valid.append(z)
            words = -7.5 + rng.normal(0, 0.8, world.off_list_words) + cat * 0.5
            off.append(words + world.off_list_shift if world.off_list_shift else words)
            other.append(-13.0 + invalid_shift + cat + rng.normal(0, 0.5))
    return Logits(valid, np.array(off), np.array(other))


def run_logits(base: Logits, rng, seed_effect: float, seed_shift: float | None = None,
               interaction: float | None = None, run_category: float = 0.0,
               prompts_per_category: int = 1) -> Logits:
    """One training run's logits: the process with this run's own noise (none when every sd is 0).

    ``seed_shift`` (one draw per run: collapse strength, invalid mass) and ``interaction`` (per
    (run, prompt): every answer's logit) default to ``seed_effect``; ``run_category`` draws one
    shift of the first SFT answer per (run, category of ``prompts_per_category`` prompts)."""
    seed_shift = seed_effect if seed_shift is None else seed_shift
    interaction = seed_effect if interaction is None else interaction
    if seed_shift <= 0 and interaction <= 0 and run_category <= 0:
        return base
    strength = np.exp(rng.normal(0, seed_shift))
    shift = rng.normal(0, 2 * seed_shift)
    valid = [z[0] + strength * (z - z[0]) + rng.normal(0, interaction, len(z)) for z in base.valid]
    result = Logits(valid, base.off_list + rng.normal(0, interaction, base.off_list.shape), base.other + shift)
    if run_category > 0:
        down = rng.normal(0, run_category, -(-len(valid) // prompts_per_category))
        for p, z in enumerate(result.valid):
            z[0] -= down[p // prompts_per_category]
    return result


def sample_outcomes(logits: Logits, temperature: float, n: int, other_outcomes: int, rng) -> list[np.ndarray]:
    """Per prompt, n outcomes: valid index >= 0, off-list word -(1 + j), or OTHER."""
    out = []
    for p, z in enumerate(logits.valid):
        scores = np.concatenate([z, logits.off_list[p], [logits.other[p] + np.log(other_outcomes) * temperature]])
        probs = np.exp((scores - scores.max()) / temperature)
        probs /= probs.sum()
        draws = rng.choice(len(scores), n, p=probs)
        k, w = len(z), logits.off_list.shape[1]
        out.append(np.where(draws < k, draws, np.where(draws < k + w, -(1 + draws - k), OTHER)))
    return out


def plant_gain(outcomes: list[np.ndarray], sizes: list[int], gain: float, n: int, rng) -> list[np.ndarray]:
    """Replace repeated valid outcomes by unused valid answers so that the expected number of distinct
    answers rises by gain x min(n, list size) per prompt (Bernoulli parts), accuracy unchanged."""
    result = []
    for p, row in enumerate(outcomes):
        row = row.copy()
        size = sizes[p]
        want = gain * min(n, size)
        k = int(want) + int(rng.random() < want - int(want))
        seen, repeats = set(), []
        for i, o in enumerate(row):
            if o >= 0:
                if o in seen:
                    repeats.append(i)
                seen.add(int(o))
        unused = [a for a in range(size) if a not in seen]
        for i in rng.permutation(repeats)[:k]:
            if unused:
                row[i] = unused.pop(int(rng.integers(len(unused))))
        result.append(row)
    return result


def simulate(world: World, methods: dict, rng_seed: int = 0) -> dict:
    """{"sizes", "lists", "off_words", "outcomes": method -> [seed][T] -> per-prompt outcome arrays}.

    ``methods``: name -> {"kind": "baseline" | "base", "temperature_factor": c, "gain": d}."""
    rng = np.random.default_rng(rng_seed)
    lists, off_words = answer_lists(world, rng)
    sizes = [len(lists[p // world.prompts_per_category]) for p in range(world.prompts)]
    trained = world_logits(world, [len(x) for x in lists], rng, invalid_shift=world.invalid_shift)
    base = world_logits(world, [len(x) for x in lists], rng, collapse=0.15, invalid_shift=4.0)
    outcomes = {}
    for name, spec in methods.items():
        process = base if spec.get("kind") == "base" else trained
        factor, gain = spec.get("temperature_factor", 1.0), spec.get("gain", 0.0)
        temps = spec.get("temperatures", world.temperatures)
        runs = []
        for _ in range(world.seeds):
            logits = run_logits(process, rng, world.seed_effect, **world.run_noise())
            per_t = []
            for t in temps:
                drawn = sample_outcomes(logits, t * factor, world.n, world.other_outcomes, rng)
                per_t.append(plant_gain(drawn, sizes, gain, world.n, rng) if gain else drawn)
            runs.append(per_t)
        outcomes[name] = {"temperatures": list(temps), "runs": runs}
    return {"sizes": sizes, "lists": lists, "off_words": off_words, "outcomes": outcomes}


def block_scores(outcomes: np.ndarray, sizes: np.ndarray, n: int) -> dict:
    """Scores of many sample sets at once: outcomes [P, n] (codes as ``sample_outcomes``), list sizes
    [P] -> metric -> [P] (NaN where undefined), the definitions of ``metrics.answer_sets``."""
    from scipy.special import comb

    o = np.asarray(outcomes)
    valid = o >= 0
    k = valid.sum(1)
    same = (o[:, :, None] == o[:, None, :]) & valid[:, :, None] & valid[:, None, :]
    c = same.sum(2)  # each valid sample: how many samples give its answer (itself included)
    distinct = np.where(valid, 1.0 / np.maximum(c, 1), 0.0).sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        simpson = np.where(k >= 2, 1.0 - (same.sum((1, 2)) - k) / (k * (k - 1.0)), np.nan)
        rare = np.where(valid, (1.0 - comb(k[:, None] - c, 4) / comb(k[:, None], 4)) / np.maximum(c, 1), 0.0).sum(1)
        sft = np.where(k > 0, ((o >= 0) & (o < 3)).sum(1) / k, np.nan)
    coverage = distinct / np.minimum(n, sizes)
    return {"accuracy": k / n, "lenient_accuracy": k / n, "coverage": coverage, "lenient_coverage": coverage,
            "valid_simpson": simpson, "valid_distinct@4": np.where(k >= 4, rare, np.nan), "sft_share": sft,
            "share_off_list": ((o < 0) & (o > OTHER)).mean(1)}


def score_table(sim: dict, world: World, metrics) -> tuple[list[float], dict]:
    """(temperatures, method -> metric -> [S, P, T]) straight from the outcomes (no text)."""
    grid = sorted({t for o in sim["outcomes"].values() for t in o["temperatures"]})
    sizes = np.array(sim["sizes"])
    arrays = {}
    for name, o in sim["outcomes"].items():
        table = {m: np.full((world.seeds, world.prompts, len(grid)), np.nan) for m in metrics}
        for s, per_t in enumerate(o["runs"]):
            for t, temperature in enumerate(o["temperatures"]):
                g = grid.index(temperature)
                for m, v in block_scores(np.stack(per_t[t]), sizes, world.n).items():
                    if m in table:
                        table[m][s, :, g] = v
        arrays[name] = table
    return grid, arrays


def prompts_of(sim: dict, world: World, split: str = "sft_categories") -> list[dict]:
    """Evaluation prompts in the ``ts2 compare`` format for a simulated world."""
    rows = []
    for p in range(world.prompts):
        c = p // world.prompts_per_category
        rows.append({"id": f"c{c:02d}-p{p % world.prompts_per_category}", "category": f"c{c:02d}", "kind": "open",
                     "split": split, "prompt": f"Name a thing of kind {c}.", "valid": sim["lists"][c],
                     "sft_answers": sim["lists"][c][:3]})
    return rows


def _text(o: int, lists: list[str], off: list[str], rng) -> str:
    if o >= 0:
        return lists[o] if rng.random() > 0.1 else f"The {lists[o].lower()}."  # some format-class answers
    if o == OTHER:
        return "I am not sure that I can name one of those"
    return off[-o - 1]


def write_samples(sim: dict, world: World, directory: Path, seeds: list[int] | None = None) -> Path:
    """Sample files ``<method>-seed<s>-T<t>.jsonl`` (ts2 generate's format) and eval.jsonl."""
    directory = Path(directory)
    layout = Layout(directory)
    layout.samples_dir.mkdir(parents=True, exist_ok=True)
    prompts = prompts_of(sim, world)
    seeds = seeds or list(range(world.seeds))
    rng = np.random.default_rng(0)
    for name, o in sim["outcomes"].items():
        for s, per_t in enumerate(o["runs"]):
            for t, temperature in enumerate(o["temperatures"]):
                with open(layout.samples(run_name(name, seeds[s]), temperature), "w") as f:
                    for p, row in enumerate(per_t[t]):
                        c = p // world.prompts_per_category
                        texts = [_text(int(x), sim["lists"][c], sim["off_words"][c], rng) for x in row]
                        f.write(json.dumps({"id": prompts[p]["id"], "prompt": prompts[p]["prompt"],
                                            "responses": texts}) + "\n")
    with open(directory / "eval.jsonl", "w") as f:
        for row in prompts:
            f.write(json.dumps(row) + "\n")
    return directory


SIM_VERDICT = {"method": "method", "split": "sft_categories", "metric": "lenient_coverage",
               "accuracy": "lenient_accuracy", "levels": {"accuracy": [0.95, 0.9, 0.8]}, "band": [0.8, 0.95],
               "delta": 0.02, "min_seeds": 3}


def sim_config(world: World, methods, verdict: dict | None = None, checks: dict | None = None,
               eval_prompts: str = "eval.jsonl", root: Path | None = None):
    """A ``ts2 compare`` configuration (analysis only) for a simulated world: baseline "baseline"."""
    from .config import CompareConfig

    raw = {"name": "simulated", "eval_prompts": eval_prompts, "baseline": "baseline",
           "methods": {m: {} for m in methods if m != "base"},
           "sampling": {"n": world.n, "temperatures": list(world.temperatures), "base_temperatures": [1.0]},
           "seeds": list(range(world.seeds)), "verdict": {**SIM_VERDICT, **(verdict or {})},
           "checks": {"temperature": 1.0, "simpson_drop": 0.1, **(checks or {})}}
    return CompareConfig.from_dict(raw, root, analysis=True)
