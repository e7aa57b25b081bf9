"""`ts2 compare`: train every method from the same base, sample, score, report.

It owns no training or sampling loop: each run is ``ts2.train``, ``ts2.generate.Sampler`` and
``ts2.eval.probe.NextTokenProbe``, and the scores are ``ts2.metrics`` functions.  Every stage writes
its result under the output directory and is skipped when that result exists, so an interrupted
comparison resumes where it stopped (sampling resumes mid-file).  The output directory belongs to
one configuration: resuming with a different one is refused.

The output folder's files are named in ``layout.py``; the grid search is ``grid.py``, the checks of
the inputs ``inputs.py``, the report ``report.py``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import time
from pathlib import Path

from ..formats import resumable_rows, write_json_atomic
from .config import CompareConfig, read_eval_prompts
from .grid import TemperatureGrid
from .inputs import check_inputs, claim_output, input_digests
from .layout import Layout, run_name

PRIOR_SECONDS = {"import": 60.0, "train": 120.0, "evaluate": 60.0}  # ETA before anything is measured


class Compare:
    def __init__(self, config: CompareConfig, output, log=print, progress=None, reuse=None, pool=None):
        from .launch import Single

        self.config, self.out, self.layout = config, Path(output), Layout(output)
        self.reuse = reuse
        self.pool = pool or Single()  # where training and sampling run (``launch``: across a launcher's ranks)
        self.log = log
        self.progress = progress or (lambda description, done, total, eta: None)
        self.prompts = read_eval_prompts(config.eval_prompts)
        self.clock = StageClock(self.progress)
        self.base = BaseModel(config.base_model, config.base_model_revision)
        self.grid = TemperatureGrid(config, self.layout, self.prompts, log)

    # ---- bookkeeping -------------------------------------------------------------------------
    def _digests(self) -> dict:
        hub = self.base.hub()
        return input_digests(self.config, self.prompts, None if hub is None else hub.revision)

    def _run_record(self, name: str) -> dict:
        path = self.layout.run_record(name)
        return json.loads(path.read_text()) if path.is_file() else {}

    def _update_record(self, name: str, **values) -> None:
        write_json_atomic(self.layout.run_record(name), {**self._run_record(name), **values})

    # ---- stages ------------------------------------------------------------------------------
    def base_model(self):
        """The base model: a directory (str), or a Hub id's ``Resolved`` snapshot and commit."""
        return self.base.resolve(self.log, self.clock)

    def train(self, method: str, seed: int, base) -> Path:
        from ..training import CONFIG_NAME

        name = run_name(method, seed)
        target = self.layout.model(name)
        if (target / CONFIG_NAME).is_file():
            return target
        own = dict(self.config.methods[method])
        data = own.pop("train_data", None) or self.config.train_data
        actual = seed + own.pop("seed_offset", 0)
        settings = {"report_to": "none", "save_strategy": "no", "disable_tqdm": True, "logging_steps": 1,
                    **self.config.training, **own,
                    **_model_settings(base), "data": data, "output": str(target), "seed": actual, "data_seed": actual}
        log_path = self.layout.log(name)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        with open(log_path, "w") as log_file, contextlib.redirect_stdout(log_file):
            trainer = self.pool.train(settings)
        seconds = time.perf_counter() - start
        losses = [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]
        self._update_record(name, **_hub_record(base, "base_model"), train_seconds=round(seconds, 2),
                            train_processes=self.pool.processes,
                            train_steps=trainer.state.global_step,
                            train_loss_first=losses[0] if losses else None,
                            train_loss_last=losses[-1] if losses else None)
        self.clock.measure("train", seconds)
        del trainer
        gc.collect()
        return target

    def model_dir(self, method: str, seed: int) -> Path:
        """Where the method's run of ``seed`` has its model (a resample: its source's)."""
        source = self.config.methods[method].get("resample_of", method)
        return self.layout.model(run_name(source, seed))

    def evaluate(self, method: str, seed: int, model_dir) -> None:
        """Answer-position statistics, samples at every temperature and (first seed) the probe panel."""
        from ..eval.probe import NextTokenProbe
        from ..formats import Prompt
        from ..generate import Sampler, SamplingSettings

        name = run_name(method, seed)
        cfg, prompts_as = self.config, prompting(self.config, method)
        sampling = cfg.sampling
        temps = self.grid.temperatures(method)
        sample_paths = {t: self.layout.samples(name, t) for t in temps}
        extend = self.grid.pending(method, seed)
        position_path = self.layout.positions(name)
        probe_path = self.layout.probe(method)
        want_probe = self._wants_probe(method, seed)
        if self.evaluated(method, seed):
            return
        start = time.perf_counter()
        if _hub_record(model_dir, "model"):
            self._update_record(name, **_hub_record(model_dir, "model"))
        sampler = Sampler.load(model_dir, self.pool.runtime(_runtime(cfg)))
        # The probes read the model's logits: the sampler's model, or (vLLM) their own copy of it.
        device_dtype = (cfg.runtime.device, cfg.runtime.dtype)
        chat = prompts_as.chat
        if not position_path.is_file():
            probe = NextTokenProbe(model_dir, *device_dtype, model=sampler.model, tokenizer=sampler.tokenizer)
            opened = [r for r in self.prompts if r["kind"] == "open" and "prompt" in r]
            stats = probe.many([prompt_text(self.config, r, method) for r in opened], [r["valid"] for r in opened],
                               chat) if opened else []  # a task-only evaluation has no open prompt
            write_json_atomic(position_path, {r["id"]: {"invalid_mass": s["mass_outside_valid"],
                                                        "entropy": s["entropy"]} for r, s in zip(opened, stats)})
        prompts = [Prompt(r["id"], None if "messages" in r else prompt_text(cfg, r, method), r.get("messages"), True)
                   for r in self.prompts]
        record = self._run_record(name).get("sample_seconds", {})

        def sample(temperature, path):
            settings = SamplingSettings(n=sampling.n, temperature=float(temperature), top_k=sampling.top_k,
                                        top_p=sampling.top_p, max_new_tokens=sampling.max_new_tokens,
                                        seed=seed + seed_offset(self.config, method),
                                        stop=[*sampling.stop, *prompts_as.stop])
            result = self.pool.sample(sampler, model_dir, _runtime(cfg), prompts, path, settings, chat,
                                      cfg.runtime.batch_tokens)
            key = f"T={temperature}"
            record[key] = round(record.get(key, 0.0) + result.seconds, 2)  # summed over resumed parts
            self._update_record(name, sample_seconds=record, sample_tokens={**self._run_record(name).get(
                "sample_tokens", {}), key: result.tokens})

        for temperature, path in sample_paths.items():
            if not self._samples_complete(path):
                sample(temperature, path)
        if extend:
            self.grid.extend(method, name, temps, sample)
        if want_probe and not probe_path.is_file():
            probe = NextTokenProbe(model_dir, *device_dtype, model=sampler.model, tokenizer=sampler.tokenizer)
            p = cfg.probe
            text = prompting(self.config, method).format.format(prompt=p.prompt)
            if p.position == "first_match":
                result = probe.first_match(text, p.match, p.runs, cfg.seeds[0], p.valid, p.top_k, chat)
            else:
                result = probe(text, p.valid, p.top_k, chat)
            write_json_atomic(probe_path, {**result, "method": method})
        self.clock.measure("evaluate", time.perf_counter() - start)
        sampler.close()
        sampler = None  # let its memory go before the next model loads
        gc.collect()

    def _wants_probe(self, method: str, seed: int) -> bool:
        cfg = self.config
        return cfg.probe is not None and seed == cfg.seeds[0] and method in (cfg.probe.methods or cfg.all_methods())

    def evaluated(self, method: str, seed: int) -> bool:
        """Whether a run's evaluation stage is complete: every sample file, its answer-position
        statistics, its probe panel where it has one, and the grid's extension decided."""
        name = run_name(method, seed)
        return (all(self._samples_complete(self.layout.samples(name, t)) for t in self.grid.temperatures(method))
                and self.layout.positions(name).is_file()
                and (self.layout.probe(method).is_file() or not self._wants_probe(method, seed))
                and not self.grid.pending(method, seed))

    def _sample_every_seed(self, method: str, temperature) -> None:
        for seed in self.config.seeds:  # evaluate() samples the temperatures a run still lacks
            model = self.model_dir(method, seed)
            if not model.is_dir():  # reused as sample files only: trained again (the same seed and data order)
                self.train(self.config.methods[method].get("resample_of", method), seed, self.base_model())
            self.evaluate(method, seed, str(model))

    def _samples_complete(self, path: Path) -> bool:
        return len(resumable_rows(path, cut=False)) == len(self.prompts)

    # ---- driver ------------------------------------------------------------------------------
    def run(self) -> dict:
        from .report import report_of, write_report

        cfg = self.config
        check_inputs(cfg)
        if self.reuse is not None:
            from .reuse import reuse_runs, shared_runs

            runs = shared_runs(cfg.to_dict(), self._digests(), Path(self.reuse))  # refused before the output is made
        self.out.mkdir(parents=True, exist_ok=True)
        claim_output(cfg, self.layout, self._digests())
        if self.reuse is not None:
            reuse_runs(cfg.to_dict(), runs, self.reuse, self.out, self.log)
        plan = stages(cfg)
        base = None
        for i, (kind, method, seed) in enumerate(plan):
            label = {"import": "importing the base model", "train": f"training {method} (seed {seed})",
                     "evaluate": f"sampling and scoring {method} (seed {seed})"}[kind]
            self.clock.start(label, [k for k, _, _ in plan[i:]])
            if kind == "import" or base is None:
                base = self.base_model()
            if kind == "train" and not self.evaluated(method, seed):  # a run reused without its model
                self.train(method, seed, base)
            elif kind == "evaluate":
                model_dir = base if method == "base" else str(self.model_dir(method, seed))
                if method != "base" and not self.evaluated(method, seed) and not Path(model_dir).is_dir():
                    self.train(cfg.methods[method].get("resample_of", method), seed, base)  # its source was reused
                self.evaluate(method, seed, model_dir)
            self.clock.done += 1
        self.grid.bracket_means(self._sample_every_seed)
        self.progress("writing the report", self.clock.done, self.clock.done, 0.0)
        temps = {method: self.grid.temperatures(method) for method in cfg.all_methods()}
        examples = sum(1 for line in open(cfg.train_data) if line.strip())
        report = report_of(cfg, self.prompts, self.layout.samples_dir, self.out, temps, self.layout.positions_dir,
                              {"train_examples": examples})
        write_report(self.out, report)
        return report


