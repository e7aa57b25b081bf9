"""`ts2 compare`: train every method from the same base, sample, score, report.

It owns no training or sampling loop: each run is ``ts2.train``, ``ts2.generate.Sampler`` and
``ts2.eval.probe.NextTokenProbe``, and the scores are ``ts2.metrics`` functions.  Every stage writes
its result under the output directory and is skipped when that result exists, so an interrupted
comparison resumes where it stopped (sampling resumes mid-file).  The output directory belongs to
one configuration: resuming with a different one is refused.

Layout of OUTPUT:
    config.json                      the resolved configuration (checked on resume)
    inputs.json                      digests of the SFT files and the evaluation prompts, and a Hub base
                                     model's commit (base_model_revision; checked on resume)
    models/<method>-seed<s>/         fine-tuned models (ts2 train output)
    samples/<method>-seed<s>-T<t>.jsonl   generations (ts2 generate format)
    positions/<method>-seed<s>.json  entropy / invalid mass at the answer position, per open prompt
    probe/<method>.json, probe.png   the probe panels
    runs/<method>-seed<s>.json       wall times of training and sampling (of the run it was reused from, if so)
    runs/<method>-temperatures.json  temperatures the grid was extended by (sampling.max_temperature,
                                     min_temperature)
    logs/<method>-seed<s>.log        what training printed
    offlist_audit.jsonl              every distinct off-list answer, pooled and blind (``audit.py``)
    report.json, report.md, frontier.png, metrics.png
"""

from __future__ import annotations

import contextlib
import gc
import json
import time
from pathlib import Path

from ..formats import DataError, resumable_rows, write_json_atomic
from .config import CompareConfig, read_eval_prompts

PRIOR_SECONDS = {"import": 60.0, "train": 120.0, "evaluate": 60.0}  # ETA before anything is measured


