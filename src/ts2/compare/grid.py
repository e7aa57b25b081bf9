"""The temperatures each method is sampled at: the configured grid, extended while the method's
accuracy misses the verdict's targets at the grid's edges.

Two searches, both one ``sampling.extend_step`` at a time and recorded in the layout's grid record
(``runs/<method>-temperatures.json``) so that a resumed comparison samples what is missing:

- ``extend`` (the first seed, after its evaluation): upward while its accuracy at the highest
  temperature is above the lowest target (up to ``max_temperature``), downward while its accuracy at
  the lowest temperature is below the highest target (down to ``min_temperature``); every later seed
  is sampled at the same temperatures;
- ``bracket_means`` (after every seed): the same walk on the mean accuracy over the seeds, sampling
  every seed at each new temperature, since one seed's accuracy can sit far from the mean of all
  (a seed at 0.974 where the mean of three was 0.918).
"""

from __future__ import annotations

import json

from ..formats import write_json_atomic
from .layout import Layout, run_name


def targets(cfg) -> tuple[float, float] | None:
    """The lowest and highest accuracy the verdict reads at (levels or band), or None for
    temperature levels."""
    v = cfg.verdict
    found = [*v.levels.get("accuracy", []), *(v.band or [])]
    return (min(found), max(found)) if found else None


class TemperatureGrid:
    """The grid of a comparison: ``cfg`` its configuration, ``layout`` its output folder, ``prompts``
    its evaluation prompts (the verdict split's open ones decide), ``log`` for each step taken."""

    def __init__(self, cfg, layout: Layout, prompts: list[dict], log=print):
        self.cfg, self.layout, self.prompts, self.log = cfg, layout, prompts, log

    def temperatures(self, method: str) -> list:
        """The configured temperatures, plus those the grid was extended by for this method."""
        path = self.layout.grid_record(method)
        extra = json.loads(path.read_text())["extended"] if path.is_file() else []
        return [*self.cfg.temperatures_of(method), *extra]

    def pending(self, method: str, seed: int) -> bool:
        """Whether the first seed of ``method`` still has to decide the grid's extension."""
        cfg = self.cfg
        bounded = cfg.sampling.max_temperature is not None or cfg.sampling.min_temperature is not None
        return (bounded and method != "base" and seed == cfg.seeds[0] and cfg.verdict is not None
                and targets(cfg) is not None and not self.layout.grid_record(method).is_file())

    def extend(self, method: str, name: str, temps: list, sample) -> None:
        """The first seed's search from ``temps`` for run ``name``; ``sample(t, path)`` samples the
        run at a new temperature into its sample file."""
        low_target, high_target = targets(self.cfg)
        extended, reached = self.walk(method, temps, lambda t: self.accuracy(name, t),
                                      lambda t: sample(t, self.layout.samples(name, t)))
        write_json_atomic(self.layout.grid_record(method), {"extended": extended, **reached,
                                                            "lowest_target": low_target, "highest_target": high_target})

    def walk(self, method: str, temps: list, accuracy_at, sample, whose: str = "") -> tuple[list, dict]:
        """Move the grid's edges outward one ``extend_step`` at a time (``sample(t)`` each new
        temperature) while ``accuracy_at(edge)`` misses the targets: above the lowest at the highest
        temperature (up to max_temperature), below the highest at the lowest one (down to
        min_temperature).  Returns the temperatures added and the accuracy at each final edge."""
        cfg = self.cfg
        low_target, high_target = targets(cfg)
        temps, added, reached = list(temps), [], {}
        for direction, bound, key in ((1, cfg.sampling.max_temperature, "accuracy_at_highest"),
                                      (-1, cfg.sampling.min_temperature, "accuracy_at_lowest")):
            if bound is None:
                continue
            while True:
                edge = max(temps) if direction > 0 else min(temps)
                accuracy = accuracy_at(edge)
                nxt = round(edge + direction * cfg.sampling.extend_step, 6)
                beyond = nxt > bound + 1e-9 if direction > 0 else nxt < bound - 1e-9
                short = accuracy > low_target if direction > 0 else accuracy < high_target
                if beyond or not short or nxt <= 0:
                    break
                side = f"above the lowest target {low_target}" if direction > 0 else \
                    f"below the highest target {high_target}"
                self.log(f"{method}: {whose}{cfg.verdict.accuracy} {accuracy:.3f} at T {edge} is {side}: "
                         f"sampling T {nxt}")
                sample(nxt)
                temps.append(nxt)
                added.append(nxt)
            reached[key] = accuracy
        return added, reached

    def accuracy(self, name: str, temperature) -> float:
        """Mean verdict accuracy of one run's samples at ``temperature`` over the verdict split's open
        prompts (no self-BLEU: only the accuracy decides)."""
        from ..metrics.answer_sets import answer_key, open_scores
        from .scores import read_samples

        v = self.cfg.verdict
        rows = [r for r in self.prompts if r["split"] == v.split and r["kind"] == "open"]
        samples = read_samples(self.layout.samples(name, temperature), {r["id"] for r in self.prompts})
        return sum(open_scores(samples[r["id"]], answer_key(r["valid"]), text=False)[0][v.accuracy]
                   for r in rows) / len(rows)

    def bracket_means(self, sample_seeds) -> None:
        """After every seed is sampled: the walk on the mean accuracy over the seeds;
        ``sample_seeds(method, temperature)`` samples every seed of the method at a new temperature."""
        cfg = self.cfg
        if cfg.verdict is None or targets(cfg) is None:
            return
        for method in cfg.methods:
            def mean_accuracy(temperature, method=method) -> float:
                return sum(self.accuracy(run_name(method, s), temperature) for s in cfg.seeds) / len(cfg.seeds)

            def sample(temperature, method=method) -> None:
                path = self.layout.grid_record(method)  # recorded first: a resumed run samples what is missing
                record = json.loads(path.read_text()) if path.is_file() else {"extended": []}
                record["extended"].append(temperature)
                record.setdefault("by_mean_of_seeds", []).append(temperature)
                write_json_atomic(path, record)
                sample_seeds(method, temperature)

            self.walk(method, self.temperatures(method), mean_accuracy, sample,
                      f"mean over {len(cfg.seeds)} seeds of ")