def stages(cfg: CompareConfig) -> list[tuple[str, str, int | None]]:
    """(kind, method, seed) of every stage in order: the base model's import (a GGUF), then per
    seed each method's training (a resample: its source's, a no-op once made) and evaluation."""
    plan = [("import", "base", None)] if cfg.base_model.startswith("gguf:") else []
    for seed in cfg.seeds:
        for method in cfg.all_methods():
            if method != "base":
                plan.append(("train", cfg.methods[method].get("resample_of", method), seed))
            plan.append(("evaluate", method, seed))
    return plan


class StageClock:
    """Progress over the stages, with an ETA from the stages measured so far (``PRIOR_SECONDS``
    before any): ``progress(description, done, total, eta_seconds)``."""

    def __init__(self, progress):
        self.progress, self.done, self.measured = progress, 0, {}

    def start(self, description: str, remaining: list[str]) -> None:
        def estimate(kind):
            seen = self.measured.get(kind)
            return sum(seen) / len(seen) if seen else PRIOR_SECONDS[kind]

        self.progress(description, self.done, self.done + len(remaining), sum(estimate(k) for k in remaining))

    def measure(self, kind: str, seconds: float) -> None:
        self.measured.setdefault(kind, []).append(seconds)


class BaseModel:
    """The configured base model: a directory, a Hub id (resolved once to its snapshot and commit;
    a resumed comparison is refused when the commit changed) or ``gguf:<package>`` (imported once)."""

    def __init__(self, source: str, revision: str | None):
        self.source, self.revision, self._hub = source, revision, None

    def hub(self):
        """The base model as a ``ts2.hf.hub.Resolved`` when it is a Hub id, else None."""
        from ..hf.hub import looks_like_path, resolve_model

        if not self.source or self.source.startswith("gguf:") or looks_like_path(self.source):
            return None
        if self._hub is None:
            self._hub = resolve_model(self.source, self.revision, "base_model")
        return self._hub

    def resolve(self, log, clock: StageClock):
        """A directory (str), or a Hub id's ``Resolved``; a GGUF is imported into ts2's cache."""
        if self.hub() is not None:
            return self.hub()
        if not self.source.startswith("gguf:"):
            return self.source
        from ..hf.gguf import cached_import

        start = time.perf_counter()
        path = cached_import(self.source.removeprefix("gguf:"), log=log)
        clock.measure("import", time.perf_counter() - start)
        return str(path)