class Compare:
    def __init__(self, config: CompareConfig, output, log=print, progress=None, reuse=None, pool=None):
        from .launch import Single

        self.config, self.out = config, Path(output)
        self.reuse = reuse
        self.pool = pool or Single()  # where training and sampling run (``launch``: across a launcher's ranks)
        self.log = log
        self.progress = progress or (lambda description, done, total, eta: None)
        self.prompts = read_eval_prompts(config.eval_prompts)
        self.stages_done = 0
        self.measured: dict[str, list[float]] = {}
        self._hub_base = None  # the Hub base model's snapshot and commit, resolved once

    # ---- bookkeeping -------------------------------------------------------------------------
    def _claim_output(self) -> None:
        record = self.config.to_dict()
        path = self.out / "config.json"
        if path.is_file():
            previous = json.loads(path.read_text())
            if _without_data_paths(previous) != _without_data_paths(json.loads(json.dumps(record))):
                raise DataError(f"{self.out}: holds a comparison made with another configuration "
                                f"(see {path}); use another output directory")
        else:
            write_json_atomic(path, record)
        inputs, path = self._inputs(), self.out / "inputs.json"
        if path.is_file():
            previous = json.loads(path.read_text())
            changed = sorted(k for k in set(previous) | set(inputs) if previous.get(k) != inputs.get(k))
            if changed:
                raise DataError(f"{self.out}: {', '.join(changed)} changed since its models and samples were made "
                                f"(digests in {path}); use another output directory to start fresh")
        else:
            write_json_atomic(path, inputs)

    def _inputs(self) -> dict:
        """Digests of what the stages were made from: every SFT file, and the evaluation prompts as
        they are sampled (ids and texts; their answer lists only change the scores, which every
        report recomputes)."""
        import hashlib

        def digest(data: bytes) -> str:
            return hashlib.sha256(data).hexdigest()[:16]

        cfg = self.config
        files = {"train_data": cfg.train_data, **{f"methods.{m}.train_data": s["train_data"]
                                                 for m, s in cfg.methods.items() if "train_data" in s}}
        prompts = [[r["id"], r.get("prompt"), r.get("messages")] for r in self.prompts]
        hub = {} if self.hub_base() is None else {"base_model_revision": self.hub_base().revision}
        return {**{k: digest(Path(v).read_bytes()) for k, v in files.items()},
                "eval_prompts": digest(json.dumps(prompts).encode()), **hub}

    def hub_base(self):
        """The base model as a ``ts2.hf.hub.Resolved`` when it is a Hub id (else None); a resumed
        comparison is refused when the commit is no longer the one its runs were made from."""
        from ..hf.hub import looks_like_path, resolve_model

        source = self.config.base_model
        if not source or source.startswith("gguf:") or looks_like_path(source):
            return None
        if self._hub_base is None:
            self._hub_base = resolve_model(source, self.config.base_model_revision, "base_model")
        return self._hub_base

    def _check_inputs(self) -> None:
        """Refuse, before the output directory is made, SFT files that are no JSONL (a directory,
        bytes that are not UTF-8, a line that is not JSON) and a local base model without whole
        weights: the messages name the file."""
        from ..formats import iter_jsonl
        from ..hf.weights import weights_problem

        cfg = self.config
        for name, path in {"train_data": cfg.train_data, **{f"methods.{m}.train_data": s["train_data"]
                                                           for m, s in cfg.methods.items() if "train_data" in s}
                           }.items():
            if Path(path).is_dir():
                raise DataError(f"config: {name} {path}: is a directory; ts2 compare trains on a JSONL file")
            if Path(path).is_file():
                for _ in iter_jsonl(path):
                    pass
        if not cfg.base_model.startswith("gguf:"):
            problem = weights_problem(cfg.base_model)
            if problem:
                raise DataError(f"config: base_model {cfg.base_model}: {problem}")

    def run_name(self, method: str, seed: int) -> str:
        return f"{method}-seed{seed}"

    def _run_record(self, name: str) -> dict:
        path = self.out / "runs" / f"{name}.json"
        return json.loads(path.read_text()) if path.is_file() else {}

    def _update_record(self, name: str, **values) -> None:
        record = {**self._run_record(name), **values}
        write_json_atomic(self.out / "runs" / f"{name}.json", record)

    def _stage(self, kind: str, description: str, remaining: list[str]) -> None:
        def estimate(k):
            seen = self.measured.get(k)
            return sum(seen) / len(seen) if seen else PRIOR_SECONDS[k]

        eta = sum(estimate(k) for k in remaining)
        self.progress(description, self.stages_done, self.stages_done + len(remaining), eta)

    def _measure(self, kind: str, seconds: float) -> None:
        self.measured.setdefault(kind, []).append(seconds)

    # ---- stages ------------------------------------------------------------------------------
    def base_model(self):
        """The base model: a directory (str), or a Hub id's ``Resolved`` snapshot and commit."""
        source = self.config.base_model
        if self.hub_base() is not None:
            return self.hub_base()
        if not source.startswith("gguf:"):
            return source
        from ..hf.gguf import cached_import

        start = time.perf_counter()
        path = cached_import(source.removeprefix("gguf:"), log=self.log)
        self._measure("import", time.perf_counter() - start)
        return str(path)

    def train(self, method: str, seed: int, base) -> Path:
        from ..training import CONFIG_NAME

        name = self.run_name(method, seed)
        target = self.out / "models" / name
        if (target / CONFIG_NAME).is_file():
            return target
        own = dict(self.config.methods[method])
        data = own.pop("train_data", None) or self.config.train_data
        actual = seed + own.pop("seed_offset", 0)
        settings = {"report_to": "none", "save_strategy": "no", "disable_tqdm": True, "logging_steps": 1,
                    **self.config.training, **own,
                    **_model_settings(base), "data": data, "output": str(target), "seed": actual, "data_seed": actual}
        log_path = self.out / "logs" / f"{name}.log"
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
        self._measure("train", seconds)
        del trainer
        gc.collect()
        return target

    def model_dir(self, method: str, seed: int) -> Path:
        """Where the method's run of ``seed`` has its model (a resample: its source's)."""
        source = self.config.methods[method].get("resample_of", method)
        return self.out / "models" / self.run_name(source, seed)

    def _seed_offset(self, method: str) -> int:
        """``methods.<m>.seed_offset``: run s of the method uses seed s + offset (0 for the base)."""
        return 0 if method == "base" else self.config.methods[method].get("seed_offset", 0)

    def _prompting(self, method: str) -> dict:
        return self.config.base_prompting if method == "base" else self.config.prompting

    def _prompt_text(self, row: dict, method: str) -> str:
        return self._prompting(method)["format"].format(prompt=row["prompt"])

    def evaluate(self, method: str, seed: int, model_dir) -> None:
        """Answer-position statistics, samples at every temperature and (first seed) the probe panel."""
        from ..eval.probe import NextTokenProbe
        from ..formats import Prompt
        from ..generate import Sampler, SamplingSettings

        name = self.run_name(method, seed)
        cfg, prompting = self.config, self._prompting(method)
        sampling = cfg.sampling
        temps = self.temperatures(method)
        sample_paths = {t: self.out / "samples" / f"{name}-T{t}.jsonl" for t in temps}
        extend = self._extension_pending(method, seed)
        position_path = self.out / "positions" / f"{name}.json"
        probe_path = self.out / "probe" / f"{method}.json"
        want_probe = self._wants_probe(method, seed)
        if self.evaluated(method, seed):
            return
        start = time.perf_counter()
        if _hub_record(model_dir, "model"):
            self._update_record(name, **_hub_record(model_dir, "model"))
        sampler = Sampler.load(model_dir, self.pool.runtime(_runtime(cfg)))
        # The probes read the model's logits: the sampler's model, or (vLLM) their own copy of it.
        device_dtype = (cfg.runtime["device"], cfg.runtime["dtype"])
        chat = prompting["chat"]
        if not position_path.is_file():
            probe = NextTokenProbe(model_dir, *device_dtype, model=sampler.model, tokenizer=sampler.tokenizer)
            opened = [r for r in self.prompts if r["kind"] == "open" and "prompt" in r]
            stats = probe.many([self._prompt_text(r, method) for r in opened], [r["valid"] for r in opened],
                               chat) if opened else []  # a task-only evaluation has no open prompt
            write_json_atomic(position_path, {r["id"]: {"invalid_mass": s["mass_outside_valid"],
                                                        "entropy": s["entropy"]} for r, s in zip(opened, stats)})
        prompts = [Prompt(r["id"], None if "messages" in r else self._prompt_text(r, method), r.get("messages"), True)
                   for r in self.prompts]
        record = self._run_record(name).get("sample_seconds", {})

        def sample(temperature, path):
            settings = SamplingSettings(n=sampling["n"], temperature=float(temperature), top_k=sampling["top_k"],
                                        top_p=sampling["top_p"], max_new_tokens=sampling["max_new_tokens"],
                                        seed=seed + self._seed_offset(method),
                                        stop=[*sampling["stop"], *prompting["stop"]])
            result = self.pool.sample(sampler, model_dir, _runtime(cfg), prompts, path, settings, chat,
                                      cfg.runtime["batch_tokens"])
            key = f"T={temperature}"
            record[key] = round(record.get(key, 0.0) + result.seconds, 2)  # summed over resumed parts
            self._update_record(name, sample_seconds=record, sample_tokens={**self._run_record(name).get(
                "sample_tokens", {}), key: result.tokens})

        for temperature, path in sample_paths.items():
            if not self._samples_complete(path):
                sample(temperature, path)
        if extend:
            self._extend(method, name, temps, sample)
        if want_probe and not probe_path.is_file():
            probe = NextTokenProbe(model_dir, *device_dtype, model=sampler.model, tokenizer=sampler.tokenizer)
            p = cfg.probe
            text = self._prompting(method)["format"].format(prompt=p["prompt"])
            if p["position"] == "first_match":
                result = probe.first_match(text, p["match"], p["runs"], cfg.seeds[0], p["valid"], p["top_k"], chat)
            else:
                result = probe(text, p["valid"], p["top_k"], chat)
            write_json_atomic(probe_path, {**result, "method": method})
        self._measure("evaluate", time.perf_counter() - start)
        sampler.close()
        sampler = None  # let its memory go before the next model loads
        gc.collect()

    def _wants_probe(self, method: str, seed: int) -> bool:
        cfg = self.config
        return cfg.probe is not None and seed == cfg.seeds[0] and method in (cfg.probe["methods"] or cfg.all_methods())

    def evaluated(self, method: str, seed: int) -> bool:
        """Whether a run's evaluation stage is complete: every sample file, its answer-position
        statistics, its probe panel where it has one, and the grid's extension decided."""
        name = self.run_name(method, seed)
        return (all(self._samples_complete(self.out / "samples" / f"{name}-T{t}.jsonl")
                    for t in self.temperatures(method))
                and (self.out / "positions" / f"{name}.json").is_file()
                and ((self.out / "probe" / f"{method}.json").is_file() or not self._wants_probe(method, seed))
                and not self._extension_pending(method, seed))

    # ---- temperatures beyond the grid (sampling.max_temperature) ------------------------------
    def _extension_path(self, method: str) -> Path:
        return self.out / "runs" / f"{method}-temperatures.json"

    def temperatures(self, method: str) -> list:
        """The configured temperatures, plus those the grid was extended by for this method."""
        path = self._extension_path(method)
        extra = json.loads(path.read_text())["extended"] if path.is_file() else []
        return [*self.config.temperatures_of(method), *extra]

    def _extension_pending(self, method: str, seed: int) -> bool:
        """Whether the first seed of ``method`` still has to decide the grid's extension."""
        cfg = self.config
        bounded = cfg.sampling["max_temperature"] is not None or cfg.sampling["min_temperature"] is not None
        return (bounded and method != "base" and seed == cfg.seeds[0] and cfg.verdict is not None
                and _targets(cfg) is not None and not self._extension_path(method).is_file())

    def _extend(self, method: str, name: str, temps: list, sample) -> None:
        """While the method is still more accurate than the lowest target at its highest temperature
        (mean accuracy over the verdict split's open prompts, its first seed), sample one step
        higher, up to sampling.max_temperature; while it is less accurate than the highest target
        at its lowest temperature, one step lower, down to sampling.min_temperature.  Every later
        seed uses the same temperatures."""
        low_target, high_target = _targets(self.config)
        extended, reached = self._walk(method, temps, lambda t: self._accuracy(name, t),
                                       lambda t: sample(t, self.out / "samples" / f"{name}-T{t}.jsonl"))
        write_json_atomic(self._extension_path(method), {"extended": extended, **reached, "lowest_target": low_target,
                                                         "highest_target": high_target})

    def _walk(self, method: str, temps: list, accuracy_at, sample, whose: str = "") -> tuple[list, dict]:
        """Move the grid's edges outward one ``extend_step`` at a time (``sample(t)`` each new
        temperature) while ``accuracy_at(edge)`` misses the targets: above the lowest at the highest
        temperature (up to max_temperature), below the highest at the lowest one (down to
        min_temperature).  Returns the temperatures added and the accuracy at each final edge."""
        cfg = self.config
        low_target, high_target = _targets(cfg)
        temps, added, reached = list(temps), [], {}
        for direction, bound, key in ((1, cfg.sampling["max_temperature"], "accuracy_at_highest"),
                                      (-1, cfg.sampling["min_temperature"], "accuracy_at_lowest")):
            if bound is None:
                continue
            while True:
                edge = max(temps) if direction > 0 else min(temps)
                accuracy = accuracy_at(edge)
                nxt = round(edge + direction * cfg.sampling["extend_step"], 6)
                beyond = nxt > bound + 1e-9 if direction > 0 else nxt < bound - 1e-9
                short = accuracy > low_target if direction > 0 else accuracy < high_target
                if beyond or not short or nxt <= 0:
                    break
                side = f"above the lowest target {low_target}" if direction > 0 else \
                    f"below the highest target {high_target}"
                self.log(f"{method}: {whose}{cfg.verdict['accuracy']} {accuracy:.3f} at T {edge} is {side}: "
                         f"sampling T {nxt}")
                sample(nxt)
                temps.append(nxt)
                added.append(nxt)
            reached[key] = accuracy
        return added, reached

    def _accuracy(self, name: str, temperature) -> float:
        """Mean verdict accuracy of one run's samples at ``temperature`` over the verdict split's open
        prompts (no self-BLEU: only the accuracy decides)."""
        from ..metrics.answer_sets import answer_key, open_scores
        from .scores import read_samples

        v = self.config.verdict
        rows = [r for r in self.prompts if r["split"] == v["split"] and r["kind"] == "open"]
        samples = read_samples(self.out / "samples" / f"{name}-T{temperature}.jsonl", {r["id"] for r in self.prompts})
        return sum(open_scores(samples[r["id"]], answer_key(r["valid"]), text=False)[0][v["accuracy"]]
                   for r in rows) / len(rows)

    def bracket_means(self, sample_seeds=None) -> None:
        """After every seed is sampled: while a method's accuracy averaged over its seeds is below the
        highest target at its lowest temperature, every seed is sampled one step lower (down to
        sampling.min_temperature); while it is above the lowest target at its highest temperature,
        one step higher (up to max_temperature).  The first seed's search picks the grid from one
        run, but the readings use the mean curve, and one seed's accuracy can sit far from the mean of
        all (a seed at 0.974 where the mean of three was 0.918).
        ``sample_seeds(method, temperature)`` samples every seed (default: ``evaluate``)."""
        cfg = self.config
        if cfg.verdict is None or _targets(cfg) is None:
            return
        sample_seeds = sample_seeds or self._sample_every_seed
        for method in cfg.methods:
            def mean_accuracy(temperature, method=method) -> float:
                return sum(self._accuracy(self.run_name(method, s), temperature) for s in cfg.seeds) / len(cfg.seeds)

            def sample(temperature, method=method) -> None:
                path = self._extension_path(method)  # recorded first: a resumed run samples what is missing
                record = json.loads(path.read_text()) if path.is_file() else {"extended": []}
                record["extended"].append(temperature)
                record.setdefault("by_mean_of_seeds", []).append(temperature)
                write_json_atomic(path, record)
                sample_seeds(method, temperature)

            self._walk(method, self.temperatures(method), mean_accuracy, sample,
                       f"mean over {len(cfg.seeds)} seeds of ")

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
        from .report import build_report, write_report

        cfg = self.config
        self._check_inputs()
        if self.reuse is not None:
            from .reuse import reuse_runs, shared_runs

            runs = shared_runs(cfg.to_dict(), self._inputs(), Path(self.reuse))  # refused before the output is made
        self.out.mkdir(parents=True, exist_ok=True)
        self._claim_output()
        if self.reuse is not None:
            reuse_runs(cfg.to_dict(), runs, self.reuse, self.out, self.log)
        plan = [("import", "base", None)] if cfg.base_model.startswith("gguf:") else []
        for seed in cfg.seeds:
            for method in cfg.all_methods():
                if method != "base":  # a resample trains its source (a no-op once the source is trained)
                    plan.append(("train", cfg.methods[method].get("resample_of", method), seed))
                plan.append(("evaluate", method, seed))
        base = None
        for i, (kind, method, seed) in enumerate(plan):
            remaining = [k for k, _, _ in plan[i:]]
            label = {"import": "importing the base model", "train": f"training {method} (seed {seed})",
                     "evaluate": f"sampling and scoring {method} (seed {seed})"}[kind]
            self._stage(kind, label, remaining)
            if kind == "import" or base is None:
                base = self.base_model()
            if kind == "train" and not self.evaluated(method, seed):  # a run reused without its model
                self.train(method, seed, base)
            elif kind == "evaluate":
                model_dir = base if method == "base" else str(self.model_dir(method, seed))
                if method != "base" and not self.evaluated(method, seed) and not Path(model_dir).is_dir():
                    self.train(cfg.methods[method].get("resample_of", method), seed, base)  # its source was reused
                self.evaluate(method, seed, model_dir)
            self.stages_done += 1
        self.bracket_means()
        self.progress("writing the report", self.stages_done, self.stages_done, 0.0)
        temps = {method: self.temperatures(method) for method in cfg.all_methods()}
        examples = sum(1 for line in open(cfg.train_data) if line.strip())
        report = build_report(cfg, self.prompts, self.out / "samples", self.out, temps, self.out / "positions",
                              {"train_examples": examples})
        write_report(self.out, report)
        return report


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


def _without_data_paths(record: dict) -> dict:
    """A resolved configuration without the paths of its data files: their contents are checked by
    digest (inputs.json), so an output directory moved or copied with its data still resumes."""
    record = {k: v for k, v in record.items() if k not in ("train_data", "eval_prompts")}
    record["methods"] = {m: {k: v for k, v in spec.items() if k != "train_data"}
                         for m, spec in record.get("methods", {}).items()}
    return record


def _targets(cfg: CompareConfig) -> tuple[float, float] | None:
    """The lowest and highest accuracy the verdict reads at (levels or band), or None for
    temperature levels."""
    v = cfg.verdict
    targets = [*v["levels"].get("accuracy", []), *(v["band"] or [])]
    return (min(targets), max(targets)) if targets else None


def _runtime(cfg: CompareConfig):
    from ..generate import Runtime

    return Runtime(**cfg.runtime)


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