def seed_offset(cfg: CompareConfig, method: str) -> int:
    """``methods.<m>.seed_offset``: run s of the method uses seed s + offset (0 for the base)."""
    return 0 if method == "base" else cfg.methods[method].get("seed_offset", 0)


def prompting(cfg: CompareConfig, method: str) -> dict:
    return cfg.base_prompting if method == "base" else cfg.prompting


def prompt_text(cfg: CompareConfig, row: dict, method: str) -> str:
    return prompting(cfg, method).format.format(prompt=row["prompt"])


def _model_settings(base) -> dict:
    """ts2 train's model settings for the base: a directory, or a Hub id pinned to its commit."""
    if getattr(base, "is_hub", False):
        return {"model": base.name, "revision": base.revision}
    return {"model": str(base)}


def _hub_record(model, key: str) -> dict:
    """{key: id, key_revision: commit} for a Hub model (nothing for a directory: records stay as they were)."""
    if not getattr(model, "is_hub", False):
        return {}
    return {key: model.name, f"{key}_revision": model.revision}


def _runtime(cfg: CompareConfig):
    return cfg.runtime.runtime()


def run_compare(config: CompareConfig, output, log=print, progress=None, reuse=None) -> dict | None:
    """Run (or resume) the comparison into ``output``; returns the report (also written there).
    ``reuse``: another comparison's output directory whose shared runs are taken over (``reuse.py``).
    Under a launcher rank 0 runs it and the other ranks train and sample with it (``launch``); they
    return None."""
    from ..generate import sharding
    from .launch import Leader, data_parallel, follow

    ranks = sharding.launcher_ranks()
    if ranks is None:
        return Compare(config, output, log, progress, reuse).run()
    for spec in config.methods.values():  # every rank refuses what cannot be shared, before any work
        data_parallel({**config.training, **spec}, ranks.world)
    sharding.rank_runtime(_runtime(config), ranks)
    if ranks.rank != 0:
        follow(ranks)
        return None
    leader = Leader(ranks)
    report = Compare(config, output, log, progress, reuse, leader).run()
    leader.close()
    return report
